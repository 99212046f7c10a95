import { assert, assertEquals } from "../assert.ts";
import {
  AF_INET,
  AF_INET6,
  align4,
  decodeHeader,
  decodeMessage,
  decodeMessages,
  decodeRule,
  encodeAddDefaultRoute,
  encodeAttributes,
  encodeDeleteDefaultRoute,
  encodeLinkDumpRequest,
  encodeMessage,
  encodeRouteDumpRequest,
  encodeRtmsg,
  encodeRuleDumpRequest,
  errnoName,
  FIB_RULE_HDR_LEN,
  FIB_RULE_INVERT,
  FR_ACT_TO_TBL,
  FRA_FWMARK,
  FRA_FWMASK,
  FRA_PRIORITY,
  FRA_SUPPRESS_PREFIXLEN,
  FRA_TABLE,
  IFF_LOWER_UP,
  IFF_UP,
  IFLA_IFNAME,
  IFLA_INFO_KIND,
  IFLA_LINKINFO,
  type NetlinkMessage,
  NLM_F_DUMP,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  NLMSG_DONE,
  NLMSG_HDRLEN,
  RT_TABLE_MAIN,
  RTA_GATEWAY,
  RTA_MULTIPATH,
  RTA_OIF,
  RTA_TABLE,
  RTA_VIA,
  RTM_DELLINK,
  RTM_GETLINK,
  RTM_GETROUTE,
  RTM_GETRULE,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTM_NEWRULE,
  RTN_UNICAST,
  RTPROT_STATIC,
  u32Attribute,
} from "../../lib/linux/netlink_message.ts";
import { addressBytes, addressText } from "../../lib/linux/netlink_message.ts";
import { seededRandom as prng } from "../seeded_random.ts";
import { hex } from "../support/annotated_hex.ts";

function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function only<K extends NetlinkMessage["kind"]>(
  bytes: Uint8Array,
  kind: K,
): Extract<NetlinkMessage, { kind: K }> {
  const decoded = decodeMessage(bytes);
  assert(decoded.ok, decoded.ok ? "" : decoded.error);
  assertEquals(decoded.value.kind, kind);
  return decoded.value as Extract<NetlinkMessage, { kind: K }>;
}

// `strace -xx ip route add default via 10.77.0.1 dev veth0 proto static metric 100` (iproute2
// 6.1.0, veth0 = ifindex 3), with nlmsg_seq rewritten to 1:
// nlmsghdr{52, RTM_NEWROUTE, REQUEST|ACK|EXCL|CREATE, seq, 0}
// rtmsg{AF_INET, 0, 0, 0, RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_UNIVERSE, RTN_UNICAST, 0}
// RTA_GATEWAY 10.77.0.1, RTA_PRIORITY 100, RTA_OIF 3
const IP_ROUTE_ADD = hex(`
  34000000 1800 0506 01000000 00000000
  02 00 00 00 fe 04 00 01 00000000
  0800 0500 0a4d0001
  0800 0600 64000000
  0800 0400 03000000`);
// Same, `ip route del default via 10.77.0.1 dev veth0 metric 100`: protocol 0, scope NOWHERE,
// type 0, flags REQUEST|ACK.
const IP_ROUTE_DEL = hex(`
  34000000 1900 0500 01000000 00000000
  02 00 00 00 fe 00 ff 00 00000000
  0800 0500 0a4d0001
  0800 0600 64000000
  0800 0400 03000000`);

// A real kernel datagram (6.18): the first message of `RTM_GETROUTE` dump for AF_INET in a
// namespace whose main table has `default via 10.77.0.1 dev veth0 metric 100` (ifindex 3),
// followed by a local-table route (the kernel dumps every table), then NLMSG_DONE from the next
// datagram appended.
const KERNEL_DUMP = hex(`
  3c000000 1800 0200 07000000 2e360000
  02 00 00 00 fe 03 00 01 00000000
  0800 0f00 fe000000
  0800 0600 64000000
  0800 0500 0a4d0001
  0800 0400 03000000
  3c000000 1800 0200 07000000 2e360000
  02 20 00 00 ff 02 fe 02 00000000
  0800 0f00 ff000000
  0800 0100 0a4d0002
  0800 0700 0a4d0002
  0800 0400 03000000
  14000000 0300 0200 07000000 2e360000 00000000`);

