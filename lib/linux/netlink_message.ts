/**
 * rtnetlink codec: bytes <-> typed messages for the route and link families. Pure: no Deno.*
 * calls, so it is tested byte for byte and fuzzed without a kernel.
 *
 * Layouts are Linux's uapi headers (include/uapi/linux/netlink.h, rtnetlink.h, if_link.h) in
 * host byte order. Every build target of defroute (x86_64, aarch64) is little-endian, so the
 * codec writes little-endian; the IP addresses inside attributes are network order as given.
 *
 * Like golang.org/x/net/route, one alignment helper (NLMSG_ALIGN == RTA_ALIGN == 4) serves
 * encode and decode, and decoding never throws: a bad message is a typed error result, and the
 * multi-message decoder skips and counts what it cannot parse.
 */
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "../util/ip_address.ts";
import { decodeUtf8 } from "../util/utf8_text.ts";
import type { Family } from "../core/model/types.ts";
import { type PrefixLengths, wantsPrefix } from "../util/prefix_lengths.ts";

export { type PrefixLengths, prefixLengths } from "../util/prefix_lengths.ts";

// ---- constants (uapi/linux/netlink.h, rtnetlink.h, if_link.h, if.h, if_arp.h) ----------------

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const NETLINK_ROUTE = 0;

export const NLMSG_NOOP = 1;
export const NLMSG_ERROR = 2;
export const NLMSG_DONE = 3;
export const NLMSG_OVERRUN = 4;
export const RTM_NEWLINK = 16;
export const RTM_DELLINK = 17;
export const RTM_GETLINK = 18;
export const RTM_NEWADDR = 20;
export const RTM_DELADDR = 21;
export const RTM_GETADDR = 22;
export const RTM_NEWROUTE = 24;
export const RTM_DELROUTE = 25;
export const RTM_GETROUTE = 26;
export const RTM_NEWRULE = 32;
export const RTM_DELRULE = 33;
export const RTM_GETRULE = 34;

export const NLM_F_REQUEST = 0x1;
export const NLM_F_MULTI = 0x2;
export const NLM_F_ACK = 0x4;
export const NLM_F_ROOT = 0x100;
export const NLM_F_MATCH = 0x200;
export const NLM_F_DUMP = NLM_F_ROOT | NLM_F_MATCH;
export const NLM_F_REPLACE = 0x100;
export const NLM_F_EXCL = 0x200;
export const NLM_F_CREATE = 0x400;

/** Multicast groups for bind(2)'s nl_groups (legacy bitmask form, rtnetlink.h). */
export const RTMGRP_LINK = 0x1;
export const RTMGRP_IPV4_ROUTE = 0x40;
export const RTMGRP_IPV6_ROUTE = 0x400;

export const RTA_DST = 1;
export const RTA_OIF = 4;
export const RTA_GATEWAY = 5;
export const RTA_PRIORITY = 6;
export const RTA_MULTIPATH = 9;
export const RTA_TABLE = 15;
export const RTA_VIA = 18;

export const RT_TABLE_UNSPEC = 0;
export const RT_TABLE_DEFAULT = 253;
export const RT_TABLE_MAIN = 254;
export const RTPROT_UNSPEC = 0;
export const RTPROT_BOOT = 3;
export const RTPROT_STATIC = 4;
export const RT_SCOPE_UNIVERSE = 0;
export const RT_SCOPE_LINK = 253;
/** In a delete request: "any scope" (fib_table_delete treats it as a wildcard). */
export const RT_SCOPE_NOWHERE = 255;
export const RTN_UNSPEC = 0;
export const RTN_UNICAST = 1;
/** rtm_flags bit of a cached clone (IPv6 dumps may contain them): never a configured route. */
export const RTM_F_CLONED = 0x200;

export const IFLA_IFNAME = 3;
/** Nested: the link's driver (rtnl_link_ops), e.g. IFLA_INFO_KIND "tun" for a TUN or TAP. */
export const IFLA_LINKINFO = 18;
export const IFLA_INFO_KIND = 1;
export const IFF_UP = 0x1;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_LOWER_UP = 0x10000;
/** rtm_flags of a route whose device has no carrier (include/uapi/linux/rtnetlink.h). */
export const RTNH_F_LINKDOWN = 16;
/** ifi_type of a TUN device (and of wireguard): no link-layer header. */
export const ARPHRD_NONE = 0xfffe;

