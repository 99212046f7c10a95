/**
 * `deno task test`: the whole suite with the permissions tests need, then one plain closing line
 * ("tests: N passed, N failed, N skipped") that CI and people can read at a glance.
 *
 * Tests that need root, network namespaces or a C compiler skip with a printed reason where those
 * are missing; as root with iproute2 and cc (CI), everything runs.
 *
 * The lockfile is tests/deno.lock, used here and nowhere else (deno.json has "lock": false): the
 * only npm package, ipaddr.js, is for tests, and `deno task` installs every package a project's
 * lockfile names before it runs any task, so a lockfile deno.json knows would make `deno task
 * demo` and `deno task defroute` download it too. --frozen: a changed dependency fails the run
 * until the lockfile is updated on purpose (`deno test --lock=tests/deno.lock --frozen=false`).
 */
const LOCK = new URL("../tests/deno.lock", import.meta.url).pathname;
const args = [
  "test",
  "--allow-all",
  "--no-prompt",
  `--lock=${LOCK}`,
  "--frozen",
  ...Deno.args,
];
const child = new Deno.Command(Deno.execPath(), {
  args,
  stdout: "piped",
  stderr: "inherit",
  env: { NO_COLOR: "1" },
}).spawn();

const decoder = new TextDecoder();
let tail = "";
for await (const chunk of child.stdout) {
  Deno.stdout.writeSync(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
}
const status = await child.status;

// deno's summary: "ok | 57 passed (3 steps) | 0 failed | 2 ignored (4s)"
const summary = tail.split("\n").reverse().find((line) => /\d+ passed.*\d+ failed/.test(line));
const count = (word: string) => Number(summary?.match(new RegExp(`(\\d+) ${word}`))?.[1] ?? 0);
if (summary) {
  console.log(
    `tests: ${count("passed")} passed, ${count("failed")} failed, ${count("ignored")} skipped`,
  );
} else {
  console.log("tests: 0 passed, 1 failed (deno test printed no summary)");
}
Deno.exit(status.code);
