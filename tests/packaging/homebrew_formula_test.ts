/**
 * packaging/homebrew/defroute.rb and scripts/homebrew_formula.ts, which fills in the source
 * tarball for a release or for CI's local tap. The formula itself is installed and `brew test`ed
 * by the macOS CI job (.github/workflows/ci.yml); here: what can be checked without Homebrew.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import {
  FORMULA_PATH,
  FormulaError,
  formulaMain,
  renderFormula,
} from "../../scripts/homebrew_formula.ts";
import { TARGETS } from "../../scripts/compile.ts";
import { findOnPath } from "../hooks/helpers.ts";

const FORMULA = Deno.readTextFileSync(FORMULA_PATH);
const SHA = "a".repeat(64);
const RUBY = findOnPath("ruby");
if (!RUBY) console.log("skipping the formula's Ruby syntax check: no ruby on PATH");

Deno.test("renderFormula fills in url and sha256 and changes nothing else", () => {
  const url = "https://example.org/defroute/archive/refs/tags/v0.1.0.tar.gz";
  const out = renderFormula(FORMULA, { url, sha256: SHA });
  assertEquals(out.match(/^ {2}url "(.*)"$/m)?.[1], url);
  assertEquals(out.match(/^ {2}sha256 "(.*)"$/m)?.[1], SHA);
  const changed = out.split("\n").filter((line, i) => line !== FORMULA.split("\n")[i]);
  assertEquals(changed, [`  url "${url}"`, `  sha256 "${SHA}"`]);
});

Deno.test("renderFormula takes CI's file:/// tarball and a homepage", () => {
  const out = renderFormula(FORMULA, {
    url: "file:///Users/runner/work/_temp/defroute-0.1.0.tar.gz",
    sha256: SHA,
    homepage: "https://github.com/someone/defroute",
  });
  assertMatch(out, /^ {2}url "file:\/\/\/Users\/runner\/work\/_temp\/defroute-0\.1\.0\.tar\.gz"$/m);
  assertMatch(out, /^ {2}homepage "https:\/\/github\.com\/someone\/defroute"$/m);
});

Deno.test("renderFormula refuses what would make a broken or unsafe formula", () => {
  const isFormulaError = (e: unknown) => e instanceof FormulaError;
  const good = "https://example.org/v0.1.0.tar.gz";
  assertThrows(() => renderFormula(FORMULA, { url: good, sha256: "abc" }), isFormulaError);
  assertThrows(
    () => renderFormula(FORMULA, { url: good, sha256: SHA.toUpperCase() }),
    isFormulaError,
  );
  for (
    const url of ["http://example.org/v.tar.gz", "https://e.org/v.zip", 'https://e.org/"x.tar.gz']
  ) {
    assertThrows(() => renderFormula(FORMULA, { url, sha256: SHA }), isFormulaError);
  }
  // Ruby interpolation in a value would run code at install time.
  assertThrows(
    () => renderFormula(FORMULA, { url: "https://e.org/#{x}.tar.gz", sha256: SHA }),
    isFormulaError,
  );
  const twoUrls = FORMULA.replace(/^( {2}url .*)$/m, "$1\n$1");
  assertThrows(() => renderFormula(twoUrls, { url: good, sha256: SHA }), /2 `url` lines/);
});

Deno.test("the committed formula builds with Deno for every target scripts/compile.ts knows", () => {
  assertMatch(FORMULA, /^ {2}depends_on "deno"/m);
  assertMatch(FORMULA, /system "deno", "task", "compile", "--target", target/);
  const tasks = JSON.parse(Deno.readTextFileSync(new URL("../../deno.json", import.meta.url)))
    .tasks as Record<string, string>;
  assert(tasks.compile !== undefined, "deno.json has no compile task");
  for (const target of TARGETS) assert(FORMULA.includes(`"${target}"`), `${target} missing`);
  assertMatch(FORMULA, /bin\.install "dist\/defroute-#\{target\}" => "defroute"/);
  // Unrendered, it must fail to install rather than build an unverified tarball.
  assertEquals(FORMULA.match(/^ {2}sha256 "(.*)"$/m)?.[1], "0".repeat(64));
});

Deno.test("the formula's test block runs the binary it installed", () => {
  const test = FORMULA.slice(FORMULA.indexOf("  test do"));
  assert(test.startsWith("  test do"), "no test block");
  assertMatch(test, /#\{bin\}\/defroute --version/);
  assertMatch(test, /hook print/);
  assertMatch(test, /shell_output\("#\{bin\}\/defroute frobnicate 2>&1", 2\)/);
});

Deno.test({
  name: "the formula is valid Ruby (ruby -c)",
  ignore: RUBY === null,
  fn: async () => {
    const result = await new Deno.Command(RUBY!, { args: ["-c", FORMULA_PATH], stdout: "piped" })
      .output();
    assertEquals(new TextDecoder().decode(result.stdout).trim(), "Syntax OK");
  },
});

Deno.test("homebrew_formula.ts writes the rendered file; bad arguments exit 2, bad values 1", async () => {
  const dir = await Deno.makeTempDir({ prefix: "defroute-formula-" });
  try {
    const out = `${dir}/defroute.rb`;
    const url = "file:///tmp/defroute-0.1.0.tar.gz";
    assertEquals(await formulaMain(["--url", url, "--sha256", SHA, "--out", out]), 0);
    assertEquals(await Deno.readTextFile(out), renderFormula(FORMULA, { url, sha256: SHA }));
    assertEquals(await formulaMain(["--url", url]), 2);
    assertEquals(await formulaMain(["--bogus"]), 2);
    assertEquals(await formulaMain(["--url", url, "--sha256", "xyz", "--out", `${dir}/x`]), 1);
    assertEquals(await formulaMain(["--url", url, "--sha256", SHA, "--formula", `${dir}/no`]), 1);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
