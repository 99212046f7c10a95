/**
 * Byte-exact tests of the darwin routing-message codec (issue 2). Expected bytes are written by
 * hand from docs/macos-routing-socket.md §3 and §5.3 (route(8) and configd) or read from fixtures
 * of real captures (tests/fixtures/darwin/*.hex, each naming its source) - never produced by the
 * encoder itself.
 */
import {
  linkSockaddrLength,
  roundup32,
  sockaddrLength,
  writeSockaddr,
} from "../../lib/darwin/sockaddr.ts";
import { assert, assertEquals } from "../assert.ts";
import { hex } from "../support/annotated_hex.ts";
import {
  decodeMessage,
  decodeMessages,
  defaultRouteRequest,
  encodeRouteMessage,
  kernelDefaultNetmask,
  routeFlagNames,
  type RoutingMessage,
  type RoutingMessageInit,
  RTF_DONE,
  RTF_GATEWAY,
  RTF_IFSCOPE,
  RTF_PRCLONING,
  RTF_STATIC,
  RTF_UP,
  RTM_ADD,
  RTM_DELADDR,
  RTM_DELETE,
  RTM_DELMADDR,
  RTM_GET,
  RTM_GET2,
  RTM_IFINFO,
  RTM_IFINFO2,
  RTM_NEWADDR,
  RTM_NEWMADDR,
  RTM_NEWMADDR2,
} from "../../lib/darwin/route_message.ts";

function fixture(name: string): Uint8Array {
  return hex(Deno.readTextFileSync(new URL(`../fixtures/darwin/${name}`, import.meta.url)));
}

function decodeOk(bytes: Uint8Array): RoutingMessage {
  const result = decodeMessage(bytes);
  if (!result.ok) throw new Error(`decode failed: ${JSON.stringify(result.error)}`);
  return result.message;
}

function show(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(" ");
}

function assertBytes(actual: Uint8Array, expected: Uint8Array): void {
  assertEquals(show(actual), show(expected));
}

/** The 92-byte rt_msghdr route(8) writes: only the named fields are non-zero
 * (docs/macos-routing-socket.md §5.3). */
function rtHeader(
  msglen: number,
  type: number,
  flags: number,
  addrs: number,
  index = 0,
): string {
  const le = (value: number, size: number) =>
    Array.from(
      { length: size },
      (_, i) => ((value >>> (8 * i)) & 0xff).toString(16).padStart(2, "0"),
    )
      .join(" ");
  return [
    `${le(msglen, 2)} 05 ${le(type, 1)}  # msglen, version, type`,
    `${le(index, 2)} 00 00                 # rtm_index, padding`,
    `${le(flags, 4)}                       # rtm_flags`,
    `${le(addrs, 4)}                       # rtm_addrs`,
    `00 00 00 00                           # rtm_pid (kernel fills it)`,
    `01 00 00 00                           # rtm_seq 1`,
    `00 00 00 00 00 00 00 00 00 00 00 00   # rtm_errno, rtm_use, rtm_inits`,
    ...Array.from({ length: 7 }, () => `00 00 00 00 00 00 00 00   # rtm_rmx`),
  ].join("\n");
}

const EN0 = 4;
const IFSCOPED = 0x01000803;

const SIN_ANY = "10 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00   # sockaddr_in 0.0.0.0";
const SIN6_ANY =
  "1c 1e 00 00 00 00 00 00  00 00 00 00 00 00 00 00  00 00 00 00 00 00 00 00  00 00 00 00";
const EMPTY_DL =
  "14 12 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   # empty sockaddr_dl";

Deno.test("route(8) `get default` is 132 bytes (docs/macos-routing-socket.md §5.3.1)", () => {
  const expected = hex(`${rtHeader(132, 0x04, 0x803, 0x15)}
    ${SIN_ANY}
    00 02 00 00   # NETMASK sa_len 0 keeps AF_INET: one 4-byte slot
    ${EMPTY_DL}`);
  assertEquals(expected.length, 132);
  const init = defaultRouteRequest({ type: RTM_GET, family: 4, seq: 1, form: "route8" });
  assertBytes(encodeRouteMessage(init), expected);
});

