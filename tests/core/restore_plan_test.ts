/**
 * The restore policy as a table: (saved, scutil, kernel defaults, interfaces, options) -> plan.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  type PlanInput,
  planRestore,
  type RestorePlan,
} from "../../lib/core/policy/restore_plan.ts";
import type { SavedFamily } from "../../lib/core/state/schema.ts";
import type { DefaultRoute, Family, NetInterface } from "../../lib/core/model/types.ts";
import { iface, primary, route } from "./fake_route_table.ts";

const en0 = iface("en0", 4, ["192.168.1.0/24", "fe80::/64"]);
const en1 = iface("en1", 5, ["10.0.0.0/24"]);
const utun4 = iface("utun4", 20, ["10.8.0.0/24"]);
const en0Down = { ...en0, up: false };

function saved(gateway: string | null, ifname = "en0", index = 4): SavedFamily {
  return {
    route: gateway === null ? null : { gateway, interface: ifname, index, flags: 0x803 },
    scutil: null,
    savedAt: "2026-11-25T21:00:00.000Z",
    savedBy: "save",
  };
}

const lan0 = iface("lan0", 2, ["10.77.0.0/24"]);
const lan1 = iface("lan1", 3, ["10.77.1.0/24"]);

/** A Linux state entry: the best default, then the others (gateway, interface, index, metric). */
function savedLinux(
  best: [string, string, number, number],
  ...others: [string, string, number, number][]
): SavedFamily {
  const of = ([gateway, name, index, metric]: [string, string, number, number]) => ({
    gateway,
    interface: name,
    index,
    flags: 3,
    metric,
  });
  return {
    route: of(best),
    ...(others.length > 0 ? { others: others.map(of) } : {}),
    scutil: null,
    savedAt: "2026-11-25T21:00:00.000Z",
    savedBy: "save",
  };
}

interface Row {
  name: string;
  family?: Family;
  saved?: SavedFamily | null;
  stateError?: string;
  scutil?: ReturnType<typeof primary> | null;
  scutilError?: string;
  /** false: a platform without scutil (Linux). */
  hasScutil?: boolean;
  defaults?: DefaultRoute[];
  interfaces: NetInterface[];
  force?: boolean;
  replaceTunnels?: string[];
  /** What the plan must be. */
  action: RestorePlan["action"];
  /** For "add": the gateway%interface (source) of each candidate, in order. */
  candidates?: string[];
  /** For "add": the interface of the default deleted first. */
  replace?: string | null;
  settling?: boolean;
  expected?: boolean;
  reason?: RegExp;
  /** gateway%interface/metric of each saved default put back beside the plan's action. */
  putBack?: string[];
}

