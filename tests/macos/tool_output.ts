/**
 * Parsers for what the Mac's own tools print, written from their sources (network_cmds-741,
 * apple-oss-distributions/network_cmds), so the real-Mac tier can hold defroute's reading of the
 * kernel against an independent one:
 *
 * - `route -n get [-inet6] [-ifscope IF] default`: route.tproj/route.c print_getmsg();
 * - `netstat -rn -f inet|inet6`: netstat.tproj/route.c np_rtentry() and p_sockaddr();
 * - `ifconfig -l` and `ifconfig -a -v`: ifconfig.tproj/ifconfig.c main() and status().
 *
 * Pure functions; tests/macos/tool_output_test.ts checks them on every OS against text laid out
 * by those printf formats.
 */

/**
 * route(8)'s flag names (route.c `routeflags`, printed by bprintf()): bit 14 (RTF_NOIFREF) is
 * "b016" and bit 20 (0x80000) "b024" there, and RTF_DEAD (0x20000000) is not named at all.
 */
export const ROUTE8_FLAGS: readonly (readonly [number, string])[] = [
  [0x1, "UP"],
  [0x2, "GATEWAY"],
  [0x4, "HOST"],
  [0x8, "REJECT"],
  [0x10, "DYNAMIC"],
  [0x20, "MODIFIED"],
  [0x40, "DONE"],
  [0x80, "DELCLONE"],
  [0x100, "CLONING"],
  [0x200, "XRESOLVE"],
  [0x400, "LLINFO"],
  [0x800, "STATIC"],
  [0x1000, "BLACKHOLE"],
  [0x2000, "b016"],
  [0x4000, "PROTO2"],
  [0x8000, "PROTO1"],
  [0x10000, "PRCLONING"],
  [0x20000, "WASCLONED"],
  [0x40000, "PROTO3"],
  [0x80000, "b024"],
  [0x100000, "PINNED"],
  [0x200000, "LOCAL"],
  [0x400000, "BROADCAST"],
  [0x800000, "MULTICAST"],
  [0x1000000, "IFSCOPE"],
  [0x2000000, "CONDEMNED"],
  [0x4000000, "IFREF"],
  [0x8000000, "PROXY"],
  [0x10000000, "ROUTER"],
  [0x40000000, "GLOBAL"],
];

/** The names route(8) prints for these rtm_flags, in its order. */
export function route8FlagNames(flags: number): string[] {
  return ROUTE8_FLAGS.filter(([bit]) => (flags & bit) !== 0).map(([, name]) => name);
}

/**
 * netstat's flag letters (netstat.tproj/route.c `bits[]`, in that order, which is not bit
 * order: MULTICAST's "m" follows MODIFIED's "M").
 */
export const NETSTAT_FLAGS: readonly (readonly [number, string])[] = [
  [0x1, "U"],
  [0x2, "G"],
  [0x4, "H"],
  [0x8, "R"],
  [0x10, "D"],
  [0x20, "M"],
  [0x800000, "m"],
  [0x40, "d"],
  [0x100, "C"],
  [0x200, "X"],
  [0x400, "L"],
  [0x800, "S"],
  [0x8000, "1"],
  [0x4000, "2"],
  [0x20000, "W"],
  [0x10000, "c"],
  [0x40000, "3"],
  [0x1000, "B"],
  [0x400000, "b"],
  [0x1000000, "I"],
  [0x4000000, "i"],
  [0x8000000, "Y"],
  [0x10000000, "r"],
  [0x40000000, "g"],
];

/** The Flags column netstat prints for these rt_flags: `"%-10.10s "`, so at most 10 letters. */
export function netstatFlagColumn(flags: number): string {
  return NETSTAT_FLAGS.filter(([bit]) => (flags & bit) !== 0).map(([, letter]) => letter).join("")
    .slice(0, 10);
}

/** ifconfig's IFFBITS names, bit 1 first. */
const IFF_NAMES = [
  "UP",
  "BROADCAST",
  "DEBUG",
  "LOOPBACK",
  "POINTOPOINT",
  "SMART",
  "RUNNING",
  "NOARP",
  "PROMISC",
  "ALLMULTI",
  "OACTIVE",
  "SIMPLEX",
  "LINK0",
  "LINK1",
  "LINK2",
  "MULTICAST",
];

/** The names ifconfig prints inside `flags=8863<...>` for these interface flags. */
export function ifconfigFlagNames(flags: number): string[] {
  return IFF_NAMES.filter((_, bit) => (flags & (1 << bit)) !== 0);
}

export class ToolOutputError extends Error {
  override readonly name = "ToolOutputError";
}

/** What `route -n get ... default` said. */
export type RouteGet =
  | {
    kind: "route";
    destination: string;
    mask: string | null;
    /** Printed only when the route has RTF_GATEWAY. */
    gateway: string | null;
    /** Printed only when the reply's IFP sockaddr_dl has a name (sdl_nlen > 0). */
    interface: string | null;
    flags: string[];
  }
  | { kind: "not-in-table" };

/** print_getmsg()'s `%11s: value` lines (right-aligned labels, so leading spaces vary). */
const GET_LINE = /^ *(route to|destination|mask|gateway|interface|flags): ?(.*)$/;

/**
 * Parses route(8)'s answer to `get`. A missing route makes write(2) fail with ESRCH before
 * anything is printed on stdout: route(8) warns "writing to routing socket: not in table"
 * (route_strerror) and still exits 0, so stderr is part of the answer.
 */
