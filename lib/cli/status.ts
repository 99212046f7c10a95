import type { Command } from "./command.ts";
import { COMMON_OPTIONS } from "./command.ts";
import { CliError, ExitCode } from "../core/errors.ts";

export const statusCommand: Command = {
  name: "status",
  summary: "show the kernel's defaults, scutil's view, the saved state and a diagnosis",
  help: "defroute status: not built yet.",
  options: { ...COMMON_OPTIONS },
  run() {
    return Promise.reject(new CliError(ExitCode.FAILURE, "'status' is not built yet"));
  },
};
