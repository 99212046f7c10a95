/**
 * `defroute save`: record the default routes in the state file (a pre-up hook). The policy lives
 * in lib/core/ops/save.ts; this file is options, words and exit codes.
 */
import type { Command, CommandContext } from "./command.ts";
import { CHANGE_OPTIONS, COMMON_OPTIONS } from "./command.ts";
import { COMMON_OPTIONS_HELP, EXIT_CODES_HELP } from "./help.ts";
import { ExitCode } from "../core/model/errors.ts";
import { saveDefaults, type SaveReport } from "../core/ops/save.ts";

export const SAVE_HELP = `Usage: defroute save [options]

Save each family's global default route (gateway, interface name and index, flags) and
scutil's view (State:/Network/Global/IPv4|6: Router, PrimaryInterface, PrimaryService) to the
state file, for a later 'defroute restore'. Use it as a VPN's pre-up hook.

A good saved route is never overwritten by a worse one: when the kernel has no global default
now (a tunnel is already up and broke it) or only one through a tunnel, the saved route is
kept and save says so. --force replaces it anyway. Scoped (RTF_IFSCOPE) defaults are shown by
'status' but never saved as the default.

The state file is written atomically under a lock. As root, a state file or directory not
owned by root, or writable by group or others, is refused (whoever can write it would choose
the gateway all traffic goes to). Without root, save works with a --state PATH you can write.

Options:
  -f, --force         replace the saved route even with a missing or tunnel default, and
                      replace an unreadable (corrupt, newer-version) state file
  -n, --dry-run       show what would be saved; write nothing

${COMMON_OPTIONS_HELP}

Examples:
  sudo defroute save
  sudo defroute save --family 4 --json
  defroute save --state ~/defroute.json      # without root

${EXIT_CODES_HELP}
  save exits 0 also when there was nothing to save (it says so; the state file is unchanged or
  records scutil's view), so a pre-up hook never blocks the VPN for it.`;

function printReport(ctx: CommandContext, report: SaveReport): void {
  const lines = report.families.map((f) =>
    `IPv${f.family}: ${report.dryRun ? `would have ${f.message}` : f.message}`
  );
  const where = report.dryRun
    ? "not written (--dry-run)"
    : report.written
    ? "written"
    : "unchanged";
  lines.push(`state file: ${report.statePath} (${where})`);
  ctx.out.print(lines.join("\n"));
}

export async function save(ctx: CommandContext): Promise<number> {
  const system = await ctx.system();
  const report = await saveDefaults(system, ctx.statePath, {
    families: ctx.families,
    force: ctx.values.force === true,
    dryRun: ctx.values["dry-run"] === true,
    savedBy: "save",
    log: ctx.out,
  });
  if (ctx.out.json) ctx.out.emit({ ok: true, command: "save", ...report });
  else printReport(ctx, report);
  return ExitCode.OK;
}

export const saveCommand: Command = {
  name: "save",
  summary: "save the current default routes to the state file (pre-up hook)",
  help: SAVE_HELP,
  options: { ...COMMON_OPTIONS, ...CHANGE_OPTIONS },
  run: save,
};
