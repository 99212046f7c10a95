/**
 * `deno task sim-ctl VERB ...`: drive the running simulated Mac (`deno task simulator`) from a
 * shell, the way tests do through tests/harness/sim.ts's control API. It reads
 * DEFROUTE_SIM_SOCKET, as defroute does, so the environment the simulator printed is all it needs.
 *
 * Every verb is one control request (tests/harness/sim_server.ts `control`): the simulated kernel
 * sends the routing messages a Mac would (RTM_IFINFO, RTM_NEWADDR, ...), so a `defroute watch`
 * in another shell sees them.
 */
import { parseArgs } from "node:util";
import { connectControl } from "./sim.ts";
import {
  IFF_BROADCAST,
  IFF_MULTICAST,
  IFF_RUNNING,
  IFF_SIMPLEX,
  IFF_UP,
  SCUTIL_IPV4,
  SCUTIL_IPV6,
  type SimInterface,
  type SimRouteView,
  utun,
} from "./xnu_kernel.ts";

export const SIM_CTL_HELP = `Usage: deno task sim-ctl VERB [ARGS...]

Drives the simulated Mac that 'deno task simulator' runs (it reads DEFROUTE_SIM_SOCKET, from
the environment the simulator printed).

Verbs:
  routes [4|6]                          the routing table, like netstat -rn
  interfaces                            the interfaces, their flags and addresses
  add-utun NAME [IPV4]                  a tunnel interface appears (point-to-point, up, no MAC,
                                        IPV4 default 198.18.0.1), as sing-box or wireguard-go make
  add-interface NAME ADDRESS/PREFIX...  an Ethernet interface appears, up, with these addresses
      [--mac aa:bb:cc:dd:ee:ff]
  remove-interface NAME                 the interface goes away, and its routes with it
  add-address NAME ADDRESS/PREFIX       an address appears on the interface (RTM_NEWADDR)
  remove-address NAME ADDRESS           the address goes (RTM_DELADDR), as when a DHCP lease ends
  link NAME up|down                     the link becomes active or inactive (a cable, Wi-Fi
                                        association): configd's State:/Network/Interface/NAME/Link;
                                        flags stay UP,RUNNING and the routing socket hears nothing
  ifconfig NAME up|down                 IFF_UP on or off (RTM_IFINFO); down deletes its IPv4
                                        routes without a routing message
  set-router 4|6 ADDRESS INTERFACE      configd's State:/Network/Global/IPv4|IPv6 (what scutil
                                        shows as Router and PrimaryInterface); routes unchanged
  clear-router 4|6                      removes that key (no primary service)

Options:
  --json        print the result as JSON
  -h, --help    this text

Exit codes: 0 done, 1 the simulator refused or is not running, 2 usage error.

Examples:
  deno task sim-ctl add-utun utun4
  deno task sim-ctl routes 4
  deno task sim-ctl set-router 4 192.168.2.1 en1
`;

/** A usage error: the message, then exit 2. */
class SimCtlUsage extends Error {}

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new SimCtlUsage(`missing ${what}`);
  return value;
}

function familyOf(text: string | undefined): 4 | 6 {
  if (text === "4" || text === "6") return Number(text) as 4 | 6;
  throw new SimCtlUsage(`the family is 4 or 6, not ${JSON.stringify(text ?? "")}`);
}

function addressOf(text: string): { address: string; prefix: number } {
  const match = /^([0-9a-fA-F.:]+)\/(\d{1,3})$/.exec(text);
  if (!match) {
    throw new SimCtlUsage(`an address is ADDRESS/PREFIX (192.168.2.100/24), not "${text}"`);
  }
  return { address: match[1]!, prefix: Number(match[2]) };
}

