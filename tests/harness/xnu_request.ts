/**
 * How the simulated XNU kernel reads a routing request a process wrote: route_output's header
 * checks and rt_xaddrs' sockaddr walk (xnu bsd/net/rtsock.c lines 352-456 and 1182-1289,
 * docs/macos-routing-socket.md §3.2). Deliberately written from the kernel's rules, not with
 * lib/darwin's codec, so the codec and the route table are checked against an independent reading
 * of the bytes.
 */

export const RTM_VERSION = 5;
export const RT_MSGHDR_SIZE = 92;
const SOCKADDR_STORAGE = 128;
const AF_MAX = 41;
export const AF_INET = 2;
export const AF_LINK = 18;
export const AF_INET6 = 30;

/** A request that passed route_output's checks. */
export interface KernelRequest {
  type: number;
  flags: number;
  index: number;
  /** rtm_addrs as written: the reply's IFP/IFA depend on these bits, not on what was parsed. */
  addrBits: number;
  seq: number;
  /** Parsed sockaddrs by RTAX index (dst 0, gateway 1, netmask 2, genmask 3, ifp 4, ifa 5). */
  sockaddrs: (Uint8Array | null)[];
}

const EINVAL = 22;
const EPROTONOSUPPORT = 43;

/** sa_zero: what a zero-length sockaddr becomes (rtsock.c, "route(1) can evidently generate"). */
function saZero(): Uint8Array {
  const sa = new Uint8Array(16);
  sa[0] = 16;
  sa[1] = AF_INET;
  return sa;
}

function roundup32(n: number): number {
  return n > 0 ? 1 + ((n - 1) | 3) : 4;
}

/**
 * route_output's header checks (xnu bsd/net/rtsock.c route_output, lines 352-377): a length that
 * is short or differs from rtm_msglen is EINVAL before the message is even copied, so its echo
 * is the sender's bytes untouched (`rtm_buf` is NULL at `flush:`, no rtm_errno, no RTF_DONE);
 * a wrong version is EPROTONOSUPPORT, echoed with rtm_errno but without the kernel's pid.
 * Returns 0 when both pass.
 */
export function checkHeader(bytes: Uint8Array): { errno: number; untouched: boolean } {
  const length = bytes.byteLength >= 2 ? bytes[0]! | (bytes[1]! << 8) : -1;
  if (bytes.byteLength < RT_MSGHDR_SIZE || length !== bytes.byteLength) {
    return { errno: EINVAL, untouched: true };
  }
  if (bytes[2] !== RTM_VERSION) return { errno: EPROTONOSUPPORT, untouched: false };
  return { errno: 0, untouched: false };
}

export type ParseResult =
  | {
    ok: true;
    request: KernelRequest;
    /** dst_sa_family: the raw_input protocol of every message this request sends (0 = all). */
    protocol: number;
  }
  | { ok: false; errno: number; protocol: number };

/**
 * rt_xaddrs' sockaddr walk and route_output's DST/GATEWAY checks (rtsock.c lines 403-456 and
 * 1182-1289), for a message that passed checkHeader. An AF_INET DST shorter than a sockaddr_in
 * but reaching sin_addr is rebuilt, and that rebuild sets dst_sa_family (rtsock.c line 430): from
 * then on the request's messages go out with protocol AF_INET, which a protocol-0 DST never does.
 */
