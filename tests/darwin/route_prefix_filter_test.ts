/**
 * The darwin codec's table-size fast path (issue 15): decodeMessages with wanted prefix lengths
 * steps over other routes by their header and sockaddr lengths. On random dumps (kernel-shaped
 * routes among random messages, some damaged) it must return exactly the full decoder's messages
 * less the unwanted routes, and so find exactly the defaults the full decoder finds; on garbage it
 * must neither throw nor loop.
 *
 * Seeded; rerun a failure with `CODEC_SEED=<seed> deno test --allow-all <this file>`.
 */
import { assert, assertEquals } from "../assert.ts";
import {
  decodeMessages,
  encodeRouteMessage,
  kernelDefaultNetmask,
  prefixLengths,
  type RouteMessageInit,
  type RoutingMessage,
  RTF_GATEWAY,
  RTF_IFSCOPE,
  RTF_UP,
  RTM_ADD,
  RTM_DELETE,
  RTM_GET,
  RTM_GET2,
  RTM_IFINFO,
  RTM_NEWADDR,
  type Sockaddr,
} from "../../lib/darwin/route_message.ts";
import { isDefaultRouteMessage } from "../../lib/darwin/route_table.ts";
import { Gen } from "../seeded_random.ts";
import { SYNTHETIC_DEFAULTS, syntheticDump, syntheticRoute } from "./synthetic_dump.ts";

const seed = Number(Deno.env.get("CODEC_SEED") ?? Math.floor(Math.random() * 2 ** 32)) >>> 0;
console.log(`darwin prefix filter tests: seed ${seed} (rerun with CODEC_SEED=${seed})`);

/**
 * The destination prefix length of a decoded message, the filter's specification: a route
 * message with an inet DST and every sockaddr in place has its NETMASK's prefix length (-1 when
 * not contiguous) or, without one, a host route's; anything else has none and is always kept.
 */
