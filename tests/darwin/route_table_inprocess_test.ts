/**
 * The darwin RouteTable cases over the in-process transport: lib/darwin/route_table.ts and
 * route_socket.ts against the simulated XNU kernel in this process, no FFI.
 */
import { DarwinRouteTable } from "../../lib/darwin/route_table.ts";
import { startInProcessSimulator } from "../harness/sim.ts";
import { routeTableCases } from "./route_table_cases.ts";

routeTableCases({
  name: "in-process",
  skip: null,
  open(options = {}) {
    const sim = startInProcessSimulator();
    const table = new DarwinRouteTable(sim.system, options);
    const extra: DarwinRouteTable[] = [];
    return Promise.resolve({
      sim,
      table,
      unprivileged() {
        const t = new DarwinRouteTable(sim.unprivilegedSystem(), options);
        extra.push(t);
        return t;
      },
      async close() {
        table.close();
        for (const t of extra) t.close();
        await sim.stop();
      },
    });
  },
});
