/**
 * The event loop behind `watch` and the monitor `run` keeps while CMD runs: read the kernel's
 * default-route and interface events, report each one, re-read the table when something that
 * matters changed, remember the last good default, and (with heal) carry out what the pure
 * policy in policy/heal.ts decides.
 *
 * Why re-read instead of trusting event contents: Linux may hold several global defaults with
 * different metrics (deleting one leaves no void), and after an "overflow" (the kernel dropped
 * messages, docs/macos-routing-socket.md §9 item 5) the events alone are incomplete. One defaults()
 * read per change is cheap; route changes are rare.
 *
 * And why re-read when no route event came: the kernels delete routes without a word. xnu drops
 * an interface's IPv4 routes when it goes down or detaches (bsd/netinet/in_rmx.c in_ifadown) and
 * its IPv6 routes later still, after the RTM_DELADDRs (bsd/net/if.c if_rtproto_del); Linux drops
 * IPv4 routes of a device that goes down without RTM_DELROUTE. So every interface event (link,
 * address) is followed by a read at once and another LATE_REREAD_MS later, and `recheckMs`
 * re-reads everything periodically, which also bounds what a silently full socket buffer
 * (darwin has no ENOBUFS to tell) or a link going inactive (no routing message at all) can hide.
 *
 * "Present" means a live global default: one on an interface that exists, is up and whose link
 * is active (policy/liveness.ts isOnLiveInterface). A default on a dead interface is a void to the
 * healer, repaired under the same grace and rate limit.
 *
 * Shutdown: aborting `signal` ends the loop at once. The backend's events() iterator is handed
 * the same signal and is not awaited past that, so a backend blocked in a read can never keep
 * the loop hanging.
 */
import type { RouteTable } from "../model/route_table.ts";
import type { DefaultRoute, Family, NetInterface, RouteEvent } from "../model/types.ts";
import { isTunnelName } from "../model/types.ts";
import { isLiveInterface } from "../policy/liveness.ts";
import { KernelView, type LinkStateSource } from "./kernel_view.ts";
import { type RecheckChange, recheckChanges, recheckText } from "../policy/recheck.ts";
import {
  applyHealInput,
  type HealConfig,
  type HealDecision,
  type HealState,
  initialHealState,
  stepHeal,
} from "../policy/heal.ts";
import { formatEventText } from "../text/event_log.ts";
import type { Log } from "../model/log.ts";
import { trace, TRACING } from "../../util/trace.ts";

/** The log lines the loop writes itself (Output satisfies it). */
export type LoopLog = Log;

export interface HealOptions {
  config: HealConfig;
  /**
   * Put a global default back for `family` (restoreDefaults: re-derives the gateway at repair
   * time). `cause` is the event that emptied it, for the log. Resolves true when a global
   * default is in place afterwards; throws or resolves false when it could not; resolves
   * "no-gateway" when there was nothing to add from, so nothing was tried.
   */
  repair(family: Family, cause: string, seen: RepairInputs): Promise<boolean | "no-gateway">;
  /**
   * Which live tunnel holds the family's traffic while it has no global default, in words, or
   * null (lib/core/policy/tunnel_hold.ts). Absent with --heal-under-tunnel: every void is filled.
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
   * good default (lib/core/policy/record_rule.ts). Errors are logged, not fatal. */
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
  /** The link states the kernel does not report (macOS: configd's, through scutil); asked at
   * start, after interface events and at each recheck. */
  linkStates?: LinkStateSource;
  /** Re-read everything this often (ms); 0 or undefined: never. */
  recheckMs?: number;
  /** A recheck found something different from what the loop knew. */
  onRecheck?(changes: readonly RecheckChange[]): void;
}

/** After an interface event, the second read (IPv6 routes of a detached interface go late). */
export const LATE_REREAD_MS = 500;

