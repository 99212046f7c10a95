/**
 * The two ways to start defroute from the source tree (issue 14 item 7):
 * - `deno task defroute` (scripts/defroute.ts) passes SIGINT, SIGTERM, SIGHUP and SIGQUIT on to
 *   the real defroute: a SIGTERM to the launcher once killed it alone and left `defroute run`
 *   and its CMD running;
 * - main.ts, which has a shebang, is executable, in the work tree and in git (mode 100755).
 * `run` runs on the simulated Mac here, so nothing of this machine's routing table is touched.
 */
import { assert, assertEquals } from "../assert.ts";
import { REPO_DIR, standinUnavailableReason } from "../harness/standin.ts";
import { startSimulator } from "../harness/sim.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`launcher_test: the signal test is skipped: ${skip}`);

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT"); // harmless; fails with ESRCH once the process is gone
    return true;
  } catch {
    return false;
  }
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.test({
    name:
      `deno task defroute: ${signal} to the launcher reaches run's CMD; all exit, routes restored`,
    ignore: skip !== null,
    async fn() {
      await using sim = await startSimulator();
      // CMD says its pid, then waits for the signal and exits 0 when it comes.
      const script = `trap 'echo got-signal; exit 0' ${signal.slice(3)}; echo "pid $$"; ` +
        `while :; do sleep 0.1; done`;
      const launcher = new Deno.Command(Deno.execPath(), {
        args: ["task", "--quiet", "defroute", "run", "--", "/bin/sh", "-c", script],
        cwd: REPO_DIR,
        env: sim.env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const reader = launcher.stdout.pipeThrough(new TextDecoderStream()).getReader();
      let out = "";
      while (!/pid \d+\n/.test(out)) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      const cmdPid = Number(/pid (\d+)/.exec(out)?.[1]);
      assert(cmdPid > 0, `no pid from CMD: ${out}`);
      launcher.kill(signal);
      // Read the rest while waiting: the launcher's exit comes first, CMD's fate is then known.
      const rest = (async () => {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          out += value;
        }
      })();
      const status = await launcher.status;
      const cmdAlive = alive(cmdPid);
      if (cmdAlive) Deno.kill(cmdPid, "SIGKILL"); // the old launcher left it: clean up, then fail
      await rest;
      const stderr = new TextDecoder().decode(await new Response(launcher.stderr).arrayBuffer());
      assertEquals(cmdAlive, false, `CMD (pid ${cmdPid}) was left running: ${stderr}`);
      assert(out.includes("got-signal"), `CMD never got ${signal}: ${out}\n${stderr}`);
      assertEquals(status.code, 0, stderr);
      assert(/exited with status 0/.test(stderr), stderr);
      assert((await sim.defaults(4)).some((r) => !r.scoped), "the global default is gone");
    },
  });
}

Deno.test("main.ts has a shebang and is executable, in the tree and in git (100755)", async () => {
  const main = `${REPO_DIR}/main.ts`;
  assert(Deno.readTextFileSync(main).startsWith("#!/usr/bin/env -S deno run "));
  assertEquals((Deno.statSync(main).mode ?? 0) & 0o111, 0o111);
  const git = await new Deno.Command("git", {
    args: ["ls-files", "-s", "main.ts"],
    cwd: REPO_DIR,
    stdout: "piped",
    stderr: "null",
  }).output().catch(() => null);
  if (git === null || !git.success) {
    console.log("launcher_test: not a git checkout; the git mode is not checked");
    return;
  }
  assertEquals(new TextDecoder().decode(git.stdout).split(" ")[0], "100755");
});
