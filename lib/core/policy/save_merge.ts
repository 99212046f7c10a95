/**
 * What `save` keeps per family (docs/architecture.md §3.2), as one pure function: a good saved
 * route is never overwritten by a worse one (missing, on a tunnel) unless --force.
 * lib/core/ops/save.ts reads the machine and writes the result under the state file's lock.
 */
import type { FamilyObservation } from "../ops/observe.ts";
import { globalDefaultsOf, isGoodDefault } from "./liveness.ts";
import { describeRoute, gatewayText } from "../text/route_text.ts";
import {
  type DefrouteState,
  emptyState,
  MAX_OTHER_ROUTES,
  type SavedFamily,
  savedPrimaryOf,
  type SavedRoute,
  savedRouteOf,
} from "../state/schema.ts";
import type { DefaultRoute, Family, NetInterface } from "../model/types.ts";

export type SaveOutcome =
  /** The kernel's global default was saved. */
  | "saved"
  /** No good default now; the saved one was kept. */
  | "kept"
  /** No good default now and none saved before: scutil's view (if any) was recorded. */
  | "recorded";

export interface FamilySaveReport {
  family: Family;
  outcome: SaveOutcome;
  message: string;
  /** The kernel's global default now (null when missing). */
  current: DefaultRoute | null;
  scoped: DefaultRoute[];
  scutil: FamilyObservation["scutil"];
  scutilError: string | null;
  /** What the state file holds for this family afterwards (or would, with --dry-run). */
  entry: SavedFamily;
}

export interface SaveDecision {
  next: DefrouteState;
  families: Omit<FamilySaveReport, "scoped" | "scutilError">[];
}

/** The good defaults after the best, one per other interface, as the state file keeps them
 * (Linux: a second uplink's default at a higher metric). */
function otherDefaults(best: DefaultRoute | null, goods: readonly DefaultRoute[]): SavedRoute[] {
  const seen = new Set([best?.interface]);
  const others: SavedRoute[] = [];
  for (const route of goods) {
    if (seen.has(route.interface)) continue;
    seen.add(route.interface);
    const saved = savedRouteOf(route);
    if (saved && others.length < MAX_OTHER_ROUTES) others.push(saved);
  }
  return others;
}

/** Merge what was observed into the existing state. Pure. */
export function mergeSave(
  existing: DefrouteState | null,
  observed: readonly FamilyObservation[],
  interfaces: readonly NetInterface[],
  options: { force: boolean; savedBy: string; now: Date },
): SaveDecision {
  const at = options.now.toISOString();
  const base = existing ?? emptyState(options.now);
  const next: DefrouteState = { ...base, updatedAt: at, families: { ...base.families } };
  const families: SaveDecision["families"] = [];
  for (const seen of observed) {
    const { family } = seen;
    const globals = globalDefaultsOf(seen.defaults);
    const current = globals[0] ?? null;
    const goods = globals.filter((r) => isGoodDefault(r, interfaces));
    const good = goods[0] ?? null;
    const previous = base.families[family];
    const fresh = (route: DefaultRoute | null): SavedFamily => {
      const others = route === good ? otherDefaults(good, goods) : [];
      return {
        route: route && savedRouteOf(route),
        ...(others.length > 0 ? { others } : {}),
        scutil: savedPrimaryOf(seen.scutil),
        savedAt: at,
        savedBy: options.savedBy,
      };
    };
    const shown = current ? describeRoute(current) : null;
    let entry: SavedFamily;
    let outcome: SaveOutcome;
    let message: string;
    if (good) {
      entry = fresh(good);
      outcome = "saved";
      message = `saved the IPv${family} default ${describeRoute(good)}`;
    } else if (options.force) {
      entry = fresh(current);
      outcome = entry.route ? "saved" : "recorded";
      message = entry.route
        ? `saved the IPv${family} default ${shown} (--force)`
        : `no IPv${family} default with a gateway to save; the saved entry was replaced (--force)`;
    } else if (previous?.route) {
      entry = previous;
      outcome = "kept";
      const saved = `${
        gatewayText(family, previous.route.gateway, previous.route.interface)
      } via ${previous.route.interface}`;
      message = `kept the saved IPv${family} default ${saved} (saved ${previous.savedAt} by ` +
        `${previous.savedBy}): the kernel ${
          shown ? `has ${shown}, not a default worth saving` : "has no global default now"
        } (a tunnel may already be up); use --force to replace it`;
    } else {
      entry = fresh(null);
      outcome = "recorded";
      message = `no IPv${family} default to save (${
        shown ? `${shown} is not on a usable interface` : "the kernel has none"
      })${seen.scutil?.router ? "; recorded scutil's view" : ""}`;
    }
    next.families[family] = entry;
    families.push({
      family,
      outcome,
      message,
      current,
      scutil: seen.scutil,
      entry,
    });
  }
  return { next, families };
}
