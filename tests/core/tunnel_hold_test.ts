/**
 * Which live tunnel holds a family's traffic, as a table (issue 17 "Never route around a live
 * tunnel", issue 18 item 5): defaults of any scope, routes covering half the addresses, and
 * (Linux) policy rules.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { coveredBlocks, type HoldInput, tunnelHolds } from "../../lib/core/policy/tunnel_hold.ts";
import type {
  Carriers,
  DefaultRoute,
  NetInterface,
  WideRoute,
} from "../../lib/core/model/types.ts";
import { iface, route } from "./fake_route_table.ts";

const en0 = iface("en0", 4, ["192.168.1.0/24"]);
const utun4 = iface("utun4", 10, ["198.18.0.0/30"]);
const tun1 = iface("tun1", 7, ["10.78.0.0/24"]);
const wg0 = iface("wg0", 8, ["10.79.0.0/24"]);
/** A TAP of any name is a tunnel by its driver (NetInterface.tunnel). */
const corp0 = iface("corp0", 9, [], { tunnel: true });

function wide(destination: string, prefix: number, on: NetInterface, scoped = false): WideRoute {
  const family = destination.includes(":") ? 6 : 4;
  return { family, destination, prefix, interface: on.name, index: on.index, scoped };
}

/** sing-tun auto_route's split of 0.0.0.0/0 without 0/8. */
const SINGTUN_SPLIT = [1, 2, 4, 8, 16, 32, 64, 128].map((first, i) =>
  wide(`${first}.0.0.0`, 8 - i, utun4)
);

function carriers(extra: Partial<Carriers>): Carriers {
  return { wide: [], policies: [], suppressMainDefault: null, ...extra };
}

const WG_TABLE: DefaultRoute = { ...route(null, "wg0", 8), metric: 0 };

interface Row {
  name: string;
  input: Omit<HoldInput, "family"> & { family?: 4 | 6 };
  /** interface:kind of each hold, in order. */
  expect: string[];
  how?: RegExp;
}

