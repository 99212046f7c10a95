/**
 * The simulated XNU kernel against the byte layouts and rules of docs/macos-routing-socket.md:
 * route(8)'s own messages (§5.3) in, rt_msg2 replies (§3.4, §5.2) and echoes (§5.1) out.
 */
import { assert, assertEquals } from "../assert.ts";
import {
  decodeMessage,
  decodeMessages,
  defaultRouteRequest,
  encodeRouteMessage,
} from "../../lib/darwin/route_message.ts";
import { InProcessRouteSystem } from "./inprocess_transport.ts";
import { unhex } from "./sim_protocol.ts";
import {
  defaultSetup,
  IFF_RUNNING,
  IFF_UP,
  type KernelSocket,
  renderScutil,
  SCUTIL_IPV4,
  scutilLinkKey,
  utun,
  XnuKernel,
} from "./xnu_kernel.ts";

const HEADER_ZEROS_TO_92 = "00".repeat(92 - 28);

/** `route -n get default`, 132 bytes (docs/macos-routing-socket.md §5.3.1). */
const ROUTE_GET_DEFAULT = unhex(
  "8400 05 04 0000 0000 03080000 15000000 00000000 01000000 00000000" + HEADER_ZEROS_TO_92 +
    "10020000 00000000 00000000 00000000" + "00020000" + "1412" + "00".repeat(18),
);
/** `route add default 192.168.1.1`, 128 bytes (§5.3.2). */
const ROUTE_ADD_DEFAULT = unhex(
  "8000 05 01 0000 0000 03080000 07000000 00000000 01000000 00000000" + HEADER_ZEROS_TO_92 +
    "10020000 00000000 00000000 00000000" + "10020000 c0a80101 00000000 00000000" + "00020000",
);
/** `route delete default`, 112 bytes (§5.3.3). */
const ROUTE_DELETE_DEFAULT = unhex(
  "7000 05 02 0000 0000 03080000 05000000 00000000 01000000 00000000" + HEADER_ZEROS_TO_92 +
    "10020000 00000000 00000000 00000000" + "00020000",
);

function socket(pid: number, options: Partial<KernelSocket> = {}) {
  const received: Uint8Array[] = [];
  const s: KernelSocket = {
    pid,
    protocol: 0,
    unprivileged: false,
    deliver: (m) => received.push(m),
    ...options,
  };
  return { s, received };
}

Deno.test("fixtures have the lengths of docs/macos-routing-socket.md §5.3", () => {
  assertEquals(
    [ROUTE_GET_DEFAULT.length, ROUTE_ADD_DEFAULT.length, ROUTE_DELETE_DEFAULT.length],
    [132, 128, 112],
  );
});

Deno.test("GET default: rt_msg2 reply of 164 bytes, netmask 00 00 00 00, IFP+IFA, seq and pid kept", () => {
  const kernel = new XnuKernel();
  // Without the scoped en0 default, so the unscoped one answers.
  kernel.replaceRoutes(defaultSetup().routes.filter((r) => r.scope === 0));
  const me = socket(321);
  const other = socket(999);
  kernel.attach(me.s);
  kernel.attach(other.s);
  assertEquals(kernel.routeOutput(me.s, ROUTE_GET_DEFAULT), 0);
  assertEquals(me.received.length, 1);
  assertEquals(other.received.length, 1, "every routing socket sees the reply");
  const reply = me.received[0]!;
  assertEquals(reply.length, 164); // 92 + 16 + 16 + 4 + 20 + 16 (docs/macos-routing-socket.md §5.2)
  const view = new DataView(reply.buffer, reply.byteOffset);
  assertEquals(view.getInt32(12, true), 0x37, "DST|GATEWAY|NETMASK|IFP|IFA");
  assertEquals(view.getInt32(16, true), 321, "rtm_pid");
  assertEquals(view.getInt32(20, true), 1, "rtm_seq");
  assertEquals(view.getInt32(24, true), 0, "rtm_errno");
  assert(view.getInt32(8, true) & 0x40, "RTF_DONE");
  assertEquals([...reply.subarray(92 + 32, 92 + 36)], [0, 0, 0, 0], "default netmask");
  const decoded = decodeMessage(reply);
  assert(decoded.ok && decoded.message.kind === "route");
  assertEquals(decoded.message.addrs.gateway, { family: "inet4", address: "192.168.1.1" });
  assertEquals(
    decoded.message.addrs.ifp?.family === "link" && decoded.message.addrs.ifp.name,
    "en0",
  );
  assertEquals(decoded.message.index, 4);
});

