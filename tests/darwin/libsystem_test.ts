/**
 * lib/darwin/libsystem.ts through the stand-in libSystem: darwin's constants and errno numbering
 * on the way in and out (docs/macos-routing-socket.md §4), the simulator's interfaces (not
 * Linux's), one read = one message, and SO_RCVTIMEO with darwin's 16-byte timeval.
 */
import { assert, assertEquals, assertThrows } from "../assert.ts";
import { SyscallError } from "../../lib/darwin/errno.ts";
import {
  dumpCapacity,
  LibSystem,
  LibSystemRouteSocket,
  LibSystemRouteSystem,
} from "../../lib/darwin/libsystem.ts";
import { DarwinRouteTable } from "../../lib/darwin/route_table.ts";
import { RouteTableError } from "../../lib/core/model/errors.ts";
import {
  decodeMessages,
  defaultRouteRequest,
  encodeRouteMessage,
  RTM_ADD,
  RTM_GET,
} from "../../lib/darwin/route_message.ts";
import { standinUnavailableReason, startSimulator } from "../harness/sim.ts";

const skip = standinUnavailableReason();
if (skip) console.log(`skipping libSystem FFI tests: ${skip}`);

const SOL_SOCKET = 0xffff;
const SO_RCVTIMEO = 0x1006;
const MSG_DONTWAIT = 0x80;

function errnoOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    if (error instanceof SyscallError) return `${error.syscall}: ${error.code}`;
    throw error;
  }
  return "no error";
}

Deno.test("dumpCapacity: whole bytes for any estimate (an odd size made new Uint8Array throw)", () => {
  for (const estimate of [0, 1, 1003, 4096, 123_457]) {
    const capacity = dumpCapacity(estimate);
    assert(Number.isInteger(capacity), `capacity for ${estimate}: ${capacity}`);
    assert(capacity >= estimate + 512);
    assertEquals(new Uint8Array(capacity).length, capacity);
  }
  assertEquals(dumpCapacity(1003), 1003 + 250 + 512);
});

Deno.test({
  name: "recvNow asks poll(fd, 1, 0) first: nothing queued is decided without a failing recv",
  ignore: skip !== null,
  async fn() {
    await using sim = await startSimulator();
    sim.applyEnv();
    using lib = new LibSystem();
    const fd = lib.socket(17, 3, 0);
    try {
      const buffer = new Uint8Array(2048);
      // The bound symbols are a plain object: swap recv for a counting wrapper.
      const symbols = lib.groups.socket.symbols as {
        -readonly [K in keyof typeof lib.groups.socket.symbols]:
          (typeof lib.groups.socket.symbols)[K];
      };
      const recv = symbols.recv;
      let recvCalls = 0;
      symbols.recv = (...args: Parameters<typeof recv>) => {
        recvCalls++;
        return recv(...args);
      };
      try {
        assertEquals(lib.recvNow(fd, buffer), null);
        assertEquals(recvCalls, 0, "no recv, so no EAGAIN to read from errno");
        const get = encodeRouteMessage(
          defaultRouteRequest({ type: RTM_GET, family: 4, seq: 3, form: "route8" }),
        );
        lib.write(fd, new Uint8Array(get));
        assert(lib.recvNow(fd, buffer) !== null, "the reply is read");
        assertEquals(recvCalls, 1);
        assertEquals(lib.recvNow(fd, buffer), null);
        assertEquals(recvCalls, 1);
      } finally {
        symbols.recv = recv;
      }
    } finally {
      lib.close(fd);
    }
  },
});

