/**
 * Hook cost: `defroute save` and `defroute restore` as whole processes (what a VPN's pre-up and
 * post-down hooks pay), in two forms:
 * - as shipped: the bundle `deno task compile` builds the binary from (scripts/bundle.ts, built
 *   here into a temporary directory), `deno run <DENO_RUN_FLAGS> BUNDLE/main.js`; the target is
 *   judged on this form;
 * - from source: `deno run <DENO_RUN_FLAGS> main.ts`, what a developer runs (every TypeScript
 *   module loaded on its own);
 * against
 * - the runtime's floor: `deno run <DENO_RUN_FLAGS> tests/bench/empty.ts`,
 * - the work's floor: `deno run <DENO_RUN_FLAGS> tests/bench/bare_hook.ts save|restore FILE`, the
 *   same dumps, atomic write and add in one file with none of defroute's code or checks, which
 *   splits "over the runtime's floor" into what the work costs and what defroute adds to it, and
 * - the shell workaround: `sh -c 'ip route show default > FILE'` / `sh -c 'ip route add ...'`.
 * Wall time is spawn-to-exit measured here (median of N); peak memory is ru_maxrss from GNU
 * time (`/usr/bin/time -f %M`, a few extra runs). Everything runs under `ip netns exec` in a
 * throwaway namespace, the floor too, so that wrapper's cost cancels out in the differences.
 * `restore` is timed doing its real job: the default is deleted before each run.
 *
 *   deno run --allow-all tests/bench/hook_bench.ts [--quick] [--runs N]
 *
 * Needs root, iproute2 and /dev/net/tun; prints why and exits 0 elsewhere.
 */
import { benchArgs, figure, heading, median, verdict } from "./bench_lib.ts";
import {
  CLIENT_DEV,
  DENO,
  IP,
  type Lab,
  namespaceSupport,
  ROOT,
  ROUTER_ADDRESS,
  withLab,
} from "../linux/netns.ts";
import { DENO_RUN_FLAGS } from "../../lib/permissions.ts";
import { buildBundle, BundleError } from "../../scripts/bundle.ts";

const MAIN = `${ROOT}main.ts`;
const EMPTY = `${ROOT}tests/bench/empty.ts`;
const BARE = `${ROOT}tests/bench/bare_hook.ts`;
const TIME = "/usr/bin/time";

interface Subject {
  key: string;
  what: string;
  argv: string[];
  /** Runs before each timed run, not timed (e.g. delete the default so restore has work). */
  prepare?: () => Promise<void>;
  /** Checked after each run (e.g. the default is back). */
  check?: () => Promise<void>;
}

/** Wall time of one run in ms; throws when it fails. */
async function timeOnce(lab: Lab, subject: Subject): Promise<number> {
  await subject.prepare?.();
  const [program, args] = lab.exec(subject.argv[0]!, subject.argv.slice(1));
  const command = new Deno.Command(program, { args, stdout: "null", stderr: "piped" });
  const start = performance.now();
  const output = await command.output();
  const ms = performance.now() - start;
  if (!output.success) {
    const why = new TextDecoder().decode(output.stderr).trim();
    throw new Error(`${subject.key}: exit ${output.code}: ${why}`);
  }
  await subject.check?.();
  return ms;
}

