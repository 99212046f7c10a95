/**
 * lib/util/posix_path.ts against node:path (the oracle; tests may import node:*): the edge cases
 * by name, then a seeded sweep of paths made of "/", ".", "..", and names.
 */
import * as nodePath from "node:path";
import { assertEquals } from "../assert.ts";
import { basename, dirname, isAbsolute, resolve } from "../../lib/util/posix_path.ts";
import { seededRandom } from "../seeded_random.ts";

const EDGE_CASES = [
  "",
  "/",
  "//",
  "///",
  "//a",
  "///a",
  "a",
  "a/",
  "a//",
  "/a",
  "/a/",
  "/a//",
  "/a/b",
  "/a//b",
  "a/b",
  "a//b",
  "a/../b",
  "/a/../b",
  "/../a",
  "../a",
  "./a",
  ".",
  "..",
  "/.",
  "/..",
  "/var/run/defroute/state.json",
  "/var/run/defroute/",
  "a/./b/.",
  "...",
  "/.hidden",
];

function checkAgainstNode(path: string): void {
  const where = JSON.stringify(path);
  assertEquals(dirname(path), nodePath.posix.dirname(path), `dirname(${where})`);
  assertEquals(basename(path), nodePath.posix.basename(path), `basename(${where})`);
  assertEquals(isAbsolute(path), nodePath.posix.isAbsolute(path), `isAbsolute(${where})`);
  assertEquals(resolve(path), nodePath.posix.resolve(path), `resolve(${where})`);
}

Deno.test("posix_path: the edge cases give node:path's results", () => {
  for (const path of EDGE_CASES) checkAgainstNode(path);
});

Deno.test("posix_path: known answers (so a wrong oracle cannot hide a bug)", () => {
  assertEquals(dirname("/var/run/defroute/state.json"), "/var/run/defroute");
  assertEquals(dirname("//a"), "//");
  assertEquals(dirname("a"), ".");
  assertEquals(dirname("/"), "/");
  assertEquals(basename("/var/run/defroute/"), "defroute");
  assertEquals(basename("/"), "");
  assertEquals(isAbsolute(""), false);
  assertEquals(resolve("/a/../b"), "/b");
  assertEquals(resolve("/.."), "/");
  assertEquals(resolve("a/../b"), `${Deno.cwd() === "/" ? "" : Deno.cwd()}/b`);
});

Deno.test("resolve: several segments, the rightmost absolute one wins, empty ones skipped", () => {
  const cases: string[][] = [
    [],
    [""],
    ["/a", "b"],
    ["/a", "/b", "c"],
    ["a", "", "b"],
    ["/a/", "../c/", "./d"],
    ["x", "/"],
  ];
  for (const segments of cases) {
    assertEquals(resolve(...segments), nodePath.posix.resolve(...segments), segments.join(" , "));
  }
});

Deno.test("posix_path: 5000 seeded random paths give node:path's results", () => {
  const random = seededRandom(8);
  const pieces = ["/", "/", "/", "a", "bc", ".", "..", "...", ".x"];
  for (let n = 0; n < 5000; n++) {
    const length = Math.floor(random() * 8);
    let path = "";
    for (let i = 0; i < length; i++) path += pieces[Math.floor(random() * pieces.length)];
    checkAgainstNode(path);
  }
});
