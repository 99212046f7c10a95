/**
 * What becomes the saved default (issue 18 items 1 and 2), end to end on the real Linux kernel in
 * throwaway namespaces (tests/linux/netns.ts), through the real CLI: a VPN's interface that
 * appeared while CMD ran never becomes the saved default, and with two defaults the better one
 * stays saved and comes back even while the worse one is present. Every verdict comes from an
 * independent `ip -j route show` and the state file itself.
 * Needs root, iproute2 and /dev/net/tun; skips with the reason elsewhere.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  CLIENT_DEV,
  IP,
  ip,
  type IpRoute,
  type Lab,
  namespaceSupport,
  ROUTER_ADDRESS,
  withLab,
} from "../linux/netns.ts";
import {
  defrouteArgv,
  type Proc,
  sleep,
  spawnProc,
  startHealer,
  stopWatch,
} from "./run_watch_lib.ts";

const support = namespaceSupport();
if (!support.ok) console.log(`skipping recording e2e tests: ${support.reason}`);

/** The second uplink: lan1 10.77.1.2/24 in the client, its router 10.77.1.1 in the router ns. */
const LAN1 = "lan1";
const LAN1_ROUTER = "10.77.1.1";

function defroute(lab: Lab, args: string[]): Proc {
  const [program, argv] = defrouteArgv(args);
  const [exec, execArgs] = lab.exec(program, argv);
  return spawnProc(exec, execArgs);
}

function shape(routes: IpRoute[]): [string | null, string | null, number][] {
  return routes.map((r) => [r.gateway ?? null, r.dev ?? null, r.metric ?? 0]);
}

async function savedRoute(state: string): Promise<[string, string, number | null]> {
  const route = JSON.parse(await Deno.readTextFile(state)).families["4"].route;
  return [route.gateway, route.interface, route.metric ?? null];
}

