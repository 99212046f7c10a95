/**
 * sing-tun issue #80, reproduced on the simulated Mac: tests/harness/singtun.ts runs as its own
 * process through the real FFI code and the stand-in libSystem, and a darwin RouteTable monitor
 * in this process watches it delete the global default with its pid. After it stops, the global
 * default is gone: the bug defroute exists for.
 */
import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import type { RouteEvent } from "../../lib/core/model/types.ts";
import { type DarwinRouteTable, openDarwinRouteTable } from "../../lib/darwin/route_table.ts";
import { standinUnavailableReason, startSimulator, utun } from "../harness/sim.ts";
import { HARNESS_DIR } from "../harness/standin.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping sing-tun #80 replay: ${skip}`);

const RTM_ADD = 1;
const RTM_DELETE = 2;

/** Reads JSON lines from the child until `until` matches one. */
async function readUntil(
  lines: AsyncIterator<string>,
  seen: Record<string, unknown>[],
  until: (line: Record<string, unknown>) => boolean,
): Promise<void> {
  for (;;) {
    const { value, done } = await lines.next();
    if (done) throw new Error(`singtun ended early; printed ${JSON.stringify(seen)}`);
    if (!value.trim()) continue;
    const line = JSON.parse(value) as Record<string, unknown>;
    seen.push(line);
    if (until(line)) return;
  }
}

async function* splitLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffer = "";
  for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    let newline;
    while ((newline = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
    }
  }
  if (buffer) yield buffer;
}

function monitor(table: DarwinRouteTable) {
  const controller = new AbortController();
  const events: RouteEvent[] = [];
  const done = (async () => {
    for await (const event of table.events(controller.signal)) events.push(event);
  })();
  return {
    events,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 250; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never happened: ${what}`);
}

for (const stopBy of ["stdin EOF", "SIGTERM"] as const) {
  Deno.test({
    name: `sing-tun #80 replay (stopped by ${stopBy}) deletes the Mac's global default for good`,
    ignore: skip !== null,
    async fn() {
      await using sim = await startSimulator();
      await sim.addInterface(utun("utun4", 10));
      sim.applyEnv();
      const table = openDarwinRouteTable() as DarwinRouteTable;
      await table.defaults(4); // the request socket
      const watch = monitor(table);
      try {
        await eventually(async () => await sim.sockets() >= 2, "monitor socket connected");
        const view = async () =>
          (await sim.defaults(4)).map((r) =>
            `${r.scoped ? r.interface : "global"} via ${r.gateway}`
          )
            .sort();
        const before = await view();
        assertEquals(before, ["en0 via 192.168.1.1", "global via 192.168.1.1"]);

        const child = new Deno.Command(Deno.execPath(), {
          args: ["run", "--allow-all", join(HARNESS_DIR, "singtun.ts"), "--interface", "utun4"],
          env: sim.env,
          stdin: "piped",
          stdout: "piped",
          stderr: "inherit",
        }).spawn();
        const lines = splitLines(child.stdout);
        const printed: Record<string, unknown>[] = [];
        await readUntil(lines, printed, (l) => l.ready === true);
        assertEquals(printed.slice(0, 3), [
          { step: "add", errno: "EEXIST" },
          { step: "delete", errno: null },
          { step: "add-scoped", errno: null },
        ]);

        // During: the global default is gone, the tunnel's scoped default sits beside en0's.
        const during = await view();
        assertEquals(during, ["en0 via 192.168.1.1", "utun4 via 198.18.0.1"]);

        // The monitor saw who did it, as `route -n monitor` did in the evidence.
        await eventually(
          () => watch.events.some((e) => e.kind === "route" && e.action === "delete"),
          "delete event",
        );
        const byChild = watch.events.filter((e) => e.kind === "route" && e.pid === child.pid);
        const summary = byChild.map((e) =>
          e.kind === "route"
            ? `${e.action} ${e.route.scoped ? "scoped" : "global"} ${e.error ?? "ok"}`
            : ""
        );
        assertEquals(summary, ["add global EEXIST", "delete global ok", "add scoped ok"]);
        const deleted = byChild[1];
        assert(deleted?.kind === "route" && deleted.route.gateway === "192.168.1.1");

        if (stopBy === "stdin EOF") await child.stdin.close();
        else {
          await child.stdin.close().catch(() => {});
          child.kill("SIGTERM");
        }
        await readUntil(lines, printed, (l) => l.step === "stopped");
        for await (const _ of lines) { /* drain */ }
        const status = await child.status;
        assertEquals(status.code, 0);
        assertEquals(printed.find((l) => l.step === "cleanup"), { step: "cleanup", errno: null });

        // After: only its own scoped route was removed. The global default never came back.
        const after = await view();
        assertEquals(after, ["en0 via 192.168.1.1"]);
        const log = await sim.log();
        assertEquals(
          log.filter((e) => e.pid === child.pid).map((e) => [e.type, e.errno]),
          [[RTM_ADD, 17], [RTM_DELETE, 0], [RTM_ADD, 0], [RTM_DELETE, 0]],
        );
      } finally {
        await watch.stop();
        table.close();
      }
    },
  });
}
