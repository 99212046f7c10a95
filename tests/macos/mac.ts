/**
 * What every test of the real-Mac tier shares: whether it can run here (and why not), the real
 * system paths it must use, an environment with no test override in it, and a way to run the
 * Mac's own tools (route(8), netstat(1), ifconfig(8), scutil(8)) by absolute path.
 *
 * These tests are the check on the simulator (tests/harness/xnu_kernel.ts), so nothing in this
 * directory may reach a stand-in: the backend is built on /usr/lib/libSystem.B.dylib and
 * /usr/sbin/scutil by explicit path, and child processes get a scrubbed environment (no
 * DEFROUTE_LIBSYSTEM, DEFROUTE_SCUTIL, DEFROUTE_PLATFORM, DEFROUTE_SIM_* ...).
 */
import { LIBSYSTEM_PATH, LibSystemRouteSystem } from "../../lib/darwin/libsystem.ts";
import { DarwinRouteTable } from "../../lib/darwin/route_table.ts";
import { SCUTIL_PATH, ScutilPrimarySource } from "../../lib/darwin/scutil.ts";
import { fileURLToPath } from "node:url";
import type { Family } from "../../lib/core/model/types.ts";
import { parseRouteGet, type RouteGet } from "./tool_output.ts";

export { LIBSYSTEM_PATH, SCUTIL_PATH };
export const ROUTE = "/sbin/route";
export const NETSTAT = "/usr/sbin/netstat";
export const IFCONFIG = "/sbin/ifconfig";
export const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
export const DENO = Deno.execPath();

/** The tier's own opt-in: the tests that delete the machine's default route for a moment. */
export const DESTRUCTIVE_VARIABLE = "DEFROUTE_MAC_DESTRUCTIVE";

/** The environment a child of this tier gets: ours without any DEFROUTE_* variable but the
 * tier's opt-in (those variables swap the kernel, scutil or platform for stand-ins). */
export function cleanEnv(
  env: Record<string, string> = Deno.env.toObject(),
  extra: Record<string, string> = {},
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (key.startsWith("DEFROUTE_") && key !== DESTRUCTIVE_VARIABLE) continue;
    out[key] = value;
  }
  return { ...out, ...extra };
}

/** DEFROUTE_* variables of this process that would swap in a stand-in if they reached defroute. */
export function leakedOverrides(env: Record<string, string> = Deno.env.toObject()): string[] {
  return Object.keys(env).filter((key) => key.startsWith("DEFROUTE_") && !(key in cleanEnv(env)))
    .sort();
}

export interface Support {
  ok: boolean;
  reason: string;
}

/** The whole tier: macOS and its real routing socket. */
export function macSupport(): Support {
  if (Deno.build.os !== "darwin") {
    return {
      ok: false,
      reason: `needs macOS (the real XNU kernel, libSystem and /usr/sbin/scutil); this is ` +
        `${Deno.build.os}, where tests/darwin/ runs the same code on the simulated kernel`,
    };
  }
  return { ok: true, reason: "" };
}

/** The cases that change routes and interfaces (on a feth pair of their own). */
export function rootSupport(): Support {
  const mac = macSupport();
  if (!mac.ok) return mac;
  if (Deno.uid() !== 0) {
    return {
      ok: false,
      reason: "needs root: run `deno task test:macos`, which uses sudo for them",
    };
  }
  return { ok: true, reason: "" };
}

/** The opt-in cases that delete the machine's own default route for a moment. */
export function destructiveSupport(): Support {
  const root = rootSupport();
  if (!root.ok) return root;
  if (Deno.env.get(DESTRUCTIVE_VARIABLE) !== "1") {
    return {
      ok: false,
      reason: `deletes this Mac's default route for a moment: opt in with ` +
        `${DESTRUCTIVE_VARIABLE}=1 deno task test:macos (on a Mac or VM that may lose its ` +
        `internet for a second)`,
    };
  }
  return { ok: true, reason: "" };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const decoder = new TextDecoder();

/** Runs a program by absolute path, no shell, scrubbed environment, C locale. */
export async function run(program: string, args: string[]): Promise<RunResult> {
  if (!program.startsWith("/")) throw new Error(`${program}: not an absolute path`);
  const result = await new Deno.Command(program, {
    args,
    clearEnv: true,
    env: cleanEnv(Deno.env.toObject(), { LC_ALL: "C" }),
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return {
    code: result.code,
    stdout: decoder.decode(result.stdout),
    stderr: decoder.decode(result.stderr),
  };
}

/** Like run(), but a non-zero exit is an error that quotes the command and its stderr. */
export async function runOk(program: string, args: string[]): Promise<string> {
  const result = await run(program, args);
  if (result.code !== 0) {
    throw new Error(
      `${program} ${args.join(" ")} exited ${result.code}: ${result.stderr.trim()}`,
    );
  }
  return result.stdout;
}

/** Calls `read` until `check` passes on its result, at most `tries` times (the table can change
 * between two independent reads: a DHCP renewal, configd); returns the last failure otherwise. */
export async function agreeWithin<T>(
  tries: number,
  read: () => Promise<T>,
  check: (value: T) => void,
): Promise<T> {
  let failure: unknown = null;
  for (let attempt = 0; attempt < tries; attempt++) {
    const value = await read();
    try {
      check(value);
      return value;
    } catch (error) {
      failure = error;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  throw failure;
}

/** defroute's darwin backend on the real libSystem (by path: no DEFROUTE_LIBSYSTEM involved). */
export function openRealBackend(): { system: LibSystemRouteSystem; table: DarwinRouteTable } {
  const system = new LibSystemRouteSystem(LIBSYSTEM_PATH);
  return { system, table: new DarwinRouteTable(system) };
}

/**
 * Closes what openRealBackend() opened and lets the deferred unload of libSystem's symbol groups
 * run (LibSystemRouteSystem.close unloads after its sockets are closed), so no test ends with the
 * library still loaded. Callers close only with no poll(2) pending: every wait here has returned.
 */
export async function closeBackend(closable: { close(): void }): Promise<void> {
  closable.close();
  await new Promise((resolve) => setTimeout(resolve, 0));
}

/** defroute's scutil reader on the real /usr/sbin/scutil (no DEFROUTE_SCUTIL involved). */
export function realScutil(): ScutilPrimarySource {
  return new ScutilPrimarySource({ path: SCUTIL_PATH });
}

/** "fe80::1%en0" -> ["fe80::1", "en0"]; route(8) and netstat print link-local scopes so. */
export function splitZone(text: string): [string, string | null] {
  const percent = text.indexOf("%");
  return percent < 0 ? [text, null] : [text.slice(0, percent), text.slice(percent + 1)];
}

/** route(8) reads `-inet6` and `-ifscope IF` before the destination they apply to. */
export function routeGetArgs(family: Family, scope?: string): string[] {
  const inet6 = family === 6 ? ["-inet6"] : [];
  return ["-n", "get", ...inet6, ...(scope ? ["-ifscope", scope] : []), "default"];
}

/** `route -n get [-inet6] [-ifscope IF] default`, parsed (it exits 0 also for "not in table"). */
export async function routeGet(family: Family, scope?: string): Promise<RouteGet> {
  const args = routeGetArgs(family, scope);
  const result = await run(ROUTE, args);
  if (result.code !== 0) throw new Error(`route ${args.join(" ")}: ${result.stderr.trim()}`);
  return parseRouteGet(result.stdout, result.stderr);
}
