/**
 * Cost against the size of the routing table (issue 15): every figure at each table size next to
 * the same figure on a 2-route table, measured in the same run, interleaved run by run so machine
 * noise falls on every size alike.
 *
 *   deno run --allow-all tests/bench/table_size_bench.ts [--quick] [--runs N] [--sizes 2,10000]
 *     [--trace] [--ipv6]
 *
 * --trace: where run's restore spends its time, by DEFROUTE_TRACE mark and size. --ipv6: the
 * extra routes are IPv6 /48s in fd00::/8 instead, and the warm dump is defaults(6): the IPv6
 * dump lists ::/0 last, so it is read whole (docs/performance.md §6); run and heal still watch
 * the IPv4 default.
 *
 * One lab (tests/linux/netns.ts) per size, on the real kernel: the lab's own 2 routes (its
 * default and the on-link route) plus IPv4 /28s in 100.64.0.0/10 via the same gateway (a
 * split-tunnel exclusion list's shape) up to the size. In each:
 * - `restore` (the default deleted first) and `status`, whole processes from source, spawn to
 *   exit under `ip netns exec` (as hook_bench.ts times them);
 * - the restore of `run` after CMD exits and the repair of `watch --heal --grace 0`, as
 *   restore_bench.ts and heal_bench.ts time them (kernel events seen by `ip monitor`);
 * - the wrapper's and the daemon's resident memory: VmHWM of `run` while its tunnel runs, and of
 *   `watch`, which was started before the routes were added and so also read their flood;
 * - one `defaults(4)` inside a process that has done it before (the dump alone).
 * The darwin backend cannot run here: its part that grows with the table, finding the defaults
 * in a sysctl NET_RT_DUMP, is timed on a synthetic dump of each size (tests/darwin/
 * synthetic_dump.ts), and what it adds is set against the 2-route `status` measured here.
 *
 * Targets: restore and status <= 1.5x their 2-route cost; run's restore and the heal's repair
 * <= 2x their 2-route medians; wrapper and daemon <= 80 MB; darwin's defaults found in a
 * 100,000-route dump in < 10 ms.
 *
 * Needs root, iproute2 and /dev/net/tun for the Linux part; prints why and skips it elsewhere.
 */
import {
  benchArgs,
  figure,
  heading,
  median,
  printTraceMarks,
  processMemory,
  RouteListener,
  verdict,
} from "./bench_lib.ts";
import {
  CLIENT_DEV,
  createLab,
  DENO,
  IP,
  type Lab,
  namespaceSupport,
  ROOT,
  ROUTER_ADDRESS,
  ROUTER_LINK_LOCAL,
  run,
} from "../linux/netns.ts";
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";
import { defrouteRunArgv, oneRun } from "./restore_bench.ts";
import { oneRepair, startWatcher } from "./heal_bench.ts";
import type { Proc } from "../json_process.ts";
import { decodeMessages, prefixLengths } from "../../lib/darwin/route_message.ts";
import { isDefaultRouteMessage } from "../../lib/darwin/route_table.ts";
import { syntheticDump } from "../darwin/synthetic_dump.ts";

const MAIN = `${ROOT}main.ts`;
const PROBE = `${ROOT}tests/linux/table_probe.ts`;
const DEFAULT_SIZES = [2, 10_000, 100_000];
const QUICK_SIZES = [2, 10_000];
/** /28s in 100.64.0.0/10 (RFC 6598): room for 262,144. */
const MAX_EXTRA = 1 << 18;

/** One lab per size, with what runs in it. */
interface SizedLab {
  size: number;
  lab: Lab;
  dir: string;
  state: string;
  listener: RouteListener | null;
  watcher: Proc | null;
}

/** Per figure and size, the values of every run. */
type Samples = Map<string, Map<number, number[]>>;

function record(samples: Samples, key: string, size: number, value: number): void {
  let bySize = samples.get(key);
  if (!bySize) samples.set(key, bySize = new Map());
  bySize.set(size, [...bySize.get(size) ?? [], value]);
}

/** Add `size - 2` routes to the lab's 2 (ip -batch: one process, ~5 s per 100,000 IPv4
 * routes; IPv6 ones take several times that). */
