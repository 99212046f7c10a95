import { assertEquals, assertThrows } from "../assert.ts";
import { checkOverrideTrusted, overridePath } from "../../lib/core/trust/override_path.ts";
import { CliError } from "../../lib/core/model/errors.ts";
import { lchown } from "./file_kinds.ts";

async function withFile(fn: (dir: string, file: string) => void | Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "defroute-override-" });
  const file = `${dir}/scutil`;
  await Deno.writeTextFile(file, "#!/bin/sh\n", { mode: 0o755 });
  await Deno.chmod(file, 0o755);
  await Deno.chmod(dir, 0o755);
  try {
    await fn(dir, file);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const refused = (pattern: RegExp) => (e: unknown) =>
  e instanceof CliError && pattern.test(e.message);
const me = Deno.uid() ?? 0;

Deno.test("override: unset means the system path", () => {
  Deno.env.delete("DEFROUTE_TEST_OVERRIDE");
  assertEquals(overridePath("DEFROUTE_TEST_OVERRIDE", "/usr/sbin/scutil"), "/usr/sbin/scutil");
});

Deno.test("override: a relative path is refused", () => {
  assertThrows(
    () => checkOverrideTrusted("DEFROUTE_SCUTIL", "bin/scutil", me),
    refused(/absolute/),
  );
});

Deno.test("override: a file owned by the required owner and not writable by others is used", async () => {
  await withFile((_dir, file) => {
    checkOverrideTrusted("DEFROUTE_SCUTIL", file, me);
    Deno.env.set("DEFROUTE_TEST_OVERRIDE", file);
    try {
      assertEquals(overridePath("DEFROUTE_TEST_OVERRIDE", "/usr/sbin/scutil"), file);
    } finally {
      Deno.env.delete("DEFROUTE_TEST_OVERRIDE");
    }
  });
});

Deno.test("override: a file others can write is refused", async () => {
  await withFile(async (_dir, file) => {
    await Deno.chmod(file, 0o777);
    assertThrows(
      () => checkOverrideTrusted("DEFROUTE_SCUTIL", file, me),
      refused(/writable by no one else/),
    );
  });
});

Deno.test("override: a directory others can write is refused", async () => {
  await withFile(async (dir, file) => {
    await Deno.chmod(dir, 0o777);
    assertThrows(() => checkOverrideTrusted("DEFROUTE_SCUTIL", file, me), refused(/directory/));
  });
});

Deno.test("override: a file owned by another user is refused", async () => {
  await withFile((_dir, file) => {
    // The required owner is someone else than the file's owner (us).
    assertThrows(
      () => checkOverrideTrusted("DEFROUTE_LIBSYSTEM", file, me + 1),
      refused(/owned by/),
    );
  });
});

Deno.test("override: a missing file is refused with a clear message", () => {
  assertThrows(
    () => checkOverrideTrusted("DEFROUTE_LIBSYSTEM", "/nonexistent/libsystem.so", me),
    refused(/does not exist/),
  );
});

Deno.test({
  name: "override as root: every component from / down; a user's link or directory is refused",
  ignore: Deno.uid() !== 0,
  fn: async () => {
    await withFile(async (dir, file) => {
      // A link another user owns, to root's own directory (the DEFROUTE_LAUNCHCTL race: the user
      // flips it between a root-owned directory and their own).
      const link = `${dir}/bin`;
      await Deno.symlink(dir, link);
      await lchown(link, 65534);
      assertThrows(
        () => checkOverrideTrusted("DEFROUTE_LAUNCHCTL", `${link}/scutil`, 0),
        refused(/bin is a symbolic link owned by uid 65534, not root/),
      );
      // A directory another user owns higher up, even with root's file and directory below it.
      await Deno.mkdir(`${dir}/user/root`, { recursive: true });
      await Deno.copyFile(file, `${dir}/user/root/scutil`);
      await Deno.chown(`${dir}/user`, 65534, 65534);
      assertThrows(
        () => checkOverrideTrusted("DEFROUTE_SCUTIL", `${dir}/user/root/scutil`, 0),
        refused(/user is owned by uid 65534, not root/),
      );
      // root's own link to root's own file is fine, and the path to use has no link left in it.
      await lchown(link, 0);
      assertEquals(checkOverrideTrusted("DEFROUTE_LAUNCHCTL", `${link}/scutil`, 0), file);
      // Something that is not a regular file is named.
      assertThrows(
        () => checkOverrideTrusted("DEFROUTE_LIBSYSTEM", dir, 0),
        refused(/it is a directory, not a regular file/),
      );
    });
  },
});
