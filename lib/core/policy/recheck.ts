/**
 * What a periodic re-read of the kernel (`watch --recheck`) found different from what the loop
 * last knew, as plain data and words. Pure.
 *
 * Why it exists: a Mac removes routes without a routing message (an interface that goes down or
 * detaches takes its routes with it silently: xnu bsd/netinet/in_rmx.c in_ifadown,
 * bsd/net/if.c if_rtproto_del), a full receive buffer drops messages without a trace (xnu
 * bsd/net/raw_usrreq.c raw_input), and a link that goes inactive is never a routing message at
 * all (docs/macos-routing-socket.md §10). A re-read every so often bounds what any of that can
 * hide.
 */
import { deadRouteReason, interfaceProblem } from "./liveness.ts";
import { describeRoute } from "../text/route_text.ts";
import type { DefaultRoute, Family, NetInterface } from "../model/types.ts";

/** One look: each family's defaults and the interfaces (with their link state). */
export interface KernelSnapshot {
  defaults: ReadonlyMap<Family, readonly DefaultRoute[]>;
  interfaces: readonly NetInterface[];
}

export type RecheckChange =
  /** A family's defaults, each in words ("192.168.1.1 via en0", "... (scoped to en0)",
   * "... (dead: en0 is down)"). */
  | { kind: "defaults"; family: Family; before: string[]; after: string[] }
  /** An interface's state: "up", "down", "link inactive" or "absent". */
  | { kind: "interface"; interface: string; before: string; after: string };

function routeWords(route: DefaultRoute, interfaces: readonly NetInterface[]): string {
  const dead = route.scoped ? null : deadRouteReason(route, interfaces);
  return `${describeRoute(route)}${dead ? ` (dead: ${dead})` : ""}`;
}

function interfaceWords(iface: NetInterface | undefined): string {
  return iface === undefined ? "absent" : interfaceProblem(iface) ?? "up";
}

/** The differences from `before` to `after`, families first, then interfaces by name. */
export function recheckChanges(before: KernelSnapshot, after: KernelSnapshot): RecheckChange[] {
  const changes: RecheckChange[] = [];
  for (const [family, routes] of after.defaults) {
    const was = before.defaults.get(family);
    if (was === undefined) continue;
    const then = was.map((r) => routeWords(r, before.interfaces)).sort();
    const now = routes.map((r) => routeWords(r, after.interfaces)).sort();
    if (then.join("\n") !== now.join("\n")) {
      changes.push({ kind: "defaults", family, before: then, after: now });
    }
  }
  const names = new Set([...before.interfaces, ...after.interfaces].map((i) => i.name));
  for (const name of [...names].sort()) {
    const then = interfaceWords(before.interfaces.find((i) => i.name === name));
    const now = interfaceWords(after.interfaces.find((i) => i.name === name));
    if (then !== now) {
      changes.push({ kind: "interface", interface: name, before: then, after: now });
    }
  }
  return changes;
}

/** One line: "IPv4 defaults were 192.168.1.1 via en0, now none; en0 was up, now link inactive". */
export function recheckText(changes: readonly RecheckChange[]): string {
  const list = (items: readonly string[]) => items.length > 0 ? items.join(", ") : "none";
  return changes.map((c) =>
    c.kind === "defaults"
      ? `IPv${c.family} defaults were ${list(c.before)}, now ${list(c.after)}`
      : `${c.interface} was ${c.before}, now ${c.after}`
  ).join("; ");
}
