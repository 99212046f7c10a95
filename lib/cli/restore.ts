/**
 * `defroute restore`: put the default route back (a post-down hook). The policy lives in
 * lib/core/policy/restore_plan.ts and lib/core/ops/restore.ts; this file is options, words and exit codes.
 */
import type { Command, CommandContext } from "./command.ts";
import { CHANGE_OPTIONS, COMMON_OPTIONS } from "./command.ts";
import { COMMON_OPTIONS_HELP, EXIT_CODES_HELP } from "./help.ts";
import { CliError, ExitCode } from "../core/model/errors.ts";
import { restoreDefaults, restoreExitCode, type RestoreReport } from "../core/ops/restore.ts";
import {
  DEFAULT_TUNNEL_WAIT_MS,
  MAX_TUNNEL_WAIT_MS,
  type TunnelWait,
  validateTunnelName,
  waitForTunnelGone,
} from "../core/policy/tunnel_gone.ts";
import { UsageError } from "../core/model/errors.ts";

export const RESTORE_HELP = `Usage: defroute restore [options]

Put the global default route back after a tunnel removed it. For each family the gateway comes
from, in this order of trust:
  1. scutil's current Router and PrimaryInterface, if that interface exists, is up and is not
     a tunnel (utun, ipsec, ppp, tun, wg): this follows a network change during the tunnel;
  2. the saved route (defroute save), if its interface still exists;
  3. nothing: exit 4, saying what was looked at.

If a global default on a live interface is already there, restore does nothing ("present"): it
never fights configd or a VPN that installed its own default. --force replaces it. Every change
is announced on stderr before it is made, in the words of the platform's own tool:
  [#] route add default 192.168.1.1 (en0)             (macOS, route(8))
  [#] route add -inet6 default fe80::1%en0
  [#] ip route add default via 10.77.0.1 dev eth0     (Linux, ip(8))
An "already exists" answer means someone restored it first (checked by reading it back); an
unreachable gateway moves on to the next source; every add is verified by reading the table
back. While an interface settles, restore retries after 0.5 s, 2.5 s and 12.5 s.

Options:
  -f, --force         replace a global default that is present (it is put back if nothing
                      else can be added)
  -n, --dry-run       print the plan; change nothing (no root needed)
  --no-retry          one attempt, no waiting for an interface to settle (for a hook that
                      runs inside a VPN's event loop, e.g. OpenVPN's --down on a restart)
  --tunnel-gone IFNAME
                      the tunnel IFNAME is going down (a post-down hook: wg-quick's
                      PostDown runs before wireguard-go has closed the utun): wait until it
                      is gone or down, then restore; a default still on it is replaced
  --tunnel-wait SECONDS
                      how long --tunnel-gone waits at most (default ${
  DEFAULT_TUNNEL_WAIT_MS / 1000
}, at most ${MAX_TUNNEL_WAIT_MS / 1000})

${COMMON_OPTIONS_HELP}

Examples:
  sudo defroute restore
  PostDown = /usr/local/bin/defroute restore --tunnel-gone %i || true    (wg-quick)
  defroute restore --dry-run
  sudo defroute restore --family 4 --json

${EXIT_CODES_HELP}
  restore exits 4 when a family that had a default (saved, or a broken one in the table)
  cannot get one back, or when no family asked about has any gateway known; a family that
  never had a network (IPv6 on an IPv4-only LAN) is not an error.`;

/** Results on stdout; a family that could not be restored also on stderr (also with --json),
 * so a hook's log shows why. */
function printReport(ctx: CommandContext, report: RestoreReport): void {
  for (const f of report.families) {
    if (f.outcome === "failed" || f.outcome === "no-gateway") ctx.out.warn(f.message);
    else if (!ctx.out.json) ctx.out.print(f.message);
  }
}

