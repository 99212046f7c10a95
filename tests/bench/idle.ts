// An idle program that waits for stdin to close: the resident-memory floor of a Deno process
// with defroute's permissions, next to which restore_bench.ts reports the `run` wrapper's.
const buffer = new Uint8Array(64);
while ((await Deno.stdin.read(buffer)) !== null) {
  // ignore input
}
