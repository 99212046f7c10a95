/**
 * A tiny program that drives openLinuxRouteTable from inside a network namespace (the tests run
 * it with `ip netns exec NS deno run --allow-all tests/linux/table_probe.ts ...`), printing one
 * JSON line per result so the test can compare it with an independent `ip -j route show`.
 *
 *   defaults 4|6            -> {"ok":true,"value":[DefaultRoute...]}
 *   interfaces              -> {"ok":true,"value":[NetInterface...]}
 *   add|delete ROUTE_JSON   -> {"ok":true} or {"ok":false,"kind":...,"errno":...,"message":...}
 *   events MS               -> {"ready":true}, then one line per RouteEvent for MS milliseconds
 *   save-reads              -> {"ok":true,"value":[libc symbol groups bound]} after what `save`
 *                              reads (both families' defaults and the interfaces)
 *   warm                    -> {"ok":true,"value":[libc symbol groups bound]} after warm()
 *   time-defaults F N       -> {"ok":true,"value":{"medianMs":...,"found":K}}: N calls of
 *                              defaults(F) in this process, the median (table_size_bench.ts)
 *   reread F ROUTE_JSON     -> {"ok":true,"value":{"before":[...],"after":[...],"again":[...]}}:
 *                              defaults(F), add ROUTE, defaults(F), delete ROUTE, defaults(F),
 *                              all on one table (a dump left early must not spoil the next)
 */
import { openLinuxRouteTable } from "../../lib/linux/route_table.ts";
import { boundGroups } from "../../lib/linux/libc.ts";
import { RouteTableError } from "../../lib/core/model/errors.ts";
import type { DefaultRoute } from "../../lib/core/model/types.ts";

function print(value: unknown): void {
  console.log(JSON.stringify(value));
}

const table = openLinuxRouteTable();
const [command, argument] = Deno.args;
try {
  switch (command) {
    case "defaults":
      print({ ok: true, value: await table.defaults(argument === "6" ? 6 : 4) });
      break;
    case "interfaces":
      print({ ok: true, value: await table.interfaces() });
      break;
    case "save-reads":
      await table.defaults(4);
      await table.defaults(6);
      await table.interfaces();
      print({ ok: true, value: boundGroups() });
      break;
    case "warm":
      table.warm?.();
      print({ ok: true, value: boundGroups() });
      break;
    case "time-defaults": {
      const family = argument === "6" ? 6 : 4;
      const times: number[] = [];
      let found = 0;
      for (let i = 0; i < Number(Deno.args[2] ?? 20); i++) {
        const start = performance.now();
        found = (await table.defaults(family)).length;
        times.push(performance.now() - start);
      }
      times.sort((a, b) => a - b);
      print({ ok: true, value: { medianMs: times[times.length >> 1] ?? NaN, found } });
      break;
    }
    case "reread": {
      const family = argument === "6" ? 6 : 4;
      const route = JSON.parse(Deno.args[2] ?? "null") as DefaultRoute;
      const before = await table.defaults(family);
      await table.add(route);
      const after = await table.defaults(family);
      await table.delete(route);
      print({ ok: true, value: { before, after, again: await table.defaults(family) } });
      break;
    }
    case "add":
    case "delete": {
      const route = JSON.parse(argument ?? "null") as DefaultRoute;
      await (command === "add" ? table.add(route) : table.delete(route));
      print({ ok: true });
      break;
    }
    case "events": {
      const controller = new AbortController();
      setTimeout(() => controller.abort(), Number(argument ?? 3000));
      const stream = table.events(controller.signal);
      const iterator = stream[Symbol.asyncIterator]();
      // The generator body runs synchronously up to its first await on the first next(), and
      // that part opens and binds the subscribed socket: from here on no event is missed.
      const first = iterator.next();
      // It then lists the links to know which interfaces exist (what makes a later one "new").
      // Requests run one at a time in order, so once this listing returns, that one is done too;
      // without it, an interface added right after "ready" could be in that list already.
      await table.interfaces();
      print({ ready: true });
      for (let step = await first; !step.done; step = await iterator.next()) print(step.value);
      break;
    }
    default:
      print({ ok: false, kind: "usage", message: `unknown probe command ${command}` });
      Deno.exitCode = 2;
  }
} catch (error) {
  if (error instanceof RouteTableError) {
    print({ ok: false, kind: error.kind, errno: error.errno, message: error.message });
  } else {
    print({ ok: false, kind: "crash", message: String(error) });
  }
  Deno.exitCode = 1;
} finally {
  table.close();
}
