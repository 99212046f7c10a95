/**
 * The save around `run`'s CMD: look before CMD starts, write only once CMD runs.
 *
 * Two rules from the attack run and the sing-box daemon:
 * - a CMD that cannot start (a bad `#!` line, exit 127) must change nothing, not even the state
 *   file's `savedAt`: so the defaults are read before CMD starts (what counts is the network
 *   before the tunnel) and written once the spawn succeeded;
 * - a failing save must never keep CMD from starting: under launchd's KeepAlive, a state file
 *   that cannot be written (corrupt, untrusted, a FIFO) would otherwise mean no VPN at all,
 *   retried every 10 s. It is a warning; the restore after CMD then works from what was read in
 *   memory (the kernel's default before CMD), scutil, or nothing.
 */
import type { Log } from "../model/log.ts";
import { type Observation, observe, type RouteSystem } from "./observe.ts";
import { saveObserved } from "./save.ts";
import { mergeSave } from "../policy/save_merge.ts";
import { type DefrouteState, StateFileError } from "../state/schema.ts";
import { readState } from "../state/store.ts";
import type { Family } from "../model/types.ts";

export interface RunSaveOptions {
  statePath: string;
  families: readonly Family[];
  force: boolean;
  dryRun: boolean;
  log: Log;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

export class RunSave {
  /** The state as it will be once written (or would be, for a dry run): what the rehearsals
   * and, should the write fail or not be done yet, the restore after CMD work from. */
  readonly planned: DefrouteState | null;

  private constructor(
    private readonly options: RunSaveOptions,
    private readonly observation: Observation | null,
    planned: DefrouteState | null,
  ) {
    this.planned = planned;
  }

  /** Read the defaults (and the state file as it is) before CMD starts; never throws for the
   * state file or the kernel read: each is a warning, and CMD still starts. */
  static async look(system: RouteSystem, options: RunSaveOptions): Promise<RunSave> {
    const { log } = options;
    let observation: Observation | null = null;
    try {
      observation = await observe(system, options.families);
      for (const f of observation.families) {
        if (f.scutilError) log.warn(`scutil: ${f.scutilError}`);
      }
    } catch (error) {
      log.warn(
        `cannot read the default routes before starting the command (${messageOf(error)}); ` +
          `starting it anyway, without saving them`,
      );
      return new RunSave(options, null, null);
    }
    let existing: DefrouteState | null = null;
    try {
      existing = await readState(options.statePath);
    } catch (error) {
      if (!(error instanceof StateFileError)) throw error;
      // Reported when the write is tried (or replaced by --force); here only the plan's base.
    }
    const decision = mergeSave(existing, observation.families, observation.interfaces, {
      force: options.force,
      savedBy: "run",
      now: new Date(),
    });
    return new RunSave(options, observation, decision.next);
  }

  /**
   * Write what was seen, once CMD runs. Returns the state file as written, or the planned state
   * when the write failed (with a warning: CMD keeps running). A dry run writes nothing.
   */
  async write(): Promise<DefrouteState | null> {
    const { options } = this;
    if (this.observation === null || options.dryRun) return this.planned;
    try {
      await saveObserved(options.statePath, this.observation, {
        force: options.force,
        savedBy: "run",
        log: options.log,
      });
    } catch (error) {
      options.log.warn(
        `could not save the default routes (${messageOf(error)}); the command runs anyway, ` +
          `and the restore after it works from the routes read before it started`,
      );
      return this.planned;
    }
    // The file as written, with whatever the merge kept from before.
    return await readState(options.statePath).catch(() => this.planned);
  }
}
