/**
 * Path trust: can anyone but root change what a path names?
 *
 * defroute runs as root and acts on files other people might control: the state file (whoever
 * writes it chooses the gateway all traffic goes to), its lock, the programs and the library the
 * `DEFROUTE_*` overrides name, the daemon binary `hook install` points launchd at. Checking the
 * file alone is not enough: whoever can write any directory on the way (or owns a symbolic link
 * on it) can swap what the path resolves to between the check and the use. So, as OpenSSH's
 * StrictModes (`misc.c safe_path`) and sudo (`lib/util/secure_path.c`) do, every component from
 * `/` down is checked with lstat(2), and symbolic links are resolved here, one component at a
 * time, instead of by the kernel:
 *
 * - every component (directory, symbolic link, the file itself) is owned by the trusted owner
 *   (root when running as root);
 * - no directory is writable by others, nor by its group unless the group is a trusted one
 *   (sudo's rule: gid 0, root/wheel; on macOS also gid 1, daemon, whose only member is root and
 *   which owns /private/var/run), except a sticky directory (/tmp): there only an entry's owner
 *   can rename or remove it, and the next component must be the trusted owner's anyway;
 * - a symbolic link must be owned by the trusted owner, and its target is walked by the same
 *   rules (at most MAX_SYMLINKS links, like the kernel's ELOOP);
 * - the file itself must not be writable by group or others.
 *
 * Once a path passes, nothing on it can be changed by another user, so using it right after
 * (open, exec, dlopen) uses what was checked; callers that open a file also compare the opened
 * descriptor's fstat with the lstat taken here (dev and inode), which catches a change root
 * itself made in between. The walk returns the path with every link resolved, so the use
 * follows no symbolic link at all.
 *
 * Without a trusted owner (not running as root), ownership and modes are not checked (the files
 * are the user's own business) but the walk still resolves links and reports the final type.
 */
import { isAbsolute } from "../../util/posix_path.ts";

/** Symbolic links followed in one walk before giving up (darwin's MAXSYMLINKS is 32). */
export const MAX_SYMLINKS = 32;

export interface PathTrustPolicy {
  /** The uid that must own every component; null = no ownership or mode checks. */
  ownerUid: number | null;
  /** Groups that may have write access to a directory (gid 0 always). */
  trustedGids?: readonly number[];
  /** Refuse a final directory (the file's own) that others may write even when sticky: the
   * state file's directory also holds its lock and temp files, whose names anyone could squat
   * in /tmp. */
  strictParent?: boolean;
}

/** gid 0, and on macOS gid 1 (daemon, owner of /private/var/run). */
export function defaultTrustedGids(os: string = Deno.build.os): readonly number[] {
  return os === "darwin" ? [0, 1] : [0];
}

/** Root's policy when running as root, none otherwise. */
export function processPathTrust(): PathTrustPolicy {
  return { ownerUid: Deno.uid() === 0 ? 0 : null };
}

export type PathTrustErrorKind =
  /** A component someone but the trusted owner can change. */
  | "untrusted"
  /** A component that is not a directory where one is needed. */
  | "not-directory"
  /** Too many symbolic links. */
  | "loop"
  /** lstat or readlink failed (permission, I/O). */
  | "io";

/** Why a path cannot be trusted; `message` is one line naming the component. */
export class PathTrustError extends Error {
  override readonly name = "PathTrustError";
  constructor(
    readonly kind: PathTrustErrorKind,
    /** The path as given. */
    readonly path: string,
    /** The component at fault, as resolved so far. */
    readonly component: string,
    /** What is wrong with it, e.g. "is owned by uid 501, not root". */
    readonly problem: string,
  ) {
    super(`${component} ${problem}`);
  }
}

export interface TrustedPath {
  /** The path as given. */
  path: string;
  /** Every symbolic link resolved: what to open, exec or dlopen. */
  resolved: string;
  /** lstat of the final component; null when it does not exist. */
  info: Deno.FileInfo | null;
  /** When the final component is missing: the deepest existing directory (checked), and the
   * components below it that do not exist yet. */
  missing: { existing: string; rest: string[] } | null;
}

function ownerName(uid: number | null): string {
  return uid === null ? "an unknown user" : uid === 0 ? "root" : `uid ${uid}`;
}

function modeText(mode: number): string {
  return (mode & 0o7777).toString(8).padStart(4, "0");
}

/** "a FIFO", "a directory", ...: what a file is, for messages. */
export function fileTypeName(info: Deno.FileInfo): string {
  if (info.isFile) return "a regular file";
  if (info.isDirectory) return "a directory";
  if (info.isSymlink) return "a symbolic link";
  if (info.isFifo) return "a FIFO (named pipe)";
  if (info.isSocket) return "a socket";
  if (info.isCharDevice) return "a character device";
  if (info.isBlockDevice) return "a block device";
  return "not a regular file";
}

/** Who may write, from a mode: "group", "others", "group and others", or null. */
function writers(mode: number, groupTrusted: boolean): string | null {
  const group = (mode & 0o020) !== 0 && !groupTrusted;
  const others = (mode & 0o002) !== 0;
  return group && others ? "group and others" : group ? "group" : others ? "others" : null;
}

