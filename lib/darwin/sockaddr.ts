/**
 * Darwin sockaddrs as they appear inside routing messages: sockaddr_in, sockaddr_in6 (with KAME
 * embedded scope), sockaddr_dl, the zero-length and trimmed netmasks the kernel and route(8)
 * write, and anything else kept as raw bytes. Pure functions; no Deno.*
 * (docs/macos-routing-socket.md §3).
 *
 * Decoded objects omit a field when it has its natural value (sa_len 16/28, the family's own
 * family byte, port 0 ...), so tests and JSON stay readable, and encoding a decoded sockaddr gives
 * back the same bytes.
 */
import {
  formatIPv6,
  maskPrefixLength,
  parseIPv4Into,
  parseIPv6 as parseIPv6Text,
} from "../util/ip_address.ts";
import { AF_INET, AF_INET6, AF_LINK, SIZEOF_SOCKADDR_DL } from "./constants.ts";

/** The eight rtm_addrs slots in bit order (RTAX_DST .. RTAX_BRD, docs/macos-routing-socket.md
 * §2.2). */
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

/** sockaddr_in (16 bytes) or an IPv4 netmask (often trimmed, docs/macos-routing-socket.md §3.4). */
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
  /** The sa_family byte when it is not AF_INET (kernel masks: 0 or 0xff;
   * docs/macos-routing-socket.md §3.4). */
  familyByte?: number;
  /**
   * Bytes 8 .. sa_len (sin_zero and beyond) as plain hex, only when not all zero. Inside the
   * kernel sin_zero[0..3] holds an IPv4 scope id (docs/macos-routing-socket.md §3.6); it should
   * never reach here.
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
   * 10-11 for those addresses, like route(8) and configd (docs/macos-routing-socket.md §3.6); else
   * sin6_scope_id.
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

/** sockaddr_dl: an interface (IFP) or a link-layer address (docs/macos-routing-socket.md §3.6). */
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

/** A slot whose bit is set but whose sockaddr is all zero or missing (docs/macos-routing-socket.md
 * §3.5). */
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
 * ROUNDUP32 of rtsock.c line 162 (docs/macos-routing-socket.md §3.1): 4-byte slots, and a sockaddr
 * with sa_len 0 still takes 4 bytes.
 */
export function roundup32(length: number): number {
  return length > 0 ? 1 + ((length - 1) | 3) : 4;
}

/** True for a netmask/genmask slot, whose family byte is not trustworthy
 * (docs/macos-routing-socket.md §3.4). */
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
/** "00:".."ff:": a colon-separated byte is one string addition, not two. */
const HEX_BYTE_COLON: readonly string[] = HEX_BYTE.map((text) => text + ":");
/**
 * "0.".."255." and "0".."255": a dotted quad is four table lookups and three additions. The
 * template literal it replaces spent most of a sockaddr's decode time in NumberToString and
 * StringAdd (V8 profile of a 10,000-route dump).
 */
const DECIMAL_DOT: readonly string[] = Array.from({ length: 256 }, (_, b) => `${b}.`);
const DECIMAL: readonly string[] = Array.from({ length: 256 }, (_, b) => `${b}`);

/**
 * Text of recently decoded values, keyed by a number the bytes pack into. Routing tables repeat
 * their gateways, masks, interface addresses, MACs and interface names, so most sockaddrs reuse
 * a string instead of building one: building them (string additions, NumberToString) was a
 * fifth of decoding a message in a V8 profile, and each copy is heap the GC then moves.
 * Direct-mapped: a colliding key replaces the entry, so memory stays bounded. Sharing is safe
 * because strings are immutable.
 */
class TextCache {
  private readonly keys: Float64Array;
  private readonly texts: (string | undefined)[];
  private readonly shift: number;

  constructor(bits: number) {
    this.keys = new Float64Array(1 << bits);
    this.texts = new Array<string | undefined>(1 << bits).fill(undefined);
    this.shift = 32 - bits;
  }

  /** Where `key` (an integer below 2^53) lives: Fibonacci hashing of its two 32-bit halves. */
  private slotOf(key: number): number {
    const mixed = (key | 0) ^ Math.imul((key / 0x1_0000_0000) | 0, 0x85ebca6b);
    return Math.imul(mixed, 0x9e3779b1) >>> this.shift;
  }

  get(key: number): string | undefined {
    const slot = this.slotOf(key);
    return this.keys[slot] === key ? this.texts[slot] : undefined;
  }

