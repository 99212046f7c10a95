/**
 * Carry out the restore policy (restore_plan.ts) against a RouteTable: look, plan, announce,
 * change, verify; retry with backoff while an interface settles.
 *
 * Kernel answers and what they mean here (Mullvad talpid-routing does the same):
 * - EEXIST on add: someone (configd, another hook) restored it first, if a re-read shows a
 *   global default on a live interface; otherwise the next candidate;
 * - ENETUNREACH: the gateway is on no interface (yet): the next candidate, then a retry;
 * - ESRCH on the delete of a broken default: already gone, fine;
 * - EPERM: needs root, thrown at once (the CLI exits 3).
 * A change is only "restored" once a re-read of the defaults shows it.
 *
 * Used by `restore`, by `run` after CMD exits (with replaceTunnelDefaults) and by `watch --heal`.
 * No process-level concerns: nothing printed except through the Log, no exit.
 */
import { ExitCode, RouteTableError } from "../model/errors.ts";
import { sameGateway } from "../model/gateway_address.ts";
import { type Log, SILENT_LOG } from "../model/log.ts";
import { type FamilyObservation, type Observation, observe, type RouteSystem } from "./observe.ts";
import { globalDefaultsOf, isOnLiveInterface } from "../policy/liveness.ts";
import {
  type CandidateSource,
  type Finding,
  planRestore,
  type RestorePlan,
} from "../policy/restore_plan.ts";
import { type CommandWords, commandWordsOf, describeRoute } from "../text/route_text.ts";
import { type DefrouteState, StateFileError } from "../state/schema.ts";
import { readState, type TrustPolicy } from "../state/store.ts";
import type { DefaultRoute, Family, InterfaceAddress, NetInterface } from "../model/types.ts";

/** Mullvad's backoff while an interface settles during a tunnel's teardown. */
export const DEFAULT_RETRY_DELAYS_MS: readonly number[] = [500, 2500, 12500];

export interface RestoreOptions {
  families: readonly Family[];
  /** Where the saved state is read from; null to use none. Ignored when `state` is given. */
  statePath: string | null;
  /** The saved state already read (e.g. by `run`); undefined = read `statePath`. */
  state?: DefrouteState | null;
  force?: boolean;
  dryRun?: boolean;
  /** The interfaces as the caller just listed them (`run`): each family's first look uses them
   * instead of listing again. */
  interfaces?: readonly NetInterface[];
  /** A family's defaults as the caller read them a moment ago (heal: the look that found the
   * void): that family's first look uses them instead of reading again. */
  defaults?: ReadonlyMap<Family, readonly DefaultRoute[]>;
  /** The machine's own addresses as the caller read them (`run`, before CMD started): the
   * first attempt uses them instead of reading again. */
  addresses?: readonly InterfaceAddress[];
  /** Tunnel interfaces whose global default is a leftover to replace (`run`). */
  replaceTunnelDefaults?: ReadonlySet<string>;
  /** Waits between attempts; its length is the number of retries. */
  retryDelaysMs?: readonly number[];
  sleep?: (ms: number) => Promise<void>;
  log?: Log;
  trust?: TrustPolicy;
}

export type RestoreOutcome =
  /** A global default was already there: nothing done. */
  | "present"
  /** defroute added it, and a re-read shows it. */
  | "restored"
  /** EEXIST, and a re-read shows someone else put one back first. */
  | "already"
  /** --dry-run: what would be done. */
  | "planned"
  /** No gateway known (exit 4 when one was expected). */
  | "no-gateway"
  /** Every candidate failed on every attempt. */
  | "failed";

export interface FamilyRestoreReport {
  family: Family;
  outcome: RestoreOutcome;
  message: string;
  /** The global default before anything was done. */
  before: DefaultRoute | null;
  /** The global default at the end (or the one that would be added, with --dry-run). */
  route: DefaultRoute | null;
  source: CandidateSource | null;
  /** The global default deleted to make room (forced, broken, or a tunnel leftover). */
  replaced: DefaultRoute | null;
  attempts: number;
  looked: Finding[];
  errors: string[];
  /** The last plan made. */
  plan: RestorePlan;
}

