// An empty program: `deno run <RUN_PERMISSIONS> tests/bench/empty.ts` is the runtime's floor
// that hook_bench.ts compares `defroute save` and `defroute restore` against.
export {};