/** The interface a command-line `add-interface` describes: Ethernet, up and running. */
export function ethernet(
  name: string,
  index: number,
  addresses: { address: string; prefix: number }[],
  mac: string,
): SimInterface {
  return {
    name,
    index,
    flags: IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_SIMPLEX | IFF_MULTICAST,
    mac,
    type: 0x6, // IFT_ETHER (bsd/net/if_types.h)
    mtu: 1500,
    addresses,
    linkActive: true,
  };
}

/** A MAC for a new interface when none is given: locally administered, from its index. */
function macFor(index: number): string {
  return `02:00:00:00:00:${(index & 0xff).toString(16).padStart(2, "0")}`;
}

function flagText(flags: number): string {
  const names: [number, string][] = [
    [0x1, "UP"],
    [0x2, "BROADCAST"],
    [0x8, "LOOPBACK"],
    [0x10, "POINTOPOINT"],
    [0x40, "RUNNING"],
    [0x800, "SIMPLEX"],
    [0x8000, "MULTICAST"],
  ];
  return names.filter(([bit]) => flags & bit).map(([, name]) => name).join(",");
}

function routeLine(route: SimRouteView): string {
  const destination = route.prefix === 0 ? "default" : `${route.destination}/${route.prefix}`;
  const scope = route.scoped ? `(ifscope ${route.interface ?? route.scope})` : "(global)";
  return [
    route.family === 4 ? "inet " : "inet6",
    destination.padEnd(20),
    (route.gateway ?? "link").padEnd(26),
    (route.interface ?? "?").padEnd(8),
    `flags 0x${route.flags.toString(16)}`.padEnd(17),
    scope,
  ].join(" ");
}

/** Runs sim-ctl with `args`; returns the exit code. Output goes through `print`. */
export async function simCtl(
  args: string[],
  env: (name: string) => string | undefined = (name) => Deno.env.get(name),
  print: (text: string) => void = console.log,
  warn: (text: string) => void = (text) => console.error(`sim-ctl: ${text}`),
): Promise<number> {
  let values: { json?: boolean; help?: boolean; mac?: string };
  let positionals: string[];
  try {
    ({ values, positionals } = parseArgs({
      args,
      allowPositionals: true,
      options: {
        json: { type: "boolean" },
        help: { type: "boolean", short: "h" },
        mac: { type: "string" },
      },
    }));
  } catch (error) {
    warn(`${error instanceof Error ? error.message : error}; try --help`);
    return 2;
  }
  const [verb, ...rest] = positionals;
  if (values.help || verb === "help") {
    print(SIM_CTL_HELP);
    return 0;
  }
  if (verb === undefined) {
    warn("which verb? try --help");
    return 2;
  }
  const socket = env("DEFROUTE_SIM_SOCKET");
  if (!socket) {
    warn(
      "DEFROUTE_SIM_SOCKET is not set: start the simulated Mac with deno task simulator and " +
        "export the environment it prints",
    );
    return 1;
  }
  let connection: Awaited<ReturnType<typeof connectControl>>;
  try {
    connection = await connectControl(socket);
  } catch {
    warn(`the simulated Mac at ${socket} is not running; start it with deno task simulator`);
    return 1;
  }
  try {
    const result = await runVerb(verb, rest, values, connection.control);
    if (values.json) print(JSON.stringify(result.value ?? null));
    else if (result.text) print(result.text);
    return 0;
  } catch (error) {
    if (error instanceof SimCtlUsage) {
      warn(
        `${
          error.message.startsWith("unknown verb") ? "" : `${verb}: `
        }${error.message}; try --help`,
      );
      return 2;
    }
    warn(`${verb}: ${error instanceof Error ? error.message : error}`);
    return 1;
  } finally {
    connection.close();
  }
}

type Control = Awaited<ReturnType<typeof connectControl>>["control"];

