/**
 * The simulated Mac as a process: `deno task simulator` (deno.json).
 *
 *   deno task simulator                 # prints the environment that points defroute at it
 *   deno run -A tests/harness/simulator_main.ts --dir DIR [--setup FILE.json] --json
 *
 * It serves an XnuKernel (tests/harness/xnu_kernel.ts) on DIR/sim.sock for the stand-in
 * libSystem, keeps the stand-in scutil's answers under DIR/scutil/, and stops on SIGINT/SIGTERM
 * or a control "stop". With --json it prints one line {"ready":true,...} when listening (the
 * harness waits for it).
 */
import { parseArgs } from "node:util";
import { defaultSetup, type SimSetup, XnuKernel } from "./xnu_kernel.ts";
import { serveKernel } from "./sim_server.ts";
import { buildStandin, SCUTIL_STANDIN } from "./standin.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dir: { type: "string" },
    setup: { type: "string" },
    json: { type: "boolean", default: false },
    /** Stop when stdin reaches EOF: a test harness that dies takes its simulator with it. */
    "exit-on-eof": { type: "boolean", default: false },
  },
});

const dir = values.dir ?? Deno.makeTempDirSync({ prefix: "defroute-sim-" });
const setup: SimSetup = values.setup
  ? JSON.parse(Deno.readTextFileSync(values.setup))
  : defaultSetup();
const kernel = new XnuKernel(setup);
const server = serveKernel(kernel, dir);

// Listeners before "ready", so a signal sent on "ready" still closes the socket cleanly.
const signalled = new Promise<void>((resolve) => {
  Deno.addSignalListener("SIGINT", () => resolve());
  Deno.addSignalListener("SIGTERM", () => resolve());
  if (values["exit-on-eof"]) {
    (async () => {
      for await (const _ of Deno.stdin.readable) {
        // nothing is sent; only the end matters
      }
      resolve();
    })();
  }
});
if (values.json) {
  console.log(JSON.stringify({ ready: true, socket: server.socketPath, dir, pid: Deno.pid }));
} else {
  const library = await buildStandin();
  console.log(`simulated Mac listening on ${server.socketPath} (pid ${Deno.pid})`);
  console.log(
    "interfaces: " + [...kernel.interfaces.values()].map((i) => `${i.name}(${i.index})`).join(" "),
  );
  console.log("In another shell, point defroute's darwin backend at it:\n");
  console.log(`export DEFROUTE_PLATFORM=darwin`);
  console.log(`export DEFROUTE_LIBSYSTEM=${library}`);
  console.log(`export DEFROUTE_SIM_SOCKET=${server.socketPath}`);
  console.log(`export DEFROUTE_SCUTIL=${SCUTIL_STANDIN}`);
  console.log(`deno task defroute status\n\nCtrl-C stops the simulator.`);
}

await Promise.race([server.stopped, signalled]);
await server.close();
kernel.close();
try {
  Deno.removeSync(server.socketPath);
} catch {
  // gone already
}
Deno.exit(0);