/**
 * The problem with one component's owner and mode under `policy`, or null. `last` is true for
 * the final component; `parentOfLast` for the directory that holds it.
 */
export function componentProblem(
  info: Pick<Deno.FileInfo, "uid" | "gid" | "mode" | "isDirectory" | "isSymlink">,
  policy: PathTrustPolicy,
  where: { parentOfLast: boolean },
): string | null {
  if (policy.ownerUid === null) return null;
  if (info.uid !== policy.ownerUid) {
    return `${info.isSymlink ? "is a symbolic link " : "is "}owned by ${ownerName(info.uid)}, ` +
      `not ${ownerName(policy.ownerUid)}`;
  }
  if (info.isSymlink) return null; // a link's own mode is never used
  const mode = info.mode ?? 0o7777;
  const trustedGids = policy.trustedGids ?? defaultTrustedGids();
  const groupTrusted = info.isDirectory && info.gid !== null && trustedGids.includes(info.gid);
  const who = writers(mode, groupTrusted);
  if (who === null) return null;
  const sticky = info.isDirectory && (mode & 0o1000) !== 0;
  if (sticky && !(where.parentOfLast && policy.strictParent)) return null;
  return `is writable by ${who} (mode ${modeText(mode)})`;
}

function components(path: string): string[] {
  return path.split("/").filter((c) => c !== "" && c !== ".");
}

function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

function parentOf(dir: string): string {
  const slash = dir.lastIndexOf("/");
  return slash <= 0 ? "/" : dir.slice(0, slash);
}

function lstat(path: string, given: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    if (error instanceof Deno.errors.NotADirectory) return null;
    const why = error instanceof Error ? error.message : String(error);
    throw new PathTrustError("io", given, path, `cannot be examined: ${why}`);
  }
}

/**
 * Walk `path` from `/`, checking every component under `policy` and resolving symbolic links
 * (see the file comment). A relative path is taken from the working directory, which is then
 * walked too. With `followFinalLink: false` a symbolic link as the last component is checked
 * (its owner) and returned as it is, not followed (the state file must not be one). With
 * `judgeFinal: false` the final component's own owner and mode are left to the caller (who
 * judges the descriptor it opens, or replaces the file). Throws PathTrustError; a missing final component (or missing directories before
 * it) is not an error: `info` is null and `missing` says where the path stops.
 */
export function resolveTrustedPath(
  path: string,
  policy: PathTrustPolicy,
  options: { followFinalLink?: boolean; judgeFinal?: boolean } = {},
): TrustedPath {
  const start = isAbsolute(path) ? path : `${Deno.cwd()}/${path}`;
  const root = lstat("/", path);
  if (root === null) throw new PathTrustError("io", path, "/", "does not exist");
  const rootProblem = componentProblem(root, policy, { parentOfLast: false });
  if (rootProblem) throw new PathTrustError("untrusted", path, "/", rootProblem);
  let current = "/";
  let currentInfo = root;
  const queue = components(start);
  let links = 0;
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (name === "..") {
      // `current` has no symbolic link in it, so its parent is its lexical parent (checked).
      current = parentOf(current);
      currentInfo = lstat(current, path) ?? root;
      continue;
    }
    if (!currentInfo.isDirectory) {
      throw new PathTrustError("not-directory", path, current, "is not a directory");
    }
    const next = join(current, name);
    const info = lstat(next, path);
    if (info === null) {
      checkParent(path, current, queue.length === 0, policy);
      return {
        path,
        resolved: [next, ...queue].join("/"),
        info: null,
        missing: { existing: current, rest: [name, ...queue] },
      };
    }
    const final = queue.length === 0 && (!info.isSymlink || options.followFinalLink === false);
    const problem = final && options.judgeFinal === false
      ? null
      : componentProblem(info, policy, { parentOfLast: false });
    if (problem) throw new PathTrustError("untrusted", path, next, problem);
    if (final || !info.isSymlink) {
      current = next;
      currentInfo = info;
      continue;
    }
    if (++links > MAX_SYMLINKS) {
      throw new PathTrustError(
        "loop",
        path,
        next,
        `leads through more than ${MAX_SYMLINKS} symbolic links`,
      );
    }
    let target: string;
    try {
      target = Deno.readLinkSync(next);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      throw new PathTrustError("io", path, next, `cannot be read: ${why}`);
    }
    // The link's target takes its place; an absolute one starts again from the (checked) root.
    queue.unshift(...components(target));
    if (isAbsolute(target)) {
      current = "/";
      currentInfo = root;
    }
  }
  if (current !== "/") checkParent(path, parentOf(current), true, policy);
  return { path, resolved: current, info: currentInfo, missing: null };
}

/** With strictParent: the directory holding the final component may not be written by others,
 * sticky or not. */
function checkParent(path: string, dir: string, holdsLast: boolean, policy: PathTrustPolicy) {
  if (!policy.strictParent || !holdsLast) return;
  const info = lstat(dir, path);
  if (info === null) return;
  const problem = componentProblem(info, policy, { parentOfLast: true });
  if (problem) throw new PathTrustError("untrusted", path, dir, problem);
}
