/**
 * The real-Mac tier, as any user: what defroute reads through PF_ROUTE, NET_RT_IFLIST and scutil
 * on a real Mac, held against the Mac's own tools. Nothing here changes the machine.
 *
 * - the global default and every scoped default against `route -n get [-ifscope IF] default`
 *   (route.tproj/route.c) and `netstat -rn -f inet|inet6` (netstat.tproj/route.c);
 * - the interface list against `ifconfig -l` and each interface's flags and index against
 *   `ifconfig -a -v`;
 * - scutil's State:/Network/Global/IPv4|IPv6 against `route -n get default`'s interface, and
 *   State:/Network/Interface/<if>/Link `Active` against ifconfig's media status;
 * - a monitor socket receiving another process's routing message with that process's pid
 *   (xnu bsd/net/rtsock.c route_output: every request is echoed to every routing socket);
 * - without root, the kernel's EPERM for a change (rtsock.c route_output, SS_PRIV).
 *
 * Two independent reads can straddle a change (a DHCP renewal, configd), so each comparison
 * re-reads both sides a few times before it fails; it never passes on a mismatch.
 * Elsewhere than macOS every case skips with the reason printed below.
 */
import { assert, assertEquals } from "../assert.ts";
import {
  agreeWithin,
  closeBackend,
  IFCONFIG,
  macSupport,
  NETSTAT,
  openRealBackend,
  realScutil,
  ROUTE,
  routeGet,
  runOk,
  SCUTIL_PATH,
  splitZone,
} from "./mac.ts";
import {
  netstatFlagColumn,
  parseIfconfigHeaders,
  parseIfconfigList,
  parseIfconfigMediaStatus,
  parseNetstatRoutes,
  route8FlagNames,
  type RouteGet,
} from "./tool_output.ts";
import type { DefaultRoute, Family } from "../../lib/core/model/types.ts";
import {
  CTL_NET,
  decodeMessage,
  decodeMessages,
  NET_RT_IFLIST,
  PF_ROUTE,
  RTF_DONE,
  RTF_HOST,
  RTM_GET,
} from "../../lib/darwin/route_message.ts";
import { monitorMessages } from "../../lib/darwin/route_socket.ts";
import { RouteTableError } from "../../lib/core/model/errors.ts";
import { isTunnelName } from "../../lib/core/model/types.ts";
import { parseScutilOutput } from "../../lib/darwin/scutil.ts";

const support = macSupport();
if (!support.ok) console.log(`skipping the real-Mac read tests: ${support.reason}`);

function macTest(name: string, fn: () => Promise<void>, ignoreReason = ""): void {
  Deno.test({ name: `macos: ${name}`, ignore: !support.ok || ignoreReason !== "", fn });
}

const FAMILIES: readonly Family[] = [4, 6];

/** route(8)'s view of one default held against defroute's. */
function assertSameRoute(family: Family, theirs: RouteGet, ours: DefaultRoute | undefined): void {
  assert(theirs.kind === "route", "route(8) found no such default");
  assert(ours, `route(8) shows ${JSON.stringify(theirs)}; defroute has no such default`);
  // A default's destination is 0.0.0.0 ("default" in routename()) or "::", its mask sa_len 0.
  assertEquals(theirs.destination, family === 4 ? "default" : "::");
  assertEquals(theirs.mask, "default");
  assertEquals(theirs.interface, ours.interface);
  const [gateway, zone] = theirs.gateway === null ? [null, null] : splitZone(theirs.gateway);
  assertEquals(gateway, ours.gateway, "gateway");
  if (zone !== null) assertEquals(zone, ours.interface, "the gateway's scope");
  // A GET reply carries rt_flags | RTF_DONE (rtsock.c route_output, report:).
  assertEquals(theirs.flags, route8FlagNames(ours.flags | RTF_DONE), "flags");
  assertEquals(theirs.flags.includes("IFSCOPE"), ours.scoped, "scope");
}

macTest("the global default agrees with `route -n get default` (IPv4, IPv6)", async () => {
  const { table } = openRealBackend();
  try {
    for (const family of FAMILIES) {
      await agreeWithin(3, async () => ({
        ours: await table.defaults(family),
        theirs: await routeGet(family),
      }), ({ ours, theirs }) => {
        const global = ours.find((r) => !r.scoped);
        if (theirs.kind === "not-in-table") {
          assertEquals(global, undefined, `IPv${family}: route(8) finds no default`);
          return;
        }
        // Without RTF_IFSCOPE the kernel may answer with the default scoped to the primary
        // interface (xnu route.c rt_lookup_common, "dontcare"): then it is that one to compare.
        const shown = theirs.flags.includes("IFSCOPE")
          ? ours.find((r) => r.scoped && r.interface === theirs.interface)
          : global;
        assertSameRoute(family, theirs, shown);
      });
    }
  } finally {
    await closeBackend(table);
  }
});

