// The real CLI (`deno run <DENO_RUN_FLAGS> main.ts ...`, the permission set users get) against
// the real kernel in throwaway namespaces, with a sing-tun-like tunnel breaking the default
// (tests/linux/fake_tunnel.ts). Every step is checked with an independent `ip -j route show`.
// Needs root, iproute2 and /dev/net/tun; skips elsewhere, and skips while `save`/`restore` are
// still stubs (issue 4).
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  CLIENT_DEV,
  DENO,
  type IpRoute,
  type Lab,
  namespaceSupport,
  ROOT,
  ROUTER_ADDRESS,
  ROUTER_LINK_LOCAL,
  run,
  type RunResult,
  spawnInLab,
  TUN_DEV,
  withLab,
} from "./netns.ts";
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";

/** main.ts, or the shipped bundle's main.js when bundle_e2e_test.ts runs this file again against
 * it (DEFROUTE_E2E_ENTRY). */
const MAIN = Deno.env.get("DEFROUTE_E2E_ENTRY") ?? `${ROOT}main.ts`;
if (Deno.env.get("DEFROUTE_E2E_ENTRY")) console.log(`cli e2e entry: ${MAIN}`);
const FAKE_TUNNEL = `${ROOT}tests/linux/fake_tunnel.ts`;

/** False only while the commands are the skeleton's stubs; a broken CLI must fail, not skip. */
async function commandsBuilt(): Promise<boolean> {
  for (const command of ["save", "restore"]) {
    const help = await run(DENO, ["run", ...DENO_RUN_FLAGS, MAIN, command, "--help"]);
    if (/not built yet/.test(help.stdout + help.stderr)) return false;
  }
  return true;
}

const support = namespaceSupport();
const built = support.ok && await commandsBuilt();
const skipReason = !support.ok
  ? support.reason
  : !built
  ? "needs issue 4 commands (save/restore are still stubs)"
  : "";
if (skipReason) console.log(`skipping Linux CLI e2e tests: ${skipReason}`);

/** `ip netns exec NS deno run <DENO_RUN_FLAGS> main.ts ARGS...` */
function defroute(lab: Lab, ...args: string[]): Promise<RunResult> {
  const [program, argv] = lab.exec(DENO, ["run", ...DENO_RUN_FLAGS, MAIN, ...args]);
  return run(program, argv);
}

/** What identifies a default route in `ip -j route show` output. */
function shape(routes: IpRoute[]): [string | null, string | null, number][] {
  return routes.map((r) => [r.gateway ?? null, r.dev ?? null, r.metric ?? 0]);
}

async function bothDefaults(lab: Lab) {
  return { 4: shape(await lab.defaults(4)), 6: shape(await lab.defaults(6)) };
}

/** Start the fake tunnel, let it break the default(s), stop it: no default is left. */
async function tunnelBreaksDefault(lab: Lab, family: "4" | "6" | "all"): Promise<void> {
  const tunnel = spawnInLab(lab, DENO, [
    "run",
    "--allow-all",
    "--quiet",
    FAKE_TUNNEL,
    "--family",
    family,
  ]);
  try {
    const ready = await tunnel.next((v) => v.ready === true || typeof v.error === "string");
    assert(ready.ready === true, `fake tunnel failed: ${JSON.stringify(ready)}`);
    for (const f of family === "all" ? [4, 6] as const : [Number(family) as 4 | 6]) {
      assertEquals(shape(await lab.defaults(f)).map((r) => r[1]), [TUN_DEV]);
    }
    assertEquals(await tunnel.stop(), 0);
  } finally {
    tunnel.kill();
    await tunnel.exit();
  }
  for (const f of family === "all" ? [4, 6] as const : [Number(family) as 4 | 6]) {
    assertEquals(await lab.defaults(f), [], `IPv${f} default left after the tunnel`);
  }
}

