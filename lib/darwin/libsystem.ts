/**
 * The only `Deno.dlopen` of macOS's libSystem, and the routing-socket transport built on it.
 *
 * The library path is `/usr/lib/libSystem.B.dylib` (absolute: a scoped --allow-ffi grant resolves
 * relative names against the CWD, docs/macos-routing-socket.md §7.1), or `DEFROUTE_LIBSYSTEM` when
 * set: the test harness points it at tests/harness/libsystem_standin.c, which speaks darwin's ABI
 * and constants on Linux and connects PF_ROUTE sockets to a simulated XNU kernel.
 *
 * Rules this file keeps (docs/macos-routing-socket.md §7.4, §7.5):
 * - no variadic function (fcntl/ioctl read garbage on Apple arm64); non-blocking reads are
 *   `recv(MSG_DONTWAIT)` instead of O_NONBLOCK;
 * - no call that can block the event loop forever: waiting is a `nonblocking: true` poll() with a
 *   timeout, after which a synchronous recv(MSG_DONTWAIT) takes the message;
 * - errno is read with `__error()` right after a failing *synchronous* call, on the same thread;
 *   the result of a nonblocking call never relies on errno, and no decision rests on errno of a
 *   call that usually fails: a synchronous poll(fd, 1, 0) says whether a message is queued before
 *   recv is called (docs/macos-routing-socket.md §10.6);
 * - every -1 becomes a SyscallError with the syscall and darwin's errno name.
 */
import { overridePath } from "../core/trust/override_path.ts";
import { DARWIN_ERRNO, SyscallError } from "./errno.ts";
import type { RouteSystem, RouteTransport } from "./route_socket.ts";
import { SymbolGroup } from "../ffi_symbol_group.ts";
import { decodeUtf8 } from "../util/utf8_text.ts";
import type { ProcessGroupMember, ProcessGroups } from "../process/process_group.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNSPEC,
  CTL_NET,
  NET_RT_DUMP,
  NET_RT_DUMP2,
  NET_RT_FLAGS,
  NET_RT_IFLIST,
  NET_RT_IFLIST2,
} from "./constants.ts";

export const LIBSYSTEM_PATH = "/usr/lib/libSystem.B.dylib";

/**
 * The symbols in groups, each bound the first time it is needed (lib/ffi_symbol_group.ts binds
 * them as addresses called through libffi, so no trampoline is compiled): a `save` or `restore`
 * binds nothing for the monitor's setsockopt, or a lookup it never makes.
 */
const GROUPS = {
  /** Every command reads the table; bound when LibSystem is made, so a library that does not
   * load fails there. __error is here because errno must be readable right after any failing
   * call: binding it only after a failure would run a dlopen in between, which may set errno. */
  table: {
    sysctl: {
      // int sysctl(int *name, u_int namelen, void *oldp, size_t *oldlenp, void *newp,
      //            size_t newlen)
      parameters: ["buffer", "u32", "buffer", "buffer", "buffer", "usize"],
      result: "i32",
    },
    __error: {
      // int *__error(void): darwin's thread-local errno
      parameters: [],
      result: "pointer",
    },
  },
  /** A routing socket's life: requests (restore's add) and the monitor. */
  socket: {
    socket: {
      // int socket(int domain, int type, int protocol)
      parameters: ["i32", "i32", "i32"],
      result: "i32",
    },
    write: {
      // ssize_t write(int fildes, const void *buf, size_t nbyte)
      parameters: ["i32", "buffer", "usize"],
      result: "isize",
    },
    recv: {
      // ssize_t recv(int socket, void *buffer, size_t length, int flags)
      parameters: ["i32", "buffer", "usize", "i32"],
      result: "isize",
    },
    close: {
      // int close(int fildes)
      parameters: ["i32"],
      result: "i32",
    },
    getpid: {
      // pid_t getpid(void)
      parameters: [],
      result: "i32",
    },
    pollNow: {
      // poll() with timeout 0, synchronous: is a message queued? Asked before every recv, so
      // no decision rests on errno of a recv that usually fails with EAGAIN.
      name: "poll",
      parameters: ["buffer", "u32", "i32"],
      result: "i32",
    },
    setsockopt: {
      // int setsockopt(int socket, int level, int option_name, const void *option_value,
      //                socklen_t option_len /* u32 */)
      // Every routing socket raises SO_RCVBUF: a full buffer drops messages silently (xnu
      // bsd/net/raw_usrreq.c raw_input ignores sbappendaddr's ENOBUFS).
      parameters: ["i32", "i32", "i32", "buffer", "u32"],
      result: "i32",
    },
  },
  /** Only a wait for a reply or an event that is not queued yet. */
  wait: {
    poll: {
      // int poll(struct pollfd fds[] /* {int fd; short events; short revents} */,
      //          nfds_t nfds /* unsigned int */, int timeout /* ms */)
      // nonblocking: runs on a worker thread so waiting never stalls the event loop (§7.4).
      parameters: ["buffer", "u32", "i32"],
      result: "i32",
      nonblocking: true,
    },
  },
  /** A route change resolves an interface name. */
  nameToIndex: {
    if_nametoindex: {
      // unsigned int if_nametoindex(const char *ifname /* NUL-terminated */)
      parameters: ["buffer"],
      result: "u32",
    },
  },
  /** Only `run` after CMD's exit: who is left in CMD's process group (lib/process/process_group.ts).
   */
  process: {
    proc_listpids: {
      // int proc_listpids(uint32_t type, uint32_t typeinfo, void *buffer, int buffersize)
      // (libproc.h); with a NULL buffer it answers the bytes needed, with one the bytes filled.
      parameters: ["u32", "u32", "buffer", "i32"],
      result: "i32",
    },
    proc_name: {
      // int proc_name(int pid, void *buffer, uint32_t buffersize): the process's p_comm
      parameters: ["i32", "buffer", "u32"],
      result: "i32",
    },
    kill: {
      // int kill(pid_t pid, int sig): sig 0 only asks whether the target exists
      parameters: ["i32", "i32"],
      result: "i32",
    },
  },
  /** A route read names its interface. */
  indexToName: {
    if_indextoname: {
      // char *if_indextoname(unsigned int ifindex, char *ifname /* IF_NAMESIZE = 16 bytes */)
      parameters: ["u32", "buffer"],
      result: "pointer",
    },
  },
} as const satisfies Record<string, Deno.ForeignLibraryInterface>;

