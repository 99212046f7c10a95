/**
 * Never route around a live tunnel (issue 17), on the simulated Mac: the real CLI with the real
 * darwin FFI code against the simulated XNU kernel. While sing-tun's replay (tests/harness/
 * singtun.ts: the Mac's global default deleted, a default scoped to its utun added) runs, the
 * void is the tunnel's to hold: `watch --heal` waits, `status` names the tunnel, and the void is
 * filled once the tunnel's scoped default is gone. Split ranges on a utun (sing-tun auto_route's
 * 1/8, 2/7 ... 128/1) hold it the same way.
 * Needs Linux with a C compiler (to build the stand-in); skips with the reason elsewhere.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  type Simulator,
  standinUnavailableReason,
  startSimulator,
  startSingTun,
  utun,
} from "../harness/sim.ts";
import {
  defrouteArgv,
  type Proc,
  sleep,
  spawnProc,
  startHealer,
  stopWatch,
} from "./run_watch_lib.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping the simulated-Mac tunnel hold tests: ${skip}`);

const UTUN = 10;

function defroute(sim: Simulator, args: string[]): Proc {
  const [program, argv] = defrouteArgv(args);
  return spawnProc(program, argv, { env: sim.env });
}

async function globalDefault(sim: Simulator): Promise<string[]> {
  return (await sim.defaults(4)).filter((r) => !r.scoped).map((r) => `${r.gateway} ${r.interface}`);
}

function e2e(name: string, body: (sim: Simulator, state: string) => Promise<void>): void {
  Deno.test({
    name: `tunnel hold simulated-Mac e2e: ${name}`,
    ignore: skip !== null,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "defroute-holdd-" });
      await using sim = await startSimulator();
      await sim.addInterface(utun("utun4", UTUN));
      try {
        await body(sim, `${dir}/state.json`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

e2e(
  "watch --heal waits while sing-tun's scoped utun default holds the traffic",
  async (sim, state) => {
    const w = await startHealer((args) => defroute(sim, args), state, ["--grace", "0.3"]);
    try {
      const singtun = await startSingTun(sim.env);
      try {
        assertEquals(await globalDefault(sim), [], "sing-tun deleted the Mac's global default");
        const held = await w.next((v) => v.event === "held");
        assertMatch(
          held.heldBy as string,
          /tunnel utun4 holds the IPv4 traffic \(a default scoped to utun4/,
        );
        const status = defroute(sim, ["status", "--json", "--family", "4", "--state", state]);
        const report = await status.next((v) => v.command === "status");
        assertEquals(await status.exit(), 0);
        const [family] = report.families as { tunnels: { interface: string; kind: string }[] }[];
        assertEquals(family?.tunnels.map((t) => [t.interface, t.kind]), [[
          "utun4",
          "scoped-default",
        ]]);
        await sleep(1500); // five grace periods
        assertEquals(await globalDefault(sim), [], "no global default added under the tunnel");
        assert(!w.seen.some((v) => v.event === "repair"), "no repair while the tunnel holds it");
      } finally {
        assertEquals(await singtun.stop(), 0); // unsetRoutes(): its scoped default goes
      }
      const repair = await w.next((v) => v.event === "repair");
      assertEquals(repair.ok, true);
      assertEquals(await globalDefault(sim), ["192.168.1.1 en0"]);
    } finally {
      await stopWatch(w, "SIGTERM");
    }
  },
);

e2e("status and the healer: split ranges on a utun hold the traffic", async (sim, state) => {
  // sing-tun auto_route's ranges for 0.0.0.0/0 without 0/8: 1/8, 2/7, 4/6 ... 128/1 on utun4.
  const split = [1, 2, 4, 8, 16, 32, 64, 128].map((first, i) => ({
    family: 4 as const,
    destination: `${first}.0.0.0`,
    prefix: 8 - i,
    scope: 0,
    gateway: "198.18.0.1",
    ifIndex: UTUN,
    flags: 0x803,
  }));
  // No global IPv4 default (sing-tun deleted it); everything else as it was.
  const kept = (await sim.routes()).filter((r) =>
    !(r.family === 4 && r.prefix === 0 && r.scope === 0)
  ).map(({ interface: _name, scoped: _scoped, ...route }) => route);
  await sim.setRoutes([...kept, ...split]);
  const status = defroute(sim, ["status", "--json", "--family", "4", "--state", state]);
  const report = await status.next((v) => v.command === "status");
  assertEquals(await status.exit(), 0);
  const [family] = report.families as {
    tunnels: { interface: string; kind: string; how: string }[];
  }[];
  assertEquals(family?.tunnels.map((t) => [t.interface, t.kind]), [["utun4", "split-routes"]]);
  assertMatch(family?.tunnels[0]?.how ?? "", /1\.0\.0\.0\/8 \+ .* on utun4 \(99% of IPv4\)/);
  const w = await startHealer((args) => defroute(sim, args), state, ["--grace", "0.2"]);
  try {
    await w.next((v) => v.event === "held");
    await sleep(1000);
    assertEquals(await globalDefault(sim), []);
    // The tunnel goes away (its routes with it): the void is filled.
    await sim.removeInterface("utun4");
    const repair = await w.next((v) => v.event === "repair");
    assertEquals(repair.ok, true);
    assertEquals(await globalDefault(sim), ["192.168.1.1 en0"]);
  } finally {
    await stopWatch(w, "SIGTERM");
  }
});
