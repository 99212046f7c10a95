/**
 * `defroute run [options] -- CMD [ARGS...]`: save the default routes, run CMD, and put them back
 * the moment CMD exits, however it exits; then exit with CMD's status.
 *
 * The process part (signals, child, order) is lib/process/run_wrapper.ts; this file wires it to
 * save, the route monitor (lib/core/ops/heal_loop.ts) and restore.
 */
import type { Command, CommandContext } from "./command.ts";
import { CHANGE_OPTIONS, COMMON_OPTIONS } from "./command.ts";
import { COMMON_OPTIONS_HELP, EXIT_CODES_HELP } from "./help.ts";
import {
  HEAL_OPTIONS,
  HEAL_OPTIONS_HELP,
  healConfigOf,
  healHooks,
  recordGoodDefault,
} from "./watch.ts";
import { CliError, ExitCode, UsageError } from "../core/model/errors.ts";
import { runMonitor } from "../core/ops/heal_loop.ts";
import {
  type ChildExit,
  DEFAULT_LINGER_MS,
  type LingerReport,
  type RunOutcome,
  runWrapped,
  type SignalSource,
} from "../process/run_wrapper.ts";
import { formatEventJson, formatEventText, processNamer } from "../core/text/event_log.ts";
import type { ProcessNamer } from "../core/text/event_log.ts";
import type { HealConfig } from "../core/policy/heal.ts";
import type { DefaultRoute, Family, InterfaceAddress, NetInterface } from "../core/model/types.ts";
import { isTunnelName, NO_PRIMARY_SOURCE } from "../core/model/types.ts";
import { openProcessGroups, type System } from "../system.ts";
import { RunSave } from "../core/ops/run_save.ts";
import type { ProcessGroups } from "../process/process_group.ts";
import { restoreDefaults, type RestoreReport } from "../core/ops/restore.ts";
import { restoreSucceeded } from "./watch.ts";
import { BufferedLog, type Log, SILENT_LOG } from "../core/model/log.ts";
import { type DefrouteState, emptyState } from "../core/state/schema.ts";
import type { RouteTable } from "../core/model/route_table.ts";
import { trace } from "../util/trace.ts";
import { commandWordsOf } from "../core/text/route_text.ts";

export interface RunDeps {
  signals?: SignalSource;
  /** Who is in CMD's process group (tests); default: the platform's (lib/system.ts). */
  processGroups?: ProcessGroups | null;
  /** "null" silences CMD in tests. */
  stdio?: "inherit" | "null";
}

/** --kill-after SECONDS as milliseconds, null when not given. */
export function killAfterOf(value: unknown): number | null {
  if (typeof value !== "string") return null;
  const seconds = Number(value);
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds <= 0 || seconds > 86_400) {
    throw new UsageError(`--kill-after takes seconds greater than 0, not "${value}"`);
  }
  return Math.round(seconds * 1000);
}

/** --linger SECONDS as milliseconds (default 5 s; 0 = do not wait for CMD's process group). */
export function lingerOf(value: unknown): number {
  if (typeof value !== "string") return DEFAULT_LINGER_MS;
  const seconds = Number(value);
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds < 0 || seconds > 3600) {
    throw new UsageError(`--linger takes seconds from 0 to 3600, not "${value}"`);
  }
  return Math.round(seconds * 1000);
}

/** Tunnel interfaces (by type or name) that are up, as a set of names. A tunnel that is not
 * up carries no usable route; Linux keeps persistent TUN devices around while down. */
function tunnelsUp(interfaces: readonly NetInterface[]): Set<string> {
  return new Set(
    interfaces.filter((i) => i.up && (i.tunnel || isTunnelName(i.name))).map((i) => i.name),
  );
}

