/**
 * The only Deno.dlopen of glibc: just enough of the socket API to speak rtnetlink.
 *
 * Symbols are bound in small groups on first use (GROUPS below), so a process pays Deno's
 * per-symbol dlopen cost only for what it calls.
 *
 * Every call that returns -1 becomes a LibcError carrying the syscall and the errno *name*,
 * read through __errno_location right after the failing synchronous call
 * (docs/macos-routing-socket.md §7.4: errno has no Deno API and is thread-local, so only
 * synchronous calls get a trustworthy errno). Reads never block the event loop: recv always uses
 * MSG_DONTWAIT, and waiting is done by a `nonblocking` poll(2) with a timeout, so a pending wait
 * always ends (docs/macos-routing-socket.md §7.4).
 */
import { AF_NETLINK, errnoName, NETLINK_ROUTE } from "./netlink_message.ts";
import { errnoMeaning } from "../util/errno_text.ts";
import { SymbolGroup } from "../ffi_symbol_group.ts";
import { decodeUtf8 } from "../util/utf8_text.ts";

/** glibc by its soname; dlopen finds it in the loader's default paths. */
export const LIBC_PATH = "libc.so.6";

const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const SOL_SOCKET = 1;
const SO_RCVBUF = 8;
const MSG_DONTWAIT = 0x40;
const POLLIN = 0x1;
/** net/if.h: interface names are at most 15 bytes plus NUL. */
const IF_NAMESIZE = 16;
const EAGAIN = 11;
const O_CLOEXEC = 0o2000000;
/** glibc's struct dirent on 64-bit Linux: d_ino (8), d_off (8), d_reclen (2), d_type (1). */
const DIRENT_NAME_OFFSET = 19;
const EINTR = 4;

/**
 * The symbols in groups, each bound the first time it is needed (lib/ffi_symbol_group.ts binds
 * them as addresses called through libffi, so no trampoline is compiled): a short-lived `save`
 * or `restore` binds only what it calls. After a process's first dlopen (~0.5 ms), another
 * group's costs ~0.05 ms.
 */
