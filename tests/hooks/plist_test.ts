import { assert, assertEquals, assertMatch, assertThrows } from "../assert.ts";
import { HAVE_PLISTLIB, hookFiles, HOOKS_DIR, parsePlist } from "./helpers.ts";
import { main } from "../../lib/cli/main.ts";
import { memoryOutput } from "../../lib/cli/output.ts";
import {
  bootoutArgs,
  bootstrapArgs,
  daemonPlist,
  escapeXml,
  isNotLoaded,
  plistPath,
  PlistValueError,
  renderPlist,
  validateAbsolutePath,
  validateLabel,
  watchProgramArguments,
} from "../../lib/daemon/launchd_plist.ts";

if (!HAVE_PLISTLIB) console.log("plist tests skipped: python3 with plistlib is not on PATH");

const PLISTS = hookFiles((path) => path.endsWith(".plist"));

Deno.test("hooks/ ships the launchd and sing-box plists", () => {
  const names = PLISTS.map((path) => path.split("/").slice(-2).join("/"));
  assertEquals(names, ["launchd/org.defroute.watch.plist", "sing-box/org.defroute.sing-box.plist"]);
});

for (const path of PLISTS) {
  const name = path.split("/").slice(-2).join("/");
  Deno.test({
    name: `${name} parses and has what launchd needs`,
    ignore: !HAVE_PLISTLIB,
    fn: async () => {
      const job = await parsePlist(await Deno.readTextFile(path)) as Record<string, unknown>;
      // launchd wants the label to match the file name (launchctl warns otherwise).
      assertEquals(job.Label, path.split("/").pop()?.replace(/\.plist$/, ""));
      validateLabel(String(job.Label));
      const args = job.ProgramArguments;
      assert(Array.isArray(args) && args.length >= 2, "ProgramArguments is a non-trivial array");
      for (const arg of args) assertEquals(typeof arg, "string");
      assertMatch(String(args[0]), /^\/usr\/local\/bin\/defroute$/);
      assertEquals(job.RunAtLoad, true);
      assertEquals(job.KeepAlive, true);
      assertMatch(String(job.StandardOutPath), /^\/var\/log\/[a-z-]+\.log$/);
      assertEquals(job.StandardErrorPath, job.StandardOutPath);
    },
  });
}

Deno.test("the shipped daemon plist and newsyslog entry are exactly what 'hook install' writes", async () => {
  const dir = `${HOOKS_DIR}launchd/`;
  const out = memoryOutput(true);
  const code = await main(
    ["hook", "print", "--json", "--binary", "/usr/local/bin/defroute"],
    () => out,
  );
  assertEquals(code, 0, out.stderr.join("\n"));
  const printed = JSON.parse(out.stdout.join(""));
  assertEquals(await Deno.readTextFile(`${dir}org.defroute.watch.plist`), printed.plist);
  assertEquals(printed.newsyslog.path, "/etc/newsyslog.d/org.defroute.watch.conf");
  assertEquals(await Deno.readTextFile(`${dir}org.defroute.watch.conf`), printed.newsyslog.conf);
  assertEquals(
    printed.programArguments,
    ["/usr/local/bin/defroute", "watch", "--heal", "--log-file", "/var/log/defroute.log"],
  );
});

Deno.test({
  name: "the sing-box plist wraps sing-box in 'defroute run --'",
  ignore: !HAVE_PLISTLIB,
  fn: async () => {
    const path = PLISTS.find((p) => p.endsWith("org.defroute.sing-box.plist")) ?? "";
    const job = await parsePlist(await Deno.readTextFile(path)) as { ProgramArguments: string[] };
    const args = job.ProgramArguments;
    assertEquals(args.slice(0, 3), ["/usr/local/bin/defroute", "run", "--"]);
    assertEquals(args.slice(3, 5), ["/usr/local/bin/sing-box", "run"]);
  },
});

Deno.test({
  name: "the sing-box plist starts it in a writable working directory the README creates",
  ignore: !HAVE_PLISTLIB,
  fn: async () => {
    // launchd starts a job in / (read-only system volume since macOS 10.15) unless the plist
    // says otherwise; sing-box's cache file and relative rule-set paths resolve against it.
    const path = PLISTS.find((p) => p.endsWith("org.defroute.sing-box.plist")) ?? "";
    const job = await parsePlist(await Deno.readTextFile(path)) as { WorkingDirectory?: string };
    const dir = job.WorkingDirectory ?? "";
    // Homebrew's sing-box service uses var/lib/sing-box (its --directory): the same place.
    assertEquals(dir, "/usr/local/var/lib/sing-box");
    const readme = await Deno.readTextFile(`${path.slice(0, path.lastIndexOf("/"))}/README.md`);
    assert(
      readme.includes(`sudo install -d -o root -g wheel -m 0755 ${dir}`),
      "the README creates the working directory, root-owned",
    );
  },
});

Deno.test({
  name: "parsePlist really rejects a malformed plist",
  ignore: !HAVE_PLISTLIB,
  fn: async () => {
    let rejected = false;
    try {
      await parsePlist(`<plist version="1.0"><dict><key>a</key><string>x</dict></plist>`);
    } catch {
      rejected = true;
    }
    assert(rejected, "plistlib accepted broken XML");
  },
});

