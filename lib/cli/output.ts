/**
 * Where a command's words go. Results go to stdout (text, or one JSON object / JSON lines with
 * --json); announcements of changes and diagnostics go to stderr, like wg-quick's `[#] ...`.
 * With --json every stderr line is one JSON object too (`{"time","level","message"}`, or an
 * event's own object), so a log collector never meets a line it cannot parse: `run --json`'s
 * stdout belongs to CMD, and its stderr is where its exit line and the restore are told.
 */
export type Verbosity = 0 | 1 | 2; // 0 = -q, 1 = normal, 2 = -v

export interface Output {
  readonly json: boolean;
  readonly verbosity: Verbosity;
  /** A change about to be made: `[#] route add default 192.168.1.1 (en0)`. Always printed
   * unless -q, also with --json (stderr), so a log shows what was done. */
  announce(line: string): void;
  /** A normal message on stderr (suppressed by -q). */
  info(line: string): void;
  /** A detail on stderr shown only with -v. */
  debug(line: string): void;
  /** A warning on stderr, shown even with -q. */
  warn(line: string): void;
  /** One structured line on stderr (suppressed by -q), for --json: run's route log, whose
   * stdout is CMD's. */
  event(value: Record<string, unknown>): void;
  /** Human result text on stdout (not used with --json). */
  print(text: string): void;
  /** One JSON value on stdout, one line. */
  emit(value: unknown): void;
}

type Level = "announce" | "info" | "debug" | "warning";

/** One stderr line: the text form, or with --json the JSON object. */
function stderrLine(json: boolean, level: Level, line: string): string {
  if (json) return JSON.stringify({ time: new Date().toISOString(), level, message: line });
  return level === "announce" ? `[#] ${line}` : level === "warning" ? `defroute: ${line}` : line;
}

/** An Output whose stderr lines go to `err` and stdout text to `out` (also the daemon's log
 * file, lib/cli/log_file.ts). */
export function outputTo(
  json: boolean,
  verbosity: Verbosity,
  err: (line: string) => unknown,
  out: (text: string) => unknown,
): Output {
  return {
    json,
    verbosity,
    announce: (line) => verbosity > 0 && err(stderrLine(json, "announce", line)),
    info: (line) => verbosity > 0 && err(stderrLine(json, "info", line)),
    debug: (line) => verbosity > 1 && err(stderrLine(json, "debug", line)),
    warn: (line) => err(stderrLine(json, "warning", line)),
    event: (value) => verbosity > 0 && err(JSON.stringify(value)),
    print: (text) => out(text),
    emit: (value) => out(JSON.stringify(value)),
  };
}

const encoder = new TextEncoder();

/** An Output that writes to the process's stdout/stderr. */
export function consoleOutput(json: boolean, verbosity: Verbosity): Output {
  return outputTo(
    json,
    verbosity,
    (line) => Deno.stderr.writeSync(encoder.encode(line + "\n")),
    (text) => Deno.stdout.writeSync(encoder.encode(text.endsWith("\n") ? text : text + "\n")),
  );
}

/** An Output that records everything (each stderr line, each stdout write), for tests. */
export function memoryOutput(json = false, verbosity: Verbosity = 1): Output & {
  stdout: string[];
  stderr: string[];
} {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    ...outputTo(json, verbosity, (line) => stderr.push(line), (text) => stdout.push(text)),
    stdout,
    stderr,
  };
}
