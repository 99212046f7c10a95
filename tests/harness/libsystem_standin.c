/*
 * A stand-in for macOS's libSystem.B.dylib, for running defroute's real darwin FFI code on Linux.
 *
 * lib/darwin/libsystem.ts dlopen()s this file instead of /usr/lib/libSystem.B.dylib when
 * DEFROUTE_LIBSYSTEM names it. It exports the same symbols with darwin's ABI and constants:
 *
 * - socket(PF_ROUTE=17, SOCK_RAW=3, proto) returns one end of a socketpair(AF_UNIX,
 * SOCK_SEQPACKET),
 *   so read/recv/poll/close work natively and one read returns one whole message, like the routing
 *   socket's PR_ATOMIC (docs/macos-routing-socket.md §5.1). A pthread pumps frames from a stream
 * connection to the
 *   simulated XNU kernel (tests/harness/simulator_main.ts, path in DEFROUTE_SIM_SOCKET) into the
 *   pair. A hello frame carries getpid(), the protocol argument and whether the socket is
 *   unprivileged (DEFROUTE_SIM_UNPRIVILEGED=1: the kernel's SS_PRIV is clear,
 * docs/macos-routing-socket.md §5.1).
 * - write() on such a socket is a synchronous round trip: the kernel queues the echo to every
 *   socket (ours too) BEFORE it answers, so as on darwin the echo is readable when write returns
 *   -1/errno (rtsock.c route_output then flush:).
 * - darwin constants are translated on the way in (SOL_SOCKET 0xffff, SO_RCVBUF 0x1002,
 *   SO_RCVTIMEO 0x1006 with darwin's 16-byte timeval, MSG_DONTWAIT 0x80 ...), and Linux errno
 *   values become darwin's in __error() (EAGAIN 11 -> 35, ENETUNREACH 101 -> 51 ...;
 * docs/macos-routing-socket.md §4.4).
 * - sysctl(CTL_NET, PF_ROUTE, ...) and if_nametoindex/if_indextoname ask the simulator: its
 *   interfaces, not Linux's.
 * - libproc's proc_listpids(PROC_PGRP_ONLY, ...) and proc_name answer from Linux's /proc, with
 *   darwin's calling conventions (bytes needed for a NULL buffer, bytes filled otherwise).
 *
 * Frame format on the simulator connection (tests/harness/sim_protocol.ts has the same numbers):
 * u32 little-endian payload length, u8 kind, payload.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/un.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))

/* Frame kinds: keep in sync with tests/harness/sim_protocol.ts. */
enum {
  FRAME_HELLO = 1,        /* i32 pid, u8 unprivileged, u8 mode (0 routing socket, 1 query), i32 proto */
  FRAME_WRITE = 2,        /* app -> kernel: one routing message */
  FRAME_RESULT = 3,       /* kernel -> app: i32 darwin errno of that write (0 = ok) */
  FRAME_DELIVER = 4,      /* kernel -> app: one message for the socket's receive buffer */
  FRAME_SYSCTL = 5,       /* u32 count, i32 mib[count], u8 want_data */
  FRAME_SYSCTL_REPLY = 6, /* i32 darwin errno, bytes */
  FRAME_NAMETOINDEX = 7,  /* name bytes */
  FRAME_INDEXTONAME = 9,  /* u32 index */
  FRAME_NAME_REPLY = 10,  /* u32 index, name bytes (index 0 = no such interface) */
};

#define DARWIN_PF_ROUTE 17
#define DARWIN_SOL_SOCKET 0xffff
#define DARWIN_SO_USELOOPBACK 0x0040
#define DARWIN_SO_SNDBUF 0x1001
#define DARWIN_SO_RCVBUF 0x1002
#define DARWIN_SO_SNDTIMEO 0x1005
#define DARWIN_SO_RCVTIMEO 0x1006
#define DARWIN_MSG_PEEK 0x2
#define DARWIN_MSG_TRUNC 0x10
#define DARWIN_MSG_WAITALL 0x40
#define DARWIN_MSG_DONTWAIT 0x80
#define DARWIN_CTL_NET 4