async function runVerb(
  verb: string,
  rest: string[],
  values: { mac?: string },
  sim: Control,
): Promise<{ value: unknown; text: string }> {
  const nextIndex = async () =>
    Math.max(0, ...(await sim.interfaces()).map((iface) => iface.index)) + 1;
  const extra = (count: number) => {
    if (rest.length > count) throw new SimCtlUsage(`unexpected "${rest[count]}"`);
  };
  switch (verb) {
    case "routes": {
      extra(1);
      const routes = await sim.routes(rest[0] === undefined ? undefined : familyOf(rest[0]));
      return { value: routes, text: routes.map(routeLine).join("\n") || "(no routes)" };
    }
    case "interfaces": {
      extra(0);
      const interfaces = await sim.interfaces();
      const lines = interfaces.map((i) =>
        `${i.name} (index ${i.index}): flags=${i.flags.toString(16)}<${flagText(i.flags)}> ` +
        i.addresses.map((a) => `${a.address}/${a.prefix}`).join(" ")
      );
      return { value: interfaces, text: lines.join("\n") };
    }
    case "add-utun": {
      const name = need(rest[0], "NAME");
      extra(2);
      const iface = utun(name, await nextIndex(), rest[1] ?? "198.18.0.1");
      await sim.addInterface(iface);
      return { value: iface, text: `${name} added (index ${iface.index})` };
    }
    case "add-interface": {
      const name = need(rest[0], "NAME");
      const addresses = rest.slice(1).map(addressOf);
      if (addresses.length === 0) throw new SimCtlUsage("missing ADDRESS/PREFIX");
      const index = await nextIndex();
      const iface = ethernet(name, index, addresses, values.mac ?? macFor(index));
      await sim.addInterface(iface);
      return { value: iface, text: `${name} added (index ${index})` };
    }
    case "remove-interface": {
      const name = need(rest[0], "NAME");
      extra(1);
      await sim.removeInterface(name);
      return { value: null, text: `${name} removed` };
    }
    case "add-address": {
      const name = need(rest[0], "NAME");
      const address = addressOf(need(rest[1], "ADDRESS/PREFIX"));
      extra(2);
      await sim.addAddress(name, address);
      return { value: address, text: `${address.address}/${address.prefix} added to ${name}` };
    }
    case "remove-address": {
      const name = need(rest[0], "NAME");
      const address = need(rest[1], "ADDRESS");
      extra(2);
      await sim.removeAddress(name, address);
      return { value: null, text: `${address} removed from ${name}` };
    }
    case "link":
    case "ifconfig": {
      const name = need(rest[0], "NAME");
      const state = need(rest[1], "up or down");
      extra(2);
      if (state !== "up" && state !== "down") {
        throw new SimCtlUsage(`${verb} takes up or down, not "${state}"`);
      }
      if (verb === "link") await sim.setLinkActive(name, state === "up");
      else await sim.setInterfaceUp(name, state === "up");
      return { value: null, text: `${name} ${verb === "link" ? "link " : ""}${state}` };
    }
    case "set-router": {
      const family = familyOf(rest[0]);
      const router = need(rest[1], "ADDRESS");
      const iface = need(rest[2], "INTERFACE");
      extra(3);
      const key = family === 4 ? SCUTIL_IPV4 : SCUTIL_IPV6;
      const current = await sim.scutil(key);
      const value = {
        PrimaryInterface: iface,
        PrimaryService: current?.PrimaryService ?? crypto.randomUUID().toUpperCase(),
        Router: router,
      };
      await sim.setScutil(key, value);
      return { value, text: `${key}: Router ${router}, PrimaryInterface ${iface}` };
    }
    case "clear-router": {
      const family = familyOf(rest[0]);
      extra(1);
      const key = family === 4 ? SCUTIL_IPV4 : SCUTIL_IPV6;
      await sim.setScutil(key, null);
      return { value: null, text: `${key} removed` };
    }
    default:
      throw new SimCtlUsage(`unknown verb "${verb}"`);
  }
}

if (import.meta.main) {
  Deno.exit(await simCtl(Deno.args));
}
