/**
 * Darwin routing-socket constants, with the values of xnu bsd/net/route.h, bsd/net/if.h and
 * bsd/sys/socket.h as tabulated in docs/macos-routing-socket.md §2, §1.4 and §4.1 (x/sys
 * zerrors_darwin_arm64.go has the same values). Pure data: no Deno.* here.
 */

/** route.h line 192; route_output answers EPROTONOSUPPORT for anything else
 * (docs/macos-routing-socket.md §1.5). */
export const RTM_VERSION = 5;

// Message types, rtm_type (docs/macos-routing-socket.md §2.1).
export const RTM_ADD = 0x1;
export const RTM_DELETE = 0x2;
export const RTM_CHANGE = 0x3;
export const RTM_GET = 0x4;
export const RTM_LOSING = 0x5;
export const RTM_REDIRECT = 0x6;
export const RTM_MISS = 0x7;
export const RTM_LOCK = 0x8;
export const RTM_OLDADD = 0x9;
export const RTM_OLDDEL = 0xa;
export const RTM_RESOLVE = 0xb;
export const RTM_NEWADDR = 0xc;
export const RTM_DELADDR = 0xd;
export const RTM_IFINFO = 0xe;
export const RTM_NEWMADDR = 0xf;
export const RTM_DELMADDR = 0x10;
/** Private (route_private.h): answered as RTM_GET to the sender only. */
export const RTM_GET_SILENT = 0x11;
export const RTM_IFINFO2 = 0x12;
export const RTM_NEWMADDR2 = 0x13;
export const RTM_GET2 = 0x14;
/** Private, sysctl only, with struct rt_msghdr_ext (not decoded here). */
export const RTM_GET_EXT = 0x15;

/** rtm_type -> name, for logs and `--json` output. */
export const RTM_NAMES: Readonly<Record<number, string>> = {
  [RTM_ADD]: "RTM_ADD",
  [RTM_DELETE]: "RTM_DELETE",
  [RTM_CHANGE]: "RTM_CHANGE",
  [RTM_GET]: "RTM_GET",
  [RTM_LOSING]: "RTM_LOSING",
  [RTM_REDIRECT]: "RTM_REDIRECT",
  [RTM_MISS]: "RTM_MISS",
  [RTM_LOCK]: "RTM_LOCK",
  [RTM_OLDADD]: "RTM_OLDADD",
  [RTM_OLDDEL]: "RTM_OLDDEL",
  [RTM_RESOLVE]: "RTM_RESOLVE",
  [RTM_NEWADDR]: "RTM_NEWADDR",
  [RTM_DELADDR]: "RTM_DELADDR",
  [RTM_IFINFO]: "RTM_IFINFO",
  [RTM_NEWMADDR]: "RTM_NEWMADDR",
  [RTM_DELMADDR]: "RTM_DELMADDR",
  [RTM_GET_SILENT]: "RTM_GET_SILENT",
  [RTM_IFINFO2]: "RTM_IFINFO2",
  [RTM_NEWMADDR2]: "RTM_NEWMADDR2",
  [RTM_GET2]: "RTM_GET2",
  [RTM_GET_EXT]: "RTM_GET_EXT",
};

// Address bits, rtm_addrs (docs/macos-routing-socket.md §2.2). Sockaddrs follow the header in
// increasing bit order.
export const RTA_DST = 0x1;
export const RTA_GATEWAY = 0x2;
export const RTA_NETMASK = 0x4;
export const RTA_GENMASK = 0x8;
export const RTA_IFP = 0x10;
export const RTA_IFA = 0x20;
export const RTA_AUTHOR = 0x40;
export const RTA_BRD = 0x80;

export const RTAX_DST = 0;
export const RTAX_GATEWAY = 1;
export const RTAX_NETMASK = 2;
export const RTAX_GENMASK = 3;
export const RTAX_IFP = 4;
export const RTAX_IFA = 5;
export const RTAX_AUTHOR = 6;
export const RTAX_BRD = 7;
export const RTAX_MAX = 8;

