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

/**
 * The header layout of one kind of message: its size, where it keeps the fields every kind
 * shares, and how its own fields are read and written. The decoder and the encoder look a kind up
 * here instead of switching on it. Each `decode` builds its message as one object literal, so all
 * messages of a kind share one hidden class (the code reading them stays monomorphic), and reads
 * the shared fields from the bytes at its kind's offsets rather than taking them as arguments.
 */
interface KindLayout {
  readonly kind: MessageKind;
  /** sizeof the header: the sockaddrs start here. */
  readonly size: number;
  readonly at: CommonOffsets;
  /** The message at `start` (msglen, version and header size already checked), with its
   * sockaddrs. */
  readonly decode: (bytes: Uint8Array, start: number, addrs: Addrs) => RoutingMessage;
  /** Writes the kind's own fields into a zero-filled message; encodeRouteMessage writes the
   * shared ones. */
  readonly encode: (bytes: Uint8Array, init: RoutingMessageInit) => void;
}

const LAYOUTS: Readonly<Record<MessageKind, KindLayout>> = {
  route: {
    kind: "route",
    size: SIZEOF_RT_MSGHDR,
    at: ROUTE_OFFSETS,
    decode: decodeRouteHeader,
    encode: encodeRouteHeader,
  },
  route2: {
    kind: "route2",
    size: SIZEOF_RT_MSGHDR2,
    at: ROUTE_OFFSETS,
    decode: decodeRoute2Header,
    encode: encodeRoute2Header,
  },
  interface: {
    kind: "interface",
    size: SIZEOF_IF_MSGHDR,
    at: INTERFACE_OFFSETS,
    decode: decodeInterfaceHeader,
    encode: encodeInterfaceHeader,
  },
  interface2: {
    kind: "interface2",
    size: SIZEOF_IF_MSGHDR2,
    at: INTERFACE_OFFSETS,
    decode: decodeInterface2Header,
    encode: encodeInterface2Header,
  },
  address: {
    kind: "address",
    size: SIZEOF_IFA_MSGHDR,
    at: INTERFACE_OFFSETS,
    decode: decodeAddressHeader,
    encode: encodeAddressHeader,
  },
  multicast: {
    kind: "multicast",
    size: SIZEOF_IFMA_MSGHDR,
    at: INTERFACE_OFFSETS,
    decode: decodeMulticastHeader,
    encode: () => {},
  },
  multicast2: {
    kind: "multicast2",
    size: SIZEOF_IFMA_MSGHDR2,
    at: INTERFACE_OFFSETS,
    decode: decodeMulticast2Header,
    encode: encodeMulticast2Header,
  },
};

/** The layout of each rtm_type (messageKind as a table; undefined where it says null): the
 * decoder looks it up once per message. */
const LAYOUT_BY_TYPE: readonly (KindLayout | undefined)[] = Array.from(
  { length: 256 },
  (_, type) => {
    const kind = messageKind(type);
    return kind === null ? undefined : LAYOUTS[kind];
  },
);

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
 * per message cost about as much as decoding the message (codec_bench.ts); both darwin ABIs are
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
  return decodeGuarded(bytes, 0, offset, SINGLE_MESSAGE_SLOTS);
}

function decodeGuarded(
  buffer: Uint8Array,
  start: number,
  reportOffset: number,
  slots: Slots,
): DecodeResult {
  try {
    return decodeAt(buffer, start, reportOffset, slots);
  } catch (e) {
    return decodeError("malformed", `decoder failed: ${String(e)}`, reportOffset);
  }
}

/**
 * Decodes the message at `start` of `buffer`, which may hold more messages after it. Works on
 * offsets into the one buffer (no per-message views): a dump walk allocates only the decoded
 * objects themselves (codec_bench.ts; the target is in docs/performance.md). `slots` is the
 * caller's scratch array for the sockaddr walk, overwritten here (decodeMessages passes one array
 * for all its messages).
 */
