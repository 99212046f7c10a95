/**
 * The simulated Mac for tests.
 *
 * `startSimulator()` runs tests/harness/simulator_main.ts as a child process and returns
 * {socketPath, env, control API, stop}. With `env` (DEFROUTE_PLATFORM=darwin,
 * DEFROUTE_LIBSYSTEM=the stand-in libSystem, DEFROUTE_SIM_SOCKET, DEFROUTE_SCUTIL=the stand-in
 * scutil), a child process running the real CLI talks to the simulated kernel through the real
 * darwin FFI code. `sim.applyEnv()` sets the same variables in this process for tests that load
 * lib/darwin through FFI themselves (the FFI calls block their thread, so the kernel must live in
 * another process: this one).
 *
 * `startInProcessSimulator()` gives the same control API over an XnuKernel in this process and a
 * RouteSystem (tests/harness/inprocess_transport.ts) for lib/darwin/route_table.ts, no FFI.
 */
import { join } from "node:path";
import {
  defaultSetup,
  type ScutilDict,
  type SimAddress,
  type SimInterface,
  type SimRoute,
  type SimRouteView,
  type SimSetup,
  XnuKernel,
} from "./xnu_kernel.ts";
import { control, type ControlRequest } from "./sim_server.ts";
import { encodeFrame, Frame, FrameReader, HelloMode, hex } from "./sim_protocol.ts";
import { buildStandin, HARNESS_DIR, type SimulatorEnv, simulatorEnv } from "./standin.ts";
import { InProcessRouteSystem } from "./inprocess_transport.ts";
import type { RouteSystem } from "../../lib/darwin/route_socket.ts";
import {
  defaultRouteRequest,
  encodeRouteMessage,
  RTM_ADD,
  RTM_DELETE,
} from "../../lib/darwin/route_message.ts";

export {
  defaultSetup,
  type ScutilDict,
  type SimAddress,
  type SimInterface,
  type SimRoute,
  type SimRouteView,
  type SimSetup,
  XnuKernel,
};
export { scutilLinkKey, utun } from "./xnu_kernel.ts";
export { standinUnavailableReason } from "./standin.ts";

/** One request the kernel handled. */
export interface KernelLogEntry {
  pid: number;
  type: number;
  errno: number;
}

