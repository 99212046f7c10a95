/**
 * The real CLI on a simulated Mac that is as harsh as xnu (tests/harness/xnu_kernel.ts): routes
 * vanish without a routing message, a link goes inactive without one, and a gateway is bound to
 * whatever route covers it. Each case is something the old simulator let pass and a real Mac
 * would not: the interface carrying the default detaches under `watch --heal`; a default goes
 * with no message at all (only `--recheck` can find it); a restore's gateway is covered by a
 * tunnel's host route; en0's link goes inactive while the kernel still calls it UP|RUNNING.
 * Needs Linux with a C compiler (the stand-in libSystem); skips with the reason elsewhere.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { SCUTIL_IPV4 } from "../harness/xnu_kernel.ts";
import {
  type SimInterface,
  type Simulator,
  standinUnavailableReason,
  startSimulator,
  utun,
} from "../harness/sim.ts";
import { defrouteArgv, type Proc, spawnProc, startHealer, stopWatch } from "./run_watch_lib.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping the faithful simulated-Mac e2e tests: ${skip}`);

/** A second Ethernet, as the Mac's other network (Wi-Fi next to a USB adapter). */
const EN1: SimInterface = {
  name: "en1",
  index: 5,
  flags: 0x8863, // UP|BROADCAST|RUNNING|SIMPLEX|MULTICAST
  mac: "aa:bb:cc:dd:ee:02",
  type: 0x6,
  mtu: 1500,
  addresses: [{ address: "192.168.2.100", prefix: 24 }],
  linkActive: true,
};
const EN1_PRIMARY = {
  PrimaryInterface: "en1",
  PrimaryService: "C3E42030-D8F9-44DC-9BA4-4F7BF67243B3",
  Router: "192.168.2.1",
};

function defroute(sim: Simulator, args: string[]): Proc {
  const [program, argv] = defrouteArgv(args);
  return spawnProc(program, argv, { env: sim.env });
}

async function globalDefault(sim: Simulator): Promise<string[]> {
  return (await sim.defaults(4)).filter((r) => !r.scoped).map((r) => `${r.gateway} ${r.interface}`);
}

function e2e(name: string, body: (sim: Simulator, state: string) => Promise<void>): void {
  Deno.test({
    name: `faithful simulated Mac: ${name}`,
    ignore: skip !== null,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "defroute-fm-" });
      await using sim = await startSimulator();
      try {
        await body(sim, `${dir}/state.json`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

e2e(
  "en0 detaches under watch --heal --grace 0 (its routes go without a message); the default comes back on en1 once scutil names it",
  async (sim, state) => {
    await sim.addInterface(EN1);
    const w = await startHealer((args) => defroute(sim, args), state, ["--grace", "0"]);
    try {
      await sim.removeInterface("en0");
      // configd brings up the next service a while later, as on a Mac. Meanwhile every
      // attempt finds no gateway: none may use up --max-repairs.
      await new Promise((r) => setTimeout(r, 1000));
      await sim.setScutil(SCUTIL_IPV4, EN1_PRIMARY);
      const repaired = await w.next((v) => v.event === "repair" && v.ok === true);
      assertEquals(await globalDefault(sim), ["192.168.2.1 en1"]);
      assertMatch(repaired.cause as string, /en0/);
      // The simulator sent no RTM_DELETE: the healer heard only the interface go.
      assert(
        !w.seen.some((v) => v.event === "route" && v.action === "delete"),
        `no deletion was announced: ${JSON.stringify(w.seen)}`,
      );
      assert(w.seen.some((v) => v.event === "link" && v.interface === "en0"));
    } finally {
      await stopWatch(w, "SIGINT");
    }
  },
);

e2e(
  "a global default removed with no message at all is found by --recheck and repaired",
  async (sim, state) => {
    const w = await startHealer((args) => defroute(sim, args), state, [
      "--grace",
      "0",
      "--recheck",
      "1",
    ]);
    try {
      // Straight out of the table: no routing message, no interface event.
      await sim.setRoutes((await sim.routes()).filter((r) => r.scoped || r.family === 6));
      const recheck = await w.next((v) => v.event === "recheck");
      assertEquals(recheck.changes, [{
        kind: "defaults",
        family: 4,
        before: ["192.168.1.1 via en0", "192.168.1.1 via en0 (scoped to en0)"],
        after: ["192.168.1.1 via en0 (scoped to en0)"],
      }]);
      const repair = await w.next((v) => v.event === "repair");
      assertEquals(repair.ok, true);
      assertMatch(repair.cause as string, /^recheck: /);
      assertEquals(await globalDefault(sim), ["192.168.1.1 en0"]);
    } finally {
      await stopWatch(w, "SIGINT");
    }
  },
);

e2e(
  "a restore whose gateway a tunnel's host route covers still lands on en0 (configd's form pins the interface)",
  async (sim, state) => {
    await sim.addInterface(utun("utun4", 10));
    // The VPN routes 192.168.1.1 into the tunnel; the Mac's global default is gone.
    const routes = (await sim.routes()).filter((r) => r.scoped || r.family === 6);
    await sim.setRoutes([...routes, {
      family: 4,
      destination: "192.168.1.1",
      prefix: 32,
      scope: 0,
      gateway: "198.18.0.2",
      ifIndex: 10,
      flags: 0x807,
    }]);
    const p = defroute(sim, ["restore", "--family", "4", "--state", state]);
    assertEquals(await p.exit(), 0, p.stderr());
    assertEquals(await globalDefault(sim), ["192.168.1.1 en0"]);
    assertMatch(p.stderr(), /\[#\] route add default 192\.168\.1\.1 \(en0\)/);
  },
);

e2e(
  "en0's link goes inactive (still UP|RUNNING): status says so, and restore moves the default to scutil's en1",
  async (sim, state) => {
    await sim.addInterface(EN1);
    await sim.setLinkActive("en0", false);
    await sim.setScutil(SCUTIL_IPV4, EN1_PRIMARY);
    const status = defroute(sim, ["status", "--family", "4", "--json", "--state", state]);
    assertEquals(await status.exit(), 0);
    const report = status.seen[0] as { families: { diagnosis: Record<string, string> }[] };
    const diagnosis = report.families[0]!.diagnosis;
    assertEquals(diagnosis.condition, "broken-default");
    assertMatch(diagnosis.summary!, /en0's link is inactive/);
    const restore = defroute(sim, ["restore", "--family", "4", "--state", state]);
    assertEquals(await restore.exit(), 0, restore.stderr());
    assertEquals(await globalDefault(sim), ["192.168.2.1 en1"]);
  },
);
