/**
 * Helpers for the `run`/`watch` end-to-end tests (run_watch_linux_test.ts on the real kernel in
 * network namespaces, run_watch_darwin_test.ts on the simulated Mac through the real FFI path):
 * start the real CLI as a process with the permission set users get, read its stdout as JSON
 * lines and keep its stderr for the log assertions.
 */
import { RUN_PERMISSIONS } from "../../lib/permissions.ts";

export const ROOT = new URL("../../", import.meta.url).pathname;
export const MAIN = `${ROOT}main.ts`;
export const DENO = Deno.execPath();

/** argv for `deno run <RUN_PERMISSIONS> main.ts ARGS...`. */
export function defrouteArgv(args: string[]): [string, string[]] {
  return [DENO, ["run", "--quiet", ...RUN_PERMISSIONS, MAIN, ...args]];
}

export interface Proc {
  pid: number;
  /** Every stdout line that parsed as a JSON object, in order. */
  seen: Record<string, unknown>[];
  /** All of stderr so far. */
  stderr(): string;
  /** The first stdout JSON line matching `match` (waits at most `ms`, then fails). */
  next(
    match: (v: Record<string, unknown>) => boolean,
    ms?: number,
  ): Promise<Record<string, unknown>>;
  /** Wait until stderr matches (at most `ms`). */
  stderrMatch(pattern: RegExp, ms?: number): Promise<void>;
  closeStdin(): Promise<void>;
  kill(signal?: Deno.Signal): void;
  /** Exit code (128+N for signal N). */
  exit(): Promise<number>;
}

export function spawnProc(
  program: string,
  args: string[],
  env: Record<string, string> = {},
): Proc {
  const child = new Deno.Command(program, {
    args,
    env,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const seen: Record<string, unknown>[] = [];
  let errText = "";
  const changed = new Set<() => void>();
  const notify = () => {
    for (const f of [...changed]) f();
  };
  const stdoutRead = (async () => {
    let buffer = "";
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let at;
      while ((at = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, at);
        buffer = buffer.slice(at + 1);
        try {
          const value = JSON.parse(line);
          if (value && typeof value === "object" && !Array.isArray(value)) seen.push(value);
        } catch {
          // not JSON
        }
      }
      notify();
    }
    notify();
  })();
  const stderrRead = (async () => {
    for await (const chunk of child.stderr.pipeThrough(new TextDecoderStream())) {
      errText += chunk;
      notify();
    }
  })();
  const waitFor = (check: () => boolean, ms: number, what: () => string): Promise<void> =>
    new Promise((resolve, reject) => {
      if (check()) return resolve();
      const timer = setTimeout(() => {
        changed.delete(test);
        reject(new Error(`${what()} within ${ms} ms`));
      }, ms);
      const test = () => {
        if (check()) {
          clearTimeout(timer);
          changed.delete(test);
          resolve();
        }
      };
      changed.add(test);
    });
  const writer = child.stdin.getWriter();
  let exitCode: Promise<number> | null = null;
  return {
    pid: child.pid,
    seen,
    stderr: () => errText,
    async next(match, ms = 20_000) {
      await waitFor(
        () => seen.some(match),
        ms,
        () => `no matching stdout line; stdout ${JSON.stringify(seen)}; stderr:\n${errText}`,
      );
      return seen.find(match)!;
    },
    stderrMatch(pattern, ms = 20_000) {
      return waitFor(
        () => pattern.test(errText),
        ms,
        () => `stderr never matched ${pattern}:\n${errText}`,
      );
    },
    async closeStdin() {
      await writer.close().catch(() => {});
    },
    kill(signal: Deno.Signal = "SIGTERM") {
      try {
        child.kill(signal);
      } catch {
        // gone already
      }
    },
    exit() {
      exitCode ??= (async () => {
        const status = await child.status;
        // A grandchild that outlived the process (CMD after defroute was SIGKILLed) may hold
        // the pipes open: give the rest of the output a moment, never forever.
        let timer: ReturnType<typeof setTimeout> | undefined;
        await Promise.race([
          Promise.all([stdoutRead, stderrRead]),
          new Promise((r) => timer = setTimeout(r, 3000)),
        ]);
        clearTimeout(timer);
        await writer.close().catch(() => {});
        return status.code;
      })();
      return exitCode;
    },
  };
}

/** Poll `check` every 20 ms; fail with `what` after `ms` (a hang guard, not a timing test). */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  what: string,
  ms = 20_000,
): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`never happened: ${what}`);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}
