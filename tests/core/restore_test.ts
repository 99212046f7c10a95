/**
 * restoreDefaults against the in-memory macOS-like table: announcements before changes, EEXIST
 * as "someone restored it first", ENETUNREACH as "next candidate", verification by re-read,
 * bounded retries with injected delays, dry-run, --force, run's tunnel leftovers, exit codes.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { RouteTableError } from "../../lib/core/model/errors.ts";
import { recordingLog } from "../support/recording_log.ts";
import {
  restoreDefaults,
  restoreExitCode,
  type RestoreOptions,
} from "../../lib/core/ops/restore.ts";
import type { DefrouteState } from "../../lib/core/state/schema.ts";
import { FakePrimary, FakeRouteTable, iface, primary, route } from "./fake_route_table.ts";

const SAVED_EN0: DefrouteState = {
  version: 1,
  updatedAt: "2026-11-25T21:00:00.000Z",
  families: {
    4: {
      route: { gateway: "192.168.1.1", interface: "en0", index: 4, flags: 0x803 },
      scutil: { router: "192.168.1.1", interface: "en0", service: null },
      savedAt: "2026-11-25T21:00:00.000Z",
      savedBy: "save",
    },
  },
};

function setup(options: { scutil4?: ReturnType<typeof primary> | Error | null } = {}) {
  const table = new FakeRouteTable([
    iface("en0", 4, ["192.168.1.0/24", "fe80::/64"]),
    iface("en1", 5, ["10.0.0.0/24"]),
  ], [route("192.168.1.1", "en0", 4), route("192.168.1.1", "en0", 4, true)]);
  const scutil = new FakePrimary({ 4: options.scutil4 ?? null });
  const system = { table, primary: scutil };
  const log = recordingLog();
  const sleeps: number[] = [];
  const base: RestoreOptions = {
    families: [4],
    statePath: null,
    state: SAVED_EN0,
    log,
    sleep: (ms) => {
      sleeps.push(ms);
      return Promise.resolve();
    },
  };
  return { table, scutil, system, log, sleeps, base };
}

Deno.test("after the sing-tun sequence: announces, adds the saved default, verifies", async () => {
  const { table, system, log, base } = setup();
  const tunnel = iface("utun4", 20, ["10.8.0.0/24"]);
  table.singTunStart(tunnel, "10.8.0.1");
  table.singTunStop("utun4");
  assertEquals(table.global(4), undefined);
  const report = await restoreDefaults(system, base);
  const [v4] = report.families;
  assertEquals(v4?.outcome, "restored");
  assertEquals(v4?.source, "saved");
  assertEquals(v4?.before, null);
  assertEquals(table.global(4)?.gateway, "192.168.1.1");
  assertEquals(table.global(4)?.interface, "en0");
  assertEquals(log.lines.filter((l) => l.startsWith("[#]")), [
    "[#] route add default 192.168.1.1 (en0)",
  ]);
  assertEquals(table.calls, ["add 192.168.1.1 en0"]);
  assertEquals(restoreExitCode(report), 0);
});

Deno.test("a present default is left alone: no change at all", async () => {
  const { table, system, base } = setup({ scutil4: primary(4, "10.0.0.1", "en1") });
  const report = await restoreDefaults(system, base);
  assertEquals(report.families[0]?.outcome, "present");
  assertEquals(table.calls, []);
  assertEquals(restoreExitCode(report), 0);
});

Deno.test("both families: one look at the machine for both, then only the re-read", async () => {
  const { table, system, scutil, base } = setup({ scutil4: primary(4, "192.168.1.1", "en0") });
  table.routes = table.routes.filter((r) => r.scoped); // the global IPv4 default is gone
  let interfaceReads = 0;
  const listInterfaces = table.interfaces.bind(table);
  table.interfaces = () => {
    interfaceReads++;
    return listInterfaces();
  };
  const report = await restoreDefaults(system, { ...base, families: [4, 6] });
  assertEquals(report.families.map((f) => f.outcome), ["restored", "no-gateway"]);
  assertEquals(table.calls, ["add 192.168.1.1 en0"]);
  // One listing shared by both families' plans; the verifying re-read reads only the defaults
  // (their interface is the kernel's rtm_index). scutil is asked once per family (one scutil run
  // on a Mac), not again for the second family.
  assertEquals(interfaceReads, 1);
  assertEquals(scutil.calls, 2);
});

Deno.test("IPv6 link-local: announced as fe80::1%en0 and added on en0", async () => {
  const { table, system, log, base } = setup();
  table.routes = [];
  system.primary.answers[6] = primary(6, "fe80::1", "en0");
  const report = await restoreDefaults(system, { ...base, families: [6] });
  assertEquals(report.families[0]?.outcome, "restored");
  assertEquals(log.lines.filter((l) => l.startsWith("[#]")), [
    "[#] route add -inet6 default fe80::1%en0",
  ]);
  assertEquals(table.global(6)?.interface, "en0");
});

Deno.test("EEXIST and a global default on re-read: someone restored it first", async () => {
  const { table, system, base } = setup();
  table.routes = [];
  table.beforeAdd = () => {
    table.beforeAdd = null;
    table.routes.push(route("192.168.1.1", "en0", 4)); // configd wins the race
  };
  const report = await restoreDefaults(system, base);
  assertEquals(report.families[0]?.outcome, "already");
  assertMatch(report.families[0]?.message ?? "", /someone restored it first/);
  assertEquals(table.routes.filter((r) => !r.scoped).length, 1);
  assertEquals(restoreExitCode(report), 0);
});

Deno.test("ENETUNREACH on the first candidate: the next one is tried", async () => {
  const { table, system, log, base } = setup({ scutil4: primary(4, "172.16.0.1", "en1") });
  table.routes = [];
  const report = await restoreDefaults(system, base);
  assertEquals(report.families[0]?.outcome, "restored");
  assertEquals(report.families[0]?.source, "saved");
  assertEquals(table.calls, ["add 172.16.0.1 en1", "add 192.168.1.1 en0"]);
  assertMatch(report.families[0]?.errors.join() ?? "", /172\.16\.0\.1 is unreachable.*ENETUNREACH/);
  assertEquals(log.lines.filter((l) => l.startsWith("[#]")).length, 2);
});

Deno.test("retries with backoff while an interface settles", async () => {
  const { table, system, sleeps, base } = setup({ scutil4: primary(4, "10.0.0.1", "en1") });
  table.routes = [];
  const en1 = table.ifaces.find((i) => i.name === "en1")!;
  en1.up = false;
  // No saved state: only scutil's en1, which is down until the first wait is over.
  const report = await restoreDefaults(system, {
    ...base,
    state: null,
    sleep: (ms) => {
      sleeps.push(ms);
      en1.up = true;
      return Promise.resolve();
    },
  });
  assertEquals(sleeps, [500]);
  assertEquals(report.families[0]?.outcome, "restored");
  assertEquals(report.families[0]?.attempts, 2);
  assertEquals(table.global(4)?.interface, "en1");
});

Deno.test("every attempt failing: bounded retries (0.5 s, 2.5 s, 12.5 s), then failed", async () => {
  const { table, system, sleeps, base } = setup();
  table.routes = [];
  const unreachable = () =>
    new RouteTableError("unreachable", "network unreachable", "ENETUNREACH");
  table.failNext = [unreachable(), unreachable(), unreachable(), unreachable()];
  const report = await restoreDefaults(system, base);
  assertEquals(sleeps, [500, 2500, 12500]);
  assertEquals(report.families[0]?.outcome, "failed");
  assertEquals(report.families[0]?.attempts, 4);
  assertEquals(restoreExitCode(report), 1);
  assertEquals(table.global(4), undefined);
});

Deno.test("a kernel that accepts but does not keep the route is caught by the re-read", async () => {
  const { table, system, base } = setup();
  table.routes = [];
  table.dropAdds = true;
  const report = await restoreDefaults(system, { ...base, retryDelaysMs: [1] });
  assertEquals(report.families[0]?.outcome, "failed");
  assertMatch(report.families[0]?.errors[0] ?? "", /re-read shows no global default/);
});

Deno.test("EPERM is thrown at once (the CLI exits 3)", async () => {
  const { table, system, base } = setup();
  table.routes = [];
  table.root = false;
  await assertRejects(
    () => restoreDefaults(system, base),
    (e) => e instanceof RouteTableError && e.kind === "needs-root",
  );
});

Deno.test("--dry-run plans and changes nothing", async () => {
  const { table, system, log, base } = setup();
  table.routes = [];
  const report = await restoreDefaults(system, { ...base, dryRun: true });
  assertEquals(report.families[0]?.outcome, "planned");
  assertEquals(report.families[0]?.route?.gateway, "192.168.1.1");
  assertEquals(table.calls, []);
  assert(log.lines.includes("would run: route add default 192.168.1.1 (en0)"));
  assertEquals(log.lines.filter((l) => l.startsWith("[#]")), []);
});

Deno.test("--force replaces a present default, announcing the delete first", async () => {
  const { table, system, log, base } = setup({ scutil4: primary(4, "10.0.0.1", "en1") });
  const report = await restoreDefaults(system, { ...base, force: true });
  assertEquals(report.families[0]?.outcome, "restored");
  assertEquals(report.families[0]?.replaced?.interface, "en0");
  assertEquals(log.lines.filter((l) => l.startsWith("[#]")), [
    "[#] route delete default 192.168.1.1 (en0)",
    "[#] route add default 10.0.0.1 (en1)",
  ]);
  assertEquals(table.global(4)?.gateway, "10.0.0.1");
  // The scoped default configd keeps for en0 is untouched.
  assert(table.routes.some((r) => r.scoped && r.interface === "en0"));
});

Deno.test("--force whose adds all fail puts the old default back", async () => {
  const { table, system, base } = setup({ scutil4: primary(4, "10.0.0.1", "en1") });
  const before = structuredClone(table.routes);
  const fail = () => new RouteTableError("invalid", "EINVAL", "EINVAL");
  table.failNext = [fail(), fail()];
  const report = await restoreDefaults(system, { ...base, force: true, retryDelaysMs: [] });
  assertEquals(report.families[0]?.outcome, "failed");
  assertEquals(table.global(4)?.gateway, "192.168.1.1");
  assertEquals(table.routes.length, before.length);
  assertEquals(report.families[0]?.replaced, null);
});

Deno.test("run's tunnel leftover is replaced; plain restore leaves a VPN's default", async () => {
  const { table, system, base } = setup();
  table.routes = [route("10.8.0.1", "utun4", 20)];
  table.ifaces.push(iface("utun4", 20, ["10.8.0.0/24"]));
  const plain = await restoreDefaults(system, base);
  assertEquals(plain.families[0]?.outcome, "present");
  assertEquals(table.calls, []);
  const run = await restoreDefaults(system, {
    ...base,
    replaceTunnelDefaults: new Set(["utun4"]),
  });
  assertEquals(run.families[0]?.outcome, "restored");
  assertEquals(table.global(4)?.interface, "en0");
  assertEquals(table.calls, ["delete global 4", "add 192.168.1.1 en0"]);
});

Deno.test("a broken default (interface gone) is deleted, then the good one added", async () => {
  const { table, system, base } = setup();
  table.routes = [route("172.20.0.1", "en9", 30)];
  const report = await restoreDefaults(system, base);
  assertEquals(report.families[0]?.outcome, "restored");
  assertEquals(table.calls, ["delete global 4", "add 192.168.1.1 en0"]);
});

Deno.test("exit codes: 4 when a saved default cannot be restored, 0 for a family never there", async () => {
  const { table, system, base } = setup();
  table.routes = [];
  table.ifaces = table.ifaces.filter((i) => i.name !== "en0"); // the saved interface is gone
  const lost = await restoreDefaults(system, { ...base, families: [4, 6] });
  assertEquals(lost.families.map((f) => f.outcome), ["no-gateway", "no-gateway"]);
  assertEquals(restoreExitCode(lost), 4);
  assertMatch(lost.families[0]?.message ?? "", /en0 no longer exists/);

  // IPv4 restored, IPv6 never had a network: fine.
  const ok = setup();
  ok.table.routes = [];
  const mixed = await restoreDefaults(ok.system, { ...ok.base, families: [4, 6] });
  assertEquals(mixed.families.map((f) => f.outcome), ["restored", "no-gateway"]);
  assertEquals(restoreExitCode(mixed), 0);

  // Only IPv6 asked for, and nothing known: 4.
  const only6 = await restoreDefaults(ok.system, { ...ok.base, families: [6] });
  assertEquals(restoreExitCode(only6), 4);
});

Deno.test("an unusable state file is reported and restore goes on with scutil", async () => {
  const dir = await Deno.makeTempDir({ prefix: "defroute-restore-" });
  try {
    const path = `${dir}/state.json`;
    await Deno.writeTextFile(path, "{ truncated");
    const { table, system, log, base } = setup({ scutil4: primary(4, "10.0.0.1", "en1") });
    table.routes = [];
    const report = await restoreDefaults(system, { ...base, state: undefined, statePath: path });
    assertMatch(report.stateError ?? "", /cannot be used: not JSON/);
    assertEquals(report.families[0]?.outcome, "restored");
    assert(log.lines.some((l) => /^warn: .*restoring without it/.test(l)));
    assertEquals(await Deno.readTextFile(path), "{ truncated"); // left for inspection
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("scutil failing is not fatal: the saved route is used", async () => {
  const { table, system, base } = setup({ scutil4: new Error("scutil timed out") });
  table.routes = [];
  const report = await restoreDefaults(system, base);
  assertEquals(report.families[0]?.outcome, "restored");
  assert(
    report.families[0]?.looked.some((f) => /scutil unavailable \(scutil timed out\)/.test(f.note)),
  );
});