// Route flags, rtm_flags (docs/macos-routing-socket.md §2.3).
export const RTF_UP = 0x1;
export const RTF_GATEWAY = 0x2;
export const RTF_HOST = 0x4;
export const RTF_REJECT = 0x8;
export const RTF_DYNAMIC = 0x10;
export const RTF_MODIFIED = 0x20;
export const RTF_DONE = 0x40;
export const RTF_DELCLONE = 0x80;
export const RTF_CLONING = 0x100;
export const RTF_XRESOLVE = 0x200;
export const RTF_LLINFO = 0x400;
/** Same bit as RTF_LLINFO. */
export const RTF_LLDATA = 0x400;
export const RTF_STATIC = 0x800;
export const RTF_BLACKHOLE = 0x1000;
export const RTF_NOIFREF = 0x2000;
export const RTF_PROTO2 = 0x4000;
export const RTF_PROTO1 = 0x8000;
export const RTF_PRCLONING = 0x10000;
export const RTF_WASCLONED = 0x20000;
export const RTF_PROTO3 = 0x40000;
export const RTF_PINNED = 0x100000;
export const RTF_LOCAL = 0x200000;
export const RTF_BROADCAST = 0x400000;
export const RTF_MULTICAST = 0x800000;
export const RTF_IFSCOPE = 0x1000000;
export const RTF_CONDEMNED = 0x2000000;
export const RTF_IFREF = 0x4000000;
/** route_output rejects it from users with EINVAL (rtsock.c line 520). */
export const RTF_PROXY = 0x8000000;
export const RTF_ROUTER = 0x10000000;
export const RTF_DEAD = 0x20000000;
/** Stripped from user requests on release kernels; kernel-reported routes may carry it. */
export const RTF_GLOBAL = 0x40000000;
export const RTPRF_OURS = RTF_PROTO3;

/** Flag names in bit order, spelled as route(8) prints them (`<UP,GATEWAY,DONE,STATIC>`). */
export const RTF_NAMES: readonly (readonly [number, string])[] = [
  [RTF_UP, "UP"],
  [RTF_GATEWAY, "GATEWAY"],
  [RTF_HOST, "HOST"],
  [RTF_REJECT, "REJECT"],
  [RTF_DYNAMIC, "DYNAMIC"],
  [RTF_MODIFIED, "MODIFIED"],
  [RTF_DONE, "DONE"],
  [RTF_DELCLONE, "DELCLONE"],
  [RTF_CLONING, "CLONING"],
  [RTF_XRESOLVE, "XRESOLVE"],
  [RTF_LLINFO, "LLINFO"],
  [RTF_STATIC, "STATIC"],
  [RTF_BLACKHOLE, "BLACKHOLE"],
  [RTF_NOIFREF, "NOIFREF"],
  [RTF_PROTO2, "PROTO2"],
  [RTF_PROTO1, "PROTO1"],
  [RTF_PRCLONING, "PRCLONING"],
  [RTF_WASCLONED, "WASCLONED"],
  [RTF_PROTO3, "PROTO3"],
  [RTF_PINNED, "PINNED"],
  [RTF_LOCAL, "LOCAL"],
  [RTF_BROADCAST, "BROADCAST"],
  [RTF_MULTICAST, "MULTICAST"],
  [RTF_IFSCOPE, "IFSCOPE"],
  [RTF_CONDEMNED, "CONDEMNED"],
  [RTF_IFREF, "IFREF"],
  [RTF_PROXY, "PROXY"],
  [RTF_ROUTER, "ROUTER"],
  [RTF_DEAD, "DEAD"],
  [RTF_GLOBAL, "GLOBAL"],
];