/** Peak resident memory (ru_maxrss, MB) of one run, from GNU time. */
async function peakOnce(lab: Lab, subject: Subject): Promise<number> {
  await subject.prepare?.();
  const [program, args] = lab.exec(subject.argv[0]!, subject.argv.slice(1));
  const output = await new Deno.Command(TIME, {
    args: ["-f", "maxrss_kib=%M", program, ...args],
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stderr);
  const kib = Number(text.match(/maxrss_kib=(\d+)/)?.[1]);
  if (!output.success || !Number.isFinite(kib)) {
    throw new Error(`${subject.key}: exit ${output.code}: ${text.trim()}`);
  }
  await subject.check?.();
  return (kib * 1024) / 1e6;
}

async function main(): Promise<void> {
  const { runs, quick } = benchArgs(Deno.args, 30);
  heading(`hook cost: save and restore as whole processes (${runs} runs each)`);
  const support = namespaceSupport();
  if (!support.ok) {
    console.log(`  skipped: ${support.reason}`);
    return;
  }
  let haveTime = true;
  try {
    Deno.statSync(TIME);
  } catch {
    haveTime = false;
  }
  await withLab(async (lab) => {
    const dir = await Deno.makeTempDir({ prefix: "drt-bench-" });
    try {
      const state = `${dir}/state.json`;
      const deleteDefault = async () => {
        await lab.ip("route", "del", "default", "via", ROUTER_ADDRESS, "dev", CLIENT_DEV);
      };
      const defaultIsBack = async () => {
        const routes = await lab.defaults(4);
        if (!routes.some((r) => r.gateway === ROUTER_ADDRESS && r.dev === CLIENT_DEV)) {
          throw new Error(`the default is not back: ${JSON.stringify(routes)}`);
        }
      };
      let bundle: string | null = null;
      try {
        bundle = await buildBundle(`${dir}/bundle`);
      } catch (error) {
        if (!(error instanceof BundleError)) throw error;
        console.log(`  the shipped form is skipped (${error.message}); judging the source`);
      }
      // The form the target is judged on: the bundle, or the source when it cannot be built.
      const shipped = bundle ?? MAIN;
      const defroute = (entry: string, ...args: string[]) => [
        DENO,
        "run",
        ...DENO_RUN_FLAGS,
        entry,
        ...args,
      ];
      const hooks = (prefix: string, entry: string, form: string): Subject[] => [
        {
          key: `${prefix}save`,
          what: `defroute save (${form})`,
          argv: defroute(entry, "save", "-q", "--state", state),
        },
        {
          key: `${prefix}restore`,
          what: `defroute restore, default missing (${form})`,
          argv: defroute(entry, "restore", "-q", "--state", state),
          prepare: deleteDefault,
          check: defaultIsBack,
        },
      ];
      const subjects: Subject[] = [
        {
          key: "floor",
          what: "empty deno run, same permissions",
          argv: [DENO, "run", ...DENO_RUN_FLAGS, EMPTY],
        },
        ...hooks("", shipped, bundle ? "the shipped bundle" : "from source"),
        ...(bundle ? hooks("source.", MAIN, "from source, main.ts") : []),
        {
          key: "bare.save",
          what: "bare_hook.ts save: the dumps and the atomic write, nothing else",
          argv: [DENO, "run", ...DENO_RUN_FLAGS, BARE, "save", `${dir}/bare.json`],
        },
        {
          key: "bare.restore",
          what: "bare_hook.ts restore: one RTM_NEWROUTE from the file, nothing else",
          argv: [DENO, "run", ...DENO_RUN_FLAGS, BARE, "restore", `${dir}/bare.json`],
          prepare: deleteDefault,
          check: defaultIsBack,
        },
        {
          key: "shell.save",
          what: "sh -c 'ip route show default > FILE'",
          argv: ["/bin/sh", "-c", `'${IP}' route show default > '${dir}/saved.txt'`],
        },
        {
          key: "shell.restore",
          what: "sh -c 'ip route add default via GW dev IF'",
          argv: [
            "/bin/sh",
            "-c",
            `'${IP}' route add default via ${ROUTER_ADDRESS} dev ${CLIENT_DEV}`,
          ],
          prepare: deleteDefault,
          check: defaultIsBack,
        },
      ];
      // Warm-up: Deno's module cache and the page cache; also makes the state `restore` reads.
      for (const subject of subjects) await timeOnce(lab, subject);

      const wall = new Map<string, number[]>(subjects.map((s) => [s.key, []]));
      for (let i = 0; i < runs; i++) {
        // Round-robin, so machine noise falls on all alike.
        for (const subject of subjects) wall.get(subject.key)!.push(await timeOnce(lab, subject));
      }
      const floor = median(wall.get("floor")!);
      for (const subject of subjects) {
        const ms = median(wall.get(subject.key)!);
        let note = subject.what;
        if (subject.key === "save" || subject.key === "restore") {
          const over = ms - floor;
          note = `${subject.what}; +${over.toFixed(1)} ms over the floor, ` +
            `target <= 15 ms: ${verdict(over <= 15)}`;
        } else if (subject.key.startsWith("bare.") || subject.key.startsWith("source.")) {
          note = `${subject.what}; +${(ms - floor).toFixed(1)} ms over the floor`;
        }
        figure(`hook.${subject.key}.wall.median`, ms, "ms", note);
      }
      for (const hook of ["save", "restore"]) {
        // What defroute adds to the bare work: its modules, CLI, lock, checks and policy.
        const own = median(wall.get(hook)!) - median(wall.get(`bare.${hook}`)!);
        figure(`hook.${hook}.over_bare`, own, "ms", `defroute ${hook} minus bare_hook.ts ${hook}`);
      }
      if (haveTime) {
        const peakRuns = quick ? 1 : 5;
        for (const subject of subjects) {
          const peaks: number[] = [];
          for (let i = 0; i < peakRuns; i++) peaks.push(await peakOnce(lab, subject));
          figure(
            `hook.${subject.key}.maxrss`,
            Math.max(...peaks),
            "MB",
            `ru_maxrss, ${peakRuns} runs`,
          );
        }
      } else {
        console.log(`  peak memory skipped: ${TIME} (GNU time) is not installed`);
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  }, "hook");
}

if (import.meta.main) await main();
