/**
 * Every subcommand, in the order `defroute --help` lists them, loaded only when it runs.
 *
 * Each entry's `load` imports that command's module on demand, so `defroute save` does not
 * parse and evaluate run/watch/hook code at start-up (issue 8: hook cost). The imports are string
 * literals so `deno compile` still finds and bundles every module. The summaries are repeated
 * here so `defroute --help` needs no command module; tests/cli/main_test.ts checks that each
 * matches the loaded command's own `summary`.
 */
import type { Command } from "./command.ts";

export interface CommandEntry {
  name: string;
  /** One line for `defroute --help` (the same as the module's `summary`). */
  summary: string;
  load(): Promise<Command>;
}

export const COMMANDS: readonly CommandEntry[] = [
  {
    name: "run",
    summary: "run -- CMD: save, run CMD, restore when it exits for any reason",
    load: async () => (await import("./run.ts")).runCommand,
  },
  {
    name: "save",
    summary: "save the current default routes to the state file (pre-up hook)",
    load: async () => (await import("./save.ts")).saveCommand,
  },
  {
    name: "restore",
    summary: "put the saved or current default route back (post-down hook)",
    load: async () => (await import("./restore.ts")).restoreCommand,
  },
  {
    name: "status",
    summary: "show the kernel's defaults, scutil's view, the saved state and a diagnosis",
    load: async () => (await import("./status.ts")).statusCommand,
  },
  {
    name: "watch",
    summary: "stream default-route events; --heal repairs a lost default",
    load: async () => (await import("./watch.ts")).watchCommand,
  },
  {
    name: "hook",
    summary: "hook install|uninstall|print: the launchd daemon for watch --heal",
    load: async () => (await import("./hook.ts")).hookCommand,
  },
];
