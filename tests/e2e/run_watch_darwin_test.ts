/**
 * `defroute run` and `defroute watch --heal` on the simulated Mac (tests/harness/sim.ts): the
 * real CLI in its own process, with the real darwin FFI code talking PF_ROUTE to the simulated
 * XNU kernel through the stand-in libSystem. The sing-tun #80 sequence (tests/harness/singtun.ts)
 * runs under `defroute run` and must leave the table as it found it; other processes' deletes
 * are made with the simulator's requestAs(pid), so the pid in defroute's log is checkable.
 * Needs Linux with a C compiler (to build the stand-in); skips with the reason elsewhere.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { join } from "node:path";
import {
  defaultRouteRequest,
  encodeRouteMessage,
  RTM_ADD,
  RTM_DELETE,
} from "../../lib/darwin/route_message.ts";
import { type Simulator, standinUnavailableReason, startSimulator, utun } from "../harness/sim.ts";
import { HARNESS_DIR } from "../harness/standin.ts";
import {
  defrouteArgv,
  DENO,
  eventually,
  exists,
  type Proc,
  sleep,
  spawnProc,
  startHealer,
  stopWatch,
} from "./run_watch_lib.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping run/watch simulated-Mac e2e tests: ${skip}`);

const SINGTUN = [
  "--",
  DENO,
  "run",
  "--allow-all",
  "--quiet",
  join(HARNESS_DIR, "singtun.ts"),
  "--interface",
  "utun4",
];
const OTHER_PID = 4711;

/** Every IPv4 route by what identifies it (flags differ: configd sets RTF_PRCLONING). */
async function table(sim: Simulator): Promise<string[]> {
  return (await sim.routes(4)).map((r) =>
    `${r.destination}/${r.prefix} ${r.scoped ? `scoped ${r.interface}` : "global"} via ${
      r.gateway ?? "link"
    } on ${r.interface}`
  ).sort();
}

async function globalDefault(sim: Simulator): Promise<string[]> {
  return (await sim.defaults(4)).filter((r) => !r.scoped).map((r) => `${r.gateway} ${r.interface}`);
}

function defroute(sim: Simulator, args: string[]): Proc {
  const [program, argv] = defrouteArgv(args);
  return spawnProc(program, argv, { env: sim.env });
}

/** Another process (OTHER_PID) deletes the global IPv4 default, as sing-tun does. */
async function deleteGlobalAs(sim: Simulator, pid = OTHER_PID): Promise<void> {
  const message = encodeRouteMessage(
    defaultRouteRequest({ type: RTM_DELETE, family: 4, seq: 1, form: "route8" }),
  );
  assertEquals(await sim.requestAs(pid, message), 0);
}

async function addGlobalAs(sim: Simulator, gateway: string, pid = OTHER_PID): Promise<void> {
  const message = encodeRouteMessage(
    defaultRouteRequest({ type: RTM_ADD, family: 4, gateway, seq: 1, form: "route8" }),
  );
  assertEquals(await sim.requestAs(pid, message), 0);
}

/** A CMD that waits for `${dir}/go`, then runs `then` (sh). */
function waiting(dir: string, then: string): string[] {
  return ["--", "/bin/sh", "-c", `while [ ! -e ${dir}/go ]; do sleep 0.01; done; ${then}`];
}

