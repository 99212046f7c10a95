/**
 * scripts/bundle.ts (`deno task bundle`): the argument list it hands to `deno bundle`, and the
 * task as users run it. Building needs esbuild from the npm registry (cached after the first
 * time); without it the building test skips with the reason.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { buildBundle, bundleArgs, BundleError, DEFAULT_BUNDLE_DIR } from "../../scripts/bundle.ts";

const ROOT = new URL("../../", import.meta.url).pathname.replace(/\/$/, "");
const SCRIPT = `${ROOT}/scripts/bundle.ts`;

async function task(args: string[], env: Record<string, string> = {}) {
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", SCRIPT, ...args],
    env: { NO_COLOR: "1", ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: result.code, stdout: decode(result.stdout), stderr: decode(result.stderr) };
}

Deno.test("bundleArgs: Deno platform, split at dynamic imports, not minified, main.ts", () => {
  assertEquals(bundleArgs("/tmp/b"), [
    "bundle",
    "--quiet",
    "--platform",
    "deno",
    "--code-splitting",
    "--outdir",
    "/tmp/b",
    `${ROOT}/main.ts`,
  ]);
  assertEquals(DEFAULT_BUNDLE_DIR, `${ROOT}/dist/bundle`);
});

Deno.test("deno task bundle: anything but --out DIR is a usage error (exit 2), nothing built", async () => {
  for (const args of [["--bogus"], ["--out"], ["--out", ""], ["--out", "a", "b"]]) {
    const r = await task(args);
    assertEquals(r.code, 2, `${args}: ${r.stderr}`);
    assertEquals(r.stderr.trim(), "usage: deno task bundle [--out DIR]");
    assertEquals(r.stdout, "");
  }
});

// Built once here: whether esbuild can be had (it may need the npm registry the first time).
const probeDir = await Deno.makeTempDir({ prefix: "defroute-bundle-" });
let bundlerProblem: string | null = null;
try {
  await buildBundle(probeDir);
} catch (error) {
  bundlerProblem = error instanceof BundleError ? error.message : String(error);
}
await Deno.remove(probeDir, { recursive: true });
if (bundlerProblem) console.log(`bundle build test skipped: ${bundlerProblem}`);

Deno.test({
  name: "deno task bundle --out DIR: a relative DIR is where the user is; stale chunks are removed",
  ignore: bundlerProblem !== null,
  async fn() {
    const user = await Deno.makeTempDir({ prefix: "defroute-user-" });
    try {
      // A chunk left by an older build must not survive into the new one.
      await Deno.mkdir(`${user}/out`);
      await Deno.writeTextFile(`${user}/out/chunk-STALE.js`, "old");
      const r = await task(["--out", "out"], { INIT_CWD: user });
      assertEquals(r.code, 0, r.stderr);
      assertEquals(r.stdout.trim(), `${user}/out/main.js`);
      const files = [...Deno.readDirSync(`${user}/out`)].map((e) => e.name);
      assert(!files.includes("chunk-STALE.js"), "the old chunk is still there");
      assert(files.some((f) => f.startsWith("save-")), `no save chunk in ${files}`);
      const main = await Deno.readTextFile(`${user}/out/main.js`);
      // main.ts's shebang survives, so the bundle runs like main.ts does.
      assertMatch(main.split("\n")[0] ?? "", /^#!\/usr\/bin\/env -S deno run /);
    } finally {
      await Deno.remove(user, { recursive: true });
    }
  },
});

Deno.test({
  name: "buildBundle: a failing deno bundle is one BundleError line, not a stack trace",
  ignore: bundlerProblem !== null,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "defroute-bundle-" });
    try {
      const entry = `${dir}/broken.ts`;
      await Deno.writeTextFile(entry, 'import "./missing.ts";\n');
      let error: unknown = null;
      try {
        await buildBundle(`${dir}/out`, entry);
      } catch (caught) {
        error = caught;
      }
      assert(error instanceof BundleError, `not a BundleError: ${error}`);
      assertMatch(error.message, /^deno bundle failed: .*missing\.ts/);
      assertEquals(error.message.split("\n").length, 1);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("buildBundle refuses to empty a directory that is not a bundle, and deletes nothing", async () => {
  const dir = await Deno.makeTempDir({ prefix: "defroute-user-" });
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "mine");
    await Deno.writeTextFile(`${dir}/old.js`, "mine too");
    let error: unknown = null;
    try {
      await buildBundle(dir);
    } catch (caught) {
      error = caught;
    }
    assert(error instanceof BundleError, `not a BundleError: ${error}`);
    assertMatch(error.message, /holds more than a bundle \(notes\.txt\)/);
    assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["notes.txt", "old.js"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
