/**
 * The heal loop (lib/core/ops/heal_loop.ts) against an in-memory RouteTable: events reported with
 * their pid, repairs after the grace period only, no repair when a default came back, the rate
 * limit, overflow re-reads, the last-good-default hook and clean shutdown.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { LATE_REREAD_MS, type MonitorOptions, runMonitor } from "../../lib/core/ops/heal_loop.ts";
import type { HealDecision } from "../../lib/core/policy/heal.ts";
import type { DefaultRoute, Family, RouteEvent } from "../../lib/core/model/types.ts";
import { added, FakeRouteTable, iface, route, until } from "./fake_route_table.ts";

const EN0 = route("192.168.1.1", "en0", 4);
const UTUN = route("10.0.0.1", "utun3", 9);

function setup(routes: DefaultRoute[] = [EN0]) {
  // en0 also reaches 172.16.0.0/16: the Wi-Fi network joined later in a test.
  const table = new FakeRouteTable([
    iface("en0", 4, ["192.168.1.0/24", "172.16.0.0/16"]),
    iface("utun3", 9, ["10.0.0.0/24"], { up: true, tunnel: true }),
  ], routes);
  const events: RouteEvent[] = [];
  const log: string[] = [];
  const repairs: { family: Family; cause: string; at: number }[] = [];
  const decisions: [HealDecision, string | null][] = [];
  const good: DefaultRoute[] = [];
  const controller = new AbortController();
  const options = (extra: Partial<MonitorOptions> = {}): MonitorOptions => ({
    table,
    families: [4],
    signal: controller.signal,
    log: {
      announce: (l) => log.push(`[#] ${l}`),
      info: (l) => log.push(l),
      debug: (l) => log.push(`debug: ${l}`),
      warn: (l) => log.push(`warn: ${l}`),
    },
    onEvent: (e) => events.push(e),
    onDecision: (d, outcome) => decisions.push([d, outcome]),
    onGoodDefault: (routes) => {
      good.push(...routes.slice(0, 1));
    },
    ...extra,
  });
  const repair = async (family: Family, cause: string) => {
    repairs.push({ family, cause, at: Date.now() });
    await table.add(EN0);
    return true;
  };
  return { table, events, log, repairs, decisions, good, controller, options, repair };
}

Deno.test("monitor: reports every default-route change with the pid that made it", async () => {
  const t = setup();
  const done = runMonitor(t.options());
  await until(() => t.table.listeners === 1);
  await t.table.deleteAs(EN0, 4711);
  await t.table.addAs(route("10.0.0.1", "utun3", 9, true), 4711);
  await until(() => t.events.length === 2);
  t.controller.abort();
  await done;
  assertEquals(
    t.events.map((e) => e.kind === "route" ? `${e.action} ${e.pid} ${e.route.scoped}` : e.kind),
    ["delete 4711 false", "add 4711 true"],
  );
  assertEquals(t.table.listeners, 0, "the event stream is closed on abort");
  assertEquals(t.table.calls, [], "monitoring alone changes nothing");
});

Deno.test("monitor: events of an unwatched family are not reported", async () => {
  const t = setup([EN0, route("fe80::1", "en0", 4)]);
  const done = runMonitor(t.options());
  await until(() => t.table.listeners === 1);
  await t.table.deleteAs(route(null, "en0", 4, false, 6), 77);
  await t.table.deleteAs(EN0, 78);
  await until(() => t.events.length === 1);
  t.controller.abort();
  await done;
  assertEquals(t.events.length, 1);
  const only = t.events[0];
  assert(only?.kind === "route" && only.route.family === 4 && only.pid === 78);
});

Deno.test("heal: a deleted default is repaired after the grace period, citing the event", async () => {
  const t = setup();
  const graceMs = 40;
  const done = runMonitor(
    t.options({ heal: { config: { graceMs, maxRepairs: 3, windowMs: 60_000 }, repair: t.repair } }),
  );
  await until(() => t.table.listeners === 1);
  const deletedAt = Date.now();
  await t.table.deleteAs(EN0, 4711);
  await until(() => t.repairs.length === 1 && t.decisions.length === 1);
  t.controller.abort();
  await done;
  const repair = t.repairs[0];
  assert(repair);
  assert(repair.at - deletedAt >= graceMs, "not repaired before the grace period ended");
  assertMatch(repair.cause, /global default deleted by pid 4711/);
  assertEquals(t.decisions[0]?.[1], "repaired");
  assertEquals(t.table.routes, [added(EN0)]);
  assert(t.log.some((l) => /no global IPv4 default for .* s \(global default deleted/.test(l)));
});

Deno.test("heal: a void while a tunnel holds the traffic waits; it is filled once the hold ends", async () => {
  const t = setup();
  let held: string | null = "tunnel utun4 holds the IPv4 traffic (a default scoped to utun4)";
  const asked: number[] = [];
  const done = runMonitor(
    t.options({
      heal: {
        config: { graceMs: 20, maxRepairs: 3, windowMs: 60_000, holdRecheckMs: 30 },
        repair: t.repair,
        holder: (family, seen) => {
          asked.push(family);
          assertEquals(seen.defaults, [], "the holder sees the read that found the void");
          return Promise.resolve(held);
        },
      },
    }),
  );
  await until(() => t.table.listeners === 1);
  await t.table.deleteAs(EN0, 4711);
  await until(() => t.decisions.some(([d]) => d.kind === "held"));
  await until(() => asked.length >= 3); // looked at again every holdRecheckMs
  assertEquals(t.repairs, [], "no repair while the tunnel holds the traffic");
  assertEquals(t.decisions.filter(([d]) => d.kind === "held").length, 1, "reported once");
  assert(t.log.some((l) => /not repairing the IPv4 default: tunnel utun4 holds/.test(l)));
  held = null; // the tunnel went away
  await until(() => t.repairs.length === 1);
  t.controller.abort();
  await done;
  assertEquals(t.table.routes, [added(EN0)]);
});

Deno.test("heal: a default replaced within the grace period is left alone", async () => {
  const t = setup();
  const done = runMonitor(
    t.options({
      heal: { config: { graceMs: 50, maxRepairs: 3, windowMs: 60_000 }, repair: t.repair },
    }),
  );
  await until(() => t.table.listeners === 1);
  // sing-tun-like: delete the global default and put a tunnel's in its place at once.
  await t.table.deleteAs(EN0, 4711);
  await t.table.addAs(UTUN, 4711);
  await until(() => t.events.length === 2);
  await new Promise((r) => setTimeout(r, 300)); // well past the grace period
  t.controller.abort();
  await done;
  assertEquals(t.repairs, []);
  assertEquals(t.table.routes, [added(UTUN)], "the tunnel's default is not replaced");
  assertEquals(t.table.calls, []);
});

Deno.test("heal: stops after its rate limit and says so once", async () => {
  const t = setup();
  const done = runMonitor(
    t.options({
      heal: { config: { graceMs: 10, maxRepairs: 2, windowMs: 60_000 }, repair: t.repair },
    }),
  );
  await until(() => t.table.listeners === 1);
  for (let i = 1; i <= 2; i++) {
    await t.table.deleteAs(EN0, 4711);
    await until(() => t.repairs.length === i && t.table.routes.length === 1);
  }
  await t.table.deleteAs(EN0, 4711);
  await until(() => t.decisions.some(([d]) => d.kind === "rate-limited"));
  await new Promise((r) => setTimeout(r, 100));
  t.controller.abort();
  await done;
  assertEquals(t.repairs.length, 2);
  assertEquals(t.table.routes.length, 0, "the third void is not repaired");
  assertEquals(
    t.log.filter((l) => /warn: not repairing the IPv4 default: 2 repairs/.test(l)).length,
    1,
  );
});

Deno.test("heal: a failed repair is logged and tried again after a fresh grace", async () => {
  const t = setup([]);
  let calls = 0;
  const done = runMonitor(
    t.options({
      heal: {
        config: { graceMs: 10, maxRepairs: 5, windowMs: 60_000 },
        repair: async () => {
          calls++;
          if (calls === 1) throw new Error("no gateway known");
          await t.table.add(EN0);
          return true;
        },
      },
    }),
  );
  await until(() => t.table.routes.length === 1);
  t.controller.abort();
  await done;
  assertEquals(calls, 2);
  assert(t.log.some((l) => l === "warn: repair of the IPv4 default failed: no gateway known"));
  assertEquals(t.decisions.map(([, o]) => o), ["failed", "repaired"]);
});

Deno.test("heal: an overflow makes the loop re-read the table and find the void", async () => {
  const t = setup();
  const done = runMonitor(
    t.options({
      heal: { config: { graceMs: 0, maxRepairs: 3, windowMs: 60_000 }, repair: t.repair },
    }),
  );
  await until(() => t.table.listeners === 1);
  t.table.routes = []; // lost silently: the kernel dropped the message
  t.table.emit({ kind: "overflow" });
  await until(() => t.repairs.length === 1);
  t.controller.abort();
  await done;
  assertMatch(t.repairs[0]?.cause ?? "", /dropped routing messages/);
});

Deno.test("monitor: records a global default on a live non-tunnel interface, not a tunnel's", async () => {
  const t = setup();
  const done = runMonitor(t.options());
  await until(() => t.good.length === 1);
  await t.table.deleteAs(EN0, 50);
  await t.table.addAs(UTUN, 50);
  await t.table.deleteAs(UTUN, 50);
  const wifi2 = route("172.16.0.1", "en0", 4);
  await t.table.addAs(wifi2, 51);
  await until(() => t.good.length === 2);
  t.controller.abort();
  await done;
  assertEquals(t.good, [EN0, added(wifi2)]);
});

Deno.test("monitor: a failing event stream ends the loop with the error", async () => {
  const t = setup();
  t.table.events = () => ({
    [Symbol.asyncIterator]: () => ({
      next: () => Promise.reject(new Error("recv: EBADF")),
    }),
  });
  await assertRejects(() => runMonitor(t.options()), /recv: EBADF/);
});

Deno.test("monitor: abort ends the loop even if the backend never returns from a read", async () => {
  const t = setup();
  t.table.events = () => ({
    [Symbol.asyncIterator]: () => ({ next: () => new Promise(() => {}) }),
  });
  const done = runMonitor(t.options());
  await new Promise((r) => setTimeout(r, 20));
  t.controller.abort();
  await done; // resolves: nothing awaited the hung read
  assertEquals(t.events, []);
});

Deno.test("heal: a default left on an interface that went down is a void, repaired after the grace (no route event at all)", async () => {
  const t = setup();
  const done = runMonitor(t.options({
    heal: { config: { graceMs: 50, maxRepairs: 3, windowMs: 60_000 }, repair: t.repair },
  }));
  await until(() => t.table.listeners === 1);
  // en0 goes down and its default stays in the table (a kernel that keeps it, or one whose
  // deletion was never sent): only the link event says something happened.
  const en0 = t.table.ifaces.find((i) => i.name === "en0")!;
  en0.up = false;
  t.table.emit({
    kind: "link",
    action: "down",
    interface: { name: "en0", index: 4, up: false, tunnel: false },
  });
  await until(() => t.repairs.length >= 1);
  t.controller.abort();
  await done;
  assertMatch(t.repairs[0]!.cause, /192\.168\.1\.1 via en0 is dead: en0 is down/);
});

Deno.test("heal: a default on an interface whose link went inactive (linkStates) is a void; the link states are asked at start and after interface events", async () => {
  const t = setup();
  const asked: string[][] = [];
  let inactive = new Set<string>();
  const done = runMonitor(t.options({
    linkStates: (names) => {
      asked.push([...names]);
      return Promise.resolve(inactive);
    },
    heal: { config: { graceMs: 0, maxRepairs: 3, windowMs: 60_000 }, repair: t.repair },
  }));
  await until(() => asked.length === 1);
  assertEquals(asked[0], ["en0", "utun3"]);
  inactive = new Set(["en0"]); // configd: State:/Network/Interface/en0/Link Active FALSE
  t.table.emit({
    kind: "address",
    action: "delete",
    interface: { name: "en0", index: 4, up: true, tunnel: false },
    address: "192.168.1.100",
  });
  await until(() => t.repairs.length >= 1);
  t.controller.abort();
  await done;
  assertMatch(t.repairs[0]!.cause, /en0's link is inactive/);
  assert(asked.length >= 2, "asked again after the address event");
});

Deno.test("monitor: after an interface event the table is read at once and again LATE_REREAD_MS later", async () => {
  const t = setup();
  const reads: number[] = [];
  const defaults = t.table.defaults.bind(t.table);
  t.table.defaults = (family) => {
    reads.push(Date.now());
    return defaults(family);
  };
  const done = runMonitor(t.options());
  await until(() => t.table.listeners === 1);
  const start = reads.length;
  const at = Date.now();
  t.table.emit({
    kind: "link",
    action: "new",
    interface: { name: "en1", index: 5, up: true, tunnel: false },
  });
  await until(() => reads.length - start >= 2, 3000);
  t.controller.abort();
  await done;
  assertEquals(reads.length - start, 2, "one read now, one later");
  assert(reads[start + 1]! - at >= LATE_REREAD_MS, "the second read waits");
});

Deno.test("monitor: a recheck finds a default removed without any message and reports what changed; with heal it is repaired", async () => {
  const t = setup();
  const changes: unknown[] = [];
  const done = runMonitor(t.options({
    recheckMs: 100,
    onRecheck: (c) => changes.push(c),
    heal: { config: { graceMs: 0, maxRepairs: 3, windowMs: 60_000 }, repair: t.repair },
  }));
  await until(() => t.table.listeners === 1);
  t.table.routes = []; // gone, and no event says so
  await until(() => t.repairs.length === 1, 3000);
  t.controller.abort();
  await done;
  assertEquals(changes[0], [{
    kind: "defaults",
    family: 4,
    before: ["192.168.1.1 via en0"],
    after: [],
  }]);
  assertMatch(
    t.repairs[0]!.cause,
    /^recheck: IPv4 defaults were 192\.168\.1\.1 via en0, now none$/,
  );
});

Deno.test("monitor: a recheck that finds nothing different says nothing", async () => {
  const t = setup();
  let rechecks = 0;
  const reads: number[] = [];
  const defaults = t.table.defaults.bind(t.table);
  t.table.defaults = (family) => {
    reads.push(Date.now());
    return defaults(family);
  };
  const done = runMonitor(t.options({ recheckMs: 30, onRecheck: () => rechecks++ }));
  await until(() => reads.length >= 4, 3000); // start + three rechecks
  t.controller.abort();
  await done;
  assertEquals(rechecks, 0);
});

Deno.test("monitor: a burst of interface events is looked at together, not one look each", async () => {
  const t = setup();
  let asked = 0;
  const done = runMonitor(t.options({
    linkStates: () => {
      asked++;
      return Promise.resolve(new Set<string>());
    },
  }));
  await until(() => asked === 1);
  const utun = { name: "utun3", index: 9, up: true, tunnel: true };
  for (let i = 1; i <= 5; i++) {
    t.table.emit({ kind: "address", action: "new", interface: utun, address: `10.0.0.${i}` });
  }
  await until(() => t.events.length === 5);
  await until(() => asked >= 2);
  await new Promise((r) => setTimeout(r, 50));
  t.controller.abort();
  await done;
  // Events queued while a look runs are taken together: fewer looks than events.
  assert(asked - 1 < 5, `looks after the start: ${asked - 1} for 5 events`);
});
