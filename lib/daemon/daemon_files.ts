/**
 * The files `hook install` and `hook uninstall` handle: the daemon's binary (it must exist, be
 * executable, and be replaceable by root alone), the plist and the newsyslog entry (written
 * whole through a temporary file and a rename, root:wheel 0644, and put back byte for byte when
 * an install fails).
 */
import { CliError, ExitCode } from "../core/model/errors.ts";
import {
  defaultTrustedGids,
  PathTrustError,
  resolveTrustedPath,
} from "../core/trust/path_trust.ts";
import { dirname } from "../util/posix_path.ts";

/** The binary the plist names must exist and be executable, or launchd would respawn a failure. */
export async function checkBinary(binary: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(binary);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(ExitCode.FAILURE, `binary ${binary} does not exist`);
    }
    throw error;
  }
  if (!info.isFile) throw new CliError(ExitCode.FAILURE, `binary ${binary} is not a file`);
  if (info.mode !== null && (info.mode & 0o111) === 0) {
    throw new CliError(ExitCode.FAILURE, `binary ${binary} is not executable`);
  }
}

/**
 * Why someone but root could replace `binary` (the file, a directory or a symbolic link on its
 * path, from `/` down: lib/core/trust/path_trust.ts), or null. A root daemon running such a binary
 * hands root to that someone at its next start: Homebrew's prefix is the user's own
 * (/opt/homebrew; Intel Homebrew owns /usr/local/bin). Judged for root whoever runs `hook`,
 * since launchd runs the daemon as root.
 */
export function binaryTrustProblem(
  binary: string,
  os: string = Deno.build.os,
): string | null {
  try {
    resolveTrustedPath(binary, { ownerUid: 0, trustedGids: defaultTrustedGids(os) });
    return null;
  } catch (error) {
    if (error instanceof PathTrustError) return error.message;
    throw error;
  }
}

export async function checkDirectory(path: string, what: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(ExitCode.FAILURE, `${what} ${path} does not exist`);
    }
    throw error;
  }
  if (!info.isDirectory) throw new CliError(ExitCode.FAILURE, `${what} ${path} is not a directory`);
}

/** The file's bytes, or null when there is none. */
export async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return await Deno.readFile(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw error;
  }
}

/** Write via a temporary file and rename, so launchd or newsyslog never see half a file;
 * 0644, and root:wheel when running as root (wheel is gid 0 on macOS). */
export async function writeSystemFile(
  path: string,
  content: string | Uint8Array,
  asRoot: boolean,
): Promise<void> {
  await Deno.mkdir(dirname(path), { recursive: true, mode: 0o755 });
  const temporary = `${path}.tmp-${Deno.pid}`;
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  try {
    await Deno.writeFile(temporary, bytes, { mode: 0o644, createNew: true });
    await Deno.chmod(temporary, 0o644); // the umask may have taken bits off
    if (asRoot) await Deno.chown(temporary, 0, 0);
    await Deno.rename(temporary, path);
  } catch (error) {
    await removeQuietly(temporary);
    throw error;
  }
}

export async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // Best effort: the error that brought us here is the one to report.
  }
}
