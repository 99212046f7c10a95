/**
 * The newsyslog(8) entry that keeps the daemon's log bounded: pure generation, no Deno.* calls.
 *
 * macOS runs newsyslog every 30 minutes (launchd's com.apple.newsyslog) and reads every file in
 * /etc/newsyslog.d/ as well as /etc/newsyslog.conf. newsyslog rotates by renaming the log and
 * creating a new one, and signals the process named by a pid file unless the entry's flags say
 * `N` (newsyslog.conf(5)); it has no copy-and-truncate. The daemon reopens its log itself when
 * the file has been renamed (`watch --log-file`, lib/cli/log_file.ts), so `N` is right: there is
 * nobody to signal. No compression flag: launchd's own descriptor (crash output only) still
 * points at the renamed file, which stays readable.
 */
import { PlistValueError, validateLabel } from "./launchd_plist.ts";

/** Where newsyslog reads the entries of other software. */
export const NEWSYSLOG_DIR = "/etc/newsyslog.d";
/** Rotate at this size (newsyslog's size field is in KiB). */
export const ROTATE_KIB = 1024;
/** Old logs kept (defroute.log.0 ... .4). */
export const ROTATE_COUNT = 5;

/** `<root>/etc/newsyslog.d/<label>.conf` (root "" = the system). */
export function newsyslogPath(root: string, label: string): string {
  return `${root.replace(/\/+$/, "")}${NEWSYSLOG_DIR}/${validateLabel(label)}.conf`;
}

/**
 * A log path as a newsyslog field: fields are separated by blanks and `#` starts a comment, so
 * a path with either cannot be written (newsyslog.conf(5)); throws PlistValueError.
 */
export function validateRotatedPath(path: string): string {
  if (/[\s#\\]/.test(path)) {
    throw new PlistValueError(
      `log path "${path}" cannot be rotated by newsyslog (blanks, '#' and '\\' end its fields); ` +
        `choose one without them`,
    );
  }
  return path;
}

/** The entry for `logPath`, with a comment saying who wrote it and why its flags are so. */
export function newsyslogConf(logPath: string, label: string): string {
  const path = validateRotatedPath(logPath);
  return [
    `# ${validateLabel(label)}: the log of 'defroute watch --heal', written by 'defroute hook`,
    `# install' and removed by 'defroute hook uninstall'. Rotated at ${ROTATE_KIB} KiB, ` +
    `${ROTATE_COUNT} old logs kept.`,
    `# N: no process is signalled; defroute reopens the log itself once it has been renamed.`,
    `# logfilename [owner:group] mode count size when flags`,
    `${path} root:wheel 644 ${ROTATE_COUNT} ${ROTATE_KIB} * N`,
    ``,
  ].join("\n");
}

/** The fields of the entry's one non-comment line, for tests and `hook print --json`. */
export function newsyslogFields(conf: string): string[] {
  const line = conf.split("\n").find((l) => l.trim() !== "" && !l.startsWith("#")) ?? "";
  return line.split(/\s+/).filter((field) => field !== "");
}
