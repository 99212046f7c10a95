/**
 * The macOS routing-message codec: pure functions over bytes, no Deno.* (docs/architecture.md §1).
 *
 * API
 * - `decodeMessage(bytes)` -> `{ ok: true, message }` | `{ ok: false, error }`. Never throws.
 *   `message` is a plain object: `kind` ("route" | "route2" | "interface" | "interface2" |
 *   "address" | "multicast" | "multicast2", chosen by `type`), `type`, `version`, `length`
 *   (msglen), `flags`, `index`, `addrBits` (raw rtm_addrs), `addrs` keyed by slot name (`dst`,
 *   `gateway`, `netmask`, `genmask`, `ifp`, `ifa`, `author`, `brd`; see ./sockaddr.ts), and the
 *   header fields of its kind: route -> `pid`, `seq`, `errno`, `use`, `inits`, `metrics`;
 *   route2 (RTM_GET2) -> `refcnt`, `parentflags`, `reserved`, ...; interface (RTM_IFINFO) ->
 *   `data` (if_data: `type`, `mtu`, counters); address (RTM_NEWADDR/DELADDR) -> `metric`.
 *   `style: "rt_msg1"` marks a message whose msglen stops at the last sockaddr's unpadded end;
 *   `addrsTruncated: true` marks set bits whose sockaddrs did not fit.
 * - `decodeMessages(buffer)` -> `{ messages, skipped, errors }` for a monitor read or a sysctl
 *   dump holding several messages; what cannot be parsed is skipped and counted, and a msglen
 *   below 4 (including 0) ends the walk instead of looping.
 * - `encodeRouteMessage(init)` (alias `encodeMessage`) -> Uint8Array for every kind the decoder
 *   knows. `init` is a decoded message or a partial one (`type` is required, the rest defaults
 *   to 0; `kind` follows from `type`). rtm_msglen and rtm_addrs are computed from the sockaddrs
 *   given (`extraAddrBits` adds bits with no sockaddr). Decoding an encoding gives the input back.
 * - `defaultRouteRequest({ type, family, gateway?, zone?, ifscope?, seq, form, ifpIndex?, ifa? })`
 *   -> the RouteMessageInit route(8) (`form: "route8"`) or configd (`form: "configd"`) would send
 *   for the default route (docs/macos-routing-socket.md §3.3, §5.3).
 * - `kernelDefaultNetmask()` -> the `00 00 00 00` netmask rt_msg2 writes for a default in GET
 *   replies and dumps (docs/macos-routing-socket.md §3.4), for simulators.
 *
 * Header layouts: docs/macos-routing-socket.md §1 (rt_msghdr 92 bytes with rtm_errno at offset 24,
 * not 28 as x/net reads it, §8; rt_msghdr2 92; if_msghdr 112; ifa_msghdr 20; ifma_msghdr 16;
 * if_msghdr2 160; ifma_msghdr2 20). All little-endian (both darwin ABIs,
 * docs/macos-routing-socket.md §0).
 */
import {
  AF_INET,
  AF_INET6,
  RTA_AUTHOR,
  RTA_BRD,
  RTA_DST,
  RTA_GATEWAY,
  RTA_GENMASK,
  RTA_IFA,
  RTA_IFP,
  RTA_NETMASK,
  RTF_GATEWAY,
  RTF_IFSCOPE,
  RTF_STATIC,
  RTF_UP,
  RTM_ADD,
  RTM_CHANGE,
  RTM_DELADDR,
  RTM_DELETE,
  RTM_DELMADDR,
  RTM_GET,
  RTM_GET2,
  RTM_GET_SILENT,
  RTM_IFINFO,
  RTM_IFINFO2,
  RTM_LOCK,
  RTM_LOSING,
  RTM_MISS,
  RTM_NEWADDR,
  RTM_NEWMADDR,
  RTM_NEWMADDR2,
  RTM_OLDADD,
  RTM_OLDDEL,
  RTM_REDIRECT,
  RTM_RESOLVE,
  RTM_VERSION,
  SIZEOF_IF_MSGHDR,
  SIZEOF_IF_MSGHDR2,
  SIZEOF_IFA_MSGHDR,
  SIZEOF_IFMA_MSGHDR,
  SIZEOF_IFMA_MSGHDR2,
  SIZEOF_RT_MSGHDR,
  SIZEOF_RT_MSGHDR2,
} from "./constants.ts";
import {
  decodeSockaddr,
  type Inet4Sockaddr,
  type Inet6Sockaddr,
  type MaskFamily,
  roundup32,
  type Sockaddr,
  SOCKADDR_SLOTS,
  sockaddrLength,
  type SockaddrSlot,
  writeSockaddr,
} from "./sockaddr.ts";

import { type PrefixLengths, wantsPrefix } from "../util/prefix_lengths.ts";

export * from "./constants.ts";
export { type PrefixLengths, prefixLengths } from "../util/prefix_lengths.ts";
export * from "./sockaddr.ts";

/** Sockaddrs of a message by slot; a slot is present iff its rtm_addrs bit was decoded. */
export type Addrs = Partial<Record<SockaddrSlot, Sockaddr>>;

/** struct rt_metrics (docs/macos-routing-socket.md §1.1), 56 bytes at offset 36 of
 * rt_msghdr/rt_msghdr2. */
export interface RouteMetrics {
  locks: number;
  mtu: number;
  hopcount: number;
  /** int32_t, the only signed field. */
  expire: number;
  recvpipe: number;
  sendpipe: number;
  ssthresh: number;
  rtt: number;
  rttvar: number;
  pksent: number;
}