export function parseRequest(bytes: Uint8Array): ParseResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const request: KernelRequest = {
    type: bytes[3]!,
    index: view.getUint16(4, true),
    flags: view.getInt32(8, true),
    addrBits: view.getInt32(12, true),
    seq: view.getInt32(20, true),
    sockaddrs: new Array(8).fill(null),
  };
  // rt_xaddrs
  let cursor = RT_MSGHDR_SIZE;
  const end = bytes.byteLength;
  for (let i = 0; i < 8 && cursor < end; i++) {
    if ((request.addrBits & (1 << i)) === 0) continue;
    const saLen = bytes[cursor]!;
    if (cursor + saLen > end || saLen > SOCKADDR_STORAGE) {
      return { ok: false, errno: EINVAL, protocol: 0 };
    }
    if (saLen === 0) {
      // Becomes sa_zero and parsing stops: every later address is ignored
      // (docs/macos-routing-socket.md §3.2).
      request.sockaddrs[i] = saZero();
      break;
    }
    if (saLen < 2) return { ok: false, errno: EINVAL, protocol: 0 };
    // "Tiny" sockaddrs are copied into zeroed 16-byte storage.
    const sa = new Uint8Array(Math.max(16, saLen));
    sa.set(bytes.subarray(cursor, cursor + saLen));
    request.sockaddrs[i] = sa;
    cursor += roundup32(saLen);
  }
  const dst = request.sockaddrs[0];
  const gateway = request.sockaddrs[1];
  if (!dst || dst[1]! >= AF_MAX || (gateway && gateway[1]! >= AF_MAX)) {
    return { ok: false, errno: EINVAL, protocol: 0 };
  }
  let protocol = 0;
  if (dst[1] === AF_INET && dst[0] !== 16) {
    if (dst[0]! < 8) return { ok: false, errno: EINVAL, protocol };
    protocol = AF_INET;
  } else if (dst[1] === AF_INET6 && dst[0]! < 28) {
    return { ok: false, errno: EINVAL, protocol };
  }
  if (gateway) {
    if (gateway[1] === AF_INET && gateway[0]! < 8) return { ok: false, errno: EINVAL, protocol };
    if (gateway[1] === AF_INET6 && gateway[0]! < 28) return { ok: false, errno: EINVAL, protocol };
  }
  return { ok: true, request, protocol };
}

/** 4 or 6 for an inet sockaddr, null otherwise. */
export function familyOf(sa: Uint8Array): 4 | 6 | null {
  return sa[1] === AF_INET ? 4 : sa[1] === AF_INET6 ? 6 : null;
}

/** The address bytes of an inet sockaddr of `family`. */
export function inetAddress(sa: Uint8Array, family: 4 | 6): Uint8Array {
  const out = new Uint8Array(family === 4 ? 4 : 16);
  const from = family === 4 ? 4 : 8;
  const limit = Math.min(sa[0] || 16, from + out.length);
  for (let i = from; i < limit && i < sa.length; i++) out[i - from] = sa[i]!;
  return out;
}

/** Is a v6 address one whose scope the kernel embeds (fe80::/10, ff01::/16, ff02::/16)? */
export function isEmbedScope(address: Uint8Array): boolean {
  if (address.length !== 16) return false;
  if (address[0] === 0xfe && (address[1]! & 0xc0) === 0x80) return true;
  return address[0] === 0xff && ((address[1]! & 0x0f) === 1 || (address[1]! & 0x0f) === 2);
}

/**
 * An inet gateway: its address with any KAME-embedded scope removed, and the scope (the
 * embedded index, else sin6_scope_id; docs/macos-routing-socket.md §3.6).
 */
export function inetGateway(sa: Uint8Array, family: 4 | 6): { address: Uint8Array; zone: number } {
  const address = inetAddress(sa, family);
  if (family === 4 || !isEmbedScope(address)) return { address, zone: 0 };
  let zone = (address[2]! << 8) | address[3]!;
  address[2] = 0;
  address[3] = 0;
  if (zone === 0 && sa.length >= 28) {
    zone = new DataView(sa.buffer, sa.byteOffset, sa.byteLength).getUint32(24, true);
  }
  return { address, zone };
}

/**
 * The prefix length of a netmask read in the DST's family (its own family byte is not trusted,
 * docs/macos-routing-socket.md §3.4), or null when the mask is not contiguous.
 */
export function maskPrefix(sa: Uint8Array, family: 4 | 6): number | null {
  const mask = inetAddress(sa, family);
  let prefix = 0;
  let ended = false;
  for (const byte of mask) {
    for (let bit = 7; bit >= 0; bit--) {
      const set = (byte >> bit) & 1;
      if (set && ended) return null;
      if (set) prefix++;
      else ended = true;
    }
  }
  return prefix;
}

/** sdl_index and name of a sockaddr_dl (IFP), or null for another family. */
export function linkOf(sa: Uint8Array): { index: number; name: string } | null {
  if (sa[1] !== AF_LINK) return null;
  const index = sa[2]! | (sa[3]! << 8);
  const nlen = sa[5] ?? 0;
  const name = new TextDecoder().decode(sa.subarray(8, Math.min(sa.length, 8 + nlen)));
  return { index, name };
}