function e2e(
  name: string,
  body: (sim: Simulator, state: string, dir: string) => Promise<void>,
): void {
  Deno.test({
    name: `run/watch simulated-Mac e2e: ${name}`,
    ignore: skip !== null,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "defroute-rwd-" });
      await using sim = await startSimulator();
      await sim.addInterface(utun("utun4", 10));
      try {
        await body(sim, `${dir}/state.json`, dir);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

/** Wait until defroute's monitor socket is connected (sockets beyond `before`). */
async function monitorConnected(sim: Simulator, before: number): Promise<void> {
  await eventually(async () => await sim.sockets() >= before + 2, "defroute's sockets");
}

e2e("sing-tun #80 under run leaves the table exactly as before", async (sim, state) => {
  const before = await table(sim);
  const p = defroute(sim, ["run", "--family", "4", "--state", state, ...SINGTUN]);
  const ready = await p.next((v) => v.ready === true);
  assertEquals(await globalDefault(sim), [], "sing-tun deleted the Mac's global default");
  // The log names the pid the kernel stamped on the delete: sing-tun's, as in the issue.
  await p.stderrMatch(new RegExp(`global default deleted by pid ${ready.pid}\\b`));
  // ...and names CMD (run knows its pid and name; on a real Mac there is no /proc to ask).
  await p.stderrMatch(/add of global default by pid \d+ \(deno\) failed with EEXIST/);
  await p.closeStdin(); // sing-tun stops: unsetRoutes() removes only its scoped route
  assertEquals(await p.exit(), 0);
  assert(p.seen.some((v) => v.step === "stopped"), "sing-tun ran its cleanup");
  assertEquals(await table(sim), before);
  assertMatch(p.stderr(), /\[#\] route add default 192\.168\.1\.1 \(en0\)/);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  e2e(`${signal} to defroute is forwarded to sing-tun; restored`, async (sim, state) => {
    const before = await table(sim);
    const p = defroute(sim, ["run", "--family", "4", "--state", state, ...SINGTUN]);
    await p.next((v) => v.ready === true);
    p.kill(signal);
    assertEquals(await p.exit(), 0);
    assert(p.seen.some((v) => v.step === "stopped"), "sing-tun got the signal and cleaned up");
    assertMatch(p.stderr(), new RegExp(`forwarding ${signal} to pid \\d+`));
    assertEquals(await table(sim), before);
  });
}

e2e("sing-tun killed by SIGKILL: the global default is restored, exit 137", async (sim, state) => {
  const p = defroute(sim, ["run", "--family", "4", "--json", "--state", state, ...SINGTUN]);
  const ready = await p.next((v) => v.ready === true);
  Deno.kill(ready.pid as number, "SIGKILL");
  assertEquals(await p.exit(), 137);
  assertEquals(await globalDefault(sim), ["192.168.1.1 en0"]);
  const result = await p.next((v) => "exitStatus" in v);
  assertEquals([result.signal, result.exitStatus, result.ok], ["SIGKILL", 137, true]);
});

e2e(
  "CMD exits 3 after another pid deleted the default: restored, pid logged",
  async (sim, state, dir) => {
    const sockets = await sim.sockets();
    const p = defroute(sim, ["run", "--family", "4", "--state", state, ...waiting(dir, "exit 3")]);
    await monitorConnected(sim, sockets);
    await deleteGlobalAs(sim);
    await p.stderrMatch(
      new RegExp(`global default deleted by pid ${OTHER_PID}: via 192\\.168\\.1\\.1 on en0`),
    );
    await Deno.writeTextFile(`${dir}/go`, "");
    assertEquals(await p.exit(), 3);
    assertEquals(await globalDefault(sim), ["192.168.1.1 en0"]);
  },
);

e2e("CMD crashes (SIGSEGV): restored, exit 139", async (sim, state, dir) => {
  const sockets = await sim.sockets();
  const p = defroute(sim, [
    "run",
    "--family",
    "4",
    "--state",
    state,
    ...waiting(dir, "kill -SEGV $$"),
  ]);
  await monitorConnected(sim, sockets);
  await deleteGlobalAs(sim);
  await Deno.writeTextFile(`${dir}/go`, "");
  assertEquals(await p.exit(), 139);
  assertEquals(await globalDefault(sim), ["192.168.1.1 en0"]);
});

e2e("a CMD that cannot start exits 127 and changes nothing", async (sim, state) => {
  const before = await table(sim);
  const requests = (await sim.log()).length;
  const p = defroute(sim, ["run", "--state", state, "--", "no-such-vpn-client-xyz"]);
  assertEquals(await p.exit(), 127);
  assertMatch(p.stderr(), /no-such-vpn-client-xyz: command not found/);
  assertEquals(await table(sim), before);
  assertEquals((await sim.log()).length, requests, "not one routing request");
  assertEquals(await exists(state), false);
});

function healer(sim: Simulator, state: string, extra: string[]): Promise<Proc> {
  return startHealer((args) => defroute(sim, args), state, extra);
}

e2e("watch --heal repairs after the grace period, not before", async (sim, state) => {
  const w = await healer(sim, state, ["--grace", "1"]);
  try {
    const deletedAt = Date.now();
    await deleteGlobalAs(sim);
    const repair = await w.next((v) => v.event === "repair");
    assert(Date.parse(repair.time as string) - deletedAt >= 1000, "repaired after grace only");
    assertMatch(repair.cause as string, new RegExp(`deleted by pid ${OTHER_PID}`));
    const event = await w.next((v) => v.event === "route" && v.action === "delete");
    assertEquals([event.pid, event.scope, event.interface], [OTHER_PID, "global", "en0"]);
    assertEquals(event.self, false);
    assertEquals(await globalDefault(sim), ["192.168.1.1 en0"]);
    // The repair's own RTM_ADD echo (rtm_pid = the watcher's) is named as defroute's.
    const own = await w.next((v) => v.event === "route" && v.action === "add" && v.error === null);
    assertEquals([own.self, own.process, own.scope], [true, "defroute", "global"]);
  } finally {
    await stopWatch(w, "SIGINT");
  }
});

e2e("watch --heal leaves a default replaced within the grace period alone", async (sim, state) => {
  const w = await healer(sim, state, ["--grace", "1"]);
  try {
    await deleteGlobalAs(sim);
    await addGlobalAs(sim, "198.18.0.1"); // a VPN's own global default via utun4
    await w.next((v) => v.event === "route" && v.action === "add" && v.gateway === "198.18.0.1");
    await sleep(2500);
    assertEquals(await globalDefault(sim), ["198.18.0.1 utun4"]);
    assert(!w.seen.some((v) => v.event === "repair"), "no repair");
  } finally {
    await stopWatch(w, "SIGINT");
  }
});

e2e("watch --heal stops after --max-repairs", async (sim, state) => {
  const w = await healer(sim, state, ["--grace", "0.2", "--max-repairs", "2"]);
  try {
    for (let i = 1; i <= 2; i++) {
      await deleteGlobalAs(sim);
      await eventually(
        () => w.seen.filter((v) => v.event === "repair").length === i,
        `repair ${i}`,
      );
      await eventually(async () => (await globalDefault(sim)).length === 1, `route ${i} back`);
    }
    await deleteGlobalAs(sim);
    const limited = await w.next((v) => v.event === "rate-limited");
    assertEquals(limited.attempts, 2);
    await sleep(1000);
    assertEquals(await globalDefault(sim), [], "the third void is not repaired");
  } finally {
    await stopWatch(w, "SIGINT");
  }
});

e2e(
  "defroute killed with SIGKILL: the state file lets watch --heal finish the job",
  async (sim, state) => {
    const before = await table(sim);
    const p = defroute(sim, ["run", "--family", "4", "--state", state, ...SINGTUN]);
    await p.next((v) => v.ready === true);
    p.kill("SIGKILL");
    await p.closeStdin(); // sing-tun stops on its own and leaves no global default (issue #80)
    assertEquals(await p.exit(), 137);
    await eventually(() => p.seen.some((v) => v.step === "stopped"), "sing-tun cleanup");
    assertEquals(await globalDefault(sim), []);
    // The Mac's scutil lost the router too (the network was re-kicked): only the state file knows.
    await sim.setScutil("State:/Network/Global/IPv4", null);
    const w = await healer(sim, state, ["--grace", "0.2"]);
    try {
      const repair = await w.next((v) => v.event === "repair");
      assertEquals(repair.ok, true);
      assertEquals(await table(sim), before);
    } finally {
      await stopWatch(w, "SIGINT");
    }
  },
);

e2e(
  "run: CMD's leftover process is named (libproc through the stand-in) and its void filled",
  async (sim, state, dir) => {
    const p = defroute(sim, [
      "run",
      "--family",
      "4",
      "--grace",
      "0.2",
      "--linger",
      "600",
      "--state",
      state,
      "--",
      "/bin/sh",
      "-c",
      `(while [ ! -e ${dir}/go ]; do sleep 0.01; done) & echo $! > ${dir}/job; exit 0`,
    ]);
    await p.stderrMatch(/left pid \d+ \(sh\).* running in its process group: guarding/);
    const job = Number(await Deno.readTextFile(`${dir}/job`));
    // The straggler deletes the default (the kernel stamps its pid on the request).
    await deleteGlobalAs(sim, job);
    await eventually(async () => (await globalDefault(sim)).length === 1, "the void filled");
    await Deno.writeTextFile(`${dir}/go`, "");
    assertEquals(await p.exit(), 0);
    assertEquals(await globalDefault(sim), ["192.168.1.1 en0"]);
    assertMatch(p.stderr(), new RegExp(`global default deleted by pid ${job}\\b`));
    assertMatch(p.stderr(), /process group is gone/);
  },
);
