/**
 * What the `watch --heal` daemon writes to its log (issue 17 item 8): repairs, refusals and
 * errors at the default verbosity; every route and interface event too only with -v; and with
 * --log-file, a log that survives newsyslog's rotation (rename, new file, no signal) because
 * the daemon reopens it. In-process, on the in-memory table (tests/core/fake_route_table.ts).
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { watch } from "../../lib/cli/watch.ts";
import { memoryOutput } from "../../lib/cli/output.ts";
import { until } from "../core/fake_route_table.ts";
import { EN0, setup } from "./run_fixture.ts";

const DELETED = /global default deleted by pid 4711/;

/** A healer (text, the daemon's form) at `verbosity`; another process deletes the default
 * twice, the healer repairs it twice. Returns what it printed. */
async function healTwice(verbosity: 1 | 2, extra: Record<string, string> = {}) {
  const t = await setup({ heal: true, grace: "0.05", ...extra });
  const out = memoryOutput(false, verbosity);
  t.ctx.out = out;
  try {
    const running = watch(t.ctx, { signals: t.signals });
    await until(() => t.table.listeners === 1);
    for (let i = 0; i < 2; i++) {
      await t.table.deleteAs(EN0, 4711);
      await until(() => t.table.routes.some((r) => !r.scoped && r.family === 4), 5000);
    }
    t.signals.send("SIGTERM");
    assertEquals(await running, 0);
    return { out, dir: t.dir };
  } finally {
    await t.cleanup();
  }
}

Deno.test("watch --heal at the default verbosity logs repairs, not every event", async () => {
  const { out } = await healTwice(1);
  const repairs = out.stderr.filter((l) => /IPv4 default restored: .*; cause: /.test(l));
  assertEquals(repairs.length, 2, out.stderr.join("\n"));
  assertMatch(repairs[0] ?? "", DELETED); // the repair says what caused it
  assertEquals(out.stderr.filter((l) => l.startsWith("[#] route add default")).length, 2);
  // ... but no line per event: the deletes, the healer's own adds, link changes
  assertEquals(out.stdout, [], out.stdout.join("\n"));
});

Deno.test("watch --heal -v logs every event as well", async () => {
  const { out } = await healTwice(2);
  assertEquals(out.stdout.filter((l) => DELETED.test(l)).length, 2, out.stdout.join("\n"));
  assert(out.stdout.some((l) => /global default added by pid \d+/.test(l)), out.stdout.join("\n"));
  assertEquals(out.stderr.filter((l) => /IPv4 default restored/.test(l)).length, 2);
});

Deno.test("plain watch (no --heal) still streams every event at the default verbosity", async () => {
  const t = await setup({});
  const out = memoryOutput(false, 1);
  t.ctx.out = out;
  try {
    const running = watch(t.ctx, { signals: t.signals });
    await until(() => t.table.listeners === 1);
    await t.table.deleteAs(EN0, 4711);
    await until(() => out.stdout.some((l) => DELETED.test(l)));
    t.signals.send("SIGINT");
    assertEquals(await running, 0);
  } finally {
    await t.cleanup();
  }
});

Deno.test("watch --log-file: a log newsyslog rotates (rename, new file, no signal) goes on", async () => {
  const t = await setup({ heal: true, grace: "0.05" });
  const log = `${t.dir}/defroute.log`;
  t.ctx.values["log-file"] = log;
  const out = memoryOutput(false, 1);
  t.ctx.out = out;
  const repaired = () => t.table.routes.some((r) => !r.scoped && r.family === 4);
  const lines = (path: string) => {
    try {
      return Deno.readTextFileSync(path).split("\n").filter((l) => l !== "");
    } catch {
      return [];
    }
  };
  try {
    const running = watch(t.ctx, { signals: t.signals });
    await until(() => t.table.listeners === 1);
    await t.table.deleteAs(EN0, 4711);
    await until(repaired, 5000);
    await until(() => lines(log).some((l) => /restored/.test(l)));
    // newsyslog: rename to .0, create an empty log in its place (root:wheel 644), signal no one
    await Deno.rename(log, `${log}.0`);
    await Deno.writeTextFile(log, "", { mode: 0o644 });
    await t.table.deleteAs(EN0, 4711);
    await until(repaired, 5000);
    await until(() => lines(log).some((l) => /restored/.test(l)));
    t.signals.send("SIGTERM");
    assertEquals(await running, 0);

    const first = lines(`${log}.0`);
    const second = lines(log);
    assertEquals(first.filter((l) => /IPv4 default restored/.test(l)).length, 1);
    assertEquals(second.filter((l) => /IPv4 default restored/.test(l)).length, 1);
    // every line carries its time; the daemon's own start and stop are in the log
    for (const line of [...first, ...second]) {
      assertMatch(line, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /);
    }
    assert(first.some((l) => /watching IPv4 default routes; healing after/.test(l)));
    assert(second.some((l) => / stopped$/.test(l)));
    assertEquals([out.stdout, out.stderr], [[], []], "nothing went to stdout/stderr");
    assertEquals((await Deno.stat(log)).mode! & 0o777, 0o644);
  } finally {
    await t.cleanup();
  }
});

Deno.test("watch --log-file refuses a relative path and a symbolic link", async () => {
  const t = await setup({ heal: true, "log-file": "defroute.log" });
  try {
    let error: unknown = null;
    await watch(t.ctx, { signals: t.signals }).catch((e) => error = e);
    assertMatch(String(error), /--log-file takes an absolute path/);
    await Deno.symlink(`${t.dir}/elsewhere`, `${t.dir}/link.log`);
    t.ctx.values["log-file"] = `${t.dir}/link.log`;
    error = null;
    await watch(t.ctx, { signals: t.signals }).catch((e) => error = e);
    assertMatch(String(error), /link\.log is a symbolic link/);
    assertEquals(t.table.listeners, 0);
  } finally {
    await t.cleanup();
  }
});
