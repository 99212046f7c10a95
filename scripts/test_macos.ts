/**
 * `deno task test:macos`: the real-Mac tier (tests/macos/), on the real kernel, libSystem and
 * scutil.
 *
 * 1. As the invoking user: every test of the tier; the root-only ones skip, saying why.
 * 2. On macOS, unless already root: the tier again as root through sudo (it asks for a password
 *    on a Mac, not on a CI runner), where the feth cases run too. sudo gets `env -i` with a
 *    minimal environment, so nothing but the tier's own opt-in (DEFROUTE_MAC_DESTRUCTIVE=1)
 *    reaches it, and root's own HOME, so Deno's cache under it stays root's.
 *
 * Elsewhere it runs step 1 only, where the tier skips with its reason. Exit status: the first
 * failing step's. Extra arguments go to `deno test` (`--filter feth`).
 */
import { cleanEnv, DESTRUCTIVE_VARIABLE } from "../tests/macos/mac.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");
const RUN_TESTS = `${ROOT}/scripts/run_tests.ts`;
const TIER = `${ROOT}/tests/macos/`;

/** The `deno run` of scripts/run_tests.ts on the tier (it prints the one-line summary). */
export function tierArgs(extra: string[]): string[] {
  return ["run", "--allow-all", RUN_TESTS, ...extra, TIER];
}

/** The sudo command line of step 2: env -i, a PATH of system directories, root's HOME. */
export function sudoArgs(deno: string, extra: string[], env: Record<string, string>): string[] {
  const keep = env[DESTRUCTIVE_VARIABLE] === "1" ? [`${DESTRUCTIVE_VARIABLE}=1`] : [];
  return [
    "/usr/bin/env",
    "-i",
    "PATH=/usr/bin:/bin:/usr/sbin:/sbin",
    "HOME=/var/root",
    "NO_COLOR=1",
    ...keep,
    deno,
    ...tierArgs(extra),
  ];
}

async function step(program: string, args: string[], env: Record<string, string>) {
  const child = new Deno.Command(program, { args, clearEnv: true, env, cwd: ROOT }).spawn();
  return (await child.status).code;
}

export async function testMacosMain(extra: string[]): Promise<number> {
  const env = cleanEnv();
  console.log(`test:macos: the real-Mac tier as ${Deno.uid() === 0 ? "root" : "this user"}`);
  const first = await step(Deno.execPath(), tierArgs(extra), env);
  if (Deno.build.os !== "darwin" || Deno.uid() === 0) return first;
  console.log("test:macos: the real-Mac tier as root (sudo)");
  const second = await step("/usr/bin/sudo", sudoArgs(Deno.execPath(), extra, env), env);
  return first !== 0 ? first : second;
}

if (import.meta.main) {
  Deno.exit(await testMacosMain(Deno.args));
}