Deno.test("route(8) `get -ifscope en0 default` sets rtm_index and RTF_IFSCOPE", () => {
  const expected = hex(`${rtHeader(132, 0x04, IFSCOPED, 0x15, EN0)}
    ${SIN_ANY}
    00 02 00 00
    ${EMPTY_DL}`);
  const init = defaultRouteRequest({
    type: RTM_GET,
    family: 4,
    seq: 1,
    form: "route8",
    ifscope: EN0,
  });
  assertBytes(encodeRouteMessage(init), expected);
});

Deno.test("route(8) `add default 192.168.1.1` is 128 bytes (§5.3.2)", () => {
  const expected = hex(`${rtHeader(128, 0x01, 0x803, 0x07)}
    ${SIN_ANY}
    10 02 00 00 c0 a8 01 01 00 00 00 00 00 00 00 00   # GATEWAY 192.168.1.1
    00 02 00 00                                       # NETMASK, last`);
  assertEquals(expected.length, 128);
  const init = defaultRouteRequest({
    type: RTM_ADD,
    family: 4,
    gateway: "192.168.1.1",
    seq: 1,
    form: "route8",
  });
  assertBytes(encodeRouteMessage(init), expected);
});

Deno.test("route(8) `add -ifscope en0 default 192.168.1.1`", () => {
  const expected = hex(`${rtHeader(128, 0x01, IFSCOPED, 0x07, EN0)}
    ${SIN_ANY}
    10 02 00 00 c0 a8 01 01 00 00 00 00 00 00 00 00
    00 02 00 00`);
  const init = defaultRouteRequest({
    type: RTM_ADD,
    family: 4,
    gateway: "192.168.1.1",
    seq: 1,
    form: "route8",
    ifscope: EN0,
  });
  assertBytes(encodeRouteMessage(init), expected);
});

Deno.test("route(8) `delete default` is 112 bytes and `-ifscope en0` scopes it (§5.3.3)", () => {
  const plain = hex(`${rtHeader(112, 0x02, 0x803, 0x05)}
    ${SIN_ANY}
    00 02 00 00`);
  assertEquals(plain.length, 112);
  assertBytes(
    encodeRouteMessage(
      defaultRouteRequest({ type: RTM_DELETE, family: 4, seq: 1, form: "route8" }),
    ),
    plain,
  );
  const scoped = hex(`${rtHeader(112, 0x02, IFSCOPED, 0x05, EN0)}
    ${SIN_ANY}
    00 02 00 00`);
  assertBytes(
    encodeRouteMessage(
      defaultRouteRequest({ type: RTM_DELETE, family: 4, seq: 1, form: "route8", ifscope: EN0 }),
    ),
    scoped,
  );
});

Deno.test("route(8) -inet6 forms: get 144, delete 124 (§5.3.1, §5.3.3)", () => {
  const get = hex(`${rtHeader(144, 0x04, 0x803, 0x15)}
    ${SIN6_ANY}
    00 1e 00 00   # NETMASK sa_len 0, AF_INET6
    ${EMPTY_DL}`);
  assertEquals(get.length, 144);
  assertBytes(
    encodeRouteMessage(defaultRouteRequest({ type: RTM_GET, family: 6, seq: 1, form: "route8" })),
    get,
  );
  const del = hex(`${rtHeader(124, 0x02, 0x803, 0x05)}
    ${SIN6_ANY}
    00 1e 00 00`);
  assertEquals(del.length, 124);
  assertBytes(
    encodeRouteMessage(
      defaultRouteRequest({ type: RTM_DELETE, family: 6, seq: 1, form: "route8" }),
    ),
    del,
  );
});

Deno.test("route(8) `add -inet6 default fe80::1%en0` embeds the scope, 152 bytes (§5.3.2)", () => {
  const expected = hex(`${rtHeader(152, 0x01, 0x803, 0x07)}
    ${SIN6_ANY}
    1c 1e 00 00 00 00 00 00   # GATEWAY sin6_len, family, port, flowinfo
    fe 80 00 04 00 00 00 00   # fe80:<en0 = 4, big-endian>::
    00 00 00 00 00 00 00 01   # ...::1
    00 00 00 00               # sin6_scope_id 0 (KAME: the index lives in the address)
    00 1e 00 00`);
  assertEquals(expected.length, 152);
  const init = defaultRouteRequest({
    type: RTM_ADD,
    family: 6,
    gateway: "fe80::1",
    zone: EN0,
    seq: 1,
    form: "route8",
  });
  assertBytes(encodeRouteMessage(init), expected);
});

