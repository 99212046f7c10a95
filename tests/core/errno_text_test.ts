/**
 * A failed system call is named with its errno and what the errno says (issue 14 item 3), on
 * both backends, from one table of words keyed by the POSIX name (lib/util/errno_text.ts): the
 * numbers differ between darwin and Linux, the names and their meanings do not.
 */
import { assertEquals } from "../assert.ts";
import { errnoMeaning } from "../../lib/util/errno_text.ts";
import { errnoText } from "../../lib/darwin/errno.ts";
import { LibcError } from "../../lib/linux/libc.ts";

Deno.test("errnoMeaning: the words of bsd/sys/errno.h by name; null for a name not listed", () => {
  assertEquals(errnoMeaning("EPERM"), "operation not permitted");
  assertEquals(errnoMeaning("ENOBUFS"), "no buffer space available");
  assertEquals(errnoMeaning("EBOGUS"), null);
  assertEquals(errnoMeaning("constructor"), null);
});

Deno.test("the same meaning by each platform's number: darwin ENOBUFS 55, Linux ENOBUFS 105", () => {
  assertEquals(errnoText(55), "no buffer space available");
  assertEquals(
    new LibcError("recvfrom", 105).describe(),
    "recvfrom failed with ENOBUFS (no buffer space available)",
  );
  assertEquals(
    new LibcError("socket", 13).describe(),
    "socket failed with EACCES (permission denied)",
  );
  assertEquals(new LibcError("socket", 0).describe(), "socket failed");
});
