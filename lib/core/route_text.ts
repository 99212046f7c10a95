/**
 * How defroute writes a default route for people: in `status`, in reports, and in the `[#] ...`
 * lines announced before every change (the words of route(8), like wg-quick's darwin script).
 */
import { isLinkLocalGateway } from "./gateway_address.ts";
import type { DefaultRoute, Family } from "./types.ts";

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

/** route(8)'s words for adding or deleting a global default. */
export function routeCommandText(verb: "add" | "delete", route: DefaultRoute): string {
  const inet6 = route.family === 6 ? " -inet6" : "";
  const iface = route.interface ?? `#${route.index}`;
  if (route.gateway === null) return `route ${verb}${inet6} default -interface ${iface}`;
  if (isLinkLocalGateway(route.family, route.gateway) && route.interface) {
    return `route ${verb}${inet6} default ${gatewayText(route.family, route.gateway, iface)}`;
  }
  return `route ${verb}${inet6} default ${route.gateway} (${iface})`;
}
