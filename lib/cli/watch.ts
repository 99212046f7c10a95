/**
 * `defroute watch [--heal]`: stream default-route and interface events (text or JSON lines);
 * with --heal, fill a missing global default after a grace period (lib/core/policy/heal.ts), and
 * record every good default in the state file as the last one to restore.
 */
import type { Command, CommandContext, OptionSpec } from "./command.ts";
import { CHANGE_OPTIONS, COMMON_OPTIONS } from "./command.ts";
import { COMMON_OPTIONS_HELP, EXIT_CODES_HELP } from "./help.ts";
import type { Output } from "./output.ts";
import { CliError, ExitCode, UsageError } from "../core/model/errors.ts";
import { DEFAULT_HEAL_CONFIG, type HealConfig } from "../core/policy/heal.ts";
import { type HealOptions, type RepairInputs, runMonitor } from "../core/ops/heal_loop.ts";
import { formatEventJson, formatEventText, processNamer } from "../core/text/event_log.ts";
import type { ProcessNamer } from "../core/text/event_log.ts";
import type { DefaultRoute, Family, NetInterface, RouteEvent } from "../core/model/types.ts";
import { type RecheckChange, recheckText } from "../core/policy/recheck.ts";
import type { System } from "../system.ts";
import { processSignals, type SignalSource } from "../process/run_wrapper.ts";
import type { DefrouteState } from "../core/state/schema.ts";
import { recordLastGood } from "../core/ops/record.ts";
import { isTunnel } from "../core/policy/liveness.ts";
import { tunnelHolds } from "../core/policy/tunnel_hold.ts";
import { type FamilyRestoreReport, restoreDefaults } from "../core/ops/restore.ts";
import { type LogFileOutput, logFileOutput } from "./log_file.ts";

/** The heal options `watch` and `run` share. */
export const HEAL_OPTIONS: OptionSpec = {
  heal: { type: "boolean" },
  grace: { type: "string" },
  "max-repairs": { type: "string" },
  "heal-under-tunnel": { type: "boolean" },
};

export const HEAL_OPTIONS_HELP =
  `  --heal              repair a missing global default: when none has existed for the grace
                      period, add one from the restore sources (scutil's router, then the
                      saved route). Only fills a void; never replaces a default.
  --grace SECONDS     how long the default must be missing before a repair (default 1); a
                      tunnel that deletes and re-adds its own default within it is left alone
  --max-repairs N     at most N repairs per minute (default 3), so two healers cannot flap
  --heal-under-tunnel fill a void even while a live tunnel holds the traffic (a default of any
                      scope, routes covering half the addresses, a policy rule); by default
                      the healer waits until that tunnel goes away`;

/** --grace and --max-repairs as a HealConfig; usage errors name the flag. */
export function healConfigOf(values: CommandContext["values"]): HealConfig {
  if (values["heal-under-tunnel"] !== undefined && values.heal !== true) {
    throw new UsageError("--heal-under-tunnel only makes sense with --heal");
  }
  const config = { ...DEFAULT_HEAL_CONFIG };
  const grace = values.grace;
  if (typeof grace === "string") {
    const seconds = Number(grace);
    if (grace.trim() === "" || !Number.isFinite(seconds) || seconds < 0 || seconds > 3600) {
      throw new UsageError(`--grace takes seconds between 0 and 3600, not "${grace}"`);
    }
    config.graceMs = Math.round(seconds * 1000);
  }
  const max = values["max-repairs"];
  if (typeof max === "string") {
    const n = Number(max);
    if (!/^\d+$/.test(max) || n < 1 || n > 1000) {
      throw new UsageError(`--max-repairs takes a whole number from 1 to 1000, not "${max}"`);
    }
    config.maxRepairs = n;
  }
  return config;
}

/** The default of --recheck: a re-read every 30 s costs a laptop nothing worth measuring. */
export const DEFAULT_RECHECK_SECONDS = 30;

/** --recheck as milliseconds (0: off); usage errors name the flag. */
export function recheckMsOf(values: CommandContext["values"]): number {
  const text = values.recheck;
  if (typeof text !== "string") return DEFAULT_RECHECK_SECONDS * 1000;
  const seconds = Number(text);
  if (text.trim() === "" || !Number.isFinite(seconds) || seconds < 0 || seconds > 86_400) {
    throw new UsageError(`--recheck takes seconds between 0 (off) and 86400, not "${text}"`);
  }
  return Math.round(seconds * 1000);
}

