/**
 * Darwin sockaddrs as they appear inside routing messages: sockaddr_in, sockaddr_in6 (with KAME
 * embedded scope), sockaddr_dl, the zero-length and trimmed netmasks the kernel and route(8)
 * write, and anything else kept as raw bytes. Pure functions; no Deno.* (reference §3).
 *
 * Decoded objects omit a field when it has its natural value (sa_len 16/28, the family's own
 * family byte, port 0 ...), so tests and JSON stay readable, and encoding a decoded sockaddr gives
 * back the same bytes.
 */
import {
  formatIPv4,
  formatIPv6,
  maskPrefixLength,
  parseIPv4 as parseIPv4Text,
  parseIPv6 as parseIPv6Text,
  subnetMask,
} from "../core/ip_address.ts";
import { AF_INET, AF_INET6, AF_LINK, SIZEOF_SOCKADDR_DL } from "./constants.ts";

/** The eight rtm_addrs slots in bit order (RTAX_DST .. RTAX_BRD, reference §2.2). */
export const SOCKADDR_SLOTS = [
  "dst",
  "gateway",
  "netmask",
  "genmask",
  "ifp",
  "ifa",
  "author",
  "brd",
] as const;
export type SockaddrSlot = typeof SOCKADDR_SLOTS[number];

/** sockaddr_in (16 bytes) or an IPv4 netmask (often trimmed, reference §3.4). */
export interface Inet4Sockaddr {
  family: "inet4";
  /** Dotted quad; for a netmask, the mask ("255.255.255.0"). */
  address: string;
  /** sin_port, only when non-zero (kernel masks carry 0xffff here). */
  port?: number;
  /** Decoded netmasks only, when the mask is contiguous. Ignored by the encoder. */
  prefixLength?: number;
  /** sa_len when it is not 16 (0 for route(8)'s default netmask, 6/7 for trimmed masks). */
  length?: number;
  /** The sa_family byte when it is not AF_INET (kernel masks: 0 or 0xff; reference §3.4). */
  familyByte?: number;
  /**
   * Bytes 8 .. sa_len (sin_zero and beyond) as plain hex, only when not all zero. Inside the
   * kernel sin_zero[0..3] holds an IPv4 scope id (reference §3.6); it should never reach here.
   */
  tail?: string;
}

/** sockaddr_in6 (28 bytes) or an IPv6 netmask. */
export interface Inet6Sockaddr {
  family: "inet6";
  /** RFC 5952 text without zone ("fe80::1"); for a netmask, the mask ("ffff:ffff:ffff::"). */
  address: string;
  /**
   * Interface index of a scoped address. Decoding: the KAME-embedded index (bytes 10-11 of
   * fe80::/10, ff01::/16, ff02::/16), else sin6_scope_id. Encoding: embedded big-endian at bytes
   * 10-11 for those addresses, like route(8) and configd (reference §3.6); else sin6_scope_id.
   */
  zone?: number;
  /** Raw sin6_scope_id when it is non-zero and not implied by `zone`. */
  scopeId?: number;
  /** false: a scoped link-local address whose index is only in sin6_scope_id (x/net's form). */
  embedScope?: boolean;
  port?: number;
  flowinfo?: number;
  /** Decoded netmasks only, when the mask is contiguous. Ignored by the encoder. */
  prefixLength?: number;
  /** sa_len when it is not 28. */
  length?: number;
  /** The sa_family byte when it is not AF_INET6. */
  familyByte?: number;
  /** Bytes 28 .. sa_len as plain hex, only when sa_len > 28 and they are not all zero. */
  tail?: string;
}