Deno.test("configd's IPv4 default: 160 bytes, 176 with IFA (§5.3.4)", () => {
  const gateway = "10 02 00 00 c0 a8 01 01 00 00 00 00 00 00 00 00   # GATEWAY 192.168.1.1";
  const ifp =
    "14 12 04 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   # IFP {20, AF_LINK, 4}";
  const without = hex(`${rtHeader(160, 0x01, 0x803, 0x17)}
    ${SIN_ANY}
    ${gateway}
    10 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00   # NETMASK full length, all zero
    ${ifp}`);
  assertEquals(without.length, 160);
  assertBytes(
    encodeRouteMessage(
      defaultRouteRequest({
        type: RTM_ADD,
        family: 4,
        gateway: "192.168.1.1",
        seq: 1,
        form: "configd",
        ifpIndex: EN0,
      }),
    ),
    without,
  );
  const withIfa = hex(`${rtHeader(176, 0x01, IFSCOPED, 0x37, EN0)}
    ${SIN_ANY}
    ${gateway}
    10 02 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    ${ifp}
    10 02 00 00 c0 a8 01 64 00 00 00 00 00 00 00 00   # IFA 192.168.1.100`);
  assertEquals(withIfa.length, 176);
  assertBytes(
    encodeRouteMessage(
      defaultRouteRequest({
        type: RTM_ADD,
        family: 4,
        gateway: "192.168.1.1",
        seq: 1,
        form: "configd",
        ifscope: EN0,
        ifa: "192.168.1.100",
      }),
    ),
    withIfa,
  );
});

Deno.test("golang/go#70528: the 132-byte ESRCH RTM_GET echo, errno read at offset 24", () => {
  const bytes = fixture("go70528_rtm_get_esrch.hex");
  assertEquals(bytes.length, 132);
  const m = decodeOk(bytes);
  assert(m.kind === "route");
  assertEquals(
    {
      type: m.type,
      version: m.version,
      length: m.length,
      index: m.index,
      flags: m.flags,
      addrBits: m.addrBits,
      pid: m.pid,
      seq: m.seq,
      errno: m.errno,
      use: m.use,
    },
    {
      type: RTM_GET,
      version: 5,
      length: 132,
      index: 1,
      flags: IFSCOPED,
      addrBits: 0x15,
      pid: 283,
      seq: 23285,
      errno: 3,
      use: 0,
    },
  );
  assert((m.flags & RTF_IFSCOPE) !== 0);
  assertEquals(m.addrs, {
    dst: { family: "inet4", address: "0.0.0.0" },
    netmask: { family: "inet4", address: "0.0.0.0", prefixLength: 0, length: 0 },
    ifp: { family: "link", index: 0, type: 0, name: "", linkAddress: "" },
  });
  assertBytes(encodeRouteMessage(m), bytes);
  // It is route(8)'s `get -ifscope lo0 default` shape with the kernel's pid/seq/errno.
  const request = encodeRouteMessage({
    ...defaultRouteRequest({ type: RTM_GET, family: 4, seq: 23285, form: "route8", ifscope: 1 }),
    pid: 283,
    errno: 3,
  });
  assertBytes(request, bytes);
});

Deno.test("rtm_errno is offset 24, not x/net's 28 (rtm_use)", () => {
  const bytes = fixture("go70528_rtm_get_esrch.hex");
  bytes.set([0, 0, 0, 0], 24);
  bytes.set([140, 0, 0, 0], 28);
  const m = decodeOk(bytes);
  assert(m.kind === "route");
  assertEquals([m.errno, m.use], [0, 140]);
});

Deno.test("golang/go#44740: 50-byte RTM_DELMADDR, msglen not a multiple of 4 (rt_msg1)", () => {
  const bytes = fixture("go44740_rtm_delmaddr.hex");
  assertEquals(bytes.length, 50);
  const m = decodeOk(bytes);
  assertEquals(m, {
    kind: "multicast",
    type: RTM_DELMADDR,
    version: 5,
    length: 50,
    flags: 0,
    index: 4,
    addrBits: 0x30,
    addrs: {
      ifp: { family: "link", index: 4, type: 6, name: "en0", linkAddress: "ac:87:a3:19:7f:82" },
      ifa: {
        family: "link",
        index: 0,
        type: 0,
        name: "",
        linkAddress: "91:e0:f0:01:00:00",
        length: 14,
      },
    },
    style: "rt_msg1",
  });
  assertBytes(encodeRouteMessage(m), bytes);
});

