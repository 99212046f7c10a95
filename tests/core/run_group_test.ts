/**
 * The run wrapper (lib/process/run_wrapper.ts) and CMD's process group, with real processes and a
 * fake signal source: CMD in its own group, signals to the whole group, SIGHUP forwarded and
 * never counted toward SIGKILL (sing-box reloads on it), a signal while preparing answered at
 * once, a CMD with a bad `#!` line never "started", and the wait (--linger) for what CMD left
 * running, with the members named. Linux's /proc answers who is in a group here
 * (lib/linux/process_group.ts); the darwin answer is tests/darwin/process_group_test.ts.
 */
import { FakeSignals } from "./fake_signals.ts";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  type RunOutcome,
  runWrapped,
  type RunWrapperOptions,
} from "../../lib/process/run_wrapper.ts";
import { procProcessGroups } from "../../lib/linux/process_group.ts";
import type { ProcessGroupMember } from "../../lib/process/process_group.ts";

const onLinux = Deno.build.os === "linux";

function harness(command: string, args: string[], extra: Partial<RunWrapperOptions> = {}) {
  const log: string[] = [];
  const order: string[] = [];
  const signals = new FakeSignals();
  const options: RunWrapperOptions = {
    command,
    args,
    killAfterMs: null,
    stdio: "null",
    signals,
    log: {
      announce: (l) => log.push(l),
      info: (l) => log.push(l),
      debug: (l) => log.push(l),
      warn: (l) => log.push(`warn: ${l}`),
    },
    before: () => Promise.resolve(),
    started: (pid) => order.push(`started ${pid}`),
    after: (exit) => {
      order.push(`after ${exit.exitStatus}`);
      return Promise.resolve();
    },
    ...extra,
  };
  return { options, log, order, signals };
}

function exitOf(outcome: RunOutcome): number {
  return outcome.started ? outcome.exit.exitStatus : outcome.exitStatus;
}

async function waitFor(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 4000; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 5));
  }
  throw new Error(`${what} never happened`);
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

function alive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return !/^\d+ \(.*\) Z /.test(stat);
  } catch {
    return false;
  }
}

async function tempDir(): Promise<string> {
  return await Deno.makeTempDir({ prefix: "defroute-group-" });
}

