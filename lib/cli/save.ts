import type { Command } from "./command.ts";
import { COMMON_OPTIONS } from "./command.ts";
import { CliError, ExitCode } from "../core/errors.ts";

export const saveCommand: Command = {
  name: "save",
  summary: "save the current default routes to the state file (pre-up hook)",
  help: "defroute save: not built yet.",
  options: { ...COMMON_OPTIONS },
  run() {
    return Promise.reject(new CliError(ExitCode.FAILURE, "'save' is not built yet"));
  },
};
