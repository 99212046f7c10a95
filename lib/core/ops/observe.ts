/**
 * One look at the machine, shared by save, restore and status: every default route of each
 * family, the interfaces, and scutil's view. scutil failing is recorded, never fatal: the kernel
 * is the authority, scutil a hint.
 */
import type { RouteTable } from "../model/route_table.ts";
import type {
  DefaultRoute,
  Family,
  NetInterface,
  PrimaryInfo,
  PrimarySource,
} from "../model/types.ts";
import { withLinkStates } from "../policy/liveness.ts";

/** What core needs of a System (lib/system.ts's System satisfies it). */
export interface RouteSystem {
  table: RouteTable;
  primary: PrimarySource;
}

export interface FamilyObservation {
  family: Family;
  /** Every default of the family, global and scoped, as the kernel listed them. */
  defaults: DefaultRoute[];
  scutil: PrimaryInfo | null;
  /** Why scutil's view is unknown (it failed, printed garbage, timed out); null when fine. */
  scutilError: string | null;
  /** false when there is no scutil to ask (Linux, or run's fast restore): nothing is said of it. */
  hasScutil?: boolean;
}

export interface Observation {
  interfaces: NetInterface[];
  families: FamilyObservation[];
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** `interfaces` and `defaults` (by family): what the caller has just read or kept up to date
 * (run, heal); whatever is not given is read now. */
export async function observe(
  system: RouteSystem,
  families: readonly Family[],
  interfaces?: readonly NetInterface[],
  defaults?: ReadonlyMap<Family, readonly DefaultRoute[]>,
): Promise<Observation> {
  const kernel = interfaces ? [...interfaces] : await system.table.interfaces();
  // One scutil run answers the link states and both families' Global keys: the link states are
  // asked first, and the primaries join that run (lib/darwin/scutil.ts).
  const inactive = system.primary.inactiveLinks?.(kernel.map((i) => i.name))
    .catch(() => null) ?? Promise.resolve(null);
  const primaries = await Promise.all(families.map(async (family) => {
    try {
      return { info: await system.primary.primary(family), error: null };
    } catch (error) {
      return { info: null, error: messageOf(error) };
    }
  }));
  const listed = withLinkStates(kernel, await inactive);
  const observed: FamilyObservation[] = [];
  for (const [i, family] of families.entries()) {
    const given = defaults?.get(family);
    const routes = (given ? [...given] : await system.table.defaults(family))
      .filter((r) => r.family === family);
    const primary = primaries[i] ?? { info: null, error: null };
    observed.push({
      family,
      defaults: routes,
      scutil: primary.info,
      scutilError: primary.error,
      hasScutil: system.primary.available !== false,
    });
  }
  return { interfaces: listed, families: observed };
}
