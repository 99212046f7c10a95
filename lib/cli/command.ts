/**
 * The shape of a subcommand and the options every command shares.
 */
import type { OptionSpec, OptionValues } from "./argv.ts";
import type { Output } from "./output.ts";
import type { System } from "../system.ts";
import type { Family } from "../core/model/types.ts";

export type { OptionSpec, OptionValues };

/** Options every command takes (the README's "Commands"; docs/architecture.md §6). */
export const COMMON_OPTIONS: OptionSpec = {
  help: { type: "boolean", short: "h" },
  json: { type: "boolean" },
  family: { type: "string" },
  state: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  verbose: { type: "boolean", short: "v" },
};

/** Options of commands that change the routing table. */
export const CHANGE_OPTIONS: OptionSpec = {
  "dry-run": { type: "boolean", short: "n" },
  force: { type: "boolean", short: "f" },
};

export interface CommandContext {
  values: OptionValues;
  positionals: string[];
  /** Everything after `--` (for `run`). */
  rest: string[];
  out: Output;
  families: Family[];
  statePath: string;
  /** Opens the kernel backend on first use (so --help needs no FFI). */
  system(): Promise<System>;
}

export interface Command {
  name: string;
  /** One line for `defroute --help`. */
  summary: string;
  /** Full `defroute NAME --help` text. */
  help: string;
  options: OptionSpec;
  /** Whether positional arguments after `--` are allowed (only `run`). */
  takesCommand?: boolean;
  /** Whether plain positionals are allowed (e.g. `hook install`). */
  takesPositionals?: boolean;
  /** Returns the process exit code. */
  run(ctx: CommandContext): Promise<number>;
}