Deno.test("x/net: route(8)'s 152-byte IPv6 ifscope RTM_ADD echo, netmask `02 1e 00 00`", () => {
  const bytes = fixture("xnet_inet6_ifscope_add_echo.hex");
  assertEquals(bytes.length, 152);
  const m = decodeOk(bytes);
  assert(m.kind === "route");
  assertEquals([m.type, m.index, m.pid, m.seq, m.errno], [RTM_ADD, 13, 81198, 1, 0]);
  assertEquals(routeFlagNames(m.flags), "UP,GATEWAY,DONE,STATIC,IFSCOPE");
  assertEquals(m.addrs, {
    dst: { family: "inet6", address: "::" },
    gateway: { family: "inet6", address: "fe80::2d0:4cff:fe10:15d2" },
    netmask: { family: "inet6", address: "::", prefixLength: 0, length: 2 },
  });
  assertBytes(encodeRouteMessage(m), bytes);
});

/** A hand-written RTM_GET reply header around a sockaddr block (addrs DST|GATEWAY|NETMASK). */
function withGetHeader(addrs: Uint8Array): Uint8Array {
  const header = hex(rtHeader(92 + addrs.length, 0x04, 0x843, 0x07));
  const out = new Uint8Array(92 + addrs.length);
  out.set(header);
  out.set(addrs, 92);
  return out;
}

Deno.test("x/net kernel sockaddrs: utun IFP `14 12 21 00 01 08 ...` and the /16 mask `06 02 00 00 ff ff`", () => {
  const bytes = withGetHeader(fixture("xnet_kernel_addrs.hex"));
  const m = decodeOk(bytes);
  assertEquals(m.addrs, {
    dst: { family: "inet4", address: "100.113.0.0" },
    gateway: { family: "link", index: 33, type: 1, name: "utun4319", linkAddress: "" },
    netmask: { family: "inet4", address: "255.255.0.0", prefixLength: 16, length: 6 },
  });
  assertBytes(encodeRouteMessage(m), bytes);
});

Deno.test("x/net kernel sockaddrs: fe80:0021:: gateway -> zone 33, /48 mask `0e 1e ...`", () => {
  const bytes = withGetHeader(fixture("xnet_kernel_addrs_inet6.hex"));
  const m = decodeOk(bytes);
  assertEquals(m.addrs, {
    dst: { family: "inet6", address: "fd84:1b4e:6281::" },
    gateway: { family: "inet6", address: "fe80::f22f:4bff:fe09:3bff", zone: 33 },
    netmask: { family: "inet6", address: "ffff:ffff:ffff::", prefixLength: 48, length: 14 },
  });
  assertBytes(encodeRouteMessage(m), bytes);
});

Deno.test("kernel-trimmed mask `07 ff ff ff ff ff ff 00` is 255.255.255.0 (§3.4)", () => {
  const bytes = withGetHeader(hex(`
    10 02 00 00 c0 a8 56 00 00 00 00 00 00 00 00 00   # DST 192.168.86.0
    14 12 04 00 06 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00   # GATEWAY link#4
    07 ff ff ff ff ff ff 00                           # NETMASK sa_len 7, family/port 0xff`));
  const m = decodeOk(bytes);
  assertEquals(m.addrs.netmask, {
    family: "inet4",
    address: "255.255.255.0",
    port: 0xffff,
    prefixLength: 24,
    length: 7,
    familyByte: 0xff,
  });
  assertBytes(encodeRouteMessage(m), bytes);
});

