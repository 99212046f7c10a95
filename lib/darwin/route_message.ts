/**
 * The macOS routing-message codec: pure functions over bytes, no Deno.* (DESIGN.md, issue 2).
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
 *   for the default route (reference §3.3, §5.3).
 * - `kernelDefaultNetmask()` -> the `00 00 00 00` netmask rt_msg2 writes for a default in GET
 *   replies and dumps (reference §3.4), for simulators.
 *
 * Header layouts: reference §1 (rt_msghdr 92 bytes with rtm_errno at offset 24, not 28 as x/net
 * reads it, §8; rt_msghdr2 92; if_msghdr 112; ifa_msghdr 20; ifma_msghdr 16; if_msghdr2 160;
 * ifma_msghdr2 20). All little-endian (both darwin ABIs, reference §0).
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
  encodeSockaddr,
  type Inet4Sockaddr,
  type Inet6Sockaddr,
  type MaskFamily,
  roundup32,
  type Sockaddr,
  SOCKADDR_SLOTS,
  SockaddrBytes,
  type SockaddrSlot,
} from "./sockaddr.ts";

export * from "./constants.ts";
export * from "./sockaddr.ts";

/** Sockaddrs of a message by slot; a slot is present iff its rtm_addrs bit was decoded. */
export type Addrs = Partial<Record<SockaddrSlot, Sockaddr>>;

/** struct rt_metrics (reference §1.1), 56 bytes at offset 36 of rt_msghdr/rt_msghdr2. */
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

/** struct if_data (reference §1.4), 96 bytes at offset 16 of if_msghdr. */
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
  /** msglen ends at the last sockaddr's unpadded length (rtsock.c rt_msg1, reference §3.5). */
  style?: "rt_msg1";
  /** Some set bits had no room left and are missing from `addrs`. */
  addrsTruncated?: true;
}

/** rt_msghdr: RTM_ADD .. RTM_RESOLVE and RTM_GET_SILENT (reference §1.2). */
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

/** rt_msghdr2: RTM_GET2 in NET_RT_DUMP2 sysctl dumps; no pid/seq/errno (reference §1.3). */
export interface Route2Message extends MessageCommon {
  kind: "route2";
  refcnt: number;
  parentflags: number;
  reserved: number;
  use: number;
  inits: number;
  metrics: RouteMetrics;
}

/** if_msghdr: RTM_IFINFO (reference §1.4). `flags` are IFF_* (u_short). */
export interface InterfaceMessage extends MessageCommon {
  kind: "interface";
  data: InterfaceData;
}

/** if_msghdr2: RTM_IFINFO2 from NET_RT_IFLIST2 (reference §1.4). */
export interface Interface2Message extends MessageCommon {
  kind: "interface2";
  sndLen: number;
  sndMaxlen: number;
  sndDrops: number;
  timer: number;
  data: InterfaceData64;
}

/** ifa_msghdr: RTM_NEWADDR / RTM_DELADDR (reference §1.4). */
export interface AddressMessage extends MessageCommon {
  kind: "address";
  metric: number;
}

/** ifma_msghdr: RTM_NEWMADDR / RTM_DELMADDR (reference §1.4). */
export interface MulticastMessage extends MessageCommon {
  kind: "multicast";
}

/** ifma_msghdr2: RTM_NEWMADDR2 from NET_RT_IFLIST2 (reference §1.4). */
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

/** sizeof the header struct for a kind. */
export function headerSize(kind: MessageKind): number {
  return HEADER_SIZE[kind];
}

/**
 * Where each header keeps the fields the kinds share. rt_msghdr puts index at 4 and addrs at 12;
 * the interface headers put addrs at 4, flags at 8 and index at 12 (reference §1.2, §1.4).
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

const METRIC_FIELDS: readonly (keyof RouteMetrics)[] = [
  "locks",
  "mtu",
  "hopcount",
  "expire",
  "recvpipe",
  "sendpipe",
  "ssthresh",
  "rtt",
  "rttvar",
  "pksent",
];
/** rtm_rmx offset in rt_msghdr and rt_msghdr2. */
const METRICS_OFFSET = 36;

/** if_data's 4-byte fields after the 8 one-byte ones, in order from offset 8 (reference §1.4). */
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

/**
 * Decodes the message at the start of `bytes` (a read(2) from a routing socket, or one message
 * of a dump). Bytes after msglen are ignored. Never throws: bad input is a typed error.
 */