/** uapi/linux/fib_rules.h: struct fib_rule_hdr is 12 bytes; the attributes defroute reads. */
export const FIB_RULE_HDR_LEN = 12;
export const FRA_IIFNAME = 3;
export const FRA_PRIORITY = 6;
export const FRA_FWMARK = 10;
export const FRA_SUPPRESS_PREFIXLEN = 14;
export const FRA_TABLE = 15;
export const FRA_FWMASK = 16;
export const FRA_OIFNAME = 17;
export const FRA_UID_RANGE = 20;
/** fib_rule_hdr.action: look the destination up in a table. */
export const FR_ACT_TO_TBL = 1;
/** fib_rule_hdr.flags: the selector is inverted (`ip rule add not ...`). */
export const FIB_RULE_INVERT = 0x2;

export const NLMSG_HDRLEN = 16;
export const RTMSG_LEN = 12;
export const IFINFOMSG_LEN = 16;
export const RTA_HDRLEN = 4;
/** nlmsgerr: int error + the request's nlmsghdr. */
export const NLMSGERR_MIN_LEN = 4 + NLMSG_HDRLEN;

/** NLMSG_ALIGN / RTA_ALIGN: round up to 4 bytes. */
export function align4(length: number): number {
  return (length + 3) & ~3;
}

// ---- types ------------------------------------------------------------------------------------

export interface NetlinkHeader {
  /** nlmsg_len: header + payload, unaligned. */
  length: number;
  type: number;
  flags: number;
  seq: number;
  /** nlmsg_pid: sender port id (0 = kernel); in a multicast after a change, the requester's. */
  pid: number;
}

/** struct rtmsg plus the attributes defroute reads or writes. Addresses are raw bytes. */
export interface RouteFields {
  family: number;
  dstLen: number;
  srcLen: number;
  tos: number;
  /** rtm_table; the full table id is in `tableId` (RTA_TABLE wins when present). */
  table: number;
  protocol: number;
  scope: number;
  type: number;
  flags: number;
  dst: Uint8Array | null;
  gateway: Uint8Array | null;
  oif: number | null;
  priority: number | null;
  /** RTA_TABLE, or rtm_table when the attribute is absent. */
  tableId: number;
  /** True when the route has RTA_MULTIPATH (gateway/oif then come from its first nexthop). */
  multipath: boolean;
}

export interface LinkFields {
  family: number;
  /** ifi_type (ARPHRD_*). */
  type: number;
  index: number;
  flags: number;
  change: number;
  name: string | null;
  /** The driver's kind from IFLA_LINKINFO/IFLA_INFO_KIND ("tun", "wireguard", "veth"); null for
   * a device without rtnl_link_ops (a physical NIC). */
  kind?: string | null;
}

/** struct fib_rule_hdr plus the attributes that say whom a rule applies to and where it sends
 * them (`ip rule` prints the same). */
export interface RuleFields {
  family: number;
  dstLen: number;
  srcLen: number;
  action: number;
  flags: number;
  /** FRA_TABLE, or the header's table byte when absent. */
  table: number;
  /** FRA_PRIORITY; 0 when absent (the kernel's first rule). */
  priority: number;
  fwmark: number | null;
  fwmask: number | null;
  /** FRA_SUPPRESS_PREFIXLEN; null when absent or -1 (not set). */
  suppressPrefixLength: number | null;
  /** The rule names an input or output interface, or a uid range: it selects only some traffic. */
  narrowed: boolean;
}

export type NetlinkMessage =
  | { kind: "route"; header: NetlinkHeader; route: RouteFields }
  | { kind: "rule"; header: NetlinkHeader; rule: RuleFields }
  | { kind: "link"; header: NetlinkHeader; link: LinkFields }
  | { kind: "address"; header: NetlinkHeader; address: AddressFields }
  /** NLMSG_ERROR: errno > 0 is a failure (the kernel sends -errno), errno 0 an ack. */
  | { kind: "error"; header: NetlinkHeader; errno: number; request: NetlinkHeader }
  | { kind: "done"; header: NetlinkHeader }
  /** Anything else (NOOP, OVERRUN, address messages): the header only. */
  | { kind: "other"; header: NetlinkHeader };

/** struct ifaddrmsg (if_addr.h) and the address itself: an interface's own address. */
export interface AddressFields {
  family: number;
  prefixLength: number;
  index: number;
  /** IFA_LOCAL (the interface's own address; on a point-to-point link IFA_ADDRESS is the peer),
   * else IFA_ADDRESS; null when neither is there. */
  local: Uint8Array | null;
}