Deno.test("a typical kernel GET reply for the default (§5.2) decodes", () => {
  const bytes = fixture("kernel_get_default_reply.hex");
  assertEquals(bytes.length, 164);
  const m = decodeOk(bytes);
  assert(m.kind === "route");
  assertEquals(m.flags, RTF_UP | RTF_GATEWAY | RTF_DONE | RTF_STATIC | RTF_PRCLONING);
  assertEquals([m.addrBits, m.index, m.pid, m.seq, m.errno, m.metrics.mtu], [
    0x37,
    4,
    4711,
    1,
    0,
    1500,
  ]);
  assertEquals(m.addrs, {
    dst: { family: "inet4", address: "0.0.0.0" },
    gateway: { family: "inet4", address: "192.168.1.1" },
    netmask: { family: "inet4", address: "0.0.0.0", prefixLength: 0, length: 0, familyByte: 0 },
    ifp: { family: "link", index: 4, type: 6, name: "en0", linkAddress: "ac:87:a3:19:7f:82" },
    ifa: { family: "inet4", address: "192.168.1.100" },
  });
  // What a simulator writes for the same reply, built from parts.
  const built = encodeRouteMessage({
    type: RTM_GET,
    flags: m.flags,
    index: 4,
    pid: 4711,
    seq: 1,
    metrics: { mtu: 1500 },
    addrs: {
      dst: { family: "inet4", address: "0.0.0.0" },
      gateway: { family: "inet4", address: "192.168.1.1" },
      netmask: kernelDefaultNetmask(4),
      ifp: { family: "link", index: 4, type: 6, name: "en0", linkAddress: "ac:87:a3:19:7f:82" },
      ifa: { family: "inet4", address: "192.168.1.100" },
    },
  });
  assertBytes(built, bytes);
});

Deno.test("link-local gateway encodes KAME-style and decodes back to its zone", () => {
  const bytes = encodeRouteMessage({
    type: RTM_ADD,
    addrs: { gateway: { family: "inet6", address: "fe80::1", zone: 33 } },
  });
  assertEquals(
    show(bytes.subarray(92)),
    show(hex(`1c 1e 00 00 00 00 00 00  fe 80 00 21 00 00 00 00  00 00 00 00 00 00 00 01
      00 00 00 00`)),
  );
  assertEquals(decodeOk(bytes).addrs.gateway, { family: "inet6", address: "fe80::1", zone: 33 });
  // A zone on a global address is sin6_scope_id, never embedded.
  const global = encodeRouteMessage({
    type: RTM_ADD,
    addrs: { gateway: { family: "inet6", address: "2001:db8::1", zone: 7 } },
  });
  assertEquals(show(global.subarray(92 + 24, 92 + 28)), "07 00 00 00");
  // x/net's form (index only in sin6_scope_id) survives a round trip unchanged.
  const xnet = hex(`${rtHeader(120, 0x01, 0x803, 0x02)}
    1c 1e 00 00 00 00 00 00  fe 80 00 00 00 00 00 00  00 00 00 00 00 00 00 01  05 00 00 00`);
  const decoded = decodeOk(xnet);
  assertEquals(decoded.addrs.gateway, {
    family: "inet6",
    address: "fe80::1",
    zone: 5,
    scopeId: 5,
    embedScope: false,
  });
  assertBytes(encodeRouteMessage(decoded), xnet);
});

Deno.test("a set bit with no bytes left is an empty sockaddr", () => {
  // DST|GATEWAY|NETMASK bits but only DST's bytes: the rest read as all-zero sockaddrs.
  const three = decodeOk(hex(`${rtHeader(108, 0x01, 0x803, 0x07)}
    ${SIN_ANY}`));
  assertEquals(three.addrs, {
    dst: { family: "inet4", address: "0.0.0.0" },
    gateway: { family: "empty" },
    netmask: { family: "inet4", address: "0.0.0.0", prefixLength: 0, length: 0, familyByte: 0 },
  });
  // rt_msg1 with a zero-length last sockaddr (docs/macos-routing-socket.md §3.5) round-trips byte
  // for byte.
  const bytes = hex(`${rtHeader(108, 0x01, 0x803, 0x03)}
    ${SIN_ANY}`);
  const m = decodeOk(bytes);
  assertEquals(m.addrs.gateway, { family: "empty" });
  assertEquals(m.style, "rt_msg1");
  assertBytes(encodeRouteMessage(m), bytes);
});

Deno.test("a sockaddr longer than the bytes left ends the walk and is reported", () => {
  const bytes = hex(`${rtHeader(100, 0x01, 0x803, 0x03)}
    10 02 00 00 00 00 00 00   # DST claims 16 bytes, only 8 remain`);
  const m = decodeOk(bytes);
  assertEquals(m.addrs, {});
  assertEquals(m.addrsTruncated, true);
});

