/**
 * Usage errors that say what to type instead (issue 14 item 8):
 * - `run sh -c ...` without `--` gets the hint a command without `--` gets, not `unknown option
 *   "-c"` (the -c is sh's, not defroute's);
 * - a relative `--state` or DEFROUTE_STATE is refused (exit 2) with the absolute path it would
 *   have meant, instead of being resolved against a root process's working directory.
 * Usage errors come before any command runs: no kernel is opened here.
 */
import { assertEquals, assertMatch } from "../assert.ts";
import { main } from "../../lib/cli/main.ts";
import { memoryOutput } from "../../lib/cli/output.ts";
import { firstPositionalIndex } from "../../lib/cli/argv.ts";
import { statePathOf } from "../../lib/core/state/state_path.ts";
import { runCommand } from "../../lib/cli/run.ts";

async function usage(args: string[]): Promise<{ code: number; stderr: string }> {
  const outputs: ReturnType<typeof memoryOutput>[] = [];
  const code = await main(args, (json, v) => {
    const o = memoryOutput(json, v);
    outputs.push(o);
    return o;
  });
  return { code, stderr: outputs.flatMap((o) => o.stderr).join("\n") };
}

Deno.test("run CMD without '--': the hint with the line to type, whatever CMD's options are", async () => {
  for (
    const [args, line] of [
      [["run", "sh", "-c", "exit 3"], "defroute run -- sh -c 'exit 3'"],
      [
        ["run", "sing-box", "run", "-c", "config.json"],
        "defroute run -- sing-box run -c config.json",
      ],
      // defroute's own options before the command stay before the '--'.
      [
        ["run", "--heal", "-q", "wireguard-go", "-f", "utun"],
        "defroute run --heal -q -- wireguard-go -f utun",
      ],
      [
        ["run", "--kill-after", "5", "openconnect", "--protocol=gp", "vpn"],
        "defroute run --kill-after 5 -- openconnect --protocol=gp vpn",
      ],
      // An option of defroute's after the command belongs to the command.
      [["run", "sleep", "5", "-q"], "defroute run -- sleep 5 -q"],
      [["run", "sh", "-c", "echo 'it''s'"], `defroute run -- sh -c 'echo '\\''it'\\'''\\''s'\\'''`],
    ] as const
  ) {
    const { code, stderr } = await usage([...args]);
    assertEquals(code, 2, stderr);
    assertEquals(stderr, `defroute: 'run' needs '--' before the command: ${line}; try --help`);
  }
});

Deno.test("run: an unknown option before any command is still named as such", async () => {
  const { code, stderr } = await usage(["run", "--bogus", "sh"]);
  assertEquals(code, 2);
  assertMatch(stderr, /unknown option "--bogus"/);
});

Deno.test("firstPositionalIndex reads options as the parser does", () => {
  const options = runCommand.options;
  assertEquals(firstPositionalIndex(["sh", "-c", "x"], options), 0);
  assertEquals(firstPositionalIndex(["--state", "/s", "sh"], options), 2);
  assertEquals(firstPositionalIndex(["--state=/s", "sh"], options), 1);
  assertEquals(firstPositionalIndex(["-qn", "sh"], options), 1);
  assertEquals(firstPositionalIndex(["--grace", "2", "--heal", "cmd"], options), 3);
  assertEquals(firstPositionalIndex(["-c", "sh"], options), null); // unknown first
  assertEquals(firstPositionalIndex(["--", "sh"], options), null);
  assertEquals(firstPositionalIndex(["-q"], options), null);
});

Deno.test("a relative --state is a usage error showing the absolute path meant", async () => {
  for (const command of [["save"], ["restore"], ["status"], ["watch"], ["run", "--", "true"]]) {
    const [name, ...rest] = command;
    const { code, stderr } = await usage([name!, "--state", "state.json", ...rest]);
    assertEquals(code, 2, `${name}: ${stderr}`);
    assertEquals(
      stderr,
      `defroute: --state must be an absolute path, not the relative "state.json" (from this ` +
        `directory: --state ${Deno.cwd()}/state.json); try --help`,
    );
  }
});

Deno.test("a relative DEFROUTE_STATE is a usage error too; an absolute one is used", async () => {
  const before = Deno.env.get("DEFROUTE_STATE");
  Deno.env.set("DEFROUTE_STATE", "run/state.json");
  try {
    const { code, stderr } = await usage(["status"]);
    assertEquals(code, 2, stderr);
    assertMatch(
      stderr,
      new RegExp(
        `DEFROUTE_STATE must be an absolute path, not the relative "run/state.json" \\(from ` +
          `this directory: DEFROUTE_STATE=${Deno.cwd()}/run/state.json\\)`,
      ),
    );
  } finally {
    if (before === undefined) Deno.env.delete("DEFROUTE_STATE");
    else Deno.env.set("DEFROUTE_STATE", before);
  }
  assertEquals(statePathOf(undefined, "/srv/state.json"), "/srv/state.json");
  assertEquals(statePathOf("/a/s.json", "rel.json"), "/a/s.json"); // --state wins
  assertEquals(statePathOf(undefined, ""), "/var/run/defroute/state.json");
  assertEquals(statePathOf(undefined, undefined), "/var/run/defroute/state.json");
});
