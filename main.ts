#!/usr/bin/env -S deno run --allow-ffi --allow-run --allow-read --allow-write --allow-env --allow-sys --no-prompt --v8-flags=--no-lazy --unstable-lazy-dynamic-imports
/**
 * defroute: keep the default route alive around VPNs and tunnels.
 * Thin entry point: everything lives in lib/cli/main.ts so tests can call it in-process.
 */
import { main } from "./lib/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
