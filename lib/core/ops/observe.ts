/**
 * One look at the machine, shared by save, restore and status: every default route of each
 * family, the interfaces, and scutil's view. scutil failing is recorded, never fatal: the kernel
 * is the authority, scutil a hint.
 */
import type { RouteTable } from "../model/route_table.ts";
import type { DefaultRoute, Family, NetInterface, PrimaryInfo, PrimarySource } from "../model/types.ts";
import { isTunnelName } from "../model/types.ts";

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

/**
 * The interfaces with the link states the system's own view gave (null: it said nothing, so
 * each keeps what the kernel said).
 */
export function withLinkStates(
  interfaces: readonly NetInterface[],
  inactive: ReadonlySet<string> | null,
): NetInterface[] {
  if (inactive === null) return [...interfaces];
  return interfaces.map((i) => {
    if (inactive.has(i.name)) return { ...i, linkDown: true };
    if (!i.linkDown) return i;
    const { linkDown: _, ...rest } = i;
    return rest;
  });
}

/** The global (unscoped) defaults (docs/macos-routing-socket.md §5.2: a scoped one is never "the
 * default"). */
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

/** Up, running and with an active link: an interface traffic can leave by. */
export function isLiveInterface(iface: NetInterface): boolean {
  return iface.up && iface.linkDown !== true;
}

/** Why traffic cannot leave by this interface: "gone", "link inactive", "down"; null when it
 * can. */
export function interfaceProblem(
  iface: NetInterface | undefined,
): "gone" | "link inactive" | "down" | null {
  if (iface === undefined) return "gone";
  if (iface.linkDown === true) return "link inactive";
  return iface.up ? null : "down";
}

/**
 * Whether a default is alive: its interface exists, is up and its link is active, and the
 * kernel has not marked the route itself link-down. A default that is not alive is no default
 * at all: restore, status, run and the healer treat it as a void. An interface the kernel did
 * not name counts as live: defroute does not replace what it cannot judge.
 */
export function isOnLiveInterface(
  route: DefaultRoute,
  interfaces: readonly NetInterface[],
): boolean {
  if (route.linkDown === true) return false;
  if (route.interface === null && route.index === 0) return true;
  const iface = interfaceOf(interfaces, route.interface, route.index);
  return iface !== undefined && isLiveInterface(iface);
}

/** Why a default is not alive, in words ("en0 is gone", "en0's link is inactive"); null when
 * it is. */
export function deadRouteReason(
  route: DefaultRoute,
  interfaces: readonly NetInterface[],
): string | null {
  const name = route.interface ?? (route.index > 0 ? `interface #${route.index}` : "its interface");
  if (route.linkDown === true) {
    return `${name}'s link is down (the kernel marks the route linkdown)`;
  }
  if (route.interface === null && route.index === 0) return null;
  switch (interfaceProblem(interfaceOf(interfaces, route.interface, route.index))) {
    case "gone":
      return `${name} is gone`;
    case "link inactive":
      return `${name}'s link is inactive`;
    case "down":
      return `${name} is down`;
    case null:
      return null;
  }
}

/** A global default with a gateway on a live interface that is neither a tunnel nor
 * point-to-point: worth saving. */
export function isGoodDefault(route: DefaultRoute, interfaces: readonly NetInterface[]): boolean {
  if (route.scoped || route.gateway === null || route.interface === null) return false;
  const iface = interfaceOf(interfaces, route.interface, route.index);
  return iface !== undefined && isOnLiveInterface(route, interfaces) && !isTunnel(iface) &&
    iface.pointToPoint !== true;
}
