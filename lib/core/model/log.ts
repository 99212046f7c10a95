/**
 * Where core operations (save, restore) say what they do. lib/cli/output.ts's Output satisfies it
 * structurally, so core never imports the CLI; tests pass a recording one.
 */
export interface Log {
  /** A change about to be made, e.g. `route add default 192.168.1.1 (en0)` (printed as `[#] ...`). */
  announce(line: string): void;
  /** A normal message. */
  info(line: string): void;
  /** Detail shown only with -v. */
  debug(line: string): void;
  /** Something the user should see even with -q (a state file refused, scutil failing). */
  warn(line: string): void;
}

/** A Log that drops everything. */
export const SILENT_LOG: Log = {
  announce: () => {},
  info: () => {},
  debug: () => {},
  warn: () => {},
};

/**
 * A Log that keeps its lines to hand on later, in order: `run` restores the moment CMD exits,
 * before it prints that CMD exited, and replays the restore's lines after that line.
 */
export class BufferedLog implements Log {
  readonly #lines: [keyof Log, string][] = [];
  announce(line: string): void {
    this.#lines.push(["announce", line]);
  }
  info(line: string): void {
    this.#lines.push(["info", line]);
  }
  debug(line: string): void {
    this.#lines.push(["debug", line]);
  }
  warn(line: string): void {
    this.#lines.push(["warn", line]);
  }
  /** Hand every line kept so far to `log`, in order, and forget them. */
  replayInto(log: Log): void {
    for (const [level, line] of this.#lines.splice(0)) log[level](line);
  }
}
