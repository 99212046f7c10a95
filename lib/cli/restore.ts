import type { Command } from "./command.ts";
import { COMMON_OPTIONS } from "./command.ts";
import { CliError, ExitCode } from "../core/errors.ts";

export const restoreCommand: Command = {
  name: "restore",
  summary: "put the saved or current default route back (post-down hook)",
  help: "defroute restore: not built yet.",
  options: { ...COMMON_OPTIONS },
  run() {
    return Promise.reject(new CliError(ExitCode.FAILURE, "'restore' is not built yet"));
  },
};