// The kernel's answer to an RTM_NEWROUTE whose gateway is not on the given oif: NLMSG_ERROR
// with -101 (ENETUNREACH) and the whole request echoed.
const KERNEL_ENETUNREACH = hex(`
  48000000 0200 0000 08000000 2e360000
  9bffffff
  34000000 1800 0506 08000000 00000000
  02 00 00 00 fe 04 00 01 00000000
  0800 0500 0a4d0001
  0800 0400 02000000
  0800 0600 64000000`);

Deno.test("add request is byte-identical to iproute2's `ip route add`", () => {
  const encoded = encodeAddDefaultRoute(1, {
    family: 4,
    gateway: Uint8Array.of(10, 77, 0, 1),
    oif: 3,
    priority: 100,
  });
  assertEquals(toHex(encoded), toHex(IP_ROUTE_ADD));
});

Deno.test("delete request is byte-identical to iproute2's `ip route del`", () => {
  const encoded = encodeDeleteDefaultRoute(1, {
    family: 4,
    gateway: Uint8Array.of(10, 77, 0, 1),
    oif: 3,
    priority: 100,
  });
  assertEquals(toHex(encoded), toHex(IP_ROUTE_DEL));
});

Deno.test("a kernel route dump decodes: main default, local route, done", () => {
  const batch = decodeMessages(KERNEL_DUMP);
  assertEquals(batch.skipped, 0);
  assertEquals(batch.messages.map((m) => m.kind), ["route", "route", "done"]);
  const first = batch.messages[0]!;
  assert(first.kind === "route");
  assertEquals(first.header.flags & NLM_F_MULTI, NLM_F_MULTI);
  assertEquals(first.header.seq, 7);
  assertEquals(first.route.family, AF_INET);
  assertEquals(first.route.dstLen, 0);
  assertEquals(first.route.tableId, RT_TABLE_MAIN);
  assertEquals(first.route.protocol, 3); // RTPROT_BOOT: added by `ip route add`
  assertEquals(first.route.type, RTN_UNICAST);
  assertEquals(addressText(first.route.gateway!), "10.77.0.1");
  assertEquals(first.route.oif, 3);
  assertEquals(first.route.priority, 100);
  const second = batch.messages[1]!;
  assert(second.kind === "route");
  assertEquals(second.route.dstLen, 32);
  assertEquals(second.route.tableId, 255);
  assertEquals(addressText(second.route.dst!), "10.77.0.2");
  assertEquals(second.route.gateway, null);
});

Deno.test("NLMSG_ERROR carries the positive errno and the echoed request header", () => {
  const error = only(KERNEL_ENETUNREACH, "error");
  assertEquals(error.errno, 101);
  assertEquals(errnoName(error.errno), "ENETUNREACH");
  assertEquals(error.request.type, RTM_NEWROUTE);
  assertEquals(error.request.seq, 8);
  assertEquals(error.header.seq, 8);
});

Deno.test("an ack is NLMSG_ERROR with errno 0", () => {
  const payload = new Uint8Array(20); // error 0 + echoed header
  new DataView(payload.buffer).setUint32(12, 42, true); // echoed seq
  const ack = only(encodeMessage({ type: 2, flags: 0x100, seq: 42, pid: 0 }, payload), "error");
  assertEquals(ack.errno, 0);
  assertEquals(ack.request.seq, 42);
});

Deno.test("route request round-trips through the decoder (IPv4 and IPv6)", () => {
  for (
    const [family, gateway, code] of [
      [4, "192.168.1.1", AF_INET],
      [6, "fe80::1", AF_INET6],
      [6, "fd00:77::1", AF_INET6],
    ] as const
  ) {
    const bytes = addressBytes(gateway, family);
    assert(bytes.ok);
    const encoded = encodeAddDefaultRoute(99, {
      family,
      gateway: bytes.value,
      oif: 7,
      priority: family === 6 ? 1024 : null,
    });
    assertEquals(encoded.length % 4, 0);
    const route = only(encoded, "route");
    assertEquals(route.header.seq, 99);
    assertEquals(route.route.family, code);
    assertEquals(route.route.protocol, RTPROT_STATIC);
    assertEquals(addressText(route.route.gateway!), gateway);
    assertEquals(route.route.oif, 7);
    assertEquals(route.route.priority, family === 6 ? 1024 : null);
  }
});

