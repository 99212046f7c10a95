/**
 * `watch --log-file PATH`: the daemon's own log file, kept bounded by newsyslog(8).
 *
 * launchd opens a job's StandardOutPath once, when it starts the job, and the job keeps that
 * descriptor for as long as it runs. newsyslog rotates by renaming the file and creating a new
 * one (newsyslog.conf(5): it has no copy-and-truncate), and without a pid file it signals no one
 * (flag `N`), so a daemon that writes to launchd's descriptor goes on writing into the renamed
 * file, then into a deleted one. So the daemon writes its log itself: before each line it checks
 * that PATH still names the file it has open (device and inode) and reopens PATH when it does
 * not. Lines are rare at the default verbosity (repairs, refusals, errors), so the two stat(2)s
 * per line cost nothing that matters.
 *
 * Every line starts with the time; event lines (`print`) and JSON lines carry their own.
 */
import { type Output, outputTo, type Verbosity } from "./output.ts";
import { CliError, ExitCode } from "../core/model/errors.ts";
import { PathTrustError, processPathTrust, resolveTrustedPath } from "../core/trust/path_trust.ts";

const encoder = new TextEncoder();

/** Opens PATH for appending (created 0644). As root, PATH and every directory above it must be
 * root's alone (lib/core/trust/path_trust.ts), and PATH must not be a symbolic link. */
function openLog(path: string): Deno.FsFile {
  try {
    const { info } = resolveTrustedPath(path, processPathTrust(), { followFinalLink: false });
    if (info?.isSymlink) {
      throw new CliError(ExitCode.FAILURE, `--log-file ${path} is a symbolic link`);
    }
  } catch (error) {
    if (!(error instanceof PathTrustError)) throw error;
    throw new CliError(ExitCode.FAILURE, `refusing --log-file ${path}: ${error.message}`);
  }
  return Deno.openSync(path, { append: true, create: true, mode: 0o644 });
}

export interface LogFileOutput extends Output {
  close(): void;
}

/** An Output that appends every line, stdout's and stderr's, to PATH (see the file comment). */
export function logFileOutput(path: string, json: boolean, verbosity: Verbosity): LogFileOutput {
  let file = openLog(path);
  const current = (): Deno.FsFile => {
    try {
      const named = Deno.statSync(path);
      const open = file.statSync();
      if (named.dev === open.dev && named.ino === open.ino) return file;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
    file.close();
    file = openLog(path); // rotated (renamed, or removed): a new file under the old name
    return file;
  };
  const write = (text: string) => {
    const bytes = encoder.encode(text.endsWith("\n") ? text : text + "\n");
    try {
      const target = current();
      for (let done = 0; done < bytes.length;) done += target.writeSync(bytes.subarray(done));
    } catch (error) {
      // The log is gone (disk full, directory removed): say it where launchd still listens.
      Deno.stderr.writeSync(encoder.encode(`defroute: cannot write ${path}: ${error}\n`));
      Deno.stderr.writeSync(bytes);
    }
  };
  // stderr's lines get the time in front (a JSON line has it inside); stdout's lines, events and
  // results, carry their own.
  const stamped = (line: string) => write(json ? line : `${new Date().toISOString()} ${line}`);
  return { ...outputTo(json, verbosity, stamped, write), close: () => file.close() };
}
