/**
 * The system's own view of the primary network on macOS: configd's
 * `State:/Network/Global/IPv4` and `.../IPv6` (Router, PrimaryInterface, PrimaryService), and
 * each interface's link state (`State:/Network/Interface/<if>/Link`, `Active`: the kernel keeps
 * an interface UP|RUNNING while its link is inactive, docs/macos-routing-socket.md §10.2), read
 * through `/usr/sbin/scutil` (docs/macos-routing-socket.md §6).
 *
 * Two layers: a pure parser of scutil's `<dictionary> { KEY : VALUE }` text, and a runner that
 * starts ONE scutil process for both families (two `show` lines on stdin; without a tty scutil
 * prints no prompt and opens the store itself, docs/macos-routing-socket.md §6 "Non-interactive
 * input").
 *
 * Nothing here may crash on what scutil prints or hand out half a gateway: garbage, an empty
 * output, a non-zero exit, a missing binary and a hang each become a ScutilError with a clear
 * message; a missing key becomes "absent" (null).
 */
import { overridePath } from "../core/trust/override_path.ts";
import type { Family, PrimaryInfo, PrimarySource } from "../core/model/types.ts";
import {
  gatewayTextProblem,
  isLinkLocalGateway,
  isValidInterfaceName,
  parseGateway,
} from "../core/model/gateway_address.ts";
import { isLoopbackName } from "../core/policy/blackhole.ts";
import { decodeUtf8 } from "../util/utf8_text.ts";

// ---------------------------------------------------------------------------------------------
// The pure parser

/** A value as scutil prints it: strings (also numbers, booleans, `<data> 0x..`) stay text. */
export type ScutilValue = string | ScutilValue[] | ScutilDictionary;
export interface ScutilDictionary {
  [key: string]: ScutilValue;
}

export class ScutilParseError extends Error {
  override readonly name = "ScutilParseError";
}

/** scutil's `show` output for a missing key: two spaces, then SCErrorString
 * (docs/macos-routing-socket.md §6). */
const NO_SUCH_KEY = "No such key";
/** `KEY : VALUE`; keys have no spaces, values may (even be empty: `KEY : `). */
const ENTRY = /^(\S+) :(?: (.*))?$/;
/** Deeper than configd ever nests; a bound so hostile input cannot make us work hard. */
const MAX_DEPTH = 32;
/** More output than two Global dictionaries can ever be. */
export const MAX_OUTPUT_BYTES = 64 * 1024;

type Open = { kind: "dictionary"; value: ScutilDictionary } | {
  kind: "array";
  value: ScutilValue[];
};

function openContainer(text: string): Open | null {
  if (text === "<dictionary> {") return { kind: "dictionary", value: Object.create(null) };
  if (text === "<array> {") return { kind: "array", value: [] };
  return null;
}

/**
 * Parse the concatenated output of one or more `show KEY` commands. Returns one entry per
 * command, in order: the top-level dictionary, or null for `  No such key`. Throws
 * ScutilParseError on anything else (a stray line, an unclosed container, a top-level value that
 * is not a dictionary), so a caller never sees a partial result.
 */
