/**
 * waitForTunnelGone (restore --tunnel-gone): polls the interface list until the named tunnel is
 * gone or down, for at most the bound; a clock and a sleep of the test's, so no real waiting.
 */
import { assertEquals, assertRejects, assertThrows } from "../assert.ts";
import { UsageError } from "../../lib/core/model/errors.ts";
import { validateTunnelName, waitForTunnelGone } from "../../lib/core/policy/tunnel_gone.ts";
import type { NetInterface } from "../../lib/core/model/types.ts";

const EN0: NetInterface = { name: "en0", index: 4, up: true, tunnel: false };
const utun = (up = true): NetInterface => ({ name: "utun5", index: 12, up, tunnel: true });

/** A table whose interface list is `lists[n]` at the n-th look (the last one repeats), with a
 * clock that `sleep` advances. */
function scripted(lists: NetInterface[][]) {
  let looks = 0;
  let clock = 0;
  const slept: number[] = [];
  return {
    table: {
      interfaces: () => Promise.resolve(lists[Math.min(looks++, lists.length - 1)] ?? []),
    },
    options: (timeoutMs: number) => ({
      timeoutMs,
      now: () => clock,
      sleep: (ms: number) => {
        slept.push(ms);
        clock += ms;
        return Promise.resolve();
      },
    }),
    looks: () => looks,
    slept,
  };
}

Deno.test("a tunnel that is not there at all: no wait", async () => {
  const s = scripted([[EN0]]);
  assertEquals(await waitForTunnelGone(s.table, "utun5", s.options(10_000)), {
    state: "absent",
    waitedMs: 0,
  });
  assertEquals(s.slept, []);
});

Deno.test("a tunnel that goes away after three looks: gone, after 150 ms of polling", async () => {
  const s = scripted([[EN0, utun()], [EN0, utun()], [EN0, utun()], [EN0]]);
  assertEquals(await waitForTunnelGone(s.table, "utun5", s.options(10_000)), {
    state: "gone",
    waitedMs: 150,
  });
  assertEquals([s.looks(), s.slept], [4, [50, 50, 50]]);
});

Deno.test("a tunnel that goes down counts as gone (its routes are no longer live)", async () => {
  const s = scripted([[EN0, utun()], [EN0, utun(false)]]);
  assertEquals((await waitForTunnelGone(s.table, "utun5", s.options(10_000))).state, "gone");
});

Deno.test("a tunnel still up at the bound: still-up, and the wait never passes the bound", async () => {
  const s = scripted([[EN0, utun()]]);
  assertEquals(await waitForTunnelGone(s.table, "utun5", s.options(120)), {
    state: "still-up",
    waitedMs: 120,
  });
  assertEquals(s.slept, [50, 50, 20]);
  const zero = scripted([[EN0, utun()]]);
  assertEquals((await waitForTunnelGone(zero.table, "utun5", zero.options(0))).state, "still-up");
  assertEquals(zero.slept, []);
});

Deno.test("naming an interface that is not a tunnel is a usage error, not a 10 s wait", async () => {
  const s = scripted([[EN0]]);
  await assertRejects(
    () => waitForTunnelGone(s.table, "en0", s.options(10_000)),
    (e) => e instanceof UsageError && /en0 is not a tunnel interface/.test(e.message),
  );
  assertEquals(s.slept, []);
});

Deno.test("validateTunnelName: interface names only", () => {
  for (const ok of ["utun5", "wg0", "tun0", "ppp0", "ipsec0", "wg-home.1", "a".repeat(15)]) {
    assertEquals(validateTunnelName(ok), ok);
  }
  for (const bad of ["", "a".repeat(16), "utun 5", "../x", "..", "utun5;ls", "wg/0", "tun\n0"]) {
    assertThrows(
      () => validateTunnelName(bad),
      (e) => e instanceof UsageError && /--tunnel-gone takes an interface name/.test(e.message),
    );
  }
});
