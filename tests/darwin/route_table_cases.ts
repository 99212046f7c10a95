/**
 * One test body for the darwin RouteTable, run over two transports:
 * - route_table_ffi_test.ts: the real FFI code (libsystem.ts) through the stand-in libSystem
 *   (C, built with cc) to the simulator process;
 * - route_table_inprocess_test.ts: the in-process transport to the same XnuKernel, no FFI.
 */
import { assert, assertEquals } from "../assert.ts";
import { RouteTableError } from "../../lib/core/model/errors.ts";
import type { DefaultRoute, RouteEvent } from "../../lib/core/model/types.ts";
import type { DarwinRouteTable } from "../../lib/darwin/route_table.ts";
import {
  defaultRouteRequest,
  encodeRouteMessage,
  RTF_PROXY,
  RTM_ADD,
  RTM_DELETE,
  RTM_GET,
} from "../../lib/darwin/route_message.ts";
import { type SimControl, utun } from "../harness/sim.ts";

/** A fresh simulated Mac and a darwin RouteTable on it. */

/** "The global IPv4 default", as a delete names it: no gateway, no interface, unscoped. */
const GLOBAL_V4: DefaultRoute = {
  family: 4,
  gateway: null,
  interface: null,
  index: 0,
  scoped: false,
  flags: 0,
};
/** The global IPv4 default via en0's router, as restore adds it. */
const VIA_EN0: DefaultRoute = { ...GLOBAL_V4, gateway: "192.168.1.1", interface: "en0", index: 4 };

export interface TableFixture {
  sim: SimControl;
  table: DarwinRouteTable;
  /** A second table whose sockets are unprivileged (SS_PRIV clear). */
  unprivileged(): DarwinRouteTable;
  close(): Promise<void>;
}

export interface TableHarness {
  name: string;
  /** Why this harness cannot run here, or null. */
  skip: string | null;
  open(options?: { timeoutMs?: number }): Promise<TableFixture>;
}

const EN0 = 4;
const UTUN = 10;

function globalDefault(routes: DefaultRoute[]): DefaultRoute | undefined {
  return routes.find((r) => !r.scoped);
}

async function errorOf(promise: Promise<unknown>): Promise<RouteTableError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RouteTableError) return error;
    throw error;
  }
  throw new Error("expected a RouteTableError, got success");
}

/** Collects events in the background; `waitFor` resolves when one matches. */
function collect(table: DarwinRouteTable) {
  const controller = new AbortController();
  const events: RouteEvent[] = [];
  const waiters: { test: (e: RouteEvent) => boolean; resolve: (e: RouteEvent) => void }[] = [];
  const done = (async () => {
    for await (const event of table.events(controller.signal)) {
      events.push(event);
      for (const w of [...waiters]) {
        if (w.test(event)) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(event);
        }
      }
    }
  })();
  return {
    events,
    waitFor(test: (e: RouteEvent) => boolean, timeoutMs = 5000): Promise<RouteEvent> {
      const seen = events.find(test);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          reject(
            new Error(`no matching event within ${timeoutMs} ms; saw ${JSON.stringify(events)}`),
          );
        }, timeoutMs);
        waiters.push({
          test,
          resolve: (e) => {
            clearTimeout(timer);
            resolve(e);
          },
        });
      });
    },
    done,
    async stop() {
      controller.abort();
      await done;
    },
  };
}

