/**
 * `defroute hook install|uninstall|print` end to end through main(), in-process, against a
 * temporary --root and a recording fake launchctl named by DEFROUTE_LAUNCHCTL.
 */
import { assert, assertEquals, assertMatch, assertRejects } from "../assert.ts";
import { main } from "../../lib/cli/main.ts";
import { memoryOutput } from "../../lib/cli/output.ts";
import { CliError } from "../../lib/core/errors.ts";
import { hookSettings, needsRoot, runHook } from "../../lib/cli/hook.ts";
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
  /** Every file under root, relative to it. */
  files(): string[];
  cleanup(): Promise<void>;
}

async function sandbox(): Promise<Sandbox> {
  const dir = await Deno.makeTempDir({ prefix: "defroute-hook-" });
  const root = `${dir}/root`;
  await Deno.mkdir(root);
  const binary = `${dir}/bin/defroute`;
  await Deno.mkdir(`${dir}/bin`);
  await Deno.writeTextFile(binary, "#!/bin/sh\nexit 0\n", { mode: 0o755 });
  const log = `${dir}/launchctl.log`;
  const status = `${dir}/launchctl.status`;
  // Records each argv as one line of tab-separated words; fails when the status file exists.
  await Deno.writeTextFile(
    `${dir}/launchctl`,
    `#!/bin/bash\n( IFS=$'\\t'; printf '%s\\n' "$*" ) >> '${log}'\n` +
      `if [[ -f '${status}' ]]; then read -r code msg < '${status}'; echo "$msg" >&2; exit "$code"; fi\n`,
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
  assertEquals(box.files(), ["Library/LaunchDaemons/org.defroute.watch.plist"]);
  assertEquals((await Deno.stat(box.plist)).mode! & 0o777, 0o644);
  assertEquals(await box.calls(), [["bootstrap", "system", box.plist]]);
  assert(r.stderr.includes(`[#] write ${box.plist} (0644)`), r.stderr.join("\n"));
  assert(r.stderr.includes(`[#] launchctl bootstrap system ${box.plist}`));
  if (HAVE_PLISTLIB) {
    const job = await parsePlist(await Deno.readTextFile(box.plist)) as Record<string, unknown>;
    assertEquals(job.Label, "org.defroute.watch");
    assertEquals(job.ProgramArguments, [box.binary, "watch", "--heal"]);
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
  assertEquals(await box.calls(), [
    ["bootstrap", "system", box.plist],
    ["bootout", "system/org.defroute.watch"],
    ["bootstrap", "system", box.plist],
  ]);
  const text = await Deno.readTextFile(box.plist);
  assertMatch(text, /<string>\/var\/log\/other\.log<\/string>/);
  assertMatch(text, /<string>--state<\/string>\s*<string>\/var\/run\/x\/state\.json<\/string>/);
  assertEquals(box.files(), ["Library/LaunchDaemons/org.defroute.watch.plist"]);
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
  assertEquals(report.launchctl, [["bootstrap", "system", path]]);
  assertEquals(box.files(), ["Library/LaunchDaemons/com.example.route-guard.plist"]);
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
  assertEquals((await box.calls()).slice(1), [["bootout", "system/org.defroute.watch"]]);
  assert(r.stderr.includes(`[#] rm ${box.plist}`));
});

hookTest("uninstall --dry-run keeps the file and calls nothing", async (box) => {
  await defroute(box, "hook", "install", "--root", box.root, "--binary", box.binary);
  const r = await defroute(box, "hook", "uninstall", "--dry-run", "--root", box.root);
  assertEquals(r.code, 0);
  assertEquals(box.files(), ["Library/LaunchDaemons/org.defroute.watch.plist"]);
  assertEquals((await box.calls()).length, 1);
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
  assertEquals(box.files(), ["Library/LaunchDaemons/org.defroute.watch.plist"]);
});

hookTest("a failing bootstrap removes the new plist again and exits 1", async (box) => {
  await box.failWith(5, "Bootstrap failed: 5: Input/output error");
  const r = await defroute(box, "hook", "install", "--root", box.root, "--binary", box.binary);
  assertEquals(r.code, 1);
  assertMatch(r.stderr.at(-1) ?? "", /Input\/output error; removed .*org\.defroute\.watch\.plist/);
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
  assertEquals(report.programArguments, ["/usr/local/bin/defroute", "watch", "--heal"]);
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
    ["/opt/bin/defroute", "watch", "--heal"],
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
