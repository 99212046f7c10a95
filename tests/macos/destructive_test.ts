/**
 * The real-Mac tier's opt-in cases (DEFROUTE_MAC_DESTRUCTIVE=1, root): sing-tun #80 for real.
 * A utun is made as VPNs make one (./utun_holder.c), and tests/harness/singtun.ts replays
 * sing-tun's setRoutes() on the real kernel: RTM_ADD 0/0 via the utun gets EEXIST, RTM_DELETE
 * 0/0 deletes this Mac's global default, a default scoped to the utun is added; on stop it
 * removes only its own. Then `defroute run`, `defroute restore` and `defroute watch --heal`
 * must each put the global default back as it was.
 *
 * The Mac has no global IPv4 default for a moment in each case. If a case fails and leaves it
 * missing, the test puts it back itself with route(8) (`route -n add default GW`), so the machine
 * is never left worse than found. Off by default; skipped with the reason printed.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  cleanEnv,
  closeBackend,
  DENO,
  destructiveSupport,
  IFCONFIG,
  openRealBackend,
  ROOT,
  ROUTE,
  routeGet,
  run,
  runOk,
} from "./mac.ts";
import { type Proc, spawnProc } from "../json_process.ts";
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";
import type { DefaultRoute } from "../../lib/core/model/types.ts";

const SINGTUN = `${ROOT}/tests/harness/singtun.ts`;
const HOLDER_SOURCE = `${ROOT}/tests/macos/utun_holder.c`;
/** The tunnel's point-to-point addresses: TEST-NET-3 (RFC 5737), never a real network. */
const TUNNEL_LOCAL = "203.0.113.1";
const TUNNEL_PEER = "203.0.113.2";

/** Builds the utun holder with cc into a directory only root can write; null + reason if not. */
async function buildHolder(): Promise<{ path: string | null; reason: string }> {
  const dir = await Deno.makeTempDir({ prefix: "defroute-mactest-" });
  const path = `${dir}/utun_holder`;
  try {
    const result = await run("/usr/bin/cc", ["-O2", "-Wall", "-o", path, HOLDER_SOURCE]);
    if (result.code !== 0) {
      return { path: null, reason: `cc cannot build the utun holder: ${result.stderr.trim()}` };
    }
    return { path, reason: "" };
  } catch (error) {
    return { path: null, reason: `no cc (xcode-select --install): ${error}` };
  }
}

const support = destructiveSupport();
const holder = support.ok ? await buildHolder() : { path: null, reason: support.reason };
if (holder.path === null) console.log(`skipping the destructive real-Mac tests: ${holder.reason}`);

/** The global IPv4 default as defroute reads it. */
async function globalDefault(): Promise<DefaultRoute | null> {
  const { table } = openRealBackend();
  try {
    return (await table.defaults(4)).find((r) => !r.scoped) ?? null;
  } finally {
    await closeBackend(table);
  }
}

async function scopedOn(iface: string): Promise<DefaultRoute[]> {
  const { table } = openRealBackend();
  try {
    return (await table.defaults(4)).filter((r) => r.scoped && r.interface === iface);
  } finally {
    await closeBackend(table);
  }
}

