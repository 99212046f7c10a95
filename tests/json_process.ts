/**
 * A test's child process whose stdout is read as JSON lines (the fake tunnels, the probes, the
 * CLI with --json) and whose stderr is kept for log assertions: used by the run/watch e2e tests,
 * the namespace tests (tests/linux/netns.ts spawnInLab), the benchmarks and the demo.
 */

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
  /** Close stdin (the polite stop) and wait for the exit code. */
  stop(): Promise<number>;
  kill(signal?: Deno.Signal): void;
  /** Exit code (128+N for signal N). */
  exit(): Promise<number>;
}

export interface SpawnOptions {
  /** Added to the inherited environment (the only environment with `clearEnv`). */
  env?: Record<string, string>;
  /** Start from an empty environment (the real-Mac tier: no DEFROUTE_* override may leak in). */
  clearEnv?: boolean;
  /** "piped" (default) keeps stderr for stderr()/stderrMatch(); "inherit" shows it instead. */
  stderr?: "piped" | "inherit";
}

export function spawnProc(program: string, args: string[], options: SpawnOptions = {}): Proc {
  const child = new Deno.Command(program, {
    args,
    env: options.env ?? {},
    clearEnv: options.clearEnv ?? false,
    stdin: "piped",
    stdout: "piped",
    stderr: options.stderr ?? "piped",
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
    if (options.stderr === "inherit") return;
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
    async stop() {
      await writer.close().catch(() => {});
      return await this.exit();
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
