/**
 * Runs `deno` as an unprivileged user (nobody, uid 65534) for tests of what a normal user sees:
 * the demo without root, the simulated Mac's own answer to a change. Needs root (to drop to
 * nobody with setpriv(1)); tests skip with `unprivilegedUnavailableReason()` otherwise.
 *
 * nobody gets a directory of its own (`prepareNobody`) with a DENO_DIR holding a copy of the npm
 * packages this process has cached (ipaddr.js, which the simulated kernel uses), so the child
 * downloads nothing, and a link to (or copy of) this deno binary, which may live where nobody
 * cannot reach it (npx's cache under /root).
 */
import { join } from "node:path";

export const NOBODY = 65534;
const SETPRIV = "/usr/bin/setpriv";

/** Why tests cannot run a process as nobody here, or null when they can. */
export function unprivilegedUnavailableReason(): string | null {
  if (Deno.build.os !== "linux") return `setpriv is Linux's, not ${Deno.build.os}'s`;
  if (Deno.uid() !== 0) return "not root (needed to drop to uid 65534)";
  try {
    Deno.statSync(SETPRIV);
  } catch {
    return `${SETPRIV} is missing (util-linux)`;
  }
  return null;
}

async function denoDir_(): Promise<string> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json"],
    stdout: "piped",
    stderr: "null",
  }).output();
  return (JSON.parse(new TextDecoder().decode(output.stdout)) as { denoDir: string }).denoDir;
}

/** What nobody runs with; `remove()` when done. */
export interface NobodyHome {
  /** nobody's DENO_DIR. */
  denoDir: string;
  /** A deno binary nobody can execute (it spawns Deno.execPath(), so this one). */
  deno: string;
  remove(): Promise<void>;
}

/** A directory for nobody: its DENO_DIR with this user's cached npm packages, and deno. */
export async function prepareNobody(): Promise<NobodyHome> {
  const dir = await Deno.makeTempDir({ prefix: "defroute-nobody-" });
  await Deno.chmod(dir, 0o755);
  const denoDir = join(dir, "deno_dir");
  await Deno.mkdir(denoDir);
  const copy = await new Deno.Command("/bin/cp", {
    args: ["-a", join(await denoDir_(), "npm"), join(denoDir, "npm")],
    stdout: "null",
    stderr: "null",
  }).output();
  if (!copy.success) await Deno.mkdir(join(denoDir, "npm"));
  const deno = join(dir, "deno");
  try {
    await Deno.link(Deno.execPath(), deno);
  } catch {
    await Deno.copyFile(Deno.execPath(), deno);
    await Deno.chmod(deno, 0o755);
  }
  await new Deno.Command("/bin/chown", { args: ["-R", `${NOBODY}:${NOBODY}`, denoDir] }).output();
  return { denoDir, deno, remove: () => Deno.remove(dir, { recursive: true }) };
}

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** `deno ARGS` as nobody, from `home` (prepareNobody), with `env` added. */
export async function denoAsNobody(
  args: string[],
  home: NobodyHome,
  options: { env?: Record<string, string>; cwd?: string } = {},
): Promise<Captured> {
  const output = await new Deno.Command(SETPRIV, {
    args: [
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      "--clear-groups",
      "--",
      home.deno,
      ...args,
    ],
    env: { ...options.env, DENO_DIR: home.denoDir, HOME: home.denoDir, NO_COLOR: "1" },
    cwd: options.cwd ?? "/",
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, stdout: text(output.stdout), stderr: text(output.stderr) };
}
