/**
 * The destination prefix lengths (0-128) a reader of a routing table wants, as a lookup table
 * built once. defroute reads the defaults (length 0) out of tables that may hold 100,000 routes;
 * both codecs step over a route whose prefix length is not wanted without decoding it (issue 15:
 * lib/linux/netlink_message.ts decodeMessages, lib/darwin/route_message.ts decodeMessages). A
 * rule about routes covering half the address space (0/1 + 128/1) adds 1, and so on: a few
 * lengths cost no more than one.
 */
export type PrefixLengths = Readonly<Uint8Array> & { readonly __prefixLengths: true };

/** The lookup table of `lengths`; RangeError for anything that is not a length 0-128. */
export function prefixLengths(lengths: Iterable<number>): PrefixLengths {
  const table = new Uint8Array(129);
  for (const length of lengths) {
    if (!Number.isInteger(length) || length < 0 || length > 128) {
      throw new RangeError(`a prefix length is 0-128, not ${length}`);
    }
    table[length] = 1;
  }
  return table as unknown as PrefixLengths;
}

/** Whether `length` is one of the wanted; false for anything outside 0-128. */
export function wantsPrefix(wanted: PrefixLengths, length: number): boolean {
  return wanted[length] === 1;
}
