/**
 * `restore --tunnel-gone IFNAME` against the race in wg-quick's PostDown (wireguard-tools
 * src/wg-quick/darwin.bash cmd_down: del_if only removes wireguard-go's socket file, PostDown
 * runs at once, the utun and its routes go when wireguard-go has exited).
 *
 * On the real Linux kernel, in a network namespace: wireguard-go holds a real tun (up and
 * running while it lives), a `Table = off`-style PostUp has put the global default on it, and
 * the tunnel goes away late: only when the test stops wireguard-go, after restore has started
 * waiting. A plain restore leaves the tunnel's default alone (the bug); --tunnel-gone waits,
 * then puts the saved default back; a tunnel still up at the bound has its default replaced.
 *
 * On the simulated Mac (the real darwin FFI code against the simulated XNU kernel): the same
 * with a utun that the kernel destroys late (its routes deleted with it, as xnu does).
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";
import {
  type IpRoute,
  type Lab,
  namespaceSupport,
  ROUTER_ADDRESS,
  withLab,
} from "../linux/netns.ts";
import { spawnProc } from "../json_process.ts";
import { defrouteArgv } from "../e2e/run_watch_lib.ts";
import { standinUnavailableReason, startSimulator, utun } from "../harness/sim.ts";
import { findOnPath } from "./helpers.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const WIREGUARD_GO = findOnPath("wireguard-go");
const support = namespaceSupport();
const linuxSkip = !support.ok
  ? support.reason
  : WIREGUARD_GO === null
  ? "needs wireguard-go for a tun held open by a process (apt-get install wireguard-go)"
  : null;
if (linuxSkip) console.log(`skipping restore --tunnel-gone on the real kernel: ${linuxSkip}`);

const TUNNEL = "wgdfr0";

function defrouteIn(lab: Lab, args: string[]): [string, string[]] {
  return lab.exec(Deno.execPath(), ["run", "--quiet", ...DENO_RUN_FLAGS, MAIN, ...args]);
}

async function runIn(lab: Lab, args: string[]) {
  const [program, argv] = defrouteIn(lab, args);
  const out = await new Deno.Command(program, { args: argv, stdout: "piped", stderr: "piped" })
    .output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

function shape(routes: IpRoute[]): string[] {
  return routes.map((r) => `${r.gateway ?? "link"} ${r.dev}`);
}

/** wireguard-go in the foreground, holding the tun TUNNEL; up, with an address. */
async function startTunnel(lab: Lab) {
  const [program, argv] = lab.exec(WIREGUARD_GO ?? "wireguard-go", ["-f", TUNNEL]);
  const child = new Deno.Command(program, {
    args: argv,
    stdin: "null",
    stdout: "null",
    stderr: "null",
    env: { WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD: "1" },
  }).spawn();
  for (let i = 0; i < 200; i++) {
    const links = JSON.parse(await lab.ip("-j", "link", "show")) as { ifname: string }[];
    if (links.some((l) => l.ifname === TUNNEL)) break;
    await new Promise((r) => setTimeout(r, 25));
  }
  await lab.ip("addr", "add", "10.9.0.2/24", "dev", TUNNEL);
  await lab.ip("link", "set", TUNNEL, "up");
  return child;
}

