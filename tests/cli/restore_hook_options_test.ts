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

/** The Table = off case: utun5 holds the global default, en0 only a scoped one. */
function tunnelHoldsDefault() {
  const table = new FakeRouteTable([
    iface("en0", 4, ["192.168.1.0/24"]),
    iface("utun5", 12, ["10.9.0.0/30"]),
  ], [
    route("10.9.0.1", "utun5", 12),
    route("192.168.1.1", "en0", 4, true),
  ]);
  const system: System = {
    platform: "darwin",
    table,
    primary: new FakePrimary({ 4: primary(4, "192.168.1.1", "en0") }),
    mayChange: true,
    close() {},
  };
  return { table, system };
}

Deno.test("restore --tunnel-gone waits for the tunnel, then restores", async () => {
  const { table, system } = tunnelHoldsDefault();
  // The tunnel (and with it, as in xnu, its routes) goes ~150 ms after restore starts.
  const timer = setTimeout(() => {
    table.ifaces = table.ifaces.filter((i) => i.name !== "utun5");
    table.routes = table.routes.filter((r) => r.interface !== "utun5");
  }, 150);
  try {
    const result = await restore(["--tunnel-gone", "utun5", "--family", "4", "--json"], system);
    assertEquals(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assertEquals([report.tunnel.name, report.tunnel.state], ["utun5", "gone"]);
    assertEquals(report.families[0].outcome, "restored");
    assertMatch(result.stderr, /utun5 went away after \d\.\d s/);
    assertEquals(table.calls, ["add 192.168.1.1 en0"]);
  } finally {
    clearTimeout(timer);
  }
});

Deno.test("restore without --tunnel-gone leaves a live tunnel's default alone (the race)", async () => {
  const { table, system } = tunnelHoldsDefault();
  const result = await restore(["--family", "4"], system);
  assertEquals(result.code, 0, result.stderr);
  assertMatch(result.stdout, /present on tunnel utun5.*left alone/);
  assertEquals(table.calls, []);
});

Deno.test("restore --tunnel-gone: a tunnel still up at the bound has its default replaced", async () => {
  const { table, system } = tunnelHoldsDefault();
  const result = await restore(
    ["--tunnel-gone", "utun5", "--tunnel-wait", "0.1", "--family", "4"],
    system,
  );
  assertEquals(result.code, 0, result.stderr);
  assertMatch(result.stderr, /utun5 is still up after 0\.\d s; a default on it counts as the/);
  assertMatch(result.stdout, /IPv4 default restored: 192\.168\.1\.1 via en0 \(from scutil\)/);
  assertEquals(table.calls, ["delete global 4", "add 192.168.1.1 en0"]);
});

Deno.test("restore --tunnel-gone --dry-run does not wait and shows the replacement", async () => {
  const { table, system } = tunnelHoldsDefault();
  const result = await restore(["--tunnel-gone", "utun5", "--dry-run", "--family", "4"], system);
  assertEquals(result.code, 0, result.stderr);
  assertMatch(result.stderr, /\(dry run\) would wait for utun5 to go away/);
  assertMatch(result.stderr, /would run: route delete default 10\.9\.0\.1/);
  assertEquals(table.calls, []);
});

Deno.test("restore --tunnel-gone/--tunnel-wait: bad values are usage errors (exit 2)", async () => {
  const cases: [string[], RegExp][] = [
    [["--tunnel-gone", "utun 5"], /--tunnel-gone takes an interface name/],
    [["--tunnel-gone", "a-very-long-name0"], /--tunnel-gone takes an interface name/],
    [["--tunnel-wait", "3"], /--tunnel-wait only makes sense with --tunnel-gone/],
    [["--tunnel-gone", "utun5", "--tunnel-wait", "soon"], /--tunnel-wait takes seconds/],
    [["--tunnel-gone", "utun5", "--tunnel-wait", "61"], /--tunnel-wait is at most 60 s/],
    [["--tunnel-gone", "en0"], /en0 is not a tunnel interface/],
  ];
  for (const [args, message] of cases) {
    const { table, system } = tunnelHoldsDefault();
    const result = await restore([...args, "--family", "4"], system);
    assertEquals(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    assertMatch(result.stderr, message);
    assertEquals(table.calls, []);
  }
});
