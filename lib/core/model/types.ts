/**
 * Platform-free vocabulary shared by the CLI, the policies and every RouteTable backend.
 * Nothing here knows an OS; backends translate their kernel's words into these.
 */

/** Address family: 4 = IPv4 (AF_INET), 6 = IPv6 (AF_INET6). */
export type Family = 4 | 6;
export const FAMILIES: readonly Family[] = [4, 6];

/**
 * A default route (destination 0.0.0.0/0 or ::/0) as the kernel holds it.
 *
 * `scoped` is macOS's RTF_IFSCOPE: an interface-scoped default lives beside the global one and
 * is never "the default" (docs/macos-routing-socket.md §5.2). Linux has no scoped defaults: always
 * false there.
 */
export interface DefaultRoute {
  family: Family;
  /** Gateway address text without zone ("192.168.1.1", "fe80::1"); null for an interface route
   * (macOS `link#N` gateway, Linux `dev tun0` without `via`). */
  gateway: string | null;
  /** Output interface name ("en0"); null when the kernel did not say. */
  interface: string | null;
  /** Output interface index; 0 when unknown. */
  index: number;
  /** macOS RTF_IFSCOPE. */
  scoped: boolean;
  /** The kernel marks it unusable because its link is down (Linux RTNH_F_LINKDOWN, shown by
   * `ip route` as "linkdown"); absent otherwise. */
  linkDown?: boolean;
  /** Raw kernel flags (RTF_* on macOS, rtm_flags on Linux), kept for display and state. */
  flags: number;
  /** Linux route priority (metric); undefined on macOS. */
  metric?: number;
}

/** A network interface as the kernel reports it. */
export interface NetInterface {
  name: string;
  index: number;
  /** Administratively up and running (IFF_UP and IFF_RUNNING where the kernel has it). */
  up: boolean;
  /**
   * The link is known to be inactive: no carrier, no Wi-Fi association. macOS keeps
   * UP|RUNNING then and says so only in configd's `State:/Network/Interface/<if>/Link`
   * (`Active : FALSE`); Linux has it from the kernel (IFF_UP without IFF_LOWER_UP). Absent when
   * the link is active or nothing says.
   */
  linkDown?: boolean;
  /** A tunnel by name (utun, ipsec, ppp, tun, wg, gif, stf: isTunnelName), by link type, or by
   * driver where the OS says so (Linux: a TUN/TAP or WireGuard device of any name). */
  tunnel: boolean;
  /** IFF_POINTOPOINT: a link to one peer (PPP, utun, most VPN devices), never the LAN's router. */
  pointToPoint?: boolean;
}

/**
 * A route that is not a default yet carries a large share of a family's addresses: a prefix 1 to
 * 8 bits long, like the 0/1 + 128/1 pair of OpenVPN's `redirect-gateway def1` and wg-quick, or
 * sing-tun's auto_route split ranges (1/8, 2/7 ... 128/1). Longer prefixes are too small to
 * matter for "half the address space" and are never read (the dump is scanned by its headers).
 */
export interface WideRoute {
  family: Family;
  /** The network's address text ("128.0.0.0", "8000::"). */
  destination: string;
  prefix: number;
  interface: string | null;
  index: number;
  /** macOS RTF_IFSCOPE. */
  scoped: boolean;
}

/**
 * Linux: a policy rule that sends a family's ordinary traffic to a table other than main, with
 * that table's defaults (wg-quick: `ip rule add not fwmark 51820 table 51820` and `default dev
 * wg0` in table 51820, wireguard-tools src/wg-quick/linux.bash add_default).
 */
export interface PolicyRoute {
  family: Family;
  priority: number;
  table: number;
  /** The rule's selector in `ip rule` words: "all", "not fwmark 0xca6c". */
  selector: string;
  /** The rule comes before the main table's rule (`lookup main`, priority 32766). */
  beforeMain: boolean;
  /** The table's default routes. */
  defaults: DefaultRoute[];
}

