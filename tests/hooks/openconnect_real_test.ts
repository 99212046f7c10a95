/**
 * The OpenConnect wrapper (hooks/openconnect/defroute-vpnc-script) under the real tools, in two
 * network namespaces joined by a veth pair (tests/linux/netns.ts): Debian's ocserv in the router
 * namespace (a self-signed certificate made at test time, a plain password file, `route =
 * default`, TCP only) and Debian's openconnect in the client namespace, its `--script` written as
 * hooks/openconnect/README.md tells users (`env DEFROUTE=... defroute-vpnc-script`). The wrapper
 * finds Debian's vpnc-script itself; DEFROUTE is the real defroute (main.ts, or the bundle when
 * DEFROUTE_E2E_ENTRY names it) behind the README's two-line wrapper, with its state file in a
 * root-owned temp dir.
 *
 * What the real OpenConnect (9.01) does that a stub did not show: it prints "Configured as" before
 * it runs the script (`pre-init`, then `connect`); a script that fails at `connect` leaves the
 * tunnel unconfigured while OpenConnect keeps running ("Script '...' returned error N": no
 * address, no route), so a wrapper that let a defroute failure through would break the VPN
 * without ending it (the control test shows that); SIGINT and SIGTERM run `disconnect`; SIGKILL
 * runs nothing, the kernel drops the tun with the default vpnc-script put on it, and
 * vpnc-script's copy of the old default stays in /var/run/vpnc (vpnc-script's Linux branch:
 * set_default_route saves `ip route | grep ^default` to defaultroute.$VPNPID and runs `ip route
 * replace default dev $TUNDEV`; reset_default_route, from do_disconnect, puts it back).
 *
 * vpnc-script writes /var/run/vpnc on the host (a namespace has no /var/run of its own): each
 * test removes the files of its own OpenConnect pids, and the directory if it made it. No DNS is
 * pushed (ocserv.conf has no `dns`), so vpnc-script leaves /etc/resolv.conf alone; each test
 * checks that it did. Needs root, iproute2, /dev/net/tun, bash, openconnect, vpnc-script, ocserv
 * and openssl; skips with the reason where any is missing. Every wait is bounded; no timing is
 * asserted.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  CLIENT_DEV,
  IP,
  type IpRoute,
  type Lab,
  namespaceSupport,
  ROUTER_ADDRESS,
  run,
  withLab,
} from "../linux/netns.ts";
import {
  defrouteArgv,
  type Proc,
  spawnProc,
  startHealer,
  stopWatch,
} from "../e2e/run_watch_lib.ts";
import { BASH, findOnPath, HOOKS_DIR, waitFor } from "./helpers.ts";

const WRAPPER = `${HOOKS_DIR}openconnect/defroute-vpnc-script`;
/** Where the wrapper looks for vpnc-script, in its order. */
const VPNC_SCRIPT_PATHS = [
  "/opt/homebrew/etc/vpnc/vpnc-script",
  "/usr/local/etc/vpnc/vpnc-script",
  "/etc/vpnc/vpnc-script",
  "/usr/share/vpnc-scripts/vpnc-script",
];
const VPNC_DIR = "/var/run/vpnc";

function isExecutable(path: string): boolean {
  try {
    const info = Deno.statSync(path);
    return info.isFile && ((info.mode ?? 0) & 0o111) !== 0;
  } catch {
    return false;
  }
}

function tool(name: string): string | null {
  return findOnPath(name) ??
    ["/usr/sbin", "/sbin", "/usr/bin"].map((dir) => `${dir}/${name}`).find(isExecutable) ?? null;
}

const OPENCONNECT = tool("openconnect");
const OCSERV = tool("ocserv");
const OPENSSL = tool("openssl");
const VPNC_SCRIPT = VPNC_SCRIPT_PATHS.find(isExecutable) ?? null;

const support = namespaceSupport();
const skip = !support.ok
  ? support.reason
  : BASH === null
  ? "needs bash (the wrapper is a bash script)"
  : OPENCONNECT === null
  ? "needs openconnect (apt-get install openconnect vpnc-scripts)"
  : VPNC_SCRIPT === null
  ? "needs vpnc-script (apt-get install vpnc-scripts)"
  : OCSERV === null
  ? "needs ocserv (apt-get install ocserv)"
  : OPENSSL === null
  ? "needs openssl for the test certificate (apt-get install openssl)"
  : null;