Deno.test("an interface default (no gateway) is scope link for IPv4", () => {
  const route = only(
    encodeAddDefaultRoute(1, { family: 4, gateway: null, oif: 5, priority: null }),
    "route",
  );
  assertEquals(route.route.scope, 253);
  assertEquals(route.route.gateway, null);
  assertEquals(route.route.oif, 5);
});

Deno.test("dump requests: RTM_GETROUTE per family and RTM_GETLINK", () => {
  const routes = decodeHeader(encodeRouteDumpRequest(5, AF_INET6));
  assert(routes.ok);
  assertEquals(routes.value, {
    length: 28,
    type: RTM_GETROUTE,
    flags: NLM_F_REQUEST | NLM_F_DUMP,
    seq: 5,
    pid: 0,
  });
  assertEquals(encodeRouteDumpRequest(5, AF_INET6)[16], AF_INET6);
  const links = decodeHeader(encodeLinkDumpRequest(6));
  assert(links.ok);
  assertEquals([links.value.length, links.value.type, links.value.seq], [32, RTM_GETLINK, 6]);
});

function linkMessage(
  type: number,
  index: number,
  flags: number,
  name: string,
  arphrd = 1,
  kind?: string,
) {
  const info = new Uint8Array(16);
  const view = new DataView(info.buffer);
  view.setUint16(2, arphrd, true);
  view.setInt32(4, index, true);
  view.setUint32(8, flags, true);
  const attrs = encodeAttributes([
    { type: IFLA_IFNAME, data: new TextEncoder().encode(name + "\0") },
    // What `ip -d link` shows as "tun type tap": IFLA_LINKINFO { IFLA_INFO_KIND "tun" }, with
    // NLA_F_NESTED (0x8000) set as the kernel sends it.
    ...(kind === undefined ? [] : [{
      type: IFLA_LINKINFO | 0x8000,
      data: encodeAttributes([{
        type: IFLA_INFO_KIND,
        data: new TextEncoder().encode(kind + "\0"),
      }]),
    }]),
  ]);
  const payload = new Uint8Array(info.length + attrs.length);
  payload.set(info);
  payload.set(attrs, info.length);
  return encodeMessage({ type, flags: 0, seq: 0, pid: 0 }, payload);
}

Deno.test("link messages decode name, index, flags and type", () => {
  const link = only(linkMessage(RTM_NEWLINK, 4, IFF_UP | IFF_LOWER_UP, "tun0", 0xfffe), "link");
  assertEquals(link.link.name, "tun0");
  assertEquals(link.link.index, 4);
  assertEquals(link.link.flags, IFF_UP | IFF_LOWER_UP);
  assertEquals(link.link.type, 0xfffe);
  assertEquals(only(linkMessage(RTM_DELLINK, 9, 0, "veth0"), "link").link.name, "veth0");
});

Deno.test("link messages decode the driver's kind (IFLA_LINKINFO/IFLA_INFO_KIND), null without", () => {
  const tap = only(linkMessage(RTM_NEWLINK, 5, IFF_UP, "corp0", 1, "tun"), "link");
  assertEquals([tap.link.name, tap.link.type, tap.link.kind], ["corp0", 1, "tun"]);
  assertEquals(only(linkMessage(RTM_NEWLINK, 6, 0, "eth0"), "link").link.kind, null);
});