/** Print what a recheck found different: a JSON line, or a timestamped human line. */
export function printRecheck(out: Output, changes: readonly RecheckChange[]): void {
  const now = new Date();
  if (out.json) out.emit({ time: now.toISOString(), event: "recheck", changes });
  else out.print(`${now.toISOString()} recheck: ${recheckText(changes)}`);
}

/** Print one event: a JSON line, or a timestamped human line. */
export function printEvent(out: Output, event: RouteEvent, namer: ProcessNamer): void {
  const now = new Date();
  if (out.json) out.emit(formatEventJson(event, now, namer));
  else out.print(`${now.toISOString()} ${formatEventText(event, namer)}`);
}

/**
 * The monitor's onGoodDefault for `watch` and `run`: record the family's last good default in
 * the state file by the recording rule (lib/core/policy/record_rule.ts), trusting only interfaces in
 * `before` (listed before the monitor started: for run, before CMD). Resolves to the state file
 * as it now is.
 */
export function recordGoodDefault(
  ctx: CommandContext,
  system: System,
  before: readonly NetInterface[],
  savedBy: string,
): (routes: readonly DefaultRoute[], interfaces: readonly NetInterface[]) => Promise<
  DefrouteState | null
> {
  const present = new Set(before.map((i) => `${i.index}:${i.name}`));
  return (routes, interfaces) => {
    const family = routes[0]?.family;
    if (family === undefined) return Promise.resolve(null);
    return recordLastGood(system, ctx.statePath, family, {
      routes,
      interfaces,
      presentBefore: (iface) => present.has(`${iface.index}:${iface.name}`),
      savedBy,
      log: ctx.out,
    });
  };
}

/** Whether a family's restore left (or, dry run, would leave) a global default in place, or
 * found nothing was ever there to restore. */
export function restoreSucceeded(report: FamilyRestoreReport): boolean {
  switch (report.outcome) {
    case "present":
    case "restored":
    case "already":
    case "planned":
      return true;
    case "no-gateway":
      return report.plan.action === "none" && !report.plan.expected;
    case "failed":
      return false;
  }
}

/**
 * One heal repair: restoreDefaults for one family, re-deriving the gateway now (scutil first,
 * then the saved route). No internal retries: the heal loop retries after a fresh grace period,
 * so one slow repair cannot stall the event loop for the restore backoff's 15 s.
 */
export async function repairDefault(
  system: System,
  ctx: CommandContext,
  family: Family,
  cause: string,
  seen?: RepairInputs,
): Promise<boolean | "no-gateway"> {
  const dryRun = ctx.values["dry-run"] === true;
  const report = await restoreDefaults(system, {
    families: [family],
    // What the heal loop read right before deciding: no second look within microseconds.
    ...(seen ? { defaults: new Map([[family, seen.defaults]]) } : {}),
    ...(seen?.interfaces ? { interfaces: seen.interfaces } : {}),
    statePath: ctx.statePath,
    dryRun,
    retryDelaysMs: [],
    log: ctx.out,
  });
  const result = report.families[0];
  if (!result) return false;
  const ok = result.outcome === "restored" || result.outcome === "already" ||
    result.outcome === "present";
  if (result.outcome === "restored") ctx.out.info(`${result.message}; cause: ${cause}`);
  else if (restoreSucceeded(result) && !ok && !dryRun) {
    // No network at all (at boot, Wi-Fi off): nothing to repair from; not worth a warning.
    ctx.out.info(`IPv${family}: ${result.message}`);
  } else if (!ok) ctx.out.warn(`${dryRun ? "dry run: " : ""}${result.message}`);
  // Nothing to add from: nothing was tried (the heal policy backs off without counting it).
  if (result.outcome === "no-gateway") return "no-gateway";
  // A dry run changes nothing: report it as not repaired, so the void keeps its grace rhythm.
  return ok && !dryRun;
}

export interface WatchDeps {
  signals?: SignalSource;
}

/** The heal hooks for a System: repair through restore, counted in `repairs`. */
export function healHooks(
  system: System,
  ctx: CommandContext,
  config: HealConfig,
  onRepair: (family: Family, cause: string, ok: boolean) => void,
): HealOptions {
  return {
    config,
    repair: async (family, cause, seen) => {
      const result = await repairDefault(system, ctx, family, cause, seen);
      onRepair(family, cause, result === true);
      return result;
    },
    ...(ctx.values["heal-under-tunnel"] === true
      ? {}
      : { holder: (family: Family, seen: RepairInputs) => holdingTunnel(system, family, seen) }),
  };
}

