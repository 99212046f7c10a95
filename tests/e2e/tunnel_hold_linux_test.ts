/**
 * A live tunnel that carries the traffic without a global default of its own, under the real VPN
 * tools in throwaway namespaces (tests/linux/netns.ts), through the real CLI:
 * - `status` says which tunnel carries the IPv4 traffic and how (issue 18 item 5): wg-quick's
 *   policy routing (`not fwmark 0xca6c lookup 51820` + `lookup main suppress_prefixlength 0`,
 *   wireguard-tools src/wg-quick/linux.bash add_default) and OpenVPN's `redirect-gateway def1`
 *   (0.0.0.0/1 + 128.0.0.0/1, OpenVPN route.c redirect_default_route_to_vpn), while restore
 *   rightly does nothing;
 * - `watch --heal` never fills a void while such a tunnel holds the traffic, and fills it once
 *   the tunnel is gone (issue 17 "Never route around a live tunnel"); `--heal-under-tunnel`
 *   fills it anyway.
 * Needs root, iproute2, /dev/net/tun, openvpn (static-key mode) and wg-quick with wg and
 * wireguard-go (or the kernel module) and nft or iptables-restore; each test skips with the
 * reason where its tool is missing.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  CLIENT_DEV,
  IP,
  type IpRoute,
  type Lab,
  namespaceSupport,
  ROUTER_ADDRESS,
  withLab,
} from "../linux/netns.ts";
import {
  defrouteArgv,
  eventually,
  type Proc,
  sleep,
  spawnProc,
  startHealer,
  stopWatch,
} from "./run_watch_lib.ts";

function onPath(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    try {
      if (Deno.statSync(`${dir}/${name}`).isFile) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return null;
}

const OPENVPN = onPath("openvpn");
const WG_QUICK = onPath("wg-quick");
const WG = onPath("wg");
const support = namespaceSupport();
const openvpnSkip = !support.ok
  ? support.reason
  : OPENVPN === null
  ? "needs openvpn (apt-get install openvpn)"
  : null;
const wgSkip = !support.ok
  ? support.reason
  : WG_QUICK === null || WG === null
  ? "needs wg-quick and wg (apt-get install wireguard-tools)"
  : onPath("wireguard-go") === null && !moduleLoaded("wireguard")
  ? "needs wireguard-go or the wireguard kernel module"
  : onPath("nft") === null && onPath("iptables-restore") === null
  ? "needs nft or iptables-restore (wg-quick's fwmark rules)"
  : null;
if (openvpnSkip) console.log(`skipping the OpenVPN def1 tunnel tests: ${openvpnSkip}`);
if (wgSkip) console.log(`skipping the wg-quick tunnel tests: ${wgSkip}`);

function moduleLoaded(name: string): boolean {
  try {
    return Deno.statSync(`/sys/module/${name}`).isDirectory;
  } catch {
    return false;
  }
}

const TUNNEL_SERVER = "10.78.0.1";
const TUNNEL_CLIENT = "10.78.0.2";
const PORT = "11941";

function defroute(lab: Lab, args: string[]): Proc {
  const [program, argv] = defrouteArgv(args);
  const [exec, execArgs] = lab.exec(program, argv);
  return spawnProc(exec, execArgs);
}

async function statusOf(lab: Lab, state: string): Promise<Record<string, unknown>> {
  const p = defroute(lab, ["status", "--json", "--family", "4", "--state", state]);
  const report = await p.next((v) => v.command === "status");
  assertEquals(await p.exit(), 0, p.stderr());
  return (report.families as Record<string, unknown>[])[0] ?? {};
}

function shape(routes: IpRoute[]): [string | null, string | null][] {
  return routes.map((r) => [r.gateway ?? null, r.dev ?? null]);
}

interface Tool {
  stop(): Promise<void>;
}

/** The argv of an OpenVPN static-key peer after the program (Debian's openvpn). */
function openvpnArgs(dir: string, name: string, device: string[], args: string[]): string[] {
  return [
    ...device,
    "--proto",
    "udp",
    "--cipher",
    "AES-256-CBC",
    "--verb",
    "3",
    "--log",
    `${dir}/${name}.log`,
    "--secret",
    `${dir}/static.key`,
    ...args,
  ];
}

/** The client side's argv: key direction 1, to the router's server. */
function clientArgs(dir: string, device: string[], ifconfig: string[], extra: string[]): string[] {
  return openvpnArgs(dir, "client", device, [
    "1",
    "--ifconfig",
    ...ifconfig,
    "--remote",
    ROUTER_ADDRESS,
    PORT,
    "--nobind",
    ...extra,
  ]);
}

