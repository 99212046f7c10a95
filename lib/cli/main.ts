/**
 * argv -> command -> exit code. Parsing is strict (lib/cli/argv.ts), so an unknown flag or a
 * missing value is a usage error (exit 2) that names the flag. Only the command being run is
 * imported (lib/cli/commands.ts), and no `node:*` module is: both keep hook start-up cheap.
 */
import { firstPositionalIndex, parseArgv } from "./argv.ts";
import { COMMANDS } from "./commands.ts";
import type { Command, CommandContext } from "./command.ts";
import { COMMON_OPTIONS_HELP, EXIT_CODES_HELP, VERSION } from "./help.ts";
import { consoleOutput, type Output, type Verbosity } from "./output.ts";
import { CliError, ExitCode, RouteTableError, UsageError } from "../core/model/errors.ts";
import type { Family } from "../core/model/types.ts";
// Static, though only commands that touch the kernel open it: lib/system.ts is small and loads
// the kernel backend itself on demand, and a second dynamic import here cost every such command
// ~0.35 ms (each dynamic import prepares its own module load; issue 8, hook cost).
import { openSystem, type System } from "../system.ts";
import { statePathOf } from "../core/state/state_path.ts";

export function topHelp(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  const lines = COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return `defroute ${VERSION}: keep the default route alive around VPNs and tunnels.

Usage:
  sudo defroute run [options] -- CMD [ARGS...]
  sudo defroute save | restore [options]
  defroute status [options]
  sudo defroute watch [--heal] [options]
  sudo defroute hook install|uninstall|print [options]

Commands:
${lines.join("\n")}

Run 'defroute COMMAND --help' for a command's options.

${COMMON_OPTIONS_HELP}
  --version         print the version

${EXIT_CODES_HELP}
`;
}

/** `run sh -c x` without `--`: the line to write instead, with everything from the command on. */
function needsDoubleDash(command: Command, args: string[], start: number): UsageError {
  const words = [...args.slice(0, start), "--", ...args.slice(start)].map(shellWord);
  return new UsageError(
    `'${command.name}' needs '--' before the command: defroute ${command.name} ${words.join(" ")}`,
  );
}

/** A word as a POSIX shell reads it back: quoted when it holds anything but plain characters. */
function shellWord(word: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : `'${word.replaceAll("'", `'\\''`)}'`;
}

/** Split argv at the first `--` (everything after belongs to the wrapped command). */
function splitAtDoubleDash(args: string[]): [string[], string[]] {
  const at = args.indexOf("--");
  return at < 0 ? [args, []] : [args.slice(0, at), args.slice(at + 1)];
}

export function parseFamilies(value: string | undefined): Family[] {
  switch (value ?? "all") {
    case "4":
    case "inet":
      return [4];
    case "6":
    case "inet6":
      return [6];
    case "all":
      return [4, 6];
    default:
      throw new UsageError(`--family takes 4, 6 or all, not "${value}"`);
  }
}

/** Run defroute with `argv` (without the program name); returns the exit code. */
export async function main(
  argv: string[],
  output?: (json: boolean, v: Verbosity) => Output,
): Promise<number> {
  const makeOutput = output ?? consoleOutput;
  const first = argv[0];
  if (first === undefined || first === "-h" || first === "--help" || first === "help") {
    makeOutput(false, 1).print(topHelp());
    return first === undefined ? ExitCode.USAGE : ExitCode.OK;
  }
  if (first === "--version" || first === "-V") {
    makeOutput(false, 1).print(`defroute ${VERSION}`);
    return ExitCode.OK;
  }
  const entry = COMMANDS.find((c) => c.name === first);
  if (!entry) {
    makeOutput(false, 1).warn(
      first.startsWith("-")
        ? `unknown option "${first}" before a command; try 'defroute --help'`
        : `unknown command "${first}"; try 'defroute --help'`,
    );
    return ExitCode.USAGE;
  }
  let out: Output = makeOutput(argv.includes("--json"), 1);
  let system: System | undefined;
  try {
    const command = await entry.load();
    const ctx = parseCommandArgs(
      command,
      argv.slice(1),
      makeOutput,
      () => system,
      (s) => system = s,
    );
    out = ctx.out;
    if (ctx.values.help) {
      out.print(command.help);
      return ExitCode.OK;
    }
    return await command.run(ctx);
  } catch (error) {
    return reportError(out, error);
  } finally {
    system?.close();
  }
}

function parseCommandArgs(
  command: Command,
  args: string[],
  makeOutput: (json: boolean, v: Verbosity) => Output,
  getSystem: () => System | undefined,
  setSystem: (s: System) => void,
): CommandContext {
  const [own, rest] = command.takesCommand ? splitAtDoubleDash(args) : [args, []];
  // A command written without "--" (`run sh -c ...`): the hint, whether the first word after it
  // that defroute does not know is a positional or an option ("-c") that belongs to the command.
  const start = command.takesCommand && rest.length === 0
    ? firstPositionalIndex(own, command.options)
    : null;
  let parsed: ReturnType<typeof parseArgv>;
  try {
    parsed = parseArgv(own, command.options);
  } catch (error) {
    if (start !== null && error instanceof UsageError) throw needsDoubleDash(command, own, start);
    throw error;
  }
  const { values, positionals } = parsed;
  if (!command.takesPositionals && positionals.length > 0 && !values.help) {
    throw start !== null
      ? needsDoubleDash(command, own, start)
      : new UsageError(`'${command.name}' takes no argument "${positionals[0]}"`);
  }
  if (values.quiet && values.verbose) throw new UsageError("-q and -v cannot be used together");
  const verbosity: Verbosity = values.quiet ? 0 : values.verbose ? 2 : 1;
  const out = makeOutput(values.json === true, verbosity);
  const families = parseFamilies(values.family as string | undefined);
  const statePath = statePathOf(values.state as string | undefined);
  return {
    values,
    positionals,
    rest,
    out,
    families,
    statePath,
    system: async () => {
      const existing = getSystem();
      if (existing) return existing;
      const opened = await openSystem();
      setSystem(opened);
      return opened;
    },
  };
}

/** Map any error to its exit code and print one line (JSON with --json). */
export function reportError(out: Output, error: unknown): number {
  let code: number = ExitCode.FAILURE;
  let message: string;
  let kind = "failure";
  if (error instanceof UsageError) {
    code = ExitCode.USAGE;
    message = `${error.message}; try --help`;
    kind = "usage";
  } else if (error instanceof CliError) {
    code = error.exitCode;
    message = error.message;
    kind = code === ExitCode.NEEDS_ROOT
      ? "needs-root"
      : code === ExitCode.NO_GATEWAY
      ? "no-gateway"
      : "failure";
  } else if (error instanceof RouteTableError) {
    code = error.kind === "needs-root" ? ExitCode.NEEDS_ROOT : ExitCode.FAILURE;
    message = error.message;
    kind = error.kind;
  } else if (error instanceof Error) {
    message = error.message;
  } else {
    message = String(error);
  }
  if (out.json) out.emit({ ok: false, error: kind, exitCode: code, message });
  out.warn(message);
  return code;
}
