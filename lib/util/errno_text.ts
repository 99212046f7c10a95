/**
 * What an errno says, by its POSIX name, in the words of its comment in xnu bsd/sys/errno.h
 * (which libc's strerror prints on macOS; glibc's wording is close), lower-cased to sit inside a
 * sentence. The names are the same on every platform, the numbers are not: each backend turns
 * its number into a name (lib/darwin/errno.ts, lib/linux/netlink_message.ts) and asks here.
 */
const ERRNO_TEXT: Readonly<Record<string, string>> = {
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

/** The words for an errno name ("EEXIST": "file exists"), or null for a name not listed. */
export function errnoMeaning(name: string): string | null {
  return Object.hasOwn(ERRNO_TEXT, name) ? ERRNO_TEXT[name]! : null;
}