Deno.test("GET default without IFSCOPE answers the primary's scoped default (dontcare)", () => {
  const kernel = new XnuKernel();
  const me = socket(1);
  kernel.attach(me.s);
  assertEquals(kernel.routeOutput(me.s, ROUTE_GET_DEFAULT), 0);
  const flags = new DataView(me.received[0]!.buffer).getInt32(8, true);
  assert(flags & 0x1000000, "RTF_IFSCOPE in the reply");
});

Deno.test("GET with IFSCOPE on lo0 is ESRCH (golang/go#70528's capture)", () => {
  const kernel = new XnuKernel();
  const me = socket(1);
  kernel.attach(me.s);
  const get = new Uint8Array(ROUTE_GET_DEFAULT);
  const view = new DataView(get.buffer);
  view.setUint16(4, 1, true);
  view.setInt32(8, 0x01000803, true);
  assertEquals(kernel.routeOutput(me.s, get), 3);
  assertEquals(
    new DataView(me.received[0]!.buffer).getInt32(24, true),
    3,
    "echo carries rtm_errno",
  );
});

Deno.test("ADD of an existing default: EEXIST, the echo is the sender's bytes with errno and pid", () => {
  const kernel = new XnuKernel();
  const me = socket(77);
  kernel.attach(me.s);
  assertEquals(kernel.routeOutput(me.s, ROUTE_ADD_DEFAULT), 17);
  const echo = me.received[0]!;
  assertEquals(echo.length, 128);
  const view = new DataView(echo.buffer);
  assertEquals([view.getInt32(16, true), view.getInt32(24, true)], [77, 17]);
  assertEquals(view.getInt32(8, true) & 0x40, 0, "no RTF_DONE on failure");
  assertEquals([...echo.subarray(92)], [...ROUTE_ADD_DEFAULT.subarray(92)]);
});

Deno.test("DELETE default removes only the unscoped one and reports it; a second is ESRCH", () => {
  const kernel = new XnuKernel();
  const me = socket(5);
  kernel.attach(me.s);
  assertEquals(kernel.routeOutput(me.s, ROUTE_DELETE_DEFAULT), 0);
  assertEquals(kernel.defaults(4).map((r) => [r.interface, r.scoped]), [["en0", true]]);
  const report = decodeMessage(me.received[0]!);
  assert(report.ok && report.message.kind === "route");
  assertEquals(report.message.type, 2);
  assertEquals(report.message.index, 4);
  assertEquals(report.message.addrs.gateway, { family: "inet4", address: "192.168.1.1" });
  assertEquals(report.message.flags & 0x1, 0, "RTF_UP cleared in the report");
  assertEquals(kernel.routeOutput(me.s, ROUTE_DELETE_DEFAULT), 3);
  // route(8) re-adds it; the scoped and unscoped defaults live side by side again.
  assertEquals(kernel.routeOutput(me.s, ROUTE_ADD_DEFAULT), 0);
  assertEquals(kernel.defaults(4).length, 2);
});

Deno.test("a zero-length netmask ends the parse: a bogus IFP after it is ignored (§3.2)", () => {
  const kernel = new XnuKernel();
  kernel.replaceRoutes([]);
  const me = socket(5);
  const add = new Uint8Array(128 + 20);
  add.set(ROUTE_ADD_DEFAULT);
  const view = new DataView(add.buffer);
  view.setUint16(0, add.length, true);
  view.setInt32(12, 0x17, true); // + IFP
  add.set([20, 0xff], 128); // a sockaddr of family 255 no kernel would accept
  assertEquals(kernel.routeOutput(me.s, add), 0);
  assertEquals(kernel.defaults(4).map((r) => r.gateway), ["192.168.1.1"]);
});

Deno.test("msglen mismatch: EINVAL, and the echo is the sender's bytes untouched - no rtm_errno, no RTF_DONE, no pid (xnu bsd/net/rtsock.c route_output 352-356: rtm_buf is still NULL at flush:, 833)", () => {
  const kernel = new XnuKernel();
  const me = socket(5);
  kernel.attach(me.s);
  const bad = new Uint8Array(ROUTE_GET_DEFAULT);
  new DataView(bad.buffer).setUint16(0, 140, true);
  assertEquals(kernel.routeOutput(me.s, bad), 22);
  assertEquals(me.received.length, 1);
  assertEquals(me.received[0], bad, "byte for byte what was written");
  const echo = new DataView(me.received[0]!.buffer);
  assertEquals([echo.getInt32(8, true) & 0x40, echo.getInt32(16, true), echo.getInt32(24, true)], [
    0,
    0,
    0,
  ]);
  // Too short for an rt_msghdr: the same.
  assertEquals(kernel.routeOutput(me.s, bad.subarray(0, 40)), 22);
  assertEquals(me.received[1], bad.subarray(0, 40));
});