macTest("every scoped default agrees with `route -n get -ifscope IF default`", async () => {
  const { table } = openRealBackend();
  try {
    for (const family of FAMILIES) {
      await agreeWithin(3, async () => {
        const ours = (await table.defaults(family)).filter((r) => r.scoped);
        const theirs: RouteGet[] = [];
        for (const route of ours) theirs.push(await routeGet(family, route.interface!));
        return { ours, theirs };
      }, ({ ours, theirs }) => {
        ours.forEach((route, i) => assertSameRoute(family, theirs[i]!, route));
      });
    }
  } finally {
    await closeBackend(table);
  }
});

/** A comparable line for a default: "en0 192.168.1.1 UGScg" (netstat's own letters). */
function netstatKey(family: Family, netif: string, gateway: string, flags: string): string {
  const [address, zone] = splitZone(gateway);
  // An IP gateway prints as numbers; a link gateway as link#N or the link address.
  const isAddress = family === 4 ? /^\d+\.\d+\.\d+\.\d+$/.test(address) : address.includes(":");
  if (zone !== null) assertEquals(zone, netif, `the scope of ${gateway}`);
  return `${netif} ${isAddress ? address : "(link)"} ${flags}`;
}

macTest("the defaults agree with `netstat -rn -f inet` and `-f inet6`", async () => {
  const { table } = openRealBackend();
  try {
    for (const family of FAMILIES) {
      await agreeWithin(3, async () => ({
        ours: await table.defaults(family),
        netstat: parseNetstatRoutes(
          await runOk(NETSTAT, ["-rn", "-f", family === 4 ? "inet" : "inet6"]),
        ),
      }), ({ ours, netstat }) => {
        const theirs = netstat.routes
          // routename() prints "default" also for a 0.0.0.0 host route: its H flag tells.
          .filter((r) => r.family === family && r.destination === "default")
          .filter((r) => !r.flags.includes("H"))
          .map((r) => netstatKey(family, r.netif, r.gateway, r.flags)).sort();
        const mine = ours.map((r) =>
          `${r.interface} ${r.gateway ?? "(link)"} ${netstatFlagColumn(r.flags & ~RTF_DONE)}`
        ).sort();
        assertEquals(mine, theirs, `IPv${family} defaults`);
        assert(ours.every((r) => (r.flags & RTF_HOST) === 0), "a default with RTF_HOST");
      });
    }
  } finally {
    await closeBackend(table);
  }
});

macTest(
  "interfaces() agrees with `ifconfig -l`, and flags and index with `ifconfig -a -v`",
  async () => {
    const { system, table } = openRealBackend();
    try {
      await agreeWithin(3, async () => ({
        ours: await table.interfaces(),
        raw: decodeMessages(system.sysctl([CTL_NET, PF_ROUTE, 0, 0, NET_RT_IFLIST, 0])).messages,
        names: parseIfconfigList(await runOk(IFCONFIG, ["-l"])),
        verbose: parseIfconfigHeaders(await runOk(IFCONFIG, ["-a", "-v"])),
      }), ({ ours, raw, names, verbose }) => {
        assertEquals(ours.map((i) => i.name).sort(), [...names].sort(), "names");
        assertEquals(verbose.headers.map((h) => h.name).sort(), [...names].sort(), "ifconfig -a");
        assert(names.includes("lo0"), "no lo0");
        for (const iface of ours) {
          const header = verbose.headers.find((h) => h.name === iface.name)!;
          const message = raw.find((m) => m.kind === "interface" && m.index === iface.index);
          assert(message?.kind === "interface", `no RTM_IFINFO for ${iface.name}`);
          assertEquals(iface.index, header.index, `${iface.name} index`);
          // getifaddrs(3) reports the same u_short if_flags as RTM_IFINFO (rtsock.c rt_ifmsg).
          assertEquals(message.flags & 0xffff, header.flags & 0xffff, `${iface.name} flags`);
          assertEquals(iface.up, (header.flags & 0x41) === 0x41, `${iface.name} UP|RUNNING`);
        }
        const utuns = ours.filter((i) => /^utun\d+$/.test(i.name));
        assert(utuns.every((i) => i.tunnel), "a utun not counted as a tunnel");
        assertEquals(ours.find((i) => i.name === "lo0")?.tunnel, false);
      });
    } finally {
      await closeBackend(table);
    }
  },
);

macTest("scutil's Global keys parse and agree with `route -n get default`", async () => {
  const raw = await scutilShow(["State:/Network/Global/IPv4"]);
  await agreeWithin(3, async () => ({
    states: await realScutil().readGlobal(),
    theirs: await routeGet(4),
  }), ({ states, theirs }) => {
    for (const family of FAMILIES) {
      assert(states[family].kind !== "invalid", JSON.stringify(states[family]));
    }
    const v4 = states[4];
    if (theirs.kind === "route" && !theirs.flags.includes("IFSCOPE")) {
      assert(v4.kind === "present", "a default route, but no State:/Network/Global/IPv4");
      assertEquals(v4.info.interface, theirs.interface, "PrimaryInterface");
      if (theirs.gateway !== null) assertEquals(v4.info.router, theirs.gateway, "Router");
    }
  });
  // The raw text, read without defroute's parser, names the same interface.
  const interfaceLine = raw.match(/^ {2}PrimaryInterface : (\S+)$/m)?.[1] ?? null;
  const parsed = await realScutil().readGlobal();
  assertEquals(parsed[4].kind === "present" ? parsed[4].info.interface : null, interfaceLine);
});