Deno.test({
  name: "restore --tunnel-gone on the real kernel: waits for a tun that goes away late",
  ignore: linuxSkip !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "defroute-tg-" });
    await Deno.chmod(dir, 0o755);
    const state = `${dir}/state.json`;
    try {
      await withLab(async (lab) => {
        const saved = await runIn(lab, ["save", "--family", "4", "--state", state]);
        assertEquals(saved.code, 0, saved.stderr);
        const tunnel = await startTunnel(lab);
        try {
          // Table = off + PostUp: the tunnel takes the global default.
          await lab.ip("route", "replace", "default", "dev", TUNNEL);
          assertEquals(shape(await lab.defaults(4)), [`link ${TUNNEL}`]);

          // The bug: a plain restore in PostDown sees a live tunnel's default and leaves it.
          const plain = await runIn(lab, ["restore", "--family", "4", "--state", state]);
          assertEquals(plain.code, 0, plain.stderr);
          assertMatch(plain.stdout, new RegExp(`present on tunnel ${TUNNEL}.*left alone`));
          assertEquals(shape(await lab.defaults(4)), [`link ${TUNNEL}`]);

          // A tunnel still up when the bound runs out: its default is the leftover, replaced.
          const bounded = await runIn(lab, [
            "restore",
            "--family",
            "4",
            "--state",
            state,
            "--tunnel-gone",
            TUNNEL,
            "--tunnel-wait",
            "0.2",
          ]);
          assertEquals(bounded.code, 0, bounded.stderr);
          assertMatch(bounded.stderr, new RegExp(`${TUNNEL} is still up after 0\\.\\d s`));
          assertEquals(shape(await lab.defaults(4)), [`${ROUTER_ADDRESS} veth0`]);

          // Again, and now the tunnel goes away only after restore has started waiting.
          await lab.ip("route", "replace", "default", "dev", TUNNEL);
          const [program, argv] = defrouteIn(lab, [
            "restore",
            "--family",
            "4",
            "--state",
            state,
            "--tunnel-gone",
            TUNNEL,
            "-v",
          ]);
          const restore = spawnProc(program, argv);
          await restore.stderrMatch(new RegExp(`waiting up to 10 s for ${TUNNEL} to go away`));
          // One more look a moment later: it has changed nothing while the tunnel lives.
          await new Promise((r) => setTimeout(r, 200));
          assertEquals(shape(await lab.defaults(4)), [`link ${TUNNEL}`]);
          tunnel.kill("SIGTERM"); // wireguard-go exits; the kernel drops the tun and its route
          await tunnel.status;
          assertEquals(await restore.exit(), 0, restore.stderr());
          assertMatch(restore.stderr(), new RegExp(`${TUNNEL} went away after \\d+\\.\\d s`));
          assertEquals(shape(await lab.defaults(4)), [`${ROUTER_ADDRESS} veth0`]);
        } finally {
          try {
            tunnel.kill("SIGKILL");
          } catch {
            // already gone
          }
          await tunnel.status;
        }
      }, "tgone");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

const macSkip = standinUnavailableReason();
if (macSkip) console.log(`skipping restore --tunnel-gone on the simulated Mac: ${macSkip}`);

Deno.test({
  name: "restore --tunnel-gone on the simulated Mac: the utun's default, then the utun, go late",
  ignore: macSkip !== null,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "defroute-tg-" });
    await Deno.chmod(dir, 0o755);
    const state = `${dir}/state.json`;
    try {
      await using sim = await startSimulator();
      const globals = async () =>
        (await sim.defaults(4)).filter((r) => !r.scoped).map((r) =>
          `${r.gateway ?? "link"} ${r.interface}`
        );
      const cli = async (args: string[]) => {
        const [program, argv] = defrouteArgv(args);
        const out = await new Deno.Command(program, {
          args: argv,
          env: sim.env,
          stdout: "piped",
          stderr: "piped",
        }).output();
        const text = (b: Uint8Array) => new TextDecoder().decode(b);
        return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
      };
      assertEquals((await cli(["save", "--family", "4", "--state", state])).code, 0);
      // wg-quick up with Table = off, then a PostUp that moves the default into the tunnel
      // (`route delete default; route add default -interface utun5`), as another process.
      await sim.addInterface(utun("utun5", 12, "10.9.0.2"));
      assertEquals(await sim.deleteDefaultAs(4711, { family: 4 }), 0);
      assertEquals(await sim.addDefaultAs(4711, { family: 4, gateway: "10.9.0.1" }), 0);
      assertEquals(await globals(), ["10.9.0.1 utun5"]);

      const plain = await cli(["restore", "--family", "4", "--state", state]);
      assertEquals(plain.code, 0, plain.stderr);
      assertMatch(plain.stdout, /present on tunnel utun5.*left alone/);

      const [program, argv] = defrouteArgv([
        "restore",
        "--family",
        "4",
        "--state",
        state,
        "--tunnel-gone",
        "utun5",
        "-v",
      ]);
      const restore = spawnProc(program, argv, { env: sim.env });
      await restore.stderrMatch(/waiting up to 10 s for utun5 to go away/);
      await new Promise((r) => setTimeout(r, 200));
      assertEquals(await globals(), ["10.9.0.1 utun5"], "nothing changed while utun5 lives");
      await sim.removeInterface("utun5"); // wireguard-go exited: xnu drops the utun's routes
      assertEquals(await restore.exit(), 0, restore.stderr());
      assertMatch(restore.stderr(), /utun5 went away after \d+\.\d s/);
      assertEquals(await globals(), ["192.168.1.1 en0"]);
      assert(/\[#\] route add default 192\.168\.1\.1 \(en0\)/.test(restore.stderr()));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