Deno.test("attributes: padding to 4 bytes, nested-flag bits ignored, RTA_TABLE wins", () => {
  const attrs = encodeAttributes([
    { type: IFLA_IFNAME, data: new TextEncoder().encode("a\0") },
    u32Attribute(RTA_OIF, 1),
  ]);
  assertEquals(attrs.length, 8 + 8);
  assertEquals(align4(5), 8);
  assertEquals(align4(8), 8);
  const rtmsg = encodeRtmsg({ family: AF_INET, table: 252, tableAttribute: 1000 });
  const route = only(
    encodeMessage({ type: RTM_NEWROUTE, flags: 0, seq: 0, pid: 0 }, rtmsg),
    "route",
  );
  assertEquals(route.route.table, 252);
  assertEquals(route.route.tableId, 1000);
  // The same attribute with NLA_F_NESTED (0x8000) set still reads as RTA_TABLE.
  const nested = rtmsg.slice();
  const at = nested.length - 8;
  new DataView(nested.buffer).setUint16(at + 2, RTA_TABLE | 0x8000, true);
  const again = only(
    encodeMessage({ type: RTM_NEWROUTE, flags: 0, seq: 0, pid: 0 }, nested),
    "route",
  );
  assertEquals(again.route.tableId, 1000);
});

Deno.test("RTA_VIA and RTA_MULTIPATH supply the gateway when RTA_GATEWAY is absent", () => {
  const via = new Uint8Array(6);
  via.set([AF_INET, 0, 10, 0, 0, 9]);
  const viaRoute = only(
    encodeMessage(
      { type: RTM_NEWROUTE, flags: 0, seq: 0, pid: 0 },
      concat(encodeRtmsg({ family: AF_INET }), encodeAttributes([{ type: RTA_VIA, data: via }])),
    ),
    "route",
  );
  assertEquals(addressText(viaRoute.route.gateway!), "10.0.0.9");
  const nexthopAttrs = encodeAttributes([{ type: RTA_GATEWAY, data: Uint8Array.of(10, 0, 0, 7) }]);
  const nexthop = new Uint8Array(8 + nexthopAttrs.length);
  const view = new DataView(nexthop.buffer);
  view.setUint16(0, nexthop.length, true);
  view.setInt32(4, 12, true);
  nexthop.set(nexthopAttrs, 8);
  const multi = only(
    encodeMessage(
      { type: RTM_NEWROUTE, flags: 0, seq: 0, pid: 0 },
      concat(
        encodeRtmsg({ family: AF_INET }),
        encodeAttributes([{ type: RTA_MULTIPATH, data: nexthop }]),
      ),
    ),
    "route",
  );
  assert(multi.route.multipath);
  assertEquals(addressText(multi.route.gateway!), "10.0.0.7");
  assertEquals(multi.route.oif, 12);
});

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

Deno.test("decodeMessages: nlmsg_len 0 stops the walk instead of looping", () => {
  const batch = decodeMessages(new Uint8Array(64));
  assertEquals(batch.messages.length, 0);
  assertEquals(batch.skipped, 1);
});

Deno.test("decodeMessages: a bad body is skipped and counted, the next message still read", () => {
  // A route message whose rtmsg is truncated (8 bytes), then a valid NLMSG_DONE.
  const bad = encodeMessage({ type: RTM_NEWROUTE, flags: 0, seq: 1, pid: 0 }, new Uint8Array(8));
  const done = encodeMessage({ type: NLMSG_DONE, flags: 0, seq: 1, pid: 0 }, new Uint8Array(4));
  const batch = decodeMessages(concat(bad, done));
  assertEquals(batch.skipped, 1);
  assertEquals(batch.messages.map((m) => m.kind), ["done"]);
  assert(/rtmsg needs 12 bytes/.test(batch.errors[0] ?? ""), batch.errors[0]);
});

Deno.test("decodeMessages: a length running past the end and a bad rta_len are errors", () => {
  const truncated = KERNEL_DUMP.subarray(0, 50);
  const batch = decodeMessages(truncated);
  assertEquals([batch.messages.length, batch.skipped], [0, 1]);
  const badAttr = IP_ROUTE_ADD.slice();
  new DataView(badAttr.buffer).setUint16(28, 200, true); // RTA_GATEWAY's rta_len
  const decoded = decodeMessage(badAttr);
  assert(!decoded.ok);
  assert(/rta_len 200/.test(decoded.error), decoded.error);
});