/** --tunnel-gone and --tunnel-wait, validated (UsageError, exit 2); null without --tunnel-gone. */
export function tunnelOptionOf(
  values: CommandContext["values"],
): { name: string; timeoutMs: number } | null {
  const name = values["tunnel-gone"];
  const wait = values["tunnel-wait"];
  if (typeof name !== "string") {
    if (wait !== undefined) {
      throw new UsageError("--tunnel-wait only makes sense with --tunnel-gone");
    }
    return null;
  }
  let timeoutMs = DEFAULT_TUNNEL_WAIT_MS;
  if (typeof wait === "string") {
    const seconds = Number(wait);
    if (wait.trim() === "" || !Number.isFinite(seconds) || seconds < 0) {
      throw new UsageError(`--tunnel-wait takes seconds, not "${wait}"`);
    }
    if (seconds * 1000 > MAX_TUNNEL_WAIT_MS) {
      throw new UsageError(`--tunnel-wait is at most ${MAX_TUNNEL_WAIT_MS / 1000} s, not ${wait}`);
    }
    timeoutMs = Math.round(seconds * 1000);
  }
  return { name: validateTunnelName(name), timeoutMs };
}

/** Wait for the tunnel to go (a dry run only looks), and say what happened. */
async function awaitTunnel(
  ctx: CommandContext,
  table: Parameters<typeof waitForTunnelGone>[0],
  tunnel: { name: string; timeoutMs: number },
  dryRun: boolean,
): Promise<TunnelWait> {
  const { out } = ctx;
  if (!dryRun) {
    out.debug(`waiting up to ${tunnel.timeoutMs / 1000} s for ${tunnel.name} to go away`);
  }
  const wait = await waitForTunnelGone(table, tunnel.name, {
    timeoutMs: dryRun ? 0 : tunnel.timeoutMs,
  });
  const seconds = (wait.waitedMs / 1000).toFixed(1);
  if (wait.state === "absent") out.debug(`${tunnel.name} is gone`);
  else if (wait.state === "gone") out.info(`${tunnel.name} went away after ${seconds} s`);
  else if (dryRun) out.info(`(dry run) would wait for ${tunnel.name} to go away`);
  else {
    out.warn(
      `${tunnel.name} is still up after ${seconds} s; a default on it counts as the tunnel's ` +
        `leftover`,
    );
  }
  return wait;
}

export async function restore(ctx: CommandContext): Promise<number> {
  const dryRun = ctx.values["dry-run"] === true;
  const tunnel = tunnelOptionOf(ctx.values);
  const system = await ctx.system();
  if (!dryRun && !system.mayChange) {
    throw new CliError(
      ExitCode.NEEDS_ROOT,
      "restore changes the routing table, which needs root: run it with sudo " +
        "(or add --dry-run to see what it would do)",
    );
  }
  const wait = tunnel ? await awaitTunnel(ctx, system.table, tunnel, dryRun) : null;
  const report = await restoreDefaults(system, {
    families: ctx.families,
    statePath: ctx.statePath,
    force: ctx.values.force === true,
    dryRun,
    ...(ctx.values["no-retry"] === true ? { retryDelaysMs: [] } : {}),
    ...(tunnel ? { replaceTunnelDefaults: new Set([tunnel.name]) } : {}),
    log: ctx.out,
  });
  const exitCode = restoreExitCode(report);
  if (ctx.out.json) {
    ctx.out.emit({
      ok: exitCode === ExitCode.OK,
      command: "restore",
      exitCode,
      dryRun,
      statePath: ctx.statePath,
      stateError: report.stateError,
      ...(tunnel && wait ? { tunnel: { name: tunnel.name, ...wait } } : {}),
      families: report.families.map(({ plan, ...rest }) => ({ ...rest, action: plan.action })),
    });
  }
  printReport(ctx, report);
  return exitCode;
}

export const restoreCommand: Command = {
  name: "restore",
  summary: "put the saved or current default route back (post-down hook)",
  help: RESTORE_HELP,
  options: {
    ...COMMON_OPTIONS,
    ...CHANGE_OPTIONS,
    "no-retry": { type: "boolean" },
    "tunnel-gone": { type: "string" },
    "tunnel-wait": { type: "string" },
  },
  run: restore,
};