export interface RestoreReport {
  families: FamilyRestoreReport[];
  /** Why the state file was not used, if it was not. */
  stateError: string | null;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

interface Context {
  system: RouteSystem;
  /** One look at every family, taken before the first; each family's first attempt uses it. */
  first: Observation | undefined;
  state: DefrouteState | null;
  stateError: string | null;
  force: boolean;
  dryRun: boolean;
  replaceTunnelDefaults: ReadonlySet<string>;
  interfaces: readonly NetInterface[] | undefined;
  defaults: ReadonlyMap<Family, readonly DefaultRoute[]> | undefined;
  addresses: readonly InterfaceAddress[] | undefined;
  delays: readonly number[];
  sleep: (ms: number) => Promise<void>;
  log: Log;
  /** The platform's own words for a change (ip(8) on Linux, route(8) on macOS). */
  words: CommandWords;
}

/** Put the default route back for each family. Throws RouteTableError "needs-root". */
export async function restoreDefaults(
  system: RouteSystem,
  options: RestoreOptions,
): Promise<RestoreReport> {
  const log = options.log ?? SILENT_LOG;
  let state: DefrouteState | null = null;
  let stateError: string | null = null;
  if (options.state !== undefined) state = options.state;
  else if (options.statePath !== null) {
    try {
      state = await readState(options.statePath, { trust: options.trust, readOnly: true });
    } catch (error) {
      if (!(error instanceof StateFileError)) throw error;
      stateError = error.message;
      log.warn(`${error.message}; restoring without it`);
    }
  }
  // A hook restoring both families looks at the machine once for both, as save does: one
  // interface list and one scutil run instead of one per family (issue 8, hook cost). `run`
  // passes what its monitor keeps instead, and its first family is restored without this wait.
  const first = options.interfaces === undefined && options.defaults === undefined &&
      options.families.length > 1
    ? await observe(system, options.families)
    : undefined;
  const context: Context = {
    system,
    state,
    stateError,
    first,
    force: options.force ?? false,
    dryRun: options.dryRun ?? false,
    replaceTunnelDefaults: options.replaceTunnelDefaults ?? new Set(),
    interfaces: options.interfaces,
    defaults: options.defaults,
    addresses: options.addresses,
    delays: options.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS,
    sleep: options.sleep ?? defaultSleep,
    log,
    words: commandWordsOf(system.table),
  };
  const families: FamilyRestoreReport[] = [];
  for (const family of options.families) families.push(await restoreFamily(context, family));
  return { families, stateError };
}

/** The plan for one family from one look at the machine. */
export function planFor(
  family: Family,
  observed: FamilyObservation,
  interfaces: readonly NetInterface[],
  state: DefrouteState | null,
  stateError: string | null,
  options: { force: boolean; replaceTunnelDefaults: ReadonlySet<string> },
  addresses: readonly InterfaceAddress[] = [],
): RestorePlan {
  return planRestore({
    addresses,
    family,
    saved: state?.families[family] ?? null,
    stateError,
    scutil: observed.scutil,
    scutilError: observed.scutilError,
    hasScutil: observed.hasScutil,
    defaults: observed.defaults,
    interfaces,
    options,
  });
}

/** The machine's own addresses: the caller's for the first attempt (`run` reads them before CMD
 * starts), else read now; none when the table cannot tell (fakes) or the read fails. */
async function ownAddresses(context: Context, attempt: number): Promise<InterfaceAddress[]> {
  if (attempt === 1 && context.addresses !== undefined) return [...context.addresses];
  try {
    return await context.system.table.addresses?.() ?? [];
  } catch (error) {
    context.log.debug(`cannot list this machine's addresses: ${messageOf(error)}`);
    return [];
  }
}

async function restoreFamily(context: Context, family: Family): Promise<FamilyRestoreReport> {
  const { log } = context;
  const errors: string[] = [];
  let before: DefaultRoute | null | undefined;
  let replacedRoute: DefaultRoute | null = null;
  for (let attempt = 1;; attempt++) {
    // A retry looks afresh: the interfaces are what it waits on.
    const observation = attempt === 1 && context.first ? context.first : await observe(
      context.system,
      [family],
      attempt === 1 ? context.interfaces : undefined,
      attempt === 1 ? context.defaults : undefined,
    );
    const observed = observation.families.find((f) => f.family === family) as FamilyObservation;
    if (before === undefined) before = globalDefaultsOf(observed.defaults)[0] ?? null;
    const planWith = (addresses: readonly InterfaceAddress[]) =>
      planFor(family, observed, observation.interfaces, context.state, context.stateError, {
        force: context.force,
        replaceTunnelDefaults: context.replaceTunnelDefaults,
      }, addresses);
    let plan = planWith([]);
    // Only a plan that adds (or puts a saved default back) needs the machine's own addresses (a
    // blackhole gateway is refused, blackhole.ts): a restore that finds the default present, with
    // nothing to put back, reads nothing more.
    if (plan.action === "add" || (plan.action === "keep" && plan.putBack.length > 0)) {
      plan = planWith(await ownAddresses(context, attempt));
    }
    for (const finding of plan.looked) log.debug(`IPv${family} ${finding.source}: ${finding.note}`);
    const report = (
      outcome: RestoreOutcome,
      message: string,
      route: DefaultRoute | null,
      source: CandidateSource | null = null,
    ): FamilyRestoreReport => ({
      family,
      outcome,
      message,
      before: before ?? null,
      route,
      source,
      replaced: replacedRoute,
      attempts: attempt,
      looked: plan.looked,
      errors,
      plan,
    });
    const retry = attempt <= context.delays.length;
    const wait = async (why: string) => {
      const ms = context.delays[attempt - 1] ?? 0;
      log.info(`IPv${family}: ${why}; trying again in ${ms} ms`);
      await context.sleep(ms);
    };

    if (plan.action === "keep") {
      if (plan.putBack.length > 0) {
        const back = await putBackSaved(context, plan.putBack, errors);
        if (back.outcome) return report(back.outcome, back.message, back.route, "saved");
      }
      return report(attempt > 1 ? "already" : "present", plan.reason, plan.current);
    }
    if (plan.action === "none") {
      if (plan.settling && retry && !context.dryRun) {
        await wait("waiting for an interface to come up");
        continue;
      }
      return report("no-gateway", plan.reason, plan.current);
    }
    const first = plan.candidates[0];
    if (!first) return report("no-gateway", plan.reason, null); // an "add" plan always has one
    if (context.dryRun) {
      if (plan.replace) log.info(`would run: ${context.words("delete", plan.replace)}`);
      log.info(`would run: ${context.words("add", first.route)}`);
      for (const r of plan.putBack) log.info(`would run: ${context.words("add", r)}`);
      return report("planned", `would ${plan.reason}`, first.route, first.source);
    }
    const done = await carryOut(context, plan, errors);
    if (done.replaced) replacedRoute = done.replaced;
    if (done.outcome) {
      const back = await putBackSaved(context, plan.putBack, errors);
      const also = back.outcome === "restored" ? `; ${back.message}` : "";
      return report(done.outcome, done.message + also, done.route, done.source);
    }
    if (retry) {
      await wait(`no candidate worked (${errors[errors.length - 1] ?? "unknown"})`);
      continue;
    }
    return report(
      "failed",
      `could not restore the IPv${family} default: ${errors.join("; ")}`,
      null,
    );
  }
}

interface CarryOutResult {
  outcome: "restored" | "already" | null;
  message: string;
  route: DefaultRoute | null;
  source: CandidateSource | null;
  replaced: DefaultRoute | null;
}

interface PutBackResult {
  /** "restored" when one was added, "planned" for a dry run; null when none could be. */
  outcome: "restored" | "planned" | null;
  message: string;
  route: DefaultRoute | null;
}

/**
 * Put back each saved default that is missing beside the ones present (restore_plan.ts
 * missingSaved: Linux's several defaults). Each is looked for again first (someone may have put
 * it back), announced, added and read back; a failure is reported, never fatal: the family has
 * a default either way.
 */
async function putBackSaved(
  context: Context,
  routes: readonly DefaultRoute[],
  errors: string[],
): Promise<PutBackResult> {
  const { system, log } = context;
  if (routes.length === 0) return { outcome: null, message: "", route: null };
  const shown = routes.map(describeRoute).join(", ");
  if (context.dryRun) {
    for (const r of routes) log.info(`would run: ${context.words("add", r)}`);
    return { outcome: "planned", message: `would put back the saved ${shown}`, route: routes[0]! };
  }
  const added: DefaultRoute[] = [];
  for (const route of routes) {
    const family = route.family;
    const there = (all: readonly DefaultRoute[]) =>
      globalDefaultsOf(all).some((r) => r.interface === route.interface);
    if (there(await system.table.defaults(family))) continue;
    log.announce(context.words("add", route));
    try {
      await system.table.add(route);
    } catch (error) {
      if (!(error instanceof RouteTableError)) throw error;
      if (error.kind === "needs-root") throw error;
      if (error.kind !== "exists") {
        errors.push(`put back ${describeRoute(route)}: ${error.message}`);
        log.warn(
          `could not put back the saved IPv${family} default ${describeRoute(route)}: ` +
            error.message,
        );
        continue;
      }
    }
    if (there(await system.table.defaults(family))) added.push(route);
  }
  if (added.length === 0) return { outcome: null, message: "", route: null };
  const first = added[0]!;
  return {
    outcome: "restored",
    message: `IPv${first.family} default restored: ${
      added.map(describeRoute).join(", ")
    } (from saved, beside the default that stayed)`,
    route: first,
  };
}

/** The live global default of a family now, if any. */
async function liveGlobal(system: RouteSystem, family: Family): Promise<DefaultRoute | null> {
  const [defaults, interfaces] = await Promise.all([
    system.table.defaults(family),
    system.table.interfaces(),
  ]);
  return globalDefaultsOf(defaults).find((r) => isOnLiveInterface(r, interfaces)) ?? null;
}

async function carryOut(
  context: Context,
  plan: Extract<RestorePlan, { action: "add" }>,
  errors: string[],
): Promise<CarryOutResult> {
  const { system, log } = context;
  const family = plan.family;
  const none: CarryOutResult = {
    outcome: null,
    message: "",
    route: null,
    source: null,
    replaced: null,
  };
  let replaced: DefaultRoute | null = null;
  if (plan.replace) {
    log.announce(context.words("delete", plan.replace));
    try {
      await system.table.delete(plan.replace);
      replaced = plan.replace;
    } catch (error) {
      if (!(error instanceof RouteTableError)) throw error;
      if (error.kind === "needs-root") throw error;
      // ESRCH: gone already, which is what we wanted. Anything else: do not add on top of an
      // unknown state.
      if (error.kind !== "not-found") {
        errors.push(`delete of ${describeRoute(plan.replace)} failed: ${error.message}`);
        return none;
      }
    }
  }
  for (const candidate of plan.candidates) {
    const route = candidate.route;
    log.announce(context.words("add", route));
    try {
      await system.table.add(route);
    } catch (error) {
      if (!(error instanceof RouteTableError)) throw error;
      if (error.kind === "needs-root") throw error;
      if (error.kind === "exists") {
        const now = await liveGlobal(system, family);
        if (now) {
          return {
            outcome: "already",
            message: `IPv${family} default already back (someone restored it first): ${
              describeRoute(now)
            }`,
            route: now,
            source: null,
            replaced,
          };
        }
        errors.push(`add ${describeRoute(route)}: EEXIST, yet no global default on re-read`);
        continue;
      }
      const what = error.kind === "unreachable"
        ? `${route.gateway} is unreachable from ${route.interface} (ENETUNREACH)`
        : error.message;
      errors.push(`add ${describeRoute(route)} (from ${candidate.source}): ${what}`);
      log.info(`IPv${family}: ${what}`);
      continue;
    }
    const globals = globalDefaultsOf(await system.table.defaults(family));
    const now = globals.find((r) => isWhatWasAdded(r, route));
    if (now) {
      return {
        outcome: "restored",
        message: `IPv${family} default restored: ${describeRoute(now)} (from ${candidate.source})`,
        route: now,
        source: candidate.source,
        replaced,
      };
    }
    // Ours, but on another interface: the kernel bound it through the route that covers the
    // gateway (a VPN's), which pinning the interface should prevent (xnu bsd/net/rtsock.c
    // route_output RTM_ADD -> rt_setif). Reported, never called restored, and taken back.
    const astray = globals.find((r) => sameGateway(family, r.gateway, route.gateway));
    if (astray) {
      errors.push(
        `added ${describeRoute(route)}, but the kernel put it on ${
          astray.interface ?? `interface #${astray.index}`
        }`,
      );
      log.announce(context.words("delete", astray));
      try {
        await system.table.delete(astray);
      } catch (error) {
        errors.push(`could not delete ${describeRoute(astray)}: ${messageOf(error)}`);
      }
      continue;
    }
    errors.push(
      `added ${describeRoute(route)}, but a re-read shows ${
        globals[0] ? describeRoute(globals[0]) : "no global default"
      }`,
    );
  }
  // Nothing worked. A working default we deleted (--force, tunnel leftover) goes back, so a
  // failure leaves the table as it was found.
  if (replaced && plan.replace && !isBroken(plan)) {
    log.announce(context.words("add", replaced));
    try {
      await system.table.add(replaced);
    } catch (error) {
      errors.push(`could not put back ${describeRoute(replaced)}: ${messageOf(error)}`);
    }
    replaced = null;
  }
  return { ...none, replaced };
}

/** The re-read shows our route: the same gateway on the interface we named, for both families
 * (the kernel reports the route's interface as rtm_index; a name was resolved from it). */
function isWhatWasAdded(now: DefaultRoute, added: DefaultRoute): boolean {
  if (!sameGateway(now.family, now.gateway, added.gateway)) return false;
  if (now.interface !== null && added.interface !== null) return now.interface === added.interface;
  return now.index === 0 || added.index === 0 || now.index === added.index;
}

/** Whether the plan's `replace` was a broken default (interface gone or down). */
function isBroken(plan: Extract<RestorePlan, { action: "add" }>): boolean {
  return plan.looked.some((f) => f.source === "kernel" && !f.usable);
}

/**
 * The exit code of a restore: 1 when a family failed; 4 when no gateway is known for a family
 * that had one to restore (a saved route, a broken default), or for every family asked about;
 * else 0 (a family that simply has no network, e.g. IPv6 on an IPv4-only LAN, is not an error).
 */
export function restoreExitCode(report: RestoreReport): ExitCode {
  if (report.families.some((f) => f.outcome === "failed")) return ExitCode.FAILURE;
  const missing = report.families.filter((f) => f.outcome === "no-gateway");
  if (missing.length === 0) return ExitCode.OK;
  if (missing.length === report.families.length) return ExitCode.NO_GATEWAY;
  const expected = missing.some((f) => f.plan.action === "none" && f.plan.expected);
  return expected ? ExitCode.NO_GATEWAY : ExitCode.OK;
}