export type Decoded<T> = { ok: true; value: T } | { ok: false; error: string };

export interface DecodedBatch {
  messages: NetlinkMessage[];
  /** How many messages (or trailing fragments) could not be parsed. */
  skipped: number;
  /** Why, one line each, for -v diagnostics. */
  errors: string[];
}

// ---- encoding ---------------------------------------------------------------------------------

export interface Attribute {
  type: number;
  data: Uint8Array;
}

export function u32Attribute(type: number, value: number): Attribute {
  const data = new Uint8Array(4);
  new DataView(data.buffer).setUint32(0, value >>> 0, true);
  return { type, data };
}

/** rtattr list: each {u16 len, u16 type, data} padded to 4 bytes. */
export function encodeAttributes(attributes: readonly Attribute[]): Uint8Array {
  const total = attributes.reduce((sum, a) => sum + align4(RTA_HDRLEN + a.data.length), 0);
  const out = new Uint8Array(total);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const attribute of attributes) {
    view.setUint16(at, RTA_HDRLEN + attribute.data.length, true);
    view.setUint16(at + 2, attribute.type, true);
    out.set(attribute.data, at + RTA_HDRLEN);
    at += align4(RTA_HDRLEN + attribute.data.length);
  }
  return out;
}

/** nlmsghdr + payload; nlmsg_len counts the payload unpadded, the buffer is padded to 4. */
export function encodeMessage(
  header: Omit<NetlinkHeader, "length">,
  payload: Uint8Array,
): Uint8Array {
  const length = NLMSG_HDRLEN + payload.length;
  const out = new Uint8Array(align4(length));
  const view = new DataView(out.buffer);
  view.setUint32(0, length, true);
  view.setUint16(4, header.type, true);
  view.setUint16(6, header.flags, true);
  view.setUint32(8, header.seq >>> 0, true);
  view.setUint32(12, header.pid >>> 0, true);
  out.set(payload, NLMSG_HDRLEN);
  return out;
}

export interface RouteRequest {
  family: number;
  dstLen?: number;
  table?: number;
  protocol?: number;
  scope?: number;
  type?: number;
  flags?: number;
  dst?: Uint8Array | null;
  gateway?: Uint8Array | null;
  oif?: number | null;
  priority?: number | null;
  /** Emit RTA_TABLE (needed for table ids above 255; harmless otherwise). */
  tableAttribute?: number | null;
}

/** struct rtmsg (12 bytes) + attributes. */
export function encodeRtmsg(route: RouteRequest): Uint8Array {
  const attributes: Attribute[] = [];
  if (route.dst) attributes.push({ type: RTA_DST, data: route.dst });
  if (route.gateway) attributes.push({ type: RTA_GATEWAY, data: route.gateway });
  // Same attribute order as iproute2's `ip route add|del`, so requests compare byte for byte.
  if (route.priority !== undefined && route.priority !== null) {
    attributes.push(u32Attribute(RTA_PRIORITY, route.priority));
  }
  if (route.oif !== undefined && route.oif !== null && route.oif > 0) {
    attributes.push(u32Attribute(RTA_OIF, route.oif));
  }
  if (route.tableAttribute !== undefined && route.tableAttribute !== null) {
    attributes.push(u32Attribute(RTA_TABLE, route.tableAttribute));
  }
  const attrs = encodeAttributes(attributes);
  const out = new Uint8Array(RTMSG_LEN + attrs.length);
  out[0] = route.family;
  out[1] = route.dstLen ?? 0;
  out[2] = 0; // rtm_src_len
  out[3] = 0; // rtm_tos
  out[4] = route.table ?? RT_TABLE_UNSPEC;
  out[5] = route.protocol ?? RTPROT_UNSPEC;
  out[6] = route.scope ?? RT_SCOPE_UNIVERSE;
  out[7] = route.type ?? RTN_UNSPEC;
  new DataView(out.buffer).setUint32(8, route.flags ?? 0, true);
  out.set(attrs, RTMSG_LEN);
  return out;
}

/** RTM_GETROUTE dump of one family (the kernel sends every table; the caller filters). */
export function encodeRouteDumpRequest(seq: number, family: number): Uint8Array {
  return encodeMessage(
    { type: RTM_GETROUTE, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, pid: 0 },
    encodeRtmsg({ family }),
  );
}

