/**
 * `defroute restore`: put the default route back (a post-down hook). The policy lives in
 * lib/core/restore_plan.ts and lib/core/restore.ts; this file is options, words and exit codes.
 */
import type { Command, CommandContext } from "./command.ts";
import { CHANGE_OPTIONS, COMMON_OPTIONS } from "./command.ts";
import { COMMON_OPTIONS_HELP, EXIT_CODES_HELP } from "./help.ts";
import { CliError, ExitCode } from "../core/errors.ts";
import { restoreDefaults, restoreExitCode, type RestoreReport } from "../core/restore.ts";

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

${COMMON_OPTIONS_HELP}

Examples:
  sudo defroute restore
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

export async function restore(ctx: CommandContext): Promise<number> {
  const dryRun = ctx.values["dry-run"] === true;
  const system = await ctx.system();
  if (!dryRun && !system.mayChange) {
    throw new CliError(
      ExitCode.NEEDS_ROOT,
      "restore changes the routing table, which needs root: run it with sudo " +
        "(or add --dry-run to see what it would do)",
    );
  }
  const report = await restoreDefaults(system, {
    families: ctx.families,
    statePath: ctx.statePath,
    force: ctx.values.force === true,
    dryRun,
    ...(ctx.values["no-retry"] === true ? { retryDelaysMs: [] } : {}),
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
  options: { ...COMMON_OPTIONS, ...CHANGE_OPTIONS, "no-retry": { type: "boolean" } },
  run: restore,
};
