/**
 * `defroute hook install|uninstall|print`: the launchd daemon that runs `defroute watch --heal`.
 *
 * install checks the binary (it must be root's alone: lib/daemon/daemon_files.ts), writes
 * <root>/Library/LaunchDaemons/<label>.plist (root:wheel 0644: launchd ignores a daemon plist
 * that is group- or world-writable or not owned by root) and loads it the way that survives
 * launchd's teardown delay (lib/daemon/launchd_load.ts: bootout, wait, enable, bootstrap with
 * retries), putting the previous plist back when that fails; uninstall runs `launchctl bootout
 * system/<label>` and removes the file. launchctl is called by absolute path with an argument
 * array, never through a shell; `DEFROUTE_LAUNCHCTL` names another binary (tests point it at a
 * recording fake).
 */
import { checkOverrideTrusted } from "../core/trust/override_path.ts";
import { resolve } from "../util/posix_path.ts";
import type { Command, CommandContext } from "./command.ts";
import { COMMON_OPTIONS } from "./command.ts";
import type { Output } from "./output.ts";
import { CliError, ExitCode, UsageError } from "../core/model/errors.ts";
import {
  binaryTrustProblem,
  checkBinary,
  checkDirectory,
  readIfExists,
  removeQuietly,
  writeSystemFile,
} from "../daemon/daemon_files.ts";
import {
  bootstrapWithRetries,
  enableArgs,
  enableService,
  firstLine,
  launchctlLine,
  type LaunchctlResult,
  type LaunchdSteps,
  printArgs,
  unloadService,
} from "../daemon/launchd_load.ts";
import {
  bootoutArgs,
  bootstrapArgs,
  daemonPlist,
  DEFAULT_LABEL,
  DEFAULT_LAUNCHCTL,
  DEFAULT_LOG_PATH,
  isNotLoaded,
  plistPath,
  PlistValueError,
  validateAbsolutePath,
  validateLabel,
  watchProgramArguments,
} from "../daemon/launchd_plist.ts";
import { newsyslogConf, newsyslogPath, validateRotatedPath } from "../daemon/newsyslog.ts";

const HELP = `Usage:
  sudo defroute hook install [--binary PATH] [--label LABEL] [--log PATH] [--force] [--dry-run]
  sudo defroute hook uninstall [--label LABEL] [--dry-run]
  defroute hook print [--binary PATH] [--label LABEL] [--log PATH]

Installs the launchd daemon that runs 'defroute watch --heal' at boot (RunAtLoad) and restarts
it whenever it exits (KeepAlive), so a default route lost to a crashed or killed tunnel comes
back without toggling Wi-Fi.

  install    write /Library/LaunchDaemons/LABEL.plist (root:wheel, 0644) and load it with
             'launchctl bootstrap system PATH'. A loaded job is booted out first, and
             install waits until 'launchctl print system/LABEL' no longer knows it; then
             'launchctl enable system/LABEL', and bootstrap, tried again while launchd
             answers "5: Input/output error" (up to 5 attempts in 7.5 s). If it still fails,
             the previous plist is put back as it was (and loaded again), so a failed
             reinstall never leaves you without the daemon.
  uninstall  'launchctl bootout system/LABEL', remove the plist and the newsyslog entry
  print      show the plist that install would write (no root needed)

Options:
  --binary PATH     the defroute binary the daemon runs (absolute, must exist); default: this
                    executable when it is the compiled defroute, otherwise required. It must be
                    root's alone: install refuses a binary that anyone but root could replace
                    (the file, or any directory or link on its path, e.g. Homebrew's prefix),
                    since launchd runs it as root
  -f, --force       install such a binary anyway (with a warning)
  --label LABEL     the launchd label, reverse-DNS (default ${DEFAULT_LABEL})
  --log PATH        the daemon's log (default ${DEFAULT_LOG_PATH}): 'watch --log-file PATH',
                    and launchd's StandardOutPath/StandardErrorPath for anything else it
                    prints; install also writes /etc/newsyslog.d/LABEL.conf so newsyslog
                    rotates it (1 MiB, 5 kept), uninstall removes that
  --state PATH      passed on to 'watch' when given
  --root DIR        write under DIR (DIR/Library/LaunchDaemons, DIR/etc/newsyslog.d) instead
                    of / (for packaging and tests; needs no root)
  -n, --dry-run     say what would be written and run, change nothing
  --json            one JSON object describing the result

Environment:
  DEFROUTE_LAUNCHCTL  launchctl to run (absolute path; default ${DEFAULT_LAUNCHCTL})

Exit codes: 0 done, 1 failure (launchctl failed, binary missing or not root's alone), 2 usage
(bad label, relative path), 3 needs root.`;

export type HookAction = "install" | "uninstall" | "print";

