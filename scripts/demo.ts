/**
 * `deno task demo`: the whole story of defroute in about ten seconds, for a newcomer.
 *
 * On Linux as root with `ip netns`: a throwaway network namespace plays the Mac. It has a
 * default route; a fake tunnel breaks it the way sing-tun #80 does and stops; the machine is
 * left with no default; the real `defroute restore` (main.ts through `deno run` with the
 * permission set users get) brings it back. The namespaces are deleted at the end, also on
 * Ctrl-C or an error. The host's own routing table is never touched: every `ip` call names the
 * namespace.
 *
 * Elsewhere (not root, no netns) it says why in one line and runs the simulated-Mac story.
 * On macOS it runs the real, read-only `defroute status` and explains how to protect a tunnel.
 */
import { bold, say, show } from "./narrate.ts";
import { DENO_RUN_FLAGS } from "../lib/permissions.ts";
import {
  createLab,
  DENO,
  IP,
  type Lab,
  namespaceSupport,
  ROOT,
  run,
  spawnInLab,
} from "../tests/linux/netns.ts";

const MAIN = `${ROOT}main.ts`;
const FAKE_TUNNEL = `${ROOT}tests/linux/fake_tunnel.ts`;

/** `ip route` and `ip -6 route` of the lab, as a user would type them inside it. */
async function showRoutes(lab: Lab): Promise<void> {
  show("ip route show default", await lab.ip("route", "show", "default"));
  show("ip -6 route show default", await lab.ip("-6", "route", "show", "default"));
}

/** Run defroute inside the lab exactly as the tests do: deno run <DENO_RUN_FLAGS> main.ts. */
async function defroute(lab: Lab, args: string[]): Promise<number> {
  const [program, argv] = lab.exec(DENO, ["run", ...DENO_RUN_FLAGS, MAIN, ...args]);
  const result = await run(program, argv);
  show(`defroute ${args.join(" ")}`, result.stderr + result.stdout + `[exit ${result.code}]`);
  return result.code;
}

async function linuxStory(): Promise<number> {
  let lab: Lab | null = null;
  // Kept so a Ctrl-C during creation waits for it and then deletes what was made.
  let creating: Promise<Lab> | null = null;
  let tunnel: ReturnType<typeof spawnInLab> | null = null;
  let cleaning: Promise<void> | null = null;
  const stateDir = await Deno.makeTempDir({ prefix: "drt-demo-" });
  const state = `${stateDir}/state.json`;
  const cleanup = () => {
    cleaning ??= (async () => {
      tunnel?.kill();
      await tunnel?.exit().catch(() => undefined);
      const made = lab ?? await creating?.catch(() => null);
      await made?.close();
      await Deno.remove(stateDir, { recursive: true }).catch(() => undefined);
    })();
    return cleaning;
  };
  const onSignal = (signal: Deno.Signal) => async () => {
    console.log(`\n${signal}: cleaning up the demo namespaces...`);
    await cleanup();
    Deno.exit(signal === "SIGINT" ? 130 : 143);
  };
  const listeners = (["SIGINT", "SIGTERM"] as const).map((s) => [s, onSignal(s)] as const);
  for (const [signal, listener] of listeners) Deno.addSignalListener(signal, listener);
  try {
    say("Making a throwaway network namespace to play your Mac (your own routes are not touched).");
    creating = createLab("demo");
    lab = await creating;
    console.log(`    "the Mac": namespace ${lab.ns}, Wi-Fi = veth0 10.77.0.2, router = 10.77.0.1`);
    say("It is online: its default route points at the router.");
    await showRoutes(lab);

    say("Before a VPN starts, a pre-up hook saves the default route:");
    const saved = await defroute(lab, ["save", "--state", state]);
    if (saved !== 0) console.log(bold(`    (save failed with exit ${saved}; the story goes on)`));

    say("A tunnel starts. Like sing-tun #80, it adds its own default, gets EEXIST,");
    console.log(bold("    and answers by deleting YOUR default route:"));
    tunnel = spawnInLab(lab, DENO, ["run", "--allow-all", "--quiet", FAKE_TUNNEL]);
    const ready = await tunnel.next((v) => v.ready === true || typeof v.error === "string");
    if (ready.ready !== true) throw new Error(`the fake tunnel failed: ${JSON.stringify(ready)}`);
    for (const step of tunnel.seen.filter((v) => v.step === "deleted-host-default")) {
      console.log(
        `    IPv${step.family} default deleted by pid ${step.pid} (ip route del default)`,
      );
    }
    await showRoutes(lab);

    say("The tunnel stops. It removes only its own routes and never puts yours back:");
    await tunnel.stop();
    tunnel = null;
    await showRoutes(lab);
    const probe = await run(IP!, ["-n", lab.ns, "route", "get", "1.1.1.1"]);
    show("ip route get 1.1.1.1", probe.stdout + probe.stderr);
    console.log(bold("    No default route: this machine is offline until someone fixes it."));

    say("The post-down hook runs `defroute restore`:");
    const code = await defroute(lab, ["restore", "--state", state]);

    const back = (await lab.ip("route", "show", "default")).trim() !== "";
    if (back) {
      say("The default route is back, the same one as before:");
      await showRoutes(lab);
      say("In real life: `sudo defroute run -- sing-box run -c config.json` does all of this.");
    } else {
      say(`The default route is NOT back (defroute restore exited ${code}).`);
      await showRoutes(lab);
    }
    return back ? 0 : 1;
  } finally {
    say("Cleaning up: deleting the demo namespaces.");
    await cleanup();
    for (const [signal, listener] of listeners) Deno.removeSignalListener(signal, listener);
  }
}

// ---- The simulated-Mac story -------------------------------------------------------------------
/**
 * The story on the simulated macOS kernel, for machines without root or `ip netns`: the real
 * darwin FFI code against tests/harness through the stand-in libSystem. It lives in
 * scripts/demo_mac.ts (`deno task demo:mac`), loaded only when needed so the Linux story never
 * pulls in the harness.
 */
export async function simulatedMacStory(): Promise<number> {
  const { simulatedMacStory: story } = await import("./demo_mac.ts");
  return await story();
}

async function macStory(): Promise<number> {
  say("This is a Mac. Here is what defroute sees right now (read-only):");
  const result = await run(DENO, ["run", ...DENO_RUN_FLAGS, MAIN, "status"]);
  show("defroute status", result.stdout + result.stderr);
  say("To protect a tunnel, wrap it (defroute saves, runs it, and restores on any exit):");
  console.log("    sudo defroute run -- sing-box run -c config.json");
  say("Or use hooks around a VPN you start elsewhere:");
  console.log("    sudo defroute save       # pre-up");
  console.log("    sudo defroute restore    # post-down");
  console.log("    sudo defroute hook install   # a launchd daemon that heals a lost default");
  return result.code;
}

if (import.meta.main) {
  if (Deno.build.os === "darwin") {
    Deno.exit(await macStory());
  }
  const support = namespaceSupport();
  if (!support.ok) {
    console.log(`demo: the real-kernel demo ${support.reason}; running the simulated-Mac story.`);
    Deno.exit(await simulatedMacStory());
  }
  try {
    Deno.exit(await linuxStory());
  } catch (error) {
    console.error(`demo failed: ${error instanceof Error ? error.message : error}`);
    Deno.exit(1);
  }
}