/** RTM_GETRULE dump of one family (`ip -4 rule show`): struct fib_rule_hdr with the family. */
export function encodeRuleDumpRequest(seq: number, family: number): Uint8Array {
  const header = new Uint8Array(FIB_RULE_HDR_LEN);
  header[0] = family;
  return encodeMessage(
    { type: RTM_GETRULE, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, pid: 0 },
    header,
  );
}

/** RTM_GETLINK dump: struct ifinfomsg with family AF_UNSPEC and nothing else. */
export function encodeLinkDumpRequest(seq: number): Uint8Array {
  return encodeMessage(
    { type: RTM_GETLINK, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, pid: 0 },
    new Uint8Array(IFINFOMSG_LEN),
  );
}

/** struct ifaddrmsg: family, prefixlen, flags, scope (u8 each), index (u32). */
export const IFADDRMSG_LEN = 8;
export const IFA_ADDRESS = 1;
export const IFA_LOCAL = 2;

/** RTM_GETADDR dump of every family's interface addresses. */
export function encodeAddressDumpRequest(seq: number): Uint8Array {
  return encodeMessage(
    { type: RTM_GETADDR, flags: NLM_F_REQUEST | NLM_F_DUMP, seq, pid: 0 },
    new Uint8Array(IFADDRMSG_LEN),
  );
}

/** What an add or delete of a default route needs; addresses already as bytes. */
export interface DefaultRouteRequest {
  family: Family;
  gateway: Uint8Array | null;
  oif: number;
  priority: number | null;
}

/**
 * RTM_NEWROUTE for a default route in the main table, like `ip route add default via GW dev IF
 * proto static`: NLM_F_CREATE|NLM_F_EXCL so an existing route is EEXIST, never replaced, and
 * NLM_F_ACK so success is confirmed. Without a gateway the route is scope link (iproute2 does the
 * same for `default dev tun0`).
 */
export function encodeAddDefaultRoute(seq: number, route: DefaultRouteRequest): Uint8Array {
  return encodeMessage(
    {
      type: RTM_NEWROUTE,
      flags: NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL,
      seq,
      pid: 0,
    },
    encodeRtmsg({
      family: route.family === 4 ? AF_INET : AF_INET6,
      dstLen: 0,
      table: RT_TABLE_MAIN,
      protocol: RTPROT_STATIC,
      scope: route.gateway || route.family === 6 ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK,
      type: RTN_UNICAST,
      gateway: route.gateway,
      oif: route.oif,
      priority: route.priority,
    }),
  );
}

/**
 * RTM_DELROUTE matching one default route: gateway, oif and metric when known; protocol and
 * type left 0 and scope RT_SCOPE_NOWHERE, which the kernel reads as "any" (as `ip route del`).
 */
export function encodeDeleteDefaultRoute(seq: number, route: DefaultRouteRequest): Uint8Array {
  return encodeMessage(
    { type: RTM_DELROUTE, flags: NLM_F_REQUEST | NLM_F_ACK, seq, pid: 0 },
    encodeRtmsg({
      family: route.family === 4 ? AF_INET : AF_INET6,
      dstLen: 0,
      table: RT_TABLE_MAIN,
      protocol: RTPROT_UNSPEC,
      scope: route.family === 4 ? RT_SCOPE_NOWHERE : RT_SCOPE_UNIVERSE,
      type: RTN_UNSPEC,
      gateway: route.gateway,
      oif: route.oif,
      priority: route.priority,
    }),
  );
}

// ---- decoding ---------------------------------------------------------------------------------

function fail<T>(error: string): Decoded<T> {
  return { ok: false, error };
}

