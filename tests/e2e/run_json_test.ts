/**
 * `defroute run --json` (issue 14 item 6): stdout is CMD's, so defroute's own words go to stderr,
 * and with --json every one of those lines is one JSON object: the route log, the announcement
 * of the restore, CMD's exit, the restored default. (It once mixed text into them: the exit
 * line, `[#] ...`, "restored".) Run on the simulated Mac around the sing-tun #80 replay.
 */
import { assert, assertEquals } from "../assert.ts";
import { join } from "node:path";
import { standinUnavailableReason, startSimulator, utun } from "../harness/sim.ts";
import { HARNESS_DIR } from "../harness/standin.ts";
import { defrouteArgv, DENO, spawnProc } from "./run_watch_lib.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping run --json on the simulated Mac: ${skip}`);

Deno.test({
  name: "run --json: every stderr line is one JSON object (route log, announce, exit, restore)",
  ignore: skip !== null,
  async fn() {
    await using sim = await startSimulator();
    await sim.addInterface(utun("utun4", 10));
    const singtun = join(HARNESS_DIR, "singtun.ts");
    const [program, argv] = defrouteArgv([
      "run",
      "--family",
      "4",
      "--json",
      "--",
      DENO,
      "run",
      "--allow-all",
      "--quiet",
      singtun,
      "--interface",
      "utun4",
    ]);
    const p = spawnProc(program, argv, { env: sim.env });
    const ready = await p.next((v) => v.ready === true);
    await p.stderrMatch(/"event":"route","action":"delete"/);
    await p.closeStdin(); // sing-tun stops
    assertEquals(await p.exit(), 0, p.stderr());

    const lines = p.stderr().split("\n").filter((line) => line !== "");
    const objects = lines.map((line) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new Error(`a stderr line is not JSON: ${line}`);
      }
      assert(value !== null && typeof value === "object" && !Array.isArray(value), line);
      return value as Record<string, unknown>;
    });
    const messages = objects.map((o) => `${o.level ?? o.event}: ${o.message ?? o.action}`);
    // The route log: sing-tun's delete of the global default, with its pid.
    assert(
      objects.some((o) => o.event === "route" && o.action === "delete" && o.pid === ready.pid),
      messages.join("\n"),
    );
    // The announcement, CMD's exit and the restore.
    assert(
      objects.some((o) =>
        o.level === "announce" && /route add default 192\.168\.1\.1/.test(
          String(o.message),
        )
      ),
      messages.join("\n"),
    );
    assert(
      objects.some((o) => o.level === "info" && /exited with status 0/.test(String(o.message))),
      messages.join("\n"),
    );
    assert(
      objects.some((o) => o.level === "info" && /IPv4 default restored/.test(String(o.message))),
      messages.join("\n"),
    );
    for (const o of objects) assert(typeof o.time === "string", JSON.stringify(o));
    // stdout stays CMD's, with defroute's one result object at the end.
    const result = p.seen.find((v) => "exitStatus" in v);
    assertEquals([result?.exitStatus, result?.ok], [0, true]);
    assertEquals((await sim.defaults(4)).filter((r) => !r.scoped).length, 1);
  },
});
