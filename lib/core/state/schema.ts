/**
 * The state file's contents (docs/architecture.md §5): what `save` saw per family (the kernel's
 * global default and scutil's view, when and by which command), the errors a state file can
 * raise, and the pure build, validate (parseState) and format (formatState) steps. Reading and
 * writing the file itself, under its lock and trust rules, is store.ts.
 */
import { CliError, ExitCode } from "../model/errors.ts";
import {
  gatewayTextProblem,
  isPortableInterfaceName,
  normalizeGateway,
} from "../model/gateway_address.ts";
import type { DefaultRoute, Family, PrimaryInfo } from "../model/types.ts";

export const STATE_VERSION = 1;
/** A real state file is well under 2 KiB. */
export const MAX_STATE_BYTES = 64 * 1024;

/** A global default as saved: always with a gateway (the only kind restore can add back). */
export interface SavedRoute {
  gateway: string;
  interface: string;
  index: number;
  flags: number;
  /** Linux's route priority (metric), so a DHCP default at metric 100 comes back at 100, not 0.
   * Absent on macOS, which has no such thing. */
  metric?: number;
}

/** scutil's State:/Network/Global/IPvN at save time (PrimaryInfo without the family). */
export interface SavedPrimary {
  router: string | null;
  interface: string | null;
  service: string | null;
}

export interface SavedFamily {
  /** The kernel's global default, or null when there was no good one to save. */
  route: SavedRoute | null;
  /** The other good global defaults, on other interfaces, best first: Linux may hold several
   * side by side at different metrics, and restore puts back each one that is missing. Absent
   * when there was only one (always on macOS, which has one global default). */
  others?: SavedRoute[];
  scutil: SavedPrimary | null;
  /** ISO 8601 time of the save. */
  savedAt: string;
  /** The command that saved it: "save", "run", "watch". */
  savedBy: string;
}

export interface DefrouteState {
  version: typeof STATE_VERSION;
  updatedAt: string;
  families: Partial<Record<Family, SavedFamily>>;
}

export type StateErrorKind =
  | "corrupt"
  | "future-version"
  | "too-large"
  | "untrusted"
  /** Not a regular file (a FIFO, device, socket, directory or symbolic link): never opened,
   * never replaced. */
  | "not-regular"
  | "permission"
  | "io";

/** A state file problem; a CliError so the CLI prints it as one line with its exit code. */
export class StateFileError extends CliError {
  constructor(
    readonly kind: StateErrorKind,
    readonly path: string,
    message: string,
    exitCode: ExitCode = ExitCode.FAILURE,
    /** What is wrong with the file, without the advice on what to do about it (the message's
     * "it was left in place" is untrue once `save --force` has replaced the file). */
    readonly reason: string = message,
  ) {
    super(exitCode, message);
  }
}

// ---------------------------------------------------------------------------------------------
// Pure: build and validate

/** A SavedRoute from a kernel default, or null when it cannot be one (no gateway/interface). */
export function savedRouteOf(route: DefaultRoute): SavedRoute | null {
  if (route.gateway === null || route.interface === null) return null;
  // Never write what parseState would refuse to read back.
  if (
    !isPortableInterfaceName(route.interface) ||
    normalizeGateway(route.family, route.gateway) === null
  ) {
    return null;
  }
  return {
    gateway: route.gateway,
    interface: route.interface,
    index: route.index,
    flags: route.flags,
    ...(route.metric !== undefined ? { metric: route.metric } : {}),
  };
}

export function savedPrimaryOf(info: PrimaryInfo | null): SavedPrimary | null {
  return info && { router: info.router, interface: info.interface, service: info.service };
}

/** An empty state of this version. */
export function emptyState(now: Date = new Date()): DefrouteState {
  return { version: STATE_VERSION, updatedAt: now.toISOString(), families: {} };
}

/** Thrown by parseState; readState adds the path and what to do. */
export class StateFormatError extends Error {
  override readonly name = "StateFormatError";
  constructor(readonly kind: "corrupt" | "future-version", message: string) {
    super(message);
  }
}

const SAVED_BY = /^[a-z][a-z-]{0,31}$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is string {
  return typeof value === "string" && value.length <= 40 && !Number.isNaN(Date.parse(value));
}

function isUint(value: unknown, max: number): value is number {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 && value <= max;
}

