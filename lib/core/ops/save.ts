/**
 * `save`: record each family's global default and scutil's view in the state file, for restore.
 *
 * Never overwrite a good saved route with a worse one (docs/architecture.md §3.2): when the kernel
 * has no good global default now (missing: a tunnel is already up and broke it; or on a tunnel: a
 * VPN's own), the existing saved route is kept and the report says so, unless --force. The merge is
 * a pure function (mergeSave); saveDefaults does the I/O under the state file's lock.
 */
import { type Log, SILENT_LOG } from "../model/log.ts";
import { type FamilyObservation, type Observation, observe, type RouteSystem } from "./observe.ts";
import { globalDefaultsOf, isGoodDefault } from "../policy/liveness.ts";
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
import { isReplaceable, readState, type TrustPolicy, updateState } from "../state/store.ts";
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

export interface SaveReport {
  statePath: string;
  dryRun: boolean;
  /** The file was written (false with --dry-run or when nothing changed). */
  written: boolean;
  /** An unreadable state file that --force replaced, with why it was unreadable. */
  replaced: string | null;
  families: FamilySaveReport[];
}

export interface SaveOptions {
  families: readonly Family[];
  force?: boolean;
  dryRun?: boolean;
  /** Recorded as savedBy: "save", "run", "watch". */
  savedBy?: string;
  log?: Log;
  trust?: TrustPolicy;
  now?: () => Date;
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

/** Save the defaults of `options.families` to `statePath`. Throws StateFileError. */
export async function saveDefaults(
  system: RouteSystem,
  statePath: string,
  options: SaveOptions,
): Promise<SaveReport> {
  const log = options.log ?? SILENT_LOG;
  const observation = await observe(system, options.families);
  for (const f of observation.families) {
    if (f.scutilError) log.warn(`scutil: ${f.scutilError}`);
  }
  return await saveObserved(statePath, observation, options);
}

/**
 * Save what `observe` saw (saveDefaults without the look): `run` looks before CMD starts and
 * writes only once CMD runs, so a CMD that cannot start changes nothing. Throws StateFileError.
 */
export async function saveObserved(
  statePath: string,
  observation: Observation,
  options: Omit<SaveOptions, "families">,
): Promise<SaveReport> {
  const log = options.log ?? SILENT_LOG;
  const force = options.force ?? false;
  const dryRun = options.dryRun ?? false;
  const savedBy = options.savedBy ?? "save";
  const now = (options.now ?? (() => new Date()))();
  let decision: SaveDecision | null = null;
  let replaced: string | null = null;
  let written = false;
  const decide = (existing: DefrouteState | null) =>
    decision = mergeSave(existing, observation.families, observation.interfaces, {
      force,
      savedBy,
      now,
    });
  if (dryRun) {
    let existing: DefrouteState | null = null;
    try {
      existing = await readState(statePath, { trust: options.trust });
    } catch (error) {
      // Same rule as updateState's replaceUnreadable: only a bad file, never a bad directory.
      if (!force || !isReplaceable(error, statePath)) throw error;
      replaced = error.reason;
    }
    decide(existing);
  } else {
    const result = await updateState(statePath, (existing) => decide(existing).next, {
      trust: options.trust,
      replaceUnreadable: force,
    });
    written = result.written;
    replaced = result.replaced?.reason ?? null;
  }
  if (replaced) {
    log.warn(`${dryRun ? "would replace" : "replaced"} an unusable state file: ${replaced}`);
  }
  const made = decision as SaveDecision | null;
  if (!made) throw new Error("save: no decision was made"); // unreachable: decide always runs
  const families = made.families.map((f) => {
    const seen = observation.families.find((o) => o.family === f.family);
    return {
      ...f,
      scoped: seen?.defaults.filter((r) => r.scoped) ?? [],
      scutilError: seen?.scutilError ?? null,
    };
  });
  // The caller shows the results (report.families[].message); only detail goes to the log.
  for (const f of families) log.debug(dryRun ? `would have ${f.message}` : f.message);
  return { statePath, dryRun, written, replaced, families };
}
