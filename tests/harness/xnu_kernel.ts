/**
 * A simulated XNU routing kernel: the pure table logic, usable in-process or behind
 * tests/harness/simulator_main.ts. It keeps XNU's rules (xnu-11417 bsd/net/rtsock.c, route.c,
 * raw_usrreq.c, if.c, dlil.c; bsd/netinet/in_rmx.c, raw_ip.c), and where a rule is harsh on a
 * tool like defroute, the harsh way:
 *
 * - key = destination + mask + scope (RTF_IFSCOPE + rtm_index), so the global default and scoped
 *   defaults live side by side (§5.2);
 * - RTM_ADD: the gateway resolved through the routing table (a VPN's route covering it wins over
 *   the LAN), ENETUNREACH when nothing reaches it, EEXIST on the same key, then rt_setif: only
 *   configd's form (full netmask, IFP sockaddr_dl) pins the interface;
 * - RTM_DELETE: exact key match, the gateway ignored, ESRCH when nothing matches; the echo is a
 *   kernel-built report of the deleted route;
 * - RTM_GET: exact key+mask lookup with the "dontcare" scoped resolution; replies built like
 *   rt_msg2 (default netmask `00 00 00 00`, IFP/IFA only when the request's bits ask);
 * - route_output's order of checks: a length mismatch echoed untouched, EPROTONOSUPPORT and
 *   EPERM echoed before the kernel stamps rtm_pid (the sender's own pid or nothing), the rest
 *   with rtm_pid and rtm_errno or RTF_DONE; everything protocol 0 except the GET/DELETE report,
 *   so a socket opened for one family hears little (raw_input);
 * - routes vanish without a routing message: IPv4 ones when their interface goes down or
 *   detaches (in_ifadown), IPv6 ones after a detached interface's RTM_DELADDRs (if_rtproto_del);
 * - link state apart from IFF_RUNNING, in configd's State:/Network/Interface/<if>/Link only;
 * - a full receive buffer drops messages silently (the transports: stand-in and in-process);
 * - sysctl NET_RT_DUMP / NET_RT_FLAGS / NET_RT_IFLIST;
 * - scutil's State:/Network/Global/IPv4|IPv6 dictionaries, settable by tests (§6).
 *
 * Messages it sends are built with lib/darwin/route_message.ts's encoder (made for this);
 * requests it receives are read by ./xnu_request.ts, from the kernel's own parsing rules.
 */
import ipaddr from "npm:ipaddr.js@2.2.0";
import {
  encodeRouteMessage,
  type Inet4Sockaddr,
  type Inet6Sockaddr,
  kernelDefaultNetmask,
  type LinkSockaddr,
  type RoutingMessageInit,
  type Sockaddr,
} from "../../lib/darwin/route_message.ts";
import {
  checkHeader,
  familyOf,
  inetAddress,
  inetGateway,
  isEmbedScope,
  type KernelRequest,
  linkOf,
  maskPrefix,
  parseRequest,
} from "./xnu_request.ts";

// Constants (docs/macos-routing-socket.md §2, §4). Kept local: the simulator states the kernel's
// numbers itself.
const RTM_ADD = 0x1;
const RTM_DELETE = 0x2;
const RTM_CHANGE = 0x3;
const RTM_GET = 0x4;
const RTM_NEWADDR = 0xc;
const RTM_DELADDR = 0xd;
const RTM_IFINFO = 0xe;
const RTA_IFP = 0x10;
const RTA_IFA = 0x20;
const RTF_UP = 0x1;
const RTF_GATEWAY = 0x2;
const RTF_HOST = 0x4;
const RTF_DONE = 0x40;
const RTF_STATIC = 0x800;
const RTF_PRCLONING = 0x10000;
const RTF_IFSCOPE = 0x1000000;
const RTF_CONDEMNED = 0x2000000;
const RTF_PROXY = 0x8000000;
const RTF_GLOBAL = 0x40000000;
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_RUNNING = 0x40;
export const IFF_SIMPLEX = 0x800;
export const IFF_MULTICAST = 0x8000;
const IFT_ETHER = 0x6;
const IFT_LOOP = 0x18;
const IFT_OTHER = 0x1;
const AF_INET = 2;
const AF_INET6 = 30;
const NET_RT_DUMP = 1;
const NET_RT_FLAGS = 2;
const NET_RT_IFLIST = 3;

export const ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EEXIST: 17,
  EINVAL: 22,
  EAFNOSUPPORT: 47,
  ENETUNREACH: 51,
  EOPNOTSUPP: 102,
} as const;

/** An interface address with its prefix ("192.168.1.100", 24; "fe80::1", 64). */
export interface SimAddress {
  address: string;
  prefix: number;
}

/** A simulated interface. */
export interface SimInterface {
  name: string;
  index: number;
  /** IFF_* flags; up = IFF_UP and IFF_RUNNING. */
  flags: number;
  /** "aa:bb:cc:dd:ee:01", or null for interfaces without a link-layer address (utun, lo0). */
  mac: string | null;
  /** IFT_* type. */
  type: number;
  mtu: number;
  addresses: SimAddress[];
  /**
   * Link state as configd publishes it in `State:/Network/Interface/<name>/Link` (`Active`
   * TRUE/FALSE); undefined = no Link key (utun, lo0: no media to report). Separate from
   * IFF_RUNNING, which stays set while the link is inactive (a real Mac's
   * `flags=8863<UP,...,RUNNING,...> status: inactive`); the kernel says nothing about it on the
   * routing socket: link on/off is a KEV_DL_LINK_ON/OFF kernel event on PF_SYSTEM (xnu
   * bsd/net/if_bond.c 1682 posts one), while RTM_IFINFO comes only from flag changes (bsd/net/if.c
   * if_updown 1643 rt_ifmsg).
   */
  linkActive?: boolean;
}