export function parseScutilOutput(text: string): (ScutilDictionary | null)[] {
  if (text.length > MAX_OUTPUT_BYTES) {
    throw new ScutilParseError(`output is ${text.length} bytes, more than ${MAX_OUTPUT_BYTES}`);
  }
  const results: (ScutilDictionary | null)[] = [];
  const stack: Open[] = [];
  const lines = text.split("\n");
  lines.forEach((raw, i) => {
    const line = raw.replace(/\r$/, "").trim();
    const where = () => `line ${i + 1} ("${line.slice(0, 60)}")`;
    if (line === "") return;
    const top = stack[stack.length - 1];
    if (top === undefined) {
      if (line === NO_SUCH_KEY) {
        results.push(null);
        return;
      }
      const opened = openContainer(line);
      if (opened?.kind !== "dictionary") throw new ScutilParseError(`unexpected ${where()}`);
      stack.push(opened);
      return;
    }
    if (line === "}") {
      stack.pop();
      if (stack.length === 0) results.push(top.value as ScutilDictionary);
      return;
    }
    const entry = line.match(ENTRY);
    if (!entry) throw new ScutilParseError(`unexpected ${where()}`);
    const key = entry[1] as string;
    const rawValue = entry[2] ?? "";
    const nested = openContainer(rawValue);
    if (nested && stack.length >= MAX_DEPTH) {
      throw new ScutilParseError(`nesting deeper than ${MAX_DEPTH} at ${where()}`);
    }
    const value: ScutilValue = nested ? nested.value : rawValue;
    if (top.kind === "array") {
      // Arrays print "0 : v", "1 : v", ... in order (SCD.c _SCCopyDescription).
      if (key !== String(top.value.length)) {
        throw new ScutilParseError(`array index out of order at ${where()}`);
      }
      top.value.push(value);
    } else {
      if (Object.hasOwn(top.value, key)) throw new ScutilParseError(`duplicate key at ${where()}`);
      top.value[key] = value;
    }
    if (nested) stack.push(nested);
  });
  if (stack.length > 0) throw new ScutilParseError("output ends inside an unclosed container");
  return results;
}

/** What one `State:/Network/Global/IPvN` key says. */
export type GlobalState =
  | { kind: "present"; info: PrimaryInfo }
  | { kind: "absent" }
  | { kind: "invalid"; reason: string };

/** Service IDs are UUIDs in practice; anything odder is dropped (it is only shown, never used). */
const SERVICE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/**
 * Turn one Global dictionary into PrimaryInfo, validating strictly: Router must be an address of
 * the family (IPv4 a dotted quad), PrimaryInterface a BSD name, and an IPv6 link-local Router
 * needs PrimaryInterface as its scope (configd prints it without `%scope`,
 * docs/macos-routing-socket.md §6). Any doubt about Router or PrimaryInterface makes the whole
 * entry invalid, never half-used.
 */
export function interpretGlobalState(family: Family, dict: ScutilDictionary | null): GlobalState {
  if (dict === null) return { kind: "absent" };
  const router = dict["Router"];
  const iface = dict["PrimaryInterface"];
  const service = dict["PrimaryService"];
  const label = `State:/Network/Global/IPv${family}`;
  if (iface !== undefined && !isValidInterfaceName(iface)) {
    return { kind: "invalid", reason: `${label} PrimaryInterface is not an interface name` };
  }
  if (typeof iface === "string" && isLoopbackName(iface)) {
    return {
      kind: "invalid",
      reason:
        `${label} PrimaryInterface ${iface} is the loopback interface, never a primary network`,
    };
  }
  const interfaceName = iface ?? null;
  let gateway: string | null = null;
  if (router !== undefined) {
    const parsed = parseGateway(family, router);
    if (!parsed) {
      const problem = gatewayTextProblem(family, router) ?? "is not a gateway address";
      return {
        kind: "invalid",
        reason: problem.startsWith("is ")
          ? `${label} Router ${problem}`
          : `${label} Router: ${problem}`,
      };
    }
    if (parsed.zone !== null && parsed.zone !== interfaceName) {
      return {
        kind: "invalid",
        reason: `${label} Router's scope %${parsed.zone} is not PrimaryInterface`,
      };
    }
    if (isLinkLocalGateway(family, parsed.address) && interfaceName === null) {
      return {
        kind: "invalid",
        reason: `${label} Router is link-local but there is no PrimaryInterface to scope it`,
      };
    }
    gateway = parsed.address;
  }
  return {
    kind: "present",
    info: {
      family,
      router: gateway,
      interface: interfaceName,
      service: typeof service === "string" && SERVICE_ID.test(service) ? service : null,
    },
  };
}