function symbolGroups(path: string) {
  return {
    table: new SymbolGroup(path, GROUPS.table),
    socket: new SymbolGroup(path, GROUPS.socket),
    wait: new SymbolGroup(path, GROUPS.wait),
    nameToIndex: new SymbolGroup(path, GROUPS.nameToIndex),
    indexToName: new SymbolGroup(path, GROUPS.indexToName),
    process: new SymbolGroup(path, GROUPS.process),
  };
}

// darwin constants (docs/macos-routing-socket.md §4.1, §4.2, §4.3).
const PF_ROUTE = 17;
const SOCK_RAW = 3;
const SOL_SOCKET = 0xffff;
const SO_RCVBUF = 0x1002;
const MSG_DONTWAIT = 0x80;
const POLLIN = 0x1;
const EAGAIN = 35;
const EINTR = 4;
const ENOMEM = 12;
const ESRCH = 3;
const IF_NAMESIZE = 16;
/** libproc.h: proc_listpids type for one process group's members. */
const PROC_PGRP_ONLY = 2;
/** proc_name's buffer: 2 * MAXCOMLEN, as proc_name itself sizes it (libproc.c). */
const PROC_NAME_BYTES = 32;

/** The largest routing message: a 112-byte header plus eight 128-byte sockaddrs fits easily. */
const RECEIVE_BUFFER_BYTES = 4096;
/** poll() slices, so an abort or a deadline is noticed without a long pending op (§7.4). */
const POLL_SLICE_MS = 200;

/** The library path to load: DEFROUTE_LIBSYSTEM (harness) or the system's libSystem. */
export function libSystemPath(): string {
  return overridePath("DEFROUTE_LIBSYSTEM", LIBSYSTEM_PATH);
}

/**
 * The buffer for a sysctl dump whose size the kernel estimated at `estimate` bytes: a quarter more
 * and 512 bytes, for routes added between the two calls (route(8) and netstat do the same), in
 * whole bytes whatever the estimate (a typed array's length must be an integer).
 */
export function dumpCapacity(estimate: number): number {
  return estimate + Math.floor(estimate / 4) + 512;
}

const MIB_FAMILY: Readonly<Record<number, string>> = {
  [AF_UNSPEC]: "AF_UNSPEC",
  [AF_INET]: "AF_INET",
  [AF_INET6]: "AF_INET6",
};
const MIB_WHAT: Readonly<Record<number, string>> = {
  [NET_RT_DUMP]: "NET_RT_DUMP",
  [NET_RT_FLAGS]: "NET_RT_FLAGS",
  [NET_RT_IFLIST]: "NET_RT_IFLIST",
  [NET_RT_IFLIST2]: "NET_RT_IFLIST2",
  [NET_RT_DUMP2]: "NET_RT_DUMP2",
};

