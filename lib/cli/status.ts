/**
 * `defroute status`: per family, the kernel's global and scoped defaults, scutil's view, the
 * saved state, a diagnosis in plain words (lib/core/policy/status.ts) and what restore would do.
 * Read-only: works without root wherever the kernel lets a user read routes.
 */
import type { Command, CommandContext } from "./command.ts";
import { COMMON_OPTIONS } from "./command.ts";
import { COMMON_OPTIONS_HELP, EXIT_CODES_HELP } from "./help.ts";
import { ExitCode } from "../core/model/errors.ts";
import { observe } from "../core/ops/observe.ts";
import { globalDefaultsOf, isTunnel } from "../core/policy/liveness.ts";
import { planFor } from "../core/ops/restore.ts";
import { commandWordsOf, describeRoute, gatewayText } from "../core/text/route_text.ts";
import { type DefrouteState, type SavedFamily, StateFileError } from "../core/state/schema.ts";
import { readState } from "../core/state/store.ts";
import { diagnose, type Diagnosis } from "../core/policy/status.ts";
import type {
  Carriers,
  DefaultRoute,
  Family,
  NetInterface,
  PrimaryInfo,
} from "../core/model/types.ts";
import { type TunnelHold, tunnelHolds } from "../core/policy/tunnel_hold.ts";
import type { RestorePlan } from "../core/policy/restore_plan.ts";

export const STATUS_HELP = `Usage: defroute status [options]

Show, for each address family:
  - the kernel's global default route and every interface-scoped (RTF_IFSCOPE) default;
  - scutil's view (State:/Network/Global/IPv4|6: Router, PrimaryInterface, PrimaryService);
  - the saved state (what 'defroute save' recorded, when and by which command);
  - a diagnosis in plain words, and what 'defroute restore' would do now.

It recognises the sing-tun #80 condition: no global default while a scoped default exists (a
tunnel deleted the system's default and re-added its own scoped to its interface; 'netstat -rn'
still prints "default" lines, yet unbound traffic has no route). And it says which tunnel
carries the traffic, and how, when one does without a global default of its own: split routes
covering half the addresses or more (OpenVPN def1's 0/1 + 128/1), a default scoped to it, or on
Linux a policy rule (wg-quick's 'not fwmark 0xca6c lookup 51820', suppress_prefixlength 0).

status changes nothing and needs no root where the kernel lets users read routes.

${COMMON_OPTIONS_HELP}

Examples:
  defroute status
  defroute status --family 6
  defroute status --json | jq '.families[].diagnosis.condition'

${EXIT_CODES_HELP}
  status exits 0 whatever the diagnosis (read 'diagnosis.condition' in --json to script it);
  1 only when it cannot read the routing table.`;

export interface FamilyStatus {
  family: Family;
  /** How live tunnels carry the family's traffic, if any (tunnel_hold.ts). */
  tunnels: TunnelHold[];
  globalDefaults: DefaultRoute[];
  scopedDefaults: DefaultRoute[];
  scutil: PrimaryInfo | null;
  scutilError: string | null;
  saved: SavedFamily | null;
  diagnosis: Diagnosis;
  restorePlan: Pick<RestorePlan, "action" | "reason" | "looked">;
}

export interface StatusReport {
  platform: string;
  statePath: string;
  stateError: string | null;
  interfaces: NetInterface[];
  families: FamilyStatus[];
}

