/**
 * The in-process set-up the `run`/`watch` CLI tests share: an in-memory RouteTable
 * (tests/core/fake_route_table.ts) with en0's default, a linux System around it, a memory Output
 * and a CommandContext whose state file lives in a fresh temp directory.
 */
import { FakeSignals } from "../core/fake_signals.ts";
import type { CommandContext, OptionValues } from "../../lib/cli/command.ts";
import { memoryOutput } from "../../lib/cli/output.ts";
import type { System } from "../../lib/system.ts";
import { NO_PRIMARY_SOURCE } from "../../lib/core/model/types.ts";
import { FakeRouteTable, iface, route } from "../core/fake_route_table.ts";

export const EN0 = route("192.168.1.1", "en0", 4);

export interface RunFixture {
  dir: string;
  table: FakeRouteTable;
  system: System;
  out: ReturnType<typeof memoryOutput>;
  ctx: CommandContext;
  cleanup: () => Promise<void>;
  signals: FakeSignals;
}

export async function setup(
  values: OptionValues = {},
  rest: string[] = [],
  json = false,
): Promise<RunFixture> {
  const dir = await Deno.makeTempDir();
  const table = new FakeRouteTable([
    iface("lo0", 1, ["127.0.0.0/8"]),
    iface("en0", 4, ["192.168.1.0/24"]),
    iface("utun3", 9, [], { up: false, tunnel: true }),
  ], [EN0]);
  const system: System = {
    platform: "linux",
    table,
    primary: NO_PRIMARY_SOURCE,
    mayChange: true,
    close: () => {},
  };
  const out = memoryOutput(json, 2);
  const ctx: CommandContext = {
    values,
    positionals: [],
    rest,
    out,
    families: [4],
    statePath: `${dir}/state.json`,
    system: () => Promise.resolve(system),
  };
  const cleanup = () => Deno.remove(dir, { recursive: true });
  return { dir, table, system, out, ctx, cleanup, signals: new FakeSignals() };
}

/** A CMD that waits for `${dir}/go`, then runs `then` (sh). */
export function waitingCommand(dir: string, then: string): string[] {
  return ["/bin/sh", "-c", `while [ ! -e ${dir}/go ]; do sleep 0.01; done; ${then}`];
}
