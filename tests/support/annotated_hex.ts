/**
 * Annotated hex, the byte notation of the codec tests (tests/darwin/route_message_test.ts,
 * tests/linux/netlink_message_test.ts and the fixtures under tests/fixtures/darwin): tokens of
 * whole bytes in hex separated by whitespace ("0a", or "0a4d0001" for four bytes in a row),
 * `"ascii"` strings (one byte per character), and `#` comments to the end of a line. Anything else,
 * an odd number of digits included, is a typo in a fixture and throws.
 */
export function hex(text: string): Uint8Array {
  const out: number[] = [];
  for (const rawLine of text.split("\n")) {
    const line = rawLine.replace(/#.*$/, "");
    for (const token of line.match(/"[^"]*"|\S+/g) ?? []) {
      if (token.startsWith('"')) {
        for (const c of token.slice(1, -1)) out.push(c.charCodeAt(0));
      } else if (/^(?:[0-9a-fA-F]{2})+$/.test(token)) {
        for (let i = 0; i < token.length; i += 2) out.push(parseInt(token.slice(i, i + 2), 16));
      } else {
        throw new Error(`bad hex token ${token}`);
      }
    }
  }
  return Uint8Array.from(out);
}
