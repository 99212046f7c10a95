/**
 * The run wrapper (lib/process/run_wrapper.ts) with real child processes and a fake signal source:
 * exit statuses, signal forwarding, the third-signal and --kill-after SIGKILL, commands that
 * cannot start, and the before/during/after order.
 */
import { FakeSignals } from "./fake_signals.ts";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import {
  exitStatusOf,
  resolveCommand,
  type RunOutcome,
  runWrapped,
  type RunWrapperOptions,
} from "../../lib/process/run_wrapper.ts";

function harness(command: string, args: string[], extra: Partial<RunWrapperOptions> = {}) {
  const order: string[] = [];
  const log: string[] = [];
  const signals = new FakeSignals();
  let pid = 0;
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
    before: () => {
      order.push(`before (handlers: ${signals.count})`);
      return Promise.resolve();
    },
    during: (p, signal) => {
      pid = p;
      order.push("during");
      return new Promise((resolve) =>
        signal.addEventListener("abort", () => {
          order.push("during ended");
          resolve();
        })
      );
    },
    after: (exit) => {
      order.push(`after ${exit.exitStatus}`);
      return Promise.resolve();
    },
    ...extra,
  };
  return { options, order, log, signals, pid: () => pid };
}

Deno.test("run wrapper: onExit sees the exit first, before the monitor stops and before after", async () => {
  const seen: string[] = [];
  const h = harness("/bin/sh", ["-c", "exit 7"], {
    onExit: async (exit) => {
      seen.push(`onExit ${exit.exitStatus} ${exit.code} ${exit.signal}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
      seen.push("onExit done");
    },
  });
  const wrapped = h.options.during!;
  h.options.during = (pid, signal) => {
    signal.addEventListener("abort", () => seen.push("monitor told to stop"));
    return wrapped(pid, signal);
  };
  const outcome = await runWrapped(h.options);
  assertEquals(exitOf(outcome), 7);
  // The monitor is told to stop only once onExit (the restore) is done.
  assertEquals(seen, ["onExit 7 7 null", "onExit done", "monitor told to stop"]);
  assertEquals(h.order, ["before (handlers: 4)", "during", "during ended", "after 7"]);
});

Deno.test("run wrapper: onExit is not called when CMD never starts", async () => {
  let called = false;
  const h = harness("/nonexistent/defroute-no-such-command", [], {
    onExit: () => {
      called = true;
    },
  });
  const outcome = await runWrapped(h.options);
  assertEquals(exitOf(outcome), 127);
  assertEquals(called, false);
});

function exitOf(outcome: RunOutcome): number {
  return outcome.started ? outcome.exit.exitStatus : outcome.exitStatus;
}

/** Wait until the child's shell has set its traps (it writes a marker file). */
async function waitForFile(path: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    try {
      Deno.statSync(path);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  throw new Error(`${path} never appeared`);
}

Deno.test("run wrapper: CMD exits 0: save, monitor, restore, in that order, exit 0", async () => {
  const h = harness("true", []);
  const outcome = await runWrapped(h.options);
  assertEquals(exitOf(outcome), 0);
  assertEquals(h.order, ["before (handlers: 4)", "during", "during ended", "after 0"]);
  assertEquals(h.signals.count, 0, "handlers are removed afterwards");
});

Deno.test("run wrapper: CMD exits 3: restored, exit 3", async () => {
  const h = harness("/bin/sh", ["-c", "exit 3"]);
  assertEquals(exitOf(await runWrapped(h.options)), 3);
  assertEquals(h.order.at(-1), "after 3");
});

Deno.test("run wrapper: CMD killed by SIGKILL from outside: restored, exit 137", async () => {
  const h = harness("/bin/sh", ["-c", "kill -KILL $$"]);
  const outcome = await runWrapped(h.options);
  assertEquals(exitOf(outcome), 137);
  assert(outcome.started && outcome.exit.signal === "SIGKILL" && !outcome.exit.killedByWrapper);
  assertEquals(h.order.at(-1), "after 137");
});

Deno.test("run wrapper: CMD crashes (SIGSEGV): restored, exit 139", async () => {
  const h = harness("/bin/sh", ["-c", "kill -SEGV $$"]);
  assertEquals(exitOf(await runWrapped(h.options)), 139);
  assertEquals(h.order.at(-1), "after 139");
});

for (const signal of ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const) {
  Deno.test(`run wrapper: ${signal} is forwarded to CMD, then restore`, async () => {
    const dir = await Deno.makeTempDir();
    const name = signal.slice(3);
    // CMD traps only this signal and exits 40 on it; any other would end it differently.
    const script = `trap 'exit 40' ${name}; ` +
      `: > ${dir}/ready; while :; do sleep 0.02; done`;
    const h = harness("/bin/sh", ["-c", script]);
    const running = runWrapped(h.options);
    await waitForFile(`${dir}/ready`);
    h.signals.send(signal);
    const outcome = await running;
    assertEquals(exitOf(outcome), 40);
    assertMatch(h.log.join("\n"), new RegExp(`forwarding ${signal} to pid \\d+`));
    assertEquals(h.order.at(-1), "after 40");
    await Deno.remove(dir, { recursive: true });
  });
}

Deno.test("run wrapper: a second signal is forwarded again, a third sends SIGKILL", async () => {
  const dir = await Deno.makeTempDir();
  const script = `n=0; trap 'n=$((n+1)); echo $n > ${dir}/count' TERM; ` +
    `: > ${dir}/ready; while :; do sleep 0.02; done`;
  const h = harness("/bin/sh", ["-c", script]);
  const running = runWrapped(h.options);
  await waitForFile(`${dir}/ready`);
  h.signals.send("SIGTERM");
  for (let i = 0; i < 2000 && (await readOr(`${dir}/count`)) !== "1"; i++) await tick();
  h.signals.send("SIGTERM");
  for (let i = 0; i < 2000 && (await readOr(`${dir}/count`)) !== "2"; i++) await tick();
  h.signals.send("SIGTERM");
  const outcome = await running;
  assertEquals(await readOr(`${dir}/count`), "2", "CMD saw exactly two forwarded signals");
  assertEquals(exitOf(outcome), 137);
  assert(outcome.started && outcome.exit.killedByWrapper);
  assertEquals(h.order.at(-1), "after 137");
  assertMatch(h.log.join("\n"), /third signal \(SIGTERM\): sending SIGKILL/);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("run wrapper: --kill-after sends SIGKILL to a CMD that ignores the signal", async () => {
  const dir = await Deno.makeTempDir();
  const script = `trap '' TERM INT; : > ${dir}/ready; while :; do sleep 0.02; done`;
  const h = harness("/bin/sh", ["-c", script], { killAfterMs: 50 });
  const running = runWrapped(h.options);
  await waitForFile(`${dir}/ready`);
  h.signals.send("SIGINT");
  const outcome = await running;
  assertEquals(exitOf(outcome), 137);
  assertMatch(h.log.join("\n"), /still running 0.05 s after SIGINT \(--kill-after\)/);
  assertEquals(h.order.at(-1), "after 137");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("run wrapper: a CMD not found exits 127 and nothing is saved or restored", async () => {
  const h = harness("defroute-no-such-command-xyz", []);
  const outcome = await runWrapped(h.options);
  assertEquals(exitOf(outcome), 127);
  assert(!outcome.started);
  assertMatch(outcome.message, /defroute-no-such-command-xyz: command not found/);
  assertEquals(h.order, []);
  assertEquals(h.signals.count, 0);
});

Deno.test("run wrapper: a CMD that is not executable exits 126 and changes nothing", async () => {
  const file = await Deno.makeTempFile();
  const h = harness(file, []);
  const outcome = await runWrapped(h.options);
  assertEquals(exitOf(outcome), 126);
  assertEquals(h.order, []);
  await Deno.remove(file);
});

Deno.test("run wrapper: a signal while saving stops CMD from starting; no restore", async () => {
  const h = harness("true", []);
  h.options.before = () => {
    h.signals.send("SIGTERM");
    h.order.push("before");
    return Promise.resolve();
  };
  const outcome = await runWrapped(h.options);
  assertEquals(exitOf(outcome), 143);
  assertEquals(h.order, ["before"]);
});

Deno.test("run wrapper: a failing restore still removes the handlers and rejects", async () => {
  const h = harness("true", []);
  h.options.after = () => Promise.reject(new Error("restore failed"));
  let message = "";
  try {
    await runWrapped(h.options);
  } catch (error) {
    message = (error as Error).message;
  }
  assertEquals(message, "restore failed");
  assertEquals(h.signals.count, 0);
});

Deno.test("exitStatusOf: code, or 128+N for a signal death", () => {
  assertEquals(exitStatusOf({ code: 3, signal: null }), 3);
  assertEquals(exitStatusOf({ code: 137, signal: "SIGKILL" }), 137);
  assertEquals(exitStatusOf({ code: 1, signal: "SIGTERM" }), 143);
  assertEquals(exitStatusOf({ code: 130, signal: "SIGINT" }), 130);
});

Deno.test("resolveCommand: PATH lookup like execvp, 127 and 126 like a shell", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/plain`, "");
  await Deno.writeTextFile(`${dir}/tool`, "#!/bin/sh\n");
  await Deno.chmod(`${dir}/tool`, 0o755);
  assertEquals(resolveCommand("tool", `/nonexistent:${dir}`), { ok: true, path: `${dir}/tool` });
  assertEquals(resolveCommand("plain", dir).ok, false);
  assertEquals((resolveCommand("plain", dir) as { exitCode: number }).exitCode, 126);
  assertEquals((resolveCommand("nothing", dir) as { exitCode: number }).exitCode, 127);
  assertEquals((resolveCommand(`${dir}/nothing`, dir) as { exitCode: number }).exitCode, 127);
  assertEquals((resolveCommand(dir, dir) as { exitCode: number }).exitCode, 126);
  await Deno.remove(dir, { recursive: true });
});

async function readOr(path: string): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trim();
  } catch {
    return "";
  }
}

function tick(): Promise<void> {
  return new Promise((r) => setTimeout(r, 5));
}