/** A routing sysctl's name for messages: "CTL_NET.PF_ROUTE.0.AF_INET.NET_RT_DUMP2.0". */
export function mibText(mib: readonly number[]): string {
  if (mib.length !== 6 || mib[0] !== CTL_NET || mib[1] !== PF_ROUTE) return mib.join(".");
  const [, , zero, family, what, arg] = mib as [number, number, number, number, number, number];
  return `CTL_NET.PF_ROUTE.${zero}.${MIB_FAMILY[family] ?? family}.${
    MIB_WHAT[what] ?? what
  }.${arg}`;
}

/** libSystem's functions with errors turned into SyscallError. */
export class LibSystem implements Disposable {
  /** The symbol groups (raw calls, for tests); each is bound on its first use. */
  readonly groups: ReturnType<typeof symbolGroups>;
  #closed = false;

  constructor(path: string = libSystemPath()) {
    this.groups = symbolGroups(path);
    this.bind("table"); // loads the library now: a bad path fails here, not mid-command
  }

  /** Bind these groups now rather than on their first call. */
  bind(...names: (keyof LibSystem["groups"])[]): void {
    for (const name of names) void this.groups[name].symbols;
  }

  /** The symbol groups bound so far (for tests: a save must not pay for sockets). */
  boundGroups(): string[] {
    return Object.entries(this.groups).flatMap(([name, group]) => group.isBound ? [name] : []);
  }

  /** darwin errno of the last failing synchronous call on this thread. */
  errno(): number {
    const pointer = this.groups.table.symbols.__error();
    if (pointer === null) return 0;
    return new Deno.UnsafePointerView(pointer).getInt32(0);
  }