/**
 * Little-endian reads straight from a message buffer. A DataView per message cost about as much
 * as decoding the message (issue 8's bench), so the decoder reads bytes itself; both darwin ABIs
 * are little-endian (reference §0).
 */
class LittleEndian {
  constructor(private readonly bytes: Uint8Array) {}
  u8(at: number): number {
    return this.bytes[at]!;
  }
  u16(at: number): number {
    return this.bytes[at]! | (this.bytes[at + 1]! << 8);
  }
  i32(at: number): number {
    const b = this.bytes;
    return b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16) | (b[at + 3]! << 24);
  }
  u32(at: number): number {
    return this.i32(at) >>> 0;
  }
}

export function decodeMessage(bytes: Uint8Array, offset = 0): DecodeResult {
  const view = new LittleEndian(bytes);
  return decodeGuarded(bytes, view, 0, offset);
}

function decodeGuarded(
  buffer: Uint8Array,
  view: LittleEndian,
  start: number,
  reportOffset: number,
): DecodeResult {
  try {
    return decodeAt(buffer, view, start, reportOffset);
  } catch (e) {
    return decodeError("malformed", `decoder failed: ${String(e)}`, reportOffset);
  }
}

/**
 * Decodes the message at `start` of `buffer`, which may hold more messages after it. Works on
 * offsets into the one buffer (no per-message views): a dump walk allocates only the decoded
 * objects themselves (issue 8's 1,000,000 messages/s target).
 */
function decodeAt(
  buffer: Uint8Array,
  view: LittleEndian,
  start: number,
  offset: number,
): DecodeResult {
  const available = buffer.length - start;
  if (available < 4) {
    return decodeError("too-short", `${available} bytes, need at least 4`, offset);
  }
  const length = view.u16(start);
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
  const addrBits = view.i32(start + at.addrs) >>> 0;
  const addrs = decodeAddrs(buffer, start + header, start + length, addrBits);
  const flags = view.i32(start + at.flags) >>> 0;
  const index = view.u16(start + at.index);
  const message = decodeHeader(
    kind,
    view,
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

function decodeMetrics(view: LittleEndian, start: number): RouteMetrics {
  const at = start + METRICS_OFFSET;
  // A literal, not a keyed loop: every RouteMetrics then shares one hidden class.
  return {
    locks: view.u32(at),
    mtu: view.u32(at + 4),
    hopcount: view.u32(at + 8),
    expire: view.i32(at + 12),
    recvpipe: view.u32(at + 16),
    sendpipe: view.u32(at + 20),
    ssthresh: view.u32(at + 24),
    rtt: view.u32(at + 28),
    rttvar: view.u32(at + 32),
    pksent: view.u32(at + 36),
  };
}

function decodeHeader(
  kind: MessageKind,
  view: LittleEndian,
  start: number,
  type: number,
  version: number,
  length: number,
  flags: number,
  index: number,
  addrBits: number,
  addrs: Addrs,
): RoutingMessage {
  const i32 = (off: number) => view.i32(start + off);
  const u32 = (off: number) => view.u32(start + off);
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
        pid: i32(16),
        seq: i32(20),
        errno: i32(24),
        use: i32(28),
        inits: u32(32),
        metrics: decodeMetrics(view, start),
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
        refcnt: i32(16),
        parentflags: u32(20),
        reserved: i32(24),
        use: i32(28),
        inits: u32(32),
        metrics: decodeMetrics(view, start),
      };
    case "interface": {
      const data = {} as InterfaceData;
      for (const name of IF_DATA_BYTE_FIELDS) {
        data[name] = view.u8(start + IF_DATA_OFFSET + ifDataFieldOffset(name));
      }
      for (const name of IF_DATA_U32_FIELDS) {
        const off = IF_DATA_OFFSET + ifDataFieldOffset(name);
        data[name] = SIGNED_IF_FIELDS.has(name) ? i32(off) : u32(off);
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
        sndLen: i32(16),
        sndMaxlen: i32(20),
        sndDrops: i32(24),
        timer: i32(28),
        data: {
          type: view.u8(d),
          typelen: view.u8(d + 1),
          physical: view.u8(d + 2),
          addrlen: view.u8(d + 3),
          hdrlen: view.u8(d + 4),
          mtu: view.u32(d + 8),
          metric: view.u32(d + 12),
        },
      };
    }
    case "address":
      return { kind, type, version, length, flags, index, addrBits, addrs, metric: i32(16) };
    case "multicast":
      return { kind, type, version, length, flags, index, addrBits, addrs };
    case "multicast2":
      return { kind, type, version, length, flags, index, addrBits, addrs, refcount: i32(16) };
  }
}

