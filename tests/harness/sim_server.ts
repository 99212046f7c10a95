/**
 * Serves an XnuKernel on a Unix socket: routing sockets and queries from the stand-in libSystem,
 * and a JSON control channel for tests (tests/harness/sim.ts). Also renders the stand-in scutil's
 * answer files.
 */
import { join } from "node:path";
import {
  renderScutil,
  type ScutilDict,
  type SimAddress,
  type SimInterface,
  type SimRoute,
  type XnuKernel,
} from "./xnu_kernel.ts";
import { encodeFrame, Frame, FrameReader, HelloMode, hex, unhex } from "./sim_protocol.ts";

/** A control request (JSON) and what it does. */
export type ControlRequest =
  | { op: "routes"; family?: 4 | 6 }
  | { op: "defaults"; family: 4 | 6 }
  | { op: "interfaces" }
  | { op: "addInterface"; iface: SimInterface }
  | { op: "removeInterface"; name: string }
  | { op: "addAddress"; name: string; address: SimAddress }
  | { op: "removeAddress"; name: string; address: string }
  | { op: "setInterfaceUp"; name: string; up: boolean }
  /** configd's Link Active for the interface; flags and routes untouched. */
  | { op: "setLinkActive"; name: string; active: boolean }
  | { op: "setScutil"; key: string; value: ScutilDict | null }
  | { op: "scutil"; key: string }
  | { op: "inject"; hex: string | string[] }
  | { op: "swallowReplies"; count: number }
  | { op: "dropNextRequests"; count: number }
  | { op: "noiseBeforeReply"; hex: string[] }
  | { op: "requestAs"; pid: number; hex: string }
  | { op: "log" }
  | { op: "sockets" }
  | { op: "setRoutes"; routes: SimRoute[] }
  | { op: "stop" };

/** Applies one control request to the kernel; the value is JSON-able. */
export function control(kernel: XnuKernel, request: ControlRequest): unknown {
  switch (request.op) {
    case "routes":
      return kernel.routes(request.family);
    case "defaults":
      return kernel.defaults(request.family);
    case "interfaces":
      return [...kernel.interfaces.values()];
    case "addInterface":
      kernel.addInterface(request.iface);
      return null;
    case "removeInterface":
      kernel.removeInterface(request.name);
      return null;
    case "addAddress":
      kernel.addAddress(request.name, request.address);
      return null;
    case "removeAddress":
      kernel.removeAddress(request.name, request.address);
      return null;
    case "setInterfaceUp":
      kernel.setInterfaceUp(request.name, request.up);
      return null;
    case "setLinkActive":
      kernel.setLinkActive(request.name, request.active);
      return null;
    case "setScutil":
      kernel.setScutil(request.key, request.value);
      return null;
    case "scutil":
      return kernel.scutil(request.key);
    case "inject":
      // Several messages are delivered in one go, as a burst the reader cannot interleave with.
      for (const one of Array.isArray(request.hex) ? request.hex : [request.hex]) {
        kernel.inject(unhex(one));
      }
      return null;
    case "swallowReplies":
      kernel.faults.swallowReplies = request.count;
      return null;
    case "dropNextRequests":
      kernel.faults.dropRequests = request.count;
      return null;
    case "noiseBeforeReply":
      kernel.faults.noiseBeforeReply = request.hex.map(unhex);
      return null;
    case "requestAs":
      return kernel.requestAs(request.pid, unhex(request.hex));
    case "log":
      return kernel.log;
    case "sockets":
      return kernel.socketCount;
    case "setRoutes":
      kernel.replaceRoutes(request.routes);
      return null;
    case "stop":
      return null;
  }
}

/** The stand-in scutil reads `show KEY` answers from here (see tests/harness/scutil). */
export function scutilFile(dir: string, key: string): string {
  return join(dir, "scutil", key.replaceAll("/", "_"));
}

function writeScutil(kernel: XnuKernel, dir: string, key: string): void {
  const file = scutilFile(dir, key);
  const value = kernel.scutil(key);
  if (!value) {
    try {
      Deno.removeSync(file);
    } catch {
      // already absent
    }
    return;
  }
  const temporary = `${file}.tmp`;
  Deno.writeTextFileSync(temporary, renderScutil(value));
  Deno.renameSync(temporary, file);
}

export interface KernelServer {
  socketPath: string;
  /** Resolves when a control client asked to stop. */
  stopped: Promise<void>;
  close(): Promise<void>;
}

