/**
 * `deno task compile [--target T]... [--out DIR] [--no-check]`: build dist/defroute-<target> for
 * each release target with `deno compile` and the permission flags from lib/permissions.ts, then
 * write DIR/SHA256SUMS (sha256sum format, so `shasum -a 256 -c SHA256SUMS` verifies it).
 *
 * What is compiled is the bundle of scripts/bundle.ts (built first, in a temporary directory),
 * not main.ts's module tree: the program users run is then exactly the one
 * tests/linux/bundle_e2e_test.ts tests and tests/bench/hook_bench.ts measures. The source is
 * type-checked first (`deno check main.ts`, unless --no-check), since a JavaScript bundle is not.
 *
 * `deno compile` copies Deno's base binary (denort) for the target and appends the program. It
 * downloads denort from dl.deno.land unless DENORT_BIN names one. Where neither is possible (the
 * build machines have no route to that host) this script says so in one line per target and
 * exits 1, instead of deno's multi-line error with a stack backtrace. The npm package
 * `deno@2.9.6` (@deno/linux-x64-glibc) ships only the full `deno` CLI, which is not a denort: a
 * binary built on it starts as plain deno and ignores the embedded program, so a host-target
 * build is smoke-tested (`--version` must print "defroute ...") and rejected otherwise.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { RUN_PERMISSIONS } from "../lib/permissions.ts";
import { buildBundle, BundleError, denoErrorLine } from "./bundle.ts";

export const TARGETS = [
  "aarch64-apple-darwin",
  "x86_64-apple-darwin",
  "x86_64-unknown-linux-gnu",
] as const;
export type Target = typeof TARGETS[number];

const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "");

export interface CompileOptions {
  targets: Target[];
  outDir: string;
  /** Type-check the source first (`deno task check` does it too; --no-check skips it here). */
  check: boolean;
}

/** Thrown for a bad command line: one line, exit 2. */
export class CompileUsageError extends Error {
  override readonly name = "CompileUsageError";
}

export function isTarget(value: string): value is Target {
  return (TARGETS as readonly string[]).includes(value);
}

/** Parses the task's own arguments. */
export function parseCompileOptions(args: string[]): CompileOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      options: {
        target: { type: "string", multiple: true },
        out: { type: "string" },
        "no-check": { type: "boolean" },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    throw new CompileUsageError(
      (error instanceof Error ? error.message : String(error)).split("\n")[0] ?? "bad arguments",
    );
  }
  const targets = parsed.values.target ?? [...TARGETS];
  for (const target of targets) {
    if (!isTarget(target)) {
      throw new CompileUsageError(`unknown target "${target}"; one of: ${TARGETS.join(", ")}`);
    }
  }
  return {
    targets: [...new Set(targets as Target[])],
    outDir: parsed.values.out ?? `${PROJECT_ROOT}/dist`,
    check: parsed.values["no-check"] !== true,
  };
}

/** The output file for one target. */
export function outputPath(outDir: string, target: Target): string {
  return `${outDir.replace(/\/+$/, "")}/defroute-${target}`;
}

/**
 * The `deno compile` argument list for one target: the runtime permissions users get, baked in
 * (reference: lib/permissions.ts), the bundle's entry (its chunks are its literal dynamic
 * imports, so compile embeds them with no --include), and --no-check: the entry is generated
 * JavaScript; the source was checked before it was bundled.
 */
export function compileArgs(
  target: Target,
  outDir: string,
  entry: string,
  config = `${PROJECT_ROOT}/deno.json`,
): string[] {
  return [
    "compile",
    "--config",
    config,
    ...RUN_PERMISSIONS,
    "--no-check",
    "--target",
    target,
    "--output",
    outputPath(outDir, target),
    entry,
  ];
}

