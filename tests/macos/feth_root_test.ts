/**
 * The real-Mac tier, as root, on a feth pair of its own (./feth.ts): defroute's darwin backend
 * changes real routes on the real kernel, and the Mac's own tools read them back. The machine's
 * own default is never touched: every route here is scoped to the feth (RTF_IFSCOPE), and each
 * case checks that the global default is the same afterwards.
 *
 * - a default scoped to the feth added and deleted through DarwinRouteTable, read back by
 *   `route -n get [-inet6] -ifscope fethN default` and `netstat -rn` (IPv4, IPv6 link-local);
 * - EEXIST, ESRCH and ENETUNREACH as the real kernel answers them (xnu route.c
 *   rtrequest_common_locked; rtsock.c route_output);
 * - our own echo, matched by rtm_pid and rtm_seq, and the kernel's report of a deletion;
 * - the monitor (DarwinRouteTable.events) seeing route(8)'s changes with route(8)'s pid, and its
 *   failed request with the errno;
 * - `ifconfig down`: the IPv4 scoped default deleted without a routing message, the IPv6 one kept
 *   (the simulator's model of a link going away is checked against this);
 * - the pair and its routes gone afterwards, also when a case fails halfway.
 */
import { assert, assertEquals } from "../assert.ts";
import {
  closeBackend,
  IFCONFIG,
  NETSTAT,
  openRealBackend,
  rootSupport,
  ROUTE,
  routeGet,
  runOk,
} from "./mac.ts";
import { ADDRESS_B, destroyLeftovers, type FethPair, LINK_LOCAL_B, withFeth } from "./feth.ts";
import { parseIfconfigList, parseNetstatRoutes } from "./tool_output.ts";
import type { DefaultRoute, Family, RouteEvent } from "../../lib/core/model/types.ts";
import { type DarwinRouteTable, isDefaultRouteMessage } from "../../lib/darwin/route_table.ts";
import { RouteTableError } from "../../lib/core/model/errors.ts";
import {
  decodeMessage,
  defaultRouteRequest,
  encodeRouteMessage,
  IFF_UP,
  type RoutingMessage,
  RTF_DONE,
  RTF_GATEWAY,
  RTF_IFSCOPE,
  RTF_STATIC,
  RTF_UP,
  RTM_ADD,
  RTM_DELETE,
  RTM_IFINFO,
} from "../../lib/darwin/route_message.ts";
import { DARWIN_ERRNO, SyscallError } from "../../lib/darwin/errno.ts";
import type { RouteTransport } from "../../lib/darwin/route_socket.ts";

const support = rootSupport();
if (!support.ok) console.log(`skipping the real-Mac feth tests: ${support.reason}`);

function fethTest(name: string, body: (pair: FethPair, table: DarwinRouteTable) => Promise<void>) {
  Deno.test({
    name: `macos (root): ${name}`,
    ignore: !support.ok,
    fn: () =>
      withFeth(async (pair) => {
        const { table } = openRealBackend();
        try {
          const before = await globalDefaults(table);
          await body(pair, table);
          // The machine's own defaults are exactly as they were.
          assertEquals(await globalDefaults(table), before, "the global defaults changed");
        } finally {
          await closeBackend(table);
        }
      }),
  });
}

async function globalDefaults(table: DarwinRouteTable): Promise<DefaultRoute[]> {
  const all = [...await table.defaults(4), ...await table.defaults(6)];
  return all.filter((r) => !r.scoped);
}

/** The default scoped to the pair's `a` side, via the `b` side's address. */
function scopedDefault(family: Family, pair: FethPair): DefaultRoute {
  return {
    family,
    gateway: family === 4 ? ADDRESS_B : LINK_LOCAL_B,
    interface: pair.a,
    index: 0,
    scoped: true,
    flags: 0,
  };
}

async function caught(promise: Promise<unknown>): Promise<RouteTableError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof RouteTableError) return error;
    throw error;
  }
  throw new Error("the kernel accepted it");
}

for (const family of [4, 6] as const) {
  fethTest(
    `IPv${family}: a default scoped to the feth, added and deleted, read back by route(8)`,
    async (pair, table) => {
      const route = scopedDefault(family, pair);
      await table.add(route);
      const get = await routeGet(family, pair.a);
      assert(get.kind === "route", `route get -ifscope ${pair.a}: not in table after the add`);
      assertEquals(get.interface, pair.a);
      // route(8) prints a link-local gateway with its scope (getnameinfo NI_WITHSCOPEID).
      assertEquals(get.gateway, family === 4 ? ADDRESS_B : `${LINK_LOCAL_B}%${pair.a}`);
      for (const flag of ["UP", "GATEWAY", "STATIC", "IFSCOPE"]) {
        assert(get.flags.includes(flag), `${flag} missing from ${get.flags}`);
      }
      const ours = (await table.defaults(family)).filter((r) => r.interface === pair.a);
      assertEquals(ours.map((r) => [r.gateway, r.scoped]), [[route.gateway, true]]);
      assertEquals(ours[0]!.flags & (RTF_UP | RTF_GATEWAY | RTF_STATIC | RTF_IFSCOPE), 0x1000803);
      const netstat = parseNetstatRoutes(
        await runOk(NETSTAT, ["-rn", "-f", family === 4 ? "inet" : "inet6"]),
      );
      const row = netstat.routes.find((r) => r.destination === "default" && r.netif === pair.a);
      assert(row?.flags.includes("I"), `netstat: ${JSON.stringify(row)}`);

      await table.delete(route);
      assertEquals((await routeGet(family, pair.a)).kind, "not-in-table");
      assertEquals((await table.defaults(family)).filter((r) => r.interface === pair.a), []);
    },
  );
}

