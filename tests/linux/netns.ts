/**
 * Throwaway network namespaces for end-to-end tests on the real kernel (and for `deno task
 * demo`). Nothing here touches the host's own routing table: every `ip` command is given
 * `-n NS` or runs under `ip netns exec NS`.
 *
 * A lab is two namespaces joined by a veth pair:
 *
 *   client NS "drt-<pid>-<n>"                 router NS "drt-<pid>-<n>r"
 *   veth0 10.77.0.2/24 fd00:77::2/64  <---->  veth1 10.77.0.1/24 fd00:77::1/64 fe80::1/64
 *   default via 10.77.0.1 dev veth0
 *   default via fe80::1 dev veth0 (IPv6, link-local gateway, metric 1024)
 *   tun0: a real TUN device (ip tuntap), down, for the fake tunnel to take over
 *
 * Names are unique per process and lab; leftovers of dead processes with the same prefix are
 * deleted before a lab is made, and `close()` (always called from `withLab`'s finally) deletes
 * both namespaces, which also deletes their links and routes.
 */
import { type Proc, spawnProc } from "../json_process.ts";

export const NS_PREFIX = "drt-";
export const CLIENT_ADDRESS = "10.77.0.2";
export const ROUTER_ADDRESS = "10.77.0.1";
export const ROUTER_LINK_LOCAL = "fe80::1";
export const CLIENT_DEV = "veth0";
export const TUN_DEV = "tun0";

/** iproute2's `ip`, by absolute path (never through a shell). */
export const IP = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].find((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}) ?? null;

export interface Support {
  ok: boolean;
  reason: string;
}

let cachedSupport: Support | null = null;

/** Whether this machine can run the namespace tests: root, iproute2, netns, /dev/net/tun. */
export function namespaceSupport(): Support {
  if (cachedSupport) return cachedSupport;
  cachedSupport = probeSupport();
  return cachedSupport;
}

