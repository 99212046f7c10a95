import { assertEquals, assertMatch } from "../assert.ts";
import { main } from "../../lib/cli/main.ts";
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

Deno.test("an unknown command is a usage error", async () => {
  const c = capture();
  assertEquals(await main(["frobnicate"], c.make), 2);
  assertMatch(c.text().stderr, /unknown command "frobnicate"/);
});
