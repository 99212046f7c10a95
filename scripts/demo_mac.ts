/**
 * The simulated-Mac story (`deno task demo:mac`, and `deno task demo` where namespaces are not
 * available): the real darwin code path of defroute (lib/darwin: the PF_ROUTE codec, the FFI
 * socket, scutil) against the simulated XNU routing kernel of tests/harness, through the C
 * stand-in for libSystem. Needs `cc`; no root, and nothing of this machine's routing table is
 * touched: the "kernel" is a process holding a table in memory.
 *
 * The story is sing-tun #80's: the Mac has a global default; a tunnel adds 0/0, gets EEXIST,
 * deletes the global default and adds a scoped one; when it stops only its own route goes. Then
 * `defroute status` diagnoses it and `defroute restore` puts the default back.
 *
 * The simulated Mac is not this machine: whether defroute may change its routes is its kernel's
 * answer, not this user's uid (lib/system.ts changesAllowed), so the story runs the same with or
 * without root. The tunnel runs as root there, as sing-box does; defroute runs with the
 * privilege this process gives it (DEFROUTE_SIM_UNPRIVILEGED=1: a socket without root's, which
 * the kernel refuses). Every step's exit code is shown, and the story exits 0 only when the
 * simulated Mac really has its global default back.
 */
import { say, show } from "./narrate.ts";
import { join } from "node:path";
import { DENO_RUN_FLAGS } from "../lib/permissions.ts";
import {
  standinUnavailableReason,
  startSimulator,
  startSingTun,
  utun,
} from "../tests/harness/sim.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = join(ROOT, "main.ts");

async function capture(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; text: string }> {
  const output = await new Deno.Command(Deno.execPath(), {
    args,
    env: { ...env, NO_COLOR: "1" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  return { code: output.code, text: decode(output.stderr) + decode(output.stdout) };
}

/** Whether the simulated Mac has a global (unscoped) IPv4 default. */
async function hasGlobalDefault(sim: Awaited<ReturnType<typeof startSimulator>>): Promise<boolean> {
  return (await sim.defaults(4)).some((route) => !route.scoped);
}

/** The simulated Mac's netstat -rn, default routes only. */
async function table(sim: Awaited<ReturnType<typeof startSimulator>>): Promise<string> {
  const lines: string[] = [];
  for (const family of [4, 6] as const) {
    for (const route of await sim.defaults(family)) {
      const scope = route.scoped ? `  (ifscope ${route.interface})` : "  (global)";
      lines.push(
        `${
          family === 4 ? "inet " : "inet6"
        }  default  ${route.gateway}  ${route.interface}${scope}`,
      );
    }
  }
  return lines.join("\n");
}

export async function simulatedMacStory(): Promise<number> {
  const missing = standinUnavailableReason();
  if (missing) {
    console.log(
      `demo: the simulated Mac needs a C compiler for its stand-in libSystem: ${missing}`,
    );
    return 1;
  }
  await using sim = await startSimulator();
  const defroute = async (...args: string[]) => {
    const result = await capture(["run", ...DENO_RUN_FLAGS, MAIN, ...args], sim.env);
    show(`defroute ${args.join(" ")}`, `${result.text}[exit ${result.code}]`);
    return result.code;
  };
  say("A simulated Mac: an XNU routing table in a process, reached through PF_ROUTE messages.");
  console.log(
    "    defroute runs its real macOS code here: the routing-socket codec, the FFI calls\n" +
      "    (DEFROUTE_LIBSYSTEM points them at a stand-in libSystem) and scutil (a stand-in).",
  );
  show("netstat -rn (default routes)", await table(sim));

  // The state file is sim.env's DEFROUTE_STATE, inside the simulator's own directory (removed
  // when it stops): nothing of this machine is written.
  say("Before starting a VPN, a pre-up hook saves the default route:");
  const saved = await defroute("save");
  if (saved !== 0) console.log(`    (save failed with exit ${saved}; the story goes on)`);

  say("A sing-box WireGuard endpoint with allowed_ips 0.0.0.0/0 starts (sing-tun #80):");
  await sim.addInterface(utun("utun4", 10));
  // sing-box runs as root: its routing socket is privileged whoever runs this demo.
  const tunnel = await startSingTun({ ...sim.env, DEFROUTE_SIM_UNPRIVILEGED: "0" });
  show("sing-tun setRoutes()", tunnel.steps);
  console.log(
    "    RTM_ADD 0/0 got EEXIST, so it deleted 0/0 without a scope: that was the Mac's own\n" +
      "    global default. Its replacement is scoped to utun4.",
  );
  show("netstat -rn (default routes)", await table(sim));

  say("The tunnel stops. unsetRoutes() removes only its own route:");
  await tunnel.stop();
  await sim.removeInterface("utun4");
  show("netstat -rn (default routes)", await table(sim));
  if (await hasGlobalDefault(sim)) {
    console.log("    The global default survived: the tunnel did not break it this time.");
  } else {
    console.log("    No global default: this Mac has no internet until Wi-Fi is toggled.");
  }

  say("defroute status sees it:");
  await defroute("status", "--family", "4");

  say("A post-down hook (or `defroute run`, or the watch daemon) restores it:");
  const restored = await defroute("restore");
  show("netstat -rn (default routes)", await table(sim));

  if (!(await hasGlobalDefault(sim))) {
    say(`The simulated Mac has NO global default (defroute restore exited ${restored}).`);
    if (restored === 3) {
      console.log(
        "    Its kernel refused the change: defroute's routing socket has no root privilege there\n" +
          "    (DEFROUTE_SIM_UNPRIVILEGED=1), as `restore` without sudo on a real Mac.",
      );
    }
    return 1;
  }
  say("Done. The simulated Mac has its global default back.");
  console.log("    Try it on Linux as root for the real-kernel version: deno task demo");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await simulatedMacStory());
}
