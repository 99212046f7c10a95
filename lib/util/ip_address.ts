/**
 * IPv4 and IPv6 addresses as network-order bytes and as text: strict parsing, canonical
 * formatting, the few ranges a gateway check needs and netmasks. In-house rather than
 * npm:ipaddr.js because importing that package cost every `defroute save` / `restore` hook
 * ~44 ms of startup (issue 8). The text is what ipaddr.js 2.2.0 printed except where that broke
 * RFC 5952 (of two equal runs of zero groups, the first is the one written "::"); state files
 * written before read the same, because gateways are parsed and re-formatted on the way in.
 *
 * Parsers return null on anything that is not an address and never throw. Formatters run once
 * per decoded routing message, so they avoid regexes and build the string directly; they take
 * any array of bytes because the Darwin decoder keeps plain arrays (cheaper than small typed
 * arrays there).
 */

/** The ranges defroute asks about, as ipaddr.js 2.2.0 defines them; "other" is all the rest. */
export type AddressRange =
  | "unspecified"
  | "broadcast"
  | "multicast"
  | "linkLocal"
  | "loopback"
  | "other";

const DOT = 0x2e;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;

/** The longest valid IPv6 text: "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255". */
const MAX_IPV6_TEXT = 45;

/**
 * A dotted quad ("192.168.1.1") -> 4 bytes, or null. Strict: exactly four decimal parts 0-255,
 * no leading zeros (which some parsers read as octal), no hex, no short forms like "10.1".
 */
export function parseIPv4(text: string): Uint8Array | null {
  const bytes = new Uint8Array(4);
  return readDottedQuad(text, 0, bytes, 0) ? bytes : null;
}

/**
 * parseIPv4 writing into out[at..at+3] instead of a new array; false when the text is not a
 * strict dotted quad (out may then be partly written). The Darwin encoder writes addresses
 * straight into its message: a small Uint8Array per address cost more than the rest of encoding.
 */
export function parseIPv4Into(text: string, out: Uint8Array, at: number): boolean {
  return readDottedQuad(text, 0, out, at);
}

/**
 * IPv6 text in any RFC 4291 form ("2001:db8::1", "::", "FE80::1", "::ffff:1.2.3.4") -> 16 bytes,
 * or null. Groups are 1-4 hex digits; "::" stands for one or more zero groups and appears at most
 * once; an embedded IPv4 tail must be a strict dotted quad. A "%zone" is not accepted: callers
 * split it off first, since only they know what a zone means to them.
 */
export function parseIPv6(text: string): Uint8Array | null {
  const length = text.length;
  if (length < 2 || length > MAX_IPV6_TEXT) return null;
  const bytes = new Uint8Array(16);
  let groups = 0;
  /** Where "::" sits, as a group index; -1 when absent. */
  let gap = -1;
  let at = 0;
  if (text.charCodeAt(0) === COLON) {
    if (text.charCodeAt(1) !== COLON) return null;
    gap = 0;
    at = 2;
    if (at === length) return bytes;
  }
  while (true) {
    let value = 0;
    let end = at;
    while (end < length) {
      const digit = hexValue(text.charCodeAt(end));
      if (digit < 0) break;
      value = value * 16 + digit;
      end++;
    }
    const digits = end - at;
    if (digits === 0) return null;
    if (end < length && text.charCodeAt(end) === DOT) {
      // An IPv4 tail fills the last two groups and must end the text.
      if (groups > 6 || !readDottedQuad(text, at, bytes, groups * 2)) return null;
      groups += 2;
      break;
    }
    if (digits > 4 || groups === 8) return null;
    bytes[groups * 2] = value >> 8;
    bytes[groups * 2 + 1] = value & 0xff;
    groups++;
    if (end === length) break;
    if (text.charCodeAt(end) !== COLON) return null;
    if (text.charCodeAt(end + 1) === COLON) {
      if (gap >= 0) return null;
      gap = groups;
      at = end + 2;
      if (at === length) break;
    } else {
      at = end + 1;
      if (at === length) return null;
    }
  }
  if (gap < 0) return groups === 8 ? bytes : null;
  // "::" must stand for at least one group (RFC 4291 §2.2).
  if (groups > 7) return null;
  const tailStart = 16 - (groups - gap) * 2;
  bytes.copyWithin(tailStart, gap * 2, groups * 2);
  bytes.fill(0, gap * 2, tailStart);
  return bytes;
}

/** 4 bytes -> "192.168.1.1". */
export function formatIPv4(bytes: ArrayLike<number>): string {
  if (bytes.length !== 4) throw new RangeError(`an IPv4 address is 4 bytes, not ${bytes.length}`);
  return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
}

/**
 * 16 bytes -> RFC 5952 text: lowercase, no leading zeros, the first longest run of two or more
 * zero groups written "::", a single zero group kept as "0". IPv4-mapped addresses stay hex
 * ("::ffff:102:304", as ipaddr.js printed them; RFC 5952 §5 only recommends the dotted tail).
 * Two spellings of one address always come out the same, which is what comparisons rely on.
 */
