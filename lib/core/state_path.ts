/** Where the state file lives unless --state says otherwise. */

/** Boot-scoped like vpnc-script's /var/run/vpnc files: a stale gateway must not survive a reboot. */
export const DEFAULT_STATE_PATH = "/var/run/defroute/state.json";

export function defaultStatePath(): string {
  return Deno.env.get("DEFROUTE_STATE") || DEFAULT_STATE_PATH;
}
