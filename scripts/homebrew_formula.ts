/**
 * `deno run --allow-read --allow-write scripts/homebrew_formula.ts --url URL --sha256 HEX
 * [--homepage URL] [--formula FILE] [--out FILE]`: packaging/homebrew/defroute.rb with the source
 * tarball it builds from filled in.
 *
 * The committed formula cannot know the sha256 of a tarball that does not exist yet, so it holds
 * an all-zero one. The release workflow renders it with the tag's archive and attaches the result;
 * the macOS CI job renders it with a `git archive` of the checkout (a file:// URL) and installs
 * that from a local tap. Only the `url`, `sha256` and `homepage` lines change: what is tested is
 * the committed formula's install and test blocks.
 */
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";

export const FORMULA_PATH = fileURLToPath(
  new URL("../packaging/homebrew/defroute.rb", import.meta.url),
);

export interface FormulaSource {
  url: string;
  sha256: string;
  homepage?: string;
}

export class FormulaError extends Error {
  override readonly name = "FormulaError";
}

/** Homebrew downloads https:// (a release) and file:// (CI's tarball of the checkout). */
const URL_PATTERN = /^(https:\/\/|file:\/\/\/)[^\s"\\#{}]+\.tar\.gz$/;
const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/** Replaces the one `  KEY "..."` line of the class body; throws unless there is exactly one. */
function replaceField(text: string, key: string, value: string): string {
  const line = new RegExp(`^  ${key} "[^"\\n]*"$`, "gm");
  const found = text.match(line)?.length ?? 0;
  if (found !== 1) throw new FormulaError(`the formula has ${found} \`${key}\` lines, not one`);
  return text.replace(line, `  ${key} "${value}"`);
}

/** The formula text with `source` in place of its url, sha256 (and homepage). Pure. */
export function renderFormula(text: string, source: FormulaSource): string {
  if (!URL_PATTERN.test(source.url)) {
    throw new FormulaError(`--url must be an https:// or file:/// URL of a .tar.gz: ${source.url}`);
  }
  if (!SHA256_PATTERN.test(source.sha256)) {
    throw new FormulaError(`--sha256 must be 64 lowercase hex digits: ${source.sha256}`);
  }
  let out = replaceField(text, "url", source.url);
  out = replaceField(out, "sha256", source.sha256);
  if (source.homepage !== undefined) {
    if (!/^https:\/\/[^\s"\\#{}]+$/.test(source.homepage)) {
      throw new FormulaError(`--homepage must be an https:// URL: ${source.homepage}`);
    }
    out = replaceField(out, "homepage", source.homepage);
  }
  return out;
}

/** Runs the script; returns the exit code. */
export async function formulaMain(args: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args,
      options: {
        url: { type: "string" },
        sha256: { type: "string" },
        homepage: { type: "string" },
        formula: { type: "string", default: FORMULA_PATH },
        out: { type: "string" },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    console.error(`homebrew_formula: ${(error as Error).message.split("\n")[0]}`);
    return 2;
  }
  if (values.url === undefined || values.sha256 === undefined) {
    console.error("homebrew_formula: --url and --sha256 are required");
    return 2;
  }
  try {
    const text = renderFormula(await Deno.readTextFile(values.formula), {
      url: values.url,
      sha256: values.sha256,
      ...(values.homepage === undefined ? {} : { homepage: values.homepage }),
    });
    if (values.out === undefined) await Deno.stdout.write(new TextEncoder().encode(text));
    else await Deno.writeTextFile(values.out, text);
    return 0;
  } catch (error) {
    if (!(error instanceof FormulaError || error instanceof Deno.errors.NotFound)) throw error;
    console.error(`homebrew_formula: ${error.message}`);
    return 1;
  }
}

if (import.meta.main) {
  Deno.exit(await formulaMain(Deno.args));
}