  #fail(syscall: string, detail?: string): never {
    throw new SyscallError(syscall, this.errno(), detail);
  }

  socket(domain: number, type: number, protocol: number): number {
    const fd = this.groups.socket.symbols.socket(domain, type, protocol);
    if (fd < 0) this.#fail("socket");
    return fd;
  }

  /** write(2); returns bytes written. */
  write(fd: number, bytes: Uint8Array<ArrayBuffer>): number {
    const n = this.groups.socket.symbols.write(fd, bytes, BigInt(bytes.byteLength));
    if (n < 0n) this.#fail("write");
    return Number(n);
  }

  /** Whether poll(fd, POLLIN, 0) says something is there: a message, EOF or an error. */
  readableNow(fd: number): boolean {
    const pollfd = new Uint8Array(8);
    const view = new DataView(pollfd.buffer);
    view.setInt32(0, fd, true);
    view.setInt16(4, POLLIN, true);
    const n = this.groups.socket.symbols.pollNow(pollfd, 1, 0);
    if (n < 0) this.#fail("poll");
    return n > 0 && view.getInt16(6, true) !== 0;
  }

  /**
   * One queued message, or null when none is queued. poll(fd, 1, 0) first and recv only when it
   * says so: nothing queued is the usual answer, and it must not rest on errno of a recv that
   * failed with EAGAIN (docs/macos-routing-socket.md §10.6). A recv that then fails is a real
   * error.
   */
  recvNow(fd: number, buffer: Uint8Array<ArrayBuffer>): Uint8Array | null {
    if (!this.readableNow(fd)) return null;
    for (;;) {
      const n = this.groups.socket.symbols.recv(
        fd,
        buffer,
        BigInt(buffer.byteLength),
        MSG_DONTWAIT,
      );
      // A routing socket reads 0 bytes only once it is shut down for reading (route(8)'s
      // SHUT_RD), and the harness's socketpair when the simulated kernel is gone: nothing more
      // will ever come. An error, not an empty message, or every reader would spin on it.
      if (n === 0n) throw new SyscallError("recv", DARWIN_ERRNO.ESHUTDOWN);
      if (n > 0n) return buffer.slice(0, Number(n));
      const errno = this.errno();
      if (errno === EAGAIN) return null;
      if (errno === EINTR) continue;
      throw new SyscallError("recv", errno);
    }
  }

  /** Waits up to timeoutMs for fd to become readable, off the main thread. */
  async pollReadable(fd: number, timeoutMs: number): Promise<boolean> {
    const pollfd = new Uint8Array(8);
    const view = new DataView(pollfd.buffer);
    view.setInt32(0, fd, true);
    view.setInt16(4, POLLIN, true);
    const n = await this.groups.wait.symbols.poll(pollfd, 1, Math.max(0, Math.floor(timeoutMs)));
    // errno is not readable after a nonblocking call (§7.4): a -1 (EINTR) counts as "not yet".
    return n > 0 && view.getInt16(6, true) !== 0;
  }

  setsockoptInt(fd: number, level: number, option: number, value: number): void {
    const buffer = new Uint8Array(4);
    new DataView(buffer.buffer).setInt32(0, value, true);
    if (this.groups.socket.symbols.setsockopt(fd, level, option, buffer, 4) < 0) {
      this.#fail("setsockopt", `option 0x${option.toString(16)}`);
    }
  }

  close(fd: number): void {
    if (this.groups.socket.symbols.close(fd) < 0) this.#fail("close");
  }

  getpid(): number {
    return this.groups.socket.symbols.getpid();
  }

  /** if_nametoindex; 0 when there is no such interface. */
  ifNameToIndex(name: string): number {
    return this.groups.nameToIndex.symbols.if_nametoindex(new TextEncoder().encode(`${name}\0`));
  }

  /** if_indextoname; null when there is no such interface. */
  ifIndexToName(index: number): string | null {
    const buffer = new Uint8Array(IF_NAMESIZE);
    const result = this.groups.indexToName.symbols.if_indextoname(index, buffer);
    if (result === null) return null;
    const end = buffer.indexOf(0);
    return decodeUtf8(buffer.subarray(0, end < 0 ? buffer.length : end));
  }

  /** The pids of process group `pgid` (libproc's proc_listpids, PROC_PGRP_ONLY). */
  processGroupPids(pgid: number): number[] {
    const symbols = this.groups.process.symbols;
    for (let attempt = 0; attempt < 5; attempt++) {
      const needed = symbols.proc_listpids(PROC_PGRP_ONLY, pgid, null, 0);
      if (needed < 0) this.#fail("proc_listpids", `pgrp ${pgid}`);
      if (needed === 0) return [];
      // Room for a few more: the group may grow between the two calls.
      const buffer = new Int32Array(needed / 4 + 16);
      const bytes = new Uint8Array(buffer.buffer);
      const filled = symbols.proc_listpids(PROC_PGRP_ONLY, pgid, bytes, bytes.byteLength);
      if (filled < 0) this.#fail("proc_listpids", `pgrp ${pgid}`);
      if (filled < bytes.byteLength) {
        return [...buffer.subarray(0, filled / 4)].filter((p) => p > 0);
      }
    }
    throw new SyscallError("proc_listpids", ENOMEM, "process group kept growing");
  }

  /** Whether any process is in group `pgid` (kill(-pgid, 0); EPERM means one exists). */
  processGroupExists(pgid: number): boolean {
    if (!Number.isInteger(pgid) || pgid <= 1) return false;
    if (this.groups.process.symbols.kill(-pgid, 0) === 0) return true;
    return this.errno() !== ESRCH;
  }

  /** proc_name: the process's short name; "" when it is gone. */
  processName(pid: number): string {
    const buffer = new Uint8Array(PROC_NAME_BYTES);
    const length = this.groups.process.symbols.proc_name(pid, buffer, buffer.byteLength);
    return length > 0 ? decodeUtf8(buffer.subarray(0, Math.min(length, buffer.length))) : "";
  }

  /**
   * sysctl read of a whole table (NET_RT_DUMP, NET_RT_IFLIST): ask the size, allocate with slack,
   * read; retry when the table grew in between (ENOMEM), as route(8) and netstat do.
   */
  sysctl(mib: readonly number[]): Uint8Array {
    const name = new Int32Array(mib);
    const nameBytes = new Uint8Array(name.buffer);
    for (let attempt = 0; attempt < 5; attempt++) {
      const size = new BigUint64Array(1);
      if (this.groups.table.symbols.sysctl(nameBytes, mib.length, null, size, null, 0n) < 0) {
        this.#fail("sysctl", mibText(mib));
      }
      const capacity = dumpCapacity(Number(size[0]!));
      const data = new Uint8Array(capacity);
      size[0] = BigInt(capacity);
      if (this.groups.table.symbols.sysctl(nameBytes, mib.length, data, size, null, 0n) === 0) {
        return data.slice(0, Number(size[0]!));
      }
      const errno = this.errno();
      if (errno !== ENOMEM) throw new SyscallError("sysctl", errno, mibText(mib));
    }
    throw new SyscallError("sysctl", ENOMEM, "table kept growing");
  }

  /** Unloads the library. Sockets must be closed first. */
  [Symbol.dispose](): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const group of Object.values(this.groups)) group.close();
  }
}

