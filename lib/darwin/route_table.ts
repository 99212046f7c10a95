/**
 * The RouteTable (lib/core/model/route_table.ts) of macOS, over a PF_ROUTE socket.
 *
 * - defaults: RTM_GET of the default without RTF_IFSCOPE for the global one. Because of the
 *   kernel's "dontcare" resolution (docs/macos-routing-socket.md §5.2) that GET can answer with the
 * default *scoped*
 *   to the primary interface, so RTF_IFSCOPE is checked in the reply and then the global one is
 *   taken from a NET_RT_DUMP sysctl, which also lists every scoped default.
 * - add: configd's message (ip_plugin.c IPv4RouteApply): flags UP|GATEWAY|STATIC, a full-length
 *   all-zero netmask, then IFP as a sockaddr_dl with sdl_index, so the kernel pins the route to
 *   that interface (rtsock.c route_output -> rt_setif). route(8)'s zero-length netmask would end
 *   the kernel's parse before IFP, leaving the interface to the route that covers the gateway,
 *   which can be a VPN's (docs/macos-routing-socket.md §10.3). RTF_IFSCOPE + rtm_index for a
 *   scoped route, a link-local IPv6 gateway with the interface index embedded KAME-style (§3.6).
 * - delete: route(8)'s message; it matches exactly: unscoped deletes only the global default,
 *   scoped only that interface's.
 * - every request carries our pid, and a request whose reply never came (a full receive buffer
 *   drops it silently) is sent once more; an ADD only after a re-read shows it did not land.
 * - interfaces: NET_RT_IFLIST; up = IFF_UP && IFF_RUNNING.
 * - events: a monitor socket; default-route add/delete/change with rtm_pid as the actor and
 *   rtm_errno as the error; RTM_IFINFO as interface new/up/down/gone.
 *
 * The OS is behind RouteSystem (./route_socket.ts): libSystem through FFI in production, an
 * in-process simulated kernel in tests.
 */
import { RouteTableError } from "../core/model/errors.ts";
import type { RouteTable } from "../core/model/route_table.ts";
import {
  type Carriers,
  type DefaultRoute,
  type Family,
  type InterfaceAddress,
  isTunnelName,
  type NetInterface,
  type RouteEvent,
  type WideRoute,
} from "../core/model/types.ts";
import {
  AF_INET,
  AF_INET6,
  CTL_NET,
  decodeMessage,
  decodeMessages,
  defaultRouteRequest,
  encodeRouteMessage,
  IFF_POINTOPOINT,
  IFF_RUNNING,
  IFF_UP,
  NET_RT_DUMP,
  NET_RT_IFLIST,
  PF_ROUTE,
  type PrefixLengths,
  prefixLengths,
  type RouteMessage,
  type RoutingMessage,
  RTF_DONE,
  RTF_GATEWAY,
  RTF_IFSCOPE,
  RTF_STATIC,
  RTF_UP,
  RTM_ADD,
  RTM_CHANGE,
  RTM_DELADDR,
  RTM_DELETE,
  RTM_GET,
  RTM_IFINFO,
  RTM_NEWADDR,
  type Sockaddr,
} from "./route_message.ts";
import { errnoName, SyscallError } from "./errno.ts";
import { errorKindOfSyscallErrno } from "../core/model/errors.ts";
import { sameGateway } from "../core/model/gateway_address.ts";
import {
  monitorMessages,
  type MonitorStats,
  RouteRequester,
  type RouteSystem,
  type RouteTransport,
} from "./route_socket.ts";
import { libSystemPath, LibSystemRouteSystem } from "./libsystem.ts";
import { simulatorSocket } from "../core/trust/override_path.ts";

export interface DarwinRouteTableOptions {
  /** Per-request reply deadline (default 2000 ms); a request that times out is sent once more. */
  timeoutMs?: number;
  /** SO_RCVBUF of the events() socket (default 1 MiB). */
  monitorBufferBytes?: number;
}

/** The routes defaults() decodes out of a dump: prefix length 0. */
const DEFAULT_PREFIXES: PrefixLengths = prefixLengths([0]);
/** The routes carriers() decodes: prefix length 1 to 8 (0/1 + 128/1, sing-tun's split ranges). */
const WIDE_PREFIXES: PrefixLengths = prefixLengths([1, 2, 3, 4, 5, 6, 7, 8]);

