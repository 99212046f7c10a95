/**
 * lib/cli/argv.ts: each accepted form by name, each error's one-line wording, then a seeded
 * comparison against node:util parseArgs (strict, positionals allowed) over random argv built
 * from the real commands' option specs: the same values and positionals where parseArgs accepts,
 * a UsageError naming the same option where it throws.
 */
import { parseArgs } from "node:util";
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { type OptionSpec, parseArgv } from "../../lib/cli/argv.ts";
import { COMMANDS } from "../../lib/cli/commands.ts";
import { COMMON_OPTIONS } from "../../lib/cli/command.ts";
import { UsageError } from "../../lib/core/model/errors.ts";
import { seededRandom } from "../seeded_random.ts";

/** COMMON_OPTIONS plus a string option with a short alias, which no command has (yet). */
const SPEC: OptionSpec = { ...COMMON_OPTIONS, output: { type: "string", short: "o" } };

function parsed(args: string[], spec: OptionSpec = SPEC) {
  const { values, positionals } = parseArgv(args, spec);
  return { values: { ...values }, positionals };
}

function usageError(args: string[], spec: OptionSpec = SPEC): string {
  try {
    parseArgv(args, spec);
  } catch (error) {
    assert(error instanceof UsageError, `not a UsageError: ${error}`);
    return error.message;
  }
  throw new Error(`accepted ${JSON.stringify(args)}`);
}

Deno.test("argv: long, short, grouped, =value, separate value, -- and positionals", () => {
  assertEquals(parsed([]), { values: {}, positionals: [] });
  assertEquals(parsed(["--json", "--state", "/s", "--family=6"]), {
    values: { json: true, state: "/s", family: "6" },
    positionals: [],
  });
  assertEquals(parsed(["-q", "-h"]), { values: { quiet: true, help: true }, positionals: [] });
  assertEquals(parsed(["-qh"]), { values: { quiet: true, help: true }, positionals: [] });
  assertEquals(parsed(["-o", "f"]), { values: { output: "f" }, positionals: [] });
  assertEquals(parsed(["-of"]), { values: { output: "f" }, positionals: [] });
  assertEquals(parsed(["-qof"]), { values: { quiet: true, output: "f" }, positionals: [] });
  assertEquals(parsed(["-qo", "f"]), { values: { quiet: true, output: "f" }, positionals: [] });
  assertEquals(parsed(["install", "--json", "-", "x"]), {
    values: { json: true },
    positionals: ["install", "-", "x"],
  });
  assertEquals(parsed(["--json", "--", "--bogus", "-q"]), {
    values: { json: true },
    positionals: ["--bogus", "-q"],
  });
});

Deno.test("argv: the last value wins; empty and dash values are values", () => {
  assertEquals(parsed(["--state", "a", "--state=b"]).values, { state: "b" });
  assertEquals(parsed(["--state="]).values, { state: "" });
  assertEquals(parsed(["--state", ""]).values, { state: "" });
  assertEquals(parsed(["--state", "-"]).values, { state: "-" });
  assertEquals(parsed(["--state=-q"]).values, { state: "-q" });
  assertEquals(parsed(["--state=a=b"]).values, { state: "a=b" });
  assertEquals(parsed(["-o-q"]).values, { output: "-q" });
});

Deno.test("argv: the result has only the options given, with no prototype", () => {
  const { values } = parseArgv(["--json"], SPEC);
  assertEquals(Object.keys(values), ["json"]);
  assertEquals(Object.getPrototypeOf(values), null);
});

Deno.test("argv: usage errors name the option as typed, in one line", () => {
  assertEquals(usageError(["--bogus"]), 'unknown option "--bogus"');
  assertEquals(usageError(["--bogus=1"]), 'unknown option "--bogus"');
  assertEquals(usageError(["-x"]), 'unknown option "-x"');
  assertEquals(usageError(["-qx"]), 'unknown option "-x"');
  assertEquals(usageError(["--constructor"]), 'unknown option "--constructor"');
  assertEquals(usageError(["--__proto__"]), 'unknown option "--__proto__"');
  assertEquals(usageError(["--=x"]), 'unknown option "--=x"');
  assertEquals(usageError(["--state"]), 'option "--state" needs a value');
  assertEquals(usageError(["-o"]), 'option "-o" needs a value');
  assertEquals(usageError(["--json=yes"]), 'option "--json" takes no value');
  assertEquals(usageError(["--help="]), 'option "--help" takes no value');
  assertMatch(
    usageError(["--state", "-q"]),
    /^option "--state" needs a value, not .*"-q".*--state=-q/,
  );
  assertMatch(usageError(["--state", "--"]), /^option "--state" needs a value/);
  assertMatch(usageError(["-o", "--json"]), /^option "-o" needs a value.*--output=--json/);
  // The first error in argv order is the one reported.
  assertEquals(usageError(["--json=1", "--bogus"]), 'option "--json" takes no value');
  for (const args of [["--bogus"], ["--state"], ["--json=1"], ["--state", "-q"]]) {
    assert(!usageError(args).includes("\n"), JSON.stringify(args));
  }
});

