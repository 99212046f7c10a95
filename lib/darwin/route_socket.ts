/**
 * Request/reply and monitoring over a PF_ROUTE socket, independent of how the socket is reached.
 *
 * The OS part is the small RouteTransport/RouteSystem interfaces below. lib/darwin/libsystem.ts
 * implements them with FFI (real macOS, or the harness's stand-in libSystem on Linux), and
 * tests/harness/inprocess_transport.ts implements them in-process against the simulated kernel,
 * so this file and route_table.ts run unchanged over both.
 *
 * Why the matching is strict (docs/macos-routing-socket.md §5.1): a routing socket receives every
 * process's routing traffic (their GETs, their failed requests, configd's changes), so a reply is
 * only ours when type, rtm_seq and rtm_pid all match, as route(8) checks (route.c line 1660). The
 * kernel's errno travels in the reply at offset 24 (rtm_errno), which does not depend on FFI errno
 * (§7.4).
 */
import { RouteTableError } from "../core/model/errors.ts";
import { errnoName, SyscallError } from "./errno.ts";
import { errorKindOfErrno } from "../core/model/errors.ts";

/** One routing socket. */
export interface RouteTransport {
  /** The pid the kernel stamps into our messages' rtm_pid. */
  readonly pid: number;
  /** Writes one message; throws SyscallError when the kernel refuses it (write returns -1). */
  send(message: Uint8Array<ArrayBuffer>): void;
  /** One queued message, or null when none is queued (never waits). */
  receiveNow(): Uint8Array | null;
  /** One message, waiting at most timeoutMs; null on timeout or after close. */
  receive(timeoutMs: number): Promise<Uint8Array | null>;
  /** SO_RCVBUF: the kernel drops messages silently when the buffer is full (§4.6). */
  setReceiveBuffer(bytes: number): void;
  /** True once close() was called: receive() then returns null at once. */
  readonly isClosed: boolean;
  close(): void;
}

/** What the darwin route table needs from the OS. */
export interface RouteSystem {
  openSocket(): RouteTransport;
  /** A sysctl read of the whole table named by mib (NET_RT_DUMP, NET_RT_IFLIST;
   * docs/macos-routing-socket.md §1.3). */
  sysctl(mib: readonly number[]): Uint8Array;
  /** if_nametoindex; 0 when absent. */
  interfaceIndex(name: string): number;
  /** if_indextoname; null when absent. */
  interfaceName(index: number): string | null;
  /** Optional: do the first-use work of sockets and interface lookups now (binding FFI
   * symbols), for a caller about to time a change. Opens nothing. */
  warm?(): void;
  close(): void;
}

/** rt_msghdr fields the matching needs (docs/macos-routing-socket.md §1.2); the full decode is
 * route_message.ts's. */
export interface RouteHeader {
  length: number;
  version: number;
  type: number;
  pid: number;
  seq: number;
  errno: number;
}

const RTM_VERSION = 5;
const RT_MSGHDR_SIZE = 92;
const OFFSET_PID = 16;
const OFFSET_SEQ = 20;
const OFFSET_ERRNO = 24;

/** The header of a routing message, or null when it is too short to be one. */
export function peekRouteHeader(message: Uint8Array): RouteHeader | null {
  if (message.byteLength < 28) return null;
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  return {
    length: view.getUint16(0, true),
    version: message[2]!,
    type: message[3]!,
    pid: view.getInt32(OFFSET_PID, true),
    seq: view.getInt32(OFFSET_SEQ, true),
    errno: view.getInt32(OFFSET_ERRNO, true),
  };
}

export interface RequesterOptions {
  /** How long to wait for the reply; the kernel answers in microseconds, so 2 s means lost. */
  timeoutMs?: number;
  /** The first rtm_seq; later requests count up (route(8) starts at 1). */
  firstSeq?: number;
}

/** Counts for tests and `-v` output. */
export interface RequesterStats {
  requests: number;
  /** Messages read while waiting that were not our reply (other processes' traffic). */
  skipped: number;
}

/**
 * Sends routing requests and waits for the kernel's answer to each.
 *
 * Not reentrant: one request at a time per socket (route_table.ts serialises them).
 */
export class RouteRequester {
  readonly stats: RequesterStats = { requests: 0, skipped: 0 };
  #seq: number;
  readonly #timeoutMs: number;

  constructor(private readonly transport: RouteTransport, options: RequesterOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 2000;
    this.#seq = (options.firstSeq ?? 1) - 1;
  }

  get pid(): number {
    return this.transport.pid;
  }

