/**
 * The process side of `defroute run -- CMD`: find CMD, install signal handlers, save, spawn CMD
 * (no shell, inherited stdio), forward signals, wait, restore, and return CMD's exit status.
 *
 * Order follows wg-quick: traps are installed before the first change, so a signal that arrives
 * while saving cannot leave a half-done state; cleanup runs whatever way CMD ends (clean exit,
 * error, crash, SIGKILL). What saving, monitoring and restoring mean is the caller's (lib/cli/
 * run.ts); this file only owns the child process and the signals.
 *
 * Signals: SIGINT, SIGTERM, SIGHUP and SIGQUIT are forwarded to CMD. A second one is forwarded
 * again; a third, or `killAfterMs` after the first, sends SIGKILL, and the restore still runs.
 * Note that Ctrl-C at a terminal already reaches CMD from the terminal (same process group), so
 * CMD may see that one twice; tools like sing-box and wireguard-go treat a repeated SIGINT as
 * the same request to stop.
 */

import { trace } from "./trace.ts";
import type { Log } from "./log.ts";

/** Signals forwarded to CMD (DESIGN.md "run -- CMD"). */
export const FORWARDED_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/** Signal numbers common to Linux and macOS, for the 128+N exit status of a signal death. */
const SIGNAL_NUMBERS: Partial<Record<Deno.Signal, number>> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGILL: 4,
  SIGTRAP: 5,
  SIGABRT: 6,
  SIGFPE: 8,
  SIGKILL: 9,
  SIGSEGV: 11,
  SIGPIPE: 13,
  SIGALRM: 14,
  SIGTERM: 15,
};

/** A shell's exit status for a process that exited with `code` or died of `signal`. */
export function exitStatusOf(status: { code: number; signal: Deno.Signal | null }): number {
  if (status.signal !== null) {
    const n = SIGNAL_NUMBERS[status.signal];
    // Deno already reports a signal death as code 128+N; keep its number for other signals.
    if (n !== undefined) return 128 + n;
  }
  return status.code;
}

/** Where CMD would be run from, or why it cannot be (exit 127 / 126, like a shell). */
export type Resolution =
  | { ok: true; path: string }
  | { ok: false; exitCode: 126 | 127; message: string };

/** Find `command` as execvp would: a name with a slash as is, otherwise on PATH. */
export function resolveCommand(command: string, path: string | undefined): Resolution {
  if (command === "") return { ok: false, exitCode: 127, message: "empty command name" };
  const check = (candidate: string): "ok" | "missing" | "not-executable" => {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(candidate);
    } catch {
      return "missing";
    }
    if (!info.isFile) return "not-executable";
    // Root may execute a file if any execute bit is set; that is the case that matters here.
    return info.mode === null || (info.mode & 0o111) !== 0 ? "ok" : "not-executable";
  };
  if (command.includes("/")) {
    const result = check(command);
    if (result === "ok") return { ok: true, path: command };
    return result === "missing"
      ? { ok: false, exitCode: 127, message: `${command}: no such file` }
      : { ok: false, exitCode: 126, message: `${command}: not an executable file` };
  }
  let found: string | null = null;
  for (const dir of (path ?? "/usr/bin:/bin").split(":")) {
    const candidate = `${dir === "" ? "." : dir}/${command}`;
    const result = check(candidate);
    if (result === "ok") return { ok: true, path: candidate };
    if (result === "not-executable" && found === null) found = candidate;
  }
  return found !== null
    ? { ok: false, exitCode: 126, message: `${found}: not an executable file` }
    : { ok: false, exitCode: 127, message: `${command}: command not found on PATH` };
}

/** Where signals come from; Deno's listeners in production, a fake in tests. */
export interface SignalSource {
  listen(signal: Deno.Signal, handler: () => void): void;
  unlisten(signal: Deno.Signal, handler: () => void): void;
}

export const processSignals: SignalSource = {
  listen: (signal, handler) => Deno.addSignalListener(signal, handler),
  unlisten: (signal, handler) => Deno.removeSignalListener(signal, handler),
};

export type WrapperLog = Log;

/** How CMD ended. */
export interface ChildExit {
  pid: number;
  code: number;
  signal: Deno.Signal | null;
  /** The status `run` exits with: code, or 128+N for signal N. */
  exitStatus: number;
  /** SIGKILL was sent by the wrapper (third signal or --kill-after). */
  killedByWrapper: boolean;
}

export interface RunWrapperOptions {
  command: string;
  args: readonly string[];
  /** SIGKILL CMD this long after the first forwarded signal; null = never. */
  killAfterMs: number | null;
  log: WrapperLog;
  /** Save: runs after the signal handlers are installed, before CMD starts. */
  before(): Promise<void>;
  /** Runs while CMD runs (the route monitor); `signal` aborts when CMD has exited. */
  during?(pid: number, signal: AbortSignal): Promise<void>;
  /** Called the moment CMD's exit is known, before `during` is stopped and before `after`: where
   * `run` restores, so nothing stands between the exit and the restored default. `during` is
   * stopped once the returned promise settles. Must not reject; `after` reports what it did. */
  onExit?(exit: ChildExit): Promise<void> | void;
  /** Restore: runs once CMD has exited, whatever the reason. Errors propagate after cleanup. */
  after(exit: ChildExit): Promise<void>;
  signals?: SignalSource;
  /** "inherit" for `run`; tests may silence CMD. */
  stdio?: "inherit" | "null";
  /** PATH to look CMD up on (defaults to $PATH). */
  path?: string;
}

