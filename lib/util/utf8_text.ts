/**
 * UTF-8 bytes to text, exactly as `new TextDecoder("utf-8", { fatal })` decodes them, without
 * a TextDecoder when the bytes are all ASCII.
 *
 * Why: a process's first TextDecoder decode costs ~0.4-0.5 ms in Deno 2.9.6 (measured on the
 * build VM; later ones cost microseconds), and a `save` or `restore` decodes only interface
 * names and the state file, which are ASCII in practice (defroute writes the state file itself).
 * ASCII bytes are the same code points in UTF-8, and no ASCII byte can make a fatal decode fail,
 * so the short path returns the very string TextDecoder would; anything else is TextDecoder's
 * (tests/core/utf8_text_test.ts compares the two on random bytes).
 */

/** Characters per String.fromCharCode call: well under any engine's argument-count limit. */
const CHUNK = 4096;

export function decodeUtf8(bytes: Uint8Array, options: { fatal?: boolean } = {}): string {
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! >= 0x80) return new TextDecoder("utf-8", options).decode(bytes);
  }
  // A leading U+FEFF (BOM) is ASCII-free, so it cannot reach here: TextDecoder would strip it.
  let text = "";
  for (let start = 0; start < bytes.length; start += CHUNK) {
    text += String.fromCharCode(...bytes.subarray(start, start + CHUNK));
  }
  return text;
}