/** What tests can do to the simulated Mac, in or out of process. */
export interface SimControl {
  /** Every route (or one family's), with interface names. */
  routes(family?: 4 | 6): Promise<SimRouteView[]>;
  /** The default routes of a family, global and scoped. */
  defaults(family: 4 | 6): Promise<SimRouteView[]>;
  interfaces(): Promise<SimInterface[]>;
  /** A new interface appears (RTM_IFINFO + RTM_NEWADDR to every socket). */
  addInterface(iface: SimInterface): Promise<void>;
  /**
   * The interface detaches, as xnu does it: its IPv4 routes vanish without a routing message,
   * then RTM_IFINFO; a moment later RTM_DELADDR per address, and then its IPv6 routes vanish,
   * again silently (XnuKernel.removeInterface).
   */
  removeInterface(name: string): Promise<void>;
  /** An address appears on an interface (RTM_NEWADDR). */
  addAddress(name: string, address: SimAddress): Promise<void>;
  /** An address goes away (RTM_DELADDR); routes through it stay, as on a real Mac. */
  removeAddress(name: string, address: string): Promise<void>;
  /** IFF_UP on (with IFF_RUNNING) or off; going down deletes the interface's IPv4 routes
   * without a routing message, then RTM_IFINFO (XnuKernel.setInterfaceUp). */
  setInterfaceUp(name: string, up: boolean): Promise<void>;
  /**
   * The link goes active or inactive (a cable, Wi-Fi association): only configd's
   * `State:/Network/Interface/<name>/Link` `Active` changes (the stand-in scutil answers it);
   * the interface stays UP|RUNNING and the routing socket hears nothing, as on a real Mac.
   */
  setLinkActive(name: string, active: boolean): Promise<void>;
  /** Sets (or with null removes) a scutil key, e.g. State:/Network/Global/IPv4. */
  setScutil(key: string, value: ScutilDict | null): Promise<void>;
  scutil(key: string): Promise<ScutilDict | null>;
  /**
   * Raw bytes to every routing socket: other processes' traffic, hostile messages. An array is
   * delivered as one burst (nothing reads in between, so it can overflow a small buffer).
   */
  inject(message: Uint8Array | Uint8Array[]): Promise<void>;
  /** The next `count` requests get no reply on the sender's socket (a reply that never comes). */
  swallowReplies(count: number): Promise<void>;
  /** The next `count` requests are written and forgotten: no change, no reply, no echo. */
  dropNextRequests(count: number): Promise<void>;
  /** Messages delivered to the next requester just before its reply. */
  noiseBeforeReply(messages: Uint8Array[]): Promise<void>;
  /** Another process (pid) writes a routing message; returns the errno (0 = done). */
  requestAs(pid: number, message: Uint8Array): Promise<number>;
  /** Every request handled so far. */
  log(): Promise<KernelLogEntry[]>;
  /** Replaces the table, without messages. */
  setRoutes(routes: SimRoute[]): Promise<void>;
  /** How many routing sockets are connected (to know a monitor is listening). */
  sockets(): Promise<number>;
  /**
   * Process `pid` adds a default like `route add [-ifscope IF] default GW` (scope = interface
   * index). Returns the errno (0 = added; 17 EEXIST, 51 ENETUNREACH ...).
   */
  addDefaultAs(
    pid: number,
    route: { family: 4 | 6; gateway: string; scope?: number },
  ): Promise<number>;
  /** Process `pid` runs `route delete [-ifscope IF] default`. Returns the errno (3 = ESRCH). */
  deleteDefaultAs(pid: number, route: { family: 4 | 6; scope?: number }): Promise<number>;
}

/** tests/harness/singtun.ts: the sing-tun #80 sequence as a process (see its header). */
export const SINGTUN_SCRIPT = join(HARNESS_DIR, "singtun.ts");

/** A running sing-tun #80 replay (singtun.ts) whose tunnel is up. */
export interface RunningSingTun {
  /** What it printed up to and including its {"ready":true} line. */
  steps: string;
  /** Close its stdin (unsetRoutes, then exit) and return its exit code. */
  stop(): Promise<number>;
}

/**
 * Start singtun.ts with `env` (a simulator's) and wait until setRoutes() is done: the global
 * default is then deleted and the scoped one added. One place for the demo and the tests.
 */
export async function startSingTun(
  env: Record<string, string>,
  args: string[] = ["--interface", "utun4"],
): Promise<RunningSingTun> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", SINGTUN_SCRIPT, ...args],
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let steps = "";
  while (!steps.includes('"ready":true')) {
    const { value, done } = await reader.read();
    if (done) {
      await child.stdin.close().catch(() => {});
      await child.status;
      throw new Error(`singtun ended before its tunnel was up: ${steps}`);
    }
    steps += value;
  }
  return {
    steps,
    stop: async () => {
      await child.stdin.close();
      while (!(await reader.read()).done) { /* drain */ }
      return (await child.status).code;
    },
  };
}

function routeCommand(
  type: number,
  route: { family: 4 | 6; gateway?: string; scope?: number },
): Uint8Array {
  const linkLocal = route.gateway !== undefined && /^fe[89ab]/i.test(route.gateway);
  return encodeRouteMessage(defaultRouteRequest({
    type,
    family: route.family,
    gateway: route.gateway,
    zone: linkLocal ? route.scope ?? 0 : undefined,
    ifscope: route.scope,
    seq: 1,
    form: "route8",
  }));
}

/** Options for starting a simulated Mac. */
export interface SimOptions {
  /** Interfaces, routes and scutil values; defaultSetup() (en0 on 192.168.1.0/24) if omitted. */
  setup?: SimSetup;
}