function checkRoute(family: Family, value: unknown, where: string): SavedRoute | null {
  if (value === null) return null;
  if (!isRecord(value)) throw new StateFormatError("corrupt", `${where} is not an object`);
  const gateway = normalizeGateway(family, value.gateway);
  if (gateway === null) {
    const problem = gatewayTextProblem(family, value.gateway);
    throw new StateFormatError(
      "corrupt",
      problem?.startsWith("is ") ? `${where}.gateway ${problem}` : `${where}.gateway: ${problem}`,
    );
  }
  if (!isPortableInterfaceName(value.interface)) {
    throw new StateFormatError("corrupt", `${where}.interface is not an interface name`);
  }
  if (!isUint(value.index, 0xffff)) {
    throw new StateFormatError("corrupt", `${where}.index is not an interface index`);
  }
  if (!isUint(value.flags, 0xffffffff)) {
    throw new StateFormatError("corrupt", `${where}.flags is not a 32-bit flag word`);
  }
  if (value.metric !== undefined && !isUint(value.metric, 0xffffffff)) {
    throw new StateFormatError("corrupt", `${where}.metric is not a route metric`);
  }
  return {
    gateway,
    interface: value.interface,
    index: value.index,
    flags: value.flags,
    ...(value.metric !== undefined ? { metric: value.metric } : {}),
  };
}

/** At most this many other defaults per family: a real machine has one or two. */
export const MAX_OTHER_ROUTES = 8;

function checkOthers(family: Family, value: unknown, where: string): SavedRoute[] {
  if (value === undefined) return [];
  if (!Array.isArray(value) || value.length > MAX_OTHER_ROUTES) {
    throw new StateFormatError(
      "corrupt",
      `${where} is not a list of at most ${MAX_OTHER_ROUTES} routes`,
    );
  }
  return value.map((route, i) => {
    const checked = checkRoute(family, route, `${where}[${i}]`);
    if (checked === null) throw new StateFormatError("corrupt", `${where}[${i}] is null`);
    return checked;
  });
}

function checkPrimary(family: Family, value: unknown, where: string): SavedPrimary | null {
  if (value === null) return null;
  if (!isRecord(value)) throw new StateFormatError("corrupt", `${where} is not an object`);
  const router = value.router === null ? null : normalizeGateway(family, value.router);
  if (value.router !== null && router === null) {
    throw new StateFormatError("corrupt", `${where}.router is not an IPv${family} gateway`);
  }
  if (value.interface !== null && !isPortableInterfaceName(value.interface)) {
    throw new StateFormatError("corrupt", `${where}.interface is not an interface name`);
  }
  const service = value.service;
  if (service !== null && (typeof service !== "string" || service.length > 128)) {
    throw new StateFormatError("corrupt", `${where}.service is not a service ID`);
  }
  return { router, interface: value.interface as string | null, service };
}

/**
 * Validate parsed JSON as a state file, field by field. Unknown keys are ignored (and not kept
 * on the next write); anything of the wrong type or an address that does not parse rejects the
 * whole file: half a state file is worse than none.
 */
export function parseState(text: string): DefrouteState {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    throw new StateFormatError("corrupt", `not JSON (${why})`);
  }
  if (!isRecord(value)) throw new StateFormatError("corrupt", "not a JSON object");
  if (typeof value.version !== "number") {
    throw new StateFormatError("corrupt", "no version number");
  }
  if (value.version > STATE_VERSION) {
    throw new StateFormatError(
      "future-version",
      `version ${value.version} was written by a newer defroute (this one reads ${STATE_VERSION})`,
    );
  }
  if (value.version !== STATE_VERSION) {
    throw new StateFormatError("corrupt", `unknown version ${value.version}`);
  }
  if (!isTime(value.updatedAt)) throw new StateFormatError("corrupt", "updatedAt is not a time");
  if (!isRecord(value.families)) throw new StateFormatError("corrupt", "families is not an object");
  const families: Partial<Record<Family, SavedFamily>> = {};
  for (const family of [4, 6] as const) {
    const entry = value.families[String(family)];
    if (entry === undefined) continue;
    const where = `families.${family}`;
    if (!isRecord(entry)) throw new StateFormatError("corrupt", `${where} is not an object`);
    if (!isTime(entry.savedAt)) {
      throw new StateFormatError("corrupt", `${where}.savedAt is not a time`);
    }
    if (typeof entry.savedBy !== "string" || !SAVED_BY.test(entry.savedBy)) {
      throw new StateFormatError("corrupt", `${where}.savedBy is not a command name`);
    }
    const others = checkOthers(family, entry.others, `${where}.others`);
    families[family] = {
      route: checkRoute(family, entry.route ?? null, `${where}.route`),
      ...(others.length > 0 ? { others } : {}),
      scutil: checkPrimary(family, entry.scutil ?? null, `${where}.scutil`),
      savedAt: entry.savedAt,
      savedBy: entry.savedBy,
    };
  }
  return { version: STATE_VERSION, updatedAt: value.updatedAt, families };
}

export function formatState(state: DefrouteState): string {
  return JSON.stringify(state, null, 2) + "\n";
}
