// The Linux RouteTable against the real kernel, in throwaway network namespaces (netns.ts).
// Each step runs tests/linux/table_probe.ts under `ip netns exec` and is checked against an
// independent `ip -j route show`. Needs root, iproute2 and /dev/net/tun; skips elsewhere.
import { assert, assertEquals } from "../assert.ts";
import {
  CLIENT_DEV,
  DENO,
  IP,
  type Lab,
  namespaceSupport,
  ROOT,
  ROUTER_ADDRESS,
  ROUTER_LINK_LOCAL,
  run,
  spawnInLab,
  TUN_DEV,
  withLab,
} from "./netns.ts";
import type { DefaultRoute, NetInterface } from "../../lib/core/model/types.ts";

const support = namespaceSupport();
if (!support.ok) console.log(`skipping Linux RouteTable e2e tests: ${support.reason}`);

const PROBE = `${ROOT}tests/linux/table_probe.ts`;
const FAKE_TUNNEL = `${ROOT}tests/linux/fake_tunnel.ts`;

interface ProbeAnswer {
  ok: boolean;
  value?: unknown;
  kind?: string;
  errno?: string | null;
  message?: string;
}

async function probe(lab: Lab, ...args: string[]): Promise<ProbeAnswer> {
  const [program, argv] = lab.exec(DENO, ["run", "--allow-all", "--quiet", PROBE, ...args]);
  const result = await run(program, argv);
  const line = result.stdout.trim().split("\n").pop() ?? "";
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`probe ${args.join(" ")} printed ${result.stdout} / ${result.stderr}`);
  }
}

function route(family: 4 | 6, gateway: string | null, dev: string, metric?: number): DefaultRoute {
  return {
    family,
    gateway,
    interface: dev,
    index: 0,
    scoped: false,
    flags: 0,
    ...(metric === undefined ? {} : { metric }),
  };
}

function e2e(name: string, body: (lab: Lab) => Promise<void>): void {
  Deno.test({
    name: `linux e2e: ${name}`,
    ignore: !support.ok,
    // The probes and `ip` are child processes; their pipes are read to the end.
    fn: () => withLab(body, "rt"),
  });
}

e2e("defaults(4) and defaults(6) agree with `ip -j route show`", async (lab) => {
  for (const family of [4, 6] as const) {
    const answer = await probe(lab, "defaults", String(family));
    assert(answer.ok, answer.message);
    const ours = answer.value as DefaultRoute[];
    const theirs = await lab.defaults(family);
    assertEquals(
      ours.map((r) => [r.gateway, r.interface, r.scoped]),
      theirs.map((r) => [r.gateway ?? null, r.dev ?? null, false]),
    );
    assertEquals(ours[0]?.gateway, family === 4 ? ROUTER_ADDRESS : ROUTER_LINK_LOCAL);
    assertEquals(ours[0]?.metric, theirs[0]?.metric ?? 0);
    assert((ours[0]?.index ?? 0) > 0);
  }
});

/** `ip -batch -` in the lab: many routes in one process. */
async function ipBatch(lab: Lab, lines: string[]): Promise<void> {
  const result = await run(IP!, ["-n", lab.ns, "-batch", "-"], lines.join("\n") + "\n");
  if (result.code !== 0) throw new Error(`ip -batch: ${result.stderr}`);
}

