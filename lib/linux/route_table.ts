/**
 * The Linux RouteTable: rtnetlink (NETLINK_ROUTE) through libc FFI. It exists so the whole tool
 * runs end to end on a real kernel in network namespaces (tests/linux), and it is a usable
 * backend on Linux hosts too.
 *
 * Linux has no scoped defaults (macOS RTF_IFSCOPE, docs/macos-routing-socket.md §5.2): `scoped` is
 * always false and "the default" of a family is any unicast default in the main table; several may
 * coexist with different metrics, and all of them are returned, lowest metric first.
 */
import { trace, TRACING } from "../util/trace.ts";
import type { RouteTable } from "../core/model/route_table.ts";
import { ipRouteCommandText } from "../core/text/route_text.ts";
import {
  errorKindOfErrno,
  errorKindOfSyscallErrno,
  type RouteErrorKind,
  RouteTableError,
} from "../core/model/errors.ts";
import {
  type Carriers,
  type DefaultRoute,
  type Family,
  type InterfaceAddress,
  isTunnelName,
  type NetInterface,
  type PolicyRoute,
  type RouteEvent,
  type WideRoute,
} from "../core/model/types.ts";
import { interfaceIndex, interfaceName, LibcError, NetlinkSocket } from "./libc.ts";
import {
  addressBytes,
  addressText,
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  ARPHRD_NONE,
  decodeMessages,
  type DefaultRouteRequest,
  encodeAddDefaultRoute,
  encodeAddressDumpRequest,
  encodeDeleteDefaultRoute,
  encodeLinkDumpRequest,
  encodeRouteDumpRequest,
  encodeRuleDumpRequest,
  errnoName,
  FIB_RULE_INVERT,
  FR_ACT_TO_TBL,
  IFF_LOWER_UP,
  IFF_POINTOPOINT,
  IFF_RUNNING,
  IFF_UP,
  type LinkFields,
  type NetlinkMessage,
  NLM_F_REPLACE,
  NLMSG_ERROR,
  NLMSG_HDRLEN,
  NLMSGERR_MIN_LEN,
  passedIpv4Defaults,
  type PrefixLengths,
  prefixLengths,
  type RouteFields,
  RT_TABLE_DEFAULT,
  RT_TABLE_MAIN,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_F_CLONED,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTMGRP_IPV4_ROUTE,
  RTMGRP_IPV6_ROUTE,
  RTMGRP_LINK,
  RTN_UNICAST,
  RTNH_F_LINKDOWN,
  type RuleFields,
} from "./netlink_message.ts";

export interface LinuxRouteTableOptions {
  /** How long a request may wait for the kernel's answer. */
  timeoutMs?: number;
}

/** Open the rtnetlink backend. The socket is created on first use, so `--help` needs no FFI. */
export function openLinuxRouteTable(options: LinuxRouteTableOptions = {}): RouteTable {
  return new LinuxRouteTable(options.timeoutMs ?? 3000);
}

const MEANING: Partial<Record<RouteErrorKind, string>> = {
  "exists": "such a route already exists",
  "not-found": "no such route",
  "unreachable": "the gateway is not reachable on any interface",
  "needs-root": "changing routes needs root (CAP_NET_ADMIN)",
  "invalid": "the kernel rejected the request",
  "no-interface": "no such interface",
};

/** `default via 10.0.0.1 dev eth0 metric 100`, the words `ip route` uses. */
export function describeDefault(route: DefaultRoute): string {
  const words = [route.family === 6 ? "inet6 default" : "default"];
  if (route.gateway) words.push(`via ${route.gateway}`);
  if (route.interface) words.push(`dev ${route.interface}`);
  else if (route.index > 0) words.push(`dev #${route.index}`);
  if (route.metric !== undefined) words.push(`metric ${route.metric}`);
  return words.join(" ");
}

/** The route messages defroute reads: defaults only (rtm_dst_len 0). Every other route of a
 * dump or a multicast is stepped over by its header (decodeMessages), so a 100,000-route table
 * costs about what a 2-route one does (issue 15). */
