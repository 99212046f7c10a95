/**
 * The least a save or a restore can do as a `deno run` process: hook_bench.ts's second floor.
 *
 *   deno run <DENO_RUN_FLAGS> tests/bench/bare_hook.ts save FILE
 *   deno run <DENO_RUN_FLAGS> tests/bench/bare_hook.ts restore FILE
 *
 * `save` lists the links and the IPv4 and IPv6 routes over rtnetlink (the three dumps a real
 * save makes), keeps the first IPv4 main-table default's gateway and output interface, and writes
 * them to FILE as JSON the way defroute writes its state (temp file, fsync, rename, fsync of the
 * directory). `restore` reads FILE and sends one RTM_NEWROUTE for that default, then reads the
 * kernel's ack. One file, libc bound like lib/ffi_symbol_group.ts does (no trampolines), bytes
 * built by hand: no CLI, no lock, no trust checks, no validation, no interface or tunnel policy,
 * no error messages beyond a thrown Error. Nothing here is used by defroute; it measures what the
 * runtime charges for the work itself, so hook_bench.ts can tell that apart from defroute's own
 * cost (hook cost = runtime floor + this work + defroute's code and checks).
 */
const LIBC = "libc.so.6";
const AF_NETLINK = 16;
const SOCK_RAW = 3;
const SOCK_CLOEXEC = 0o2000000;
const RTM_NEWLINK = 16;
const RTM_GETLINK = 18;
const RTM_NEWROUTE = 24;
const RTM_GETROUTE = 26;
const NLMSG_ERROR = 2;
const NLMSG_DONE = 3;
const NLM_F_REQUEST = 0x1;
const NLM_F_ACK = 0x4;
const NLM_F_DUMP = 0x300;
const NLM_F_CREATE = 0x400;
const NLM_F_EXCL = 0x200;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;

const names = ["socket", "sendto", "recv", "close"] as const;
const library = Deno.dlopen(
  LIBC,
  Object.fromEntries(names.map((n) => [n, { type: "pointer" as const }])),
);
/** The function at `name`'s address, called through libffi. */
function bind<const D extends Deno.ForeignFunction>(name: string, definition: D) {
  const address = library.symbols[name] as Deno.PointerObject<Omit<D, "nonblocking">>;
  return new Deno.UnsafeFnPointer(address, definition);
}
const socket = bind("socket", { parameters: ["i32", "i32", "i32"], result: "i32" });
const sendto = bind("sendto", {
  parameters: ["i32", "buffer", "usize", "i32", "buffer", "u32"],
  result: "isize",
});
const recv = bind("recv", { parameters: ["i32", "buffer", "usize", "i32"], result: "isize" });
const close = bind("close", { parameters: ["i32"], result: "i32" });

const fd = socket.call(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, 0);
if (fd < 0) throw new Error("socket failed");
const kernel = new Uint8Array(12);
kernel[0] = AF_NETLINK;
const buffer = new Uint8Array(64 * 1024);

/** Send `request`, return every message of the answer up to NLMSG_DONE or the ack. */
function exchange(request: Uint8Array): Uint8Array[] {
  if (Number(sendto.call(fd, request, BigInt(request.length), 0, kernel, 12)) !== request.length) {
    throw new Error("sendto failed");
  }
  const messages: Uint8Array[] = [];
  for (;;) {
    const length = Number(recv.call(fd, buffer, BigInt(buffer.length), 0));
    if (length <= 0) throw new Error("recv failed");
    const view = new DataView(buffer.buffer, 0, length);
    for (let offset = 0; offset + 16 <= length;) {
      const size = view.getUint32(offset, true);
      const type = view.getUint16(offset + 4, true);
      if (type === NLMSG_DONE) return messages;
      if (type === NLMSG_ERROR) {
        const errno = view.getInt32(offset + 16, true);
        if (errno !== 0) throw new Error(`kernel answered errno ${-errno}`);
        return messages;
      }
      messages.push(buffer.slice(offset, offset + size));
      offset += (size + 3) & ~3;
    }
  }
}

/** nlmsghdr + a zeroed family header of `bodyLength` bytes whose first byte is the family. */
function request(type: number, flags: number, family: number, bodyLength: number): Uint8Array {
  const bytes = new Uint8Array(16 + bodyLength);
  const view = new DataView(bytes.buffer);
  view.setUint32(0, bytes.length, true);
  view.setUint16(4, type, true);
  view.setUint16(6, flags, true);
  view.setUint32(8, 1, true);
  bytes[16] = family;
  return bytes;
}

/** The gateway and oif of the first IPv4 main-table default among `routes`. */
function firstDefault(routes: Uint8Array[]): { gateway: number[]; oif: number } | null {
  for (const message of routes) {
    const view = new DataView(message.buffer);
    // rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type, flags (12 bytes).
    if (view.getUint16(4, true) !== RTM_NEWROUTE || message[17] !== 0 || message[20] !== 254) {
      continue;
    }
    let gateway: number[] | null = null;
    let oif = 0;
    for (let offset = 28; offset + 4 <= message.length;) {
      const length = view.getUint16(offset, true);
      const type = view.getUint16(offset + 2, true);
      if (type === RTA_GATEWAY) gateway = [...message.subarray(offset + 4, offset + length)];
      if (type === RTA_OIF) oif = view.getUint32(offset + 4, true);
      offset += (length + 3) & ~3;
    }
    if (gateway && oif) return { gateway, oif };
  }
  return null;
}

const [mode, file] = Deno.args;
if (!file || (mode !== "save" && mode !== "restore")) {
  throw new Error("usage: bare_hook.ts save|restore FILE");
}
if (mode === "save") {
  const links = exchange(request(RTM_GETLINK, NLM_F_REQUEST | NLM_F_DUMP, 0, 16));
  const ipv4 = exchange(request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 2, 12));
  const ipv6 = exchange(request(RTM_GETROUTE, NLM_F_REQUEST | NLM_F_DUMP, 10, 12));
  const text = JSON.stringify({
    ipv4: firstDefault(ipv4),
    links: links.filter((m) => new DataView(m.buffer).getUint16(4, true) === RTM_NEWLINK).length,
    ipv6Routes: ipv6.length,
    savedAt: new Date().toISOString(),
  });
  const directory = file.slice(0, file.lastIndexOf("/")) || "/";
  const temp = `${file}.${Deno.pid}.tmp`;
  const out = Deno.openSync(temp, { write: true, createNew: true, mode: 0o644 });
  out.writeSync(new TextEncoder().encode(text));
  out.syncSync();
  out.close();
  Deno.renameSync(temp, file);
  const handle = Deno.openSync(directory, { read: true });
  handle.syncSync();
  handle.close();
} else {
  const saved = JSON.parse(Deno.readTextFileSync(file)).ipv4 as {
    gateway: number[];
    oif: number;
  } | null;
  if (!saved) throw new Error(`${file} holds no IPv4 default`);
  // rtmsg {AF_INET, dst_len 0, src_len 0, tos 0, table main, proto boot, scope universe,
  // type unicast} + RTA_GATEWAY + RTA_OIF.
  const add = request(RTM_NEWROUTE, NLM_F_REQUEST | NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL, 2, 28);
  add.set([254, 3, 0, 1], 20);
  const view = new DataView(add.buffer);
  view.setUint16(28, 8, true);
  view.setUint16(30, RTA_GATEWAY, true);
  add.set(saved.gateway.slice(0, 4), 32);
  view.setUint16(36, 8, true);
  view.setUint16(38, RTA_OIF, true);
  view.setUint32(40, saved.oif, true);
  exchange(add);
}
close.call(fd);
library.close();
