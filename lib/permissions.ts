/**
 * The Deno permission flags defroute runs with, defined once.
 *
 * `deno task compile` bakes exactly these into the binary (permission flags given to
 * `deno compile` are fixed in the executable), and every test and script that runs the CLI
 * through `deno run` uses the same list, so the tests exercise the permission set users get.
 *
 * Why each one:
 * - `--allow-ffi`: the routing socket (macOS, libSystem) and rtnetlink (Linux, libc) are reached
 *   through FFI. FFI is full native access; Deno cannot sandbox it, so the other flags are
 *   documentation of intent rather than a security boundary.
 * - `--allow-run`: `/usr/sbin/scutil` on macOS, `launchctl` for `hook install`, and the command
 *   `defroute run -- CMD` wraps (any program, so the grant cannot be narrowed).
 * - `--allow-read` / `--allow-write`: the state file, its lock, the launchd plist, log files.
 * - `--allow-env`: `DEFROUTE_*` overrides (state path, library path for the test harness).
 * - `--allow-sys`: `Deno.uid()` to know whether we are root, `Deno.hostname()` is not used.
 * There is deliberately no `--allow-net`: a root tool that edits routes has no business on the
 * network.
 *
 * Not a permission, but fixed the same way: `--v8-flags=--no-lazy`. V8 normally compiles a
 * function the first time it is called; the restore after `run`'s CMD exits is code that runs
 * once, so it paid that compilation between the exit and the restored default (~0.1 ms per step,
 * ~0.4 ms in all). Compiled up front (and kept in Deno's code cache), the restore under `run`
 * went from a median of 2.1-2.2 ms to 1.6-1.8 ms (tests/bench/restore_bench.ts); hook start-up
 * and the wrapper's memory did not measurably change (hook_bench.ts, footprint 54 MB).
 */
export const RUN_PERMISSIONS: readonly string[] = [
  "--allow-ffi",
  "--allow-run",
  "--allow-read",
  "--allow-write",
  "--allow-env",
  "--allow-sys",
  "--no-prompt",
  "--v8-flags=--no-lazy",
];

/**
 * What `deno run` adds to RUN_PERMISSIONS: the main.ts shebang, `deno task defroute`, the demos,
 * the tests and the benches run defroute with this list. `deno task compile` does not pass it.
 *
 * `--unstable-lazy-dynamic-imports` (denoland/deno PR #28593): without it, `deno run` reads and
 * analyses every module a literal `import()` can reach before the program starts, so a `save`
 * paid for run, watch, hook and the other platform's backend it never loads (~2 ms from source,
 * ~1.8 ms as the bundle: tests/bench/hook_bench.ts). With it, each command's and backend's
 * modules are prepared when lib/cli/commands.ts and lib/system.ts import them, at start-up;
 * nothing is imported later, so `run`'s restore after CMD exits never waits on a module load. A
 * compiled binary has no such crawl (it loads from the program embedded in it), and compile is
 * where an unstable loading flag could change what gets embedded, so compile does without it.
 */
export const DENO_RUN_FLAGS: readonly string[] = [
  ...RUN_PERMISSIONS,
  "--unstable-lazy-dynamic-imports",
];
