/**
 * DarwinRouteTable.defaults() on a big table (issue 15): the simulated XNU kernel in this process
 * (tests/harness/sim.ts) holds configd's defaults, a tunnel's scoped default and 0/1 + 128/1, and
 * 3,000 other routes (/24s via the LAN gateway and the tunnel, host routes, IPv6 /48s). Its
 * NET_RT_DUMP is what defaults() decodes with the prefix filter: every default the kernel holds
 * is found, scoped ones included, and nothing else.
 */
import { assertEquals } from "../assert.ts";
import { DarwinRouteTable } from "../../lib/darwin/route_table.ts";
import {
  RTF_GATEWAY,
  RTF_HOST,
  RTF_IFSCOPE,
  RTF_STATIC,
  RTF_UP,
} from "../../lib/darwin/route_message.ts";
import { startInProcessSimulator } from "../harness/sim.ts";
import { defaultSetup, type SimRoute, utun } from "../harness/xnu_kernel.ts";

const EN0 = 4;
const UTUN = 9;
const GATEWAY = RTF_UP | RTF_GATEWAY | RTF_STATIC;

function route(
  destination: string,
  prefix: number,
  gateway: string | null,
  ifIndex: number,
  extra: Partial<SimRoute> = {},
): SimRoute {
  const family = destination.includes(":") ? 6 : 4;
  const flags = (gateway ? GATEWAY : RTF_UP | RTF_STATIC) |
    (prefix === (family === 4 ? 32 : 128) ? RTF_HOST : 0);
  return { family, destination, prefix, scope: 0, gateway, ifIndex, flags, ...extra };
}

Deno.test("darwin defaults() finds every default among 3,000 routes of the simulated kernel", async () => {
  const setup = defaultSetup();
  setup.interfaces.push(utun("utun4", UTUN));
  setup.routes.push(
    route("0.0.0.0", 0, null, UTUN, { scope: UTUN, flags: RTF_UP | RTF_STATIC | RTF_IFSCOPE }),
    route("0.0.0.0", 1, null, UTUN),
    route("128.0.0.0", 1, null, UTUN),
    route("0.0.0.0", 8, "192.168.1.1", EN0),
  );
  for (let i = 0; i < 2000; i++) {
    const destination = `100.${64 + (i >> 8)}.${i & 0xff}.0`;
    setup.routes.push(
      i % 2 === 0 ? route(destination, 24, "192.168.1.1", EN0) : route(destination, 24, null, UTUN),
    );
  }
  for (let i = 0; i < 500; i++) {
    setup.routes.push(route(`10.1.${i >> 8}.${i & 0xff}`, 32, null, EN0));
  }
  for (let i = 0; i < 500; i++) {
    setup.routes.push(route(`2001:db8:${i.toString(16)}::`, 48, "fe80::1", EN0));
  }
  await using sim = startInProcessSimulator({ setup });
  using table = new DarwinRouteTable(sim.system);
  for (const family of [4, 6] as const) {
    const ours = await table.defaults(family);
    const kernel = await sim.defaults(family);
    const key = (scoped: boolean, index: number, gateway: string | null) =>
      `${scoped ? "scoped" : "global"} ${index} ${gateway ?? "link"}`;
    assertEquals(
      ours.map((r) => key(r.scoped, r.index, r.gateway)).sort(),
      kernel.map((r) => key(r.scoped, r.ifIndex, r.gateway)).sort(),
    );
    assertEquals(ours.length, family === 4 ? 3 : 1);
  }
});
