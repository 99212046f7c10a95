/**
 * The simulated XNU kernel against the byte layouts and rules of the reference: route(8)'s own
 * messages (§5.3) in, rt_msg2 replies (§3.4, §5.2) and echoes (§5.1) out.
 */
import { assert, assertEquals } from "../assert.ts";
import { decodeMessage, decodeMessages } from "../../lib/darwin/route_message.ts";
import { unhex } from "./sim_protocol.ts";
import {
  defaultSetup,
  type KernelSocket,
  renderScutil,
  SCUTIL_IPV4,
  scutilLinkKey,
  utun,
  XnuKernel,
} from "./xnu_kernel.ts";

const HEADER_ZEROS_TO_92 = "00".repeat(92 - 28);

/** `route -n get default`, 132 bytes (reference §5.3.1). */
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

Deno.test("fixtures are the reference's lengths", () => {
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
  assertEquals(reply.length, 164); // 92 + 16 + 16 + 4 + 20 + 16 (reference §5.2)
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

Deno.test("msglen mismatch: EINVAL with no echo; bad version: EPROTONOSUPPORT echoed", () => {
  const kernel = new XnuKernel();
  const me = socket(5);
  kernel.attach(me.s);
  const bad = new Uint8Array(ROUTE_GET_DEFAULT);
  new DataView(bad.buffer).setUint16(0, 140, true);
  assertEquals(kernel.routeOutput(me.s, bad), 22);
  assertEquals(me.received.length, 0);
  const v4 = new Uint8Array(ROUTE_GET_DEFAULT);
  v4[2] = 4;
  assertEquals(kernel.routeOutput(me.s, v4), 43);
  assertEquals(me.received.length, 1);
});

Deno.test("unprivileged sockets may GET; changes are EPERM and echoed to others", () => {
  const kernel = new XnuKernel();
  const user = socket(5, { unprivileged: true });
  const root = socket(6);
  kernel.attach(root.s);
  assertEquals(kernel.routeOutput(user.s, ROUTE_GET_DEFAULT), 0);
  assertEquals(kernel.routeOutput(user.s, ROUTE_DELETE_DEFAULT), 1);
  assertEquals(root.received.length, 2);
  assertEquals(new DataView(root.received[1]!.buffer).getInt32(24, true), 1);
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

Deno.test("a socket opened for AF_INET6 does not see IPv4 echoes (protocol filter, §5.1)", () => {
  const kernel = new XnuKernel();
  const v6 = socket(9, { protocol: 30 });
  kernel.attach(v6.s);
  kernel.routeOutput(socket(1).s, ROUTE_GET_DEFAULT);
  assertEquals(v6.received.length, 0);
});

Deno.test("interface events: new utun (IFINFO + NEWADDR), down, removal deletes its routes", () => {
  const kernel = new XnuKernel();
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
  me.received.length = 0;
  kernel.removeInterface("utun4");
  assertEquals(types(), [0x2, 0xd, 0xd, 0xe]);
  assertEquals(new DataView(me.received[0]!.buffer).getInt32(16, true), 0, "kernel report: pid 0");
  assertEquals(kernel.defaults(4).map((r) => r.interface), ["en0", "en0"]);
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