Deno.test({
  name: "run wrapper: CMD runs in its own process group (its pid is the group id)",
  ignore: !onLinux,
  fn: async () => {
    const dir = await tempDir();
    // Field 5 of /proc/PID/stat is the process group.
    const h = harness("/bin/sh", ["-c", `cut -d' ' -f5 /proc/$$/stat > ${dir}/pgid`]);
    const outcome = await runWrapped(h.options);
    assert(outcome.started);
    assertEquals(Number(Deno.readTextFileSync(`${dir}/pgid`)), outcome.exit.pid);
    assertEquals(h.order, [`started ${outcome.exit.pid}`, "after 0"]);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "run wrapper: a forwarded SIGTERM reaches CMD's whole group, not CMD alone",
  ignore: !onLinux,
  fn: async () => {
    const dir = await tempDir();
    // CMD's child ignores nothing and would outlive CMD if only CMD got the signal.
    const h = harness("/bin/sh", [
      "-c",
      `sleep 30 & echo $! > ${dir}/child; trap 'exit 40' TERM; : > ${dir}/ready; wait`,
    ]);
    const running = runWrapped(h.options);
    await waitFor(() => exists(`${dir}/ready`), "CMD ready");
    const child = Number(Deno.readTextFileSync(`${dir}/child`));
    h.signals.send("SIGTERM");
    assertEquals(exitOf(await running), 40);
    await waitFor(() => !alive(child), "CMD's child got SIGTERM too");
    assertMatch(h.log.join("\n"), /forwarding SIGTERM to pid \d+ and its process group/);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("run wrapper: SIGHUP three times is forwarded each time and never kills CMD", async () => {
  const dir = await tempDir();
  // A CMD that reloads on SIGHUP (as sing-box does) and exits 0 after the third reload.
  const h = harness("/bin/sh", [
    "-c",
    `n=0; trap 'n=$((n+1)); echo $n >> ${dir}/reloads' HUP; : > ${dir}/ready; ` +
    `while [ $n -lt 3 ]; do sleep 0.01; done; exit 0`,
  ], { killAfterMs: 50 });
  const running = runWrapped(h.options);
  await waitFor(() => exists(`${dir}/ready`), "CMD ready");
  for (let i = 1; i <= 3; i++) {
    h.signals.send("SIGHUP");
    await waitFor(
      () => exists(`${dir}/reloads`) && Deno.readTextFileSync(`${dir}/reloads`).includes(`${i}`),
      `reload ${i}`,
    );
  }
  const outcome = await running;
  assert(outcome.started);
  // Not killed (the third signal of the old count), nor by --kill-after after the first.
  assertEquals([outcome.exit.exitStatus, outcome.exit.signal, outcome.exit.killedByWrapper], [
    0,
    null,
    false,
  ]);
  assertEquals(h.log.filter((l) => /forwarding SIGHUP .*\(not counted\)/.test(l)).length, 3);
  assert(!h.log.some((l) => /SIGKILL/.test(l)), h.log.join("\n"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("run wrapper: SIGHUPs do not count toward the third stop signal", async () => {
  const dir = await tempDir();
  const h = harness("/bin/sh", [
    "-c",
    `trap '' HUP; trap 'echo int >> ${dir}/ints' INT; : > ${dir}/ready; ` +
    `while :; do sleep 0.01; done`,
  ]);
  const running = runWrapped(h.options);
  await waitFor(() => exists(`${dir}/ready`), "CMD ready");
  const ints = () =>
    exists(`${dir}/ints`) ? Deno.readTextFileSync(`${dir}/ints`).trim().split("\n").length : 0;
  // One at a time: signals of one kind pending together are delivered once.
  for (
    const [signal, handled] of [["SIGHUP", 0], ["SIGHUP", 0], ["SIGINT", 1], ["SIGINT", 2]] as const
  ) {
    h.signals.send(signal);
    await waitFor(() => ints() >= handled, `${signal} handled`);
  }
  assert(!h.log.some((l) => /SIGKILL/.test(l)), "two stop signals and two SIGHUPs: no SIGKILL");
  h.signals.send("SIGINT"); // the third stop signal
  const outcome = await running;
  assert(outcome.started && outcome.exit.killedByWrapper);
  assertEquals(outcome.exit.exitStatus, 137);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("run wrapper: a signal while preparing is answered at once; CMD never starts", async () => {
  let release = () => {};
  const preparing = new Promise<void>((resolve) => release = resolve);
  let started = false;
  const h = harness("/bin/sh", ["-c", "exit 0"], {
    // Preparation that does not finish by itself (a lock held by a hung process).
    before: () => preparing,
    started: () => started = true,
  });
  const running = runWrapped(h.options);
  await new Promise((r) => setTimeout(r, 10));
  h.signals.send("SIGTERM");
  // The outcome comes while preparation is still pending; a guard keeps a regression from
  // hanging the suite (it fails the test instead).
  const guard = new Promise<"still preparing">((r) =>
    setTimeout(() => r("still preparing"), 20_000)
  );
  const first = await Promise.race([running, guard]);
  release();
  assert(first !== "still preparing", "SIGTERM while preparing was not answered");
  assertEquals(exitOf(first), 143);
  assert(!first.started);
  assertMatch(first.message, /SIGTERM received before \/bin\/sh started; not starting it/);
  assertEquals(started, false);
  assertEquals(h.signals.count, 0, "handlers removed");
});

Deno.test("run wrapper: a CMD whose #! interpreter is missing never counts as started", async () => {
  const dir = await tempDir();
  const script = `${dir}/vpn`;
  await Deno.writeTextFile(script, "#!/nonexistent/interpreter\necho hi\n", { mode: 0o755 });
  await Deno.chmod(script, 0o755);
  let started = false;
  const h = harness(script, [], { started: () => started = true });
  const outcome = await runWrapped(h.options);
  assertEquals(exitOf(outcome), 127);
  assertEquals(started, false, "the state file would have been written");
  await Deno.remove(dir, { recursive: true });
});

Deno.test({
  name: "run wrapper: after CMD exits, its leftover processes are waited for and named",
  ignore: !onLinux,
  fn: async () => {
    const dir = await tempDir();
    let guarded: ProcessGroupMember[] = [];
    let guardEnded = false;
    const h = harness("/bin/sh", [
      "-c",
      `(while [ ! -e ${dir}/go ]; do sleep 0.01; done; : > ${dir}/straggler-done) & exit 0`,
    ], {
      lingerMs: 60_000,
      processGroups: () => procProcessGroups,
      linger: (members, signal) => {
        guarded = [...members];
        return new Promise((resolve) =>
          signal.addEventListener("abort", () => {
            guardEnded = true;
            resolve();
          })
        );
      },
    });
    const running = runWrapped(h.options);
    await waitFor(() => guarded.length > 0, "the linger guard");
    assert(h.order.includes("after 0"), "the restore ran first, at CMD's exit");
    assertEquals(guardEnded, false);
    await Deno.writeTextFile(`${dir}/go`, "");
    const outcome = await running;
    assert(outcome.started && outcome.lingered !== null);
    assert(exists(`${dir}/straggler-done`), "run returned only once the straggler was done");
    assertEquals(outcome.lingered.gone, true);
    assertEquals(outcome.lingered.members.map((m) => m.name).filter((n) => n !== "sleep"), ["sh"]);
    assert(guardEnded);
    const log = h.log.join("\n");
    assertMatch(log, /left pid \d+ \(sh\).* running in its process group: guarding the default/);
    assertMatch(log, /process group is gone/);
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test({
  name: "run wrapper: --linger bounds the wait; a straggler still running is named and left",
  ignore: !onLinux,
  fn: async () => {
    const dir = await tempDir();
    const h = harness("/bin/sh", ["-c", `sleep 30 & echo $! > ${dir}/child; exit 0`], {
      lingerMs: 200,
      processGroups: () => procProcessGroups,
    });
    const outcome = await runWrapped(h.options);
    const child = Number(Deno.readTextFileSync(`${dir}/child`));
    try {
      assert(outcome.started && outcome.lingered !== null);
      assertEquals(outcome.lingered.gone, false);
      assertEquals(outcome.lingered.left.map((m) => [m.pid, m.name]), [[child, "sleep"]]);
      assertMatch(
        h.log.join("\n"),
        new RegExp(`warn: pid ${child} \\(sleep\\) of /bin/sh's process group still running`),
      );
      assert(alive(child), "left alone, not killed");
    } finally {
      Deno.kill(child, "SIGKILL");
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "run wrapper: a stop signal while lingering goes to the group and ends the wait",
  ignore: !onLinux,
  fn: async () => {
    const dir = await tempDir();
    let lingering = false;
    const h = harness("/bin/sh", ["-c", `sleep 30 & echo $! > ${dir}/child; exit 0`], {
      lingerMs: 60_000,
      processGroups: () => procProcessGroups,
      linger: (_members, signal) => {
        lingering = true;
        return new Promise((resolve) => signal.addEventListener("abort", () => resolve()));
      },
    });
    const running = runWrapped(h.options);
    await waitFor(() => lingering, "the linger");
    const child = Number(Deno.readTextFileSync(`${dir}/child`));
    h.signals.send("SIGTERM");
    const outcome = await running;
    assert(outcome.started && outcome.lingered !== null);
    await waitFor(() => !alive(child), "the straggler got SIGTERM");
    await Deno.remove(dir, { recursive: true });
  },
});

Deno.test("run wrapper: no linger when CMD left nothing, or with --linger 0", async () => {
  const asked: string[] = [];
  const groups = {
    exists: (pgid: number) => (asked.push(`exists ${pgid > 0}`), false),
    members: () => (asked.push("members"), []),
  };
  const h = harness("/bin/sh", ["-c", "exit 0"], {
    lingerMs: 5000,
    processGroups: () => groups,
  });
  const outcome = await runWrapped(h.options);
  assert(outcome.started);
  // The usual case costs one kill(-pgid, 0) and no listing.
  assertEquals([outcome.lingered, asked], [null, ["exists true"]]);
  const zero = harness("/bin/sh", ["-c", "exit 0"], {
    lingerMs: 0,
    processGroups: () => groups,
  });
  const none = await runWrapped(zero.options);
  assert(none.started);
  assertEquals([none.lingered, asked.length], [null, 1], "--linger 0 does not even look");
});

Deno.test({
  name: "linux process groups: exists (kill -pgid 0) and members (/proc through libc)",
  ignore: !onLinux,
  fn: async () => {
    const child = new Deno.Command("/bin/sh", {
      args: ["-c", "sleep 30 & read line"],
      stdin: "piped",
      detached: true,
    }).spawn();
    try {
      assert(procProcessGroups.exists(child.pid));
      await waitFor(() => procProcessGroups.members(child.pid).length === 2, "sh and sleep");
      assertEquals(procProcessGroups.members(child.pid).map((m) => m.name).sort(), ["sh", "sleep"]);
    } finally {
      Deno.kill(-child.pid, "SIGKILL");
      await child.status;
      await child.stdin.close().catch(() => {});
    }
    await waitFor(() => !procProcessGroups.exists(child.pid), "the group gone");
    assertEquals(procProcessGroups.members(child.pid), []);
  },
});
