import { assertEquals } from "../assert.ts";
import { formatEventJson, formatEventText, processNamer } from "../../lib/core/text/event_log.ts";
import type { RouteEvent } from "../../lib/core/model/types.ts";

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

const ADD: RouteEvent = {
  kind: "route",
  action: "add",
  route: {
    family: 4,
    gateway: "10.77.0.1",
    interface: "veth0",
    index: 2,
    scoped: false,
    flags: 0x803,
  },
  pid: 4711,
  error: null,
};

Deno.test("event words: defroute's own change is named as defroute's, not by a pid", () => {
  const own: RouteEvent = { ...ADD, pid: 1234, self: true };
  assertEquals(
    formatEventText(own, () => "deno"),
    "global default added by defroute itself: via 10.77.0.1 on veth0",
  );
  const json = formatEventJson(own, new Date(0), () => "deno");
  assertEquals([json.self, json.process], [true, "defroute"]);
});

Deno.test("event words: a netlink port that is no process id is not called a pid", () => {
  const port: RouteEvent = { ...ADD, pid: null, port: 4281305937 };
  assertEquals(
    formatEventText(port),
    "global default added by netlink port 4281305937 (not a process id): via 10.77.0.1 on veth0",
  );
  assertEquals(formatEventJson(port, new Date(0)).port, 4281305937);
  assertEquals(
    formatEventText(ADD, () => "sing-box"),
    "global default added by pid 4711 (sing-box): via 10.77.0.1 on veth0",
  );
  assertEquals(
    formatEventText({ ...ADD, pid: null }),
    "global default added by the kernel: via 10.77.0.1 on veth0",
  );
});