function prefixLengthOf(message: RoutingMessage): number | null {
  if (message.kind !== "route" && message.kind !== "route2") return null;
  if (message.addrsTruncated) return null;
  const dst = message.addrs.dst;
  if (dst?.family !== "inet4" && dst?.family !== "inet6") return null;
  const netmask = message.addrs.netmask;
  if (netmask === undefined) return dst.family === "inet4" ? 32 : 128;
  if (netmask.family !== "inet4" && netmask.family !== "inet6") return null;
  return netmask.prefixLength ?? -1;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

function randomAddress(g: Gen, family: 4 | 6, zero: boolean): Sockaddr {
  if (family === 4) {
    return { family: "inet4", address: zero ? "0.0.0.0" : [...g.bytes(4)].join(".") };
  }
  if (zero) return { family: "inet6", address: "::" };
  const words = Array.from({ length: 8 }, () => g.int(0x10000).toString(16));
  return { family: "inet6", address: words.join(":") };
}

/** A netmask as the kernel (trimmed, family 0 or 0xff) or route(8) writes it. */
function randomMask(g: Gen, family: 4 | 6): Sockaddr | undefined {
  const bits = family === 4 ? 32 : 128;
  const shape = g.int(6);
  if (shape === 0) return undefined; // a host route
  if (shape === 1) return kernelDefaultNetmask(family);
  const length = shape === 2 ? g.pick([0, 1, 2]) : g.int(bits + 1);
  const bytes = new Array<number>(bits / 8).fill(0);
  for (let i = 0; i < length; i++) bytes[i >> 3]! |= 0x80 >> (i & 7);
  if (shape === 5) bytes[g.int(bytes.length)] = g.int(256); // often not contiguous
  const last = bytes.findLastIndex((b) => b !== 0);
  const trimmed = (family === 4 ? 4 : 8) + last + 1;
  const address = family === 4
    ? bytes.join(".")
    : Array.from({ length: 8 }, (_, i) => ((bytes[2 * i]! << 8) | bytes[2 * i + 1]!).toString(16))
      .join(":");
  return family === 4
    ? { family: "inet4", address, length: trimmed, familyByte: g.pick([0, 0xff]) }
    : { family: "inet6", address, length: Math.max(trimmed, 8), familyByte: g.pick([0, 0xff]) };
}

function randomRoute(g: Gen): RouteMessageInit {
  const family = g.chance(0.7) ? 4 : 6;
  const addrs: Record<string, Sockaddr> = { dst: randomAddress(g, family, g.chance(0.4)) };
  if (g.chance(0.9)) addrs.gateway = randomAddress(g, family, false);
  const mask = randomMask(g, family);
  if (mask) addrs.netmask = mask;
  if (g.chance(0.2)) addrs.ifp = { family: "link", index: 4, type: 6, name: "en0" };
  if (g.chance(0.1)) addrs.ifa = randomAddress(g, family, false);
  if (g.chance(0.05)) addrs.dst = { family: "link", index: 3 }; // no inet DST
  return {
    type: g.pick([RTM_GET, RTM_GET, RTM_ADD, RTM_DELETE, RTM_GET2]),
    flags: RTF_UP | RTF_GATEWAY | (g.chance(0.3) ? RTF_IFSCOPE : 0),
    index: g.int(30),
    addrs,
    ...(g.chance(0.1) ? { style: "rt_msg1" as const } : {}),
  };
}

function randomOther(g: Gen): RouteMessageInit {
  return g.chance(0.5)
    ? {
      type: RTM_IFINFO,
      index: 4,
      addrs: { ifp: { family: "link", index: 4, type: 6, name: "en0" } },
    }
    : { type: RTM_NEWADDR, index: 4, addrs: { ifa: randomAddress(g, 4, false) } };
}

function randomBuffer(g: Gen): Uint8Array {
  const parts = Array.from(
    { length: g.int(16) },
    () => encodeRouteMessage(g.chance(0.85) ? randomRoute(g) : randomOther(g)),
  );
  const bytes = concat(parts);
  const mode = g.int(5);
  if (mode === 0 && bytes.length > 0) {
    for (let flips = 1 + g.int(6); flips > 0; flips--) bytes[g.int(bytes.length)] = g.int(256);
  } else if (mode === 1) {
    return bytes.subarray(0, g.int(bytes.length + 1));
  }
  return bytes;
}

Deno.test(`prefix filter: the full decoder's messages less the unwanted routes (seed ${seed})`, () => {
  const g = new Gen(seed);
  let stepped = 0;
  let keptRoutes = 0;
  let defaults = 0;
  for (let i = 0; i < 5000; i++) {
    const bytes = randomBuffer(g);
    const lengths = g.pick([[0], [0, 1], [0, 1, 2], [24, 128], [32], [64]]);
    const wanted = new Set(lengths);
    const full = decodeMessages(bytes);
    const fast = decodeMessages(bytes, prefixLengths(lengths));
    const expected = full.messages.filter((m) => {
      const prefix = prefixLengthOf(m);
      return prefix === null || wanted.has(prefix);
    });
    assertEquals(fast.messages, expected, `case ${i}`);
    assert(fast.skipped <= full.skipped, `case ${i}`);
    assertEquals(fast.errors.length, fast.skipped, `case ${i}`);
    if (wanted.has(0)) {
      // So the defaults found are exactly the full decoder's.
      const isDefault = (m: RoutingMessage) => m.kind === "route" && isDefaultRouteMessage(m);
      assertEquals(fast.messages.filter(isDefault), full.messages.filter(isDefault), `case ${i}`);
      defaults += full.messages.filter(isDefault).length;
    }
    stepped += full.messages.length - fast.messages.length;
    keptRoutes += fast.messages.filter((m) => prefixLengthOf(m) !== null).length;
  }
  assert(
    stepped > 2000 && keptRoutes > 1000 && defaults > 200,
    `${stepped} ${keptRoutes} ${defaults}`,
  );
});

Deno.test(`prefix filter: random garbage never throws, the walk ends (seed ${seed})`, () => {
  const g = new Gen(seed ^ 0x3333);
  for (let i = 0; i < 5000; i++) {
    const bytes = g.bytes(g.int(400));
    if (bytes.length >= 4 && g.chance(0.7)) {
      // Plausible headers, so the sockaddr walk is reached.
      const length = g.chance(0.8) ? bytes.length : g.int(0x10000);
      bytes[0] = length & 0xff;
      bytes[1] = length >> 8;
      bytes[2] = 5;
      bytes[3] = g.pick([RTM_GET, RTM_ADD, RTM_GET2]);
    }
    const out = decodeMessages(bytes, prefixLengths([0, 1]));
    assert(out.messages.reduce((sum, m) => sum + m.length, 0) <= bytes.length, `case ${i}`);
    assert(out.errors.every((e) => e.kind !== "malformed"), `case ${i}`);
  }
});

Deno.test("prefix filter: the defaults of a 100,000-route dump, wherever they are", () => {
  const routes = Array.from({ length: 100_000 }, (_, i) => encodeRouteMessage(syntheticRoute(i)));
  const defaults = SYNTHETIC_DEFAULTS.map(encodeRouteMessage);
  // Not only first, as a radix walk lists them: in the middle and at the end too.
  const dump = concat([
    defaults[0]!,
    ...routes.slice(0, 50_000),
    defaults[1]!,
    ...routes.slice(50_000),
    defaults[2]!,
  ]);
  const found = decodeMessages(dump, prefixLengths([0])).messages;
  assertEquals(found.length, 3);
  assertEquals(found, decodeMessages(concat(defaults)).messages);
  assert(found.every((m) => m.kind === "route" && isDefaultRouteMessage(m)));
  // The halves of the address space are found as cheaply when asked for.
  const half = concat([
    encodeRouteMessage({
      type: RTM_GET,
      addrs: {
        dst: { family: "inet4", address: "128.0.0.0" },
        netmask: { family: "inet4", address: "128.0.0.0", length: 5, familyByte: 0xff },
      },
    }),
    syntheticDump(1000),
  ]);
  assertEquals(decodeMessages(half, prefixLengths([1])).messages.length, 1);
  assertEquals(decodeMessages(half, prefixLengths([0, 1])).messages.length, 4);
});
