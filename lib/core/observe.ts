/**
 * One look at the machine, shared by save, restore and status: every default route of each
 * family, the interfaces, and scutil's view. scutil failing is recorded, never fatal: the kernel
 * is the authority, scutil a hint.
 */
import type { RouteTable } from "./route_table.ts";
import type { DefaultRoute, Family, NetInterface, PrimaryInfo, PrimarySource } from "./types.ts";
import { isTunnelName } from "./types.ts";

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
  // scutil for both families is asked at once (one process, lib/darwin/scutil.ts).
  const primaries = await Promise.all(families.map(async (family) => {
    try {
      return { info: await system.primary.primary(family), error: null };
    } catch (error) {
      return { info: null, error: messageOf(error) };
    }
  }));
  const listed = interfaces ? [...interfaces] : await system.table.interfaces();
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

/** The global (unscoped) defaults (reference §5.2: a scoped one is never "the default"). */
export function globalDefaultsOf(routes: readonly DefaultRoute[]): DefaultRoute[] {
  return routes.filter((r) => !r.scoped);
}

/** The interface a route goes out of, by name, else by index. */
export function interfaceOf(
  interfaces: readonly NetInterface[],
  name: string | null,
  index = 0,
): NetInterface | undefined {
  if (name !== null) return interfaces.find((i) => i.name === name);
  return index > 0 ? interfaces.find((i) => i.index === index) : undefined;
}

export function isTunnel(iface: NetInterface): boolean {
  return iface.tunnel || isTunnelName(iface.name);
}

/** Whether a route's interface exists and is up. An interface the kernel did not name counts as
 * live: defroute does not replace what it cannot judge. */
export function isOnLiveInterface(
  route: DefaultRoute,
  interfaces: readonly NetInterface[],
): boolean {
  if (route.interface === null && route.index === 0) return true;
  return interfaceOf(interfaces, route.interface, route.index)?.up === true;
}

/** A global default with a gateway on a live interface that is neither a tunnel nor
 * point-to-point: worth saving. */
export function isGoodDefault(route: DefaultRoute, interfaces: readonly NetInterface[]): boolean {
  if (route.scoped || route.gateway === null || route.interface === null) return false;
  const iface = interfaceOf(interfaces, route.interface, route.index);
  return iface !== undefined && iface.up && !isTunnel(iface) && iface.pointToPoint !== true;
}