/** sockaddr_dl: an interface (IFP) or a link-layer address (reference §3.6). */
export interface LinkSockaddr {
  family: "link";
  /** sdl_index (host order). */
  index: number;
  /** sdl_type (IFT_*); decoded always, defaults to 0 when encoding. */
  type?: number;
  /** Interface name, sdl_nlen bytes ("en0"); "" when absent. */
  name?: string;
  /** Link-layer address as lower-case colon hex ("ac:87:a3:19:7f:82"); "" when absent. */
  linkAddress?: string;
  /** sdl_slen selector bytes as colon hex, only when present. */
  selector?: string;
  /** sdl_len when it differs from the kernel's ROUNDUP4(max(20, 8 + nlen + alen + slen)). */
  length?: number;
}

/** A slot whose bit is set but whose sockaddr is all zero or missing (reference §3.5). */
export interface EmptySockaddr {
  family: "empty";
}

/** Any other family, kept as bytes. */
export interface OtherSockaddr {
  family: "other";
  familyNumber: number;
  /** sa_len. */
  length: number;
  /** Bytes 2 .. sa_len as plain hex ("0a0b0c"). */
  data: string;
}

export type Sockaddr =
  | Inet4Sockaddr
  | Inet6Sockaddr
  | LinkSockaddr
  | EmptySockaddr
  | OtherSockaddr;

/** Which family a netmask/genmask slot is read in: the DST's (or IFA's) family, not its own. */
export type MaskFamily = "inet4" | "inet6" | null;

/**
 * ROUNDUP32 of rtsock.c line 162 (reference §3.1): 4-byte slots, and a sockaddr with sa_len 0
 * still takes 4 bytes.
 */
export function roundup32(length: number): number {
  return length > 0 ? 1 + ((length - 1) | 3) : 4;
}

/** True for a netmask/genmask slot, whose family byte is not trustworthy (reference §3.4). */
export function isMaskSlot(slot: SockaddrSlot): boolean {
  return slot === "netmask" || slot === "genmask";
}

/**
 * IN6_IS_SCOPE_EMBED (xnu in6.h line 456): link-local unicast fe80::/10 and link-local or
 * interface-local multicast (scope nibble 2 or 1, which covers ff02::/16 and ff01::/16).
 */
export function isEmbedScope(bytes: ArrayLike<number>): boolean {
  const b0 = bytes[0] ?? 0;
  const b1 = bytes[1] ?? 0;
  if (b0 === 0xfe && (b1 & 0xc0) === 0x80) return true;
  return b0 === 0xff && ((b1 & 0x0f) === 0x01 || (b1 & 0x0f) === 0x02);
}

/** "00".."ff", so formatting a byte is a table lookup (the decoder's hot path). */
const HEX_BYTE: readonly string[] = Array.from(
  { length: 256 },
  (_, b) => b.toString(16).padStart(2, "0"),
);