  set(key: number, text: string): string {
    const slot = this.slotOf(key);
    this.keys[slot] = key;
    this.texts[slot] = text;
    return text;
  }
}

/**
 * IPv6 text of recently decoded addresses, as TextCache does for IPv4 (formatIPv6 is 80-200 ns
 * an address). 128 bits do not pack into a number, so each entry keeps its address as four
 * 32-bit words to compare.
 */
class Ipv6TextCache {
  private readonly words: Int32Array;
  private readonly texts: (string | undefined)[];
  private readonly shift: number;

  constructor(bits: number) {
    this.words = new Int32Array(4 << bits);
    this.texts = new Array<string | undefined>(1 << bits).fill(undefined);
    this.shift = 32 - bits;
  }

  /** formatIPv6(address), from the cache when this address was seen recently. */
  text(address: readonly number[]): string {
    const w0 = wordAt(address, 0);
    const w1 = wordAt(address, 4);
    const w2 = wordAt(address, 8);
    const w3 = wordAt(address, 12);
    const mixed = w0 ^ Math.imul(w1, 0x85ebca6b) ^ Math.imul(w2, 0xc2b2ae35) ^
      Math.imul(w3, 0x27d4eb2f);
    const slot = Math.imul(mixed, 0x9e3779b1) >>> this.shift;
    const at = slot * 4;
    const words = this.words;
    const cached = this.texts[slot];
    if (
      cached !== undefined && words[at] === w0 && words[at + 1] === w1 &&
      words[at + 2] === w2 && words[at + 3] === w3
    ) {
      return cached;
    }
    const text = formatIPv6(address);
    words[at] = w0;
    words[at + 1] = w1;
    words[at + 2] = w2;
    words[at + 3] = w3;
    this.texts[slot] = text;
    return text;
  }
}

