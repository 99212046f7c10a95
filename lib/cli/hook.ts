import type { Command } from "./command.ts";
import { COMMON_OPTIONS } from "./command.ts";
import { CliError, ExitCode } from "../core/errors.ts";

export const hookCommand: Command = {
  name: "hook",
  summary: "hook install|uninstall|print: the launchd daemon for watch --heal",
  help: "defroute hook: not built yet.",
  options: { ...COMMON_OPTIONS },
  run() {
    return Promise.reject(new CliError(ExitCode.FAILURE, "'hook' is not built yet"));
  },
};
