/**
 * The RTM_GETADDR dump (lib/linux/netlink_message.ts): the request's bytes, and RTM_NEWADDR
 * decoded with IFA_LOCAL (the interface's own address) preferred over IFA_ADDRESS (the peer on a
 * point-to-point link), for the blackhole check (lib/core/policy/blackhole.ts). The real kernel's answer
 * is exercised by tests/e2e/red_team_linux_test.ts (a saved gateway that is the namespace's own
 * address is refused).
 */
import { assert, assertEquals } from "../assert.ts";
import {
  decodeMessage,
  encodeAddressDumpRequest,
  encodeAttributes,
  encodeMessage,
  IFA_ADDRESS,
  IFA_LOCAL,
  IFADDRMSG_LEN,
  NLM_F_DUMP,
  NLM_F_MULTI,
  NLM_F_REQUEST,
  RTM_GETADDR,
  RTM_NEWADDR,
} from "../../lib/linux/netlink_message.ts";

Deno.test("RTM_GETADDR dump request: header and an all-zero ifaddrmsg (every family)", () => {
  const bytes = encodeAddressDumpRequest(7);
  const view = new DataView(bytes.buffer);
  assertEquals(bytes.length, 16 + IFADDRMSG_LEN);
  assertEquals(view.getUint32(0, true), 24); // nlmsg_len
  assertEquals(view.getUint16(4, true), RTM_GETADDR);
  assertEquals(view.getUint16(6, true), NLM_F_REQUEST | NLM_F_DUMP);
  assertEquals(view.getUint32(8, true), 7); // seq
  assertEquals([...bytes.subarray(16)], [0, 0, 0, 0, 0, 0, 0, 0]);
});

function newAddr(family: number, prefix: number, index: number, attrs: [number, number[]][]) {
  const ifaddrmsg = new Uint8Array(IFADDRMSG_LEN);
  ifaddrmsg[0] = family;
  ifaddrmsg[1] = prefix;
  new DataView(ifaddrmsg.buffer).setUint32(4, index, true);
  const attributes = encodeAttributes(
    attrs.map(([type, data]) => ({ type, data: Uint8Array.from(data) })),
  );
  const body = new Uint8Array(ifaddrmsg.length + attributes.length);
  body.set(ifaddrmsg);
  body.set(attributes, ifaddrmsg.length);
  return encodeMessage({ type: RTM_NEWADDR, flags: NLM_F_MULTI, seq: 7, pid: 0 }, body);
}

Deno.test("RTM_NEWADDR: family, prefix, index, and IFA_LOCAL over IFA_ADDRESS", () => {
  // A point-to-point link: IFA_LOCAL is ours (10.8.0.2), IFA_ADDRESS the peer (10.8.0.1).
  const ptp = decodeMessage(newAddr(2, 32, 9, [[IFA_ADDRESS, [10, 8, 0, 1]], [
    IFA_LOCAL,
    [10, 8, 0, 2],
  ]]));
  assert(ptp.ok && ptp.value.kind === "address");
  assertEquals(ptp.value.address.family, 2);
  assertEquals(ptp.value.address.prefixLength, 32);
  assertEquals(ptp.value.address.index, 9);
  assertEquals([...ptp.value.address.local!], [10, 8, 0, 2]);
  // IPv6 has only IFA_ADDRESS.
  const v6 = [0xfd, 0, 0, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];
  const six = decodeMessage(newAddr(10, 64, 2, [[IFA_ADDRESS, v6]]));
  assert(six.ok && six.value.kind === "address");
  assertEquals([...six.value.address.local!], v6);
  // Truncated: a typed error, never a throw.
  const short = decodeMessage(encodeMessage(
    { type: RTM_NEWADDR, flags: 0, seq: 1, pid: 0 },
    new Uint8Array(4),
  ));
  assert(!short.ok);
});
