/**
 * `deno task bundle [--out DIR]`: defroute as it ships. `deno bundle` (esbuild) turns main.ts and
 * everything it imports into DIR (default dist/bundle): main.js, one chunk for each command and
 * each kernel backend (the dynamic imports of lib/cli/commands.ts and lib/system.ts), and chunks
 * for the code they share. `deno task compile` builds the binary from this bundle.
 *
 * Why ship a bundle rather than the source tree: under `deno run`, every TypeScript module costs
 * ~0.3 ms to load (its emit-cache entry, its inline source map, its own graph node), and a
 * `defroute save` loads 25 of them. Measured in tests/bench/hook_bench.ts, which runs both: the
 * bundle starts ~8-10 ms sooner, which is what brings a hook within 15 ms of the runtime's floor
 * (issue 8). Splitting by dynamic import keeps what a hook loads small: `save` loads main.js, the
 * save chunk, the Linux or darwin backend and their shared chunks, never run, watch or hook.
 *
 * The bundle is generated, never committed (dist/ is ignored): tests/linux/bundle_e2e_test.ts
 * builds it and runs the CLI end-to-end suite against it, so it cannot drift from the source.
 * `deno bundle` fetches esbuild from the npm registry on first use.
 */
const PROJECT_ROOT = new URL("..", import.meta.url).pathname.replace(/\/$/, "");

export const DEFAULT_BUNDLE_DIR = `${PROJECT_ROOT}/dist/bundle`;

/** The `deno bundle` argument list: Deno platform, split at dynamic imports, unminified (a stack
 * trace from a user's machine stays readable). */
export function bundleArgs(outDir: string, entry = `${PROJECT_ROOT}/main.ts`): string[] {
  return ["bundle", "--quiet", "--platform", "deno", "--code-splitting", "--outdir", outDir, entry];
}

/** The one line that says why a deno subcommand failed: its first `error:` line (without the
 * prefix), else its first non-empty line; null for no output. deno follows the error with a
 * cause chain and a stack backtrace, which a task's one-line message leaves out. */
export function denoErrorLine(stderr: string): string | null {
  const lines = stderr.split("\n").map((l) => l.trim());
  const line = lines.find((l) => /^error\b/i.test(l)) ?? lines.find((l) => l !== "");
  return line === undefined ? null : line.replace(/^error:\s*/i, "");
}

/** Thrown when `deno bundle` fails: one line. */
export class BundleError extends Error {
  override readonly name = "BundleError";
}

/**
 * Remove an older bundle's files from `outDir`, so none of its chunks is left behind. Only a
 * directory that holds nothing but `.js` files is touched: `--out .` or `--out ~` must not empty
 * a directory that is something else.
 */
function clearOldBundle(outDir: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(outDir)];
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) return;
    throw new BundleError(`cannot read ${outDir}: ${(error as Error).message}`);
  }
  const other = entries.find((e) => !e.isFile || !e.name.endsWith(".js"));
  if (other) {
    throw new BundleError(
      `${outDir} holds more than a bundle (${other.name}); give --out an empty directory or ` +
        `one made by this task`,
    );
  }
  for (const entry of entries) Deno.removeSync(`${outDir}/${entry.name}`);
}

/**
 * Bundle `entry` (main.ts) into `outDir`, after removing an older bundle there (clearOldBundle);
 * returns the path of the bundle's entry, `outDir/main.js`.
 */
export async function buildBundle(
  outDir: string = DEFAULT_BUNDLE_DIR,
  entry = `${PROJECT_ROOT}/main.ts`,
): Promise<string> {
  // `deno task` runs scripts in the project directory; INIT_CWD is where the user typed it.
  if (!outDir.startsWith("/")) outDir = `${Deno.env.get("INIT_CWD") ?? Deno.cwd()}/${outDir}`;
  clearOldBundle(outDir);
  const result = await new Deno.Command(Deno.execPath(), {
    args: bundleArgs(outDir, entry),
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const built = `${outDir}/main.js`;
  if (!result.success) {
    const text = new TextDecoder().decode(result.stderr);
    throw new BundleError(`deno bundle failed: ${denoErrorLine(text) ?? `exit ${result.code}`}`);
  }
  try {
    Deno.statSync(built);
  } catch {
    throw new BundleError(`deno bundle wrote no ${built}`);
  }
  return built;
}

if (import.meta.main) {
  const args = Deno.args;
  const valid = args.length === 0 ||
    (args.length === 2 && args[0] === "--out" && args[1] !== undefined && args[1] !== "");
  if (!valid) {
    console.error("usage: deno task bundle [--out DIR]");
    Deno.exit(2);
  }
  try {
    const entry = await buildBundle(args[1] ?? DEFAULT_BUNDLE_DIR);
    console.log(entry);
  } catch (error) {
    console.error(error instanceof BundleError ? error.message : String(error));
    Deno.exit(1);
  }
}
