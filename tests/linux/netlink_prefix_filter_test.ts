// The rtnetlink codec's table-size fast path (issue 15): decodeMessages with wanted prefix
// lengths steps over other routes by their header, and passedIpv4Defaults says when an IPv4
// dump has gone past the main table's defaults. Both are checked against the full decoder on
// random dumps, and on garbage they must neither throw nor loop.
import { assert, assertEquals, assertThrows } from "../assert.ts";
import {
  AF_INET,
  AF_INET6,
  decodeMessages,
  encodeAttributes,
  encodeMessage,
  encodeRtmsg,
  IFINFOMSG_LEN,
  IFLA_IFNAME,
  type NetlinkMessage,
  NLMSG_DONE,
  NLMSG_ERROR,
  passedIpv4Defaults,
  prefixLengths,
  RT_TABLE_MAIN,
  RTA_DST,
  RTA_TABLE,
  RTM_DELROUTE,
  RTM_GETROUTE,
  RTM_NEWLINK,
  RTM_NEWROUTE,
  u32Attribute,
} from "../../lib/linux/netlink_message.ts";
import { Gen } from "../seeded_random.ts";

const seed = Number(Deno.env.get("CODEC_SEED") ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
console.log(`netlink prefix filter tests: seed ${seed} (rerun with CODEC_SEED=${seed})`);

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

interface RouteSpec {
  type?: number;
  family?: number;
  dstLen: number;
  dst?: number[];
  table?: number;
  tableAttribute?: number;
}

function routeMessage(spec: RouteSpec): Uint8Array {
  const family = spec.family ?? AF_INET;
  return encodeMessage(
    { type: spec.type ?? RTM_NEWROUTE, flags: 2, seq: 9, pid: 0 },
    encodeRtmsg({
      family,
      dstLen: spec.dstLen,
      table: spec.table ?? RT_TABLE_MAIN,
      dst: spec.dst ? Uint8Array.from(spec.dst) : null,
      gateway: family === AF_INET ? Uint8Array.of(10, 77, 0, 1) : null,
      oif: 3,
      priority: spec.dstLen,
      tableAttribute: spec.tableAttribute ?? null,
    }),
  );
}

const DONE = encodeMessage({ type: NLMSG_DONE, flags: 2, seq: 9, pid: 0 }, new Uint8Array(4));

function linkMessage(name: string): Uint8Array {
  const info = new Uint8Array(IFINFOMSG_LEN);
  info[4] = 5; // ifi_index
  return encodeMessage(
    { type: RTM_NEWLINK, flags: 0, seq: 9, pid: 0 },
    concat([info, encodeAttributes([{ type: IFLA_IFNAME, data: new TextEncoder().encode(name) }])]),
  );
}

/** A random message of the kinds a dump or a monitor read holds. */
function randomMessage(g: Gen): Uint8Array {
  switch (g.int(8)) {
    case 0:
      return linkMessage(g.pick(["eth0", "tun0", "veth0"]));
    case 1:
      return DONE;
    case 2: {
      const error = new Uint8Array(20);
      error[0] = g.int(2) === 0 ? 0 : 0xef;
      return encodeMessage({ type: NLMSG_ERROR, flags: 0, seq: 9, pid: 0 }, error);
    }
    default: {
      const family = g.chance(0.7) ? AF_INET : AF_INET6;
      const size = family === AF_INET ? 4 : 16;
      const dstLen = g.pick([0, 0, 1, 8, 24, 32, 48, 64, 128, g.int(256)]);
      const zero = g.chance(0.4);
      return routeMessage({
        type: g.pick([RTM_NEWROUTE, RTM_NEWROUTE, RTM_DELROUTE, RTM_GETROUTE]),
        family,
        dstLen,
        dst: dstLen === 0 && g.chance(0.8)
          ? undefined
          : Array.from({ length: size }, () => zero ? 0 : g.int(256)),
        table: g.pick([RT_TABLE_MAIN, RT_TABLE_MAIN, 255, 100]),
        tableAttribute: g.chance(0.3) ? g.pick([RT_TABLE_MAIN, 1000, 255]) : undefined,
      });
    }
  }
}

/** A random dump, and sometimes a damaged one (bytes flipped, cut short). */
function randomBuffer(g: Gen): { bytes: Uint8Array; damaged: boolean } {
  const bytes = concat(Array.from({ length: g.int(12) }, () => randomMessage(g)));
  const mode = g.int(4);
  if (mode === 0 && bytes.length > 0) {
    for (let flips = 1 + g.int(4); flips > 0; flips--) bytes[g.int(bytes.length)] = g.int(256);
    return { bytes, damaged: true };
  }
  if (mode === 1) return { bytes: bytes.subarray(0, g.int(bytes.length + 1)), damaged: true };
  return { bytes, damaged: false };
}

function isWantedOrNotRoute(message: NetlinkMessage, wanted: ReadonlySet<number>): boolean {
  return message.kind !== "route" || wanted.has(message.route.dstLen);
}

Deno.test("prefix filter: exactly the full decoder's messages less the unwanted routes", () => {
  const g = new Gen(seed);
  let stepped = 0;
  let kept = 0;
  for (let i = 0; i < 4000; i++) {
    const { bytes } = randomBuffer(g);
    const wanted = new Set(g.pick([[0], [0, 1], [0, 1, 2, 128], [24, 32]]));
    const full = decodeMessages(bytes);
    const fast = decodeMessages(bytes, prefixLengths(wanted));
    const expected = full.messages.filter((m) => isWantedOrNotRoute(m, wanted));
    assertEquals(fast.messages, expected, `case ${i}`);
    // Only the routes stepped over go uncounted: an unwanted route whose body is bad was an
    // error of the full walk.
    assert(fast.skipped <= full.skipped, `case ${i}`);
    assertEquals(fast.errors.length, fast.skipped, `case ${i}`);
    stepped += full.messages.length - fast.messages.length;
    kept += fast.messages.filter((m) => m.kind === "route").length;
  }
  // The generator really made both kinds of route.
  assert(stepped > 1000 && kept > 1000, `stepped ${stepped}, kept ${kept}`);
});

Deno.test("prefix filter: a default among 10,000 other routes is the only route decoded", () => {
  const others = Array.from(
    { length: 10_000 },
    (_, i) => routeMessage({ dstLen: 24, dst: [100, 64 + (i >> 8), i & 0xff, 0] }),
  );
  // A route message too short for its rtmsg has no prefix length to judge: still an error.
  const short = encodeMessage({ type: RTM_NEWROUTE, flags: 2, seq: 9, pid: 0 }, new Uint8Array(8));
  short[16 + 1] = 24;
  const dump = concat([
    ...others.slice(0, 5000),
    routeMessage({ dstLen: 0 }),
    short,
    ...others,
    DONE,
  ]);
  const batch = decodeMessages(dump, prefixLengths([0]));
  assertEquals(batch.messages.map((m) => m.kind), ["route", "done"]);
  assertEquals(batch.skipped, 1);
  assert(/rtmsg needs 12 bytes/.test(batch.errors[0] ?? ""), batch.errors[0]);
  // prefixLengths refuses what is no prefix length.
  assertThrows(() => prefixLengths([129]), /prefix length is 0-128/);
  assertThrows(() => prefixLengths([0.5]), /not 0.5/);
});

Deno.test("passedIpv4Defaults: only a main-table IPv4 route to a destination other than 0.0.0.0", () => {
  const passed = (...specs: RouteSpec[]) =>
    passedIpv4Defaults(concat(specs.map(routeMessage)), RT_TABLE_MAIN);
  assertEquals(passed({ dstLen: 0 }), false);
  // Routes in the defaults' trie leaf (0.0.0.0/N) do not end it.
  assertEquals(passed({ dstLen: 0 }, { dstLen: 8, dst: [0, 0, 0, 0] }), false);
  assertEquals(passed({ dstLen: 1, dst: [0, 0, 0, 0] }), false);
  assertEquals(passed({ dstLen: 0 }, { dstLen: 24, dst: [10, 77, 0, 0] }), true);
  assertEquals(passed({ dstLen: 1, dst: [128, 0, 0, 0] }), true);
  // Only the answer asked for counts (a late answer to an earlier request does not).
  const beyond = routeMessage({ dstLen: 24, dst: [10, 77, 0, 0] });
  assertEquals(passedIpv4Defaults(beyond, RT_TABLE_MAIN, 9), true);
  assertEquals(passedIpv4Defaults(beyond, RT_TABLE_MAIN, 10), false);
  // Another table's routes (rtm_table, or RTA_TABLE which wins) say nothing about main.
  assertEquals(passed({ dstLen: 32, dst: [10, 77, 0, 2], table: 255 }), false);
  assertEquals(passed({ dstLen: 24, dst: [10, 0, 0, 0], tableAttribute: 1000 }), false);
  assertEquals(passed({ dstLen: 24, dst: [10, 0, 0, 0], table: 252, tableAttribute: 254 }), true);
  // IPv6, deletions and link messages neither.
  assertEquals(
    passed({ family: AF_INET6, dstLen: 64, dst: [0xfd, ...new Array(15).fill(0)] }),
    false,
  );
  assertEquals(passed({ type: RTM_DELROUTE, dstLen: 24, dst: [10, 0, 0, 0] }), false);
  assertEquals(passedIpv4Defaults(concat([linkMessage("eth0"), DONE]), RT_TABLE_MAIN), false);
  // The same route with its RTA_DST attribute mangled: unsure, so not passed.
  const mangled = routeMessage({ dstLen: 24, dst: [10, 0, 0, 0] });
  mangled[28 + 2] = 0xff; // the first attribute's type (RTA_DST) becomes another
  assertEquals(passedIpv4Defaults(mangled, RT_TABLE_MAIN), false);
  assertEquals(RTA_DST, 1);
  assertEquals(u32Attribute(RTA_TABLE, 1).data.length, 4);
});

Deno.test("passedIpv4Defaults agrees with the full decoder on random dumps, never throws", () => {
  const g = new Gen(seed ^ 0x5a5a);
  let yes = 0;
  for (let i = 0; i < 4000; i++) {
    const { bytes, damaged } = randomBuffer(g);
    const answer = passedIpv4Defaults(bytes, RT_TABLE_MAIN);
    if (damaged) continue; // only that it returns
    const expected = decodeMessages(bytes).messages.some((m) =>
      m.kind === "route" && m.header.type === RTM_NEWROUTE && m.route.family === AF_INET &&
      m.route.dstLen !== 0 && m.route.tableId === RT_TABLE_MAIN && m.route.dst !== null &&
      m.route.dst.some((b) => b !== 0)
    );
    assertEquals(answer, expected, `case ${i}`);
    if (answer) yes++;
  }
  assert(yes > 200, `only ${yes} dumps went past the defaults`);
});