const ROWS: Row[] = [
  {
    name: "sing-tun #80 after the tunnel stopped: scutil and saved agree (one candidate)",
    saved: saved("192.168.1.1"),
    scutil: primary(4, "192.168.1.1", "en0"),
    interfaces: [en0],
    action: "add",
    candidates: ["192.168.1.1%en0 (scutil)"],
    replace: null,
  },
  {
    name: "network changed during the tunnel: scutil's new network wins, saved is second",
    saved: saved("192.168.1.1"),
    scutil: primary(4, "10.0.0.1", "en1"),
    defaults: [route("10.8.0.1", "utun4", 20, true)],
    interfaces: [en0, en1, utun4],
    action: "add",
    candidates: ["10.0.0.1%en1 (scutil)", "192.168.1.1%en0 (saved)"],
  },
  {
    name: "saved interface gone, scutil silent: nothing known, and it was expected",
    saved: saved("192.168.1.1", "en5", 9),
    scutil: null,
    interfaces: [en0],
    action: "none",
    settling: false,
    expected: true,
    reason: /en5 no longer exists/,
  },
  {
    name: "scutil points at a utun: skipped, the saved route is used",
    saved: saved("192.168.1.1"),
    scutil: primary(4, "10.8.0.1", "utun4"),
    defaults: [route("10.8.0.1", "utun4", 20, true)],
    interfaces: [en0, utun4],
    action: "add",
    candidates: ["192.168.1.1%en0 (saved)"],
  },
  {
    name: "IPv6 link-local router from scutil, scoped by PrimaryInterface",
    family: 6,
    scutil: primary(6, "fe80::1", "en0"),
    interfaces: [en0],
    action: "add",
    candidates: ["fe80::1%en0 (scutil)"],
  },
  {
    name: "only IPv4 present: IPv6 with nothing known is not expected",
    family: 6,
    saved: saved(null),
    scutil: null,
    defaults: [],
    interfaces: [en0],
    action: "none",
    expected: false,
    settling: false,
  },
  {
    name: "nothing known at all (scutil failing, no state file)",
    scutilError: "cannot run /usr/sbin/scutil: no such file",
    interfaces: [en0],
    action: "none",
    expected: false,
    reason: /scutil unavailable \(cannot run.*nothing saved for IPv4/,
  },
  {
    name: "an unusable state file is named in what was looked at",
    stateError: "the state file /x is corrupt",
    interfaces: [en0],
    action: "none",
    reason: /state file not used \(the state file \/x is corrupt\)/,
  },
  {
    name: "default present: nothing to do",
    saved: saved("192.168.1.1"),
    scutil: primary(4, "10.0.0.1", "en1"),
    defaults: [route("192.168.1.1", "en0", 4), route("10.8.0.1", "utun4", 20, true)],
    interfaces: [en0, en1, utun4],
    action: "keep",
    reason: /^IPv4 default present: 192\.168\.1\.1 via en0$/,
  },
  {
    name: "default present on a tunnel: restore leaves it",
    saved: saved("192.168.1.1"),
    scutil: primary(4, "192.168.1.1", "en0"),
    defaults: [route("10.8.0.1", "utun4", 20)],
    interfaces: [en0, utun4],
    action: "keep",
    reason: /present on tunnel utun4.*left alone/,
  },
  {
    name: "default present on a tunnel that appeared during run: run replaces it",
    saved: saved("192.168.1.1"),
    scutil: primary(4, "10.8.0.1", "utun4"),
    defaults: [route("10.8.0.1", "utun4", 20)],
    interfaces: [en0, utun4],
    replaceTunnels: ["utun4"],
    action: "add",
    candidates: ["192.168.1.1%en0 (saved)"],
    replace: "utun4",
    reason: /utun4 is a tunnel whose owner has stopped/,
  },
  {
    name: "a tunnel default not named by run stays even under run",
    saved: saved("192.168.1.1"),
    defaults: [route("10.8.0.1", "utun4", 20)],
    interfaces: [en0, utun4],
    replaceTunnels: ["utun7"],
    action: "keep",
  },
  {
    name: "--force replaces a present default with scutil's",
    saved: saved("192.168.1.1"),
    scutil: primary(4, "10.0.0.1", "en1"),
    defaults: [route("192.168.1.1", "en0", 4)],
    interfaces: [en0, en1],
    force: true,
    action: "add",
    candidates: ["10.0.0.1%en1 (scutil)", "192.168.1.1%en0 (saved)"],
    replace: "en0",
  },
  {
    name: "--force with the default already what restore would add: keep",
    scutil: primary(4, "192.168.1.1", "en0"),
    defaults: [route("192.168.1.1", "en0", 4)],
    interfaces: [en0],
    force: true,
    action: "keep",
    reason: /already what restore would add/,
  },
  {
    name: "--force with no other gateway known: keep, never delete the only default",
    defaults: [route("192.168.1.1", "en0", 4)],
    interfaces: [en0],
    force: true,
    action: "keep",
    reason: /not replaced \(--force\) because no other gateway is known/,
  },
  {
    name: "a global default on a gone interface is broken: replaced",
    saved: saved("10.0.0.1", "en1", 5),
    defaults: [route("192.168.1.1", "en7", 12)],
    interfaces: [en1],
    action: "add",
    candidates: ["10.0.0.1%en1 (saved)"],
    replace: "en7",
  },
  {
    name: "scutil's interface is down: settling (retry), saved still tried",
    saved: saved("10.0.0.1", "en1", 5),
    scutil: primary(4, "192.168.1.1", "en0"),
    interfaces: [en0Down, en1],
    action: "add",
    candidates: ["10.0.0.1%en1 (saved)"],
  },
  {
    name: "scutil's interface not there yet and nothing saved: none, settling",
    scutil: primary(4, "192.168.1.1", "en3"),
    interfaces: [en0],
    action: "none",
    settling: true,
    expected: false,
  },
  {
    name: "a saved route on a tunnel (save --force during a VPN) is never restored",
    saved: saved("10.8.0.1", "utun4", 20),
    interfaces: [utun4],
    action: "none",
    reason: /utun4 is a tunnel/,
  },
  {
    name: "scutil has PrimaryInterface but no Router",
    scutil: primary(4, null, "en0"),
    saved: saved("192.168.1.1"),
    interfaces: [en0],
    action: "add",
    candidates: ["192.168.1.1%en0 (saved)"],
  },
  {
    name: "Linux (no scutil): nothing is said of scutil keys, the saved route is used",
    hasScutil: false,
    saved: saved("10.77.0.1", "veth0", 2),
    interfaces: [iface("veth0", 2, ["10.77.0.0/24"])],
    action: "add",
    candidates: ["10.77.0.1%veth0 (saved)"],
  },
  {
    name: "Linux (no scutil), nothing saved: the reason names no scutil key",
    hasScutil: false,
    interfaces: [en0],
    action: "none",
    reason: /^no IPv4 gateway known: no global IPv4 default; nothing saved for IPv4$/,
  },
  {
    name: "issue 18 item 2: lan0 (metric 100) deleted, lan1 (600) present: lan0 is put back",
    hasScutil: false,
    saved: savedLinux(["10.77.0.1", "lan0", 2, 100], ["10.77.1.1", "lan1", 3, 600]),
    defaults: [{ ...route("10.77.1.1", "lan1", 3), metric: 600 }],
    interfaces: [lan0, lan1],
    action: "keep",
    putBack: ["10.77.0.1%lan0/100"],
    reason:
      /present: 10\.77\.1\.1 via lan1, but the saved 10\.77\.0\.1 via lan0 metric 100 is missing/,
  },
  {
    name: "both Linux defaults gone: the best is added, the other put back beside it",
    hasScutil: false,
    saved: savedLinux(["10.77.0.1", "lan0", 2, 100], ["10.77.1.1", "lan1", 3, 600]),
    interfaces: [lan0, lan1],
    action: "add",
    candidates: ["10.77.0.1%lan0 (saved)"],
    putBack: ["10.77.1.1%lan1/600"],
  },
  {
    name: "a saved second default whose interface is gone is not put back",
    hasScutil: false,
    saved: savedLinux(["10.77.0.1", "lan0", 2, 100], ["10.77.1.1", "lan1", 3, 600]),
    defaults: [{ ...route("10.77.0.1", "lan0", 2), metric: 100 }],
    interfaces: [lan0],
    action: "keep",
    putBack: [],
  },
  {
    name: "while a tunnel's own default is up, nothing is put back beside it",
    hasScutil: false,
    saved: savedLinux(["10.77.0.1", "lan0", 2, 100]),
    defaults: [{ ...route(null, "tun0", 7), metric: 0 }],
    interfaces: [lan0, iface("tun0", 7, [])],
    action: "keep",
    putBack: [],
  },
  {
    name: "macOS (no metric): configd's default on another interface is never fought",
    saved: saved("192.168.1.1"),
    defaults: [route("10.0.0.1", "en1", 5)],
    interfaces: [en0, en1],
    action: "keep",
    putBack: [],
  },
  {
    name: "the other family's routes are ignored",
    family: 6,
    defaults: [route("192.168.1.1", "en0", 4)],
    scutil: primary(6, "fe80::1", "en0"),
    interfaces: [en0],
    action: "add",
    candidates: ["fe80::1%en0 (scutil)"],
  },
];

for (const row of ROWS) {
  Deno.test(`plan: ${row.name}`, () => {
    const family = row.family ?? 4;
    const input: PlanInput = {
      family,
      saved: row.saved ?? null,
      stateError: row.stateError ?? null,
      scutil: row.scutil ?? null,
      scutilError: row.scutilError ?? null,
      ...(row.hasScutil !== undefined ? { hasScutil: row.hasScutil } : {}),
      defaults: row.defaults ?? [],
      interfaces: row.interfaces,
      options: { force: row.force ?? false, replaceTunnelDefaults: new Set(row.replaceTunnels) },
    };
    const plan = planRestore(input);
    assertEquals(plan.action, row.action, plan.reason);
    assertEquals(plan.family, family);
    if (row.reason) assertMatch(plan.reason, row.reason);
    assert(plan.looked.some((f) => f.source === "kernel"), "the kernel is always looked at");
    assertEquals(
      plan.looked.some((f) => f.source === "scutil"),
      row.hasScutil !== false,
      "scutil is looked at, and named, only where there is one",
    );
    if (row.hasScutil === false) assert(!/scutil|State:/.test(plan.reason), plan.reason);
    assert(plan.looked.some((f) => f.source === "saved"));
    if (plan.action === "add") {
      const got = plan.candidates.map((c) =>
        `${c.route.gateway}%${c.route.interface} (${c.source})`
      );
      if (row.candidates) assertEquals(got, row.candidates);
      for (const c of plan.candidates) {
        assertEquals(c.route.scoped, false, "restore adds the global default, never a scoped one");
        assertEquals(c.route.family, family);
        const known = row.interfaces.find((i) => i.name === c.route.interface);
        assertEquals(c.route.index, known?.index, "the index comes from the live interface");
      }
      if (row.replace !== undefined) assertEquals(plan.replace?.interface ?? null, row.replace);
    }
    if (row.putBack !== undefined && plan.action !== "none") {
      assertEquals(
        plan.putBack.map((r) => `${r.gateway}%${r.interface}/${r.metric}`),
        row.putBack,
      );
    }
    if (plan.action === "none") {
      if (row.settling !== undefined) assertEquals(plan.settling, row.settling);
      if (row.expected !== undefined) assertEquals(plan.expected, row.expected);
    }
    // Pure: the same input gives the same plan.
    assertEquals(planRestore(input), plan);
  });
}
