/**
 * The RouteSystem of lib/darwin/route_socket.ts implemented in-process against an XnuKernel, with
 * no FFI: the same route_socket.ts and route_table.ts code runs over it as over libSystem.
 */
import { SyscallError } from "../../lib/darwin/errno.ts";
import type { RouteSystem, RouteTransport } from "../../lib/darwin/route_socket.ts";
import type { KernelSocket, XnuKernel } from "./xnu_kernel.ts";

const ENXIO = 6;

/** The routing socket's default receive buffer (RAWRCVQ, docs/macos-routing-socket.md §4.6). */
const DEFAULT_RECEIVE_BUFFER = 8192;

export interface InProcessOptions {
  pid?: number;
  /** SS_PRIV clear: the kernel answers EPERM to anything but RTM_GET. */
  unprivileged?: boolean;
}

export class InProcessRouteSocket implements RouteTransport {
  readonly pid: number;
  /** Messages the kernel dropped because the receive buffer was full. */
  dropped = 0;
  readonly #queue: Uint8Array[] = [];
  #queuedBytes = 0;
  #capacity = DEFAULT_RECEIVE_BUFFER;
  #wake: (() => void) | null = null;
  #detach: () => void;
  #closed = false;

  constructor(private readonly kernel: XnuKernel, options: InProcessOptions = {}) {
    this.pid = options.pid ?? Deno.pid;
    const socket: KernelSocket = {
      pid: this.pid,
      protocol: 0,
      unprivileged: options.unprivileged ?? false,
      deliver: (message) => this.#deliver(message),
    };
    this.#socket = socket;
    this.#detach = kernel.attach(socket);
  }
  readonly #socket: KernelSocket;

  #deliver(message: Uint8Array): void {
    // raw_input drops silently when sbappendaddr fails on a full buffer
    // (docs/macos-routing-socket.md §4.6).
    if (this.#queuedBytes + message.length > this.#capacity) {
      this.dropped++;
      return;
    }
    this.#queue.push(message);
    this.#queuedBytes += message.length;
    this.#wake?.();
  }

  send(message: Uint8Array<ArrayBuffer>): void {
    if (this.#closed) throw new SyscallError("write", 9);
    const errno = this.kernel.routeOutput(this.#socket, message);
    if (errno !== 0) throw new SyscallError("write", errno);
  }

  receiveNow(): Uint8Array | null {
    const message = this.#queue.shift() ?? null;
    if (message) this.#queuedBytes -= message.length;
    return message;
  }

  async receive(timeoutMs: number): Promise<Uint8Array | null> {
    const now = this.receiveNow();
    if (now || this.#closed) return now;
    let timer: ReturnType<typeof setTimeout> | undefined;
    await new Promise<void>((resolve) => {
      this.#wake = resolve;
      timer = setTimeout(resolve, Math.max(0, timeoutMs));
    });
    clearTimeout(timer);
    this.#wake = null;
    return this.receiveNow();
  }

  setReceiveBuffer(bytes: number): void {
    this.#capacity = bytes;
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#detach();
    this.#wake?.();
  }
}

/** An XnuKernel seen through the RouteSystem interface. */
export class InProcessRouteSystem implements RouteSystem {
  readonly sockets = new Set<InProcessRouteSocket>();

  constructor(readonly kernel: XnuKernel, readonly options: InProcessOptions = {}) {}

  openSocket(): RouteTransport {
    const socket = new InProcessRouteSocket(this.kernel, this.options);
    this.sockets.add(socket);
    const close = socket.close.bind(socket);
    socket.close = () => {
      this.sockets.delete(socket);
      close();
    };
    return socket;
  }

  sysctl(mib: readonly number[]): Uint8Array {
    const { errno, data } = this.kernel.sysctl(mib);
    if (errno !== 0) throw new SyscallError("sysctl", errno, mib.join("."));
    return data;
  }

  interfaceIndex(name: string): number {
    return this.kernel.interfaceByName(name)?.index ?? 0;
  }

  interfaceName(index: number): string | null {
    return this.kernel.interfaces.get(index)?.name ?? null;
  }

  close(): void {
    for (const socket of [...this.sockets]) socket.close();
  }
}

export { ENXIO };