const DEFAULT_PREFIXES: PrefixLengths = prefixLengths([0]);

/** How #exchange reads a dump: which routes it decodes, and when it has read enough. */
interface DumpReading {
  routePrefixes?: PrefixLengths;
  /** True once a datagram of the dump `seq` shows that the rest of it cannot hold what is
   * wanted. */
  enough?(datagram: Uint8Array, seq: number): boolean;
}

/**
 * An IPv4 route dump lists the main table's defaults before its first route to another
 * destination (passedIpv4Defaults), so it is read only that far: on a 100,000-route table the
 * first datagram or two instead of ~190 of 32 KiB each, which was most of the time `restore` and
 * `status` spent there (issue 15). An IPv6 dump is read whole: fib6's walk lists the root's
 * routes, the defaults, last (net/ipv6/ip6_fib.c fib6_walk_continue).
 */
const IPV4_DEFAULTS_DUMP: DumpReading = {
  routePrefixes: DEFAULT_PREFIXES,
  enough: (datagram, seq) => passedIpv4Defaults(datagram, RT_TABLE_MAIN, seq),
};

/** What carriers() reads of a route dump: the defaults of every table (a policy rule's table)
 * and the main table's routes of prefix 1-8 (0/1 + 128/1, split ranges); nothing else is
 * decoded. */
const CARRIER_PREFIXES: PrefixLengths = prefixLengths([0, 1, 2, 3, 4, 5, 6, 7, 8]);

/** The main table and the kernel's other built-in tables (local 255, default 253, unspec 0):
 * a rule sending traffic there carries nothing to a tunnel. */
const BUILTIN_TABLES: ReadonlySet<number> = new Set([0, RT_TABLE_DEFAULT, RT_TABLE_MAIN, 255]);

/** `ip rule` words for a rule's selector: "all", "not fwmark 0xca6c", "fwmark 0x1/0xff". */
function selectorWords(rule: RuleFields): string {
  const not = (rule.flags & FIB_RULE_INVERT) !== 0 ? "not " : "";
  if (rule.fwmark === null) return `${not}all`;
  const mask = rule.fwmask !== null && rule.fwmask !== 0xffffffff
    ? `/0x${rule.fwmask.toString(16)}`
    : "";
  return `${not}fwmark 0x${rule.fwmark.toString(16)}${mask}`;
}

/** Whether a rule sends ordinary traffic (every destination, unmarked) to another table:
 * `lookup T` for all, or `not fwmark M lookup T` as wg-quick adds it. */
function divertsTraffic(rule: RuleFields): boolean {
  if (rule.action !== FR_ACT_TO_TBL || BUILTIN_TABLES.has(rule.table)) return false;
  if (rule.dstLen !== 0 || rule.srcLen !== 0 || rule.narrowed) return false;
  const inverted = (rule.flags & FIB_RULE_INVERT) !== 0;
  return rule.fwmark === null ? !inverted : inverted;
}

/**
 * Carriers from a route dump (CARRIER_PREFIXES) and a rule dump of one family. Pure, given
 * `nameOf` (an interface's name by index).
 */
