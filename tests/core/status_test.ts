/**
 * status's diagnosis as a table: the condition named, the words, and what restore would do.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { planRestore } from "../../lib/core/policy/restore_plan.ts";
import type { SavedFamily } from "../../lib/core/state/schema.ts";
import { type Condition, diagnose } from "../../lib/core/policy/status.ts";
import type {
  DefaultRoute,
  Family,
  NetInterface,
  PrimaryInfo,
} from "../../lib/core/model/types.ts";
import type { TunnelHold } from "../../lib/core/policy/tunnel_hold.ts";
import { iface, primary, route } from "./fake_route_table.ts";

const en0 = iface("en0", 4, ["192.168.1.0/24", "fe80::/64"]);
const utun4 = iface("utun4", 20, ["10.8.0.0/24"]);
const en1 = iface("en1", 5, ["192.168.2.0/24"]);
const SAVED: SavedFamily = {
  route: { gateway: "192.168.1.1", interface: "en0", index: 4, flags: 0x803 },
  scutil: null,
  savedAt: "2026-11-25T21:00:00.000Z",
  savedBy: "save",
};

interface Row {
  name: string;
  family?: Family;
  defaults: DefaultRoute[];
  interfaces: NetInterface[];
  scutil?: PrimaryInfo | null;
  scutilError?: string;
  saved?: SavedFamily | null;
  /** How live tunnels hold the traffic (tunnel_hold.ts). */
  holds?: TunnelHold[];
  condition: Condition;
  summary: RegExp;
  wouldDo: RegExp;
  notes?: RegExp;
}

