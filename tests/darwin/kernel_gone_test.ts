/**
 * When the routing socket can deliver nothing more (the simulated kernel's process is gone, which
 * the stand-in's socketpair reports as a 0-byte read; on a Mac, a socket shut down for reading),
 * readers must fail, not spin: the monitor once looped at full CPU on empty reads, and a
 * sing-tun replay left behind by a failed test ran for minutes.
 */
import { assert, assertEquals, assertMatch, assertRejects, assertThrows } from "../assert.ts";
import { RouteTableError } from "../../lib/core/model/errors.ts";
import { type DarwinRouteTable, openDarwinRouteTable } from "../../lib/darwin/route_table.ts";
import { standinUnavailableReason, startSimulator } from "../harness/sim.ts";
import { errnoText, SyscallError } from "../../lib/darwin/errno.ts";
import { mibText } from "../../lib/darwin/libsystem.ts";
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";
import { REPO_DIR } from "../harness/standin.ts";

const MAIN = `${REPO_DIR}/main.ts`;

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
      // Said as what it is: the simulator is gone, and how to start it.
      assertMatch(
        listed.message,
        /^the simulated Mac at \S+sim\.sock is not running; start it with deno task simulator \(cannot list the interfaces: sysctl \(CTL_NET\.PF_ROUTE\.0\.AF_UNSPEC\.NET_RT_IFLIST\.0\) failed with ENOENT \(no such file or directory\)\)$/,
      );
      // socket(PF_ROUTE) fails: the request never reached a kernel, so it has no route meaning
      // (not "invalid", not "not-found", which restore would take for "already gone").
      const gone = { family: 4, gateway: "192.168.1.1", interface: "en0", index: 4 } as const;
      const deleted = await failureOf(() => table.delete({ ...gone, scoped: false, flags: 0 }));
      assertEquals([deleted.kind, deleted.syscall], ["io", "socket"]);
      assertMatch(
        deleted.message,
        /cannot open a routing socket: socket failed with EPROTONOSUPPORT \(protocol not supported\)/,
      );
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

Deno.test({
  name: "CLI: with the simulated Mac gone, every command says so and how to start it (exit 1)",
  ignore: skip !== null,
  async fn() {
    const sim = await startSimulator();
    const env = sim.env;
    await sim.stop();
    for (const args of [["status"], ["save"], ["restore"], ["watch"]]) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", ...DENO_RUN_FLAGS, MAIN, ...args],
        env,
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(output.stderr);
      assertEquals(output.code, 1, `${args.join(" ")}: ${stderr}`);
      assertMatch(
        stderr,
        new RegExp(
          `the simulated Mac at ${env.DEFROUTE_SIM_SOCKET} is not running; ` +
            "start it with deno task simulator \\(cannot [a-z ]+: \\w+.* failed with E[A-Z]+ \\(",
        ),
      );
    }
  },
});

Deno.test("SyscallError.describe names the call, its errno and what the errno says", () => {
  assertEquals(
    new SyscallError("socket", 13).describe(),
    "socket failed with EACCES (permission denied)",
  );
  assertEquals(
    new SyscallError("sysctl", 12, "CTL_NET.PF_ROUTE.0.AF_INET.NET_RT_DUMP2.0").describe(),
    "sysctl (CTL_NET.PF_ROUTE.0.AF_INET.NET_RT_DUMP2.0) failed with ENOMEM (cannot allocate memory)",
  );
  assertEquals(errnoText(51), "network is unreachable"); // darwin's number, not Linux's 101
  assertEquals(errnoText(999), "unknown error 999");
  assertEquals(mibText([4, 17, 0, 30, 7, 0]), "CTL_NET.PF_ROUTE.0.AF_INET6.NET_RT_DUMP2.0");
  assertEquals(mibText([1, 2, 3]), "1.2.3");
});
