// The pure parts of the Linux backend: errno meanings, which routes count as defaults, and how
// kernel multicasts become RouteEvents. The kernel itself is exercised in route_table_e2e_test.ts.
import { assertEquals } from "../assert.ts";
import { errorKindOfErrno, errorKindOfSyscallErrno } from "../../lib/core/model/errors.ts";
import {
  carriersOf,
  describeDefault,
  isMainDefault,
  PID_MAX_LIMIT,
  toDefaultRoute,
  toEvent,
  toNetInterface,
} from "../../lib/linux/route_table.ts";
import {
  AF_INET,
  AF_INET6,
  ARPHRD_NONE,
  FIB_RULE_INVERT,
  FR_ACT_TO_TBL,
  IFF_LOWER_UP,
  IFF_POINTOPOINT,
  IFF_RUNNING,
  IFF_UP,
  type LinkFields,
  type NetlinkMessage,
  NLM_F_REPLACE,
  type RouteFields,
  RT_TABLE_MAIN,
  RTM_DELLINK,
  RTM_DELROUTE,
  RTM_F_CLONED,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  RTM_NEWRULE,
  RTN_UNICAST,
  RTNH_F_LINKDOWN,
  type RuleFields,
} from "../../lib/linux/netlink_message.ts";
import type { NetInterface } from "../../lib/core/model/types.ts";

Deno.test("errno names map to RouteTableError kinds", () => {
  const table: [string, string][] = [
    ["EEXIST", "exists"],
    ["ESRCH", "not-found"],
    ["ENOENT", "not-found"],
    ["ENETUNREACH", "unreachable"],
    ["EPERM", "needs-root"],
    ["EACCES", "needs-root"],
    ["EINVAL", "invalid"],
    ["ENODEV", "no-interface"],
    ["ENOBUFS", "io"],
  ];
  for (const [errno, kind] of table) assertEquals(errorKindOfErrno(errno), kind, errno);
});

Deno.test("a failed system call has no route meaning: only EPERM/EACCES say needs-root", () => {
  for (const errno of ["EPERM", "EACCES"]) {
    assertEquals(errorKindOfSyscallErrno(errno), "needs-root", errno);
  }
  // The answers' meanings (errorKindOfErrno) would send restore down the wrong branch here:
  // "not-found" on a delete is taken as "gone already".
  for (const errno of ["ENOENT", "ESRCH", "EEXIST", "ENETUNREACH", "EPROTONOSUPPORT", "ENOBUFS"]) {
    assertEquals(errorKindOfSyscallErrno(errno), "io", errno);
  }
});

function route(overrides: Partial<RouteFields> = {}): RouteFields {
  return {
    family: AF_INET,
    dstLen: 0,
    srcLen: 0,
    tos: 0,
    table: RT_TABLE_MAIN,
    protocol: 3,
    scope: 0,
    type: RTN_UNICAST,
    flags: 0,
    dst: null,
    gateway: Uint8Array.of(10, 0, 0, 1),
    oif: 2,
    priority: null,
    tableId: RT_TABLE_MAIN,
    multipath: false,
    ...overrides,
  };
}

Deno.test("only unicast /0 routes of the main table, not clones, are defaults", () => {
  assertEquals(isMainDefault(route()), true);
  assertEquals(isMainDefault(route({ family: AF_INET6 })), true);
  assertEquals(isMainDefault(route({ dstLen: 8 })), false);
  assertEquals(isMainDefault(route({ family: AF_INET6, srcLen: 64 })), false);
  assertEquals(isMainDefault(route({ tableId: 51820 })), false); // wg-quick's policy table
  assertEquals(isMainDefault(route({ type: 7 })), false); // RTN_UNREACHABLE
  assertEquals(isMainDefault(route({ flags: RTM_F_CLONED })), false);
  assertEquals(isMainDefault(route({ family: 7 })), false);
});

Deno.test("a kernel route becomes a DefaultRoute with the interface name and metric", () => {
  const names = new Map([[2, "veth0"]]);
  assertEquals(toDefaultRoute(route(), names), {
    family: 4,
    gateway: "10.0.0.1",
    interface: "veth0",
    index: 2,
    scoped: false,
    flags: 0,
    metric: 0,
  });
  const v6 = toDefaultRoute(
    route({ family: AF_INET6, gateway: null, oif: 9, priority: 1024 }),
    names,
  );
  assertEquals([v6.family, v6.gateway, v6.interface, v6.index, v6.metric], [
    6,
    null,
    null,
    9,
    1024,
  ]);
  assertEquals(
    describeDefault(toDefaultRoute(route(), names)),
    "default via 10.0.0.1 dev veth0 metric 0",
  );
});