/**
 * How the last decodeAddrs walk ended. Module state instead of a result object per message (the
 * decoder is synchronous, so nothing can interleave between the walk and its reader).
 */
const lastWalk = { rtMsg1: false, truncated: false };

const EMPTY_RECORD = new SockaddrBytes(new Uint8Array(0), 0, 0);

/** The family netmasks are read in: the DST's, else the IFA's (rtm_scrub's hint, §3.4). */
function familyOf(familyByte: number): MaskFamily {
  return familyByte === AF_INET ? "inet4" : familyByte === AF_INET6 ? "inet6" : null;
}

/**
 * Walks the sockaddrs of the message occupying [cursor, end) of `buffer` (reference §3.5
 * "Parser rules"): 4-byte slots, sa_len 0 takes 4; a set bit with no bytes left is an all-zero
 * sockaddr; a sockaddr longer than what is left ends the walk. Netmasks are read in the DST's
 * family, or the IFA's when there is no DST (rtm_scrub's hint, reference §3.4), never by their
 * own family byte.
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
      addrs[slot] = decodeSockaddr(0, 0, EMPTY_RECORD, slot, maskFamily);
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
    const record = new SockaddrBytes(buffer, cursor, saLen);
    addrs[slot] = decodeSockaddr(saLen, familyByte, record, slot, maskFamily);
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

/**
 * Decodes every message in a buffer (a monitor read or a sysctl NET_RT_DUMP/IFLIST dump).
 * Unparsable messages are skipped by their msglen and counted; a msglen below 4 or beyond the
 * buffer ends the walk (counted once), so the loop always terminates.
 */