function unhex(text: string): Uint8Array {
  const digits = text.replace(/[^0-9a-fA-F]/g, "");
  if (digits.length % 2 !== 0) throw new RangeError(`odd number of hex digits: ${text}`);
  const out = new Uint8Array(digits.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(digits.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/**
 * A sockaddr's bytes inside a larger message buffer, read without copying or a typed-array view
 * per sockaddr (those allocations dominated decoding a 10,000-route dump). Bytes past `length`
 * (a message that ends early, a trimmed mask) read as zero.
 */
export class SockaddrBytes {
  constructor(
    private readonly buffer: Uint8Array,
    private readonly start: number,
    readonly length: number,
  ) {}

  /** Byte `i` of the sockaddr; 0 past its end. */
  at(i: number): number {
    return i < this.length ? this.buffer[this.start + i]! : 0;
  }

  /** Bytes [from, to) clamped to the sockaddr, as hex with `separator` between bytes. Read in
   * place: a typed-array view per field cost about a microsecond each (issue 8's bench). */
  hex(from: number, to: number, separator: string): string {
    const end = Math.min(to, this.length);
    let out = "";
    for (let i = from; i < end; i++) {
      if (i > from) out += separator;
      out += HEX_BYTE[this.buffer[this.start + i]!];
    }
    return out;
  }

  /** Bytes [from, to) clamped to the sockaddr as Latin-1 text (interface names). */
  latin1(from: number, to: number): string {
    const end = Math.min(to, this.length);
    let out = "";
    for (let i = from; i < end; i++) out += String.fromCharCode(this.buffer[this.start + i]!);
    return out;
  }
}

function fromLatin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

/**
 * Bytes [from, to) of a sockaddr record as numbers, zero-extended past its end (trimmed masks).
 * Plain arrays, not Uint8Arrays: small typed-array allocations dominated decoding a dump.
 */
function field(record: SockaddrBytes, from: number, to: number): number[] {
  const out: number[] = new Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = record.at(i);
  return out;
}

function u16be(record: SockaddrBytes, at: number): number {
  return ((record.at(at)) << 8) | (record.at(at + 1));
}

function u32be(record: SockaddrBytes, at: number): number {
  return (((record.at(at)) << 24) | ((record.at(at + 1)) << 16) |
    ((record.at(at + 2)) << 8) | (record.at(at + 3))) >>> 0;
}

function u32le(record: SockaddrBytes, at: number): number {
  return (((record.at(at + 3)) << 24) | ((record.at(at + 2)) << 16) |
    ((record.at(at + 1)) << 8) | (record.at(at))) >>> 0;
}

function allZero(record: SockaddrBytes, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (record.at(i) !== 0) return false;
  return true;
}

/**
 * Decodes one sockaddr.
 *
 * `record` holds the sockaddr's bytes (at most sa_len of them, fewer when the message ends
 * early; missing bytes read as zero). `familyByte` is passed separately because a zero-length
 * sockaddr still has its family in the slot (route(8)'s `00 02 00 00`, reference §3.3).
 * `maskFamily` is the DST's (or IFA's) family, used for netmask/genmask slots (reference §3.4).
 */
export function decodeSockaddr(
  saLen: number,
  familyByte: number,
  record: SockaddrBytes,
  slot: SockaddrSlot,
  maskFamily: MaskFamily,
): Sockaddr {
  const mask = isMaskSlot(slot);
  let family: Sockaddr["family"];
  if (mask && maskFamily !== null) family = maskFamily;
  else if (familyByte === AF_INET) family = "inet4";
  else if (familyByte === AF_INET6) family = "inet6";
  else if (familyByte === AF_LINK && !mask) family = "link";
  else if (saLen === 0 && familyByte === 0) family = "empty";
  else family = "other";

  switch (family) {
    case "inet4":
      return decodeInet4(saLen, familyByte, record, mask);
    case "inet6":
      return decodeInet6(saLen, familyByte, record, mask);
    case "link":
      return decodeLink(saLen, record);
    case "empty":
      return { family: "empty" };
    case "other":
      return {
        family: "other",
        familyNumber: familyByte,
        length: saLen,
        data: record.hex(2, Math.max(2, saLen), ""),
      };
  }
}

function decodeInet4(
  saLen: number,
  familyByte: number,
  record: SockaddrBytes,
  mask: boolean,
): Inet4Sockaddr {
  // Dotted quad straight from the record, without copying the four bytes out per sockaddr (a
  // 10,000-route dump decodes 20,000 of them).
  const a = record.at(4), b = record.at(5), c = record.at(6), d = record.at(7);
  const out: Inet4Sockaddr = { family: "inet4", address: `${a}.${b}.${c}.${d}` };
  const port = u16be(record, 2);
  if (port !== 0) out.port = port;
  if (mask) {
    const prefix = contiguousPrefix((a << 24 | b << 16 | c << 8 | d) >>> 0);
    if (prefix !== null) out.prefixLength = prefix;
  }
  if (saLen !== 16) out.length = saLen;
  if (familyByte !== AF_INET) out.familyByte = familyByte;
  if (!allZero(record, 8, saLen)) out.tail = record.hex(8, saLen, "");
  return out;
}

/** The prefix length of a contiguous 32-bit mask (0xffffff00 -> 24); null when not contiguous. */
function contiguousPrefix(mask: number): number | null {
  const inverted = ~mask >>> 0;
  // A contiguous mask's complement is 2^k - 1: adding one leaves a single bit (or zero).
  if ((inverted & (inverted + 1)) !== 0) return null;
  return 32 - (inverted === 0 ? 0 : Math.log2(inverted + 1));
}

function decodeInet6(
  saLen: number,
  familyByte: number,
  record: SockaddrBytes,
  mask: boolean,
): Inet6Sockaddr {
  const addressBytes = field(record, 8, 24);
  const scopeId = u32le(record, 24);
  let zone = 0;
  let embedScope: boolean | undefined;
  if (!mask && isEmbedScope(addressBytes)) {
    // KAME: the kernel keeps the interface index big-endian in s6_addr[2..3] (reference §3.6).
    const embedded = (addressBytes[2]! << 8) | addressBytes[3]!;
    addressBytes[2] = 0;
    addressBytes[3] = 0;
    if (embedded !== 0) zone = embedded;
    else if (scopeId !== 0) {
      zone = scopeId;
      embedScope = false;
    }
  } else if (!mask && scopeId !== 0) {
    zone = scopeId;
  }
  const out: Inet6Sockaddr = { family: "inet6", address: formatIPv6(addressBytes) };
  if (zone !== 0) out.zone = zone;
  if (scopeId !== 0 && (zone !== scopeId || embedScope === false || mask)) out.scopeId = scopeId;
  if (embedScope === false) out.embedScope = false;
  const port = u16be(record, 2);
  if (port !== 0) out.port = port;
  const flowinfo = u32be(record, 4);
  if (flowinfo !== 0) out.flowinfo = flowinfo;
  if (mask) {
    const prefix = maskPrefixLength(addressBytes);
    if (prefix !== null) out.prefixLength = prefix;
  }
  if (saLen !== 28) out.length = saLen;
  if (familyByte !== AF_INET6) out.familyByte = familyByte;
  if (!allZero(record, 28, saLen)) out.tail = record.hex(28, saLen, "");
  return out;
}

/** The kernel's sdl_len for an interface sockaddr_dl (dlil_subr.c line 355, reference §3.6). */
export function linkSockaddrLength(nlen: number, alen: number, slen: number): number {
  return roundup32(Math.max(SIZEOF_SOCKADDR_DL, 8 + nlen + alen + slen));
}

function decodeLink(saLen: number, record: SockaddrBytes): LinkSockaddr {
  const index = (record.at(2)) | ((record.at(3)) << 8);
  const type = record.at(4);
  const nlen = record.at(5);
  const alen = record.at(6);
  const slen = record.at(7);
  // Clamp every part to the record so a lying nlen/alen never reads past sa_len.
  const end = Math.max(8, Math.min(saLen, record.length));
  const nameEnd = Math.min(8 + nlen, end);
  const addressEnd = Math.min(nameEnd + alen, end);
  const selectorEnd = Math.min(addressEnd + slen, end);
  const out: LinkSockaddr = {
    family: "link",
    index,
    type,
    name: record.latin1(8, nameEnd),
    linkAddress: record.hex(nameEnd, addressEnd, ":"),
  };
  if (slen !== 0) out.selector = record.hex(addressEnd, selectorEnd, ":");
  if (saLen !== linkSockaddrLength(nlen, alen, slen)) out.length = saLen;
  return out;
}

/** An encoded sockaddr: the padded slot and the unpadded sa_len (for rt_msg1-style trimming). */
export interface EncodedSockaddr {
  slot: Uint8Array;
  saLen: number;
}

/** Writes `full` (a sockaddr at its natural length) truncated or zero-extended to `saLen`. */
function toSlot(full: Uint8Array, saLen: number, familyByte: number): EncodedSockaddr {
  if (!Number.isInteger(saLen) || saLen < 0 || saLen > 255) {
    throw new RangeError(`sa_len ${saLen} is not a byte`);
  }
  const slot = new Uint8Array(roundup32(saLen));
  // Bytes 0 and 1 are always written: a zero-length sockaddr keeps its family byte (§3.3).
  slot.set(full.subarray(0, Math.max(2, Math.min(saLen, full.length))));
  slot[0] = saLen;
  slot[1] = familyByte;
  return { slot, saLen };
}

function parseIPv4(text: string): Uint8Array {
  const bytes = parseIPv4Text(text);
  if (bytes === null) throw new RangeError(`"${text}" is not an IPv4 address`);
  return bytes;
}

function parseIPv6(text: string): Uint8Array {
  const bytes = parseIPv6Text(text);
  if (bytes === null) throw new RangeError(`"${text}" is not an IPv6 address`);
  return bytes;
}

/** Encodes one sockaddr into its 4-byte-aligned slot. Throws RangeError on unparsable input. */
export function encodeSockaddr(sa: Sockaddr): EncodedSockaddr {
  switch (sa.family) {
    case "inet4": {
      const tail = unhex(sa.tail ?? "");
      const full = new Uint8Array(Math.max(16, 8 + tail.length));
      const view = new DataView(full.buffer);
      view.setUint16(2, sa.port ?? 0);
      full.set(parseIPv4(sa.address), 4);
      full.set(tail, 8);
      return toSlot(full, sa.length ?? 16, sa.familyByte ?? AF_INET);
    }
    case "inet6": {
      const tail = unhex(sa.tail ?? "");
      const full = new Uint8Array(28 + tail.length);
      const view = new DataView(full.buffer);
      view.setUint16(2, sa.port ?? 0);
      view.setUint32(4, sa.flowinfo ?? 0);
      full.set(tail, 28);
      const address = parseIPv6(sa.address);
      const zone = sa.zone ?? 0;
      const embed = zone !== 0 && sa.embedScope !== false && isEmbedScope(address);
      if (embed) {
        // route(8) getaddr #ifdef __KAME__ and configd in6_addr_scope_linklocal: the index goes
        // big-endian into s6_addr[2..3] and sin6_scope_id stays 0 (reference §3.6).
        address[2] = (zone >> 8) & 0xff;
        address[3] = zone & 0xff;
      }
      full.set(address, 8);
      view.setUint32(24, sa.scopeId ?? (embed ? 0 : zone), true);
      return toSlot(full, sa.length ?? 28, sa.familyByte ?? AF_INET6);
    }
    case "link": {
      const name = fromLatin1(sa.name ?? "");
      const address = unhex(sa.linkAddress ?? "");
      const selector = unhex(sa.selector ?? "");
      const natural = linkSockaddrLength(name.length, address.length, selector.length);
      const full = new Uint8Array(
        Math.max(natural, 8 + name.length + address.length + selector.length),
      );
      const view = new DataView(full.buffer);
      view.setUint16(2, sa.index, true);
      full[4] = sa.type ?? 0;
      full[5] = name.length;
      full[6] = address.length;
      full[7] = selector.length;
      full.set(name, 8);
      full.set(address, 8 + name.length);
      full.set(selector, 8 + name.length + address.length);
      return toSlot(full, sa.length ?? natural, AF_LINK);
    }
    case "empty":
      return { slot: new Uint8Array(4), saLen: 0 };
    case "other": {
      const data = unhex(sa.data);
      const full = new Uint8Array(Math.max(sa.length, 2 + data.length));
      full.set(data, 2);
      return toSlot(full, sa.length, sa.familyNumber);
    }
  }
}

/** An IPv4 or IPv6 netmask sockaddr of a prefix length, full length (configd's form, §3.3). */
export function netmaskSockaddr(
  family: 4 | 6,
  prefixLength: number,
): Inet4Sockaddr | Inet6Sockaddr {
  if (family === 4) {
    return {
      family: "inet4",
      address: formatIPv4(subnetMask(4, prefixLength)),
    };
  }
  return {
    family: "inet6",
    address: formatIPv6(subnetMask(6, prefixLength)),
  };
}