/** A route as the simulated kernel holds it. */
export interface SimRoute {
  family: 4 | 6;
  /** Destination text ("0.0.0.0", "::"). */
  destination: string;
  prefix: number;
  /** RTF_IFSCOPE interface index; 0 for an unscoped route. */
  scope: number;
  /** Gateway address text without zone, or null for a link (interface) gateway. */
  gateway: string | null;
  /** Output interface index. */
  ifIndex: number;
  flags: number;
}

/** A route as tests read it (`routes()`), with names for easy assertions. */
export interface SimRouteView extends SimRoute {
  interface: string | null;
  scoped: boolean;
}

/** A connected routing socket. */
export interface KernelSocket {
  pid: number;
  /** socket()'s protocol: 0 receives every family; AF_INET/AF_INET6 filter
   * (docs/macos-routing-socket.md §5.1). */
  protocol: number;
  /** SS_PRIV clear: everything but RTM_GET fails with EPERM. */
  unprivileged: boolean;
  deliver(message: Uint8Array): void;
}

/** scutil dictionaries by key (only the two Global keys matter to defroute). */
export type ScutilDict = Record<string, string>;

/** The setup of a fresh simulated Mac. */
export interface SimSetup {
  interfaces: SimInterface[];
  routes: SimRoute[];
  scutil: Record<string, ScutilDict | null>;
}

export const SCUTIL_IPV4 = "State:/Network/Global/IPv4";
export const SCUTIL_IPV6 = "State:/Network/Global/IPv6";
/** configd's per-interface link key (KernelEventMonitor): `Active : TRUE` or `FALSE`. */
export function scutilLinkKey(name: string): string {
  return `State:/Network/Interface/${name}/Link`;
}
export const EN0_SERVICE = "2262B572-5785-46BF-AE88-7C003BE61B46";

/**
 * A Mac on Wi-Fi: lo0 (1), en0 (4, 192.168.1.100/24, fe80::/64), with configd's global defaults
 * via 192.168.1.1 and fe80::1%en0, the scoped IPv4 default configd also installs for en0, and the
 * matching scutil keys. en0 is index 4 (not 2) so index and position never coincide.
 */
export function defaultSetup(): SimSetup {
  const gw = RTF_UP | RTF_GATEWAY | RTF_STATIC | RTF_PRCLONING;
  return {
    interfaces: [
      {
        name: "lo0",
        index: 1,
        flags: IFF_UP | IFF_LOOPBACK | IFF_RUNNING | IFF_MULTICAST,
        mac: null,
        type: IFT_LOOP,
        mtu: 16384,
        addresses: [
          { address: "127.0.0.1", prefix: 8 },
          { address: "::1", prefix: 128 },
          { address: "fe80::1", prefix: 64 },
        ],
      },
      {
        name: "en0",
        index: 4,
        flags: IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_SIMPLEX | IFF_MULTICAST,
        mac: "aa:bb:cc:dd:ee:01",
        type: IFT_ETHER,
        mtu: 1500,
        linkActive: true,
        addresses: [
          { address: "192.168.1.100", prefix: 24 },
          { address: "fe80::a8bb:ccff:fedd:ee01", prefix: 64 },
          { address: "2001:db8:1::100", prefix: 64 },
        ],
      },
    ],
    routes: [
      route4("192.168.1.1", 4, 0, gw),
      route4("192.168.1.1", 4, 4, gw | RTF_IFSCOPE),
      {
        family: 6,
        destination: "::",
        prefix: 0,
        scope: 0,
        gateway: "fe80::1",
        ifIndex: 4,
        flags: gw,
      },
    ],
    scutil: {
      [SCUTIL_IPV4]: {
        PrimaryInterface: "en0",
        PrimaryService: EN0_SERVICE,
        Router: "192.168.1.1",
      },
      [SCUTIL_IPV6]: { PrimaryInterface: "en0", PrimaryService: EN0_SERVICE, Router: "fe80::1" },
    },
  };
}

function route4(gateway: string, ifIndex: number, scope: number, flags: number): SimRoute {
  return { family: 4, destination: "0.0.0.0", prefix: 0, scope, gateway, ifIndex, flags };
}

/** A utun as a VPN creates it: point-to-point, no MAC, one address. */
export function utun(name: string, index: number, address4 = "198.18.0.1"): SimInterface {
  return {
    name,
    index,
    flags: IFF_UP | IFF_POINTOPOINT | IFF_RUNNING | IFF_MULTICAST,
    mac: null,
    type: IFT_OTHER,
    mtu: 1500,
    addresses: [{ address: address4, prefix: 30 }, {
      address: `fe80::${index.toString(16)}:1`,
      prefix: 64,
    }],
  };
}

function bytesOf(text: string): Uint8Array {
  return Uint8Array.from(ipaddr.parse(text).toByteArray());
}

function textOf(bytes: Uint8Array): string {
  return ipaddr.fromByteArray([...bytes]).toString();
}

