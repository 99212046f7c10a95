/**
 * Typed errors and the exit codes they map to. Every failure a user can meet ends as one of
 * these, printed as one line by main.ts.
 */

/** Exit codes, documented in `defroute --help` and the README. */
export const ExitCode = {
  OK: 0,
  FAILURE: 1,
  USAGE: 2,
  NEEDS_ROOT: 3,
  NO_GATEWAY: 4,
} as const;
export type ExitCode = typeof ExitCode[keyof typeof ExitCode];

/** What went wrong with a routing-table operation, independent of the OS's errno numbering. */
export type RouteErrorKind =
  /** EEXIST: the route is already there. */
  | "exists"
  /** ESRCH: no such route. */
  | "not-found"
  /** ENETUNREACH: the gateway is on no interface. */
  | "unreachable"
  /** EPERM/EACCES: changing routes needs root. */
  | "needs-root"
  /** EINVAL and friends: the kernel rejected the message. */
  | "invalid"
  /** No reply within the deadline. */
  | "timeout"
  /** The interface named does not exist. */
  | "no-interface"
  /** Anything else (I/O, ENOBUFS, ...). */
  | "io";

/**
 * What an errno (by name; the names are POSIX, the numbers are not) means to a routing-table
 * caller. One table for both kernels: darwin's route_output (docs/macos-routing-socket.md §5.2,
 * "Error summary"; EACCES comes from socket/sysctl for the same reason as EPERM) and Linux
 * rtnetlink (ENOENT for a missing route, ENODEV for a missing interface, ERANGE for a bad table).
 */
export function errorKindOfErrno(name: string): RouteErrorKind {
  switch (name) {
    case "EEXIST":
      return "exists";
    case "ESRCH":
    case "ENOENT":
      return "not-found";
    case "ENETUNREACH":
    case "EHOSTUNREACH":
      return "unreachable";
    case "EPERM":
    case "EACCES":
      return "needs-root";
    case "EINVAL":
    case "ERANGE":
    case "EPROTONOSUPPORT":
    case "EAFNOSUPPORT":
    case "EOPNOTSUPP":
      return "invalid";
    case "ETIMEDOUT":
      return "timeout";
    case "ENXIO":
    case "ENODEV":
      return "no-interface";
    default:
      return "io";
  }
}

/**
 * What an errno means when a system call itself failed (socket, sysctl, send, recv, poll), not
 * the kernel's answer to a route request: only the permission errors say something a caller can
 * act on. The route meanings of errorKindOfErrno must not leak in here: restore takes
 * "not-found" on a delete as "gone already" and would add on top of a table it never saw if a
 * sysctl's ENOENT or a socket's failure were read that way.
 */
export function errorKindOfSyscallErrno(name: string): RouteErrorKind {
  return name === "EPERM" || name === "EACCES" ? "needs-root" : "io";
}

/** A routing-table operation failed. `errno` is the errno *name* ("EEXIST") when there is one. */
export class RouteTableError extends Error {
  override readonly name = "RouteTableError";
  constructor(
    readonly kind: RouteErrorKind,
    message: string,
    readonly errno: string | null = null,
    readonly syscall: string | null = null,
  ) {
    super(message);
  }
}

/** A usage error: bad flag, missing value. Exit 2. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** An error that already knows its exit code and one-line message. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(readonly exitCode: ExitCode, message: string) {
    super(message);
  }
}