/** Big-endian 32-bit word at `bytes[at ..]`, as a signed int (what an Int32Array holds). */
function wordAt(bytes: readonly number[], at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

const IPV6_TEXT = new Ipv6TextCache(8);
const IPV4_TEXT = new TextCache(10);
const IPV4_PREFIX_TEXT = new TextCache(6);
const MAC_TEXT = new TextCache(8);
const NAME_TEXT = new TextCache(6);

/** 2^32, 2^48: byte packing for TextCache keys. */
const TWO_32 = 0x1_0000_0000;
const TWO_48 = 0x1_0000_0000_0000;

/** The dotted quad of an IPv4 address given as a u32 (cached, see TextCache). */
function dottedQuad(address: number): string {
  const cached = IPV4_TEXT.get(address);
  if (cached !== undefined) return cached;
  // A new address usually shares its first two octets with recent ones (one network's
  // routes), so "a.b." comes cached too and only one string is built.
  const high = address >>> 16;
  const prefix = IPV4_PREFIX_TEXT.get(high) ??
    IPV4_PREFIX_TEXT.set(high, DECIMAL_DOT[high >>> 8]! + DECIMAL_DOT[high & 0xff]!);
  return IPV4_TEXT.set(
    address,
    prefix + (DECIMAL_DOT[(address >>> 8) & 0xff]! + DECIMAL[address & 0xff]!),
  );
}

/** The 6 bytes at `bytes[at ..]` as colon hex ("ac:87:a3:19:7f:82"; cached, see TextCache). */
function macText(bytes: Uint8Array, at: number): string {
  const high = (bytes[at]! << 8) | bytes[at + 1]!;
  const low = ((bytes[at + 2]! << 24) | (bytes[at + 3]! << 16) | (bytes[at + 4]! << 8) |
    bytes[at + 5]!) >>> 0;
  const key = high * TWO_32 + low;
  return MAC_TEXT.get(key) ?? MAC_TEXT.set(key, hexText(bytes, at, 6, 0, 6, true));
}

/** `length` (at most 6) bytes at `bytes[at ..]` as Latin-1 text (cached, see TextCache). */
function shortName(bytes: Uint8Array, at: number, length: number): string {
  let packed = 0;
  for (let i = 0; i < length; i++) packed = packed * 256 + bytes[at + i]!;
  // The length goes above the 48 bits of bytes, so "\0en0" and "en0" differ.
  const key = length * TWO_48 + packed;
  return NAME_TEXT.get(key) ?? NAME_TEXT.set(key, latin1Text(bytes, at, length, 0, length));
}

/*
 * Decoding reads a sockaddr in place: `bytes[start ..]` with `saLen` bytes that belong to it
 * (at most what is left of the message). Neither a copy nor a typed-array view nor a reader
 * object per sockaddr: those allocations dominated decoding a 10,000-route dump. Bytes past
 * saLen read as zero (trimmed masks, docs/macos-routing-socket.md §3.4).
 */

/** Byte `i` of the sockaddr at `start`; 0 at or past saLen. */
function byteAt(bytes: Uint8Array, start: number, saLen: number, i: number): number {
  return i < saLen ? bytes[start + i]! : 0;
}

/** Bytes [from, to) clamped to saLen as lower-case hex, colon-separated when `colons`. */
function hexText(
  bytes: Uint8Array,
  start: number,
  saLen: number,
  from: number,
  to: number,
  colons: boolean,
): string {
  const last = Math.min(to, saLen) - 1;
  if (last < from) return "";
  const table = colons ? HEX_BYTE_COLON : HEX_BYTE;
  let out = "";
  for (let i = from; i < last; i++) out += table[bytes[start + i]!];
  return out + HEX_BYTE[bytes[start + last]!];
}

/** Bytes [from, to) clamped to saLen as Latin-1 text (interface names). */
function latin1Text(
  bytes: Uint8Array,
  start: number,
  saLen: number,
  from: number,
  to: number,
): string {
  const end = Math.min(to, saLen);
  let out = "";
  for (let i = from; i < end; i++) out += String.fromCharCode(bytes[start + i]!);
  return out;
}

function u16be(bytes: Uint8Array, start: number, saLen: number, at: number): number {
  return (byteAt(bytes, start, saLen, at) << 8) | byteAt(bytes, start, saLen, at + 1);
}

function u32be(bytes: Uint8Array, start: number, saLen: number, at: number): number {
  return ((byteAt(bytes, start, saLen, at) << 24) | (byteAt(bytes, start, saLen, at + 1) << 16) |
    (byteAt(bytes, start, saLen, at + 2) << 8) | byteAt(bytes, start, saLen, at + 3)) >>> 0;
}

function u32le(bytes: Uint8Array, start: number, saLen: number, at: number): number {
  return ((byteAt(bytes, start, saLen, at + 3) << 24) |
    (byteAt(bytes, start, saLen, at + 2) << 16) |
    (byteAt(bytes, start, saLen, at + 1) << 8) | byteAt(bytes, start, saLen, at)) >>> 0;
}

/** Bytes [from, saLen) are all zero (an empty range is). */
function zeroFrom(bytes: Uint8Array, start: number, saLen: number, from: number): boolean {
  for (let i = from; i < saLen; i++) if (bytes[start + i] !== 0) return false;
  return true;
}

/**
 * Decodes the sockaddr at `bytes[start ..]`.
 *
 * `saLen` is how many bytes belong to it (its sa_len, fewer when the message ends early; 0 for a
 * set bit with no bytes left); bytes past it read as zero. `familyByte` is passed separately
 * because a zero-length sockaddr still has its family in the slot (route(8)'s `00 02 00 00`,
 * docs/macos-routing-socket.md §3.3). `maskFamily` is the DST's (or IFA's) family, used for
 * netmask/genmask slots (docs/macos-routing-socket.md §3.4).
 */
export function decodeSockaddr(
  bytes: Uint8Array,
  start: number,
  saLen: number,
  familyByte: number,
  slot: SockaddrSlot,
  maskFamily: MaskFamily,
): Sockaddr {
  const mask = isMaskSlot(slot);
  if (mask && maskFamily !== null) {
    return maskFamily === "inet4"
      ? decodeInet4(bytes, start, saLen, familyByte, true)
      : decodeInet6(bytes, start, saLen, familyByte, true);
  }
  if (familyByte === AF_INET) return decodeInet4(bytes, start, saLen, familyByte, mask);
  if (familyByte === AF_INET6) return decodeInet6(bytes, start, saLen, familyByte, mask);
  if (familyByte === AF_LINK && !mask) return decodeLink(bytes, start, saLen);
  if (saLen === 0 && familyByte === 0) return { family: "empty" };
  return {
    family: "other",
    familyNumber: familyByte,
    length: saLen,
    data: hexText(bytes, start, saLen, 2, saLen, false),
  };
}

function decodeInet4(
  bytes: Uint8Array,
  start: number,
  saLen: number,
  familyByte: number,
  mask: boolean,
): Inet4Sockaddr {
  const a = byteAt(bytes, start, saLen, 4);
  const b = byteAt(bytes, start, saLen, 5);
  const c = byteAt(bytes, start, saLen, 6);
  const d = byteAt(bytes, start, saLen, 7);
  const value = ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
  const address = dottedQuad(value);
  const port = u16be(bytes, start, saLen, 2);
  const tailZero = zeroFrom(bytes, start, saLen, 8);
  // The usual shapes are built as one literal each: adding fields one by one moves them to an
  // out-of-object property store, one more allocation per sockaddr for the GC to move.
  // The plain sockaddr_in: every DST, GATEWAY and IFA.
  if (!mask && port === 0 && saLen === 16 && familyByte === AF_INET && tailZero) {
    return { family: "inet4", address };
  }
  const prefix = mask ? contiguousPrefix(value) : null;
  // The kernel's masks: trimmed, family byte 0 or 0xff (docs/macos-routing-socket.md §3.4), one per
  // dumped route.
  if (prefix !== null && saLen !== 16 && familyByte !== AF_INET && tailZero) {
    return port !== 0
      ? { family: "inet4", address, port, prefixLength: prefix, length: saLen, familyByte }
      : { family: "inet4", address, prefixLength: prefix, length: saLen, familyByte };
  }
  const out: Inet4Sockaddr = { family: "inet4", address };
  if (port !== 0) out.port = port;
  if (prefix !== null) out.prefixLength = prefix;
  if (saLen !== 16) out.length = saLen;
  if (familyByte !== AF_INET) out.familyByte = familyByte;
  if (!tailZero) out.tail = hexText(bytes, start, saLen, 8, saLen, false);
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
  bytes: Uint8Array,
  start: number,
  saLen: number,
  familyByte: number,
  mask: boolean,
): Inet6Sockaddr {
  // A plain array, not a Uint8Array: small typed-array allocations dominated decoding a dump.
  const addressBytes: number[] = new Array(16);
  for (let i = 0; i < 16; i++) addressBytes[i] = byteAt(bytes, start, saLen, 8 + i);
  const scopeId = u32le(bytes, start, saLen, 24);
  let zone = 0;
  let embedScope: boolean | undefined;
  if (!mask && isEmbedScope(addressBytes)) {
    // KAME: the kernel keeps the interface index big-endian in s6_addr[2..3]
    // (docs/macos-routing-socket.md §3.6).
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
  const out: Inet6Sockaddr = { family: "inet6", address: IPV6_TEXT.text(addressBytes) };
  if (zone !== 0) out.zone = zone;
  if (scopeId !== 0 && (zone !== scopeId || embedScope === false || mask)) out.scopeId = scopeId;
  if (embedScope === false) out.embedScope = false;
  const port = u16be(bytes, start, saLen, 2);
  if (port !== 0) out.port = port;
  const flowinfo = u32be(bytes, start, saLen, 4);
  if (flowinfo !== 0) out.flowinfo = flowinfo;
  if (mask) {
    const prefix = maskPrefixLength(addressBytes);
    if (prefix !== null) out.prefixLength = prefix;
  }
  if (saLen !== 28) out.length = saLen;
  if (familyByte !== AF_INET6) out.familyByte = familyByte;
  if (!zeroFrom(bytes, start, saLen, 28)) {
    out.tail = hexText(bytes, start, saLen, 28, saLen, false);
  }
  return out;
}

/** The kernel's sdl_len for an interface sockaddr_dl (dlil_subr.c line 355,
 * docs/macos-routing-socket.md §3.6). */
export function linkSockaddrLength(nlen: number, alen: number, slen: number): number {
  return roundup32(Math.max(SIZEOF_SOCKADDR_DL, 8 + nlen + alen + slen));
}

function decodeLink(bytes: Uint8Array, start: number, saLen: number): LinkSockaddr {
  const index = byteAt(bytes, start, saLen, 2) | (byteAt(bytes, start, saLen, 3) << 8);
  const type = byteAt(bytes, start, saLen, 4);
  const nlen = byteAt(bytes, start, saLen, 5);
  const alen = byteAt(bytes, start, saLen, 6);
  const slen = byteAt(bytes, start, saLen, 7);
  // Clamp every part to the sockaddr so a lying nlen/alen never reads past sa_len.
  const end = Math.max(8, saLen);
  const nameEnd = Math.min(8 + nlen, end);
  const addressEnd = Math.min(nameEnd + alen, end);
  const selectorEnd = Math.min(addressEnd + slen, end);
  const name = nameEnd - 8 <= 6
    ? shortName(bytes, start + 8, nameEnd - 8)
    : latin1Text(bytes, start, saLen, 8, nameEnd);
  const linkAddress = addressEnd - nameEnd === 6
    ? macText(bytes, start + nameEnd)
    : hexText(bytes, start, saLen, nameEnd, addressEnd, true);
  const length = linkSockaddrLength(nlen, alen, slen);
  // One literal for the usual shape (see decodeInet4).
  if (slen === 0 && saLen === length) return { family: "link", index, type, name, linkAddress };
  const out: LinkSockaddr = { family: "link", index, type, name, linkAddress };
  if (slen !== 0) out.selector = hexText(bytes, start, saLen, addressEnd, selectorEnd, true);
  if (saLen !== length) out.length = saLen;
  return out;
}

/*
 * Encoding writes each sockaddr straight into the message buffer, which arrives zero-filled:
 * sockaddrLength() sizes it first, writeSockaddr() fills it. A Uint8Array costs about 1 us on
 * this runtime, and the encoder used to make several per sockaddr (the sockaddr at its natural
 * length, DataViews, a parsed address, the padded slot) - 20-40 us per message.
 */

/** Number of bytes `text` holds as hex: non-hex characters are separators. */
function hexByteCount(text: string): number {
  let digits = 0;
  for (let i = 0; i < text.length; i++) if (hexDigit(text.charCodeAt(i)) >= 0) digits++;
  if (digits % 2 !== 0) throw new RangeError(`odd number of hex digits: ${text}`);
  return digits / 2;
}

/** 0-15 for a hex digit character code (either case), -1 otherwise. */
function hexDigit(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30;
  const lower = code | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/**
 * Number of bytes fromLatin1 gives `text`: one per code point, as the string iterator walks it
 * (a surrogate pair is one character, and one byte).
 */
function latin1Length(text: string): number {
  let count = 0;
  for (let i = 0; i < text.length; i++, count++) if (isSurrogatePairAt(text, i)) i++;
  return count;
}

function isSurrogatePairAt(text: string, i: number): boolean {
  const code = text.charCodeAt(i);
  if (code < 0xd800 || code > 0xdbff || i + 1 >= text.length) return false;
  const next = text.charCodeAt(i + 1);
  return next >= 0xdc00 && next <= 0xdfff;
}

/** The kernel's sa_len for a sockaddr_dl with these name, address and selector. */
function linkNaturalLength(sa: LinkSockaddr): number {
  return linkSockaddrLength(
    latin1Length(sa.name ?? ""),
    hexByteCount(sa.linkAddress ?? ""),
    hexByteCount(sa.selector ?? ""),
  );
}

/**
 * sa_len of a sockaddr as the encoder writes it: `length` when given, else the natural one. An
 * "empty" sockaddr has sa_len 0 and takes one 4-byte slot. Throws RangeError when it is not a
 * byte, or a hex field has an odd number of digits.
 */
export function sockaddrLength(sa: Sockaddr): number {
  let saLen: number;
  switch (sa.family) {
    case "inet4":
      if (sa.tail !== undefined) hexByteCount(sa.tail);
      saLen = sa.length ?? 16;
      break;
    case "inet6":
      if (sa.tail !== undefined) hexByteCount(sa.tail);
      saLen = sa.length ?? 28;
      break;
    case "link": {
      // Computed even when `length` is given: it also checks the hex fields.
      const natural = linkNaturalLength(sa);
      saLen = sa.length ?? natural;
      break;
    }
    case "empty":
      return 0;
    case "other":
      hexByteCount(sa.data);
      saLen = sa.length;
      break;
  }
  if (!Number.isInteger(saLen) || saLen < 0 || saLen > 255) {
    throw new RangeError(`sa_len ${saLen} is not a byte`);
  }
  return saLen;
}

/** Writes byte `i` of the sockaddr at `at` when it lies inside sa_len (truncated sockaddrs). */
function put(out: Uint8Array, at: number, saLen: number, i: number, value: number): void {
  if (i < saLen) out[at + i] = value;
}

/** Writes a hex field's bytes from sockaddr byte `from`; returns the byte after the last. */
function putHex(out: Uint8Array, at: number, saLen: number, from: number, text: string): number {
  let i = from;
  let high = -1;
  for (let c = 0; c < text.length; c++) {
    const digit = hexDigit(text.charCodeAt(c));
    if (digit < 0) continue;
    if (high < 0) high = digit;
    else {
      put(out, at, saLen, i++, (high << 4) | digit);
      high = -1;
    }
  }
  return i;
}

/** Reused by inet4 encoding: parse once, then write only the bytes inside sa_len. */
const IPV4_SCRATCH = new Uint8Array(4);

function parseIPv4(text: string): Uint8Array {
  if (!parseIPv4Into(text, IPV4_SCRATCH, 0)) {
    throw new RangeError(`"${text}" is not an IPv4 address`);
  }
  return IPV4_SCRATCH;
}

function parseIPv6(text: string): Uint8Array {
  const bytes = parseIPv6Text(text);
  if (bytes === null) throw new RangeError(`"${text}" is not an IPv6 address`);
  return bytes;
}

/**
 * Writes a sockaddr of sa_len `saLen` (from {@link sockaddrLength}) at `out[at ..]`, which must
 * be zero-filled for its 4-byte slot: fields are cut at saLen, and what lies past the natural
 * length stays zero. Bytes 0 and 1 are always written: a zero-length sockaddr keeps its family
 * byte (docs/macos-routing-socket.md §3.3). Throws RangeError on an unparsable address.
 */
export function writeSockaddr(sa: Sockaddr, out: Uint8Array, at: number, saLen: number): void {
  switch (sa.family) {
    case "inet4": {
      const port = (sa.port ?? 0) | 0;
      put(out, at, saLen, 2, port >> 8);
      put(out, at, saLen, 3, port);
      const address = parseIPv4(sa.address);
      for (let i = 0; i < 4; i++) put(out, at, saLen, 4 + i, address[i]!);
      if (sa.tail !== undefined) putHex(out, at, saLen, 8, sa.tail);
      out[at + 1] = sa.familyByte ?? AF_INET;
      break;
    }
    case "inet6": {
      const port = (sa.port ?? 0) | 0;
      put(out, at, saLen, 2, port >> 8);
      put(out, at, saLen, 3, port);
      const flowinfo = (sa.flowinfo ?? 0) | 0;
      for (let i = 0; i < 4; i++) put(out, at, saLen, 4 + i, flowinfo >> (24 - 8 * i));
      const address = parseIPv6(sa.address);
      const zone = sa.zone ?? 0;
      const embed = zone !== 0 && sa.embedScope !== false && isEmbedScope(address);
      if (embed) {
        // route(8) getaddr #ifdef __KAME__ and configd in6_addr_scope_linklocal: the index goes
        // big-endian into s6_addr[2..3] and sin6_scope_id stays 0 (docs/macos-routing-socket.md
        // §3.6).
        address[2] = (zone >> 8) & 0xff;
        address[3] = zone & 0xff;
      }
      for (let i = 0; i < 16; i++) put(out, at, saLen, 8 + i, address[i]!);
      const scopeId = (sa.scopeId ?? (embed ? 0 : zone)) | 0;
      for (let i = 0; i < 4; i++) put(out, at, saLen, 24 + i, scopeId >> (8 * i));
      if (sa.tail !== undefined) putHex(out, at, saLen, 28, sa.tail);
      out[at + 1] = sa.familyByte ?? AF_INET6;
      break;
    }
    case "link": {
      const index = sa.index | 0;
      put(out, at, saLen, 2, index);
      put(out, at, saLen, 3, index >> 8);
      put(out, at, saLen, 4, sa.type ?? 0);
      const name = sa.name ?? "";
      let i = 8;
      for (let c = 0; c < name.length; c++, i++) {
        put(out, at, saLen, i, name.charCodeAt(c));
        if (isSurrogatePairAt(name, c)) c++;
      }
      const addressEnd = putHex(out, at, saLen, i, sa.linkAddress ?? "");
      const selectorEnd = putHex(out, at, saLen, addressEnd, sa.selector ?? "");
      put(out, at, saLen, 5, i - 8);
      put(out, at, saLen, 6, addressEnd - i);
      put(out, at, saLen, 7, selectorEnd - addressEnd);
      out[at + 1] = AF_LINK;
      break;
    }
    case "empty":
      return;
    case "other":
      putHex(out, at, saLen, 2, sa.data);
      out[at + 1] = sa.familyNumber;
      break;
  }
  out[at] = saLen;
}