Deno.test({
  name: "hostile characters in paths survive as text, not markup",
  ignore: !HAVE_PLISTLIB,
  fn: async () => {
    const logPath = `/tmp/a&b<c>d"e'f]]>g</string><key>x</key><string>.log`;
    const binary = "/opt/My Tools/défroute";
    const xml = daemonPlist({
      label: "com.example.x-y_z",
      programArguments: watchProgramArguments(binary, "/var/run/defroute/state & co.json"),
      logPath,
    });
    const job = await parsePlist(xml) as Record<string, unknown>;
    assertEquals(job.StandardOutPath, logPath);
    assertEquals(job.ProgramArguments, [
      binary,
      "watch",
      "--heal",
      "--state",
      "/var/run/defroute/state & co.json",
    ]);
    assertEquals(Object.keys(job).sort(), [
      "KeepAlive",
      "Label",
      "ProgramArguments",
      "RunAtLoad",
      "StandardErrorPath",
      "StandardOutPath",
    ]);
  },
});

Deno.test({
  name: "renderPlist writes every value type plistlib reads back",
  ignore: !HAVE_PLISTLIB,
  fn: async () => {
    const value = {
      s: "x",
      t: true,
      f: false,
      n: 42,
      a: ["1", 2],
      e: [],
      d: {},
      nested: { k: "v" },
    };
    assertEquals(await parsePlist(renderPlist(value)), value);
  },
});

Deno.test("labels: reverse-DNS accepted, anything else rejected", () => {
  for (const good of ["org.defroute.watch", "com.example.vpn-guard", "a.b", "io.x_y.z9"]) {
    assertEquals(validateLabel(good), good);
  }
  for (
    const bad of [
      "",
      "defroute",
      "org.defroute.",
      ".org.defroute",
      "org..defroute",
      "org/defroute.watch",
      "../../etc/passwd.x",
      "org.defroute watch",
      "org.defroute.<x>",
      'org.defroute."x"',
      "org.defroute.watch\n",
      "a.".repeat(150) + "b",
    ]
  ) {
    assertThrows(() => validateLabel(bad), (e) => e instanceof PlistValueError);
  }
});

Deno.test("paths must be absolute, without '..' or control characters", () => {
  assertEquals(
    validateAbsolutePath("/usr/local/bin/defroute", "binary"),
    "/usr/local/bin/defroute",
  );
  for (const bad of ["defroute", "./defroute", "", "/usr/../bin/x", "/tmp/a\nb", "/tmp/\u0000"]) {
    assertThrows(
      () => validateAbsolutePath(bad, "binary"),
      (e) => e instanceof PlistValueError && /^binary "/.test(e.message),
    );
  }
  assertThrows(() => watchProgramArguments("bin/defroute"), /not an absolute path/);
  assertThrows(() => watchProgramArguments("/bin/defroute", "state.json"), /state path/);
});

Deno.test("escapeXml escapes the five specials and refuses control characters", () => {
  assertEquals(
    escapeXml(`<a href="x">&'</a>`),
    "&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;",
  );
  assertThrows(() => escapeXml("bell\u0007"), /control characters/);
});

Deno.test("a job without a program or with a relative program is refused", () => {
  const job = { label: "org.defroute.watch", logPath: "/var/log/defroute.log" };
  assertThrows(() => daemonPlist({ ...job, programArguments: [] }), /empty/);
  assertThrows(() => daemonPlist({ ...job, programArguments: ["defroute"] }), /absolute/);
  assertThrows(
    () => daemonPlist({ ...job, programArguments: ["/bin/x"], logPath: "defroute.log" }),
    /log path/,
  );
});

Deno.test("plist path and launchctl argument lists", () => {
  assertEquals(
    plistPath("", "org.defroute.watch"),
    "/Library/LaunchDaemons/org.defroute.watch.plist",
  );
  assertEquals(
    plistPath("/tmp/stage/", "org.defroute.watch"),
    "/tmp/stage/Library/LaunchDaemons/org.defroute.watch.plist",
  );
  assertEquals(bootstrapArgs("/L/x.plist"), ["bootstrap", "system", "/L/x.plist"]);
  assertEquals(bootoutArgs("org.defroute.watch"), ["bootout", "system/org.defroute.watch"]);
  assertThrows(() => bootoutArgs("x/../y"), (e) => e instanceof PlistValueError);
});

Deno.test("isNotLoaded recognises launchctl's 'no such service' answers only", () => {
  const table: [number, string, boolean][] = [
    [3, "Boot-out failed: 3: No such process", true],
    [113, "Could not find specified service", true],
    [36, "Boot-out failed: 36: Operation now in progress", false],
    [5, "Boot-out failed: 5: Input/output error", false],
    [1, "Operation not permitted", false],
  ];
  for (const [code, stderr, expected] of table) {
    assertEquals(isNotLoaded(code, stderr), expected, `${code} ${stderr}`);
  }
});
