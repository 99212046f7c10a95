/**
 * The restore policy (docs/architecture.md §3.3), as one pure function from what is known to what
 * to do, for one address family:
 *
 * - A global default on a live interface is left alone ("keep": never fight configd or a VPN
 *   that installed its own default), unless --force, or unless it points at a tunnel the caller
 *   names in `replaceTunnelDefaults` (`run`: a tunnel that appeared while CMD ran left it).
 * - Otherwise the gateway comes from, in this order of trust:
 *   1. scutil's current Router + PrimaryInterface, if that interface exists, is up and is not a
 *      tunnel (this survives a network change during the tunnel's life);
 *   2. the saved route, if its interface still exists (and is not a tunnel);
 *   3. nothing: "none", with what was looked at, so the user can see why.
 *
 * Every source considered leaves a line in `looked`, kept or not, for messages and --json.
 */
import { sameGateway } from "../model/gateway_address.ts";
import { blackholeReason } from "./blackhole.ts";
import {
  deadRouteReason,
  globalDefaultsOf,
  interfaceOf,
  interfaceProblem,
  isLiveInterface,
  isOnLiveInterface,
  isTunnel,
} from "./liveness.ts";
import { describeRoute, gatewayText } from "../text/route_text.ts";
import type { SavedFamily } from "../state/schema.ts";
import type {
  DefaultRoute,
  Family,
  InterfaceAddress,
  NetInterface,
  PrimaryInfo,
} from "../model/types.ts";

/** RTF_UP|RTF_GATEWAY|RTF_STATIC, what route(8) sends for `add default GW`
 * (docs/macos-routing-socket.md §9 item
 * 2). A hint for backends; each one sets the flags its kernel needs. */
export const RESTORE_FLAGS = 0x803;

export interface PlanOptions {
  /** Replace a global default on a live interface (`restore --force`). */
  force: boolean;
  /** Names of tunnel interfaces whose global default is a leftover to replace (`run`, and
   * `restore --tunnel-gone`). */
  replaceTunnelDefaults: ReadonlySet<string>;
}

export interface PlanInput {
  family: Family;
  /** The state file's entry for this family, null when none or unusable. */
  saved: SavedFamily | null;
  /** Why the state file could not be used (corrupt, untrusted ...); null when fine or absent. */
  stateError: string | null;
  scutil: PrimaryInfo | null;
  scutilError: string | null;
  /** false where there is no scutil (Linux): source 1 is not looked at, nor spoken of. */
  hasScutil?: boolean;
  /** The kernel's defaults of this family, global and scoped. */
  defaults: readonly DefaultRoute[];
  interfaces: readonly NetInterface[];
  /** The machine's own addresses (a gateway that is one of them, or its subnet's network or
   * broadcast address, is refused: blackhole.ts); none given = none known. */
  addresses?: readonly InterfaceAddress[];
  options: PlanOptions;
}

export type CandidateSource = "scutil" | "saved";

export interface Candidate {
  source: CandidateSource;
  route: DefaultRoute;
}

/** One source looked at, and what it said. */
export interface Finding {
  source: "kernel" | "scutil" | "saved";
  usable: boolean;
  note: string;
}

interface PlanBase {
  family: Family;
  reason: string;
  looked: Finding[];
}

export type RestorePlan =
  /** A global default is in place and stays; `putBack` are saved defaults missing beside it. */
  | PlanBase & { action: "keep"; current: DefaultRoute; putBack: DefaultRoute[] }
  /** Add the first candidate that works (after deleting `replace`, if set), then each of
   * `putBack`. */
  | PlanBase & {
    action: "add";
    replace: DefaultRoute | null;
    candidates: Candidate[];
    putBack: DefaultRoute[];
  }
  /** No global default can be made. */
  | PlanBase & {
    action: "none";
    /** A broken global default (its interface gone or down), if any. */
    current: DefaultRoute | null;
    /** Some source named an interface that is down or not there yet: waiting may help. */
    settling: boolean;
    /** There was a default to restore (a saved route or a broken global): "none" is a failure
     * to restore, not a family that simply has no network. */
    expected: boolean;
  };

function routeTo(
  family: Family,
  gateway: string,
  iface: NetInterface,
  metric?: number,
): DefaultRoute {
  return {
    family,
    gateway,
    interface: iface.name,
    index: iface.index,
    scoped: false,
    flags: RESTORE_FLAGS,
    ...(metric !== undefined ? { metric } : {}),
  };
}

/** Same gateway out of the same interface: nothing to replace. */
export function sameDefault(a: DefaultRoute, b: DefaultRoute): boolean {
  return a.family === b.family && sameGateway(a.family, a.gateway, b.gateway) &&
    (a.interface === null || b.interface === null || a.interface === b.interface);
}

