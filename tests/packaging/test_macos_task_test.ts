/**
 * `deno task test:macos` (scripts/test_macos.ts) and the environment hygiene of the real-Mac tier
 * (tests/macos/mac.ts): no DEFROUTE_* override reaches it, sudo gets a minimal environment, and
 * off macOS the tier skips with its reason printed and exits 0.
 */
import { assert, assertEquals, assertMatch } from "../assert.ts";
import { sudoArgs, tierArgs } from "../../scripts/test_macos.ts";
import { cleanEnv, leakedOverrides } from "../macos/mac.ts";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../../", import.meta.url)).replace(/\/$/, "");

Deno.test("cleanEnv drops every DEFROUTE_* variable but the tier's opt-in", () => {
  const env = {
    PATH: "/usr/bin",
    HOME: "/Users/me",
    DEFROUTE_LIBSYSTEM: "/tmp/libsystem_standin.so",
    DEFROUTE_SCUTIL: "/tmp/scutil",
    DEFROUTE_PLATFORM: "darwin",
    DEFROUTE_SIM_SOCKET: "/tmp/sim.sock",
    DEFROUTE_STATE: "/tmp/state.json",
    DEFROUTE_MAC_DESTRUCTIVE: "1",
  };
  assertEquals(cleanEnv(env, { LC_ALL: "C" }), {
    PATH: "/usr/bin",
    HOME: "/Users/me",
    DEFROUTE_MAC_DESTRUCTIVE: "1",
    LC_ALL: "C",
  });
  assertEquals(leakedOverrides(env), [
    "DEFROUTE_LIBSYSTEM",
    "DEFROUTE_PLATFORM",
    "DEFROUTE_SCUTIL",
    "DEFROUTE_SIM_SOCKET",
    "DEFROUTE_STATE",
  ]);
  assertEquals(leakedOverrides({ PATH: "/bin", DEFROUTE_MAC_DESTRUCTIVE: "1" }), []);
});

Deno.test("the root run goes through env -i: system PATH, root's HOME, only the opt-in", () => {
  const deno = "/opt/deno/bin/deno";
  const args = sudoArgs(deno, ["--filter", "feth"], { DEFROUTE_MAC_DESTRUCTIVE: "1" });
  assertEquals(args.slice(0, 6), [
    "/usr/bin/env",
    "-i",
    "PATH=/usr/bin:/bin:/usr/sbin:/sbin",
    "HOME=/var/root",
    "NO_COLOR=1",
    "DEFROUTE_MAC_DESTRUCTIVE=1",
  ]);
  assertEquals(args.slice(6), [deno, ...tierArgs(["--filter", "feth"])]);
  assertEquals(args.filter((a) => a.startsWith("DEFROUTE_")), ["DEFROUTE_MAC_DESTRUCTIVE=1"]);
  // Anything but "1" is no opt-in.
  const off = sudoArgs(deno, [], { DEFROUTE_MAC_DESTRUCTIVE: "yes" });
  assertEquals(off.filter((a) => a.startsWith("DEFROUTE_")), []);
  assertEquals(tierArgs([]).at(-1), `${ROOT}/tests/macos/`);
});

const onMac = Deno.build.os === "darwin";
if (onMac) console.log("skipping the test:macos skip check: this is macOS, where the tier runs");

Deno.test({
  name: "off macOS, `deno task test:macos` skips the tier with its reason and exits 0",
  ignore: onMac,
  fn: async () => {
    const result = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", `${ROOT}/scripts/test_macos.ts`],
      // A stand-in left in the environment must not reach the tier.
      env: { DEFROUTE_PLATFORM: "darwin", DEFROUTE_LIBSYSTEM: "/nonexistent.so", NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(result.stdout);
    assertEquals(result.code, 0, stdout + new TextDecoder().decode(result.stderr));
    assertMatch(stdout, /skipping the real-Mac read tests: needs macOS .*this is linux/);
    const summary = stdout.match(/tests: (\d+) passed, (\d+) failed, (\d+) skipped/);
    assert(summary, stdout.slice(-500));
    assertEquals(summary[2], "0");
    assert(Number(summary[1]) > 0, "the tier's pure parser tests did not run");
    assert(Number(summary[3]) > 0, "no real-Mac case was skipped");
    assert(!stdout.includes("as root (sudo)"), "it tried sudo off macOS");
  },
});
