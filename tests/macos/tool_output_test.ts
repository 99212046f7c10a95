/**
 * The parsers of tests/macos/tool_output.ts, on every OS. The inputs are laid out here with the
 * printf formats of the tools' sources (network_cmds-741), so a parser that misreads a column
 * width, a label's padding or an empty field fails on Linux already, before it misleads the
 * real-Mac tier.
 */
import { assertEquals, assertThrows } from "../assert.ts";
import {
  ifconfigFlagNames,
  NETSTAT_FLAGS,
  netstatFlagColumn,
  parseIfconfigHeaders,
  parseIfconfigList,
  parseIfconfigMediaStatus,
  parseNetstatRoutes,
  parseRouteGet,
  ROUTE8_FLAGS,
  route8FlagNames,
  ToolOutputError,
} from "./tool_output.ts";

// route.tproj/route.c print_getmsg(): "%11s: " labels, then the metrics header and values.
function getLine(label: string, value: string): string {
  return `${label.padStart(11)}: ${value}`;
}
const METRICS =
  " recvpipe  sendpipe  ssthresh  rtt,msec    rttvar  hopcount      mtu     expire\n" +
  `${"0".padStart(8)}  `.repeat(6) + `${"1500".padStart(8)}  ${"0".padStart(8)} \n`;

// netstat.tproj/route.c pr_rthdr() / np_rtentry() with -n: "%-*s " destination and gateway
// (18 wide for inet, 39 for inet6 with -n), "%-10.10s " flags, "%14.14s" netif, " %6s" expire.
function netstatLine(family: 4 | 6, cells: [string, string, string, string, string?]): string {
  const width = family === 4 ? 18 : 39;
  const [dst, gw, flags, netif, expire] = cells;
  return `${dst.padEnd(width)} ${gw.padEnd(width)} ${flags.slice(0, 10).padEnd(10)} ` +
    `${netif.slice(0, 14).padStart(14)} ${(expire ?? "").padStart(6)}`;
}
function netstatHeader(family: 4 | 6): string {
  return netstatLine(family, ["Destination", "Gateway", "Flags", "Netif", "Expire"]);
}

Deno.test("parseRouteGet: the global default, with the labels padded to 11", () => {
  const stdout = [
    getLine("route to", "default"),
    getLine("destination", "default"),
    getLine("mask", "default"),
    getLine("gateway", "192.168.1.1"),
    getLine("interface", "en0"),
    getLine("flags", "<UP,GATEWAY,DONE,STATIC,PRCLONING,GLOBAL>"),
  ].join("\n") + "\n" + METRICS;
  assertEquals(parseRouteGet(stdout, ""), {
    kind: "route",
    destination: "default",
    mask: "default",
    gateway: "192.168.1.1",
    interface: "en0",
    flags: ["UP", "GATEWAY", "DONE", "STATIC", "PRCLONING", "GLOBAL"],
  });
});

Deno.test("parseRouteGet: no gateway line without RTF_GATEWAY; IPv6 scoped gateway text", () => {
  const utun = [
    getLine("route to", "default"),
    getLine("destination", "default"),
    getLine("mask", "default"),
    getLine("interface", "utun4"),
    getLine("flags", "<UP,DONE,CLONING,STATIC,GLOBAL>"),
  ].join("\n") + "\n" + METRICS;
  const parsed = parseRouteGet(utun, "");
  assertEquals(parsed.kind === "route" && [parsed.gateway, parsed.interface], [null, "utun4"]);
  const v6 = [
    getLine("route to", "::"),
    getLine("destination", "::"),
    getLine("mask", "default"),
    getLine("gateway", "fe80::1%en0"),
    getLine("interface", "en0"),
    getLine("flags", "<UP,GATEWAY,DONE,STATIC,IFSCOPE>"),
  ].join("\n") + "\n" + METRICS;
  const six = parseRouteGet(v6, "");
  assertEquals(six.kind === "route" && [six.gateway, six.flags.includes("IFSCOPE")], [
    "fe80::1%en0",
    true,
  ]);
});

Deno.test("parseRouteGet: ESRCH is route(8)'s 'not in table' on stderr with exit 0", () => {
  assertEquals(parseRouteGet("", "route: writing to routing socket: not in table\n"), {
    kind: "not-in-table",
  });
  assertThrows(
    () => parseRouteGet("", "route: bad interface name\n"),
    (e) => e instanceof ToolOutputError,
  );
  assertThrows(
    () => parseRouteGet(getLine("destination", "default") + "\n" + getLine("flags", "UP"), ""),
    (e) => e instanceof ToolOutputError,
  );
  // bprintf prints nothing at all for flags 0.
  const bare = parseRouteGet(getLine("destination", "default") + "\n" + getLine("flags", ""), "");
  assertEquals(bare.kind === "route" && bare.flags, []);
});