/* The real libc functions: our exported names shadow them for the app, so fetch them explicitly. */
static int (*real_socket)(int, int, int);
static ssize_t (*real_read)(int, void *, size_t);
static ssize_t (*real_write)(int, const void *, size_t);
static ssize_t (*real_recv)(int, void *, size_t, int);
static int (*real_close)(int);
static int (*real_poll)(struct pollfd *, nfds_t, int);
static int (*real_setsockopt)(int, int, int, const void *, socklen_t);
static int (*real_getsockopt)(int, int, int, void *, socklen_t *);
static pid_t (*real_getpid)(void);

static pthread_once_t resolve_once = PTHREAD_ONCE_INIT;

static void resolve_real(void) {
  void *libc = dlopen("libc.so.6", RTLD_LAZY | RTLD_NOLOAD);
  if (!libc) libc = dlopen("libc.so.6", RTLD_LAZY);
  if (!libc) {
    fprintf(stderr, "libsystem_standin: cannot open libc.so.6: %s\n", dlerror());
    abort();
  }
  real_socket = (int (*)(int, int, int))dlsym(libc, "socket");
  real_read = (ssize_t (*)(int, void *, size_t))dlsym(libc, "read");
  real_write = (ssize_t (*)(int, const void *, size_t))dlsym(libc, "write");
  real_recv = (ssize_t (*)(int, void *, size_t, int))dlsym(libc, "recv");
  real_close = (int (*)(int))dlsym(libc, "close");
  real_poll = (int (*)(struct pollfd *, nfds_t, int))dlsym(libc, "poll");
  real_setsockopt =
      (int (*)(int, int, int, const void *, socklen_t))dlsym(libc, "setsockopt");
  real_getsockopt = (int (*)(int, int, int, void *, socklen_t *))dlsym(libc, "getsockopt");
  real_getpid = (pid_t (*)(void))dlsym(libc, "getpid");
}
#define RESOLVE() pthread_once(&resolve_once, resolve_real)

/* ---- errno translation (docs/macos-routing-socket.md §4.4) ---- */

static const int errno_pairs[][2] = {
    /* linux, darwin */
    {EAGAIN, 35},          {EINPROGRESS, 36},     {EALREADY, 37},     {ENOTSOCK, 38},
    {EDESTADDRREQ, 39},    {EMSGSIZE, 40},        {EPROTOTYPE, 41},   {ENOPROTOOPT, 42},
    {EPROTONOSUPPORT, 43}, {ESOCKTNOSUPPORT, 44}, {EOPNOTSUPP, 102},  {EPFNOSUPPORT, 46},
    {EAFNOSUPPORT, 47},    {EADDRINUSE, 48},      {EADDRNOTAVAIL, 49}, {ENETDOWN, 50},
    {ENETUNREACH, 51},     {ENETRESET, 52},       {ECONNABORTED, 53}, {ECONNRESET, 54},
    {ENOBUFS, 55},         {EISCONN, 56},         {ENOTCONN, 57},     {ESHUTDOWN, 58},
    {ETIMEDOUT, 60},       {ECONNREFUSED, 61},    {ELOOP, 62},        {ENAMETOOLONG, 63},
    {EHOSTDOWN, 64},       {EHOSTUNREACH, 65},    {ENOTEMPTY, 66},    {ENOSYS, 78},
    {EOVERFLOW, 84},       {ECANCELED, 89},       {EIDRM, 90},        {ENOMSG, 91},
    {EILSEQ, 92},          {EBADMSG, 94},         {EPROTO, 100},      {ETIME, 101},
};
#define ERRNO_PAIRS (sizeof(errno_pairs) / sizeof(errno_pairs[0]))

static int linux_to_darwin(int e) {
  for (size_t i = 0; i < ERRNO_PAIRS; i++)
    if (errno_pairs[i][0] == e) return errno_pairs[i][1];
  return e; /* 1..34 are the same on both (EPERM, ESRCH, EEXIST, EINVAL, EACCES, ...) */
}

static int darwin_to_linux(int e) {
  for (size_t i = 0; i < ERRNO_PAIRS; i++)
    if (errno_pairs[i][1] == e) return errno_pairs[i][0];
  return e;
}