function masked(bytes: Uint8Array, prefix: number): Uint8Array {
  const out = new Uint8Array(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - 8 * i));
    out[i] = out[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Knobs tests turn to make the kernel misbehave in ways a real one might seem to. */
export interface KernelFaults {
  /** The next N requests get no reply or echo on the sender's socket (write still succeeds). */
  swallowReplies: number;
  /** Delivered to the sender just before its next reply: other processes' traffic, garbage. */
  noiseBeforeReply: Uint8Array[];
  /**
   * The next N requests are written (write succeeds) and then forgotten: no change, no reply.
   * From the writer's side that is a reply lost to a full buffer plus someone undoing the
   * change before it could look.
   */
  dropRequests: number;
}

export class XnuKernel {
  readonly interfaces = new Map<number, SimInterface>();
  #routes: SimRoute[] = [];
  readonly #sockets = new Set<KernelSocket>();
  readonly #scutil = new Map<string, ScutilDict>();
  /** The interface of the last unscoped default added (set_primary_ifscope, route.c 2467). */
  #primaryScope: Record<4 | 6, number> = { 4: 0, 6: 0 };
  readonly faults: KernelFaults = { swallowReplies: 0, noiseBeforeReply: [], dropRequests: 0 };
  /** Called when a scutil value changes (the server re-renders the stand-in scutil's files). */
  onScutilChange: (key: string) => void = () => {};
  /** Every request the kernel handled: who, what, and the errno (for tests' "what happened"). */
  readonly log: { pid: number; type: number; errno: number }[] = [];

  constructor(setup: SimSetup = defaultSetup()) {
    for (const iface of setup.interfaces) this.interfaces.set(iface.index, structuredClone(iface));
    for (const route of setup.routes) {
      this.#routes.push({ ...route });
      if (route.scope === 0 && route.prefix === 0) this.#primaryScope[route.family] = route.ifIndex;
    }
    for (const [key, value] of Object.entries(setup.scutil)) {
      if (value) this.#scutil.set(key, { ...value });
    }
    for (const iface of this.interfaces.values()) this.#publishLink(iface);
  }

  /** configd's `State:/Network/Interface/<name>/Link` for an interface (none when unknown). */
  #publishLink(iface: SimInterface, present = true): void {
    const key = scutilLinkKey(iface.name);
    const value = present && iface.linkActive !== undefined
      ? { Active: iface.linkActive ? "TRUE" : "FALSE" }
      : null;
    if (value === null && !this.#scutil.has(key)) return;
    this.setScutil(key, value);
  }

  // ---- sockets ----

  /** Connects a routing socket; returns its detach function. */
  attach(socket: KernelSocket): () => void {
    this.#sockets.add(socket);
    return () => this.#sockets.delete(socket);
  }

  get socketCount(): number {
    return this.#sockets.size;
  }

  /** Delivers raw bytes to every routing socket (tests: other traffic, hostile messages). */
  inject(message: Uint8Array): void {
    for (const socket of this.#sockets) socket.deliver(new Uint8Array(message));
  }

  #broadcast(message: Uint8Array, protocol: number, sender: KernelSocket | null): void {
    const swallow = sender !== null && this.faults.swallowReplies > 0;
    if (swallow) this.faults.swallowReplies--;
    if (sender && !swallow) {
      for (const noise of this.faults.noiseBeforeReply.splice(0)) sender.deliver(noise);
    }
    for (const socket of this.#sockets) {
      // raw_input (xnu bsd/net/raw_usrreq.c 109-111): a socket opened with a protocol hears only
      // the messages sent with exactly that protocol, so not the protocol-0 ones.
      if (socket.protocol !== 0 && socket.protocol !== protocol) continue;
      if (socket === sender && swallow) continue;
      socket.deliver(new Uint8Array(message));
    }
  }

  // ---- route_output ----

  /**
   * A process wrote `bytes` to its routing socket: returns the errno write() fails with (0 = ok).
   * The order of the checks is route_output's (xnu bsd/net/rtsock.c), because it decides what
   * each failure's echo looks like:
   * - length: EINVAL, echoed untouched (no rtm_errno, no RTF_DONE, the sender's rtm_pid; 352-356);
   * - version: EPROTONOSUPPORT (375), then privilege: EPERM (396-399), both before the kernel
   *   stamps rtm_pid (401): their echoes carry whatever pid the sender wrote;
   * - everything later carries the sender's real pid, and rtm_errno or RTF_DONE (flush:, 804).
   * Every echo goes out with protocol 0 except the GET/DELETE report (649) and a request whose
   * short AF_INET DST was rebuilt (430): a socket opened for one family hears only those.
   */
  routeOutput(socket: KernelSocket, bytes: Uint8Array): number {
    if (this.faults.dropRequests > 0) {
      this.faults.dropRequests--;
      return 0;
    }
    const type = bytes.byteLength > 3 ? bytes[3]! : 0;
    const echo = new Uint8Array(bytes);
    const echoView = new DataView(echo.buffer);
    let protocol = 0;
    const fail = (errno: number): number => {
      this.log.push({ pid: socket.pid, type, errno });
      echoView.setInt32(24, errno, true);
      this.#broadcast(echo, protocol, socket);
      return errno;
    };
    const header = checkHeader(bytes);
    if (header.untouched) {
      this.log.push({ pid: socket.pid, type, errno: header.errno });
      this.#broadcast(echo, 0, socket);
      return header.errno;
    }
    if (header.errno !== 0) return fail(header.errno);
    if (type !== RTM_GET && socket.unprivileged) return fail(ERRNO.EPERM);
    echoView.setInt32(16, socket.pid, true);
    const parsed = parseRequest(bytes);
    protocol = parsed.protocol;
    if (!parsed.ok) return fail(parsed.errno);
    const request = parsed.request;
    const dst = request.sockaddrs[0]!;
    const family = familyOf(dst);
    if ((request.flags & RTF_IFSCOPE) && family === null) return fail(ERRNO.EINVAL);
    if (request.flags & RTF_PROXY) return fail(ERRNO.EINVAL);
    if (family === null) return fail(ERRNO.EAFNOSUPPORT);
    const scope = request.flags & RTF_IFSCOPE ? request.index : 0;
    const netmask = request.sockaddrs[2];
    // RTF_HOST means no netmask: a /32 or /128 host route (route.c line 1955).
    const prefix = request.flags & RTF_HOST || !netmask
      ? (family === 4 ? 32 : 128)
      : maskPrefix(netmask, family);
    if (prefix === null) return fail(ERRNO.EINVAL);
    const destination = masked(inetAddress(dst, family), prefix);
    const key = { family, destination, prefix, scope };
    const done = (): number => {
      echoView.setInt32(8, request.flags | RTF_DONE, true);
      this.log.push({ pid: socket.pid, type, errno: 0 });
      this.#broadcast(echo, protocol, socket);
      return 0;
    };
    const report = (route: SimRoute, reportType: number, flags: number): number => {
      this.log.push({ pid: socket.pid, type, errno: 0 });
      const message = this.#report(reportType, route, request, socket.pid, flags);
      this.#broadcast(message, family === 4 ? AF_INET : AF_INET6, socket);
      return 0;
    };

    switch (request.type) {
      case RTM_ADD: {
        const gatewaySa = request.sockaddrs[1];
        if (!gatewaySa) return fail(ERRNO.EINVAL);
        // rtrequest: ifa_ifwithroute first (ENETUNREACH, route.c 2282), then the key (EEXIST,
        // 2414), then rt_setif with the request's IFP/IFA (rtsock.c RTM_ADD).
        const resolved = this.#resolveGateway(gatewaySa, family, scope, request.flags);
        if (!resolved) return fail(ERRNO.ENETUNREACH);
        if (this.#find(key)) return fail(ERRNO.EEXIST);
        const route: SimRoute = {
          family,
          destination: textOf(destination),
          prefix,
          scope,
          gateway: resolved.gateway,
          ifIndex: this.#setif(request, family, resolved.ifIndex),
          flags: (request.flags & ~(RTF_GLOBAL | RTF_DONE)) | (scope ? RTF_IFSCOPE : 0),
        };
        this.#routes.push(route);
        if (scope === 0 && prefix === 0) this.#primaryScope[family] = route.ifIndex;
        return done();
      }
      case RTM_DELETE: {
        // Exact key + mask + scope; the gateway is not used (route.c line 2023, §5.2).
        const route = this.#find(key);
        if (!route) return fail(ERRNO.ESRCH);
        this.#routes = this.#routes.filter((r) => r !== route);
        // The global default gone: no primary interface any more (route.c 2128-2134).
        if (scope === 0 && prefix === 0) this.#primaryScope[family] = 0;
        return report(route, RTM_DELETE, (route.flags & ~RTF_UP) | RTF_CONDEMNED | RTF_DONE);
      }
      case RTM_GET: {
        const route = netmask ? this.#lookup(key) : this.#longestMatch(family, destination, scope);
        if (!route) return fail(ERRNO.ESRCH);
        return report(route, RTM_GET, route.flags | RTF_DONE);
      }
      case RTM_CHANGE: {
        const route = this.#find(key);
        if (!route) return fail(ERRNO.ESRCH);
        const gatewaySa = request.sockaddrs[1];
        if (gatewaySa) {
          const resolved = this.#resolveGateway(gatewaySa, family, scope, request.flags);
          if (!resolved) return fail(ERRNO.ENETUNREACH);
          route.gateway = resolved.gateway;
          route.ifIndex = this.#setif(request, family, resolved.ifIndex);
        }
        return done();
      }
      default:
        return fail(ERRNO.EOPNOTSUPP);
    }
  }

  #find(key: { family: 4 | 6; destination: Uint8Array; prefix: number; scope: number }) {
    return this.#routes.find((r) =>
      r.family === key.family && r.prefix === key.prefix && r.scope === key.scope &&
      sameBytes(bytesOf(r.destination), key.destination)
    ) ?? null;
  }

  /**
   * RTM_GET with a netmask (rt_lookup_common, route.c line 3180; docs/macos-routing-socket.md
   * §5.2): unscoped asks find the unscoped route, then prefer the route scoped to the primary
   * interface if there is one ("dontcare"); scoped asks find the route scoped to N, else the
   * unscoped route when its interface is N.
   */
  #lookup(key: { family: 4 | 6; destination: Uint8Array; prefix: number; scope: number }) {
    const unscoped = this.#find({ ...key, scope: 0 });
    if (key.scope === 0) {
      if (!unscoped) return null;
      const primary = this.#primaryScope[key.family];
      return (primary && this.#find({ ...key, scope: primary })) || unscoped;
    }
    return this.#find(key) ?? (unscoped?.ifIndex === key.scope ? unscoped : null);
  }

  #longestMatch(family: 4 | 6, address: Uint8Array, scope: number): SimRoute | null {
    const candidates = this.#routes
      .filter((r) => r.family === family && (scope === 0 || r.scope === scope || r.scope === 0))
      .filter((r) => sameBytes(masked(address, r.prefix), bytesOf(r.destination)))
      .sort((a, b) =>
        b.prefix - a.prefix || (b.scope === scope ? 1 : 0) - (a.scope === scope ? 1 : 0)
      );
    return candidates[0] ?? null;
  }

  /**
   * rtalloc1_scoped_locked -> rt_lookup_common (xnu bsd/net/route.c 3180-3370), as far as the
   * interface it yields goes: unscoped, the longest unscoped match (interface routes included),
   * else a route scoped to the primary interface (get_primary_ifscope), which is none once the
   * global default was deleted (2133); scoped to N, the longest match scoped to N or unscoped on
   * N, else the unscoped default when it is on N.
   */
  #routeTo(family: 4 | 6, address: Uint8Array, scope: number): SimRoute | null {
    const matching = [...this.#routes, ...this.#connectedRoutes(family)]
      .filter((r) =>
        r.family === family && sameBytes(masked(address, r.prefix), bytesOf(r.destination))
      )
      .sort((a, b) => b.prefix - a.prefix);
    if (scope === 0) {
      const primary = this.#primaryScope[family];
      return matching.find((r) => r.scope === 0) ??
        (primary ? matching.find((r) => r.scope === primary) ?? null : null);
    }
    return matching.find((r) => r.scope === scope || (r.scope === 0 && r.ifIndex === scope)) ??
      null;
  }

  /** The interface routes a real table holds for each address's subnet (in_ifinit / rtinit). */
  #connectedRoutes(family: 4 | 6): SimRoute[] {
    return [...this.interfaces.values()].flatMap((iface) =>
      iface.addresses.filter((a) => (a.address.includes(":") ? 6 : 4) === family).map((a) => ({
        family,
        destination: textOf(masked(bytesOf(a.address), a.prefix)),
        prefix: a.prefix,
        scope: 0,
        gateway: null,
        ifIndex: iface.index,
        flags: RTF_UP,
      }))
    );
  }

  /**
   * ifa_ifwithroute_common_locked (xnu bsd/net/route.c 1760-1866): which interface reaches this
   * gateway (null = ENETUNREACH). An interface whose subnet holds the gateway is found first
   * (ifa_ifwithnet_scoped), but then the route to the gateway takes precedence, "the routing
   * table should carry more precedence than the interfaces" (rtalloc1_scoped_locked(gw), 1823-
   * 1839): a VPN's host route or a split route more specific than the LAN's captures the
   * gateway, and so the new route. A scoped ADD must end on its scope (1845-1849).
   */
  #resolveGateway(
    sa: Uint8Array,
    family: 4 | 6,
    scope: number,
    flags: number,
  ): { gateway: string | null; ifIndex: number } | null {
    const link = linkOf(sa);
    if (link) {
      // Not RTF_GATEWAY: ifa_ifwithaddr_scoped(gw) on the interface's link address (1770).
      const iface = this.interfaces.get(link.index) ?? this.interfaceByName(link.name);
      return iface && (scope === 0 || iface.index === scope)
        ? { gateway: null, ifIndex: iface.index }
        : null;
    }
    if (familyOf(sa) !== family) return null;
    const { address, zone } = inetGateway(sa, family);
    let ifIndex: number | null = null;
    for (const iface of this.interfaces.values()) {
      if ((scope !== 0 && iface.index !== scope) || (zone !== 0 && iface.index !== zone)) continue;
      const onLink = iface.addresses.some((a) => {
        const own = bytesOf(a.address);
        // fe80::/64 is on every v6 interface; the zone (checked above) picks the one.
        return own.length === address.length &&
          sameBytes(masked(own, a.prefix), masked(address, a.prefix));
      });
      if (onLink) {
        ifIndex = iface.index;
        break;
      }
    }
    // A link-local gateway is only ever on its zone's link.
    if (!isEmbedScope(address)) {
      const route = this.#routeTo(family, address, scope);
      if (route && this.interfaces.has(route.ifIndex)) ifIndex = route.ifIndex;
    }
    if (ifIndex === null) return null;
    if ((flags & RTF_IFSCOPE) && scope !== 0 && ifIndex !== scope) return null;
    return { gateway: textOf(address), ifIndex };
  }

  /**
   * rt_setif (xnu bsd/net/rtsock.c 966-1000) after an ADD or CHANGE: an IFP naming an interface
   * (configd's form: sockaddr_dl with sdl_index) moves the route there, provided that interface
   * has an address of the route's family (ifaof_ifpforaddr); route(8)'s form ends the parse at
   * its zero-length netmask, so its IFP never counts (rt_xaddrs) and the resolved interface
   * stays.
   */
  #setif(request: KernelRequest, family: 4 | 6, resolved: number): number {
    const ifp = request.sockaddrs[4];
    const link = ifp ? linkOf(ifp) : null;
    if (!link) return resolved;
    const iface = (link.index ? this.interfaces.get(link.index) : undefined) ??
      (link.name ? this.interfaceByName(link.name) : null);
    if (!iface) return resolved;
    const hasFamily = iface.addresses.some((a) => (a.address.includes(":") ? 6 : 4) === family);
    return hasFamily ? iface.index : resolved;
  }

  /** rt_msg2-style report of a route (GET reply, DELETE report; rtsock.c report:, §5.2). */
  #report(
    type: number,
    route: SimRoute,
    request: KernelRequest,
    pid: number,
    flags: number,
  ): Uint8Array {
    const iface = this.interfaces.get(route.ifIndex) ?? null;
    const addrs: Partial<Record<string, Sockaddr>> = {
      dst: inetSockaddr(route.family, route.destination),
      gateway: this.#gatewaySockaddr(route, iface),
    };
    // The default's mask: sa_len 0, zero-filled (rtm_scrub + rt_msg2, §3.4); a scoped IPv6 mask
    // in a non-GET message keeps sa_len 28.
    if (route.prefix === 0) {
      addrs.netmask = type !== RTM_GET && route.family === 6 && route.scope !== 0
        ? { family: "inet6", address: "::" }
        : kernelDefaultNetmask(route.family);
    } else if (route.prefix < (route.family === 4 ? 32 : 128)) {
      const mask = route.family === 4
        ? ipaddr.IPv4.subnetMaskFromPrefixLength(route.prefix).toString()
        : ipaddr.IPv6.subnetMaskFromPrefixLength(route.prefix).toString();
      addrs.netmask = inetSockaddr(route.family, mask);
    }
    if (request.addrBits & (RTA_IFP | RTA_IFA) && iface) {
      addrs.ifp = linkSockaddr(iface);
      const ifa = iface.addresses.find((a) =>
        bytesOf(a.address).length === (route.family === 4 ? 4 : 16)
      );
      if (ifa) addrs.ifa = inetSockaddr(route.family, ifa.address, iface.index);
    }
    return encodeRouteMessage({
      type,
      flags: flags >>> 0,
      index: route.ifIndex,
      pid,
      seq: request.seq,
      errno: 0,
      addrs,
    } as RoutingMessageInit);
  }

  #gatewaySockaddr(route: SimRoute, iface: SimInterface | null): Sockaddr {
    if (route.gateway === null) {
      return { family: "link", index: route.ifIndex, type: iface?.type ?? 0 };
    }
    return inetSockaddr(route.family, route.gateway, route.ifIndex);
  }

  // ---- tests' view and control ----

  routes(family?: 4 | 6): SimRouteView[] {
    return this.#routes.filter((r) => family === undefined || r.family === family).map((r) => ({
      ...r,
      interface: this.interfaces.get(r.ifIndex)?.name ?? null,
      scoped: r.scope !== 0,
    }));
  }

  /** Replaces the whole table without messages (test setup). */
  replaceRoutes(routes: SimRoute[]): void {
    this.#routes = routes.map((r) => ({ ...r }));
    this.#primaryScope = { 4: 0, 6: 0 };
    for (const r of this.#routes) {
      if (r.scope === 0 && r.prefix === 0) this.#primaryScope[r.family] = r.ifIndex;
    }
  }

  /** The default routes of a family, as `netstat -rn` would list them. */
  defaults(family: 4 | 6): SimRouteView[] {
    return this.routes(family).filter((r) => r.prefix === 0);
  }

  interfaceByName(name: string): SimInterface | null {
    return [...this.interfaces.values()].find((i) => i.name === name) ?? null;
  }

  /** A new interface appears: RTM_IFINFO, then RTM_NEWADDR per address (rt_ifmsg, rt_newaddrmsg).
   */
  addInterface(iface: SimInterface): void {
    if (this.interfaces.has(iface.index) || this.interfaceByName(iface.name)) {
      throw new Error(`interface ${iface.name} (${iface.index}) exists`);
    }
    this.interfaces.set(iface.index, structuredClone(iface));
    this.#broadcast(this.#ifinfo(iface), 0, null);
    for (const a of iface.addresses) {
      this.#broadcast(this.#addressMessage(RTM_NEWADDR, iface, a), familyNumber(a), null);
    }
    this.#publishLink(iface);
  }

  /**
   * The link goes active or inactive (cable, Wi-Fi association): only configd's Link key
   * changes. IFF_UP|IFF_RUNNING stay as they are and no routing message is sent: link on/off is
   * a KEV_DL_LINK_ON/OFF event on PF_SYSTEM, never RTM_IFINFO (see SimInterface.linkActive).
   */
  setLinkActive(name: string, active: boolean): void {
    const iface = this.interfaceByName(name);
    if (!iface) throw new Error(`no interface ${name}`);
    iface.linkActive = active;
    this.#publishLink(iface);
  }

  /**
   * `ifconfig NAME up|down`: IFF_UP on or off, then RTM_IFINFO (if_updown, xnu bsd/net/if.c
   * 1609-1643). Going down first tells the protocols (pfctlinput(PRC_IFDOWN), 1638): IPv4's
   * rip_ctlinput (bsd/netinet/raw_ip.c 883-905) runs in_ifadown(ifa, 1), which deletes every
   * IPv4 route using the interface's addresses, static ones included (bsd/netinet/in_rmx.c
   * in_ifadownkill 735-770, rtrequest_locked: no routing message). IPv6 routes stay. Coming up
   * sets IFF_RUNNING too (the driver is running); going down leaves it as it was.
   */
  setInterfaceUp(name: string, up: boolean): void {
    const iface = this.interfaceByName(name);
    if (!iface) throw new Error(`no interface ${name}`);
    if (up) iface.flags |= IFF_UP | IFF_RUNNING;
    else {
      iface.flags &= ~IFF_UP;
      this.#purgeRoutes(this.#routes.filter((r) => r.family === 4 && r.ifIndex === iface.index));
    }
    this.#broadcast(this.#ifinfo(iface), 0, null);
  }

  /** Routes removed without a message (in_ifadown, if_rtproto_del): rtrequest_locked's
   * RTM_DELETE, which clears the primary interface with the global default (route.c 2133). */
  #purgeRoutes(routes: readonly SimRoute[]): void {
    this.#routes = this.#routes.filter((r) => !routes.includes(r));
    for (const r of routes) {
      if (r.scope === 0 && r.prefix === 0) this.#primaryScope[r.family] = 0;
    }
  }

  /** How long the detacher thread takes to reach a detached interface (ifnet_detach_final). */
  detachDelayMs = 50;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  #later(ms: number, step: () => void): void {
    if (ms <= 0) return step();
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      step();
    }, ms);
    this.#timers.add(timer);
  }

  /**
   * The interface detaches (a utun closed, a USB adapter pulled), as ifnet_detach (xnu
   * bsd/net/dlil.c 5387) and its detacher thread do it, and not one RTM_DELETE on the way:
   * 1. if_down (5403): IPv4 routes go silently (see setInterfaceUp), then RTM_IFINFO;
   * 2. the interface leaves the lists (5474, 5481): its index no longer resolves to a name;
   * 3. later, ifnet_detach_final (5677) on the detacher thread: if_purgeaddrs (5754) sends
   *    RTM_DELADDR per address, and then proto_unplumb (5767-5778) -> if_rtproto_del
   *    (bsd/net/if.c 6100) removes the remaining (IPv6) routes, silently.
   * Step 3 runs `detachDelayMs` after the call, its second half as long again after the first.
   */
  removeInterface(name: string): void {
    const iface = this.interfaceByName(name);
    if (!iface) throw new Error(`no interface ${name}`);
    this.setInterfaceUp(name, false);
    this.interfaces.delete(iface.index);
    this.#publishLink(iface, false);
    const left = this.#routes.filter((r) => r.ifIndex === iface.index);
    this.#later(this.detachDelayMs, () => {
      for (const a of iface.addresses) {
        this.#broadcast(this.#addressMessage(RTM_DELADDR, iface, a), familyNumber(a), null);
      }
      this.#later(this.detachDelayMs, () => this.#purgeRoutes(left));
    });
  }

  /** An address appears on an interface: RTM_NEWADDR (rt_newaddrmsg, rtsock.c 1573-1647). */
  addAddress(name: string, address: SimAddress): void {
    const iface = this.interfaceByName(name);
    if (!iface) throw new Error(`no interface ${name}`);
    iface.addresses.push({ ...address });
    this.#broadcast(this.#addressMessage(RTM_NEWADDR, iface, address), familyNumber(address), null);
  }

  /**
   * An address goes away (a DHCP lease given up): RTM_DELADDR, with the protocol of its family
   * (rt_newaddrmsg, rtsock.c 1646). Only the interface route goes with it (SIOCDIFADDR ->
   * in_ifscrub, bsd/netinet/in.c 755); in_ifadown is not called on this path (its only caller is
   * PRC_IFDOWN), so a default through the address stays until someone deletes it.
   */
  removeAddress(name: string, address: string): void {
    const iface = this.interfaceByName(name);
    if (!iface) throw new Error(`no interface ${name}`);
    const gone = iface.addresses.find((a) => sameBytes(bytesOf(a.address), bytesOf(address)));
    if (!gone) throw new Error(`${name} has no address ${address}`);
    iface.addresses = iface.addresses.filter((a) => a !== gone);
    this.#broadcast(this.#addressMessage(RTM_DELADDR, iface, gone), familyNumber(gone), null);
  }

  /** Stops the pending detacher steps (a test's end). */
  close(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  /**
   * Another process (configd, a VPN) changes a route through its own routing socket: the request
   * goes through route_output like any other, stamped with `pid`. Returns the errno.
   */
  requestAs(pid: number, message: Uint8Array): number {
    return this.routeOutput({ pid, protocol: 0, unprivileged: false, deliver: () => {} }, message);
  }

  #ifinfo(iface: SimInterface): Uint8Array {
    return encodeRouteMessage({
      type: RTM_IFINFO,
      flags: iface.flags & 0xffff,
      index: iface.index,
      data: { type: iface.type, mtu: iface.mtu, addrlen: iface.mac ? 6 : 0 },
    } as RoutingMessageInit);
  }

  #addressMessage(type: number, iface: SimInterface, a: SimAddress): Uint8Array {
    const family = a.address.includes(":") ? 6 : 4;
    const mask = family === 4
      ? ipaddr.IPv4.subnetMaskFromPrefixLength(a.prefix).toString()
      : ipaddr.IPv6.subnetMaskFromPrefixLength(a.prefix).toString();
    return encodeRouteMessage({
      type,
      index: iface.index,
      flags: 0,
      addrs: {
        netmask: inetSockaddr(family, mask),
        ifp: linkSockaddr(iface),
        ifa: inetSockaddr(family, a.address, iface.index),
      },
      style: "rt_msg1",
    } as RoutingMessageInit);
  }

  // ---- sysctl ----

  /** sysctl(CTL_NET, PF_ROUTE, 0, af, what, arg): the bytes, or an errno. */
  sysctl(mib: readonly number[]): { errno: number; data: Uint8Array } {
    const [ctl, pf, , af = 0, what = 0, arg = 0] = mib;
    if (ctl !== 4 || pf !== 17 || mib.length < 5) {
      return { errno: ERRNO.EINVAL, data: new Uint8Array() };
    }
    const family = af === AF_INET ? 4 : af === AF_INET6 ? 6 : af === 0 ? undefined : null;
    if (family === null) return { errno: ERRNO.EINVAL, data: new Uint8Array() };
    const parts: Uint8Array[] = [];
    if (what === NET_RT_DUMP || what === NET_RT_FLAGS) {
      const request: KernelRequest = {
        type: RTM_GET,
        flags: 0,
        index: 0,
        addrBits: RTA_IFA,
        seq: 0,
        sockaddrs: [],
      };
      for (const route of this.#routes) {
        if (family !== undefined && route.family !== family) continue;
        if (what === NET_RT_FLAGS && (route.flags & arg) !== arg) continue;
        // Dumps carry DST, GATEWAY, NETMASK, IFA and never IFP (docs/macos-routing-socket.md §1.3).
        const report = this.#report(RTM_GET, route, request, 0, route.flags);
        parts.push(withoutIfp(report));
      }
    } else if (what === NET_RT_IFLIST) {
      for (const iface of [...this.interfaces.values()].sort((a, b) => a.index - b.index)) {
        parts.push(encodeRouteMessage({
          type: RTM_IFINFO,
          flags: iface.flags & 0xffff,
          index: iface.index,
          addrs: { ifp: linkSockaddr(iface) },
          data: { type: iface.type, mtu: iface.mtu, addrlen: iface.mac ? 6 : 0 },
        } as RoutingMessageInit));
        for (const a of iface.addresses) {
          const f = a.address.includes(":") ? 6 : 4;
          if (family !== undefined && f !== family) continue;
          const message = this.#addressMessage(RTM_NEWADDR, iface, a);
          parts.push(padTo4(message));
        }
      }
    } else {
      return { errno: ERRNO.EINVAL, data: new Uint8Array() };
    }
    const total = parts.reduce((n, p) => n + p.length, 0);
    const data = new Uint8Array(total);
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    return { errno: 0, data };
  }

  // ---- scutil ----

  setScutil(key: string, value: ScutilDict | null): void {
    if (value) this.#scutil.set(key, { ...value });
    else this.#scutil.delete(key);
    this.onScutilChange(key);
  }

  scutil(key: string): ScutilDict | null {
    const value = this.#scutil.get(key);
    return value ? { ...value } : null;
  }

  scutilKeys(): string[] {
    return [...this.#scutil.keys()];
  }
}

