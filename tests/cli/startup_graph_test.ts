/**
 * Issue 8 (hook cost): what `defroute` loads before it knows the command. The static import graph
 * of main.ts (dynamic imports not followed, as `deno info --json` reports them) must hold no
 * `node:*` or `npm:` module and no command module; `save` and `restore` must hold neither and
 * must not pull in run, watch, hook or a kernel backend (lib/system.ts imports those on demand).
 */
import { assert, assertEquals } from "../assert.ts";
import { REPO_DIR } from "../harness/standin.ts";

interface InfoModule {
  specifier: string;
  dependencies?: { isDynamic?: boolean; code?: { specifier?: string } }[];
}

/** The modules `entry` (relative to the repo) loads statically, as repo-relative paths. */
async function staticGraph(entry: string): Promise<string[]> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: REPO_DIR,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert(output.success, new TextDecoder().decode(output.stderr));
  const info = JSON.parse(new TextDecoder().decode(output.stdout)) as {
    roots: string[];
    modules: InfoModule[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const visit = (specifier: string) => {
    if (seen.has(specifier)) return;
    seen.add(specifier);
    for (const dependency of bySpecifier.get(specifier)?.dependencies ?? []) {
      const target = dependency.code?.specifier;
      if (!dependency.isDynamic && target) visit(target);
    }
  };
  for (const root of info.roots) visit(root);
  const repoUrl = new URL(`file://${REPO_DIR}/`).href;
  return [...seen].map((s) => s.startsWith(repoUrl) ? s.slice(repoUrl.length) : s).sort();
}

const COMMAND_MODULES = ["run", "save", "restore", "status", "watch", "hook"].map((name) =>
  `lib/cli/${name}.ts`
);

Deno.test("main.ts statically loads no node:, npm: or command module", async () => {
  const graph = await staticGraph("main.ts");
  assert(graph.includes("lib/cli/main.ts"), graph.join(" "));
  assertEquals(graph.filter((m) => m.startsWith("node:") || m.startsWith("npm:")), []);
  assertEquals(graph.filter((m) => COMMAND_MODULES.includes(m)), []);
});

Deno.test("save and restore load no node: or npm: module and no other command or backend", async () => {
  for (const command of ["save", "restore"]) {
    const graph = await staticGraph(`lib/cli/${command}.ts`);
    assert(graph.includes(`lib/cli/${command}.ts`), graph.join(" "));
    assertEquals(graph.filter((m) => m.startsWith("node:") || m.startsWith("npm:")), [], command);
    assertEquals(
      graph.filter((m) =>
        (COMMAND_MODULES.includes(m) && m !== `lib/cli/${command}.ts`) ||
        m.startsWith("lib/darwin/") || m.startsWith("lib/linux/")
      ),
      [],
      command,
    );
  }
});
