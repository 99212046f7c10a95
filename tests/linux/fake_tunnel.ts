/**
 * A misbehaving "VPN" for the tests and the demo, run inside a namespace:
 *
 *   ip netns exec NS deno run --allow-run --allow-read tests/linux/fake_tunnel.ts [--dev tun0]
 *     [--family 4|6|all]
 *
 * It does what sing-tun's macOS setRoutes() does (sing-tun issue #80,
 * https://github.com/SagerNet/sing-tun/issues/80): bring up the TUN, try to add its own default,
 * and on EEXIST delete the existing default - the host's - and add its own. When told to stop
 * (stdin closed, SIGTERM or SIGINT) it removes only its own routes, like unsetRoutes(), and leaves
 * the host with no default at all.
 *
 * Every step is reported as one JSON line on stdout, with the pid of the `ip` process that made
 * each change (the pid the kernel stamps on its netlink multicast):
 *   {"step":"deleted-host-default","family":4,"pid":1234}
 *   {"ready":true,...}  {"stopped":true}
 */
import { parseArgs } from "node:util";

const IP = ["/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip"].find((path) => {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
});
if (!IP) {
  console.error("fake_tunnel: iproute2's ip not found");
  Deno.exit(1);
}

const { values } = parseArgs({
  args: Deno.args,
  options: {
    dev: { type: "string", default: "tun0" },
    family: { type: "string", default: "all" },
    address: { type: "string", default: "10.200.0.1/24" },
  },
});
const dev = values.dev!;
const families: (4 | 6)[] = values.family === "4" ? [4] : values.family === "6" ? [6] : [4, 6];

function report(value: Record<string, unknown>): void {
  console.log(JSON.stringify(value));
}

/** Run `ip` and return its pid, exit code and stderr. */
async function ipStep(args: string[]): Promise<{ pid: number; ok: boolean; error: string }> {
  const child = new Deno.Command(IP!, { args, stdout: "null", stderr: "piped" }).spawn();
  const output = await child.output();
  return {
    pid: child.pid,
    ok: output.success,
    error: new TextDecoder().decode(output.stderr).trim(),
  };
}

async function mustIp(args: string[]): Promise<number> {
  const step = await ipStep(args);
  if (!step.ok) {
    report({ error: `ip ${args.join(" ")}: ${step.error}` });
    Deno.exit(1);
  }
  return step.pid;
}

// ---- start: setRoutes() ---------------------------------------------------------------------
await mustIp(["link", "set", "dev", dev, "up"]);
await ipStep(["addr", "add", values.address!, "dev", dev]);
const deleted: { family: number; pid: number }[] = [];
for (const family of families) {
  const add = ["-" + family, "route", "add", "default", "dev", dev];
  const first = await ipStep(add);
  if (!first.ok && /exists/i.test(first.error)) {
    // The sing-tun #80 mistake: "EEXIST" answered by deleting whatever default is there.
    const pid = await mustIp(["-" + family, "route", "del", "default"]);
    deleted.push({ family, pid });
    report({ step: "deleted-host-default", family, pid });
    const again = await mustIp(add);
    report({ step: "added-own-default", family, pid: again });
  } else if (first.ok) {
    report({ step: "added-own-default", family, pid: first.pid });
  } else {
    report({ error: `ip ${add.join(" ")}: ${first.error}` });
    Deno.exit(1);
  }
}
// ---- wait to be told to stop -----------------------------------------------------------------
let stopping = false;
const stop = async (reason: string) => {
  if (stopping) return;
  stopping = true;
  // ---- stop: unsetRoutes() removes only its own routes, never restores the host's --------------
  for (const family of families) {
    await ipStep(["-" + family, "route", "del", "default", "dev", dev]);
  }
  await ipStep(["addr", "flush", "dev", dev]);
  await ipStep(["link", "set", "dev", dev, "down"]);
  report({ stopped: true, reason });
  Deno.exit(0);
};
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  Deno.addSignalListener(signal, () => void stop(signal));
}
// Ready only once the listeners are in: a signal sent on "ready" must reach stop(), not kill the
// process by default (a CI run saw exit 130 when "ready" came before the listeners).
report({ ready: true, pid: Deno.pid, dev, deleted });

// stdin closed (EOF) is the polite way to stop.
const buffer = new Uint8Array(256);
while ((await Deno.stdin.read(buffer)) !== null) {
  // ignore input
}
await stop("stdin closed");
