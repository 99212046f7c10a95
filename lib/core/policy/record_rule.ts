/**
 * What the route monitor (`watch`, and `run` while CMD runs) may record as the last good default
 * in the state file, as one pure function (docs/architecture.md §3.6).
 *
 * A default is recorded only on an interface there is reason to trust:
 * - it exists, is up, and is not a tunnel by name, link type or driver (a TAP called corp0 is a
 *   VPN's: issue 18 item 1) nor point-to-point (PPP, utun: a link to one peer, not the LAN);
 * - it was there before the change: an interface that appeared after the monitor started (while
 *   CMD ran) belongs to whatever made it, never the network to go back to;
 * - on macOS it is scutil's PrimaryInterface (configd's choice of the primary network);
 * and a recorded default never replaces a saved one whose interface still exists, on another
 * interface (with two defaults, a VPN deleting the better one must not make the worse one the
 * saved default: issue 18 item 2). A newer default on the saved interface itself (a DHCP renewal
 * that moved the router) does replace it.
 */
import { interfaceOf, interfaceProblem, isLiveInterface, isTunnel } from "./liveness.ts";
import { describeRoute } from "../text/route_text.ts";
import type { SavedFamily } from "../state/schema.ts";
import type { DefaultRoute, NetInterface, PrimaryInfo } from "../model/types.ts";

export interface RecordInput {
  /** The family's global defaults now, best first (the kernel's order). */
  globals: readonly DefaultRoute[];
  interfaces: readonly NetInterface[];
  /** Whether an interface was present before the change (run: before CMD started; watch: when
   * it started). */
  presentBefore(iface: NetInterface): boolean;
  /** scutil's view now; undefined where the platform has no scutil (Linux). */
  scutil?: PrimaryInfo | null;
  /** What the state file holds for the family now. */
  saved: SavedFamily | null;
}

export type RecordDecision =
  | { record: true; route: DefaultRoute }
  | { record: false; reason: string };

/** Why `route` may not be recorded, or null when it may. Pure. */
export function whyNotRecorded(route: DefaultRoute, input: RecordInput): string | null {
  const shown = describeRoute(route);
  if (route.scoped || route.gateway === null || route.interface === null) {
    return `${shown} is not a global default with a gateway`;
  }
  const iface = interfaceOf(input.interfaces, route.interface, route.index);
  if (!iface) return `${shown}: ${route.interface} is not there`;
  if (!isLiveInterface(iface)) return `${shown}: ${iface.name} is ${interfaceProblem(iface)}`;
  if (isTunnel(iface)) return `${shown}: ${iface.name} is a tunnel`;
  if (iface.pointToPoint) return `${shown}: ${iface.name} is point-to-point`;
  if (!input.presentBefore(iface)) {
    return `${shown}: ${iface.name} appeared after defroute started watching (it belongs to ` +
      `whatever created it)`;
  }
  if (input.scutil !== undefined && input.scutil?.interface !== iface.name) {
    return `${shown}: ${iface.name} is not scutil's PrimaryInterface (${
      input.scutil?.interface ?? "none"
    })`;
  }
  const saved = input.saved?.route;
  if (saved && saved.interface !== iface.name && interfaceOf(input.interfaces, saved.interface)) {
    return `${shown}: the saved default's interface ${saved.interface} still exists`;
  }
  return null;
}

/** The first of the family's global defaults that may be recorded, or why none may. Pure. */
export function decideRecord(input: RecordInput): RecordDecision {
  let first: string | null = null;
  for (const route of input.globals) {
    const why = whyNotRecorded(route, input);
    if (why === null) return { record: true, route };
    first ??= why;
  }
  return { record: false, reason: first ?? "no global default" };
}
