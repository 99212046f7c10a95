/**
 * The blackhole gateways of the attack run where macOS matters, on the simulated Mac (the real
 * CLI, the real darwin FFI code, the stand-in libSystem and scutil): configd's view naming the
 * machine's own address as Router, lo0 as PrimaryInterface, an IPv4-mapped IPv6 Router, and a
 * saved gateway that is the subnet's broadcast address. Refused by restore and by the heal, with
 * the reason in `status`; the machine's addresses come from NET_RT_IFLIST's RTM_NEWADDR messages.
 * Needs Linux with a C compiler (to build the stand-in); skips with the reason elsewhere.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  defaultRouteRequest,
  encodeRouteMessage,
  RTM_DELETE,
} from "../../lib/darwin/route_message.ts";
import { type Simulator, standinUnavailableReason, startSimulator } from "../harness/sim.ts";
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";
import { defrouteArgv, MAIN, spawnProc, startHealer, stopWatch } from "./run_watch_lib.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping the simulated-Mac red-team tests: ${skip}`);

/** The simulated Mac's en0: 192.168.1.100/24 (tests/harness/xnu_kernel.ts). */
const OWN = "192.168.1.100";

async function cli(sim: Simulator, args: string[]) {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["run", ...DENO_RUN_FLAGS, MAIN, ...args],
    env: { ...sim.env, NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: output.code,
    stdout: new TextDecoder().decode(output.stdout),
    stderr: new TextDecoder().decode(output.stderr),
  };
}

async function deleteGlobal(sim: Simulator): Promise<void> {
  const message = encodeRouteMessage(
    defaultRouteRequest({ type: RTM_DELETE, family: 4, seq: 1, form: "route8" }),
  );
  assertEquals(await sim.requestAs(4711, message), 0);
}

async function globalDefault(sim: Simulator): Promise<string[]> {
  return (await sim.defaults(4)).filter((r) => !r.scoped).map((r) => `${r.gateway} ${r.interface}`);
}

function notes(status: { stdout: string }, family = 0): string[] {
  const report = JSON.parse(status.stdout);
  return (report.families[family].restorePlan.looked as { note: string }[]).map((f) => f.note);
}

async function withSim(fn: (sim: Simulator, dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "defroute-redmac-" });
  await Deno.chmod(dir, 0o755);
  try {
    await using sim = await startSimulator();
    await fn(sim, dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "simulated Mac: scutil's Router is this Mac's own address: restore and heal refuse it",
  ignore: skip !== null,
  fn: () =>
    withSim(async (sim, dir) => {
      const state = `${dir}/state.json`;
      await deleteGlobal(sim);
      await sim.setScutil("State:/Network/Global/IPv4", { PrimaryInterface: "en0", Router: OWN });
      const status = await cli(sim, ["status", "--json", "--family", "4", "--state", state]);
      assertEquals(status.code, 0, status.stderr);
      assert(
        notes(status).some((n) =>
          n.includes(`refused, ${OWN} is this machine's own address (on en0)`)
        ),
        notes(status).join("\n"),
      );
      const restore = await cli(sim, ["restore", "--family", "4", "--state", state]);
      assertEquals(restore.code, 4, restore.stderr);
      assertEquals(await globalDefault(sim), [], "no default via the Mac's own address");
      // The heal fills a void from the same sources: it refuses the same gateway.
      const watcher = await startHealer(
        (args) => spawnProc(...defrouteArgv(args), { env: sim.env }),
        state,
        ["--grace", "0.1"],
      );
      try {
        const repair = await watcher.next((v) => v.event === "repair");
        assertEquals(repair.ok, false);
        assertEquals(await globalDefault(sim), []);
      } finally {
        await stopWatch(watcher, "SIGTERM");
      }
    }),
});

Deno.test({
  name:
    "simulated Mac: lo0 as PrimaryInterface, or a mapped IPv6 Router, is refused with the reason",
  ignore: skip !== null,
  fn: () =>
    withSim(async (sim, dir) => {
      const state = `${dir}/state.json`;
      await sim.setScutil("State:/Network/Global/IPv4", {
        PrimaryInterface: "lo0",
        Router: "127.0.0.1",
      });
      await sim.setScutil("State:/Network/Global/IPv6", {
        PrimaryInterface: "en0",
        Router: "::ffff:127.0.0.1",
      });
      const status = await cli(sim, ["status", "--json", "--state", state]);
      assertEquals(status.code, 0, status.stderr);
      const report = JSON.parse(status.stdout);
      const byFamily = new Map(
        (report.families as { family: number; scutilError: string | null }[]).map((
          f,
        ) => [f.family, f.scutilError]),
      );
      assertMatch(byFamily.get(4) ?? "", /PrimaryInterface lo0 is the loopback interface/);
      assertMatch(byFamily.get(6) ?? "", /::ffff:127\.0\.0\.1 is an IPv4-mapped IPv6 address/);
      // Text status says it too.
      const text = await cli(sim, ["status", "--state", state]);
      assertMatch(text.stdout, /loopback interface/);
    }),
});

Deno.test({
  name: "simulated Mac: a saved gateway that is the subnet's broadcast address is never added",
  ignore: skip !== null,
  fn: () =>
    withSim(async (sim, dir) => {
      const state = `${dir}/state.json`;
      const at = "2026-11-25T21:00:00.000Z";
      await Deno.writeTextFile(
        state,
        JSON.stringify({
          version: 1,
          updatedAt: at,
          families: {
            4: {
              route: { gateway: "192.168.1.255", interface: "en0", index: 4, flags: 0x803 },
              scutil: null,
              savedAt: at,
              savedBy: "save",
            },
          },
        }),
        { mode: 0o644 },
      );
      await Deno.chmod(state, 0o644);
      await sim.setScutil("State:/Network/Global/IPv4", null);
      await deleteGlobal(sim);
      const restore = await cli(sim, ["restore", "--family", "4", "--state", state]);
      assertEquals(restore.code, 4, restore.stderr);
      assertEquals(await globalDefault(sim), []);
      const status = await cli(sim, ["status", "--json", "--family", "4", "--state", state]);
      assert(
        notes(status).some((n) => /broadcast address of 192\.168\.1\.0\/24 \(on en0\)/.test(n)),
        notes(status).join("\n"),
      );
    }),
});