function scutilCandidate(input: PlanInput, looked: Finding[]): {
  candidate: Candidate | null;
  settling: boolean;
} {
  const { family, scutil, interfaces } = input;
  const note = (usable: boolean, text: string) =>
    looked.push({ source: "scutil", usable, note: text });
  if (input.hasScutil === false) return { candidate: null, settling: false };
  if (input.scutilError !== null) {
    note(false, `scutil unavailable (${input.scutilError})`);
    return { candidate: null, settling: false };
  }
  if (scutil === null) {
    note(
      false,
      `scutil has no State:/Network/Global/IPv${family} (no primary IPv${family} network)`,
    );
    return { candidate: null, settling: false };
  }
  if (scutil.router === null) {
    note(false, `scutil has no Router (PrimaryInterface ${scutil.interface ?? "none"})`);
    return { candidate: null, settling: false };
  }
  if (scutil.interface === null) {
    note(false, `scutil's Router ${scutil.router} has no PrimaryInterface`);
    return { candidate: null, settling: false };
  }
  const shown = `scutil's Router ${
    gatewayText(family, scutil.router, scutil.interface)
  } on ${scutil.interface}`;
  const iface = interfaceOf(interfaces, scutil.interface);
  if (!iface) {
    note(false, `${shown}: ${scutil.interface} does not exist (yet)`);
    return { candidate: null, settling: true };
  }
  if (isTunnel(iface)) {
    note(false, `${shown}: ${iface.name} is a tunnel, never a place for the default`);
    return { candidate: null, settling: false };
  }
  if (!isLiveInterface(iface)) {
    note(false, `${shown}: ${iface.name} is ${interfaceProblem(iface)}`);
    return { candidate: null, settling: true };
  }
  const blackhole = blackholeReason(family, scutil.router, iface.name, input.addresses ?? []);
  if (blackhole !== null) {
    note(false, `${shown}: refused, ${blackhole}`);
    return { candidate: null, settling: false };
  }
  note(true, `${shown} (up)`);
  return {
    candidate: { source: "scutil", route: routeTo(family, scutil.router, iface) },
    settling: false,
  };
}

function savedCandidate(input: PlanInput, looked: Finding[]): {
  candidate: Candidate | null;
  settling: boolean;
} {
  const { family, saved, interfaces } = input;
  const note = (usable: boolean, text: string) =>
    looked.push({ source: "saved", usable, note: text });
  if (input.stateError !== null) {
    note(false, `state file not used (${input.stateError})`);
    return { candidate: null, settling: false };
  }
  if (saved === null) {
    note(false, `nothing saved for IPv${family}`);
    return { candidate: null, settling: false };
  }
  const when = `saved ${saved.savedAt} by ${saved.savedBy}`;
  if (saved.route === null) {
    note(false, `no IPv${family} default was saved (${when})`);
    return { candidate: null, settling: false };
  }
  const { gateway, interface: name } = saved.route;
  const shown = `saved ${gatewayText(family, gateway, name)} via ${name} (${when})`;
  const iface = interfaceOf(interfaces, name);
  if (!iface) {
    note(false, `${shown}: ${name} no longer exists`);
    return { candidate: null, settling: false };
  }
  if (isTunnel(iface)) {
    note(false, `${shown}: ${name} is a tunnel`);
    return { candidate: null, settling: false };
  }
  const blackhole = blackholeReason(family, gateway, name, input.addresses ?? []);
  if (blackhole !== null) {
    note(false, `${shown}: refused, ${blackhole}`);
    return { candidate: null, settling: false };
  }
  // The kernel decides whether a down interface can take it (ENETUNREACH, then retry).
  const live = isLiveInterface(iface);
  note(true, `${shown}${live ? "" : `: ${name} is ${interfaceProblem(iface)}`}`);
  return {
    candidate: { source: "saved", route: routeTo(family, gateway, iface, saved.route.metric) },
    settling: !live,
  };
}

/**
 * The saved defaults (the route and its others) to put back beside what the kernel has: Linux
 * holds several global defaults at different metrics, so a saved one a tunnel deleted comes back
 * even while a worse one stayed (issue 18 item 2: lan0 at metric 100 deleted, lan1 at 600 left).
 * Only a route saved with a metric qualifies: macOS has one global default, and what configd
 * installed in its place is never fought. Each must be on an existing, non-tunnel interface that
 * has no live global default now, and differ from `except` (the route the plan adds anyway).
 */
function missingSaved(
  input: PlanInput,
  live: readonly DefaultRoute[],
  except: DefaultRoute | null,
): DefaultRoute[] {
  const saved = input.stateError === null ? input.saved : null;
  if (!saved) return [];
  const out: DefaultRoute[] = [];
  for (const route of [saved.route, ...(saved.others ?? [])]) {
    if (route === null || route.metric === undefined) continue;
    const iface = interfaceOf(input.interfaces, route.interface);
    if (!iface || !isLiveInterface(iface) || isTunnel(iface)) continue;
    if (live.some((r) => r.interface === iface.name)) continue;
    // A gateway that would blackhole traffic is never put back either (blackhole.ts).
    if (blackholeReason(input.family, route.gateway, iface.name, input.addresses ?? [])) continue;
    const back = routeTo(input.family, route.gateway, iface, route.metric);
    if (except && sameDefault(except, back) && back.interface === except.interface) continue;
    if (out.some((r) => r.interface === back.interface)) continue;
    out.push(back);
  }
  return out;
}