function describeExit(command: string, exit: ChildExit): string {
  if (exit.signal !== null) {
    return `${command} (pid ${exit.pid}) ${
      exit.killedByWrapper ? "was killed with SIGKILL" : `died of ${exit.signal}`
    } (status ${exit.exitStatus})`;
  }
  return `${command} (pid ${exit.pid}) exited with status ${exit.code}`;
}

/** A newer good default the monitor saw before the state file could be written. */
interface DeferredGood {
  routes: readonly DefaultRoute[];
  interfaces: readonly NetInterface[];
}

/** What the restore after CMD's exit works from. */
interface AfterRunInputs {
  families: readonly Family[];
  statePath: string;
  log: Log;
  /** Tunnel interfaces that were up before CMD started. */
  tunnelsAtStart: ReadonlySet<string>;
  /** The interfaces as the route monitor's link events kept them while CMD ran; undefined =
   * list them after the exit (the monitor missed events or stopped). */
  interfaces: readonly NetInterface[] | undefined;
  /** The state file as last read or written while CMD ran; undefined = read it now. */
  known: DefrouteState | null | undefined;
  /** The machine's own addresses, read before CMD started (a blackhole gateway is refused);
   * undefined = read them if a restore adds. An address that changed while CMD ran is the
   * full restore's to see (it reads them again). */
  addresses: readonly InterfaceAddress[] | undefined;
  dryRun: boolean;
  /** Whether a family the fast path could not restore gets the full restore (scutil, retries). */
  fallback: boolean;
}

/**
 * Restore after CMD exits, fast: the interfaces as the monitor kept them (for the tunnels CMD
 * left up, and for the restore), the known state and one route read, without running scutil and without
 * backoff, so the internet is back before the shell prompt. Only a family that could not be
 * restored that way gets the full restore: scutil's router first, with retries while an
 * interface settles.
 */
async function restoreAfterExit(system: System, inputs: AfterRunInputs): Promise<RestoreReport> {
  const { log } = inputs;
  const interfaces = inputs.interfaces ?? await system.table.interfaces();
  // A tunnel CMD brought up (absent or down at start): a global default left on it is CMD's
  // leftover, which run replaces (plain restore leaves tunnel defaults alone).
  const leftovers = [...tunnelsUp(interfaces)].filter((n) => !inputs.tunnelsAtStart.has(n));
  if (leftovers.length > 0) {
    log.debug(`tunnel interfaces ${leftovers.join(", ")} came up while CMD ran`);
  }
  const base = {
    statePath: inputs.statePath,
    ...(inputs.known !== undefined ? { state: inputs.known } : {}),
    dryRun: inputs.dryRun,
    replaceTunnelDefaults: new Set(leftovers),
    log,
  };
  const noScutil: System = { ...system, primary: NO_PRIMARY_SOURCE };
  const fast = await restoreDefaults(noScutil, {
    ...base,
    families: inputs.families,
    interfaces,
    ...(inputs.addresses !== undefined ? { addresses: inputs.addresses } : {}),
    retryDelaysMs: [],
  });
  const retry = fast.families.filter((f) => !restoreSucceeded(f)).map((f) => f.family);
  if (retry.length === 0 || !inputs.fallback) return fast;
  log.debug(`IPv${retry.join(", IPv")}: the saved route did not do; asking scutil`);
  const full = await restoreDefaults(system, { ...base, families: retry });
  return {
    families: fast.families.map((f) => full.families.find((g) => g.family === f.family) ?? f),
    stateError: full.stateError ?? fast.stateError,
  };
}

/**
 * The route table as a rehearsal sees it: reads go to the kernel, but each family's defaults
 * look empty until the rehearsal "adds" one, and add/delete change nothing. Restoring against
 * it runs the whole add path (plan, announce, add, verify) without touching the table.
 */