fethTest("EEXIST, ESRCH and ENETUNREACH come from the real kernel", async (pair, table) => {
  const route = scopedDefault(4, pair);
  await table.add(route);
  const twice = await caught(table.add(route));
  assertEquals([twice.errno, twice.kind], ["EEXIST", "exists"]);
  await table.delete(route);
  const gone = await caught(table.delete(route));
  assertEquals([gone.errno, gone.kind], ["ESRCH", "not-found"]);
  // TEST-NET-3: on no interface's network, and nothing scoped to the feth routes to it.
  const nowhere = await caught(table.add({ ...route, gateway: "203.0.113.1" }));
  assertEquals([nowhere.errno, nowhere.kind], ["ENETUNREACH", "unreachable"]);
  assertEquals((await table.defaults(4)).filter((r) => r.interface === pair.a), []);
});

/** Reads until the message of `type` and `seq` arrives; fails after a few seconds. */
async function echoOf(socket: RouteTransport, type: number, seq: number) {
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const bytes = await socket.receive(500);
    if (!bytes) continue;
    const decoded = decodeMessage(bytes);
    if (decoded.ok && decoded.message.kind === "route" && decoded.message.type === type) {
      if (decoded.message.seq === seq) return decoded.message;
    }
  }
  throw new Error(`no echo of type ${type} seq ${seq}`);
}

fethTest(
  "our own echo: matched by pid and seq; a failure's echo carries rtm_errno",
  async (pair) => {
    const { system } = openRealBackend();
    const socket = system.openSocket();
    try {
      const index = system.interfaceIndex(pair.a);
      assert(index > 0, `no index for ${pair.a}`);
      const request = (type: number, seq: number) =>
        encodeRouteMessage(defaultRouteRequest({
          type,
          family: 4,
          gateway: type === RTM_ADD ? ADDRESS_B : undefined,
          ifscope: index,
          seq,
          form: "route8",
          flags: RTF_UP | RTF_GATEWAY | RTF_STATIC,
        })) as Uint8Array<ArrayBuffer>;

      socket.send(request(RTM_ADD, 4201));
      const added = await echoOf(socket, RTM_ADD, 4201);
      // The kernel stamps the writer's pid (rtsock.c route_output) and RTF_DONE on success.
      assertEquals([added.pid, added.errno], [Deno.pid, 0]);
      assertEquals(added.pid, socket.pid);
      assert(
        added.flags & RTF_DONE && added.flags & RTF_IFSCOPE,
        `flags 0x${added.flags.toString(16)}`,
      );
      assertEquals(added.index, index);

      // A failed request: write(2) fails, and the echo is queued anyway, errno in the message.
      let writeError: unknown = null;
      try {
        socket.send(request(RTM_ADD, 4202));
      } catch (error) {
        writeError = error;
      }
      assert(writeError instanceof SyscallError, `write did not fail: ${writeError}`);
      assertEquals(writeError.code, "EEXIST");
      const refused = await echoOf(socket, RTM_ADD, 4202);
      assertEquals([refused.pid, refused.errno], [Deno.pid, DARWIN_ERRNO.EEXIST]);

      // A delete is answered with the kernel's report of the route it removed.
      socket.send(request(RTM_DELETE, 4203));
      const deleted = await echoOf(socket, RTM_DELETE, 4203);
      assertEquals([deleted.pid, deleted.errno, deleted.index], [Deno.pid, 0, index]);
      assertEquals(
        deleted.addrs.gateway?.family === "inet4" && deleted.addrs.gateway.address,
        ADDRESS_B,
      );
    } finally {
      socket.close();
      await closeBackend(system);
    }
  },
);