function probeSupport(): Support {
  if (Deno.build.os !== "linux") {
    return { ok: false, reason: `needs Linux, this is ${Deno.build.os}` };
  }
  if (Deno.uid() !== 0) return { ok: false, reason: "needs root (network namespaces)" };
  if (!IP) {
    return { ok: false, reason: "needs iproute2's ip (not found in /usr/sbin, /sbin, /usr/bin)" };
  }
  try {
    Deno.statSync("/dev/net/tun");
  } catch {
    return { ok: false, reason: "needs /dev/net/tun for a real TUN device" };
  }
  const probe = `${NS_PREFIX}${Deno.pid}-probe`;
  const added = new Deno.Command(IP, { args: ["netns", "add", probe], stderr: "piped" })
    .outputSync();
  if (!added.success) {
    const why = new TextDecoder().decode(added.stderr).trim();
    return { ok: false, reason: `\`ip netns add\` does not work here: ${why}` };
  }
  new Deno.Command(IP, { args: ["netns", "del", probe], stderr: "null" }).outputSync();
  return { ok: true, reason: "" };
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

const decoder = new TextDecoder();

/** Run a program (absolute path, argument array) and collect its output. */
export async function run(program: string, args: string[], stdin?: string): Promise<RunResult> {
  const child = new Deno.Command(program, {
    args,
    stdin: stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (stdin !== undefined) {
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(stdin));
    await writer.close();
  }
  const output = await child.output();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

function ipPath(): string {
  if (!IP) throw new Error("iproute2's ip is not installed");
  return IP;
}

/** `ip ARGS...`; throws with ip's own message when it fails. */
export async function ip(...args: string[]): Promise<string> {
  const result = await run(ipPath(), args);
  if (result.code !== 0) {
    throw new Error(`ip ${args.join(" ")}: ${result.stderr.trim() || `exit ${result.code}`}`);
  }
  return result.stdout;
}

/** One route as `ip -j route show` prints it. */
export interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
  flags?: string[];
}

export interface Lab {
  /** The namespace where defroute runs ("the Mac"). */
  ns: string;
  /** The namespace playing the router. */
  router: string;
  /** `ip -n NS ARGS...` */
  ip(...args: string[]): Promise<string>;
  /** The independent view: `ip -j [-6] route show` in the client namespace. */
  routes(family: 4 | 6): Promise<IpRoute[]>;
  /** Only the default routes of `routes()`. */
  defaults(family: 4 | 6): Promise<IpRoute[]>;
  /** argv that runs `program args` inside the client namespace. */
  exec(program: string, args: string[]): [string, string[]];
  close(): Promise<void>;
}

let counter = 0;

function processAlive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Delete namespaces with our prefix left behind by test processes that are gone. */
export async function deleteLeftovers(): Promise<string[]> {
  const listing = await ip("netns", "list");
  const deleted: string[] = [];
  for (const line of listing.split("\n")) {
    const name = line.split(" ")[0] ?? "";
    const owner = name.match(/^drt-(\d+)-/);
    if (!owner || processAlive(Number(owner[1]))) continue;
    await run(ipPath(), ["netns", "del", name]);
    deleted.push(name);
  }
  return deleted;
}

/** Make a fresh lab (see the module comment for its shape). */
export async function createLab(tag = "lab"): Promise<Lab> {
  await deleteLeftovers();
  counter++;
  // pid + counter + tag, plus a random part: test files run as workers of one process share a pid.
  const random = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, "0");
  const ns = `${NS_PREFIX}${Deno.pid}-${counter}${tag.slice(0, 4)}${random}`;
  const router = `${ns}r`;
  const lab: Lab = {
    ns,
    router,
    ip: (...args) => ip("-n", ns, ...args),
    routes: async (family) => JSON.parse(await ip("-n", ns, "-j", `-${family}`, "route", "show")),
    defaults: async (family) =>
      (await lab.routes(family)).filter((route) => route.dst === "default"),
    exec: (program, args) => [ipPath(), ["netns", "exec", ns, program, ...args]],
    close: async () => {
      // Deleting a namespace deletes its links (veth, tun) and so its routes.
      await run(ipPath(), ["netns", "del", ns]);
      await run(ipPath(), ["netns", "del", router]);
    },
  };
  try {
    await ip("netns", "add", ns);
    await ip("netns", "add", router);
    for (const name of [ns, router]) {
      // No duplicate address detection: addresses are usable at once, no waiting in tests.
      await ip("netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.all.accept_dad=0");
      await ip("netns", "exec", name, "sysctl", "-qw", "net.ipv6.conf.default.accept_dad=0");
      await ip("-n", name, "link", "set", "lo", "up");
    }
    await ip(
      "-n",
      ns,
      "link",
      "add",
      CLIENT_DEV,
      "type",
      "veth",
      "peer",
      "name",
      "veth1",
      "netns",
      router,
    );
    await ip("-n", ns, "addr", "add", `${CLIENT_ADDRESS}/24`, "dev", CLIENT_DEV);
    await ip("-n", ns, "addr", "add", "fd00:77::2/64", "dev", CLIENT_DEV, "nodad");
    await ip("-n", ns, "link", "set", CLIENT_DEV, "up");
    await ip("-n", router, "addr", "add", `${ROUTER_ADDRESS}/24`, "dev", "veth1");
    await ip("-n", router, "addr", "add", "fd00:77::1/64", "dev", "veth1", "nodad");
    await ip("-n", router, "addr", "add", `${ROUTER_LINK_LOCAL}/64`, "dev", "veth1", "nodad");
    await ip("-n", router, "link", "set", "veth1", "up");
    await ip("-n", ns, "route", "add", "default", "via", ROUTER_ADDRESS, "dev", CLIENT_DEV);
    await ip(
      "-n",
      ns,
      "-6",
      "route",
      "add",
      "default",
      "via",
      ROUTER_LINK_LOCAL,
      "dev",
      CLIENT_DEV,
    );
    await ip("-n", ns, "tuntap", "add", "mode", "tun", "name", TUN_DEV);
  } catch (error) {
    await lab.close();
    throw error;
  }
  return lab;
}

/** Run `body` with a fresh lab that is always deleted afterwards, also when `body` throws. */
export async function withLab<T>(body: (lab: Lab) => Promise<T>, tag = "lab"): Promise<T> {
  const lab = await createLab(tag);
  try {
    return await body(lab);
  } finally {
    await lab.close();
  }
}

/** A long-running process inside the lab; its stderr shows, its stdout is read as JSON lines. */
export type LabProcess = Proc;

export function spawnInLab(lab: Lab, program: string, args: string[]): LabProcess {
  const [command, argv] = lab.exec(program, args);
  return spawnProc(command, argv, { stderr: "inherit" });
}

/** The deno running the tests, and the repository root, for spawning programs in a lab. */
export const DENO = Deno.execPath();
export const ROOT = new URL("../../", import.meta.url).pathname;
