/**
 * An in-memory RouteTable with macOS semantics, for the policy and command tests:
 * - one global (unscoped) default per family, beside any number of RTF_IFSCOPE ones (one per
 *   interface); adding a second global gives EEXIST, as adding a second scoped one for the same
 *   interface does (reference §5.2);
 * - delete matches family + scope exactly, the gateway is ignored; no match gives ESRCH;
 * - add gives ENETUNREACH when no up interface has the gateway's subnet (a link-local IPv6
 *   gateway needs its interface named and up);
 * - without root every change gives EPERM.
 * Faults and races are injected with `failNext` and `beforeAdd`.
 */
import ipaddr from "npm:ipaddr.js@2.2.0";
import { RouteTableError } from "../../lib/core/errors.ts";
import type { RouteTable } from "../../lib/core/route_table.ts";
import type {
  DefaultRoute,
  Family,
  NetInterface,
  PrimaryInfo,
  PrimarySource,
  RouteEvent,
} from "../../lib/core/types.ts";

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

/** A default route; `scoped` makes it RTF_IFSCOPE like sing-tun's re-added one. */
export function route(
  gateway: string | null,
  ifname: string,
  index: number,
  scoped = false,
): DefaultRoute {
  const family: Family = gateway !== null && gateway.includes(":") ? 6 : 4;
  // RTF_UP|RTF_GATEWAY|RTF_STATIC (+RTF_IFSCOPE), as the kernel reports them (reference §2.3).
  const flags = (gateway === null ? 0x1 : 0x803) | (scoped ? 0x1000000 : 0);
  return { family, gateway, interface: ifname, index, scoped, flags };
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

export class FakeRouteTable implements RouteTable {
  routes: DefaultRoute[];
  ifaces: FakeInterface[];
  root = true;
  /** Every change asked for, as "add 192.168.1.1 en0" / "delete global 4". */
  calls: string[] = [];
  /** Errors thrown by the next add calls, one each. */
  failNext: RouteTableError[] = [];
  /** Runs at the start of every add (simulate configd racing us). */
  beforeAdd: ((route: DefaultRoute) => void) | null = null;
  /** Accept adds without storing them (a kernel that lies; verification must notice). */
  dropAdds = false;
  closed = false;

  constructor(ifaces: FakeInterface[], routes: DefaultRoute[] = []) {
    this.ifaces = ifaces;
    this.routes = routes.map((r) => ({ ...r }));
  }

  defaults(family: Family): Promise<DefaultRoute[]> {
    return Promise.resolve(this.routes.filter((r) => r.family === family).map((r) => ({ ...r })));
  }

  global(family: Family): DefaultRoute | undefined {
    return this.routes.find((r) => r.family === family && !r.scoped);
  }

  #sameSlot(a: DefaultRoute, b: DefaultRoute): boolean {
    return a.family === b.family && a.scoped === b.scoped && (!a.scoped || a.index === b.index);
  }

  add(r: DefaultRoute): Promise<void> {
    this.calls.push(`add ${r.gateway} ${r.interface}${r.scoped ? " scoped" : ""}`);
    const fault = this.failNext.shift();
    if (fault) return Promise.reject(fault);
    if (!this.root) {
      return Promise.reject(new RouteTableError("needs-root", "EPERM", "EPERM", "write"));
    }
    this.beforeAdd?.(r);
    if (this.routes.some((x) => this.#sameSlot(x, r))) {
      return Promise.reject(new RouteTableError("exists", "route exists", "EEXIST", "write"));
    }
    const out = this.#outInterface(r);
    if (!out) {
      return Promise.reject(
        new RouteTableError("unreachable", "network unreachable", "ENETUNREACH", "write"),
      );
    }
    if (!this.dropAdds) {
      this.routes.push({ ...r, interface: out.name, index: out.index, flags: r.flags | 0x40 });
    }
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

  delete(r: DefaultRoute): Promise<void> {
    this.calls.push(`delete ${r.scoped ? `scoped ${r.interface}` : "global"} ${r.family}`);
    if (!this.root) {
      return Promise.reject(new RouteTableError("needs-root", "EPERM", "EPERM", "write"));
    }
    const at = this.routes.findIndex((x) => this.#sameSlot(x, r));
    if (at < 0) {
      return Promise.reject(new RouteTableError("not-found", "not in table", "ESRCH", "write"));
    }
    this.routes.splice(at, 1);
    return Promise.resolve();
  }

  interfaces(): Promise<NetInterface[]> {
    return Promise.resolve(
      this.ifaces.map(({ name, index, up, tunnel }) => ({ name, index, up, tunnel })),
    );
  }

  /** Queued events, delivered in order until `signal` aborts. */
  pending: RouteEvent[] = [];

  async *events(signal: AbortSignal): AsyncIterable<RouteEvent> {
    while (!signal.aborted) {
      const next = this.pending.shift();
      if (next) yield next;
      else await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  close(): void {
    this.closed = true;
  }

  /**
   * The sing-tun #80 sequence (reference sing-tun-issue-80.md): RTM_ADD 0/0 -> EEXIST ->
   * RTM_DELETE 0/0 (removes the system's global default) -> RTM_ADD scoped to the tunnel.
   */
  singTunStart(tunnel: FakeInterface, gateway: string | null): void {
    this.ifaces.push(tunnel);
    const family: Family = gateway?.includes(":") ? 6 : 4;
    this.routes = this.routes.filter((r) => !(r.family === family && !r.scoped));
    this.routes.push({ ...route(gateway, tunnel.name, tunnel.index, true), family });
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
