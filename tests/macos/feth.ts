/**
 * A fake Ethernet pair for the root cases of the real-Mac tier: two feth(4) interfaces joined
 * like the two ends of a cable (ifconfig.tproj/iffake.c: `ifconfig fethN create`, `peer`), with
 * addresses on both, so a default *scoped* to one of them can be added and deleted without the
 * machine's own default ever being touched (a runner that loses its default loses its job).
 *
 *   fethN   198.51.100.1/24  fe80::d3f:1  <---->  fethN+1  198.51.100.2/24  fe80::d3f:2
 *
 * 198.51.100.0/24 is TEST-NET-2 (RFC 5737): no real network uses it, and a scoped route on it is
 * seen only by sockets bound to the feth. The pair gets the lowest free unit numbers (a feth of
 * the user's is left alone) and the description "defroute-mactest"; `withFeth` always destroys
 * it, which takes its addresses and routes with it, and destroys pairs of a run that died before
 * doing so (found by that description or those addresses).
 */
import { IFCONFIG, run, runOk } from "./mac.ts";
import { parseIfconfigList } from "./tool_output.ts";

export const FETH_DESCRIPTION = "defroute-mactest";
export const ADDRESS_A = "198.51.100.1";
export const ADDRESS_B = "198.51.100.2";
export const NETMASK = "255.255.255.0";
export const LINK_LOCAL_A = "fe80::d3f:1";
export const LINK_LOCAL_B = "fe80::d3f:2";

export interface FethPair {
  /** The side the scoped defaults go on. */
  a: string;
  /** Its peer, where the gateway addresses live. */
  b: string;
}

async function interfaceNames(): Promise<string[]> {
  return parseIfconfigList(await runOk(IFCONFIG, ["-l"]));
}

/** Destroys feth interfaces left by an earlier run of this tier; returns their names. */
export async function destroyLeftovers(): Promise<string[]> {
  const destroyed: string[] = [];
  for (const name of await interfaceNames()) {
    if (!/^feth\d+$/.test(name)) continue;
    const status = await run(IFCONFIG, [name]);
    const ours = status.stdout.includes(`desc: ${FETH_DESCRIPTION}`) ||
      new RegExp(`inet (${ADDRESS_A}|${ADDRESS_B}) `).test(status.stdout);
    if (ours && (await run(IFCONFIG, [name, "destroy"])).code === 0) destroyed.push(name);
  }
  return destroyed;
}

/** Creates, peers, addresses and brings up a feth pair. Destroys what it made if a step fails. */
export async function createFethPair(): Promise<FethPair> {
  const names = new Set(await interfaceNames());
  let unit = 0;
  while (names.has(`feth${unit}`) || names.has(`feth${unit + 1}`)) unit += 2;
  const pair = { a: `feth${unit}`, b: `feth${unit + 1}` };
  const created: string[] = [];
  try {
    for (const name of [pair.a, pair.b]) {
      await runOk(IFCONFIG, [name, "create"]);
      created.push(name);
      await runOk(IFCONFIG, [name, "desc", FETH_DESCRIPTION]);
    }
    await runOk(IFCONFIG, [pair.a, "peer", pair.b]);
    await runOk(IFCONFIG, [pair.a, "inet", ADDRESS_A, "netmask", NETMASK, "up"]);
    await runOk(IFCONFIG, [pair.b, "inet", ADDRESS_B, "netmask", NETMASK, "up"]);
    // Link-local addresses by hand: a new interface has IPv6 off until configd or an address
    // turns it on (af_inet6.c in6_getaddr takes the %scope through getaddrinfo).
    await runOk(IFCONFIG, [pair.a, "inet6", `${LINK_LOCAL_A}%${pair.a}`, "prefixlen", "64"]);
    await runOk(IFCONFIG, [pair.b, "inet6", `${LINK_LOCAL_B}%${pair.b}`, "prefixlen", "64"]);
    await untilAddressesSettle(pair);
    return pair;
  } catch (error) {
    for (const name of created) await run(IFCONFIG, [name, "destroy"]);
    throw error;
  }
}

/**
 * Waits (at most ~5 s) until duplicate address detection is done with the link-local addresses:
 * ifconfig prints "tentative" after them until then (af_inet6.c in6_status), and a gateway is
 * best not resolved against an address that is not usable yet.
 */
async function untilAddressesSettle(pair: FethPair): Promise<void> {
  for (let attempt = 0; attempt < 25; attempt++) {
    const a = await runOk(IFCONFIG, [pair.a, "inet6"]);
    const b = await runOk(IFCONFIG, [pair.b, "inet6"]);
    if (!/tentative/.test(a + b)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Destroys the pair; throws if an interface survives. */
export async function destroyFethPair(pair: FethPair): Promise<void> {
  for (const name of [pair.a, pair.b]) await run(IFCONFIG, [name, "destroy"]);
  const left = (await interfaceNames()).filter((name) => name === pair.a || name === pair.b);
  if (left.length > 0) throw new Error(`could not destroy ${left.join(", ")}`);
}

/** Runs `body` with a fresh pair and destroys it afterwards, whether `body` failed or not. */
export async function withFeth<T>(body: (pair: FethPair) => Promise<T>): Promise<T> {
  await destroyLeftovers();
  const pair = await createFethPair();
  try {
    return await body(pair);
  } finally {
    await destroyFethPair(pair);
  }
}
