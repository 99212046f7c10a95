/**
 * `defroute hook install|uninstall|print` end to end through main(), in-process, against a
 * temporary --root and a recording fake launchctl named by DEFROUTE_LAUNCHCTL.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { main } from "../../lib/cli/main.ts";
import { memoryOutput } from "../../lib/cli/output.ts";
import { CliError } from "../../lib/core/model/errors.ts";
import {
  hookCommand,
  hookSettings,
  needsRoot,
  runHook,
  systemHookEnvironment,
} from "../../lib/cli/hook.ts";
import { parseArgv } from "../../lib/cli/argv.ts";
import { newsyslogFields } from "../../lib/daemon/newsyslog.ts";
import { reportError } from "../../lib/cli/main.ts";
import type { CommandContext } from "../../lib/cli/command.ts";
import { HAVE_PLISTLIB, parsePlist } from "./helpers.ts";

const BASH_OK = (() => {
  try {
    return Deno.statSync("/bin/bash").isFile;
  } catch {
    return false;
  }
})();
if (!BASH_OK) {
  console.log("hook command tests skipped: /bin/bash (for the fake launchctl) is missing");
}

interface Sandbox {
  dir: string;
  root: string;
  binary: string;
  plist: string;
  /** launchctl argv of each call, in order. */
  calls(): Promise<string[][]>;
  /** Make the fake launchctl fail the next calls with this status and message. */
  failWith(code: number, message: string): Promise<void>;
  /** Set launchd's side: "loaded" (present or not), "linger" and "busy" counts (see the stub). */
  launchd(name: "loaded" | "linger" | "busy", value: string | null): Promise<void>;
  /** Every file under root, relative to it. */
  files(): string[];
  cleanup(): Promise<void>;
}

/** What an install leaves under --root: the plist and the newsyslog entry for its log. */
const INSTALLED = [
  "Library/LaunchDaemons/org.defroute.watch.plist",
  "etc/newsyslog.d/org.defroute.watch.conf",
];

