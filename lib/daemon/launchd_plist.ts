/**
 * The launchd job for `defroute watch --heal`: pure generation and validation, no Deno.* calls.
 *
 * `defroute hook install` writes what `daemonPlist()` returns to
 * /Library/LaunchDaemons/<label>.plist and loads it with `launchctl bootstrap system <path>`
 * (launchd.plist(5), launchctl(1)). Everything that ends up inside the XML is either validated
 * to a safe character set (the label) or escaped (paths, arguments), so no option value can
 * change the structure of the property list.
 */

/** The job label `hook install` uses unless --label says otherwise. */
export const DEFAULT_LABEL = "org.defroute.watch";

/** Where launchd's stdout/stderr of the daemon go unless --log says otherwise. */
export const DEFAULT_LOG_PATH = "/var/log/defroute.log";

/** System-wide daemons live here; launchd loads every plist in it at boot (as root). */
export const LAUNCH_DAEMONS_DIR = "/Library/LaunchDaemons";

/** launchctl's path on macOS; `DEFROUTE_LAUNCHCTL` overrides it (tests use a recording fake). */
export const DEFAULT_LAUNCHCTL = "/bin/launchctl";

/** A property-list value: the subset of plist types a launchd job needs. */
export type PlistValue =
  | string
  | boolean
  | number
  | readonly PlistValue[]
  | { readonly [key: string]: PlistValue };

/** Thrown for a value that cannot go into the job (bad label, relative path, control chars). */
export class PlistValueError extends Error {
  override readonly name = "PlistValueError";
}

/**
 * A label is reverse-DNS: dot-separated words of letters, digits, `-` and `_`, at least two of
 * them. That keeps it safe both as XML text and as a file name (`<label>.plist`) and as the
 * `system/<label>` service target of `launchctl bootout`: no `/`, no `..`, no spaces.
 */
const LABEL_PATTERN = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)+$/;

/** Returns the label or throws PlistValueError saying what is allowed. */
export function validateLabel(label: string): string {
  if (label.length > 200 || !LABEL_PATTERN.test(label)) {
    throw new PlistValueError(
      `label "${printable(label)}" is not reverse-DNS (letters, digits, '-', '_' in ` +
        `dot-separated words, e.g. ${DEFAULT_LABEL})`,
    );
  }
  return label;
}

/**
 * Returns the path or throws: it must be absolute (launchd runs jobs with cwd `/` and a minimal
 * environment, so a relative program or log path would point somewhere else or nowhere) and free
 * of control characters (XML 1.0 cannot even carry most of them).
 */
export function validateAbsolutePath(path: string, what: string): string {
  if (!path.startsWith("/")) {
    throw new PlistValueError(`${what} "${printable(path)}" is not an absolute path`);
  }
  if (hasControlCharacter(path)) {
    throw new PlistValueError(`${what} "${printable(path)}" contains control characters`);
  }
  if (path.split("/").includes("..")) {
    throw new PlistValueError(`${what} "${printable(path)}" contains '..'`);
  }
  return path;
}

/** Escapes the five XML special characters; rejects what XML 1.0 cannot represent at all. */
export function escapeXml(text: string): string {
  if (hasControlCharacter(text)) {
    throw new PlistValueError(`"${printable(text)}" contains control characters`);
  }
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&apos;");
}

/**
 * The program and arguments launchd runs: `<binary> watch --heal [--log-file PATH] [--state
 * PATH]`. With a log path the daemon writes its log itself and reopens it after newsyslog has
 * rotated it (lib/daemon/newsyslog.ts).
 */
export function watchProgramArguments(
  binary: string,
  statePath?: string,
  logPath?: string,
): string[] {
  const args = [validateAbsolutePath(binary, "binary"), "watch", "--heal"];
  if (logPath !== undefined) args.push("--log-file", validateAbsolutePath(logPath, "log path"));
  if (statePath !== undefined) args.push("--state", validateAbsolutePath(statePath, "state path"));
  return args;
}

export interface DaemonJob {
  label: string;
  programArguments: readonly string[];
  /** StandardOutPath and StandardErrorPath (one file: the announcements and errors interleave). */
  logPath: string;
}

