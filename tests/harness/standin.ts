/**
 * Builds the stand-in libSystem (libsystem_standin.c) with the machine's `cc` into .build/
 * (gitignored), rebuilding when the source is newer than the library.
 *
 * As root, defroute loads DEFROUTE_LIBSYSTEM and runs DEFROUTE_SCUTIL only from a path root alone
 * can change, every directory from `/` down (lib/core/trust/override_path.ts). A checkout owned by
 * another user (a CI runner's home, run with sudo) is not such a path: there the stand-ins are
 * staged in a root-owned directory under the system's temp directory instead, one per checkout.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolveTrustedPath } from "../../lib/core/trust/path_trust.ts";

export const HARNESS_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_DIR = join(HARNESS_DIR, "..", "..");
export const STANDIN_SOURCE = join(HARNESS_DIR, "libsystem_standin.c");

/** Whether root may run `path` where it is (null: not root, anything goes). */
function rootMayRun(path: string): boolean {
  if (Deno.uid() !== 0) return true;
  try {
    resolveTrustedPath(path, { ownerUid: 0 });
    return true;
  } catch {
    return false;
  }
}

/** A root-owned 0755 directory for this checkout's stand-ins, made once. */
function stagingDir(): string {
  const id = [...REPO_DIR].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7).toString(16);
  const dir = join(Deno.env.get("TMPDIR") || "/tmp", `defroute-standin-${id}`);
  Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
  const info = Deno.lstatSync(dir);
  if (!info.isDirectory || info.uid !== 0 || ((info.mode ?? 0o777) & 0o022) !== 0) {
    throw new Error(`${dir} is not root's own 0755 directory: remove it and run the tests again`);
  }
  return dir;
}

const STAGED = rootMayRun(join(HARNESS_DIR, "scutil")) ? null : stagingDir();

export const STANDIN_LIBRARY = join(STAGED ?? join(REPO_DIR, ".build"), "libsystem_standin.so");

/** The stand-in scutil: the repository's, or its copy in the staging directory. */
export const SCUTIL_STANDIN = STAGED ? stageScutil(STAGED) : join(HARNESS_DIR, "scutil");

function stageScutil(dir: string): string {
  const copy = join(dir, "scutil");
  const temporary = `${copy}.${Deno.pid}.tmp`;
  Deno.copyFileSync(join(HARNESS_DIR, "scutil"), temporary);
  Deno.chmodSync(temporary, 0o755);
  Deno.renameSync(temporary, copy);
  return copy;
}

/** The C compiler to use, or null (tests then skip with this reason). */
export function findCompiler(): string | null {
  for (const cc of [Deno.env.get("CC"), "/usr/bin/cc", "/usr/bin/gcc", "/usr/bin/clang"]) {
    if (!cc) continue;
    try {
      if (Deno.statSync(cc).isFile) return cc;
    } catch {
      // try the next one
    }
  }
  return null;
}

/** Why the FFI harness cannot run here, or null when it can (Linux with a C compiler). */
export function standinUnavailableReason(): string | null {
  if (Deno.build.os !== "linux") {
    return `the stand-in libSystem is built for Linux, not ${Deno.build.os}`;
  }
  if (!findCompiler()) return "no C compiler (cc) to build tests/harness/libsystem_standin.c";
  return null;
}

function mtime(path: string): number | null {
  try {
    return Deno.statSync(path).mtime?.getTime() ?? null;
  } catch {
    return null;
  }
}

/** The path of an up-to-date stand-in library, compiling it if needed. */
export async function buildStandin(): Promise<string> {
  const built = mtime(STANDIN_LIBRARY);
  const source = mtime(STANDIN_SOURCE);
  if (built !== null && source !== null && built >= source) return STANDIN_LIBRARY;
  const cc = findCompiler();
  if (!cc) throw new Error("no C compiler to build the stand-in libSystem");
  await Deno.mkdir(dirname(STANDIN_LIBRARY), { recursive: true });
  // Build to a private name and rename, so parallel test processes never load a half-written file.
  const temporary = `${STANDIN_LIBRARY}.${Deno.pid}.tmp`;
  const { code, stderr } = await new Deno.Command(cc, {
    args: [
      "-shared",
      "-fPIC",
      "-O2",
      "-Wall",
      "-Wextra",
      "-fvisibility=hidden",
      "-o",
      temporary,
      STANDIN_SOURCE,
      "-ldl",
      "-lpthread",
    ],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(
      `cc failed building the stand-in libSystem:\n${new TextDecoder().decode(stderr)}`,
    );
  }
  await Deno.rename(temporary, STANDIN_LIBRARY);
  return STANDIN_LIBRARY;
}

/** The variables simulatorEnv sets. */
export interface SimulatorEnv extends Record<string, string> {
  DEFROUTE_PLATFORM: string;
  DEFROUTE_LIBSYSTEM: string;
  DEFROUTE_SIM_SOCKET: string;
  DEFROUTE_SCUTIL: string;
  DEFROUTE_STATE: string;
}

/**
 * The environment that points defroute at a simulated Mac (printed by `deno task simulator`,
 * `sim.env` in tests): the darwin backend, the stand-in libSystem connected to the simulator's
 * socket, the stand-in scutil, and a state file inside the simulator's own directory, so a `save`
 * against the simulated Mac never writes the host's /var/run/defroute/state.json.
 */
export function simulatorEnv(library: string, socketPath: string, dir: string): SimulatorEnv {
  return {
    DEFROUTE_PLATFORM: "darwin",
    DEFROUTE_LIBSYSTEM: library,
    DEFROUTE_SIM_SOCKET: socketPath,
    DEFROUTE_SCUTIL: SCUTIL_STANDIN,
    DEFROUTE_STATE: join(dir, "state.json"),
  };
}