  /**
   * Stamps rtm_seq into a copy of `message`, writes it and returns the kernel's reply: the echo
   * of an ADD, the report of a DELETE, the answer to a GET. Throws RouteTableError with the
   * kernel's errno name and its meaning (EEXIST -> "exists", ESRCH -> "not-found" ...), or kind
   * "timeout" when no reply comes.
   */
  async request(message: Uint8Array): Promise<Uint8Array> {
    const header = peekRouteHeader(message);
    if (!header || message.byteLength < RT_MSGHDR_SIZE) {
      throw new RouteTableError("invalid", "routing request shorter than rt_msghdr");
    }
    const seq = this.#nextSeq();
    const stamped = new Uint8Array(message);
    const view = new DataView(stamped.buffer);
    view.setInt32(OFFSET_SEQ, seq, true);
    // Our pid, though the kernel stamps it too: route_output refuses an unprivileged change
    // (EPERM) before it writes rtm_pid (xnu bsd/net/rtsock.c route_output, senderr(EPERM) ahead
    // of `rtm_pid = proc_selfpid()`), so only the pid we wrote lets us match that echo.
    view.setInt32(OFFSET_PID, this.transport.pid, true);
    this.stats.requests++;
    const isOurs = (reply: RouteHeader) =>
      reply.version === RTM_VERSION && reply.type === header.type && reply.seq === seq &&
      reply.pid === this.transport.pid;

    // Traffic queued since the last request is nobody's reply to this one: drop it so a busy
    // socket's backlog cannot crowd out our reply.
    while (this.transport.receiveNow()) this.stats.skipped++;

    try {
      this.transport.send(stamped);
    } catch (error) {
      if (!(error instanceof SyscallError)) throw error;
      // route_output queues the echo, rtm_errno set, before write returns -1
      // (docs/macos-routing-socket.md §5.1), so it is already readable; it is the more trustworthy
      // errno (§7.4). A length mismatch (EINVAL) has no echo: then write's errno is all there is.
      let name = error.code;
      for (let queued = this.transport.receiveNow(); queued; queued = this.transport.receiveNow()) {
        const reply = peekRouteHeader(queued);
        if (reply && isOurs(reply) && reply.errno !== 0) {
          name = errnoName(reply.errno);
          break;
        }
        this.stats.skipped++;
      }
      throw requestError(header.type, name, "write");
    }

    const deadline = Date.now() + this.#timeoutMs;
    for (;;) {
      const left = deadline - Date.now();
      const bytes = left > 0 ? await this.transport.receive(left) : null;
      if (!bytes) {
        throw new RouteTableError(
          "timeout",
          `no reply from the routing socket to ${typeName(header.type)} seq ${seq} ` +
            `within ${this.#timeoutMs} ms`,
          null,
          "read",
        );
      }
      const reply = peekRouteHeader(bytes);
      if (!reply || !isOurs(reply)) {
        this.stats.skipped++;
        continue;
      }
      if (reply.errno !== 0) throw requestError(header.type, errnoName(reply.errno), "rtm_errno");
      return bytes;
    }
  }

  #nextSeq(): number {
    this.#seq = this.#seq >= 0x7fffffff ? 1 : this.#seq + 1;
    return this.#seq;
  }
}

function typeName(type: number): string {
  return ["", "RTM_ADD", "RTM_DELETE", "RTM_CHANGE", "RTM_GET"][type] ?? `RTM type ${type}`;
}

function requestError(type: number, errno: string, syscall: string): RouteTableError {
  return new RouteTableError(
    errorKindOfErrno(errno),
    `${typeName(type)}: ${errno}${ERRNO_HINTS[errno] ? ` (${ERRNO_HINTS[errno]})` : ""}`,
    errno,
    syscall,
  );
}

/** route(8)'s words for the errors a route change meets (route.c route_strerror). */
const ERRNO_HINTS: Record<string, string> = {
  EEXIST: "route already in table",
  ESRCH: "not in table",
  ENETUNREACH: "gateway is on no interface's network",
  EPERM: "changing routes needs root",
  EINVAL: "the kernel rejected the message",
};

export interface MonitorOptions {
  /** SO_RCVBUF for the monitor socket: bursts (a VPN adding 100 routes) overflow 8 KiB. */
  receiveBufferBytes?: number;
  /** How long one wait lasts before the abort signal is looked at again. */
  pollMs?: number;
}

/** Counts for tests and `-v` output. */
export interface MonitorStats {
  received: number;
  /** Messages that could not be parsed and were skipped. */
  garbage: number;
}

/**
 * Every message on a routing socket, decoded by `decode`, until `signal` aborts. A message that
 * `decode` rejects (returns null or throws) is counted and skipped: one hostile or truncated
 * message must not end the stream.
 */
export async function* monitorMessages<T>(
  transport: RouteTransport,
  decode: (bytes: Uint8Array) => T | null,
  signal: AbortSignal,
  stats: MonitorStats = { received: 0, garbage: 0 },
  options: MonitorOptions = {},
): AsyncGenerator<T> {
  try {
    transport.setReceiveBuffer(options.receiveBufferBytes ?? 1 << 20);
  } catch {
    // Best effort: a smaller buffer only means overflow comes sooner.
  }
  const pollMs = options.pollMs ?? 200;
  // A closed socket (the table was closed under us) ends the stream instead of spinning.
  while (!signal.aborted && !transport.isClosed) {
    const bytes = await transport.receive(pollMs);
    if (!bytes || signal.aborted) continue;
    stats.received++;
    let decoded: T | null;
    try {
      decoded = decode(bytes);
    } catch {
      decoded = null;
    }
    if (decoded === null) {
      stats.garbage++;
      continue;
    }
    yield decoded;
  }
}