function cli(name: string, body: (lab: Lab, state: string) => Promise<void>): void {
  Deno.test({
    name: `linux cli e2e: ${name}`,
    ignore: skipReason !== "",
    fn: async () => {
      // mkdtemp is 0700 and root's: the state file passes the root trust check.
      const dir = await Deno.makeTempDir({ prefix: "drt-state-" });
      try {
        await withLab((lab) => body(lab, `${dir}/state.json`), "cli");
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

function explain(result: RunResult): string {
  return `exit ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`;
}

cli("save, a tunnel deletes the default, restore puts the same one back", async (lab, state) => {
  const before = await bothDefaults(lab);
  assertEquals(before[4], [[ROUTER_ADDRESS, CLIENT_DEV, 0]]);
  const save = await defroute(lab, "save", "--state", state);
  assertEquals(save.code, 0, explain(save));
  await tunnelBreaksDefault(lab, "all");
  const restore = await defroute(lab, "restore", "--state", state);
  assertEquals(restore.code, 0, explain(restore));
  assertEquals(await bothDefaults(lab), before);
  // Changes are announced on stderr before they are made (wg-quick style).
  assertMatch(restore.stderr, /\[#\].*10\.77\.0\.1/);
});

cli("restore -v speaks ip(8)'s words on Linux, and never of scutil", async (lab, state) => {
  const save = await defroute(lab, "save", "--family", "4", "--state", state);
  assertEquals(save.code, 0, explain(save));
  await tunnelBreaksDefault(lab, "4");
  const restore = await defroute(lab, "restore", "-v", "--family", "4", "--state", state);
  assertEquals(restore.code, 0, explain(restore));
  assertMatch(restore.stderr, /^\[#\] ip route add default via 10\.77\.0\.1 dev veth0$/m);
  assert(!/\broute add default 10\.77/.test(restore.stderr), `route(8) words: ${restore.stderr}`);
  assert(!/scutil|State:\/Network/.test(restore.stdout + restore.stderr), explain(restore));
  const dry = await defroute(lab, "status", "--family", "4", "--state", state);
  assertMatch(dry.stdout, /restore would:\s+nothing/);
  await lab.ip("route", "del", "default");
  const status = await defroute(lab, "status", "--family", "4", "--state", state);
  assertMatch(status.stdout, /restore would:\s+ip route add default via 10\.77\.0\.1 dev veth0/);
});

cli("restore when nothing is missing changes nothing", async (lab, state) => {
  const save = await defroute(lab, "save", "--state", state);
  assertEquals(save.code, 0, explain(save));
  const before = { 4: await lab.routes(4), 6: await lab.routes(6) };
  const restore = await defroute(lab, "restore", "--state", state);
  assertEquals(restore.code, 0, explain(restore));
  assertEquals({ 4: await lab.routes(4), 6: await lab.routes(6) }, before);
  assert(!/\[#\]/.test(restore.stderr), `announced a change: ${restore.stderr}`);
});

cli("restore --dry-run says what it would add and changes nothing", async (lab, state) => {
  const save = await defroute(lab, "save", "--state", state);
  assertEquals(save.code, 0, explain(save));
  await tunnelBreaksDefault(lab, "4");
  const routesBefore = await lab.routes(4);
  const dry = await defroute(lab, "restore", "--dry-run", "--family", "4", "--state", state);
  assertEquals(dry.code, 0, explain(dry));
  assertMatch(dry.stdout + dry.stderr, /10\.77\.0\.1/);
  assertEquals(await lab.routes(4), routesBefore);
  assertEquals(await lab.defaults(4), []);
});

cli("the saved interface is gone: a clear error, exit 4, nothing added", async (lab, state) => {
  const save = await defroute(lab, "save", "--family", "4", "--state", state);
  assertEquals(save.code, 0, explain(save));
  await tunnelBreaksDefault(lab, "4");
  await lab.ip("link", "del", CLIENT_DEV); // the saved veth0 vanishes (and its peer with it)
  const before = await lab.routes(4);
  const restore = await defroute(lab, "restore", "--family", "4", "--state", state);
  assertEquals(restore.code, 4, explain(restore));
  // What was looked at is named (where it is printed, stdout or stderr, is the CLI's choice).
  assertMatch(restore.stdout + restore.stderr, /veth0/);
  assertEquals(await lab.routes(4), before);
  assertEquals(await lab.defaults(4), []);
});

cli("two save and two restore at once: exit 0, the state file stays whole", async (lab, state) => {
  const first = await defroute(lab, "save", "--state", state);
  assertEquals(first.code, 0, explain(first));
  const before = await bothDefaults(lab);
  for (let round = 0; round < 3; round++) {
    const results = await Promise.all([
      defroute(lab, "save", "--state", state),
      defroute(lab, "restore", "--state", state),
      defroute(lab, "save", "--state", state),
      defroute(lab, "restore", "--state", state),
    ]);
    for (const result of results) assertEquals(result.code, 0, explain(result));
    const saved = JSON.parse(await Deno.readTextFile(state));
    assertEquals(saved.version, 1);
    assertEquals(saved.families["4"].route.gateway, ROUTER_ADDRESS);
    assertEquals(saved.families["6"].route.gateway, ROUTER_LINK_LOCAL);
  }
  assertEquals(await bothDefaults(lab), before);
});

cli(
  "IPv6: a default via a link-local gateway is saved and restored on its interface",
  async (lab, state) => {
    const before = shape(await lab.defaults(6));
    assertEquals(before.map((r) => [r[0], r[1]]), [[ROUTER_LINK_LOCAL, CLIENT_DEV]]);
    const save = await defroute(lab, "save", "--family", "6", "--state", state);
    assertEquals(save.code, 0, explain(save));
    await tunnelBreaksDefault(lab, "6");
    const restore = await defroute(lab, "restore", "--family", "6", "--state", state);
    assertEquals(restore.code, 0, explain(restore));
    assertEquals(shape(await lab.defaults(6)), before);
  },
);

cli(
  "a default at metric 100 (as DHCP installs it) comes back at metric 100",
  async (lab, state) => {
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
    assertEquals(shape(await lab.defaults(4)), [[ROUTER_ADDRESS, CLIENT_DEV, 100]]);
    const save = await defroute(lab, "save", "--family", "4", "--state", state);
    assertEquals(save.code, 0, explain(save));
    await lab.ip("route", "del", "default");
    assertEquals(await lab.defaults(4), []);
    const restore = await defroute(lab, "restore", "--family", "4", "--state", state);
    assertEquals(restore.code, 0, explain(restore));
    assertEquals(shape(await lab.defaults(4)), [[ROUTER_ADDRESS, CLIENT_DEV, 100]]);
  },
);
