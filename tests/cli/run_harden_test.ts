/**
 * `run` in-process (tests/cli/run_fixture.ts: an in-memory table, the real save, restore, state
 * file, heal loop and child processes) against what the attack run found: a CMD with a bad `#!`
 * line rewrote the state file; a state file that cannot be saved kept CMD from starting (no VPN
 * under launchd's KeepAlive); CMD's leftover processes went unguarded after its exit.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { run } from "../../lib/cli/run.ts";
import { until } from "../core/fake_route_table.ts";
import { mkfifo, stopUnblocker, unblockFifoAfter } from "../core/file_kinds.ts";
import { procProcessGroups } from "../../lib/linux/process_group.ts";
import { EN0, setup } from "./run_fixture.ts";

const onLinux = Deno.build.os === "linux";

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

Deno.test("run: a CMD with a missing #! interpreter exits 127; the state file is byte-identical", async () => {
  const t = await setup();
  const old = new TextEncoder().encode(
    JSON.stringify({
      version: 1,
      updatedAt: "2026-01-01T00:00:00.000Z",
      families: {
        4: {
          route: { gateway: "192.168.1.1", interface: "en0", index: 4, flags: 3 },
          scutil: null,
          savedAt: "2026-01-01T00:00:00.000Z",
          savedBy: "save",
        },
      },
    }),
  );
  await Deno.writeFile(t.ctx.statePath, old, { mode: 0o644 });
  await Deno.chmod(t.ctx.statePath, 0o644);
  const script = `${t.dir}/vpn`;
  await Deno.writeTextFile(script, "#!/nonexistent\nexit 0\n");
  await Deno.chmod(script, 0o755);
  t.ctx.rest = [script];
  assertEquals(await run(t.ctx, { stdio: "null", signals: t.signals }), 127);
  assertEquals(await Deno.readFile(t.ctx.statePath), old, "savedAt/savedBy were rewritten");
  assertEquals(t.table.calls.filter((c) => c !== "defaults" && c !== "interfaces"), []);
  await t.cleanup();
});

Deno.test("run: when the save fails (a FIFO at the state path), CMD still starts, with a warning", async () => {
  const t = await setup();
  await mkfifo(t.ctx.statePath);
  const guard = unblockFifoAfter(t.ctx.statePath, 3);
  // CMD proves it ran; the tunnel it stands for breaks the default.
  t.ctx.rest = [
    "/bin/sh",
    "-c",
    `: > ${t.dir}/ran; while [ ! -e ${t.dir}/go ]; do sleep 0.01; done`,
  ];
  const running = run(t.ctx, { stdio: "null", signals: t.signals });
  await until(() => exists(`${t.dir}/ran`));
  await t.table.deleteAs(EN0, 4711);
  await Deno.writeTextFile(`${t.dir}/go`, "");
  assertEquals(await running, 0);
  const err = t.out.stderr.join("\n");
  assertMatch(
    err,
    /could not save the default routes \(refusing the state file .*FIFO.*\); the command runs anyway/,
  );
  // The restore worked from the route read before CMD started.
  assertEquals(t.table.routes.filter((r) => !r.scoped).map((r) => r.gateway), ["192.168.1.1"]);
  assert(Deno.lstatSync(t.ctx.statePath).isFifo, "the FIFO was left alone");
  await stopUnblocker(guard);
  await t.cleanup();
});

Deno.test("run: a corrupt state file does not keep CMD from starting; it is left in place", async () => {
  const t = await setup();
  await Deno.writeTextFile(t.ctx.statePath, "{torn", { mode: 0o644 });
  await Deno.chmod(t.ctx.statePath, 0o644);
  t.ctx.rest = ["/bin/sh", "-c", `: > ${t.dir}/ran; exit 5`];
  assertEquals(await run(t.ctx, { stdio: "null", signals: t.signals }), 5);
  assert(exists(`${t.dir}/ran`), "CMD never ran");
  assertMatch(t.out.stderr.join("\n"), /could not save the default routes .*cannot be used/);
  assertEquals(await Deno.readTextFile(t.ctx.statePath), "{torn");
  await t.cleanup();
});

Deno.test({
  name: "run: CMD's leftover process is guarded after CMD exits: a void it leaves is filled",
  ignore: !onLinux,
  fn: async () => {
    const t = await setup({ json: true, grace: "0.1", linger: "60" }, [], true);
    // CMD exits at once; its background job lives on until `go`, and in between the default
    // goes (the test deletes it in the straggler's name, as an orphan's `ip route del` would).
    t.ctx.rest = [
      "/bin/sh",
      "-c",
      `(while [ ! -e ${t.dir}/go ]; do sleep 0.01; done) & echo $! > ${t.dir}/job; exit 0`,
    ];
    const running = run(t.ctx, {
      stdio: "null",
      signals: t.signals,
      processGroups: procProcessGroups,
    });
    await until(() => t.out.stderr.some((l) => /left pid \d+ \(sh\).* running/.test(l)));
    const job = Number(await Deno.readTextFile(`${t.dir}/job`));
    await t.table.deleteAs(EN0, job);
    await until(() => t.table.routes.some((r) => !r.scoped));
    await Deno.writeTextFile(`${t.dir}/go`, "");
    assertEquals(await running, 0);
    const err = t.out.stderr.join("\n");
    // The deletion is logged with the straggler's pid.
    assertMatch(err, new RegExp(`global default deleted by pid ${job}\\b`));
    const result = JSON.parse(t.out.stdout.at(-1)!);
    assertEquals(result.lingered.gone, true);
    assert(result.lingered.members.some((m: { pid: number }) => m.pid === job));
    assert(result.repairs >= 1, "the void was filled while the straggler lived");
    await t.cleanup();
  },
});

Deno.test({
  name: "run: a void left as the last straggler exits is filled before run exits",
  ignore: !onLinux,
  fn: async () => {
    // A grace period longer than the straggler lives: only the last look fills the void.
    const t = await setup({ grace: "3600", heal: true, linger: "60" });
    t.ctx.rest = [
      "/bin/sh",
      "-c",
      `(while [ ! -e ${t.dir}/go ]; do sleep 0.01; done) & exit 0`,
    ];
    const running = run(t.ctx, {
      stdio: "null",
      signals: t.signals,
      processGroups: procProcessGroups,
    });
    await until(() => t.out.stderr.some((l) => /left pid \d+ \(sh\).* running/.test(l)));
    await t.table.deleteAs(EN0, 4711);
    await until(() => t.out.stderr.some((l) => /global default deleted by pid 4711/.test(l)));
    await Deno.writeTextFile(`${t.dir}/go`, "");
    assertEquals(await running, 0);
    assertEquals(t.table.routes.filter((r) => !r.scoped).map((r) => r.gateway), ["192.168.1.1"]);
    assertMatch(t.out.stderr.join("\n"), /restored.*\(guarding after sh's exit\)/);
    await t.cleanup();
  },
});

Deno.test("run: --linger usage errors", async () => {
  for (const bad of ["-1", "x", "", "3601"]) {
    const t = await setup({ linger: bad }, ["true"]);
    let code = 0;
    try {
      code = await run(t.ctx, { stdio: "null", signals: t.signals });
    } catch (error) {
      assertMatch(String(error), /--linger takes seconds from 0 to 3600/);
      code = 2;
    }
    assertEquals(code, 2);
    await t.cleanup();
  }
});

/** Hold the state file's lock the way a hung `save` did: flock(1) around a long sleep. */
async function holdLock(statePath: string): Promise<Deno.ChildProcess> {
  await Deno.writeTextFile(`${statePath}.lock`, "", { mode: 0o600 });
  await Deno.chmod(`${statePath}.lock`, 0o600);
  const holder = new Deno.Command("flock", {
    args: ["-x", `${statePath}.lock`, "sh", "-c", `: > ${statePath}.held; exec sleep 60`],
    stdout: "null",
    stderr: "null",
  }).spawn();
  await until(() => exists(`${statePath}.held`));
  return holder;
}