if (skip) console.log(`skipping the real-OpenConnect hook tests: ${skip}`);

const PORT = "14443";
const TUN = "octun0";
const USER = "tester";
const PASSWORD = "defroute-test";

/** `program args` must succeed; its stdout. */
async function must(program: string | null, args: string[]): Promise<string> {
  const result = await run(program ?? "false", args);
  assertEquals(result.code, 0, `${program} ${args.join(" ")}: ${result.stderr}`);
  return result.stdout;
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** A temp dir (root's, 0755) with ocserv's certificate, key, password file and config, the
 * certificate's pin for openconnect, the README's two-line `defroute` wrapper around the real
 * CLI, and a state directory for it. */
async function workspace() {
  const dir = await Deno.makeTempDir({ prefix: "defroute-oc-" });
  await Deno.chmod(dir, 0o755);
  const key = `${dir}/key.pem`;
  await must(OPENSSL, [
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-subj",
    "/CN=defroute-test",
    "-days",
    "2",
    "-keyout",
    key,
    "-out",
    `${dir}/cert.pem`,
  ]);
  // openconnect's pin-sha256: base64 of the SHA-256 of the certificate's SubjectPublicKeyInfo.
  await must(OPENSSL, ["pkey", "-in", key, "-pubout", "-outform", "DER", "-out", `${dir}/spki`]);
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(`${dir}/spki`));
  const pin = btoa(String.fromCharCode(...new Uint8Array(digest)));
  const hash = (await must(OPENSSL, ["passwd", "-5", PASSWORD])).trim();
  await Deno.writeTextFile(`${dir}/ocpasswd`, `${USER}:*:${hash}\n`);
  await Deno.writeTextFile(
    `${dir}/ocserv.conf`,
    [
      `auth = "plain[passwd=${dir}/ocpasswd]"`,
      `listen-host = ${ROUTER_ADDRESS}`,
      `tcp-port = ${PORT}`, // no udp-port: no DTLS
      `socket-file = ${dir}/ocserv.sock`,
      `pid-file = ${dir}/ocserv.pid`,
      `server-cert = ${dir}/cert.pem`,
      `server-key = ${key}`,
      "isolate-workers = false",
      "use-occtl = false",
      "max-clients = 4",
      "max-same-clients = 4",
      "keepalive = 30",
      "dpd = 60",
      "try-mtu-discovery = false",
      "device = vpns",
      "ipv4-network = 10.80.0.0",
      "ipv4-netmask = 255.255.255.0",
      "route = default",
      "",
    ].join("\n"),
  );
  const [deno, argv] = defrouteArgv([]);
  const words = [deno, ...argv];
  assert(words.every((word) => !word.includes("'")), words.join(" "));
  const defroute = `${dir}/defroute`;
  await Deno.writeTextFile(
    defroute,
    `#!/bin/sh\nexec ${words.map((word) => `'${word}'`).join(" ")} "$@"\n`,
    { mode: 0o755 },
  );
  await Deno.mkdir(`${dir}/state`);
  await Deno.chmod(`${dir}/state`, 0o755);
  return {
    dir,
    pin,
    defroute,
    state: `${dir}/state/state.json`,
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}
type Workspace = Awaited<ReturnType<typeof workspace>>;

/** A process whose stdout and stderr are kept, together, as its log. */
interface Logged {
  pid: number;
  status: Promise<Deno.CommandStatus>;
  /** Set once the process has exited. */
  exited: Deno.CommandStatus | null;
  log(): string;
  kill(signal: Deno.Signal): void;
}

function spawnLogged([program, args]: [string, string[]], input?: string): Logged {
  const child = new Deno.Command(program, {
    args,
    stdin: input === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let text = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) text += chunk;
  };
  const reading = Promise.all([collect(child.stdout), collect(child.stderr)]);
  if (input !== undefined) {
    const writer = child.stdin.getWriter();
    writer.write(new TextEncoder().encode(input)).then(() => writer.close()).catch(() => {});
  }
  const process: Logged = {
    pid: child.pid,
    status: reading.then(() => child.status),
    exited: null,
    log: () => text,
    kill: (signal) => {
      try {
        child.kill(signal);
      } catch {
        // already gone
      }
    },
  };
  child.status.then((status) => process.exited = status);
  return process;
}

/** SIGTERM, then SIGKILL if it is still there after 10 s; waits for the exit. */
async function stopped(process: Logged): Promise<void> {
  if (process.exited) return;
  process.kill("SIGTERM");
  const timer = setTimeout(() => process.kill("SIGKILL"), 10_000);
  await process.status;
  clearTimeout(timer);
}

/** What one test started, for its clean-up: OpenConnect clients (whose vpnc-script files in
 * /var/run/vpnc are removed) and other processes. */
interface Started {
  clients: Logged[];
  others: Logged[];
}

/** The `--script` string the README gives: `env DEFROUTE=... WRAPPER` (OpenConnect runs it with
 * /bin/sh -c). DEFROUTE_STATE points the real defroute at the test's state file. */
function scriptLine(defroute: string, state: string, wrapper = WRAPPER): string {
  return `env DEFROUTE=${defroute} DEFROUTE_STATE=${state} ${wrapper}`;
}

/** openconnect in the client namespace, the password on stdin, the test certificate pinned. */
function openconnect(lab: Lab, ws: Workspace, started: Started, script: string): Logged {
  const client = spawnLogged(
    lab.exec(OPENCONNECT ?? "openconnect", [
      "--non-inter",
      "--passwd-on-stdin",
      "--user",
      USER,
      "--servercert",
      `pin-sha256:${ws.pin}`,
      "--interface",
      TUN,
      "--script",
      script,
      `${ROUTER_ADDRESS}:${PORT}`,
    ]),
    `${PASSWORD}\n`,
  );
  started.clients.push(client);
  return client;
}

/** A route as "GATEWAY DEV" ("link DEV" without a gateway). */
function shape(routes: IpRoute[]): string[] {
  return routes.map((route) => `${route.gateway ?? "link"} ${route.dev}`);
}

const ORIGINAL = [`${ROUTER_ADDRESS} ${CLIENT_DEV}`];

function context(lab: Lab, vpn: Logged) {
  return async () =>
    `openconnect log:\n${vpn.log()}\nIPv4 routes:\n${await lab.ip("-4", "route", "show")}`;
}

/** Until vpnc-script's `connect` has put the default on the tunnel (OpenConnect prints
 * "Configured as" before it runs the script, so the log cannot say when). */
async function connected(lab: Lab, vpn: Logged): Promise<void> {
  await waitFor("the default on the tunnel", async () => {
    if (vpn.exited) throw new Error(`openconnect exited (${vpn.exited.code})\n${vpn.log()}`);
    // A failed script leaves the tunnel unconfigured for good: say so at once.
    if (/Script '.*' returned error/.test(vpn.log())) throw new Error(vpn.log());
    return shape(await lab.defaults(4)).join() === `link ${TUN}` || null;
  }, context(lab, vpn));
}

/** Until the process has exited (bounded); its status. */
function exit(lab: Lab, vpn: Logged): Promise<Deno.CommandStatus> {
  return waitFor("openconnect to exit", () => Promise.resolve(vpn.exited), context(lab, vpn));
}

/** The IPv4 route the state file holds, as "GATEWAY DEV". */
async function savedRoute(path: string): Promise<string> {
  const state = JSON.parse(await Deno.readTextFile(path));
  const route = state.families?.["4"]?.route;
  return `${route?.gateway} ${route?.interface}`;
}

/** vpnc-script's copy of the default for OpenConnect `pid` (DEFAULT_ROUTE_FILE). */
function vpncFile(pid: number): string {
  return `${VPNC_DIR}/defaultroute.${pid}`;
}

function realTest(name: string, fn: (lab: Lab, ws: Workspace, started: Started) => Promise<void>) {
  Deno.test({
    name,
    ignore: skip !== null,
    fn: async () => {
      const resolvConf = await Deno.readFile("/etc/resolv.conf").catch(() => null);
      const hadVpncDir = exists(VPNC_DIR);
      const ws = await workspace();
      const started: Started = { clients: [], others: [] };
      try {
        await withLab(async (lab) => {
          const server = spawnLogged(
            // In the router namespace (lab.exec is the client's).
            [IP ?? "ip", [
              "netns",
              "exec",
              lab.router,
              OCSERV ?? "ocserv",
              "--foreground",
              "-c",
              `${ws.dir}/ocserv.conf`,
            ]],
          );
          started.others.push(server);
          await waitFor(
            "ocserv to listen",
            () => {
              if (server.exited) throw new Error(`ocserv exited:\n${server.log()}`);
              return Promise.resolve(/listening \(TCP\) on/.test(server.log()) || null);
            },
            () => Promise.resolve(server.log()),
          );
          try {
            await fn(lab, ws, started);
          } finally {
            for (const process of [...started.clients, ...started.others]) await stopped(process);
          }
        }, "oc");
      } finally {
        for (const client of started.clients) {
          await Deno.remove(vpncFile(client.pid)).catch(() => {});
        }
        if (!hadVpncDir) await Deno.remove(VPNC_DIR).catch(() => {}); // only if empty
        await ws.cleanup();
      }
      // vpnc-script touches /etc/resolv.conf only when DNS servers are pushed, and none are.
      const after = await Deno.readFile("/etc/resolv.conf").catch(() => null);
      if (resolvConf !== null && (after === null || !equalBytes(after, resolvConf))) {
        await Deno.writeFile("/etc/resolv.conf", resolvConf);
        throw new Error("/etc/resolv.conf was changed (now put back)");
      }
    },
  });
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

realTest(
  "control: a --script that fails at connect leaves the real openconnect's tunnel unconfigured",
  async (lab, ws, started) => {
    // The shipped wrapper with its guard taken away: a failing `defroute save` ends the script.
    const shipped = await Deno.readTextFile(WRAPPER);
    const unguarded = shipped.replace("    run_defroute save\n", '    "$DEFROUTE" save || exit\n');
    assert(unguarded !== shipped, "the wrapper no longer has the line this control changes");
    const wrapper = `${ws.dir}/unguarded-vpnc-script`;
    await Deno.writeTextFile(wrapper, unguarded, { mode: 0o755 });
    const vpn = openconnect(
      lab,
      ws,
      started,
      scriptLine(`${ws.dir}/missing/defroute`, ws.state, wrapper),
    );
    // pre-init fails (OpenConnect goes on), then connect fails: vpnc-script never runs.
    await waitFor(
      "the script to fail at pre-init and at connect",
      () => Promise.resolve((vpn.log().match(/returned error 127/g) ?? []).length >= 2 || null),
      context(lab, vpn),
    );
    assert(vpn.exited === null, "openconnect keeps running with the tunnel unconfigured");
    assertEquals(shape(await lab.defaults(4)), ORIGINAL);
    assertEquals(await lab.ip("-4", "-o", "addr", "show", "dev", TUN), "");
  },
);

realTest(
  "connect saves the default and vpnc-script moves it to the tunnel; SIGINT and SIGTERM give it back",
  async (lab, ws, started) => {
    const script = scriptLine(ws.defroute, ws.state);
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
      const before4 = await lab.routes(4);
      const before6 = await lab.routes(6);
      await Deno.remove(ws.state).catch(() => {});
      const vpn = openconnect(lab, ws, started, script);
      await connected(lab, vpn);
      // The wrapper saved the default before vpnc-script replaced it (at pre-init and connect).
      assertEquals(await savedRoute(ws.state), ORIGINAL[0]);
      assert(exists(vpncFile(vpn.pid)), "vpnc-script keeps its own copy");
      assert(!/defroute-vpnc-script:/.test(vpn.log()), vpn.log());

      vpn.kill(signal);
      const status = await exit(lab, vpn);
      const log = vpn.log();
      assertEquals(status.code, 0, log);
      // vpnc-script put the default back, then the wrapper's `defroute restore` found it there.
      assertMatch(log, new RegExp(`IPv4 default present: ${ROUTER_ADDRESS} via ${CLIENT_DEV}`));
      assert(!/defroute-vpnc-script:/.test(log), log);
      // Not worse than found: the same routes, both families, as before the VPN.
      assertEquals(await lab.routes(4), before4, `after ${signal}`);
      assertEquals(await lab.routes(6), before6, `after ${signal}`);
      assert(!exists(vpncFile(vpn.pid)), "vpnc-script's disconnect removed its copy");
    }
  },
);

realTest(
  "a disconnect vpnc-script cannot undo (its copy lost): the wrapper's restore puts the default back",
  async (lab, ws, started) => {
    const vpn = openconnect(lab, ws, started, scriptLine(ws.defroute, ws.state));
    await connected(lab, vpn);
    await Deno.remove(vpncFile(vpn.pid));
    vpn.kill("SIGTERM");
    const status = await exit(lab, vpn);
    const log = vpn.log();
    assertEquals(status.code, 0, log);
    // vpnc-script had nothing to put back and took the tunnel down (its routes went with it).
    assertMatch(log, new RegExp(`IPv4 default restored: ${ROUTER_ADDRESS} via ${CLIENT_DEV}`));
    assertEquals(shape(await lab.defaults(4)), ORIGINAL);
  },
);

realTest(
  "SIGKILL: no disconnect runs, the default goes with the tunnel; watch --heal and restore bring it back",
  async (lab, ws, started) => {
    const script = scriptLine(ws.defroute, ws.state);
    // The daemon (what `defroute hook install` runs), started before the VPN.
    const healer: Proc = await startHealer(
      (args) => {
        const [program, argv] = defrouteArgv(args);
        return spawnProc(...lab.exec(program, argv));
      },
      ws.state,
      ["--grace", "0.2"],
    );
    try {
      const vpn = openconnect(lab, ws, started, script);
      await connected(lab, vpn);
      vpn.kill("SIGKILL");
      const status = await exit(lab, vpn);
      assertEquals(status.signal, "SIGKILL");
      const repair = await healer.next((event) => event.event === "repair");
      assertEquals([repair.family, repair.ok], [4, true], JSON.stringify(repair));
      assertEquals(shape(await lab.defaults(4)), ORIGINAL);
      // Only that repair: the healer never fought the VPN's own default while it was up.
      assertEquals(healer.seen.filter((event) => event.event === "repair").length, 1);
      // Nothing ran at the kill: vpnc-script's copy of the default is still there.
      assert(exists(vpncFile(vpn.pid)), "vpnc-script's copy is left behind");
      assert(!/IPv4 default (present|restored)/.test(vpn.log()), vpn.log());
    } finally {
      await stopWatch(healer, "SIGTERM");
    }

    // Without the daemon: the machine is left with no default until a restore by hand, which
    // works from what the wrapper saved (the healer's state file is gone).
    await Deno.remove(ws.state);
    const vpn = openconnect(lab, ws, started, script);
    await connected(lab, vpn);
    assertEquals(await savedRoute(ws.state), ORIGINAL[0]);
    vpn.kill("SIGKILL");
    await exit(lab, vpn);
    await waitFor("the kernel to drop the tunnel", async () => {
      const links = JSON.parse(await lab.ip("-j", "link", "show")) as { ifname: string }[];
      return !links.some((link) => link.ifname === TUN) || null;
    }, context(lab, vpn));
    assertEquals(await lab.defaults(4), [], "the default went with the tunnel");
    const [program, argv] = defrouteArgv(["restore", "--family", "4", "--state", ws.state]);
    const restore = await run(...lab.exec(program, argv));
    assertEquals(restore.code, 0, restore.stderr);
    assertMatch(restore.stdout, new RegExp(`IPv4 default restored: ${ROUTER_ADDRESS}`));
    assertEquals(shape(await lab.defaults(4)), ORIGINAL);
  },
);

realTest(
  "a failing defroute never breaks the connect: missing binary, untrusted state path",
  async (lab, ws, started) => {
    // A state file in a directory anyone can write: defroute refuses it (exit 1).
    const open = `${ws.dir}/open`;
    await Deno.mkdir(open);
    await Deno.chmod(open, 0o777);
    const cases = [
      {
        script: scriptLine(`${ws.dir}/missing/defroute`, ws.state),
        save: /defroute-vpnc-script: \S+ is not an executable; set DEFROUTE\n/,
        restore: /Send BYE packet[^]*defroute-vpnc-script: \S+ is not an executable/,
      },
      {
        script: scriptLine(ws.defroute, `${open}/state.json`),
        save: /defroute-vpnc-script: '\S+ save' exited with 1\n/,
        // restore goes on without the refused state file and finds vpnc-script's default back.
        restore: /refusing the state directory .*; restoring without it\nIPv4 default present/,
      },
    ];
    for (const { script, save, restore } of cases) {
      const vpn = openconnect(lab, ws, started, script);
      await connected(lab, vpn);
      assertMatch(vpn.log(), save);
      assert(!/returned error/.test(vpn.log()), vpn.log());
      assertMatch(await lab.ip("-4", "-o", "addr", "show", "dev", TUN), /inet 10\.80\.0\./);
      vpn.kill("SIGTERM");
      const status = await exit(lab, vpn);
      assertEquals(status.code, 0, vpn.log());
      assertMatch(vpn.log(), restore);
      assert(!/returned error/.test(vpn.log()), vpn.log());
      assertEquals(shape(await lab.defaults(4)), ORIGINAL, vpn.log());
    }
  },
);
