/**
 * When the routing socket can deliver nothing more (the simulated kernel's process is gone, which
 * the stand-in's socketpair reports as a 0-byte read; on a Mac, a socket shut down for reading),
 * readers must fail, not spin: the monitor once looped at full CPU on empty reads, and a
 * sing-tun replay left behind by a failed test ran for minutes.
 */
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../assert.ts";
import { RouteTableError } from "../../lib/core/errors.ts";
import { type DarwinRouteTable, openDarwinRouteTable } from "../../lib/darwin/route_table.ts";
import { standinUnavailableReason, startSimulator } from "../harness/sim.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping the kernel-gone tests: ${skip}`);

/** The RouteTableError `fn` rejects with; fails when it resolves or rejects with anything else. */
async function failureOf(fn: () => Promise<unknown>): Promise<RouteTableError> {
  try {
    await fn();
  } catch (error) {
    assert(error instanceof RouteTableError, `not a RouteTableError: ${error}`);
    return error;
  }
  throw new Error("resolved; a RouteTableError was expected");
}

/** Rejects if `promise` has not settled within `ms` (a hang is the failure looked for). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} still pending after ${ms} ms`)), ms);
    }),
  ]);
}

Deno.test({
  name: "darwin FFI: the kernel going away ends events() with an error and fails requests",
  ignore: skip !== null,
  async fn() {
    const sim = await startSimulator();
    sim.applyEnv();
    const table = openDarwinRouteTable({ timeoutMs: 1000 }) as DarwinRouteTable;
    try {
      assert((await table.defaults(4)).length > 0);
      const controller = new AbortController();
      const iterator = table.events(controller.signal)[Symbol.asyncIterator]();
      const next = iterator.next();
      next.catch(() => {}); // inspected below, after the kernel is gone
      await sim.stop();
      // The monitor's read sees end-of-file: an error, promptly, not an endless empty stream.
      await within(assertRejects(() => next, /ESHUTDOWN|recv/), 5000, "events()");
      assert(table.monitorStats.received < 10, `spun on ${table.monitorStats.received} reads`);
      await within(assertRejects(() => table.defaults(4)), 5000, "defaults()");
      controller.abort();
    } finally {
      table.close();
      await sim.stop();
      await new Promise((r) => setTimeout(r, 0));
    }
  },
});

Deno.test({
  name: "darwin FFI: no kernel behind the socket: socket and sysctl failures are io errors",
  ignore: skip !== null,
  async fn() {
    const sim = await startSimulator();
    sim.applyEnv();
    const env = Object.entries(Deno.env.toObject()).filter(([k]) => k.startsWith("DEFROUTE_"));
    await sim.stop();
    for (const [key, value] of env) Deno.env.set(key, value); // the stand-in, a dead kernel
    const table = openDarwinRouteTable({ timeoutMs: 1000 });
    try {
      // sysctl(NET_RT_IFLIST) fails (the stand-in's ENOENT): a failed read, not "no such route".
      const listed = await failureOf(() => table.interfaces());
      assertEquals([listed.kind, listed.syscall], ["io", "sysctl"]);
      // socket(PF_ROUTE) fails: the request never reached a kernel, so it has no route meaning
      // (not "invalid", not "not-found", which restore would take for "already gone").
      const gone = { family: 4, gateway: "192.168.1.1", interface: "en0", index: 4 } as const;
      const deleted = await failureOf(() => table.delete({ ...gone, scoped: false, flags: 0 }));
      assertEquals([deleted.kind, deleted.syscall], ["io", "socket"]);
      assertMatch(deleted.message, /socket: EPROTONOSUPPORT/);
    } finally {
      table.close();
      await sim.stop();
      for (const [key] of env) Deno.env.delete(key);
    }
  },
});

Deno.test("darwin FFI: a library that does not load is one RouteTableError naming the path", async () => {
  const dir = await Deno.makeTempDir({ prefix: "defroute-badlib-" });
  const path = `${dir}/libSystem.B.dylib`;
  await Deno.writeTextFile(path, "not a shared object\n", { mode: 0o644 });
  await Deno.chmod(path, 0o644);
  const before = Deno.env.get("DEFROUTE_LIBSYSTEM");
  Deno.env.set("DEFROUTE_LIBSYSTEM", path);
  try {
    assertThrows(
      () => openDarwinRouteTable(),
      (e) =>
        e instanceof RouteTableError && e.kind === "io" &&
        e.message.startsWith(`cannot load libSystem (${path}): `),
    );
  } finally {
    if (before === undefined) Deno.env.delete("DEFROUTE_LIBSYSTEM");
    else Deno.env.set("DEFROUTE_LIBSYSTEM", before);
    await Deno.remove(dir, { recursive: true });
  }
});
