/**
 * The event loop behind `watch` and the monitor `run` keeps while CMD runs: read the kernel's
 * default-route and interface events, report each one, re-read the table when something that
 * matters changed, remember the last good default, and (with heal) carry out what the pure
 * policy in heal.ts decides.
 *
 * Why re-read instead of trusting event contents: Linux may hold several global defaults with
 * different metrics (deleting one leaves no void), and after an "overflow" (the kernel dropped
 * messages, reference §9 item 5) the events alone are incomplete. One defaults() read per
 * change is cheap; route changes are rare.
 *
 * Shutdown: aborting `signal` ends the loop at once. The backend's events() iterator is handed
 * the same signal and is not awaited past that, so a backend blocked in a read can never keep
 * the loop hanging.
 */
import type { RouteTable } from "./route_table.ts";
import type { DefaultRoute, Family, NetInterface, RouteEvent } from "./types.ts";
import { isTunnelName } from "./types.ts";
import {
  applyHealInput,
  type HealConfig,
  type HealDecision,
  type HealState,
  initialHealState,
  stepHeal,
} from "./heal.ts";
import { formatEventText } from "./event_log.ts";
import type { Log } from "./log.ts";
import { trace, TRACING } from "./trace.ts";

/** The log lines the loop writes itself (Output satisfies it). */
export type LoopLog = Log;

export interface HealOptions {
  config: HealConfig;
  /**
   * Put a global default back for `family` (restoreDefaults: re-derives the gateway at repair
   * time). `cause` is the event that emptied it, for the log. Resolves true when a global
   * default is in place afterwards; throws or resolves false when it could not.
   */
  repair(family: Family, cause: string, seen: RepairInputs): Promise<boolean>;
  /**
   * Which live tunnel holds the family's traffic while it has no global default, in words, or
   * null (lib/core/tunnel_hold.ts). Absent with --heal-under-tunnel: every void is filled.
   */
  holder?(family: Family, seen: RepairInputs): Promise<string | null>;
}

/** What the loop saw right before a repair, so the repair need not read it again. */
export interface RepairInputs {
  /** The family's defaults, read just now (the look before acting). */
  defaults: readonly DefaultRoute[];
  /** The interfaces as the loop's link events kept them; undefined when unknown (after an
   * overflow lost events): the repair lists them. */
  interfaces: readonly NetInterface[] | undefined;
}

export interface MonitorOptions {
  table: RouteTable;
  families: readonly Family[];
  signal: AbortSignal;
  log: LoopLog;
  /** Every event of a watched family (and every link/overflow event), as it arrives. */
  onEvent?(event: RouteEvent): void;
  /** Words for an event in the repair log; defaults to formatEventText without names. */
  describe?(event: RouteEvent): string;
  /** Repair a void after the grace period. Without it the loop only monitors. */
  heal?: HealOptions;
  /** Called when the global defaults on live, non-tunnel interfaces change (best first), with
   * the interfaces just listed: watch and run decide there whether one is recorded as the last
   * good default (lib/core/record_rule.ts). Errors are logged, not fatal. */
  onGoodDefault?(
    routes: readonly DefaultRoute[],
    interfaces: readonly NetInterface[],
  ): Promise<unknown> | void;
  /** Called after each heal decision is carried out (tests and `run` count repairs). */
  onDecision?(decision: HealDecision, outcome: "repaired" | "failed" | "skipped" | null): void;
  /** Called once the loop is subscribed and has read the table: from now on no change is
   * missed. Gets whether each family had a global default. */
  onReady?(present: ReadonlyMap<Family, boolean>): void;
  /** Milliseconds clock; Date.now unless a test supplies one. */
  now?(): number;
}

/** The global (unscoped) defaults among a family's defaults (reference §5.2: scoped ones are
 * never "the default"). */
export function globalDefaults(routes: readonly DefaultRoute[]): DefaultRoute[] {
  return routes.filter((r) => !r.scoped);
}

/** How old a read may be and still count as the look right before a repair, when no event has
 * arrived since it (the kernel reports every change to a default as an event). */
const FRESH_READ_MS = 5;

/** Queue between the backend's iterator and the loop, so the loop can also wait on timers. */
class EventPump {
  readonly queue: RouteEvent[] = [];
  /** Events queued so far, ever: a read taken at the same count has seen no change since. */
  delivered = 0;
  failure: unknown = null;
  done = false;
  #wake: (() => void) | null = null;

  constructor(private readonly iterator: AsyncIterator<RouteEvent>) {}

