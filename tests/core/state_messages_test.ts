/**
 * What the state file's messages say (issue 14 items 4 and 5).
 *
 * - The advice a refused state path gets: never to change a sticky or system directory
 *   (`sudo chown root /tmp && sudo chmod 755 /tmp` was once suggested, which breaks every user's
 *   /tmp), only ever defroute's own directory; otherwise a --state elsewhere.
 * - `save --force` over an unusable file says it replaced it, and nothing says it was left in
 *   place (it once said both).
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { StateFileError } from "../../lib/core/state/schema.ts";
import { checkTrusted } from "../../lib/core/state/store.ts";
import { DEFAULT_STATE_PATH } from "../../lib/core/state/state_path.ts";
import { dirname } from "../../lib/util/posix_path.ts";
import { saveDefaults } from "../../lib/core/ops/save.ts";
import { FakePrimary, FakeRouteTable, iface, route } from "./fake_route_table.ts";

const ROOT_POLICY = { ownerUid: 0 };
const DIRECTORY = 0o040000;

function refusal(path: string, what: "file" | "directory", uid: number, mode: number): string {
  try {
    checkTrusted(path, what, { uid, mode }, ROOT_POLICY);
  } catch (error) {
    assert(error instanceof StateFileError, String(error));
    return error.message;
  }
  throw new Error(`${path} was trusted`);
}

Deno.test("state advice: a sticky or system directory is never to be changed; --state elsewhere", () => {
  for (
    const [path, uid, mode] of [
      ["/tmp", 0, DIRECTORY | 0o1777],
      ["/var/tmp", 0, DIRECTORY | 0o1777],
      ["/private/tmp", 0, DIRECTORY | 0o1777],
      ["/", 501, DIRECTORY | 0o755],
      ["/var", 0, DIRECTORY | 0o775],
      ["/home/alice", 1000, DIRECTORY | 0o755],
      ["/srv/shared", 0, DIRECTORY | 0o777],
    ] as const
  ) {
    const message = refusal(path, "directory", uid, mode);
    assert(!/chown|chmod/.test(message), `${path}: ${message}`);
    assertMatch(message, /use --state PATH in a directory only root can write/);
    assert(message.includes(DEFAULT_STATE_PATH), message);
  }
  assertMatch(
    refusal("/tmp", "directory", 0, DIRECTORY | 0o1777),
    /\/tmp is a shared \(sticky\) directory, not one to change/,
  );
});

Deno.test("state advice: defroute's own directory may be fixed (it creates it 0755 for root)", () => {
  const own = dirname(DEFAULT_STATE_PATH);
  assertMatch(
    refusal(own, "directory", 501, DIRECTORY | 0o755),
    new RegExp(`Fix it with 'sudo chown root ${own} && sudo chmod 755 ${own}'`),
  );
  // Sticky even there: not changed.
  assert(!/chown/.test(refusal(own, "directory", 0, DIRECTORY | 0o1777)));
});

Deno.test({
  name: "save --state in a sticky directory, as root: refused without advice to change it",
  ignore: Deno.uid() !== 0,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "defroute-sticky-" });
    await Deno.chmod(dir, 0o1777);
    const table = new FakeRouteTable([iface("en0", 4, ["192.168.1.0/24"])], [
      route("192.168.1.1", "en0", 4),
    ]);
    const system = { table, primary: new FakePrimary({}) };
    try {
      const error = await saveDefaults(system, `${dir}/state.json`, { families: [4] }).then(
        () => null,
        (e) => e,
      );
      assert(error instanceof StateFileError, String(error));
      assertMatch(error.message, /refusing the state directory .*writable by group and others/);
      assert(!/chown|chmod/.test(error.message), error.message);
      assertMatch(
        error.message,
        /shared \(sticky\) directory, not one to change: use --state PATH/,
      );
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("save --force over an unusable state file says it replaced it, never 'left in place'", async () => {
  const dir = await Deno.makeTempDir({ prefix: "defroute-force-" });
  await Deno.chmod(dir, 0o755);
  const path = `${dir}/state.json`;
  const table = new FakeRouteTable([iface("en0", 4, ["192.168.1.0/24"])], [
    route("192.168.1.1", "en0", 4),
  ]);
  const system = { table, primary: new FakePrimary({}) };
  try {
    for (const [what, content] of [["corrupt", "garbage\n"], ["too large", "x".repeat(70_000)]]) {
      for (const dryRun of [true, false]) {
        await Deno.writeTextFile(path, content!, { mode: 0o644 });
        await Deno.chmod(path, 0o644);
        const lines: string[] = [];
        const log = {
          announce: (l: string) => lines.push(l),
          info: (l: string) => lines.push(l),
          debug: (l: string) => lines.push(l),
          warn: (l: string) => lines.push(l),
        };
        const report = await saveDefaults(system, path, {
          families: [4],
          force: true,
          dryRun,
          log,
        });
        const said = lines.join("\n");
        assert(!/left in place/.test(said), `${what}: ${said}`);
        assert(!/left in place/.test(report.replaced ?? ""), `${what}: ${report.replaced}`);
        assertMatch(
          said,
          new RegExp(
            `^${dryRun ? "would replace" : "replaced"} an unusable state file: ` +
              `the state file ${path} (cannot be used|is \\d+ bytes)`,
            "m",
          ),
        );
        assertEquals(report.written, !dryRun);
        assert(!(report.replaced ?? "").includes("\n"), "one line, the file's newline escaped");
      }
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