/** A utun with a point-to-point address, alive until `close()`. */
async function openUtun(): Promise<{ name: string; close: () => Promise<void> }> {
  const child = new Deno.Command(holder.path!, {
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  const name = text.trim();
  const close = async () => {
    await child.stdin.close().catch(() => {});
    await reader.cancel().catch(() => {});
    await child.status;
  };
  if (!/^utun\d+$/.test(name)) {
    await close();
    throw new Error(`the utun holder printed "${name}": ${(await stderr).trim()}`);
  }
  try {
    await runOk(IFCONFIG, [
      name,
      "inet",
      TUNNEL_LOCAL,
      TUNNEL_PEER,
      "netmask",
      "255.255.255.255",
      "up",
    ]);
  } catch (error) {
    await close();
    throw error;
  }
  return { name, close };
}

function defroute(args: string[]): Proc {
  return spawnProc(DENO, ["run", "--quiet", ...DENO_RUN_FLAGS, `${ROOT}/main.ts`, ...args], {
    clearEnv: true,
    env: cleanEnv(Deno.env.toObject(), { NO_COLOR: "1" }),
  });
}

function singtun(utun: string): Proc {
  return spawnProc(DENO, [
    "run",
    "--allow-all",
    "--quiet",
    SINGTUN,
    "--interface",
    utun,
    "--gateway",
    TUNNEL_PEER,
  ], { clearEnv: true, env: cleanEnv() });
}

/** sing-tun's three requests, as the real kernel answered them. */
function assertSingTunSequence(p: Proc): void {
  const steps = p.seen.filter((v) => "step" in v).map((v) => [v.step, v.errno]);
  assertEquals(steps.slice(0, 3), [["add", "EEXIST"], ["delete", null], ["add-scoped", null]]);
}

/**
 * Runs `body` with a utun and a state directory of its own; afterwards the global default must be
 * the one from before, and if it is missing it is put back with route(8) whatever happened.
 */
function destructive(name: string, body: (utun: string, state: string) => Promise<void>): void {
  Deno.test({
    name: `macos (destructive): ${name}`,
    ignore: holder.path === null,
    fn: async () => {
      const before = await globalDefault();
      assert(
        before?.gateway && before.interface,
        "needs an online Mac: no global IPv4 default with a gateway to break and restore",
      );
      // Beside the default /var/run/defroute, so its directory is judged as the real one is.
      const stateDir = await Deno.makeTempDir({ dir: "/var/run", prefix: "defroute-mactest-" });
      const utun = await openUtun();
      try {
        await body(utun.name, `${stateDir}/state.json`);
        const after = await globalDefault();
        assertEquals([after?.gateway, after?.interface], [before.gateway, before.interface]);
        const get = await routeGet(4);
        assert(get.kind === "route" && !get.flags.includes("IFSCOPE"), JSON.stringify(get));
        assertEquals([get.gateway, get.interface], [before.gateway, before.interface]);
      } finally {
        await utun.close();
        await Deno.remove(stateDir, { recursive: true });
        if ((await globalDefault()) === null) {
          await run(ROUTE, ["-n", "add", "default", before.gateway]);
        }
      }
      assertEquals(await scopedOn(utun.name), [], "the utun's scoped default outlived it");
    },
  });
}

destructive(
  "sing-tun #80 under `defroute run`: the default comes back when it exits",
  async (utun, state) => {
    const p = defroute([
      "run",
      "--family",
      "4",
      "--state",
      state,
      "--",
      DENO,
      "run",
      "--allow-all",
      "--quiet",
      SINGTUN,
      "--interface",
      utun,
      "--gateway",
      TUNNEL_PEER,
    ]);
    const ready = await p.next((v) => v.ready === true);
    assertSingTunSequence(p);
    assertEquals(await globalDefault(), null, "sing-tun did not delete the global default");
    assertEquals((await scopedOn(utun)).map((r) => r.gateway), [TUNNEL_PEER]);
    // run's log names the pid the real kernel stamped on the deletion: sing-tun's.
    await p.stderrMatch(new RegExp(`global default deleted by pid ${ready.pid}\\b`));
    await p.closeStdin();
    assertEquals(await p.exit(), 0, p.stderr());
    assert(p.seen.some((v) => v.step === "stopped"), "sing-tun did not clean up");
  },
);

destructive("sing-tun #80, then `defroute restore` from the saved state", async (utun, state) => {
  const save = defroute(["save", "--family", "4", "--state", state]);
  assertEquals(await save.exit(), 0, save.stderr());
  const tunnel = singtun(utun);
  await tunnel.next((v) => v.ready === true);
  assertSingTunSequence(tunnel);
  assertEquals(await tunnel.stop(), 0);
  assertEquals(await globalDefault(), null, "sing-tun's cleanup put the default back itself");
  const restore = defroute(["restore", "--family", "4", "--state", state]);
  assertEquals(await restore.exit(), 0, restore.stderr());
  assertMatch(restore.stderr(), /\[#\] route add default /);
});

destructive("sing-tun #80 while `defroute watch --heal` runs: repaired", async (utun, state) => {
  const watch = defroute([
    "watch",
    "--heal",
    "--json",
    "--family",
    "4",
    "--grace",
    "1",
    "--state",
    state,
  ]);
  try {
    await watch.next((v) => v.event === "ready");
    const tunnel = singtun(utun);
    await tunnel.next((v) => v.ready === true);
    assertSingTunSequence(tunnel);
    assertEquals(await tunnel.stop(), 0);
    const repair = await watch.next((v) => v.event === "repair", 30_000);
    assert(repair, "no repair");
    const healed = await globalDefault();
    assert(
      healed !== null,
      `watch --heal reported a repair, but there is no default: ${watch.stderr()}`,
    );
  } finally {
    watch.kill("SIGTERM");
    assertEquals(await watch.exit(), 0, watch.stderr());
  }
});