  async run(): Promise<void> {
    try {
      while (true) {
        const next = await this.iterator.next();
        if (next.done) break;
        this.queue.push(next.value);
        this.delivered++;
        this.#notify();
      }
    } catch (error) {
      this.failure = error;
    } finally {
      this.done = true;
      this.#notify();
    }
  }

  /** Resolve when an event is queued, the pump ends, `deadline` passes or `signal` aborts. */
  wait(deadlineMs: number | null, now: number, signal: AbortSignal): Promise<void> {
    if (this.queue.length > 0 || this.done || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const finish = () => {
        if (timer !== undefined) clearTimeout(timer);
        signal.removeEventListener("abort", finish);
        this.#wake = null;
        resolve();
      };
      this.#wake = finish;
      signal.addEventListener("abort", finish, { once: true });
      if (deadlineMs !== null) timer = setTimeout(finish, Math.max(0, deadlineMs - now));
    });
  }

  #notify(): void {
    this.#wake?.();
  }
}

/** Run until `signal` aborts (resolves) or the event stream fails (rejects). */
export async function runMonitor(options: MonitorOptions): Promise<void> {
  const { table, families, signal, log } = options;
  const now = options.now ?? Date.now;
  const describe = options.describe ?? ((e: RouteEvent) => formatEventText(e));
  const goodSeen = new Map<Family, string>();

  // Subscribe before the first read, so no change between the read and the subscription is
  // lost.
  const iterator = table.events(signal)[Symbol.asyncIterator]();
  const pump = new EventPump(iterator);
  const pumping = pump.run();

  /** When each family was last read, what was read, and how many events had been queued by
   * then. */
  const lastRead = new Map<
    Family,
    { at: number; delivered: number; defaults: readonly DefaultRoute[] }
  >();
  /** With heal, the interfaces by index: listed at start and kept by link events; null when
   * unknown (an overflow lost events) until the next full list. */
  let links: Map<number, NetInterface> | null = null;
  const listLinks = (all: readonly NetInterface[]) => {
    links = new Map(all.map((i) => [i.index, i]));
  };

  /** Read a family's defaults; returns whether a global default exists. */
  const readFamily = async (family: Family): Promise<boolean> => {
    const routes = await table.defaults(family);
    lastRead.set(family, { at: now(), delivered: pump.delivered, defaults: routes });
    const globals = globalDefaults(routes);
    if (globals.length > 0 && options.onGoodDefault) await noteGoodDefault(family, globals);
    return globals.length > 0;
  };

  const noteGoodDefault = async (family: Family, globals: DefaultRoute[]) => {
    const names = globals.map((r) => r.interface).filter((n): n is string => n !== null);
    if (names.every(isTunnelName)) return;
    const all = await table.interfaces();
    if (options.heal) listLinks(all);
    const live = new Set(all.filter((i) => i.up && !i.tunnel).map((i) => i.name));
    const good = globals.filter((r) =>
      r.interface !== null && live.has(r.interface) && !isTunnelName(r.interface)
    );
    if (good.length === 0) return;
    const key = good.map((r) => `${r.gateway}|${r.interface}|${r.index}|${r.metric}`).join(",");
    if (goodSeen.get(family) === key) return;
    goodSeen.set(family, key);
    try {
      await options.onGoodDefault?.(good, all);
    } catch (error) {
      log.warn(`could not record the last good default: ${messageOf(error)}`);
    }
  };

  const initial = new Map<Family, boolean>();
  for (const family of families) initial.set(family, await readFamily(family));
  if (options.heal) listLinks(await table.interfaces());
  let state: HealState = initialHealState(initial, now());
  options.onReady?.(initial);

  /** With heal, during a void: the live tunnel holding the traffic, if any (never fatal). */
  const holdOf = async (family: Family): Promise<string | null> => {
    const holder = options.heal?.holder;
    if (!holder) return null;
    try {
      return await holder(family, {
        defaults: lastRead.get(family)?.defaults ?? [],
        interfaces: links === null ? undefined : [...links.values()],
      });
    } catch (error) {
      log.warn(
        `could not tell whether a tunnel holds the IPv${family} traffic: ${messageOf(error)}`,
      );
      return null;
    }
  };

  const observe = async (family: Family, cause: string, refine = false) => {
    const present = await readFamily(family);
    const heldBy = present ? null : await holdOf(family);
    state = applyHealInput(state, {
      kind: "observed",
      family,
      present,
      at: now(),
      cause,
      refine,
      heldBy,
    });
  };
  for (const [family, present] of initial) {
    if (!present) {
      const heldBy = await holdOf(family);
      if (heldBy !== null) {
        state = applyHealInput(state, {
          kind: "observed",
          family,
          present,
          at: now(),
          cause: "no global default at start",
          heldBy,
        });
      }
    }
  }

  const carryOut = async (decision: HealDecision, heal: HealOptions) => {
    if (decision.kind === "held") {
      log.info(
        `not repairing the IPv${decision.family} default: ${decision.heldBy}; waiting until it ` +
          `goes away (--heal-under-tunnel repairs anyway)`,
      );
      options.onDecision?.(decision, null);
      return;
    }
    if (decision.kind === "recheck") return await observe(decision.family, decision.cause);
    if (decision.kind === "rate-limited") {
      log.warn(
        `not repairing the IPv${decision.family} default: ${decision.attempts} repairs in the ` +
          `last ${Math.round(heal.config.windowMs / 1000)} s (--max-repairs); next try at ` +
          new Date(decision.retryAt).toISOString(),
      );
      options.onDecision?.(decision, null);
      return;
    }
    // Only fill a void: look again right before acting; someone may have filled it already.
    // A read of this family moments ago with no event since is that look (with --grace 0 the
    // void was seen microseconds ago; reading again cost ~0.1 ms of the repair, heal_bench).
    const last = lastRead.get(decision.family);
    const fresh = last !== undefined && last.delivered === pump.delivered &&
      now() - last.at <= FRESH_READ_MS;
    if (!fresh && await readFamily(decision.family)) {
      state = applyHealInput(state, {
        kind: "observed",
        family: decision.family,
        present: true,
        at: now(),
        cause: "",
      });
      log.debug(`IPv${decision.family} default came back on its own; no repair`);
      options.onDecision?.(decision, "skipped");
      return;
    }
    const seconds = ((now() - decision.voidSince) / 1000).toFixed(1);
    log.info(
      `no global IPv${decision.family} default for ${seconds} s (${decision.cause}); repairing`,
    );
    let ok = false;
    if (TRACING) trace("loop: repairing");
    try {
      const seen = lastRead.get(decision.family);
      ok = await heal.repair(decision.family, decision.cause, {
        defaults: seen?.defaults ?? [],
        interfaces: links === null ? undefined : [...links.values()],
      });
    } catch (error) {
      log.warn(`repair of the IPv${decision.family} default failed: ${messageOf(error)}`);
    }
    state = applyHealInput(state, { kind: "attempted", family: decision.family, ok, at: now() });
    await observe(decision.family, decision.cause);
    options.onDecision?.(decision, ok ? "repaired" : "failed");
  };

  try {
    while (!signal.aborted) {
      let wakeAt: number | null = null;
      if (options.heal) {
        const step = stepHeal(state, now(), options.heal.config);
        state = step.state;
        for (const decision of step.decisions) {
          if (signal.aborted) break;
          await carryOut(decision, options.heal);
        }
        // Carrying out decisions changed the state (a failure starts a fresh grace period):
        // ask again for the next wake-up.
        wakeAt = step.decisions.length > 0
          ? stepHeal(state, now(), options.heal.config).wakeAt
          : step.wakeAt;
      }
      await pump.wait(wakeAt, now(), signal);
      if (signal.aborted) break;
      const events = pump.queue.splice(0);
      for (const event of events) await handle(event);
      if (pump.done && pump.queue.length === 0) {
        if (pump.failure !== null) throw pump.failure;
        if (!signal.aborted) throw new Error("the kernel's route event stream ended");
      }
    }
  } finally {
    // Do not await the pump: a backend that ignores the signal must not hang shutdown.
    pumping.catch(() => {});
    iterator.return?.().catch(() => {});
  }

  async function handle(event: RouteEvent): Promise<void> {
    if (event.kind === "route" && !families.includes(event.route.family)) return;
    if (TRACING) trace("loop: event taken");
    options.onEvent?.(event);
    if (TRACING) trace("loop: event reported");
    if (event.kind === "overflow") links = null;
    else if (event.kind === "link" && links !== null) {
      if (event.action === "gone") links.delete(event.interface.index);
      else links.set(event.interface.index, event.interface);
    }
    if (event.kind === "route") {
      if (event.error !== null) return; // a failed request changed nothing (reference §5.1)
      const deletion = event.action === "delete" && !event.route.scoped;
      await observe(event.route.family, describe(event), deletion);
    } else {
      // Overflow: events were lost. Link changes: Linux drops an interface's IPv4 routes when it
      // goes down without sending RTM_DELROUTE, and a default on an interface that just came up
      // is now a good default. Either way, read the table again.
      for (const family of families) await observe(family, describe(event));
    }
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