export type { LaunchctlResult };

/** What the hook command needs from the OS, so the decisions can be tested without it. */
export interface HookEnvironment {
  uid(): number;
  /** This executable when it is a `deno compile`d defroute, else null. */
  compiledBinary(): string | null;
  launchctl(args: string[]): Promise<LaunchctlResult>;
  /** Waits between launchctl attempts (tests pass one that does not wait). */
  sleep(ms: number): Promise<void>;
}

/** The validated settings of one `hook` invocation. */
export interface HookSettings {
  action: HookAction;
  label: string;
  /** Where the plist goes (under --root when given). */
  path: string;
  /** Where the newsyslog entry for the log goes (under --root when given). */
  newsyslogPath: string;
  /** Null for uninstall, which needs no binary. */
  programArguments: string[] | null;
  logPath: string;
  dryRun: boolean;
  /** --root was given: a staging tree, not the system. */
  staged: boolean;
  /** --force: install although someone but root can replace the binary (with a warning). */
  force: boolean;
}

/** Parses and validates the options; throws UsageError (exit 2) for anything malformed. */
export function hookSettings(
  positionals: string[],
  values: CommandContext["values"],
  compiledBinary: string | null,
): HookSettings {
  const [action, extra] = positionals;
  if (action !== "install" && action !== "uninstall" && action !== "print") {
    throw new UsageError(
      action === undefined
        ? "hook needs an action: install, uninstall or print"
        : `hook action must be install, uninstall or print, not "${action}"`,
    );
  }
  if (extra !== undefined) throw new UsageError(`hook ${action} takes no argument "${extra}"`);
  const option = (name: string) => {
    const value = values[name];
    return typeof value === "string" ? value : undefined;
  };
  try {
    const label = validateLabel(option("label") ?? DEFAULT_LABEL);
    const logPath = validateRotatedPath(
      validateAbsolutePath(option("log") ?? DEFAULT_LOG_PATH, "log path"),
    );
    const rootOption = option("root");
    const root = rootOption === undefined ? "" : resolve(rootOption);
    let programArguments: string[] | null = null;
    if (action !== "uninstall") {
      const binary = option("binary") ?? compiledBinary;
      if (binary === null) {
        throw new UsageError(
          "not running as the compiled defroute binary: pass --binary PATH " +
            "(e.g. --binary /usr/local/bin/defroute)",
        );
      }
      programArguments = watchProgramArguments(binary, option("state"), logPath);
    }
    return {
      action,
      label,
      path: plistPath(root, label),
      newsyslogPath: newsyslogPath(root, label),
      programArguments,
      logPath,
      dryRun: values["dry-run"] === true,
      staged: rootOption !== undefined,
      force: values.force === true,
    };
  } catch (error) {
    if (error instanceof PlistValueError) throw new UsageError(error.message);
    throw error;
  }
}

/** Whether this invocation changes the system and so needs root (exit 3 without it). */
export function needsRoot(settings: HookSettings): boolean {
  return settings.action !== "print" && !settings.dryRun && !settings.staged;
}

/** The real OS: Deno.uid(), Deno.execPath() and launchctl from DEFROUTE_LAUNCHCTL. */
export function systemHookEnvironment(): HookEnvironment {
  const launchctlPath = Deno.env.get("DEFROUTE_LAUNCHCTL") || DEFAULT_LAUNCHCTL;
  return {
    uid: () => Deno.uid() ?? -1,
    compiledBinary: () => Deno.build.standalone ? Deno.execPath() : null,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    launchctl: async (args) => {
      // An override runs as root: absolute, and root's own from `/` down; the path run is the
      // one checked, links resolved, so nothing can be swapped in between
      // (lib/core/trust/override_path.ts).
      const program = launchctlPath === DEFAULT_LAUNCHCTL
        ? launchctlPath
        : checkOverrideTrusted("DEFROUTE_LAUNCHCTL", launchctlPath);
      try {
        const result = await new Deno.Command(program, {
          args,
          stdin: "null",
          stdout: "null",
          stderr: "piped",
        }).output();
        return { code: result.code, stderr: new TextDecoder().decode(result.stderr).trim() };
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) {
          throw new CliError(
            ExitCode.FAILURE,
            `${launchctlPath} not found: 'hook' loads the daemon with macOS's launchctl ` +
              `(DEFROUTE_LAUNCHCTL names another)`,
          );
        }
        throw error;
      }
    },
  };
}

export const hookCommand: Command = {
  name: "hook",
  summary: "hook install|uninstall|print: the launchd daemon for watch --heal",
  help: HELP,
  options: {
    ...COMMON_OPTIONS,
    "dry-run": { type: "boolean", short: "n" },
    force: { type: "boolean", short: "f" },
    binary: { type: "string" },
    label: { type: "string" },
    log: { type: "string" },
    root: { type: "string" },
  },
  takesPositionals: true,
  run: (ctx) => runHook(ctx, systemHookEnvironment()),
};

