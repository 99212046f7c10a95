/**
 * What the event loop (heal_loop.ts) knows of the kernel between reads: the interfaces as link
 * events keep them, their link state as the system's own view last gave it (macOS: configd's
 * `State:/Network/Interface/<if>/Link`, asked through scutil; Linux has it in the interface
 * list), and each family's last read of the defaults. From these it says whether a family has a
 * live global default: one whose interface exists, is up and has an active link. A default on a
 * dead interface is no default (policy/liveness.ts isOnLiveInterface).
 */
import {
  deadRouteReason,
  globalDefaultsOf,
  isOnLiveInterface,
  withLinkStates,
} from "../policy/liveness.ts";
import type { KernelSnapshot } from "../policy/recheck.ts";
import { describeRoute } from "../text/route_text.ts";
import type { RouteTable } from "../model/route_table.ts";
import type { DefaultRoute, Family, NetInterface, RouteEvent } from "../model/types.ts";

/** Which of the named interfaces have an inactive link (PrimarySource.inactiveLinks). */
export type LinkStateSource = (names: readonly string[]) => Promise<ReadonlySet<string>>;

/** One read of a family. */
export interface FamilyRead {
  at: number;
  /** Events queued by the loop when it was taken: a read at the same count saw no change. */
  delivered: number;
  defaults: readonly DefaultRoute[];
  /** A global default that is alive. */
  present: boolean;
  /** Why the global default is not alive, when there is one but it is dead. */
  dead: string | null;
}

export class KernelView {
  /** Interfaces by index; null when unknown (an overflow lost events) until listed again. */
  #interfaces: Map<number, NetInterface> | null = null;
  /** The last link states the system's own view gave (null: never asked, or no such view). */
  #inactive: ReadonlySet<string> | null = null;
  readonly lastRead = new Map<Family, FamilyRead>();

  constructor(
    private readonly table: RouteTable,
    private readonly linkStates: LinkStateSource | undefined,
    private readonly now: () => number,
  ) {}

  /** The interfaces with their link state, if known without a read. */
  interfaces(): NetInterface[] | undefined {
    if (this.#interfaces === null) return undefined;
    return withLinkStates([...this.#interfaces.values()], this.#inactive);
  }

  /** Lists the interfaces from the kernel (and their link state, where it is asked apart). */
  async list(withLinks = true): Promise<NetInterface[]> {
    const all = await this.table.interfaces();
    this.#interfaces = new Map(all.map((i) => [i.index, i]));
    if (withLinks) await this.refreshLinks();
    return this.interfaces() ?? [];
  }

  /** Asks the link states again (macOS: one scutil run); a failure keeps the last answer. */
  async refreshLinks(): Promise<string | null> {
    if (!this.linkStates || this.#interfaces === null) return null;
    try {
      this.#inactive = await this.linkStates([...this.#interfaces.values()].map((i) => i.name));
      return null;
    } catch (error) {
      return error instanceof Error ? error.message : String(error);
    }
  }

  /** Keeps the list up to date from a link or overflow event. */
  follow(event: RouteEvent): void {
    if (event.kind === "overflow") this.#interfaces = null;
    else if (event.kind === "link" && this.#interfaces !== null) {
      if (event.action === "gone") this.#interfaces.delete(event.interface.index);
      else this.#interfaces.set(event.interface.index, event.interface);
    }
  }

  /** Reads a family's defaults and judges its global default. */
  async read(family: Family, delivered: number): Promise<FamilyRead> {
    const defaults = await this.table.defaults(family);
    const globals = globalDefaultsOf(defaults);
    let present = false;
    let dead: string | null = null;
    if (globals.length > 0) {
      const interfaces = this.interfaces() ?? await this.list();
      present = globals.some((r) => isOnLiveInterface(r, interfaces));
      const first = globals[0] as DefaultRoute;
      if (!present) {
        dead = `the global IPv${family} default ${describeRoute(first)} is dead: ${
          deadRouteReason(first, interfaces) ?? "its interface is down"
        }`;
      }
    }
    const read = { at: this.now(), delivered, defaults, present, dead };
    this.lastRead.set(family, read);
    return read;
  }

  /** What the loop knows now, for a recheck to compare against (undefined: nothing yet). */
  snapshot(families: readonly Family[]): KernelSnapshot | undefined {
    const interfaces = this.interfaces();
    if (interfaces === undefined) return undefined;
    const defaults = new Map<Family, readonly DefaultRoute[]>();
    for (const family of families) {
      const read = this.lastRead.get(family);
      if (read === undefined) return undefined;
      defaults.set(family, read.defaults);
    }
    return { defaults, interfaces };
  }
}
