/**
 * The darwin answer to "who is left in CMD's process group" (`run --linger`): libproc's
 * proc_listpids(PROC_PGRP_ONLY) and proc_name through lib/darwin/libsystem.ts, run against the
 * stand-in libSystem (tests/harness/libsystem_standin.c answers them from Linux's /proc with
 * darwin's conventions: a NULL buffer asks the bytes needed). Needs Linux with a C compiler.
 */
import { assert, assertEquals } from "../assert.ts";
import { LibSystem, LibSystemProcessGroups } from "../../lib/darwin/libsystem.ts";
import { buildStandin, standinUnavailableReason } from "../harness/standin.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping darwin process-group tests: ${skip}`);

Deno.test({
  name: "darwin process groups: proc_listpids finds a new group's members, proc_name names them",
  ignore: skip !== null,
  fn: async () => {
    const path = await buildStandin();
    // A group of its own (setsid) with a leader and one child, both waiting on stdin.
    const child = new Deno.Command("/bin/sh", {
      args: ["-c", "sleep 30 & read line"],
      stdin: "piped",
      stdout: "null",
      detached: true,
    }).spawn();
    const groups = new LibSystemProcessGroups(path);
    try {
      let members = groups.members(child.pid);
      for (let i = 0; i < 400 && members.length < 2; i++) {
        await new Promise((r) => setTimeout(r, 5)); // until sh has forked sleep
        members = groups.members(child.pid);
      }
      assertEquals(members.map((m) => m.name).sort(), ["sh", "sleep"]);
      assert(members.some((m) => m.pid === child.pid));
      // Sorted by pid, as the Linux answer is.
      assertEquals(members.map((m) => m.pid), [...members.map((m) => m.pid)].sort((a, b) => a - b));
      // A group that does not exist has no members (no error).
      assertEquals(groups.members(0x7ffffff0), []);
      assert(groups.exists(child.pid), "kill(-pgid, 0) through libSystem");
      assert(!groups.exists(0x7ffffff0));
    } finally {
      Deno.kill(-child.pid, "SIGKILL");
      await child.status;
      await child.stdin.close().catch(() => {});
    }
    for (let i = 0; i < 400 && groups.exists(child.pid); i++) {
      await new Promise((r) => setTimeout(r, 5)); // until sleep is reaped
    }
    assert(!groups.exists(child.pid), "the group is gone");
    groups[Symbol.dispose]();
  },
});

Deno.test({
  name: "darwin process groups: the raw calls keep darwin's conventions",
  ignore: skip !== null,
  fn: async () => {
    using lib = new LibSystem(await buildStandin());
    const own = lib.processGroupPids(getpgrp());
    assert(own.includes(Deno.pid), "this test runner is in its own process group");
    assertEquals(lib.processName(Deno.pid), Deno.readTextFileSync("/proc/self/comm").trim());
    assertEquals(lib.processName(0x7ffffff0), "", "a process that does not exist has no name");
  },
});

/** This process's group, from /proc/self/stat (field 5). */
function getpgrp(): number {
  const text = Deno.readTextFileSync("/proc/self/stat");
  return Number(text.slice(text.lastIndexOf(")") + 2).split(" ")[2]);
}
