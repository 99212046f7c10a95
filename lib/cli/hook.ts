/**
 * `defroute hook install|uninstall|print`: the launchd daemon that runs `defroute watch --heal`.
 *
 * install writes <root>/Library/LaunchDaemons/<label>.plist (root:wheel 0644: launchd ignores a
 * daemon plist that is group- or world-writable or not owned by root) and loads it with
 * `launchctl bootstrap system <path>`; uninstall runs `launchctl bootout system/<label>` and
 * removes the file. launchctl is called by absolute path with an argument array, never through a
 * shell; `DEFROUTE_LAUNCHCTL` names another binary (tests point it at a recording fake).
 */
import { checkOverrideTrusted } from "../core/override_path.ts";
import { resolve } from "../core/posix_path.ts";
import type { Command, CommandContext } from "./command.ts";
import { COMMON_OPTIONS } from "./command.ts";
import type { Output } from "./output.ts";
import { CliError, ExitCode, UsageError } from "../core/errors.ts";
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
} from "../core/launchd_plist.ts";

const HELP = `Usage:
  sudo defroute hook install [--binary PATH] [--label LABEL] [--log PATH] [--dry-run]
  sudo defroute hook uninstall [--label LABEL] [--dry-run]
  defroute hook print [--binary PATH] [--label LABEL] [--log PATH]

Installs the launchd daemon that runs 'defroute watch --heal' at boot (RunAtLoad) and restarts
it whenever it exits (KeepAlive), so a default route lost to a crashed or killed tunnel comes
back without toggling Wi-Fi.

  install    write /Library/LaunchDaemons/LABEL.plist (root:wheel, 0644) and load it with
             'launchctl bootstrap system PATH'; a reinstall boots the old job out first
  uninstall  'launchctl bootout system/LABEL' and remove the plist
  print      show the plist that install would write (no root needed)

Options:
  --binary PATH     the defroute binary the daemon runs (absolute, must exist); default: this
                    executable when it is the compiled defroute, otherwise required
  --label LABEL     the launchd label, reverse-DNS (default ${DEFAULT_LABEL})
  --log PATH        StandardOutPath and StandardErrorPath (default ${DEFAULT_LOG_PATH})
  --state PATH      passed on to 'watch' when given
  --root DIR        write under DIR/Library/LaunchDaemons instead of / (for packaging and tests;
                    needs no root)
  -n, --dry-run     say what would be written and run, change nothing
  --json            one JSON object describing the result

Environment:
  DEFROUTE_LAUNCHCTL  launchctl to run (absolute path; default ${DEFAULT_LAUNCHCTL})

Exit codes: 0 done, 1 failure (launchctl failed, binary missing), 2 usage (bad label, relative
path), 3 needs root.`;

export type HookAction = "install" | "uninstall" | "print";

/** The result of running launchctl once. */
export interface LaunchctlResult {
  code: number;
  stderr: string;
}

/** What the hook command needs from the OS, so the decisions can be tested without it. */
export interface HookEnvironment {
  uid(): number;
  /** This executable when it is a `deno compile`d defroute, else null. */
  compiledBinary(): string | null;
  launchctl(args: string[]): Promise<LaunchctlResult>;
}

/** The validated settings of one `hook` invocation. */
export interface HookSettings {
  action: HookAction;
  label: string;
  /** Where the plist goes (under --root when given). */
  path: string;
  /** Null for uninstall, which needs no binary. */
  programArguments: string[] | null;
  logPath: string;
  dryRun: boolean;
  /** --root was given: a staging tree, not the system. */
  staged: boolean;
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
    const logPath = validateAbsolutePath(option("log") ?? DEFAULT_LOG_PATH, "log path");
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
      programArguments = watchProgramArguments(binary, option("state"));
    }
    return {
      action,
      label,
      path: plistPath(root, label),
      programArguments,
      logPath,
      dryRun: values["dry-run"] === true,
      staged: rootOption !== undefined,
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
    launchctl: async (args) => {
      // An override runs as root: absolute, and root's own from `/` down; the path run is the
      // one checked, links resolved, so nothing can be swapped in between
      // (lib/core/override_path.ts).
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
  if (out.json) {
    out.emit({
      ok: true,
      action: "print",
      label: settings.label,
      path: settings.path,
      programArguments: settings.programArguments,
      plist,
    });
  } else {
    out.print(plist);
  }
  return ExitCode.OK;
}

/** The binary the plist names must exist and be executable, or launchd would respawn a failure. */
async function checkBinary(binary: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(binary);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(ExitCode.FAILURE, `binary ${binary} does not exist`);
    }
    throw error;
  }
  if (!info.isFile) throw new CliError(ExitCode.FAILURE, `binary ${binary} is not a file`);
  if (info.mode !== null && (info.mode & 0o111) === 0) {
    throw new CliError(ExitCode.FAILURE, `binary ${binary} is not executable`);
  }
}