const GROUPS = {
  /** A request socket's life; every process that talks to the kernel needs these. */
  request: {
    socket: {
      // int socket(int domain, int type, int protocol)
      parameters: [
        "i32", // int domain
        "i32", // int type
        "i32", // int protocol
      ],
      result: "i32",
    },
    sendto: {
      // ssize_t sendto(int sockfd, const void *buf, size_t len, int flags,
      //                const struct sockaddr *dest_addr, socklen_t addrlen)
      parameters: [
        "i32", // int sockfd
        "buffer", // const void *buf
        "usize", // size_t len
        "i32", // int flags
        "buffer", // const struct sockaddr *dest_addr
        "u32", // socklen_t addrlen
      ],
      result: "isize",
    },
    recv: {
      // ssize_t recv(int sockfd, void *buf, size_t len, int flags)
      parameters: [
        "i32", // int sockfd
        "buffer", // void *buf
        "usize", // size_t len
        "i32", // int flags
      ],
      result: "isize",
    },
    close: {
      // int close(int fd)
      parameters: [
        "i32", // int fd
      ],
      result: "i32",
    },
    __errno_location: {
      // int *__errno_location(void)
      // Bound with the calls whose errno is read: binding it only after a failure would run a
      // dlopen between the failing call and the read, and dlopen may set errno itself.
      parameters: [],
      result: "pointer",
    },
  },
  /** Only the multicast monitor binds a socket to groups and sizes its buffer. */
  monitor: {
    bind: {
      // int bind(int sockfd, const struct sockaddr *addr, socklen_t addrlen)
      parameters: [
        "i32", // int sockfd
        "buffer", // const struct sockaddr *addr (struct sockaddr_nl, 12 bytes)
        "u32", // socklen_t addrlen
      ],
      result: "i32",
    },
    setsockopt: {
      // int setsockopt(int sockfd, int level, int optname, const void *optval, socklen_t optlen)
      parameters: [
        "i32", // int sockfd
        "i32", // int level
        "i32", // int optname
        "buffer", // const void *optval
        "u32", // socklen_t optlen
      ],
      result: "i32",
    },
    getsockname: {
      // int getsockname(int sockfd, struct sockaddr *addr, socklen_t *addrlen)
      parameters: [
        "i32", // int sockfd
        "buffer", // struct sockaddr *addr
        "buffer", // socklen_t *addrlen
      ],
      result: "i32",
    },
  },
  /** Only a wait for a reply or an event that is not queued yet. */
  wait: {
    poll: {
      // int poll(struct pollfd *fds, nfds_t nfds, int timeout)
      parameters: [
        "buffer", // struct pollfd *fds ({int fd; short events; short revents}, 8 bytes each)
        "u64", // nfds_t nfds (unsigned long)
        "i32", // int timeout (milliseconds)
      ],
      result: "i32",
      // Runs on a blocking-pool thread and returns a Promise; the timeout bounds it.
      nonblocking: true,
    },
  },
  /** A route change resolves an interface name (restore's add). */
  nameToIndex: {
    if_nametoindex: {
      // unsigned int if_nametoindex(const char *ifname)
      parameters: [
        "buffer", // const char *ifname (NUL-terminated)
      ],
      result: "u32",
    },
  },
  /**
   * Only `run` after CMD's exit: /proc, for who is left in CMD's process group. Deno refuses
   * every /proc path without --allow-all (a "NotCapable" error even with --allow-read=/proc), and
   * FFI is native access anyway (lib/permissions.ts), so the few reads go through libc.
   */
  procfs: {
    opendir: {
      // DIR *opendir(const char *name)
      parameters: ["buffer"],
      result: "pointer",
    },
    readdir: {
      // struct dirent *readdir(DIR *dirp): glibc's 64-bit dirent, d_name at offset 19
      parameters: ["pointer"],
      result: "pointer",
    },
    closedir: {
      // int closedir(DIR *dirp)
      parameters: ["pointer"],
      result: "i32",
    },
    open: {
      // int open(const char *pathname, int flags): no O_CREAT, so the variadic mode is not read
      parameters: ["buffer", "i32"],
      result: "i32",
    },
    read: {
      // ssize_t read(int fd, void *buf, size_t count)
      parameters: ["i32", "buffer", "usize"],
      result: "isize",
    },
    close: {
      // int close(int fd)
      parameters: ["i32"],
      result: "i32",
    },
    kill: {
      // int kill(pid_t pid, int sig): sig 0 only asks whether the target exists
      parameters: ["i32", "i32"],
      result: "i32",
    },
    __errno_location: {
      // int *__errno_location(void), bound with the calls whose errno is read
      parameters: [],
      result: "pointer",
    },
  },
  /** A route read names its output interface. */
  indexToName: {
    if_indextoname: {
      // char *if_indextoname(unsigned int ifindex, char *ifname)
      parameters: [
        "u32", // unsigned int ifindex
        "buffer", // char *ifname (IF_NAMESIZE = 16 bytes)
      ],
      result: "pointer",
    },
  },
} as const satisfies Record<string, Deno.ForeignLibraryInterface>;

const libc = {
  request: new SymbolGroup(LIBC_PATH, GROUPS.request),
  monitor: new SymbolGroup(LIBC_PATH, GROUPS.monitor),
  wait: new SymbolGroup(LIBC_PATH, GROUPS.wait),
  nameToIndex: new SymbolGroup(LIBC_PATH, GROUPS.nameToIndex),
  indexToName: new SymbolGroup(LIBC_PATH, GROUPS.indexToName),
  procfs: new SymbolGroup(LIBC_PATH, GROUPS.procfs),
};
/** Open sockets; all groups are unbound together when the last one closes. */
let users = 0;

/** The groups this process has bound so far (for tests: a save must not pay for the monitor). */
export function boundGroups(): string[] {
  return Object.entries(libc).flatMap(([name, group]) => group.isBound ? [name] : []);
}