function decodeAt(
  buffer: Uint8Array,
  start: number,
  offset: number,
  slots: Slots,
): DecodeResult {
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
  const layout = LAYOUT_BY_TYPE[type];
  if (layout === undefined) {
    return decodeError("unknown-type", `rtm_type ${type}`, offset, { length, type, version });
  }
  if (length < layout.size) {
    return decodeError(
      "too-short",
      `msglen ${length} below the ${layout.size}-byte ${layout.kind} header`,
      offset,
      { length, type, version },
    );
  }
  const addrBits = u32(buffer, start + layout.at.addrs);
  const walk = walkAddrs(buffer, start + layout.size, start + length, addrBits, slots);
  const message = layout.decode(buffer, start, addrsOf(slots));
  if ((walk & WALK_RT_MSG1) !== 0) message.style = "rt_msg1";
  if ((walk & WALK_TRUNCATED) !== 0) message.addrsTruncated = true;
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

/*
 * The per-kind decoders of LAYOUTS. The first eight fields of each are the ones every kind shares,
 * at ROUTE_OFFSETS (rt_msghdr, rt_msghdr2) or INTERFACE_OFFSETS (the others), in the same order,
 * so JSON output lists them alike.
 */

function decodeRouteHeader(b: Uint8Array, s: number, addrs: Addrs): RouteMessage {
  return {
    kind: "route",
    type: b[s + 3]!,
    version: b[s + 2]!,
    length: u16(b, s),
    flags: u32(b, s + ROUTE_OFFSETS.flags),
    index: u16(b, s + ROUTE_OFFSETS.index),
    addrBits: u32(b, s + ROUTE_OFFSETS.addrs),
    addrs,
    pid: i32(b, s + 16),
    seq: i32(b, s + 20),
    errno: i32(b, s + 24),
    use: i32(b, s + 28),
    inits: u32(b, s + 32),
    metrics: decodeMetrics(b, s),
  };
}

function decodeRoute2Header(b: Uint8Array, s: number, addrs: Addrs): Route2Message {
  return {
    kind: "route2",
    type: b[s + 3]!,
    version: b[s + 2]!,
    length: u16(b, s),
    flags: u32(b, s + ROUTE_OFFSETS.flags),
    index: u16(b, s + ROUTE_OFFSETS.index),
    addrBits: u32(b, s + ROUTE_OFFSETS.addrs),
    addrs,
    refcnt: i32(b, s + 16),
    parentflags: u32(b, s + 20),
    reserved: i32(b, s + 24),
    use: i32(b, s + 28),
    inits: u32(b, s + 32),
    metrics: decodeMetrics(b, s),
  };
}

function decodeInterfaceHeader(b: Uint8Array, s: number, addrs: Addrs): InterfaceMessage {
  const data = {} as InterfaceData;
  const d = s + IF_DATA_OFFSET;
  for (const name of IF_DATA_BYTE_FIELDS) data[name] = b[d + ifDataFieldOffset(name)]!;
  for (const name of IF_DATA_U32_FIELDS) {
    const off = d + ifDataFieldOffset(name);
    data[name] = SIGNED_IF_FIELDS.has(name) ? i32(b, off) : u32(b, off);
  }
  return {
    kind: "interface",
    type: b[s + 3]!,
    version: b[s + 2]!,
    length: u16(b, s),
    flags: u32(b, s + INTERFACE_OFFSETS.flags),
    index: u16(b, s + INTERFACE_OFFSETS.index),
    addrBits: u32(b, s + INTERFACE_OFFSETS.addrs),
    addrs,
    data,
  };
}

function decodeInterface2Header(b: Uint8Array, s: number, addrs: Addrs): Interface2Message {
  const d = s + IF_DATA64_OFFSET;
  return {
    kind: "interface2",
    type: b[s + 3]!,
    version: b[s + 2]!,
    length: u16(b, s),
    flags: u32(b, s + INTERFACE_OFFSETS.flags),
    index: u16(b, s + INTERFACE_OFFSETS.index),
    addrBits: u32(b, s + INTERFACE_OFFSETS.addrs),
    addrs,
    sndLen: i32(b, s + 16),
    sndMaxlen: i32(b, s + 20),
    sndDrops: i32(b, s + 24),
    timer: i32(b, s + 28),
    data: {
      type: b[d]!,
      typelen: b[d + 1]!,
      physical: b[d + 2]!,
      addrlen: b[d + 3]!,
      hdrlen: b[d + 4]!,
      mtu: u32(b, d + 8),
      metric: u32(b, d + 12),
    },
  };
}

function decodeAddressHeader(b: Uint8Array, s: number, addrs: Addrs): AddressMessage {
  return {
    kind: "address",
    type: b[s + 3]!,
    version: b[s + 2]!,
    length: u16(b, s),
    flags: u32(b, s + INTERFACE_OFFSETS.flags),
    index: u16(b, s + INTERFACE_OFFSETS.index),
    addrBits: u32(b, s + INTERFACE_OFFSETS.addrs),
    addrs,
    metric: i32(b, s + 16),
  };
}

function decodeMulticastHeader(b: Uint8Array, s: number, addrs: Addrs): MulticastMessage {
  return {
    kind: "multicast",
    type: b[s + 3]!,
    version: b[s + 2]!,
    length: u16(b, s),
    flags: u32(b, s + INTERFACE_OFFSETS.flags),
    index: u16(b, s + INTERFACE_OFFSETS.index),
    addrBits: u32(b, s + INTERFACE_OFFSETS.addrs),
    addrs,
  };
}

function decodeMulticast2Header(b: Uint8Array, s: number, addrs: Addrs): Multicast2Message {
  return {
    kind: "multicast2",
    type: b[s + 3]!,
    version: b[s + 2]!,
    length: u16(b, s),
    flags: u32(b, s + INTERFACE_OFFSETS.flags),
    index: u16(b, s + INTERFACE_OFFSETS.index),
    addrBits: u32(b, s + INTERFACE_OFFSETS.addrs),
    addrs,
    refcount: i32(b, s + 16),
  };
}

/**
 * A message's sockaddrs by slot, RTAX_DST .. RTAX_BRD, as golang.org/x/net/route's
 * `[RTAX_MAX]Addr`: the walk stores slot i at index i, the encoder reads them back the same way.
 */
type Slots = (Sockaddr | undefined)[];
// The code below indexes slots by number literals (0 RTAX_DST .. 5 RTAX_IFA .. 7 RTAX_BRD,
// bsd/net/route.h): the imported RTAX_* bindings measured slower on the per-message path
// (docs/performance.md §5, "Codec layout").

/** RTAX_MAX empty slots, packed (a literal, not `new Array(8)`, which would be holey). */
function emptySlots(): Slots {
  return [undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined];
}

/** The slots of `addrs`, by RTAX index (SOCKADDR_SLOTS' order). */
function slotsOf(addrs: Addrs): Slots {
  return [
    addrs.dst,
    addrs.gateway,
    addrs.netmask,
    addrs.genmask,
    addrs.ifp,
    addrs.ifa,
    addrs.author,
    addrs.brd,
  ];
}

/**
 * The Addrs record of walked slots: a slot is present iff its sockaddr was decoded. One named
 * store per slot, in slot order: a keyed `addrs[SOCKADDR_SLOTS[i]] = sa` went megamorphic and cost
 * about a tenth of decoding a message (V8 profile of codec_bench.ts's reply bench).
 */
function addrsOf(slots: Slots): Addrs {
  const addrs: Addrs = {};
  if (slots[0] !== undefined) addrs.dst = slots[0];
  if (slots[1] !== undefined) addrs.gateway = slots[1];
  if (slots[2] !== undefined) addrs.netmask = slots[2];
  if (slots[3] !== undefined) addrs.genmask = slots[3];
  if (slots[4] !== undefined) addrs.ifp = slots[4];
  if (slots[5] !== undefined) addrs.ifa = slots[5];
  if (slots[6] !== undefined) addrs.author = slots[6];
  if (slots[7] !== undefined) addrs.brd = slots[7];
  return addrs;
}

/**
 * The slot array decodeMessage lends its walk. Scratch, not a channel: walkAddrs writes all eight
 * slots and addrsOf copies them out within the same synchronous call, so nothing in it outlives a
 * decode, and it is passed down as an argument like decodeMessages' own array. Allocating one per
 * call made a single message's decode measurably slower (codec_bench.ts; figures in
 * docs/performance.md §5, "Codec layout").
 */
const SINGLE_MESSAGE_SLOTS: Slots = emptySlots();

/** walkAddrs' result bits. msglen stopped at the last sockaddr's unpadded end (rtsock.c rt_msg1,
 * docs/macos-routing-socket.md §3.5): */
const WALK_RT_MSG1 = 1;
/** Some set bits had no room left and were not decoded: */
const WALK_TRUNCATED = 2;

/** The family netmasks are read in: the DST's, else the IFA's (rtm_scrub's hint, §3.4). */
function familyOf(familyByte: number): MaskFamily {
  return familyByte === AF_INET ? "inet4" : familyByte === AF_INET6 ? "inet6" : null;
}

/**
 * Walks the sockaddrs of the message occupying [begin, end) of `buffer` into `slots`
 * (docs/macos-routing-socket.md §3.5 "Parser rules"): 4-byte slots, sa_len 0 takes 4; a set bit
 * with no bytes left is an all-zero sockaddr; a sockaddr longer than what is left ends the walk.
 * Netmasks are read in the DST's family, or the IFA's when there is no DST (rtm_scrub's hint,
 * docs/macos-routing-socket.md §3.4), never by their own family byte. All eight slots are written
 * (undefined where the bit is clear or the walk ended), so one array serves every message of a
 * dump. Returns how the walk ended (WALK_RT_MSG1, WALK_TRUNCATED): nothing about it lives outside
 * the call.
 */
function walkAddrs(
  buffer: Uint8Array,
  begin: number,
  end: number,
  addrBits: number,
  slots: Slots,
): number {
  // DST is slot 0, so its family is known before any mask; only without a DST does the IFA
  // (slot 5, after the masks) need a look ahead.
  let maskFamily: MaskFamily = null;
  if ((addrBits & RTA_DST) === 0 && (addrBits & RTA_IFA) !== 0) {
    maskFamily = scanFamily(buffer, begin, end, addrBits, 5);
  }
  for (let i = 0; i < slots.length; i++) slots[i] = undefined;
  let cursor = begin;
  let paddedEnd = begin;
  let truncated = false;
  for (let i = 0; i < slots.length; i++) {
    if ((addrBits & (1 << i)) === 0) continue;
    const slot = SOCKADDR_SLOTS[i]!;
    const left = end - cursor;
    if (left <= 0) {
      // rt_msg1 counts a zero-length last sockaddr as 0 bytes; rt_msg2 would have written 4.
      slots[i] = decodeSockaddr(buffer, end, 0, 0, slot, maskFamily);
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
    slots[i] = decodeSockaddr(buffer, cursor, saLen, familyByte, slot, maskFamily);
    cursor += roundup32(saLen);
    paddedEnd = cursor;
  }
  return (paddedEnd > end ? WALK_RT_MSG1 : 0) | (truncated ? WALK_TRUNCATED : 0);
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
  // The walk of walkAddrs: 4-byte slots, a set bit with no bytes left reads as all zero.
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
 * counted: the defaults of a 100,000-route dump are found without building 100,000 decoded
 * objects (codec_bench.ts "find the defaults", docs/performance.md §6). The messages returned are
 * exactly those the plain walk returns, less those routes.
 */
export function decodeMessages(buffer: Uint8Array, routePrefixes?: PrefixLengths): DecodedBuffer {
  const out: DecodedBuffer = { messages: [], skipped: 0, errors: [] };
  // One slot array for the whole walk: each message's walk clears it first.
  const slots = emptySlots();
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
    const result = decodeGuarded(buffer, offset, offset, slots);
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

/**
 * Encodes any routing message the decoder knows. Sockaddrs are written in slot order, each
 * padded to 4 bytes (rt_msg2); with `style: "rt_msg1"` msglen stops at the last sockaddr's
 * unpadded end, as the kernel's notifications do (docs/macos-routing-socket.md §3.5). Throws
 * RangeError on an unknown type or an unparsable address: the encoder only sees this program's own
 * messages.
 *
 * One zero-filled Uint8Array per message, every field written into it in place: a typed array
 * costs about as much as encoding a message's fields on this runtime (docs/performance.md §5),
 * and the per-sockaddr arrays and DataViews this replaced made encoding many times slower.
 */
export function encodeRouteMessage(init: RoutingMessageInit): Uint8Array {
  const kind = messageKind(init.type);
  if (kind === null) throw new RangeError(`no header layout for rtm_type ${init.type}`);
  if (init.kind !== undefined && init.kind !== kind) {
    throw new RangeError(`rtm_type ${init.type} is a ${kind} message, not ${init.kind}`);
  }
  const layout = LAYOUTS[kind];
  // `?? undefined`: a null is read as absent, as optional chaining did.
  const addrs = init.addrs ?? undefined;
  const slots = addrs === undefined ? emptySlots() : slotsOf(addrs);
  let addrBits = (init.extraAddrBits ?? 0) >>> 0;
  let size = layout.size;
  let unpaddedEnd = layout.size;
  // sa_len per slot, -1 for an absent one: sized first so the message is allocated once.
  const saLens = [-1, -1, -1, -1, -1, -1, -1, -1];
  for (let i = 0; i < slots.length; i++) {
    const sa = slots[i];
    if (sa === undefined) continue;
    const saLen = sockaddrLength(sa);
    saLens[i] = saLen;
    addrBits |= 1 << i;
    unpaddedEnd = size + saLen;
    size += roundup32(saLen);
  }
  const length = init.style === "rt_msg1" ? unpaddedEnd : size;
  if (length > 0xffff) throw new RangeError(`message of ${length} bytes exceeds msglen`);
  const bytes = new Uint8Array(size);
  let cursor = layout.size;
  for (let i = 0; i < slots.length; i++) {
    const saLen = saLens[i]!;
    if (saLen < 0) continue;
    writeSockaddr(slots[i]!, bytes, cursor, saLen);
    cursor += roundup32(saLen);
  }
  put16(bytes, 0, length);
  bytes[2] = init.version ?? RTM_VERSION;
  bytes[3] = init.type;
  const at = layout.at;
  put32(bytes, at.addrs, addrBits);
  put32(bytes, at.flags, init.flags ?? 0);
  put16(bytes, at.index, init.index ?? 0);
  layout.encode(bytes, init);
  return length === size ? bytes : bytes.subarray(0, length);
}

/** Alias: every kind goes through the same encoder. */
export const encodeMessage = encodeRouteMessage;

/* The per-kind encoders of LAYOUTS (the multicast header has no fields of its own). */

function encodeRouteHeader(bytes: Uint8Array, init: RoutingMessageInit): void {
  const m = init as RouteMessageInit;
  put32(bytes, 16, m.pid ?? 0);
  put32(bytes, 20, m.seq ?? 0);
  put32(bytes, 24, m.errno ?? 0);
  put32(bytes, 28, m.use ?? 0);
  put32(bytes, 32, m.inits ?? 0);
  writeMetrics(bytes, m.metrics);
}

function encodeRoute2Header(bytes: Uint8Array, init: RoutingMessageInit): void {
  const m = init as Route2MessageInit;
  put32(bytes, 16, m.refcnt ?? 0);
  put32(bytes, 20, m.parentflags ?? 0);
  put32(bytes, 24, m.reserved ?? 0);
  put32(bytes, 28, m.use ?? 0);
  put32(bytes, 32, m.inits ?? 0);
  writeMetrics(bytes, m.metrics);
}

function encodeInterfaceHeader(bytes: Uint8Array, init: RoutingMessageInit): void {
  const data = (init as InterfaceMessageInit).data ?? {};
  for (const name of IF_DATA_BYTE_FIELDS) {
    bytes[IF_DATA_OFFSET + ifDataFieldOffset(name)] = data[name] ?? 0;
  }
  for (const name of IF_DATA_U32_FIELDS) {
    put32(bytes, IF_DATA_OFFSET + ifDataFieldOffset(name), data[name] ?? 0);
  }
}

function encodeInterface2Header(bytes: Uint8Array, init: RoutingMessageInit): void {
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
}

function encodeAddressHeader(bytes: Uint8Array, init: RoutingMessageInit): void {
  put32(bytes, 16, (init as AddressMessageInit).metric ?? 0);
}

function encodeMulticast2Header(bytes: Uint8Array, init: RoutingMessageInit): void {
  put32(bytes, 16, (init as Multicast2MessageInit).refcount ?? 0);
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
