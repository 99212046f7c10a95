/**
 * scripts/compile.ts: the argument list it hands to `deno compile` (pure), its one-line
 * failures, and, run for real, that it fails plainly when Deno's base binary cannot be had. No
 * test here needs the network: downloads are pointed at a closed loopback port.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import {
  compileArgs,
  describeFailure,
  parseCompileOptions,
  sha256Lines,
  smokeTestProblem,
  TARGETS,
} from "../../scripts/compile.ts";
import { RUN_PERMISSIONS } from "../../lib/permissions.ts";
import { buildBundle, BundleError } from "../../scripts/bundle.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");
const COMPILE = `${ROOT}/scripts/compile.ts`;

/** Where deno caches a downloaded denort; if one is there, compile would not need the network. */
function cachedDenort(): string | null {
  const home = Deno.env.get("HOME") ?? "";
  const denoDir = Deno.env.get("DENO_DIR") ||
    (Deno.build.os === "darwin"
      ? `${home}/Library/Caches/deno`
      : `${Deno.env.get("XDG_CACHE_HOME") || `${home}/.cache`}/deno`);
  const walk = (dir: string): string | null => {
    try {
      for (const entry of Deno.readDirSync(dir)) {
        const path = `${dir}/${entry.name}`;
        if (entry.isDirectory) {
          const found = walk(path);
          if (found) return found;
        } else if (entry.name.startsWith("denort")) return path;
      }
    } catch {
      // no such directory: nothing cached
    }
    return null;
  };
  return walk(`${denoDir}/dl`);
}
const CACHED = cachedDenort();

/** compile bundles first (scripts/bundle.ts); `deno bundle` fetches esbuild from the npm registry
 * once. Fetched here, before the tests that point every download at a closed port; null when it
 * worked, else why not (those tests then skip). */