Deno.test("bad version: EPROTONOSUPPORT echoed with rtm_errno, before the pid stamp (xnu bsd/net/rtsock.c route_output 373-376, stamp at 401)", () => {
  const kernel = new XnuKernel();
  const me = socket(5);
  kernel.attach(me.s);
  const v4 = new Uint8Array(ROUTE_GET_DEFAULT);
  v4[2] = 4;
  assertEquals(kernel.routeOutput(me.s, v4), 43);
  const echo = new DataView(me.received[0]!.buffer);
  assertEquals([echo.getInt32(16, true), echo.getInt32(24, true)], [0, 43]);
});

Deno.test("unprivileged sockets may GET; a change is EPERM, echoed to all with rtm_errno and the sender's own rtm_pid (xnu bsd/net/rtsock.c route_output 396-399 senderr(EPERM) before 401 rtm_pid = proc_selfpid())", () => {
  const kernel = new XnuKernel();
  const user = socket(5, { unprivileged: true });
  const root = socket(6);
  kernel.attach(root.s);
  assertEquals(kernel.routeOutput(user.s, ROUTE_GET_DEFAULT), 0);
  assertEquals(new DataView(root.received[0]!.buffer).getInt32(16, true), 5, "GET: stamped");
  assertEquals(kernel.routeOutput(user.s, ROUTE_DELETE_DEFAULT), 1);
  assertEquals(root.received.length, 2);
  const echo = new DataView(root.received[1]!.buffer);
  assertEquals([echo.getInt32(24, true), echo.getInt32(16, true)], [1, 0], "route(8) wrote pid 0");
  // A sender that writes its pid gets it back: the only way to match its own EPERM echo.
  const own = new Uint8Array(ROUTE_DELETE_DEFAULT);
  new DataView(own.buffer).setInt32(16, 4242, true);
  assertEquals(kernel.routeOutput(user.s, own), 1);
  assertEquals(new DataView(root.received[2]!.buffer).getInt32(16, true), 4242);
  assertEquals(kernel.defaults(4).length, 2);
});

Deno.test("ADD via a gateway on no interface's subnet: ENETUNREACH", () => {
  const kernel = new XnuKernel();
  kernel.replaceRoutes([]);
  const add = new Uint8Array(ROUTE_ADD_DEFAULT);
  add.set([10, 9, 9, 9], 92 + 16 + 4);
  assertEquals(kernel.routeOutput(socket(1).s, add), 51);
  assertEquals(kernel.defaults(4), []);
});

Deno.test("protocol filter: only the GET/DELETE report carries the DST family; ADD, EPERM and ESRCH echoes and RTM_IFINFO go out as protocol 0, which a socket opened for one family never hears (xnu bsd/net/rtsock.c route_output 649 and 856-857, rt_ifmsg 1538; bsd/net/raw_usrreq.c raw_input 109-111)", () => {
  const kernel = new XnuKernel();
  const v4 = socket(9, { protocol: 2 });
  const v6 = socket(9, { protocol: 30 });
  const all = socket(9);
  for (const s of [v4, v6, all]) kernel.attach(s.s);
  const types = (s: { received: Uint8Array[] }) => s.received.map((m) => m[3]);
  kernel.routeOutput(socket(1).s, ROUTE_GET_DEFAULT); // report: AF_INET
  kernel.routeOutput(socket(1).s, ROUTE_ADD_DEFAULT); // EEXIST echo: 0
  kernel.routeOutput(socket(1, { unprivileged: true }).s, ROUTE_DELETE_DEFAULT); // EPERM: 0
  kernel.routeOutput(socket(1).s, ROUTE_DELETE_DEFAULT); // report: AF_INET
  kernel.routeOutput(socket(1).s, ROUTE_DELETE_DEFAULT); // ESRCH echo: 0
  kernel.routeOutput(socket(1).s, ROUTE_ADD_DEFAULT); // ADD echo: 0
  kernel.setInterfaceUp("en0", true); // RTM_IFINFO: 0
  assertEquals(types(all), [4, 1, 2, 2, 2, 1, 0xe]);
  assertEquals(types(v4), [4, 2]);
  assertEquals(types(v6), []);
  // Address messages carry their address's family (rt_newaddrmsg 1646).
  kernel.addAddress("en0", { address: "2001:db8:2::5", prefix: 64 });
  assertEquals(types(v6), [0xc]);
});