/** Which live tunnel holds the family's traffic during a void, in words (tunnel_hold.ts). */
async function holdingTunnel(
  system: System,
  family: Family,
  seen: RepairInputs,
): Promise<string | null> {
  const interfaces = seen.interfaces ?? await system.table.interfaces();
  // No live tunnel, nothing to hold the traffic: the common case reads nothing more.
  if (!interfaces.some((i) => i.up && isTunnel(i))) return null;
  const carriers = await system.table.carriers?.(family) ?? null;
  const hold = tunnelHolds({ family, defaults: seen.defaults, carriers, interfaces })[0];
  return hold ? `tunnel ${hold.interface} holds the IPv${family} traffic (${hold.how})` : null;
}

/**
 * Whether an event gets a line of its own. `watch` streams them all (that is what it is for);
 * a healer's text log (the launchd daemon's) has them only with -v: by default it logs what it
 * did and why (repairs, refusals, errors), so the log grows with trouble, not with traffic.
 * JSON lines always carry every event (programs and tests read the stream).
 */
export function logsEvents(out: Output, heal: boolean): boolean {
  return !heal || out.json || out.verbosity > 1;
}

/** --log-file PATH: the Output that writes the daemon's own log (lib/cli/log_file.ts). */
function logFileOf(ctx: CommandContext): LogFileOutput | null {
  const path = ctx.values["log-file"];
  if (typeof path !== "string") return null;
  if (!path.startsWith("/")) {
    throw new UsageError(`--log-file takes an absolute path, not "${path}"`);
  }
  return logFileOutput(path, ctx.out.json, ctx.out.verbosity);
}

export async function watch(ctx: CommandContext, deps: WatchDeps = {}): Promise<number> {
  const logFile = logFileOf(ctx);
  if (logFile === null) return await watchWith(ctx, deps);
  try {
    return await watchWith({ ...ctx, out: logFile }, deps);
  } catch (error) {
    // Said in the log too: launchd's StandardErrorPath may be a file nobody reads.
    logFile.warn(error instanceof Error ? error.message : String(error));
    throw error;
  } finally {
    logFile.close();
  }
}

async function watchWith(ctx: CommandContext, deps: WatchDeps): Promise<number> {
  const heal = ctx.values.heal === true;
  const config = healConfigOf(ctx.values);
  if (!heal && (ctx.values.grace !== undefined || ctx.values["max-repairs"] !== undefined)) {
    throw new UsageError("--grace and --max-repairs only make sense with --heal");
  }
  const dryRun = ctx.values["dry-run"] === true;
  const recheckMs = recheckMsOf(ctx.values);
  const system = await ctx.system();
  if (heal && !dryRun && !system.mayChange) {
    throw new CliError(
      ExitCode.NEEDS_ROOT,
      "watch --heal adds routes, which needs root: run it with sudo (or add --dry-run)",
    );
  }
  const { out } = ctx;
  const namer = processNamer();
  const controller = new AbortController();
  const signals = deps.signals ?? processSignals;
  const stop = () => controller.abort();
  const stopSignals: Deno.Signal[] = ["SIGINT", "SIGTERM"];
  for (const s of stopSignals) signals.listen(s, stop);
  const watching = `watching IPv${ctx.families.join(" and IPv")} default routes${
    heal
      ? `; healing after ${config.graceMs / 1000} s, at most ${config.maxRepairs} repairs/minute${
        dryRun ? " (dry run)" : ""
      }`
      : ""
  }; Ctrl-C to stop`;
  // Listed before subscribing: an interface that appears from here on is not trusted as the
  // place of the last good default (record_rule.ts).
  const recording = !dryRun && system.mayChange;
  const before = recording ? await system.table.interfaces() : [];
  // Stopped the moment SIGINT/SIGTERM comes, whatever the monitor is doing: at start-up it may
  // be waiting for the state file's lock (a hung save holding it) or a slow first read.
  const stopped = new Promise<void>((resolve) =>
    controller.signal.addEventListener("abort", () => resolve(), { once: true })
  );
  try {
    const monitor = runMonitor({
      table: system.table,
      families: ctx.families,
      signal: controller.signal,
      log: out,
      onEvent: logsEvents(out, heal) ? (event) => printEvent(out, event, namer) : undefined,
      // Once subscribed: from here on no change is missed (scripts and tests wait for this).
      onReady: (present) => {
        out.info(watching);
        if (out.json) {
          out.emit({
            time: new Date().toISOString(),
            event: "ready",
            heal,
            families: Object.fromEntries([...present].map(([f, p]) => [f, { present: p }])),
          });
        }
      },
      onDecision: (decision) => {
        if (out.json && decision.kind === "held") {
          out.emit({
            time: new Date().toISOString(),
            event: "held",
            family: decision.family,
            heldBy: decision.heldBy,
            cause: decision.cause,
          });
        }
        if (out.json && decision.kind === "rate-limited") {
          out.emit({
            time: new Date().toISOString(),
            event: "rate-limited",
            family: decision.family,
            attempts: decision.attempts,
            retryAt: new Date(decision.retryAt).toISOString(),
            cause: decision.cause,
          });
        }
      },
      describe: (event) => formatEventText(event, namer),
      // macOS keeps a dead link UP|RUNNING: its state comes from configd, through scutil.
      linkStates: system.primary.inactiveLinks?.bind(system.primary),
      recheckMs,
      onRecheck: (changes) => printRecheck(out, changes),
      heal: heal
        ? healHooks(system, ctx, config, (family, cause, ok) => {
          if (out.json) {
            out.emit({
              time: new Date().toISOString(),
              event: "repair",
              family,
              cause,
              ok,
              dryRun,
            });
          }
        })
        : undefined,
      // The state file is root's (state.ts trust rules): a user's plain `watch` only looks (on
      // the simulated Mac, whose kernel decides, the user's own state file is written).
      onGoodDefault: recording ? recordGoodDefault(ctx, system, before, "watch") : undefined,
    });
    await Promise.race([monitor, stopped]);
    monitor.catch(() => {}); // abandoned after a stop: its error no longer matters
  } finally {
    for (const s of stopSignals) signals.unlisten(s, stop);
  }
  out.info("stopped");
  return ExitCode.OK;
}

