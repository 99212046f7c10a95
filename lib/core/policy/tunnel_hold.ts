/**
 * Which live tunnel carries a family's traffic, and how, as one pure function (docs/architecture.md
 * §3.5: "never fill while a live tunnel holds a default of any scope or routes covering at least
 * half the address space"; issue 17 "Never route around a live tunnel", issue 18 item 5).
 *
 * A live tunnel interface (present, up, a tunnel by name, link type or driver) holds the traffic
 * when it has
 * - a default of any scope: its own global default, or one scoped to it (macOS RTF_IFSCOPE, as
 *   sing-tun's setRoutes() leaves on its utun);
 * - routes that together cover at least half of the family's addresses: OpenVPN's
 *   `redirect-gateway def1` and wg-quick (0/1 + 128/1; OpenVPN route.c
 *   redirect_default_route_to_vpn, wireguard-tools darwin.bash add_route), sing-tun's auto_route
 *   split ranges (1/8, 2/7 ... 128/1);
 * - (Linux) a policy rule sending ordinary traffic to a table whose default it is (wg-quick:
 *   `not fwmark 0xca6c lookup 51820`, table 51820 `default dev wg0`, usually with `lookup main
 *   suppress_prefixlength 0` keeping the main table's default out of use).
 *
 * Filling a void then would send whatever those routes do not cover around the tunnel, and would
 * defeat a kill switch that removed the default on purpose: the healer waits instead, and
 * `status` says which tunnel carries the traffic.
 */
import { interfaceOf, isLiveInterface, isTunnel } from "./liveness.ts";
import { parseIPv4, parseIPv6 } from "../../util/ip_address.ts";
import { describeRoute } from "../text/route_text.ts";
import type { Carriers, DefaultRoute, Family, NetInterface, WideRoute } from "../model/types.ts";

export type HoldKind = "default" | "scoped-default" | "split-routes" | "policy-rule";

export interface TunnelHold {
  family: Family;
  /** The tunnel interface that carries the traffic. */
  interface: string;
  kind: HoldKind;
  /** How, in words: "0.0.0.0/1 + 128.0.0.0/1 on tun0 (all of IPv4)". */
  how: string;
}

export interface HoldInput {
  family: Family;
  /** The family's defaults, global and scoped, from the main table. */
  defaults: readonly DefaultRoute[];
  /** What else may carry traffic; null when the table cannot say (then only defaults count). */
  carriers: Carriers | null;
  interfaces: readonly NetInterface[];
}

/** The prefix length in bits that "wide" routes go down to (model/types.ts WideRoute). */
export const WIDE_PREFIX_MAX = 8;

/** The first byte of a network address, or null when the text is not an address. */
function firstByte(family: Family, address: string): number | null {
  const bytes = family === 4 ? parseIPv4(address) : parseIPv6(address);
  return bytes ? bytes[0] ?? null : null;
}

/**
 * The share of the family's addresses `routes` cover together, in 256ths: each route of prefix
 * length p <= 8 covers 2^(8-p) of the 256 blocks named by the first byte; overlaps count once.
 */
export function coveredBlocks(family: Family, routes: readonly WideRoute[]): number {
  const blocks = new Uint8Array(256);
  for (const route of routes) {
    if (route.prefix < 1 || route.prefix > WIDE_PREFIX_MAX) continue;
    const first = firstByte(family, route.destination);
    if (first === null) continue;
    const size = 1 << (WIDE_PREFIX_MAX - route.prefix);
    const start = first & ~(size - 1) & 0xff;
    blocks.fill(1, start, start + size);
  }
  return blocks.reduce((sum, b) => sum + b, 0);
}

function shareWords(family: Family, blocks: number): string {
  if (blocks >= 256) return `all of IPv${family}`;
  return `${Math.floor((blocks * 100) / 256)}% of IPv${family}`;
}

function routeWords(routes: readonly WideRoute[]): string {
  const shown = routes.slice(0, 4).map((r) => `${r.destination}/${r.prefix}`);
  return shown.join(" + ") + (routes.length > 4 ? ` + ${routes.length - 4} more` : "");
}

/** A live tunnel: exists, is up with an active link (a tun whose client died holds nothing),
 * and is a tunnel by name, link type or driver. */
function liveTunnel(
  interfaces: readonly NetInterface[],
  name: string | null,
  index: number,
): NetInterface | null {
  const iface = interfaceOf(interfaces, name, index);
  return iface && isLiveInterface(iface) && isTunnel(iface) ? iface : null;
}

/** Every way a live tunnel holds the family's traffic, most direct first. Pure. */
export function tunnelHolds(input: HoldInput): TunnelHold[] {
  const { family, interfaces } = input;
  const holds: TunnelHold[] = [];
  const v = `IPv${family}`;
  for (const route of input.defaults) {
    if (route.family !== family) continue;
    const tunnel = liveTunnel(interfaces, route.interface, route.index);
    if (!tunnel) continue;
    holds.push({
      family,
      interface: tunnel.name,
      kind: route.scoped ? "scoped-default" : "default",
      how: route.scoped
        ? `a default scoped to ${tunnel.name} (${describeRoute(route)})`
        : `its own global ${v} default (${describeRoute(route)})`,
    });
  }
  const byTunnel = new Map<string, WideRoute[]>();
  for (const route of input.carriers?.wide ?? []) {
    if (route.family !== family) continue;
    const tunnel = liveTunnel(interfaces, route.interface, route.index);
    if (!tunnel) continue;
    byTunnel.set(tunnel.name, [...(byTunnel.get(tunnel.name) ?? []), route]);
  }
  for (const [name, routes] of byTunnel) {
    const blocks = coveredBlocks(family, routes);
    if (blocks < 128) continue;
    holds.push({
      family,
      interface: name,
      kind: "split-routes",
      how: `${routeWords(routes)} on ${name} (${shareWords(family, blocks)}), more specific ` +
        `than any default`,
    });
  }
  holds.push(...policyHolds(input));
  return holds;
}

function policyHolds(input: HoldInput): TunnelHold[] {
  const { family, interfaces, carriers } = input;
  if (!carriers) return [];
  const mainHasDefault = input.defaults.some((r) => r.family === family && !r.scoped);
  const suppressed = carriers.suppressMainDefault;
  const holds: TunnelHold[] = [];
  for (const rule of carriers.policies) {
    if (rule.family !== family) continue;
    // A rule after main's only matters when main has no default to give.
    if (!rule.beforeMain && mainHasDefault && suppressed === null) continue;
    for (const route of rule.defaults) {
      const tunnel = liveTunnel(interfaces, route.interface, route.index);
      if (!tunnel) continue;
      const hidden = suppressed === null
        ? ""
        : `; rule ${suppressed} (lookup main suppress_prefixlength 0) keeps the main table's ` +
          `default out of use`;
      const target = `default ${
        route.gateway === null ? "" : `via ${route.gateway} `
      }dev ${tunnel.name}`;
      holds.push({
        family,
        interface: tunnel.name,
        kind: "policy-rule",
        how: `policy rule ${rule.priority} (${rule.selector} lookup ${rule.table}) sends it to ` +
          `table ${rule.table}: ${target}${hidden}`,
      });
      break;
    }
  }
  return holds;
}
