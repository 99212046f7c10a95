/**
 * The command-line option parser main.ts uses: the strict subset of node:util parseArgs that
 * the commands' option specs need (boolean and string options, one-letter `short` aliases).
 *
 * Why not node:util parseArgs: importing it switches on Deno's Node compatibility layer, ~10 ms
 * of start-up in every `defroute save` / `restore` hook run (issue 8). The accepted syntax and
 * the results are parseArgs's (strict, positionals allowed); tests/cli/argv_test.ts compares the
 * two over seeded random argv built from the real specs:
 *   --name  --name=value  --name value  -x  -x value  -xVALUE  -abc (booleans)  --  positionals
 * What parseArgs rejects is a UsageError here, in one line that names the option as typed.
 */
import { UsageError } from "../core/model/errors.ts";

export interface OptionSpecEntry {
  type: "boolean" | "string";
  /** A one-character alias: `-h` for `--help`. */
  short?: string;
}

/** Option specs by long name (without the leading "--"). */
export type OptionSpec = Readonly<Record<string, OptionSpecEntry>>;

export type OptionValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

export interface ParsedArgv {
  /** Only the options given: `true` for a boolean, the (last) value for a string. */
  values: OptionValues;
  /** Arguments that are not options, including everything after `--`. */
  positionals: string[];
}

/** One option as it appeared in argv. */
interface OptionUse {
  /** The long name, or the typed text when it names no option. */
  name: string;
  /** As typed, for messages: "--state", "-h". */
  rawName: string;
  value: string | undefined;
  /** Whether the value was part of the same argument (`--state=x`, `-sx`). */
  inlineValue: boolean;
}

function specOf(options: OptionSpec, name: string): OptionSpecEntry | undefined {
  // Own properties only: "--constructor" or "--__proto__" name no option.
  return Object.hasOwn(options, name) ? options[name] : undefined;
}

function longNameOf(options: OptionSpec, short: string): string | undefined {
  return Object.keys(options).find((name) => options[name]?.short === short);
}

/** Whether `arg` starts with one dash and a letter that names a string option (`-sVALUE`). */
function startsWithStringShort(options: OptionSpec, arg: string): boolean {
  const name = longNameOf(options, arg.charAt(1));
  return name !== undefined && specOf(options, name)?.type === "string";
}

/** Checks one use against its spec (strict mode); returns the value to store. */
function valueOf(options: OptionSpec, use: OptionUse): string | boolean {
  const spec = specOf(options, use.name);
  if (spec === undefined) throw new UsageError(`unknown option "${use.rawName}"`);
  if (spec.type === "boolean") {
    if (use.value !== undefined) throw new UsageError(`option "${use.rawName}" takes no value`);
    return true;
  }
  if (use.value === undefined) throw new UsageError(`option "${use.rawName}" needs a value`);
  // "--state -q" is more likely a forgotten value than a state file called "-q".
  if (!use.inlineValue && use.value.length > 1 && use.value.startsWith("-")) {
    throw new UsageError(
      `option "${use.rawName}" needs a value, not the option-like "${use.value}" ` +
        `(write --${use.name}=${use.value} if that is the value)`,
    );
  }
  return use.value;
}

/**
 * Parses `args` against `options`. Throws UsageError for an unknown option, a string option
 * without a value, a value given to a boolean, or a string option's separate value that looks
 * like an option.
 */
export function parseArgv(args: readonly string[], options: OptionSpec): ParsedArgv {
  // No prototype, like parseArgs's result: a key is there only when the option was given.
  const values: OptionValues = Object.create(null);
  const positionals: string[] = [];
  const pending = [...args];
  const use = (u: OptionUse) => {
    values[u.name] = valueOf(options, u);
  };
  const takesValue = (name: string) => specOf(options, name)?.type === "string";

  while (pending.length > 0) {
    const arg = pending.shift()!;
    if (arg === "--") {
      positionals.push(...pending);
      break;
    }
    if (arg.length < 2 || !arg.startsWith("-")) {
      positionals.push(arg); // includes "-", conventionally stdin
      continue;
    }
    if (arg.startsWith("--")) {
      // "=" from the 4th character on: "--=x" is an (unknown) option named "=x", as in parseArgs.
      const equals = arg.indexOf("=", 3);
      if (equals >= 0) {
        use({
          name: arg.slice(2, equals),
          rawName: arg.slice(0, equals),
          value: arg.slice(equals + 1),
          inlineValue: true,
        });
      } else {
        const name = arg.slice(2);
        use({
          name,
          rawName: arg,
          value: takesValue(name) ? pending.shift() : undefined,
          inlineValue: false,
        });
      }
      continue;
    }
    const short = arg.charAt(1);
    const name = longNameOf(options, short) ?? arg;
    const rawName = `-${short}`;
    if (arg.length === 2) {
      use({
        name,
        rawName,
        value: takesValue(name) ? pending.shift() : undefined,
        inlineValue: false,
      });
    } else if (startsWithStringShort(options, arg)) {
      use({ name, rawName, value: arg.slice(2), inlineValue: true });
    } else {
      // A group of short options ("-qn"): each letter is its own argument; a string option
      // inside the group takes the rest of it as its value ("-qsFILE" is "-q -sFILE").
      const expanded: string[] = [];
      for (let i = 1; i < arg.length; i++) {
        const letter = arg.charAt(i);
        const letterName = longNameOf(options, letter);
        const isString = letterName !== undefined && takesValue(letterName);
        if (isString && i < arg.length - 1) {
          expanded.push(`-${arg.slice(i)}`);
          break;
        }
        expanded.push(`-${letter}`);
      }
      pending.unshift(...expanded);
    }
  }
  return { values, positionals };
}

/**
 * Where the first positional argument of `args` is, reading options as parseArgv does: the index
 * of the first word that is neither an option known to `options` nor an option's value. null when
 * there is none, or when an unknown option comes first (that one is the error to report). `run`
 * uses it to see a command written without `--` (`defroute run sh -c ...`, where "-c" is not an
 * option of defroute's but sh's).
 */
export function firstPositionalIndex(args: readonly string[], options: OptionSpec): number | null {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === "--") return null;
    if (arg.length < 2 || !arg.startsWith("-")) return i;
    if (arg.startsWith("--")) {
      const equals = arg.indexOf("=", 3);
      const name = arg.slice(2, equals >= 0 ? equals : undefined);
      const spec = specOf(options, name);
      if (spec === undefined) return null;
      if (spec.type === "string" && equals < 0) i++;
      continue;
    }
    // One short option or a group of them: a string option takes the rest, or the next word.
    for (let j = 1; j < arg.length; j++) {
      const name = longNameOf(options, arg.charAt(j));
      if (name === undefined) return null;
      if (specOf(options, name)?.type === "string") {
        if (j === arg.length - 1) i++;
        break;
      }
    }
  }
  return null;
}