Deno.test("addresses: text <-> bytes, zone dropped, wrong family rejected", () => {
  const v6 = addressBytes("fe80::1%eth0", 6);
  assert(v6.ok);
  assertEquals(v6.value.length, 16);
  assertEquals(addressText(v6.value), "fe80::1");
  assertEquals(addressBytes("10.0.0.1", 6).ok, false);
  assertEquals(addressBytes("fe80::1", 4).ok, false);
  assertEquals(addressBytes("not-an-ip", 4).ok, false);
  assertEquals(addressText(new Uint8Array(5)), null);
  assertEquals(errnoName(17), "EEXIST");
  assertEquals(errnoName(4242), "errno 4242");
});

Deno.test("property: random, truncated and mutated buffers never throw and always terminate", () => {
  const random = prng(0x5eed_0005);
  const valid = [KERNEL_DUMP, KERNEL_ENETUNREACH, IP_ROUTE_ADD, IP_ROUTE_DEL];
  let decodedSomething = 0;
  let skippedSomething = 0;
  for (let i = 0; i < 6000; i++) {
    let buffer: Uint8Array;
    const mode = i % 3;
    const base = valid[Math.floor(random() * valid.length)]!;
    if (mode === 0) {
      buffer = Uint8Array.from({ length: Math.floor(random() * 200) }, () => random() * 256);
    } else if (mode === 1) {
      buffer = base.subarray(0, Math.floor(random() * (base.length + 1)));
    } else {
      buffer = base.slice();
      for (let flips = 1 + Math.floor(random() * 4); flips > 0; flips--) {
        buffer[Math.floor(random() * buffer.length)] = Math.floor(random() * 256);
      }
    }
    const batch = decodeMessages(buffer);
    // Every message read consumed at least a header: the walk is bounded by the input.
    assert(batch.messages.length * 16 <= buffer.length, `case ${i}`);
    assertEquals(batch.errors.length, batch.skipped, `case ${i}`);
    decodedSomething += batch.messages.length;
    skippedSomething += batch.skipped;
    decodeMessage(buffer); // must not throw either
  }
  // The generator really produced both kinds of input.
  assert(decodedSomething > 100, `decoded ${decodedSomething}`);
  assert(skippedSomething > 100, `skipped ${skippedSomething}`);
});

Deno.test("rule dump request and a wg-quick rule decode (`not fwmark 0xca6c lookup 51820`)", () => {
  const request = encodeRuleDumpRequest(9, AF_INET);
  const header = decodeHeader(request);
  assert(header.ok);
  assertEquals([header.value.type, header.value.flags, request.length], [
    RTM_GETRULE,
    NLM_F_REQUEST | NLM_F_DUMP,
    NLMSG_HDRLEN + FIB_RULE_HDR_LEN,
  ]);
  assertEquals(request[NLMSG_HDRLEN], AF_INET);
  // fib_rule_hdr: family, dst_len, src_len, tos, table (252: "see FRA_TABLE"), res1, res2,
  // action, flags (FIB_RULE_INVERT), as the kernel sends wg-quick's rule.
  const hdr = Uint8Array.of(AF_INET, 0, 0, 0, 252, 0, 0, FR_ACT_TO_TBL, FIB_RULE_INVERT, 0, 0, 0);
  const attrs = encodeAttributes([
    u32Attribute(FRA_TABLE, 51820),
    u32Attribute(FRA_PRIORITY, 32765),
    u32Attribute(FRA_FWMARK, 0xca6c),
    u32Attribute(FRA_FWMASK, 0xffffffff),
    u32Attribute(FRA_SUPPRESS_PREFIXLEN, 0xffffffff),
  ]);
  const payload = new Uint8Array(hdr.length + attrs.length);
  payload.set(hdr);
  payload.set(attrs, hdr.length);
  const message = only(
    encodeMessage({ type: RTM_NEWRULE, flags: 0, seq: 0, pid: 0 }, payload),
    "rule",
  );
  assertEquals(message.rule, {
    family: AF_INET,
    dstLen: 0,
    srcLen: 0,
    action: FR_ACT_TO_TBL,
    flags: FIB_RULE_INVERT,
    table: 51820,
    priority: 32765,
    fwmark: 0xca6c,
    fwmask: 0xffffffff,
    suppressPrefixLength: null,
    narrowed: false,
  });
  assertEquals(decodeRule(new Uint8Array(5)).ok, false);
});
