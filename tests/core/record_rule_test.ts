/**
 * The recording rule as a table (issue 18 items 1 and 2): which of a family's global defaults
 * the route monitor may record as the last good default, and why not.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { decideRecord, type RecordInput } from "../../lib/core/policy/record_rule.ts";
import type { SavedFamily } from "../../lib/core/state/schema.ts";
import type { DefaultRoute, NetInterface, PrimaryInfo } from "../../lib/core/model/types.ts";
import { iface, primary, route } from "./fake_route_table.ts";

const lan0 = iface("lan0", 2, ["10.77.0.0/24"]);
const lan1 = iface("lan1", 3, ["10.77.1.0/24"]);
/** The reproduction: a veth made while CMD ran. */
const corp0 = iface("corp0", 9, ["10.8.0.192/27"]);
/** An Ethernet-typed TAP of any name is a tunnel by its driver (IFLA_INFO_KIND "tun"). */
const tap = iface("corp1", 10, ["10.9.0.0/24"], { tunnel: true });
const ppp = { ...iface("wwan0", 11, ["10.64.0.0/24"]), pointToPoint: true };
const en0 = iface("en0", 4, ["192.168.1.0/24"]);
const en5 = iface("en5", 12, ["192.168.2.0/24"]);

const LAN0 = { ...route("10.77.0.1", "lan0", 2), metric: 100 };
const LAN1 = { ...route("10.77.1.1", "lan1", 3), metric: 600 };
const CORP0 = route("10.8.0.193", "corp0", 9);

function saved(r: DefaultRoute | null): SavedFamily {
  return {
    route: r && {
      gateway: r.gateway!,
      interface: r.interface!,
      index: r.index,
      flags: r.flags,
      ...(r.metric !== undefined ? { metric: r.metric } : {}),
    },
    scutil: null,
    savedAt: "2026-11-25T21:00:00.000Z",
    savedBy: "run",
  };
}

interface Row {
  name: string;
  globals: DefaultRoute[];
  interfaces: NetInterface[];
  /** Interfaces that were there before the change; all of `interfaces` when absent. */
  before?: NetInterface[];
  /** scutil's view (macOS); absent = no scutil (Linux). */
  scutil?: PrimaryInfo | null;
  saved?: DefaultRoute | null;
  /** The interface recorded, or a pattern of why nothing is. */
  expect: string | RegExp;
}

const ROWS: Row[] = [
  {
    name: "issue 18 item 1: a default on an interface that appeared while CMD ran is CMD's",
    globals: [CORP0],
    interfaces: [lan0, corp0],
    before: [lan0],
    saved: LAN0,
    expect: /corp0 appeared after defroute started watching/,
  },
  {
    name: "... and it stays CMD's even with nothing saved",
    globals: [CORP0],
    interfaces: [lan0, corp0],
    before: [lan0],
    saved: null,
    expect: /corp0 appeared after/,
  },
  {
    name: "a TAP by its driver is a tunnel, whatever its name and however old",
    globals: [route("10.9.0.1", "corp1", 10)],
    interfaces: [tap],
    expect: /corp1 is a tunnel/,
  },
  {
    name: "a point-to-point link is never the LAN's router",
    globals: [route("10.64.0.1", "wwan0", 11)],
    interfaces: [ppp],
    expect: /wwan0 is point-to-point/,
  },
  {
    name: "issue 18 item 2: lan0's default deleted, lan1's is worse and never replaces it",
    globals: [LAN1],
    interfaces: [lan0, lan1],
    saved: LAN0,
    expect: /the saved default's interface lan0 still exists/,
  },
  {
    name: "the saved interface is gone: the default on a trusted interface is recorded",
    globals: [LAN1],
    interfaces: [lan1],
    saved: LAN0,
    expect: "lan1",
  },
  {
    name: "a new router on the saved interface itself (DHCP renewal) is recorded",
    globals: [{ ...LAN0, gateway: "10.77.0.254" }],
    interfaces: [lan0, lan1],
    saved: LAN0,
    expect: "lan0",
  },
  {
    name: "the first acceptable default is recorded: the new corp0 is skipped for lan0",
    globals: [CORP0, LAN0],
    interfaces: [lan0, corp0],
    before: [lan0],
    saved: null,
    expect: "lan0",
  },
  {
    name: "the same name on a new index is a new interface",
    globals: [LAN0],
    interfaces: [lan0],
    before: [{ ...lan0, index: 7 }],
    expect: /lan0 appeared after/,
  },
  {
    name: "a down interface is not recorded",
    globals: [LAN0],
    interfaces: [{ ...lan0, up: false }],
    expect: /lan0 is down/,
  },
  {
    name: "macOS: scutil's PrimaryInterface is trusted",
    globals: [route("192.168.1.1", "en0", 4)],
    interfaces: [en0],
    scutil: primary(4, "192.168.1.1", "en0"),
    expect: "en0",
  },
  {
    name: "macOS: a default on an interface that is not scutil's PrimaryInterface is not",
    globals: [route("192.168.2.1", "en5", 12)],
    interfaces: [en0, en5],
    scutil: primary(4, "192.168.1.1", "en0"),
    expect: /en5 is not scutil's PrimaryInterface \(en0\)/,
  },
  {
    name: "macOS: scutil saying nothing gives no reason to trust",
    globals: [route("192.168.1.1", "en0", 4)],
    interfaces: [en0],
    scutil: null,
    expect: /not scutil's PrimaryInterface \(none\)/,
  },
  {
    name: "a scoped default is never recorded",
    globals: [route("192.168.1.1", "en0", 4, true)],
    interfaces: [en0],
    expect: /not a global default/,
  },
];

for (const row of ROWS) {
  Deno.test(`record rule: ${row.name}`, () => {
    const before = row.before ?? row.interfaces;
    const input: RecordInput = {
      globals: row.globals,
      interfaces: row.interfaces,
      presentBefore: (i) => before.some((b) => b.index === i.index && b.name === i.name),
      ...(row.scutil !== undefined ? { scutil: row.scutil } : {}),
      saved: row.saved === undefined ? null : saved(row.saved),
    };
    const decision = decideRecord(input);
    if (typeof row.expect === "string") {
      assertEquals(decision.record ? decision.route.interface : decision.reason, row.expect);
    } else {
      assertEquals(decision.record, false, JSON.stringify(decision));
      if (!decision.record) assertMatch(decision.reason, row.expect);
    }
    assertEquals(decideRecord(input), decision, "pure");
  });
}