/** Everything status shows, from one look at the machine. */
export async function collectStatus(ctx: CommandContext): Promise<StatusReport> {
  const system = await ctx.system();
  const observation = await observe(system, ctx.families);
  let state: DefrouteState | null = null;
  let stateError: string | null = null;
  try {
    state = await readState(ctx.statePath);
  } catch (error) {
    if (!(error instanceof StateFileError)) throw error;
    stateError = error.message;
  }
  // The machine's own addresses: a gateway that is one of them (or its subnet's network or
  // broadcast address) is refused, and status says so (lib/core/policy/blackhole.ts).
  const addresses = await system.table.addresses?.().catch(() => []) ?? [];
  // Only a live tunnel can carry the traffic (tunnel_hold.ts): without one, no dump more.
  const tunnelUp = observation.interfaces.some((i) => i.up && isTunnel(i));
  const carriers = new Map<Family, Carriers | null>();
  for (const seen of tunnelUp ? observation.families : []) {
    try {
      carriers.set(seen.family, await system.table.carriers?.(seen.family) ?? null);
    } catch {
      carriers.set(seen.family, null); // what cannot be read is not claimed: defaults still count
    }
  }
  const families = observation.families.map((seen): FamilyStatus => {
    const tunnels = tunnelHolds({
      family: seen.family,
      defaults: seen.defaults,
      carriers: carriers.get(seen.family) ?? null,
      interfaces: observation.interfaces,
    });
    const plan = planFor(seen.family, seen, observation.interfaces, state, stateError, {
      force: false,
      replaceTunnelDefaults: new Set(),
    }, addresses);
    const saved = state?.families[seen.family] ?? null;
    return {
      family: seen.family,
      tunnels,
      globalDefaults: globalDefaultsOf(seen.defaults),
      scopedDefaults: seen.defaults.filter((r) => r.scoped),
      scutil: seen.scutil,
      scutilError: seen.scutilError,
      saved,
      diagnosis: diagnose({
        family: seen.family,
        defaults: seen.defaults,
        interfaces: observation.interfaces,
        scutil: seen.scutil,
        scutilError: seen.scutilError,
        saved,
        plan,
        words: commandWordsOf(system.table),
        holds: tunnels,
      }),
      restorePlan: { action: plan.action, reason: plan.reason, looked: plan.looked },
    };
  });
  return {
    platform: system.platform,
    statePath: ctx.statePath,
    stateError,
    interfaces: observation.interfaces,
    families,
  };
}

function flagsText(route: DefaultRoute): string {
  return `flags 0x${route.flags.toString(16)}`;
}

/** The human form of a status report. */
export function formatStatus(report: StatusReport): string {
  const out: string[] = [];
  const row = (label: string, text: string) => out.push(`  ${(label + ":").padEnd(17)}${text}`);
  for (const f of report.families) {
    out.push(`IPv${f.family}`);
    if (f.globalDefaults.length === 0) row("global default", "none");
    for (const r of f.globalDefaults) {
      row("global default", `${describeRoute(r)} (${flagsText(r)})`);
    }
    if (f.scopedDefaults.length === 0) row("scoped default", "none");
    for (const r of f.scopedDefaults) {
      row("scoped default", `${describeRoute(r)} (${flagsText(r)})`);
    }
    const s = f.scutil;
    row(
      "scutil",
      report.platform !== "darwin"
        ? `none on ${report.platform} (macOS only)`
        : f.scutilError
        ? `unavailable: ${f.scutilError}`
        : s === null
        ? `no State:/Network/Global/IPv${f.family}`
        : [
          `Router ${s.router ? gatewayText(f.family, s.router, s.interface) : "none"}`,
          `PrimaryInterface ${s.interface ?? "none"}`,
          `PrimaryService ${s.service ?? "none"}`,
        ].join(", "),
    );
    const saved = f.saved;
    row(
      "saved",
      report.stateError
        ? "state file unusable (below)"
        : saved === null
        ? "nothing"
        : `${
          saved.route
            ? `${
              gatewayText(f.family, saved.route.gateway, saved.route.interface)
            } via ${saved.route.interface}`
            : "no route"
        } (saved ${saved.savedAt} by ${saved.savedBy})`,
    );
    for (const t of f.tunnels) row("tunnel", `${t.interface} carries the traffic: ${t.how}`);
    row("diagnosis", f.diagnosis.summary);
    for (const note of f.diagnosis.notes) row("note", note);
    row("restore would", f.diagnosis.restoreWouldDo);
    out.push("");
  }
  out.push(`state file: ${report.statePath}`);
  if (report.stateError) out.push(`  ${report.stateError}`);
  return out.join("\n");
}

export async function status(ctx: CommandContext): Promise<number> {
  const report = await collectStatus(ctx);
  if (ctx.out.json) ctx.out.emit({ ok: true, command: "status", ...report });
  else ctx.out.print(formatStatus(report));
  return ExitCode.OK;
}

export const statusCommand: Command = {
  name: "status",
  summary: "show the kernel's defaults, scutil's view, the saved state and a diagnosis",
  help: STATUS_HELP,
  options: { ...COMMON_OPTIONS },
  run: status,
};