export function carriersOf(
  family: Family,
  routes: readonly NetlinkMessage[],
  rules: readonly NetlinkMessage[],
  nameOf: (index: number) => string | null,
): Carriers {
  const code = familyCode(family);
  const ruleList = rules.flatMap((m) =>
    m.kind === "rule" && m.rule.family === code ? [m.rule] : []
  );
  const main = ruleList.find((r) =>
    r.action === FR_ACT_TO_TBL && r.table === RT_TABLE_MAIN && r.suppressPrefixLength === null
  );
  const mainPriority = main?.priority ?? 32766;
  const suppress = ruleList.find((r) =>
    r.action === FR_ACT_TO_TBL && r.table === RT_TABLE_MAIN && r.suppressPrefixLength === 0
  );
  const wide: WideRoute[] = [];
  const tableDefaults = new Map<number, DefaultRoute[]>();
  for (const m of routes) {
    if (m.kind !== "route" || m.header.type !== RTM_NEWROUTE) continue;
    const r = m.route;
    if (r.family !== code || r.type !== RTN_UNICAST || (r.flags & RTM_F_CLONED) !== 0) continue;
    if (r.srcLen !== 0) continue;
    const index = r.oif ?? 0;
    const name = nameOf(index);
    if (r.dstLen === 0) {
      if (r.tableId === RT_TABLE_MAIN) continue; // defaults() reports those
      const list = tableDefaults.get(r.tableId) ?? [];
      list.push(toDefaultRoute(r, new Map(name === null ? [] : [[index, name]])));
      tableDefaults.set(r.tableId, list);
    } else if (r.tableId === RT_TABLE_MAIN && r.dst !== null) {
      const destination = addressText(r.dst);
      if (destination === null) continue;
      wide.push({ family, destination, prefix: r.dstLen, interface: name, index, scoped: false });
    }
  }
  const policies: PolicyRoute[] = ruleList.filter(divertsTraffic).map((rule) => ({
    family,
    priority: rule.priority,
    table: rule.table,
    selector: selectorWords(rule),
    beforeMain: rule.priority < mainPriority,
    defaults: tableDefaults.get(rule.table) ?? [],
  }));
  return { wide, policies, suppressMainDefault: suppress?.priority ?? null };
}

function familyCode(family: Family): number {
  return family === 4 ? AF_INET : AF_INET6;
}

/** A configured default route of the main table, as `defaults()` and `events()` report it. */
export function isMainDefault(route: RouteFields): boolean {
  return (route.family === AF_INET || route.family === AF_INET6) &&
    route.dstLen === 0 &&
    // An IPv6 source-specific default ("from 2001:db8::/64") is not the global one.
    route.srcLen === 0 &&
    route.tableId === RT_TABLE_MAIN &&
    route.type === RTN_UNICAST &&
    (route.flags & RTM_F_CLONED) === 0;
}

export function toDefaultRoute(
  route: RouteFields,
  names: ReadonlyMap<number, string>,
): DefaultRoute {
  const index = route.oif ?? 0;
  return {
    family: route.family === AF_INET ? 4 : 6,
    gateway: route.gateway ? addressText(route.gateway) : null,
    interface: names.get(index) ?? null,
    index,
    scoped: false,
    flags: route.flags,
    metric: route.priority ?? 0,
    // The kernel's own verdict on the route: its device has no carrier (fib_dump_info /
    // rt6_fill_node set RTNH_F_LINKDOWN; `ip route` prints "linkdown").
    ...(route.flags & RTNH_F_LINKDOWN ? { linkDown: true } : {}),
  };
}

/**
 * Link kinds (IFLA_INFO_KIND, each driver's rtnl_link_ops.kind) that are tunnels whatever their
 * name or link type: drivers/net/tun.c ("tun", for TUN and TAP alike: an Ethernet-typed TAP
 * named corp0 is still a VPN's), drivers/net/wireguard, ppp_generic.c, and the kernel's IP
 * tunnels (ipip, sit, ip6_tunnel, ip_gre, ip6_gre, ip_vti, ip6_vti, xfrm_interface) and
 * overlays (vxlan, geneve).
 */
const TUNNEL_KINDS: ReadonlySet<string> = new Set([
  "tun",
  "wireguard",
  "ppp",
  "ipip",
  "sit",
  "ip6tnl",
  "gre",
  "gretap",
  "ip6gre",
  "ip6gretap",
  "erspan",
  "vti",
  "vti6",
  "xfrm",
  "vxlan",
  "geneve",
]);

/** up = administratively up and the link is running (carrier), as `ip link` shows UP/LOWER_UP. */
export function toNetInterface(link: LinkFields): NetInterface {
  const name = link.name ?? `if${link.index}`;
  // No carrier while administratively up (`ip link`'s NO-CARRIER: a tun whose owner is gone, a
  // veth whose peer is down): linkDown, so it is named as such.
  const adminUp = (link.flags & IFF_UP) !== 0;
  const carrier = (link.flags & (IFF_RUNNING | IFF_LOWER_UP)) !== 0;
  return {
    name,
    index: link.index,
    up: adminUp && carrier,
    tunnel: isTunnelName(name) || link.type === ARPHRD_NONE ||
      (typeof link.kind === "string" && TUNNEL_KINDS.has(link.kind)),
    pointToPoint: (link.flags & IFF_POINTOPOINT) !== 0,
    ...(adminUp && !carrier ? { linkDown: true } : {}),
  };
}