/** A failed libc call: which syscall, and errno by name ("EPERM") and number. */
export class LibcError extends Error {
  override readonly name = "LibcError";
  constructor(readonly syscall: string, readonly errno: number) {
    super(errno === 0 ? `${syscall} failed` : `${syscall}: ${errnoName(errno)}`);
  }
  get errnoName(): string {
    return errnoName(this.errno);
  }

  /** The call, its errno and what that says: "socket failed with EACCES (permission denied)". */
  describe(): string {
    if (this.errno === 0) return `${this.syscall} failed`;
    const meaning = errnoMeaning(this.errnoName);
    return `${this.syscall} failed with ${this.errnoName}${meaning ? ` (${meaning})` : ""}`;
  }
}

function lastErrno(): number {
  const pointer = libc.request.symbols.__errno_location();
  return pointer ? new Deno.UnsafePointerView(pointer).getInt32(0) : 0;
}

function check(syscall: string, result: number | bigint): number {
  if (Number(result) === -1) throw new LibcError(syscall, lastErrno());
  return Number(result);
}

/**
 * The index of the interface named `name` in this network namespace; 0 when there is none.
 * One ioctl in libc instead of a netlink link dump: restore's add needs only this.
 */
export function interfaceIndex(name: string): number {
  const bytes = new TextEncoder().encode(name);
  if (bytes.length === 0 || bytes.length >= IF_NAMESIZE || bytes.includes(0)) return 0;
  const cString = new Uint8Array(bytes.length + 1);
  cString.set(bytes);
  return libc.nameToIndex.symbols.if_nametoindex(cString);
}

/** The name of interface `index`; null when there is none. */
export function interfaceName(index: number): string | null {
  if (!Number.isInteger(index) || index <= 0 || index > 0xffff_ffff) return null;
  const buffer = new Uint8Array(IF_NAMESIZE);
  if (libc.indexToName.symbols.if_indextoname(index, buffer) === null) return null;
  const end = buffer.indexOf(0);
  return decodeUtf8(buffer.subarray(0, end < 0 ? buffer.length : end));
}

/** struct sockaddr_nl {sa_family_t nl_family; u16 pad; u32 nl_pid; u32 nl_groups} */
function sockaddrNl(groups: number): Uint8Array {
  const address = new Uint8Array(12);
  const view = new DataView(address.buffer);
  view.setUint16(0, AF_NETLINK, true);
  view.setUint32(4, 0, true); // nl_pid 0: the kernel (as destination) / autobind (in bind)
  view.setUint32(8, groups >>> 0, true);
  return address;
}

/**
 * One NETLINK_ROUTE socket. `groups` subscribes to multicast groups (RTMGRP_*) for events;
 * 0 makes a plain request socket.
 */
export class NetlinkSocket implements Disposable {
  readonly fd: number;
  #closed = false;
  #receiveBuffer = new Uint8Array(64 * 1024);

