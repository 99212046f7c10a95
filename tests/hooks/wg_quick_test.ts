/**
 * The wg-quick example's hook lines never take the tunnel down, whatever defroute does.
 *
 * wg-quick runs under `set -e -o pipefail` and evaluates each hook as `(eval "$hook")`, so a
 * hook line that fails ends `wg-quick up` (its EXIT trap deletes the new interface) or `down`.
 * Two ways in: tests/hooks/wg_quick_darwin_hooks.bash reproduces darwin.bash's parsing and hook
 * evaluation (the macOS script itself cannot run here; the file cites its lines), and the real
 * Linux wg-quick (Debian's wireguard-tools, with wireguard-go where the kernel has no WireGuard
 * module) brings an interface up in a network namespace. Each runs the lines of the shipped
 * example with a `defroute` that fails (exit 1, as `save` on a corrupt state file), one that is
 * missing (127) and one that works, and a control copy without the guard that must abort.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { ip, namespaceSupport } from "../linux/netns.ts";
import { BASH, findOnPath, HOOKS_DIR } from "./helpers.ts";

const EXAMPLE = `${HOOKS_DIR}wg-quick/wg0.conf.example`;
const TABLE_OFF = `${HOOKS_DIR}wg-quick/wg0-table-off.conf.example`;
const DARWIN_HOOKS = new URL("./wg_quick_darwin_hooks.bash", import.meta.url).pathname;
const SHIPPED_PATH = "/usr/local/bin/defroute";

/** An example's hook lines (`PreUp = ...`), as written. */
async function exampleHooks(file = EXAMPLE): Promise<string[]> {
  const text = await Deno.readTextFile(file);
  return text.split("\n").filter((line) => /^(PreUp|PostUp|PreDown|PostDown)\s*=/.test(line));
}

interface Sandbox {
  dir: string;
  /** A stand-in defroute that logs its arguments and exits with `status`. */
  defroute(status: number): Promise<string>;
  calls(): Promise<string[]>;
  cleanup(): Promise<void>;
}