function link(index: number, name: string, flags: number, type = 1): LinkFields {
  return { family: 0, type, index, flags, change: 0, name };
}

Deno.test("interfaces: up needs IFF_UP and carrier; tunnels by name or ARPHRD_NONE", () => {
  assertEquals(toNetInterface(link(2, "veth0", IFF_UP | IFF_RUNNING | IFF_LOWER_UP)).up, true);
  assertEquals(toNetInterface(link(2, "veth0", IFF_UP)).up, false); // no carrier
  assertEquals(toNetInterface(link(2, "veth0", IFF_RUNNING)).up, false); // admin down
  assertEquals(toNetInterface(link(3, "tun0", 0)).tunnel, true);
  assertEquals(toNetInterface(link(4, "mytunnel", 0, ARPHRD_NONE)).tunnel, true);
  assertEquals(toNetInterface(link(5, "eth0", 0)).tunnel, false);
});

Deno.test("link state: IFF_UP without a carrier is linkDown (NO-CARRIER: a tun whose client died); a route the kernel marks RTNH_F_LINKDOWN is linkDown", () => {
  assertEquals(toNetInterface(link(3, "tun0", IFF_UP)).linkDown, true);
  assertEquals(toNetInterface(link(3, "tun0", IFF_UP | IFF_LOWER_UP)).linkDown, undefined);
  assertEquals(toNetInterface(link(3, "tun0", 0)).linkDown, undefined, "admin down: just down");
  assertEquals(toDefaultRoute(route({ flags: RTNH_F_LINKDOWN }), new Map()).linkDown, true);
  assertEquals(toDefaultRoute(route(), new Map()).linkDown, undefined);
});

Deno.test("interfaces: a TAP or WireGuard device of any name is a tunnel by its driver; point-to-point", () => {
  const withKind = (name: string, kind: string | null, flags = 0) => ({
    ...link(6, name, flags),
    kind,
  });
  assertEquals(toNetInterface(withKind("corp0", "tun")).tunnel, true); // Ethernet-typed TAP
  assertEquals(toNetInterface(withKind("office", "wireguard")).tunnel, true);
  assertEquals(toNetInterface(withKind("corp0", "veth")).tunnel, false);
  assertEquals(toNetInterface(withKind("eth0", null)).tunnel, false);
  assertEquals(toNetInterface(link(7, "ppp0", IFF_POINTOPOINT)).pointToPoint, true);
  assertEquals(toNetInterface(link(8, "eth0", IFF_UP)).pointToPoint, false);
});

function header(type: number, flags = 0, pid = 0) {
  return { length: 0, type, flags, seq: 0, pid };
}

Deno.test("route multicasts become events with the requester's pid", () => {
  const known = new Map<number, NetInterface>([[2, {
    name: "veth0",
    index: 2,
    up: true,
    tunnel: false,
  }]]);
  const deleted: NetlinkMessage = {
    kind: "route",
    header: header(RTM_DELROUTE, 0, 4711),
    route: route(),
  };
  const event = toEvent(deleted, known);
  assertEquals(event?.kind === "route" ? [event.action, event.pid, event.route.interface] : null, [
    "delete",
    4711,
    "veth0",
  ]);
  const added = toEvent({ kind: "route", header: header(RTM_NEWROUTE), route: route() }, known);
  assertEquals(added?.kind === "route" ? [added.action, added.pid] : null, ["add", null]);
  const replaced = toEvent(
    { kind: "route", header: header(RTM_NEWROUTE, NLM_F_REPLACE, 5), route: route() },
    known,
  );
  assertEquals(replaced?.kind === "route" ? replaced.action : null, "change");
  const notDefault = toEvent(
    { kind: "route", header: header(RTM_NEWROUTE), route: route({ dstLen: 24 }) },
    known,
  );
  assertEquals(notDefault, null);
});

Deno.test("link multicasts: new, down, up, unchanged, gone", () => {
  const known = new Map<number, NetInterface>();
  const up = IFF_UP | IFF_RUNNING | IFF_LOWER_UP;
  const message = (type: number, flags: number): NetlinkMessage => ({
    kind: "link",
    header: header(type),
    link: link(7, "tun0", flags, ARPHRD_NONE),
  });
  const actions = [
    toEvent(message(RTM_NEWLINK, 0), known),
    toEvent(message(RTM_NEWLINK, up), known),
    toEvent(message(RTM_NEWLINK, up), known),
    toEvent(message(RTM_NEWLINK, IFF_UP), known),
    toEvent(message(RTM_DELLINK, 0), known),
  ].map((e) => e?.kind === "link" ? e.action : null);
  assertEquals(actions, ["new", "up", null, "down", "gone"]);
  assertEquals(known.size, 0);
});