Deno.test("a short AF_INET DST (8 bytes, up to sin_addr) is rebuilt, and from then on the request's echo carries AF_INET (xnu bsd/net/rtsock.c route_output 419-430 dst_sa_family)", () => {
  const kernel = new XnuKernel();
  kernel.replaceRoutes([]);
  const v4 = socket(9, { protocol: 2 });
  kernel.attach(v4.s);
  // ROUTE_ADD_DEFAULT with an 8-byte DST: 92 + 8 + 16 + 4 = 120 bytes.
  const add = new Uint8Array(120);
  add.set(ROUTE_ADD_DEFAULT.subarray(0, 92));
  new DataView(add.buffer).setUint16(0, 120, true);
  add.set([8, 2, 0, 0, 0, 0, 0, 0], 92);
  add.set(ROUTE_ADD_DEFAULT.subarray(108), 100);
  assertEquals(kernel.routeOutput(socket(1).s, add), 0);
  assertEquals(v4.received.map((m) => m[3]), [1]);
  assertEquals(kernel.defaults(4).map((r) => r.gateway), ["192.168.1.1"]);
  // Shorter than sin_addr: EINVAL, and that echo is protocol 0 again.
  const tiny = new Uint8Array(add);
  tiny[92] = 6;
  assertEquals(kernel.routeOutput(socket(1).s, tiny), 22);
  assertEquals(v4.received.length, 1);
});

Deno.test("ifconfig down: the IPv4 defaults (global and scoped, static ones too) vanish with no RTM_DELETE, then RTM_IFINFO; IPv6 stays (xnu bsd/net/if.c if_updown 1638 pfctlinput(PRC_IFDOWN) then 1643 rt_ifmsg; bsd/netinet/raw_ip.c rip_ctlinput 883-905 in_ifadown(ifa, 1); bsd/netinet/in_rmx.c in_ifadownkill 735-770)", () => {
  const kernel = new XnuKernel();
  const me = socket(1);
  kernel.attach(me.s);
  kernel.setInterfaceUp("en0", false);
  assertEquals(me.received.map((m) => m[3]), [0xe], "RTM_IFINFO, and nothing else");
  assertEquals(kernel.defaults(4), []);
  assertEquals(kernel.defaults(6).map((r) => r.interface), ["en0"]);
  const en0 = kernel.interfaceByName("en0")!;
  assertEquals([en0.flags & IFF_UP, en0.flags & IFF_RUNNING], [0, IFF_RUNNING]);
});

Deno.test("detach: IPv4 routes silently, RTM_IFINFO, the name stops resolving; later RTM_DELADDR per address and then the IPv6 routes, silently (xnu bsd/net/dlil.c ifnet_detach 5403 if_down, 5474/5481 off the lists; ifnet_detach_final 5754 if_purgeaddrs, 5767-5778 proto_unplumb -> bsd/net/if.c if_rtproto_del 6100)", async () => {
  const kernel = new XnuKernel();
  kernel.detachDelayMs = 20;
  const me = socket(1);
  kernel.attach(me.s);
  kernel.addInterface(utun("utun4", 10));
  const types = () => me.received.map((m) => m[3]);
  assertEquals(types(), [0xe, 0xc, 0xc]);
  const scoped = new Uint8Array(ROUTE_ADD_DEFAULT);
  const view = new DataView(scoped.buffer);
  view.setUint16(4, 10, true);
  view.setInt32(8, 0x01000803, true);
  scoped.set([198, 18, 0, 1], 92 + 16 + 4);
  assertEquals(kernel.routeOutput(socket(2).s, scoped), 0);
  kernel.replaceRoutes([
    ...kernel.routes(),
    {
      family: 6,
      destination: "::",
      prefix: 0,
      scope: 10,
      gateway: "fe80::a:1",
      ifIndex: 10,
      flags: 0x1000803,
    },
  ]);
  me.received.length = 0;
  kernel.removeInterface("utun4");
  assertEquals(types(), [0xe], "no RTM_DELETE: only the interface's RTM_IFINFO");
  assertEquals(kernel.defaults(4).map((r) => r.interface), ["en0", "en0"]);
  assertEquals(kernel.interfaceByName("utun4"), null);
  assertEquals(kernel.defaults(6).map((r) => r.ifIndex), [4, 10], "IPv6 still there");
  await new Promise((r) => setTimeout(r, 30));
  assertEquals(types(), [0xe, 0xd, 0xd]);
  assertEquals(kernel.defaults(6).map((r) => r.ifIndex), [4, 10], "IPv6 goes after the DELADDRs");
  await new Promise((r) => setTimeout(r, 30));
  assertEquals(kernel.defaults(6).map((r) => r.ifIndex), [4]);
  assertEquals(types(), [0xe, 0xd, 0xd], "still not one RTM_DELETE");
  kernel.close();
});

