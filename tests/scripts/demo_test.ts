/**
 * `deno task demo` tells a true story (issue 14, items 1 and 9).
 *
 * - Without root, the simulated-Mac story runs end to end: whether defroute may change the
 *   simulated Mac's routes is that kernel's answer, not the user's uid (lib/system.ts
 *   changesAllowed), so `restore` really puts the default back and the demo exits 0.
 * - When the simulated kernel refuses (DEFROUTE_SIM_UNPRIVILEGED=1: a routing socket without
 *   root's privilege, EPERM as xnu's route_output gives one), the demo says the default is not
 *   back and exits 1: it never claims a success it did not have.
 * - The demo downloads nothing it does not run: from an empty DENO_DIR, the real-kernel story
 *   leaves no npm package behind (npm:ipaddr.js is for tests and the simulated kernel only).
 */
import { assert, assertEquals } from "../assert.ts";
import { buildStandin, REPO_DIR, standinUnavailableReason } from "../harness/standin.ts";
import { denoAsNobody, prepareNobody, unprivilegedUnavailableReason } from "../unprivileged.ts";
import { namespaceSupport } from "../linux/netns.ts";
import { join } from "node:path";

const DEMO_MAC = join(REPO_DIR, "scripts", "demo_mac.ts");

const standinMissing = standinUnavailableReason();
const nobodyMissing = unprivilegedUnavailableReason();
if (standinMissing) console.log(`demo_test: simulated-Mac demo skipped: ${standinMissing}`);
if (nobodyMissing) console.log(`demo_test: the demo as nobody is skipped: ${nobodyMissing}`);

Deno.test({
  name:
    "demo without root: the simulated Mac's kernel allows the restore, the default is back, exit 0",
  ignore: standinMissing !== null || nobodyMissing !== null,
  async fn() {
    await buildStandin(); // as root, so nobody finds it built
    const nobody = await prepareNobody();
    try {
      const result = await denoAsNobody(["run", "--allow-all", DEMO_MAC], nobody);
      const text = result.stdout + result.stderr;
      assertEquals(result.code, 0, text);
      assert(text.includes("IPv4 default restored: 192.168.1.1 via en0"), text);
      assert(text.includes("The simulated Mac has its global default back."), text);
      assert(!text.includes("needs root"), text);
    } finally {
      await nobody.remove();
    }
  },
});

Deno.test({
  name:
    "demo: when the simulated kernel refuses the change, it says the default is NOT back and exits 1",
  ignore: standinMissing !== null,
  async fn() {
    const output = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", DEMO_MAC],
      // defroute's routing sockets lack root's privilege; the tunnel's stay privileged.
      env: { DEFROUTE_SIM_UNPRIVILEGED: "1", NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    assertEquals(output.code, 1, text);
    assert(text.includes("[exit 3]"), text);
    assert(text.includes("The simulated Mac has NO global default"), text);
    assert(!text.includes("has its global default back"), text);
  },
});

/** The packages under a DENO_DIR's npm cache (registry/name), if any. */
function npmPackages(npmDir: string): string[] {
  const found: string[] = [];
  try {
    for (const registry of Deno.readDirSync(npmDir)) {
      for (const pkg of Deno.readDirSync(join(npmDir, registry.name))) {
        found.push(`${registry.name}/${pkg.name}`);
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found;
}

const netns = namespaceSupport();
if (!netns.ok) console.log(`demo_test: the real-kernel demo is skipped: ${netns.reason}`);

Deno.test({
  name: "deno task demo from an empty DENO_DIR downloads nothing it does not run (no npm package)",
  ignore: !netns.ok,
  async fn() {
    const denoDir = await Deno.makeTempDir({ prefix: "defroute-fresh-deno-" });
    try {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["task", "demo"],
        cwd: REPO_DIR,
        env: { DENO_DIR: denoDir, NO_COLOR: "1" },
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(output.stdout) +
        new TextDecoder().decode(output.stderr);
      assertEquals(output.code, 0, text);
      assert(text.includes("The default route is back"), text);
      assertEquals(npmPackages(join(denoDir, "npm")), [], "the demo downloaded npm packages");
    } finally {
      await Deno.remove(denoDir, { recursive: true });
    }
  },
});
