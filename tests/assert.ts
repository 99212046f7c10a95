/**
 * Assertions for the tests. @std/assert lives on JSR, which the build machines cannot reach;
 * node:assert/strict does the same job with no download. These thin names keep tests readable.
 */
import assert from "node:assert/strict";

export function assertEquals<T>(actual: T, expected: T, message?: string): void {
  assert.deepStrictEqual(actual, expected, message);
}
export function assertNotEquals<T>(actual: T, expected: T, message?: string): void {
  assert.notDeepStrictEqual(actual, expected, message);
}
export function assert_(condition: unknown, message?: string): asserts condition {
  assert.ok(condition, message);
}
export { assert_ as assert };
export function assertMatch(actual: string, pattern: RegExp, message?: string): void {
  assert.match(actual, pattern, message);
}
export function assertThrows(fn: () => unknown, check?: RegExp | ((e: unknown) => boolean)): void {
  // deno-lint-ignore no-explicit-any
  assert.throws(fn as any, check as any);
}
export async function assertRejects(
  fn: () => Promise<unknown>,
  check?: RegExp | ((e: unknown) => boolean),
): Promise<void> {
  // deno-lint-ignore no-explicit-any
  await assert.rejects(fn, check as any);
}