/** The global (unscoped) defaults among a family's defaults (docs/macos-routing-socket.md §5.2:
 * scoped ones are
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
  /** The interfaces, their link state and each family's last read. */
  const view = new KernelView(table, options.linkStates, now);
  const lastRead = view.lastRead;

  /** Read a family's defaults; returns whether a live global default exists, and why a global
   * one is dead when it is. */
  const readFamily = async (family: Family): Promise<{ present: boolean; dead: string | null }> => {
    const read = await view.read(family, pump.delivered);
    const globals = globalDefaults(read.defaults);
    if (read.present && options.onGoodDefault) await noteGoodDefault(family, globals);
    return read;
  };

  const noteGoodDefault = async (family: Family, globals: DefaultRoute[]) => {
    const names = globals.map((r) => r.interface).filter((n): n is string => n !== null);
    if (names.every(isTunnelName)) return;
    const all = await view.list(false);
    const live = new Set(all.filter((i) => isLiveInterface(i) && !i.tunnel).map((i) => i.name));
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
  let startCause: string | undefined;
  for (const family of families) {
    // The first read is the defaults, taken right after the subscription (a read lists the
    // interfaces only when it has a global default to judge).
    const read = await readFamily(family);
    initial.set(family, read.present);
    startCause ??= read.dead ?? undefined;
  }
  if (view.interfaces() === undefined) await view.list();
  let state: HealState = initialHealState(initial, now(), startCause);
  options.onReady?.(initial);

  /** With heal, during a void: the live tunnel holding the traffic, if any (never fatal). */
  const holdOf = async (family: Family): Promise<string | null> => {
    const holder = options.heal?.holder;
    if (!holder) return null;
    try {
      return await holder(family, {
        defaults: lastRead.get(family)?.defaults ?? [],
        interfaces: view.interfaces(),
      });
    } catch (error) {
      log.warn(
        `could not tell whether a tunnel holds the IPv${family} traffic: ${messageOf(error)}`,
      );
      return null;
    }
  };

  const observe = async (family: Family, cause: string, refine = false) => {
    const { present, dead } = await readFamily(family);
    const heldBy = present ? null : await holdOf(family);
    state = applyHealInput(state, {
      kind: "observed",
      family,
      present,
      at: now(),
      cause: dead ?? cause,
      refine: refine || dead !== null,
      heldBy,
    });
  };

  /** Interface events: link states asked again, every family read now and once more later. */
  let lateRereadAt: number | null = null;
  let lateCause = "";
  const afterInterfaceEvent = async (cause: string) => {
    const failed = await view.refreshLinks();
    if (failed) log.debug(`link states not re-read: ${failed}`);
    for (const family of families) {
      await observe(family, cause);
      state = applyHealInput(state, { kind: "nudged", family, at: now() });
    }
    lateRereadAt = now() + LATE_REREAD_MS;
    lateCause = `${cause} (read again ${LATE_REREAD_MS} ms later)`;
  };

  const recheckMs = options.recheckMs ?? 0;
  let recheckAt: number | null = recheckMs > 0 ? now() + recheckMs : null;
  const recheck = async () => {
    const before = view.snapshot(families);
    await view.list();
    for (const family of families) await readFamily(family);
    const after = view.snapshot(families);
    const changes = before && after ? recheckChanges(before, after) : [];
    if (changes.length > 0) options.onRecheck?.(changes);
    const cause = `recheck: ${changes.length > 0 ? recheckText(changes) : "no change"}`;
    for (const family of families) {
      const read = lastRead.get(family);
      if (!read) continue;
      const heldBy = read.present ? null : await holdOf(family);
      state = applyHealInput(state, {
        kind: "observed",
        family,
        present: read.present,
        at: now(),
        cause: read.dead ?? cause,
        heldBy,
      });
    }
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
    if (!fresh && (await readFamily(decision.family)).present) {
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
    let result: boolean | "no-gateway" = false;
    if (TRACING) trace("loop: repairing");
    try {
      const seen = lastRead.get(decision.family);
      result = await heal.repair(decision.family, decision.cause, {
        defaults: seen?.defaults ?? [],
        interfaces: view.interfaces(),
      });
    } catch (error) {
      log.warn(`repair of the IPv${decision.family} default failed: ${messageOf(error)}`);
    }
    const ok = result === true;
    state = applyHealInput(state, {
      kind: "attempted",
      family: decision.family,
      ok,
      at: now(),
      idle: result === "no-gateway",
    });
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
      for (const at of [lateRereadAt, recheckAt]) {
        if (at !== null) wakeAt = wakeAt === null ? at : Math.min(wakeAt, at);
      }
      await pump.wait(wakeAt, now(), signal);
      if (signal.aborted) break;
      const events = pump.queue.splice(0);
      // A burst of interface events (a VPN adding its addresses) costs one look, not one each.
      let interfaceCause: string | null = null;
      for (const event of events) interfaceCause = await handle(event) ?? interfaceCause;
      if (interfaceCause !== null) await afterInterfaceEvent(interfaceCause);
      if (lateRereadAt !== null && now() >= lateRereadAt) {
        lateRereadAt = null;
        for (const family of families) await observe(family, lateCause);
      }
      if (recheckAt !== null && now() >= recheckAt) {
        await recheck();
        recheckAt = now() + recheckMs;
      }
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

  /** Reports and follows one event; returns its words when it is an interface event, whose look
   * (afterInterfaceEvent) the caller takes once for the batch. */
  async function handle(event: RouteEvent): Promise<string | null> {
    if (event.kind === "route" && !families.includes(event.route.family)) return null;
    if (TRACING) trace("loop: event taken");
    options.onEvent?.(event);
    if (TRACING) trace("loop: event reported");
    view.follow(event);
    if (event.kind === "route") {
      // A failed request changed nothing (docs/macos-routing-socket.md §5.1).
      if (event.error !== null) return null;
      const deletion = event.action === "delete" && !event.route.scoped;
      await observe(event.route.family, describe(event), deletion);
      return null;
    }
    if (event.kind === "overflow") {
      // Events were lost: list the interfaces and read the table again.
      await view.list();
      for (const family of families) await observe(family, describe(event));
      return null;
    }
    // Link and address changes: routes may have gone with them, silently (see the header),
    // and a default on an interface that just came up is now a good default.
    return describe(event);
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