export function routeTableCases(harness: TableHarness): void {
  const test = (name: string, fn: (f: TableFixture) => Promise<void>, timeoutMs?: number) =>
    Deno.test({
      name: `darwin RouteTable (${harness.name}): ${name}`,
      ignore: harness.skip !== null,
      async fn() {
        const fixture = await harness.open({ timeoutMs });
        try {
          await fn(fixture);
        } finally {
          await fixture.close();
        }
      },
    });

  test("reads the global and the scoped IPv4 defaults (GET answers scoped: dontcare)", async ({ table }) => {
    const routes = await table.defaults(4);
    assertEquals(
      routes.map(({ gateway, interface: i, index, scoped }) => ({ gateway, i, index, scoped })),
      [
        { gateway: "192.168.1.1", i: "en0", index: EN0, scoped: false },
        { gateway: "192.168.1.1", i: "en0", index: EN0, scoped: true },
      ],
    );
    assertEquals(routes[0]!.flags & 0x40, 0, "RTF_DONE is a message flag, not kept");
  });

  test("reads the global default from the GET reply when no scoped one shadows it", async ({ sim, table }) => {
    const routes = await sim.routes(4);
    await sim.setRoutes(routes.filter((r) => !r.scoped));
    const found = await table.defaults(4);
    assertEquals(found.length, 1);
    assertEquals(found[0]!.gateway, "192.168.1.1");
    assertEquals(found[0]!.scoped, false);
    assert(found[0]!.flags & 0x2, "RTF_GATEWAY");
  });

  test("reads the IPv6 global default with its link-local gateway de-embedded", async ({ table }) => {
    const routes = await table.defaults(6);
    assertEquals(routes.length, 1);
    assertEquals(routes[0]!.gateway, "fe80::1");
    assertEquals(routes[0]!.interface, "en0");
    assertEquals(routes[0]!.index, EN0);
  });

  test("a saved index that went stale: the interface's name decides the index", async ({ sim, table }) => {
    // A scoped default saved when en0 had another index (a re-plugged adapter): the index sent
    // must be en0's current one, or the kernel would scope the route to the wrong interface.
    await sim.setRoutes((await sim.routes(4)).filter((r) => !r.scoped));
    await table.add({
      family: 4,
      gateway: "192.168.1.1",
      interface: "en0",
      index: 99,
      scoped: true,
      flags: 0,
    });
    const scoped = (await sim.defaults(4)).filter((r) => r.scoped);
    assertEquals(scoped.map((r) => r.interface), ["en0"]);
  });

  test("no defaults at all is an empty list, not an error", async ({ sim, table }) => {
    await sim.setRoutes([]);
    assertEquals(await table.defaults(4), []);
    assertEquals(await table.defaults(6), []);
  });

  test("deletes exactly: unscoped removes only the global, scoped only its own", async ({ sim, table }) => {
    await table.delete(GLOBAL_V4);
    let left = await sim.defaults(4);
    assertEquals(left.map((r) => [r.interface, r.scoped]), [["en0", true]]);
    await table.add({
      family: 4,
      gateway: "192.168.1.1",
      interface: "en0",
      index: 0,
      scoped: false,
      flags: 0,
    });
    await table.delete({
      family: 4,
      gateway: null,
      interface: "en0",
      index: 0,
      scoped: true,
      flags: 0,
    });
    left = await sim.defaults(4);
    assertEquals(left.map((r) => [r.interface, r.scoped, r.gateway]), [[
      "en0",
      false,
      "192.168.1.1",
    ]]);
  });

  test("adds global and scoped IPv4 defaults; the kernel holds them side by side", async ({ sim, table }) => {
    await sim.addInterface(utun("utun4", UTUN));
    await table.add({
      family: 4,
      gateway: "198.18.0.1",
      interface: "utun4",
      index: 0,
      scoped: true,
      flags: 0,
    });
    const defaults = await sim.defaults(4);
    assertEquals(
      defaults.map((r) => [r.interface, r.scope, r.gateway]).sort(),
      [["en0", 0, "192.168.1.1"], ["en0", EN0, "192.168.1.1"], ["utun4", UTUN, "198.18.0.1"]],
    );
    const read = await table.defaults(4);
    assertEquals(read.filter((r) => r.scoped).map((r) => r.interface), ["en0", "utun4"]);
  });

  test("adds an IPv6 default with a link-local gateway (KAME scope embedded)", async ({ sim, table }) => {
    await table.delete({
      family: 6,
      gateway: null,
      interface: null,
      index: 0,
      scoped: false,
      flags: 0,
    });
    assertEquals(await sim.defaults(6), []);
    await table.add({
      family: 6,
      gateway: "fe80::1",
      interface: "en0",
      index: 0,
      scoped: false,
      flags: 0,
    });
    await table.add({
      family: 6,
      gateway: "fe80::1",
      interface: "en0",
      index: 0,
      scoped: true,
      flags: 0,
    });
    const kernel = await sim.defaults(6);
    assertEquals(kernel.map((r) => [r.gateway, r.ifIndex, r.scope]).sort(), [
      ["fe80::1", EN0, 0],
      ["fe80::1", EN0, EN0],
    ]);
    const read = await table.defaults(6);
    assertEquals(read.map((r) => [r.gateway, r.interface, r.scoped]), [
      ["fe80::1", "en0", false],
      ["fe80::1", "en0", true],
    ]);
  });

  test("adds an interface default (no gateway, netstat's link#N) on a utun", async ({ sim, table }) => {
    await sim.addInterface(utun("utun4", UTUN));
    await table.delete(GLOBAL_V4);
    await table.add({
      family: 4,
      gateway: null,
      interface: "utun4",
      index: 0,
      scoped: false,
      flags: 0,
    });
    const global = (await sim.defaults(4)).filter((r) => !r.scoped);
    assertEquals(global.map((r) => [r.interface, r.gateway]), [["utun4", null]]);
    const read = globalDefault(await table.defaults(4));
    assertEquals([read?.interface, read?.gateway, (read?.flags ?? 0) & 0x2], ["utun4", null, 0]);
  });

  test("an interface that does not exist is kind 'no-interface', and nothing changes", async ({ sim, table }) => {
    const before = await sim.routes();
    const error = await errorOf(table.add({
      family: 4,
      gateway: "192.168.1.1",
      interface: "en9",
      index: 0,
      scoped: true,
      flags: 0,
    }));
    assertEquals(error.kind, "no-interface");
    assertEquals(await sim.routes(), before);
  });

  test("a link-local IPv6 gateway without an interface is kind 'invalid' before anything is sent", async ({ table }) => {
    const error = await errorOf(table.add({
      family: 6,
      gateway: "fe80::1",
      interface: null,
      index: 0,
      scoped: false,
      flags: 0,
    }));
    assertEquals(error.kind, "invalid");
  });

  test("EEXIST: adding a default that exists is kind 'exists'", async ({ table }) => {
    const error = await errorOf(
      table.add({
        family: 4,
        gateway: "192.168.1.1",
        interface: "en0",
        index: 0,
        scoped: false,
        flags: 0,
      }),
    );
    assertEquals([error.kind, error.errno], ["exists", "EEXIST"]);
  });

  test("ESRCH: deleting a default that is not there is kind 'not-found'", async ({ sim, table }) => {
    await sim.addInterface(utun("utun4", UTUN));
    const error = await errorOf(
      table.delete({
        family: 4,
        gateway: null,
        interface: "utun4",
        index: 0,
        scoped: true,
        flags: 0,
      }),
    );
    assertEquals([error.kind, error.errno], ["not-found", "ESRCH"]);
  });

  test("ENETUNREACH: a gateway on no interface's subnet is kind 'unreachable'", async ({ sim, table }) => {
    await table.delete(GLOBAL_V4);
    const error = await errorOf(
      table.add({
        family: 4,
        gateway: "10.99.0.1",
        interface: null,
        index: 0,
        scoped: false,
        flags: 0,
      }),
    );
    assertEquals([error.kind, error.errno], ["unreachable", "ENETUNREACH"]);
    assertEquals((await sim.defaults(4)).filter((r) => !r.scoped), []);
  });

  test("EPERM: an unprivileged socket may GET but not change routes", async ({ sim, unprivileged }) => {
    const table = unprivileged();
    try {
      assertEquals(globalDefault(await table.defaults(4))?.gateway, "192.168.1.1");
      const skipped = table.requester.stats.skipped;
      const error = await errorOf(
        table.delete({
          family: 4,
          gateway: null,
          interface: null,
          index: 0,
          scoped: false,
          flags: 0,
        }),
      );
      assertEquals([error.kind, error.errno], ["needs-root", "EPERM"]);
      // The EPERM echo carries only the pid we wrote (xnu bsd/net/rtsock.c route_output refuses
      // at 396-399, before it stamps rtm_pid at 401): it was recognised as ours, not skipped.
      assertEquals(table.requester.stats.skipped, skipped, "our own echo matched");
      assertEquals((await sim.defaults(4)).length, 2, "nothing changed");
    } finally {
      table.close();
    }
  });

  test("EINVAL: from rtm_errno in the echo (RTF_PROXY) and from write alone (bad msglen)", async ({ table }) => {
    const proxy = encodeRouteMessage(
      defaultRouteRequest({
        type: RTM_ADD,
        family: 4,
        gateway: "192.168.1.1",
        seq: 0,
        form: "route8",
        flags: 0x803 | RTF_PROXY,
      }),
    );
    const echoed = await errorOf(table.requester.request(proxy));
    assertEquals([echoed.kind, echoed.errno], ["invalid", "EINVAL"]);
    // msglen says 200 but 112 bytes are written: the one error the kernel does not echo (§5.1).
    const short = new Uint8Array(
      encodeRouteMessage(
        defaultRouteRequest({ type: RTM_DELETE, family: 4, seq: 0, form: "route8" }),
      ),
    );
    new DataView(short.buffer).setUint16(0, 200, true);
    const written = await errorOf(table.requester.request(short));
    assertEquals([written.kind, written.errno, written.syscall], ["invalid", "EINVAL", "write"]);
  });

  test("finds its reply among other processes' traffic and garbage", async ({ sim, table }) => {
    const get = (pid: number, seq: number, type = RTM_GET) => {
      const bytes = new Uint8Array(
        encodeRouteMessage(defaultRouteRequest({ type, family: 4, seq, form: "route8" })),
      );
      new DataView(bytes.buffer).setInt32(16, pid, true);
      return bytes;
    };
    const pid = table.requester.pid;
    const before = table.requester.stats.skipped;
    await sim.noiseBeforeReply([
      get(4711, 1), // another process, same seq
      get(pid, 999), // us, another seq
      get(pid, 1, RTM_ADD), // us, same seq, another type
      new Uint8Array([0xff, 0x00, 0x05]), // garbage
      get(4711, 2),
    ]);
    const routes = await table.defaults(4);
    assertEquals(globalDefault(routes)?.gateway, "192.168.1.1");
    assertEquals(table.requester.stats.skipped - before, 5);
  });

  test(
    "a reply lost once is asked for again; lost twice it times out with kind 'timeout', and the next request works",
    async ({ sim, table }) => {
      // A full receive buffer drops a reply silently (xnu bsd/net/raw_usrreq.c raw_input):
      // the GET is sent once more.
      await sim.swallowReplies(1);
      assertEquals(globalDefault(await table.defaults(4))?.gateway, "192.168.1.1");
      await sim.swallowReplies(2);
      const error = await errorOf(table.defaults(4));
      assertEquals(error.kind, "timeout");
      assertEquals(globalDefault(await table.defaults(4))?.gateway, "192.168.1.1");
    },
    300,
  );

  test(
    "an ADD whose reply is lost is not sent again when a re-read shows it landed",
    async ({ sim, table }) => {
      await sim.deleteDefaultAs(501, { family: 4 });
      const before = (await sim.log()).length;
      await sim.swallowReplies(1);
      await table.add(VIA_EN0);
      assertEquals(globalDefault(await table.defaults(4))?.gateway, "192.168.1.1");
      const adds = (await sim.log()).slice(before).filter((e) => e.type === RTM_ADD);
      assertEquals(adds.map((e) => e.errno), [0], "one ADD, no second one answered EEXIST");
    },
    300,
  );

  test(
    "an ADD whose reply is lost and that did not land is sent once more",
    async ({ sim, table }) => {
      await sim.deleteDefaultAs(501, { family: 4 });
      const before = (await sim.log()).length;
      await sim.dropNextRequests(1); // the write goes out, the kernel never sees it
      await table.add(VIA_EN0);
      assertEquals(globalDefault(await table.defaults(4))?.gateway, "192.168.1.1");
      const adds = (await sim.log()).slice(before).filter((e) => e.type === RTM_ADD);
      assertEquals(adds.map((e) => e.errno), [0], "the dropped one never reached route_output");
    },
    300,
  );

  test("lists interfaces with up and tunnel", async ({ sim, table }) => {
    await sim.addInterface(utun("utun4", UTUN));
    await sim.setInterfaceUp("en0", false);
    const list = await table.interfaces();
    // IFF_POINTOPOINT: a utun is a link to one peer (ifconfig: flags=8051<UP,POINTOPOINT,...>).
    assertEquals(list, [
      { name: "lo0", index: 1, up: true, tunnel: false, pointToPoint: false },
      { name: "en0", index: EN0, up: false, tunnel: false, pointToPoint: false },
      { name: "utun4", index: UTUN, up: true, tunnel: true, pointToPoint: true },
    ]);
  });

  test("events: another process's default delete with its pid, interfaces, and garbage survived", async ({ sim, table }) => {
    await table.defaults(4); // opens the request socket
    const monitor = collect(table);
    try {
      await waitForSockets(sim, 2);
      await sim.inject(new Uint8Array([0x08, 0x00, 0x07, 0x01, 0, 0, 0, 0])); // bad version
      await sim.inject(new Uint8Array(3)); // too short
      const del = encodeRouteMessage(
        defaultRouteRequest({ type: RTM_DELETE, family: 4, seq: 1, form: "route8" }),
      );
      assertEquals(await sim.requestAs(4711, del), 0);
      const deleted = await monitor.waitFor((e) => e.kind === "route" && e.action === "delete");
      assertEquals(
        deleted.kind === "route" &&
          [deleted.pid, deleted.error, deleted.route.scoped, deleted.route.gateway],
        [
          4711,
          null,
          false,
          "192.168.1.1",
        ],
      );
      // A failed request from another process is echoed too, with rtm_errno (§5.1).
      assertEquals(await sim.requestAs(4712, del), 3);
      const failed = await monitor.waitFor((e) => e.kind === "route" && e.error !== null);
      assertEquals(failed.kind === "route" && [failed.pid, failed.error], [4712, "ESRCH"]);

      await sim.addInterface(utun("utun7", 11));
      const added = await monitor.waitFor((e) => e.kind === "link" && e.action === "new");
      assertEquals(added.kind === "link" && added.interface, {
        name: "utun7",
        index: 11,
        up: true,
        tunnel: true,
        pointToPoint: true,
      });
      await sim.setInterfaceUp("utun7", false);
      await monitor.waitFor((e) =>
        e.kind === "link" && e.action === "down" && e.interface.name === "utun7"
      );
      await sim.removeInterface("utun7");
      await monitor.waitFor((e) =>
        e.kind === "link" && e.action === "gone" && e.interface.name === "utun7"
      );
      // A marker after the removal's RTM_DELADDRs and RTM_IFINFO: "gone" was reported once.
      assertEquals(await sim.requestAs(4713, del), 3);
      await monitor.waitFor((e) => e.kind === "route" && e.pid === 4713);
      const links = monitor.events.flatMap((e) =>
        e.kind === "link" ? [`${e.action} ${e.interface.name}`] : []
      );
      assertEquals(links, ["new utun7", "down utun7", "gone utun7"]);
      assert(
        table.monitorStats.garbage >= 2,
        `garbage counted: ${JSON.stringify(table.monitorStats)}`,
      );
    } finally {
      await monitor.stop();
    }
  });

  test("our ADD goes out in configd's form and its echo names the interface from IFP's sdl_index", async ({ sim, table }) => {
    await sim.deleteDefaultAs(501, { family: 4 });
    await table.defaults(4); // opens the request socket
    const monitor = collect(table);
    try {
      await waitForSockets(sim, 2);
      await table.add(VIA_EN0);
      // The echo is our own bytes (rtm_index 0, unscoped): only IFP's sdl_index names en0
      // (xnu bsd/net/rtsock.c route_output flush: copies the request back).
      const added = await monitor.waitFor((e) => e.kind === "route" && e.action === "add");
      assertEquals(
        added.kind === "route" &&
          [added.route.interface, added.route.index, added.route.gateway, added.pid],
        ["en0", EN0, "192.168.1.1", table.requester.pid],
      );
    } finally {
      await monitor.stop();
    }
  });

  test("events: RTM_NEWADDR and RTM_DELADDR are address events, so the monitor reads again after them", async ({ sim, table }) => {
    await table.defaults(4);
    const monitor = collect(table);
    try {
      await waitForSockets(sim, 2);
      await sim.removeAddress("en0", "192.168.1.100");
      await sim.addAddress("en0", { address: "192.168.1.101", prefix: 24 });
      await monitor.waitFor((e) => e.kind === "address" && e.action === "new");
      const addresses = monitor.events.flatMap((e) =>
        e.kind === "address" ? [`${e.action} ${e.address} ${e.interface.name}`] : []
      );
      assertEquals(addresses, ["delete 192.168.1.100 en0", "new 192.168.1.101 en0"]);
    } finally {
      await monitor.stop();
    }
  });

  test("events: the untouched echo of a request refused for its length is no change (no RTF_DONE, no rtm_errno)", async ({ sim, table }) => {
    await table.defaults(4);
    const monitor = collect(table);
    try {
      await waitForSockets(sim, 2);
      const add = encodeRouteMessage(
        defaultRouteRequest({
          type: RTM_ADD,
          family: 4,
          gateway: "10.9.9.9",
          seq: 1,
          form: "route8",
        }),
      );
      const long = new Uint8Array(add.length + 4); // rtm_msglen says 4 bytes fewer than written
      long.set(add);
      assertEquals(await sim.requestAs(4711, long), 22);
      assertEquals(await sim.requestAs(4712, add), 17); // a marker: EEXIST, a real echo
      await monitor.waitFor((e) => e.kind === "route" && e.pid === 4712);
      const routes = monitor.events.filter((e) => e.kind === "route");
      assertEquals(routes.length, 1, `only the marker: ${JSON.stringify(routes)}`);
      assert(table.monitorStats.garbage >= 1);
    } finally {
      await monitor.stop();
    }
  });

  test("another process's route(8) changes, through the harness helpers", async ({ sim, table }) => {
    assertEquals(await sim.deleteDefaultAs(501, { family: 4 }), 0);
    assertEquals(await sim.deleteDefaultAs(501, { family: 4 }), 3);
    assertEquals(await sim.addDefaultAs(502, { family: 6, gateway: "fe80::1", scope: EN0 }), 0);
    assertEquals(await sim.addDefaultAs(502, { family: 4, gateway: "10.1.1.1" }), 51);
    const v4 = await table.defaults(4);
    assertEquals(v4.map((r) => r.scoped), [true]);
    const v6 = await table.defaults(6);
    assertEquals(v6.map((r) => [r.gateway, r.interface, r.scoped]), [
      ["fe80::1", "en0", false],
      ["fe80::1", "en0", true],
    ]);
    const log = await sim.log();
    assertEquals(log.filter((e) => e.pid === 501 || e.pid === 502).map((e) => e.errno), [
      0,
      3,
      0,
      51,
    ]);
  });

  test("a burst of 100 default-route changes reaches the monitor whole (SO_RCVBUF raised)", async ({ sim, table }) => {
    await table.defaults(4);
    const monitor = collect(table);
    try {
      await waitForSockets(sim, 2);
      const burst = Array.from({ length: 100 }, (_, i) => {
        const bytes = new Uint8Array(
          encodeRouteMessage(
            defaultRouteRequest({ type: RTM_DELETE, family: 4, seq: i, form: "route8" }),
          ),
        );
        new DataView(bytes.buffer).setInt32(16, 1000 + i, true); // rtm_pid
        return bytes;
      });
      await sim.inject(burst);
      await monitor.waitFor((e) => e.kind === "route" && e.pid === 1099);
      const pids = monitor.events.flatMap((e) => (e.kind === "route" ? [e.pid] : []));
      assertEquals(pids, Array.from({ length: 100 }, (_, i) => 1000 + i));
    } finally {
      await monitor.stop();
    }
  });

  test("close() ends a running events() stream", async ({ sim, table }) => {
    await table.defaults(4);
    const monitor = collect(table);
    await waitForSockets(sim, 2);
    table.close();
    await within(monitor.done, 2000, "events() ending after close()");
    await waitForSockets(sim, 0, "at most");
  });
}

/** Resolves with `promise`, or rejects after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Waits until the kernel has `count` routing sockets (so a monitor is listening). */
async function waitForSockets(
  sim: SimControl,
  count: number,
  how: "at least" | "at most" = "at least",
): Promise<void> {
  for (let i = 0; i < 250; i++) {
    const n = await sim.sockets();
    if (how === "at least" ? n >= count : n <= count) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`the kernel never had ${how} ${count} routing sockets`);
}
