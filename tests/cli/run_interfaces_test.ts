/**
 * `run` keeps the interface list by the route monitor's link events while CMD runs, so the
 * restore after CMD's exit needs no link dump: a tunnel that came up is known from its event;
 * after an overflow (events lost) the list is read again at exit.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { run } from "../../lib/cli/run.ts";
import type { SignalSource } from "../../lib/process/run_wrapper.ts";
import { iface, route, until } from "../core/fake_route_table.ts";
import { EN0, setup, waitingCommand } from "./run_fixture.ts";

const UTUN3_UP = iface("utun3", 9, [], { up: true, tunnel: true });

const noSignals: SignalSource = { listen: () => {}, unlisten: () => {} };

/** CMD's tunnel takes the default; `announce` says how run learns that utun3 came up. */
async function tunnelTakesDefault(announce: "link event" | "overflow") {
  const t = await setup();
  t.ctx.rest = waitingCommand(t.dir, "exit 0");
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
    await t.cleanup();
  }
}

Deno.test("run: a tunnel whose link-up event came while CMD ran is CMD's; its default is replaced", () =>
  tunnelTakesDefault("link event"));

Deno.test("run: after an overflow the interfaces are listed again at CMD's exit", () =>
  tunnelTakesDefault("overflow"));
