/**
 * Which default route is the global one, which interface traffic can leave by, and which default
 * is alive and good (docs/architecture.md §3.1): pure predicates over what the kernel listed,
 * shared by observe, the restore plan, the recording rule, the tunnel hold and status.
 */
import type { DefaultRoute, NetInterface } from "../model/types.ts";
import { isTunnelName } from "../model/types.ts";

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