/** Arguments a user (or a typo) could write for `spec`: every option in every form, and noise. */
function vocabulary(spec: OptionSpec): string[] {
  const words = ["--", "-", "", "pos", "4", "--bogus", "--bogus=1", "-z", "---x", "--=x", "-=1"];
  const values = ["v", "", "-", "-q", "--json", "a=b"];
  const shorts = ["z", "-", "="];
  for (const [name, entry] of Object.entries(spec)) {
    words.push(`--${name}`);
    for (const value of values) words.push(`--${name}=${value}`);
    if (entry.short) {
      words.push(`-${entry.short}`);
      shorts.push(entry.short);
    }
  }
  words.push(...values);
  for (const a of shorts) {
    for (const b of shorts) words.push(`-${a}${b}`, `-${a}${b}${shorts[0]}`);
  }
  return words;
}

/** What kind of error parseArgs threw, and the names it gives the option ("-h, --help"). */
function nodeError(message: string): { kind: string; names: string[] } {
  const patterns: [string, RegExp][] = [
    ["unknown", /^Unknown option '([^']+)'/],
    ["missing", /^Option '([^']+?)(?: <value>)?' argument missing/],
    ["no-value", /^Option '([^']+)' does not take an argument/],
    ["ambiguous", /^Option '([^']+)' argument is ambiguous/],
  ];
  for (const [kind, pattern] of patterns) {
    const match = message.match(pattern);
    if (match?.[1] !== undefined) return { kind, names: match[1].split(", ") };
  }
  throw new Error(`parseArgs error not understood: ${message}`);
}

/** Our wording for each kind of parseArgs error, before the option named. */
const WORDING: Record<string, RegExp> = {
  unknown: /^unknown option "(.*)"$/,
  missing: /^option "(.*)" needs a value$/,
  "no-value": /^option "(.*)" takes no value$/,
  ambiguous: /^option "(.*)" needs a value, not the option-like /,
};

Deno.test("argv: seeded random argv from every command's options agree with node:util parseArgs", async () => {
  const random = seededRandom(20261125);
  let accepted = 0;
  let rejected = 0;
  const kinds = new Set<string>();
  const specs: [string, OptionSpec][] = [["test-only -o", SPEC]];
  for (const entry of COMMANDS) specs.push([entry.name, (await entry.load()).options]);
  for (const [specName, options] of specs) {
    const words = vocabulary(options);
    for (let n = 0; n < 3000; n++) {
      const length = Math.floor(random() * 6);
      const args = Array.from({ length }, () => words[Math.floor(random() * words.length)]!);
      const where = `${specName} ${JSON.stringify(args)}`;
      let oracle: { values: Record<string, unknown>; positionals: string[] } | Error;
      try {
        const r = parseArgs({ args, options, allowPositionals: true, strict: true });
        oracle = { values: { ...r.values }, positionals: r.positionals };
      } catch (error) {
        oracle = error as Error;
      }
      if (oracle instanceof Error) {
        const { kind, names } = nodeError(oracle.message);
        kinds.add(kind);
        const message = usageError(args, options);
        const named = message.match(WORDING[kind]!)?.[1];
        assert(named !== undefined, `${where}: "${message}" is not a ${kind} error`);
        assert(names.includes(named), `${where}: "${message}" names another option than ${names}`);
        rejected++;
      } else {
        assertEquals(parsed(args, options), oracle, where);
        accepted++;
      }
    }
  }
  // The generator must exercise both outcomes and every kind of error, or the sweep proves little.
  assert(accepted > 2000 && rejected > 2000, `accepted ${accepted}, rejected ${rejected}`);
  assertEquals([...kinds].sort(), ["ambiguous", "missing", "no-value", "unknown"]);
  console.log(`argv sweep: parseArgs accepted ${accepted}, rejected ${rejected}`);
});
