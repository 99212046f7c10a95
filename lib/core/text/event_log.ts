/**
 * Routing events as words: one human line, or one JSON object per event (JSON lines with
 * --json). Used by `watch` (the event stream) and `run` (who touched the default while CMD ran).
 *
 * The pid is the kernel's: macOS stamps every routing-socket write with the writer's pid
 * (`rtm_pid`, docs/macos-routing-socket.md §5.1), Linux gives the netlink sender's port, which is
 * the pid for ordinary tools like ip(8). sing-tun issue #80's evidence is exactly such a line:
 * "RTM_DELETE default <en0-gateway> (GLOBAL, no ifscope)" from the sing-box pid.
 */
import type { DefaultRoute, RouteEvent } from "../model/types.ts";

/** Looks up a process name for a pid; null when unknown. */
export type ProcessNamer = (pid: number) => string | null;

/** "global default" or "default scoped to utun3" (macOS RTF_IFSCOPE, docs/macos-routing-socket.md
 * §5.2). */
export function describeScope(route: DefaultRoute): string {
  const family = route.family === 6 ? "IPv6 " : "";
  if (route.scoped) return `${family}default scoped to ${route.interface ?? `#${route.index}`}`;
  return `global ${family}default`;
}

/** "via 192.168.1.1 on en0", "on utun3" (interface route), "" when the kernel said nothing. */
export function describeTarget(route: DefaultRoute): string {
  const parts: string[] = [];
  if (route.gateway !== null) parts.push(`via ${route.gateway}`);
  if (route.interface !== null) parts.push(`on ${route.interface}`);
  else if (route.index > 0) parts.push(`on interface #${route.index}`);
  return parts.join(" ");
}

/** "pid 4711 (sing-box)", "pid 4711", or "the kernel" when no pid was stamped. */
export function describeActor(pid: number | null, name: string | null): string {
  if (pid === null || pid === 0) return "the kernel";
  return name ? `pid ${pid} (${name})` : `pid ${pid}`;
}

/** Who made a route change, in words: defroute itself, a process, a netlink socket that is not a
 * process id, or the kernel. */
function actorOf(event: Extract<RouteEvent, { kind: "route" }>, namer: ProcessNamer): string {
  if (event.self) return "defroute itself";
  if (event.pid === null && event.port !== undefined) {
    return `netlink port ${event.port} (not a process id)`;
  }
  return describeActor(event.pid, event.pid === null ? null : namer(event.pid));
}

const PAST_TENSE = { add: "added", delete: "deleted", change: "changed" } as const;

/** One human line for an event, e.g. "global default deleted by pid 4711 (sing-box): via
 * 192.168.1.1 on en0". */
export function formatEventText(event: RouteEvent, namer: ProcessNamer = () => null): string {
  switch (event.kind) {
    case "route": {
      const what = describeScope(event.route);
      const target = describeTarget(event.route);
      const actor = actorOf(event, namer);
      const tail = target ? `: ${target}` : "";
      if (event.error !== null) {
        // A failed request echoed back (macOS rtm_errno, docs/macos-routing-socket.md §5.1):
        // nothing changed, but it shows what a tool tried, e.g. sing-tun's RTM_ADD 0/0 answered
        // with EEXIST.
        return `${event.action} of ${what} by ${actor} failed with ${event.error}${tail}`;
      }
      return `${what} ${PAST_TENSE[event.action]} by ${actor}${tail}`;
    }
    case "link": {
      const i = event.interface;
      const kind = i.tunnel ? "tunnel interface" : "interface";
      const state =
        { new: "appeared", up: "is up", down: "is down", gone: "is gone" }[event.action];
      return `${kind} ${i.name} (#${i.index}) ${state}`;
    }
    case "address": {
      const i = event.interface;
      const what = event.address ?? "an address";
      return event.action === "new"
        ? `address ${what} added on interface ${i.name} (#${i.index})`
        : `address ${what} removed from interface ${i.name} (#${i.index})`;
    }
    case "overflow":
      return "the kernel dropped routing messages (buffer overflow); re-reading the table";
  }
}

/** One JSON-ready object for an event. `time` is an ISO timestamp. */
export function formatEventJson(
  event: RouteEvent,
  time: Date,
  namer: ProcessNamer = () => null,
): Record<string, unknown> {
  const base = { time: time.toISOString(), event: event.kind };
  switch (event.kind) {
    case "route":
      return {
        ...base,
        action: event.action,
        family: event.route.family,
        scope: event.route.scoped ? "scoped" : "global",
        gateway: event.route.gateway,
        interface: event.route.interface,
        index: event.route.index,
        pid: event.pid,
        process: event.self ? "defroute" : event.pid === null ? null : namer(event.pid),
        self: event.self === true,
        ...(event.port !== undefined ? { port: event.port } : {}),
        error: event.error,
      };
    case "link":
      return {
        ...base,
        action: event.action,
        interface: event.interface.name,
        index: event.interface.index,
        up: event.interface.up,
        tunnel: event.interface.tunnel,
      };
    case "address":
      return {
        ...base,
        action: event.action,
        interface: event.interface.name,
        index: event.interface.index,
        address: event.address,
      };
    case "overflow":
      return base;
  }
}

/**
 * Best-effort process names: a fixed table (e.g. the wrapped command's pid) first, then Linux's
 * /proc/PID/comm. macOS has no cheap equivalent without more FFI (proc_name in libproc), so
 * there it yields just the table's names. Names are cached: a process that made a change may
 * have exited by the time a later event is printed.
 */
export function processNamer(known: Map<number, string> = new Map()): ProcessNamer {
  // `known` is read live (run adds CMD's pid after the namer exists); /proc answers are cached,
  // failures too: a pid that is gone stays gone, and each failed read costs an exception.
  const cache = new Map<number, string | null>();
  const hasProc = Deno.build.os === "linux";
  return (pid) => {
    if (pid <= 0) return null;
    const given = known.get(pid);
    if (given !== undefined) return given;
    const hit = cache.get(pid);
    if (hit !== undefined) return hit;
    let name: string | null = null;
    if (hasProc) {
      try {
        name = Deno.readTextFileSync(`/proc/${pid}/comm`).trim() || null;
      } catch {
        name = null; // the process is gone, or no --allow-read: the pid alone will do
      }
    }
    cache.set(pid, name);
    return name;
  };
}
