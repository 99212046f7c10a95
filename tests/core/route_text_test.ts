/**
 * The words a change is announced in: each platform's own tool's (issue 18 item 6). route(8)'s on
 * macOS, ip(8)'s on Linux; a table says which through RouteTable.commandText.
 */
import { assertEquals } from "../assert.ts";
import {
  commandWordsOf,
  ipRouteCommandText,
  routeCommandText,
} from "../../lib/core/text/route_text.ts";
import type { DefaultRoute } from "../../lib/core/model/types.ts";

function r(
  gateway: string | null,
  iface: string | null,
  extra: Partial<DefaultRoute> = {},
): DefaultRoute {
  const family = gateway?.includes(":") ? 6 : 4;
  return { family, gateway, interface: iface, index: 3, scoped: false, flags: 0x803, ...extra };
}

const ROWS: [string, "add" | "delete", DefaultRoute, string, string][] = [
  [
    "IPv4 gateway",
    "add",
    r("10.77.0.1", "lan0"),
    "route add default 10.77.0.1 (lan0)",
    "ip route add default via 10.77.0.1 dev lan0",
  ],
  [
    "IPv4 gateway with a metric (Linux keeps it)",
    "add",
    r("10.77.0.1", "lan0", { metric: 100 }),
    "route add default 10.77.0.1 (lan0)",
    "ip route add default via 10.77.0.1 dev lan0 metric 100",
  ],
  [
    "metric 0 is ip's default and not written",
    "add",
    r("10.77.0.1", "lan0", { metric: 0 }),
    "route add default 10.77.0.1 (lan0)",
    "ip route add default via 10.77.0.1 dev lan0",
  ],
  [
    "an interface route (a tunnel's leftover)",
    "delete",
    r(null, "tun5"),
    "route delete default -interface tun5",
    "ip route delete default dev tun5",
  ],
  [
    "IPv6 link-local gateway",
    "add",
    r("fe80::1", "veth0", { metric: 1024 }),
    "route add -inet6 default fe80::1%veth0",
    "ip -6 route add default via fe80::1 dev veth0 metric 1024",
  ],
  [
    "no interface name: the index",
    "delete",
    r("10.0.0.1", null),
    "route delete default 10.0.0.1 (#3)",
    "ip route delete default via 10.0.0.1 dev #3",
  ],
];

for (const [name, verb, route, darwin, linux] of ROWS) {
  Deno.test(`route text: ${name}`, () => {
    assertEquals(routeCommandText(verb, route), darwin);
    assertEquals(ipRouteCommandText(verb, route), linux);
  });
}

Deno.test("route text: a table's own words win, route(8)'s without them", () => {
  const route = r("10.77.0.1", "lan0");
  assertEquals(commandWordsOf({})("add", route), "route add default 10.77.0.1 (lan0)");
  const linuxLike = {
    prefix: "ip",
    commandText(verb: "add" | "delete", x: DefaultRoute) {
      return `${this.prefix} ${verb} ${x.gateway}`;
    },
  };
  assertEquals(commandWordsOf(linuxLike)("add", route), "ip add 10.77.0.1");
});