static __thread int darwin_errno;

/* darwin's errno accessor. It reads the thread's current (Linux) errno at call time, so the
 * caller must call it right after the failing call on the same thread, as on darwin (§7.4). */
EXPORT int *__error(void) {
  darwin_errno = linux_to_darwin(errno);
  return &darwin_errno;
}

/* ---- frames ---- */

static int write_all(int fd, const void *buf, size_t len) {
  const uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int read_all(int fd, void *buf, size_t len) {
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = real_read(fd, p, len);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (n == 0) {
      errno = EPIPE;
      return -1;
    }
    p += n;
    len -= (size_t)n;
  }
  return 0;
}

static int send_frame(int fd, uint8_t kind, const void *a, size_t alen, const void *b,
                      size_t blen) {
  uint8_t head[5];
  uint32_t len = (uint32_t)(alen + blen);
  memcpy(head, &len, 4); /* little-endian hosts only (x86_64, aarch64) */
  head[4] = kind;
  if (write_all(fd, head, 5) < 0) return -1;
  if (alen && write_all(fd, a, alen) < 0) return -1;
  if (blen && write_all(fd, b, blen) < 0) return -1;
  return 0;
}

/* Reads one frame; *payload is malloc'd (caller frees). */
static int recv_frame(int fd, uint8_t *kind, uint8_t **payload, uint32_t *len) {
  uint8_t head[5];
  if (read_all(fd, head, 5) < 0) return -1;
  memcpy(len, head, 4);
  *kind = head[4];
  *payload = malloc(*len ? *len : 1);
  if (!*payload) return -1;
  if (*len && read_all(fd, *payload, *len) < 0) {
    free(*payload);
    return -1;
  }
  return 0;
}

static int connect_sim(uint8_t mode, int proto) {
  const char *path = getenv("DEFROUTE_SIM_SOCKET");
  if (!path || !*path) {
    errno = ENOENT;
    return -1;
  }
  int fd = real_socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  struct sockaddr_un sun;
  memset(&sun, 0, sizeof sun);
  sun.sun_family = AF_UNIX;
  strncpy(sun.sun_path, path, sizeof sun.sun_path - 1);
  if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
    int e = errno;
    real_close(fd);
    errno = e;
    return -1;
  }
  const char *unpriv = getenv("DEFROUTE_SIM_UNPRIVILEGED");
  uint8_t hello[10];
  int32_t pid = (int32_t)real_getpid();
  int32_t p = proto;
  memcpy(hello, &pid, 4);
  hello[4] = (unpriv && strcmp(unpriv, "1") == 0) ? 1 : 0;
  hello[5] = mode;
  memcpy(hello + 6, &p, 4);
  if (send_frame(fd, FRAME_HELLO, hello, sizeof hello, NULL, 0) < 0) {
    int e = errno;
    real_close(fd);
    errno = e;
    return -1;
  }
  return fd;
}

/* ---- routing sockets ---- */

#define MAX_ROUTE_SOCKETS 64

struct route_socket {
  int used;
  int app_fd;   /* the end the application holds */
  int inner_fd; /* the end the pump writes kernel messages into */
  int sim_fd;   /* stream connection to the simulator */
  pthread_t pump;
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int result_ready;
  int result_errno; /* darwin numbering */
  int dead;
  unsigned long dropped;
};

static struct route_socket sockets[MAX_ROUTE_SOCKETS];
static pthread_mutex_t sockets_lock = PTHREAD_MUTEX_INITIALIZER;

static struct route_socket *find_socket(int fd) {
  struct route_socket *found = NULL;
  pthread_mutex_lock(&sockets_lock);
  for (int i = 0; i < MAX_ROUTE_SOCKETS; i++)
    if (sockets[i].used && sockets[i].app_fd == fd) found = &sockets[i];
  pthread_mutex_unlock(&sockets_lock);
  return found;
}