Deno.test("hostile headers are typed errors, never exceptions", () => {
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), "too-short"],
    [hex("84 00 05"), "too-short"],
    [hex("00 00 05 04"), "bad-length"],
    [hex("84 00 05 04 00 00 00 00"), "length-beyond-buffer"],
    [hex(rtHeader(92, 0x04, 0, 0)).map((b, i) => i === 2 ? 4 : b), "bad-version"],
    [hex(rtHeader(92, 0x15, 0, 0)), "unknown-type"],
    [hex("10 00 05 04 00 00 00 00 00 00 00 00 00 00 00 00"), "too-short"],
  ];
  for (const [bytes, kind] of cases) {
    const result = decodeMessage(bytes);
    assertEquals(result.ok ? "ok" : result.error.kind, kind, show(bytes));
  }
});

Deno.test("decodeMessages walks a dump, skips and counts garbage, stops on msglen 0", () => {
  const reply = fixture("kernel_get_default_reply.hex");
  const echo = fixture("go70528_rtm_get_esrch.hex");
  const badVersion = hex(rtHeader(92, 0x04, 0, 0)).map((b, i) => i === 2 ? 9 : b);
  const zeroLength = hex("00 00 05 04 ff ff ff ff");
  const buffer = new Uint8Array([...reply, ...badVersion, ...echo, ...zeroLength, ...reply]);
  const out = decodeMessages(buffer);
  assertEquals(out.messages.map((m) => m.length), [164, 132]);
  assertEquals(out.skipped, 2);
  assertEquals(out.errors.map((e) => [e.kind, e.offset]), [
    ["bad-version", 164],
    ["bad-length", 164 + 92 + 132],
  ]);
  assertEquals(decodeMessages(new Uint8Array(4096)).skipped, 1);
});

/** One message of every kind the decoder knows, with every header field non-zero. */
const EVERY_KIND: RoutingMessageInit[] = [
  {
    type: RTM_GET,
    flags: 0x10843,
    index: 4,
    pid: 4711,
    seq: 9,
    errno: 17,
    use: 3,
    inits: 1,
    metrics: { mtu: 1500, expire: -1, rtt: 20000, locks: 2 },
    addrs: {
      dst: { family: "inet4", address: "10.0.0.0" },
      gateway: { family: "link", index: 12, type: 0xff, name: "utun3", linkAddress: "" },
      netmask: { family: "inet4", address: "255.0.0.0", length: 5, familyByte: 0xff, port: 0xffff },
      genmask: { family: "inet4", address: "255.255.0.0" },
      ifp: { family: "link", index: 12, type: 0xff, name: "utun3", linkAddress: "" },
      ifa: { family: "inet4", address: "10.1.2.3" },
      author: { family: "other", familyNumber: 32, length: 6, data: "aabbccdd" },
      brd: { family: "inet4", address: "10.255.255.255" },
    },
  },
  {
    type: RTM_GET2,
    flags: 0x803,
    index: 7,
    refcnt: 5,
    parentflags: 800,
    reserved: 0,
    use: 140,
    inits: 0,
    metrics: { pksent: 99 },
    addrs: {
      dst: { family: "inet6", address: "::" },
      gateway: { family: "inet6", address: "fe80::1", zone: 7 },
      netmask: { family: "inet6", address: "::", length: 0, familyByte: 0 },
      ifa: { family: "inet6", address: "fe80::abcd", zone: 7 },
    },
  },
  {
    type: RTM_IFINFO,
    flags: 0x8863,
    index: 4,
    data: {
      type: 6,
      addrlen: 6,
      hdrlen: 14,
      mtu: 1500,
      baudrate: 1000000,
      lastchangeSec: 1700000000,
      hwassist: 3,
    },
    addrs: {},
  },
  {
    type: RTM_IFINFO2,
    flags: 0x51,
    index: 9,
    sndLen: 1,
    sndMaxlen: 50,
    sndDrops: 2,
    timer: 3,
    data: { type: 0xff, mtu: 1380, metric: 1 },
    addrs: { ifp: { family: "link", index: 9, type: 0xff, name: "utun2", linkAddress: "" } },
  },
  {
    type: RTM_NEWADDR,
    flags: 0x1,
    index: 4,
    metric: 2,
    addrs: {
      netmask: {
        family: "inet4",
        address: "255.255.255.0",
        length: 7,
        familyByte: 0xff,
        port: 0xffff,
      },
      ifp: { family: "link", index: 4, type: 6, name: "en0", linkAddress: "ac:87:a3:19:7f:82" },
      ifa: { family: "inet4", address: "192.168.1.100" },
      brd: { family: "inet4", address: "192.168.1.255" },
    },
  },
  {
    type: RTM_DELADDR,
    index: 4,
    addrs: {
      netmask: {
        family: "inet6",
        address: "ffff:ffff:ffff:ffff::",
        length: 16,
        familyByte: 0xff,
        port: 0xffff,
        flowinfo: 0xffffffff,
      },
      ifa: { family: "inet6", address: "2001:db8::5" },
    },
  },
  {
    type: RTM_NEWMADDR,
    flags: 0,
    index: 4,
    addrs: {
      gateway: {
        family: "link",
        index: 0,
        type: 0,
        name: "",
        linkAddress: "01:00:5e:00:00:fb",
        length: 14,
      },
      ifp: { family: "link", index: 4, type: 6, name: "en0", linkAddress: "ac:87:a3:19:7f:82" },
      ifa: { family: "inet4", address: "224.0.0.251" },
    },
  },
  {
    type: RTM_NEWMADDR2,
    index: 4,
    refcount: 3,
    addrs: { ifa: { family: "inet6", address: "ff02::fb", zone: 4 } },
  },
];

