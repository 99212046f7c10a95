/**
 * restore's options for hooks that run inside a VPN's own teardown: `--no-retry` (OpenVPN's
 * --down on a restart must not wait 0.5 + 2.5 + 12.5 s in OpenVPN's event loop).
 */
import { assertEquals, assertMatch } from "../assert.ts";
import type { CommandContext, OptionValues } from "../../lib/cli/command.ts";
import { parseArgv } from "../../lib/cli/argv.ts";
import { parseFamilies, reportError } from "../../lib/cli/main.ts";
import { memoryOutput } from "../../lib/cli/output.ts";
import { restoreCommand } from "../../lib/cli/restore.ts";
import type { System } from "../../lib/system.ts";
import { FakePrimary, FakeRouteTable, iface, primary, route } from "../core/fake_route_table.ts";

async function restore(args: string[], system: System) {
  const { values } = parseArgv(args, restoreCommand.options);
  const v = values as OptionValues;
  const out = memoryOutput(v.json === true, v.verbose ? 2 : 1);
  const ctx: CommandContext = {
    values: v,
    positionals: [],
    rest: [],
    out,
    families: parseFamilies(v.family as string | undefined),
    statePath: "/nonexistent/defroute-state.json",
    system: () => Promise.resolve(system),
  };
  let code: number;
  try {
    code = await restoreCommand.run(ctx);
  } catch (error) {
    code = reportError(out, error);
  }
  return { code, stdout: out.stdout.join("\n"), stderr: out.stderr.join("\n") };
}

Deno.test("restore --no-retry makes one attempt while an interface is still settling", async () => {
  // scutil names en1, which is not there yet: the plan is "settling", which normally waits.
  const table = new FakeRouteTable([iface("en0", 4, ["192.168.1.0/24"])], [
    route("192.168.1.1", "en0", 4, true),
  ]);
  const system: System = {
    platform: "darwin",
    table,
    primary: new FakePrimary({ 4: primary(4, "10.0.0.1", "en1") }),
    mayChange: true,
    close() {},
  };
  const result = await restore(["--no-retry", "--family", "4", "--json"], system);
  assertEquals(result.code, 4, result.stderr);
  const family = JSON.parse(result.stdout).families[0];
  assertEquals([family.outcome, family.attempts], ["no-gateway", 1]);
  assertMatch(result.stderr, /en1 does not exist \(yet\)/);
  assertEquals(result.stderr.includes("trying again"), false, result.stderr);
  assertEquals(table.calls, []);
});