static void *pump_main(void *arg) {
  struct route_socket *rs = arg;
  for (;;) {
    uint8_t kind;
    uint8_t *payload;
    uint32_t len;
    if (recv_frame(rs->sim_fd, &kind, &payload, &len) < 0) break;
    if (kind == FRAME_DELIVER) {
      /* The kernel drops a message silently when the receive buffer is full (raw_input,
       * docs/macos-routing-socket.md §4.6); MSG_DONTWAIT plus dropping models exactly that. */
      ssize_t n = send(rs->inner_fd, payload, len, MSG_DONTWAIT | MSG_NOSIGNAL);
      if (n < 0) rs->dropped++;
    } else if (kind == FRAME_RESULT && len >= 4) {
      int32_t e;
      memcpy(&e, payload, 4);
      pthread_mutex_lock(&rs->lock);
      rs->result_errno = e;
      rs->result_ready = 1;
      pthread_cond_broadcast(&rs->cond);
      pthread_mutex_unlock(&rs->lock);
    }
    free(payload);
  }
  pthread_mutex_lock(&rs->lock);
  rs->dead = 1;
  pthread_cond_broadcast(&rs->cond);
  pthread_mutex_unlock(&rs->lock);
  /* The kernel went away: let readers see EOF. */
  shutdown(rs->inner_fd, SHUT_WR);
  return NULL;
}

static int open_route_socket(int proto) {
  int pair[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, pair) < 0) return -1;
  int sim = connect_sim(0, proto);
  if (sim < 0) {
    int e = errno;
    real_close(pair[0]);
    real_close(pair[1]);
    /* A missing simulator looks like a kernel without the protocol. */
    errno = (e == ENOENT || e == ECONNREFUSED) ? EPROTONOSUPPORT : e;
    return -1;
  }
  pthread_mutex_lock(&sockets_lock);
  struct route_socket *rs = NULL;
  for (int i = 0; i < MAX_ROUTE_SOCKETS; i++)
    if (!sockets[i].used) {
      rs = &sockets[i];
      break;
    }
  if (!rs) {
    pthread_mutex_unlock(&sockets_lock);
    real_close(pair[0]);
    real_close(pair[1]);
    real_close(sim);
    errno = EMFILE;
    return -1;
  }
  memset(rs, 0, sizeof *rs);
  rs->used = 1;
  rs->app_fd = pair[0];
  rs->inner_fd = pair[1];
  rs->sim_fd = sim;
  pthread_mutex_init(&rs->lock, NULL);
  pthread_cond_init(&rs->cond, NULL);
  /* The routing socket's default buffer is 8192 bytes (RAWRCVQ, docs/macos-routing-socket.md
   * §4.6); a SEQPACKET pair counts whole skbs against the sender, so use a few times that for a
   * similar message count. */
  int size = 8192 * 4;
  real_setsockopt(rs->inner_fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
  if (pthread_create(&rs->pump, NULL, pump_main, rs) != 0) {
    rs->used = 0;
    pthread_mutex_unlock(&sockets_lock);
    real_close(pair[0]);
    real_close(pair[1]);
    real_close(sim);
    errno = EAGAIN;
    return -1;
  }
  pthread_mutex_unlock(&sockets_lock);
  return rs->app_fd;
}

/* int socket(int domain, int type, int protocol) */
EXPORT int socket(int domain, int type, int protocol) {
  RESOLVE();
  if (domain == DARWIN_PF_ROUTE) return open_route_socket(protocol);
  /* Other families pass through; darwin's AF_INET(2)/SOCK_STREAM(1)/SOCK_DGRAM(2) match Linux. */
  return real_socket(domain, type, protocol);
}

/* ssize_t write(int fd, const void *buf, size_t nbyte) */
EXPORT ssize_t write(int fd, const void *buf, size_t len) {
  RESOLVE();
  struct route_socket *rs = find_socket(fd);
  if (!rs) return real_write(fd, buf, len);
  pthread_mutex_lock(&rs->lock);
  rs->result_ready = 0;
  int dead = rs->dead;
  pthread_mutex_unlock(&rs->lock);
  if (dead || send_frame(rs->sim_fd, FRAME_WRITE, buf, len, NULL, 0) < 0) {
    errno = ENOBUFS;
    return -1;
  }
  pthread_mutex_lock(&rs->lock);
  while (!rs->result_ready && !rs->dead) pthread_cond_wait(&rs->cond, &rs->lock);
  int ready = rs->result_ready;
  int e = rs->result_errno;
  pthread_mutex_unlock(&rs->lock);
  if (!ready) {
    errno = ENOBUFS;
    return -1;
  }
  if (e != 0) {
    errno = darwin_to_linux(e);
    return -1;
  }
  return (ssize_t)len;
}

