/**
 * Environment overrides that swap a system program or library for another file:
 * DEFROUTE_LIBSYSTEM (the library dlopen'ed), DEFROUTE_SCUTIL and DEFROUTE_LAUNCHCTL (programs
 * run). They exist so the tests can run the real darwin code against stand-ins, but in a root
 * process they would run whatever file they name with root's rights. So, like the state file
 * (lib/core/state.ts): the path must be absolute, and when running as root the file and its
 * directory must be owned by root and writable by nobody else. `sudo` resets the environment by
 * default, so in practice only root's own environment (a test run, a launchd plist) sets them.
 */
import { dirname, isAbsolute } from "./posix_path.ts";
import { CliError, ExitCode } from "./errors.ts";

/** Who must own an override (root's uid when running as root; null = no check). */
export type OverrideOwner = number | null;

function defaultOwner(): OverrideOwner {
  return Deno.uid() === 0 ? 0 : null;
}

/** Throws CliError when `path` (named by `variable`) may be written by someone but `owner`. */
export function checkOverrideTrusted(
  variable: string,
  path: string,
  owner: OverrideOwner = defaultOwner(),
): void {
  if (!isAbsolute(path)) {
    throw new CliError(ExitCode.FAILURE, `${variable} must be an absolute path, not "${path}"`);
  }
  if (owner === null) return;
  for (const [what, target] of [["file", path], ["directory", dirname(path)]] as const) {
    let info: Deno.FileInfo;
    try {
      info = Deno.statSync(target);
    } catch (error) {
      const why = error instanceof Deno.errors.NotFound ? "it does not exist" : String(error);
      throw new CliError(ExitCode.FAILURE, `${variable}: cannot use ${target}: ${why}`);
    }
    const mode = info.mode ?? 0o777;
    if (info.uid !== owner || (mode & 0o022) !== 0) {
      throw new CliError(
        ExitCode.FAILURE,
        `refusing ${variable}=${path}: the ${what} ${target} must be owned by root and writable ` +
          `by no one else (owner uid ${info.uid}, mode ${(mode & 0o7777).toString(8)}), since ` +
          `root would run it`,
      );
    }
  }
}

/** The value of `variable` if set (checked), else `systemPath`. */
export function overridePath(variable: string, systemPath: string): string {
  const value = Deno.env.get(variable);
  if (!value) return systemPath;
  checkOverrideTrusted(variable, value);
  return value;
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