/**
 * configd publishes State:/Network/Interface/<if>/Link with `Active` from the same IFM_ACTIVE of
 * SIOCGIFXMEDIA that ifconfig prints as "status: active|inactive" (configd
 * Plugins/KernelEventMonitor/ev_dlil.c S_link_update_status; ifconfig.tproj/ifmedia.c): link
 * state, which IFF_RUNNING is not (the simulator keeps the two apart, tests/harness/xnu_kernel.ts
 * linkActive). Interfaces configd does not track have no key and are not compared.
 */
macTest(
  "configd's Link Active agrees with ifconfig's media status on every interface",
  async () => {
    await agreeWithin(3, async () => {
      const names = parseIfconfigList(await runOk(IFCONFIG, ["-l"]));
      const media = parseIfconfigMediaStatus(await runOk(IFCONFIG, ["-a"]));
      const text = await scutilShow(names.map((n) => `State:/Network/Interface/${n}/Link`));
      return { names, media, links: parseScutilOutput(text) };
    }, ({ names, media, links }) => {
      assertEquals(links.length, names.length, "one answer per interface");
      names.forEach((name, i) => {
        const link = links[i];
        if (link === null || link === undefined) return;
        const active = link["Active"];
        const status = media.get(name);
        assertEquals(
          active === undefined,
          status === undefined,
          `${name}: Active ${active}, ${status}`,
        );
        if (status !== undefined) assertEquals(active === "TRUE", status === "active", name);
      });
    });
    // The interface of the default route has its link up.
    const theirs = await routeGet(4);
    if (theirs.kind === "route" && theirs.interface !== null && !isTunnelName(theirs.interface)) {
      const media = parseIfconfigMediaStatus(await runOk(IFCONFIG, [theirs.interface]));
      if (media.has(theirs.interface)) assertEquals(media.get(theirs.interface), "active");
    }
  },
);

/** `show KEY` for each key through /usr/sbin/scutil, stdin piped (no tty: no prompt). */
async function scutilShow(keys: string[]): Promise<string> {
  const child = new Deno.Command(SCUTIL_PATH, {
    clearEnv: true,
    env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin", LC_ALL: "C" },
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(keys.map((key) => `show ${key}\n`).join("")));
  await writer.close();
  const output = await child.output();
  assert(output.success, new TextDecoder().decode(output.stderr));
  return new TextDecoder().decode(output.stdout);
}

macTest("a monitor socket sees another process's request, stamped with its pid", async () => {
  const { system } = openRealBackend();
  const socket = system.openSocket();
  const abort = new AbortController();
  try {
    const messages = monitorMessages(
      socket,
      (bytes) => {
        const decoded = decodeMessage(bytes);
        return decoded.ok ? decoded.message : null;
      },
      abort.signal,
      undefined,
      { pollMs: 100 },
    );
    // route(8)'s RTM_GET (anyone may send one) is echoed to every routing socket with the
    // sender's pid, as every change is (rtsock.c route_output, flush:).
    const child = new Deno.Command(ROUTE, {
      args: ["-n", "get", "default"],
      clearEnv: true,
      env: { PATH: "/usr/bin:/bin:/usr/sbin:/sbin" },
      stdout: "null",
      stderr: "null",
    }).spawn();
    const timer = setTimeout(() => abort.abort(), 10_000);
    let found = null;
    for await (const message of messages) {
      if (message.kind === "route" && message.type === RTM_GET && message.pid === child.pid) {
        found = message;
        break;
      }
    }
    clearTimeout(timer);
    await child.status;
    assert(found?.kind === "route", `no RTM_GET from route(8) (pid ${child.pid}) was seen`);
    // route(8) numbers its first request 1 (route.c rtmsg(): rtm_seq = ++seq).
    assertEquals(found.seq, 1);
    assertEquals(found.addrs.dst?.family, "inet4");
  } finally {
    abort.abort();
    socket.close();
    await closeBackend(system);
  }
});

macTest(
  "without root, the kernel refuses a change with EPERM and nothing changes",
  async () => {
    const { table } = openRealBackend();
    try {
      const before = await table.defaults(4);
      const lo0: DefaultRoute = {
        family: 4,
        gateway: "127.0.0.1",
        interface: "lo0",
        index: 0,
        scoped: true,
        flags: 0,
      };
      let error: unknown = null;
      try {
        await table.add(lo0);
      } catch (caught) {
        error = caught;
      }
      if (error === null) await table.delete(lo0); // never leave it, should the kernel allow it
      assert(error instanceof RouteTableError, `the add was not refused: ${error}`);
      assertEquals([error.errno, error.kind], ["EPERM", "needs-root"]);
      assertEquals(await table.defaults(4), before);
    } finally {
      await closeBackend(table);
    }
  },
  Deno.uid() === 0 ? "as root the add would succeed" : "",
);