/**
 * SO_RCVBUF of the request socket. It hears every process's routing traffic; at the default 8 KiB
 * a burst between our write and our read can push our own reply out, silently (xnu
 * bsd/net/raw_usrreq.c raw_input ignores sbappendaddr's ENOBUFS). Queued traffic is drained before
 * each request, so a bigger buffer costs nothing while idle.
 */
export const REQUEST_BUFFER_BYTES = 64 * 1024;

/** Is this decoded address the all-zero address of an inet family? */
function isAnyAddress(sa: Sockaddr | undefined): boolean {
  if (!sa) return false;
  if (sa.family === "inet4") return sa.address === "0.0.0.0";
  if (sa.family === "inet6") return sa.address === "::";
  return false;
}

/** A default route message: DST all-zero with a netmask that is all-zero (any encoding, §3.4). */
export function isDefaultRouteMessage(message: RouteMessage): boolean {
  const { dst, netmask } = message.addrs;
  if (!isAnyAddress(dst)) return false;
  // No netmask is a host route (RTF_HOST, 0.0.0.0/32), not the default (§3.3).
  if (!netmask) return false;
  return netmask.family === "empty" || isAnyAddress(netmask);
}

function familyOfMessage(message: RouteMessage): Family | null {
  const dst = message.addrs.dst;
  return dst?.family === "inet4" ? 4 : dst?.family === "inet6" ? 6 : null;
}

/** A darwin RouteTable over any RouteSystem. */
export class DarwinRouteTable implements RouteTable, Disposable {
  readonly #system: RouteSystem;
  readonly #options: DarwinRouteTableOptions;
  #socket: RouteTransport | null = null;
  #requester: RouteRequester | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Index -> name of every interface seen (names outlive their interfaces, for "gone"). */
  readonly #names = new Map<number, string>();
  /** Counters of the last events() monitor, for tests and `-v`. */
  readonly monitorStats: MonitorStats = { received: 0, garbage: 0 };

  constructor(system: RouteSystem, options: DarwinRouteTableOptions = {}) {
    this.#system = system;
    this.#options = options;
  }