function rehearsalTable(real: RouteTable): RouteTable {
  const added = new Map<Family, DefaultRoute>();
  return {
    defaults: (family) => {
      const route = added.get(family);
      return real.defaults(family).then(() => route ? [route] : []);
    },
    add: (route) => {
      added.set(route.family, route);
      return Promise.resolve();
    },
    delete: () => Promise.resolve(),
    interfaces: () => real.interfaces(),
    events: (signal) => real.events(signal),
    ...(real.commandText ? { commandText: commandWordsOf(real) } : {}),
    close: () => {},
  };
}

/** How long the restore after CMD's exit waits for the route monitor to finish what it is doing
 * (a repair, a state record) before it goes ahead without it. */
const MONITOR_WIND_DOWN_MS = 2000;

/** Rehearsals before CMD starts: enough calls for V8 to move the restore path out of its
 * interpreter (one rehearsal left ~1.2-1.6 ms of work between CMD's exit and the add, 30-100 left
 * ~0.9-1.2 ms, traced with restore_bench.ts --trace). Each is one route dump and ~0.1 ms. */
const REHEARSALS = 32;

/**
 * A silent rehearsal of the restore after CMD's exit, while CMD starts, from the state just
 * saved, against rehearsalTable. V8 compiles each function on its first call: without this,
 * the first-time code on the restore path cost ~1 ms between CMD's exit and the restored
 * default (tests/bench/restore_bench.ts). Failures do not matter here; the real restore reports
 * its own.
 */
async function rehearseRestore(
  system: System,
  inputs: AfterRunInputs,
  saved: DefrouteState,
): Promise<void> {
  const rehearsal: System = {
    ...system,
    table: rehearsalTable(system.table),
    primary: NO_PRIMARY_SOURCE,
  };
  await restoreAfterExit(rehearsal, {
    ...inputs,
    log: SILENT_LOG,
    known: saved,
    dryRun: false,
    fallback: false,
  }).catch(() => undefined);
}

/** The first family whose restore failed, as an error with restore's exit code. */
function restoreFailure(report: RestoreReport): CliError | null {
  const failed = report.families.find((f) => !restoreSucceeded(f));
  if (!failed) return null;
  return new CliError(
    failed.outcome === "no-gateway" ? ExitCode.NO_GATEWAY : ExitCode.FAILURE,
    failed.message,
  );
}

