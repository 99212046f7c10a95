/**
 * The POSIX path functions the product needs, with node:path's results for POSIX paths.
 *
 * Why not node:path: importing any `node:*` module switches on Deno's Node compatibility layer,
 * which costs ~12 ms of start-up in every `defroute save` / `restore` hook run (issue 8). These
 * four functions are small enough to own; tests/core/posix_path_test.ts checks them against
 * node:path as the oracle.
 */

/** Whether `path` starts at the root ("/..."). The empty path is relative. */
export function isAbsolute(path: string): boolean {
  return path.startsWith("/");
}

/** `path` without its trailing slashes, but never shorter than its first character ("/"). */
function withoutTrailingSlashes(path: string): string {
  let end = path.length;
  while (end > 1 && path[end - 1] === "/") end--;
  return path.slice(0, end);
}

/** The last component of `path`: "/a/b/" -> "b", "/" -> "", "" -> "". */
export function basename(path: string): string {
  const trimmed = withoutTrailingSlashes(path);
  if (trimmed === "/") return "";
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}

/**
 * `path` without its last component: "/a/b" -> "/a", "a" -> ".", "/" -> "/".
 * Like node:path, only the one slash before the last component goes ("/a//b" -> "/a/"), and a
 * path that starts with exactly "//" keeps both slashes as its root ("//a" -> "//").
 */
export function dirname(path: string): string {
  if (path === "") return ".";
  const trimmed = withoutTrailingSlashes(path);
  const slash = trimmed.lastIndexOf("/");
  if (slash < 0) return ".";
  // The component's own separator is the slash at `slash`; index 0 is the root, never removed.
  if (slash === 0) return "/";
  if (slash === 1 && trimmed[0] === "/") return "//";
  return trimmed.slice(0, slash);
}

/**
 * The absolute path `paths` name, joined right to left until one is absolute, on top of the
 * working directory, with "." and ".." resolved and no trailing slash (as node:path.resolve).
 */
export function resolve(...paths: string[]): string {
  let joined = "";
  let absolute = false;
  for (let i = paths.length - 1; i >= -1 && !absolute; i--) {
    const path = i >= 0 ? paths[i] ?? "" : Deno.cwd();
    if (path === "") continue;
    joined = `${path}/${joined}`;
    absolute = isAbsolute(path);
  }
  const parts: string[] = [];
  for (const part of joined.split("/")) {
    if (part === "" || part === ".") continue;
    // ".." at the root stays at the root, as in the kernel's own lookup.
    if (part === "..") parts.pop();
    else parts.push(part);
  }
  return `/${parts.join("/")}`;
}