/** The job as a plist dictionary (validated). Key names are launchd.plist(5)'s. */
export function daemonJob(job: DaemonJob): { [key: string]: PlistValue } {
  const label = validateLabel(job.label);
  const [program] = job.programArguments;
  if (program === undefined) throw new PlistValueError("ProgramArguments is empty");
  validateAbsolutePath(program, "program");
  const logPath = validateAbsolutePath(job.logPath, "log path");
  return {
    Label: label,
    ProgramArguments: [...job.programArguments],
    // RunAtLoad starts it at boot (and at bootstrap); KeepAlive restarts it whenever it exits, so
    // a crash of the healer never leaves the Mac unprotected.
    RunAtLoad: true,
    KeepAlive: true,
    StandardOutPath: logPath,
    StandardErrorPath: logPath,
  };
}

/** The XML property list launchd reads for `job`. */
export function daemonPlist(job: DaemonJob): string {
  return renderPlist(daemonJob(job));
}

/** Serialises a plist value as an XML property list (Apple's DTD, tab-indented like plutil). */
export function renderPlist(root: PlistValue): string {
  const lines = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" ` +
    `"http://www.apple.com/DTDs/PropertyList-1.0.dtd">`,
    `<plist version="1.0">`,
    ...renderValue(root, ""),
    `</plist>`,
  ];
  return lines.join("\n") + "\n";
}

function renderValue(value: PlistValue, indent: string): string[] {
  if (typeof value === "string") return [`${indent}<string>${escapeXml(value)}</string>`];
  if (typeof value === "boolean") return [`${indent}<${value}/>`];
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) {
      throw new PlistValueError(`only integers are supported in a plist here, not ${value}`);
    }
    return [`${indent}<integer>${value}</integer>`];
  }
  if (isArray(value)) {
    if (value.length === 0) return [`${indent}<array/>`];
    return [
      `${indent}<array>`,
      ...value.flatMap((item) => renderValue(item, indent + "\t")),
      `${indent}</array>`,
    ];
  }
  const entries = Object.entries(value);
  if (entries.length === 0) return [`${indent}<dict/>`];
  return [
    `${indent}<dict>`,
    ...entries.flatMap(([key, item]) => [
      `${indent}\t<key>${escapeXml(key)}</key>`,
      ...renderValue(item, indent + "\t"),
    ]),
    `${indent}</dict>`,
  ];
}

function isArray(value: PlistValue): value is readonly PlistValue[] {
  return Array.isArray(value);
}

/** Where the plist goes: `<root>/Library/LaunchDaemons/<label>.plist` (root "" or "/" = the system). */
export function plistPath(root: string, label: string): string {
  const prefix = root.replace(/\/+$/, "");
  return `${prefix}${LAUNCH_DAEMONS_DIR}/${validateLabel(label)}.plist`;
}

/** `launchctl bootstrap system <path>`: load a daemon into the system domain (macOS 10.10+). */
export function bootstrapArgs(path: string): string[] {
  return ["bootstrap", "system", path];
}

/** `launchctl bootout system/<label>`: stop and unload the daemon. */
export function bootoutArgs(label: string): string[] {
  return ["bootout", `system/${validateLabel(label)}`];
}

/**
 * Whether a failed `launchctl bootout` only means "that service is not loaded", which uninstall
 * (and a reinstall) treat as nothing to do. launchctl prints e.g. "Boot-out failed: 3: No such
 * process" or "Could not find specified service" and exits with 3 or 113 for that.
 */
export function isNotLoaded(exitCode: number, stderr: string): boolean {
  return exitCode === 3 || exitCode === 113 ||
    /No such process|Could not find specified service|not find service/i.test(stderr);
}

function hasControlCharacter(text: string): boolean {
  // deno-lint-ignore no-control-regex -- matching control characters is the point.
  return /[\u0000-\u001f\u007f]/.test(text);
}

/** A value safe to quote in a one-line error message. */
function printable(text: string): string {
  // deno-lint-ignore no-control-regex -- making control characters visible is the point.
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`);
}