export async function run(ctx: CommandContext, deps: RunDeps = {}): Promise<number> {
  const [command, ...args] = ctx.rest;
  if (command === undefined) {
    throw new UsageError("'run' needs a command after '--': defroute run -- CMD [ARGS...]");
  }
  const heal = ctx.values.heal === true;
  const config = healConfigOf(ctx.values);
  const killAfterMs = killAfterOf(ctx.values["kill-after"]);
  const lingerMs = lingerOf(ctx.values.linger);
  // The guard after CMD's exit (--linger) heals with the same settings as --heal.
  if (
    !heal && lingerMs === 0 &&
    (ctx.values.grace !== undefined || ctx.values["max-repairs"] !== undefined)
  ) {
    throw new UsageError("--grace and --max-repairs only make sense with --heal or --linger");
  }
  const dryRun = ctx.values["dry-run"] === true;
  const { out } = ctx;
  const name = command.split("/").at(-1) ?? command;

  let system: System | null = null;
  let tunnelsUpAtStart = new Set<string>();
  // The interfaces by index, kept by the monitor's link events from just after it subscribed;
  // null when unknown (an overflow lost events, or the monitor stopped): then the restore lists
  // them after CMD's exit. One link dump fewer between the exit and the restored default.
  let interfacesKnown: Map<number, NetInterface> | null = null;
  let monitorFailed = false;
  let restoreError: unknown = null;
  let restoreReport: RestoreReport | null = null;
  let dryRunState: DefrouteState | null = null;
  // The state file as last read or written while CMD ran: the restore after CMD exits uses it
  // rather than reading the file again on the way to the restored default.
  let knownState: DefrouteState | null | undefined = undefined;
  let repairs = 0;
  // State records of a newer good default that the monitor has under way.
  let recordsUnderWay = 0;
  // What was read before CMD starts, written once it runs (lib/core/ops/run_save.ts).
  let runSave: RunSave | null = null;
  // The state file is written only once CMD runs: until that write is done, a newer good
  // default the monitor sees is kept here and recorded after it.
  let stateOpen = false;
  let deferredGood: DeferredGood | null = null;
  let processGroups: (ProcessGroups & Partial<Disposable>) | null = null;
  let addressesAtStart: InterfaceAddress[] | undefined = undefined;
  // Set the moment CMD's exit is known: from then on the monitor reports and records nothing
  // (the restore's own add would otherwise show up as an event before CMD's exit line).
  let cmdExited = false;
  // The restore started the moment CMD exited (onExit), with its lines held back until the exit
  // line is printed; null when the restore waits for the monitor instead (see onExit).
  let early: { log: BufferedLog; report: Promise<RestoreReport> } | null = null;
  // The route monitor is subscribed before CMD starts, so no change CMD makes is missed; it
  // learns CMD's pid (for the log's process names) once CMD is spawned.
  const names = new Map<number, string>();
  const namer = processNamer(names);
  const monitorStop = new AbortController();
  let monitor: Promise<void> = Promise.resolve();

  const afterRunInputs = (): AfterRunInputs => ({
    families: ctx.families,
    statePath: ctx.statePath,
    log: out,
    tunnelsAtStart: tunnelsUpAtStart,
    interfaces: interfacesKnown ? [...interfacesKnown.values()] : undefined,
    known: dryRunState ?? knownState,
    addresses: addressesAtStart,
    dryRun,
    fallback: true,
  });

  /** The last good default's recorder (watch.ts recordGoodDefault): only an interface that was
   * there before CMD started may hold it. Made once the interfaces at start are known. */
  let record: ReturnType<typeof recordGoodDefault> | null = null;
  const recordGood = async (routes: readonly DefaultRoute[], ifaces: readonly NetInterface[]) => {
    if (record === null) return;
    recordsUnderWay++;
    try {
      const state = await record(routes, ifaces);
      if (state !== null) knownState = state;
    } finally {
      recordsUnderWay--;
    }
  };

  /** Once CMD runs: write what was read before it started, then what the monitor saw since. */
  const saveOnceRunning = async (save: RunSave) => {
    const written = await save.write();
    if (written !== null) knownState = written;
    stateOpen = true;
    const newer = deferredGood as DeferredGood | null;
    deferredGood = null;
    if (newer !== null && !cmdExited) {
      await recordGood(newer.routes, newer.interfaces).catch((error) =>
        out.warn(`could not record the last good default: ${messageOf(error)}`)
      );
    }
  };

  const startMonitor = (sys: System): Promise<void> =>
    new Promise((ready) => {
      monitor = runMonitor({
        table: sys.table,
        families: ctx.families,
        signal: monitorStop.signal,
        log: out,
        onReady: () => ready(),
        describe: (event) => formatEventText(event, namer),
        // Healing judges link state too (macOS: configd's, one scutil run per interface change);
        // a plain run's monitor only logs, and spawns nothing before CMD starts.
        linkStates: heal ? sys.primary.inactiveLinks?.bind(sys.primary) : undefined,
        // CMD owns stdout: the route log goes to stderr (JSON lines there with --json).
        onEvent: (event) => {
          if (cmdExited) return;
          if (event.kind === "overflow") interfacesKnown = null;
          else if (event.kind === "link" && interfacesKnown !== null) {
            const { interface: iface } = event;
            if (event.action === "gone") interfacesKnown.delete(iface.index);
            else interfacesKnown.set(iface.index, iface);
          }
          if ((event.kind === "link" && !event.interface.tunnel) || event.kind === "address") {
            return out.debug(formatEventText(event, namer));
          }
          if (out.json) out.event(formatEventJson(event, new Date(), namer));
          else out.info(formatEventText(event, namer));
        },
        heal: heal
          ? healHooks(sys, ctx, config, (_family: Family, _cause: string, ok: boolean) => {
            if (ok) repairs++;
          })
          : undefined,
        onGoodDefault: dryRun ? undefined : async (routes, interfaces) => {
          if (cmdExited) return;
          if (!stateOpen) {
            deferredGood = { routes, interfaces };
            return;
          }
          await recordGood(routes, interfaces);
        },
      }).catch((error) => {
        out.warn(`route monitor stopped: ${messageOf(error)}`);
        monitorFailed = true;
        interfacesKnown = null;
        ready();
      });
    });

  let outcome: RunOutcome;
  try {
    outcome = await runWrapped({
      command,
      args,
      killAfterMs,
      log: out,
      signals: deps.signals,
      stdio: deps.stdio,
      before: async () => {
        const sys = system = await ctx.system();
        if (!sys.mayChange && !dryRun) {
          throw new CliError(
            ExitCode.NEEDS_ROOT,
            "run saves and restores routes, which needs root: run it with sudo (or add --dry-run)",
          );
        }
        const atStart = await sys.table.interfaces();
        tunnelsUpAtStart = tunnelsUp(atStart);
        record = recordGoodDefault(ctx, sys, atStart, "run");
        addressesAtStart = await sys.table.addresses?.().catch(() => undefined);
        // Read now, written once CMD runs (started, below): a CMD that cannot start changes
        // nothing, and a save that fails does not keep CMD from starting.
        runSave = await RunSave.look(sys, {
          statePath: ctx.statePath,
          families: ctx.families,
          force: ctx.values.force === true,
          dryRun,
          log: out,
        });
        const saved = runSave.planned ?? emptyState();
        if (dryRun) dryRunState = saved;
        else knownState = runSave.planned ?? undefined;
        await startMonitor(sys);
        if (!monitorFailed) {
          const listed = await sys.table.interfaces();
          if (!monitorFailed) interfacesKnown = new Map(listed.map((i) => [i.index, i]));
        }
        if (!dryRun) {
          sys.table.warm?.();
          for (let i = 0; i < REHEARSALS; i++) {
            await rehearseRestore(sys, afterRunInputs(), saved);
          }
        }
        if (deps.processGroups !== undefined) processGroups = deps.processGroups;
        else if (lingerMs > 0) {
          processGroups = await openProcessGroups(sys.platform).catch((error) => {
            out.debug(`no process group listing (${messageOf(error)}): no --linger`);
            return null;
          });
        }
      },
      started: () => {
        const save = runSave;
        if (save !== null && !dryRun) void saveOnceRunning(save);
        else stateOpen = true;
      },
      lingerMs,
      processGroups: () => processGroups,
      linger: (_members, signal, watching) => {
        const sys = system;
        if (sys === null) return Promise.resolve();
        return guardLeftovers(sys, ctx, {
          config,
          dryRun,
          signal,
          watching,
          state: () => dryRunState ?? knownState,
          namer,
          command: name,
          onRepair: () => repairs++,
        });
      },
      onExit: async () => {
        cmdExited = true;
        const sys = system;
        // A repair (--heal) or a state record under way finishes first, and the restore then
        // starts from what it left (after, below): the slow path, taken rarely.
        if (sys === null || dryRun || heal || recordsUnderWay > 0) return;
        // The monitor is left parked until the restore is done: it wakes only when the kernel
        // has news, and from now on it acts on nothing (cmdExited), so it cannot race the restore.
        const log = new BufferedLog();
        trace("restore"); // here, not in restoreAfterExit: the rehearsals run that too
        const report = restoreAfterExit(sys, { ...afterRunInputs(), log });
        early = { log, report };
        await report.catch(() => {}); // after reports it
      },
      during: async (pid, signal) => {
        names.set(pid, name);
        await new Promise<void>((resolve) =>
          signal.addEventListener("abort", () => {
            // With a reason: abort() without one builds a DOMException (a stack capture), which
            // cost ~0.5 ms between CMD's exit and the restore (tests/bench/restore_bench.ts).
            monitorStop.abort("CMD exited");
            resolve();
          })
        );
        // A repair or a state record may be under way: restore looks once it is done, but never
        // waits long for it (a record can be stuck on a lock a hung process holds).
        await settledWithin(monitor, MONITOR_WIND_DOWN_MS);
      },
      after: async (exit) => {
        out.info(describeExit(name, exit));
        const sys = system;
        if (sys === null) return;
        try {
          const started = early as { log: BufferedLog; report: Promise<RestoreReport> } | null;
          let report: RestoreReport;
          if (started) {
            try {
              report = await started.report;
            } finally {
              started.log.replayInto(out);
            }
          } else {
            trace("restore");
            report = await restoreAfterExit(sys, afterRunInputs());
          }
          restoreReport = report;
          restoreError = restoreFailure(report);
          for (const f of report.families) {
            if (f.outcome === "restored" || f.outcome === "already") out.info(f.message);
            else out.debug(`IPv${f.family}: ${f.message}`);
          }
        } catch (error) {
          restoreError = error;
        }
      },
    });
  } finally {
    monitorStop.abort();
    (processGroups as (ProcessGroups & Partial<Disposable>) | null)?.[Symbol.dispose]?.();
  }

  if (!outcome.started) {
    out.warn(outcome.message);
    if (out.json) {
      out.emit({ ok: false, command: ctx.rest, started: false, exitStatus: outcome.exitStatus });
    }
    return outcome.exitStatus;
  }
  const { exit } = outcome;
  if (out.json) {
    out.emit({
      ok: restoreError === null,
      command: ctx.rest,
      started: true,
      pid: exit.pid,
      code: exit.code,
      signal: exit.signal,
      exitStatus: exit.exitStatus,
      killedByDefroute: exit.killedByWrapper,
      repairs,
      lingered: lingerJson(outcome.lingered),
      restore: (restoreReport as RestoreReport | null)?.families.map((f) => ({
        family: f.family,
        outcome: f.outcome,
        message: f.message,
        route: f.route,
        replaced: f.replaced,
      })) ?? null,
      restoreError: restoreError === null ? null : messageOf(restoreError),
    });
  }
  if (restoreError !== null) {
    out.warn(`restore after ${name} failed: ${messageOf(restoreError)}`);
    // CMD's status wins when it failed too; a clean CMD with a failed restore is a failure.
    if (exit.exitStatus !== 0) return exit.exitStatus;
    return restoreError instanceof CliError ? restoreError.exitCode : ExitCode.FAILURE;
  }
  return exit.exitStatus;
}

