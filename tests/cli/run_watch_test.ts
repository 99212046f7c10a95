/**
 * `run` and `watch` in-process, on an in-memory RouteTable (tests/core/fake_route_table.ts) with
 * the real save, restore, state file and heal loop, and real child processes. The kernel-backed
 * versions of these are tests/e2e/run_watch_*_test.ts.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { run } from "../../lib/cli/run.ts";
import { recheckMsOf, watch, watchCommand } from "../../lib/cli/watch.ts";
import { parseArgv } from "../../lib/cli/argv.ts";
import { watchProgramArguments } from "../../lib/daemon/launchd_plist.ts";
import { main } from "../../lib/cli/main.ts";
import { memoryOutput } from "../../lib/cli/output.ts";
import { route, until } from "../core/fake_route_table.ts";
import { EN0, setup, waitingCommand } from "./run_fixture.ts";

Deno.test("run: CMD exits 3 after a tunnel deleted the default: restored, pid logged, exit 3", async () => {
  const t = await setup();
  t.ctx.rest = waitingCommand(t.dir, "exit 3");
  const running = run(t.ctx, { stdio: "null", signals: t.signals });
  await until(() => t.table.listeners === 1); // the monitor is subscribed before CMD runs
  await t.table.deleteAs(EN0, 4711);
  await until(() => t.out.stderr.some((l) => /deleted by pid 4711/.test(l)));
  await Deno.writeTextFile(`${t.dir}/go`, "");
  assertEquals(await running, 3);
  assertEquals(t.table.routes.map((r) => [r.gateway, r.interface, r.scoped]), [
    ["192.168.1.1", "en0", false],
  ]);
  const err = t.out.stderr.join("\n");
  assertMatch(err, /global default deleted by pid 4711: via 192.168.1.1 on en0/);
  assertMatch(err, /\[#\] route add default 192.168.1.1 \(en0\)/);
  assertMatch(err, /exited with status 3/);
  const state = JSON.parse(await Deno.readTextFile(t.ctx.statePath));
  assertEquals(state.families["4"].route.gateway, "192.168.1.1");
  assertEquals(state.families["4"].savedBy, "run");
  await t.cleanup();
});

Deno.test("run: a leftover default on a tunnel that came up while CMD ran is replaced", async () => {
  const t = await setup();
  t.ctx.rest = waitingCommand(t.dir, "exit 0");
  const running = run(t.ctx, { stdio: "null", signals: t.signals });
  await until(() => t.table.listeners === 1);
  // CMD's tunnel comes up, takes the default, and CMD dies without cleaning up.
  t.table.ifaces = t.table.ifaces.map((l) => l.name === "utun3" ? { ...l, up: true } : l);
  await t.table.deleteAs(EN0, 4711);
  await t.table.addAs(route(null, "utun3", 9), 4711);
  await Deno.writeTextFile(`${t.dir}/go`, "");
  assertEquals(await running, 0);
  const globals = t.table.routes.filter((r) => !r.scoped);
  assertEquals(globals.map((r) => r.interface), ["en0"]);
  assertMatch(t.out.stderr.join("\n"), /\[#\] route delete default -interface utun3/);
  await t.cleanup();
});

Deno.test("run: SIGTERM to defroute is forwarded, the route restored, CMD's status returned", async () => {
  const t = await setup();
  t.ctx.rest = [
    "/bin/sh",
    "-c",
    `trap 'exit 42' TERM; : > ${t.dir}/ready; while :; do sleep 0.01; done`,
  ];
  const running = run(t.ctx, { stdio: "null", signals: t.signals });
  await until(() => {
    try {
      return Deno.statSync(`${t.dir}/ready`).isFile;
    } catch {
      return false;
    }
  });
  await t.table.deleteAs(EN0, 4711);
  t.signals.send("SIGTERM");
  assertEquals(await running, 42);
  assertEquals(t.table.routes.length, 1);
  assertMatch(t.out.stderr.join("\n"), /forwarding SIGTERM to pid \d+/);
  await t.cleanup();
});

Deno.test("run: a CMD that cannot start exits 127 and changes nothing, not even the state file", async () => {
  const t = await setup({}, ["defroute-test-no-such-command"]);
  assertEquals(await run(t.ctx, { stdio: "null", signals: t.signals }), 127);
  assertEquals(t.table.calls, []);
  let stateExists = true;
  try {
    await Deno.stat(t.ctx.statePath);
  } catch {
    stateExists = false;
  }
  assertEquals(stateExists, false);
  assertMatch(t.out.stderr.join("\n"), /command not found/);
  await t.cleanup();
});

Deno.test("run --json: one result object with CMD's status and the restore outcome", async () => {
  const t = await setup({ json: true }, ["/bin/sh", "-c", "kill -KILL $$"], true);
  assertEquals(await run(t.ctx, { stdio: "null", signals: t.signals }), 137);
  assertEquals(t.out.stdout.length, 1);
  const result = JSON.parse(t.out.stdout[0] ?? "{}");
  assertEquals(
    [result.ok, result.exitStatus, result.signal, result.restore[0].outcome],
    [true, 137, "SIGKILL", "present"],
  );
  await t.cleanup();
});

Deno.test("run --heal: a deleted default is repaired while CMD still runs", async () => {
  const t = await setup({ heal: true, grace: "0.05" });
  t.ctx.rest = waitingCommand(t.dir, "exit 0");
  const running = run(t.ctx, { stdio: "null", signals: t.signals });
  await until(() => t.table.listeners === 1);
  await t.table.deleteAs(EN0, 4711);
  await until(() => t.table.routes.length === 1); // repaired before CMD is told to exit
  await Deno.writeTextFile(`${t.dir}/go`, "");
  assertEquals(await running, 0);
  assertMatch(
    t.out.stderr.join("\n"),
    /no global IPv4 default for .* s \(global default deleted by pid 4711/,
  );
  await t.cleanup();
});

Deno.test("run: usage errors (no command, bad --kill-after, --grace without --heal)", async () => {
  const out = memoryOutput();
  const make = () => out;
  assertEquals(await main(["run"], make), 2);
  assertMatch(out.stderr.join("\n"), /needs a command after '--'/);
  assertEquals(await main(["run", "--kill-after", "soon", "--", "true"], make), 2);
  assertMatch(out.stderr.join("\n"), /--kill-after takes seconds/);
  assertEquals(await main(["run", "--grace", "2", "--linger", "0", "--", "true"], make), 2);
  assertMatch(out.stderr.join("\n"), /only make sense with --heal or --linger/);
  assertEquals(await main(["run", "sing-box"], make), 2);
  assertMatch(out.stderr.join("\n"), /needs '--' before the command/);
});

Deno.test("watch: usage errors for --grace and --max-repairs", async () => {
  const out = memoryOutput();
  const make = () => out;
  assertEquals(await main(["watch", "--heal", "--grace=-1"], make), 2);
  assertMatch(out.stderr.join("\n"), /--grace takes seconds/);
  assertEquals(await main(["watch", "--heal", "--max-repairs", "0"], make), 2);
  assertMatch(out.stderr.join("\n"), /--max-repairs takes a whole number/);
  for (const bad of ["-1", "soon", "", "86401"]) {
    assertEquals(await main(["watch", `--recheck=${bad}`], make), 2);
    assertMatch(out.stderr.join("\n"), /--recheck takes seconds between 0 \(off\) and 86400/);
  }
});

Deno.test("watch: --recheck is seconds, 30 by default, 0 off; `watch --heal --grace 0 --json --recheck 2` is valid", () => {
  assertEquals(recheckMsOf({}), 30_000);
  assertEquals(recheckMsOf({ recheck: "0" }), 0);
  assertEquals(recheckMsOf({ recheck: "2" }), 2000);
  assertEquals(recheckMsOf({ recheck: "0.5" }), 500);
  const parsed = parseArgv(
    ["watch", "--heal", "--grace", "0", "--json", "--recheck", "2"],
    watchCommand.options,
  );
  assertEquals({ ...parsed.values }, { heal: true, grace: "0", json: true, recheck: "2" });
  assertEquals(recheckMsOf(parsed.values), 2000);
});

Deno.test("the launchd daemon keeps --recheck's default (a periodic re-read every 30 s)", async () => {
  const args = watchProgramArguments("/usr/local/bin/defroute", "/var/run/defroute/state.json");
  assertEquals(args.includes("--recheck"), false);
  const shipped = await Deno.readTextFile(
    new URL("../../hooks/launchd/org.defroute.watch.plist", import.meta.url),
  );
  assertEquals(shipped.includes("--recheck"), false);
  assertEquals(recheckMsOf(parseArgv(args.slice(1), watchCommand.options).values), 30_000);
});

Deno.test("watch --recheck: a default gone without any event is found, reported and repaired", async () => {
  const t = await setup({ heal: true, grace: "0", json: true, recheck: "0.1" }, [], true);
  const running = watch(t.ctx, { signals: t.signals });
  await until(() => t.out.stdout.some((l) => JSON.parse(l).event === "ready"));
  t.table.routes = []; // no message at all
  await until(() => t.out.stdout.some((l) => JSON.parse(l).event === "repair"));
  t.signals.send("SIGTERM");
  assertEquals(await running, 0);
  const lines = t.out.stdout.map((l) => JSON.parse(l));
  const recheck = lines.find((e) => e.event === "recheck");
  assertEquals(recheck.changes, [{
    kind: "defaults",
    family: 4,
    before: ["192.168.1.1 via en0"],
    after: [],
  }]);
  const repair = lines.find((e) => e.event === "repair");
  assertEquals(repair.ok, true);
  assertMatch(repair.cause, /^recheck: IPv4 defaults were 192\.168\.1\.1 via en0, now none$/);
  assertEquals(t.table.routes.map((r) => r.gateway), ["192.168.1.1"]);
  await t.cleanup();
});

Deno.test("watch --json: streams events as JSON lines, stops cleanly on SIGINT", async () => {
  const t = await setup({ json: true }, [], true);
  const running = watch(t.ctx, { signals: t.signals });
  await until(() => t.table.listeners === 1);
  await t.table.deleteAs(EN0, 4711);
  await until(() => t.out.stdout.length >= 2);
  t.signals.send("SIGINT");
  assertEquals(await running, 0);
  assertEquals(t.table.listeners, 0, "the event stream was closed");
  const ready = JSON.parse(t.out.stdout[0] ?? "{}");
  assertEquals([ready.event, ready.heal, ready.families], ["ready", false, {
    4: { present: true },
  }]);
  const first = JSON.parse(t.out.stdout[1] ?? "{}");
  assertEquals(
    [first.event, first.action, first.scope, first.gateway, first.pid],
    ["route", "delete", "global", "192.168.1.1", 4711],
  );
  assertEquals(t.table.calls, [], "watch without --heal changes nothing");
  await t.cleanup();
});

Deno.test("watch --heal: repairs after the grace period and records the good default", async () => {
  const t = await setup({ heal: true, grace: "0.05", json: true }, [], true);
  const running = watch(t.ctx, { signals: t.signals });
  await until(() => t.table.listeners === 1);
  await until(() => {
    try {
      return Deno.statSync(t.ctx.statePath).isFile; // the good default at start was recorded
    } catch {
      return false;
    }
  });
  await t.table.deleteAs(EN0, 4711);
  await until(() => t.out.stdout.some((l) => JSON.parse(l).event === "repair"));
  t.signals.send("SIGTERM");
  assertEquals(await running, 0);
  const repair = t.out.stdout.map((l) => JSON.parse(l)).find((e) => e.event === "repair");
  assert(repair);
  assertEquals([repair.family, repair.ok], [4, true]);
  assertMatch(repair.cause, /deleted by pid 4711/);
  assertEquals(t.table.routes.map((r) => r.gateway), ["192.168.1.1"]);
  const state = JSON.parse(await Deno.readTextFile(t.ctx.statePath));
  assertEquals([state.families["4"].route.gateway, state.families["4"].savedBy], [
    "192.168.1.1",
    "watch",
  ]);
  await t.cleanup();
});