Deno.test("parseNetstatRoutes: both families, scoped defaults, link gateways, expire", () => {
  const stdout = [
    "Routing tables",
    "",
    "Internet:",
    netstatHeader(4),
    netstatLine(4, ["default", "192.168.1.1", "UGScg", "en0"]),
    netstatLine(4, ["default", "192.168.1.1", "UGScIg", "en0"]),
    netstatLine(4, ["default", "link#17", "UCSIg", "utun4"]),
    netstatLine(4, ["127", "127.0.0.1", "UCS", "lo0"]),
    netstatLine(4, ["192.168.1.1/32", "link#4", "UCS", "en0", "!"]),
    netstatLine(4, ["192.168.1.20", "a4:83:e7:1:2:3", "UHLWIi", "en0", "1185"]),
    "",
    "Internet6:",
    netstatHeader(6),
    netstatLine(6, ["default", "fe80::%utun0", "UGcIg", "utun0"]),
    netstatLine(6, ["default", "fe80::1234:56ff:fe78:9abc%en0", "UGcg", "en0"]),
    netstatLine(6, ["::1", "::1", "UHL", "lo0"]),
    "",
  ].join("\n");
  const { routes, unparsed } = parseNetstatRoutes(stdout);
  assertEquals(unparsed, []);
  assertEquals(routes.length, 9);
  assertEquals(
    routes.filter((r) => r.destination === "default").map((r) => [
      r.family,
      r.gateway,
      r.flags,
      r.netif,
    ]),
    [
      [4, "192.168.1.1", "UGScg", "en0"],
      [4, "192.168.1.1", "UGScIg", "en0"],
      [4, "link#17", "UCSIg", "utun4"],
      [6, "fe80::%utun0", "UGcIg", "utun0"],
      [6, "fe80::1234:56ff:fe78:9abc%en0", "UGcg", "en0"],
    ],
  );
  assertEquals(routes.find((r) => r.destination === "192.168.1.20")?.expire, "1185");
});

Deno.test("parseNetstatRoutes: other families and short lines are set aside, not misread", () => {
  const stdout = [
    "Routing tables",
    "",
    "Internet:",
    netstatHeader(4),
    `${"10.1".padEnd(18)} ${"10.1.0.1".padEnd(18)} ${"".padEnd(10)} ${"".padStart(14)} `,
    "",
    "Protocol Family 17:",
    "something else entirely with many columns here",
  ].join("\n");
  const { routes, unparsed } = parseNetstatRoutes(stdout);
  assertEquals(routes, []);
  assertEquals(unparsed.length, 2);
});

Deno.test("netstat's Flags column: bits[] order, cut at 10 letters", () => {
  assertEquals(netstatFlagColumn(0x1 | 0x2 | 0x800 | 0x10000 | 0x40000000), "UGScg");
  assertEquals(netstatFlagColumn(0x1 | 0x2 | 0x10000 | 0x1000000 | 0x40000000), "UGcIg");
  // MULTICAST ("m") sorts right after MODIFIED ("M"), not in bit order.
  assertEquals(netstatFlagColumn(0x800000 | 0x20 | 0x1), "UMm");
  const all = NETSTAT_FLAGS.reduce((bits, [bit]) => bits | bit, 0);
  assertEquals(netstatFlagColumn(all), "UGHRDMmdCX");
  assertEquals(new Set(NETSTAT_FLAGS.map(([bit]) => bit)).size, NETSTAT_FLAGS.length);
});

Deno.test("route(8)'s flag names: its own spelling of bits 14 and 20, no RTF_DEAD", () => {
  assertEquals(route8FlagNames(0x803), ["UP", "GATEWAY", "STATIC"]);
  assertEquals(route8FlagNames(0x2000 | 0x80000 | 0x20000000 | 0x40000000), [
    "b016",
    "b024",
    "GLOBAL",
  ]);
  for (const [bit] of ROUTE8_FLAGS) assertEquals(bit & (bit - 1), 0, `0x${bit.toString(16)}`);
});

Deno.test("parseIfconfigList and parseIfconfigHeaders (ifconfig -l, ifconfig -a -v)", () => {
  assertEquals(parseIfconfigList("lo0 gif0 stf0 en0 feth0 utun0\n"), [
    "lo0",
    "gif0",
    "stf0",
    "en0",
    "feth0",
    "utun0",
  ]);
  const stdout = [
    "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384 index 1",
    "\toptions=1203<RXCSUM,TXCSUM,TXSTATUS,SW_TIMESTAMP>",
    "\tinet 127.0.0.1 netmask 0xff000000",
    "en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500 index 4",
    "\tether a4:83:e7:01:02:03",
    "\tstatus: active",
    "feth0: flags=8842<BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500 index 20",
    "\tpeer: feth1",
    "gif0: flags=0<> mtu 1280 index 2",
    "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380 index 11 constrained",
    "a line ifconfig might print one day",
  ].join("\n");
  const { headers, unparsed } = parseIfconfigHeaders(stdout);
  assertEquals(
    headers.map((h) => [h.name, h.flags, h.mtu, h.index]),
    [
      ["lo0", 0x8049, 16384, 1],
      ["en0", 0x8863, 1500, 4],
      ["feth0", 0x8842, 1500, 20],
      ["gif0", 0, 1280, 2],
      ["utun0", 0x8051, 1380, 11],
    ],
  );
  assertEquals(unparsed, ["a line ifconfig might print one day"]);
  for (const header of headers) assertEquals(ifconfigFlagNames(header.flags), header.flagNames);
});

Deno.test("parseIfconfigMediaStatus: the status line of interfaces with media only", () => {
  const stdout = [
    "lo0: flags=8049<UP,LOOPBACK,RUNNING,MULTICAST> mtu 16384",
    "\tinet 127.0.0.1 netmask 0xff000000",
    "en0: flags=8863<UP,BROADCAST,SMART,RUNNING,SIMPLEX,MULTICAST> mtu 1500",
    "\tmedia: autoselect (1000baseT <full-duplex>)",
    "\tstatus: active",
    "en1: flags=8963<UP,BROADCAST,SMART,RUNNING,PROMISC,SIMPLEX,MULTICAST> mtu 1500",
    "\tmedia: autoselect <full-duplex>",
    "\tstatus: inactive",
    "utun0: flags=8051<UP,POINTOPOINT,RUNNING,MULTICAST> mtu 1380",
    "\tinet6 fe80::1%utun0 prefixlen 64 scopeid 0x10",
  ].join("\n");
  assertEquals([...parseIfconfigMediaStatus(stdout)], [["en0", "active"], ["en1", "inactive"]]);
});