  /** The request/reply side, opened on first use. */
  get requester(): RouteRequester {
    if (this.#closed) throw new RouteTableError("io", "route table is closed");
    if (!this.#requester) {
      try {
        this.#socket = this.#system.openSocket();
      } catch (error) {
        throw asRouteError(error, "open a routing socket");
      }
      try {
        this.#socket.setReceiveBuffer(REQUEST_BUFFER_BYTES);
      } catch {
        // Best effort: the retry after a timeout still covers a reply lost to overflow.
      }
      this.#requester = new RouteRequester(this.#socket, { timeoutMs: this.#options.timeoutMs });
    }
    return this.#requester;
  }

  /**
   * One request at a time on the shared socket: replies are matched by seq. A request whose reply
   * did not come is sent once more when `retry` (GET and DELETE: asking twice is harmless; a
   * DELETE that had landed answers ESRCH the second time, which callers take as "gone").
   */
  #request(message: Uint8Array, retry = true): Promise<RouteMessage> {
    const run = this.#queue.then(async () => {
      let bytes: Uint8Array;
      try {
        bytes = await this.requester.request(message);
      } catch (error) {
        if (!retry || !(error instanceof RouteTableError && error.kind === "timeout")) throw error;
        bytes = await this.requester.request(message);
      }
      const decoded = decodeMessage(bytes);
      if (!decoded.ok || decoded.message.kind !== "route") {
        throw new RouteTableError("io", "the kernel's reply could not be decoded");
      }
      return decoded.message;
    });
    this.#queue = run.catch(() => {});
    return run;
  }

  #sysctl(mib: readonly number[]): Uint8Array {
    try {
      return this.#system.sysctl(mib);
    } catch (error) {
      throw asRouteError(error, sysctlPurpose(mib));
    }
  }

  #interfaceName(index: number): string | null {
    if (index === 0) return null;
    const name = this.#system.interfaceName(index) ?? this.#names.get(index) ?? null;
    if (name) this.#names.set(index, name);
    return name;
  }

  #toDefaultRoute(family: Family, message: RouteMessage): DefaultRoute {
    const gateway = message.addrs.gateway;
    const ifp = message.addrs.ifp;
    const ifpName = ifp?.family === "link" && ifp.name ? ifp.name : null;
    // The echo of a configd-form ADD is the sender's bytes: rtm_index 0 for an unscoped route,
    // the interface only as IFP's sdl_index, usually without a name (docs/macos-routing-socket.md
    // §10.7).
    const index = message.index || (ifp?.family === "link" ? ifp.index : 0);
    return {
      family,
      gateway: gateway?.family === "inet4" || gateway?.family === "inet6" ? gateway.address : null,
      interface: ifpName ?? this.#interfaceName(index),
      index,
      scoped: (message.flags & RTF_IFSCOPE) !== 0,
      // RTF_DONE marks the message (a reply), not the route.
      flags: (message.flags & ~RTF_DONE) >>> 0,
    };
  }

  async defaults(family: Family): Promise<DefaultRoute[]> {
    let global: DefaultRoute | null = null;
    let dontcareAnsweredScoped = false;
    try {
      const reply = await this.#request(
        encodeRouteMessage(defaultRouteRequest({ type: RTM_GET, family, seq: 0, form: "route8" })),
      );
      if (reply.flags & RTF_IFSCOPE) dontcareAnsweredScoped = true;
      else global = this.#toDefaultRoute(family, reply);
    } catch (error) {
      if (!(error instanceof RouteTableError && error.kind === "not-found")) throw error;
    }
    const af = family === 4 ? AF_INET : AF_INET6;
    // Only the /0 routes are decoded: every other route of the dump is stepped over by its
    // header and sockaddr lengths, so a 100,000-route table costs a few milliseconds (issue 15).
    const dump = decodeMessages(
      this.#sysctl([CTL_NET, PF_ROUTE, 0, af, NET_RT_DUMP, 0]),
      DEFAULT_PREFIXES,
    );
    const scoped: DefaultRoute[] = [];
    for (const message of dump.messages) {
      if (message.kind !== "route" || familyOfMessage(message) !== family) continue;
      if (!isDefaultRouteMessage(message)) continue;
      const route = this.#toDefaultRoute(family, message);
      if (route.scoped) scoped.push(route);
      else if (dontcareAnsweredScoped && !global) global = route;
    }
    scoped.sort((a, b) => a.index - b.index);
    return global ? [global, ...scoped] : scoped;
  }

  /**
   * Routes of prefix length 1 to 8 (RouteTable.carriers): one NET_RT_DUMP, every other route
   * stepped over by its header and sockaddr lengths. macOS has no policy rules to report.
   */
  carriers(family: Family): Promise<Carriers> {
    const af = family === 4 ? AF_INET : AF_INET6;
    const dump = decodeMessages(
      this.#sysctl([CTL_NET, PF_ROUTE, 0, af, NET_RT_DUMP, 0]),
      WIDE_PREFIXES,
    );
    const wide: WideRoute[] = [];
    for (const message of dump.messages) {
      if (message.kind !== "route" || familyOfMessage(message) !== family) continue;
      const { dst, netmask } = message.addrs;
      const prefix = netmask && "prefixLength" in netmask ? netmask.prefixLength : undefined;
      if (prefix === undefined || prefix < 1 || prefix > 8) continue;
      if (dst?.family !== "inet4" && dst?.family !== "inet6") continue;
      const ifp = message.addrs.ifp;
      wide.push({
        family,
        destination: dst.address,
        prefix,
        interface: (ifp?.family === "link" && ifp.name) || this.#interfaceName(message.index),
        index: message.index,
        scoped: (message.flags & RTF_IFSCOPE) !== 0,
      });
    }
    return Promise.resolve({ wide, policies: [], suppressMainDefault: null });
  }

  /** The interface index to use: by name when there is one (an index saved earlier can be stale:
   * a USB adapter or a utun re-created gets a new one), else the index given. */
  #indexOf(route: DefaultRoute): number {
    if (!route.interface) return route.index;
    const index = this.#system.interfaceIndex(route.interface);
    if (index === 0) {
      throw new RouteTableError("no-interface", `no interface named ${route.interface}`, "ENXIO");
    }
    return index;
  }

  #message(type: number, route: DefaultRoute): Uint8Array {
    // DELETE matches destination + mask + scope only (docs/macos-routing-socket.md §5.2): the
    // gateway plays no part. An ADD names its interface whenever it is known, to pin the route
    // there.
    const needsIndex = route.scoped ||
      (type !== RTM_DELETE &&
        (route.gateway === null || (route.family === 6 && isLinkLocal(route.gateway))));
    const pins = type === RTM_ADD && (route.interface !== null || route.index > 0);
    const index = needsIndex || pins ? this.#indexOf(route) : 0;
    if (needsIndex && index === 0) {
      throw new RouteTableError(
        "invalid",
        route.scoped
          ? "a scoped default needs its interface"
          : "a link-local or interface gateway needs its interface",
      );
    }
    const ifscope = route.scoped ? index : undefined;
    const form = type === RTM_ADD && index > 0 ? "configd" : "route8";
    const init = defaultRouteRequest({
      type,
      family: route.family,
      gateway: type === RTM_DELETE ? undefined : route.gateway ?? undefined,
      zone: route.family === 6 && route.gateway && isLinkLocal(route.gateway) ? index : undefined,
      ifscope,
      seq: 0,
      form,
      ...(form === "configd" ? { ifpIndex: index } : {}),
      // An interface route (macOS `link#N` gateway): GATEWAY is the interface's sockaddr_dl and
      // RTF_GATEWAY is not set (route(8) -interface).
      flags: route.gateway === null && type === RTM_ADD
        ? RTF_UP | RTF_STATIC
        : RTF_UP | RTF_GATEWAY | RTF_STATIC,
    });
    if (type === RTM_ADD && route.gateway === null) {
      init.addrs = { ...init.addrs, gateway: { family: "link", index } };
    }
    return encodeRouteMessage(init);
  }

  /**
   * The first-call work of a change, done before it is timed: binding the libSystem symbols a
   * request uses (bound on first use) and V8's compilation of the encoder. Only `run` calls it,
   * before CMD starts, so the restore after CMD's exit pays none of it; `save` and `restore`
   * processes would pay it for nothing. Opens no socket (one open while CMD runs would queue
   * every routing message of CMD's lifetime), sends nothing, never throws.
   */
  warm(): void {
    const sample: DefaultRoute = {
      family: 4,
      gateway: "192.0.2.1", // TEST-NET-1 (RFC 5737)
      interface: "lo0",
      index: 1,
      scoped: false,
      flags: 0,
    };
    try {
      this.#system.warm?.();
      this.#message(RTM_ADD, sample);
      this.#message(RTM_DELETE, sample);
    } catch {
      // Only a rehearsal: the real request reports its own errors.
    }
  }

  /**
   * RTM_ADD. When no reply comes (lost to a full buffer), the table is read again: a route that
   * landed is done; otherwise the ADD is sent once more. Sending it blindly could answer EEXIST
   * for our own route and read as "someone else restored it".
   */
  async add(route: DefaultRoute): Promise<void> {
    const message = this.#message(RTM_ADD, route);
    try {
      await this.#request(message, false);
    } catch (error) {
      if (!(error instanceof RouteTableError && error.kind === "timeout")) throw error;
      if (await this.#landed(route)) return;
      await this.#request(message, false);
    }
  }

  /** Whether the table now holds `route`: same scope, gateway and interface. */
  async #landed(route: DefaultRoute): Promise<boolean> {
    const index = route.interface === null ? route.index : this.#system.interfaceIndex(
      route.interface,
    );
    return (await this.defaults(route.family)).some((r) =>
      r.scoped === route.scoped && sameGateway(route.family, r.gateway, route.gateway) &&
      (index === 0 || r.index === index)
    );
  }

  async delete(route: DefaultRoute): Promise<void> {
    await this.#request(this.#message(RTM_DELETE, route));
  }

  interfaces(): Promise<NetInterface[]> {
    const list = decodeMessages(this.#sysctl([CTL_NET, PF_ROUTE, 0, 0, NET_RT_IFLIST, 0]));
    const out: NetInterface[] = [];
    for (const message of list.messages) {
      if (message.kind !== "interface") continue;
      const ifp = message.addrs.ifp;
      const name = (ifp?.family === "link" && ifp.name) || this.#interfaceName(message.index);
      if (!name) continue;
      this.#names.set(message.index, name);
      out.push(netInterface(name, message.index, message.flags));
    }
    return Promise.resolve(out);
  }

  /** The interfaces' own addresses: the RTM_NEWADDR messages of the NET_RT_IFLIST dump (ifa =
   * the address, netmask = its subnet; rtsock.c sysctl_iflist). */
  addresses(): Promise<InterfaceAddress[]> {
    const list = decodeMessages(this.#sysctl([CTL_NET, PF_ROUTE, 0, 0, NET_RT_IFLIST, 0]));
    const out: InterfaceAddress[] = [];
    for (const message of list.messages) {
      if (message.kind !== "address") continue;
      const { ifa, netmask } = message.addrs;
      if (ifa?.family !== "inet4" && ifa?.family !== "inet6") continue;
      const family = ifa.family === "inet4" ? 4 : 6;
      const maskFamily = netmask?.family === "inet4" || netmask?.family === "inet6";
      const prefix = maskFamily ? netmask.prefixLength ?? null : null;
      out.push({
        family,
        address: ifa.address,
        // A missing netmask is a host address (rtsock.c leaves it out when there is none).
        prefix: prefix ?? (family === 4 ? 32 : 128),
        interface: this.#interfaceName(message.index),
        index: message.index,
      });
    }
    return Promise.resolve(out);
  }

  async *events(signal: AbortSignal): AsyncIterable<RouteEvent> {
    let transport: RouteTransport;
    try {
      transport = this.#system.openSocket();
    } catch (error) {
      throw asRouteError(error, "open a routing socket to watch");
    }
    const known = new Map<number, NetInterface>();
    try {
      for (const iface of await this.interfaces()) known.set(iface.index, iface);
      const decode = (bytes: Uint8Array): RoutingMessage | null => {
        // A datagram whose rtm_msglen is not its length is the echo of a request route_output
        // refused for exactly that (EINVAL): the sender's bytes, untouched, with neither
        // rtm_errno nor RTF_DONE (xnu bsd/net/rtsock.c route_output 352-356 and flush:). Nothing
        // changed; read as a message it would look like an ADD that happened.
        if (bytes.length < 2 || (bytes[0]! | (bytes[1]! << 8)) !== bytes.length) return null;
        const result = decodeMessage(bytes);
        return result.ok ? result.message : null;
      };
      const messages = monitorMessages(transport, decode, signal, this.monitorStats, {
        receiveBufferBytes: this.#options.monitorBufferBytes,
      });
      for await (const message of messages) {
        const event = this.#eventOf(message, known, transport.pid);
        if (event) yield event;
      }
    } finally {
      transport.close();
    }
  }

  /** `ownPid`: the rtm_pid the kernel stamps on this process's own requests (rtsock.c
   * route_output: `rtm->rtm_pid = proc_selfpid()`), which names defroute's own changes. */
  #eventOf(
    message: RoutingMessage,
    known: Map<number, NetInterface>,
    ownPid: number,
  ): RouteEvent | null {
    const ifp = message.addrs.ifp;
    if (ifp?.family === "link" && ifp.name) this.#names.set(message.index, ifp.name);
    if (message.kind === "route") {
      const action = message.type === RTM_ADD
        ? "add"
        : message.type === RTM_DELETE
        ? "delete"
        : message.type === RTM_CHANGE
        ? "change"
        : null;
      const family = familyOfMessage(message);
      if (!action || family === null || !isDefaultRouteMessage(message)) return null;
      return {
        kind: "route",
        action,
        route: this.#toDefaultRoute(family, message),
        // rtm_pid 0: the kernel itself (an interface went away).
        pid: message.pid === 0 ? null : message.pid,
        ...(message.pid !== 0 && message.pid === ownPid ? { self: true } : {}),
        error: message.errno === 0 ? null : errnoName(message.errno),
      };
    }
    if (message.kind === "interface" && message.type === RTM_IFINFO) {
      const before = known.get(message.index);
      const currentName = this.#system.interfaceName(message.index);
      if (currentName === null) {
        // The index no longer resolves: the interface is gone (utun closed). Reported once,
        // whether its RTM_DELADDR or its RTM_IFINFO is read first.
        return before ? this.#gone(before, known) : null;
      }
      const iface = netInterface(currentName, message.index, message.flags);
      known.set(message.index, iface);
      if (!before) return { kind: "link", action: "new", interface: iface };
      if (before.up === iface.up) return null;
      return { kind: "link", action: iface.up ? "up" : "down", interface: iface };
    }
    if (
      message.kind === "address" && (message.type === RTM_DELADDR || message.type === RTM_NEWADDR)
    ) {
      const before = known.get(message.index);
      const current = this.#system.interfaceName(message.index);
      if (message.type === RTM_DELADDR && before && current === null) {
        return this.#gone(before, known);
      }
      // Reported even for an interface already gone: after a detach, its IPv6 routes go once
      // these are sent (xnu bsd/net/dlil.c ifnet_detach_final), and the loop reads again.
      const name = before?.name ?? current ?? (ifp?.family === "link" ? ifp.name : null);
      if (!name) return null;
      const ifa = message.addrs.ifa;
      return {
        kind: "address",
        action: message.type === RTM_NEWADDR ? "new" : "delete",
        interface: before ??
          { name, index: message.index, up: current !== null, tunnel: isTunnelName(name) },
        address: ifa?.family === "inet4" || ifa?.family === "inet6" ? ifa.address : null,
      };
    }
    return null;
  }

  #gone(iface: NetInterface, known: Map<number, NetInterface>): RouteEvent {
    known.delete(iface.index);
    return { kind: "link", action: "gone", interface: { ...iface, up: false } };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#socket?.close();
    this.#system.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function netInterface(name: string, index: number, flags: number): NetInterface {
  return {
    name,
    index,
    up: (flags & IFF_UP) !== 0 && (flags & IFF_RUNNING) !== 0,
    tunnel: isTunnelName(name),
    // utun, ppp and ipsec are point-to-point: `ifconfig utun0` shows flags=8051<UP,POINTOPOINT,
    // RUNNING,MULTICAST>.
    pointToPoint: (flags & IFF_POINTOPOINT) !== 0,
  };
}