/* ssize_t read(int fd, void *buf, size_t nbyte) */
EXPORT ssize_t read(int fd, void *buf, size_t len) {
  RESOLVE();
  return real_read(fd, buf, len);
}

static int translate_msg_flags(int flags) {
  int out = 0;
  if (flags & DARWIN_MSG_PEEK) out |= MSG_PEEK;
  if (flags & DARWIN_MSG_TRUNC) out |= MSG_TRUNC;
  if (flags & DARWIN_MSG_WAITALL) out |= MSG_WAITALL;
  if (flags & DARWIN_MSG_DONTWAIT) out |= MSG_DONTWAIT;
  if (flags & 0x1) out |= MSG_OOB;
  return out;
}

/* ssize_t recv(int socket, void *buffer, size_t length, int flags) */
EXPORT ssize_t recv(int fd, void *buf, size_t len, int flags) {
  RESOLVE();
  return real_recv(fd, buf, len, translate_msg_flags(flags));
}

/* int close(int fildes) */
EXPORT int close(int fd) {
  RESOLVE();
  struct route_socket *rs = find_socket(fd);
  if (!rs) return real_close(fd);
  shutdown(rs->sim_fd, SHUT_RDWR); /* wakes the pump out of its read */
  pthread_join(rs->pump, NULL);
  real_close(rs->sim_fd);
  real_close(rs->inner_fd);
  int r = real_close(rs->app_fd);
  pthread_mutex_destroy(&rs->lock);
  pthread_cond_destroy(&rs->cond);
  pthread_mutex_lock(&sockets_lock);
  rs->used = 0;
  pthread_mutex_unlock(&sockets_lock);
  return r;
}

/* int poll(struct pollfd fds[], nfds_t nfds, int timeout): darwin's pollfd and POLL* bits equal
 * Linux's (docs/macos-routing-socket.md §4.3); nfds_t is unsigned int on darwin. */
EXPORT int poll(struct pollfd *fds, nfds_t nfds, int timeout) {
  RESOLVE();
  /* darwin's nfds_t is 32 bits: the caller may leave garbage in the register's upper half. */
  return real_poll(fds, (nfds_t)(unsigned int)nfds, timeout);
}

static int translate_sockopt(int *level, int *name) {
  if (*level != DARWIN_SOL_SOCKET) return 0; /* IPPROTO_* levels are the same numbers */
  *level = SOL_SOCKET;
  switch (*name) {
  case DARWIN_SO_SNDBUF: *name = SO_SNDBUF; return 0;
  case DARWIN_SO_RCVBUF: *name = SO_RCVBUF; return 0;
  case DARWIN_SO_SNDTIMEO: *name = SO_SNDTIMEO; return 0;
  case DARWIN_SO_RCVTIMEO: *name = SO_RCVTIMEO; return 0;
  case DARWIN_SO_USELOOPBACK: *name = -1; return 0; /* accepted, no Linux equivalent */
  default: errno = ENOPROTOOPT; return -1;
  }
}

/* int setsockopt(int socket, int level, int option_name, const void *option_value,
 *                socklen_t option_len) */