/** What `run --json` says of the wait for CMD's leftover processes. */
function lingerJson(report: LingerReport | null) {
  if (report === null) return null;
  return {
    members: report.members,
    gone: report.gone,
    left: report.left,
    waitedMs: report.waitedMs,
  };
}

interface GuardOptions {
  config: HealConfig;
  dryRun: boolean;
  /** Aborts when the process group is gone, the linger is over, or a signal came. */
  signal: AbortSignal;
  /** Called once the route monitor sees every change. */
  watching: () => void;
  /** The state file as last known (undefined: read it). */
  state: () => DefrouteState | null | undefined;
  namer: ProcessNamer;
  /** CMD's name, for the log. */
  command: string;
  onRepair: () => void;
}

/**
 * While CMD's leftover processes live (`--linger`): what `watch --heal` does, filling a void
 * after the grace period and never replacing a default, with every route change logged and
 * named (the stragglers by name). When the wait ends, one last look fills a void the grace
 * period has not run out on (an orphan that deletes the default and exits).
 */
async function guardLeftovers(system: System, ctx: CommandContext, options: GuardOptions) {
  const { out } = ctx;
  await runMonitor({
    table: system.table,
    families: ctx.families,
    signal: options.signal,
    log: out,
    onReady: options.watching,
    describe: (event) => formatEventText(event, options.namer),
    onEvent: (event) => {
      if (event.kind === "link" && !event.interface.tunnel) return;
      out.info(
        out.json
          ? JSON.stringify(formatEventJson(event, new Date(), options.namer))
          : formatEventText(event, options.namer),
      );
    },
    heal: healHooks(system, ctx, options.config, (_family, _cause, ok) => {
      if (ok) options.onRepair();
    }),
  }).catch((error) => out.warn(`route monitor stopped: ${messageOf(error)}`));
  const state = options.state();
  const report = await restoreDefaults(system, {
    families: ctx.families,
    statePath: ctx.statePath,
    ...(state !== undefined ? { state } : {}),
    dryRun: options.dryRun,
    retryDelaysMs: [],
    log: out,
  });
  for (const f of report.families) {
    if (f.outcome === "restored" || f.outcome === "planned") {
      out.info(`${f.message} (guarding after ${options.command}'s exit)`);
      if (f.outcome === "restored") options.onRepair();
    } else if (!restoreSucceeded(f)) out.debug(`IPv${f.family}: ${f.message}`);
  }
}

