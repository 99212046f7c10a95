/**
 * The simulated Mac as a process: `deno task simulator` (deno.json).
 *
 *   deno task simulator                 # prints the environment that points defroute at it
 *   deno run -A tests/harness/simulator_main.ts --dir DIR [--setup FILE.json] --json
 *
 * It serves an XnuKernel (tests/harness/xnu_kernel.ts) on DIR/sim.sock for the stand-in
 * libSystem, keeps the stand-in scutil's answers under DIR/scutil/, and stops on SIGINT/SIGTERM
 * or a control "stop". With --json it prints one line {"ready":true,...} when listening (the
 * harness waits for it). Without --dir it makes its own directory (which also holds the
 * DEFROUTE_STATE it prints) and removes it when it stops. `deno task sim-ctl` drives it.
 */
import { parseArgs } from "node:util";
import { defaultSetup, type SimSetup, XnuKernel } from "./xnu_kernel.ts";
import { serveKernel } from "./sim_server.ts";
import { buildStandin, simulatorEnv } from "./standin.ts";

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

const ownDir = values.dir === undefined;
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
  for (const [name, value] of Object.entries(simulatorEnv(library, server.socketPath, dir))) {
    console.log(`export ${name}=${value}`);
  }
  console.log(
    "deno task defroute status\ndeno task sim-ctl --help     # add a utun, take en0's link down, ..." +
      "\n\nCtrl-C stops the simulator (and removes " + dir + ").",
  );
}

await Promise.race([server.stopped, signalled]);
await server.close();
kernel.close();
try {
  // Its own directory goes whole (socket, scutil answers, the state file defroute wrote there);
  // a directory it was given belongs to the caller, who removes it.
  Deno.removeSync(ownDir ? dir : server.socketPath, { recursive: ownDir });
} catch {
  // gone already
}
Deno.exit(0);
