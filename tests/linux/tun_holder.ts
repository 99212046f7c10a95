/**
 * Holds a TUN device open, as a VPN client's process does, so the kernel gives it a carrier:
 *
 *   ip netns exec NS deno run --allow-ffi --allow-read tests/linux/tun_holder.ts [--dev tun0]
 *
 * A persistent TUN (`ip tuntap add mode tun`) has no carrier until a process attaches to it
 * (TUNSETIFF on /dev/net/tun); when that process dies, even by SIGKILL, the kernel closes its
 * descriptors and the link loses its carrier again (`ip link`: NO-CARRIER; a route over it:
 * `linkdown`) - what a VPN whose client was killed leaves behind (issue 18 item 3). Prints
 * {"ready":true,"pid":N} once attached; exits when stdin closes.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({
  args: Deno.args,
  options: { dev: { type: "string", default: "tun0" } },
});
const dev = values.dev!;

// linux/if_tun.h: TUNSETIFF = _IOW('T', 202, int); IFF_TUN 0x0001, IFF_NO_PI 0x1000 (what
// `ip tuntap add mode tun` creates, so the flags match the persistent device).
const TUNSETIFF = 0x400454ca;
const IFF_TUN = 0x0001;
const IFF_NO_PI = 0x1000;
const O_RDWR = 2;

const libc = Deno.dlopen("libc.so.6", {
  open: { parameters: ["buffer", "i32"], result: "i32" },
  ioctl: { parameters: ["i32", "u64", "buffer"], result: "i32" },
  __errno_location: { parameters: [], result: "pointer" },
});
const errno = () => new Deno.UnsafePointerView(libc.symbols.__errno_location()!).getInt32(0);

const fd = libc.symbols.open(new TextEncoder().encode("/dev/net/tun\0"), O_RDWR);
if (fd < 0) {
  console.error(`tun_holder: open /dev/net/tun: errno ${errno()}`);
  Deno.exit(1);
}
// struct ifreq: ifr_name[16], then ifr_flags (short) in the union: 40 bytes in all.
const ifreq = new Uint8Array(40);
ifreq.set(new TextEncoder().encode(dev).subarray(0, 15));
new DataView(ifreq.buffer).setInt16(16, IFF_TUN | IFF_NO_PI, true);
if (libc.symbols.ioctl(fd, BigInt(TUNSETIFF), ifreq) < 0) {
  console.error(`tun_holder: TUNSETIFF ${dev}: errno ${errno()}`);
  Deno.exit(1);
}
console.log(JSON.stringify({ ready: true, pid: Deno.pid, dev }));
for await (const _ of Deno.stdin.readable) {
  // nothing is sent; the end of stdin (or a signal) ends the hold
}
