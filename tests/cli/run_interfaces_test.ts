/**
 * `run` keeps the interface list by the route monitor's link events while CMD runs, so the
 * restore after CMD's exit needs no link dump: a tunnel that came up is known from its event;
 * after an overflow (events lost) the list is read again at exit.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { run } from "../../lib/cli/run.ts";
import type { CommandContext } from "../../lib/cli/command.ts";
import { memoryOutput } from "../../lib/cli/output.ts";
import type { SignalSource } from "../../lib/core/run_wrapper.ts";
import type { System } from "../../lib/system.ts";
import { FakeRouteTable, iface, route, until } from "../core/fake_route_table.ts";

const EN0 = route("192.168.1.1", "en0", 4);
const UTUN3_UP = iface("utun3", 9, [], { up: true, tunnel: true });

const noSignals: SignalSource = { listen: () => {}, unlisten: () => {} };

async function setup() {
  const dir = await Deno.makeTempDir();
  const table = new FakeRouteTable([
    iface("lo0", 1, ["127.0.0.0/8"]),
    iface("en0", 4, ["192.168.1.0/24"]),
    iface("utun3", 9, [], { up: false, tunnel: true }),
  ], [EN0]);
  const system: System = {
    platform: "linux",
    table,
    primary: { primary: () => Promise.resolve(null) },
    isRoot: true,
    close: () => {},
  };
  const out = memoryOutput(false, 2);
  const ctx: CommandContext = {
    values: {},
    positionals: [],
    rest: ["/bin/sh", "-c", `while [ ! -e ${dir}/go ]; do sleep 0.01; done`],
    out,
    families: [4],
    statePath: `${dir}/state.json`,
    system: () => Promise.resolve(system),
  };
  return { dir, table, out, ctx };
}

/** CMD's tunnel takes the default; `announce` says how run learns that utun3 came up. */
async function tunnelTakesDefault(announce: "link event" | "overflow") {
  const t = await setup();
  try {
    const running = run(t.ctx, { stdio: "null", signals: noSignals });
    await until(() => t.table.listeners === 1);
    t.table.ifaces = t.table.ifaces.map((l) => l.name === "utun3" ? UTUN3_UP : l);
    if (announce === "link event") {
      t.table.emit({ kind: "link", action: "up", interface: UTUN3_UP });
    } else {
      t.table.emit({ kind: "overflow" });
    }
    await t.table.deleteAs(EN0, 4711);
    await t.table.addAs(route(null, "utun3", 9), 4711);
    await until(() => t.out.stderr.some((l) => /added by pid 4711/.test(l)));
    await Deno.writeTextFile(`${t.dir}/go`, "");
    assertEquals(await running, 0);
    const globals = t.table.routes.filter((r) => !r.scoped);
    assertEquals(globals.map((r) => r.interface), ["en0"]);
    assertMatch(t.out.stderr.join("\n"), /tunnel interfaces utun3 came up while CMD ran/);
  } finally {
    await Deno.remove(t.dir, { recursive: true });
  }
}

Deno.test("run: a tunnel whose link-up event came while CMD ran is CMD's; its default is replaced", () =>
  tunnelTakesDefault("link event"));

Deno.test("run: after an overflow the interfaces are listed again at CMD's exit", () =>
  tunnelTakesDefault("overflow"));