/**
 * What configd's `scutil` prints for `show KEY` (docs/macos-routing-socket.md §6): a dictionary
 * with keys sorted case-sensitively, two-space indent, or "  No such key".
 */
export function renderScutil(value: ScutilDict | null): string {
  if (!value) return "  No such key\n";
  const keys = Object.keys(value).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return `<dictionary> {\n${keys.map((k) => `  ${k} : ${value[k]}\n`).join("")}}\n`;
}

/** AF_INET or AF_INET6: the raw_input protocol of an address's messages (rtsock.c 1646). */
function familyNumber(a: SimAddress): number {
  return a.address.includes(":") ? AF_INET6 : AF_INET;
}

function inetSockaddr(
  family: 4 | 6,
  address: string,
  zoneIndex = 0,
): Inet4Sockaddr | Inet6Sockaddr {
  if (family === 4) return { family: "inet4", address };
  const bytes = bytesOf(address);
  const linkLocal = bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80;
  return linkLocal && zoneIndex
    ? { family: "inet6", address, zone: zoneIndex }
    : { family: "inet6", address };
}

function linkSockaddr(iface: SimInterface): LinkSockaddr {
  const sa: LinkSockaddr = {
    family: "link",
    index: iface.index,
    type: iface.type,
    name: iface.name,
  };
  if (iface.mac) sa.linkAddress = iface.mac;
  return sa;
}

