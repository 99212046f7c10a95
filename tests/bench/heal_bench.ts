/**
 * Heal latency of `defroute watch --heal --grace 0` on the real kernel in a throwaway namespace:
 * from the kernel event of the global default's deletion to the kernel event of its repair,
 * both as seen by one independent `ip -tshort monitor route` (one clock, one observer).
 *
 *   deno run --allow-all tests/bench/heal_bench.ts [--quick] [--runs N] [--trace]
 *
 * --trace also prints where the time goes: the watcher runs with DEFROUTE_TRACE=1, and each of
 * its phase marks (lib/util/trace.ts; printed when it exits) is placed after the kernel's
 * deletion event of the repair it belongs to (median over the repairs, by mark).
 *
 * Needs root, iproute2 and /dev/net/tun; prints why and exits 0 elsewhere.
 */
import {
  benchArgs,
  figure,
  heading,
  median,
  percentile,
  printTraceMarks,
  RouteListener,
  sleep,
  verdict,
} from "./bench_lib.ts";
import {
  CLIENT_DEV,
  DENO,
  type Lab,
  namespaceSupport,
  ROOT,
  ROUTER_ADDRESS,
  TUN_DEV,
  withLab,
} from "../linux/netns.ts";
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";
import { type Proc, spawnProc } from "../json_process.ts";

const MAIN = `${ROOT}main.ts`;
const DEFAULT = `default via ${ROUTER_ADDRESS} dev ${CLIENT_DEV}`;

/** `defroute watch --heal --grace 0 --family 4 --json` in the lab, once it is subscribed and has
 * read the table (it prints every event as a JSON line once its loop runs: tun0 is toggled until
 * a line shows up). */
export async function startWatcher(
  lab: Lab,
  statePath: string,
  stderr: "piped" | "inherit" = "inherit",
): Promise<Proc> {
  const [program, argv] = lab.exec(DENO, [
    "run",
    ...DENO_RUN_FLAGS,
    MAIN,
    "watch",
    "--heal",
    "--grace",
    "0",
    "--max-repairs",
    "1000",
    "--family",
    "4",
    "--json",
    "-q",
    "--state",
    statePath,
  ]);
  const watcher = spawnProc(program, argv, { stderr });
  try {
    for (let attempt = 0; watcher.seen.length === 0; attempt++) {
      if (attempt > 100) throw new Error("the watcher never reported an event");
      await lab.ip("link", "set", TUN_DEV, attempt % 2 === 0 ? "up" : "down");
      await sleep(100);
    }
    await lab.ip("link", "set", TUN_DEV, "down");
  } catch (error) {
    watcher.kill();
    await watcher.exit();
    throw error;
  }
  return watcher;
}

/** Delete the lab's default and wait for the watcher's repair, as `listener` sees both: the
 * deletion's time (epoch µs) and the repair's latency (ms). */
export async function oneRepair(
  lab: Lab,
  listener: RouteListener,
): Promise<{ deletedAt: number; latencyMs: number }> {
  await sleep(100); // let the watcher finish recording the last repair
  const from = listener.lines.length;
  await lab.ip("route", "del", "default", "via", ROUTER_ADDRESS, "dev", CLIENT_DEV);
  const gone = await listener.find(from, (l) => l.deleted && l.route.startsWith(DEFAULT));
  const back = await listener.find(
    gone.index + 1,
    (l) => !l.deleted && l.route.startsWith(DEFAULT),
  );
  return { deletedAt: gone.line.at, latencyMs: (back.line.at - gone.line.at) / 1000 };
}

async function main(): Promise<void> {
  const { runs, quick, trace } = benchArgs(Deno.args, 60);
  heading(
    `heal latency of \`watch --heal --grace 0\` (deletion -> repaired default, ${runs} runs)`,
  );
  const support = namespaceSupport();
  if (!support.ok) {
    console.log(`  skipped: ${support.reason}`);
    return;
  }
  await withLab(async (lab) => {
    const dir = await Deno.makeTempDir({ prefix: "drt-bench-" });
    const listener = new RouteListener(lab.ns);
    // --trace: the marks go to stderr when the watcher exits; keep its stderr for them.
    if (trace) Deno.env.set("DEFROUTE_TRACE", "1");
    const deletions: number[] = [];
    let watcher: Proc | null = null;
    try {
      await listener.ready(lab);
      watcher = await startWatcher(lab, `${dir}/state.json`, trace ? "piped" : "inherit");
      const latencies: number[] = [];
      // One warm-up repair, not counted.
      for (let i = 0; i <= runs; i++) {
        const repair = await oneRepair(lab, listener);
        if (i > 0) {
          latencies.push(repair.latencyMs);
          deletions.push(repair.deletedAt);
        }
      }
      const middle = median(latencies);
      figure("heal.median", middle, "ms", `target <= 2 ms: ${verdict(middle <= 2)}`);
      figure("heal.p99", percentile(latencies, 99), "ms");
      figure("heal.min", Math.min(...latencies), "ms");
      console.log(`  (${runs} repairs${quick ? ", --quick" : ""})`);
    } finally {
      watcher?.kill("SIGTERM"); // watch runs until SIGINT/SIGTERM
      await watcher?.exit();
      if (trace && watcher) printTrace(watcher.stderr(), deletions);
      await listener.close();
      await Deno.remove(dir, { recursive: true });
    }
  }, "heal");
}

/** Each mark (epoch µs) after the deletion it follows, as ms; the median per mark name, where
 * a name's n-th occurrence within one repair is its own row ("#2"). */
function printTrace(stderr: string, deletions: number[]): void {
  const marks = stderr.split("\n").flatMap((line) => {
    if (!line.startsWith('{"trace"')) return [];
    const { trace, at } = JSON.parse(line) as { trace: string; at: number };
    return [{ trace, at }];
  });
  const rows = new Map<string, number[]>();
  deletions.forEach((deleted, i) => {
    const next = deletions[i + 1] ?? Number.POSITIVE_INFINITY;
    const seen = new Map<string, number>();
    // The kernel's timestamp and the marks share one clock; a mark can precede the listener's
    // stamp of the same event by a few µs, hence the small allowance.
    for (const mark of marks.filter((m) => m.at >= deleted - 200 && m.at < next - 200)) {
      const n = (seen.get(mark.trace) ?? 0) + 1;
      seen.set(mark.trace, n);
      const key = n > 1 ? `${mark.trace} #${n}` : mark.trace;
      rows.set(key, [...(rows.get(key) ?? []), (mark.at - deleted) / 1000]);
    }
  });
  printTraceMarks("the kernel's deletion event", rows);
}

if (import.meta.main) await main();
