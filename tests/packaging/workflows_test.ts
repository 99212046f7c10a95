/**
 * The GitHub Actions workflows (.github/workflows/): they validate against the workflow schema
 * (the same `action-validator` run .ci/run makes before the suite, shown here to reject a broken
 * file), and they agree with the project: the Deno version the README gives, the targets
 * scripts/compile.ts builds, the tasks deno.json defines.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { TARGETS } from "../../scripts/compile.ts";
import { findOnPath } from "../hooks/helpers.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const WORKFLOWS = `${ROOT}.github/workflows`;
const CI = Deno.readTextFileSync(`${WORKFLOWS}/ci.yml`);
const RELEASE = Deno.readTextFileSync(`${WORKFLOWS}/release.yml`);
const README = Deno.readTextFileSync(`${ROOT}README.md`);
const CI_RUN = Deno.readTextFileSync(`${ROOT}.ci/run`);
const TASKS = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`)).tasks as Record<string, string>;

/** The validator .ci/run runs, pinned: the version is taken from .ci/run itself. */
const VALIDATOR = CI_RUN.match(/npx -y (@action-validator\/cli@[\d.]+)/)?.[1] ?? null;
const NPX = findOnPath("npx");
const skipValidator = NPX === null
  ? "npx is not on PATH"
  : Deno.env.get("npm_config_offline") === "true"
  ? "npm is offline"
  : "";
if (skipValidator) console.log(`skipping the workflow schema checks: ${skipValidator}`);

async function validate(path: string): Promise<{ ok: boolean; output: string }> {
  const result = await new Deno.Command(NPX!, {
    args: ["-y", VALIDATOR!, path],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { ok: result.success, output: text.decode(result.stdout) + text.decode(result.stderr) };
}

Deno.test(".ci/run validates every workflow with a pinned action-validator before the suite", () => {
  assertEquals(VALIDATOR, "@action-validator/cli@0.6.0");
  assert(CI_RUN.indexOf(VALIDATOR!) < CI_RUN.lastIndexOf("task test"), "validation after tests");
  const files = [...Deno.readDirSync(WORKFLOWS)].map((e) => e.name).sort();
  assertEquals(files, ["ci.yml", "release.yml"]);
});

Deno.test({
  name: "the workflows pass action-validator, and a broken one does not",
  ignore: skipValidator !== "",
  fn: async () => {
    for (const name of ["ci.yml", "release.yml"]) {
      const result = await validate(`${WORKFLOWS}/${name}`);
      assert(result.ok, `${name}: ${result.output}`);
    }
    const dir = await Deno.makeTempDir({ prefix: "defroute-workflow-" });
    try {
      const broken = {
        // A misspelt key, and a job without runs-on: both would only fail on the forge.
        "steps-typo.yml": CI.replace("    steps:\n", "    stepz:\n"),
        "no-runs-on.yml": RELEASE.replace("    runs-on: ubuntu-24.04\n", ""),
      };
      for (const [name, text] of Object.entries(broken)) {
        assert(text !== CI && text !== RELEASE, `${name}: the edit did not apply`);
        await Deno.writeTextFile(`${dir}/${name}`, text);
        const result = await validate(`${dir}/${name}`);
        assertEquals(result.ok, false, `${name} passed validation`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("the workflows get Deno the README's way, at the README's version", () => {
  const readmeVersion = README.match(/npx -y deno@(\d+\.\d+\.\d+) task test/)?.[1];
  assert(readmeVersion, "the README gives no `npx -y deno@X task test`");
  for (const [name, text] of [["ci.yml", CI], ["release.yml", RELEASE]] as const) {
    assertEquals(text.match(/^ {2}DENO: npx -y deno@(\S+)$/m)?.[1], readmeVersion, name);
    assertEquals(
      [...text.matchAll(/deno@(\d+\.\d+\.\d+)/g)].map((m) => m[1]).filter((v) =>
        v !== readmeVersion
      ),
      [],
      name,
    );
  }
});

Deno.test("ci.yml: Linux runs .ci/run; macOS arm64 and intel run both tiers, compile and brew", () => {
  assertMatch(CI, /runs-on: ubuntu-24\.04\n[\s\S]*?\.ci\/run/);
  for (
    const step of ["$DENO fmt --check", "$DENO lint", "$DENO check main.ts lib/ tests/ scripts/"]
  ) {
    assert(CI.includes(step), `the Linux job does not run ${step}`);
  }
  assertMatch(CI, /- runner: macos-15\n\s+target: aarch64-apple-darwin/);
  assertMatch(CI, /- runner: macos-15-intel\n\s+target: x86_64-apple-darwin/);
  for (const task of ["test", "test:macos", "compile"]) {
    assert(TASKS[task] !== undefined, `deno.json has no ${task} task`);
    assert(CI.includes(`$DENO task ${task}`), `ci.yml does not run ${task}`);
  }
  assertMatch(CI, /\$DENO task compile --target \$\{\{ matrix\.target \}\}/);
  for (const smoke of ['"$BIN" --version', '"$BIN" status --json', 'sudo "$BIN" save --dry-run']) {
    assert(CI.includes(smoke), `no smoke test ${smoke}`);
  }
  assertMatch(CI, /"\$BIN" hook print/);
  assertMatch(CI, /brew tap-new/);
  assertMatch(CI, /brew install --build-from-source[^\n]*local\/defroute\/defroute/);
  assertMatch(CI, /brew test[^\n]*local\/defroute\/defroute/);
  // The destructive real-Mac tests are never on by default: only a manual run may opt in.
  assertMatch(CI, /DEFROUTE_MAC_DESTRUCTIVE: \$\{\{ inputs\.destructive && '1' \|\| '' \}\}/);
});

Deno.test("release.yml builds, signs and checksums every target scripts/compile.ts knows", () => {
  assertMatch(RELEASE, /tags: \["v\*"\]/);
  for (const target of TARGETS) assert(RELEASE.includes(`target: ${target}`), target);
  assertEquals([...RELEASE.matchAll(/target: (\S+)/g)].length, TARGETS.length);
  assertMatch(RELEASE, /codesign --force --sign - "\$BIN"/);
  assertMatch(RELEASE, /sha256sum defroute-\* > SHA256SUMS/);
  assertMatch(RELEASE, /gh release create/);
  assertMatch(RELEASE, /scripts\/homebrew_formula\.ts/);
});
