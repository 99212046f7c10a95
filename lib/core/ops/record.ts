/**
 * The route monitor's recording of the last good default (`watch`, and `run` while CMD runs):
 * the rule is lib/core/policy/record_rule.ts (pure); this file asks scutil where there is one, applies
 * the rule to the state file as it is under its lock (updateState), and writes only a change.
 */
import type { Log } from "../model/log.ts";
import type { RouteSystem } from "./observe.ts";
import { decideRecord } from "../policy/record_rule.ts";
import { describeRoute } from "../text/route_text.ts";
import {
  type DefrouteState,
  emptyState,
  type SavedFamily,
  type SavedRoute,
  savedRouteOf,
} from "../state/schema.ts";
import { type TrustPolicy, updateState } from "../state/store.ts";
import type { DefaultRoute, Family, NetInterface, PrimaryInfo } from "../model/types.ts";

export interface RecordOptions {
  /** The family's global defaults on live, non-tunnel interfaces, best first. */
  routes: readonly DefaultRoute[];
  interfaces: readonly NetInterface[];
  /** Whether an interface was there before the change (run: before CMD; watch: at its start). */
  presentBefore(iface: NetInterface): boolean;
  /** Recorded as savedBy: "run", "watch". */
  savedBy: string;
  log: Log;
  trust?: TrustPolicy;
  now?: () => Date;
}

function sameRoute(a: SavedRoute, b: SavedRoute): boolean {
  return a.gateway === b.gateway && a.interface === b.interface && a.index === b.index &&
    a.metric === b.metric;
}

/** The family's entry with `saved` as its route: the others on other interfaces stay, and
 * scutil's saved view stays only if it still describes this route. Pure. */
export function recordedEntry(
  previous: SavedFamily | undefined,
  saved: SavedRoute,
  savedAt: string,
  savedBy: string,
): SavedFamily {
  const others = (previous?.others ?? []).filter((r) => r.interface !== saved.interface);
  const scutil = previous?.scutil && previous.scutil.interface === saved.interface &&
      previous.scutil.router === saved.gateway
    ? previous.scutil
    : null;
  return { route: saved, ...(others.length > 0 ? { others } : {}), scutil, savedAt, savedBy };
}

/** scutil's view of `family` where the platform has scutil; undefined where it has none; null
 * when it says nothing or cannot be read (then nothing can be trusted as its primary). */
async function primaryOf(
  system: RouteSystem,
  family: Family,
  log: Log,
): Promise<PrimaryInfo | null | undefined> {
  if (system.primary.available === false) return undefined;
  try {
    return await system.primary.primary(family);
  } catch (error) {
    log.debug(`scutil: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }
}

/**
 * Record the first of `options.routes` the rule allows as the family's last good default.
 * Nothing is written when the rule refuses (said with -v) or the file already says the same,
 * so a steady network causes no writes. Returns the state file as it now is.
 */
export async function recordLastGood(
  system: RouteSystem,
  statePath: string,
  family: Family,
  options: RecordOptions,
): Promise<DefrouteState | null> {
  const { log } = options;
  const scutil = await primaryOf(system, family, log);
  let refused: string | null = null;
  let recorded: SavedRoute | null = null;
  const result = await updateState(statePath, (current) => {
    const state = current ?? emptyState();
    const previous = state.families[family];
    const decision = decideRecord({
      globals: options.routes,
      interfaces: options.interfaces,
      presentBefore: options.presentBefore,
      ...(scutil !== undefined ? { scutil } : {}),
      saved: previous ?? null,
    });
    if (!decision.record) {
      refused = decision.reason;
      return null;
    }
    const saved = savedRouteOf(decision.route);
    if (saved === null || (previous?.route && sameRoute(previous.route, saved))) return null;
    const now = (options.now ?? (() => new Date()))().toISOString();
    recorded = saved;
    return {
      ...state,
      updatedAt: now,
      families: {
        ...state.families,
        [family]: recordedEntry(previous, saved, now, options.savedBy),
      },
    };
  }, { trust: options.trust });
  if (refused !== null) log.debug(`not recorded as the last good IPv${family} default: ${refused}`);
  const made = recorded as SavedRoute | null;
  if (result.written && made) {
    log.debug(
      `recorded the last good IPv${family} default: ${
        describeRoute({ ...made, family, scoped: false })
      }`,
    );
  }
  return result.state;
}