/** A static key, and the OpenVPN server in the router namespace (`device`: tun or tap args). */
async function openvpnServer(
  lab: Lab,
  dir: string,
  device: string[],
  ifconfig: string[],
): Promise<Deno.ChildProcess> {
  const key = await new Deno.Command(OPENVPN!, {
    args: ["--genkey", "secret", `${dir}/static.key`],
    stdout: "null",
    stderr: "null",
  }).output();
  assert(key.success, "openvpn --genkey");
  return inNamespace(lab.router, [
    OPENVPN!,
    ...openvpnArgs(dir, "server", device, [
      "0",
      "--ifconfig",
      ...ifconfig,
      "--local",
      ROUTER_ADDRESS,
      "--lport",
      PORT,
    ]),
  ]);
}

function inNamespace(ns: string, argv: string[]): Deno.ChildProcess {
  return new Deno.Command(IP!, {
    args: ["netns", "exec", ns, ...argv],
    stdin: "null",
    stdout: "null",
    stderr: "null",
  }).spawn();
}

async function stopAll(children: Deno.ChildProcess[]): Promise<void> {
  for (const child of children) {
    try {
      child.kill("SIGTERM");
    } catch {
      // gone already
    }
    await child.status;
  }
}

/** The tunnel's device once OpenVPN's 128.0.0.0/1 is in the client's table. */
async function splitDevice(lab: Lab, dir: string): Promise<string> {
  let dev = "";
  try {
    await eventually(async () => {
      dev = (await lab.routes(4)).find((r) => r.dst === "128.0.0.0/1")?.dev ?? "";
      return dev !== "";
    }, "OpenVPN's 0.0.0.0/1 + 128.0.0.0/1");
  } catch (error) {
    const log = await Deno.readTextFile(`${dir}/client.log`).catch(() => "");
    throw new Error(`${error}\nclient log:\n${log}`);
  }
  return dev;
}

const TUN = ["--dev", "tun"];
const TUN_SERVER_IFCONFIG = [TUNNEL_SERVER, TUNNEL_CLIENT];
const TUN_CLIENT_IFCONFIG = [TUNNEL_CLIENT, TUNNEL_SERVER];
const DEF1 = ["--redirect-gateway", "def1"];

/** An OpenVPN static-key tunnel from the client namespace to the router, with `redirect-gateway
 * def1` on the client: 0.0.0.0/1 + 128.0.0.0/1 via the tunnel, the default left alone. */
async function openvpnDef1(lab: Lab, dir: string): Promise<Tool & { dev: string }> {
  const server = await openvpnServer(lab, dir, TUN, TUN_SERVER_IFCONFIG);
  const client = inNamespace(lab.ns, [
    OPENVPN!,
    ...clientArgs(dir, TUN, TUN_CLIENT_IFCONFIG, DEF1),
  ]);
  try {
    return { dev: await splitDevice(lab, dir), stop: () => stopAll([client, server]) };
  } catch (error) {
    await stopAll([client, server]);
    throw error;
  }
}

/** wg-quick up with AllowedIPs 0.0.0.0/0 in the client namespace (no peer needs to answer:
 * the routes and rules are wg-quick's, installed at once). */
async function wgQuick(lab: Lab, dir: string): Promise<Tool> {
  const key = async (args: string[], input?: string) => {
    const child = new Deno.Command(WG!, {
      args,
      stdin: input === undefined ? "null" : "piped",
      stdout: "piped",
    }).spawn();
    if (input !== undefined) {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(input));
      await writer.close();
    }
    return new TextDecoder().decode((await child.output()).stdout).trim();
  };
  const peer = await key(["pubkey"], await key(["genkey"]));
  const conf = `${dir}/wgd0.conf`;
  await Deno.writeTextFile(
    conf,
    `[Interface]\nPrivateKey = ${await key([
      "genkey",
    ])}\nAddress = 10.79.0.2/24\n\n[Peer]\nPublicKey = ${peer}\nEndpoint = ${ROUTER_ADDRESS}:51820\nAllowedIPs = 0.0.0.0/0\n`,
    { mode: 0o600 },
  );
  const wg = (verb: string) =>
    new Deno.Command(IP!, {
      args: ["netns", "exec", lab.ns, WG_QUICK!, verb, conf],
      stdout: "piped",
      stderr: "piped",
    }).output();
  const up = await wg("up");
  assert(up.success, `wg-quick up: ${new TextDecoder().decode(up.stderr)}`);
  return {
    stop: async () => {
      await wg("down");
    },
  };
}

