/**
 * `save`: record each family's global default and scutil's view in the state file, for restore.
 *
 * Never overwrite a good saved route with a worse one (docs/architecture.md §3.2): when the kernel
 * has no good global default now (missing: a tunnel is already up and broke it; or on a tunnel: a
 * VPN's own), the existing saved route is kept and the report says so, unless --force. The merge is
 * a pure function (lib/core/policy/save_merge.ts mergeSave); saveDefaults does the I/O under the
 * state file's lock.
 */
import { type Log, SILENT_LOG } from "../model/log.ts";
import { type Observation, observe, type RouteSystem } from "./observe.ts";
import { type FamilySaveReport, mergeSave, type SaveDecision } from "../policy/save_merge.ts";
import type { DefrouteState } from "../state/schema.ts";
import { isReplaceable, readState, type TrustPolicy, updateState } from "../state/store.ts";
import type { Family } from "../model/types.ts";

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
