/**
 * The in-memory RouteTable of the unit tests, with macOS semantics:
 * - one global (unscoped) default per family, beside any number of RTF_IFSCOPE ones (one per
 *   interface); adding a second global gives EEXIST, as adding a second scoped one for the same
 *   interface does (docs/macos-routing-socket.md §5.2);
 * - delete matches family + scope exactly, the gateway is ignored; no match gives ESRCH;
 * - add gives ENETUNREACH when no up interface has the gateway's subnet (a link-local IPv6
 *   gateway needs its interface named and up);
 * - an added route reads back with RTF_DONE set (see `added`), so code that checks its change
 *   by comparing whole routes, flags and all, fails against it as it would on a kernel;
 * - without root every change of ours gives EPERM.
 * Every change, ours (pid SELF_PID) or another process's (`addAs`, `deleteAs`), is echoed as a
 * RouteEvent with the pid that made it to every open events() stream, failures with their errno,
 * like the routing socket does; `emit` injects link and overflow events. Faults and races are
 * injected with `failNext`, `failReads`, `beforeAdd` and `dropAdds`.
 */
import ipaddr from "npm:ipaddr.js@2.2.0";
import { RouteTableError } from "../../lib/core/model/errors.ts";
import type { RouteTable } from "../../lib/core/model/route_table.ts";
import type {
  DefaultRoute,
  Family,
  NetInterface,
  PrimaryInfo,
  PrimarySource,
  RouteEvent,
} from "../../lib/core/model/types.ts";

/** The pid the fake stamps on changes made through the RouteTable methods (defroute itself). */
export const SELF_PID = 1;

/** RTF_DONE, which the kernel sets on a change it carried out (docs/macos-routing-socket.md §2.3).
 */
const RTF_DONE = 0x40;

export interface FakeInterface extends NetInterface {
  /** Directly connected prefixes ("192.168.1.0/24", "fe80::/64"). */
  subnets: string[];
}

export function iface(
  name: string,
  index: number,
  subnets: string[],
  options: { up?: boolean; tunnel?: boolean } = {},
): FakeInterface {
  return {
    name,
    index,
    up: options.up ?? true,
    tunnel: options.tunnel ?? /^(utun|ipsec|ppp|tun|wg)/.test(name),
    subnets,
  };
}

/**
 * A default route; `scoped` makes it RTF_IFSCOPE like sing-tun's re-added one. The family
 * follows the gateway; an interface route (null gateway) is IPv4 unless `family` says 6.
 */
export function route(
  gateway: string | null,
  ifname: string,
  index: number,
  scoped = false,
  family: Family = gateway !== null && gateway.includes(":") ? 6 : 4,
): DefaultRoute {
  // RTF_UP|RTF_GATEWAY|RTF_STATIC (+RTF_IFSCOPE), as the kernel reports them
  // (docs/macos-routing-socket.md §2.3).
  const flags = (gateway === null ? 0x1 : 0x803) | (scoped ? 0x1000000 : 0);
  return { family, gateway, interface: ifname, index, scoped, flags };
}

/** How the table holds `r` once added on its own interface: with RTF_DONE set. */
export function added(r: DefaultRoute): DefaultRoute {
  return { ...r, flags: r.flags | RTF_DONE };
}

function contains(subnet: string, address: string): boolean {
  try {
    const parsed = ipaddr.parse(address);
    const [net, bits] = ipaddr.parseCIDR(subnet);
    return parsed.kind() === net.kind() && parsed.match(net, bits);
  } catch {
    return false;
  }
}

function sameSlot(a: DefaultRoute, b: DefaultRoute): boolean {
  return a.family === b.family && a.scoped === b.scoped && (!a.scoped || a.index === b.index);
}

