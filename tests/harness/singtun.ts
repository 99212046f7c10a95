/**
 * sing-tun issue #80 replayed as its own process, through the real darwin FFI code
 * (lib/darwin/libsystem.ts + route_socket.ts) and the stand-in libSystem on the simulated Mac.
 *
 * What sing-tun's darwin setRoutes() does for a literal 0.0.0.0/0 (tun_darwin.go ~L448;
 * https://github.com/SagerNet/sing-tun/issues/80):
 *   1. RTM_ADD 0/0 via the utun            -> EEXIST (the Mac's global default exists)
 *   2. RTM_DELETE 0/0, no ifscope, index 0 -> deletes the Mac's GLOBAL default (the bug)
 *   3. RTM_ADD 0/0 RTF_IFSCOPE on the utun
 * Then it runs until SIGTERM/SIGINT or stdin EOF, and unsetRoutes() deletes only its own scoped
 * route: the global default is never put back.
 *
 *   deno run -A tests/harness/singtun.ts [--interface utun4] [--gateway 198.18.0.1] [--family 4]
 *
 * Prints one JSON line per step ({"step":"add","errno":"EEXIST"} ...), {"ready":true,"pid":N}
 * once the tunnel is "up", and {"step":"stopped"} at the end.
 */
import { parseArgs } from "node:util";
import { RouteTableError } from "../../lib/core/model/errors.ts";
import { LibSystemRouteSystem } from "../../lib/darwin/libsystem.ts";
import {
  defaultRouteRequest,
  encodeRouteMessage,
  RTF_GATEWAY,
  RTF_STATIC,
  RTF_UP,
  RTM_ADD,
  RTM_DELETE,
} from "../../lib/darwin/route_message.ts";
import { RouteRequester } from "../../lib/darwin/route_socket.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    interface: { type: "string", default: "utun4" },
    gateway: { type: "string", default: "198.18.0.1" },
    family: { type: "string", default: "4" },
  },
});
const family = values.family === "6" ? 6 : 4;

function report(line: Record<string, unknown>): void {
  console.log(JSON.stringify(line));
}

const system = new LibSystemRouteSystem();
const socket = system.openSocket();
const requester = new RouteRequester(socket);
const index = system.interfaceIndex(values.interface);
if (index === 0) {
  report({ step: "error", message: `no interface ${values.interface}` });
  Deno.exit(1);
}

/** One execRoute(): returns the errno name, or null when the kernel did it. */
async function execRoute(type: number, scoped: boolean, gateway?: string): Promise<string | null> {
  const message = encodeRouteMessage(defaultRouteRequest({
    type,
    family,
    gateway,
    ifscope: scoped ? index : undefined,
    seq: 0,
    form: "route8",
    flags: RTF_UP | RTF_GATEWAY | RTF_STATIC,
  }));
  try {
    await requester.request(message);
    return null;
  } catch (error) {
    if (error instanceof RouteTableError && error.errno) return error.errno;
    throw error;
  }
}

// setRoutes()
const added = await execRoute(RTM_ADD, false, values.gateway);
report({ step: "add", errno: added });
if (added === "EEXIST") {
  // The bug: "recover" by deleting whatever 0/0 exists - the Mac's global default.
  report({ step: "delete", errno: await execRoute(RTM_DELETE, false) });
  report({ step: "add-scoped", errno: await execRoute(RTM_ADD, true, values.gateway) });
}
// Run until told to stop. The listeners go in before "ready": a signal sent on "ready" must stop
// the replay cleanly, not kill it by default (exit 130 instead of 0).
await new Promise<void>((resolve) => {
  Deno.addSignalListener("SIGTERM", () => resolve());
  Deno.addSignalListener("SIGINT", () => resolve());
  report({ ready: true, pid: Deno.pid });
  (async () => {
    for await (const _ of Deno.stdin.readable) {
      // ignore input; EOF means the parent is done with us
    }
    resolve();
  })();
});

// unsetRoutes(): only its own route; the displaced global default is never restored.
report({ step: "cleanup", errno: await execRoute(RTM_DELETE, added === "EEXIST") });
system.close();
report({ step: "stopped" });
Deno.exit(0);
