// The flags defroute runs with are written in three places besides lib/permissions.ts: the
// main.ts shebang, the README's wrapper script and the binary (compile_test.ts checks that one).
// They must not drift apart.
import { DENO_RUN_FLAGS, RUN_PERMISSIONS } from "../lib/permissions.ts";
import { assert, assertEquals } from "./assert.ts";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("main.ts's shebang runs deno with exactly DENO_RUN_FLAGS", () => {
  const first = Deno.readTextFileSync(`${ROOT}main.ts`).split("\n")[0];
  assertEquals(first, `#!/usr/bin/env -S deno run ${DENO_RUN_FLAGS.join(" ")}`);
});

Deno.test("the README's wrapper script runs deno with exactly DENO_RUN_FLAGS", () => {
  const readme = Deno.readTextFileSync(`${ROOT}README.md`);
  const line = readme.split("\n").find((l) => l.startsWith("exec ") && l.includes("main.ts"));
  assert(line !== undefined, "no wrapper line in the README");
  assertEquals(
    line,
    `exec /opt/homebrew/bin/deno run --quiet ${
      DENO_RUN_FLAGS.join(" ")
    } /path/to/defroute/main.ts "$@"`,
  );
});

Deno.test("DENO_RUN_FLAGS is RUN_PERMISSIONS plus loading flags, never a permission", () => {
  assertEquals(DENO_RUN_FLAGS.slice(0, RUN_PERMISSIONS.length), [...RUN_PERMISSIONS]);
  for (const flag of DENO_RUN_FLAGS.slice(RUN_PERMISSIONS.length)) {
    assert(!/^--(allow|deny)-/.test(flag) && flag !== "-A", `${flag} grants something`);
  }
});