/** What may carry a family's traffic besides the main table's global default (RouteTable
 * carriers()). */
export interface Carriers {
  wide: WideRoute[];
  policies: PolicyRoute[];
  /** Linux: the priority of a rule `lookup main suppress_prefixlength 0` (wg-quick), which keeps
   * the main table's default out of use; null when there is none. */
  suppressMainDefault: number | null;
}

/** One of the machine's own addresses, on interface `interface`. */
export interface InterfaceAddress {
  family: Family;
  /** Canonical text, without zone ("192.168.1.20", "fe80::1c2a:..."). */
  address: string;
  /** The subnet's prefix length (24 for 192.168.1.20/24). */
  prefix: number;
  interface: string | null;
  index: number;
}

/** One change seen on the kernel's routing channel. */
export type RouteEvent =
  | {
    kind: "route";
    action: "add" | "delete" | "change";
    route: DefaultRoute;
    /** The process that made the change: macOS rtm_pid, Linux netlink sender port when it is a
     * process id. null when the kernel did it or did not say. */
    pid: number | null;
    /** This defroute process made the change itself (its repair or restore), through any of its
     * sockets: it is named as such, not by a pid (Linux stamps a process's second netlink
     * socket with a port id that is no pid at all). */
    self?: boolean;
    /** Linux: the sender's netlink port id when it is not a process id (a process's second
     * socket gets a port the kernel makes up, netlink_autobind), so `pid` is null. */
    port?: number;
    /** The kernel's error for a failed request echoed on the socket (macOS rtm_errno), by name,
     * e.g. "EEXIST"; null for a change that happened. */
    error: string | null;
  }
  | {
    kind: "link";
    action: "new" | "up" | "down" | "gone";
    interface: NetInterface;
  }
  | {
    /** An address appeared on or went from an interface (macOS RTM_NEWADDR / RTM_DELADDR):
     * routes may have gone with it without a word, so the table is read again. */
    kind: "address";
    action: "new" | "delete";
    interface: NetInterface;
    /** The address's text; null when the message did not carry it. */
    address: string | null;
  }
  | {
    /** The kernel dropped messages (socket buffer overflow): state must be re-read. */
    kind: "overflow";
  };

/**
 * The system's own view of the primary network (macOS: scutil State:/Network/Global/IPv4|6).
 * Linux has no such source; its PrimarySource returns null.
 */
export interface PrimaryInfo {
  family: Family;
  router: string | null;
  interface: string | null;
  service: string | null;
}

/** Where the system's idea of the primary router comes from (scutil on macOS). */
export interface PrimarySource {
  /** false where the platform has no such source (Linux), so nothing speaks of scutil there;
   * true (or absent) for scutil. */
  readonly available?: boolean;
  primary(family: Family): Promise<PrimaryInfo | null>;
  /**
   * Optional: which of the named interfaces the system says have an inactive link (macOS:
   * configd's `State:/Network/Interface/<if>/Link`). Called before primary() at the same moment,
   * both are answered by one scutil run. Absent where the kernel's interface list says it
   * (Linux).
   */
  inactiveLinks?(names: readonly string[]): Promise<ReadonlySet<string>>;
}

/** The PrimarySource of a platform without one (Linux), or of a caller that will not ask (run's
 * fast restore after CMD exits). */
export const NO_PRIMARY_SOURCE: PrimarySource = {
  available: false,
  primary: () => Promise.resolve(null),
};

/** Interface name prefixes that are tunnels, never a place to restore a default to. */
const TUNNEL_PREFIXES = ["utun", "ipsec", "ppp", "tun", "tap", "wg", "gif", "stf"] as const;

/** True when an interface name is a tunnel's (utun3, ipsec0, ppp0, tun0, wg0 ...). */
export function isTunnelName(name: string): boolean {
  return TUNNEL_PREFIXES.some((prefix) => name.startsWith(prefix));
}
