/**
 * The attack run's shapes in one go (issue 13), against the real CLI (the permission set users
 * get) on the real kernel in a throwaway network namespace: a FIFO at the state path, a state
 * directory reached through another user's symbolic link, a device node under `save --force`, a
 * saved gateway that is the machine's own address, a CMD with a bad `#!` line, and an orphan of
 * CMD that deletes the default after CMD exits. Each used to hang, be followed, be replaced,
 * be installed and called "restored", rewrite the state file, or leave the machine without a
 * default. Every verdict on routes comes from an independent `ip -j route show`.
 * Needs root, iproute2 and /dev/net/tun; skips with the reason elsewhere.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  CLIENT_ADDRESS,
  CLIENT_DEV,
  IP,
  type Lab,
  namespaceSupport,
  ROUTER_ADDRESS,
  run,
  type RunResult,
  withLab,
} from "../linux/netns.ts";
import { defrouteArgv } from "./run_watch_lib.ts";
import { lchown, mkfifo, mknodNull, stopUnblocker, unblockFifoAfter } from "../core/file_kinds.ts";

const support = namespaceSupport();
if (!support.ok) console.log(`skipping the red-team e2e test: ${support.reason}`);

function defroute(lab: Lab, ...args: string[]): Promise<RunResult> {
  const [program, argv] = defrouteArgv(args);
  const [exec, execArgs] = lab.exec(program, argv);
  return run(exec, execArgs);
}

async function globalDefaults(lab: Lab): Promise<string[]> {
  return (await lab.defaults(4)).map((r) => `${r.gateway ?? "-"} ${r.dev ?? "-"}`);
}

const HOST_DEFAULT = [`${ROUTER_ADDRESS} ${CLIENT_DEV}`];

/** One line on stderr (the reason), no stack trace. */
function oneLine(result: RunResult): string {
  const lines = result.stderr.trim().split("\n");
  assertEquals(lines.length, 1, `one line expected:\n${result.stderr}`);
  assert(!/\n\s+at /.test(result.stderr), "no stack trace");
  return lines[0]!;
}

function stateWith(gateway: string): string {
  const at = "2026-11-25T21:00:00.000Z";
  return JSON.stringify({
    version: 1,
    updatedAt: at,
    families: {
      4: {
        route: { gateway, interface: CLIENT_DEV, index: 2, flags: 3 },
        scutil: null,
        savedAt: at,
        savedBy: "save",
      },
    },
  });
}

Deno.test({
  name: "red team: FIFO, user's symlinked directory, device node, own-address gateway, bad #!, " +
    "orphan deleting the default - all in one namespace",
  ignore: !support.ok,
  fn: async () => {
    const dir = await Deno.makeTempDir({ prefix: "defroute-red-" });
    await Deno.chmod(dir, 0o755);
    try {
      await withLab(async (lab) => {
        // 1. A FIFO at the state path: refused by name, never opened (no hang).
        const fifo = `${dir}/fifo.json`;
        await mkfifo(fifo);
        const guard = unblockFifoAfter(fifo, 10);
        try {
          const status = await defroute(lab, "status", "--json", "--family", "4", "--state", fifo);
          assertEquals(status.code, 0);
          assertMatch(JSON.parse(status.stdout).stateError, /it is a FIFO \(named pipe\)/);
          const save = await defroute(lab, "save", "--family", "4", "--state", fifo);
          assertEquals(save.code, 1);
          assertMatch(oneLine(save), /refusing the state file .*fifo\.json: it is a FIFO/);
        } finally {
          await stopUnblocker(guard);
        }

        // 2. The state directory is another user's symbolic link to a root-owned directory.
        await Deno.mkdir(`${dir}/target`, { mode: 0o755 });
        await Deno.symlink(`${dir}/target`, `${dir}/link`);
        await lchown(`${dir}/link`, 65534);
        const viaLink = await defroute(lab, "save", "--state", `${dir}/link/state.json`);
        assertEquals(viaLink.code, 1);
        assertMatch(oneLine(viaLink), /link is a symbolic link owned by uid 65534, not root/);
        assertEquals([...Deno.readDirSync(`${dir}/target`)], [], "nothing landed where it points");

        // 3. save --force on a device node: refused with its type, the node kept.
        const device = `${dir}/dev.json`;
        await mknodNull(device);
        const forced = await defroute(lab, "save", "--force", "--state", device);
        assertEquals(forced.code, 1);
        assertMatch(oneLine(forced), /dev\.json: it is a character device, not a regular file/);
        assert(Deno.lstatSync(device).isCharDevice);

        // 4. A saved gateway that is this machine's own address: never installed.
        const own = `${dir}/own.json`;
        await Deno.writeTextFile(own, stateWith(CLIENT_ADDRESS), { mode: 0o644 });
        await Deno.chmod(own, 0o644);
        await lab.ip("route", "del", "default");
        const restore = await defroute(lab, "restore", "--family", "4", "--state", own);
        assertEquals(restore.code, 4, restore.stderr);
        assertEquals(await globalDefaults(lab), [], "no default via the machine's own address");
        const seen = JSON.parse(
          (await defroute(lab, "status", "--json", "--family", "4", "--state", own)).stdout,
        );
        const looked = seen.families[0].restorePlan.looked as { note: string }[];
        assert(
          looked.some((f) => /refused, 10\.77\.0\.2 is this machine's own address/.test(f.note)),
          JSON.stringify(looked),
        );
        await lab.ip("route", "add", "default", "via", ROUTER_ADDRESS, "dev", CLIENT_DEV);

        // 5. A CMD whose #! interpreter does not exist: exit 127, the state file untouched.
        const state = `${dir}/state.json`;
        await Deno.writeTextFile(state, stateWith(ROUTER_ADDRESS), { mode: 0o644 });
        await Deno.chmod(state, 0o644);
        const before = await Deno.readFile(state);
        const script = `${dir}/vpn`;
        await Deno.writeTextFile(script, "#!/nonexistent\n");
        await Deno.chmod(script, 0o755);
        const bad = await defroute(lab, "run", "--family", "4", "--state", state, "--", script);
        assertEquals(bad.code, 127);
        assertEquals(await Deno.readFile(state), before, "savedAt/savedBy rewritten");

        // 6. An orphan of CMD deletes the default half a second after CMD exits.
        const orphan = await defroute(
          lab,
          "run",
          "--family",
          "4",
          "--state",
          state,
          "--",
          "/bin/sh",
          "-c",
          `( sleep 0.5; ${IP} route del default ) & exit 0`,
        );
        assertEquals(orphan.code, 0, orphan.stderr);
        assertEquals(await globalDefaults(lab), HOST_DEFAULT, orphan.stderr);
        assertMatch(orphan.stderr, /left pid \d+ \((sh|sleep|ip)\).* running in its process group/);
      }, "red");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
