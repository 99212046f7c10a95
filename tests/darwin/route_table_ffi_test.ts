/**
 * The darwin RouteTable cases through the real FFI code: lib/darwin/libsystem.ts dlopen()s the
 * stand-in libSystem (tests/harness/libsystem_standin.c, built here with cc), whose PF_ROUTE
 * sockets reach the simulated XNU kernel in a separate process (tests/harness/simulator_main.ts).
 */
import { type DarwinRouteTable, openDarwinRouteTable } from "../../lib/darwin/route_table.ts";
import { standinUnavailableReason, startSimulator } from "../harness/sim.ts";
import { routeTableCases } from "./route_table_cases.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping darwin FFI RouteTable tests: ${skip}`);

routeTableCases({
  name: "FFI + stand-in libSystem",
  skip,
  async open(options = {}) {
    const sim = await startSimulator();
    sim.applyEnv();
    Deno.env.delete("DEFROUTE_SIM_UNPRIVILEGED");
    const table = openDarwinRouteTable(options) as DarwinRouteTable;
    const extra: DarwinRouteTable[] = [];
    return {
      sim,
      table,
      unprivileged() {
        // The stand-in reads this when each socket is created: SS_PRIV clear
        // (docs/macos-routing-socket.md §5.1).
        Deno.env.set("DEFROUTE_SIM_UNPRIVILEGED", "1");
        const t = openDarwinRouteTable(options) as DarwinRouteTable;
        // Force the socket open now, while the variable is set.
        void t.requester;
        Deno.env.delete("DEFROUTE_SIM_UNPRIVILEGED");
        extra.push(t);
        return t;
      },
      async close() {
        table.close();
        for (const t of extra) t.close();
        // Let deferred library unloads (after pending polls) finish before the next test.
        await new Promise((r) => setTimeout(r, 0));
        await sim.stop();
      },
    };
  },
});
