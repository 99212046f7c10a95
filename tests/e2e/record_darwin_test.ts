/**
 * What becomes the saved default (issue 18 items 1 and 2) on the simulated Mac: the real CLI with
 * the real darwin FFI code against the simulated XNU kernel and the stand-in scutil. The monitor
 * records a default only on an interface that was there before it started and that is scutil's
 * PrimaryInterface; another process's default elsewhere never becomes the saved one.
 * Needs Linux with a C compiler (to build the stand-in); skips with the reason elsewhere.
 */
import { assertEquals } from "../assert.ts";
import {
  defaultRouteRequest,
  encodeRouteMessage,
  RTM_ADD,
  RTM_DELETE,
} from "../../lib/darwin/route_message.ts";
import {
  IFF_BROADCAST,
  IFF_MULTICAST,
  IFF_RUNNING,
  IFF_SIMPLEX,
  IFF_UP,
  type SimInterface,
} from "../harness/xnu_kernel.ts";
import { type Simulator, standinUnavailableReason, startSimulator } from "../harness/sim.ts";
import {
  defrouteArgv,
  type Proc,
  sleep,
  spawnProc,
  startHealer,
  stopWatch,
} from "./run_watch_lib.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping recording simulated-Mac e2e tests: ${skip}`);

const OTHER_PID = 4711;

/** An Ethernet-like interface (a USB adapter, or a VPN's feth/tap that is no utun). */
function ethernet(name: string, index: number, address: string): SimInterface {
  return {
    name,
    index,
    flags: IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_SIMPLEX | IFF_MULTICAST,
    mac: `aa:bb:cc:dd:ee:${index.toString(16).padStart(2, "0")}`,
    type: 0x6, // IFT_ETHER
    mtu: 1500,
    addresses: [{ address, prefix: 24 }],
  };
}

function defroute(sim: Simulator, args: string[]): Proc {
  const [program, argv] = defrouteArgv(args);
  return spawnProc(program, argv, { env: sim.env });
}

/** Another process (OTHER_PID) moves the global IPv4 default to `gateway`. */
async function moveGlobalAs(sim: Simulator, gateway: string): Promise<void> {
  const remove = defaultRouteRequest({ type: RTM_DELETE, family: 4, seq: 1, form: "route8" });
  assertEquals(await sim.requestAs(OTHER_PID, encodeRouteMessage(remove)), 0);
  const add = defaultRouteRequest({ type: RTM_ADD, family: 4, gateway, seq: 2, form: "route8" });
  assertEquals(await sim.requestAs(OTHER_PID, encodeRouteMessage(add)), 0);
}

async function savedRoute(state: string): Promise<[string, string]> {
  const route = JSON.parse(await Deno.readTextFile(state)).families["4"].route;
  return [route.gateway, route.interface];
}

function e2e(name: string, body: (sim: Simulator, state: string) => Promise<void>): void {
  Deno.test({
    name: `recording simulated-Mac e2e: ${name}`,
    ignore: skip !== null,
    fn: async () => {
      const dir = await Deno.makeTempDir({ prefix: "defroute-recd-" });
      await using sim = await startSimulator();
      try {
        await body(sim, `${dir}/state.json`);
      } finally {
        await Deno.remove(dir, { recursive: true });
      }
    },
  });
}

e2e(
  "watch: a default moved onto an interface that appeared after it started is not recorded",
  async (sim, state) => {
    const w = await startHealer((args) => defroute(sim, args), state, ["-v", "--grace", "30"]);
    try {
      await w.stderrMatch(/recorded the last good IPv4 default: 192\.168\.1\.1 (via|on) en0/);
      await sim.addInterface(ethernet("en7", 7, "10.8.0.194"));
      await moveGlobalAs(sim, "10.8.0.193");
      await w.next((v) => v.event === "route" && v.action === "add" && v.gateway === "10.8.0.193");
      await sleep(500); // the monitor reads the table again and decides
      assertEquals(await savedRoute(state), ["192.168.1.1", "en0"]);
      await w.stderrMatch(/not recorded as the last good IPv4 default: .*en7 appeared after/);
    } finally {
      await stopWatch(w, "SIGTERM");
    }
  },
);

e2e(
  "watch: a default on an interface that is not scutil's PrimaryInterface is not recorded",
  async (sim, state) => {
    // en1 was there all along (a second adapter); a VPN moves the default onto it, while configd
    // still has en0 as the primary network.
    await sim.addInterface(ethernet("en1", 5, "10.0.0.2"));
    const w = await startHealer((args) => defroute(sim, args), state, ["-v", "--grace", "30"]);
    try {
      await w.stderrMatch(/recorded the last good IPv4 default: 192\.168\.1\.1 (via|on) en0/);
      await moveGlobalAs(sim, "10.0.0.1");
      await w.next((v) => v.event === "route" && v.action === "add" && v.gateway === "10.0.0.1");
      await sleep(500); // the monitor reads the table again and decides
      assertEquals(await savedRoute(state), ["192.168.1.1", "en0"]);
      await w.stderrMatch(/en1 is not scutil's PrimaryInterface \(en0\)/);
    } finally {
      await stopWatch(w, "SIGTERM");
    }
  },
);