/** struct if_data (docs/macos-routing-socket.md §1.4), 96 bytes at offset 16 of if_msghdr. */
export interface InterfaceData {
  type: number;
  typelen: number;
  physical: number;
  addrlen: number;
  hdrlen: number;
  recvquota: number;
  xmitquota: number;
  mtu: number;
  metric: number;
  baudrate: number;
  ipackets: number;
  ierrors: number;
  opackets: number;
  oerrors: number;
  collisions: number;
  ibytes: number;
  obytes: number;
  imcasts: number;
  omcasts: number;
  iqdrops: number;
  noproto: number;
  recvtiming: number;
  xmittiming: number;
  lastchangeSec: number;
  lastchangeUsec: number;
  hwassist: number;
}

/** The leading fields of struct if_data64 that RTM_IFINFO2 consumers need. */
export interface InterfaceData64 {
  type: number;
  typelen: number;
  physical: number;
  addrlen: number;
  hdrlen: number;
  mtu: number;
  metric: number;
}

interface MessageCommon {
  type: number;
  version: number;
  /** msglen as read (decoded) - ignored by the encoder, which computes it. */
  length: number;
  flags: number;
  index: number;
  /** rtm_addrs as read - ignored by the encoder, which computes it from `addrs`. */
  addrBits: number;
  addrs: Addrs;
  /** msglen ends at the last sockaddr's unpadded length (rtsock.c rt_msg1,
   * docs/macos-routing-socket.md §3.5). */
  style?: "rt_msg1";
  /** Some set bits had no room left and are missing from `addrs`. */
  addrsTruncated?: true;
}

/** rt_msghdr: RTM_ADD .. RTM_RESOLVE and RTM_GET_SILENT (docs/macos-routing-socket.md §1.2). */
export interface RouteMessage extends MessageCommon {
  kind: "route";
  pid: number;
  seq: number;
  /** rtm_errno, offset 24. */
  errno: number;
  use: number;
  inits: number;
  metrics: RouteMetrics;
}

/** rt_msghdr2: RTM_GET2 in NET_RT_DUMP2 sysctl dumps; no pid/seq/errno
 * (docs/macos-routing-socket.md §1.3). */
export interface Route2Message extends MessageCommon {
  kind: "route2";
  refcnt: number;
  parentflags: number;
  reserved: number;
  use: number;
  inits: number;
  metrics: RouteMetrics;
}

/** if_msghdr: RTM_IFINFO (docs/macos-routing-socket.md §1.4). `flags` are IFF_* (u_short). */
export interface InterfaceMessage extends MessageCommon {
  kind: "interface";
  data: InterfaceData;
}

/** if_msghdr2: RTM_IFINFO2 from NET_RT_IFLIST2 (docs/macos-routing-socket.md §1.4). */
export interface Interface2Message extends MessageCommon {
  kind: "interface2";
  sndLen: number;
  sndMaxlen: number;
  sndDrops: number;
  timer: number;
  data: InterfaceData64;
}

/** ifa_msghdr: RTM_NEWADDR / RTM_DELADDR (docs/macos-routing-socket.md §1.4). */
export interface AddressMessage extends MessageCommon {
  kind: "address";
  metric: number;
}

/** ifma_msghdr: RTM_NEWMADDR / RTM_DELMADDR (docs/macos-routing-socket.md §1.4). */
export interface MulticastMessage extends MessageCommon {
  kind: "multicast";
}

/** ifma_msghdr2: RTM_NEWMADDR2 from NET_RT_IFLIST2 (docs/macos-routing-socket.md §1.4). */
export interface Multicast2Message extends MessageCommon {
  kind: "multicast2";
  refcount: number;
}

export type RoutingMessage =
  | RouteMessage
  | Route2Message
  | InterfaceMessage
  | Interface2Message
  | AddressMessage
  | MulticastMessage
  | Multicast2Message;

export type MessageKind = RoutingMessage["kind"];

type InitOf<M extends RoutingMessage, Nested extends string = never> =
  & { type: number; kind?: M["kind"]; extraAddrBits?: number }
  & Partial<Omit<M, "kind" | "type" | Nested>>;

export type RouteMessageInit = InitOf<RouteMessage, "metrics"> & {
  metrics?: Partial<RouteMetrics>;
};
export type Route2MessageInit = InitOf<Route2Message, "metrics"> & {
  metrics?: Partial<RouteMetrics>;
};
export type InterfaceMessageInit = InitOf<InterfaceMessage, "data"> & {
  data?: Partial<InterfaceData>;
};
export type Interface2MessageInit = InitOf<Interface2Message, "data"> & {
  data?: Partial<InterfaceData64>;
};
export type AddressMessageInit = InitOf<AddressMessage>;
export type MulticastMessageInit = InitOf<MulticastMessage>;
export type Multicast2MessageInit = InitOf<Multicast2Message>;

/** What the encoder accepts: a decoded message or any part of one with a `type`. */
export type RoutingMessageInit =
  | RouteMessageInit
  | Route2MessageInit
  | InterfaceMessageInit
  | Interface2MessageInit
  | AddressMessageInit
  | MulticastMessageInit
  | Multicast2MessageInit;

export type DecodeErrorKind =
  /** Fewer bytes than a message's first 4, or msglen shorter than its type's header. */
  | "too-short"
  /** msglen below 4 (0 included): no way to step over it. */
  | "bad-length"
  /** msglen larger than the bytes at hand (a truncated read or a corrupt length). */
  | "length-beyond-buffer"
  /** rtm_version is not 5. */
  | "bad-version"
  /** rtm_type this codec has no header layout for (e.g. private RTM_GET_EXT). */
  | "unknown-type"
  /** Anything else a decoder tripped on (a bug guard: decoding never throws). */
  | "malformed";

