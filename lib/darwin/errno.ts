/**
 * darwin errno numbers and names (xnu bsd/sys/errno.h; reference §4.4), and what each means for a
 * routing-table operation. darwin numbers differ from Linux above 34 (EAGAIN is 35, not 11), so
 * never compare against Deno's or Linux's numbers: always go through these names.
 */

/** darwin errno values by name (bsd/sys/errno.h). */
export const DARWIN_ERRNO = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  EINTR: 4,
  EIO: 5,
  ENXIO: 6,
  E2BIG: 7,
  EBADF: 9,
  ENOMEM: 12,
  EACCES: 13,
  EFAULT: 14,
  EBUSY: 16,
  EEXIST: 17,
  ENODEV: 19,
  EINVAL: 22,
  EMFILE: 24,
  ENOSPC: 28,
  EPIPE: 32,
  EDOM: 33,
  ERANGE: 34,
  EAGAIN: 35,
  EINPROGRESS: 36,
  EALREADY: 37,
  ENOTSOCK: 38,
  EDESTADDRREQ: 39,
  EMSGSIZE: 40,
  EPROTOTYPE: 41,
  ENOPROTOOPT: 42,
  EPROTONOSUPPORT: 43,
  ESOCKTNOSUPPORT: 44,
  ENOTSUP: 45,
  EPFNOSUPPORT: 46,
  EAFNOSUPPORT: 47,
  EADDRINUSE: 48,
  EADDRNOTAVAIL: 49,
  ENETDOWN: 50,
  ENETUNREACH: 51,
  ENETRESET: 52,
  ECONNABORTED: 53,
  ECONNRESET: 54,
  ENOBUFS: 55,
  EISCONN: 56,
  ENOTCONN: 57,
  ESHUTDOWN: 58,
  ETIMEDOUT: 60,
  ECONNREFUSED: 61,
  EHOSTDOWN: 64,
  EHOSTUNREACH: 65,
  ENOSYS: 78,
  EOVERFLOW: 84,
  EOPNOTSUPP: 102,
} as const;

export type DarwinErrnoName = keyof typeof DARWIN_ERRNO;

const NAME_BY_NUMBER: ReadonlyMap<number, DarwinErrnoName> = new Map(
  (Object.entries(DARWIN_ERRNO) as [DarwinErrnoName, number][]).map(([name, n]) => [n, name]),
);

/** "EEXIST" for 17; "E123" for a number this table does not name (never throws). */
export function errnoName(errno: number): string {
  return NAME_BY_NUMBER.get(errno) ?? `E${errno}`;
}

/**
 * What each errno says, in the words of its comment in xnu bsd/sys/errno.h (which libc's
 * strerror prints), lower-cased to sit inside a sentence.
 */
const ERRNO_TEXT: Readonly<Record<DarwinErrnoName, string>> = {
  EPERM: "operation not permitted",
  ENOENT: "no such file or directory",
  ESRCH: "no such process",
  EINTR: "interrupted system call",
  EIO: "input/output error",
  ENXIO: "device not configured",
  E2BIG: "argument list too long",
  EBADF: "bad file descriptor",
  ENOMEM: "cannot allocate memory",
  EACCES: "permission denied",
  EFAULT: "bad address",
  EBUSY: "device or resource busy",
  EEXIST: "file exists",
  ENODEV: "operation not supported by device",
  EINVAL: "invalid argument",
  EMFILE: "too many open files",
  ENOSPC: "no space left on device",
  EPIPE: "broken pipe",
  EDOM: "numerical argument out of domain",
  ERANGE: "result too large",
  EAGAIN: "resource temporarily unavailable",
  EINPROGRESS: "operation now in progress",
  EALREADY: "operation already in progress",
  ENOTSOCK: "socket operation on non-socket",
  EDESTADDRREQ: "destination address required",
  EMSGSIZE: "message too long",
  EPROTOTYPE: "protocol wrong type for socket",
  ENOPROTOOPT: "protocol not available",
  EPROTONOSUPPORT: "protocol not supported",
  ESOCKTNOSUPPORT: "socket type not supported",
  ENOTSUP: "operation not supported",
  EPFNOSUPPORT: "protocol family not supported",
  EAFNOSUPPORT: "address family not supported by protocol family",
  EADDRINUSE: "address already in use",
  EADDRNOTAVAIL: "can't assign requested address",
  ENETDOWN: "network is down",
  ENETUNREACH: "network is unreachable",
  ENETRESET: "network dropped connection on reset",
  ECONNABORTED: "software caused connection abort",
  ECONNRESET: "connection reset by peer",
  ENOBUFS: "no buffer space available",
  EISCONN: "socket is already connected",
  ENOTCONN: "socket is not connected",
  ESHUTDOWN: "can't send after socket shutdown",
  ETIMEDOUT: "operation timed out",
  ECONNREFUSED: "connection refused",
  EHOSTDOWN: "host is down",
  EHOSTUNREACH: "no route to host",
  ENOSYS: "function not implemented",
  EOVERFLOW: "value too large to be stored in data type",
  EOPNOTSUPP: "operation not supported on socket",
};

/** strerror's words for a darwin errno ("file exists" for 17), or "unknown error N". */
export function errnoText(errno: number): string {
  const name = NAME_BY_NUMBER.get(errno);
  return name ? ERRNO_TEXT[name] : `unknown error ${errno}`;
}

/** A failed system call: the syscall name and the darwin errno name ("write: EEXIST"). */
export class SyscallError extends Error {
  override readonly name = "SyscallError";
  constructor(readonly syscall: string, readonly errno: number, readonly detail?: string) {
    super(`${syscall}: ${errnoName(errno)}${detail ? ` (${detail})` : ""}`);
  }

  /** The call, its errno and what that says: "socket failed with EACCES (permission denied)". */
  describe(): string {
    return `${this.syscall}${this.detail ? ` (${this.detail})` : ""} failed with ${this.code} ` +
      `(${errnoText(this.errno)})`;
  }
  /** The errno name, e.g. "EAGAIN". */
  get code(): string {
    return errnoName(this.errno);
  }
}
