/**
 * Picks the kernel backend for this machine: darwin (PF_ROUTE) or linux (rtnetlink).
 *
 * `DEFROUTE_PLATFORM=darwin` selects the darwin backend on any OS; with `DEFROUTE_LIBSYSTEM`
 * naming the stand-in libSystem and `DEFROUTE_SCUTIL` the stand-in scutil (tests/harness), the
 * real darwin code runs on Linux against the simulated XNU kernel. See README, "Running the macOS
 * path on Linux".
 */
import type { RouteTable } from "./core/model/route_table.ts";
import { NO_PRIMARY_SOURCE, type PrimarySource } from "./core/model/types.ts";
import type { ProcessGroups } from "./process/process_group.ts";
import { simulatorSocket } from "./core/trust/override_path.ts";

export type Platform = "darwin" | "linux";

export interface System {
  platform: Platform;
  table: RouteTable;
  primary: PrimarySource;
  /**
   * Whether a change may be tried (see changesAllowed): false makes the changing commands exit 3
   * ("needs root") before they touch anything.
   */
  mayChange: boolean;
  close(): void;
}

/** The platform whose backend to use: DEFROUTE_PLATFORM, else the OS we run on. */
export function currentPlatform(): Platform {
  const forced = Deno.env.get("DEFROUTE_PLATFORM");
  if (forced === "darwin" || forced === "linux") return forced;
  if (forced) throw new Error(`DEFROUTE_PLATFORM must be "darwin" or "linux", not "${forced}"`);
  if (Deno.build.os === "darwin") return "darwin";
  if (Deno.build.os === "linux") return "linux";
  throw new Error(`defroute supports macOS and Linux, not ${Deno.build.os}`);
}

/**
 * Whether this process may try to change routes. On a real machine only root may (the kernel
 * refuses a route change from a socket opened without root: EPERM on macOS, EPERM for want of
 * CAP_NET_ADMIN on Linux), so anyone else is told "needs root" before anything is touched. The
 * simulated Mac (the darwin backend with `DEFROUTE_LIBSYSTEM` naming a stand-in library and
 * `DEFROUTE_SIM_SOCKET` its kernel) is not this machine: whether a change is allowed there is its
 * kernel's answer (EPERM when DEFROUTE_SIM_UNPRIVILEGED=1), which then says "needs root" itself.
 * A real libSystem named by DEFROUTE_LIBSYSTEM still talks to the real kernel, which still refuses.
 */
export function changesAllowed(
  platform: Platform,
  uid: number | null,
  env: (name: string) => string | undefined,
): boolean {
  if (uid === 0) return true;
  return platform === "darwin" && simulatorSocket(env) !== null;
}

/** Open the backend for this machine. Loads the FFI library only when called. */
export async function openSystem(): Promise<System> {
  const platform = currentPlatform();
  const mayChange = changesAllowed(platform, Deno.uid(), (name) => Deno.env.get(name));
  if (platform === "darwin") {
    const { openDarwinRouteTable } = await import("./darwin/route_table.ts");
    const { ScutilPrimarySource } = await import("./darwin/scutil.ts");
    const table = openDarwinRouteTable();
    return {
      platform,
      table,
      primary: new ScutilPrimarySource(),
      mayChange,
      close: () => table.close(),
    };
  }
  const { openLinuxRouteTable } = await import("./linux/route_table.ts");
  const table = openLinuxRouteTable();
  return {
    platform,
    table,
    primary: NO_PRIMARY_SOURCE,
    mayChange,
    close: () => table.close(),
  };
}

/**
 * Who is in a process group, on `platform` (for `run --linger`): loaded only when `run` asks,
 * before CMD starts, so no hook pays for it.
 */
export async function openProcessGroups(
  platform: Platform,
): Promise<ProcessGroups & Partial<Disposable>> {
  if (platform === "darwin") {
    const { LibSystemProcessGroups } = await import("./darwin/libsystem.ts");
    return new LibSystemProcessGroups();
  }
  const { procProcessGroups } = await import("./linux/process_group.ts");
  return procProcessGroups;
}