  constructor(groups = 0, receiveBufferBytes = 0) {
    users++;
    try {
      this.fd = check(
        "socket",
        libc.request.symbols.socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE),
      );
    } catch (error) {
      releaseLibrary();
      throw error;
    }
    // A request socket needs no bind: the kernel binds it (autobind, port id = pid for a
    // process's first netlink socket) on its first sendto, exactly as bind with nl_pid 0 would.
    if (groups === 0 && receiveBufferBytes <= 0) return;
    try {
      const symbols = libc.monitor.symbols;
      if (receiveBufferBytes > 0) {
        const value = new Int32Array([receiveBufferBytes]);
        check("setsockopt", symbols.setsockopt(this.fd, SOL_SOCKET, SO_RCVBUF, value, 4));
      }
      const address = sockaddrNl(groups);
      check("bind", symbols.bind(this.fd, address, address.length));
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** The port id the kernel bound this socket to (nlmsg_pid of our requests as it sees them);
   * 0 for a request socket until its first send binds it. */
  portId(): number {
    const address = new Uint8Array(12);
    const length = new Uint32Array([12]);
    check("getsockname", libc.monitor.symbols.getsockname(this.fd, address, length));
    return new DataView(address.buffer).getUint32(4, true);
  }

  /** Send one request to the kernel. */
  send(message: Uint8Array): void {
    const kernel = sockaddrNl(0);
    const sent = check(
      "sendto",
      libc.request.symbols.sendto(
        this.fd,
        message,
        BigInt(message.length),
        0,
        kernel,
        kernel.length,
      ),
    );
    if (sent !== message.length) throw new LibcError("sendto", 5 /* EIO: short write */);
  }

  /** One datagram if one is queued, else null. Never blocks (MSG_DONTWAIT). */
  receiveNow(): Uint8Array | null {
    const buffer = this.#receiveBuffer;
    const result = Number(
      libc.request.symbols.recv(this.fd, buffer, BigInt(buffer.length), MSG_DONTWAIT),
    );
    if (result === -1) {
      const errno = lastErrno();
      if (errno === EAGAIN || errno === EINTR) return null;
      throw new LibcError("recv", errno);
    }
    return buffer.slice(0, result);
  }

  /** Wait up to `timeoutMs` for data; true when readable. The wait runs off the main thread. */
  async readable(timeoutMs: number): Promise<boolean> {
    const pollfd = new Uint8Array(8);
    const view = new DataView(pollfd.buffer);
    view.setInt32(0, this.fd, true);
    view.setInt16(4, POLLIN, true);
    const ready = await libc.wait.symbols.poll(pollfd, 1n, Math.max(0, Math.floor(timeoutMs)));
    // errno of a nonblocking call is another thread's (docs/macos-routing-socket.md §7.4): report
    // poll failures without a name rather than a wrong one.
    if (ready === -1) throw new LibcError("poll", 0);
    return ready > 0 && (view.getInt16(6, true) & POLLIN) !== 0;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    libc.request.symbols.close(this.fd);
    releaseLibrary();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function releaseLibrary(): void {
  users--;
  if (users > 0) return;
  for (const group of Object.values(libc)) group.close();
}

function cString(text: string): Uint8Array {
  return new TextEncoder().encode(`${text}\0`);
}

/** The names in /proc that are process ids. */
function procPids(): number[] {
  const { opendir, readdir, closedir } = libc.procfs.symbols;
  const dir = opendir(cString("/proc"));
  if (dir === null) throw new LibcError("opendir", lastProcErrno());
  const pids: number[] = [];
  try {
    for (let entry = readdir(dir); entry !== null; entry = readdir(dir)) {
      const name = new Deno.UnsafePointerView(entry).getCString(DIRENT_NAME_OFFSET);
      if (/^\d+$/.test(name)) pids.push(Number(name));
    }
  } finally {
    closedir(dir);
  }
  return pids;
}

function lastProcErrno(): number {
  const pointer = libc.procfs.symbols.__errno_location();
  return pointer ? new Deno.UnsafePointerView(pointer).getInt32(0) : 0;
}

const ESRCH = 3;

/** Whether any process is in process group `pgid` (kill(-pgid, 0); EPERM means one exists). */
export function groupExists(pgid: number): boolean {
  if (!Number.isInteger(pgid) || pgid <= 1) return false;
  if (libc.procfs.symbols.kill(-pgid, 0) === 0) return true;
  return lastProcErrno() !== ESRCH;
}

/** A small /proc file's text, or null when it is gone (the process exited). */
export function readProcFile(path: string): string | null {
  const { open, read, close } = libc.procfs.symbols;
  const fd = open(cString(path), O_CLOEXEC);
  if (fd < 0) return null;
  try {
    const buffer = new Uint8Array(4096);
    const n = Number(read(fd, buffer, BigInt(buffer.length)));
    return n < 0 ? null : decodeUtf8(buffer.subarray(0, n));
  } finally {
    close(fd);
  }
}

/** Every live process's /proc/PID/stat line (proc(5)), newest pids first: a process group
 * `run` asks about was made moments ago, so its members are read before they can exit. */
export function procStats(): string[] {
  const stats: string[] = [];
  for (const pid of procPids().sort((a, b) => b - a)) {
    const text = readProcFile(`/proc/${pid}/stat`);
    if (text !== null) stats.push(text);
  }
  return stats;
}
