/**
 * What the bench scripts share: their flags, statistics, the figure lines they print, and the
 * independent route listener (`ip -timestamp monitor route` in the lab namespace) whose kernel
 * event timestamps are the "default is back" moment.
 *
 * Figure lines have one shape, so people can read them and bench_smoke_test.ts can check them:
 *   "  <key> <number> <unit>  <note>"      e.g. "  restore.run.median   0.912 ms  target <= 2 ms: met"
 */
import { parseArgs } from "node:util";
import { CLIENT_DEV, IP, type Lab } from "../linux/netns.ts";

export interface BenchArgs {
  /** Few iterations: proves the script still works (bench_smoke_test.ts), figures are rough. */
  quick: boolean;
  /** Iterations of each timed measurement. */
  runs: number;
  /** --trace: also print where the time goes (DEFROUTE_TRACE marks), where a bench has them. */
  trace: boolean;
  /** --sizes 2,10000,100000: the routing-table sizes of table_size_bench.ts; undefined when
   * not given (each bench has its default). */
  sizes?: number[];
  /** --ipv6: table_size_bench.ts grows the IPv6 table instead of the IPv4 one. */
  ipv6: boolean;
}

/** `--quick`, `--runs N` and `--trace` (N defaults to `full` runs, or `quick` runs with --quick). */
export function benchArgs(args: string[], full: number, quick = 3): BenchArgs {
  const { values } = parseArgs({
    args,
    options: {
      quick: { type: "boolean" },
      runs: { type: "string" },
      trace: { type: "boolean" },
      sizes: { type: "string" },
      ipv6: { type: "boolean" },
    },
  });
  const isQuick = values.quick === true;
  const runs = values.runs === undefined ? (isQuick ? quick : full) : Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs takes a count, not ${runs}`);
  const parsed: BenchArgs = {
    quick: isQuick,
    runs,
    trace: values.trace === true,
    ipv6: values.ipv6 === true,
  };
  if (values.sizes !== undefined) {
    const sizes = values.sizes.split(",").map((text) => Number(text.replaceAll("_", "")));
    if (sizes.some((n) => !Number.isInteger(n) || n < 2)) {
      throw new Error(`--sizes takes route counts of at least 2, not ${values.sizes}`);
    }
    parsed.sizes = sizes;
  }
  return parsed;
}

/** Nearest-rank percentile (0 < p <= 100) of `values` (not mutated). With fewer than 100
 * values p99 is the maximum. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1]!;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Print one figure line (see the module comment). */
export function figure(key: string, value: number, unit: string, note = ""): void {
  const number = Number.isFinite(value)
    ? (Math.abs(value) >= 1000 ? value.toFixed(0) : value.toFixed(3))
    : "NaN";
  console.log(`  ${key.padEnd(40)} ${number.padStart(12)} ${unit.padEnd(8)} ${note}`.trimEnd());
}

/** "met" / "MISSED" for a target line. */
export function verdict(ok: boolean): string {
  return ok ? "met" : "MISSED";
}

export function heading(text: string): void {
  console.log(`\n== ${text}`);
}

/** Wall-clock time now in microseconds since the epoch (CLOCK_REALTIME, sub-ms: Deno's
 * performance.now() is not coarsened). Comparable across processes on this machine. */
export function epochMicros(): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000);
}

/** `[2026-11-25T22:10:51.469484]` (ip -tshort, printed with TZ=UTC) -> epoch microseconds. */
export function ipTimestampMicros(stamp: string): number | null {
  const match = stamp.match(/^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})$/);
  if (!match) return null;
  const seconds = Date.parse(`${match[1]}Z`);
  if (Number.isNaN(seconds)) return null;
  return seconds * 1000 + Number(match[2]);
}

/** One line of `ip -timestamp monitor route`. */
export interface RouteLine {
  /** Epoch microseconds at which `ip monitor` received the kernel's multicast. */
  at: number;
  deleted: boolean;
  /** The route text after the timestamp (and after "Deleted "). */
  route: string;
}

/** Parse one `ip -ts monitor route` line; null for anything else. */
export function parseRouteLine(line: string): RouteLine | null {
  const match = line.match(/^\[([^\]]+)\]\s+(Deleted\s+)?(.*?)\s*$/);
  if (!match) return null;
  const at = ipTimestampMicros(match[1]!);
  if (at === null) return null;
  return { at, deleted: match[2] !== undefined, route: match[3]! };
}

/**
 * An independent observer of a namespace's routing table: `ip -n NS -tshort monitor route`,
 * a separate process subscribed to the kernel's route multicast groups (RTMGRP_IPV4_ROUTE and
 * RTMGRP_IPV6_ROUTE). Its timestamps are taken by iproute2 (gettimeofday) as each message is
 * received, so they include its own wake-up, the same for defroute and for the baseline.
 */
export class RouteListener {
  readonly lines: RouteLine[] = [];
  #child: Deno.ChildProcess;
  #waiters: (() => void)[] = [];
  #done: Promise<void>;

  constructor(ns: string) {
    if (!IP) throw new Error("iproute2's ip is not installed");
    this.#child = new Deno.Command(IP, {
      args: ["-n", ns, "-tshort", "monitor", "route"],
      env: { TZ: "UTC" },
      stdin: "null",
      stdout: "piped",
      stderr: "null",
    }).spawn();
    this.#done = this.#read();
  }

  async #read(): Promise<void> {
    let buffer = "";
    for await (const chunk of this.#child.stdout.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let at;
      while ((at = buffer.indexOf("\n")) >= 0) {
        const parsed = parseRouteLine(buffer.slice(0, at));
        buffer = buffer.slice(at + 1);
        if (parsed) this.lines.push(parsed);
      }
      for (const wake of this.#waiters.splice(0)) wake();
    }
  }

  /** The first line at index >= `from` that satisfies `match`, waiting up to `ms`. */
  async find(
    from: number,
    match: (line: RouteLine) => boolean,
    ms = 5000,
  ): Promise<{ line: RouteLine; index: number }> {
    const deadline = Date.now() + ms;
    for (;;) {
      for (let i = from; i < this.lines.length; i++) {
        if (match(this.lines[i]!)) return { line: this.lines[i]!, index: i };
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        const seen = this.lines.slice(from).map((l) => `${l.deleted ? "Deleted " : ""}${l.route}`);
        throw new Error(
          `route listener: no matching event within ${ms} ms; saw ${seen.join(" | ")}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Until the listener is surely subscribed: add and delete a probe route in `lab` (TEST-NET-2,
   * RFC 5737) and wait to see it. */
  async ready(lab: Lab): Promise<void> {
    for (let attempt = 0; attempt < 50; attempt++) {
      const from = this.lines.length;
      const net = `198.51.100.${attempt}/32`;
      await lab.ip("route", "add", net, "dev", CLIENT_DEV);
      await lab.ip("route", "del", net, "dev", CLIENT_DEV);
      try {
        await this.find(from, () => true, 100);
        return;
      } catch {
        // not subscribed yet
      }
    }
    throw new Error("route listener never saw a change");
  }

  async close(): Promise<void> {
    try {
      this.#child.kill("SIGTERM");
    } catch {
      // already gone
    }
    await this.#child.status;
    await this.#done.catch(() => undefined);
  }
}

/** VmRSS and VmHWM of a live process in MB (10^6 bytes; /proc says kB, meaning KiB), from
 * /proc/PID/status; null when it is gone. */
export function processMemory(pid: number): { rssMB: number; hwmMB: number } | null {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return null;
  }
  const kib = (field: string) =>
    Number(text.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))?.[1]);
  const rss = kib("VmRSS");
  const hwm = kib("VmHWM");
  if (!Number.isFinite(rss) || !Number.isFinite(hwm)) return null;
  return { rssMB: (rss * 1024) / 1e6, hwmMB: (hwm * 1024) / 1e6 };
}

/** Sleep without keeping anything else alive. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `--trace`'s table: each mark's median (ms after `anchor`), in order of that median. */
export function printTraceMarks(anchor: string, marks: ReadonlyMap<string, number[]>): void {
  console.log(`  where the time goes (median ms after ${anchor}, by trace mark):`);
  const order = [...marks].sort((a, b) => median(a[1]) - median(b[1]));
  for (const [name, values] of order) {
    console.log(`    ${median(values).toFixed(3).padStart(8)}  ${name} (${values.length})`);
  }
}
