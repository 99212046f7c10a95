/**
 * Phase marks for the latency benchmarks: where the time between CMD's exit and the restored
 * default goes (tests/bench/restore_bench.ts --trace), and between a deletion and its repair
 * under `watch --heal` (tests/bench/heal_bench.ts --trace).
 *
 * Off unless DEFROUTE_TRACE=1. A mark is a name and performance.now(), kept in memory and
 * printed to stderr only when the process ends, one JSON line each:
 *   {"trace":"exit","at":1764115200123456}     (microseconds since the epoch, like ip -ts)
 * Writing each mark as it happens would cost ~50-80 µs of console I/O per mark on the very path
 * being measured; an array push costs nothing worth measuring. Off, a mark is one comparison.
 */
const enabled = readEnabled();
/** Whether marks are kept: call sites that build a mark's name test it first. */
export const TRACING: boolean = enabled;
const marks: [string, number][] = [];

function readEnabled(): boolean {
  try {
    return Deno.env.get("DEFROUTE_TRACE") === "1";
  } catch {
    return false; // no --allow-env: no tracing
  }
}

export function trace(mark: string): void {
  if (enabled) marks.push([mark, performance.now()]);
}

/** The marks so far as the JSON lines printed at exit (for tests). */
export function traceLines(): string[] {
  return marks.map(([mark, at]) =>
    JSON.stringify({ trace: mark, at: Math.round((performance.timeOrigin + at) * 1000) })
  );
}

if (enabled) {
  // "unload" fires on Deno.exit() and on a normal end of the program.
  globalThis.addEventListener("unload", () => {
    const text = traceLines().join("\n");
    const bytes = new TextEncoder().encode(text + "\n");
    for (let done = 0; text && done < bytes.length;) {
      done += Deno.stderr.writeSync(bytes.subarray(done));
    }
  });
}
