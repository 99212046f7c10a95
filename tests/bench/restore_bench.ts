/**
 * Restore latency under `defroute run`, and the wrapper's memory footprint, on the real kernel
 * in a throwaway namespace (tests/linux/netns.ts):
 *
 *   deno task bench            (all benches)   or
 *   deno run --allow-all tests/bench/restore_bench.ts [--quick] [--runs N]
 *
 * One run: `defroute run --family 4 -- <sing-tun-like tunnel>` (tests/linux/fake_tunnel.ts under
 * `sh -c '...; exec date'`). The tunnel deletes the host's IPv4 default (sing-tun #80), adds its
 * own on tun0, and when its stdin closes removes only its own default and exits, printing the
 * moment it exits (see TUNNEL_ARGV). The latency is from that moment to the kernel event of the restored
 * default (via 10.77.0.1 dev veth0) as seen by an independent `ip -timestamp monitor route`.
 *
 * Baseline, interleaved run by run in the same namespace: the shell workaround people write
 * today, `sh -c 'TUNNEL; ip route add default via 10.77.0.1 dev veth0'`, measured the same way.
 *
 * Footprint: VmRSS/VmHWM of the `defroute run` process (/proc/PID/status; `ip netns exec`
 * execs, so the pid is deno's) while the tunnel runs, next to an idle `deno run` with the same
 * permissions.
 *
 * Needs root, iproute2 and /dev/net/tun; prints why and exits 0 elsewhere.
 */
import {
  benchArgs,
  epochMicros,
  figure,
  heading,
  median,
  percentile,
  printTraceMarks,
  processMemory,
  RouteListener,
  type RouteListener as Listener,
  sleep,
  verdict,
} from "./bench_lib.ts";
import {
  CLIENT_DEV,
  DENO,
  IP,
  type Lab,
  namespaceSupport,
  ROOT,
  ROUTER_ADDRESS,
  spawnInLab,
  TUN_DEV,
  withLab,
} from "../linux/netns.ts";
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";

const MAIN = `${ROOT}main.ts`;
const FAKE_TUNNEL = `${ROOT}tests/linux/fake_tunnel.ts`;
const IDLE = `${ROOT}tests/bench/idle.ts`;
/**
 * The wrapped "tunnel": fake_tunnel.ts, then `exec date`, so the very process defroute waits for
 * prints the time and exits at once (a C program's exit takes microseconds; a Deno process
 * takes about 5 ms to tear down after its last JavaScript, which would count against defroute
 * and the baseline alike and is not what a Go or C VPN costs).
 */
const TUNNEL_SCRIPT =
  `'${DENO}' run --allow-all --quiet '${FAKE_TUNNEL}' --family 4 && exec date '+{"exitAt":%s%6N}'`;
const TUNNEL_ARGV = ["/bin/sh", "-c", TUNNEL_SCRIPT];
const RESTORED = `default via ${ROUTER_ADDRESS} dev ${CLIENT_DEV}`;

export interface RunFigures {
  latencyUs: number;
  memory: { rssMB: number; hwmMB: number } | null;
  /** DEFROUTE_TRACE marks (µs after the tunnel's exit), with --trace. */
  marks: Map<string, number>;
}

/** `defroute run -q --family 4 --state STATE -- <the tunnel>`, from source. */
export function defrouteRunArgv(statePath: string): string[] {
  return [
    DENO,
    "run",
    ...DENO_RUN_FLAGS,
    MAIN,
    "run",
    "-q",
    "--family",
    "4",
    "--state",
    statePath,
    "--",
    ...TUNNEL_ARGV,
  ];
}

