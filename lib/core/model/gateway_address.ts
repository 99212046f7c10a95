/**
 * Strict checks for the two things defroute ever takes from text it does not control (scutil's
 * output, the state file): a gateway address and an interface name. A wrong value here would
 * steer all of a machine's traffic, so anything doubtful is rejected rather than repaired.
 */
import {
  type AddressRange,
  formatIPv4,
  formatIPv6,
  ipv4Range,
  ipv6Range,
  parseIPv4,
  parseIPv6,
} from "../../util/ip_address.ts";
import type { Family } from "./types.ts";

/** BSD interface names (what configd publishes): a letter, then letters and digits, at most 15
 * (IFNAMSIZ 16 with NUL). */
const INTERFACE_NAME = /^[a-z][a-z0-9]{0,14}$/;

export function isValidInterfaceName(name: unknown): name is string {
  return typeof name === "string" && INTERFACE_NAME.test(name);
}

/** Any OS's interface names as the state file may hold them: BSD names, and Linux ones such as
 * "br-lan", "eth0.100" or "veth_a" (at most 15 characters, IFNAMSIZ 16 with NUL; no "/", ":",
 * spaces or anything a shell or path would read specially). */
const PORTABLE_INTERFACE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

export function isPortableInterfaceName(name: unknown): name is string {
  return typeof name === "string" && PORTABLE_INTERFACE_NAME.test(name);
}

/** Ranges that can never be a next hop. */
const NOT_A_GATEWAY: ReadonlySet<AddressRange> = new Set<AddressRange>([
  "unspecified",
  "multicast",
  "broadcast",
  "loopback",
]);

/**
 * IPv4 carried in IPv6 (RFC 4291 2.5.5): "mapped" (::ffff:a.b.c.d, what an IPv4 peer looks like on
 * an IPv6 socket) or "compatible" (::a.b.c.d, deprecated); null for any other address. Neither
 * names an IPv6 router, and ::ffff:127.0.0.1 is the loopback address in disguise.
 */
function embeddedIPv4(bytes: ArrayLike<number>): "mapped" | "compatible" | null {
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return null;
  if (bytes[10] === 0xff && bytes[11] === 0xff) return "mapped";
  if (bytes[10] !== 0 || bytes[11] !== 0) return null;
  // ::, ::1 are unspecified and loopback (NOT_A_GATEWAY says so); ::0.0.0.x are not IPv4 hosts.
  const high = (bytes[12]! | bytes[13]! | bytes[14]!) !== 0;
  return high ? "compatible" : null;
}

/** Why `text` is no gateway address of `family`, in words; null when it is one. */
export function gatewayTextProblem(family: Family, text: unknown): string | null {
  if (typeof text !== "string") return "is not text";
  if (family === 6 && parseGateway(6, text) === null) {
    const bytes = parseIPv6(text.split("%")[0] ?? "");
    const embedded = bytes === null ? null : embeddedIPv4(bytes);
    if (embedded !== null) {
      return `${text} is an IPv4-${embedded} IPv6 address (${
        embedded === "mapped" ? "::ffff:0:0/96" : "::/96"
      }), which names no IPv6 router`;
    }
  }
  return parseGateway(family, text) === null ? `is not an IPv${family} gateway address` : null;
}

/**
 * The canonical text of a gateway address of `family`, or null when `text` is not one.
 * IPv4 must be a dotted quad (no "1.2.3", no octal "01.2.3.4"). IPv6 is returned without a zone
 * (DefaultRoute.gateway never carries one; the interface is the scope) in RFC 5952 form so two
 * spellings of one address compare equal. A zone, if present, is returned separately.
 */
export function parseGateway(
  family: Family,
  text: unknown,
): { address: string; zone: string | null } | null {
  if (typeof text !== "string" || text.length === 0 || text.length > 64) return null;
  if (family === 4) {
    const address = parseIPv4(text);
    if (address === null || NOT_A_GATEWAY.has(ipv4Range(address))) return null;
    return { address: formatIPv4(address), zone: null };
  }
  const percent = text.indexOf("%");
  const bare = percent < 0 ? text : text.slice(0, percent);
  const zone = percent < 0 ? null : text.slice(percent + 1);
  if (zone !== null && !isValidInterfaceName(zone)) return null;
  // parseIPv6 also takes forms like "::ffff:1.2.3.4"; it rejects plain IPv4 text.
  const address = parseIPv6(bare);
  if (address === null || NOT_A_GATEWAY.has(ipv6Range(address))) return null;
  if (embeddedIPv4(address) !== null) return null;
  return { address: formatIPv6(address), zone };
}

/** The canonical gateway text, or null. */
export function normalizeGateway(family: Family, text: unknown): string | null {
  return parseGateway(family, text)?.address ?? null;
}

/** fe80::/10: needs an interface to mean anything (docs/macos-routing-socket.md §3.6, KAME scope
 * embedding). */
export function isLinkLocalGateway(family: Family, address: string): boolean {
  if (family !== 6) return false;
  const bytes = parseIPv6(address);
  return bytes !== null && ipv6Range(bytes) === "linkLocal";
}

/** Whether two gateway texts of one family name the same address. */
export function sameGateway(family: Family, a: string | null, b: string | null): boolean {
  if (a === null || b === null) return a === b;
  const na = normalizeGateway(family, a);
  const nb = normalizeGateway(family, b);
  return na !== null && na === nb;
}