fethTest(
  "the monitor sees route(8)'s changes with route(8)'s pid, and its failure",
  async (pair, table) => {
    const abort = new AbortController();
    const events: RouteEvent[] = [];
    const iterator = table.events(abort.signal)[Symbol.asyncIterator]();
    // The first next() opens the monitor socket before its first await: nothing sent after this
    // line can be missed.
    let pending = iterator.next();
    const timer = setTimeout(() => abort.abort(), 15_000);
    const commands: { args: string[]; pid: number }[] = [];
    const routeCommand = async (...args: string[]) => {
      const child = new Deno.Command(ROUTE, {
        args: ["-n", ...args],
        clearEnv: true,
        env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" },
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      commands.push({ args, pid: child.pid });
      const output = await child.output();
      return new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
    };
    try {
      await routeCommand("add", "-ifscope", pair.a, "default", ADDRESS_B);
      await routeCommand("delete", "-ifscope", pair.a, "default");
      const again = await routeCommand("delete", "-ifscope", pair.a, "default");
      assert(/not in table/.test(again), again);
      const onFeth = () => events.filter((e) => e.kind === "route" && e.route.interface === pair.a);
      while (onFeth().length < 3) {
        const next = await pending;
        if (next.done) break;
        events.push(next.value);
        pending = iterator.next();
      }
      const seen = onFeth().map((e) =>
        e.kind === "route" ? [e.action, e.route.scoped, e.route.gateway, e.pid, e.error] : []
      );
      const [add, del, failed] = commands;
      assertEquals(seen, [
        ["add", true, ADDRESS_B, add!.pid, null],
        // The kernel's report of the deleted route names its gateway (rtsock.c, report:).
        ["delete", true, ADDRESS_B, del!.pid, null],
        // A failed request is echoed too, rtm_errno set: a monitor must not take it for a change.
        ["delete", true, null, failed!.pid, "ESRCH"],
      ]);
    } finally {
      clearTimeout(timer);
      abort.abort();
      await iterator.return?.(undefined);
    }
  },
);

/**
 * xnu bsd/net/if.c if_updown(): taking an interface down tells each protocol (pfctlinput
 * PRC_IFDOWN per address) before the one RTM_IFINFO (rt_ifmsg). For IPv4, raw_ip.c rip_ctlinput
 * calls in_ifadown(ifa, 1), which deletes every route through that address, static ones
 * included, with rtrequest_locked: no message on the routing socket. IPv6 has no PRC_IFDOWN
 * handler; its routes stay until the interface is detached. A monitor that waits for an
 * RTM_DELETE never hears of the IPv4 default going: it must re-read on RTM_IFINFO.
 */
for (const family of [4, 6] as const) {
  fethTest(
    `IPv${family}: \`ifconfig down\` and the scoped default (no RTM_DELETE for it)`,
    async (pair, table) => {
      await table.add(scopedDefault(family, pair));
      const { system } = openRealBackend();
      const socket = system.openSocket();
      try {
        const index = system.interfaceIndex(pair.a);
        await runOk(IFCONFIG, [pair.a, "down"]);
        const heard: RoutingMessage[] = [];
        const deadline = Date.now() + 5000;
        let ifinfo: RoutingMessage | null = null;
        while (ifinfo === null && Date.now() < deadline) {
          const bytes = await socket.receive(500);
          const decoded = bytes ? decodeMessage(bytes) : null;
          if (!decoded?.ok) continue;
          heard.push(decoded.message);
          const m = decoded.message;
          if (m.kind === "interface" && m.type === RTM_IFINFO && m.index === index) ifinfo = m;
        }
        assert(ifinfo !== null, `no RTM_IFINFO for ${pair.a} going down`);
        assertEquals(ifinfo.flags & IFF_UP, 0);
        const deletes = heard.filter((m) =>
          m.kind === "route" && m.type === RTM_DELETE && isDefaultRouteMessage(m)
        );
        assertEquals(deletes, [], "the kernel announced the default's deletion");
        const left = (await table.defaults(family)).filter((r) => r.interface === pair.a);
        if (family === 4) {
          assertEquals(left, [], "the IPv4 default outlived its interface going down");
          assertEquals((await routeGet(4, pair.a)).kind, "not-in-table");
        } else {
          assertEquals(left.map((r) => r.gateway), [LINK_LOCAL_B]);
        }
      } finally {
        socket.close();
        await closeBackend(system);
      }
    },
  );
}

Deno.test({
  name: "macos (root): the pair and its routes are gone afterwards, also after a failure",
  ignore: !support.ok,
  fn: async () => {
    let seen: FethPair | null = null;
    const failure = new Error("a case failing halfway");
    try {
      await withFeth(async (pair) => {
        seen = pair;
        const { table } = openRealBackend();
        try {
          await table.add(scopedDefault(4, pair));
        } finally {
          await closeBackend(table);
        }
        throw failure;
      });
    } catch (error) {
      assertEquals(error, failure);
    }
    const pair = seen as FethPair | null;
    assert(pair !== null, "the body never ran");
    const names = parseIfconfigList(await runOk(IFCONFIG, ["-l"]));
    assertEquals(names.filter((n) => n === pair.a || n === pair.b), []);
    const { table } = openRealBackend();
    try {
      assertEquals((await table.defaults(4)).filter((r) => r.interface === pair.a), []);
    } finally {
      await closeBackend(table);
    }
    assertEquals(await destroyLeftovers(), []);
  },
});
