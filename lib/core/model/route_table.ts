/**
 * The kernel seam. Three implementations: darwin (PF_ROUTE through FFI), linux (rtnetlink through
 * FFI) and the in-process XNU simulator used by tests. Core policy code sees only this.
 */
import type { CommandWords } from "../text/route_text.ts";
import type {
  Carriers,
  DefaultRoute,
  Family,
  InterfaceAddress,
  NetInterface,
  RouteEvent,
} from "./types.ts";

export interface RouteTable {
  /** Every default route of a family: the global one (if any) and, on macOS, each scoped one. */
  defaults(family: Family): Promise<DefaultRoute[]>;
  /** Add a default route. Throws RouteTableError: "exists", "unreachable", "needs-root", ... */
  add(route: DefaultRoute): Promise<void>;
  /** Delete a default route (exact match on family + scope/interface). "not-found" if absent. */
  delete(route: DefaultRoute): Promise<void>;
  /** Every interface the kernel knows. */
  interfaces(): Promise<NetInterface[]>;
  /** Optional: the machine's own addresses, with their prefixes (a gateway that is one of them,
   * or its subnet's network or broadcast address, blackholes traffic: lib/core/policy/blackhole.ts).
   * A table without it (fakes) is taken to have none. */
  addresses?(): Promise<InterfaceAddress[]>;
  /** Default-route and interface events until `signal` aborts. */
  events(signal: AbortSignal): AsyncIterable<RouteEvent>;
  /**
   * Optional: do now, while nothing is timed, the first-call work of add and delete (compiling
   * their code, binding their FFI symbols), so a later change pays none of it. `run` calls it
   * before CMD starts; one-shot commands do not (they would pay it for nothing). Sends nothing
   * and never throws.
   */
  warm?(): void;
  /**
   * Optional: what may carry the family's traffic besides defaults(): routes with a prefix 1 to
   * 8 bits long (0/1 + 128/1, split ranges) and, on Linux, policy rules that send traffic to
   * another table. Read by `status` and by the healer when it finds a void; dumps are scanned by
   * their headers, so the cost stays flat in the table's size.
   */
  carriers?(family: Family): Promise<Carriers>;
  /**
   * Optional: a change to a default in the words of this platform's own tool, for the `[#] ...`
   * line announced before it (ip(8)'s on Linux); route(8)'s when absent (macOS).
   */
  commandText?: CommandWords;
  /** Release sockets and library handles. */
  close(): void;
}