async function populate(lab: Lab, size: number, ipv6: boolean): Promise<void> {
  const extra = size - 2;
  if (extra > MAX_EXTRA) throw new Error(`at most ${MAX_EXTRA + 2} routes, not ${size}`);
  if (extra <= 0) return;
  const lines: string[] = [];
  for (let i = 0; i < extra; i++) {
    if (ipv6) {
      const prefix = `fd00:${(i >> 16).toString(16)}:${(i & 0xffff).toString(16)}::/48`;
      lines.push(`route add ${prefix} via ${ROUTER_LINK_LOCAL} dev ${CLIENT_DEV}`);
      continue;
    }
    const n = ((100 << 24) | (64 << 16)) + i * 16;
    const address = `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
    lines.push(`route add ${address}/28 via ${ROUTER_ADDRESS} dev ${CLIENT_DEV}`);
  }
  const result = await run(IP!, ["-n", lab.ns, "-batch", "-"], lines.join("\n") + "\n");
  if (result.code !== 0) throw new Error(`ip -batch: ${result.stderr.trim()}`);
}

/** Wall time (ms) of `defroute ARGS` in the lab, spawn to exit; throws when it fails. */
async function timeCommand(lab: Lab, args: string[]): Promise<number> {
  const [program, argv] = lab.exec(DENO, ["run", ...DENO_RUN_FLAGS, MAIN, ...args]);
  const command = new Deno.Command(program, { args: argv, stdout: "null", stderr: "piped" });
  const start = performance.now();
  const output = await command.output();
  const ms = performance.now() - start;
  if (!output.success) {
    throw new Error(
      `defroute ${args.join(" ")}: exit ${output.code}: ${
        new TextDecoder().decode(output.stderr).trim()
      }`,
    );
  }
  return ms;
}

/** `restore` with the default deleted first, checked to be back afterwards. */
async function timeRestore(sized: SizedLab): Promise<number> {
  const { lab } = sized;
  await lab.ip("route", "del", "default", "via", ROUTER_ADDRESS, "dev", CLIENT_DEV);
  const ms = await timeCommand(lab, ["restore", "-q", "--state", sized.state]);
  const back = await lab.ip("route", "show", "default");
  if (!back.includes(`via ${ROUTER_ADDRESS}`)) throw new Error(`restore left: ${back}`);
  return ms;
}

/** The median of `defaults(family)` inside one process of the lab (the dump alone, warm). */
async function timeDefaults(lab: Lab, family: 4 | 6, calls: number): Promise<number> {
  const [program, argv] = lab.exec(DENO, [
    "run",
    "-A",
    PROBE,
    "time-defaults",
    `${family}`,
    `${calls}`,
  ]);
  const result = await run(program, argv);
  const answer = JSON.parse(result.stdout.trim().split("\n").pop() ?? "{}");
  if (!answer.ok || answer.value.found !== 1) throw new Error(`probe: ${result.stdout}`);
  return answer.value.medianMs;
}

/** The heal phase: a watcher per lab, started before its routes are added, repairs. */
async function healPhase(
  labs: SizedLab[],
  runs: number,
  samples: Samples,
  ipv6: boolean,
): Promise<void> {
  try {
    for (const sized of labs) sized.watcher = await startWatcher(sized.lab, sized.state);
    // The watchers read the flood of RTM_NEWROUTE as the routes go in.
    for (const sized of labs) await populate(sized.lab, sized.size, ipv6);
    for (const sized of labs) {
      sized.listener = new RouteListener(sized.lab.ns);
      await sized.listener.ready(sized.lab);
      await oneRepair(sized.lab, sized.listener); // warm-up, not counted
    }
    for (let i = 0; i < runs; i++) {
      for (const sized of labs) {
        const repair = await oneRepair(sized.lab, sized.listener!);
        record(samples, "heal", sized.size, repair.latencyMs);
      }
    }
    for (const sized of labs) {
      const memory = processMemory(sized.watcher!.pid);
      if (memory) record(samples, "watch.vmhwm", sized.size, memory.hwmMB);
    }
  } finally {
    for (const sized of labs) {
      sized.watcher?.kill("SIGTERM");
      await sized.watcher?.exit();
      sized.watcher = null;
    }
  }
}

/** `defroute run`'s argv; with `trace`, its DEFROUTE_TRACE marks go to stdout, where oneRun
 * reads them. */
function runArgv(sized: SizedLab, trace: boolean): string[] {
  const argv = defrouteRunArgv(sized.state);
  return trace
    ? ["/usr/bin/env", "DEFROUTE_TRACE=1", "/bin/sh", "-c", 'exec "$@" 2>&1', "sh", ...argv]
    : argv;
}

/** The command phase: restore, status, run's restore and the in-process dump, round-robin. */
async function commandPhase(
  labs: SizedLab[],
  runs: number,
  samples: Samples,
  marks: Map<number, Map<string, number[]>> | null,
  ipv6: boolean,
): Promise<void> {
  for (const sized of labs) {
    await timeCommand(sized.lab, ["save", "-q", "--state", sized.state]);
    // Warm-up: Deno's module cache and the page cache, not counted.
    await timeRestore(sized);
    await oneRun(sized.lab, sized.listener!, runArgv(sized, marks !== null), false);
  }
  for (let i = 0; i < runs; i++) {
    for (const sized of labs) {
      const { lab, size } = sized;
      record(samples, "restore", size, await timeRestore(sized));
      record(
        samples,
        "status",
        size,
        await timeCommand(lab, ["status", "--json", "--state", sized.state]),
      );
      const wrapped = await oneRun(lab, sized.listener!, runArgv(sized, marks !== null), true);
      record(samples, "run", size, wrapped.latencyUs / 1000);
      if (wrapped.memory) record(samples, "run.vmhwm", size, wrapped.memory.hwmMB);
      if (marks) {
        if (!marks.has(size)) marks.set(size, new Map());
        const bySize = marks.get(size)!;
        for (const [name, us] of wrapped.marks) {
          bySize.set(name, [...bySize.get(name) ?? [], us / 1000]);
        }
      }
    }
  }
  for (const sized of labs) {
    const family = ipv6 ? 6 : 4;
    const ms = await timeDefaults(sized.lab, family, 5 * runs);
    record(samples, `defaults${family}`, sized.size, ms);
  }
}

/** The darwin backend's share: finding the defaults in a synthetic NET_RT_DUMP of each size. */
function darwinPhase(sizes: readonly number[], samples: Samples): void {
  const wanted = prefixLengths([0]);
  for (const size of sizes) {
    const dump = syntheticDump(size);
    const iterations = Math.max(20, Math.min(2000, Math.round(2e6 / size)));
    for (let i = 0; i < iterations; i++) {
      const start = performance.now();
      const found = decodeMessages(dump, wanted).messages.filter((m) =>
        m.kind === "route" && isDefaultRouteMessage(m)
      );
      record(samples, "darwin.find_defaults", size, performance.now() - start);
      if (found.length !== Math.min(size, 3)) throw new Error(`found ${found.length} defaults`);
    }
  }
}

/** The figure lines of one measure: its median at each size against the 2-route median. */
function report(
  samples: Samples,
  key: string,
  unit: string,
  target: { ratio?: number; max?: number; pick?: "median" | "max" },
): void {
  const bySize = samples.get(key);
  if (!bySize) return;
  const pick = (values: number[]) => target.pick === "max" ? Math.max(...values) : median(values);
  const base = pick(bySize.get(2) ?? []);
  const label = target.pick === "max" ? "max" : "median";
  for (const [size, values] of [...bySize].sort((a, b) => a[0] - b[0])) {
    const value = pick(values);
    if (size === 2) {
      figure(`table.${key}.2.${label}`, value, unit, `2 routes: the baseline (${values.length})`);
      continue;
    }
    const ratio = value / base;
    const notes = [`2 routes: ${base.toFixed(3)} ${unit}, ${ratio.toFixed(2)}x`];
    if (target.ratio !== undefined) {
      notes.push(`target <= ${target.ratio}x: ${verdict(ratio <= target.ratio)}`);
    }
    if (target.max !== undefined) {
      notes.push(`target <= ${target.max} ${unit}: ${verdict(value <= target.max)}`);
    }
    figure(`table.${key}.${size}.${label}`, value, unit, notes.join("; "));
  }
}

async function linuxPart(
  sizes: number[],
  runs: number,
  samples: Samples,
  marks: Map<number, Map<string, number[]>> | null,
  ipv6: boolean,
): Promise<void> {
  const support = namespaceSupport();
  if (!support.ok) {
    console.log(`  Linux part skipped: ${support.reason}`);
    return;
  }
  const labs: SizedLab[] = [];
  try {
    for (const size of sizes) {
      const dir = await Deno.makeTempDir({ prefix: "drt-bench-" });
      labs.push({
        size,
        lab: await createLab(`t${size}`),
        dir,
        state: `${dir}/state.json`,
        listener: null,
        watcher: null,
      });
    }
    await healPhase(labs, runs, samples, ipv6);
    await commandPhase(labs, runs, samples, marks, ipv6);
  } finally {
    for (const sized of labs) {
      await sized.listener?.close();
      await sized.lab.close();
      await Deno.remove(sized.dir, { recursive: true });
    }
  }
}

async function main(): Promise<void> {
  const args = benchArgs(Deno.args, 15, 2);
  const sizes = [...new Set([2, ...(args.sizes ?? (args.quick ? QUICK_SIZES : DEFAULT_SIZES))])]
    .sort((a, b) => a - b);
  heading(
    `cost against the table's size (${sizes.join(" / ")} ${args.ipv6 ? "IPv6 " : ""}routes; ` +
      `${args.runs} runs, ` +
      `each size beside the 2-route baseline of the same run)`,
  );
  const samples: Samples = new Map();
  const started = performance.now();
  const marks = args.trace ? new Map<number, Map<string, number[]>>() : null;
  await linuxPart(sizes, args.runs, samples, marks, args.ipv6);
  darwinPhase(sizes, samples);
  report(samples, "restore", "ms", { ratio: 1.5 });
  report(samples, "status", "ms", { ratio: 1.5 });
  report(samples, "run", "ms", { ratio: 2 });
  report(samples, "heal", "ms", { ratio: 2 });
  report(samples, "run.vmhwm", "MB", { max: 80, pick: "max" });
  report(samples, "watch.vmhwm", "MB", { max: 80, pick: "max" });
  report(samples, "defaults4", "ms", {});
  report(samples, "defaults6", "ms", {});
  report(samples, "darwin.find_defaults", "ms", {});
  darwinVerdicts(samples, sizes);
  for (const [size, bySize] of [...marks ?? []].sort((a, b) => a[0] - b[0])) {
    console.log(`  ${size} routes, run's restore:`);
    printTraceMarks("the tunnel's exit", bySize);
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`  (${args.runs} runs per size in ${seconds} s${args.quick ? ", --quick" : ""})`);
}

