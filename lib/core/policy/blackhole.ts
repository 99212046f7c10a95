/**
 * Gateways that pass as addresses but blackhole every packet sent to them as a next hop, and
 * interfaces no default may go out of. Refused wherever a gateway comes from (the state file,
 * scutil, a heal repair: all go through restore_plan.ts), with the reason in `status`:
 *
 * - the machine's own address: Linux installs `default via <own address>` and traffic then loops
 *   back to the machine itself (the attack run's "restored" default that carried nothing);
 * - an IPv4 subnet's network or broadcast address (RFC 919, RFC 922): no router answers ARP for
 *   them, a packet to the broadcast address goes to every host on the link;
 * - a loopback interface (lo0 on macOS, lo on Linux) as the interface: what goes there never
 *   leaves the machine.
 *
 * IPv4-mapped and -compatible IPv6 addresses are refused earlier, as text
 * (lib/core/model/gateway_address.ts). Pure: the caller supplies the machine's addresses.
 */
import { isLinkLocalGateway } from "../model/gateway_address.ts";
import { formatIPv4, parseIPv4, parseIPv6 } from "../../util/ip_address.ts";
import type { Family, InterfaceAddress } from "../model/types.ts";

/** lo0 (macOS, BSD), lo (Linux): the loopback interface, by name. */
export function isLoopbackName(name: string | null): boolean {
  return name !== null && /^lo[0-9]*$/.test(name);
}

function bytesOf(family: Family, text: string): Uint8Array | null {
  const bytes = family === 4 ? parseIPv4(text) : parseIPv6(text.split("%")[0] ?? text);
  return bytes === null ? null : Uint8Array.from(bytes);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function on(address: InterfaceAddress): string {
  return address.interface ? ` (on ${address.interface})` : "";
}

/** An IPv4 subnet's network and broadcast addresses as 32-bit numbers. */
function subnetEnds(bytes: Uint8Array, prefix: number): { network: number; broadcast: number } {
  const value = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  const network = (value & mask) >>> 0;
  return { network, broadcast: (network | ~mask) >>> 0 };
}

function quad(value: number): string {
  return formatIPv4([value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff]);
}

/**
 * Why a default via `gateway` out of `iface` would blackhole traffic, in words; null when it
 * would not (as far as `addresses`, the machine's own, tell).
 */
export function blackholeReason(
  family: Family,
  gateway: string,
  iface: string | null,
  addresses: readonly InterfaceAddress[],
): string | null {
  if (isLoopbackName(iface)) {
    return `${iface} is the loopback interface: what is sent there never leaves this machine`;
  }
  const target = bytesOf(family, gateway);
  if (target === null) return null;
  // A link-local address means something only on its own link: fe80::1 on lo0 (every Mac has
  // it) is not the router fe80::1 on en0.
  const linkLocal = isLinkLocalGateway(family, gateway);
  for (const own of addresses) {
    if (own.family !== family) continue;
    if (linkLocal && own.interface !== iface) continue;
    const bytes = bytesOf(family, own.address);
    if (bytes === null) continue;
    if (sameBytes(bytes, target)) {
      return `${gateway} is this machine's own address${on(own)}: traffic sent to it as a ` +
        `router would come back to this machine`;
    }
    // /31 and /32 have no network or broadcast address (RFC 3021).
    if (family !== 4 || own.prefix > 30) continue;
    const { network, broadcast } = subnetEnds(bytes, own.prefix);
    const value = subnetEnds(target, 32).network;
    const subnet = `${quad(network)}/${own.prefix}`;
    if (value === network) {
      return `${gateway} is the network address of ${subnet}${on(own)}, not a router`;
    }
    if (value === broadcast) {
      return `${gateway} is the broadcast address of ${subnet}${on(own)}, not a router`;
    }
  }
  return null;
}