EXPORT int setsockopt(int fd, int level, int name, const void *value, unsigned int len) {
  RESOLVE();
  int is_timeo = level == DARWIN_SOL_SOCKET &&
                 (name == DARWIN_SO_RCVTIMEO || name == DARWIN_SO_SNDTIMEO);
  if (translate_sockopt(&level, &name) < 0) return -1;
  if (name == -1) return 0;
  if (is_timeo) {
    /* darwin LP64 timeval: i64 tv_sec, i32 tv_usec, 4 bytes pad; the kernel wants >= 16 bytes and
     * a valid range (sooptcopyin_timeval, docs/macos-routing-socket.md §4.5). */
    if (len < 16) {
      errno = EINVAL;
      return -1;
    }
    int64_t sec;
    int32_t usec;
    memcpy(&sec, value, 8);
    memcpy(&usec, (const uint8_t *)value + 8, 4);
    if (sec < 0 || usec < 0 || usec >= 1000000) {
      errno = EDOM;
      return -1;
    }
    struct timeval tv = {.tv_sec = (time_t)sec, .tv_usec = usec};
    return real_setsockopt(fd, level, name, &tv, sizeof tv);
  }
  int r = real_setsockopt(fd, level, name, value, len);
  struct route_socket *rs = r == 0 && name == SO_RCVBUF ? find_socket(fd) : NULL;
  if (rs && len >= sizeof(int)) {
    /* In a socketpair the queued bytes count against the sending end: mirror the size there. */
    real_setsockopt(rs->inner_fd, SOL_SOCKET, SO_SNDBUF, value, len);
  }
  return r;
}

/* int getsockopt(int socket, int level, int option_name, void *option_value,
 *                socklen_t *option_len) */
EXPORT int getsockopt(int fd, int level, int name, void *value, unsigned int *len) {
  RESOLVE();
  if (level == DARWIN_SOL_SOCKET && (name == DARWIN_SO_RCVTIMEO || name == DARWIN_SO_SNDTIMEO)) {
    errno = ENOPROTOOPT; /* not needed by defroute; refuse rather than return Linux's layout */
    return -1;
  }
  if (translate_sockopt(&level, &name) < 0) return -1;
  if (name == -1) {
    if (*len >= sizeof(int)) *(int *)value = 1;
    return 0;
  }
  socklen_t l = *len;
  int r = real_getsockopt(fd, level, name, value, &l);
  *len = l;
  return r;
}

/* ---- questions for the simulator: sysctl and interface names ---- */

static int query(uint8_t kind, const void *a, size_t alen, const void *b, size_t blen,
                 uint8_t **reply, uint32_t *reply_len) {
  int fd = connect_sim(1, 0);
  if (fd < 0) return -1;
  uint8_t rkind;
  int r = send_frame(fd, kind, a, alen, b, blen);
  if (r == 0) r = recv_frame(fd, &rkind, reply, reply_len);
  int e = errno;
  real_close(fd);
  errno = e;
  return r;
}

/* int sysctl(int *name, u_int namelen, void *oldp, size_t *oldlenp, void *newp, size_t newlen) */
EXPORT int sysctl(int *name, unsigned int namelen, void *oldp, size_t *oldlenp, void *newp,
                  size_t newlen) {
  RESOLVE();
  (void)newp;
  if (namelen < 2 || namelen > 12 || name[0] != DARWIN_CTL_NET || name[1] != DARWIN_PF_ROUTE) {
    errno = ENOENT;
    return -1;
  }
  if (newlen != 0) {
    errno = EPERM;
    return -1;
  }
  uint8_t head[4 + 4 * 12 + 1];
  uint32_t count = namelen;
  memcpy(head, &count, 4);
  memcpy(head + 4, name, 4 * namelen);
  head[4 + 4 * namelen] = oldp != NULL;
  uint8_t *reply;
  uint32_t len;
  if (query(FRAME_SYSCTL, head, 5 + 4 * namelen, NULL, 0, &reply, &len) < 0) {
    errno = ENOENT;
    return -1;
  }
  int32_t e = 0;
  if (len >= 4) memcpy(&e, reply, 4);
  size_t data_len = len >= 4 ? len - 4 : 0;
  int r = 0;
  if (e != 0) {
    errno = darwin_to_linux(e);
    r = -1;
  } else if (oldp == NULL) {
    *oldlenp = data_len; /* the size estimate of a first call */
  } else if (*oldlenp < data_len) {
    errno = ENOMEM;
    r = -1;
  } else {
    memcpy(oldp, reply + 4, data_len);
    *oldlenp = data_len;
  }
  free(reply);
  return r;
}