export interface DecodeError {
  kind: DecodeErrorKind;
  message: string;
  /** Offset of the message in the buffer (decodeMessages). */
  offset: number;
  type?: number;
  length?: number;
  version?: number;
}

export type DecodeResult =
  | { ok: true; message: RoutingMessage }
  | { ok: false; error: DecodeError };

export interface DecodedBuffer {
  messages: RoutingMessage[];
  /** Number of messages (or tails) that could not be parsed. */
  skipped: number;
  errors: DecodeError[];
}

/** Header layout per rtm_type. */
export function messageKind(type: number): MessageKind | null {
  switch (type) {
    case RTM_ADD:
    case RTM_DELETE:
    case RTM_CHANGE:
    case RTM_GET:
    case RTM_LOSING:
    case RTM_REDIRECT:
    case RTM_MISS:
    case RTM_LOCK:
    case RTM_OLDADD:
    case RTM_OLDDEL:
    case RTM_RESOLVE:
    case RTM_GET_SILENT:
      return "route";
    case RTM_GET2:
      return "route2";
    case RTM_IFINFO:
      return "interface";
    case RTM_IFINFO2:
      return "interface2";
    case RTM_NEWADDR:
    case RTM_DELADDR:
      return "address";
    case RTM_NEWMADDR:
    case RTM_DELMADDR:
      return "multicast";
    case RTM_NEWMADDR2:
      return "multicast2";
    default:
      return null;
  }
}

const HEADER_SIZE: Readonly<Record<MessageKind, number>> = {
  route: SIZEOF_RT_MSGHDR,
  route2: SIZEOF_RT_MSGHDR2,
  interface: SIZEOF_IF_MSGHDR,
  interface2: SIZEOF_IF_MSGHDR2,
  address: SIZEOF_IFA_MSGHDR,
  multicast: SIZEOF_IFMA_MSGHDR,
  multicast2: SIZEOF_IFMA_MSGHDR2,
};

/**
 * Where each header keeps the fields the kinds share. rt_msghdr puts index at 4 and addrs at 12;
 * the interface headers put addrs at 4, flags at 8 and index at 12 (docs/macos-routing-socket.md
 * §1.2, §1.4).
 */
interface CommonOffsets {
  index: number;
  flags: number;
  addrs: number;
}
const ROUTE_OFFSETS: CommonOffsets = { index: 4, flags: 8, addrs: 12 };
const INTERFACE_OFFSETS: CommonOffsets = { index: 12, flags: 8, addrs: 4 };

function offsetsOf(kind: MessageKind): CommonOffsets {
  return kind === "route" || kind === "route2" ? ROUTE_OFFSETS : INTERFACE_OFFSETS;
}

/** rtm_rmx offset in rt_msghdr and rt_msghdr2. */
const METRICS_OFFSET = 36;

/** if_data's 4-byte fields after the 8 one-byte ones, in order from offset 8
 * (docs/macos-routing-socket.md §1.4). */
const IF_DATA_U32_FIELDS: readonly (keyof InterfaceData)[] = [
  "mtu",
  "metric",
  "baudrate",
  "ipackets",
  "ierrors",
  "opackets",
  "oerrors",
  "collisions",
  "ibytes",
  "obytes",
  "imcasts",
  "omcasts",
  "iqdrops",
  "noproto",
  "recvtiming",
  "xmittiming",
  "lastchangeSec",
  "lastchangeUsec",
  // 80: ifi_unused2
  "hwassist",
];
const IF_DATA_BYTE_FIELDS: readonly (keyof InterfaceData)[] = [
  "type",
  "typelen",
  "physical",
  "addrlen",
  "hdrlen",
  "recvquota",
  "xmitquota",
];
const IF_DATA_OFFSET = 16;
const IF_DATA64_OFFSET = 32;

function ifDataFieldOffset(name: keyof InterfaceData): number {
  const byteIndex = IF_DATA_BYTE_FIELDS.indexOf(name);
  if (byteIndex >= 0) return byteIndex;
  const wordIndex = IF_DATA_U32_FIELDS.indexOf(name);
  // hwassist sits at 84, after ifi_unused2 at 80.
  return name === "hwassist" ? 84 : 8 + 4 * wordIndex;
}

const SIGNED_IF_FIELDS: ReadonlySet<keyof InterfaceData> = new Set([
  "lastchangeSec",
  "lastchangeUsec",
]);

function decodeError(
  kind: DecodeErrorKind,
  message: string,
  offset: number,
  extra: Partial<DecodeError> = {},
): DecodeResult {
  return { ok: false, error: { kind, message, offset, ...extra } };
}

/*
 * Little-endian reads and writes straight on a message's bytes. A DataView (or a reader object)
 * per message cost about as much as decoding the message (issue 8's bench); both darwin ABIs are
 * little-endian (docs/macos-routing-socket.md §0).
 */

function u16(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8);
}

