/**
 * saveDefaults: what is saved, and the rule that a good saved route is never overwritten by a
 * worse one (missing, on a tunnel) unless --force.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { recordingLog } from "../support/recording_log.ts";
import { saveDefaults } from "../../lib/core/ops/save.ts";
import { StateFileError } from "../../lib/core/state/schema.ts";
import { readState, writeState } from "../../lib/core/state/store.ts";
import { FakePrimary, FakeRouteTable, iface, primary, route } from "./fake_route_table.ts";

const NOW = new Date("2026-11-25T22:00:00.000Z");
const LATER = new Date("2026-11-25T23:00:00.000Z");

async function withDir(fn: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "defroute-save-" });
  await Deno.chmod(dir, 0o755);
  try {
    await fn(`${dir}/state.json`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function machine() {
  const table = new FakeRouteTable([
    iface("en0", 4, ["192.168.1.0/24", "fe80::/64"]),
  ], [
    route("192.168.1.1", "en0", 4),
    route("192.168.1.1", "en0", 4, true),
    route("fe80::1", "en0", 4),
  ]);
  const scutil = new FakePrimary({
    4: primary(4, "192.168.1.1", "en0"),
    6: primary(6, "fe80::1", "en0"),
  });
  return { table, system: { table, primary: scutil } };
}

Deno.test("saves each family's global default (not the scoped one) and scutil's view", async () => {
  await withDir(async (path) => {
    const { system } = machine();
    const report = await saveDefaults(system, path, { families: [4, 6], now: () => NOW });
    assertEquals(report.written, true);
    assertEquals(report.families.map((f) => f.outcome), ["saved", "saved"]);
    assertEquals(report.families[0]?.scoped.length, 1);
    assertEquals(await readState(path), {
      version: 1,
      updatedAt: NOW.toISOString(),
      families: {
        4: {
          route: { gateway: "192.168.1.1", interface: "en0", index: 4, flags: 0x803 },
          scutil: {
            router: "192.168.1.1",
            interface: "en0",
            service: "2262B572-5785-46BF-AE88-7C003BE61B46",
          },
          savedAt: NOW.toISOString(),
          savedBy: "save",
        },
        6: {
          route: { gateway: "fe80::1", interface: "en0", index: 4, flags: 0x803 },
          scutil: {
            router: "fe80::1",
            interface: "en0",
            service: "2262B572-5785-46BF-AE88-7C003BE61B46",
          },
          savedAt: NOW.toISOString(),
          savedBy: "save",
        },
      },
    });
  });
});

Deno.test("a tunnel already broke the default: the good saved route is kept, and said so", async () => {
  await withDir(async (path) => {
    const { table, system } = machine();
    await saveDefaults(system, path, { families: [4], now: () => NOW });
    table.singTunStart(iface("utun4", 20, ["10.8.0.0/24"]), "10.8.0.1");
    const report = await saveDefaults(system, path, { families: [4], now: () => LATER });
    assertEquals(report.families[0]?.outcome, "kept");
    assertEquals(report.families[0]?.current, null);
    assertMatch(
      report.families[0]?.message ?? "",
      /kept the saved IPv4 default 192\.168\.1\.1 via en0.*no global default now.*--force/,
    );
    const state = await readState(path);
    assertEquals(state?.families[4]?.route?.gateway, "192.168.1.1");
    assertEquals(state?.families[4]?.savedAt, NOW.toISOString());
  });
});

Deno.test("a default through a tunnel is not worth saving over a good one", async () => {
  await withDir(async (path) => {
    const { table, system } = machine();
    await saveDefaults(system, path, { families: [4], now: () => NOW });
    table.ifaces.push(iface("utun4", 20, ["10.8.0.0/24"]));
    table.routes = [route("10.8.0.1", "utun4", 20)];
    const report = await saveDefaults(system, path, { families: [4], now: () => LATER });
    assertEquals(report.families[0]?.outcome, "kept");
    assertMatch(
      report.families[0]?.message ?? "",
      /has 10\.8\.0\.1 via utun4, not a default worth/,
    );
    assertEquals((await readState(path))?.families[4]?.route?.interface, "en0");
  });
});

Deno.test("--force replaces the saved route even with a worse one", async () => {
  await withDir(async (path) => {
    const { table, system } = machine();
    await saveDefaults(system, path, { families: [4], now: () => NOW });
    table.routes = [];
    const report = await saveDefaults(system, path, {
      families: [4],
      now: () => LATER,
      force: true,
    });
    assertEquals(report.families[0]?.outcome, "recorded");
    const state = await readState(path);
    assertEquals(state?.families[4]?.route, null);
    assertEquals(state?.families[4]?.savedAt, LATER.toISOString());
  });
});

Deno.test("nothing saved before and no default now: scutil's view is recorded", async () => {
  await withDir(async (path) => {
    const { table, system } = machine();
    table.routes = [];
    const report = await saveDefaults(system, path, { families: [4], now: () => NOW });
    assertEquals(report.families[0]?.outcome, "recorded");
    assertMatch(
      report.families[0]?.message ?? "",
      /no IPv4 default to save.*recorded scutil's view/,
    );
    assertEquals((await readState(path))?.families[4]?.scutil?.router, "192.168.1.1");
  });
});

Deno.test("families not asked for keep their saved entries", async () => {
  await withDir(async (path) => {
    const { system } = machine();
    await saveDefaults(system, path, { families: [4, 6], now: () => NOW });
    await saveDefaults(system, path, { families: [4], now: () => LATER, savedBy: "run" });
    const state = await readState(path);
    assertEquals(state?.families[4]?.savedBy, "run");
    assertEquals(state?.families[6]?.savedAt, NOW.toISOString());
  });
});

Deno.test("--dry-run writes nothing", async () => {
  await withDir(async (path) => {
    const { system } = machine();
    const report = await saveDefaults(system, path, { families: [4], dryRun: true });
    assertEquals(report.written, false);
    assertEquals(report.families[0]?.outcome, "saved");
    assertEquals(await readState(path), null);
  });
});

Deno.test("a corrupt state file stops save; --force replaces it and says so", async () => {
  await withDir(async (path) => {
    const { system } = machine();
    await Deno.writeTextFile(path, "garbage");
    await assertRejects(
      () => saveDefaults(system, path, { families: [4] }),
      (e) => e instanceof StateFileError && e.kind === "corrupt",
    );
    assertEquals(await Deno.readTextFile(path), "garbage");
    const log = recordingLog();
    const report = await saveDefaults(system, path, { families: [4], force: true, log });
    assertMatch(report.replaced ?? "", /not JSON/);
    assert(log.lines.some((l) => /^warn: replaced an unusable state file/.test(l)));
    assertEquals((await readState(path))?.families[4]?.route?.gateway, "192.168.1.1");
  });
});

Deno.test("scutil failing does not stop save; the error is reported", async () => {
  await withDir(async (path) => {
    const { system } = machine();
    system.primary.answers[4] = new Error("scutil did not answer within 2000 ms");
    const log = recordingLog();
    const report = await saveDefaults(system, path, { families: [4], log });
    assertEquals(report.families[0]?.outcome, "saved");
    assertMatch(report.families[0]?.scutilError ?? "", /did not answer/);
    assertEquals((await readState(path))?.families[4]?.scutil, null);
    assert(log.lines.some((l) => /^warn: scutil: .*did not answer/.test(l)));
  });
});

Deno.test("save keeps the saved route across a state written by someone else meanwhile", async () => {
  await withDir(async (path) => {
    const { table, system } = machine();
    await writeState(path, {
      version: 1,
      updatedAt: NOW.toISOString(),
      families: {
        4: {
          route: { gateway: "10.1.1.1", interface: "en0", index: 4, flags: 0x803 },
          scutil: null,
          savedAt: NOW.toISOString(),
          savedBy: "watch",
        },
      },
    });
    table.routes = [];
    const report = await saveDefaults(system, path, { families: [4] });
    assertEquals(report.families[0]?.outcome, "kept");
    assertEquals((await readState(path))?.families[4]?.route?.gateway, "10.1.1.1");
  });
});

Deno.test("two defaults (Linux metrics): the best is saved, the other beside it; a point-to-point one never", async () => {
  await withDir(async (path) => {
    const lan0 = { ...route("10.77.0.1", "lan0", 2), metric: 100 };
    const lan1 = { ...route("10.77.1.1", "lan1", 3), metric: 600 };
    const ppp = { ...route("10.64.0.1", "wwan0", 4), metric: 700 };
    const table = new FakeRouteTable([
      iface("lan0", 2, ["10.77.0.0/24"]),
      iface("lan1", 3, ["10.77.1.0/24"]),
      { ...iface("wwan0", 4, ["10.64.0.0/24"]), pointToPoint: true },
    ], []);
    table.routes = [lan0, lan1, ppp];
    const system = { table, primary: new FakePrimary({}) };
    const report = await saveDefaults(system, path, { families: [4], now: () => NOW });
    assertEquals(report.families[0]?.outcome, "saved");
    const saved = (await readState(path))?.families[4];
    assertEquals(saved?.route?.interface, "lan0");
    assertEquals(saved?.others?.map((r) => [r.interface, r.metric]), [["lan1", 600]]);
    // Only a point-to-point default: not worth saving over nothing.
    table.routes = [ppp];
    const again = await saveDefaults(system, path, { families: [4], now: () => LATER });
    assertEquals(again.families[0]?.outcome, "kept");
    assertEquals((await readState(path))?.families[4]?.route?.interface, "lan0");
  });
});