Deno.test("an address removed: RTM_DELADDR only; a default through it stays (xnu bsd/netinet/in.c SIOCDIFADDR 741-755: in_ifscrub, never in_ifadown)", () => {
  const kernel = new XnuKernel();
  const me = socket(1);
  kernel.attach(me.s);
  kernel.removeAddress("en0", "192.168.1.100");
  assertEquals(me.received.map((m) => m[3]), [0xd]);
  assertEquals(kernel.defaults(4).length, 2);
  assertEquals(kernel.interfaceByName("en0")!.addresses.map((a) => a.address), [
    "fe80::a8bb:ccff:fedd:ee01",
    "2001:db8:1::100",
  ]);
  kernel.addAddress("en0", { address: "192.168.1.100", prefix: 24 });
  assertEquals(me.received.map((m) => m[3]), [0xd, 0xc]);
});

Deno.test("ADD resolves its gateway through the table: a VPN's host route to the LAN router captures route(8)'s default; configd's IFP pins it to en0 (xnu bsd/net/route.c ifa_ifwithroute_common_locked 1823-1839 rtalloc1_scoped_locked(gw); bsd/net/rtsock.c rt_setif 966-1000)", () => {
  const kernel = new XnuKernel();
  kernel.addInterface(utun("utun4", 10));
  kernel.replaceRoutes([{
    family: 4,
    destination: "192.168.1.1",
    prefix: 32,
    scope: 0,
    gateway: "198.18.0.2",
    ifIndex: 10,
    flags: 0x807,
  }]);
  assertEquals(kernel.routeOutput(socket(1).s, ROUTE_ADD_DEFAULT), 0);
  assertEquals(
    kernel.defaults(4).map((r) => r.interface),
    ["utun4"],
    "route(8)'s form: captured",
  );
  kernel.replaceRoutes(kernel.routes().filter((r) => r.prefix !== 0));
  const configd = encodeRouteMessage(defaultRouteRequest({
    type: 1,
    family: 4,
    gateway: "192.168.1.1",
    seq: 1,
    form: "configd",
    ifpIndex: 4,
  }));
  assertEquals(kernel.routeOutput(socket(1).s, configd), 0);
  assertEquals(kernel.defaults(4).map((r) => r.interface), ["en0"], "configd's form: pinned");
  // An existing default: EEXIST (route.c 2414), whatever the form.
  assertEquals(kernel.routeOutput(socket(1).s, configd), 17);
  // A gateway on no subnet, but under a tunnel's 10/8: bound to the tunnel, no ENETUNREACH.
  kernel.replaceRoutes([{
    family: 4,
    destination: "10.0.0.0",
    prefix: 8,
    scope: 0,
    gateway: null,
    ifIndex: 10,
    flags: 0x1,
  }]);
  const far = new Uint8Array(ROUTE_ADD_DEFAULT);
  far.set([10, 9, 9, 9], 92 + 16 + 4);
  assertEquals(kernel.routeOutput(socket(1).s, far), 0);
  assertEquals(kernel.defaults(4).map((r) => [r.gateway, r.interface]), [["10.9.9.9", "utun4"]]);
  kernel.close();
});

Deno.test("configd's IFP on an interface without an address of the family does not pin: the route stays where the gateway's route put it (rt_setif: ifaof_ifpforaddr finds nothing)", () => {
  const kernel = new XnuKernel();
  kernel.addInterface({ ...utun("utun4", 10), addresses: [{ address: "fe80::a:1", prefix: 64 }] });
  kernel.replaceRoutes([]);
  const configd = encodeRouteMessage(defaultRouteRequest({
    type: 1,
    family: 4,
    gateway: "192.168.1.1",
    seq: 1,
    form: "configd",
    ifpIndex: 10,
  }));
  assertEquals(kernel.routeOutput(socket(1).s, configd), 0);
  assertEquals(kernel.defaults(4).map((r) => r.interface), ["en0"]);
  kernel.close();
});

