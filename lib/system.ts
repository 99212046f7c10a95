/**
 * Picks the kernel backend for this machine: darwin (PF_ROUTE) or linux (rtnetlink).
 *
 * `DEFROUTE_PLATFORM=darwin` selects the darwin backend on any OS; with `DEFROUTE_LIBSYSTEM`
 * naming the stand-in libSystem and `DEFROUTE_SCUTIL` the stand-in scutil (tests/harness), the
 * real darwin code runs on Linux against the simulated XNU kernel. See README, "Running the macOS
 * path on Linux".
 */
import type { RouteTable } from "./core/route_table.ts";
import { NO_PRIMARY_SOURCE, type PrimarySource } from "./core/types.ts";
import type { ProcessGroups } from "./core/process_group.ts";

export type Platform = "darwin" | "linux";

export interface System {
  platform: Platform;
  table: RouteTable;
  primary: PrimarySource;
  /** Effective uid is 0. */
  isRoot: boolean;
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

/** Open the backend for this machine. Loads the FFI library only when called. */
export async function openSystem(): Promise<System> {
  const platform = currentPlatform();
  const isRoot = Deno.uid() === 0;
  if (platform === "darwin") {
    const { openDarwinRouteTable } = await import("./darwin/route_table.ts");
    const { ScutilPrimarySource } = await import("./darwin/scutil.ts");
    const table = openDarwinRouteTable();
    return {
      platform,
      table,
      primary: new ScutilPrimarySource(),
      isRoot,
      close: () => table.close(),
    };
  }
  const { openLinuxRouteTable } = await import("./linux/route_table.ts");
  const table = openLinuxRouteTable();
  return {
    platform,
    table,
    primary: NO_PRIMARY_SOURCE,
    isRoot,
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
