/**
 * `restore --tunnel-gone IFNAME`: wait (bounded) for a tunnel that is going down to go away.
 *
 * wg-quick's `cmd_down` on macOS only removes wireguard-go's socket file (`del_if`) and then runs
 * PostDown at once (wireguard-tools src/wg-quick/darwin.bash, cmd_down); wireguard-go notices
 * and exits a moment later, and only then does the kernel destroy the utun and the routes on it.
 * A plain `restore` in PostDown still sees a live tunnel holding the default and leaves it alone.
 * Told which tunnel is going, restore waits until that interface is gone (or down), and then
 * treats a default still on it as the tunnel's leftover (restore_plan.ts replaceTunnelDefaults).
 */
import type { RouteTable } from "../model/route_table.ts";
import { isLiveInterface, isTunnel } from "./liveness.ts";
import { UsageError } from "../model/errors.ts";

/** How long restore waits for the tunnel unless told otherwise. */
export const DEFAULT_TUNNEL_WAIT_MS = 10_000;
/** The longest wait --tunnel-wait accepts: a hook must never hold its VPN tool for long. */
export const MAX_TUNNEL_WAIT_MS = 60_000;
const POLL_MS = 50;

/** An interface name as the kernels allow it: 1-15 bytes (IFNAMSIZ 16 with the NUL), no '/',
 * no blanks; letters, digits and `._-` cover utun, wg, tun, ppp, ipsec names. */
const IFNAME = /^[A-Za-z0-9._-]{1,15}$/;

/** Returns the name, or throws UsageError saying what is allowed. */
export function validateTunnelName(name: string): string {
  if (!IFNAME.test(name) || name === "." || name === "..") {
    throw new UsageError(
      `--tunnel-gone takes an interface name (1-15 letters, digits, '.', '_', '-'), ` +
        `not "${name.replace(/[^\x20-\x7e]/g, "?")}"`,
    );
  }
  return name;
}

export type TunnelWait =
  /** The interface was not there (or was down) from the start. */
  | { state: "absent"; waitedMs: 0 }
  /** It went away, or went down, within the bound. */
  | { state: "gone"; waitedMs: number }
  /** Still there and up when the bound ran out. */
  | { state: "still-up"; waitedMs: number };

export interface TunnelWaitOptions {
  timeoutMs: number;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls the interface list every 50 ms until `name` is absent or down, for at most
 * `timeoutMs`. Throws UsageError when `name` is an interface that is not a tunnel (en0 by
 * mistake would only make restore wait for nothing). Nothing here changes the table.
 */
export async function waitForTunnelGone(
  table: Pick<RouteTable, "interfaces">,
  name: string,
  options: TunnelWaitOptions,
): Promise<TunnelWait> {
  const sleep = options.sleep ?? defaultSleep;
  const now = options.now ?? (() => performance.now());
  const started = now();
  for (let first = true;; first = false) {
    const iface = (await table.interfaces()).find((i) => i.name === name);
    if (iface && !isTunnel(iface)) {
      throw new UsageError(
        `--tunnel-gone ${name}: ${name} is not a tunnel interface (utun, wg, tun, ppp, ipsec ...)`,
      );
    }
    const waited = Math.round(now() - started);
    if (!iface || !isLiveInterface(iface)) {
      return first ? { state: "absent", waitedMs: 0 } : { state: "gone", waitedMs: waited };
    }
    if (waited >= options.timeoutMs) return { state: "still-up", waitedMs: waited };
    await sleep(Math.min(POLL_MS, options.timeoutMs - waited));
  }
}
