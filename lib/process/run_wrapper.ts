/**
 * The process side of `defroute run -- CMD`: find CMD, install signal handlers, read what to
 * save, spawn CMD in its own session and process group (no shell, inherited stdio), forward
 * signals to that group, wait, restore, guard while CMD's leftover processes live, and return
 * CMD's exit status.
 *
 * Order follows wg-quick: traps are installed before the first change, so a signal that arrives
 * while preparing cannot leave a half-done state, and one that arrives then is answered at once
 * (CMD is not started). The state file is written only once CMD runs (`started`): a CMD that
 * cannot start changes nothing. Cleanup runs whatever way CMD ends (clean exit, error, crash,
 * SIGKILL). What saving, monitoring and restoring mean is the caller's (lib/cli/run.ts); this
 * file only owns the child process, its process group and the signals.
 *
 * Signals: SIGINT, SIGTERM and SIGQUIT are forwarded to CMD's process group. A second one is
 * forwarded again; a third, or `killAfterMs` after the first, sends SIGKILL to the group, and the
 * restore still runs. SIGHUP is forwarded and never counted: sing-box and others reload their
 * configuration on it. CMD has its own session (setsid), so a terminal's Ctrl-C reaches it once,
 * through defroute, and its helpers (openconnect's vpnc-script, a shell's background job) share
 * its process group: after CMD exits, `run` keeps guarding the default route while any of them
 * lives, up to `lingerMs`, and names them.
 */

import { trace } from "../util/trace.ts";
import type { Log } from "../core/model/log.ts";
import {
  describeMembers,
  type GroupWait,
  type ProcessGroupMember,
  type ProcessGroups,
  waitForGroup,
} from "./process_group.ts";

/** Signals forwarded to CMD (docs/architecture.md §3.4). */
export const FORWARDED_SIGNALS: readonly Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

/** Forwarded but never counted toward SIGKILL: a request to reload, not to stop (sing-box
 * reloads its configuration on SIGHUP, OpenVPN restarts). */
export const RELOAD_SIGNAL: Deno.Signal = "SIGHUP";

/** How long `run` guards by default after CMD exits while its process group lives (--linger). */
export const DEFAULT_LINGER_MS = 5000;

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
  /** SIGKILL CMD's process group this long after the first counted signal; null = never. */
  killAfterMs: null | number;
  log: WrapperLog;
  /** Prepare (read the defaults, start the monitor): runs after the signal handlers are
   * installed, before CMD starts; a signal meanwhile answers at once and CMD never starts. */
  before(): Promise<void>;
  /** Called once CMD runs (spawned: its exec succeeded): where `run` writes the state file.
   * Not awaited; must not reject. */
  started?(pid: number): void;
  /** Runs while CMD runs (the route monitor); `signal` aborts when CMD has exited. */
  during?(pid: number, signal: AbortSignal): Promise<void>;
  /** Called the moment CMD's exit is known, before `during` is stopped and before `after`: where
   * `run` restores, so nothing stands between the exit and the restored default. `during` is
   * stopped once the returned promise settles. Must not reject; `after` reports what it did. */
  onExit?(exit: ChildExit): Promise<void> | void;
  /** Restore: runs once CMD has exited, whatever the reason. Errors propagate after cleanup. */
  after(exit: ChildExit): Promise<void>;
  /** Guard while CMD's leftover processes (`members`) live, until `signal` aborts (they are
   * gone, lingerMs passed, or a signal came). `watching()` says the guard now sees every route
   * change: "guarding" is logged then, not before (a straggler's deletion in between would be
   * found as a void at start, its pid lost). */
  linger?(
    members: readonly ProcessGroupMember[],
    signal: AbortSignal,
    watching: () => void,
  ): Promise<void>;
  /** How long to wait for CMD's process group after CMD exits (0 = not at all). */
  lingerMs?: number;
  /** Who is in a process group; null = unknown (no linger). Asked after `before`. */
  processGroups?(): ProcessGroups | null;
  signals?: SignalSource;
  /** "inherit" for `run`; tests may silence CMD. */
  stdio?: "inherit" | "null";
  /** PATH to look CMD up on (defaults to $PATH). */
  path?: string;
}

/** What `run` waited for after CMD's exit. */
export interface LingerReport extends GroupWait {
  /** CMD's process group when CMD exited, CMD itself gone. */
  members: ProcessGroupMember[];
}

export type RunOutcome =
  /** CMD ran and exited; `after` ran. */
  | { started: true; exit: ChildExit; lingered: LingerReport | null }
  /** CMD never started (not found, not executable, or a signal came while preparing). Nothing
   * was changed in the routing table and `after` did not run. */
  | { started: false; exitStatus: number; message: string };

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