export function formatIPv6(bytes: ArrayLike<number>): string {
  if (bytes.length !== 16) throw new RangeError(`an IPv6 address is 16 bytes, not ${bytes.length}`);
  let bestStart = -1;
  let bestEnd = -1;
  let bestScore = 0;
  let runStart = -1;
  for (let group = 0; group <= 8; group++) {
    if (group < 8 && bytes[group * 2] === 0 && bytes[group * 2 + 1] === 0) {
      if (runStart < 0) runStart = group;
      continue;
    }
    if (runStart < 0) continue;
    const runLength = group - runStart;
    // RFC 5952 §4.2.2-4.2.3: the longest run of two or more zero groups, the first of equal
    // ones. (ipaddr.js 2.2.0 favours a later inner run over an equal leading or trailing one.)
    if (runLength >= 2 && runLength > bestScore) {
      bestScore = runLength;
      bestStart = runStart;
      bestEnd = group;
    }
    runStart = -1;
  }
  let text = "";
  for (let group = 0; group < 8; group++) {
    if (group === bestStart) {
      text += "::";
      group = bestEnd - 1;
      continue;
    }
    if (group !== 0 && group !== bestEnd) text += ":";
    text += ((bytes[group * 2]! << 8) | bytes[group * 2 + 1]!).toString(16);
  }
  return text;
}

/** The range of an IPv4 address (ipaddr.js: all of 0.0.0.0/8 is "unspecified"). */
export function ipv4Range(bytes: ArrayLike<number>): AddressRange {
  const first = bytes[0]!;
  if (first === 0) return "unspecified";
  if (first === 127) return "loopback";
  if (first === 169 && bytes[1] === 254) return "linkLocal";
  if ((first & 0xf0) === 224) return "multicast";
  if (first === 255 && bytes[1] === 255 && bytes[2] === 255 && bytes[3] === 255) {
    return "broadcast";
  }
  return "other";
}

/** The range of an IPv6 address: ::, ::1, fe80::/10, ff00::/8. IPv4-mapped ones are "other". */
export function ipv6Range(bytes: ArrayLike<number>): AddressRange {
  const first = bytes[0]!;
  if (first === 0xff) return "multicast";
  if (first === 0xfe && (bytes[1]! & 0xc0) === 0x80) return "linkLocal";
  for (let i = 0; i < 15; i++) {
    if (bytes[i] !== 0) return "other";
  }
  const last = bytes[15];
  return last === 0 ? "unspecified" : last === 1 ? "loopback" : "other";
}

/** The netmask of a prefix length: 4 or 16 bytes. Throws RangeError outside 0-32 / 0-128. */
export function subnetMask(family: 4 | 6, prefixLength: number): Uint8Array {
  const size = family === 4 ? 4 : 16;
  if (!Number.isInteger(prefixLength) || prefixLength < 0 || prefixLength > size * 8) {
    throw new RangeError(`IPv${family} prefix length ${prefixLength} is not 0-${size * 8}`);
  }
  const mask = new Uint8Array(size);
  const fullBytes = prefixLength >> 3;
  mask.fill(0xff, 0, fullBytes);
  if (fullBytes < size) mask[fullBytes] = (0xff00 >> (prefixLength & 7)) & 0xff;
  return mask;
}

/** The prefix length of a contiguous netmask (ff ff ff 00 -> 24); null when not contiguous. */
export function maskPrefixLength(mask: ArrayLike<number>): number | null {
  let at = 0;
  while (at < mask.length && mask[at] === 0xff) at++;
  if (at === mask.length) return at * 8;
  const partial = mask[at]!;
  // The complement of a contiguous byte mask is 2^k - 1: adding one leaves a single bit.
  const inverted = ~partial & 0xff;
  if ((inverted & (inverted + 1)) !== 0) return null;
  for (let rest = at + 1; rest < mask.length; rest++) {
    if (mask[rest] !== 0) return null;
  }
  return at * 8 + 8 - Math.log2(inverted + 1);
}

/** Reads text[start..] to its end as a strict dotted quad into out[at..at+3]. */
function readDottedQuad(text: string, start: number, out: Uint8Array, at: number): boolean {
  const length = text.length;
  let part = 0;
  let value = 0;
  let digits = 0;
  // One step past the end acts as a final "." so the last part is stored like the others.
  for (let i = start; i <= length; i++) {
    const code = i < length ? text.charCodeAt(i) : DOT;
    if (code === DOT) {
      if (digits === 0 || part === 4) return false;
      out[at + part] = value;
      part++;
      value = 0;
      digits = 0;
    } else if (code >= DIGIT_0 && code <= DIGIT_9) {
      if (digits === 1 && value === 0) return false;
      value = value * 10 + (code - DIGIT_0);
      if (value > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  return part === 4;
}

/** 0-15 for a hex digit character code (either case), -1 otherwise. */
function hexValue(code: number): number {
  if (code >= DIGIT_0 && code <= DIGIT_9) return code - DIGIT_0;
  const lower = code | 0x20;
  if (lower >= 0x61 && lower <= 0x66) return lower - 0x61 + 10;
  return -1;
}