function isLinkLocal(address: string): boolean {
  return /^fe[89ab][0-9a-f]?:/i.test(address);
}

/**
 * The socket or sysctl itself failed (the kernel's answers to requests are route_socket.ts's):
 * one line that says what defroute was doing, the call, its errno and what that errno says. On
 * the simulated Mac (lib/core/trust/override_path.ts simulatorSocket) such a failure almost always
 * means its simulator is gone, since the stand-in libSystem answers ENOENT for a sysctl and
 * EPROTONOSUPPORT for a socket it cannot connect: the line says so first.
 */
function asRouteError(error: unknown, doing: string): unknown {
  if (!(error instanceof SyscallError)) return error;
  const failed = `cannot ${doing}: ${error.describe()}`;
  const simulator = simulatorSocket();
  return new RouteTableError(
    errorKindOfSyscallErrno(error.code),
    simulator === null ? failed : `${simulatorGone(simulator)} (${failed})`,
    error.code,
    error.syscall,
  );
}

/** Why the simulated Mac at `socket` answers nothing, and what to do about it. */
function simulatorGone(socket: string): string {
  let present = false;
  try {
    present = Deno.statSync(socket).isSocket === true;
  } catch {
    // absent
  }
  return present
    ? `the simulated Mac at ${socket} does not answer (a simulator that was killed leaves its ` +
      `socket behind); start it again with deno task simulator`
    : `the simulated Mac at ${socket} is not running; start it with deno task simulator`;
}

/** What a routing sysctl was for, in a message: "list the interfaces". */
function sysctlPurpose(mib: readonly number[]): string {
  return mib[4] === NET_RT_IFLIST ? "list the interfaces" : "read the routing table";
}

/** The darwin RouteTable of this machine: libSystem (or DEFROUTE_LIBSYSTEM) through FFI. */
export function openDarwinRouteTable(options: DarwinRouteTableOptions = {}): RouteTable {
  const path = libSystemPath();
  let system: RouteSystem;
  try {
    system = new LibSystemRouteSystem(path);
  } catch (error) {
    throw new RouteTableError(
      "io",
      `cannot load libSystem (${path}): ` +
        (error instanceof Error ? error.message : String(error)),
    );
  }
  return new DarwinRouteTable(system, options);
}
