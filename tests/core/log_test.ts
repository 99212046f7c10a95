/** BufferedLog (lib/core/model/log.ts) and the trace marks (lib/util/trace.ts). */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { BufferedLog, type Log } from "../../lib/core/model/log.ts";

function recorder(): { log: Log; lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    log: {
      announce: (l) => lines.push(`[#] ${l}`),
      info: (l) => lines.push(`info ${l}`),
      debug: (l) => lines.push(`debug ${l}`),
      warn: (l) => lines.push(`warn ${l}`),
    },
  };
}

Deno.test("BufferedLog keeps every level in order and hands it on once", () => {
  const buffer = new BufferedLog();
  buffer.info("a");
  buffer.announce("route add default 10.0.0.1 (en0)");
  buffer.debug("b");
  buffer.warn("c");
  const target = recorder();
  target.log.info("printed first");
  buffer.replayInto(target.log);
  assertEquals(target.lines, [
    "info printed first",
    "info a",
    "[#] route add default 10.0.0.1 (en0)",
    "debug b",
    "warn c",
  ]);
  buffer.replayInto(target.log);
  assertEquals(target.lines.length, 5, "a second replay has nothing left to hand on");
});

const TRACE_SCRIPT = new URL("../../lib/util/trace.ts", import.meta.url).href;

async function runTraced(env: Record<string, string>): Promise<string> {
  const code = `import { trace } from "${TRACE_SCRIPT}"; trace("one"); trace("two");`;
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["eval", code],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(output.success, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stderr);
}

Deno.test("trace: DEFROUTE_TRACE=1 prints each mark at exit as a JSON line in epoch microseconds", async () => {
  const before = Date.now() * 1000;
  const lines = (await runTraced({ DEFROUTE_TRACE: "1" })).trim().split("\n");
  assertEquals(lines.length, 2);
  const marks = lines.map((l) => JSON.parse(l) as { trace: string; at: number });
  assertEquals(marks.map((m) => m.trace), ["one", "two"]);
  for (const m of marks) {
    assert(Number.isInteger(m.at), `at is whole microseconds: ${m.at}`);
    assert(m.at >= before - 1_000_000 && m.at <= Date.now() * 1000 + 1_000_000, `${m.at}`);
  }
  assert(marks[0]!.at <= marks[1]!.at, "marks are in order");
});

Deno.test("trace: off unless DEFROUTE_TRACE=1: nothing printed", async () => {
  assertEquals(await runTraced({ DEFROUTE_TRACE: "0" }), "");
  assertMatch(await runTraced({ DEFROUTE_TRACE: "1" }), /"trace":"one"/);
});
