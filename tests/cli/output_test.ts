/**
 * lib/cli/output.ts: the words of a command. In text mode, stderr reads like wg-quick
 * (`[#] ...`, `defroute: ...`); with --json, every stderr line is one JSON object.
 */
import { assert, assertEquals } from "../assert.ts";
import { memoryOutput } from "../../lib/cli/output.ts";

Deno.test("output, text: [#] announcements, plain info, 'defroute:' warnings, -v details", () => {
  const out = memoryOutput(false, 2);
  out.announce("route add default 192.168.1.1 (en0)");
  out.info("sing-box (pid 4711) exited with status 0");
  out.debug("detail");
  out.warn("scutil: no answer");
  assertEquals(out.stderr, [
    "[#] route add default 192.168.1.1 (en0)",
    "sing-box (pid 4711) exited with status 0",
    "detail",
    "defroute: scutil: no answer",
  ]);
});

Deno.test("output, --json: every stderr line is one JSON object with time, level and message", () => {
  const out = memoryOutput(true, 2);
  out.announce("route add default 192.168.1.1 (en0)");
  out.info("sing-box (pid 4711) exited with status 0");
  out.debug("detail");
  out.warn("scutil: no answer");
  out.event({ time: "2026-01-01T00:00:00.000Z", event: "route", action: "delete" });
  const parsed = out.stderr.map((line) => JSON.parse(line));
  assertEquals(parsed.map((o) => [o.level ?? o.event, o.message ?? o.action]), [
    ["announce", "route add default 192.168.1.1 (en0)"],
    ["info", "sing-box (pid 4711) exited with status 0"],
    ["debug", "detail"],
    ["warning", "scutil: no answer"],
    ["route", "delete"],
  ]);
  for (const o of parsed.slice(0, 4)) assert(!Number.isNaN(Date.parse(o.time)), o.time);
});

Deno.test("output, --json -q: only warnings, still JSON", () => {
  const out = memoryOutput(true, 0);
  out.announce("route add default 192.168.1.1 (en0)");
  out.info("info");
  out.event({ event: "route" });
  out.warn("failed");
  assertEquals(out.stderr.map((line) => JSON.parse(line).message), ["failed"]);
});
