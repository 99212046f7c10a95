/**
 * Shared helpers for the hooks tests: parsing a property list with python3's plistlib (an
 * independent, strict parser: expat plus Apple's plist element rules), finding hook files, and
 * polling with a deadline for the tests that run the real VPN tools.
 */
import { fileURLToPath } from "node:url";

export const HOOKS_DIR = fileURLToPath(new URL("../../hooks/", import.meta.url));

function hasBinary(path: string, args: string[]): boolean {
  try {
    return new Deno.Command(path, { args, stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

/** python3 on PATH (plistlib is in its standard library). */
export const PYTHON3 = findOnPath("python3");
export const HAVE_PLISTLIB = PYTHON3 !== null && hasBinary(PYTHON3, ["-c", "import plistlib"]);
export const SHELLCHECK = findOnPath("shellcheck");
export const BASH = findOnPath("bash");

export function findOnPath(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    if (dir === "") continue;
    const candidate = `${dir}/${name}`;
    try {
      if (Deno.statSync(candidate).isFile) return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** Parse an XML property list with plistlib and return it as JSON values. Throws if invalid. */
export async function parsePlist(xml: string): Promise<unknown> {
  if (PYTHON3 === null) throw new Error("python3 is missing");
  const child = new Deno.Command(PYTHON3, {
    args: [
      "-c",
      "import json, plistlib, sys; json.dump(plistlib.loads(sys.stdin.buffer.read()), sys.stdout)",
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(xml));
  await writer.close();
  const result = await child.output();
  if (!result.success) {
    throw new Error(`plistlib rejected the plist: ${new TextDecoder().decode(result.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(result.stdout));
}

/** Every file under hooks/ that `predicate` accepts, as absolute paths, sorted. */
export function hookFiles(predicate: (path: string) => boolean): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir.replace(/\/$/, "")}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else if (entry.isFile && predicate(path)) found.push(path);
    }
  };
  walk(HOOKS_DIR);
  return found.sort();
}

/** Files under hooks/ that are bash scripts (by shebang). */
export function hookScripts(): string[] {
  return hookFiles((path) => {
    const head = Deno.readTextFileSync(path).slice(0, 64);
    return /^#!\/(usr\/)?bin\/(env )?bash\b/.test(head);
  });
}

/** Polls `probe` every 100 ms until it returns a value, for at most `seconds`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | null | undefined>,
  context: () => Promise<string>,
  seconds = 30,
): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  while (Date.now() < deadline) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`gave up after ${seconds} s waiting for ${what}\n${await context()}`);
}