const ROWS: Row[] = [
  {
    name: "nothing but the LAN's default: no hold",
    input: {
      defaults: [route("192.168.1.1", "en0", 4)],
      carriers: carriers({}),
      interfaces: [en0],
    },
    expect: [],
  },
  {
    name: "sing-tun #80: a default scoped to the utun",
    input: {
      defaults: [route("198.18.0.1", "utun4", 10, true)],
      carriers: null,
      interfaces: [en0, utun4],
    },
    expect: ["utun4:scoped-default"],
    how: /^a default scoped to utun4/,
  },
  {
    name: "a tunnel's own global default",
    input: { defaults: [route(null, "tun1", 7)], carriers: null, interfaces: [en0, tun1] },
    expect: ["tun1:default"],
  },
  {
    name: "OpenVPN def1 / wg-quick on macOS: 0/1 + 128/1 cover all of IPv4",
    input: {
      defaults: [],
      carriers: carriers({ wide: [wide("0.0.0.0", 1, tun1), wide("128.0.0.0", 1, tun1)] }),
      interfaces: [en0, tun1],
    },
    expect: ["tun1:split-routes"],
    how: /^0\.0\.0\.0\/1 \+ 128\.0\.0\.0\/1 on tun1 \(all of IPv4\)/,
  },
  {
    name: "sing-tun's split ranges cover 255/256",
    input: { defaults: [], carriers: carriers({ wide: SINGTUN_SPLIT }), interfaces: [utun4] },
    expect: ["utun4:split-routes"],
    how: /\+ 4 more on utun4 \(99% of IPv4\)/,
  },
  {
    name: "exactly half (128/1 alone) holds",
    input: {
      defaults: [],
      carriers: carriers({ wide: [wide("128.0.0.0", 1, tun1)] }),
      interfaces: [tun1],
    },
    expect: ["tun1:split-routes"],
  },
  {
    name: "less than half (64/2 + 10/8) does not; overlaps count once",
    input: {
      defaults: [],
      carriers: carriers({
        wide: [wide("64.0.0.0", 2, tun1), wide("96.0.0.0", 3, tun1), wide("10.0.0.0", 8, tun1)],
      }),
      interfaces: [tun1],
    },
    expect: [],
  },
  {
    name: "IPv6: ::/1 + 8000::/1",
    input: {
      family: 6,
      defaults: [],
      carriers: carriers({ wide: [wide("::", 1, wg0), wide("8000::", 1, wg0)] }),
      interfaces: [wg0],
    },
    expect: ["wg0:split-routes"],
    how: /all of IPv6/,
  },
  {
    name: "a tunnel that is down holds nothing",
    input: {
      defaults: [route("198.18.0.1", "utun4", 10, true)],
      carriers: carriers({ wide: SINGTUN_SPLIT }),
      interfaces: [{ ...utun4, up: false }],
    },
    expect: [],
  },
  {
    name: "wide routes on the LAN are no tunnel's",
    input: {
      defaults: [],
      carriers: carriers({ wide: [wide("0.0.0.0", 1, en0), wide("128.0.0.0", 1, en0)] }),
      interfaces: [en0],
    },
    expect: [],
  },
  {
    name: "a TAP by its driver is a tunnel",
    input: {
      defaults: [],
      carriers: carriers({ wide: [wide("0.0.0.0", 1, corp0), wide("128.0.0.0", 1, corp0)] }),
      interfaces: [corp0],
    },
    expect: ["corp0:split-routes"],
  },
  {
    name: "wg-quick on Linux: not fwmark 0xca6c lookup 51820, main's default suppressed",
    input: {
      defaults: [route("10.77.0.1", "en0", 4)],
      carriers: carriers({
        policies: [{
          family: 4,
          priority: 32765,
          table: 51820,
          selector: "not fwmark 0xca6c",
          beforeMain: true,
          defaults: [WG_TABLE],
        }],
        suppressMainDefault: 32764,
      }),
      interfaces: [en0, wg0],
    },
    expect: ["wg0:policy-rule"],
    how:
      /^policy rule 32765 \(not fwmark 0xca6c lookup 51820\) sends it to table 51820: default dev wg0; rule 32764/,
  },
  {
    name: "a rule after main's, with main's default in use, carries nothing",
    input: {
      defaults: [route("10.77.0.1", "en0", 4)],
      carriers: carriers({
        policies: [{
          family: 4,
          priority: 40000,
          table: 100,
          selector: "all",
          beforeMain: false,
          defaults: [WG_TABLE],
        }],
      }),
      interfaces: [en0, wg0],
    },
    expect: [],
  },
  {
    name: "... but with main's default gone it does",
    input: {
      defaults: [],
      carriers: carriers({
        policies: [{
          family: 4,
          priority: 40000,
          table: 100,
          selector: "all",
          beforeMain: false,
          defaults: [WG_TABLE],
        }],
      }),
      interfaces: [en0, wg0],
    },
    expect: ["wg0:policy-rule"],
  },
];

for (const row of ROWS) {
  Deno.test(`tunnel hold: ${row.name}`, () => {
    const input = { family: 4 as const, ...row.input };
    const holds = tunnelHolds(input);
    assertEquals(holds.map((h) => `${h.interface}:${h.kind}`), row.expect);
    if (row.how) assertMatch(holds[0]?.how ?? "", row.how);
    assertEquals(tunnelHolds(input), holds, "pure");
  });
}

Deno.test("tunnel hold: coverage counts 256ths by the first byte, overlaps once", () => {
  assertEquals(coveredBlocks(4, [wide("0.0.0.0", 1, tun1)]), 128);
  assertEquals(coveredBlocks(4, [wide("0.0.0.0", 1, tun1), wide("0.0.0.0", 2, tun1)]), 128);
  assertEquals(coveredBlocks(4, SINGTUN_SPLIT), 255);
  assertEquals(coveredBlocks(6, [wide("2000::", 3, wg0)]), 32);
  // Not a network: ignored, never thrown on.
  assertEquals(coveredBlocks(4, [{ ...wide("0.0.0.0", 1, tun1), destination: "nope" }]), 0);
});
