/**
 * lib/core/trust/path_trust.ts: every component of a path from `/` down (OpenSSH StrictModes, sudo's
 * secure_path), symbolic links resolved one by one and checked, sticky directories, trusted
 * groups. The rules are pure (componentProblem); the walk runs on real files, as root with
 * chown where ownership matters.
 */
import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import {
  componentProblem,
  defaultTrustedGids,
  fileTypeName,
  MAX_SYMLINKS,
  PathTrustError,
  resolveTrustedPath,
} from "../../lib/core/trust/path_trust.ts";
import { lchown, mkfifo } from "./file_kinds.ts";

const isRoot = Deno.uid() === 0;
const NOBODY = 65534;
const ROOT = { ownerUid: 0 };

const dir = (mode: number, uid = 0, gid = 0) => ({
  uid,
  gid,
  mode: 0o40000 | mode,
  isDirectory: true,
  isSymlink: false,
});

Deno.test("componentProblem: owner, group and others' write, sticky, trusted groups", () => {
  const last = { parentOfLast: false };
  assertEquals(componentProblem(dir(0o755), ROOT, last), null);
  assertEquals(componentProblem(dir(0o755, 501), ROOT, last), "is owned by uid 501, not root");
  assertEquals(
    componentProblem(dir(0o777, 0, 20), ROOT, last),
    "is writable by group and others (mode 0777)",
  );
  assertEquals(componentProblem(dir(0o777), ROOT, last), "is writable by others (mode 0777)");
  assertEquals(componentProblem(dir(0o757), ROOT, last), "is writable by others (mode 0757)");
  // sudo's rule: a group-writable directory is fine when the group is root's (gid 0) ...
  assertEquals(componentProblem(dir(0o775, 0, 0), ROOT, last), null);
  // ... and not when it is another group ...
  assertEquals(
    componentProblem(dir(0o775, 0, 20), ROOT, last),
    "is writable by group (mode 0775)",
  );
  // ... unless the policy trusts that group (macOS: daemon, owner of /private/var/run).
  assertEquals(
    componentProblem(dir(0o775, 0, 1), { ownerUid: 0, trustedGids: [0, 1] }, last),
    null,
  );
  assertEquals(defaultTrustedGids("darwin"), [0, 1]);
  assertEquals(defaultTrustedGids("linux"), [0]);
  // A sticky directory (/tmp): others can write it but not rename or remove root's entries.
  assertEquals(componentProblem(dir(0o1777), ROOT, last), null);
  // Not as the state file's own directory (strictParent): its lock and temp names are there.
  assertEquals(
    componentProblem(dir(0o1777), { ownerUid: 0, strictParent: true }, { parentOfLast: true }),
    "is writable by others (mode 1777)",
  );
  // A file is never judged by its group.
  const file = { uid: 0, gid: 0, mode: 0o100664, isDirectory: false, isSymlink: false };
  assertEquals(componentProblem(file, ROOT, last), "is writable by group (mode 0664)");
  // A link's own mode means nothing; its owner does.
  const link = { uid: 501, gid: 0, mode: 0o120777, isDirectory: false, isSymlink: true };
  assertEquals(
    componentProblem(link, ROOT, last),
    "is a symbolic link owned by uid 501, not root",
  );
  assertEquals(componentProblem({ ...link, uid: 0 }, ROOT, last), null);
  // No policy (not root): nothing is judged.
  assertEquals(componentProblem(dir(0o777, 501), { ownerUid: null }, last), null);
});

async function sandbox(fn: (dir: string) => Promise<void> | void): Promise<void> {
  const base = await Deno.makeTempDir({ prefix: "defroute-trust-" });
  await Deno.chmod(base, 0o755);
  try {
    await fn(base);
  } finally {
    await Deno.remove(base, { recursive: true });
  }
}

const untrusted = (component: string, problem: RegExp) => (e: unknown) =>
  e instanceof PathTrustError && e.kind === "untrusted" && e.component === component &&
  problem.test(e.problem);

Deno.test("resolveTrustedPath: links resolved one by one, '..', missing parts, loops", async () => {
  await sandbox(async (base) => {
    await Deno.mkdir(`${base}/real/sub`, { recursive: true, mode: 0o755 });
    await Deno.writeTextFile(`${base}/real/sub/file`, "x", { mode: 0o644 });
    await Deno.symlink("real", `${base}/rel`); // relative link
    await Deno.symlink(`${base}/real/sub`, `${base}/abs`); // absolute link
    await Deno.symlink("../sub/file", `${base}/real/sub/up`); // link with '..'
    const policy = { ownerUid: Deno.uid() };
    const real = await Deno.realPath(`${base}/real/sub/file`);
    assertEquals(resolveTrustedPath(`${base}/rel/sub/file`, policy).resolved, real);
    assertEquals(resolveTrustedPath(`${base}/abs/file`, policy).resolved, real);
    assertEquals(resolveTrustedPath(`${base}/abs/up`, policy).resolved, real);
    assertEquals(resolveTrustedPath(`${base}/abs/../sub/./file`, policy).resolved, real);
    const found = resolveTrustedPath(`${base}/abs/file`, policy);
    assert(found.info?.isFile);
    assertEquals(found.missing, null);
    // A final link is followed, or (followFinalLink: false) returned as the link it is.
    const asLink = resolveTrustedPath(`${base}/abs`, policy, { followFinalLink: false });
    assert(asLink.info?.isSymlink);
    // Missing components: where the path stops, and what is left.
    const missing = resolveTrustedPath(`${base}/abs/new/state.json`, policy);
    assertEquals(missing.info, null);
    assertEquals(missing.missing, {
      existing: await Deno.realPath(`${base}/real/sub`),
      rest: ["new", "state.json"],
    });
    // A file where a directory is needed.
    assertThrows(
      () => resolveTrustedPath(`${base}/abs/file/x`, policy),
      (e: unknown) => e instanceof PathTrustError && e.kind === "not-directory",
    );
    // A loop ends with "loop", not a hang or a stack overflow.
    await Deno.symlink("loop-b", `${base}/loop-a`);
    await Deno.symlink("loop-a", `${base}/loop-b`);
    assertThrows(
      () => resolveTrustedPath(`${base}/loop-a/x`, policy),
      (e: unknown) =>
        e instanceof PathTrustError && e.kind === "loop" &&
        e.message.includes(String(MAX_SYMLINKS)),
    );
  });
});