function i32(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

function u32(bytes: Uint8Array, at: number): number {
  return i32(bytes, at) >>> 0;
}

/** Stores the low 16 bits of ToInt32(value), as DataView.setUint16 does. */
function put16(bytes: Uint8Array, at: number, value: number): void {
  const v = value | 0;
  bytes[at] = v;
  bytes[at + 1] = v >> 8;
}

/** Stores ToInt32(value): the same four bytes DataView.setInt32 and setUint32 write. */
function put32(bytes: Uint8Array, at: number, value: number): void {
  const v = value | 0;
  bytes[at] = v;
  bytes[at + 1] = v >> 8;
  bytes[at + 2] = v >> 16;
  bytes[at + 3] = v >> 24;
}

/**
 * Decodes the message at the start of `bytes` (a read(2) from a routing socket, or one message
 * of a dump). Bytes after msglen are ignored. Never throws: bad input is a typed error.
 * `offset` is only reported in errors.
 */
export function decodeMessage(bytes: Uint8Array, offset = 0): DecodeResult {
  return decodeGuarded(bytes, 0, offset);
}

function decodeGuarded(buffer: Uint8Array, start: number, reportOffset: number): DecodeResult {
  try {
    return decodeAt(buffer, start, reportOffset);
  } catch (e) {
    return decodeError("malformed", `decoder failed: ${String(e)}`, reportOffset);
  }
}

/**
 * Decodes the message at `start` of `buffer`, which may hold more messages after it. Works on
 * offsets into the one buffer (no per-message views): a dump walk allocates only the decoded
 * objects themselves (issue 8's 1,000,000 messages/s target).
 */
function decodeAt(buffer: Uint8Array, start: number, offset: number): DecodeResult {
  const available = buffer.length - start;
  if (available < 4) {
    return decodeError("too-short", `${available} bytes, need at least 4`, offset);
  }
  const length = u16(buffer, start);
  const version = buffer[start + 2]!;
  const type = buffer[start + 3]!;
  if (length < 4) {
    return decodeError("bad-length", `msglen ${length}`, offset, { length, type, version });
  }
  if (length > available) {
    return decodeError(
      "length-beyond-buffer",
      `msglen ${length} but only ${available} bytes`,
      offset,
      { length, type, version },
    );
  }
  if (version !== RTM_VERSION) {
    return decodeError("bad-version", `version ${version}, want ${RTM_VERSION}`, offset, {
      length,
      type,
      version,
    });
  }
  const kind = messageKind(type);
  if (kind === null) {
    return decodeError("unknown-type", `rtm_type ${type}`, offset, { length, type, version });
  }
  const header = HEADER_SIZE[kind];
  if (length < header) {
    return decodeError(
      "too-short",
      `msglen ${length} below the ${header}-byte ${kind} header`,
      offset,
      { length, type, version },
    );
  }
  const at = offsetsOf(kind);
  const addrBits = u32(buffer, start + at.addrs);
  const addrs = decodeAddrs(buffer, start + header, start + length, addrBits);
  const flags = u32(buffer, start + at.flags);
  const index = u16(buffer, start + at.index);
  const message = decodeHeader(
    kind,
    buffer,
    start,
    type,
    version,
    length,
    flags,
    index,
    addrBits,
    addrs,
  );
  if (lastWalk.rtMsg1) message.style = "rt_msg1";
  if (lastWalk.truncated) message.addrsTruncated = true;
  return { ok: true, message };
}

function decodeMetrics(bytes: Uint8Array, start: number): RouteMetrics {
  const at = start + METRICS_OFFSET;
  // A literal, not a keyed loop: every RouteMetrics then shares one hidden class.
  return {
    locks: u32(bytes, at),
    mtu: u32(bytes, at + 4),
    hopcount: u32(bytes, at + 8),
    expire: i32(bytes, at + 12),
    recvpipe: u32(bytes, at + 16),
    sendpipe: u32(bytes, at + 20),
    ssthresh: u32(bytes, at + 24),
    rtt: u32(bytes, at + 28),
    rttvar: u32(bytes, at + 32),
    pksent: u32(bytes, at + 36),
  };
}

function decodeHeader(
  kind: MessageKind,
  bytes: Uint8Array,
  start: number,
  type: number,
  version: number,
  length: number,
  flags: number,
  index: number,
  addrBits: number,
  addrs: Addrs,
): RoutingMessage {
  switch (kind) {
    case "route":
      return {
        kind,
        type,
        version,
        length,
        flags,
        index,
        addrBits,
        addrs,
        pid: i32(bytes, start + 16),
        seq: i32(bytes, start + 20),
        errno: i32(bytes, start + 24),
        use: i32(bytes, start + 28),
        inits: u32(bytes, start + 32),
        metrics: decodeMetrics(bytes, start),
      };
    case "route2":
      return {
        kind,
        type,
        version,
        length,
        flags,
        index,
        addrBits,
        addrs,
        refcnt: i32(bytes, start + 16),
        parentflags: u32(bytes, start + 20),
        reserved: i32(bytes, start + 24),
        use: i32(bytes, start + 28),
        inits: u32(bytes, start + 32),
        metrics: decodeMetrics(bytes, start),
      };
    case "interface": {
      const data = {} as InterfaceData;
      const d = start + IF_DATA_OFFSET;
      for (const name of IF_DATA_BYTE_FIELDS) data[name] = bytes[d + ifDataFieldOffset(name)]!;
      for (const name of IF_DATA_U32_FIELDS) {
        const off = d + ifDataFieldOffset(name);
        data[name] = SIGNED_IF_FIELDS.has(name) ? i32(bytes, off) : u32(bytes, off);
      }
      return { kind, type, version, length, flags, index, addrBits, addrs, data };
    }
    case "interface2": {
      const d = start + IF_DATA64_OFFSET;
      return {
        kind,
        type,
        version,
        length,
        flags,
        index,
        addrBits,
        addrs,
        sndLen: i32(bytes, start + 16),
        sndMaxlen: i32(bytes, start + 20),
        sndDrops: i32(bytes, start + 24),
        timer: i32(bytes, start + 28),
        data: {
          type: bytes[d]!,
          typelen: bytes[d + 1]!,
          physical: bytes[d + 2]!,
          addrlen: bytes[d + 3]!,
          hdrlen: bytes[d + 4]!,
          mtu: u32(bytes, d + 8),
          metric: u32(bytes, d + 12),
        },
      };
    }
    case "address":
      return {
        kind,
        type,
        version,
        length,
        flags,
        index,
        addrBits,
        addrs,
        metric: i32(bytes, start + 16),
      };
    case "multicast":
      return { kind, type, version, length, flags, index, addrBits, addrs };
    case "multicast2":
      return {
        kind,
        type,
        version,
        length,
        flags,
        index,
        addrBits,
        addrs,
        refcount: i32(bytes, start + 16),
      };
  }
}

/**
 * How the last decodeAddrs walk ended. Module state instead of a result object per message (the
 * decoder is synchronous, so nothing can interleave between the walk and its reader).
 */
const lastWalk = { rtMsg1: false, truncated: false };

/** The family netmasks are read in: the DST's, else the IFA's (rtm_scrub's hint, §3.4). */
function familyOf(familyByte: number): MaskFamily {
  return familyByte === AF_INET ? "inet4" : familyByte === AF_INET6 ? "inet6" : null;
}

/**
 * Stores a decoded sockaddr under its slot's name. A named store per slot, not
 * `addrs[SOCKADDR_SLOTS[i]] = sa`: that keyed store went megamorphic and cost about a tenth of
 * decoding a message (V8 profile of the reply bench).
 */
function setSlot(addrs: Addrs, slot: number, sa: Sockaddr): void {
  switch (slot) {
    case 0:
      addrs.dst = sa;
      return;
    case 1:
      addrs.gateway = sa;
      return;
    case 2:
      addrs.netmask = sa;
      return;
    case 3:
      addrs.genmask = sa;
      return;
    case 4:
      addrs.ifp = sa;
      return;
    case 5:
      addrs.ifa = sa;
      return;
    case 6:
      addrs.author = sa;
      return;
    default:
      addrs.brd = sa;
  }
}

/**
 * Walks the sockaddrs of the message occupying [cursor, end) of `buffer`
 * (docs/macos-routing-socket.md §3.5 "Parser rules"): 4-byte slots, sa_len 0 takes 4; a set bit
 * with no bytes left is an all-zero sockaddr; a sockaddr longer than what is left ends the walk.
 * Netmasks are read in the DST's family, or the IFA's when there is no DST (rtm_scrub's hint,
 * docs/macos-routing-socket.md §3.4), never by their own family byte.
 */
function decodeAddrs(
  buffer: Uint8Array,
  begin: number,
  end: number,
  addrBits: number,
): Addrs {
  // DST is slot 0, so its family is known before any mask; only without a DST does the IFA
  // (slot 5, after the masks) need a look ahead.
  let maskFamily: MaskFamily = null;
  if ((addrBits & RTA_DST) === 0 && (addrBits & RTA_IFA) !== 0) {
    maskFamily = scanFamily(buffer, begin, end, addrBits, 5);
  }
  const addrs: Addrs = {};
  let cursor = begin;
  let paddedEnd = begin;
  let truncated = false;
  for (let i = 0; i < SOCKADDR_SLOTS.length; i++) {
    if ((addrBits & (1 << i)) === 0) continue;
    const slot = SOCKADDR_SLOTS[i]!;
    const left = end - cursor;
    if (left <= 0) {
      // rt_msg1 counts a zero-length last sockaddr as 0 bytes; rt_msg2 would have written 4.
      setSlot(addrs, i, decodeSockaddr(buffer, end, 0, 0, slot, maskFamily));
      cursor += 4;
      paddedEnd = cursor;
      continue;
    }
    const saLen = buffer[cursor]!;
    if (saLen > left) {
      truncated = true;
      break;
    }
    const familyByte = left >= 2 ? buffer[cursor + 1]! : 0;
    if (i === 0) {
      maskFamily = familyOf(familyByte) ??
        ((addrBits & RTA_IFA) !== 0 ? scanFamily(buffer, begin, end, addrBits, 5) : null);
    }
    setSlot(addrs, i, decodeSockaddr(buffer, cursor, saLen, familyByte, slot, maskFamily));
    cursor += roundup32(saLen);
    paddedEnd = cursor;
  }
  lastWalk.rtMsg1 = paddedEnd > end;
  lastWalk.truncated = truncated;
  return addrs;
}

/** The family byte of the sockaddr in slot `want`, walking the slots before it. */
function scanFamily(
  buffer: Uint8Array,
  begin: number,
  end: number,
  addrBits: number,
  want: number,
): MaskFamily {
  let cursor = begin;
  for (let i = 0; i <= want; i++) {
    if ((addrBits & (1 << i)) === 0) continue;
    if (end - cursor < 2) return null;
    const saLen = buffer[cursor]!;
    if (i === want) return familyOf(buffer[cursor + 1]!);
    if (saLen > end - cursor) return null;
    cursor += roundup32(saLen);
  }
  return null;
}

/** 1 for each rtm_type whose header is rt_msghdr or rt_msghdr2 (messageKind's "route" and
 * "route2"), as a table: the peek runs once per route of a dump. */
const ROUTE_HEADER_TYPES: Uint8Array = Uint8Array.from(
  { length: 256 },
  (_, type) => messageKind(type) === "route" || messageKind(type) === "route2" ? 1 : 0,
);

/** What peekPrefixLength returns when only the full decoder can tell. */
const DECODE_IT = -2;

/**
 * The destination prefix length of the route message at `start` (msglen `length`, which fits),
 * read from its header and sockaddr lengths alone, as the full decoder would find it: the DST's
 * family (inet or inet6) says how the NETMASK is read (rtm_scrub's hint,
 * docs/macos-routing-socket.md §3.4); no NETMASK is a host route (/32, /128); -1 is a mask that is
 * not contiguous. DECODE_IT for anything else (not a route message, a bad header, no inet DST,
 * sockaddrs that do not fit), so a message is only ever stepped over when its decoding would have
 * said the same.
 */
function peekPrefixLength(buffer: Uint8Array, start: number, length: number): number {
  if (ROUTE_HEADER_TYPES[buffer[start + 3]!] !== 1) return DECODE_IT;
  // rt_msghdr and rt_msghdr2 are both 92 bytes, with rtm_addrs at 12 (docs/macos-routing-socket.md
  // §1.2, §1.3).
  if (buffer[start + 2] !== RTM_VERSION || length < SIZEOF_RT_MSGHDR) return DECODE_IT;
  const addrBits = u32(buffer, start + ROUTE_OFFSETS.addrs);
  if ((addrBits & RTA_DST) === 0) return DECODE_IT;
  const end = start + length;
  let cursor = start + SIZEOF_RT_MSGHDR;
  let family = 0;
  let mask = -1;
  let maskLength = 0;
  // The walk of decodeAddrs: 4-byte slots, a set bit with no bytes left reads as all zero.
  for (let i = 0; i < SOCKADDR_SLOTS.length; i++) {
    if ((addrBits & (1 << i)) === 0) continue;
    const left = end - cursor;
    if (left <= 0) {
      if (i === 0) return DECODE_IT;
      if (i === 2) mask = end; // read as zero bytes: a /0 mask
      cursor += 4;
      continue;
    }
    const saLen = buffer[cursor]!;
    if (saLen > left) return DECODE_IT;
    if (i === 0) {
      family = left >= 2 ? buffer[cursor + 1]! : 0;
      if (family !== AF_INET && family !== AF_INET6) return DECODE_IT;
    } else if (i === 2) {
      mask = cursor;
      maskLength = saLen;
    }
    cursor += roundup32(saLen);
  }
  const inet = family === AF_INET;
  if (mask < 0) return inet ? 32 : 128;
  // sin_addr at 4, sin6_addr at 8; bytes past sa_len read as zero (trimmed masks, §3.4).
  return maskPrefixAt(buffer, mask, maskLength, inet ? 4 : 8, inet ? 4 : 16);
}

/** The prefix length of the `count`-byte mask at byte `from` of the sockaddr at `at` (bytes at
 * or past `saLen` are zero); -1 when it is not contiguous. No allocation. */
function maskPrefixAt(
  buffer: Uint8Array,
  at: number,
  saLen: number,
  from: number,
  count: number,
): number {
  // Only the bytes below sa_len are read; the rest of the mask is zero.
  const present = Math.max(0, Math.min(count, saLen - from));
  const base = at + from;
  let i = 0;
  while (i < present && buffer[base + i] === 0xff) i++;
  if (i === count) return count * 8;
  // The complement of a contiguous byte mask is 2^k - 1: adding one leaves a single bit.
  const inverted = ~(i < present ? buffer[base + i]! : 0) & 0xff;
  if ((inverted & (inverted + 1)) !== 0) return -1;
  for (let rest = i + 1; rest < present; rest++) if (buffer[base + rest] !== 0) return -1;
  return i * 8 + 8 - Math.log2(inverted + 1);
}

/**
 * Decodes every message in a buffer (a monitor read or a sysctl NET_RT_DUMP/IFLIST dump).
 * Unparsable messages are skipped by their msglen and counted; a msglen below 4 or beyond the
 * buffer ends the walk (counted once), so the loop always terminates.
 *
 * With `routePrefixes`, a route message whose destination prefix length is not wanted is
 * stepped over by its header and sockaddr lengths (peekPrefixLength), neither decoded nor
 * counted: the defaults of a 100,000-route dump are found in a few milliseconds instead of
 * building 100,000 decoded objects (issue 15). The messages returned are exactly those the
 * plain walk returns, less those routes.
 */
export function decodeMessages(buffer: Uint8Array, routePrefixes?: PrefixLengths): DecodedBuffer {
  const out: DecodedBuffer = { messages: [], skipped: 0, errors: [] };
  let offset = 0;
  while (offset < buffer.length) {
    if (routePrefixes !== undefined && buffer.length - offset >= 4) {
      const length = u16(buffer, offset);
      if (length >= 4 && length <= buffer.length - offset) {
        const prefix = peekPrefixLength(buffer, offset, length);
        if (prefix !== DECODE_IT && !wantsPrefix(routePrefixes, prefix)) {
          offset += length;
          continue;
        }
      }
    }
    const result = decodeGuarded(buffer, offset, offset);
    if (result.ok) {
      out.messages.push(result.message);
      offset += result.message.length;
      continue;
    }
    out.skipped++;
    out.errors.push(result.error);
    const rest = buffer.length - offset;
    const length = rest >= 2 ? buffer[offset]! | (buffer[offset + 1]! << 8) : 0;
    if (length < 4 || length > rest) break;
    offset += length;
  }
  return out;
}

/** Field by field, not a loop over names: keyed loads with a changing key went megamorphic. */
function writeMetrics(bytes: Uint8Array, metrics: Partial<RouteMetrics> | undefined): void {
  const at = METRICS_OFFSET;
  put32(bytes, at, metrics?.locks ?? 0);
  put32(bytes, at + 4, metrics?.mtu ?? 0);
  put32(bytes, at + 8, metrics?.hopcount ?? 0);
  put32(bytes, at + 12, metrics?.expire ?? 0);
  put32(bytes, at + 16, metrics?.recvpipe ?? 0);
  put32(bytes, at + 20, metrics?.sendpipe ?? 0);
  put32(bytes, at + 24, metrics?.ssthresh ?? 0);
  put32(bytes, at + 28, metrics?.rtt ?? 0);
  put32(bytes, at + 32, metrics?.rttvar ?? 0);
  put32(bytes, at + 36, metrics?.pksent ?? 0);
}

/** The sockaddr of slot `slot` (a named load per slot, see setSlot). */
function getSlot(addrs: Addrs, slot: number): Sockaddr | undefined {
  switch (slot) {
    case 0:
      return addrs.dst;
    case 1:
      return addrs.gateway;
    case 2:
      return addrs.netmask;
    case 3:
      return addrs.genmask;
    case 4:
      return addrs.ifp;
    case 5:
      return addrs.ifa;
    case 6:
      return addrs.author;
    default:
      return addrs.brd;
  }
}

/**
 * Encodes any routing message the decoder knows. Sockaddrs are written in slot order, each
 * padded to 4 bytes (rt_msg2); with `style: "rt_msg1"` msglen stops at the last sockaddr's
 * unpadded end, as the kernel's notifications do (docs/macos-routing-socket.md §3.5). Throws
 * RangeError on an unknown type or an unparsable address: the encoder only sees this program's own
 * messages.
 *
 * One zero-filled Uint8Array per message, every field written into it in place: a typed array
 * costs about 1 us on this runtime, and the per-sockaddr arrays and DataViews this replaced made
 * encoding 20-40 us a message.
 */
export function encodeRouteMessage(init: RoutingMessageInit): Uint8Array {
  const kind = messageKind(init.type);
  if (kind === null) throw new RangeError(`no header layout for rtm_type ${init.type}`);
  if (init.kind !== undefined && init.kind !== kind) {
    throw new RangeError(`rtm_type ${init.type} is a ${kind} message, not ${init.kind}`);
  }
  const header = HEADER_SIZE[kind];
  // `?? undefined`: a null is read as absent, as optional chaining did.
  const addrs = init.addrs ?? undefined;
  let addrBits = (init.extraAddrBits ?? 0) >>> 0;
  let size = header;
  let unpaddedEnd = header;
  // sa_len per slot, -1 for an absent one: sized first so the message is allocated once.
  const saLens = [-1, -1, -1, -1, -1, -1, -1, -1];
  if (addrs !== undefined) {
    for (let i = 0; i < SOCKADDR_SLOTS.length; i++) {
      const sa = getSlot(addrs, i);
      if (sa === undefined) continue;
      const saLen = sockaddrLength(sa);
      saLens[i] = saLen;
      addrBits |= 1 << i;
      unpaddedEnd = size + saLen;
      size += roundup32(saLen);
    }
  }
  const length = init.style === "rt_msg1" ? unpaddedEnd : size;
  if (length > 0xffff) throw new RangeError(`message of ${length} bytes exceeds msglen`);
  const bytes = new Uint8Array(size);
  if (addrs !== undefined) {
    let cursor = header;
    for (let i = 0; i < SOCKADDR_SLOTS.length; i++) {
      const saLen = saLens[i]!;
      if (saLen < 0) continue;
      writeSockaddr(getSlot(addrs, i)!, bytes, cursor, saLen);
      cursor += roundup32(saLen);
    }
  }
  put16(bytes, 0, length);
  bytes[2] = init.version ?? RTM_VERSION;
  bytes[3] = init.type;
  const at = offsetsOf(kind);
  put32(bytes, at.addrs, addrBits);
  put32(bytes, at.flags, init.flags ?? 0);
  put16(bytes, at.index, init.index ?? 0);
  writeHeader(kind, bytes, init);
  return length === size ? bytes : bytes.subarray(0, length);
}

/** Alias: every kind goes through the same encoder. */
export const encodeMessage = encodeRouteMessage;

function writeHeader(kind: MessageKind, bytes: Uint8Array, init: RoutingMessageInit): void {
  switch (kind) {
    case "route": {
      const m = init as RouteMessageInit;
      put32(bytes, 16, m.pid ?? 0);
      put32(bytes, 20, m.seq ?? 0);
      put32(bytes, 24, m.errno ?? 0);
      put32(bytes, 28, m.use ?? 0);
      put32(bytes, 32, m.inits ?? 0);
      writeMetrics(bytes, m.metrics);
      return;
    }
    case "route2": {
      const m = init as Route2MessageInit;
      put32(bytes, 16, m.refcnt ?? 0);
      put32(bytes, 20, m.parentflags ?? 0);
      put32(bytes, 24, m.reserved ?? 0);
      put32(bytes, 28, m.use ?? 0);
      put32(bytes, 32, m.inits ?? 0);
      writeMetrics(bytes, m.metrics);
      return;
    }
    case "interface": {
      const data = (init as InterfaceMessageInit).data ?? {};
      for (const name of IF_DATA_BYTE_FIELDS) {
        bytes[IF_DATA_OFFSET + ifDataFieldOffset(name)] = data[name] ?? 0;
      }
      for (const name of IF_DATA_U32_FIELDS) {
        put32(bytes, IF_DATA_OFFSET + ifDataFieldOffset(name), data[name] ?? 0);
      }
      return;
    }
    case "interface2": {
      const m = init as Interface2MessageInit;
      put32(bytes, 16, m.sndLen ?? 0);
      put32(bytes, 20, m.sndMaxlen ?? 0);
      put32(bytes, 24, m.sndDrops ?? 0);
      put32(bytes, 28, m.timer ?? 0);
      const d = IF_DATA64_OFFSET;
      bytes[d] = m.data?.type ?? 0;
      bytes[d + 1] = m.data?.typelen ?? 0;
      bytes[d + 2] = m.data?.physical ?? 0;
      bytes[d + 3] = m.data?.addrlen ?? 0;
      bytes[d + 4] = m.data?.hdrlen ?? 0;
      put32(bytes, d + 8, m.data?.mtu ?? 0);
      put32(bytes, d + 12, m.data?.metric ?? 0);
      return;
    }
    case "address":
      put32(bytes, 16, (init as AddressMessageInit).metric ?? 0);
      return;
    case "multicast":
      return;
    case "multicast2":
      put32(bytes, 16, (init as Multicast2MessageInit).refcount ?? 0);
      return;
  }
}

/** Options for {@link defaultRouteRequest}. */
export interface DefaultRouteRequest {
  /** RTM_ADD, RTM_DELETE, RTM_GET or RTM_CHANGE. */
  type: number;
  family: 4 | 6;
  /** Gateway address text ("192.168.1.1", "fe80::1"); a "%zone" suffix is not parsed. */
  gateway?: string;
  /** Interface index of a link-local IPv6 gateway, embedded KAME-style
   * (docs/macos-routing-socket.md §3.6). */
  zone?: number;
  /** Scope the route to this interface index: RTF_IFSCOPE + rtm_index (docs/macos-routing-socket.md
   * §5.2). */
  ifscope?: number;
  seq: number;
  /** rtm_pid; the kernel overwrites it, so route(8) leaves it 0. */
  pid?: number;
  /**
   * "route8": DST, [GATEWAY], zero-length NETMASK (`00 02 00 00` / `00 1e 00 00`, which ends
   * the kernel's parse), and for GET an empty IFP asking for IFP/IFA in the reply.
   * "configd": DST, [GATEWAY], full-length all-zero NETMASK, IFP {20, AF_LINK, ifpIndex},
   * [IFA], so the kernel honours IFP/IFA (docs/macos-routing-socket.md §3.3, §5.3.4).
   */
  form: "route8" | "configd";
  /** sdl_index of the IFP (configd form, or a route8 GET that names an interface). */
  ifpIndex?: number;
  /** IFA address text (configd form). */
  ifa?: string;
  /** rtm_flags; default RTF_UP|RTF_GATEWAY|RTF_STATIC (0x803), plus RTF_IFSCOPE with ifscope. */
  flags?: number;
}

function inetSockaddr(
  family: 4 | 6,
  address: string,
  zone?: number,
): Inet4Sockaddr | Inet6Sockaddr {
  if (family === 4) return { family: "inet4", address };
  return zone ? { family: "inet6", address, zone } : { family: "inet6", address };
}

/**
 * The message route(8) or configd sends for the default route (docs/macos-routing-socket.md §5.3).
 * Returns the init object; pass it to {@link encodeRouteMessage}.
 */
export function defaultRouteRequest(request: DefaultRouteRequest): RouteMessageInit {
  const { family, form } = request;
  const any = family === 4 ? "0.0.0.0" : "::";
  const addrs: Addrs = { dst: inetSockaddr(family, any) };
  if (request.gateway !== undefined) {
    addrs.gateway = inetSockaddr(family, request.gateway, request.zone);
  }
  if (form === "route8") {
    // getaddr("default"): sa_len 0 but sa_family kept, one 4-byte slot
    // (docs/macos-routing-socket.md §3.3a).
    addrs.netmask = family === 4
      ? { family: "inet4", address: "0.0.0.0", length: 0 }
      : { family: "inet6", address: "::", length: 0 };
    if (request.type === RTM_GET || request.ifpIndex !== undefined) {
      // route.c line 1625: an empty sockaddr_dl so the reply carries IFP and IFA.
      addrs.ifp = { family: "link", index: request.ifpIndex ?? 0 };
    }
  } else {
    addrs.netmask = inetSockaddr(family, any);
    addrs.ifp = { family: "link", index: request.ifpIndex ?? request.ifscope ?? 0 };
    if (request.ifa !== undefined) addrs.ifa = inetSockaddr(family, request.ifa);
  }
  let flags = request.flags ?? (RTF_UP | RTF_GATEWAY | RTF_STATIC);
  if (request.ifscope !== undefined) flags |= RTF_IFSCOPE;
  const init: RouteMessageInit = {
    type: request.type,
    flags: flags >>> 0,
    index: request.ifscope ?? 0,
    seq: request.seq,
    addrs,
  };
  if (request.pid !== undefined) init.pid = request.pid;
  return init;
}

/**
 * The default route's netmask as rt_msg2 writes it in GET replies and dumps: sa_len 0 and, after
 * the zero fill, family 0 - the 4 bytes `00 00 00 00` (docs/macos-routing-socket.md §3.4). `family`
 * only says how the decoder will read it back (in the DST's family).
 */
export function kernelDefaultNetmask(family: 4 | 6): Inet4Sockaddr | Inet6Sockaddr {
  return family === 4
    ? { family: "inet4", address: "0.0.0.0", length: 0, familyByte: 0 }
    : { family: "inet6", address: "::", length: 0, familyByte: 0 };
}

/** The rtm_addrs bit of each slot (docs/macos-routing-socket.md §2.2). */
export const SLOT_BITS: Readonly<Record<SockaddrSlot, number>> = {
  dst: RTA_DST,
  gateway: RTA_GATEWAY,
  netmask: RTA_NETMASK,
  genmask: RTA_GENMASK,
  ifp: RTA_IFP,
  ifa: RTA_IFA,
  author: RTA_AUTHOR,
  brd: RTA_BRD,
};
