/**
 * Environment overrides that swap a system program or library for another file:
 * DEFROUTE_LIBSYSTEM (the library dlopen'ed), DEFROUTE_SCUTIL and DEFROUTE_LAUNCHCTL (programs
 * run). They exist so the tests can run the real darwin code against stand-ins, but in a root
 * process they would run whatever file they name with root's rights. So the path must be
 * absolute, and when running as root every component of it, from `/` down, must be root's and
 * writable by no one else (lib/core/trust/path_trust.ts, the same check as the state file's): no user
 * can then swap the file, a directory or a symbolic link on the way between the check and the
 * use. The caller uses the path returned, with every link resolved. `sudo` resets the
 * environment by default, so in practice only root's own environment (a test run, a launchd
 * plist) sets them.
 */
import { isAbsolute } from "../../util/posix_path.ts";
import { CliError, ExitCode } from "../model/errors.ts";
import { fileTypeName, PathTrustError, resolveTrustedPath } from "./path_trust.ts";

/** Who must own an override (root's uid when running as root; null = no check). */
export type OverrideOwner = number | null;

function defaultOwner(): OverrideOwner {
  return Deno.uid() === 0 ? 0 : null;
}

/**
 * Throws CliError when `path` (named by `variable`) is not absolute, not a regular file, or may
 * be changed by someone but `owner`; returns the path with every symbolic link resolved.
 */
export function checkOverrideTrusted(
  variable: string,
  path: string,
  owner: OverrideOwner = defaultOwner(),
): string {
  if (!isAbsolute(path)) {
    throw new CliError(ExitCode.FAILURE, `${variable} must be an absolute path, not "${path}"`);
  }
  let resolved: string;
  let info: Deno.FileInfo | null;
  try {
    ({ resolved, info } = resolveTrustedPath(path, { ownerUid: owner }));
  } catch (error) {
    if (!(error instanceof PathTrustError)) throw error;
    if (error.kind !== "untrusted") {
      throw new CliError(ExitCode.FAILURE, `${variable}: cannot use ${path}: ${error.message}`);
    }
    throw new CliError(
      ExitCode.FAILURE,
      `refusing ${variable}=${path}: ${error.message}; every directory and link on its path, ` +
        `and the file, must be owned by root and writable by no one else, since root would run it`,
    );
  }
  if (info === null) {
    throw new CliError(ExitCode.FAILURE, `${variable}: cannot use ${path}: it does not exist`);
  }
  if (!info.isFile) {
    throw new CliError(
      ExitCode.FAILURE,
      `${variable}: cannot use ${path}: it is ${fileTypeName(info)}, not a regular file`,
    );
  }
  return resolved;
}

/** The value of `variable` if set (checked, links resolved), else `systemPath`. */
export function overridePath(variable: string, systemPath: string): string {
  const value = Deno.env.get(variable);
  if (!value) return systemPath;
  return checkOverrideTrusted(variable, value);
}

/**
 * The simulated Mac's socket when defroute is pointed at one (tests/harness, `deno task
 * simulator`): DEFROUTE_LIBSYSTEM names a stand-in libSystem and DEFROUTE_SIM_SOCKET the socket
 * of the simulated kernel it talks to. null on a real machine. Errors and privileges are then
 * the simulator's business, not this machine's (lib/system.ts changesAllowed,
 * lib/darwin/route_table.ts).
 */
export function simulatorSocket(
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
): string | null {
  const socket = env("DEFROUTE_SIM_SOCKET");
  return env("DEFROUTE_LIBSYSTEM") && socket ? socket : null;
}