function e2e(
  name: string,
  skip: string | null,
  body: (lab: Lab, state: string, dir: string) => Promise<void>,
): void {
  Deno.test({
    name: `tunnel hold e2e: ${name}`,
    ignore: skip !== null,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "defroute-hold-" });
      try {
        await withLab((lab) => body(lab, `${dir}/state.json`, dir), "hold");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

e2e(
  "status: wg-quick's policy routing carries the traffic; restore rightly does nothing",
  wgSkip,
  async (lab, state, dir) => {
    const vpn = await wgQuick(lab, dir);
    try {
      const f = await statusOf(lab, state);
      const diagnosis = f.diagnosis as { condition: string; summary: string };
      assertEquals(diagnosis.condition, "tunnel-carried", diagnosis.summary);
      const [tunnel] = f.tunnels as { interface: string; kind: string; how: string }[];
      assertEquals([tunnel?.interface, tunnel?.kind], ["wgd0", "policy-rule"]);
      assertMatch(
        tunnel?.how ?? "",
        /policy rule \d+ \(not fwmark 0xca6c lookup 51820\) sends it to table 51820: default dev wgd0; rule \d+ \(lookup main suppress_prefixlength 0\) keeps the main table's default out of use/,
      );
      assertMatch(diagnosis.summary, /the IPv4 traffic goes through tunnel wgd0/);
      assertEquals((f.restorePlan as { action: string }).action, "keep");
      const dry = defroute(lab, ["restore", "--dry-run", "--family", "4", "--state", state]);
      assertEquals(await dry.exit(), 0);
      assert(!/\[#\]|would run/.test(dry.stderr()), dry.stderr());
    } finally {
      await vpn.stop();
    }
    const after = await statusOf(lab, state);
    assertEquals((after.diagnosis as { condition: string }).condition, "healthy");
    assertEquals(after.tunnels, []);
  },
);

e2e(
  "status: OpenVPN def1's 0/1 + 128/1 carry the traffic over the default",
  openvpnSkip,
  async (lab, state, dir) => {
    const vpn = await openvpnDef1(lab, dir);
    try {
      const f = await statusOf(lab, state);
      const diagnosis = f.diagnosis as { condition: string; summary: string };
      assertEquals(diagnosis.condition, "tunnel-carried", diagnosis.summary);
      const [tunnel] = f.tunnels as { interface: string; kind: string; how: string }[];
      assertEquals([tunnel?.interface, tunnel?.kind], [vpn.dev, "split-routes"]);
      assertMatch(
        tunnel?.how ?? "",
        new RegExp(`^0\\.0\\.0\\.0/1 \\+ 128\\.0\\.0\\.0/1 on ${vpn.dev} \\(all of IPv4\\)`),
      );
      assertEquals(shape(await lab.defaults(4)), [[ROUTER_ADDRESS, CLIENT_DEV]]);
    } finally {
      await vpn.stop();
    }
  },
);

e2e(
  "watch --heal: a void under OpenVPN def1 is not filled until the tunnel is gone",
  openvpnSkip,
  async (lab, state, dir) => {
    const w = await startHealer((args) => defroute(lab, args), state, ["--grace", "0.3"]);
    try {
      const vpn = await openvpnDef1(lab, dir);
      try {
        // A kill switch (or a tool) removes the default: the tunnel's /1 routes carry the
        // traffic; filling the void would route around them.
        await lab.ip("route", "del", "default");
        const held = await w.next((v) => v.event === "held");
        assertMatch(held.heldBy as string, new RegExp(`tunnel ${vpn.dev} holds the IPv4 traffic`));
        await sleep(1500); // five grace periods
        assertEquals(await lab.defaults(4), [], "no default was added under the tunnel");
        assert(!w.seen.some((v) => v.event === "repair"), "no repair while the tunnel lives");
      } finally {
        await vpn.stop();
      }
      // OpenVPN removed its routes and its tun: the void is filled after a fresh grace period.
      const repair = await w.next((v) => v.event === "repair");
      assertEquals(repair.ok, true);
      assertEquals(shape(await lab.defaults(4)), [[ROUTER_ADDRESS, CLIENT_DEV]]);
    } finally {
      await stopWatch(w, "SIGTERM");
    }
  },
);

e2e(
  "watch --heal --heal-under-tunnel fills the void under the tunnel anyway",
  openvpnSkip,
  async (lab, state, dir) => {
    const w = await startHealer((args) => defroute(lab, args), state, [
      "--grace",
      "0.3",
      "--heal-under-tunnel",
    ]);
    try {
      const vpn = await openvpnDef1(lab, dir);
      try {
        await lab.ip("route", "del", "default");
        const repair = await w.next((v) => v.event === "repair");
        assertEquals(repair.ok, true);
        assertEquals(shape(await lab.defaults(4)), [[ROUTER_ADDRESS, CLIENT_DEV]]);
        assert(!w.seen.some((v) => v.event === "held"));
      } finally {
        await vpn.stop();
      }
    } finally {
      await stopWatch(w, "SIGTERM");
    }
  },
);

e2e(
  "run --heal: CMD's def1 tunnel holds the void (no repair); run still restores when CMD exits",
  openvpnSkip,
  async (lab, state, dir) => {
    const server = await openvpnServer(lab, dir, TUN, TUN_SERVER_IFCONFIG);
    try {
      const p = defroute(lab, [
        "run",
        "--heal",
        "--grace",
        "0.3",
        "--family",
        "4",
        "--state",
        state,
        "--",
        OPENVPN!,
        ...clientArgs(dir, TUN, TUN_CLIENT_IFCONFIG, DEF1),
      ]);
      const dev = await splitDevice(lab, dir);
      await lab.ip("route", "del", "default");
      await p.stderrMatch(new RegExp(`not repairing the IPv4 default: tunnel ${dev} holds`));
      await sleep(1500); // five grace periods
      assertEquals(await lab.defaults(4), [], "no default added under CMD's tunnel");
      p.kill("SIGTERM"); // forwarded to OpenVPN, which removes its routes and its tun
      assertEquals(await p.exit(), 0, p.stderr());
      assertEquals(shape(await lab.defaults(4)), [[ROUTER_ADDRESS, CLIENT_DEV]], p.stderr());
      assertMatch(p.stderr(), /IPv4 default restored: 10\.77\.0\.1 via veth0 \(from saved\)/);
    } finally {
      await stopAll([server]);
    }
  },
);

e2e(
  "recording: a TAP that OpenVPN names corp0 is a tunnel by its driver, never the saved default",
  openvpnSkip,
  async (lab, state, dir) => {
    // `--dev corp0 --dev-type tap`: an Ethernet-typed device of the tun driver, with a name no
    // prefix rule knows (issue 18 item 1). It is up before the healer starts.
    const tap = ["--dev", "corp0", "--dev-type", "tap"];
    const mask = "255.255.255.0";
    const server = await openvpnServer(lab, dir, ["--dev", "tap"], [TUNNEL_SERVER, mask]);
    const client = inNamespace(lab.ns, [
      OPENVPN!,
      ...clientArgs(dir, tap, [TUNNEL_CLIENT, mask], []),
    ]);
    try {
      await eventually(async () => {
        const link = JSON.parse(await lab.ip("-j", "link", "show")) as {
          ifname: string;
          flags: string[];
        }[];
        return link.some((l) => l.ifname === "corp0" && l.flags.includes("LOWER_UP"));
      }, "OpenVPN's corp0 up");
      const w = await startHealer((args) => defroute(lab, args), state, ["-v", "--grace", "30"]);
      try {
        await w.stderrMatch(/recorded the last good IPv4 default: 10\.77\.0\.1 (via|on) veth0/);
        await lab.ip("route", "replace", "default", "via", TUNNEL_SERVER, "dev", "corp0");
        // The monitor sees corp0's default (and reads the table again); a tunnel's default is
        // not even offered to the recording rule.
        await w.next((v) =>
          v.event === "route" && v.interface === "corp0" && v.action !== "delete"
        );
        await sleep(500);
      } finally {
        await stopWatch(w, "SIGTERM");
      }
      const saved = JSON.parse(await Deno.readTextFile(state)).families["4"].route;
      assertEquals([saved.gateway, saved.interface], [ROUTER_ADDRESS, CLIENT_DEV]);
      // `save` refuses it too, and says so.
      const save = defroute(lab, ["save", "--json", "--family", "4", "--state", state]);
      const report = await save.next((v) => v.command === "save");
      assertEquals(await save.exit(), 0);
      const [family] = report.families as { outcome: string }[];
      assertEquals(family?.outcome, "kept");
    } finally {
      await stopAll([client, server]);
    }
  },
);