Deno.test("a full receive buffer drops messages silently: no error, no marker, the reader just sees fewer (xnu bsd/net/raw_usrreq.c raw_input 131-150 ignores sbappendaddr's ENOBUFS, bsd/kern/uipc_socket2.c 1437-1446)", async () => {
  const kernel = new XnuKernel();
  const system = new InProcessRouteSystem(kernel);
  const reader = system.openSocket();
  reader.setReceiveBuffer(1024);
  for (let i = 0; i < 40; i++) kernel.routeOutput(socket(1).s, ROUTE_GET_DEFAULT);
  const got: Uint8Array[] = [];
  for (let m = await reader.receive(0); m; m = await reader.receive(0)) got.push(m);
  assert(got.length > 0 && got.length < 40, `some, not all: ${got.length}`);
  assert(got.every((m) => m[3] === 4), "only the messages themselves: nothing says one was lost");
  system.close();
});

Deno.test("sysctl NET_RT_DUMP and NET_RT_IFLIST decode as a real dump would", () => {
  const kernel = new XnuKernel();
  const dump = decodeMessages(kernel.sysctl([4, 17, 0, 2, 1, 0]).data);
  assertEquals(dump.skipped, 0);
  assertEquals(dump.messages.length, 2);
  for (const m of dump.messages) {
    assert(m.kind === "route");
    assertEquals([m.pid, m.seq, m.errno], [0, 0, 0]);
    assertEquals(m.addrs.ifp, undefined, "dumps never carry IFP (§1.3)");
  }
  const list = decodeMessages(kernel.sysctl([4, 17, 0, 0, 3, 0]).data);
  const names = list.messages.flatMap((m) =>
    m.kind === "interface" && m.addrs.ifp?.family === "link" ? [m.addrs.ifp.name] : []
  );
  assertEquals(names, ["lo0", "en0"]);
  assertEquals(kernel.sysctl([4, 17, 0, 2, 99, 0]).errno, 22);
});

Deno.test("renderScutil prints configd's format: sorted keys, or No such key", () => {
  const kernel = new XnuKernel();
  assertEquals(
    renderScutil(kernel.scutil(SCUTIL_IPV4)),
    "<dictionary> {\n  PrimaryInterface : en0\n  PrimaryService : 2262B572-5785-46BF-AE88-7C003BE61B46\n" +
      "  Router : 192.168.1.1\n}\n",
  );
  kernel.setScutil(SCUTIL_IPV4, null);
  assertEquals(renderScutil(kernel.scutil(SCUTIL_IPV4)), "  No such key\n");
});

Deno.test("link state lives in configd's Link key, not in IFF_RUNNING: no routing message, flags kept (xnu bsd/net/if.c if_updown 1643 is RTM_IFINFO's only source on up/down)", () => {
  const kernel = new XnuKernel();
  const me = socket(1);
  kernel.attach(me.s);
  const key = scutilLinkKey("en0");
  assertEquals(kernel.scutil(key), { Active: "TRUE" });
  const flags = kernel.interfaceByName("en0")!.flags;
  kernel.setLinkActive("en0", false);
  assertEquals(kernel.scutil(key), { Active: "FALSE" });
  assertEquals(kernel.interfaceByName("en0")!.flags, flags, "UP|RUNNING stay set");
  assertEquals(me.received.length, 0, "KEV_DL_LINK_OFF is not on the routing socket");
  assertEquals(kernel.defaults(4).length, 2, "the routes stay: nothing deleted them");
  assertEquals(renderScutil(kernel.scutil(key)), "<dictionary> {\n  Active : FALSE\n}\n");
  // A utun has no media: configd publishes no Link key for it; one that goes away loses its key.
  kernel.addInterface({ ...utun("utun4", 10) });
  assertEquals(kernel.scutil(scutilLinkKey("utun4")), null);
  kernel.addInterface({ ...utun("en5", 12), linkActive: true });
  assertEquals(kernel.scutil(scutilLinkKey("en5")), { Active: "TRUE" });
  kernel.removeInterface("en5");
  assertEquals(kernel.scutil(scutilLinkKey("en5")), null);
  let error = "";
  try {
    kernel.setLinkActive("en9", true);
  } catch (e) {
    error = String(e);
  }
  assertEquals(error, "Error: no interface en9");
});
