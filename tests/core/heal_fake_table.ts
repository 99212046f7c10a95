/**
 * An in-memory RouteTable for the heal-loop and run-wrapper unit tests, with macOS's key rule
 * (reference §5.2): one global default per family, one scoped default per interface; EEXIST on a
 * duplicate add, ESRCH on a missing delete. Every change is echoed as a RouteEvent with the pid
 * that made it, like the routing socket does, to every open events() stream.
 */
import type { RouteTable } from "../../lib/core/route_table.ts";
import type { DefaultRoute, Family, NetInterface, RouteEvent } from "../../lib/core/types.ts";
import { RouteTableError } from "../../lib/core/errors.ts";

/** The pid the fake stamps on changes made through the RouteTable methods (defroute itself). */
export const SELF_PID = 1;

export function route(
  family: Family,
  gateway: string | null,
  iface: string,
  index: number,
  scoped = false,
): DefaultRoute {
  return { family, gateway, interface: iface, index, scoped, flags: 0x803 };
}

function key(r: DefaultRoute): string {
  return `${r.family}|${r.scoped ? r.index : "global"}`;
}

export class FakeRouteTable implements RouteTable {
  readonly routes = new Map<string, DefaultRoute>();
  readonly calls: string[] = [];
  links: NetInterface[];
  #listeners = new Set<(e: RouteEvent) => void>();
  closed = false;
  /** Make the next defaults() calls fail (to test error paths). */
  failReads = false;

  constructor(routes: DefaultRoute[], links: NetInterface[]) {
    for (const r of routes) this.routes.set(key(r), r);
    this.links = links;
  }

  defaults(family: Family): Promise<DefaultRoute[]> {
    if (this.failReads) return Promise.reject(new RouteTableError("io", "read failed"));
    return Promise.resolve([...this.routes.values()].filter((r) => r.family === family));
  }

  add(r: DefaultRoute): Promise<void> {
    this.calls.push(`add ${key(r)} ${r.gateway}`);
    return this.addAs(r, SELF_PID);
  }

  delete(r: DefaultRoute): Promise<void> {
    this.calls.push(`delete ${key(r)}`);
    return this.deleteAs(r, SELF_PID);
  }

  interfaces(): Promise<NetInterface[]> {
    return Promise.resolve([...this.links]);
  }

  /** A change by another process (a tunnel): the same rules, echoed with its pid. */
  addAs(r: DefaultRoute, pid: number): Promise<void> {
    if (this.routes.has(key(r))) {
      this.emit({ kind: "route", action: "add", route: r, pid, error: "EEXIST" });
      return Promise.reject(new RouteTableError("exists", "route exists", "EEXIST"));
    }
    this.routes.set(key(r), r);
    this.emit({ kind: "route", action: "add", route: r, pid, error: null });
    return Promise.resolve();
  }

  deleteAs(r: DefaultRoute, pid: number): Promise<void> {
    const existing = this.routes.get(key(r));
    if (!existing) {
      this.emit({ kind: "route", action: "delete", route: r, pid, error: "ESRCH" });
      return Promise.reject(new RouteTableError("not-found", "not in table", "ESRCH"));
    }
    this.routes.delete(key(r));
    this.emit({ kind: "route", action: "delete", route: existing, pid, error: null });
    return Promise.resolve();
  }

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
}

export function link(name: string, index: number, up = true, tunnel = false): NetInterface {
  return { name, index, up, tunnel };
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