/** `0x803` -> `"UP,GATEWAY,STATIC"`; unknown bits are shown as hex. */
export function routeFlagNames(flags: number): string {
  const names: string[] = [];
  let rest = flags >>> 0;
  for (const [bit, name] of RTF_NAMES) {
    if (rest & bit) {
      names.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0) names.push(`0x${rest.toString(16)}`);
  return names.join(",");
}

// Metric bits, rtm_inits / rmx_locks (docs/macos-routing-socket.md §2.4).
export const RTV_MTU = 0x1;
export const RTV_HOPCOUNT = 0x2;
export const RTV_EXPIRE = 0x4;
export const RTV_RPIPE = 0x8;
export const RTV_SPIPE = 0x10;
export const RTV_SSTHRESH = 0x20;
export const RTV_RTT = 0x40;
export const RTV_RTTVAR = 0x80;
/** Private. */
export const RTV_REFRESH_HOST = 0x100;

// Address families (docs/macos-routing-socket.md §4.1). sa_family_t is one byte on darwin.
export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_ROUTE = 17;
export const AF_LINK = 18;
export const AF_INET6 = 30;
export const AF_SYSTEM = 32;
export const AF_MAX = 41;
export const PF_ROUTE = AF_ROUTE;

// Interface flags (bsd/net/if.h). RTM_IFINFO carries (u_short)if_flags in ifm_flags (rtsock.c
// rt_ifmsg, docs/macos-routing-socket.md §1.4).
export const IFF_UP = 0x1;
export const IFF_BROADCAST = 0x2;
export const IFF_DEBUG = 0x4;
export const IFF_LOOPBACK = 0x8;
export const IFF_POINTOPOINT = 0x10;
export const IFF_NOTRAILERS = 0x20;
export const IFF_RUNNING = 0x40;
export const IFF_NOARP = 0x80;
export const IFF_PROMISC = 0x100;
export const IFF_ALLMULTI = 0x200;
export const IFF_OACTIVE = 0x400;
export const IFF_SIMPLEX = 0x800;
export const IFF_LINK0 = 0x1000;
export const IFF_LINK1 = 0x2000;
export const IFF_LINK2 = 0x4000;
export const IFF_MULTICAST = 0x8000;

// Interface types (ifi_type / sdl_type, bsd/net/if_types.h), the ones defroute meets.
export const IFT_OTHER = 0x1;
export const IFT_ETHER = 0x6;
export const IFT_PPP = 0x17;
export const IFT_LOOP = 0x18;
export const IFT_GIF = 0x37;
export const IFT_STF = 0x39;
export const IFT_CELLULAR = 0xff;

// sysctl MIB for dumps (docs/macos-routing-socket.md §1.3, §4.2): {CTL_NET, PF_ROUTE, 0, af,
// NET_RT_*, arg}.
export const CTL_NET = 4;
export const NET_RT_DUMP = 1;
export const NET_RT_FLAGS = 2;
export const NET_RT_IFLIST = 3;
export const NET_RT_STAT = 4;
export const NET_RT_TRASH = 5;
export const NET_RT_IFLIST2 = 6;
export const NET_RT_DUMP2 = 7;

// Header sizes (docs/macos-routing-socket.md §1, §8: x/sys ztypes_darwin_{amd64,arm64}.go agree).
export const SIZEOF_RT_MSGHDR = 92;
export const SIZEOF_RT_MSGHDR2 = 92;
export const SIZEOF_RT_METRICS = 56;
export const SIZEOF_IF_MSGHDR = 112;
export const SIZEOF_IF_DATA = 96;
export const SIZEOF_IF_MSGHDR2 = 160;
export const SIZEOF_IF_DATA64 = 128;
export const SIZEOF_IFA_MSGHDR = 20;
export const SIZEOF_IFMA_MSGHDR = 16;
export const SIZEOF_IFMA_MSGHDR2 = 20;
export const SIZEOF_SOCKADDR_IN = 16;
export const SIZEOF_SOCKADDR_IN6 = 28;
export const SIZEOF_SOCKADDR_DL = 20;
/** rt_xaddrs rejects sa_len above sizeof(struct sockaddr_storage) (docs/macos-routing-socket.md
 * §3.2). */
export const SIZEOF_SOCKADDR_STORAGE = 128;
