/** Where the state file lives unless --state says otherwise. */
import { UsageError } from "../model/errors.ts";
import { isAbsolute, resolve } from "../../util/posix_path.ts";

/** Boot-scoped like vpnc-script's /var/run/vpnc files: a stale gateway must not survive a reboot. */
export const DEFAULT_STATE_PATH = "/var/run/defroute/state.json";

/**
 * The state file a command uses: `--state` (`given`), else DEFROUTE_STATE, else the default. A
 * relative path is a usage error showing the absolute path it would have meant: resolved against
 * the working directory of a root process (a hook's, a launchd job's), it would name a file
 * nobody chose.
 */
export function statePathOf(
  given: string | undefined,
  env: string | undefined = Deno.env.get("DEFROUTE_STATE"),
  cwd: () => string = () => Deno.cwd(),
): string {
  const path = given ?? (env || DEFAULT_STATE_PATH);
  if (isAbsolute(path)) return path;
  const [name, form] = given !== undefined
    ? ["--state", (p: string) => `--state ${p}`]
    : ["DEFROUTE_STATE", (p: string) => `DEFROUTE_STATE=${p}`];
  if (path === "") throw new UsageError(`${name} is empty; give the state file's absolute path`);
  throw new UsageError(
    `${name} must be an absolute path, not the relative "${path}" (from this directory: ` +
      `${form(resolve(cwd(), path))})`,
  );
}
