/**
 * The state file on disk: what `save` saw (schema.ts), kept so `restore` can put it back after a
 * tunnel broke it.
 *
 * Three promises:
 * - never torn: written to a temp file in the same directory, fsynced, renamed over the old one,
 *   and every read-modify-write runs under an exclusive lock (flock on `<path>.lock`), so two
 *   hooks at once cannot lose an update or leave half a file;
 * - never silently used when doubtful: a corrupt, truncated, huge, future-version or wrongly
 *   typed file is reported and left in place for inspection (never deleted);
 * - never trusted from the wrong owner: as root, a state file or directory that is not owned by
 *   root or is writable by group/others is refused, because whoever can write it chooses the
 *   gateway all traffic goes to.
 */
import { basename, dirname } from "../../util/posix_path.ts";
import { DEFAULT_STATE_PATH } from "./state_path.ts";
import { ExitCode } from "../model/errors.ts";
import {
  fileTypeName,
  PathTrustError,
  resolveTrustedPath,
  type TrustedPath,
} from "../trust/path_trust.ts";
import { decodeUtf8 } from "../../util/utf8_text.ts";
import {
  type DefrouteState,
  formatState,
  MAX_STATE_BYTES,
  parseState,
  StateFileError,
  StateFormatError,
} from "./schema.ts";

// ---------------------------------------------------------------------------------------------
// Trust

/** Who must own the state file and its directory; null = no check (not running as root). */
export interface TrustPolicy {
  ownerUid: number | null;
}

/** As root the files must be root's; as anyone else they are the user's own business. */
export function defaultTrust(): TrustPolicy {
  return { ownerUid: Deno.uid() === 0 ? 0 : null };
}

function ownerName(uid: number): string {
  return uid === 0 ? "root" : `uid ${uid}`;
}

/**
 * How to get past a refused state file or directory. A directory is only ever advised to be
 * changed when it is defroute's own (the default state directory, which defroute creates 0755
 * for root): `chown`/`chmod` on a sticky directory (/tmp) or any other directory (/, /var, a home
 * directory) would break the system or open it to others, so those get a --state elsewhere.
 */
function trustAdvice(path: string, what: "file" | "directory", mode: number | null): string {
  const elsewhere = `use --state PATH in a directory only root can write (the default, ` +
    `${DEFAULT_STATE_PATH}, is one)`;
  if (what === "file") {
    return `Fix it with 'sudo chown root ${path} && sudo chmod 644 ${path}', or ${elsewhere}`;
  }
  if (mode !== null && (mode & 0o1000) !== 0) {
    return `${path} is a shared (sticky) directory, not one to change: ${elsewhere}`;
  }
  if (path !== dirname(DEFAULT_STATE_PATH)) return `Instead, ${elsewhere}`;
  return `Fix it with 'sudo chown root ${path} && sudo chmod 755 ${path}', or ${elsewhere}`;
}