const ROWS: Row[] = [
  {
    name: "healthy",
    defaults: [route("192.168.1.1", "en0", 4), route("192.168.1.1", "en0", 4, true)],
    interfaces: [en0],
    scutil: primary(4, "192.168.1.1", "en0"),
    condition: "healthy",
    summary: /^IPv4 is fine: the global default is 192\.168\.1\.1 via en0$/,
    wouldDo: /^nothing \(a global default is present\)$/,
  },
  {
    name: "the sing-tun #80 condition: scoped default only",
    defaults: [route("10.8.0.1", "utun4", 20, true), route("192.168.1.1", "en0", 4, true)],
    interfaces: [en0, utun4],
    scutil: primary(4, "192.168.1.1", "en0"),
    saved: SAVED,
    condition: "scoped-only",
    summary:
      /no global IPv4 default, only scoped ones \(10\.8\.0\.1 via utun4 \(scoped to utun4\).*sing-tun #80/,
    wouldDo: /^route add default 192\.168\.1\.1 \(en0\) \(from scutil\)$/,
  },
  {
    name: "the default goes through a VPN",
    defaults: [route("10.8.0.1", "utun4", 20)],
    interfaces: [en0, utun4],
    scutil: primary(4, "10.8.0.1", "utun4"),
    condition: "tunnel-default",
    summary: /through tunnel utun4.*restore leaves it alone/,
    wouldDo: /^nothing/,
  },
  {
    name: "a default on a vanished interface",
    defaults: [route("172.20.0.1", "en9", 30)],
    interfaces: [en0],
    saved: SAVED,
    condition: "broken-default",
    summary: /172\.20\.0\.1 via en9 is dead: en9 is gone, so traffic has nowhere to go/,
    wouldDo:
      /^route delete default 172\.20\.0\.1 \(en9\), then route add default 192\.168\.1\.1 \(en0\) \(from saved\)$/,
  },
  {
    // macOS keeps en0 UP|RUNNING without a link; configd's Link key says Active : FALSE.
    name: "a default on an interface whose link is inactive: link inactive, and replaced",
    defaults: [route("192.168.1.1", "en0", 4)],
    interfaces: [{ ...en0, linkDown: true }, en1],
    scutil: primary(4, "192.168.2.1", "en1"),
    saved: SAVED,
    condition: "broken-default",
    summary: /192\.168\.1\.1 via en0 is dead: en0's link is inactive/,
    wouldDo:
      /^route delete default 192\.168\.1\.1 \(en0\), then route add default 192\.168\.2\.1 \(en1\) \(from scutil\)$/,
  },
  {
    name: "a default on an interface that is down",
    defaults: [route("192.168.1.1", "en0", 4)],
    interfaces: [{ ...en0, up: false }, en1],
    scutil: primary(4, "192.168.2.1", "en1"),
    condition: "broken-default",
    summary: /192\.168\.1\.1 via en0 is dead: en0 is down/,
    wouldDo: /^route delete default 192\.168\.1\.1 \(en0\), then route add default 192\.168\.2\.1/,
  },
  {
    // Linux: `default dev tun0 linkdown`, a persistent tun whose owner was killed.
    name: "a route the kernel marks linkdown",
    defaults: [{ ...route("10.8.0.1", "tun0", 30), linkDown: true }],
    interfaces: [en0, iface("tun0", 30, ["10.8.0.0/24"])],
    saved: SAVED,
    condition: "broken-default",
    summary: /via tun0 is dead: tun0's link is down \(the kernel marks the route linkdown\)/,
    wouldDo: /^route delete default 10\.8\.0\.1 \(tun0\), then route add default 192\.168\.1\.1/,
  },
  {
    name: "no default at all, saved route known",
    defaults: [],
    interfaces: [en0],
    saved: SAVED,
    condition: "missing",
    summary: /no IPv4 default route/,
    wouldDo: /route add default 192\.168\.1\.1 \(en0\) \(from saved\)/,
  },
  {
    name: "no default and nothing known whatsoever",
    family: 6,
    defaults: [],
    interfaces: [en0],
    condition: "no-network",
    summary: /no IPv6 default and no IPv6 gateway known/,
    wouldDo: /nothing: no gateway known \(it would exit 4 if asked\)/,
  },
  {
    name: "saved interface gone and nothing else: missing, exit 4",
    defaults: [],
    interfaces: [],
    saved: SAVED,
    condition: "missing",
    summary: /no IPv4 default route/,
    wouldDo: /^nothing: no gateway known \(it would exit 4\)$/,
    notes: /saved route's interface en0 no longer exists/,
  },
  {
    name: "scutil disagrees with the kernel",
    defaults: [route("192.168.1.1", "en0", 4)],
    interfaces: [en0],
    scutil: primary(4, "192.168.1.254", "en0"),
    condition: "healthy",
    summary: /fine/,
    wouldDo: /^nothing/,
    notes: /scutil's Router is 192\.168\.1\.254 on en0, not the kernel's gateway/,
  },
  {
    name: "issue 18 item 5: OpenVPN def1's split default carries the traffic over a fine default",
    defaults: [route("192.168.1.1", "en0", 4)],
    interfaces: [en0, utun4],
    holds: [{
      family: 4,
      interface: "utun4",
      kind: "split-routes",
      how: "0.0.0.0/1 + 128.0.0.0/1 on utun4 (all of IPv4), more specific than any default",
    }],
    condition: "tunnel-carried",
    summary:
      /^the IPv4 traffic goes through tunnel utun4: 0\.0\.0\.0\/1 \+ 128\.0\.0\.0\/1 on utun4 .*The global default 192\.168\.1\.1 via en0 stays under it .*restore leaves it alone/,
    wouldDo: /^nothing \(a global default is present\)$/,
  },
  {
    name: "a tunnel's own global default stays 'tunnel-default'",
    defaults: [route(null, "utun4", 20)],
    interfaces: [en0, utun4],
    holds: [{ family: 4, interface: "utun4", kind: "default", how: "its own global IPv4 default" }],
    condition: "tunnel-default",
    summary: /goes through tunnel utun4/,
    wouldDo: /^nothing/,
  },
  {
    name: "a void while a tunnel holds the traffic says so, and that the healer waits",
    defaults: [route("10.8.0.1", "utun4", 20, true)],
    interfaces: [en0, utun4],
    saved: SAVED,
    holds: [{
      family: 4,
      interface: "utun4",
      kind: "scoped-default",
      how: "a default scoped to utun4 (10.8.0.1 via utun4 (scoped to utun4))",
    }],
    condition: "scoped-only",
    summary:
      /sing-tun #80 condition.*Meanwhile tunnel utun4 holds the IPv4 traffic \(a default scoped to utun4.*'watch --heal' waits until it goes away$/,
    wouldDo: /^route add default 192\.168\.1\.1 \(en0\) \(from saved\)$/,
  },
  {
    name: "IPv6 link-local default",
    family: 6,
    defaults: [route("fe80::1", "en0", 4)],
    interfaces: [en0],
    condition: "healthy",
    summary: /^IPv6 is fine: the global default is fe80::1%en0$/,
    wouldDo: /^nothing/,
  },
];

for (const row of ROWS) {
  Deno.test(`diagnosis: ${row.name}`, () => {
    const family = row.family ?? 4;
    const plan = planRestore({
      family,
      saved: row.saved ?? null,
      stateError: null,
      scutil: row.scutil ?? null,
      scutilError: row.scutilError ?? null,
      defaults: row.defaults,
      interfaces: row.interfaces,
      options: { force: false, replaceTunnelDefaults: new Set() },
    });
    const diagnosis = diagnose({
      family,
      defaults: row.defaults,
      interfaces: row.interfaces,
      scutil: row.scutil ?? null,
      scutilError: row.scutilError ?? null,
      saved: row.saved ?? null,
      plan,
      ...(row.holds ? { holds: row.holds } : {}),
    });
    assertEquals(diagnosis.condition, row.condition, diagnosis.summary);
    assertMatch(diagnosis.summary, row.summary);
    assertMatch(diagnosis.restoreWouldDo, row.wouldDo);
    if (row.notes) assertMatch(diagnosis.notes.join("\n"), row.notes);
    else assertEquals(diagnosis.notes, []);
  });
}