export class FakeRouteTable implements RouteTable {
  routes: DefaultRoute[];
  ifaces: FakeInterface[];
  root = true;
  /** Every change we asked for, as "add 192.168.1.1 en0" / "delete global 4" (not `addAs`'s). */
  calls: string[] = [];
  /** Errors thrown by the next add calls, one each. */
  failNext: RouteTableError[] = [];
  /** Make the defaults() calls fail while set (to test error paths). */
  failReads = false;
  /** Runs at the start of every add of ours (simulate configd racing us). */
  beforeAdd: ((route: DefaultRoute) => void) | null = null;
  /** Accept adds without storing them (a kernel that lies; verification must notice). */
  dropAdds = false;
  closed = false;
  #listeners = new Set<(e: RouteEvent) => void>();

  constructor(ifaces: FakeInterface[], routes: DefaultRoute[] = []) {
    this.ifaces = ifaces;
    this.routes = routes.map((r) => ({ ...r }));
  }

  defaults(family: Family): Promise<DefaultRoute[]> {
    if (this.failReads) return Promise.reject(new RouteTableError("io", "read failed"));
    return Promise.resolve(this.routes.filter((r) => r.family === family).map((r) => ({ ...r })));
  }

  global(family: Family): DefaultRoute | undefined {
    return this.routes.find((r) => r.family === family && !r.scoped);
  }

  add(r: DefaultRoute): Promise<void> {
    this.calls.push(`add ${r.gateway} ${r.interface}${r.scoped ? " scoped" : ""}`);
    const fault = this.failNext.shift();
    if (fault) return Promise.reject(fault);
    if (!this.root) {
      return Promise.reject(new RouteTableError("needs-root", "EPERM", "EPERM", "write"));
    }
    this.beforeAdd?.(r);
    return this.addAs(r, SELF_PID);
  }

  delete(r: DefaultRoute): Promise<void> {
    this.calls.push(`delete ${r.scoped ? `scoped ${r.interface}` : "global"} ${r.family}`);
    if (!this.root) {
      return Promise.reject(new RouteTableError("needs-root", "EPERM", "EPERM", "write"));
    }
    return this.deleteAs(r, SELF_PID);
  }

  /** An add by process `pid` (a tunnel): the kernel's rules, echoed with its pid. */
  addAs(r: DefaultRoute, pid: number): Promise<void> {
    if (this.routes.some((x) => sameSlot(x, r))) {
      this.emit({ kind: "route", action: "add", route: r, pid, error: "EEXIST" });
      return Promise.reject(new RouteTableError("exists", "route exists", "EEXIST", "write"));
    }
    const out = this.#outInterface(r);
    if (!out) {
      this.emit({ kind: "route", action: "add", route: r, pid, error: "ENETUNREACH" });
      return Promise.reject(
        new RouteTableError("unreachable", "network unreachable", "ENETUNREACH", "write"),
      );
    }
    const stored = { ...added(r), interface: out.name, index: out.index };
    if (!this.dropAdds) this.routes.push(stored);
    this.emit({ kind: "route", action: "add", route: { ...stored }, pid, error: null });
    return Promise.resolve();
  }

  /** A delete by process `pid`: the kernel's rules, echoed with its pid. */
  deleteAs(r: DefaultRoute, pid: number): Promise<void> {
    const at = this.routes.findIndex((x) => sameSlot(x, r));
    const existing = this.routes[at];
    if (existing === undefined) {
      this.emit({ kind: "route", action: "delete", route: r, pid, error: "ESRCH" });
      return Promise.reject(new RouteTableError("not-found", "not in table", "ESRCH", "write"));
    }
    this.routes.splice(at, 1);
    this.emit({ kind: "route", action: "delete", route: existing, pid, error: null });
    return Promise.resolve();
  }

