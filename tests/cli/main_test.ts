import { assert, assertEquals, assertMatch } from "../assert.ts";
import { main } from "../../lib/cli/main.ts";
import { COMMANDS } from "../../lib/cli/commands.ts";
import { memoryOutput } from "../../lib/cli/output.ts";

function capture() {
  const outputs: ReturnType<typeof memoryOutput>[] = [];
  const make = (json: boolean, v: 0 | 1 | 2) => {
    const o = memoryOutput(json, v);
    outputs.push(o);
    return o;
  };
  const text = () => ({
    stdout: outputs.flatMap((o) => o.stdout).join("\n"),
    stderr: outputs.flatMap((o) => o.stderr).join("\n"),
  });
  return { make, text };
}

Deno.test("--help lists every command and the exit codes", async () => {
  const c = capture();
  assertEquals(await main(["--help"], c.make), 0);
  for (const name of ["run", "save", "restore", "status", "watch", "hook"]) {
    assertMatch(c.text().stdout, new RegExp(`\\n  ${name} `));
  }
  assertMatch(c.text().stdout, /4 {2}no gateway known/);
});

Deno.test("--version prints the version", async () => {
  const c = capture();
  assertEquals(await main(["--version"], c.make), 0);
  assertMatch(c.text().stdout, /^defroute \d+\.\d+\.\d+/);
});

Deno.test("an unknown flag is a usage error naming the flag", async () => {
  const c = capture();
  assertEquals(await main(["status", "--bogus"], c.make), 2);
  assertMatch(c.text().stderr, /unknown option "--bogus"/);
});

Deno.test("a missing value is a usage error naming the flag", async () => {
  const c = capture();
  assertEquals(await main(["status", "--family"], c.make), 2);
  assertMatch(c.text().stderr, /"--family" needs a value/);
});

Deno.test("a bad --family value is a usage error", async () => {
  const c = capture();
  assertEquals(await main(["status", "--family", "5"], c.make), 2);
  assertMatch(c.text().stderr, /--family takes 4, 6 or all/);
});

Deno.test("a value given to a boolean is a usage error naming the flag", async () => {
  const c = capture();
  assertEquals(await main(["save", "--json=yes"], c.make), 2);
  assertMatch(c.text().stderr, /option "--json" takes no value; try --help/);
});

Deno.test("a string option followed by an option is a usage error, not a value", async () => {
  const c = capture();
  assertEquals(await main(["save", "--state", "-n"], c.make), 2);
  assertMatch(c.text().stderr, /option "--state" needs a value, not the option-like "-n"/);
});

Deno.test("grouped short flags and --name=value reach the command", async () => {
  const c = capture();
  assertEquals(await main(["status", "-qv"], c.make), 2);
  assertMatch(c.text().stderr, /-q and -v cannot be used together/);
  const d = capture();
  assertEquals(await main(["status", "--family=5"], d.make), 2);
  assertMatch(d.text().stderr, /--family takes 4, 6 or all, not "5"/);
});

Deno.test("each command's --help comes from its module, loaded on demand", async () => {
  for (const entry of COMMANDS) {
    const c = capture();
    assertEquals(await main([entry.name, "--help"], c.make), 0, entry.name);
    assertEquals(c.text().stdout, (await entry.load()).help, entry.name);
  }
});

Deno.test("the --help summaries are the ones the command modules declare", async () => {
  assertEquals(COMMANDS.map((c) => c.name), ["run", "save", "restore", "status", "watch", "hook"]);
  for (const entry of COMMANDS) {
    const command = await entry.load();
    assertEquals(command.name, entry.name);
    assertEquals(entry.summary, command.summary, entry.name);
  }
  const c = capture();
  await main(["--help"], c.make);
  for (const entry of COMMANDS) assert(c.text().stdout.includes(entry.summary), entry.name);
});

Deno.test("an unknown command is a usage error", async () => {
  const c = capture();
  assertEquals(await main(["frobnicate"], c.make), 2);
  assertMatch(c.text().stderr, /unknown command "frobnicate"/);
});