Deno.test({
  name: "libSystem stand-in: darwin ABI, errno names and the simulator's interfaces",
  ignore: skip !== null,
  async fn() {
    await using sim = await startSimulator();
    sim.applyEnv();
    using lib = new LibSystem();

    // Interfaces are the simulated Mac's: Linux has no en0, and lo0 is index 1.
    assertEquals(lib.ifNameToIndex("en0"), 4);
    assertEquals(lib.ifNameToIndex("nope0"), 0);
    assertEquals(lib.ifIndexToName(1), "lo0");
    assertEquals(lib.ifIndexToName(99), null);

    const fd = lib.socket(17, 3, 0);
    try {
      const buffer = new Uint8Array(2048);
      // Nothing queued: EAGAIN is darwin's 35, not Linux's 11 (docs/macos-routing-socket.md §4.4).
      assertEquals(Number(lib.groups.socket.symbols.recv(fd, buffer, 2048n, MSG_DONTWAIT)), -1);
      assertEquals(lib.errno(), 35);
      assertEquals(lib.recvNow(fd, buffer), null);
      assertEquals(await lib.pollReadable(fd, 50), false);

      // A duplicate add fails in write() with EEXIST, and its echo is already queued (§5.1).
      const add = encodeRouteMessage(
        defaultRouteRequest({
          type: RTM_ADD,
          family: 4,
          gateway: "192.168.1.1",
          seq: 7,
          form: "route8",
        }),
      );
      assertEquals(errnoOf(() => lib.write(fd, new Uint8Array(add))), "write: EEXIST");
      const echo = lib.recvNow(fd, buffer);
      assert(echo !== null);
      assertEquals(new DataView(echo.buffer).getInt32(24, true), 17);
      assertEquals(new DataView(echo.buffer).getInt32(16, true), lib.getpid());

      // ENETUNREACH comes back as darwin's 51, not Linux's 101. (Scoped to lo0: nothing there
      // reaches 10.1.2.3; scoped to en0, en0's scoped default would, and the answer be EEXIST.)
      const far = encodeRouteMessage(
        defaultRouteRequest({
          type: RTM_ADD,
          family: 4,
          gateway: "10.1.2.3",
          ifscope: 1,
          seq: 8,
          form: "route8",
        }),
      );
      assertEquals(errnoOf(() => lib.write(fd, new Uint8Array(far))), "write: ENETUNREACH");
      lib.recvNow(fd, buffer);

      // One read returns one whole message (PR_ATOMIC), and poll() sees it.
      const get = encodeRouteMessage(
        defaultRouteRequest({ type: RTM_GET, family: 4, seq: 9, form: "route8" }),
      );
      assertEquals(lib.write(fd, new Uint8Array(get)), get.length);
      assertEquals(await lib.pollReadable(fd, 1000), true);
      const reply = lib.recvNow(fd, buffer);
      assertEquals(reply?.length, new DataView(reply!.buffer).getUint16(0, true));
      assertEquals(lib.recvNow(fd, buffer), null);

      // SO_RCVTIMEO takes darwin's 16-byte timeval: shorter is EINVAL, usec out of range EDOM.
      const tv = new Uint8Array(16);
      new DataView(tv.buffer).setBigInt64(0, 1n, true);
      assertEquals(lib.groups.socket.symbols.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16), 0);
      assertEquals(lib.groups.socket.symbols.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 8), -1);
      assertEquals(lib.errno(), 22);
      new DataView(tv.buffer).setInt32(8, 1_000_000, true);
      assertEquals(lib.groups.socket.symbols.setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, tv, 16), -1);
      assertEquals(lib.errno(), 33);
      lib.setsockoptInt(fd, SOL_SOCKET, 0x1002, 1 << 20); // SO_RCVBUF
    } finally {
      lib.close(fd);
    }

    // sysctl NET_RT_IFLIST: the simulator's interfaces as a darwin dump.
    const list = decodeMessages(lib.sysctl([4, 17, 0, 0, 3, 0]));
    assertEquals(list.skipped, 0);
    assertEquals(
      list.messages.flatMap((
        m,
      ) => (m.kind === "interface" && m.addrs.ifp?.family === "link" ? [m.addrs.ifp.name] : [])),
      ["lo0", "en0"],
    );
    assertEquals(errnoOf(() => lib.sysctl([4, 17, 0, 2, 99, 0])), "sysctl: EINVAL");

    // Other families pass through to the real socket(): AF_INET/SOCK_DGRAM are the same numbers.
    const udp = lib.socket(2, 2, 0);
    assert(udp >= 0);
    lib.close(udp);
  },
});

Deno.test({
  name: "libSystem stand-in: a PF_ROUTE socket with no kernel behind it is EPROTONOSUPPORT",
  ignore: skip !== null,
  async fn() {
    await using sim = await startSimulator();
    sim.applyEnv();
    Deno.env.set("DEFROUTE_SIM_SOCKET", `${sim.dir}/absent.sock`);
    try {
      using lib = new LibSystem();
      assertThrows(
        () => new LibSystemRouteSocket(lib),
        (e) => e instanceof SyscallError && e.message === "socket: EPROTONOSUPPORT",
      );
    } finally {
      sim.applyEnv();
    }
  },
});

Deno.test({
  name:
    "libSystem: symbols are bound in groups on first use; reads bind no monitor, warm() a change's",
  ignore: skip !== null,
  async fn() {
    await using sim = await startSimulator();
    sim.applyEnv();
    // A hook binds (dlopen and libffi set-up) only the groups of the calls it makes.
    const system = new LibSystemRouteSystem();
    const table = new DarwinRouteTable(system);
    try {
      assertEquals(system.boundGroups(), ["table"]);
      // What `save` reads: an RTM_GET on the socket and sysctl dumps; no monitor, no change.
      assert((await table.defaults(4)).length > 0);
      await table.interfaces();
      const unread = ["nameToIndex"];
      assert(system.boundGroups().includes("socket"));
      assertEquals(system.boundGroups().filter((g) => unread.includes(g)), []);
      table.warm();
      assertEquals(
        system.boundGroups().filter((g) => [...unread, "wait"].includes(g)),
        ["wait", "nameToIndex"],
      );
    } finally {
      table.close();
      await new Promise((r) => setTimeout(r, 0));
    }
  },
});

Deno.test({
  name:
    "darwin: a route table closed by `using` refuses requests; closing table and library again is a no-op",
  ignore: skip !== null,
  async fn() {
    await using sim = await startSimulator();
    sim.applyEnv();
    const system = new LibSystemRouteSystem();
    let table: DarwinRouteTable;
    {
      using scoped = new DarwinRouteTable(system);
      table = scoped;
      assert((await table.defaults(4)).length > 0);
    } // [Symbol.dispose]: close()
    let kind = "";
    try {
      await table.defaults(4);
    } catch (error) {
      kind = error instanceof RouteTableError ? error.kind : String(error);
    }
    assertEquals(kind, "io", "a closed table refuses requests");
    table.close(); // again: nothing to do, nothing thrown
    await new Promise((r) => setTimeout(r, 0)); // the library unloads once its sockets closed
    assertEquals(system.boundGroups(), [], "the library's groups are unbound");

    const lib = new LibSystem();
    assert(lib.boundGroups().length > 0);
    lib[Symbol.dispose]();
    lib[Symbol.dispose](); // a second dispose is a no-op
    assertEquals(lib.boundGroups(), []);
  },
});