/** Read a nlmsghdr at `offset`; the length is checked against what is left. */
export function decodeHeader(bytes: Uint8Array, offset = 0): Decoded<NetlinkHeader> {
  if (bytes.length - offset < NLMSG_HDRLEN) {
    return fail(`header needs ${NLMSG_HDRLEN} bytes, ${bytes.length - offset} left`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + offset, NLMSG_HDRLEN);
  const header: NetlinkHeader = {
    length: view.getUint32(0, true),
    type: view.getUint16(4, true),
    flags: view.getUint16(6, true),
    seq: view.getUint32(8, true),
    pid: view.getUint32(12, true),
  };
  if (header.length < NLMSG_HDRLEN) {
    return fail(`nlmsg_len ${header.length} is shorter than the header`);
  }
  if (header.length > bytes.length - offset) {
    return fail(`nlmsg_len ${header.length} runs past the ${bytes.length - offset} bytes left`);
  }
  return { ok: true, value: header };
}

/** rtattr list -> type -> data (last one wins). Malformed lengths are an error. */
export function decodeAttributes(bytes: Uint8Array): Decoded<Map<number, Uint8Array>> {
  const attributes = new Map<number, Uint8Array>();
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  while (bytes.length - at >= RTA_HDRLEN) {
    const length = view.getUint16(at, true);
    // NLA_F_NESTED / NLA_F_NET_BYTEORDER live in the top bits of the type.
    const type = view.getUint16(at + 2, true) & 0x3fff;
    if (length < RTA_HDRLEN) return fail(`rta_len ${length} at ${at} is shorter than its header`);
    if (length > bytes.length - at) return fail(`rta_len ${length} at ${at} runs past the end`);
    attributes.set(type, bytes.subarray(at + RTA_HDRLEN, at + length));
    at += align4(length);
  }
  // Fewer than 4 trailing bytes are padding the kernel is allowed to leave; anything else is not
  // an attribute and is ignored rather than failing the whole message.
  return { ok: true, value: attributes };
}

function u32Of(data: Uint8Array | undefined): number | null {
  if (!data || data.length < 4) return null;
  return new DataView(data.buffer, data.byteOffset, 4).getUint32(0, true);
}

function addressLength(family: number): number | null {
  return family === AF_INET ? 4 : family === AF_INET6 ? 16 : null;
}

/** First nexthop of RTA_MULTIPATH: struct rtnexthop {u16 len; u8 flags, hops; i32 ifindex}. */
function firstNexthop(
  data: Uint8Array,
): { oif: number; gateway: Uint8Array | null } | null {
  if (data.length < 8) return null;
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const length = view.getUint16(0, true);
  if (length < 8 || length > data.length) return null;
  const attributes = decodeAttributes(data.subarray(8, length));
  return {
    oif: view.getInt32(4, true),
    gateway: attributes.ok ? attributes.value.get(RTA_GATEWAY) ?? null : null,
  };
}

export function decodeRoute(payload: Uint8Array): Decoded<RouteFields> {
  if (payload.length < RTMSG_LEN) return fail(`rtmsg needs ${RTMSG_LEN} bytes, ${payload.length}`);
  const attributes = decodeAttributes(payload.subarray(RTMSG_LEN));
  if (!attributes.ok) return fail(`route attributes: ${attributes.error}`);
  const family = payload[0]!;
  const table = payload[4]!;
  const attrs = attributes.value;
  const size = addressLength(family);
  const address = (data: Uint8Array | undefined) =>
    data && size !== null && data.length === size ? data.slice() : null;
  let gateway = address(attrs.get(RTA_GATEWAY));
  let oif = u32Of(attrs.get(RTA_OIF));
  const via = attrs.get(RTA_VIA);
  if (!gateway && via && via.length >= 2) {
    // struct rtvia {u16 family; u8 addr[]}: only used here when it is the route's own family.
    const viaFamily = via[0]! | (via[1]! << 8);
    if (viaFamily === family) gateway = address(via.subarray(2));
  }
  const multipathData = attrs.get(RTA_MULTIPATH);
  if (multipathData) {
    const first = firstNexthop(multipathData);
    if (first) {
      gateway ??= address(first.gateway ?? undefined);
      oif ??= first.oif;
    }
  }
  return {
    ok: true,
    value: {
      family,
      dstLen: payload[1]!,
      srcLen: payload[2]!,
      tos: payload[3]!,
      table,
      protocol: payload[5]!,
      scope: payload[6]!,
      type: payload[7]!,
      flags: new DataView(payload.buffer, payload.byteOffset + 8, 4).getUint32(0, true),
      dst: address(attrs.get(RTA_DST)),
      gateway,
      oif,
      priority: u32Of(attrs.get(RTA_PRIORITY)),
      tableId: u32Of(attrs.get(RTA_TABLE)) ?? table,
      multipath: multipathData !== undefined,
    },
  };
}

export function decodeLink(payload: Uint8Array): Decoded<LinkFields> {
  if (payload.length < IFINFOMSG_LEN) {
    return fail(`ifinfomsg needs ${IFINFOMSG_LEN} bytes, ${payload.length}`);
  }
  const view = new DataView(payload.buffer, payload.byteOffset, IFINFOMSG_LEN);
  const attributes = decodeAttributes(payload.subarray(IFINFOMSG_LEN));
  if (!attributes.ok) return fail(`link attributes: ${attributes.error}`);
  const name = cString(attributes.value.get(IFLA_IFNAME));
  const info = attributes.value.get(IFLA_LINKINFO);
  const nested = info ? decodeAttributes(info) : null;
  const kind = nested?.ok ? cString(nested.value.get(IFLA_INFO_KIND)) : null;
  return {
    ok: true,
    value: {
      family: payload[0]!,
      type: view.getUint16(2, true),
      index: view.getInt32(4, true),
      flags: view.getUint32(8, true),
      change: view.getUint32(12, true),
      name,
      kind,
    },
  };
}

/** A NUL-terminated (or not) string attribute; null when absent. */
function cString(data: Uint8Array | undefined): string | null {
  if (!data) return null;
  const end = data.indexOf(0);
  return decodeUtf8(end < 0 ? data : data.subarray(0, end));
}

/** struct fib_rule_hdr {u8 family, dst_len, src_len, tos, table, res1, res2, action; u32
 * flags} and its attributes (uapi/linux/fib_rules.h). */
export function decodeRule(payload: Uint8Array): Decoded<RuleFields> {
  if (payload.length < FIB_RULE_HDR_LEN) {
    return fail(`fib_rule_hdr needs ${FIB_RULE_HDR_LEN} bytes, ${payload.length}`);
  }
  const attributes = decodeAttributes(payload.subarray(FIB_RULE_HDR_LEN));
  if (!attributes.ok) return fail(`rule attributes: ${attributes.error}`);
  const a = attributes.value;
  const suppress = u32Of(a.get(FRA_SUPPRESS_PREFIXLEN));
  return {
    ok: true,
    value: {
      family: payload[0]!,
      dstLen: payload[1]!,
      srcLen: payload[2]!,
      action: payload[7]!,
      flags: new DataView(payload.buffer, payload.byteOffset + 8, 4).getUint32(0, true),
      table: u32Of(a.get(FRA_TABLE)) ?? payload[4]!,
      priority: u32Of(a.get(FRA_PRIORITY)) ?? 0,
      fwmark: u32Of(a.get(FRA_FWMARK)),
      fwmask: u32Of(a.get(FRA_FWMASK)),
      // -1 (0xffffffff) is the kernel's "not set".
      suppressPrefixLength: suppress === null || suppress === 0xffffffff ? null : suppress,
      narrowed: a.has(FRA_IIFNAME) || a.has(FRA_OIFNAME) || a.has(FRA_UID_RANGE),
    },
  };
}

export function decodeAddress(payload: Uint8Array): Decoded<AddressFields> {
  if (payload.length < IFADDRMSG_LEN) {
    return fail(`ifaddrmsg needs ${IFADDRMSG_LEN} bytes, ${payload.length}`);
  }
  const attributes = decodeAttributes(payload.subarray(IFADDRMSG_LEN));
  if (!attributes.ok) return fail(`address attributes: ${attributes.error}`);
  const local = attributes.value.get(IFA_LOCAL) ?? attributes.value.get(IFA_ADDRESS) ?? null;
  return {
    ok: true,
    value: {
      family: payload[0]!,
      prefixLength: payload[1]!,
      index: new DataView(payload.buffer, payload.byteOffset + 4, 4).getUint32(0, true),
      local: local ? local.slice() : null,
    },
  };
}

/** One message whose header is already known to fit in `bytes`. */
export function decodeMessage(bytes: Uint8Array): Decoded<NetlinkMessage> {
  const headerResult = decodeHeader(bytes);
  if (!headerResult.ok) return headerResult;
  const header = headerResult.value;
  const payload = bytes.subarray(NLMSG_HDRLEN, header.length);
  switch (header.type) {
    case NLMSG_ERROR: {
      if (payload.length < NLMSGERR_MIN_LEN) {
        return fail(`nlmsgerr needs ${NLMSGERR_MIN_LEN} bytes, ${payload.length}`);
      }
      const error = new DataView(payload.buffer, payload.byteOffset, 4).getInt32(0, true);
      // The echoed request header carries the original length, which may exceed what was
      // echoed (NLM_F_CAPPED): read its fields without the length check.
      const echoed = new DataView(payload.buffer, payload.byteOffset + 4, NLMSG_HDRLEN);
      const request: NetlinkHeader = {
        length: echoed.getUint32(0, true),
        type: echoed.getUint16(4, true),
        flags: echoed.getUint16(6, true),
        seq: echoed.getUint32(8, true),
        pid: echoed.getUint32(12, true),
      };
      // `0 - error`, not `-error`: an ack must be 0, not -0.
      return { ok: true, value: { kind: "error", header, errno: 0 - error, request } };
    }
    case NLMSG_DONE:
      return { ok: true, value: { kind: "done", header } };
    case RTM_NEWROUTE:
    case RTM_DELROUTE:
    case RTM_GETROUTE: {
      const route = decodeRoute(payload);
      return route.ok ? { ok: true, value: { kind: "route", header, route: route.value } } : route;
    }
    case RTM_NEWRULE:
    case RTM_DELRULE: {
      const rule = decodeRule(payload);
      return rule.ok ? { ok: true, value: { kind: "rule", header, rule: rule.value } } : rule;
    }
    case RTM_NEWLINK:
    case RTM_DELLINK:
    case RTM_GETLINK: {
      const link = decodeLink(payload);
      return link.ok ? { ok: true, value: { kind: "link", header, link: link.value } } : link;
    }
    case RTM_NEWADDR:
    case RTM_DELADDR: {
      const address = decodeAddress(payload);
      return address.ok
        ? { ok: true, value: { kind: "address", header, address: address.value } }
        : address;
    }
    default:
      return { ok: true, value: { kind: "other", header } };
  }
}

/** The little-endian u32 at `at` (which fits), without a DataView. */
function u32At(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>>
    0;
}

/** Whether the message at `at` (whose nlmsg_len `length` fits) is a route message with an
 * rtmsg whose rtm_dst_len is not in `wanted`: read from two header bytes, nothing decoded. */
function unwantedRoute(
  bytes: Uint8Array,
  at: number,
  length: number,
  wanted: PrefixLengths,
): boolean {
  const type = bytes[at + 4]! | (bytes[at + 5]! << 8);
  if (type !== RTM_NEWROUTE && type !== RTM_DELROUTE && type !== RTM_GETROUTE) return false;
  // A body too short for its rtmsg is decoded (and reported) as before.
  if (length < NLMSG_HDRLEN + RTMSG_LEN) return false;
  return !wantsPrefix(wanted, bytes[at + NLMSG_HDRLEN + 1]!);
}

/**
 * Whether `datagram` holds an IPv4 route of table `table` (in the answer `seq`, when given)
 * whose destination is not 0.0.0.0: in
 * an IPv4 dump that proves the rest of the dump holds none of that table's defaults. The kernel
 * walks each table's trie in key order, and the leaf of key 0.0.0.0, which holds every
 * 0.0.0.0/N route and so the defaults, comes first (net/ipv4/fib_trie.c fib_table_dump: "Dump
 * starting at last key. Note: 0.0.0.0/0 (ie default) is first key"). Reads only header bytes and
 * the attributes of that table's routes; never throws on garbage (false when unsure).
 */
export function passedIpv4Defaults(datagram: Uint8Array, table: number, seq?: number): boolean {
  let at = 0;
  while (datagram.length - at >= NLMSG_HDRLEN) {
    const length = u32At(datagram, at);
    if (length < NLMSG_HDRLEN || length > datagram.length - at) return false;
    const type = datagram[at + 4]! | (datagram[at + 5]! << 8);
    const body = at + NLMSG_HDRLEN;
    if (
      type === RTM_NEWROUTE && length >= NLMSG_HDRLEN + RTMSG_LEN && datagram[body] === AF_INET &&
      datagram[body + 1] !== 0 && (seq === undefined || u32At(datagram, at + 8) === seq >>> 0) &&
      nonZeroIpv4Destination(datagram, body, at + length, table)
    ) {
      return true;
    }
    at += align4(length);
  }
  return false;
}

/** The route whose rtmsg starts at `body` (attributes up to `end`) is in `table` and has an
 * RTA_DST other than 0.0.0.0. */
function nonZeroIpv4Destination(
  bytes: Uint8Array,
  body: number,
  end: number,
  table: number,
): boolean {
  let tableId = bytes[body + 4]!;
  let destination = -1;
  let at = body + RTMSG_LEN;
  while (end - at >= RTA_HDRLEN) {
    const length = bytes[at]! | (bytes[at + 1]! << 8);
    const type = (bytes[at + 2]! | (bytes[at + 3]! << 8)) & 0x3fff;
    if (length < RTA_HDRLEN || length > end - at) return false;
    if (type === RTA_TABLE && length >= RTA_HDRLEN + 4) {
      tableId = u32At(bytes, at + 4);
    } else if (type === RTA_DST && length === RTA_HDRLEN + 4) {
      destination = bytes[at + 4]! | bytes[at + 5]! | bytes[at + 6]! | bytes[at + 7]!;
    }
    at += align4(length);
  }
  return tableId === table && destination > 0;
}

/**
 * Every message in one datagram. A message with a sane header but a bad body is skipped and
 * counted; a bad header ends the walk (there is no way to find the next message), and the
 * rest is counted as one skipped fragment. nlmsg_len 0 is a bad header, so it cannot loop.
 *
 * With `routePrefixes`, a route message whose rtm_dst_len is not wanted is stepped over by its
 * header alone, neither decoded nor counted: a 100,000-route table's dump then costs a few
 * byte reads per route instead of a decoded object each (issue 15). The messages returned are
 * exactly those the plain walk returns, less those routes.
 */
export function decodeMessages(bytes: Uint8Array, routePrefixes?: PrefixLengths): DecodedBatch {
  const batch: DecodedBatch = { messages: [], skipped: 0, errors: [] };
  let at = 0;
  while (at < bytes.length) {
    if (routePrefixes !== undefined && bytes.length - at >= NLMSG_HDRLEN) {
      const length = u32At(bytes, at);
      if (
        length >= NLMSG_HDRLEN && length <= bytes.length - at &&
        unwantedRoute(bytes, at, length, routePrefixes)
      ) {
        at += align4(length);
        continue;
      }
    }
    const header = decodeHeader(bytes, at);
    if (!header.ok) {
      batch.skipped++;
      batch.errors.push(`at ${at}: ${header.error}`);
      break;
    }
    const message = decodeMessage(bytes.subarray(at, at + header.value.length));
    if (message.ok) {
      batch.messages.push(message.value);
    } else {
      batch.skipped++;
      batch.errors.push(`at ${at} (type ${header.value.type}): ${message.error}`);
    }
    at += align4(header.value.length);
  }
  return batch;
}

// ---- addresses and errno names -----------------------------------------------------------------

/** "192.168.1.1" / "fe80::1" (a "%zone" suffix is dropped) -> network-order bytes. IPv4 must be a
 * strict dotted quad (no "10.1" or "010.0.0.1"). */
export function addressBytes(text: string, family: Family): Decoded<Uint8Array> {
  const bare = text.split("%")[0] ?? text;
  const v4 = parseIPv4(bare);
  const v6 = v4 === null ? parseIPv6(bare) : null;
  if (v4 === null && v6 === null) return fail(`"${text}" is not an IP address`);
  const value = family === 4 ? v4 : v6;
  if (value === null) return fail(`${text} is not an IPv${family} address`);
  return { ok: true, value };
}

/** Network-order bytes -> text ("10.0.0.1", "fe80::1"); null when the length is neither. */
export function addressText(bytes: Uint8Array): string | null {
  if (bytes.length === 4) return formatIPv4(bytes);
  return bytes.length === 16 ? formatIPv6(bytes) : null;
}

/** Linux errno numbers (asm-generic/errno-base.h, errno.h) defroute can meet, by name. */
const LINUX_ERRNO_NAMES: Readonly<Record<number, string>> = {
  1: "EPERM",
  2: "ENOENT",
  3: "ESRCH",
  4: "EINTR",
  5: "EIO",
  9: "EBADF",
  11: "EAGAIN",
  12: "ENOMEM",
  13: "EACCES",
  14: "EFAULT",
  16: "EBUSY",
  17: "EEXIST",
  19: "ENODEV",
  22: "EINVAL",
  24: "EMFILE",
  34: "ERANGE",
  90: "EMSGSIZE",
  93: "EPROTONOSUPPORT",
  95: "EOPNOTSUPP",
  97: "EAFNOSUPPORT",
  99: "EADDRNOTAVAIL",
  100: "ENETDOWN",
  101: "ENETUNREACH",
  105: "ENOBUFS",
  111: "ECONNREFUSED",
  113: "EHOSTUNREACH",
};

export function errnoName(errno: number): string {
  return LINUX_ERRNO_NAMES[errno] ?? `errno ${errno}`;
}