/* unsigned int if_nametoindex(const char *ifname) */
EXPORT unsigned int if_nametoindex(const char *ifname) {
  RESOLVE();
  uint8_t *reply;
  uint32_t len;
  if (query(FRAME_NAMETOINDEX, ifname, strlen(ifname), NULL, 0, &reply, &len) < 0) return 0;
  uint32_t index = 0;
  if (len >= 4) memcpy(&index, reply, 4);
  free(reply);
  if (index == 0) errno = ENXIO;
  return index;
}

/* char *if_indextoname(unsigned int ifindex, char *ifname): ifname holds IF_NAMESIZE (16) bytes */
EXPORT char *if_indextoname(unsigned int ifindex, char *ifname) {
  RESOLVE();
  uint8_t *reply;
  uint32_t len;
  uint32_t idx = ifindex;
  if (query(FRAME_INDEXTONAME, &idx, 4, NULL, 0, &reply, &len) < 0) return NULL;
  uint32_t index = 0;
  if (len >= 4) memcpy(&index, reply, 4);
  size_t name_len = len >= 4 ? len - 4 : 0;
  char *out = NULL;
  if (index != 0 && name_len < 16) {
    memcpy(ifname, reply + 4, name_len);
    ifname[name_len] = 0;
    out = ifname;
  } else {
    errno = ENXIO;
  }
  free(reply);
  return out;
}

/* pid_t getpid(void) */
EXPORT int getpid(void) {
  RESOLVE();
  return (int)real_getpid();
}

/* ---- libproc (libproc.h), from /proc ---- */

#define DARWIN_PROC_PGRP_ONLY 2

/* Fills pgrp and state from /proc/PID/stat ("pid (comm) state ppid pgrp ..."); -1 if gone. */
static int proc_stat(int pid, int *pgrp, char *state) {
  char path[64], text[1024];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  FILE *file = fopen(path, "re");
  if (!file) return -1;
  size_t n = fread(text, 1, sizeof text - 1, file);
  fclose(file);
  text[n] = 0;
  char *close_paren = strrchr(text, ')');
  if (!close_paren || sscanf(close_paren + 1, " %c %*d %d", state, pgrp) != 2) return -1;
  return 0;
}

/* int proc_listpids(uint32_t type, uint32_t typeinfo, void *buffer, int buffersize): only
 * PROC_PGRP_ONLY. Zombies are left out here; darwin may list them (harsher on the caller, whose
 * wait then runs to its deadline: the simulated Mac is not kinder for it). */
EXPORT int proc_listpids(uint32_t type, uint32_t typeinfo, void *buffer, int buffersize) {
  if (type != DARWIN_PROC_PGRP_ONLY) {
    errno = EINVAL;
    return -1;
  }
  DIR *proc = opendir("/proc");
  if (!proc) return -1;
  int count = 0, capacity = buffer ? buffersize / (int)sizeof(int) : 0;
  struct dirent *entry;
  while ((entry = readdir(proc)) != NULL) {
    char *end;
    long pid = strtol(entry->d_name, &end, 10);
    if (*end != 0 || pid <= 0) continue;
    int pgrp;
    char state;
    if (proc_stat((int)pid, &pgrp, &state) < 0 || pgrp != (int)typeinfo || state == 'Z') continue;
    if (buffer && count < capacity) ((int *)buffer)[count] = (int)pid;
    count++;
  }
  closedir(proc);
  /* NULL buffer: the bytes needed, with room for a few more, as the kernel's estimate does. */
  if (!buffer) return (count + 20) * (int)sizeof(int);
  return (count < capacity ? count : capacity) * (int)sizeof(int);
}

/* int proc_name(int pid, void *buffer, uint32_t buffersize): the short name, not terminated
 * when it fills the buffer; returns its length, 0 when the process is gone. */
EXPORT int proc_name(int pid, void *buffer, uint32_t buffersize) {
  char path[64], name[64];
  snprintf(path, sizeof path, "/proc/%d/comm", pid);
  FILE *file = fopen(path, "re");
  if (!file) return 0;
  size_t n = fread(name, 1, sizeof name - 1, file);
  fclose(file);
  while (n > 0 && name[n - 1] == '\n') n--;
  if (n > buffersize) n = buffersize;
  memcpy(buffer, name, n);
  if (n < buffersize) ((char *)buffer)[n] = 0;
  return (int)n;
}
