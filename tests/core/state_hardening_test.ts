/**
 * The state file against what an attack run found (a FIFO, a device node, a socket or a
 * directory at the state path; a state directory reached through another user's link; a
 * world-writable grandparent; `save --force` over anything; a foreign lock file; temp files of
 * killed saves). Each case failed on the code before this file.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { type DefrouteState, StateFileError } from "../../lib/core/state/schema.ts";
import { readState, updateState, writeState } from "../../lib/core/state/store.ts";
import { lchown, mkfifo, mknodNull, stopUnblocker, unblockFifoAfter } from "./file_kinds.ts";

const isRoot = Deno.uid() === 0;
const NOBODY = 65534;

const SAMPLE: DefrouteState = {
  version: 1,
  updatedAt: "2026-11-25T21:00:00.000Z",
  families: {
    4: {
      route: { gateway: "192.168.1.1", interface: "en0", index: 4, flags: 0x803 },
      scutil: null,
      savedAt: "2026-11-25T21:00:00.000Z",
      savedBy: "save",
    },
  },
};

async function sandbox(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "defroute-harden-" });
  await Deno.chmod(dir, 0o755);
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const refusedAs = (kind: StateFileError["kind"], message: RegExp) => (e: unknown) =>
  e instanceof StateFileError && e.kind === kind && message.test(e.message);

Deno.test("a FIFO at the state path is refused by name, without being opened", async () => {
  await sandbox(async (dir) => {
    const path = `${dir}/s.json`;
    await mkfifo(path);
    const guard = unblockFifoAfter(path, 3);
    try {
      await assertRejects(
        () => readState(path),
        refusedAs("not-regular", /s\.json: it is a FIFO \(named pipe\), not a regular file/),
      );
      // save / save --force would have held the lock while hung: refused the same way, and the
      // FIFO is left where it is.
      await assertRejects(
        () => updateState(path, () => SAMPLE, { replaceUnreadable: true }),
        refusedAs("not-regular", /FIFO/),
      );
      assert(Deno.lstatSync(path).isFifo);
      // writeState (no read) does not rename over it either.
      await assertRejects(() => writeState(path, SAMPLE), refusedAs("not-regular", /FIFO/));
      assert(Deno.lstatSync(path).isFifo);
    } finally {
      await stopUnblocker(guard);
    }
  });
});

Deno.test("a socket or a directory at the state path: refused with its type, kept", async () => {
  await sandbox(async (dir) => {
    const socketPath = `${dir}/sock.json`;
    const listener = Deno.listen({ transport: "unix", path: socketPath });
    try {
      await assertRejects(() => readState(socketPath), refusedAs("not-regular", /a socket/));
      await assertRejects(
        () => updateState(socketPath, () => SAMPLE, { replaceUnreadable: true }),
        refusedAs("not-regular", /a socket/),
      );
      assert(Deno.lstatSync(socketPath).isSocket);
    } finally {
      listener.close();
    }
    const dirPath = `${dir}/dir.json`;
    await Deno.mkdir(dirPath);
    await assertRejects(() => readState(dirPath), refusedAs("not-regular", /a directory/));
    await assertRejects(
      () => updateState(dirPath, () => SAMPLE, { replaceUnreadable: true }),
      refusedAs("not-regular", /a directory/),
    );
  });
});

Deno.test({
  name: "save --force never replaces a device node or a symbolic link (only a regular file)",
  ignore: !isRoot,
  fn: async () => {
    await sandbox(async (dir) => {
      // A copy of /dev/null's device (1,3): reads as empty, which the old code called a
      // corrupt state file and let --force replace.
      const device = `${dir}/dev.json`;
      await mknodNull(device);
      await assertRejects(
        () => updateState(device, () => SAMPLE, { replaceUnreadable: true }),
        refusedAs("not-regular", /dev\.json: it is a character device/),
      );
      assert(Deno.lstatSync(device).isCharDevice);

      // A link (to an unrelated root file): never followed, never replaced.
      const target = `${dir}/unrelated`;
      await Deno.writeTextFile(target, "root's own data\n");
      const link = `${dir}/link.json`;
      await Deno.symlink(target, link);
      await assertRejects(
        () => updateState(link, () => SAMPLE, { replaceUnreadable: true }),
        refusedAs("not-regular", /link\.json: it is a symbolic link/),
      );
      assert(Deno.lstatSync(link).isSymlink);
      assertEquals(await Deno.readTextFile(target), "root's own data\n");

      // A corrupt regular file is still what --force is for.
      const corrupt = `${dir}/corrupt.json`;
      await Deno.writeTextFile(corrupt, "{not json");
      const result = await updateState(corrupt, () => SAMPLE, { replaceUnreadable: true });
      assertEquals(result.replaced?.kind, "corrupt");
      assertEquals(await readState(corrupt), SAMPLE);
    });
  },
});

Deno.test({
  name: "as root: a state directory through another user's link, or under a world-writable " +
    "grandparent, is refused (lock and save land nowhere)",
  ignore: !isRoot,
  fn: async () => {
    await sandbox(async (dir) => {
      // The case: /tmp/x/state -> a root-owned directory, the link owned by a user,
      // who can point it elsewhere at any time.
      await Deno.mkdir(`${dir}/target`, { mode: 0o755 });
      await Deno.symlink(`${dir}/target`, `${dir}/state`);
      await lchown(`${dir}/state`, NOBODY);
      const path = `${dir}/state/state.json`;
      await assertRejects(
        () => writeState(path, SAMPLE),
        refusedAs("untrusted", /\/state is a symbolic link owned by uid 65534, not root/),
      );
      await assertRejects(() => readState(path), refusedAs("untrusted", /owned by uid 65534/));
      // Neither the lock nor the state file was created in the directory it points to.
      assertEquals([...Deno.readDirSync(`${dir}/target`)].length, 0);

      // The same link owned by root is followed: the lock and the file go to the target.
      await lchown(`${dir}/state`, 0);
      await writeState(path, SAMPLE);
      assertEquals(await readState(path), SAMPLE);
      assertEquals(
        [...Deno.readDirSync(`${dir}/target`)].map((e) => e.name).sort(),
        ["state.json", "state.json.lock"],
      );

      // A world-writable grandparent: its owner-less writers could rename the directory away.
      await Deno.mkdir(`${dir}/open/run/defroute`, { recursive: true, mode: 0o755 });
      await Deno.chmod(`${dir}/open`, 0o777);
      const deep = `${dir}/open/run/defroute/state.json`;
      await assertRejects(
        () => writeState(deep, SAMPLE),
        refusedAs("untrusted", /open is writable by others \(mode 0777\)/),
      );
      await assertRejects(() => readState(deep), refusedAs("untrusted", /writable by others/));
      assertEquals([...Deno.readDirSync(`${dir}/open/run/defroute`)].length, 0);
    });
  },
});

Deno.test({
  name: "as root: a lock file another user owns or others can write is replaced, not used",
  ignore: !isRoot,
  fn: async () => {
    await sandbox(async (dir) => {
      const path = `${dir}/state.json`;
      const lock = `${path}.lock`;
      for (const [uid, mode] of [[NOBODY, 0o600], [0, 0o666]] as const) {
        await Deno.writeTextFile(lock, "");
        await Deno.chown(lock, uid, uid);
        await Deno.chmod(lock, mode);
        const before = Deno.lstatSync(lock).ino;
        await writeState(path, SAMPLE);
        const after = Deno.lstatSync(lock);
        assert(after.ino !== before, "the foreign lock file was used as it was");
        assertEquals(after.uid, 0);
        assertEquals(after.mode! & 0o777, 0o600);
        await Deno.remove(lock);
      }
    });
  },
});

Deno.test("a FIFO as the lock file is refused by name, never opened", async () => {
  await sandbox(async (dir) => {
    const path = `${dir}/state.json`;
    await mkfifo(`${path}.lock`);
    await assertRejects(
      () => writeState(path, SAMPLE),
      refusedAs("not-regular", /lock file .*state\.json\.lock: it is a FIFO/),
    );
    assert(Deno.lstatSync(`${path}.lock`).isFifo);
  });
});

Deno.test("temp files of killed saves are removed on the next write; nothing else is", async () => {
  await sandbox(async (dir) => {
    const path = `${dir}/state.json`;
    // What a save killed between creating its temp file and renaming it leaves behind.
    const dead = [".state.json.4242.1f2e3d.tmp", ".state.json.1.0.tmp"];
    for (const name of dead) await Deno.writeTextFile(`${dir}/${name}`, "{}");
    // Not ours: another state file's temp, a directory that looks like one, other names.
    const kept = [".other.json.4242.1f2e3d.tmp", ".state.json.x.1f.tmp", "state.json.bak"];
    for (const name of kept) await Deno.writeTextFile(`${dir}/${name}`, "{}");
    await Deno.mkdir(`${dir}/.state.json.7.ab.tmp`);
    await writeState(path, SAMPLE);
    const names = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assertEquals(
      names,
      [...kept, ".state.json.7.ab.tmp", "state.json", "state.json.lock"].sort(),
    );
  });
});

Deno.test("a temp file left by a save killed with SIGKILL mid-write is cleaned up", async () => {
  await sandbox(async (dir) => {
    const path = `${dir}/state.json`;
    await writeState(path, SAMPLE);
    // A writer that holds the lock and has created its temp file, then is killed (SIGKILL):
    // flock(1) holds the lock, sh creates the temp file, both die.
    const temp = `${dir}/.state.json.99999.abcdef.tmp`;
    const child = new Deno.Command("flock", {
      args: [`${path}.lock`, "sh", "-c", 'echo "{" > "$1"; kill -KILL $$', "sh", temp],
      stdout: "null",
      stderr: "null",
    }).spawn();
    const status = await child.status;
    assertEquals(status.code, 128 + 9); // flock(1) reports its command's SIGKILL
    assert(Deno.lstatSync(temp).isFile);
    await writeState(path, SAMPLE);
    assertMatch(
      [...Deno.readDirSync(dir)].map((e) => e.name).sort().join(" "),
      /^state\.json state\.json\.lock$/,
    );
  });
});