Deno.test("every message kind round-trips: encode -> decode keeps every field", () => {
  const kinds = new Set<string>();
  for (const init of EVERY_KIND) {
    const bytes = encodeRouteMessage(init);
    const m = decodeOk(bytes);
    kinds.add(m.kind);
    assertEquals(m.length, bytes.length);
    // Every field given is read back (decoded objects carry all fields, so compare the given ones).
    for (const [key, value] of Object.entries(init)) {
      const got = (m as unknown as Record<string, unknown>)[key];
      if (key === "metrics" || key === "data") {
        for (const [k, v] of Object.entries(value as object)) {
          assertEquals((got as Record<string, unknown>)[k], v, `${m.kind}.${key}.${k}`);
        }
      } else if (key === "addrs") {
        const stripped = Object.fromEntries(
          Object.entries(got as object).map(([slot, sa]) => {
            const { prefixLength: _, ...rest } = sa as { prefixLength?: number };
            return [slot, rest];
          }),
        );
        assertEquals(stripped, value, `${m.kind}.addrs`);
      } else {
        assertEquals(got, value, `${m.kind}.${key}`);
      }
    }
    assertBytes(encodeRouteMessage(m), bytes);
  }
  assertEquals(
    [...kinds].sort(),
    ["address", "interface", "interface2", "multicast", "multicast2", "route", "route2"],
  );
});

Deno.test("RTM_IFINFO is exactly 112 bytes with if_data at 16 (§1.4)", () => {
  const bytes = encodeRouteMessage({
    type: RTM_IFINFO,
    flags: 0x41,
    index: 12,
    data: { type: 0xff, mtu: 1380 },
  });
  assertEquals(bytes.length, 112);
  assertEquals(show(bytes.subarray(0, 16)), "70 00 05 0e 00 00 00 00 41 00 00 00 0c 00 00 00");
  assertEquals(show(bytes.subarray(16, 28)), "ff 00 00 00 00 00 00 00 64 05 00 00");
});

Deno.test("rt_msg1 style trims the last sockaddr's padding", () => {
  const bytes = encodeRouteMessage({
    type: RTM_DELMADDR,
    index: 4,
    style: "rt_msg1",
    addrs: { ifa: { family: "link", index: 0, linkAddress: "91:e0:f0:01:00:00", length: 14 } },
  });
  assertEquals(bytes.length, 16 + 14);
  assertEquals(bytes[0], 30);
});

Deno.test("encoder rejects what it cannot write", () => {
  let threw = 0;
  for (
    const init of [
      { type: 0x15 },
      { type: RTM_ADD, kind: "address" as const },
      { type: RTM_ADD, addrs: { dst: { family: "inet4" as const, address: "not an address" } } },
    ]
  ) {
    try {
      encodeRouteMessage(init as RoutingMessageInit);
    } catch (e) {
      assert(e instanceof Error);
      threw++;
    }
  }
  assertEquals(threw, 3);
});

