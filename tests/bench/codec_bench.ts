/**
 * Benchmarks of the darwin routing-message codec: one RTM_GET reply and one route(8) request,
 * a 10,000-route sysctl NET_RT_DUMP-style buffer (what `defroute status` and a heal loop walk on
 * a busy Mac), and finding the defaults in a 100,000-route dump, as defaults() does (issue 15:
 * every other route stepped over by its header). Run with `deno bench tests/bench/codec_bench.ts`.
 */
import {
  decodeMessage,
  decodeMessages,
  defaultRouteRequest,
  encodeRouteMessage,
  kernelDefaultNetmask,
  prefixLengths,
  type RouteMessageInit,
  RTF_DONE,
  RTF_GATEWAY,
  RTF_STATIC,
  RTF_UP,
  RTM_ADD,
  RTM_GET,
} from "../../lib/darwin/route_message.ts";
import { isDefaultRouteMessage } from "../../lib/darwin/route_table.ts";
import { syntheticDump } from "../darwin/synthetic_dump.ts";

/** A kernel GET reply for the default route (docs/macos-routing-socket.md §5.2: addrs 0x37, 164
 * bytes). */
const reply: RouteMessageInit = {
  type: RTM_GET,
  flags: RTF_UP | RTF_GATEWAY | RTF_DONE | RTF_STATIC,
  index: 4,
  pid: 4711,
  seq: 1,
  addrs: {
    dst: { family: "inet4", address: "0.0.0.0" },
    gateway: { family: "inet4", address: "192.168.1.1" },
    netmask: kernelDefaultNetmask(4),
    ifp: { family: "link", index: 4, type: 6, name: "en0", linkAddress: "ac:87:a3:19:7f:82" },
    ifa: { family: "inet4", address: "192.168.1.100" },
  },
};
const replyBytes = encodeRouteMessage(reply);

const addDefault = defaultRouteRequest({
  type: RTM_ADD,
  family: 4,
  gateway: "192.168.1.1",
  seq: 1,
  form: "route8",
});

/** 10,000 routes as a NET_RT_DUMP would hold them: DST, GATEWAY, trimmed NETMASK (§1.3, §3.4). */
const dumpRoutes: RouteMessageInit[] = Array.from({ length: 10_000 }, (_, i) => ({
  type: RTM_GET,
  flags: RTF_UP | RTF_GATEWAY | RTF_STATIC,
  index: 1 + (i % 8),
  addrs: {
    dst: { family: "inet4", address: `10.${(i >> 8) & 0xff}.${i & 0xff}.0` },
    gateway: i % 3 === 0
      ? {
        family: "link",
        index: 1 + (i % 8),
        type: 6,
        name: "en0",
        linkAddress: "ac:87:a3:19:7f:82",
      }
      : { family: "inet4", address: "192.168.1.1" },
    netmask: {
      family: "inet4",
      address: "255.255.255.0",
      length: 7,
      familyByte: 0xff,
      port: 0xffff,
    },
  },
}));
const dumpParts = dumpRoutes.map(encodeRouteMessage);
const dump = new Uint8Array(dumpParts.reduce((sum, part) => sum + part.length, 0));
{
  let offset = 0;
  for (const part of dumpParts) {
    dump.set(part, offset);
    offset += part.length;
  }
}

/**
 * Parts of a decode, to see where its time goes (names start with "parts", not "decode", so
 * codec_throughput.ts does not count them against the route-message target): the header alone,
 * and an IPv6 route (DST, KAME-scoped link-local GATEWAY, /64 NETMASK), whose text is built by
 * formatIPv6 rather than the IPv4 path's tables.
 */
const headerOnlyBytes = encodeRouteMessage({ type: RTM_GET, index: 4, pid: 4711, seq: 1 });
const ipv6RouteBytes = encodeRouteMessage({
  type: RTM_GET,
  flags: RTF_UP | RTF_GATEWAY | RTF_STATIC,
  index: 4,
  addrs: {
    dst: { family: "inet6", address: "2001:db8:1:2::" },
    gateway: { family: "inet6", address: "fe80::1", zone: 4 },
    netmask: { family: "inet6", address: "ffff:ffff:ffff:ffff::" },
  },
});

Deno.bench("parts: rt_msghdr alone, no sockaddrs (92 bytes)", { group: "parts" }, () => {
  decodeMessage(headerOnlyBytes);
});

Deno.bench("parts: IPv6 route, DST + link-local GATEWAY + NETMASK", { group: "parts" }, () => {
  decodeMessage(ipv6RouteBytes);
});

Deno.bench("decode one RTM_GET reply (164 bytes)", { group: "message" }, () => {
  decodeMessage(replyBytes);
});

Deno.bench("encode one RTM_GET reply (164 bytes)", { group: "message" }, () => {
  encodeRouteMessage(reply);
});

Deno.bench("encode route(8) add default (128 bytes)", { group: "message" }, () => {
  encodeRouteMessage(addDefault);
});

Deno.bench("decodeMessages: 10,000-route dump", { group: "dump" }, () => {
  decodeMessages(dump);
});

Deno.bench("encode 10,000 routes", { group: "dump" }, () => {
  for (const route of dumpRoutes) encodeRouteMessage(route);
});

/** 100,000 routes plus a global and two scoped defaults (tests/darwin/synthetic_dump.ts). */
const bigDump = syntheticDump(100_000);
const DEFAULTS_ONLY = prefixLengths([0]);

Deno.bench("find the defaults in a 100,000-route dump", { group: "table size" }, () => {
  const found = decodeMessages(bigDump, DEFAULTS_ONLY).messages.filter((m) =>
    m.kind === "route" && isDefaultRouteMessage(m)
  );
  if (found.length !== 3) throw new Error(`found ${found.length} defaults, not 3`);
});