/** Runs one hook action against `env`; returns the exit code. */
export async function runHook(ctx: CommandContext, env: HookEnvironment): Promise<number> {
  const settings = hookSettings(ctx.positionals, ctx.values, env.compiledBinary());
  if (needsRoot(settings) && env.uid() !== 0) {
    throw new CliError(
      ExitCode.NEEDS_ROOT,
      `hook ${settings.action} needs root (it writes ${settings.path} and runs launchctl): ` +
        `run it with sudo, or try --dry-run`,
    );
  }
  switch (settings.action) {
    case "print":
      return print(ctx.out, settings);
    case "install":
      return await install(ctx.out, settings, env);
    case "uninstall":
      return await uninstall(ctx.out, settings, env);
  }
}

function plistOf(settings: HookSettings): string {
  if (settings.programArguments === null) throw new Error("no program arguments for the plist");
  return daemonPlist({
    label: settings.label,
    programArguments: settings.programArguments,
    logPath: settings.logPath,
  });
}

function print(out: Output, settings: HookSettings): number {
  const plist = plistOf(settings);
  const binary = settings.programArguments?.[0] ?? "";
  const problem = binaryTrustProblem(binary);
  if (problem !== null) {
    out.warn(
      `${binary} can be replaced by someone but root (${problem}); 'hook install' refuses it ` +
        `without --force`,
    );
  }
  if (out.json) {
    out.emit({
      ok: true,
      action: "print",
      label: settings.label,
      path: settings.path,
      programArguments: settings.programArguments,
      plist,
      newsyslog: {
        path: settings.newsyslogPath,
        conf: newsyslogConf(settings.logPath, settings.label),
      },
    });
  } else {
    out.print(plist);
  }
  return ExitCode.OK;
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return false;
    throw error;
  }
}

/** The checks before anything changes: the binary (exists, executable, root's alone unless
 * --force) and the log's directory. */
async function checkInstall(out: Output, settings: HookSettings): Promise<void> {
  const binary = settings.programArguments?.[0] ?? "";
  await checkBinary(binary);
  const problem = binaryTrustProblem(binary);
  if (problem !== null) {
    const why = `${binary} can be replaced by someone but root (${problem}), and launchd would ` +
      `run it as root`;
    if (!settings.force) {
      throw new CliError(
        ExitCode.FAILURE,
        `refusing to install a root daemon: ${why}. Give it a copy only root can write ` +
          `(sudo install -d -m 0755 /opt/defroute/bin && sudo install -m 0755 ${binary} ` +
          `/opt/defroute/bin/defroute, then --binary /opt/defroute/bin/defroute), or pass --force`,
      );
    }
    out.warn(`--force: installing anyway, although ${why}`);
  }
  // launchd creates the log file but not its directory; without it the job cannot start.
  if (!settings.staged) {
    await checkDirectory(
      settings.logPath.slice(0, settings.logPath.lastIndexOf("/")) || "/",
      "log directory",
    );
  }
}

async function install(out: Output, settings: HookSettings, env: HookEnvironment): Promise<number> {
  await checkInstall(out, settings);
  const plist = plistOf(settings);
  const conf = newsyslogConf(settings.logPath, settings.label);
  const previous = await readIfExists(settings.path);
  const previousConf = await readIfExists(settings.newsyslogPath);
  const report = {
    ok: true,
    action: "install",
    dryRun: settings.dryRun,
    label: settings.label,
    path: settings.path,
    programArguments: settings.programArguments,
    reinstall: previous !== null,
    launchctl: [
      printArgs(settings.label),
      bootoutArgs(settings.label),
      enableArgs(settings.label),
      bootstrapArgs(settings.path),
    ],
    plist,
    newsyslog: { path: settings.newsyslogPath, conf },
  };
  if (settings.dryRun) {
    out.info(
      `(dry run) would boot out ${settings.label} if launchd has it loaded, and wait until ` +
        `'launchctl print system/${settings.label}' no longer knows it`,
    );
    out.info(
      `(dry run) would write ${settings.newsyslogPath} (0644, owner root): newsyslog ` +
        `rotates ${settings.logPath}`,
    );
    out.info(`(dry run) would write ${settings.path} (0644, owner root) and run:`);
    for (const args of report.launchctl.slice(2)) out.info(`(dry run)   ${launchctlLine(args)}`);
    if (out.json) out.emit(report);
    else out.print(plist);
    return ExitCode.OK;
  }
  const made: string[][] = [];
  const steps: LaunchdSteps = {
    launchctl: (args) => {
      made.push(args);
      return env.launchctl(args);
    },
    sleep: env.sleep,
    log: out,
  };
  try {
    await unloadService(steps, settings.label);
  } catch (error) {
    throw new CliError(ExitCode.FAILURE, error instanceof Error ? error.message : String(error));
  }
  await enableService(steps, settings.label);
  const asRoot = env.uid() === 0;
  const undo = async () => {
    await putBack(out, settings.newsyslogPath, previousConf, asRoot);
    return await rollBack(out, steps, settings.path, previous, asRoot);
  };
  let loaded: { error: string | null; attempts: number };
  try {
    out.announce(`write ${settings.newsyslogPath} (0644)`);
    await writeSystemFile(settings.newsyslogPath, conf, asRoot);
    out.announce(`write ${settings.path} (0644)`);
    await writeSystemFile(settings.path, plist, asRoot);
    loaded = await bootstrapWithRetries(steps, settings.path);
  } catch (error) {
    await undo();
    throw error;
  }
  if (loaded.error !== null) {
    const after = loaded.attempts > 1 ? ` after ${loaded.attempts} attempts` : "";
    throw new CliError(ExitCode.FAILURE, `${loaded.error}${after}; ${await undo()}`);
  }
  if (out.json) out.emit({ ...report, launchctl: made });
  else {
    out.info(
      `installed ${settings.label}: ${settings.programArguments?.join(" ")} ` +
        `(log ${settings.logPath})`,
    );
  }
  return ExitCode.OK;
}