export type RunOutcome =
  /** CMD ran and exited; `after` ran. */
  | { started: true; exit: ChildExit }
  /** CMD never started (not found, not executable, or a signal came while saving). Nothing
   * was changed in the routing table and `after` did not run. */
  | { started: false; exitStatus: number; message: string };

/** Run CMD around `before`/`after`. Rejects only when `before` or `after` reject. */
/**
 * Dispatch one throwaway abort event to a listener. The first abort-with-listener in a Deno
 * process pays 1-3 ms of lazy compilation of the runtime's event-dispatch code; run calls this
 * while CMD runs so that cost is not paid between CMD's exit and the restore (measured by
 * tests/bench/restore_bench.ts).
 */
function warmAbortDispatch(): void {
  const warm = new AbortController();
  warm.signal.addEventListener("abort", () => {});
  warm.abort();
}

export async function runWrapped(options: RunWrapperOptions): Promise<RunOutcome> {
  const { log } = options;
  const signals = options.signals ?? processSignals;
  // Find CMD before saving anything: if it cannot start, nothing must change.
  const resolved = resolveCommand(options.command, options.path ?? Deno.env.get("PATH"));
  if (!resolved.ok) {
    return { started: false, exitStatus: resolved.exitCode, message: resolved.message };
  }

  let child: Deno.ChildProcess | null = null;
  let exited = false;
  let received = 0;
  let pendingBeforeStart: Deno.Signal | null = null;
  let killedByWrapper = false;
  let killTimer: ReturnType<typeof setTimeout> | undefined;

  const sendKill = (why: string) => {
    if (!child || exited) return;
    log.warn(`${why}: sending SIGKILL to pid ${child.pid}`);
    killedByWrapper = true;
    try {
      child.kill("SIGKILL");
    } catch {
      // already gone
    }
  };

  const handlers = new Map<Deno.Signal, () => void>();
  for (const signal of FORWARDED_SIGNALS) {
    const handler = () => {
      received++;
      if (!child) {
        pendingBeforeStart ??= signal;
        return;
      }
      if (exited) return; // restoring: the traps keep defroute alive until it is done
      if (received >= 3) return sendKill(`third signal (${signal})`);
      log.info(`forwarding ${signal} to pid ${child.pid}`);
      try {
        child.kill(signal);
      } catch {
        // CMD exited between the check and the kill; the restore follows anyway
      }
      if (received === 1 && options.killAfterMs !== null) {
        const seconds = options.killAfterMs / 1000;
        killTimer = setTimeout(
          () => sendKill(`still running ${seconds} s after ${signal} (--kill-after)`),
          options.killAfterMs,
        );
      }
    };
    handlers.set(signal, handler);
    signals.listen(signal, handler);
  }

  try {
    await options.before();
    if (pendingBeforeStart !== null) {
      const status = exitStatusOf({ code: 1, signal: pendingBeforeStart });
      return {
        started: false,
        exitStatus: status,
        message:
          `${pendingBeforeStart} received before ${options.command} started; not starting it`,
      };
    }
    const stdio = options.stdio ?? "inherit";
    try {
      child = new Deno.Command(options.command, {
        args: [...options.args],
        stdin: stdio,
        stdout: stdio,
        stderr: stdio,
      }).spawn();
    } catch (error) {
      const denied = error instanceof Deno.errors.PermissionDenied;
      return {
        started: false,
        exitStatus: denied ? 126 : 127,
        message: `cannot start ${options.command}: ${
          error instanceof Error ? error.message : error
        }`,
      };
    }
    log.debug(`started ${options.command} as pid ${child.pid}`);
    warmAbortDispatch();

    const duringController = new AbortController();
    const during = options.during
      ? options.during(child.pid, duringController.signal).catch((error) =>
        log.warn(`route monitor stopped: ${error instanceof Error ? error.message : error}`)
      )
      : Promise.resolve();
    const status = await child.status;
    trace("exit");
    exited = true;
    if (killTimer !== undefined) clearTimeout(killTimer);
    const exit: ChildExit = {
      pid: child.pid,
      code: status.code,
      signal: status.signal,
      exitStatus: exitStatusOf(status),
      killedByWrapper,
    };
    // First thing after the exit: the restore, before the route monitor is wound down and before
    // anything is logged. Winding the monitor down first cost ~0.3 ms of its teardown run ahead of
    // the restore (tests/bench/restore_bench.ts --trace).
    await options.onExit?.(exit);
    // With a reason: abort() without one builds a DOMException with a stack (~0.3 ms, traced),
    // paid between CMD's exit and the restore.
    duringController.abort("CMD exited");
    await during;

    log.debug(
      status.signal
        ? `${options.command} (pid ${child.pid}) died of ${status.signal}`
        : `${options.command} (pid ${child.pid}) exited with ${status.code}`,
    );
    await options.after(exit);
    return { started: true, exit };
  } finally {
    if (killTimer !== undefined) clearTimeout(killTimer);
    for (const [signal, handler] of handlers) signals.unlisten(signal, handler);
  }
}