function e2e(name: string, body: (lab: Lab, state: string) => Promise<void>): void {
  Deno.test({
    name: `recording e2e: ${name}`,
    ignore: !support.ok,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "defroute-rec-" });
      try {
        await withLab((lab) => body(lab, `${dir}/state.json`), "rec");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

/** lan0 = veth0 at metric 100 (as DHCP installs it), lan1 at metric 600: issue 18 item 2. */
async function twoDefaults(lab: Lab): Promise<void> {
  await lab.ip("link", "add", LAN1, "type", "veth", "peer", "name", "lan1r", "netns", lab.router);
  await lab.ip("addr", "add", "10.77.1.2/24", "dev", LAN1);
  await lab.ip("link", "set", LAN1, "up");
  await ip("-n", lab.router, "addr", "add", `${LAN1_ROUTER}/24`, "dev", "lan1r");
  await ip("-n", lab.router, "link", "set", "lan1r", "up");
  await lab.ip("route", "del", "default");
  await lab.ip(
    "route",
    "add",
    "default",
    "via",
    ROUTER_ADDRESS,
    "dev",
    CLIENT_DEV,
    "metric",
    "100",
  );
  await lab.ip("route", "add", "default", "via", LAN1_ROUTER, "dev", LAN1, "metric", "600");
  assertEquals(shape(await lab.defaults(4)), BOTH);
}

const BOTH: [string, string, number][] = [
  [ROUTER_ADDRESS, CLIENT_DEV, 100],
  [LAN1_ROUTER, LAN1, 600],
];

e2e(
  "run: the issue's corp0 veth never becomes the saved default; the default comes back",
  async (lab, state) => {
    // Issue 18 item 1, verbatim: a VPN-made Ethernet-like interface takes the default, then goes.
    const script = [
      `${IP} link add corp0 type veth peer name corp0p`,
      `${IP} link set corp0p up`,
      `${IP} link set corp0 up`,
      `${IP} addr add 10.8.0.194/27 dev corp0`,
      `${IP} route replace default via 10.8.0.193 dev corp0`,
      "sleep 1",
      `${IP} link del corp0`,
    ].join(" && ");
    const p = defroute(lab, [
      "run",
      "-v",
      "--family",
      "4",
      "--state",
      state,
      "--",
      "/bin/sh",
      "-c",
      script,
    ]);
    assertEquals(await p.exit(), 0, p.stderr());
    assertEquals(shape(await lab.defaults(4)), [[ROUTER_ADDRESS, CLIENT_DEV, 0]]);
    assertEquals(await savedRoute(state), [ROUTER_ADDRESS, CLIENT_DEV, 0]);
    assertMatch(p.stderr(), /not recorded as the last good IPv4 default: .*corp0 appeared after/);
    assert(!/recorded the last good IPv4 default: 10\.8\.0\.193/.test(p.stderr()), p.stderr());
    assertMatch(p.stderr(), /IPv4 default restored: 10\.77\.0\.1 via veth0 \(from saved\)/);
  },
);

e2e(
  "watch: a default on an interface that appeared after it started is not recorded",
  async (lab, state) => {
    const w = await startHealer((args) => defroute(lab, args), state, ["-v", "--grace", "30"]);
    try {
      // The healer records the default it found at start.
      await lab.ip("link", "add", "corp0", "type", "veth", "peer", "name", "corp0p");
      await lab.ip("link", "set", "corp0p", "up");
      await lab.ip("link", "set", "corp0", "up");
      await lab.ip("addr", "add", "10.8.0.194/27", "dev", "corp0");
      await lab.ip("route", "replace", "default", "via", "10.8.0.193", "dev", "corp0");
      await w.next((v) => v.event === "route" && v.interface === "corp0" && v.action !== "delete");
      await sleep(500); // the monitor reads the table again and decides
      assertEquals(await savedRoute(state), [ROUTER_ADDRESS, CLIENT_DEV, 0]);
      await w.stderrMatch(/not recorded as the last good IPv4 default: .*corp0 appeared/);
    } finally {
      await stopWatch(w, "SIGTERM");
    }
  },
);

e2e(
  "run with two defaults: a VPN deletes lan0's; lan1's is never recorded and lan0's comes back",
  async (lab, state) => {
    await twoDefaults(lab);
    const p = defroute(lab, [
      "run",
      "-v",
      "--family",
      "4",
      "--state",
      state,
      "--",
      "/bin/sh",
      "-c",
      `${IP} route del default via ${ROUTER_ADDRESS} dev ${CLIENT_DEV} metric 100 && sleep 0.5`,
    ]);
    assertEquals(await p.exit(), 0, p.stderr());
    assertEquals(await savedRoute(state), [ROUTER_ADDRESS, CLIENT_DEV, 100]);
    assertEquals(shape(await lab.defaults(4)), BOTH, p.stderr());
    assert(!/recorded the last good IPv4 default: 10\.77\.1\.1/.test(p.stderr()), p.stderr());
    assertMatch(p.stderr(), /the saved default's interface veth0 still exists/);
    assertMatch(
      p.stderr(),
      /\[#\] ip route add default via 10\.77\.0\.1 dev veth0 metric 100/,
    );
  },
);

e2e(
  "save with two defaults; restore puts back each one missing, even beside a worse one",
  async (lab, state) => {
    await twoDefaults(lab);
    const save = defroute(lab, ["save", "--family", "4", "--state", state]);
    assertEquals(await save.exit(), 0, save.stderr());
    // Both gone (a tunnel that deleted every default): both come back, at their metrics.
    await lab.ip("route", "del", "default", "dev", CLIENT_DEV);
    await lab.ip("route", "del", "default", "dev", LAN1);
    const both = defroute(lab, ["restore", "--family", "4", "--state", state]);
    assertEquals(await both.exit(), 0, both.stderr());
    assertEquals(shape(await lab.defaults(4)), BOTH, both.stderr());
    // Only the better one gone: it comes back although the worse one is present.
    await lab.ip("route", "del", "default", "dev", CLIENT_DEV);
    const status = defroute(lab, ["status", "--json", "--family", "4", "--state", state]);
    const report = await status.next((v) => v.command === "status");
    assertEquals(await status.exit(), 0);
    const [family] = report.families as { diagnosis: { restoreWouldDo: string } }[];
    assertMatch(
      family?.diagnosis.restoreWouldDo ?? "",
      /^ip route add default via 10\.77\.0\.1 dev veth0 metric 100 \(from saved/,
    );
    const one = defroute(lab, ["restore", "--family", "4", "--state", state]);
    assertEquals(await one.exit(), 0, one.stderr());
    assertEquals(shape(await lab.defaults(4)), BOTH, one.stderr());
    assertMatch(one.stderr(), /\[#\] ip route add default via 10\.77\.0\.1 dev veth0 metric 100/);
  },
);

e2e(
  "watch with two defaults: lan0's deleted leaves lan0's saved, and the healer leaves lan1 be",
  async (lab, state) => {
    await twoDefaults(lab);
    const w = await startHealer((args) => defroute(lab, args), state, ["-v", "--grace", "0.2"]);
    try {
      await w.stderrMatch(/recorded the last good IPv4 default: 10\.77\.0\.1 (via|on) veth0/);
      await lab.ip("route", "del", "default", "dev", CLIENT_DEV);
      await w.next((v) => v.event === "route" && v.action === "delete");
      await sleep(500); // the monitor reads the table again and decides
      assertEquals(await savedRoute(state), [ROUTER_ADDRESS, CLIENT_DEV, 100]);
      await w.stderrMatch(/the saved default's interface veth0 still exists/);
    } finally {
      await stopWatch(w, "SIGTERM");
    }
    // A void is what the healer fills; lan1's default is no void, so only `restore` puts lan0's
    // back, from the state the daemon kept right.
    assertEquals(shape(await lab.defaults(4)), [[LAN1_ROUTER, LAN1, 600]]);
    const r = defroute(lab, ["restore", "--family", "4", "--state", state]);
    assertEquals(await r.exit(), 0, r.stderr());
    assertEquals(shape(await lab.defaults(4)), BOTH);
  },
);