function controlApi(call: (request: ControlRequest) => Promise<unknown>): SimControl {
  return {
    routes: (family) => call({ op: "routes", family }) as Promise<SimRouteView[]>,
    defaults: (family) => call({ op: "defaults", family }) as Promise<SimRouteView[]>,
    interfaces: () => call({ op: "interfaces" }) as Promise<SimInterface[]>,
    addInterface: async (iface) => void await call({ op: "addInterface", iface }),
    removeInterface: async (name) => void await call({ op: "removeInterface", name }),
    addAddress: async (name, address) => void await call({ op: "addAddress", name, address }),
    removeAddress: async (name, address) => void await call({ op: "removeAddress", name, address }),
    setInterfaceUp: async (name, up) => void await call({ op: "setInterfaceUp", name, up }),
    setLinkActive: async (name, active) => void await call({ op: "setLinkActive", name, active }),
    setScutil: async (key, value) => void await call({ op: "setScutil", key, value }),
    scutil: (key) => call({ op: "scutil", key }) as Promise<ScutilDict | null>,
    inject: async (message) =>
      void await call({
        op: "inject",
        hex: Array.isArray(message) ? message.map(hex) : hex(message),
      }),
    swallowReplies: async (count) => void await call({ op: "swallowReplies", count }),
    dropNextRequests: async (count) => void await call({ op: "dropNextRequests", count }),
    noiseBeforeReply: async (messages) =>
      void await call({ op: "noiseBeforeReply", hex: messages.map(hex) }),
    requestAs: (pid, message) =>
      call({ op: "requestAs", pid, hex: hex(message) }) as Promise<number>,
    log: () => call({ op: "log" }) as Promise<KernelLogEntry[]>,
    setRoutes: async (routes) => void await call({ op: "setRoutes", routes }),
    sockets: () => call({ op: "sockets" }) as Promise<number>,
    addDefaultAs: (pid, route) =>
      call({ op: "requestAs", pid, hex: hex(routeCommand(RTM_ADD, route)) }) as Promise<number>,
    deleteDefaultAs: (pid, route) =>
      call({ op: "requestAs", pid, hex: hex(routeCommand(RTM_DELETE, route)) }) as Promise<number>,
  };
}

/** A control connection to a running simulator (simulator_main.ts) on `socketPath`. */
export interface ControlConnection {
  /** One request; its answer, or an Error with the simulator's message. Calls run in order. */
  call(request: ControlRequest): Promise<unknown>;
  /** The same requests as the typed control API. */
  control: SimControl;
  close(): void;
}

