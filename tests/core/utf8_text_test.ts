// decodeUtf8 must be TextDecoder, only faster to start: same text for every input, and the
// same failure (a TypeError) for invalid UTF-8 with fatal.
import { decodeUtf8 } from "../../lib/util/utf8_text.ts";
import { assertEquals } from "../assert.ts";
import { seededRandom } from "../seeded_random.ts";

function reference(bytes: Uint8Array, fatal: boolean): { text: string } | { error: string } {
  try {
    return { text: new TextDecoder("utf-8", { fatal }).decode(bytes) };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

function ours(bytes: Uint8Array, fatal: boolean): { text: string } | { error: string } {
  try {
    return { text: decodeUtf8(bytes, { fatal }) };
  } catch (error) {
    return { error: (error as Error).constructor.name };
  }
}

Deno.test("decodeUtf8 equals TextDecoder on fixed cases", () => {
  const cases: number[][] = [
    [],
    [0x65, 0x6e, 0x30], // en0
    [0x00, 0x41], // NUL is ASCII
    [0x7f],
    [0xef, 0xbb, 0xbf, 0x41], // BOM: TextDecoder strips it
    [0xc3, 0xa9], // é
    [0xff], // invalid anywhere
    [0x41, 0xc3], // truncated sequence
    [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded: invalid
  ];
  for (const bytes of cases) {
    for (const fatal of [false, true]) {
      const input = new Uint8Array(bytes);
      assertEquals(ours(input, fatal), reference(input, fatal), `${bytes} fatal=${fatal}`);
    }
  }
  const long = new Uint8Array(70_000).map((_, i) => 0x20 + (i % 95)); // over several chunks
  assertEquals(decodeUtf8(long), new TextDecoder().decode(long));
});

Deno.test("decodeUtf8 equals TextDecoder on 20k random inputs (seeded)", () => {
  const random = seededRandom(0x5eed_0008);
  for (let n = 0; n < 20_000; n++) {
    const length = Math.floor(random() * 40);
    // Mostly ASCII with some high bytes, so both paths and both outcomes are covered.
    const highChance = n % 3 === 0 ? 0 : random() * 0.3;
    const bytes = new Uint8Array(length);
    for (let i = 0; i < length; i++) {
      bytes[i] = random() < highChance
        ? 0x80 + Math.floor(random() * 0x80)
        : Math.floor(random() * 0x80);
    }
    for (const fatal of [false, true]) {
      assertEquals(ours(bytes, fatal), reference(bytes, fatal), `${[...bytes]} fatal=${fatal}`);
    }
  }
});