/** A dump entry without the IFP sockaddr (dumps never carry it, docs/macos-routing-socket.md §1.3).
 */
function withoutIfp(message: Uint8Array): Uint8Array {
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const addrs = view.getInt32(12, true);
  if (!(addrs & RTA_IFP)) return message;
  // Walk to the IFP slot and cut it out.
  let cursor = 92;
  for (let i = 0; i < 4; i++) {
    if (addrs & (1 << i)) cursor += message[cursor]! > 0 ? 1 + ((message[cursor]! - 1) | 3) : 4;
  }
  const ifpLen = message[cursor]! > 0 ? 1 + ((message[cursor]! - 1) | 3) : 4;
  const out = new Uint8Array(message.length - ifpLen);
  out.set(message.subarray(0, cursor));
  out.set(message.subarray(cursor + ifpLen), cursor);
  const outView = new DataView(out.buffer);
  outView.setUint16(0, out.length, true);
  outView.setInt32(12, addrs & ~RTA_IFP, true);
  return out;
}

/** sysctl dumps are rt_msg2-built: padded to 4 (docs/macos-routing-socket.md §3.5). */
function padTo4(message: Uint8Array): Uint8Array {
  const length = message.length % 4 === 0
    ? message.length
    : message.length + 4 - (message.length % 4);
  if (length === message.length) return message;
  const out = new Uint8Array(length);
  out.set(message);
  new DataView(out.buffer).setUint16(0, length, true);
  return out;
}