/** Bytes of an RTM_GET carrying `sockaddrs` (each padded to 4) in the slots of `addrBits`. */
function getWith(addrBits: number, sockaddrs: number[][]): Uint8Array {
  const body = sockaddrs.flatMap((sa) => [...sa, ...new Array((4 - sa.length % 4) % 4).fill(0)]);
  const length = 92 + body.length;
  const header = new Array(92).fill(0);
  header.splice(0, 4, length & 0xff, length >> 8, 5, RTM_GET);
  header.splice(12, 4, addrBits, 0, 0, 0);
  return Uint8Array.from([...header, ...body]);
}

Deno.test("decoded texts stay right for thousands of distinct addresses, MACs and names", () => {
  // The decoder keeps recent address, MAC and name texts in small caches: many distinct values
  // collide and evict, and every text must still be the one its bytes spell. Two passes: the
  // second meets entries the first left behind.
  const hex2 = (b: number) => b.toString(16).padStart(2, "0");
  for (let pass = 0; pass < 2; pass++) {
    for (let i = 0; i < 5000; i++) {
      const quad = [10, i >> 8, i & 0xff, (i * 7) & 0xff];
      const name = i % 2 === 0 ? `en${i}` : `bridge${i}`;
      const mac = [0x02, i >> 8, i & 0xff, (i * 13) & 0xff, 0x5e, (i * 31) & 0xff];
      const nameBytes = [...name].map((c) => c.charCodeAt(0));
      const sdlLength = Math.ceil(Math.max(20, 8 + nameBytes.length + 6) / 4) * 4;
      const sdl = [
        sdlLength,
        18,
        i & 0xff,
        i >> 8,
        6,
        nameBytes.length,
        6,
        0,
        ...nameBytes,
        ...mac,
      ];
      // IPv6: one 32-bit word varies at a time, so entries that differ in a single word meet.
      const groups = [0x2001, 0xdb8, 1, 2, 3, 4, 5, 6];
      groups[2 * (i % 4) + 1] = 0x1000 + (i >> 2);
      const sin6 = [28, 30, 0, 0, 0, 0, 0, 0, ...groups.flatMap((g) => [g >> 8, g & 0xff])];
      sin6.push(0, 0, 0, 0);
      const v4 = decodeOk(getWith(0x3, [[16, 2, 0, 0, ...quad, 0, 0, 0, 0, 0, 0, 0, 0], sdl]));
      assertEquals(v4.addrs, {
        dst: { family: "inet4", address: quad.join(".") },
        gateway: {
          family: "link",
          index: i,
          type: 6,
          name,
          linkAddress: mac.map(hex2).join(":"),
        },
      }, `pass ${pass} #${i}`);
      const v6 = decodeOk(getWith(0x1, [sin6]));
      assertEquals(v6.addrs, {
        dst: { family: "inet6", address: groups.map((g) => g.toString(16)).join(":") },
      }, `pass ${pass} #${i}`);
    }
  }
});

Deno.test("routeFlagNames: bits with no name are shown as one hex remainder", () => {
  // 0x80000 and 0x80000000 have no RTF_ name in route.h.
  assertEquals(routeFlagNames(0x803 | 0x80000 | 0x80000000), "UP,GATEWAY,STATIC,0x80080000");
  assertEquals(routeFlagNames(0), "");
});

Deno.test("sockaddr_dl names: a surrogate pair is one byte, a lone surrogate one too", () => {
  // fromLatin1-style names: one byte per code point; sdl_nlen and sa_len must agree with what
  // writeSockaddr puts down.
  for (
    const [name, nlen] of [["en0", 3], ["\ud83d\ude00a", 2], ["a\ud83d", 2], [
      "\ud83dx",
      2,
    ]] as const
  ) {
    const sa = { family: "link", index: 4, name } as const;
    const saLen = sockaddrLength(sa);
    assertEquals(saLen, linkSockaddrLength(nlen, 0, 0), name);
    const out = new Uint8Array(roundup32(saLen));
    writeSockaddr(sa, out, 0, saLen);
    assertEquals(out[5], nlen, `sdl_nlen of ${JSON.stringify(name)}`);
  }
});
