/**
 * The shipped OpenVPN up/down scripts under the real openvpn (Debian's), in two network
 * namespaces joined by a veth pair: a static-key point-to-point tunnel, `--script-security 2
 * --up/--down` and a `defroute` stand-in that fails (exit 4, "no gateway known", as with Wi-Fi
 * down). Restarts are the real ones: SIGUSR1 and a ping-restart after the server went away.
 *
 * What is checked: OpenVPN survives every restart (a failing --down is fatal to it: OpenVPN
 * init.c run_up_down, openvpn_run_script(..., S_FATAL, "--up/--down"), and without persist-tun
 * it runs --down on every restart, init.c do_close_tun); on a restart the script asks for one
 * attempt (`restore --no-retry`), at a stop for the full restore; the failure is in OpenVPN's
 * log. A control run with `--down /bin/false` shows the harness sees the fatal exit. And the
 * down-root plugin with `user nobody` + `persist-tun` + `persist-key`: no --down at a SIGUSR1 restart, the
 * script as root at the stop, without $signal (the plugin keeps the first --up's environment,
 * OpenVPN src/plugins/down-root/down-root.c).
 *
 * Needs root, iproute2, /dev/net/tun, bash and openvpn with static-key support (`--secret`);
 * skips with the reason where any is missing. Every wait is bounded.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { IP, type Lab, namespaceSupport, ROUTER_ADDRESS, withLab } from "../linux/netns.ts";
import { BASH, findOnPath, HOOKS_DIR, waitFor } from "./helpers.ts";

const OPENVPN = findOnPath("openvpn") ??
  ["/usr/sbin/openvpn", "/sbin/openvpn"].find((path) => exists(path)) ?? null;

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function hasStaticKeys(openvpn: string): boolean {
  const help = new Deno.Command(openvpn, { args: ["--help"], stdout: "piped", stderr: "null" })
    .outputSync();
  return /--secret\b/.test(new TextDecoder().decode(help.stdout));
}

/** Debian's down-root plugin (lib/<triplet>/openvpn/plugins), if installed. */
function downRootPlugin(): string | null {
  for (const dir of ["/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib"]) {
    const path = `${dir}/openvpn/plugins/openvpn-plugin-down-root.so`;
    if (exists(path)) return path;
  }
  return null;
}

const support = namespaceSupport();
const skip = !support.ok
  ? support.reason
  : BASH === null
  ? "needs bash"
  : OPENVPN === null
  ? "needs openvpn (apt-get install openvpn)"
  : !hasStaticKeys(OPENVPN)
  ? "this openvpn has no static-key mode (--secret)"
  : null;
if (skip) console.log(`skipping the real-OpenVPN hook tests: ${skip}`);
const PLUGIN = downRootPlugin();
if (!skip && PLUGIN === null) {
  console.log("skipping the down-root plugin test: openvpn-plugin-down-root.so not found");
}

const PORT = "11940";
const TUNNEL_SERVER = "10.78.0.1";
const TUNNEL_CLIENT = "10.78.0.2";

/** A temp dir with the shipped scripts, a static key and a failing `defroute` stand-in that
 * records `$signal`, its uid and its arguments, one line per call. */
