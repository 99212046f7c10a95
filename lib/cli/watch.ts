import type { Command } from "./command.ts";
import { COMMON_OPTIONS } from "./command.ts";
import { CliError, ExitCode } from "../core/errors.ts";

export const watchCommand: Command = {
  name: "watch",
  summary: "stream default-route events; --heal repairs a lost default",
  help: "defroute watch: not built yet.",
  options: { ...COMMON_OPTIONS },
  run() {
    return Promise.reject(new CliError(ExitCode.FAILURE, "'watch' is not built yet"));
  },
};