/** The stdin defroute sends: both families in one process. */
export const GLOBAL_QUERY = "show State:/Network/Global/IPv4\nshow State:/Network/Global/IPv6\n";

/** Parse scutil's answer to GLOBAL_QUERY. Throws ScutilParseError when it is not two answers. */
export function parseGlobalStates(text: string): Record<Family, GlobalState> {
  return parseScutilLook(text, []).global;
}

/** configd's link key of an interface. */
export function linkKey(name: string): string {
  return `State:/Network/Interface/${name}/Link`;
}

/** At most this many Link keys in one run (a Mac has a few dozen interfaces). */
export const MAX_LINK_NAMES = 64;

/**
 * The stdin of one look: both Global keys, then the Link key of each interface. Names that are
 * not plain BSD names are left out (scutil splits its input on whitespace), as are names beyond
 * MAX_LINK_NAMES.
 */
export function lookQuery(names: readonly string[]): { input: string; names: string[] } {
  const asked = [...new Set(names)].filter(isValidInterfaceName).slice(0, MAX_LINK_NAMES);
  return { input: GLOBAL_QUERY + asked.map((n) => `show ${linkKey(n)}\n`).join(""), names: asked };
}

/** What one look says: both families' Global state and the interfaces whose link is inactive. */
export interface ScutilLook {
  global: Record<Family, GlobalState>;
  /** `Active : FALSE`. An interface without a Link key (utun, lo0: no media) is not in it. */
  inactive: Set<string>;
}

/** Parse scutil's answer to lookQuery(names). Throws ScutilParseError when the count is off. */
export function parseScutilLook(text: string, names: readonly string[]): ScutilLook {
  if (text.trim() === "") throw new ScutilParseError("scutil printed nothing");
  const blocks = parseScutilOutput(text);
  if (blocks.length !== 2 + names.length) {
    throw new ScutilParseError(
      names.length === 0
        ? `expected 2 answers (IPv4, IPv6), got ${blocks.length}`
        : `expected ${
          2 + names.length
        } answers (IPv4, IPv6, ${names.length} links), got ${blocks.length}`,
    );
  }
  const inactive = new Set<string>();
  names.forEach((name, i) => {
    if (blocks[2 + i]?.["Active"] === "FALSE") inactive.add(name);
  });
  return {
    global: {
      4: interpretGlobalState(4, blocks[0] ?? null),
      6: interpretGlobalState(6, blocks[1] ?? null),
    },
    inactive,
  };
}

// ---------------------------------------------------------------------------------------------
// The runner

export type ScutilErrorKind = "not-found" | "failed" | "timeout" | "garbage" | "invalid";

export class ScutilError extends Error {
  override readonly name = "ScutilError";
  constructor(readonly kind: ScutilErrorKind, message: string) {
    super(message);
  }
}

export const SCUTIL_PATH = "/usr/sbin/scutil";
export const SCUTIL_TIMEOUT_MS = 2000;

/** Read at most `limit` bytes from a stream; more is an error (cancels the stream). */
async function readLimited(stream: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array> {
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += chunk.length;
    if (size > limit) throw new ScutilError("garbage", `scutil printed more than ${limit} bytes`);
    chunks.push(chunk);
  }
  const all = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.length;
  }
  return all;
}

/**
 * Run `path` with `input` on stdin and return its stdout. No shell: the binary by absolute path,
 * no arguments. A child that outlives `timeoutMs` is killed (SIGKILL) and reported; the deadline
 * also covers reading the pipes, so a grandchild holding stdout open cannot hang us either.
 */