/** Start `argv` in the lab with a tunnel inside, stop the tunnel, time the restore. */
export async function oneRun(
  lab: Lab,
  listener: Listener,
  argv: string[],
  sampleMemory: boolean,
): Promise<RunFigures> {
  const present = await lab.defaults(4);
  if (!present.some((r) => r.gateway === ROUTER_ADDRESS && r.dev === CLIENT_DEV)) {
    throw new Error(`the lab's default is not in place before the run: ${JSON.stringify(present)}`);
  }
  const from = listener.lines.length;
  const [program, ...args] = argv;
  const proc = spawnInLab(lab, program!, args);
  try {
    const ready = await proc.next((v) => v.ready === true || typeof v.error === "string", 30_000);
    if (ready.ready !== true) throw new Error(`tunnel failed: ${JSON.stringify(ready)}`);
    let memory = null;
    if (sampleMemory) {
      await sleep(50); // the wrapper's monitor is up before CMD starts; let the heap settle
      memory = processMemory(proc.pid);
    }
    const code = await proc.stop();
    if (code !== 0) throw new Error(`${argv.join(" ")} exited ${code}; saw ${proc.seen}`);
    const exit = await proc.next((v) => typeof v.exitAt === "number", 2000);
    const own = await listener.find(
      from,
      (l) => l.deleted && l.route.startsWith("default") && l.route.includes(`dev ${TUN_DEV}`),
    );
    const back = await listener.find(
      own.index + 1,
      (l) => !l.deleted && l.route.startsWith(RESTORED),
    );
    const exitAt = exit.exitAt as number;
    // The marks from "exit" on (they print in order), each name's first time.
    const marks = new Map<string, number>();
    const traced = proc.seen.filter((v) => typeof v.trace === "string");
    const exitMark = traced.findIndex((v) => v.trace === "exit");
    for (const value of exitMark < 0 ? [] : traced.slice(exitMark)) {
      const name = value.trace as string;
      if (!marks.has(name)) marks.set(name, (value.at as number) - exitAt);
    }
    marks.set("kernel event seen", back.line.at - exitAt);
    return { latencyUs: back.line.at - exitAt, memory, marks };
  } finally {
    proc.kill();
    await proc.exit();
  }
}

/** Resident memory of an idle `deno run` with defroute's permissions: the runtime's floor. */
async function idleFloor(lab: Lab): Promise<{ rssMB: number; hwmMB: number } | null> {
  const proc = spawnInLab(lab, DENO, ["run", ...DENO_RUN_FLAGS, IDLE]);
  try {
    await sleep(500);
    return processMemory(proc.pid);
  } finally {
    await proc.stop();
  }
}

/** Compile tests/bench/floor_wrapper.c with cc into `dir`; why not, when it cannot. */
async function buildFloorWrapper(dir: string): Promise<string | { skipped: string }> {
  const out = `${dir}/floor_wrapper`;
  try {
    const result = await new Deno.Command("cc", {
      args: ["-O2", "-o", out, `${ROOT}tests/bench/floor_wrapper.c`],
      stdout: "null",
      stderr: "piped",
    }).output();
    if (!result.success) {
      return { skipped: `cc failed: ${new TextDecoder().decode(result.stderr).trim()}` };
    }
    return out;
  } catch (error) {
    return { skipped: `no C compiler (cc): ${error instanceof Error ? error.message : error}` };
  }
}

