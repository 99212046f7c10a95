/**
 * The sing-box plist's WorkingDirectory only helps if `defroute run` starts CMD in the directory
 * launchd started defroute in (launchd.plist(5) WorkingDirectory: launchd chdir()s before exec).
 * On the simulated Mac (the real darwin FFI code against the simulated XNU kernel), `run` is
 * started with a working directory and CMD reports the one it got.
 */
import { assertEquals } from "../assert.ts";
import { standinUnavailableReason, startSimulator } from "../harness/sim.ts";
import { defrouteArgv } from "../e2e/run_watch_lib.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping the sing-box working-directory test: ${skip}`);

Deno.test({
  name: "defroute run starts CMD in its own working directory (the plist's WorkingDirectory)",
  ignore: skip !== null,
  fn: async () => {
    const dir = await Deno.realPath(await Deno.makeTempDir({ prefix: "defroute-cwd-" }));
    try {
      await using sim = await startSimulator();
      const [program, argv] = defrouteArgv([
        "run",
        "--family",
        "4",
        "--state",
        `${dir}/state.json`,
        "--",
        "/bin/sh",
        "-c",
        "pwd",
      ]);
      const result = await new Deno.Command(program, {
        args: argv,
        cwd: dir,
        env: sim.env,
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(result.stderr);
      assertEquals(result.code, 0, stderr);
      assertEquals(new TextDecoder().decode(result.stdout).trim(), dir);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