e2e("a big table: defaults() finds every main default, leaves an IPv4 dump early", async (lab) => {
  // 3,000 routes around the defaults: 0.0.0.0/N routes that share the defaults' trie leaf,
  // the halves of the address space, defaults of other metrics and types, another table's
  // default, and IPv6 routes (whose dump lists the defaults last).
  const lines = [
    "route add 0.0.0.0/8 via 10.77.0.1 dev veth0",
    "route add 0.0.0.0/1 via 10.77.0.1 dev veth0",
    "route add 128.0.0.0/1 via 10.77.0.1 dev veth0",
    "route add default via 10.77.0.1 dev veth0 metric 50",
    "route add default via 10.77.0.1 dev veth0 metric 300",
    "route add unreachable default metric 999",
    "route add default via 10.77.0.1 dev veth0 table 100",
    "route add ::/0 via fe80::1 dev veth0 metric 50",
    "route add ::/0 via fe80::1 dev veth0 table 100",
  ];
  for (let i = 0; i < 2500; i++) {
    lines.push(`route add 100.${64 + (i >> 8)}.${i & 0xff}.0/24 via 10.77.0.1 dev veth0`);
  }
  for (let i = 0; i < 500; i++) {
    lines.push(`route add fd00:${i.toString(16)}::/48 via fe80::1 dev veth0`);
  }
  await ipBatch(lab, lines);
  const tracedDefaults = async (family: 4 | 6) => {
    const [program, argv] = lab.exec("/usr/bin/env", [
      "DEFROUTE_TRACE=1",
      DENO,
      "run",
      "--allow-all",
      "--quiet",
      PROBE,
      "defaults",
      String(family),
    ]);
    const result = await run(program, argv);
    const answer = JSON.parse(result.stdout.trim()) as ProbeAnswer;
    assert(answer.ok, answer.message);
    return {
      ours: answer.value as DefaultRoute[],
      leftEarly: /dump left early/.test(result.stderr),
    };
  };
  for (const family of [4, 6] as const) {
    const { ours, leftEarly } = await tracedDefaults(family);
    // `ip route show default` lists the main table's; the unreachable one is not a unicast.
    const theirs = (await lab.defaults(family)).filter((r) => r.gateway !== undefined);
    assertEquals(
      ours.map((r) => [r.gateway, r.interface, r.metric]),
      theirs.map((r) => [r.gateway, r.dev, r.metric ?? 0]),
    );
    assertEquals(ours.length, family === 4 ? 3 : 2);
    // IPv4's dump was left after its first datagrams; IPv6's was read to the end.
    assertEquals(leftEarly, family === 4);
  }
  // After a dump left early, the same table adds, reads, deletes and reads again.
  const extra = route(4, ROUTER_ADDRESS, CLIENT_DEV, 77);
  const reread = await probe(lab, "reread", "4", JSON.stringify(extra));
  assert(reread.ok, reread.message);
  const value = reread.value as Record<string, DefaultRoute[]>;
  const metrics = (key: string) => value[key]!.map((r) => r.metric);
  assertEquals([metrics("before"), metrics("after"), metrics("again")], [
    [0, 50, 300],
    [0, 50, 77, 300],
    [0, 50, 300],
  ]);
  // Without any main default (what restore meets) the dump is still left early, empty-handed.
  await ipBatch(lab, [0, 50, 300].map((m) => `route del default metric ${m}`));
  assertEquals(await tracedDefaults(4), { ours: [], leftEarly: true });
});

e2e("a save's reads bind only the libc symbols they call; warm() binds an add's", async (lab) => {
  // Deno compiles a trampoline per bound symbol (~0.2-0.5 ms each): a hook pays for what it uses.
  const reads = await probe(lab, "save-reads");
  assert(reads.ok, reads.message);
  assertEquals(reads.value, ["request", "indexToName"]);
  const warm = await probe(lab, "warm");
  assert(warm.ok, warm.message);
  assertEquals(warm.value, ["nameToIndex"]);
});

e2e("interfaces() lists veth0 up, tun0 as a tunnel, with `ip link`'s indexes", async (lab) => {
  const answer = await probe(lab, "interfaces");
  assert(answer.ok, answer.message);
  const ours = answer.value as NetInterface[];
  const theirs = JSON.parse(await lab.ip("-j", "link", "show")) as {
    ifindex: number;
    ifname: string;
  }[];
  assertEquals(
    ours.map((i) => [i.index, i.name]),
    theirs.map((l) => [l.ifindex, l.ifname]).sort((a, b) => Number(a[0]) - Number(b[0])),
  );
  const veth = ours.find((i) => i.name === CLIENT_DEV);
  const tun = ours.find((i) => i.name === TUN_DEV);
  assertEquals([veth?.up, veth?.tunnel], [true, false]);
  assertEquals([tun?.up, tun?.tunnel], [false, true]);
});