async function bundlerProblem(): Promise<string | null> {
  const dir = await Deno.makeTempDir({ prefix: "defroute-bundle-" });
  try {
    await buildBundle(dir);
    return null;
  } catch (error) {
    return error instanceof BundleError ? error.message : String(error);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
const BUNDLER_PROBLEM = await bundlerProblem();
if (BUNDLER_PROBLEM) console.log(`compile run tests skipped: ${BUNDLER_PROBLEM}`);
if (CACHED) console.log(`compile failure test skipped: a denort is cached at ${CACHED}`);
const HOST_IS_LINUX_X64 = Deno.build.target === "x86_64-unknown-linux-gnu";
if (!HOST_IS_LINUX_X64) {
  console.log(`DENORT_BIN smoke test skipped: host ${Deno.build.target} is not a linux-x64 target`);
}

Deno.test("compileArgs: the runtime permissions, one target, one output, the bundle, nothing else", () => {
  for (const target of TARGETS) {
    const args = compileArgs(target, "/tmp/dist/", "/tmp/b/main.js");
    assertEquals(args.slice(0, 3), ["compile", "--config", `${ROOT}/deno.json`]);
    assertEquals(args.slice(3, 3 + RUN_PERMISSIONS.length), [...RUN_PERMISSIONS]);
    assertEquals(args.slice(3 + RUN_PERMISSIONS.length), [
      "--no-check",
      "--target",
      target,
      "--output",
      `/tmp/dist/defroute-${target}`,
      "/tmp/b/main.js",
    ]);
    assert(!args.some((a) => a.startsWith("--include")), "nothing extra is included");
    assert(!args.some((a) => a.startsWith("--allow-net")), "no network permission");
    assert(!args.includes("--allow-all") && !args.includes("-A"));
  }
});

Deno.test("parseCompileOptions: all targets by default, --target picks, unknown is refused", () => {
  assertEquals(parseCompileOptions([]).targets, [...TARGETS]);
  assertEquals(parseCompileOptions([]).check, true);
  const one = parseCompileOptions(["--target", "x86_64-apple-darwin", "--out", "/o", "--no-check"]);
  assertEquals([one.targets, one.outDir, one.check], [["x86_64-apple-darwin"], "/o", false]);
  assertThrows(() => parseCompileOptions(["--target", "x86_64-pc-windows-msvc"]), /unknown target/);
  assertThrows(() => parseCompileOptions(["--bogus"]), /bogus/);
});

// What deno 2.9.6 printed on this machine for a compile without access to dl.deno.land.
const DOWNLOAD_FAILURE = `Check main.ts
Compile main.ts to dist/defroute-x86_64-unknown-linux-gnu
Download https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip
error: Writing deno compile executable to temporary file 'x.tmp-fa778c264ec0144f'

Caused by:
    0: Setting up base binary.
    1: error sending request for url (https://dl.deno.land/release/v2.9.6/denort-x86_64-unknown-linux-gnu.zip): client error (Connect): dns error: failed to lookup address information: Name or service not known
    2: client error (Connect)

Stack backtrace:
   0: <unknown>
`;

Deno.test("describeFailure: a failed denort download becomes one line naming the target", () => {
  const line = describeFailure("x86_64-unknown-linux-gnu", DOWNLOAD_FAILURE, null);
  assertEquals(line.split("\n").length, 1);
  assertMatch(line, /^defroute-x86_64-unknown-linux-gnu: cannot fetch Deno's base binary/);
  assertMatch(line, /dns error.*set DENORT_BIN/);
  const other = describeFailure(
    "x86_64-apple-darwin",
    'Check main.ts\nerror: Module not found "file:///x/y.ts".\n    at file:///x/main.ts:3:1\n',
    null,
  );
  assertEquals(
    other,
    'defroute-x86_64-apple-darwin: deno compile failed: Module not found "file:///x/y.ts".',
  );
});

Deno.test("smokeTestProblem: a defroute version is good, a plain deno is named as such", () => {
  assertEquals(smokeTestProblem("defroute 0.1.0\n"), null);
  assertMatch(smokeTestProblem("deno 2.9.6 (stable, release)\nv8 15\n") ?? "", /full deno CLI/);
  assertMatch(smokeTestProblem("") ?? "", /instead of "defroute <version>"/);
});

Deno.test("sha256Lines: sha256sum format, sorted, correct digests", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/defroute-b`, "abc");
    await Deno.writeTextFile(`${dir}/defroute-a`, "");
    assertEquals(
      await sha256Lines([`${dir}/defroute-b`, `${dir}/defroute-a`]),
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855  defroute-a\n" +
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  defroute-b\n",
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

async function runCompile(args: string[], env: Record<string, string>, unset: string[] = []) {
  const childEnv: Record<string, string> = { ...Deno.env.toObject(), NO_COLOR: "1", ...env };
  for (const name of unset) delete childEnv[name];
  const result = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", COMPILE, ...args],
    env: childEnv,
    clearEnv: true,
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (b: Uint8Array) => new TextDecoder().decode(b);
  return { code: result.code, stdout: decode(result.stdout), stderr: decode(result.stderr) };
}

// A proxy on a closed loopback port: every download fails at once, with or without a network.
const NO_DOWNLOADS = {
  HTTPS_PROXY: "http://127.0.0.1:9",
  HTTP_PROXY: "http://127.0.0.1:9",
  https_proxy: "http://127.0.0.1:9",
  http_proxy: "http://127.0.0.1:9",
  NO_PROXY: "",
  no_proxy: "",
};

Deno.test({
  name: "compile without denort and without DENORT_BIN: one line per target, exit 1",
  ignore: CACHED !== null || BUNDLER_PROBLEM !== null,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "defroute-dist-" });
    try {
      const r = await runCompile(["--no-check", "--out", out], NO_DOWNLOADS, ["DENORT_BIN"]);
      assertEquals(r.code, 1, r.stderr);
      const lines = r.stderr.trim().split("\n");
      assertEquals(lines.length, TARGETS.length, r.stderr);
      lines.forEach((line, i) => {
        assertMatch(line, new RegExp(`^defroute-${TARGETS[i]}: cannot fetch Deno's base binary`));
      });
      assert(!/backtrace|Caused by/i.test(r.stderr), "no stack trace");
      assertEquals([...Deno.readDirSync(out)].map((e) => e.name), [], "nothing built, no sums");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});

Deno.test("compile with DENORT_BIN and several targets is a usage error", async () => {
  const r = await runCompile([], { DENORT_BIN: Deno.execPath(), ...NO_DOWNLOADS });
  assertEquals(r.code, 2);
  assertMatch(r.stderr.trim(), /^compile: DENORT_BIN names the base binary of one target/);
});

Deno.test({
  // Without --no-check: the source is type-checked before it is bundled and compiled.
  name: "a full deno as DENORT_BIN builds a binary that is rejected by the smoke test",
  ignore: !HOST_IS_LINUX_X64 || BUNDLER_PROBLEM !== null,
  fn: async () => {
    const out = await Deno.makeTempDir({ prefix: "defroute-dist-" });
    try {
      const r = await runCompile(
        ["--out", out, "--target", "x86_64-unknown-linux-gnu"],
        { DENORT_BIN: Deno.execPath(), ...NO_DOWNLOADS },
      );
      assertEquals(r.code, 1, r.stderr);
      assertMatch(
        r.stderr.trim(),
        /^defroute-x86_64-unknown-linux-gnu: built but rejected: .*full deno CLI/,
      );
      assertEquals([...Deno.readDirSync(out)].map((e) => e.name), [], "the bad binary is gone");
    } finally {
      await Deno.remove(out, { recursive: true });
    }
  },
});
