import type { Command } from "./command.ts";
import { COMMON_OPTIONS } from "./command.ts";
import { CliError, ExitCode } from "../core/errors.ts";

export const runCommand: Command = {
  name: "run",
  summary: "run -- CMD: save, run CMD, restore when it exits for any reason",
  help: "defroute run: not built yet.",
  options: { ...COMMON_OPTIONS },
  run() {
    return Promise.reject(new CliError(ExitCode.FAILURE, "'run' is not built yet"));
  },
};