/** A PF_ROUTE socket through libSystem: the RouteTransport of real macOS (and the harness). */
export class LibSystemRouteSocket implements RouteTransport {
  readonly pid: number;
  readonly #fd: number;
  readonly #buffer = new Uint8Array(RECEIVE_BUFFER_BYTES);
  #closed = false;
  #waiting: Promise<unknown> | null = null;

  /** protocol 0 (AF_UNSPEC) receives every family's messages (docs/macos-routing-socket.md §5.1).
   */
  constructor(private readonly lib: LibSystem, protocol = 0) {
    this.closed = new Promise((resolve) => this.#markClosed = resolve);
    this.#fd = lib.socket(PF_ROUTE, SOCK_RAW, protocol);
    this.pid = lib.getpid();
  }

  send(message: Uint8Array<ArrayBuffer>): void {
    this.lib.write(this.#fd, message);
  }

  receiveNow(): Uint8Array | null {
    return this.lib.recvNow(this.#fd, this.#buffer);
  }

  async receive(timeoutMs: number): Promise<Uint8Array | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#closed) return null;
      const message = this.receiveNow();
      if (message) return message;
      const left = deadline - Date.now();
      if (left <= 0) return null;
      const wait = this.lib.pollReadable(this.#fd, Math.min(left, POLL_SLICE_MS));
      this.#waiting = wait;
      await wait;
      this.#waiting = null;
    }
  }

  setReceiveBuffer(bytes: number): void {
    this.lib.setsockoptInt(this.#fd, SOL_SOCKET, SO_RCVBUF, bytes);
  }

  get isClosed(): boolean {
    return this.#closed;
  }

  /** Resolves once the descriptor is really closed (after a pending poll() returned). */
  readonly closed: Promise<void>;
  #markClosed!: () => void;

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // A poll() on a worker thread may still hold the fd: close once it returns (at most one
    // slice), so the number is never reused under it.
    const finish = () => {
      try {
        this.lib.close(this.#fd);
      } finally {
        this.#markClosed();
      }
    };
    const waiting = this.#waiting;
    if (waiting) waiting.finally(finish);
    else finish();
  }
}

/** The darwin RouteSystem: sockets, sysctl and interface names from libSystem. */
export class LibSystemRouteSystem implements RouteSystem {
  readonly #lib: LibSystem;
  readonly #sockets = new Set<LibSystemRouteSocket>();

  constructor(path: string = libSystemPath()) {
    this.#lib = new LibSystem(path);
  }

  openSocket(): RouteTransport {
    const socket = new LibSystemRouteSocket(this.#lib);
    this.#sockets.add(socket);
    socket.closed.then(() => this.#sockets.delete(socket));
    return socket;
  }

  sysctl(mib: readonly number[]): Uint8Array {
    return this.#lib.sysctl(mib);
  }

  interfaceIndex(name: string): number {
    return this.#lib.ifNameToIndex(name);
  }

  interfaceName(index: number): string | null {
    return this.#lib.ifIndexToName(index);
  }

  /** The libSystem symbol groups bound so far (for tests). */
  boundGroups(): string[] {
    return this.#lib.boundGroups();
  }

  /** What a request needs: the socket's symbols, the poll a reply may wait in, if_nametoindex. */
  warm(): void {
    this.#lib.bind("socket", "wait", "nameToIndex");
  }

  close(): void {
    const sockets = [...this.#sockets];
    for (const socket of sockets) socket.close();
    // Unloading the library while a poll() runs on a worker thread would pull the code from
    // under it; pending polls end within one slice.
    Promise.all(sockets.map((socket) => socket.closed)).then(() => this.#lib[Symbol.dispose]());
  }
}

/** Process group members through libproc, for `run --linger` (lib/process/process_group.ts). The
 * library is loaded the first time it is asked (a second dlopen of a loaded library only counts
 * a reference), so no command but a lingering `run` pays for it. */
export class LibSystemProcessGroups implements ProcessGroups, Disposable {
  #lib: LibSystem | null = null;
  constructor(private readonly path?: string) {}

  exists(pgid: number): boolean {
    return this.#open().processGroupExists(pgid);
  }

  #open(): LibSystem {
    return this.#lib ??= new LibSystem(this.path ?? libSystemPath());
  }

  members(pgid: number): ProcessGroupMember[] {
    const lib = this.#open();
    return lib.processGroupPids(pgid).sort((a, b) => a - b).map((pid) => ({
      pid,
      name: lib.processName(pid),
    }));
  }

  [Symbol.dispose](): void {
    this.#lib?.[Symbol.dispose]();
    this.#lib = null;
  }
}