class LinuxRouteTable implements RouteTable {
  #socket: NetlinkSocket | null = null;
  #seq = Math.floor(Math.random() * 0x7fff_0000) + 1;
  /** Requests run one at a time on the one socket, so replies can never be read by another. */
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(readonly timeoutMs: number) {}

  /** Changes are announced as ip(8) would be given them: `ip route add default via ...`. */
  commandText(verb: "add" | "delete", route: DefaultRoute): string {
    return ipRouteCommandText(verb, route);
  }

  #requestSocket(): NetlinkSocket {
    if (this.#closed) throw new RouteTableError("io", "the route table is closed");
    this.#socket ??= openSocket(0, 0);
    return this.#socket;
  }

  /**
   * Build an add and a delete request and decode an ack, sending nothing. V8 compiles each
   * function on its first call, and libc's if_nametoindex is bound on its first use: without
   * this, a restore's first add paid ~1 ms for it between CMD's exit and the restored default
   * (tests/bench/restore_bench.ts). Only `run` calls it (its restore is timed from CMD's exit);
   * a `save` or `restore` process would pay it for nothing.
   */
  warm(): void {
    const sample: DefaultRoute = {
      family: 4,
      gateway: "192.0.2.1", // TEST-NET-1 (RFC 5737)
      interface: "lo",
      index: 0,
      scoped: false,
      flags: 0,
      metric: 0,
    };
    try {
      const add = encodeAddDefaultRoute(1, this.#request(sample, false));
      encodeDeleteDefaultRoute(1, this.#request(sample, true));
      decodeMessages(ackOf(add));
    } catch {
      // Only a rehearsal (no "lo" in this namespace?): the real request reports its own errors.
    }
  }

  /**
   * Send one request and collect its answer: the messages of a dump until NLMSG_DONE, or
   * nothing for an ack. Replies are matched by nlmsg_seq; a reply to an earlier request that
   * timed out is dropped.
   */
  #exchange(
    what: string,
    build: (seq: number) => Uint8Array,
    dump: DumpReading = {},
  ): Promise<NetlinkMessage[]> {
    const run = async () => {
      // A dump that may be left early runs on a socket of its own, closed afterwards: a socket
      // with a dump in progress refuses the next one (EBUSY), and the request socket, whose
      // port id names this process's changes (#isOwnPort), stays as it is.
      const oneOff = dump.enough !== undefined;
      const socket = oneOff ? this.#oneOffSocket() : this.#requestSocket();
      try {
        return await this.#collect(socket, what, build, dump);
      } finally {
        if (oneOff) socket.close();
      }
    };
    const result = this.#queue.then(run, run);
    this.#queue = result.catch(() => undefined);
    return result;
  }

  #oneOffSocket(): NetlinkSocket {
    if (this.#closed) throw new RouteTableError("io", "the route table is closed");
    return openSocket(0, 0);
  }

  async #collect(
    socket: NetlinkSocket,
    what: string,
    build: (seq: number) => Uint8Array,
    dump: DumpReading,
  ): Promise<NetlinkMessage[]> {
    const seq = this.#seq = (this.#seq % 0x7fff_fffe) + 1;
    if (TRACING) trace(`send: ${what}`);
    try {
      socket.send(build(seq));
    } catch (error) {
      throw asRouteError(what, error);
    }
    const deadline = Date.now() + this.timeoutMs;
    const collected: NetlinkMessage[] = [];
    for (;;) {
      let datagram: Uint8Array | null;
      try {
        datagram = socket.receiveNow();
      } catch (error) {
        throw asRouteError(what, error);
      }
      if (!datagram) {
        const left = deadline - Date.now();
        if (left <= 0) {
          throw new RouteTableError(
            "timeout",
            `${what}: no answer from the kernel within ${this.timeoutMs} ms`,
          );
        }
        await socket.readable(Math.min(left, 250));
        continue;
      }
      for (const message of decodeMessages(datagram, dump.routePrefixes).messages) {
        if (message.header.seq !== seq) continue;
        if (message.kind === "error") {
          if (TRACING) trace(`answer: ${what}`);
          if (message.errno === 0) return collected;
          const name = errnoName(message.errno);
          const kind = errorKindOfErrno(name);
          throw new RouteTableError(
            kind,
            `${what}: ${name} (${MEANING[kind] ?? "failed"})`,
            name,
            "rtnetlink",
          );
        }
        if (message.kind === "done") {
          if (TRACING) trace(`answer: ${what}`);
          return collected;
        }
        collected.push(message);
      }
      if (dump.enough?.(datagram, seq)) {
        // The rest of the dump cannot matter: leave it unread (the caller closes the socket).
        if (TRACING) trace(`answer: ${what} (dump left early)`);
        return collected;
      }
    }
  }

