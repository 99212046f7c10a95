// Keeps the bench scripts from rotting: `deno task bench --quick --trace` (scripts/bench.ts, every
// bench with a few iterations) must run to the end and print each figure line with a positive
// number, and the two latency benches their "where the time goes" marks.
// No timing is asserted: the figures are for people (docs/performance.md), not for CI.
// Needs root, iproute2 and /dev/net/tun (the namespace benches); skips with the reason elsewhere.
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { namespaceSupport, ROOT } from "../linux/netns.ts";

const support = namespaceSupport();
if (!support.ok) console.log(`skipping the bench smoke test: ${support.reason}`);

/** Every figure the benches print: key and unit. */
const FIGURES: [string, string][] = [
  ["restore.run.median", "ms"],
  ["restore.run.p99", "ms"],
  ["restore.shell.median", "ms"],
  ["restore.speedup", "x"],
  ["footprint.run.vmrss.median", "MB"],
  ["footprint.run.vmhwm.max", "MB"],
  ["footprint.idle_deno.vmrss", "MB"],
  ["heal.median", "ms"],
  ["heal.p99", "ms"],
  ["hook.floor.wall.median", "ms"],
  ["hook.save.wall.median", "ms"],
  ["hook.restore.wall.median", "ms"],
  ["hook.bare.save.wall.median", "ms"],
  ["hook.bare.restore.wall.median", "ms"],
  ["hook.shell.restore.wall.median", "ms"],
  ["hook.save.maxrss", "MB"],
  ["hook.restore.maxrss", "MB"],
  ["codec.decode_one_rtm_get_reply.rate", "msgs/s"],
  ["codec.decodemessages_10k_route_dump.rate", "msgs/s"],
  ["codec.decode.worst_rate", "msgs/s"],
  // --quick sizes the table 2 and 10,000 routes.
  ["table.restore.10000.median", "ms"],
  ["table.status.10000.median", "ms"],
  ["table.run.10000.median", "ms"],
  ["table.heal.10000.median", "ms"],
  ["table.run.vmhwm.10000.max", "MB"],
  ["table.watch.vmhwm.10000.max", "MB"],
  ["table.darwin.find_defaults.10000.median", "ms"],
];

/** The number on a figure line `  KEY  NUMBER UNIT ...`, or null when the line is missing. */
export function figureValue(output: string, key: string, unit: string): number | null {
  const escaped = key.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const unitEscaped = unit.replace(/[/]/g, "\\/");
  const match = output.match(
    new RegExp(`^\\s+${escaped}\\s+(\\d+(?:\\.\\d+)?)\\s+${unitEscaped}\\b`, "m"),
  );
  return match ? Number(match[1]) : null;
}

Deno.test({
  name: "bench: `deno task bench --quick --trace` prints every figure and the trace marks",
  ignore: !support.ok,
  fn: async () => {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", `${ROOT}scripts/bench.ts`, "--quick", "--trace"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(output.stdout);
    const stderr = new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 0, `bench failed:\n${stdout}\n${stderr}`);
    assert(/^machine: \d+ CPUs/m.test(stdout), `no machine line:\n${stdout}`);
    for (const [key, unit] of FIGURES) {
      const value = figureValue(stdout, key, unit);
      assert(value !== null && value > 0, `no figure ${key} (${unit}) in:\n${stdout}`);
    }
    // --trace: the restore's marks start at CMD's exit; the heal's include the loop's repair.
    assertMatch(stdout, /after the tunnel's exit, by trace mark\):\n\s+[\d.]+\s+exit \(\d+\)/);
    assertMatch(stdout, /after the kernel's deletion event, by trace mark\):/);
    assertMatch(stdout, /^\s+[\d.]+\s+loop: repairing \(\d+\)$/m);
    // The check itself can fail: a figure nobody prints is not found.
    assertEquals(figureValue(stdout, "restore.run.median", "MB"), null);
  },
});
