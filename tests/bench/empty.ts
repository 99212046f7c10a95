// An empty program: `deno run <DENO_RUN_FLAGS> tests/bench/empty.ts` is the runtime's floor
// that hook_bench.ts compares `defroute save` and `defroute restore` against.
export {};
