/** The annotated-hex notation the codec tests write their bytes in. */
import { assertEquals, assertThrows } from "../assert.ts";
import { hex } from "./annotated_hex.ts";

Deno.test("annotated hex: byte pairs, runs of pairs, ascii strings and comments", () => {
  const bytes = hex(`
    10 02 00 00   # sockaddr_in, port 0
    0a4d0001      # a run of four bytes
    "en0" 00      # a name and its terminator
  `);
  assertEquals(Array.from(bytes), [
    0x10,
    0x02,
    0x00,
    0x00,
    0x0a,
    0x4d,
    0x00,
    0x01,
    0x65,
    0x6e,
    0x30,
    0x00,
  ]);
});

Deno.test("annotated hex: a typo throws instead of reading as some other byte", () => {
  assertThrows(() => hex("10 0g"), /bad hex token 0g/);
  assertThrows(() => hex("100"), /bad hex token 100/);
  assertThrows(() => hex("10 02 x"), /bad hex token x/);
});
