/**
 * Codec throughput: runs `deno bench --json tests/bench/codec_bench.ts` (the codec engineer's
 * Deno.bench file) and prints each bench's mean time plus the derived messages per second,
 * against the target of >= 1,000,000 route messages decoded per second.
 *
 *   deno run --allow-all tests/bench/codec_throughput.ts [--quick]
 *
 * `--quick` runs only the two decode benches (deno bench has no iteration-count flag; its own
 * time budget per bench still applies).
 */
import { benchArgs, figure, heading, verdict } from "./bench_lib.ts";

const FILE = new URL("./codec_bench.ts", import.meta.url).pathname;
const DUMP_ROUTES = 10_000;

interface BenchResult {
  name: string;
  group: string | null;
  results: { ok?: { n: number; avg: number; p99: number } }[];
}

/** "decode one RTM_GET reply (164 bytes)" -> "codec.decode_one_rtm_get_reply" */
export function keyOf(name: string): string {
  return "codec." + name.toLowerCase()
    .replace(/\(.*?\)/g, "")
    .replace(/100,000/g, "100k")
    .replace(/10,000/g, "10k")
    .replace(/[^a-z0-9]+/g, "_")
    .replace(/^_|_$/g, "");
}

/** How many route messages one iteration of a bench handles. */
export function messagesPerIteration(name: string): number {
  if (/100,000/.test(name)) return 100_000;
  return /10,000/.test(name) ? DUMP_ROUTES : 1;
}

async function main(): Promise<void> {
  const { quick } = benchArgs(Deno.args, 1, 1);
  heading("codec throughput (deno bench tests/bench/codec_bench.ts)");
  const args = ["bench", "--json", "--no-check"];
  if (quick) args.push("--filter", "decode");
  const output = await new Deno.Command(Deno.execPath(), {
    args: [...args, FILE],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!output.success) {
    throw new Error(`deno bench failed: ${new TextDecoder().decode(output.stderr)}`);
  }
  const report = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    runtime: string;
    cpu: string;
    benches: BenchResult[];
  };
  let decodeRate = Number.POSITIVE_INFINITY;
  for (const bench of report.benches) {
    const ok = bench.results[0]?.ok;
    if (!ok) {
      console.log(`  ${bench.name}: failed`);
      continue;
    }
    const perIteration = messagesPerIteration(bench.name);
    const rate = (perIteration * 1e9) / ok.avg;
    const key = keyOf(bench.name);
    figure(`${key}.mean`, ok.avg / 1000, "us", `${bench.name}; n=${ok.n}`);
    let note = "";
    if (/^find the defaults/.test(bench.name)) {
      // Issue 15: the defaults of a 100,000-route NET_RT_DUMP in under 10 ms.
      figure(`${key}.ms`, ok.avg / 1e6, "ms", `target < 10 ms: ${verdict(ok.avg / 1e6 < 10)}`);
    }
    if (/^decode/i.test(bench.name)) {
      decodeRate = Math.min(decodeRate, rate);
      note = `target >= 1,000,000 msgs/s: ${verdict(rate >= 1_000_000)}`;
    }
    figure(`${key}.rate`, rate, "msgs/s", note);
  }
  figure("codec.decode.worst_rate", decodeRate, "msgs/s", `${report.cpu}, ${report.runtime}`);
}

if (import.meta.main) await main();
