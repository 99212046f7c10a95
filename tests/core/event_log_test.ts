import { assertEquals } from "../assert.ts";
import { processNamer } from "../../lib/core/event_log.ts";

Deno.test("processNamer: names added to the table after the namer exists are used (run adds CMD's pid later)", () => {
  const known = new Map<number, string>();
  const namer = processNamer(known);
  const pid = 999_999_1; // no such process
  assertEquals(namer(pid), null);
  known.set(pid, "sing-box");
  assertEquals(namer(pid), "sing-box");
});

Deno.test("processNamer: on Linux a live process is named from /proc; pid 0 and gone pids are null", () => {
  const namer = processNamer();
  assertEquals(namer(0), null);
  assertEquals(namer(-1), null);
  if (Deno.build.os === "linux") {
    const own = Deno.readTextFileSync(`/proc/${Deno.pid}/comm`).trim();
    assertEquals(namer(Deno.pid), own);
  }
});