/** `promise` settled, or `ms` passed (whichever first; the timer is cleared either way). */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    promise.catch(() => {}),
    new Promise<void>((resolve) => timer = setTimeout(resolve, ms)),
  ]);
  clearTimeout(timer);
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export const runCommand: Command = {
  name: "run",
  summary: "run -- CMD: save, run CMD, restore when it exits for any reason",
  takesCommand: true,
  help: `Usage: sudo defroute run [options] -- CMD [ARGS...]

Save the default routes, run CMD (no shell; stdin, stdout and stderr are CMD's), and put the
default routes back the moment CMD exits, whether it exits cleanly, fails, crashes or is
killed. defroute then exits with CMD's status (128+N when it died of signal N).

CMD runs in its own session and process group. SIGINT, SIGTERM and SIGQUIT are forwarded to
that group; a second one is forwarded again; a third (or --kill-after SECONDS after the first)
kills the group with SIGKILL; the routes are restored either way. SIGHUP is forwarded and never
counted (sing-box reloads its configuration on it). A signal that comes before CMD has started
stops defroute without starting it. While CMD runs, every change to a default route is logged on stderr with the pid
that made it. A global default left on a tunnel interface CMD brought up is replaced on exit.
If CMD cannot be started (127: not found, 126: not executable, or a bad #! line), nothing is
changed: the defaults are read before CMD starts and the state file is written only once it
runs. If the save fails (an unusable state file), CMD still starts, with a warning.

When CMD exits and processes of its group are still running (a helper it forked, a background
job), run keeps guarding for up to --linger seconds while they live: a void in the global default
is filled as 'watch --heal' fills it (never replacing a default), and they are named.

Options:
${HEAL_OPTIONS_HELP}
  --kill-after SECONDS  SIGKILL CMD's group this long after the first forwarded signal
  --linger SECONDS    guard this long at most while CMD's leftover processes live (default
                      5; 0 = exit at once)
  -n, --dry-run       run CMD and log, but only say what restore would do
  -f, --force         save even when the default is already missing (replaces the state)

${COMMON_OPTIONS_HELP}

Examples:
  sudo defroute run -- sing-box run -c config.json
  sudo defroute run --heal -- wireguard-go -f utun
  sudo defroute run --kill-after 10 -- openconnect --protocol=anyconnect vpn.example.com

${EXIT_CODES_HELP}`,
  options: {
    ...COMMON_OPTIONS,
    ...CHANGE_OPTIONS,
    ...HEAL_OPTIONS,
    "kill-after": { type: "string" },
    linger: { type: "string" },
  },
  run: (ctx) => run(ctx),
};