/**
 * A failed install leaves what was there before: the previous plist, byte for byte, loaded
 * again if launchd takes it (else it loads at the next boot); or, on a first install, no file
 * that launchd would load at the next boot without being asked. Returns what was done, for the
 * error message.
 */
/** A file as it was before: its previous bytes, or no file at all. */
async function putBack(
  out: Output,
  path: string,
  previous: Uint8Array | null,
  asRoot: boolean,
): Promise<void> {
  if (previous === null) return await removeQuietly(path);
  out.announce(`write ${path} (as it was)`);
  await writeSystemFile(path, previous, asRoot);
}

async function rollBack(
  out: Output,
  steps: LaunchdSteps,
  path: string,
  previous: Uint8Array | null,
  asRoot: boolean,
): Promise<string> {
  await putBack(out, path, previous, asRoot);
  if (previous === null) return `removed ${path} again`;
  const again = await bootstrapWithRetries(steps, path, []);
  return again.error === null
    ? `put the previous ${path} back and loaded it again`
    : `put the previous ${path} back; it loads at the next boot (or now with ` +
      `'sudo launchctl bootstrap system ${path}')`;
}

async function uninstall(
  out: Output,
  settings: HookSettings,
  env: HookEnvironment,
): Promise<number> {
  const present = await exists(settings.path);
  const args = bootoutArgs(settings.label);
  const report = {
    ok: true,
    action: "uninstall",
    dryRun: settings.dryRun,
    label: settings.label,
    path: settings.path,
    removed: present,
    loaded: true,
    launchctl: [args],
  };
  if (settings.dryRun) {
    out.info(`(dry run) would run: ${launchctlLine(args)}`);
    out.info(
      present ? `(dry run) would remove ${settings.path}` : `(dry run) ${settings.path} is absent`,
    );
    if (await exists(settings.newsyslogPath)) {
      out.info(`(dry run) would remove ${settings.newsyslogPath}`);
    }
    if (out.json) out.emit({ ...report, removed: false, loaded: null });
    return ExitCode.OK;
  }
  out.announce(launchctlLine(args));
  const result = await env.launchctl(args);
  if (result.code !== 0) {
    if (!isNotLoaded(result.code, result.stderr)) {
      // Keep the plist: removing it while the job still runs would leave a daemon nobody can
      // find by its file.
      throw new CliError(
        ExitCode.FAILURE,
        `${launchctlLine(args)} failed (exit ${result.code}): ${firstLine(result.stderr)}; ` +
          `${settings.path} left in place`,
      );
    }
    report.loaded = false;
    out.info(`${settings.label} was not loaded`);
  }
  if (present) {
    out.announce(`rm ${settings.path}`);
    await Deno.remove(settings.path);
  } else {
    out.info(`${settings.path} is absent`);
  }
  // The log's rotation goes with the daemon; the log itself stays for the user to read.
  if (await exists(settings.newsyslogPath)) {
    out.announce(`rm ${settings.newsyslogPath}`);
    await Deno.remove(settings.newsyslogPath);
  }
  if (out.json) out.emit(report);
  else if (!present && !report.loaded) out.info(`nothing to uninstall`);
  else out.info(`uninstalled ${settings.label}`);
  return ExitCode.OK;
}
