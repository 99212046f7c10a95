/**
 * darwin errno numbers and names (xnu bsd/sys/errno.h; docs/macos-routing-socket.md §4.4), and what
 * each means for a routing-table operation. darwin numbers differ from Linux above 34 (EAGAIN is
 * 35, not 11), so never compare against Deno's or Linux's numbers: always go through these names.
 */

import { errnoMeaning } from "../util/errno_text.ts";

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

/** strerror's words for a darwin errno ("file exists" for 17), or "unknown error N". */
export function errnoText(errno: number): string {
  const name = NAME_BY_NUMBER.get(errno);
  return (name && errnoMeaning(name)) ?? `unknown error ${errno}`;
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