  /** The request socket's port id, learnt when a change names it (autobind gives it on the
   * first send: the pid if no other socket of this process has it, else a made-up one). */
  #requestPort: number | null = null;

  /** Whether a netlink port id is this process's: its pid, or the request socket's port. */
  readonly #isOwnPort = (port: number): boolean => {
    if (port === Deno.pid) return true;
    if (this.#requestPort === null && this.#socket !== null) {
      try {
        const bound = this.#socket.portId();
        if (bound !== 0) this.#requestPort = bound;
      } catch {
        return false; // cannot tell: not claimed as ours
      }
    }
    return port === this.#requestPort;
  };

  async #links(): Promise<LinkFields[]> {
    const messages = await this.#exchange("list interfaces", encodeLinkDumpRequest);
    return messages.flatMap((m) => m.kind === "link" ? [m.link] : []);
  }

  async defaults(family: Family): Promise<DefaultRoute[]> {
    const messages = await this.#exchange(
      `list IPv${family} routes`,
      (seq) => encodeRouteDumpRequest(seq, familyCode(family)),
      family === 4 ? IPV4_DEFAULTS_DUMP : { routePrefixes: DEFAULT_PREFIXES },
    );
    return messages
      .flatMap((m) =>
        m.kind === "route" && m.header.type === RTM_NEWROUTE &&
          m.route.family === familyCode(family) && isMainDefault(m.route)
          ? [toDefaultRoute(m.route, this.#namesOf(m.route))]
          : []
      )
      .sort((a, b) => (a.metric ?? 0) - (b.metric ?? 0));
  }

  /** What may carry traffic besides the main table's defaults (RouteTable.carriers): one route
   * dump scanned by its headers for prefixes 0-8 and one rule dump (a handful of rules). */
  async carriers(family: Family): Promise<Carriers> {
    const routes = await this.#exchange(
      `list IPv${family} routes of prefix 0-8`,
      (seq) => encodeRouteDumpRequest(seq, familyCode(family)),
      { routePrefixes: CARRIER_PREFIXES },
    );
    const rules = await this.#exchange(
      `list IPv${family} rules`,
      (seq) => encodeRuleDumpRequest(seq, familyCode(family)),
    );
    return carriersOf(family, routes, rules, interfaceName);
  }

  /** The output interface's name by libc's if_indextoname (no link dump per route read). */
  #namesOf(route: RouteFields): ReadonlyMap<number, string> {
    const index = route.oif ?? 0;
    const name = interfaceName(index);
    return name === null ? new Map() : new Map([[index, name]]);
  }

  /** Resolve a route to request fields; the interface name wins over a possibly stale index. */
  #request(route: DefaultRoute, forDelete: boolean): DefaultRouteRequest {
    const text = describeDefault(route);
    let oif = route.index > 0 ? route.index : 0;
    if (route.interface) {
      const found = interfaceIndex(route.interface);
      if (found === 0) {
        throw forDelete
          ? new RouteTableError("not-found", `${text}: no interface ${route.interface}`)
          : new RouteTableError("no-interface", `${text}: no interface named ${route.interface}`);
      }
      oif = found;
    }
    let gateway: Uint8Array | null = null;
    if (route.gateway) {
      const bytes = addressBytes(route.gateway, route.family);
      if (!bytes.ok) throw new RouteTableError("invalid", `${text}: ${bytes.error}`);
      gateway = bytes.value;
      // fe80::/10 is only meaningful with an interface (there is no KAME embedding on Linux).
      if (route.family === 6 && gateway[0] === 0xfe && (gateway[1]! & 0xc0) === 0x80 && !oif) {
        throw new RouteTableError("invalid", `${text}: a link-local gateway needs an interface`);
      }
    }
    if (!gateway && !oif && !forDelete) {
      throw new RouteTableError("invalid", `${text}: needs a gateway or an interface`);
    }
    return { family: route.family, gateway, oif, priority: route.metric ?? null };
  }

  async add(route: DefaultRoute): Promise<void> {
    const request = this.#request(route, false);
    await this.#exchange(
      `add ${describeDefault(route)}`,
      (seq) => encodeAddDefaultRoute(seq, request),
    );
  }

  async delete(route: DefaultRoute): Promise<void> {
    const request = this.#request(route, true);
    await this.#exchange(
      `delete ${describeDefault(route)}`,
      (seq) => encodeDeleteDefaultRoute(seq, request),
    );
  }

  async interfaces(): Promise<NetInterface[]> {
    const links = await this.#links();
    return links.map(toNetInterface).sort((a, b) => a.index - b.index);
  }

  /** RTM_GETADDR dump: every interface's own addresses (IFA_LOCAL, else IFA_ADDRESS). */
  async addresses(): Promise<InterfaceAddress[]> {
    const messages = await this.#exchange("list addresses", encodeAddressDumpRequest);
    const out: InterfaceAddress[] = [];
    for (const m of messages) {
      if (m.kind !== "address" || m.address.local === null) continue;
      const { family: code, local, prefixLength, index } = m.address;
      const family = code === AF_INET ? 4 : code === AF_INET6 ? 6 : null;
      const address = addressText(local);
      if (family === null || address === null) continue;
      out.push({ family, address, prefix: prefixLength, interface: interfaceName(index), index });
    }
    return out;
  }

  events(signal: AbortSignal): AsyncIterable<RouteEvent> {
    return this.#events(signal);
  }

  async *#events(signal: AbortSignal): AsyncGenerator<RouteEvent> {
    // Subscribe before reading the link list, so no change between the two is lost.
    const socket = openSocket(RTMGRP_LINK | RTMGRP_IPV4_ROUTE | RTMGRP_IPV6_ROUTE, 1 << 20);
    try {
      const known = new Map<number, NetInterface>();
      for (const link of await this.#links()) known.set(link.index, toNetInterface(link));
      while (!signal.aborted) {
        let datagram: Uint8Array | null;
        try {
          datagram = socket.receiveNow();
        } catch (error) {
          // ENOBUFS: the kernel dropped multicasts because we were slow; state must be re-read.
          if (error instanceof LibcError && error.errnoName === "ENOBUFS") {
            yield { kind: "overflow" };
            continue;
          }
          throw asRouteError("read routing events", error);
        }
        if (!datagram) {
          // Short waits so an abort is noticed promptly; poll runs off the main thread.
          const ready = await socket.readable(200);
          if (TRACING && ready) trace("event: poll returned");
          continue;
        }
        if (TRACING) trace("event: datagram read");
        for (const message of decodeMessages(datagram, DEFAULT_PREFIXES).messages) {
          const event = toEvent(message, known, this.#isOwnPort);
          if (event) yield event;
        }
      }
    } finally {
      socket.close();
    }
  }

  close(): void {
    this.#closed = true;
    this.#socket?.close();
    this.#socket = null;
  }
}