function putBackWords(putBack: readonly DefaultRoute[]): string {
  return putBack.map((r) => `${describeRoute(r)}${r.metric ? ` metric ${r.metric}` : ""}`)
    .join(", ");
}

/** Decide what restore does for one family. Pure. */
export function planRestore(input: PlanInput): RestorePlan {
  const { family, interfaces, options } = input;
  const looked: Finding[] = [];
  const globals = globalDefaultsOf(input.defaults.filter((r) => r.family === family));
  const live = globals.filter((r) => isOnLiveInterface(r, interfaces));
  const dead = globals.filter((r) => !isOnLiveInterface(r, interfaces));
  const scoped = input.defaults.filter((r) => r.family === family && r.scoped);

  if (live.length > 0) {
    looked.push({
      source: "kernel",
      usable: true,
      note: `global default ${describeRoute(live[0] as DefaultRoute)}`,
    });
  } else if (dead.length > 0) {
    const route = dead[0] as DefaultRoute;
    looked.push({
      source: "kernel",
      usable: false,
      note: `global default ${describeRoute(route)}, but ${
        deadRouteReason(route, interfaces) ?? `${route.interface ?? "its interface"} is down`
      }`,
    });
  } else {
    looked.push({
      source: "kernel",
      usable: false,
      note: `no global IPv${family} default${
        scoped.length > 0 ? ` (scoped: ${scoped.map(describeRoute).join(", ")})` : ""
      }`,
    });
  }

  const fromScutil = scutilCandidate(input, looked);
  const fromSaved = savedCandidate(input, looked);
  const candidates: Candidate[] = [];
  if (fromScutil.candidate) candidates.push(fromScutil.candidate);
  if (fromSaved.candidate) {
    if (
      fromScutil.candidate && sameDefault(fromScutil.candidate.route, fromSaved.candidate.route)
    ) {
      const last = looked[looked.length - 1];
      if (last) last.note += " (the same as scutil's)";
    } else candidates.push(fromSaved.candidate);
  }
  const settling = fromScutil.settling || fromSaved.settling;
  const first = candidates[0];

  const current = live[0];
  if (current) {
    const iface = interfaceOf(interfaces, current.interface, current.index);
    const onTunnel = iface !== undefined && isTunnel(iface);
    const leftover = onTunnel && iface !== undefined &&
      options.replaceTunnelDefaults.has(iface.name);
    const shown = describeRoute(current);
    if (!options.force && !leftover) {
      // While a tunnel's own default is up, nothing is put back beside it: that is not "after a
      // tunnel".
      const putBack = onTunnel ? [] : missingSaved(input, live, null);
      return {
        family,
        action: "keep",
        current,
        putBack,
        looked,
        reason: onTunnel
          ? `IPv${family} default present on tunnel ${iface?.name}: ${shown} (a VPN's own ` +
            `default; left alone)`
          : putBack.length > 0
          ? `IPv${family} default present: ${shown}, but the saved ${
            putBackWords(putBack)
          } is missing: put it back beside it`
          : `IPv${family} default present: ${shown}`,
      };
    }
    const why = options.force ? "--force" : `${iface?.name} is a tunnel whose owner has stopped`;
    const others = live.filter((r) => r !== current);
    if (!first) {
      return {
        family,
        action: "keep",
        current,
        putBack: [],
        looked,
        reason: `IPv${family} default present: ${shown}; not replaced (${why}) because no ` +
          `other gateway is known`,
      };
    }
    if (sameDefault(current, first.route)) {
      return {
        family,
        action: "keep",
        current,
        putBack: onTunnel ? [] : missingSaved(input, live, null),
        looked,
        reason: `IPv${family} default present: ${shown}, already what restore would add`,
      };
    }
    return {
      family,
      action: "add",
      replace: current,
      candidates,
      putBack: missingSaved(input, others, first.route),
      looked,
      reason: `replace the IPv${family} default ${shown} (${why}) with ${
        describeRoute(first.route)
      } (from ${first.source})`,
    };
  }

  const broken = dead[0] ?? null;
  if (!first) {
    return {
      family,
      action: "none",
      current: broken,
      settling,
      expected: broken !== null || (input.saved?.route ?? null) !== null,
      looked,
      reason: `no IPv${family} gateway known: ${looked.map((f) => f.note).join("; ")}`,
    };
  }
  return {
    family,
    action: "add",
    replace: broken,
    candidates,
    putBack: missingSaved(input, live, first.route),
    looked,
    reason:
      `${broken ? `replace the broken IPv${family} default ${describeRoute(broken)}: ` : ""}` +
      `add ${describeRoute(first.route)} (from ${first.source})`,
  };
}
