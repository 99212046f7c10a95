/** Every subcommand, in the order `defroute --help` lists them. */
import type { Command } from "./command.ts";
import { runCommand } from "./run.ts";
import { saveCommand } from "./save.ts";
import { restoreCommand } from "./restore.ts";
import { statusCommand } from "./status.ts";
import { watchCommand } from "./watch.ts";
import { hookCommand } from "./hook.ts";

export const COMMANDS: readonly Command[] = [
  runCommand,
  saveCommand,
  restoreCommand,
  statusCommand,
  watchCommand,
  hookCommand,
];