export function decodeMessages(buffer: Uint8Array): DecodedBuffer {
  const out: DecodedBuffer = { messages: [], skipped: 0, errors: [] };
  const view = new LittleEndian(buffer);
  let offset = 0;
  while (offset < buffer.length) {
    const result = decodeGuarded(buffer, view, offset, offset);
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

function writeMetrics(view: DataView, metrics: Partial<RouteMetrics> | undefined): void {
  METRIC_FIELDS.forEach((name, i) => {
    const value = metrics?.[name] ?? 0;
    const off = METRICS_OFFSET + 4 * i;
    if (name === "expire") view.setInt32(off, value, true);
    else view.setUint32(off, value >>> 0, true);
  });
}

/**
 * Encodes any routing message the decoder knows. Sockaddrs are written in slot order, each
 * padded to 4 bytes (rt_msg2); with `style: "rt_msg1"` msglen stops at the last sockaddr's
 * unpadded end, as the kernel's notifications do (reference §3.5). Throws RangeError on an
 * unknown type or an unparsable address: the encoder only sees this program's own messages.
 */
export function encodeRouteMessage(init: RoutingMessageInit): Uint8Array {
  const kind = messageKind(init.type);
  if (kind === null) throw new RangeError(`no header layout for rtm_type ${init.type}`);
  if (init.kind !== undefined && init.kind !== kind) {
    throw new RangeError(`rtm_type ${init.type} is a ${kind} message, not ${init.kind}`);
  }
  const header = HEADER_SIZE[kind];
  const slots: Uint8Array[] = [];
  let addrBits = (init.extraAddrBits ?? 0) >>> 0;
  let size = header;
  let unpaddedEnd = header;
  SOCKADDR_SLOTS.forEach((name, i) => {
    const sa = init.addrs?.[name];
    if (sa === undefined) return;
    const encoded = encodeSockaddr(sa);
    addrBits |= 1 << i;
    slots.push(encoded.slot);
    unpaddedEnd = size + encoded.saLen;
    size += encoded.slot.length;
  });
  const length = init.style === "rt_msg1" ? unpaddedEnd : size;
  const bytes = new Uint8Array(size);
  let cursor = header;
  for (const slot of slots) {
    bytes.set(slot, cursor);
    cursor += slot.length;
  }
  const view = new DataView(bytes.buffer);
  if (length > 0xffff) throw new RangeError(`message of ${length} bytes exceeds msglen`);
  view.setUint16(0, length, true);
  bytes[2] = init.version ?? RTM_VERSION;
  bytes[3] = init.type;
  const at = offsetsOf(kind);
  view.setUint32(at.addrs, addrBits >>> 0, true);
  view.setUint32(at.flags, (init.flags ?? 0) >>> 0, true);
  view.setUint16(at.index, init.index ?? 0, true);
  writeHeader(kind, view, init);
  return bytes.subarray(0, length);
}

/** Alias: every kind goes through the same encoder. */
export const encodeMessage = encodeRouteMessage;

function writeHeader(kind: MessageKind, view: DataView, init: RoutingMessageInit): void {
  const i32 = (off: number, value: number | undefined) => view.setInt32(off, value ?? 0, true);
  const u32 = (off: number, value: number | undefined) =>
    view.setUint32(off, (value ?? 0) >>> 0, true);
  switch (kind) {
    case "route": {
      const m = init as RouteMessageInit;
      i32(16, m.pid);
      i32(20, m.seq);
      i32(24, m.errno);
      i32(28, m.use);
      u32(32, m.inits);
      writeMetrics(view, m.metrics);
      return;
    }
    case "route2": {
      const m = init as Route2MessageInit;
      i32(16, m.refcnt);
      u32(20, m.parentflags);
      i32(24, m.reserved);
      i32(28, m.use);
      u32(32, m.inits);
      writeMetrics(view, m.metrics);
      return;
    }
    case "interface": {
      const data = (init as InterfaceMessageInit).data ?? {};
      for (const name of [...IF_DATA_BYTE_FIELDS, ...IF_DATA_U32_FIELDS]) {
        const off = IF_DATA_OFFSET + ifDataFieldOffset(name);
        const value = data[name] ?? 0;
        if (IF_DATA_BYTE_FIELDS.includes(name)) view.setUint8(off, value);
        else if (SIGNED_IF_FIELDS.has(name)) i32(off, value);
        else u32(off, value);
      }
      return;
    }
    case "interface2": {
      const m = init as Interface2MessageInit;
      i32(16, m.sndLen);
      i32(20, m.sndMaxlen);
      i32(24, m.sndDrops);
      i32(28, m.timer);
      const d = IF_DATA64_OFFSET;
      view.setUint8(d, m.data?.type ?? 0);
      view.setUint8(d + 1, m.data?.typelen ?? 0);
      view.setUint8(d + 2, m.data?.physical ?? 0);
      view.setUint8(d + 3, m.data?.addrlen ?? 0);
      view.setUint8(d + 4, m.data?.hdrlen ?? 0);
      u32(d + 8, m.data?.mtu);
      u32(d + 12, m.data?.metric);
      return;
    }
    case "address":
      i32(16, (init as AddressMessageInit).metric);
      return;
    case "multicast":
      return;
    case "multicast2":
      i32(16, (init as Multicast2MessageInit).refcount);
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
  /** Interface index of a link-local IPv6 gateway, embedded KAME-style (reference §3.6). */
  zone?: number;
  /** Scope the route to this interface index: RTF_IFSCOPE + rtm_index (reference §5.2). */
  ifscope?: number;
  seq: number;
  /** rtm_pid; the kernel overwrites it, so route(8) leaves it 0. */
  pid?: number;
  /**
   * "route8": DST, [GATEWAY], zero-length NETMASK (`00 02 00 00` / `00 1e 00 00`, which ends
   * the kernel's parse), and for GET an empty IFP asking for IFP/IFA in the reply.
   * "configd": DST, [GATEWAY], full-length all-zero NETMASK, IFP {20, AF_LINK, ifpIndex},
   * [IFA], so the kernel honours IFP/IFA (reference §3.3, §5.3.4).
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
 * The message route(8) or configd sends for the default route (reference §5.3). Returns the
 * init object; pass it to {@link encodeRouteMessage}.
 */
export function defaultRouteRequest(request: DefaultRouteRequest): RouteMessageInit {
  const { family, form } = request;
  const any = family === 4 ? "0.0.0.0" : "::";
  const addrs: Addrs = { dst: inetSockaddr(family, any) };
  if (request.gateway !== undefined) {
    addrs.gateway = inetSockaddr(family, request.gateway, request.zone);
  }
  if (form === "route8") {
    // getaddr("default"): sa_len 0 but sa_family kept, one 4-byte slot (reference §3.3a).
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
 * the zero fill, family 0 - the 4 bytes `00 00 00 00` (reference §3.4). `family` only says how
 * the decoder will read it back (in the DST's family).
 */
export function kernelDefaultNetmask(family: 4 | 6): Inet4Sockaddr | Inet6Sockaddr {
  return family === 4
    ? { family: "inet4", address: "0.0.0.0", length: 0, familyByte: 0 }
    : { family: "inet6", address: "::", length: 0, familyByte: 0 };
}

/** The rtm_addrs bit of each slot (reference §2.2). */
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