e2e(
  "interfaces(): a TAP named like a LAN (corp0) is a tunnel by its driver; tun0 is point-to-point",
  async (lab) => {
    await lab.ip("tuntap", "add", "mode", "tap", "name", "corp0");
    await lab.ip("link", "add", "lan9", "type", "veth", "peer", "name", "lan9p");
    const answer = await probe(lab, "interfaces");
    assert(answer.ok, answer.message);
    const ours = answer.value as NetInterface[];
    const by = (name: string) => ours.find((i) => i.name === name);
    // `ip -d link show corp0` says "tun type tap": an Ethernet-typed device of the tun driver.
    assertEquals([by("corp0")?.tunnel, by("corp0")?.pointToPoint], [true, false]);
    assertEquals([by("lan9")?.tunnel, by("lan9")?.pointToPoint], [false, false]);
    assertEquals([by(CLIENT_DEV)?.tunnel, by(CLIENT_DEV)?.pointToPoint], [false, false]);
    assertEquals(by(TUN_DEV)?.pointToPoint, true);
  },
);

e2e("delete then add the IPv4 default, each step seen by `ip route`", async (lab) => {
  const gateway = route(4, ROUTER_ADDRESS, CLIENT_DEV, 0);
  assertEquals((await probe(lab, "delete", JSON.stringify(gateway))).ok, true);
  assertEquals(await lab.defaults(4), []);
  const again = await probe(lab, "delete", JSON.stringify(gateway));
  assertEquals([again.ok, again.kind, again.errno], [false, "not-found", "ESRCH"]);
  assertEquals((await probe(lab, "add", JSON.stringify(gateway))).ok, true);
  const after = await lab.defaults(4);
  assertEquals(
    after.map((r) => [r.gateway, r.dev, r.protocol]),
    [[ROUTER_ADDRESS, CLIENT_DEV, "static"]],
  );
});

e2e("add errors: exists, unreachable gateway, missing interface change nothing", async (lab) => {
  const before = await lab.routes(4);
  const exists = await probe(lab, "add", JSON.stringify(route(4, ROUTER_ADDRESS, CLIENT_DEV)));
  assertEquals([exists.kind, exists.errno], ["exists", "EEXIST"]);
  const far = await probe(lab, "add", JSON.stringify(route(4, "10.99.0.1", CLIENT_DEV, 50)));
  assertEquals([far.kind, far.errno], ["unreachable", "ENETUNREACH"]);
  const gone = await probe(lab, "add", JSON.stringify(route(4, ROUTER_ADDRESS, "nosuch0", 50)));
  assertEquals(gone.kind, "no-interface");
  assertEquals(await lab.routes(4), before);
});

e2e("IPv6 default with a link-local gateway: delete and add back", async (lab) => {
  const [existing] = await lab.defaults(6);
  const v6 = route(6, ROUTER_LINK_LOCAL, CLIENT_DEV, existing?.metric);
  assertEquals((await probe(lab, "delete", JSON.stringify(v6))).ok, true);
  assertEquals(await lab.defaults(6), []);
  const added = await probe(lab, "add", JSON.stringify(v6));
  assert(added.ok, added.message);
  assertEquals(
    (await lab.defaults(6)).map((r) => [r.gateway, r.dev, r.metric]),
    [[ROUTER_LINK_LOCAL, CLIENT_DEV, existing?.metric]],
  );
  // Without an interface a link-local gateway means nothing: refused before the kernel.
  const bare = await probe(lab, "add", JSON.stringify({ ...v6, interface: null, index: 0 }));
  assertEquals(bare.kind, "invalid");
});

e2e("events: the tunnel deleting the default is reported with the deleting pid", async (lab) => {
  const watcher = spawnInLab(lab, DENO, ["run", "--allow-all", "--quiet", PROBE, "events", "8000"]);
  let tunnel: ReturnType<typeof spawnInLab> | null = null;
  try {
    await watcher.next((v) => v.ready === true);
    tunnel = spawnInLab(lab, DENO, ["run", "--allow-all", "--quiet", FAKE_TUNNEL, "--family", "4"]);
    const ready = await tunnel.next((v) => v.ready === true);
    const deleted = (ready.deleted as { family: number; pid: number }[])[0];
    assert(deleted, "the fake tunnel deleted the host default");
    const event = await watcher.next((v) =>
      v.kind === "route" && v.action === "delete" &&
      (v.route as DefaultRoute).gateway === ROUTER_ADDRESS
    );
    assertEquals(event.pid, deleted.pid);
    assertEquals((event.route as DefaultRoute).interface, CLIENT_DEV);
    const own = await watcher.next((v) =>
      v.kind === "route" && v.action === "add" && (v.route as DefaultRoute).interface === TUN_DEV
    );
    assertEquals((own.route as DefaultRoute).gateway, null);
    // The tunnel stops and leaves no default: exactly the state defroute exists to repair.
    assertEquals(await tunnel.stop(), 0);
    tunnel = null;
    assertEquals(await lab.defaults(4), []);
    await watcher.next((v) =>
      v.kind === "route" && v.action === "delete" && (v.route as DefaultRoute).interface === TUN_DEV
    );
  } finally {
    tunnel?.kill();
    await tunnel?.exit();
    watcher.kill();
    await watcher.exit();
  }
});