  #outInterface(r: DefaultRoute): FakeInterface | undefined {
    if (r.gateway === null) return this.ifaces.find((i) => i.name === r.interface && i.up);
    const linkLocal = r.family === 6 && contains("fe80::/10", r.gateway);
    if (linkLocal) {
      const named = this.ifaces.find((i) => i.name === r.interface);
      return named?.up && named.subnets.some((s) => s.startsWith("fe80:")) ? named : undefined;
    }
    const gateway = r.gateway;
    return this.ifaces.find((i) => i.up && i.subnets.some((s) => contains(s, gateway)));
  }

  interfaces(): Promise<NetInterface[]> {
    return Promise.resolve(
      this.ifaces.map(({ name, index, up, tunnel, pointToPoint }) => ({
        name,
        index,
        up,
        tunnel,
        ...(pointToPoint !== undefined ? { pointToPoint } : {}),
      })),
    );
  }

  /** Deliver `event` to every open events() stream. */
  emit(event: RouteEvent): void {
    for (const listener of this.#listeners) listener(event);
  }

  /** Open event streams (0 after every consumer stopped). */
  get listeners(): number {
    return this.#listeners.size;
  }

  events(signal: AbortSignal): AsyncIterable<RouteEvent> {
    const listeners = this.#listeners;
    return {
      [Symbol.asyncIterator]() {
        const queue: RouteEvent[] = [];
        let wake: (() => void) | null = null;
        const listener = (e: RouteEvent) => {
          queue.push(e);
          wake?.();
        };
        listeners.add(listener);
        const onAbort = () => wake?.();
        signal.addEventListener("abort", onAbort);
        const stop = () => {
          listeners.delete(listener);
          signal.removeEventListener("abort", onAbort);
        };
        return {
          async next(): Promise<IteratorResult<RouteEvent>> {
            while (queue.length === 0 && !signal.aborted) {
              await new Promise<void>((resolve) => wake = resolve);
              wake = null;
            }
            const value = queue.shift();
            if (signal.aborted || value === undefined) {
              stop();
              return { done: true, value: undefined };
            }
            return { done: false, value };
          },
          return(): Promise<IteratorResult<RouteEvent>> {
            stop();
            return Promise.resolve({ done: true, value: undefined });
          },
        };
      },
    };
  }

  close(): void {
    this.closed = true;
  }

  /**
   * The sing-tun #80 sequence (tun_darwin.go setRoutes): RTM_ADD 0/0 -> EEXIST ->
   * RTM_DELETE 0/0 (removes the system's global default) -> RTM_ADD scoped to the tunnel.
   */
  singTunStart(tunnel: FakeInterface, gateway: string | null): void {
    this.ifaces.push(tunnel);
    const family: Family = gateway?.includes(":") ? 6 : 4;
    this.routes = this.routes.filter((r) => !(r.family === family && !r.scoped));
    this.routes.push(route(gateway, tunnel.name, tunnel.index, true, family));
  }

  /** unsetRoutes(): deletes only its own (scoped) route, and the tunnel goes away. */
  singTunStop(tunnel: string): void {
    this.routes = this.routes.filter((r) => r.interface !== tunnel);
    this.ifaces = this.ifaces.filter((i) => i.name !== tunnel);
  }
}

/** A PrimarySource answering from a table; an Error value is thrown (scutil failing). */
export class FakePrimary implements PrimarySource {
  calls = 0;
  constructor(public answers: Partial<Record<Family, PrimaryInfo | Error | null>> = {}) {}
  primary(family: Family): Promise<PrimaryInfo | null> {
    this.calls++;
    const answer = this.answers[family] ?? null;
    return answer instanceof Error ? Promise.reject(answer) : Promise.resolve(answer);
  }
}

export function primary(
  family: Family,
  router: string | null,
  ifname: string | null,
  service: string | null = "2262B572-5785-46BF-AE88-7C003BE61B46",
): PrimaryInfo {
  return { family, router, interface: ifname, service };
}

/** Resolve when `predicate` holds, checking after every macrotask; fails after `limitMs`
 * (a safety net against a hung test, not a timing assertion). */
export async function until(predicate: () => boolean, limitMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!predicate()) {
    if (Date.now() - start > limitMs) throw new Error("condition not reached");
    await new Promise((r) => setTimeout(r, 5));
  }
}