/** The darwin targets: < 10 ms at 100,000 routes, and what finding the defaults adds to a
 * command set against the 2-route `status` measured here. */
function darwinVerdicts(samples: Samples, sizes: readonly number[]): void {
  const find = samples.get("darwin.find_defaults");
  const status = samples.get("status")?.get(2);
  const largest = sizes[sizes.length - 1]!;
  if (!find || largest === 2) return;
  const big = median(find.get(largest)!);
  const small = median(find.get(2)!);
  if (largest >= 100_000) {
    // CPU-bound and a few ms long: on a busy machine the median is mostly waiting for a CPU,
    // so the fastest run is printed beside it.
    const fastest = Math.min(...find.get(largest)!);
    figure(
      `table.darwin.find_defaults.target`,
      big,
      "ms",
      `${largest} routes, median (fastest ${fastest.toFixed(2)} ms); target < 10 ms: ${
        verdict(big < 10)
      }`,
    );
  }
  if (status) {
    const base = median(status);
    const ratio = (base + big - small) / base;
    figure(
      `table.darwin.status.${largest}.estimate`,
      ratio,
      "x",
      `2-route status here + the decoding's growth; target <= 1.5x: ${verdict(ratio <= 1.5)}`,
    );
  }
}

if (import.meta.main) await main();