Deno.test({
  name: "as root: another user's directory, link or link target anywhere on the path is refused",
  ignore: !isRoot,
  fn: async () => {
    await sandbox(async (base) => {
      await Deno.mkdir(`${base}/root-dir`, { mode: 0o755 });
      await Deno.writeTextFile(`${base}/root-dir/file`, "x", { mode: 0o644 });
      assertEquals(
        resolveTrustedPath(`${base}/root-dir/file`, ROOT).resolved,
        `${base}/root-dir/file`,
      );

      // A symbolic link another user owns, even to root's own directory (the state
      // directory symlink, and the DEFROUTE_LAUNCHCTL link a user flips).
      await Deno.symlink(`${base}/root-dir`, `${base}/user-link`);
      await lchown(`${base}/user-link`, NOBODY);
      assertThrows(
        () => resolveTrustedPath(`${base}/user-link/file`, ROOT),
        untrusted(`${base}/user-link`, /symbolic link owned by uid 65534/),
      );
      // root's link into a directory another user owns: the target is walked the same way.
      await Deno.mkdir(`${base}/user-dir`, { mode: 0o755 });
      await Deno.writeTextFile(`${base}/user-dir/file`, "x", { mode: 0o644 });
      await Deno.chown(`${base}/user-dir`, NOBODY, NOBODY);
      await Deno.symlink(`${base}/user-dir`, `${base}/root-link`);
      assertThrows(
        () => resolveTrustedPath(`${base}/root-link/file`, ROOT),
        untrusted(`${base}/user-dir`, /owned by uid 65534/),
      );
      // A world-writable grandparent (not sticky): it could rename the whole subtree away.
      await Deno.mkdir(`${base}/open/mid`, { recursive: true, mode: 0o755 });
      await Deno.writeTextFile(`${base}/open/mid/file`, "x", { mode: 0o644 });
      await Deno.chmod(`${base}/open`, 0o777);
      assertThrows(
        () => resolveTrustedPath(`${base}/open/mid/file`, ROOT),
        untrusted(`${base}/open`, /writable by others \(mode 0777\)/),
      );
      // Made sticky, it is fine: root's entries in it cannot be renamed by others.
      await Deno.chmod(`${base}/open`, 0o1777);
      assertEquals(resolveTrustedPath(`${base}/open/mid/file`, ROOT).info?.isFile, true);
      // ... but another user's entry in it is not.
      await Deno.chown(`${base}/open/mid`, NOBODY, NOBODY);
      assertThrows(
        () => resolveTrustedPath(`${base}/open/mid/file`, ROOT),
        untrusted(`${base}/open/mid`, /owned by uid 65534/),
      );
      // The file itself, unless the caller judges it (judgeFinal: false).
      await Deno.chown(`${base}/root-dir/file`, NOBODY, NOBODY);
      assertThrows(
        () => resolveTrustedPath(`${base}/root-dir/file`, ROOT),
        untrusted(`${base}/root-dir/file`, /owned by uid 65534/),
      );
      assert(resolveTrustedPath(`${base}/root-dir/file`, ROOT, { judgeFinal: false }).info);
    });
  },
});

Deno.test("fileTypeName names what a path is", async () => {
  await sandbox(async (base) => {
    await Deno.mkdir(`${base}/d`);
    await Deno.writeTextFile(`${base}/f`, "");
    await Deno.symlink("f", `${base}/l`);
    await mkfifo(`${base}/p`);
    const listener = Deno.listen({ transport: "unix", path: `${base}/s` });
    try {
      assertEquals(fileTypeName(Deno.lstatSync(`${base}/f`)), "a regular file");
      assertEquals(fileTypeName(Deno.lstatSync(`${base}/d`)), "a directory");
      assertEquals(fileTypeName(Deno.lstatSync(`${base}/l`)), "a symbolic link");
      assertEquals(fileTypeName(Deno.lstatSync(`${base}/p`)), "a FIFO (named pipe)");
      assertEquals(fileTypeName(Deno.lstatSync(`${base}/s`)), "a socket");
      assertEquals(fileTypeName(Deno.lstatSync("/dev/null")), "a character device");
      assertMatch(fileTypeName(Deno.lstatSync("/dev/null")), /device/);
    } finally {
      listener.close();
    }
  });
});