export async function runScutil(path: string, input: string, timeoutMs: number): Promise<string> {
  if (!path.startsWith("/")) {
    throw new ScutilError("not-found", `scutil path "${path}" is not absolute`);
  }
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(path, {
      args: [],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Error
      ? error.message
      : String(error);
    throw new ScutilError("not-found", `cannot run ${path}: ${why}`);
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), timeoutMs);
  });
  const stdout = readLimited(child.stdout, MAX_OUTPUT_BYTES);
  const stderr = readLimited(child.stderr, 4096).catch(() => new Uint8Array());
  stdout.catch(() => {}); // observed below; keep an early rejection from being "unhandled"
  try {
    try {
      const writer = child.stdin.getWriter();
      await writer.write(new TextEncoder().encode(input));
      await writer.close();
    } catch {
      // The child exited without reading stdin (EPIPE): its exit status and output tell why.
    }
    const all = Promise.all([child.status, stdout, stderr]);
    const outcome = await Promise.race([all, deadline]);
    if (outcome === "timeout") {
      try {
        child.kill("SIGKILL");
      } catch {
        // Already gone.
      }
      await Promise.allSettled([child.stdout.cancel(), child.stderr.cancel()]);
      await child.status;
      throw new ScutilError("timeout", `${path} did not answer within ${timeoutMs} ms (killed)`);
    }
    const [status, out, err] = outcome;
    if (!status.success) {
      const message = decodeUtf8(err).trim().split("\n")[0] ?? "";
      const how = status.signal ? `was killed by ${status.signal}` : `exited ${status.code}`;
      throw new ScutilError("failed", `${path} ${how}${message ? `: ${message}` : ""}`);
    }
    return decodeUtf8(out);
  } finally {
    clearTimeout(timer);
  }
}

export interface ScutilOptions {
  /** Default: $DEFROUTE_SCUTIL, else /usr/sbin/scutil. */
  path?: string;
  timeoutMs?: number;
}

/**
 * PrimarySource backed by scutil. Calls made at the same time (the link states, then both
 * families) share one scutil process; a later call runs scutil again (the primary network can
 * change at any moment, so nothing is cached beyond that).
 */
export class ScutilPrimarySource implements PrimarySource {
  readonly path: string;
  readonly timeoutMs: number;
  #inFlight: { names: Set<string>; look: Promise<ScutilLook> } | null = null;

  constructor(options: ScutilOptions = {}) {
    this.path = options.path ?? overridePath("DEFROUTE_SCUTIL", SCUTIL_PATH);
    this.timeoutMs = options.timeoutMs ?? SCUTIL_TIMEOUT_MS;
  }

  /** Both families' Global state from one scutil run. Throws ScutilError. */
  async readGlobal(): Promise<Record<Family, GlobalState>> {
    return (await this.look([])).global;
  }

  /**
   * One look: the Global keys and the Link key of each named interface, from one scutil run
   * (joined by calls made while it runs, when it asks for their names too). Throws ScutilError.
   */
  look(names: readonly string[]): Promise<ScutilLook> {
    const running = this.#inFlight;
    if (running && names.every((n) => running.names.has(n))) return running.look;
    const query = lookQuery(names);
    const inFlight = {
      names: new Set(query.names),
      look: this.#read(query.input, query.names).finally(() => {
        if (this.#inFlight === inFlight) this.#inFlight = null;
      }),
    };
    this.#inFlight = inFlight;
    return inFlight.look;
  }

  /** The named interfaces whose link configd says is inactive. Throws ScutilError. */
  async inactiveLinks(names: readonly string[]): Promise<ReadonlySet<string>> {
    return (await this.look(names)).inactive;
  }

  async #read(input: string, names: readonly string[]): Promise<ScutilLook> {
    const text = await runScutil(this.path, input, this.timeoutMs);
    try {
      return parseScutilLook(text, names);
    } catch (error) {
      if (error instanceof ScutilParseError) {
        throw new ScutilError("garbage", `cannot parse ${this.path}'s output: ${error.message}`);
      }
      throw error;
    }
  }

  /** null when configd has no such key (no primary network of that family). */
  async primary(family: Family): Promise<PrimaryInfo | null> {
    const state = (await this.look([])).global[family];
    if (state.kind === "absent") return null;
    if (state.kind === "invalid") throw new ScutilError("invalid", state.reason);
    return state.info;
  }
}