/** include/linux/threads.h PID_MAX_LIMIT on 64-bit: no process id is larger. A netlink port id
 * above it is one netlink_autobind made up (a process's second socket), not a pid. */
export const PID_MAX_LIMIT = 4 * 1024 * 1024;

/** Who sent a route change, from the sender's netlink port id (nlmsg_pid of the multicast). */
export function actorOfPort(
  port: number,
  isOwnPort: (port: number) => boolean,
): Pick<Extract<RouteEvent, { kind: "route" }>, "pid" | "self" | "port"> {
  // 0: the kernel itself (an interface went away and took its routes).
  if (port === 0) return { pid: null };
  if (isOwnPort(port)) return { pid: Deno.pid, self: true };
  // A process's first netlink socket is bound to its pid; any other port is made up.
  return port <= PID_MAX_LIMIT ? { pid: port } : { pid: null, port };
}

/** A kernel multicast -> a RouteEvent, updating the interface map; null when not reported.
 * `isOwnPort` says whether a netlink port id is one of this process's sockets. */
export function toEvent(
  message: NetlinkMessage,
  known: Map<number, NetInterface>,
  isOwnPort: (port: number) => boolean = () => false,
): RouteEvent | null {
  if (message.kind === "route") {
    const { header, route } = message;
    if (header.type !== RTM_NEWROUTE && header.type !== RTM_DELROUTE) return null;
    if (!isMainDefault(route)) return null;
    const names = new Map([...known].map(([index, i]) => [index, i.name]));
    return {
      kind: "route",
      action: header.type === RTM_DELROUTE
        ? "delete"
        : (header.flags & NLM_F_REPLACE) !== 0
        ? "change"
        : "add",
      route: toDefaultRoute(route, names),
      // For a change a process requested, the kernel stamps the requester's netlink port id,
      // which for a process's first netlink socket is its pid; 0 means the kernel itself.
      ...actorOfPort(header.pid, isOwnPort),
      error: null,
    };
  }
  if (message.kind === "link") {
    const { header, link } = message;
    if (link.family !== AF_UNSPEC && header.type === RTM_NEWLINK) {
      // Bridge-family (AF_BRIDGE) echoes of a port change: not an interface change.
      return null;
    }
    const now = toNetInterface(link);
    const before = known.get(link.index);
    if (header.type === RTM_DELLINK) {
      known.delete(link.index);
      return { kind: "link", action: "gone", interface: before ?? now };
    }
    if (header.type !== RTM_NEWLINK) return null;
    known.set(link.index, now);
    if (!before) return { kind: "link", action: "new", interface: now };
    if (before.up !== now.up) {
      return { kind: "link", action: now.up ? "up" : "down", interface: now };
    }
    return null;
  }
  return null;
}