export const watchCommand: Command = {
  name: "watch",
  summary: "stream default-route events; --heal repairs a lost default",
  help: `Usage: defroute watch [--heal [--grace SECONDS] [--max-repairs N]] [--recheck SECONDS]
                      [options]

Stream every change to a default route (with the pid that made it) and every interface
change, one line each (JSON lines with --json), until SIGINT or SIGTERM. After every
interface change, and every --recheck seconds, the table is read again: kernels delete routes
without a word when an interface goes down or away, and a full socket buffer loses messages.
Whatever a recheck finds different is one more line ({"event":"recheck","changes":[...]}).

A new global default is recorded in the state file as the last good default, so a later
'restore' (or this daemon) knows where to go back to, only on an interface there is reason to
trust: up, not a tunnel (by name, link type or driver), not point-to-point, there before watch
started, and on macOS scutil's PrimaryInterface; and never over a saved default whose
interface still exists (-v says why a default was not recorded).

With --heal (needs root), a missing global default is put back after the grace period, from
the same sources 'restore' uses, re-derived at repair time (the network may have changed). A
default on an interface that is gone, down or whose link is inactive counts as missing.
This is what 'defroute hook install' runs under launchd. Its text log has the repairs,
refusals and errors; every route and interface event too only with -v (--json always streams
every event).

Options:
${HEAL_OPTIONS_HELP}
  --recheck SECONDS   re-read the table this often (default ${DEFAULT_RECHECK_SECONDS}; 0 turns it off)
  -n, --dry-run       with --heal: say what would be repaired, change nothing
  --log-file PATH     write the log to PATH (appended, 0644) instead of stdout/stderr, and
                      reopen PATH when it has been rotated (renamed or removed), so
                      newsyslog can rotate it without signalling the daemon

${COMMON_OPTIONS_HELP}

Examples:
  defroute watch --json
  sudo defroute watch --heal --grace 2
  sudo defroute watch --heal --grace 0 --json --recheck 2

${EXIT_CODES_HELP}`,
  // --dry-run only: watch never forces anything (it only fills a void).
  options: {
    ...COMMON_OPTIONS,
    "dry-run": CHANGE_OPTIONS["dry-run"]!,
    ...HEAL_OPTIONS,
    recheck: { type: "string" },
    "log-file": { type: "string" },
  },
  run: (ctx) => watch(ctx),
};