/** Throws "untrusted" when `info` (of `what` at `path`) fails the policy. */
export function checkTrusted(
  path: string,
  what: "file" | "directory",
  info: { uid: number | null; mode: number | null },
  policy: TrustPolicy,
): void {
  if (policy.ownerUid === null) return;
  const advice = trustAdvice(path, what, info.mode);
  if (info.uid !== policy.ownerUid) {
    throw new StateFileError(
      "untrusted",
      path,
      `refusing the state ${what} ${path}: it is owned by ${
        info.uid === null ? "an unknown user" : ownerName(info.uid)
      }, not ${
        ownerName(policy.ownerUid)
      } (whoever can write it chooses the gateway all traffic goes to). ${advice}`,
    );
  }
  const mode = info.mode ?? 0o777;
  if ((mode & 0o022) !== 0) {
    throw new StateFileError(
      "untrusted",
      path,
      `refusing the state ${what} ${path}: it is writable by ${
        (mode & 0o020) && (mode & 0o002) ? "group and others" : (mode & 0o020) ? "group" : "others"
      } (mode ${(mode & 0o7777).toString(8).padStart(4, "0")}; whoever can write it chooses the ` +
        `gateway all traffic goes to). ${advice}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------
// Reading

export interface StateFileOptions {
  trust?: TrustPolicy;
}

export interface ReadStateOptions extends StateFileOptions {
  /** The caller only looks (restore): an unchanged file's state may then be handed out parsed
   * once and frozen, instead of parsed again (~0.15 ms at each heal repair, heal_bench). */
  readOnly?: boolean;
}

function ioError(path: string, action: string, error: unknown): StateFileError {
  const why = error instanceof Error ? error.message : String(error);
  if (error instanceof Deno.errors.PermissionDenied) {
    const root = Deno.uid() === 0;
    return new StateFileError(
      "permission",
      path,
      `cannot ${action} the state file ${path}: permission denied${
        root ? "" : " (run as root, or use --state PATH somewhere you can write)"
      }`,
      root ? ExitCode.FAILURE : ExitCode.NEEDS_ROOT,
    );
  }
  return new StateFileError("io", path, `cannot ${action} the state file ${path}: ${why}`);
}

/**
 * The state path walked from `/` (lib/core/trust/path_trust.ts): every directory on the way owned by
 * root and writable by no one else (a sticky one, like /tmp, only above the state file's own
 * directory), symbolic links on the way resolved and checked, the final component lstat'ed and
 * not followed. Reads use the *Sync calls: a state file is a few hundred bytes on a local disk,
 * and each async call is a round trip through Deno's blocking thread pool (~0.2 ms each), paid
 * between a tunnel's exit and the restored default (tests/bench/).
 */
function walkStatePath(path: string, policy: TrustPolicy): TrustedPath {
  try {
    return resolveTrustedPath(path, { ownerUid: policy.ownerUid, strictParent: true }, {
      followFinalLink: false,
      // The file itself is judged on the descriptor opened (readTrustedBytes), or replaced.
      judgeFinal: false,
    });
  } catch (error) {
    if (!(error instanceof PathTrustError)) throw error;
    if (error.kind !== "untrusted") {
      throw new StateFileError("io", path, `cannot use the state file ${path}: ${error.message}`);
    }
    // The state file's own directory: the message that says how to fix it.
    const info = statOrNull(error.component);
    if (info?.isDirectory && error.component === dirname(path)) {
      checkTrusted(error.component, "directory", info, policy);
    }
    throw new StateFileError(
      "untrusted",
      error.component,
      `refusing the state file ${path}: ${error.message}, so someone but root could change ` +
        `what the path names (whoever can write the state file chooses the gateway all ` +
        `traffic goes to). Use --state PATH in a directory only root can write`,
    );
  }
}

/** lstat, or null when there is nothing there. */
function lstatOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return null;
    throw ioError(path, "read", error);
  }
}

function statOrNull(path: string): Deno.FileInfo | null {
  try {
    return Deno.lstatSync(path);
  } catch {
    return null;
  }
}

/** Throws "not-regular" unless `info` is a regular file: a FIFO or a device would hang or
 * misbehave when opened, a directory or a link is not a state file. Nothing is opened. */
function requireRegular(path: string, info: Deno.FileInfo, what = "state file"): void {
  if (info.isFile) return;
  throw new StateFileError(
    "not-regular",
    path,
    `refusing the ${what} ${path}: it is ${fileTypeName(info)}, not a regular file (it was ` +
      `not opened); remove it or use --state PATH`,
  );
}

/**
 * Read and validate the state file. null when there is none. Throws StateFileError for anything
 * doubtful, and leaves the file where it is.
 */
// deno-lint-ignore require-await -- kept a Promise API (callers await it); the reads are sync
export async function readState(
  path: string,
  options: ReadStateOptions = {},
): Promise<DefrouteState | null> {
  const policy = options.trust ?? (processTrust ??= defaultTrust());
  // The very file read and trusted before, unchanged: its directory was checked then, and a
  // file put there since would be another inode (or a later ctime).
  const unchanged = unchangedSinceLastRead(path, policy);
  if (unchanged !== null) {
    if (!options.readOnly) return parseStateText(path, unchanged.text);
    return unchanged.frozen ??= deepFreeze(parseStateText(path, unchanged.text));
  }
  return readLocated(path, policy, () => walkStatePath(path, policy));
}

/**
 * Read and validate the file `locate` finds (the walk from `/`, or, under the lock, the
 * directory just walked). A concurrent writer may rename a new file over the path between our
 * lstat and open; the next attempt reads that new file. Three renames in a row while we read is
 * not plausible.
 */
function readLocated(
  path: string,
  policy: TrustPolicy,
  locate: () => Pick<TrustedPath, "resolved" | "info">,
): DefrouteState | null {
  for (let attempt = 0; attempt < 3; attempt++) {
    const walked = locate();
    if (walked.info === null) return null;
    requireRegular(path, walked.info);
    const read = readTrustedBytes(path, walked.resolved, walked.info, policy);
    if (read === "replaced") continue;
    if (read === null) return null;
    let text: string;
    try {
      text = decodeUtf8(read.bytes, { fatal: true });
    } catch (error) {
      throw unusable(path, error);
    }
    const state = parseStateText(path, text);
    lastRead = { path, owner: policy.ownerUid, version: versionOf(read.info), text, frozen: null };
    return state;
  }
  throw new StateFileError("io", path, `the state file ${path} kept changing while read`);
}

/**
 * The file readState last parsed: its path, the trust policy it passed, what identifies that
 * version of it, and its text. defroute replaces the file by rename (a new inode), and an edit
 * changes its mtime, ctime or size, so a path whose lstat still matches needs no open, read and
 * close: `watch --heal` reads the state at every repair, between the deletion and the repaired
 * default (tests/bench/heal_bench.ts).
 */
/** defaultTrust() of this process (its uid does not change). */
let processTrust: TrustPolicy | null = null;

let lastRead: {
  path: string;
  owner: number | null;
  version: string;
  text: string;
  /** Its state, parsed once and frozen, for readOnly readers. */
  frozen: DefrouteState | null;
} | null = null;

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}

function versionOf(info: Deno.FileInfo): string {
  return [
    info.dev,
    info.ino,
    info.size,
    info.mtime?.getTime(),
    info.ctime?.getTime(),
    info.mode,
    info.uid,
  ].join(":");
}

/** The last read when `path` still names that very version of the file, else null
 * (then it is read in full, and every check runs again). */
function unchangedSinceLastRead(
  path: string,
  policy: TrustPolicy,
): NonNullable<typeof lastRead> | null {
  const last = lastRead;
  if (last === null || last.path !== path || last.owner !== policy.ownerUid) return null;
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(path);
  } catch {
    return null;
  }
  if (!info.isFile || info.ino === null || info.ctime === null) return null;
  return versionOf(info) === last.version ? last : null;
}

function unusable(path: string, error: unknown): StateFileError {
  const kind = error instanceof StateFormatError ? error.kind : "corrupt";
  // JSON.parse quotes the file's own text, newlines included: the message stays one line.
  const why = (error instanceof Error ? error.message : String(error)).replace(
    // deno-lint-ignore no-control-regex -- matching the control characters is the point
    /[\u0000-\u001f\u007f]/g,
    (c) => c === "\n" ? "\\n" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
  const reason = `the state file ${path} cannot be used: ${why}`;
  return new StateFileError(
    kind,
    path,
    `${reason}. It was left in place: inspect it, then remove it or run ` +
      `'defroute save --force' to replace it`,
    ExitCode.FAILURE,
    reason,
  );
}

function parseStateText(path: string, text: string): DefrouteState {
  try {
    return parseState(text);
  } catch (error) {
    throw unusable(path, error);
  }
}

/**
 * The bytes of the state file at `resolved` (no symbolic link in it), which the walk found to be
 * the regular file `checked`: opened, and the open descriptor's own fstat compared with that
 * lstat (device and inode) and checked again (owner, mode, size). "replaced" when the path no
 * longer names the file checked (a writer renamed a new one over it).
 */
function readTrustedBytes(
  path: string,
  resolved: string,
  checked: Deno.FileInfo,
  policy: TrustPolicy,
): { bytes: Uint8Array; info: Deno.FileInfo } | null | "replaced" {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(resolved, { read: true });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return "replaced";
    throw ioError(path, "read", error);
  }
  try {
    const info = file.statSync();
    if (info.ino !== checked.ino || info.dev !== checked.dev) return "replaced";
    requireRegular(path, info);
    checkTrusted(path, "file", info, policy);
    if (info.size > MAX_STATE_BYTES) {
      const reason = `the state file ${path} is ${info.size} bytes, more than a state file can ` +
        `be (${MAX_STATE_BYTES})`;
      throw new StateFileError(
        "too-large",
        path,
        `${reason}; it was left in place: inspect it, then remove it or run ` +
          `'defroute save --force'`,
        ExitCode.FAILURE,
        reason,
      );
    }
    const bytes = new Uint8Array(MAX_STATE_BYTES + 1);
    let length = 0;
    while (length < bytes.length) {
      const n = file.readSync(bytes.subarray(length));
      if (n === null) break;
      length += n;
    }
    if (length > MAX_STATE_BYTES) {
      throw new StateFileError("too-large", path, `the state file ${path} grew while read`);
    }
    return { bytes: bytes.subarray(0, length), info };
  } catch (error) {
    if (error instanceof StateFileError) throw error;
    throw ioError(path, "read", error);
  } finally {
    file.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Writing

// Writes, like reads, use the *Sync calls: a hook is a short-lived CLI, the files are tiny and
// local, and each async call is a round trip through Deno's blocking thread pool (~0.2 ms each,
// ~10 of them per save). Only a lock held by another process is waited for asynchronously.

/** Where a state file is written: the path as given (for messages), and its directory and name
 * with every symbolic link on the way resolved (what the writes use). */
interface StateLocation {
  path: string;
  dir: string;
  name: string;
}

/** Create the directory (0755) if missing, and walk the whole path (walkStatePath). */
function ensureDirectory(path: string, policy: TrustPolicy): StateLocation {
  let walked = walkStatePath(path, policy);
  if (walked.missing !== null && walked.missing.rest.length > 1) {
    const dir = dirname(walked.resolved);
    try {
      Deno.mkdirSync(dir, { recursive: true, mode: 0o755 });
      Deno.chmodSync(dir, 0o755); // the umask may have taken bits; make it exactly 0755
    } catch (error) {
      throw ioError(path, "write", error);
    }
    // What was made (or what someone else put there first) is judged like the rest.
    walked = walkStatePath(path, policy);
  }
  return { path, dir: dirname(walked.resolved), name: basename(walked.resolved) };
}

/** The temp files writeAtomically names `.NAME.PID.RANDOM.tmp`. */
function isTempOf(name: string, entry: string): boolean {
  const prefix = `.${name}.`;
  return entry.startsWith(prefix) && /^\d+\.[0-9a-f]+\.tmp$/.test(entry.slice(prefix.length));
}

/**
 * Remove the temp files of writers that died between creating their temp file and renaming it
 * (SIGKILL mid-save). Called under the lock: every writer holds it from before its temp file
 * exists until after the rename, so any temp file seen now is a dead writer's. Only regular
 * files and symbolic links are removed (unlink never follows a link).
 */
function removeDeadWritersTemps(where: StateLocation): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(where.dir)];
  } catch {
    return; // best effort: the write itself reports a directory it cannot use
  }
  for (const entry of entries) {
    if (!isTempOf(where.name, entry.name) || !(entry.isFile || entry.isSymlink)) continue;
    try {
      Deno.removeSync(`${where.dir}/${entry.name}`);
    } catch {
      // gone already, or not ours to remove: the next write tries again
    }
  }
}

/** Throws "not-regular" when something that is not a regular file sits at the state path: the
 * rename would replace it, and only a state file (or nothing) may ever be replaced. */
function requireReplaceable(where: StateLocation): void {
  let info: Deno.FileInfo;
  try {
    info = Deno.lstatSync(`${where.dir}/${where.name}`);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw ioError(where.path, "write", error);
  }
  requireRegular(where.path, info);
}

/** Write `state` atomically: temp file in the same directory, fsync, rename, fsync the dir. */
function writeAtomically(where: StateLocation, text: string): void {
  const { path, dir } = where;
  removeDeadWritersTemps(where);
  requireReplaceable(where);
  // Only has to differ from a temp file a crashed writer with our pid left behind (createNew
  // refuses to reuse one); Math.random, because crypto's first use costs a hook ~0.25 ms.
  const random = Math.floor(Math.random() * 0x1_0000_0000).toString(16);
  const temp = `${dir}/.${where.name}.${Deno.pid}.${random}.tmp`;
  try {
    const file = Deno.openSync(temp, { write: true, createNew: true, mode: 0o644 });
    try {
      const bytes = new TextEncoder().encode(text);
      let written = 0;
      while (written < bytes.length) written += file.writeSync(bytes.subarray(written));
      file.syncSync();
    } finally {
      file.close();
    }
    Deno.chmodSync(temp, 0o644); // exactly 0644 whatever the umask
    Deno.renameSync(temp, `${dir}/${where.name}`);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch {
      // Never created, or already renamed: nothing to clean up.
    }
    throw ioError(path, "write", error);
  }
  // Make the rename itself durable; best effort (not every filesystem allows fsync on a dir).
  try {
    const handle = Deno.openSync(dir, { read: true });
    try {
      handle.syncSync();
    } finally {
      handle.close();
    }
  } catch {
    // The data is already synced; only the rename's durability is at stake.
  }
}

/** Whether a lock file's owner or mode would let someone but the policy's owner hold it (or
 * swap it): such a lock is replaced. */
function lockIsForeign(info: Deno.FileInfo, policy: TrustPolicy): boolean {
  if (policy.ownerUid === null) return false;
  return info.uid !== policy.ownerUid || ((info.mode ?? 0o777) & 0o022) !== 0;
}

/** Put a fresh 0600 lock file in place of a foreign one, by rename (atomic; the directory is
 * root's, walked): a process holding the old one holds a lock nobody else takes any more. */
function replaceLock(lockPath: string, shown: string): void {
  const random = Math.floor(Math.random() * 0x1_0000_0000).toString(16);
  const temp = `${lockPath}.${Deno.pid}.${random}.tmp`;
  try {
    Deno.openSync(temp, { write: true, createNew: true, mode: 0o600 }).close();
    Deno.chmodSync(temp, 0o600);
    Deno.renameSync(temp, lockPath);
  } catch (error) {
    try {
      Deno.removeSync(temp);
    } catch {
      // never created
    }
    throw ioError(shown, "lock", error);
  }
}

/**
 * Open the lock file (`<state>.lock`, 0600) of `where`: never anything but a regular file (a
 * FIFO there is refused without being opened), and one owned by someone else or writable by
 * others is first replaced. Returns the open file and what it is (fstat), for holdLock.
 */
function openLock(where: StateLocation, policy: TrustPolicy): Deno.FsFile {
  const lockPath = `${where.dir}/${where.name}.lock`;
  const shown = `${where.path}.lock`;
  let info: Deno.FileInfo | null = null;
  try {
    info = Deno.lstatSync(lockPath);
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw ioError(shown, "lock", error);
  }
  if (info !== null) {
    requireRegular(shown, info, "lock file");
    if (lockIsForeign(info, policy)) replaceLock(lockPath, shown);
  }
  let lock: Deno.FsFile;
  try {
    lock = Deno.openSync(lockPath, { read: true, write: true, create: true, mode: 0o600 });
  } catch (error) {
    throw ioError(shown, "lock", error);
  }
  const opened = lock.statSync();
  // Created or swapped under us between the lstat and the open (only root can, in a walked
  // directory): judged on what was opened.
  if (!opened.isFile || lockIsForeign(opened, policy)) {
    lock.close();
    requireRegular(shown, opened, "lock file");
    throw new StateFileError(
      "untrusted",
      shown,
      `refusing the lock file ${shown}: it changed while it was opened; try again`,
    );
  }
  return lock;
}

/** Whether the held `lock` is still the file at its path (a replaceLock elsewhere would have
 * put a new one there, which the next holder locks instead). */
function stillTheLock(where: StateLocation, lock: Deno.FsFile): boolean {
  try {
    const now = Deno.lstatSync(`${where.dir}/${where.name}.lock`);
    const held = lock.statSync();
    return now.ino === held.ino && now.dev === held.dev;
  } catch {
    return false;
  }
}

/**
 * Run `fn` holding the exclusive lock of `path` (flock on `<path>.lock`, mode 0600 so only its
 * owner can take it). The lock file is never removed: removing lock files reopens the race.
 */
export async function withStateLock<T>(
  path: string,
  fn: () => Promise<T>,
  options: StateFileOptions = {},
): Promise<T> {
  return await withLockAt(path, () => fn(), options);
}

async function withLockAt<T>(
  path: string,
  fn: (where: StateLocation) => Promise<T>,
  options: StateFileOptions,
): Promise<T> {
  const policy = options.trust ?? defaultTrust();
  const where = ensureDirectory(path, policy);
  for (let attempt = 0; attempt < 5; attempt++) {
    const lock = openLock(where, policy);
    try {
      // Uncontended (the usual case) the lock is taken at once; a holder (another hook, or an
      // update under way in this very process, whose flock on its own descriptor conflicts
      // too) is waited for off the main thread, so this process keeps running meanwhile.
      if (!lock.tryLockSync(true)) await lock.lock(true);
      if (!stillTheLock(where, lock)) continue; // replaced while we waited: lock the new one
      return await fn(where);
    } finally {
      lock.close(); // closing releases the flock
    }
  }
  throw new StateFileError("io", path, `the lock file ${path}.lock kept being replaced`);
}

/** Write the whole state under the lock. */
export async function writeState(
  path: string,
  state: DefrouteState,
  options: StateFileOptions = {},
): Promise<void> {
  await withLockAt(
    path,
    (where) => Promise.resolve(writeAtomically(where, formatState(state))),
    options,
  );
}

/**
 * Whether `save --force` may replace the state file that failed with `error`: a regular file
 * that is corrupt, too large, from a newer version or not root's (replaced by rename, which drops
 * it safely). Never a directory on the way, and never anything but a regular file ("not-regular").
 */
export function isReplaceable(error: unknown, path: string): error is StateFileError {
  return error instanceof StateFileError && error.path === path &&
    (error.kind === "corrupt" || error.kind === "future-version" || error.kind === "too-large" ||
      error.kind === "untrusted");
}

export interface UpdateOptions extends StateFileOptions {
  /** Hand `fn` null instead of failing when the existing file is corrupt, too large or from a
   * newer version (`save --force`). An untrusted directory is still refused. */
  replaceUnreadable?: boolean;
}

export interface UpdateResult {
  state: DefrouteState | null;
  written: boolean;
  /** The error of an unreadable file that was replaced (replaceUnreadable). */
  replaced: StateFileError | null;
}

/**
 * Read-modify-write under the exclusive lock: `fn` gets the current state (null when there is
 * none) and returns the new one, or null to leave the file as it is. The watch daemon records
 * the last good default with this; `save` merges with it.
 */
export async function updateState(
  path: string,
  fn: (current: DefrouteState | null) => DefrouteState | null | Promise<DefrouteState | null>,
  options: UpdateOptions = {},
): Promise<UpdateResult> {
  return await withLockAt(path, async (where) => {
    let current: DefrouteState | null = null;
    let replaced: StateFileError | null = null;
    try {
      // The directory was walked moments ago (withLockAt) and only root can change it: only
      // the file itself is looked at again.
      const policy = options.trust ?? defaultTrust();
      const file = `${where.dir}/${where.name}`;
      current = unchangedSinceLastRead(path, policy) === null
        ? readLocated(path, policy, () => ({ resolved: file, info: lstatOrNull(file) }))
        : await readState(path, options);
    } catch (error) {
      if (!options.replaceUnreadable || !isReplaceable(error, path)) throw error;
      replaced = error;
    }
    const next = await fn(current);
    if (next === null) return { state: current, written: false, replaced: null };
    writeAtomically(where, formatState(next));
    return { state: next, written: true, replaced };
  }, options);
}