Deno.test("route multicasts: defroute's own sockets are named as such, a made-up port is no pid", () => {
  const known = new Map<number, NetInterface>();
  // 4281305937: the port id netlink_autobind gave defroute's second socket in issue 18's log.
  const SECOND_SOCKET = 4281305937;
  const own = (port: number): boolean => port === SECOND_SOCKET;
  const actor = (pid: number, isOwn = own) => {
    const e = toEvent(
      { kind: "route", header: header(RTM_NEWROUTE, 0, pid), route: route() },
      known,
      isOwn,
    );
    return e?.kind === "route" ? { pid: e.pid, self: e.self ?? false, port: e.port ?? null } : null;
  };
  assertEquals(actor(SECOND_SOCKET), { pid: Deno.pid, self: true, port: null });
  assertEquals(actor(4711), { pid: 4711, self: false, port: null });
  assertEquals(actor(0), { pid: null, self: false, port: null });
  // Someone else's second socket: not a process id, so not reported as one.
  assertEquals(actor(SECOND_SOCKET, () => false), { pid: null, self: false, port: SECOND_SOCKET });
  assertEquals(actor(PID_MAX_LIMIT), { pid: PID_MAX_LIMIT, self: false, port: null });
  assertEquals(actor(PID_MAX_LIMIT + 1)?.port, PID_MAX_LIMIT + 1);
});

function rule(overrides: Partial<RuleFields>): NetlinkMessage {
  return {
    kind: "rule",
    header: header(RTM_NEWRULE),
    rule: {
      family: AF_INET,
      dstLen: 0,
      srcLen: 0,
      action: FR_ACT_TO_TBL,
      flags: 0,
      table: RT_TABLE_MAIN,
      priority: 32766,
      fwmark: null,
      fwmask: null,
      suppressPrefixLength: null,
      narrowed: false,
      ...overrides,
    },
  };
}

function routeMessage(overrides: Partial<RouteFields>): NetlinkMessage {
  return { kind: "route", header: header(RTM_NEWROUTE), route: route(overrides) };
}

Deno.test("carriers: wg-quick's rules and table, OpenVPN def1's /1 routes, nothing else", () => {
  const names = new Map([[2, "veth0"], [7, "tun1"], [8, "wg0"]]);
  // `ip rule` after wg-quick up (wireguard-tools linux.bash add_default), plus one for marked
  // traffic only and one for one input interface: neither carries ordinary traffic.
  const rules = [
    rule({ priority: 0, table: 255 }),
    rule({ priority: 32764, suppressPrefixLength: 0 }),
    rule({ priority: 32765, table: 51820, fwmark: 0xca6c, flags: FIB_RULE_INVERT }),
    rule({ priority: 32766 }),
    rule({ priority: 32767, table: 253 }),
    rule({ priority: 100, table: 7, fwmark: 0x1 }),
    rule({ priority: 101, table: 8, narrowed: true }),
    rule({ priority: 102, table: 9, family: AF_INET6 }),
  ];
  const routes = [
    routeMessage({}), // main's default: defaults() reports it
    routeMessage({ tableId: 51820, table: 252, gateway: null, oif: 8 }),
    routeMessage({ dstLen: 1, dst: Uint8Array.of(0, 0, 0, 0), gateway: null, oif: 7 }),
    routeMessage({ dstLen: 1, dst: Uint8Array.of(128, 0, 0, 0), gateway: null, oif: 7 }),
    routeMessage({ dstLen: 1, dst: Uint8Array.of(128, 0, 0, 0), tableId: 9, oif: 7 }), // not main
    routeMessage({ dstLen: 8, dst: Uint8Array.of(10, 0, 0, 0), type: 2, oif: 7 }), // local type
  ];
  const got = carriersOf(4, routes, rules, (i: number) => names.get(i) ?? null);
  assertEquals(got.suppressMainDefault, 32764);
  assertEquals(
    got.wide.map((w) => [w.destination, w.prefix, w.interface]),
    [["0.0.0.0", 1, "tun1"], ["128.0.0.0", 1, "tun1"]],
  );
  assertEquals(got.policies.map((p) => [p.priority, p.table, p.selector, p.beforeMain]), [
    [32765, 51820, "not fwmark 0xca6c", true],
  ]);
  assertEquals(got.policies[0]?.defaults.map((d) => [d.gateway, d.interface]), [[null, "wg0"]]);
});