async function release(holder: Deno.ChildProcess): Promise<void> {
  try {
    holder.kill("SIGKILL");
  } catch {
    // gone
  }
  await holder.status;
}

/** `promise`, or "hung" after a long while (a guard so a regression fails instead of hanging). */
function orHung<T>(promise: Promise<T>): Promise<T | "hung"> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<"hung">((resolve) => timer = setTimeout(() => resolve("hung"), 20_000)),
  ]);
}

Deno.test("watch --heal answers SIGTERM while it waits at start-up for a lock a hung save holds", async () => {
  const { watch } = await import("../../lib/cli/watch.ts");
  const t = await setup({ heal: true });
  const holder = await holdLock(t.ctx.statePath);
  try {
    const running = watch(t.ctx, { signals: t.signals });
    // It is up and waiting to record the default it found at start (it needs the lock).
    await until(() => t.table.listeners === 1);
    t.signals.send("SIGTERM");
    assertEquals(await orHung(running), 0);
  } finally {
    await release(holder);
    await t.cleanup();
  }
});

Deno.test("run restores after CMD's exit even while a hung save holds the state lock", async () => {
  const t = await setup();
  const holder = await holdLock(t.ctx.statePath);
  try {
    // The save's write waits for the lock once CMD runs; CMD exits at once: the restore must not
    // wait for that write (nor for the monitor's record stuck behind it).
    t.ctx.rest = ["/bin/sh", "-c", `: > ${t.dir}/ran; exit 4`];
    const running = run(t.ctx, { stdio: "null", signals: t.signals });
    assertEquals(await orHung(running), 4);
    assert(exists(`${t.dir}/ran`));
  } finally {
    await release(holder);
    await t.cleanup();
  }
});