/** deno prints colours unless told not to; strip them from what we quote. */
function plain(text: string): string {
  // deno-lint-ignore no-control-regex -- removing ANSI escape sequences is the point.
  return text.replace(/\u001b\[[0-9;]*m/g, "");
}

/**
 * One line for a failed `deno compile`, from its stderr. The download of denort failing is the
 * expected case on machines without access to dl.deno.land (deno says "Setting up base binary"
 * and "error sending request for url (.../denort-<target>.zip)").
 */
export function describeFailure(target: Target, stderr: string, denortBin: string | null): string {
  const text = plain(stderr);
  const download = /Setting up base binary|denort-[\w-]+\.zip|error sending request/.test(text);
  if (download && denortBin === null) {
    const cause = text.match(/(dns error|Connection refused|timed out|certificate|proxy)/i)?.[1];
    return `defroute-${target}: cannot fetch Deno's base binary (denort-${target}.zip from ` +
      `dl.deno.land${cause ? `: ${cause.toLowerCase()}` : ""}); set DENORT_BIN to a denort for ` +
      `${target} and run with --target ${target}`;
  }
  return `defroute-${target}: deno compile failed: ${denoErrorLine(text) ?? "no message"}`;
}

/** What `--version` of a freshly built host binary says about it; null when it is good. */
export function smokeTestProblem(versionOutput: string): string | null {
  const first = plain(versionOutput).trim().split("\n")[0] ?? "";
  if (/^defroute \d+\.\d+\.\d+/.test(first)) return null;
  if (/^deno \d/.test(first)) {
    return "the base binary is a full deno CLI, not denort: the result runs as plain deno " +
      "(the npm package deno ships no denort)";
  }
  return `'--version' printed "${first.slice(0, 80)}" instead of "defroute <version>"`;
}

/** `sha256sum` lines ("<hex>  <name>") for the given files, sorted by name. */
export async function sha256Lines(paths: string[]): Promise<string> {
  const lines: string[] = [];
  for (const path of [...paths].sort()) {
    const bytes = await Deno.readFile(path);
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
    const hex = [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
    lines.push(`${hex}  ${path.slice(path.lastIndexOf("/") + 1)}`);
  }
  return lines.map((l) => l + "\n").join("");
}

/** The host's target triple when it is one we build (the binary can be run here). */
function hostTarget(): Target | null {
  return isTarget(Deno.build.target) ? Deno.build.target : null;
}

async function buildOne(
  target: Target,
  options: CompileOptions,
  entry: string,
  denortBin: string | null,
) {
  const out = outputPath(options.outDir, target);
  const result = await new Deno.Command(Deno.execPath(), {
    args: compileArgs(target, options.outDir, entry),
    cwd: PROJECT_ROOT,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!result.success) {
    return describeFailure(target, new TextDecoder().decode(result.stderr), denortBin);
  }
  if (target === hostTarget()) {
    const version = await new Deno.Command(out, {
      args: ["--version"],
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const problem = smokeTestProblem(new TextDecoder().decode(version.stdout));
    if (problem !== null) {
      await Deno.remove(out).catch(() => {});
      return `defroute-${target}: built but rejected: ${problem}; removed it`;
    }
  }
  return null;
}

async function existingBinaries(outDir: string): Promise<string[]> {
  const found: string[] = [];
  try {
    for await (const entry of Deno.readDir(outDir)) {
      const target = entry.name.replace(/^defroute-/, "");
      if (entry.isFile && entry.name.startsWith("defroute-") && isTarget(target)) {
        found.push(`${outDir}/${entry.name}`);
      }
    }
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
  }
  return found;
}

/** Runs the task; returns the exit code. */
export async function compileMain(args: string[]): Promise<number> {
  let options: CompileOptions;
  try {
    options = parseCompileOptions(args);
  } catch (error) {
    if (!(error instanceof CompileUsageError)) throw error;
    console.error(`compile: ${error.message}`);
    return 2;
  }
  const denortBin = Deno.env.get("DENORT_BIN") || null;
  if (denortBin !== null) {
    if (options.targets.length !== 1) {
      console.error(
        "compile: DENORT_BIN names the base binary of one target; choose it with --target",
      );
      return 2;
    }
    try {
      if (!(await Deno.stat(denortBin)).isFile) throw new Deno.errors.NotFound();
    } catch {
      console.error(`compile: DENORT_BIN ${denortBin} is not a file`);
      return 2;
    }
  }
  if (options.check) {
    const checked = await new Deno.Command(Deno.execPath(), {
      args: ["check", "--config", `${PROJECT_ROOT}/deno.json`, `${PROJECT_ROOT}/main.ts`],
      cwd: PROJECT_ROOT,
      env: { NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!checked.success) {
      const text = plain(new TextDecoder().decode(checked.stderr));
      const first = text.split("\n").map((l) => l.trim()).find((l) => /ERROR|^error/.test(l));
      console.error(`compile: main.ts does not type-check: ${first ?? `exit ${checked.code}`}`);
      return 1;
    }
  }
  const bundleDir = await Deno.makeTempDir({ prefix: "defroute-bundle-" });
  try {
    let entry: string;
    try {
      entry = await buildBundle(bundleDir);
    } catch (error) {
      if (!(error instanceof BundleError)) throw error;
      console.error(`compile: ${error.message}`);
      return 1;
    }
    return await compileTargets(options, entry, denortBin);
  } finally {
    await Deno.remove(bundleDir, { recursive: true });
  }
}

/** deno compile `entry` for every target, then the checksums; the exit code. */
async function compileTargets(
  options: CompileOptions,
  entry: string,
  denortBin: string | null,
): Promise<number> {
  await Deno.mkdir(options.outDir, { recursive: true });
  let failures = 0;
  for (const target of options.targets) {
    const problem = await buildOne(target, options, entry, denortBin);
    if (problem === null) {
      const size = (await Deno.stat(outputPath(options.outDir, target))).size;
      console.log(`built ${outputPath(options.outDir, target)} (${(size / 1e6).toFixed(1)} MB)`);
    } else {
      failures++;
      console.error(problem);
    }
  }
  const built = await existingBinaries(options.outDir);
  if (built.length > 0) {
    await Deno.writeTextFile(`${options.outDir}/SHA256SUMS`, await sha256Lines(built));
    console.log(`wrote ${options.outDir}/SHA256SUMS (${built.length} binaries)`);
  }
  return failures === 0 ? 0 : 1;
}

if (import.meta.main) {
  Deno.exit(await compileMain(Deno.args));
}