async function workspace() {
  const dir = await Deno.makeTempDir({ prefix: "defroute-openvpn-" });
  await Deno.chmod(dir, 0o755); // the down-root test's OpenVPN runs as nobody after --up
  for (const name of ["defroute-up.sh", "defroute-down.sh"]) {
    await Deno.copyFile(`${HOOKS_DIR}openvpn/${name}`, `${dir}/${name}`);
    await Deno.chmod(`${dir}/${name}`, 0o755);
  }
  const calls = `${dir}/calls.log`;
  await Deno.writeTextFile(
    `${dir}/defroute`,
    `#!${BASH}\nprintf '%s uid=%s %s\\n' "\${signal-unset}" "$(id -u)" "$*" >> '${calls}'\n` +
      `echo "stand-in defroute: no gateway known" >&2\nexit 4\n`,
    { mode: 0o755 },
  );
  const key = await new Deno.Command(OPENVPN ?? "", {
    args: ["--genkey", "secret", `${dir}/static.key`],
    stdout: "null",
    stderr: "piped",
  }).output();
  assert(key.success, new TextDecoder().decode(key.stderr));
  return {
    dir,
    calls: async (): Promise<string[]> => {
      try {
        return (await Deno.readTextFile(calls)).split("\n").filter((line) => line !== "");
      } catch {
        return [];
      }
    },
    log: (name: string) => Deno.readTextFile(`${dir}/${name}.log`).catch(() => ""),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}
type Workspace = Awaited<ReturnType<typeof workspace>>;

interface OpenVpn {
  pid: number;
  status: Promise<Deno.CommandStatus>;
  /** Set once the process has exited. */
  exited: Deno.CommandStatus | null;
  kill(signal: Deno.Signal): void;
}

/** openvpn in a namespace (`ip netns exec` execs it: the child's pid is openvpn's). */
function openvpn(ns: string, ws: Workspace, name: string, args: string[]): OpenVpn {
  const child = new Deno.Command(IP ?? "ip", {
    args: [
      "netns",
      "exec",
      ns,
      OPENVPN ?? "",
      "--dev",
      "tun",
      "--proto",
      "udp",
      "--cipher",
      "AES-256-CBC",
      "--verb",
      "3",
      "--log",
      `${ws.dir}/${name}.log`,
      ...args,
    ],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
  const vpn: OpenVpn = {
    pid: child.pid,
    status: child.status,
    exited: null,
    kill: (signal) => child.kill(signal),
  };
  child.status.then((status) => vpn.exited = status);
  return vpn;
}

function server(lab: Lab, ws: Workspace): OpenVpn {
  return openvpn(lab.router, ws, "server", [
    "--secret",
    `${ws.dir}/static.key`,
    "0",
    "--ifconfig",
    TUNNEL_SERVER,
    TUNNEL_CLIENT,
    "--local",
    ROUTER_ADDRESS,
    "--lport",
    PORT,
    "--ping",
    "1",
  ]);
}

function client(lab: Lab, ws: Workspace, extra: string[]): OpenVpn {
  return openvpn(lab.ns, ws, "client", [
    "--secret",
    `${ws.dir}/static.key`,
    "1",
    "--ifconfig",
    TUNNEL_CLIENT,
    TUNNEL_SERVER,
    "--remote",
    ROUTER_ADDRESS,
    PORT,
    "--nobind",
    "--ping",
    "1",
    "--ping-restart",
    "4",
    "--script-security",
    "2",
    "--setenv",
    "DEFROUTE",
    `${ws.dir}/defroute`,
    ...extra,
  ]);
}

async function stopped(vpn: OpenVpn): Promise<void> {
  try {
    vpn.kill("SIGTERM");
  } catch {
    // already gone
  }
  const timer = setTimeout(() => {
    try {
      vpn.kill("SIGKILL");
    } catch {
      // gone
    }
  }, 10_000);
  await vpn.status;
  clearTimeout(timer);
}

function realTest(name: string, fn: (lab: Lab, ws: Workspace) => Promise<void>, off = false) {
  Deno.test({
    name,
    ignore: skip !== null || off,
    fn: async () => {
      const ws = await workspace();
      try {
        await withLab((lab) => fn(lab, ws), "ovpn");
      } finally {
        await ws.cleanup();
      }
    },
  });
}

realTest(
  "control: with a failing --down, the real openvpn exits at a SIGUSR1 restart",
  async (lab, ws) => {
    const vpn = client(lab, ws, ["--down", "/bin/false"]);
    try {
      await waitFor(
        "the tunnel to open",
        async () =>
          /Initialization Sequence Completed|UDPv4 link remote/.test(await ws.log("client")) ||
          null,
        () => ws.log("client"),
      );
      vpn.kill("SIGUSR1");
      const status = await waitFor(
        "openvpn to exit",
        () => Promise.race([vpn.status, new Promise<null>((r) => setTimeout(() => r(null), 100))]),
        () => ws.log("client"),
      );
      assert(!status.success, "openvpn survived a failing --down (the control case)");
      assertMatch(await ws.log("client"), /Exiting due to fatal error/);
    } finally {
      await stopped(vpn);
    }
  },
);

realTest(
  "the shipped scripts under the real openvpn: restarts go on, a stop restores",
  async (lab, ws) => {
    let peer = server(lab, ws);
    const vpn = client(lab, ws, [
      "--up",
      `${ws.dir}/defroute-up.sh`,
      "--down",
      `${ws.dir}/defroute-down.sh`,
    ]);
    const context = async () =>
      `calls:\n${(await ws.calls()).join("\n")}\nclient log:\n${await ws.log("client")}`;
    const callCount = (n: number) => async () => {
      // The old --down (exit 4) made OpenVPN exit here: say so at once instead of waiting.
      if (vpn.exited) throw new Error(`openvpn exited (${vpn.exited.code})\n${await context()}`);
      return (await ws.calls()).length >= n || null;
    };
    try {
      await waitFor(
        "the tunnel to connect",
        async () => /Initialization Sequence Completed/.test(await ws.log("client")) || null,
        context,
      );
      assertEquals(await ws.calls(), ["unset uid=0 save"]);

      // SIGUSR1: a soft restart. Without persist-tun, --down runs (signal=sigusr1), then --up.
      vpn.kill("SIGUSR1");
      await waitFor("--down and --up after SIGUSR1", callCount(3), context);
      // The server going away: after --ping-restart 4 the client restarts by itself.
      await stopped(peer);
      await waitFor("--down and --up after the ping-restart", callCount(5), context);
      const restarts = await ws.calls();
      assertEquals(restarts.slice(0, 5), [
        "unset uid=0 save",
        "sigusr1 uid=0 restore --no-retry",
        "unset uid=0 save", // OpenVPN builds a new environment for the restart's --up
        "ping-restart uid=0 restore --no-retry",
        "unset uid=0 save",
      ]);

      // The server back, the tunnel up again (a signal during OpenVPN's (re)initialisation is
      // reported as "init_instance", init.c init_instance: a stop must come once it is up).
      const connections = async () =>
        ((await ws.log("client")).match(/Initialization Sequence Completed/g) ?? []).length;
      const before = await connections();
      peer = server(lab, ws);
      await waitFor(
        "the tunnel to reconnect",
        async () => await connections() > before || null,
        context,
      );

      // A stop: the full restore. OpenVPN exits cleanly although the stand-in failed each time.
      vpn.kill("SIGTERM");
      const status = await vpn.status;
      const calls = await ws.calls();
      assertEquals(calls.at(-1), "sigterm uid=0 restore");
      // (the server is gone, so more ping-restarts may have come before the SIGTERM)
      for (const call of calls.slice(0, -1)) {
        assertMatch(call, /^(unset uid=0 save|(sigusr1|ping-restart) uid=0 restore --no-retry)$/);
      }
      const log = await ws.log("client");
      assertEquals(status.code, 0, log);
      assert(!/fatal error/i.test(log), log);
      assertMatch(log, /defroute-down: '.*defroute restore' exited with 4 \(signal 'sigusr1'\)/);
      assertMatch(log, /defroute-down: '.*defroute restore' exited with 4 \(signal 'sigterm'\)/);
    } finally {
      await stopped(vpn);
      await stopped(peer);
    }
  },
);

realTest(
  "down-root plugin, user nobody, persist-tun/-key: no --down at a restart, root at the stop",
  async (lab, ws) => {
    const peer = server(lab, ws);
    const vpn = client(lab, ws, [
      "--up",
      `${ws.dir}/defroute-up.sh`,
      "--plugin",
      PLUGIN ?? "",
      `${ws.dir}/defroute-down.sh`,
      "--user",
      "nobody",
      "--persist-tun",
      "--persist-key", // the key file is root's: nobody could not read it again
    ]);
    const context = async () =>
      `calls:\n${(await ws.calls()).join("\n")}\nclient log:\n${await ws.log("client")}`;
    try {
      await waitFor(
        "the tunnel to connect",
        async () => /Initialization Sequence Completed/.test(await ws.log("client")) || null,
        context,
      );
      vpn.kill("SIGUSR1");
      await waitFor(
        "the restart to reconnect",
        async () =>
          ((await ws.log("client")).match(/Initialization Sequence Completed/g) ?? []).length >=
            2 || null,
        context,
      );
      assertEquals(await ws.calls(), ["unset uid=0 save"], "persist-tun: no --down on SIGUSR1");
      vpn.kill("SIGTERM");
      const status = await vpn.status;
      // The plugin's root helper ran the script with the first --up's environment: no $signal,
      // so the full restore; as root although OpenVPN itself runs as nobody.
      assertEquals(await ws.calls(), ["unset uid=0 save", "unset uid=0 restore"]);
      assertEquals(status.code, 0, await ws.log("client"));
    } finally {
      await stopped(vpn);
      await stopped(peer);
    }
  },
  PLUGIN === null,
);
