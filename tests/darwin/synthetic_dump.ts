/**
 * A synthetic sysctl NET_RT_DUMP of a Mac with a big routing table, for the table-size tests
 * and benchmarks (issue 15): the global default and a scoped one on en0 (as configd installs
 * them; RTF_IFSCOPE + rtm_index, docs/macos-routing-socket.md §5.2), a tunnel's scoped default on
 * utun4, then `count` other routes of the shapes rt_msg2 writes (docs/macos-routing-socket.md §1.3,
 * §3.4): /24 split-tunnel routes with trimmed kernel netmasks (sa_len 7, family 0xff) via the LAN
 * gateway or the tunnel's link, and host routes (no NETMASK) with link-layer gateways, as ARP
 * entries are dumped.
 */
import {
  encodeRouteMessage,
  kernelDefaultNetmask,
  type RouteMessageInit,
  RTF_GATEWAY,
  RTF_HOST,
  RTF_IFSCOPE,
  RTF_LLINFO,
  RTF_STATIC,
  RTF_UP,
  RTM_GET,
} from "../../lib/darwin/route_message.ts";

const EN0 = 4;
const UTUN4 = 21;

/** The defaults every synthetic dump holds, as messages. */
export const SYNTHETIC_DEFAULTS: readonly RouteMessageInit[] = [
  {
    type: RTM_GET,
    flags: RTF_UP | RTF_GATEWAY | RTF_STATIC,
    index: EN0,
    addrs: {
      dst: { family: "inet4", address: "0.0.0.0" },
      gateway: { family: "inet4", address: "192.168.1.1" },
      netmask: kernelDefaultNetmask(4),
    },
  },
  {
    type: RTM_GET,
    flags: RTF_UP | RTF_GATEWAY | RTF_STATIC | RTF_IFSCOPE,
    index: EN0,
    addrs: {
      dst: { family: "inet4", address: "0.0.0.0" },
      gateway: { family: "inet4", address: "192.168.1.1" },
      netmask: kernelDefaultNetmask(4),
    },
  },
  {
    type: RTM_GET,
    flags: RTF_UP | RTF_STATIC | RTF_IFSCOPE,
    index: UTUN4,
    addrs: {
      dst: { family: "inet4", address: "0.0.0.0" },
      gateway: { family: "link", index: UTUN4, type: 0xff, name: "utun4", linkAddress: "" },
      netmask: kernelDefaultNetmask(4),
    },
  },
];

/** The i-th non-default route: three /24s for each host route. */
export function syntheticRoute(i: number): RouteMessageInit {
  const a = 100 + ((i >> 16) & 0x1f);
  const b = (i >> 8) & 0xff;
  const c = i & 0xff;
  if (i % 4 === 3) {
    return {
      type: RTM_GET,
      flags: RTF_UP | RTF_HOST | RTF_LLINFO,
      index: EN0,
      addrs: {
        dst: { family: "inet4", address: `192.168.${b}.${c}` },
        gateway: {
          family: "link",
          index: EN0,
          type: 6,
          name: "",
          linkAddress: `ac:87:a3:19:${hex(b)}:${hex(c)}`,
        },
      },
    };
  }
  const viaTunnel = i % 2 === 0;
  return {
    type: RTM_GET,
    flags: RTF_UP | RTF_STATIC | (viaTunnel ? 0 : RTF_GATEWAY),
    index: viaTunnel ? UTUN4 : EN0,
    addrs: {
      dst: { family: "inet4", address: `${a}.${b}.${c}.0` },
      gateway: viaTunnel
        ? { family: "link", index: UTUN4, type: 0xff, name: "utun4", linkAddress: "" }
        : { family: "inet4", address: "192.168.1.1" },
      netmask: {
        family: "inet4",
        address: "255.255.255.0",
        length: 7,
        familyByte: 0xff,
        port: 0xffff,
      },
    },
  };
}

/** A dump of `count` routes: the defaults first (a radix walk meets 0.0.0.0 first; fewer of
 * them when `count` is below 3), then other routes. */
export function syntheticDump(count: number): Uint8Array {
  const parts = SYNTHETIC_DEFAULTS.slice(0, count).map(encodeRouteMessage);
  for (let i = 0; parts.length < count; i++) parts.push(encodeRouteMessage(syntheticRoute(i)));
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, "0");
}