/** The signal side of one run: where each signal goes in each phase. */
class SignalRouter {
  child: Deno.ChildProcess | null = null;
  exited = false;
  killedByWrapper = false;
  /** Counted signals (not SIGHUP) since CMD started. */
  #received = 0;
  #killTimer: ReturnType<typeof setTimeout> | undefined;
  /** Aborts with the first signal before CMD starts. */
  readonly startup = new AbortController();
  /** Aborts with a stop signal after CMD's exit: ends the linger. */
  readonly afterExit = new AbortController();

  constructor(private readonly options: RunWrapperOptions) {}

  handle(signal: Deno.Signal): void {
    const { child } = this;
    if (!child) {
      // Preparing: any of them (a hangup too) means "do not start".
      if (!this.startup.signal.aborted) this.startup.abort(signal);
      return;
    }
    if (this.exited) {
      // Restoring, then lingering: the traps keep defroute alive until it is done; a stop
      // signal is passed on to what is left of the group and ends the wait.
      this.#toGroup(child.pid, signal);
      if (signal !== RELOAD_SIGNAL) this.afterExit.abort(signal);
      return;
    }
    if (signal === RELOAD_SIGNAL) {
      this.options.log.info(`forwarding ${signal} to ${this.#who(child.pid)} (not counted)`);
      return this.#toGroup(child.pid, signal);
    }
    this.#received++;
    if (this.#received >= 3) return this.kill(`third signal (${signal})`);
    this.options.log.info(`forwarding ${signal} to ${this.#who(child.pid)}`);
    this.#toGroup(child.pid, signal);
    const after = this.options.killAfterMs;
    if (this.#received === 1 && after !== null) {
      this.#killTimer = setTimeout(
        () => this.kill(`still running ${after / 1000} s after ${signal} (--kill-after)`),
        after,
      );
    }
  }

  kill(why: string): void {
    const { child } = this;
    if (!child || this.exited) return;
    this.options.log.warn(`${why}: sending SIGKILL to ${this.#who(child.pid)}`);
    this.killedByWrapper = true;
    this.#toGroup(child.pid, "SIGKILL");
  }

  stopTimer(): void {
    if (this.#killTimer !== undefined) clearTimeout(this.#killTimer);
  }

  #who(pid: number): string {
    return `pid ${pid} and its process group`;
  }

  /** CMD is its group's leader (setsid): -pid is the group. */
  #toGroup(pid: number, signal: Deno.Signal): void {
    try {
      Deno.kill(-pid, signal);
    } catch {
      try {
        this.child?.kill(signal); // the group is gone (or not ours): CMD itself, if still there
      } catch {
        // gone too; the restore follows anyway
      }
    }
  }
}

