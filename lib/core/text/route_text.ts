/**
 * How defroute writes a default route for people: in `status`, in reports, and in the `[#] ...`
 * lines announced before every change, in the words of the platform's own tool, as wg-quick does
 * (darwin.bash prints `[#] route -q -n add ...`, linux.bash `[#] ip -4 route add ...`): route(8)'s
 * on macOS, ip(8)'s on Linux. Each RouteTable says which (RouteTable.commandText).
 */
import { isLinkLocalGateway } from "../model/gateway_address.ts";
import type { DefaultRoute, Family } from "../model/types.ts";

/** "192.168.1.1", "fe80::1%en0" (a link-local gateway means nothing without its interface). */
export function gatewayText(family: Family, gateway: string, iface: string | null): string {
  return isLinkLocalGateway(family, gateway) && iface ? `${gateway}%${iface}` : gateway;
}

/** "192.168.1.1 via en0", "fe80::1%en0", "link on utun4", plus "(scoped)" for RTF_IFSCOPE. */
export function describeRoute(route: DefaultRoute): string {
  const iface = route.interface ?? (route.index ? `#${route.index}` : "?");
  let text: string;
  if (route.gateway === null) text = `link on ${iface}`;
  else if (isLinkLocalGateway(route.family, route.gateway) && route.interface) {
    text = gatewayText(route.family, route.gateway, route.interface);
  } else text = `${route.gateway} via ${iface}`;
  return route.scoped ? `${text} (scoped to ${iface})` : text;
}

/** The words announcing a change to a global default, in one platform's tool's terms. */
export type CommandWords = (verb: "add" | "delete", route: DefaultRoute) => string;

/** route(8)'s words for adding or deleting a global default (macOS). */
export function routeCommandText(verb: "add" | "delete", route: DefaultRoute): string {
  const inet6 = route.family === 6 ? " -inet6" : "";
  const iface = route.interface ?? `#${route.index}`;
  if (route.gateway === null) return `route ${verb}${inet6} default -interface ${iface}`;
  if (isLinkLocalGateway(route.family, route.gateway) && route.interface) {
    return `route ${verb}${inet6} default ${gatewayText(route.family, route.gateway, iface)}`;
  }
  return `route ${verb}${inet6} default ${route.gateway} (${iface})`;
}

/** ip(8)'s words for adding or deleting a global default (Linux): what `ip route` would be given
 * to make the same request (lib/linux/route_table.ts sends the metric as RTA_PRIORITY). */
export function ipRouteCommandText(verb: "add" | "delete", route: DefaultRoute): string {
  const words = ["ip", ...(route.family === 6 ? ["-6"] : []), "route", verb, "default"];
  if (route.gateway !== null) words.push("via", route.gateway);
  if (route.interface !== null) words.push("dev", route.interface);
  else if (route.index > 0) words.push("dev", `#${route.index}`);
  if (route.metric !== undefined && route.metric !== 0) words.push("metric", String(route.metric));
  return words.join(" ");
}

/** The words of `table`'s platform (route(8)'s when the table does not say). */
export function commandWordsOf(table: { commandText?: CommandWords }): CommandWords {
  const own = table.commandText;
  return own ? (verb, route) => own.call(table, verb, route) : routeCommandText;
}