async function main(): Promise<void> {
  const { runs, quick, trace } = benchArgs(Deno.args, 60);
  heading(`restore latency under \`defroute run\` (tunnel exit -> restored default, ${runs} runs)`);
  const support = namespaceSupport();
  if (!support.ok) {
    console.log(`  skipped: ${support.reason}`);
    return;
  }
  await withLab(async (lab) => {
    const dir = await Deno.makeTempDir({ prefix: "drt-bench-" });
    const listener = new RouteListener(lab.ns);
    try {
      await listener.ready(lab);
      const defrouteCommand = defrouteRunArgv(`${dir}/state.json`);
      // --trace: DEFROUTE_TRACE marks go to stderr at exit; send them where the JSON lines are
      // read (defroute runs with -q, so its stderr holds nothing else).
      if (trace) Deno.env.set("DEFROUTE_TRACE", "1");
      const defrouteArgv = trace
        ? ["/bin/sh", "-c", 'exec "$@" 2>&1', "sh", ...defrouteCommand]
        : defrouteCommand;
      const floorWrapper = await buildFloorWrapper(dir);
      const floorArgv = typeof floorWrapper === "string"
        ? [floorWrapper, ROUTER_ADDRESS, CLIENT_DEV, "--", ...TUNNEL_ARGV]
        : null;
      // The same tunnel in a subshell (its `exec date` ends the subshell, not the script).
      const shellArgv = [
        "/bin/sh",
        "-c",
        `(${TUNNEL_SCRIPT}); '${IP}' route add default via ${ROUTER_ADDRESS} dev ${CLIENT_DEV}`,
      ];
      // Warm-up: Deno's module cache and the page cache, not counted.
      await oneRun(lab, listener, defrouteArgv, false);
      await oneRun(lab, listener, shellArgv, false);
      if (floorArgv) await oneRun(lab, listener, floorArgv, false);

      const ours: number[] = [];
      const shell: number[] = [];
      const floorRuns: number[] = [];
      const marks = new Map<string, number[]>();
      const rss: number[] = [];
      const hwm: number[] = [];
      const started = epochMicros();
      for (let i = 0; i < runs; i++) {
        // Interleaved, so machine noise falls on both alike.
        const run = await oneRun(lab, listener, defrouteArgv, true);
        ours.push(run.latencyUs / 1000);
        for (const [name, us] of run.marks) marks.set(name, [...marks.get(name) ?? [], us / 1000]);
        if (run.memory) {
          rss.push(run.memory.rssMB);
          hwm.push(run.memory.hwmMB);
        }
        shell.push((await oneRun(lab, listener, shellArgv, false)).latencyUs / 1000);
        if (floorArgv) {
          floorRuns.push((await oneRun(lab, listener, floorArgv, false)).latencyUs / 1000);
        }
      }
      const seconds = (epochMicros() - started) / 1e6;

      const ourMedian = median(ours);
      const shellMedian = median(shell);
      figure("restore.run.median", ourMedian, "ms", `target <= 2 ms: ${verdict(ourMedian <= 2)}`);
      figure("restore.run.p99", percentile(ours, 99), "ms");
      figure("restore.run.min", Math.min(...ours), "ms");
      figure("restore.shell.median", shellMedian, "ms", "sh -c 'TUNNEL; ip route add default ...'");
      figure("restore.shell.p99", percentile(shell, 99), "ms");
      figure("restore.shell.min", Math.min(...shell), "ms");
      const speedup = shellMedian / ourMedian;
      figure(
        "restore.speedup",
        speedup,
        "x",
        `shell/defroute; target >= 5x: ${verdict(speedup >= 5)}`,
      );
      if (typeof floorWrapper === "string") {
        const floorMedian = median(floorRuns);
        figure("restore.floor.median", floorMedian, "ms", "C wrapper: waitpid, one prebuilt send");
        figure("restore.floor.p99", percentile(floorRuns, 99), "ms");
        figure("restore.floor.min", Math.min(...floorRuns), "ms");
        figure(
          "restore.speedup.ceiling",
          shellMedian / floorMedian,
          "x",
          "shell/floor: the most any wrapper reaches on this machine",
        );
        figure(
          "restore.run.over_floor",
          ourMedian - floorMedian,
          "ms",
          "defroute's work plus Deno's later wake-up on CMD's exit",
        );
      } else {
        console.log(`  floor wrapper skipped: ${floorWrapper.skipped}`);
      }
      if (trace) {
        printTraceMarks("the tunnel's exit", marks);
      }
      console.log(`  (${runs} runs of each in ${seconds.toFixed(1)} s${quick ? ", --quick" : ""})`);

      heading("wrapper footprint: `defroute run` while the tunnel runs");
      const floor = await idleFloor(lab);
      figure("footprint.run.vmrss.median", median(rss), "MB");
      const peak = Math.max(...hwm);
      figure("footprint.run.vmhwm.max", peak, "MB", `target <= 60 MB: ${verdict(peak <= 60)}`);
      figure(
        "footprint.idle_deno.vmrss",
        floor?.rssMB ?? Number.NaN,
        "MB",
        "idle deno run, same permissions",
      );
      figure("footprint.idle_deno.vmhwm", floor?.hwmMB ?? Number.NaN, "MB");
    } finally {
      await listener.close();
      await Deno.remove(dir, { recursive: true });
    }
  }, "bnch");
}

if (import.meta.main) await main();