/** Connects to the simulator's Unix socket as a control client (HELLO mode CONTROL). */
export async function connectControl(socketPath: string): Promise<ControlConnection> {
  const conn = await Deno.connect({ transport: "unix", path: socketPath });
  const writer = conn.writable.getWriter();
  const frames = new FrameReader(conn.readable);
  const hello = new Uint8Array(10);
  new DataView(hello.buffer).setInt32(0, Deno.pid, true);
  hello[5] = HelloMode.CONTROL;
  await writer.write(encodeFrame(Frame.HELLO, hello));
  let chain: Promise<unknown> = Promise.resolve();
  const call = (request: ControlRequest): Promise<unknown> => {
    const result = chain.then(async () => {
      await writer.write(
        encodeFrame(Frame.CONTROL, new TextEncoder().encode(JSON.stringify(request))),
      );
      const frame = await frames.next();
      if (!frame) throw new Error("simulator closed the control connection");
      const answer = JSON.parse(new TextDecoder().decode(frame.payload)) as
        | { ok: true; value: unknown }
        | { ok: false; error: string };
      if (!answer.ok) throw new Error(`simulator: ${answer.error}`);
      return answer.value;
    });
    chain = result.catch(() => {});
    return result;
  };
  return {
    call,
    control: controlApi(call),
    close() {
      try {
        writer.releaseLock();
        frames.release();
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}

/** A simulated Mac in its own process. */
export interface Simulator extends SimControl {
  /** The simulator's Unix socket (DEFROUTE_SIM_SOCKET). */
  socketPath: string;
  /** Its working directory (socket, scutil answers). */
  dir: string;
  /** The simulator process's pid. */
  pid: number;
  /** Environment for a child process running defroute on the simulated Mac. */
  env: SimulatorEnv;
  /**
   * For tests that use lib/darwin through FFI in this process: sets DEFROUTE_LIBSYSTEM and
   * DEFROUTE_SIM_SOCKET here (not DEFROUTE_PLATFORM, which would redirect other test files that
   * share this process). stop() puts the previous values back.
   */
  applyEnv(): void;
  /** Stops the simulator and removes its directory. */
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts simulator_main.ts as a child process, with the stand-in libSystem built. */
export async function startSimulator(options: SimOptions = {}): Promise<Simulator> {
  const library = await buildStandin();
  const dir = await Deno.makeTempDir({ prefix: "defroute-sim-" });
  const setupFile = join(dir, "setup.json");
  await Deno.writeTextFile(setupFile, JSON.stringify(options.setup ?? defaultSetup()));
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      "--no-prompt",
      join(HARNESS_DIR, "simulator_main.ts"),
      "--dir",
      dir,
      "--setup",
      setupFile,
      "--json",
      "--exit-on-eof",
    ],
    // Held open for the simulator's life: if this process dies, EOF stops the simulator.
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();

  // Wait for the ready line.
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    text += value;
  }
  reader.cancel().catch(() => {});
  let ready: { socket: string; pid: number };
  try {
    ready = JSON.parse(text.split("\n")[0]!);
  } catch {
    child.kill("SIGKILL");
    await child.stdin.close().catch(() => {});
    await child.status;
    throw new Error(`simulator did not start: ${JSON.stringify(text)}`);
  }

  const { call, close: closeControl } = await connectControl(ready.socket);

  const env = simulatorEnv(library, ready.socket, dir);

  const saved = new Map<string, string | undefined>();
  const restoreEnv = () => {
    for (const [key, value] of saved) {
      if (value === undefined) Deno.env.delete(key);
      else Deno.env.set(key, value);
    }
    saved.clear();
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    restoreEnv();
    try {
      await call({ op: "stop" });
    } catch {
      child.kill("SIGTERM");
    }
    closeControl();
    await child.stdin.close().catch(() => {});
    await child.status;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  return {
    ...controlApi(call),
    socketPath: ready.socket,
    dir,
    pid: ready.pid,
    env,
    applyEnv() {
      for (const key of ["DEFROUTE_LIBSYSTEM", "DEFROUTE_SIM_SOCKET"] as const) {
        if (!saved.has(key)) saved.set(key, Deno.env.get(key));
        Deno.env.set(key, env[key]);
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}

/** A simulated Mac in this process: the kernel object and a RouteSystem over it (no FFI). */
export interface InProcessSimulator extends SimControl {
  kernel: XnuKernel;
  /** A privileged (root) RouteSystem for lib/darwin/route_table.ts. */
  system: InProcessRouteSystem;
  /** A RouteSystem whose sockets are unprivileged (EPERM for changes). */
  unprivilegedSystem(): RouteSystem;
  stop(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export function startInProcessSimulator(options: SimOptions = {}): InProcessSimulator {
  const kernel = new XnuKernel(options.setup ?? defaultSetup());
  const system = new InProcessRouteSystem(kernel);
  const extra: InProcessRouteSystem[] = [];
  // JSON round trip, as over the wire, so callers never share the kernel's objects.
  const call = (request: ControlRequest) =>
    Promise.resolve().then(() => structuredClone(control(kernel, request) ?? null));
  const stop = () => {
    system.close();
    for (const s of extra) s.close();
    kernel.close();
    return Promise.resolve();
  };
  return {
    ...controlApi(call),
    kernel,
    system,
    unprivilegedSystem() {
      const s = new InProcessRouteSystem(kernel, { unprivileged: true });
      extra.push(s);
      return s;
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