const SETPRIV = ["/usr/bin/setpriv", "/bin/setpriv"].find((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});
if (support.ok && !SETPRIV) {
  console.log("skipping the needs-root e2e test: no setpriv (util-linux)");
}

Deno.test({
  name: "linux e2e: without CAP_NET_ADMIN a delete is needs-root (EPERM) and changes nothing",
  ignore: !support.ok || !SETPRIV,
  fn: () =>
    withLab(async (lab) => {
      const before = await lab.routes(4);
      // Root minus CAP_NET_ADMIN: what an unprivileged user meets, without needing another
      // account that can read Deno's cache.
      const [program, argv] = lab.exec(SETPRIV!, [
        "--bounding-set",
        "-net_admin",
        "--inh-caps",
        "-net_admin",
        DENO,
        "run",
        "--allow-all",
        "--quiet",
        PROBE,
        "delete",
        JSON.stringify(route(4, ROUTER_ADDRESS, CLIENT_DEV)),
      ]);
      const result = await run(program, argv);
      const answer = JSON.parse(result.stdout.trim()) as ProbeAnswer;
      assertEquals([answer.ok, answer.kind, answer.errno], [false, "needs-root", "EPERM"]);
      assertEquals(await lab.routes(4), before);
    }, "perm"),
});

e2e("events: interfaces appearing, coming up and going away", async (lab) => {
  const watcher = spawnInLab(lab, DENO, ["run", "--allow-all", "--quiet", PROBE, "events", "8000"]);
  try {
    await watcher.next((v) => v.ready === true);
    // A veth pair with both ends in the namespace: it has carrier once both are up (this
    // kernel may have no dummy driver).
    await lab.ip("link", "add", "extra0", "type", "veth", "peer", "name", "extra1");
    await lab.ip("link", "set", "extra1", "up");
    await lab.ip("link", "set", "extra0", "up");
    await lab.ip("link", "del", TUN_DEV);
    const name = (v: Record<string, unknown>) => (v.interface as NetInterface | undefined)?.name;
    const added = await watcher.next((v) => v.kind === "link" && name(v) === "extra0");
    assertEquals([added.action, (added.interface as NetInterface).up], ["new", false]);
    await watcher.next((v) => v.kind === "link" && v.action === "up" && name(v) === "extra0");
    const gone = await watcher.next((v) => v.kind === "link" && v.action === "gone");
    assertEquals([name(gone), (gone.interface as NetInterface).tunnel], [TUN_DEV, true]);
  } finally {
    watcher.kill();
    await watcher.exit();
  }
});

e2e("the fake tunnel on SIGTERM removes only its own routes, leaving no default", async (lab) => {
  const tunnel = spawnInLab(lab, DENO, ["run", "--allow-all", "--quiet", FAKE_TUNNEL]);
  try {
    await tunnel.next((v) => v.ready === true);
    for (const family of [4, 6] as const) {
      assertEquals((await lab.defaults(family)).map((r) => r.dev), [TUN_DEV]);
    }
    tunnel.kill("SIGTERM");
    assertEquals(await tunnel.exit(), 0);
    assertEquals((await tunnel.next((v) => v.stopped === true)).reason, "SIGTERM");
  } finally {
    tunnel.kill();
    await tunnel.exit();
  }
  assertEquals([await lab.defaults(4), await lab.defaults(6)], [[], []]);
  // Its other routes are gone too, the host's on-link routes are not.
  const routes = await lab.routes(4);
  assertEquals(routes.filter((r) => r.dev === TUN_DEV), []);
  assert(routes.some((r) => r.dev === CLIENT_DEV));
});
