/**
 * `status`'s diagnosis: from one look at a family (kernel defaults, interfaces, scutil, saved
 * state) and the restore plan for it, say in plain words what is wrong, if anything, and what
 * `restore` would do. Pure.
 *
 * The condition this tool exists for is recognised by name: no global default while a scoped
 * default exists is sing-tun #80 (setRoutes' EEXIST recovery deleted the unscoped default and
 * re-added the tunnel's as RTF_IFSCOPE; sing-tun tun_darwin.go setRoutes), which `netstat -rn`
 * hides because a scoped default still prints as "default".
 */
import { sameGateway } from "../model/gateway_address.ts";
import {
  deadRouteReason,
  globalDefaultsOf,
  interfaceOf,
  isOnLiveInterface,
  isTunnel,
} from "./liveness.ts";
import type { RestorePlan } from "./restore_plan.ts";
import { type CommandWords, describeRoute, routeCommandText } from "../text/route_text.ts";
import type { SavedFamily } from "../state/schema.ts";
import type { TunnelHold } from "./tunnel_hold.ts";
import type { DefaultRoute, Family, NetInterface, PrimaryInfo } from "../model/types.ts";

export type Condition =
  /** A global default on a live, non-tunnel interface. */
  | "healthy"
  /** The global default goes through a tunnel (a VPN is up). */
  | "tunnel-default"
  /** No global default, but scoped ones: the sing-tun #80 condition. */
  | "scoped-only"
  /** The global default is fine, but a live tunnel carries the traffic past it: split routes
   * (OpenVPN def1's 0/1 + 128/1) or a policy rule (wg-quick's suppress_prefixlength 0). */
  | "tunnel-carried"
  /** A global default whose interface is gone, down or has its link inactive. */
  | "broken-default"
  /** No default at all, though one is known (saved or from scutil). */
  | "missing"
  /** No default and nothing known: this family has no network. */
  | "no-network";

export interface DiagnosisInput {
  family: Family;
  defaults: readonly DefaultRoute[];
  interfaces: readonly NetInterface[];
  scutil: PrimaryInfo | null;
  scutilError: string | null;
  saved: SavedFamily | null;
  plan: RestorePlan;
  /** The platform's words for a change (RouteTable.commandText); route(8)'s by default. */
  words?: CommandWords;
  /** How live tunnels hold the family's traffic (tunnel_hold.ts); none when absent. */
  holds?: readonly TunnelHold[];
}

export interface Diagnosis {
  family: Family;
  condition: Condition;
  /** Plain words: what is the matter. */
  summary: string;
  /** Further remarks (scutil disagreeing with the kernel, a saved route that went stale). */
  notes: string[];
  /** What `defroute restore` would do now. */
  restoreWouldDo: string;
}

function restoreWords(plan: RestorePlan, words: CommandWords): string {
  switch (plan.action) {
    case "keep":
      if (plan.putBack.length > 0) {
        return `${
          plan.putBack.map((r) => words("add", r)).join(", then ")
        } (from saved: put back beside the default that is present)`;
      }
      return "nothing (a global default is present)";
    case "none":
      return `nothing: no gateway known (it would exit 4${plan.expected ? "" : " if asked"})`;
    case "add": {
      const first = plan.candidates[0];
      const steps = [
        ...(plan.replace ? [words("delete", plan.replace)] : []),
        ...(first ? [`${words("add", first.route)} (from ${first.source})`] : []),
        ...plan.putBack.map((r) => `${words("add", r)} (from saved)`),
      ];
      return steps.join(", then ");
    }
  }
}

export function diagnose(input: DiagnosisInput): Diagnosis {
  const { family, interfaces, plan } = input;
  const v = `IPv${family}`;
  const defaults = input.defaults.filter((r) => r.family === family);
  const globals = globalDefaultsOf(defaults);
  const scoped = defaults.filter((r) => r.scoped);
  const live = globals.filter((r) => isOnLiveInterface(r, interfaces));
  const notes: string[] = [];
  let condition: Condition;
  let summary: string;

  // A tunnel's own global default is "tunnel-default" below; the other holds say how a tunnel
  // carries the traffic past a default that is not its own.
  const holds = input.holds ?? [];
  const carried = holds.find((h) => h.kind !== "default");
  const current = live[0];
  if (current) {
    const iface = interfaceOf(interfaces, current.interface, current.index);
    if (iface && isTunnel(iface)) {
      condition = "tunnel-default";
      summary = `the ${v} default goes through tunnel ${iface.name} (${
        describeRoute(current)
      }): a VPN is up. restore leaves it alone; 'defroute run' replaces it when its command exits`;
    } else if (carried) {
      condition = "tunnel-carried";
      summary = `the ${v} traffic goes through tunnel ${carried.interface}: ${carried.how}. ` +
        `The global default ${describeRoute(current)} stays under it (the tunnel's own packets ` +
        `use it); restore leaves it alone, as it should`;
    } else {
      condition = "healthy";
      summary = `${v} is fine: the global default is ${describeRoute(current)}`;
    }
    const s = input.scutil;
    if (s?.router && !sameGateway(family, s.router, current.gateway)) {
      notes.push(
        `scutil's Router is ${s.router} on ${s.interface ?? "?"}, not the kernel's gateway ` +
          `(configd may be about to change it)`,
      );
    }
  } else if (globals.length > 0) {
    condition = "broken-default";
    const broken = globals[0] as DefaultRoute;
    summary = `the ${v} global default ${describeRoute(broken)} is dead: ${
      deadRouteReason(broken, interfaces) ?? "its interface is gone or down"
    }, so traffic has nowhere to go`;
  } else if (scoped.length > 0) {
    condition = "scoped-only";
    summary =
      `no global ${v} default, only scoped ones (${
        scoped.map(describeRoute).join(", ")
      }): this is the sing-tun #80 condition - a tunnel deleted the system's default and left ` +
      `its own scoped to its interface, so programs that do not bind to an interface have no ` +
      `route. 'netstat -rn' still shows "default" lines for the scoped routes`;
  } else if (plan.action === "none" && !plan.expected && (input.scutil?.router ?? null) === null) {
    condition = "no-network";
    summary = `no ${v} default and no ${v} gateway known: this machine has no ${v} network`;
  } else {
    condition = "missing";
    summary = `no ${v} default route: traffic to the internet has no route`;
  }

  if (!current && carried) {
    summary += `. Meanwhile tunnel ${carried.interface} holds the ${v} traffic (${carried.how}): ` +
      `'watch --heal' waits until it goes away`;
  }
  if (plan.action === "keep" && plan.putBack.length > 0) {
    notes.push(
      `the saved ${plan.putBack.map(describeRoute).join(", ")} is missing beside the default ` +
        `that is present`,
    );
  }
  if (input.scutilError) notes.push(`scutil could not be read: ${input.scutilError}`);
  const savedRoute = input.saved?.route;
  if (savedRoute && !interfaceOf(interfaces, savedRoute.interface)) {
    notes.push(`the saved route's interface ${savedRoute.interface} no longer exists`);
  }
  return {
    family,
    condition,
    summary,
    notes,
    restoreWouldDo: restoreWords(plan, input.words ?? routeCommandText),
  };
}