export function parseRouteGet(stdout: string, stderr: string): RouteGet {
  const fields = new Map<string, string>();
  for (const line of stdout.split("\n")) {
    const match = line.match(GET_LINE);
    if (match && !fields.has(match[1]!)) fields.set(match[1]!, match[2]!.trimEnd());
  }
  if (!fields.has("destination")) {
    if (/not in table/.test(stderr)) return { kind: "not-in-table" };
    throw new ToolOutputError(
      `route get printed no destination: ${JSON.stringify(stdout.slice(0, 200))} ` +
        `${JSON.stringify(stderr.trim().slice(0, 200))}`,
    );
  }
  const flagText = fields.get("flags") ?? "";
  if (flagText !== "" && !/^<[A-Za-z0-9,]+>$/.test(flagText)) {
    throw new ToolOutputError(`route get printed flags ${JSON.stringify(flagText)}`);
  }
  return {
    kind: "route",
    destination: fields.get("destination")!,
    mask: fields.get("mask") ?? null,
    gateway: fields.get("gateway") ?? null,
    interface: fields.get("interface") ?? null,
    flags: flagText === "" ? [] : flagText.slice(1, -1).split(","),
  };
}

/** One line of `netstat -rn`. */
export interface NetstatRoute {
  family: 4 | 6;
  destination: string;
  gateway: string;
  /** The letters, at most 10 (netstat truncates the column). */
  flags: string;
  netif: string;
  expire: string | null;
}

/**
 * Parses `netstat -rn` (optionally `-f inet` / `-f inet6`). The table of each family follows a
 * line "Internet:" or "Internet6:" (pr_family) and a header starting with "Destination"
 * (pr_rthdr). With -n no column is truncated but Flags, and none holds a space, so a line is
 * whitespace-separated: destination, gateway, flags, netif, and expire when set. A line that is
 * not (another family's, or one with an empty column) is returned in `unparsed`.
 */
export function parseNetstatRoutes(stdout: string): { routes: NetstatRoute[]; unparsed: string[] } {
  const routes: NetstatRoute[] = [];
  const unparsed: string[] = [];
  let family: 4 | 6 | null = null;
  for (const line of stdout.split("\n")) {
    if (line.trim() === "") continue;
    if (line === "Routing tables") continue;
    if (line === "Internet:" || line === "Internet6:") {
      family = line === "Internet:" ? 4 : 6;
      continue;
    }
    if (/^\S.*:$/.test(line)) {
      family = null; // "Protocol Family N:" and the like
      continue;
    }
    if (line.startsWith("Destination")) continue;
    const fields = line.trim().split(/\s+/);
    if (family === null || fields.length < 4 || fields.length > 5) {
      unparsed.push(line);
      continue;
    }
    routes.push({
      family,
      destination: fields[0]!,
      gateway: fields[1]!,
      flags: fields[2]!,
      netif: fields[3]!,
      expire: fields[4] ?? null,
    });
  }
  return { routes, unparsed };
}

/** `ifconfig -l`: the interface names on one line, separated by one space. */
export function parseIfconfigList(stdout: string): string[] {
  return stdout.trim().split(/\s+/).filter((name) => name !== "");
}

/** The first line of one interface in `ifconfig -a -v`. */
export interface IfconfigHeader {
  name: string;
  /** `flags=%x`: the low 16 bits of if_flags, as getifaddrs(3) reports them. */
  flags: number;
  flagNames: string[];
  mtu: number | null;
  /** Printed with -v only. */
  index: number | null;
}

/** status(): `%s: ` then `flags=%x<NAMES>` then ` metric N`, ` mtu N`, ` rtref N`, ` index N`. */
const HEADER = /^([^\s:]+): flags=([0-9a-f]+)<([A-Z0-9_,]*)>(.*)$/;

/**
 * The header line of every interface in `ifconfig -a -v` (lines that do not start with
 * whitespace; addresses, options, eflags and media are indented). A line at the margin that is
 * not a header is returned in `unparsed`: the caller holds the names against `ifconfig -l`, so a
 * header this parser cannot read shows up as a missing interface, not as a silent pass.
 */
export function parseIfconfigHeaders(
  stdout: string,
): { headers: IfconfigHeader[]; unparsed: string[] } {
  const headers: IfconfigHeader[] = [];
  const unparsed: string[] = [];
  for (const line of stdout.split("\n")) {
    if (line === "" || /^\s/.test(line)) continue;
    const match = line.match(HEADER);
    if (!match) {
      unparsed.push(line);
      continue;
    }
    const rest = match[4]!;
    const number = (key: string) => {
      const found = rest.match(new RegExp(`(?:^| )${key} (\\d+)(?: |$)`));
      return found ? Number(found[1]) : null;
    };
    headers.push({
      name: match[1]!,
      flags: parseInt(match[2]!, 16),
      flagNames: match[3] === "" ? [] : match[3]!.split(","),
      mtu: number("mtu"),
      index: number("index"),
    });
  }
  return { headers, unparsed };
}

/**
 * Each interface's media status in `ifconfig -a`: ifmedia.c prints "\tstatus: active" or
 * "\tstatus: inactive" (IFM_ACTIVE of SIOCGIFXMEDIA) only when the interface reports media with
 * IFM_AVALID; interfaces without media (lo0, utun) have no such line and no entry here.
 */
export function parseIfconfigMediaStatus(stdout: string): Map<string, string> {
  const status = new Map<string, string>();
  let current: string | null = null;
  for (const line of stdout.split("\n")) {
    const header = line.match(HEADER);
    if (header) current = header[1]!;
    else if (!/^\s/.test(line) && line !== "") current = null;
    const match = line.match(/^\tstatus: (.+)$/);
    if (match && current !== null) status.set(current, match[1]!.trim());
  }
  return status;
}