async function sandbox(): Promise<Sandbox> {
  const dir = await Deno.makeTempDir({ prefix: "defroute-hook-" });
  const root = `${dir}/root`;
  await Deno.mkdir(root);
  const binary = `${dir}/bin/defroute`;
  await Deno.mkdir(`${dir}/bin`);
  await Deno.writeTextFile(binary, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const log = `${dir}/launchctl.log`;
  const status = `${dir}/launchctl.status`;
  const state = `${dir}/launchd`;
  await Deno.mkdir(state);
  // A launchctl that records each argv (one line of tab-separated words) and keeps launchd's
  // side in $state: `loaded` while the job is loaded; `linger` N: after a bootout the job stays
  // known to `print` for N more looks (launchd tearing it down); `busy` N or "always": so many
  // bootstraps fail with "5: Input/output error". A status file fails every call instead.
  await Deno.writeTextFile(
    `${dir}/launchctl`,
    `#!/bin/bash
( IFS=$'\\t'; printf '%s\\n' "$*" ) >> '${log}'
if [[ -f '${status}' ]]; then read -r code msg < '${status}'; echo "$msg" >&2; exit "$code"; fi
s='${state}'
count() { local n; n=$(<"$1"); [[ $n == always ]] && return 0; ((n > 0)) || return 1; echo $((n - 1)) > "$1"; }
case $1 in
  print)
    if [[ -f $s/going ]]; then
      count "$s/going" && { echo "state = stopping"; exit 0; }
      rm -f "$s/going" "$s/loaded"
    fi
    [[ -f $s/loaded ]] && { echo "state = running"; exit 0; }
    echo "Could not find service \"\${2#system/}\" in domain for system" >&2; exit 113 ;;
  bootout)
    [[ -f $s/loaded ]] || { echo "Boot-out failed: 3: No such process" >&2; exit 3; }
    if [[ -f $s/linger ]]; then cp "$s/linger" "$s/going"; else rm -f "$s/loaded"; fi ;;
  bootstrap)
    if [[ -f $s/busy || -f $s/going ]] && { [[ -f $s/going ]] || count "$s/busy"; }; then
      echo "Bootstrap failed: 5: Input/output error" >&2; exit 5
    fi
    [[ -f $s/loaded ]] && { echo "Bootstrap failed: 37: Operation already in progress" >&2; exit 37; }
    touch "$s/loaded" ;;
esac
exit 0
`,
    { mode: 0o755 },
  );
  const walk = (at: string, prefix: string): string[] =>
    [...Deno.readDirSync(at)].flatMap((e) =>
      e.isDirectory ? walk(`${at}/${e.name}`, `${prefix}${e.name}/`) : [`${prefix}${e.name}`]
    );
  return {
    dir,
    root,
    binary,
    plist: `${root}/Library/LaunchDaemons/org.defroute.watch.plist`,
    calls: async () => {
      try {
        const text = await Deno.readTextFile(log);
        return text.split("\n").filter((l) => l !== "").map((l) => l.split("\t"));
      } catch {
        return [];
      }
    },
    failWith: (code, message) => Deno.writeTextFile(status, `${code} ${message}\n`),
    launchd: (name, value) =>
      value === null
        ? Deno.remove(`${state}/${name}`).catch(() => {})
        : Deno.writeTextFile(`${state}/${name}`, `${value}\n`),
    files: () => walk(root, "").sort(),
    cleanup: () => Deno.remove(dir, { recursive: true }),
  };
}

/** Runs main() with DEFROUTE_LAUNCHCTL pointing into the sandbox. */
async function defroute(box: Sandbox, ...argv: string[]) {
  const outputs: ReturnType<typeof memoryOutput>[] = [];
  const previous = Deno.env.get("DEFROUTE_LAUNCHCTL");
  Deno.env.set("DEFROUTE_LAUNCHCTL", `${box.dir}/launchctl`);
  try {
    const code = await main(argv, (json, v) => {
      const o = memoryOutput(json, v);
      outputs.push(o);
      return o;
    });
    return {
      code,
      stdout: outputs.flatMap((o) => o.stdout).join("\n"),
      stderr: outputs.flatMap((o) => o.stderr),
    };
  } finally {
    if (previous === undefined) Deno.env.delete("DEFROUTE_LAUNCHCTL");
    else Deno.env.set("DEFROUTE_LAUNCHCTL", previous);
  }
}

/**
 * Like defroute(), but through runHook with a sleep that only records: for the retry and wait
 * paths (bootstrap's 0.5 + 1 + 2 + 4 s, the 250 ms looks after a bootout) without waiting.
 */
async function fast(box: Sandbox, ...argv: string[]) {
  const [command, ...args] = argv;
  assertEquals(command, "hook");
  const { values, positionals } = parseArgv(args, hookCommand.options);
  const out = memoryOutput(values.json === true, values.verbose ? 2 : 1);
  const sleeps: number[] = [];
  const previous = Deno.env.get("DEFROUTE_LAUNCHCTL");
  Deno.env.set("DEFROUTE_LAUNCHCTL", `${box.dir}/launchctl`);
  let code: number;
  try {
    const ctx: CommandContext = {
      values,
      positionals,
      rest: [],
      out,
      families: [4, 6],
      statePath: "/var/run/defroute/state.json",
      system: () => Promise.reject(new Error("hook must not open the routing backend")),
    };
    code = await runHook(ctx, {
      ...systemHookEnvironment(),
      sleep: (ms) => {
        sleeps.push(ms);
        return Promise.resolve();
      },
    });
  } catch (error) {
    code = reportError(out, error);
  } finally {
    if (previous === undefined) Deno.env.delete("DEFROUTE_LAUNCHCTL");
    else Deno.env.set("DEFROUTE_LAUNCHCTL", previous);
  }
  return { code, stdout: out.stdout.join("\n"), stderr: out.stderr, sleeps };
}

function hookTest(name: string, fn: (box: Sandbox) => Promise<void>) {
  Deno.test({
    name,
    ignore: !BASH_OK,
    fn: async () => {
      const box = await sandbox();
      try {
        await fn(box);
      } finally {
        await box.cleanup();
      }
    },
  });
}

hookTest("install writes exactly the plist, 0644, and bootstraps it", async (box) => {
  const r = await defroute(box, "hook", "install", "--root", box.root, "--binary", box.binary);
  assertEquals(r.code, 0, r.stderr.join("\n"));
  assertEquals(box.files(), INSTALLED);
  assertEquals((await Deno.stat(box.plist)).mode! & 0o777, 0o644);
  // Not loaded: nothing to boot out; enabled (a once-disabled label would not load) and loaded.
  assertEquals(await box.calls(), [
    ["print", "system/org.defroute.watch"],
    ["enable", "system/org.defroute.watch"],
    ["bootstrap", "system", box.plist],
  ]);
  assert(r.stderr.includes(`[#] write ${box.plist} (0644)`), r.stderr.join("\n"));
  assert(r.stderr.includes(`[#] launchctl bootstrap system ${box.plist}`));
  if (HAVE_PLISTLIB) {
    const job = await parsePlist(await Deno.readTextFile(box.plist)) as Record<string, unknown>;
    assertEquals(job.Label, "org.defroute.watch");
    assertEquals(job.ProgramArguments, [
      box.binary,
      "watch",
      "--heal",
      "--log-file",
      "/var/log/defroute.log",
    ]);
    assertEquals(job.StandardOutPath, "/var/log/defroute.log");
  }
});

hookTest("a reinstall boots the old job out first; options reach the plist", async (box) => {
  const args = ["hook", "install", "--root", box.root, "--binary", box.binary];
  assertEquals((await defroute(box, ...args)).code, 0);
  const r = await defroute(
    box,
    ...args,
    "--log",
    "/var/log/other.log",
    "--state",
    "/var/run/x/state.json",
  );
  assertEquals(r.code, 0, r.stderr.join("\n"));
  assertEquals((await box.calls()).slice(3), [
    ["print", "system/org.defroute.watch"],
    ["bootout", "system/org.defroute.watch"],
    ["print", "system/org.defroute.watch"], // gone: launchd no longer knows it
    ["enable", "system/org.defroute.watch"],
    ["bootstrap", "system", box.plist],
  ]);
  const text = await Deno.readTextFile(box.plist);
  assertMatch(text, /<string>\/var\/log\/other\.log<\/string>/);
  assertMatch(text, /<string>--state<\/string>\s*<string>\/var\/run\/x\/state\.json<\/string>/);
  assertEquals(box.files(), INSTALLED);
});

hookTest("install --label writes <label>.plist and --json reports it", async (box) => {
  const r = await defroute(
    box,
    "hook",
    "install",
    "--json",
    "--root",
    box.root,
    "--binary",
    box.binary,
    "--label",
    "com.example.route-guard",
  );
  assertEquals(r.code, 0);
  const report = JSON.parse(r.stdout);
  const path = `${box.root}/Library/LaunchDaemons/com.example.route-guard.plist`;
  assertEquals([report.ok, report.action, report.path, report.dryRun], [
    true,
    "install",
    path,
    false,
  ]);
  assertEquals(report.launchctl, [
    ["print", "system/com.example.route-guard"],
    ["enable", "system/com.example.route-guard"],
    ["bootstrap", "system", path],
  ]);
  assertEquals(box.files(), [
    "Library/LaunchDaemons/com.example.route-guard.plist",
    "etc/newsyslog.d/com.example.route-guard.conf",
  ]);
});

hookTest("install --dry-run writes nothing and runs nothing, but shows the plist", async (box) => {
  const r = await defroute(
    box,
    "hook",
    "install",
    "--dry-run",
    "--root",
    box.root,
    "--binary",
    box.binary,
  );
  assertEquals(r.code, 0);
  assertEquals(box.files(), []);
  assertEquals(await box.calls(), []);
  assertMatch(r.stdout, /<key>ProgramArguments<\/key>/);
  assert(r.stderr.some((l) => l.includes(`bootstrap system ${box.plist}`)), r.stderr.join("\n"));
});

hookTest("uninstall boots out and removes exactly the plist", async (box) => {
  await defroute(box, "hook", "install", "--root", box.root, "--binary", box.binary);
  const r = await defroute(box, "hook", "uninstall", "--root", box.root);
  assertEquals(r.code, 0, r.stderr.join("\n"));
  assertEquals(box.files(), []);
  assertEquals((await box.calls()).slice(3), [["bootout", "system/org.defroute.watch"]]);
  assert(r.stderr.includes(`[#] rm ${box.plist}`));
});

hookTest("uninstall --dry-run keeps the file and calls nothing", async (box) => {
  await defroute(box, "hook", "install", "--root", box.root, "--binary", box.binary);
  const r = await defroute(box, "hook", "uninstall", "--dry-run", "--root", box.root);
  assertEquals(r.code, 0);
  assertEquals(box.files(), INSTALLED);
  assertEquals((await box.calls()).length, 3);
});

hookTest("uninstall of a job that is not loaded still removes the file", async (box) => {
  await defroute(box, "hook", "install", "--root", box.root, "--binary", box.binary);
  await box.failWith(113, "Could not find specified service");
  const r = await defroute(box, "hook", "uninstall", "--root", box.root);
  assertEquals(r.code, 0, r.stderr.join("\n"));
  assertEquals(box.files(), []);
  // and again, with nothing left at all
  const again = await defroute(box, "hook", "uninstall", "--root", box.root);
  assertEquals(again.code, 0);
  assertMatch(again.stderr.join("\n"), /nothing to uninstall/);
});

hookTest("a failing bootout keeps the plist and exits 1 with one line", async (box) => {
  await defroute(box, "hook", "install", "--root", box.root, "--binary", box.binary);
  await box.failWith(5, "Boot-out failed: 5: Input/output error");
  const r = await defroute(box, "hook", "uninstall", "--root", box.root);
  assertEquals(r.code, 1);
  assertEquals(r.stderr.filter((l) => l.startsWith("defroute: ")).length, 1);
  assertMatch(r.stderr.at(-1) ?? "", /bootout system\/org\.defroute\.watch failed \(exit 5\)/);
  assertEquals(box.files(), INSTALLED);
});

hookTest("a first install that launchd keeps refusing (5) leaves no plist; exit 1", async (box) => {
  await box.launchd("busy", "always");
  const r = await fast(box, "hook", "install", "--root", box.root, "--binary", box.binary);
  assertEquals(r.code, 1, r.stderr.join("\n"));
  assertMatch(
    r.stderr.at(-1) ?? "",
    /bootstrap system .* failed \(exit 5\): Bootstrap failed: 5: Input\/output error after 5 attempts; removed .*org\.defroute\.watch\.plist again/,
  );
  assertEquals(r.sleeps, [500, 1000, 2000, 4000]);
  assertEquals(box.files(), []);
});

hookTest("a missing launchctl is one line, exit 1, and leaves no plist", async (box) => {
  await Deno.remove(`${box.dir}/launchctl`);
  const r = await defroute(box, "hook", "install", "--root", box.root, "--binary", box.binary);
  assertEquals(r.code, 1);
  assertMatch(
    r.stderr.at(-1) ?? "",
    /DEFROUTE_LAUNCHCTL: cannot use .*launchctl: it does not exist/,
  );
  assertEquals(box.files(), []);
});

const rejections: [string, string[], number, RegExp][] = [
  ["bad label", ["--label", "org.x</string>"], 2, /label "org\.x<\/string>" is not reverse-DNS/],
  ["one-word label", ["--label", "defroute"], 2, /not reverse-DNS/],
  ["relative binary", ["--binary", "bin/defroute"], 2, /binary "bin\/defroute" is not an absolute/],
  ["missing binary", ["--binary", "/nonexistent/defroute"], 1, /\/nonexistent\/defroute does not/],
  ["relative log", ["--log", "defroute.log"], 2, /log path "defroute\.log" is not an absolute/],
  ["no action", [], 2, /needs an action/],
  ["unknown action", ["frob"], 2, /install, uninstall or print, not "frob"/],
];
for (const [what, extra, code, message] of rejections) {
  hookTest(`install rejects a ${what} with exit ${code} and one line`, async (box) => {
    const action = what.includes("action") ? [] : ["install"];
    const binary = extra.includes("--binary") ? [] : ["--binary", box.binary];
    const r = await defroute(box, "hook", ...action, "--root", box.root, ...binary, ...extra);
    assertEquals(r.code, code, r.stderr.join("\n"));
    assertEquals(r.stderr.length, 1, r.stderr.join("\n"));
    assertMatch(r.stderr[0] ?? "", message);
    assertEquals(box.files(), []);
    assertEquals(await box.calls(), []);
  });
}

hookTest("without --binary, a non-compiled defroute asks for one (exit 2)", async (box) => {
  const r = await defroute(box, "hook", "print");
  assertEquals(r.code, 2);
  assertMatch(r.stderr[0] ?? "", /pass --binary PATH/);
});

hookTest("print needs no root and writes nothing; --json carries the plist", async (box) => {
  const r = await defroute(box, "hook", "print", "--json", "--binary", "/usr/local/bin/defroute");
  assertEquals(r.code, 0);
  const report = JSON.parse(r.stdout);
  assertEquals(report.path, "/Library/LaunchDaemons/org.defroute.watch.plist");
  assertEquals(report.programArguments, [
    "/usr/local/bin/defroute",
    "watch",
    "--heal",
    "--log-file",
    "/var/log/defroute.log",
  ]);
  assertMatch(report.plist, /^<\?xml/);
  assertEquals(await box.calls(), []);
});

function values(extra: Record<string, string | boolean> = {}): CommandContext["values"] {
  return { binary: "/usr/local/bin/defroute", ...extra };
}

Deno.test("needsRoot: only real installs and uninstalls need root", () => {
  const table: [string[], Record<string, string | boolean>, boolean][] = [
    [["install"], {}, true],
    [["uninstall"], {}, true],
    [["print"], {}, false],
    [["install"], { "dry-run": true }, false],
    [["uninstall"], { "dry-run": true }, false],
    [["install"], { root: "/tmp/stage" }, false],
  ];
  for (const [positionals, extra, expected] of table) {
    assertEquals(
      needsRoot(hookSettings(positionals, values(extra), null)),
      expected,
      `${positionals} ${JSON.stringify(extra)}`,
    );
  }
});

Deno.test("hookSettings: the compiled binary is the default, --binary wins", () => {
  assertEquals(
    hookSettings(["print"], {}, "/opt/bin/defroute").programArguments,
    ["/opt/bin/defroute", "watch", "--heal", "--log-file", "/var/log/defroute.log"],
  );
  assertEquals(
    hookSettings(["print"], values(), "/opt/bin/defroute").programArguments?.[0],
    "/usr/local/bin/defroute",
  );
  assertEquals(hookSettings(["uninstall"], {}, null).programArguments, null);
});

Deno.test("install as a normal user without --root or --dry-run is exit 3", async () => {
  const ctx: CommandContext = {
    values: values(),
    positionals: ["install"],
    rest: [],
    out: memoryOutput(),
    families: [4, 6],
    statePath: "/var/run/defroute/state.json",
    system: () => Promise.reject(new Error("hook must not open the routing backend")),
  };
  let launchctlCalls = 0;
  const env = {
    uid: () => 501,
    compiledBinary: () => null,
    sleep: () => Promise.resolve(),
    launchctl: () => {
      launchctlCalls++;
      return Promise.resolve({ code: 0, stderr: "" });
    },
  };
  await assertRejects(
    () => runHook(ctx, env),
    (e) => e instanceof CliError && e.exitCode === 3 && /needs root.*sudo/.test(e.message),
  );
  ctx.positionals = ["uninstall"];
  await assertRejects(() => runHook(ctx, env), (e) => e instanceof CliError && e.exitCode === 3);
  assertEquals(launchctlCalls, 0);
});

hookTest("install refuses a log file whose directory does not exist (exit 1)", async (box) => {
  // --dry-run without --root: validated against the real filesystem, nothing can be written.
  const r = await defroute(
    box,
    "hook",
    "install",
    "--dry-run",
    "--binary",
    box.binary,
    "--log",
    `${box.dir}/no-such-dir/defroute.log`,
  );
  assertEquals(r.code, 1);
  assertEquals(r.stderr.length, 1, r.stderr.join("\n"));
  assertMatch(r.stderr[0] ?? "", /log directory .*no-such-dir does not exist/);
  assertEquals(await box.calls(), []);
});

// --- issue 17 item 6: a reinstall never leaves the Mac without the daemon ---------------------

hookTest(
  "bootstrap answered '5: Input/output error' twice is tried again and succeeds",
  async (box) => {
    const args = ["hook", "install", "--root", box.root, "--binary", box.binary];
    assertEquals((await fast(box, ...args)).code, 0);
    await box.launchd("busy", "2");
    const r = await fast(box, ...args, "--log", "/var/log/other.log");
    assertEquals(r.code, 0, r.stderr.join("\n"));
    assertEquals(r.sleeps, [500, 1000]);
    assertEquals((await box.calls()).slice(3), [
      ["print", "system/org.defroute.watch"],
      ["bootout", "system/org.defroute.watch"],
      ["print", "system/org.defroute.watch"],
      ["enable", "system/org.defroute.watch"],
      ["bootstrap", "system", box.plist],
      ["bootstrap", "system", box.plist],
      ["bootstrap", "system", box.plist],
    ]);
    assertEquals(r.stderr.filter((l) => /still busy \(error 5\); trying again/.test(l)).length, 2);
    assertMatch(await Deno.readTextFile(box.plist), /\/var\/log\/other\.log/);
  },
);

hookTest("install waits until launchctl print no longer knows the booted-out job", async (box) => {
  const args = ["hook", "install", "--root", box.root, "--binary", box.binary];
  assertEquals((await fast(box, ...args)).code, 0);
  await box.launchd("linger", "3"); // launchd answers for the old job 3 more times
  const r = await fast(box, ...args);
  assertEquals(r.code, 0, r.stderr.join("\n"));
  assertEquals(r.sleeps, [250, 250, 250]);
  const calls = (await box.calls()).slice(3).map((c) => c[0]);
  // one bootstrap, after the job is gone: no error 5 to retry
  assertEquals(calls, [
    "print",
    "bootout",
    "print",
    "print",
    "print",
    "print",
    "enable",
    "bootstrap",
  ]);
});

hookTest(
  "a reinstall that launchd keeps refusing puts the previous plist back, byte for byte",
  async (box) => {
    const args = ["hook", "install", "--root", box.root, "--binary", box.binary];
    assertEquals((await fast(box, ...args, "--log", "/var/log/first.log")).code, 0);
    const before = await Deno.readFile(box.plist);
    await box.launchd("busy", "always");
    const r = await fast(box, ...args, "--log", "/var/log/second.log");
    assertEquals(r.code, 1, r.stderr.join("\n"));
    assertEquals(await Deno.readFile(box.plist), before);
    assertEquals((await Deno.stat(box.plist)).mode! & 0o777, 0o644);
    assertEquals(box.files(), INSTALLED);
    assertMatch(
      r.stderr.at(-1) ?? "",
      /after 5 attempts; put the previous .*org\.defroute\.watch\.plist back; it loads at the next boot/,
    );
    // five attempts for the new plist, one for the old one put back
    assertEquals((await box.calls()).filter((c) => c[0] === "bootstrap").length, 1 + 5 + 1);
    // launchd calms down: the old plist is loaded again
    await box.launchd("busy", "1");
    const calm = await fast(box, ...args, "--log", "/var/log/second.log");
    assertEquals(calm.code, 0, calm.stderr.join("\n"));
    assertMatch(await Deno.readTextFile(box.plist), /second\.log/);
  },
);

hookTest("a failed reinstall loads the previous plist again when launchd takes it", async (box) => {
  const args = ["hook", "install", "--root", box.root, "--binary", box.binary];
  assertEquals((await fast(box, ...args)).code, 0);
  const before = await Deno.readFile(box.plist);
  await box.launchd("busy", "5"); // exactly the five attempts for the new plist fail
  const r = await fast(box, ...args, "--log", "/var/log/second.log");
  assertEquals(r.code, 1);
  assertMatch(r.stderr.at(-1) ?? "", /put the previous .* back and loaded it again/);
  assertEquals(await Deno.readFile(box.plist), before);
});

// --- issue 17 item 7: the daemon's binary must be root's alone --------------------------------

hookTest(
  "install refuses a binary others can replace; --force installs it with a warning",
  async (box) => {
    await Deno.chmod(`${box.dir}/bin`, 0o777); // a directory anyone may write (not sticky)
    const args = ["hook", "install", "--root", box.root, "--binary", box.binary];
    const refused = await defroute(box, ...args);
    assertEquals(refused.code, 1);
    assertEquals(refused.stderr.length, 1, refused.stderr.join("\n"));
    assertMatch(
      refused.stderr[0] ?? "",
      /refusing to install a root daemon: .*\/bin\/defroute can be replaced by someone but root \(.*bin is writable by others \(mode 0777\)\).*\/opt\/defroute\/bin.*or pass --force/,
    );
    assertEquals(box.files(), []);
    assertEquals(await box.calls(), []);
    const dry = await defroute(box, ...args, "--dry-run");
    assertEquals(dry.code, 1, "a dry run says the same");

    const forced = await defroute(box, ...args, "--force");
    assertEquals(forced.code, 0, forced.stderr.join("\n"));
    assert(forced.stderr.some((l) => /--force: installing anyway, although/.test(l)));
    assertEquals(box.files(), INSTALLED);
  },
);

hookTest(
  "install refuses a binary owned by another user, and one behind their link",
  async (box) => {
    await Deno.chown(box.binary, 65534, 65534);
    const r = await defroute(box, "hook", "install", "--root", box.root, "--binary", box.binary);
    assertEquals(r.code, 1);
    assertMatch(r.stderr[0] ?? "", /defroute is owned by uid 65534, not root/);
    await Deno.chown(box.binary, 0, 0);
    // /opt/homebrew/bin/defroute -> ../Cellar/...: a link the user owns
    await Deno.mkdir(`${box.dir}/links`);
    await Deno.symlink(box.binary, `${box.dir}/links/defroute`);
    await Deno.chown(`${box.dir}/links`, 65534, 65534);
    const linked = await defroute(
      box,
      "hook",
      "install",
      "--root",
      box.root,
      "--binary",
      `${box.dir}/links/defroute`,
    );
    assertEquals(linked.code, 1);
    assertMatch(linked.stderr[0] ?? "", /links is owned by uid 65534, not root/);
    assertEquals(box.files(), []);
  },
);

hookTest(
  "print warns about a binary others can replace, and still prints (exit 0)",
  async (box) => {
    await Deno.chmod(`${box.dir}/bin`, 0o777);
    const r = await defroute(box, "hook", "print", "--binary", box.binary);
    assertEquals(r.code, 0);
    assertMatch(r.stdout, /<string>--heal<\/string>/);
    assertMatch(
      r.stderr.join("\n"),
      /can be replaced by someone but root .* refuses it without --force/,
    );
  },
);

// --- issue 17 item 8: the daemon's log is rotated by newsyslog ---------------------------------

hookTest("install writes the newsyslog entry for the log; uninstall removes it", async (box) => {
  const conf = `${box.root}/etc/newsyslog.d/org.defroute.watch.conf`;
  const args = ["hook", "install", "--root", box.root, "--binary", box.binary];
  assertEquals((await defroute(box, ...args, "--log", "/var/log/route-guard.log")).code, 0);
  assertEquals((await Deno.stat(conf)).mode! & 0o777, 0o644);
  assertEquals(newsyslogFields(await Deno.readTextFile(conf)), [
    "/var/log/route-guard.log", // the log the daemon writes (watch --log-file)
    "root:wheel",
    "644",
    "5", // old logs kept
    "1024", // KiB
    "*",
    "N", // no signal: the daemon reopens the renamed file itself
  ]);
  const job = await Deno.readTextFile(box.plist);
  assertMatch(job, /<string>--log-file<\/string>\s*<string>\/var\/log\/route-guard\.log<\/string>/);
  const r = await defroute(box, "hook", "uninstall", "--root", box.root);
  assertEquals(r.code, 0, r.stderr.join("\n"));
  assert(r.stderr.includes(`[#] rm ${conf}`), r.stderr.join("\n"));
  assertEquals(box.files(), []);
});

hookTest("a failed reinstall puts the previous newsyslog entry back too", async (box) => {
  const conf = `${box.root}/etc/newsyslog.d/org.defroute.watch.conf`;
  const args = ["hook", "install", "--root", box.root, "--binary", box.binary];
  assertEquals((await fast(box, ...args, "--log", "/var/log/first.log")).code, 0);
  const before = await Deno.readFile(conf);
  await box.launchd("busy", "always");
  assertEquals((await fast(box, ...args, "--log", "/var/log/second.log")).code, 1);
  assertEquals(await Deno.readFile(conf), before);
});

hookTest(
  "a log path newsyslog cannot name is a usage error (exit 2), nothing written",
  async (box) => {
    for (const log of ["/var/log/my log", "/var/log/a#b.log"]) {
      const r = await defroute(
        box,
        "hook",
        "install",
        "--root",
        box.root,
        "--binary",
        box.binary,
        "--log",
        log,
      );
      assertEquals(r.code, 2, r.stderr.join("\n"));
      assertMatch(r.stderr[0] ?? "", /cannot be rotated by newsyslog/);
    }
    assertEquals(box.files(), []);
    assertEquals(await box.calls(), []);
  },
);