async function checkDirectory(path: string, what: string): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(ExitCode.FAILURE, `${what} ${path} does not exist`);
    }
    throw error;
  }
  if (!info.isDirectory) throw new CliError(ExitCode.FAILURE, `${what} ${path} is not a directory`);
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

function launchctlLine(args: string[]): string {
  return `launchctl ${args.join(" ")}`;
}

async function install(out: Output, settings: HookSettings, env: HookEnvironment): Promise<number> {
  const programArguments = settings.programArguments ?? [];
  const binary = programArguments[0] ?? "";
  await checkBinary(binary);
  // launchd creates the log file but not its directory; without it the job cannot start.
  if (!settings.staged) {
    await checkDirectory(
      settings.logPath.slice(0, settings.logPath.lastIndexOf("/")) || "/",
      "log directory",
    );
  }
  const plist = plistOf(settings);
  const reinstall = await exists(settings.path);
  const calls: string[][] = [];
  if (reinstall) calls.push(bootoutArgs(settings.label));
  calls.push(bootstrapArgs(settings.path));
  const report = {
    ok: true,
    action: "install",
    dryRun: settings.dryRun,
    label: settings.label,
    path: settings.path,
    programArguments,
    reinstall,
    launchctl: calls,
    plist,
  };

  if (settings.dryRun) {
    if (reinstall) out.info(`(dry run) would boot out the loaded ${settings.label} first`);
    out.info(`(dry run) would write ${settings.path} (0644, owner root) and run:`);
    for (const args of calls) out.info(`(dry run)   ${launchctlLine(args)}`);
    if (out.json) out.emit(report);
    else out.print(plist);
    return ExitCode.OK;
  }

  if (reinstall) {
    const args = bootoutArgs(settings.label);
    out.announce(launchctlLine(args));
    const result = await env.launchctl(args);
    if (result.code !== 0 && !isNotLoaded(result.code, result.stderr)) {
      throw new CliError(
        ExitCode.FAILURE,
        `${launchctlLine(args)} failed (exit ${result.code}): ${firstLine(result.stderr)}`,
      );
    }
  }
  out.announce(`write ${settings.path} (0644)`);
  await writePlistFile(settings.path, plist, env.uid() === 0);

  const args = bootstrapArgs(settings.path);
  out.announce(launchctlLine(args));
  let result: LaunchctlResult;
  try {
    result = await env.launchctl(args);
  } catch (error) {
    await removeQuietly(settings.path);
    throw error;
  }
  if (result.code !== 0) {
    // Leave nothing behind that launchd would load at the next boot without being asked.
    await removeQuietly(settings.path);
    throw new CliError(
      ExitCode.FAILURE,
      `${launchctlLine(args)} failed (exit ${result.code}): ${firstLine(result.stderr)}; ` +
        `removed ${settings.path} again`,
    );
  }
  if (out.json) out.emit(report);
  else {out.info(
      `installed ${settings.label}: ${programArguments.join(" ")} (log ${settings.logPath})`,
    );}
  return ExitCode.OK;
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
  if (out.json) out.emit(report);
  else if (!present && !report.loaded) out.info(`nothing to uninstall`);
  else out.info(`uninstalled ${settings.label}`);
  return ExitCode.OK;
}

/** Write via a temporary file and rename, so launchd never sees half a plist. */
async function writePlistFile(path: string, content: string, asRoot: boolean): Promise<void> {
  const dir = path.slice(0, path.lastIndexOf("/"));
  await Deno.mkdir(dir, { recursive: true, mode: 0o755 });
  const temporary = `${path}.tmp-${Deno.pid}`;
  try {
    await Deno.writeTextFile(temporary, content, { mode: 0o644, createNew: true });
    await Deno.chmod(temporary, 0o644); // the umask may have taken bits off
    if (asRoot) await Deno.chown(temporary, 0, 0); // root:wheel (wheel is gid 0 on macOS)
    await Deno.rename(temporary, path);
  } catch (error) {
    await removeQuietly(temporary);
    throw error;
  }
}

async function removeQuietly(path: string): Promise<void> {
  try {
    await Deno.remove(path);
  } catch {
    // Best effort: the error that brought us here is the one to report.
  }
}

function firstLine(text: string): string {
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "no message";
}