async function sandbox(): Promise<Sandbox> {
  const dir = await Deno.makeTempDir({ prefix: "defroute-wgq-" });
  await Deno.chmod(dir, 0o755);
  const log = `${dir}/calls.log`;
  return {
    dir,
    defroute: async (status) => {
      const path = `${dir}/defroute-${status}`;
      await Deno.writeTextFile(
        path,
        `#!${BASH}\nprintf '%s\\n' "$*" >> '${log}'\necho "defroute: failing with ${status}" >&2\n` +
          `exit ${status}\n`,
        { mode: 0o755 },
      );
      return path;
    },
    calls: async () => {
      try {
        return (await Deno.readTextFile(log)).split("\n").filter((l) => l !== "");
      } catch {
        return [];
      }
    },
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** The example's hook lines with `defroute` at `path`; `unguarded` drops the `|| true`. */
async function hookLines(path: string, unguarded = false, file = EXAMPLE): Promise<string[]> {
  const lines = (await exampleHooks(file)).map((line) => line.replaceAll(SHIPPED_PATH, path));
  return unguarded ? lines.map((line) => line.replace(/\s*\|\|\s*true\s*$/, "")) : lines;
}

async function run(cmd: string, args: string[], path?: string) {
  const env = path ? { PATH: `${path}:${Deno.env.get("PATH") ?? ""}` } : undefined;
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" })
    .output();
  const text = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: out.code, stdout: text(out.stdout), stderr: text(out.stderr) };
}

Deno.test("the wg-quick example guards both hooks and calls defroute by absolute path", async () => {
  const hooks = await exampleHooks();
  assertEquals(hooks.length, 2, hooks.join("\n"));
  assertMatch(hooks[0] ?? "", /^PreUp = \/usr\/local\/bin\/defroute save \|\| true$/);
  assertMatch(
    hooks[1] ?? "",
    /^PostDown = \/usr\/local\/bin\/defroute restore --tunnel-gone %i \|\| true$/,
  );
  const off = await exampleHooks(TABLE_OFF);
  assert(off.includes("PreUp = /usr/local/bin/defroute save || true"), off.join("\n"));
  assert(
    off.includes("PostDown = /usr/local/bin/defroute restore --tunnel-gone %i || true"),
    off.join("\n"),
  );
  assertMatch(await Deno.readTextFile(TABLE_OFF), /^Table = off$/m);
});

// --- darwin.bash's evaluation, reproduced -------------------------------------------------

if (BASH === null) console.log("skipping the wg-quick darwin hook tests: bash is not on PATH");

/** `wg_quick_darwin_hooks.bash up|down` on a config holding `lines` (PATH: `path` first). */
async function darwinWgQuick(
  box: Sandbox,
  action: "up" | "down",
  lines: string[],
  path?: string,
) {
  const config = `${box.dir}/wg0.conf`;
  await Deno.writeTextFile(config, `[Interface]\nPrivateKey = x\n${lines.join("\n")}\n`);
  const result = await run(BASH ?? "bash", [DARWIN_HOOKS, action, config], path);
  return { ...result, steps: result.stdout.split("\n").filter((l) => l !== "") };
}

const UP_DONE = ["add_if utun7", "set_config, addresses, routes, monitor", "up done"];
const DOWN_DONE = ["del_if utun7", "down done"];

Deno.test({
  name: "wg-quick (darwin.bash's hook evaluation): a failing or missing defroute never aborts",
  ignore: BASH === null,
  fn: async () => {
    const box = await sandbox();
    try {
      for (const status of [0, 1, 3, 4, 127]) {
        const defroute = status === 127
          ? `${box.dir}/missing/defroute`
          : await box.defroute(status);
        const lines = await hookLines(defroute);
        const up = await darwinWgQuick(box, "up", lines);
        assertEquals([up.code, up.steps], [0, UP_DONE], `up, defroute ${status}: ${up.stderr}`);
        const down = await darwinWgQuick(box, "down", lines);
        assertEquals([down.code, down.steps], [0, DOWN_DONE], `down, defroute ${status}`);
        assertMatch(down.stderr, /\[#\] .*defroute\S* restore .*\|\| true/);
      }
      const ran = await box.calls();
      assertEquals(ran.filter((c) => c.startsWith("save")).length, 4);
      assertEquals(ran.filter((c) => c.startsWith("restore")).length, 4);
    } finally {
      await box.cleanup();
    }
  },
});

Deno.test({
  name: "wg-quick (darwin.bash's hook evaluation), control: unguarded hooks do abort",
  ignore: BASH === null,
  fn: async () => {
    const box = await sandbox();
    try {
      for (const status of [1, 127]) {
        const defroute = status === 127
          ? `${box.dir}/missing/defroute`
          : await box.defroute(status);
        const lines = await hookLines(defroute, true);
        const up = await darwinWgQuick(box, "up", lines);
        // PreUp runs after add_if, so the EXIT trap tears the new utun down again.
        assertEquals(up.code, status, up.stderr);
        assertEquals(up.steps, ["add_if utun7", "del_if utun7", "del_routes"]);
        const down = await darwinWgQuick(box, "down", lines);
        assertEquals([down.code, down.steps], [status, ["del_if utun7"]]);
      }
    } finally {
      await box.cleanup();
    }
  },
});

Deno.test({
  name: "wg-quick (darwin.bash's hook evaluation): the Table = off example, %i is the utun",
  ignore: BASH === null,
  fn: async () => {
    const box = await sandbox();
    try {
      // A stand-in route(8) that logs and answers `route -n get default` like macOS.
      const bin = `${box.dir}/bin`;
      await Deno.mkdir(bin);
      await Deno.writeTextFile(
        `${bin}/route`,
        `#!${BASH}\nprintf 'route %s\\n' "$*" >> '${box.dir}/calls.log'\n` +
          `[[ $* == "-n get default" ]] && printf '   route to: default\\n    gateway: 192.168.1.1\\n'\n` +
          `exit 0\n`,
        { mode: 0o755 },
      );
      const lines = await hookLines(await box.defroute(4), false, TABLE_OFF);
      const up = await darwinWgQuick(box, "up", lines, bin);
      assertEquals([up.code, up.steps], [0, UP_DONE], up.stderr);
      const down = await darwinWgQuick(box, "down", lines, bin);
      assertEquals([down.code, down.steps], [0, DOWN_DONE], down.stderr);
      assertEquals(await box.calls(), [
        "save",
        "route -n get default",
        "route -q -n add -inet 203.0.113.7 192.168.1.1",
        "route -q -n change -inet default -interface utun7",
        "restore --tunnel-gone utun7",
        "route -q -n delete -inet 203.0.113.7",
      ]);
    } finally {
      await box.cleanup();
    }
  },
});

// --- the real wg-quick on Linux -------------------------------------------------------------

const WG_QUICK = findOnPath("wg-quick");
const WG = findOnPath("wg");
const support = namespaceSupport();
const kernelWireGuard = (() => {
  try {
    Deno.statSync("/sys/module/wireguard");
    return true;
  } catch {
    return false;
  }
})();
const linuxSkip = !support.ok
  ? support.reason
  : WG_QUICK === null || WG === null
  ? "needs wg-quick and wg (apt-get install wireguard-tools)"
  : !kernelWireGuard && findOnPath("wireguard-go") === null
  ? "needs the wireguard kernel module or wireguard-go (apt-get install wireguard-go)"
  : BASH === null
  ? "needs bash"
  : null;
if (linuxSkip) console.log(`skipping the real wg-quick hook tests: ${linuxSkip}`);

async function wgKey(args: string[], stdin?: string): Promise<string> {
  const child = new Deno.Command(WG ?? "wg", { args, stdin: "piped", stdout: "piped" }).spawn();
  const writer = child.stdin.getWriter();
  if (stdin !== undefined) await writer.write(new TextEncoder().encode(stdin));
  await writer.close();
  return new TextDecoder().decode((await child.output()).stdout).trim();
}

/** `ip netns exec NS wg-quick ACTION CONFIG`. */
function wgQuick(ns: string, action: "up" | "down", config: string) {
  return run("ip", ["netns", "exec", ns, WG_QUICK ?? "wg-quick", action, config]);
}

async function links(ns: string): Promise<string[]> {
  const list = JSON.parse(await ip("-n", ns, "-j", "link", "show")) as { ifname: string }[];
  return list.map((l) => l.ifname).filter((name) => name !== "lo");
}

Deno.test({
  name: "the real wg-quick (Linux): guarded hooks bring the tunnel up and down; unguarded abort",
  ignore: linuxSkip !== null,
  fn: async () => {
    const box = await sandbox();
    const ns = `drt-${Deno.pid}-wgq${Math.floor(Math.random() * 0x10000).toString(16)}`;
    await ip("netns", "add", ns);
    try {
      await ip("-n", ns, "link", "set", "lo", "up");
      const privateKey = await wgKey(["genkey"]);
      const peer = await wgKey(["pubkey"], await wgKey(["genkey"]));
      // An interface name is the config's file name (wg-quick: at most 15 characters).
      const config = `${box.dir}/dfrwg0.conf`;
      const write = (lines: string[]) =>
        Deno.writeTextFile(
          config,
          `[Interface]\nPrivateKey = ${privateKey}\nAddress = 10.79.0.2/24\n${lines.join("\n")}\n` +
            `\n[Peer]\nPublicKey = ${peer}\nAllowedIPs = 10.79.0.0/24\n`,
          { mode: 0o600 },
        );
      for (const status of [1, 127]) {
        const defroute = status === 127
          ? `${box.dir}/missing/defroute`
          : await box.defroute(status);
        await write(await hookLines(defroute));
        const up = await wgQuick(ns, "up", config);
        assertEquals(up.code, 0, up.stderr);
        assertEquals(await links(ns), ["dfrwg0"]);
        const down = await wgQuick(ns, "down", config);
        assertEquals(down.code, 0, down.stderr);
        assertMatch(down.stderr, /\[#\] .*defroute\S* restore/);
        // wireguard-go exits once its socket is gone; the kernel then drops the tun.
        for (let i = 0; i < 100 && (await links(ns)).length > 0; i++) {
          await new Promise((r) => setTimeout(r, 50));
        }
        assertEquals(await links(ns), []);

        await write(await hookLines(defroute, true));
        const aborted = await wgQuick(ns, "up", config);
        assert(aborted.code !== 0, `unguarded PreUp with defroute ${status} did not abort`);
        assertEquals(await links(ns), [], "the aborted up left an interface");
      }
      assertEquals((await box.calls()).map((c) => c.split(" ")[0]), ["save", "restore", "save"]);
    } finally {
      await run("ip", ["netns", "del", ns]);
      await box.cleanup();
    }
  },
});
