// The bundle `deno task bundle` makes (and `deno task compile` builds the binary from) is the
// program users run, so it gets the same end-to-end tests as main.ts: this builds it into a
// temporary directory and runs the CLI e2e files (Linux namespaces and the simulated Mac) and
// the run/watch e2e files again with DEFROUTE_E2E_ENTRY
// pointing at its main.js (a nested `deno test`). A chunk esbuild split wrongly, a dynamic import
// it did not follow, or a behaviour that differs from the source fails here.
// Needs root, iproute2, /dev/net/tun and a C compiler (like the files it runs); `deno bundle`
// fetches esbuild from the npm registry the first time. Skips with the reason elsewhere.
import { assert, assertEquals } from "../assert.ts";
import { namespaceSupport, ROOT } from "./netns.ts";
import { buildBundle, BundleError } from "../../scripts/bundle.ts";

const E2E_FILES = [
  "tests/cli/save_restore_status_test.ts",
  "tests/linux/cli_e2e_test.ts",
  "tests/e2e/run_watch_linux_test.ts",
  "tests/e2e/run_watch_darwin_test.ts",
];

const support = namespaceSupport();
if (!support.ok) console.log(`skipping the bundle e2e test: ${support.reason}`);

Deno.test({
  name: "bundle e2e: the shipped bundle passes the CLI and run/watch end-to-end tests (both OSes)",
  ignore: !support.ok,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "drt-bundle-" });
    try {
      let entry: string;
      try {
        entry = await buildBundle(`${dir}/bundle`);
      } catch (error) {
        // Not a skip: a bundle that cannot be built is a build that cannot ship.
        throw error instanceof BundleError ? new Error(error.message) : error;
      }
      const chunks = [...Deno.readDirSync(`${dir}/bundle`)].map((e) => e.name);
      // One chunk per dynamically imported command and backend, not one file with everything.
      for (const name of ["save", "restore", "run", "route_table"]) {
        assert(chunks.some((c) => c.startsWith(`${name}-`)), `no ${name} chunk in ${chunks}`);
      }
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["test", "--allow-all", "--no-prompt", ...E2E_FILES],
        cwd: ROOT,
        env: { DEFROUTE_E2E_ENTRY: entry, NO_COLOR: "1" },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stdout = new TextDecoder().decode(output.stdout);
      const stderr = new TextDecoder().decode(output.stderr);
      const summary = stdout.split("\n").reverse().find((l) => /\d+ passed.*\d+ failed/.test(l));
      assertEquals(output.code, 0, `e2e against the bundle failed:\n${stdout}\n${stderr}`);
      const passed = Number(summary?.match(/(\d+) passed/)?.[1] ?? 0);
      const ignored = Number(summary?.match(/(\d+) ignored/)?.[1] ?? 0);
      // As root with namespaces every one of them runs; none may skip against the bundle.
      assert(passed >= 20 && ignored === 0, `against the bundle: ${summary}\n${stdout}`);
      // And they really ran the bundle, not main.ts (each file names its entry when overridden).
      assert(stdout.includes(`cli e2e entry: ${entry}`), `cli_e2e_test.ts did not use ${entry}`);
      assert(
        stdout.includes(`run/watch e2e entry: ${entry}`),
        `run/watch e2e did not use ${entry}`,
      );
      assert(
        stdout.includes(`simulated-Mac e2e entry: ${entry}`),
        `save_restore_status_test.ts did not use ${entry}`,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
