/**
 * Gateways that pass as addresses but blackhole traffic (lib/core/policy/blackhole.ts, and the text
 * checks in lib/core/model/gateway_address.ts): the machine's own address, an IPv4 subnet's network or
 * broadcast address, IPv4-mapped/-compatible IPv6, a loopback interface. Refused from every
 * source: the state file (parseState), scutil (interpretGlobalState) and the restore plan that
 * restore, `run` and the heal all go through, with the reason in what `status` shows.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { blackholeReason, isLoopbackName } from "../../lib/core/policy/blackhole.ts";
import { gatewayTextProblem, normalizeGateway } from "../../lib/core/model/gateway_address.ts";
import { parseState, StateFormatError } from "../../lib/core/state/schema.ts";
import { type PlanInput, planRestore } from "../../lib/core/policy/restore_plan.ts";
import { interpretGlobalState } from "../../lib/darwin/scutil.ts";
import type { InterfaceAddress } from "../../lib/core/model/types.ts";

const EN0_ADDRESSES: InterfaceAddress[] = [
  { family: 4, address: "192.168.1.20", prefix: 24, interface: "en0", index: 4 },
  { family: 6, address: "fe80::1c2a:3bff:fe4d:5e6f", prefix: 64, interface: "en0", index: 4 },
  { family: 4, address: "10.9.0.1", prefix: 31, interface: "en5", index: 7 },
];

Deno.test("blackholeReason: own address, network and broadcast address, loopback interface", () => {
  const reason = (family: 4 | 6, gateway: string, iface = "en0") =>
    blackholeReason(family, gateway, iface, EN0_ADDRESSES);
  assertEquals(reason(4, "192.168.1.1"), null, "a router on the subnet is fine");
  assertMatch(
    reason(4, "192.168.1.20")!,
    /192\.168\.1\.20 is this machine's own address \(on en0\)/,
  );
  assertMatch(reason(4, "192.168.1.0")!, /is the network address of 192\.168\.1\.0\/24 \(on en0\)/);
  assertMatch(reason(4, "192.168.1.255")!, /is the broadcast address of 192\.168\.1\.0\/24/);
  // The subnet's ends count whichever interface the route names.
  assertMatch(reason(4, "192.168.1.255", "en1")!, /broadcast address/);
  // A /31 has neither (RFC 3021): both of its addresses are hosts.
  assertEquals(reason(4, "10.9.0.0", "en5"), null);
  assertMatch(reason(4, "10.9.0.1", "en5")!, /own address \(on en5\)/);
  assertMatch(reason(6, "fe80::1c2a:3bff:fe4d:5e6f")!, /own address/);
  assertEquals(reason(6, "fe80::1"), null);
  // A link-local address is own only on its interface: every Mac has fe80::1 on lo0, and its
  // router is often fe80::1 on en0.
  const withLo0 = [
    ...EN0_ADDRESSES,
    { family: 6 as const, address: "fe80::1", prefix: 64, interface: "lo0", index: 1 },
  ];
  assertEquals(blackholeReason(6, "fe80::1", "en0", withLo0), null);
  assertMatch(blackholeReason(6, "fe80::1c2a:3bff:fe4d:5e6f", "en0", withLo0)!, /own address/);
  assertEquals(blackholeReason(6, "fe80::1c2a:3bff:fe4d:5e6f", "en1", withLo0), null);
  // IPv6 has no broadcast, and its subnet-router anycast address is a router (RFC 4291 2.6.1).
  assertEquals(
    blackholeReason(6, "2001:db8::", "en0", [
      { family: 6, address: "2001:db8::20", prefix: 64, interface: "en0", index: 4 },
    ]),
    null,
  );
  assertMatch(reason(4, "192.168.1.1", "lo0")!, /lo0 is the loopback interface/);
  assertMatch(reason(4, "10.0.0.1", "lo")!, /lo is the loopback interface/);
  assert(isLoopbackName("lo0") && isLoopbackName("lo") && !isLoopbackName("lorawan0"));
  assertEquals(blackholeReason(4, "192.168.1.20", "en0", []), null, "no addresses known");
});

Deno.test("IPv4-mapped and -compatible IPv6 are no gateways, with the reason", () => {
  for (const text of ["::ffff:127.0.0.1", "::ffff:192.168.1.1", "::ffff:c0a8:101"]) {
    assertEquals(normalizeGateway(6, text), null, text);
    assertMatch(gatewayTextProblem(6, text)!, /is an IPv4-mapped IPv6 address \(::ffff:0:0\/96\)/);
  }
  assertEquals(normalizeGateway(6, "::192.168.1.1"), null);
  assertMatch(gatewayTextProblem(6, "::192.168.1.1")!, /IPv4-compatible IPv6 address \(::\/96\)/);
  // Neighbours of those ranges stay gateways.
  assertEquals(normalizeGateway(6, "::1:ffff:7f00:1"), "::1:ffff:7f00:1");
  assertEquals(normalizeGateway(6, "64:ff9b::c0a8:101"), "64:ff9b::c0a8:101");
  assertEquals(gatewayTextProblem(6, "fe80::1"), null);
  assertMatch(gatewayTextProblem(6, "::1")!, /is not an IPv6 gateway address/);
});

Deno.test("the state file: an IPv4-mapped gateway makes it unusable, and says why", () => {
  const text = JSON.stringify({
    version: 1,
    updatedAt: "2026-11-25T21:00:00.000Z",
    families: {
      6: {
        route: { gateway: "::ffff:127.0.0.1", interface: "en0", index: 4, flags: 3 },
        scutil: null,
        savedAt: "2026-11-25T21:00:00.000Z",
        savedBy: "save",
      },
    },
  });
  assertThrows(
    () => parseState(text),
    (e: unknown) =>
      e instanceof StateFormatError &&
      /families\.6\.route\.gateway: ::ffff:127\.0\.0\.1 is an IPv4-mapped IPv6 address/.test(
        e.message,
      ),
  );
});

Deno.test("scutil: lo0 as PrimaryInterface and a mapped Router are refused, with the reason", () => {
  const lo = interpretGlobalState(4, { Router: "127.0.0.1", PrimaryInterface: "lo0" });
  assertEquals(lo.kind, "invalid");
  assert(lo.kind === "invalid");
  assertMatch(lo.reason, /PrimaryInterface lo0 is the loopback interface/);
  const loAlone = interpretGlobalState(4, { Router: "192.168.1.1", PrimaryInterface: "lo0" });
  assert(loAlone.kind === "invalid" && /loopback/.test(loAlone.reason));
  const mapped = interpretGlobalState(6, {
    Router: "::ffff:127.0.0.1",
    PrimaryInterface: "en0",
  });
  assert(mapped.kind === "invalid");
  assertMatch(mapped.reason, /Router: ::ffff:127\.0\.0\.1 is an IPv4-mapped IPv6 address/);
});

function planInput(overrides: Partial<PlanInput>): PlanInput {
  return {
    family: 4,
    saved: null,
    stateError: null,
    scutil: null,
    scutilError: null,
    defaults: [],
    interfaces: [
      { name: "lo0", index: 1, up: true, tunnel: false },
      { name: "en0", index: 4, up: true, tunnel: false },
    ],
    addresses: EN0_ADDRESSES,
    options: { force: false, replaceTunnelDefaults: new Set() },
    ...overrides,
  };
}

const saved = (gateway: string, iface = "en0") => ({
  route: { gateway, interface: iface, index: iface === "lo0" ? 1 : 4, flags: 3 },
  scutil: null,
  savedAt: "2026-11-25T21:00:00.000Z",
  savedBy: "save",
});

Deno.test("restore plan: a saved or scutil gateway that blackholes is refused and named", () => {
  for (
    const [gateway, iface, why] of [
      ["192.168.1.20", "en0", /own address/],
      ["192.168.1.255", "en0", /broadcast address/],
      ["192.168.1.0", "en0", /network address/],
      ["192.168.1.1", "lo0", /loopback interface/],
    ] as const
  ) {
    const plan = planRestore(planInput({ saved: saved(gateway, iface) }));
    assertEquals(plan.action, "none", `${gateway} via ${iface}`);
    const finding = plan.looked.find((f) => f.source === "saved")!;
    assertEquals(finding.usable, false);
    assertMatch(finding.note, /refused, /);
    assertMatch(finding.note, why);
    // A plan that would add from scutil's view of the same refuses it too.
    const fromScutil = planRestore(planInput({
      scutil: { family: 4, router: gateway, interface: iface, service: null },
    }));
    assertEquals(fromScutil.action, "none");
    assertMatch(fromScutil.looked.find((f) => f.source === "scutil")!.note, why);
  }
  // The router itself is used.
  const ok = planRestore(planInput({ saved: saved("192.168.1.1") }));
  assertEquals(ok.action, "add");
});
