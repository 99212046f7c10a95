/**
 * `deno task bench [--quick] [--runs N]`: every defroute benchmark, one after the other, each in
 * its own process so one's heap and JIT state cannot colour another's figures:
 *
 * - tests/bench/restore_bench.ts  restore latency under `run` vs the shell workaround; footprint
 * - tests/bench/heal_bench.ts     heal latency of `watch --heal --grace 0`
 * - tests/bench/hook_bench.ts     `save`/`restore` as whole processes vs the runtime's floor
 * - tests/bench/codec_throughput.ts  `deno bench` of tests/bench/codec_bench.ts, msgs/s
 * - tests/bench/table_size_bench.ts  every cost at 2 / 10,000 / 100,000 routes (`--sizes`)
 *
 * The namespace benches need root, iproute2 and /dev/net/tun and print why they skip
 * otherwise. The machine the figures come from is printed first (docs/performance.md §2 quotes
 * it).
 */
const ROOT = new URL("../", import.meta.url).pathname;

export const BENCH_SCRIPTS: readonly string[] = [
  "tests/bench/restore_bench.ts",
  "tests/bench/heal_bench.ts",
  "tests/bench/hook_bench.ts",
  "tests/bench/codec_throughput.ts",
  "tests/bench/table_size_bench.ts",
];

function readOr(path: string, fallback: string): string {
  try {
    return Deno.readTextFileSync(path);
  } catch {
    return fallback;
  }
}

/** nproc, CPU model, kernel and deno version, one line each. */
export function machineLines(): string[] {
  const cpuinfo = readOr("/proc/cpuinfo", "");
  const model = cpuinfo.match(/^model name\s*:\s*(.+)$/m)?.[1]?.trim() ?? "unknown CPU";
  const kernel = readOr("/proc/sys/kernel/osrelease", Deno.osRelease()).trim();
  return [
    `machine: ${navigator.hardwareConcurrency} CPUs (nproc), ${model}`,
    `kernel:  ${Deno.build.os} ${kernel} (${Deno.build.arch})`,
    `deno:    ${Deno.version.deno} (v8 ${Deno.version.v8})`,
    `date:    ${new Date().toISOString()}`,
  ];
}

async function main(): Promise<number> {
  for (const line of machineLines()) console.log(line);
  let failed = 0;
  for (const script of BENCH_SCRIPTS) {
    const status = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", `${ROOT}${script}`, ...Deno.args],
      cwd: ROOT,
      stdin: "null",
      stdout: "inherit",
      stderr: "inherit",
    }).spawn().status;
    if (!status.success) {
      console.log(`  ${script} failed (exit ${status.code})`);
      failed++;
    }
  }
  return failed === 0 ? 0 : 1;
}

if (import.meta.main) Deno.exit(await main());