/** Run CMD around `before`/`after`. Rejects only when `before` or `after` reject. */
export async function runWrapped(options: RunWrapperOptions): Promise<RunOutcome> {
  const signals = options.signals ?? processSignals;
  // Find CMD before preparing anything: if it cannot start, nothing must change.
  const resolved = resolveCommand(options.command, options.path ?? Deno.env.get("PATH"));
  if (!resolved.ok) {
    return { started: false, exitStatus: resolved.exitCode, message: resolved.message };
  }
  const router = new SignalRouter(options);
  const handlers = new Map<Deno.Signal, () => void>();
  for (const signal of FORWARDED_SIGNALS) {
    const handler = () => router.handle(signal);
    handlers.set(signal, handler);
    signals.listen(signal, handler);
  }
  try {
    const stopped = await prepare(options, router.startup.signal);
    if (stopped !== null) {
      return {
        started: false,
        exitStatus: exitStatusOf({ code: 1, signal: stopped }),
        message: `${stopped} received before ${options.command} started; not starting it`,
      };
    }
    let child: Deno.ChildProcess;
    try {
      child = spawnInOwnGroup(options);
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
    router.child = child;
    options.log.debug(`started ${options.command} as pid ${child.pid} (its own process group)`);
    options.started?.(child.pid);
    warmAbortDispatch();
    const exit = await superviseChild(options, router, child);
    await options.after(exit);
    const lingered = await lingerAfter(options, router, exit.pid);
    return { started: true, exit, lingered };
  } finally {
    router.stopTimer();
    for (const [signal, handler] of handlers) signals.unlisten(signal, handler);
  }
}

/** `before`, unless a signal comes first: then the signal (before goes on unheeded). */
async function prepare(
  options: RunWrapperOptions,
  startup: AbortSignal,
): Promise<Deno.Signal | null> {
  if (startup.aborted) return startup.reason as Deno.Signal;
  const before = options.before();
  const signalled = new Promise<"signal">((resolve) =>
    startup.addEventListener("abort", () => resolve("signal"), { once: true })
  );
  const first = await Promise.race([before.then(() => "prepared" as const), signalled]);
  if (first === "signal") {
    before.catch(() => {}); // abandoned: the process ends without it
    return startup.reason as Deno.Signal;
  }
  return startup.aborted ? startup.reason as Deno.Signal : null;
}

/** CMD in a new session and process group (setsid: Deno's `detached`), so the whole group can
 * be signalled and watched; a terminal's signals reach it only through defroute. */
function spawnInOwnGroup(options: RunWrapperOptions): Deno.ChildProcess {
  const stdio = options.stdio ?? "inherit";
  return new Deno.Command(options.command, {
    args: [...options.args],
    stdin: stdio,
    stdout: stdio,
    stderr: stdio,
    detached: true,
  }).spawn();
}

/** Wait for CMD with `during` running; then onExit, stop `during`; returns how CMD ended. */
async function superviseChild(
  options: RunWrapperOptions,
  router: SignalRouter,
  child: Deno.ChildProcess,
): Promise<ChildExit> {
  const duringController = new AbortController();
  const during = options.during
    ? options.during(child.pid, duringController.signal).catch((error) =>
      options.log.warn(`route monitor stopped: ${error instanceof Error ? error.message : error}`)
    )
    : Promise.resolve();
  const status = await child.status;
  trace("exit");
  router.exited = true;
  router.stopTimer();
  const exit: ChildExit = {
    pid: child.pid,
    code: status.code,
    signal: status.signal,
    exitStatus: exitStatusOf(status),
    killedByWrapper: router.killedByWrapper,
  };
  // First thing after the exit: the restore, before the route monitor is wound down and before
  // anything is logged. Winding the monitor down first cost ~0.3 ms of its teardown run ahead of
  // the restore (tests/bench/restore_bench.ts --trace).
  await options.onExit?.(exit);
  // With a reason: abort() without one builds a DOMException with a stack (~0.3 ms, traced),
  // paid between CMD's exit and the restore.
  duringController.abort("CMD exited");
  await during;
  options.log.debug(
    status.signal
      ? `${options.command} (pid ${child.pid}) died of ${status.signal}`
      : `${options.command} (pid ${child.pid}) exited with ${status.code}`,
  );
  return exit;
}

/** After CMD's exit and the restore: while CMD's process group lives (up to lingerMs), guard. */
async function lingerAfter(
  options: RunWrapperOptions,
  router: SignalRouter,
  pgid: number,
): Promise<LingerReport | null> {
  const lingerMs = options.lingerMs ?? 0;
  const groups = options.processGroups?.() ?? null;
  if (lingerMs <= 0 || groups === null || router.afterExit.signal.aborted) return null;
  let members: ProcessGroupMember[];
  try {
    // One system call in the usual case, where CMD left nothing behind.
    if (!groups.exists(pgid)) return null;
    members = groups.members(pgid);
  } catch (error) {
    options.log.warn(`cannot list what ${options.command} left running: ${messageOf(error)}`);
    return null;
  }
  const { log } = options;
  let announced = false;
  const announce = () => {
    if (announced) return;
    announced = true;
    log.info(
      `${options.command} left ${
        members.length > 0 ? describeMembers(members) : "processes"
      } running in its process group: guarding the default route for up to ${
        lingerMs / 1000
      } s (--linger)`,
    );
  };
  const stop = new AbortController();
  const ended = () => stop.abort("linger over");
  router.afterExit.signal.addEventListener("abort", ended, { once: true });
  const guard = options.linger === undefined
    ? (announce(), undefined)
    : options.linger(members, stop.signal, announce).catch((error) =>
      log.warn(`guard after ${options.command} stopped: ${messageOf(error)}`)
    ).finally(announce);
  let wait: GroupWait;
  try {
    wait = await waitForGroup(groups, pgid, { deadlineMs: lingerMs, signal: stop.signal });
  } catch (error) {
    log.warn(`cannot watch what ${options.command} left running: ${messageOf(error)}`);
    wait = { gone: false, left: members, waitedMs: 0 };
  } finally {
    router.afterExit.signal.removeEventListener("abort", ended);
    ended();
  }
  await guard;
  const seconds = (wait.waitedMs / 1000).toFixed(1);
  if (wait.gone) log.info(`${options.command}'s process group is gone (after ${seconds} s)`);
  else {
    log.warn(
      `${describeMembers(wait.left)} of ${options.command}'s process group still running after ` +
        `${seconds} s; no longer guarding (watch --heal would)`,
    );
  }
  return { members, ...wait };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
