// Development launcher: `deno task defroute <args>` runs main.ts with exactly the permission
// flags the compiled binary has (lib/permissions.ts), so what you try is what users get.
import { DENO_RUN_FLAGS } from "../lib/permissions.ts";

const main = new URL("../main.ts", import.meta.url).pathname;
const child = new Deno.Command(Deno.execPath(), {
  args: ["run", "--quiet", ...DENO_RUN_FLAGS, main, ...Deno.args],
  stdin: "inherit",
  stdout: "inherit",
  stderr: "inherit",
}).spawn();
// Deno reports a signal death as code 128+N already.
Deno.exit((await child.status).code);
