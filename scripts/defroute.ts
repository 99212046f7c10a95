// Development launcher: `deno task defroute <args>` runs main.ts with exactly the permission
// flags the compiled binary has (lib/permissions.ts), so what you try is what users get.
//
// It stands between `deno task` (or a shell, a process manager) and the real defroute, so every
// signal that would stop it is passed on instead: SIGINT, SIGTERM, SIGHUP and SIGQUIT go to
// defroute, which forwards them to a `run`'s CMD and restores the routes; this launcher exits
// only when defroute has, with its status. Without this, a SIGTERM to the launcher killed it
// and left `defroute run` and its CMD running.
import { DENO_RUN_FLAGS } from "../lib/permissions.ts";

const FORWARDED: Deno.Signal[] = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"];

const main = new URL("../main.ts", import.meta.url).pathname;
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "--quiet", ...DENO_RUN_FLAGS, main, ...Deno.args],
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
const forwarders = FORWARDED.map((signal) => {
  const forward = () => {
    try {
      child.kill(signal);
    } catch {
      // defroute has exited already; its status is on the way
    }
  };
  Deno.addSignalListener(signal, forward);
  return [signal, forward] as const;
});
// Deno reports a signal death as code 128+N already.
const { code } = await child.status;
for (const [signal, forward] of forwarders) Deno.removeSignalListener(signal, forward);
Deno.exit(code);