/** Listens on `dir`/sim.sock and serves `kernel`. */
export function serveKernel(kernel: XnuKernel, dir: string): KernelServer {
  const socketPath = join(dir, "sim.sock");
  Deno.mkdirSync(join(dir, "scutil"), { recursive: true });
  for (const key of kernel.scutilKeys()) writeScutil(kernel, dir, key);
  kernel.onScutilChange = (key) => writeScutil(kernel, dir, key);

  const listener = Deno.listen({ transport: "unix", path: socketPath });
  const connections = new Set<Deno.UnixConn>();
  let stop: () => void = () => {};
  const stopped = new Promise<void>((resolve) => stop = resolve);

  const serveConnection = async (conn: Deno.UnixConn) => {
    connections.add(conn);
    const reader = new FrameReader(conn.readable);
    const writer = conn.writable.getWriter();
    // One queue per connection keeps frame order: the echo is queued before the write's result.
    let queue = Promise.resolve();
    const send = (kind: number, payload?: Uint8Array) => {
      const frame = encodeFrame(kind, payload);
      queue = queue.then(() => writer.write(frame)).catch(() => {});
    };
    let detach: (() => void) | null = null;
    try {
      const hello = await reader.next();
      if (!hello || hello.kind !== Frame.HELLO || hello.payload.length < 10) return;
      const view = new DataView(hello.payload.buffer);
      const pid = view.getInt32(0, true);
      const unprivileged = hello.payload[4] === 1;
      const mode = hello.payload[5];
      const protocol = view.getInt32(6, true);
      const socket = {
        pid,
        protocol,
        unprivileged,
        deliver: (message: Uint8Array) => send(Frame.DELIVER, message),
      };
      if (mode === HelloMode.ROUTE_SOCKET) detach = kernel.attach(socket);
      for (let frame = await reader.next(); frame; frame = await reader.next()) {
        const p = frame.payload;
        const pv = new DataView(p.buffer, p.byteOffset, p.byteLength);
        switch (frame.kind) {
          case Frame.WRITE: {
            const errno = kernel.routeOutput(socket, p);
            const result = new Uint8Array(4);
            new DataView(result.buffer).setInt32(0, errno, true);
            send(Frame.RESULT, result);
            break;
          }
          case Frame.SYSCTL: {
            const count = pv.getUint32(0, true);
            const mib = Array.from({ length: count }, (_, i) => pv.getInt32(4 + 4 * i, true));
            const { errno, data } = kernel.sysctl(mib);
            const reply = new Uint8Array(4 + data.length);
            new DataView(reply.buffer).setInt32(0, errno, true);
            reply.set(data, 4);
            send(Frame.SYSCTL_REPLY, reply);
            break;
          }
          case Frame.NAMETOINDEX: {
            const iface = kernel.interfaceByName(new TextDecoder().decode(p));
            const reply = new Uint8Array(4);
            new DataView(reply.buffer).setUint32(0, iface?.index ?? 0, true);
            send(Frame.NAME_REPLY, reply);
            break;
          }
          case Frame.INDEXTONAME: {
            const iface = kernel.interfaces.get(pv.getUint32(0, true));
            const name = new TextEncoder().encode(iface?.name ?? "");
            const reply = new Uint8Array(4 + name.length);
            new DataView(reply.buffer).setUint32(0, iface?.index ?? 0, true);
            reply.set(name, 4);
            send(Frame.NAME_REPLY, reply);
            break;
          }
          case Frame.CONTROL: {
            const request = JSON.parse(new TextDecoder().decode(p)) as ControlRequest;
            let answer: unknown;
            try {
              answer = { ok: true, value: control(kernel, request) ?? null };
            } catch (error) {
              answer = { ok: false, error: String(error) };
            }
            send(Frame.CONTROL_REPLY, new TextEncoder().encode(JSON.stringify(answer)));
            if (request.op === "stop") {
              await queue;
              stop();
            }
            break;
          }
        }
      }
    } catch {
      // A client that vanished mid-frame is just gone.
    } finally {
      detach?.();
      connections.delete(conn);
      await queue;
      try {
        conn.close();
      } catch {
        // already closed
      }
    }
  };

  const accepting = (async () => {
    try {
      for await (const conn of listener) serveConnection(conn as Deno.UnixConn);
    } catch {
      // listener closed
    }
  })();

  return {
    socketPath,
    stopped,
    async close() {
      listener.close();
      for (const conn of connections) {
        try {
          conn.close();
        } catch {
          // already closed
        }
      }
      await accepting;
    },
  };
}

export { hex };
