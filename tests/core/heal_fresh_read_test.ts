/**
 * The heal loop's look right before a repair (lib/core/ops/heal_loop.ts): a read of the family moments
 * ago with no event since is that look (grace 0: no second read between the void and the
 * repair); an older read is not, so a default put back without an event is still found. The
 * repair is handed that read and the interfaces as link events kept them (listed again after an
 * overflow), so it need not read them again.
 */
import { assertEquals } from "../assert.ts";
import { type RepairInputs, runMonitor } from "../../lib/core/ops/heal_loop.ts";
import type { HealDecision } from "../../lib/core/policy/heal.ts";
import type { DefaultRoute, Family } from "../../lib/core/model/types.ts";
import { FakeRouteTable, iface, route, until } from "./fake_route_table.ts";

const EN0 = route("192.168.1.1", "en0", 4);

/** A FakeRouteTable that counts defaults() reads. */
class CountingTable extends FakeRouteTable {
  reads = 0;
  override defaults(family: Family): Promise<DefaultRoute[]> {
    this.reads++;
    return super.defaults(family);
  }
}

/** `now`: the loop's clock; a frozen one makes "moments ago" not depend on the machine's load. */
function setup(graceMs: number, now?: () => number) {
  const table = new CountingTable([iface("en0", 4, ["192.168.1.0/24"])], [EN0]);
  const controller = new AbortController();
  const decisions: [HealDecision, string | null][] = [];
  const readsAtRepair: number[] = [];
  const seen: RepairInputs[] = [];
  const done = runMonitor({
    table,
    families: [4],
    signal: controller.signal,
    log: { announce: () => {}, info: () => {}, debug: () => {}, warn: () => {} },
    onDecision: (d, outcome) => decisions.push([d, outcome]),
    ...(now ? { now } : {}),
    heal: {
      config: { graceMs, maxRepairs: 10, windowMs: 60_000 },
      repair: async (_family, _cause, inputs) => {
        readsAtRepair.push(table.reads);
        seen.push(inputs);
        await table.add(EN0);
        return true;
      },
    },
  });
  return { table, controller, decisions, readsAtRepair, seen, done };
}

Deno.test("heal, grace 0: the read that found the void is the look before the repair", async () => {
  const t = setup(0, () => 1_000);
  await until(() => t.table.listeners === 1);
  const before = t.table.reads;
  await t.table.deleteAs(EN0, 4711);
  await until(() => t.decisions.length === 1);
  t.controller.abort();
  await t.done;
  assertEquals(t.decisions[0]?.[1], "repaired");
  assertEquals(t.readsAtRepair, [before + 1], "one read between the deletion and the repair");
});

Deno.test("heal: a read older than a moment is not the look: a default back without an event is found", async () => {
  const t = setup(40);
  await until(() => t.table.listeners === 1);
  await t.table.deleteAs(EN0, 4711);
  await new Promise((resolve) => setTimeout(resolve, 10));
  t.table.routes.push(EN0); // back, and no event says so
  await until(() => t.decisions.length === 1);
  t.controller.abort();
  await t.done;
  assertEquals(t.decisions[0]?.[1], "skipped");
  assertEquals(t.readsAtRepair, []);
});

Deno.test("heal: the repair gets the read that found the void and the links as events left them", async () => {
  const t = setup(0);
  await until(() => t.table.listeners === 1);
  const wifi = iface("en1", 5, []);
  t.table.ifaces = [...t.table.ifaces, wifi];
  t.table.emit({ kind: "link", action: "new", interface: wifi });
  await t.table.deleteAs(EN0, 4711);
  await until(() => t.decisions.length === 1);
  t.controller.abort();
  await t.done;
  assertEquals(t.seen[0]?.defaults, [], "the void, as read");
  assertEquals(t.seen[0]?.interfaces?.map((i) => i.name), ["en0", "en1"]);
});

Deno.test("heal: after an overflow the interfaces are listed again, and the repair gets that list", async () => {
  const t = setup(0);
  await until(() => t.table.listeners === 1);
  // An interface that came while events were lost: no link event says so.
  t.table.ifaces = [...t.table.ifaces, iface("en1", 5, [])];
  t.table.emit({ kind: "overflow" });
  await t.table.deleteAs(EN0, 4711);
  await until(() => t.decisions.length === 1);
  t.controller.abort();
  await t.done;
  assertEquals(t.seen[0]?.interfaces?.map((i) => i.name), ["en0", "en1"]);
});
