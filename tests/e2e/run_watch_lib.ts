/**
 * Helpers for the `run`/`watch` end-to-end tests (run_watch_linux_test.ts on the real kernel in
 * network namespaces, run_watch_darwin_test.ts on the simulated Mac through the real FFI path):
 * start the real CLI as a process with the permission set users get, read its stdout as JSON
 * lines and keep its stderr for the log assertions.
 */
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";
import { assertEquals } from "../assert.ts";
import type { Proc } from "../json_process.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;
/** The CLI under test: main.ts, or the shipped bundle's main.js when tests/linux/bundle_e2e_test.ts
 * runs these tests again against it (DEFROUTE_E2E_ENTRY). */
export const MAIN = Deno.env.get("DEFROUTE_E2E_ENTRY") ?? `${ROOT}main.ts`;
if (Deno.env.get("DEFROUTE_E2E_ENTRY")) console.log(`run/watch e2e entry: ${MAIN}`);
export const DENO = Deno.execPath();

/** argv for `deno run <DENO_RUN_FLAGS> main.ts ARGS...`. */
export function defrouteArgv(args: string[]): [string, string[]] {
  return [DENO, ["run", "--quiet", ...DENO_RUN_FLAGS, MAIN, ...args]];
}

export { type Proc, spawnProc } from "../json_process.ts";

/** Poll `check` every 20 ms; fail with `what` after `ms` (a hang guard, not a timing test). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 20_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never happened: ${what}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** `watch --heal --json --family 4 --state STATE EXTRA...`, started by `spawn` (in a lab or
 * against the simulated Mac), once it says it is subscribed. */
export async function startHealer(
  spawn: (args: string[]) => Proc,
  state: string,
  extra: string[],
): Promise<Proc> {
  const w = spawn(["watch", "--heal", "--json", "--family", "4", "--state", state, ...extra]);
  await w.next((v) => v.event === "ready");
  return w;
}

/** Stop a watch (it runs until SIGINT or SIGTERM); it must exit 0. */
export async function stopWatch(w: Proc, signal: "SIGINT" | "SIGTERM"): Promise<void> {
  w.kill(signal);
  assertEquals(await w.exit(), 0, `watch exits cleanly on ${signal}; stderr:\n${w.stderr()}`);
}
