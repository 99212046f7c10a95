/**
 * Where a command's words go. Results go to stdout (text, or one JSON object / JSON lines with
 * --json); announcements of changes and diagnostics go to stderr, like wg-quick's `[#] ...`.
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
  /** Human result text on stdout (not used with --json). */
  print(text: string): void;
  /** One JSON value on stdout, one line. */
  emit(value: unknown): void;
}

const encoder = new TextEncoder();

/** An Output that writes to the process's stdout/stderr. */
export function consoleOutput(json: boolean, verbosity: Verbosity): Output {
  const err = (line: string) => Deno.stderr.writeSync(encoder.encode(line + "\n"));
  const out = (text: string) => Deno.stdout.writeSync(encoder.encode(text));
  return {
    json,
    verbosity,
    announce: (line) => verbosity > 0 && err(`[#] ${line}`),
    info: (line) => verbosity > 0 && err(line),
    debug: (line) => verbosity > 1 && err(line),
    warn: (line) => err(`defroute: ${line}`),
    print: (text) => out(text.endsWith("\n") ? text : text + "\n"),
    emit: (value) => out(JSON.stringify(value) + "\n"),
  };
}

/** An Output that records everything, for tests. */
export function memoryOutput(json = false, verbosity: Verbosity = 1): Output & {
  stdout: string[];
  stderr: string[];
} {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    json,
    verbosity,
    stdout,
    stderr,
    announce: (line) => verbosity > 0 && stderr.push(`[#] ${line}`),
    info: (line) => verbosity > 0 && stderr.push(line),
    debug: (line) => verbosity > 1 && stderr.push(line),
    warn: (line) => stderr.push(`defroute: ${line}`),
    print: (text) => stdout.push(text),
    emit: (value) => stdout.push(JSON.stringify(value)),
  };
}