/** The kernel's ack of `request`: NLMSG_ERROR with error 0 and the request's header. */
function ackOf(request: Uint8Array): Uint8Array {
  const ack = new Uint8Array(NLMSG_HDRLEN + NLMSGERR_MIN_LEN);
  const view = new DataView(ack.buffer);
  view.setUint32(0, ack.length, true); // nlmsg_len
  view.setUint16(4, NLMSG_ERROR, true); // nlmsg_type
  view.setUint32(8, new DataView(request.buffer, request.byteOffset).getUint32(8, true), true);
  ack.set(request.subarray(0, NLMSG_HDRLEN), NLMSG_HDRLEN + 4); // error 0, then the header
  return ack;
}

function openSocket(groups: number, receiveBuffer: number): NetlinkSocket {
  try {
    return new NetlinkSocket(groups, receiveBuffer);
  } catch (error) {
    throw asRouteError("open a netlink socket", error);
  }
}

function asRouteError(what: string, error: unknown): RouteTableError {
  if (error instanceof RouteTableError) return error;
  if (error instanceof LibcError) {
    // The socket or a send/recv failed: not an answer (those are NLMSG_ERROR, #exchange).
    const kind = errorKindOfSyscallErrno(error.errnoName);
    return new RouteTableError(
      kind,
      `${what}: ${error.describe()}`,
      error.errnoName,
      error.syscall,
    );
  }
  return new RouteTableError("io", `${what}: ${error instanceof Error ? error.message : error}`);
}
