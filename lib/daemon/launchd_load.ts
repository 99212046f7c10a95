/**
 * Loading and unloading a launchd daemon so that a reinstall never leaves the Mac without one.
 *
 * `launchctl bootout` returns before launchd has finished tearing the service down, and a
 * `launchctl bootstrap` of the same label in that window fails with "Bootstrap failed: 5:
 * Input/output error" (exit 5), for seconds; a service that was ever `launchctl disable`d is not
 * loaded by bootstrap at all until it is enabled again (launchctl(1): enable, disable). So:
 * boot the old job out (a "not loaded" answer is fine), poll `launchctl print system/LABEL`
 * until it no longer knows the service (bounded), `launchctl enable system/LABEL`, then
 * bootstrap with bounded retries on error 5. The caller puts the previous plist back when the
 * last attempt fails.
 *
 * launchctl is run through `launchctl` (an argument array, never a shell); the clock is the
 * caller's `sleep`, so tests do not wait.
 */
import type { Log } from "../core/model/log.ts";
import { bootoutArgs, bootstrapArgs, isNotLoaded, validateLabel } from "./launchd_plist.ts";

/** The result of running launchctl once. */
export interface LaunchctlResult {
  code: number;
  stderr: string;
}

export interface LaunchdSteps {
  launchctl(args: string[]): Promise<LaunchctlResult>;
  sleep(ms: number): Promise<void>;
  log: Log;
}

/** How long to wait for a booted-out service to be gone, and how often to look. */
export const GONE_WAIT_MS = 10_000;
export const GONE_POLL_MS = 250;
/** Waits between bootstrap attempts after error 5: five attempts in 7.5 s. */
export const BOOTSTRAP_RETRY_DELAYS_MS: readonly number[] = [500, 1000, 2000, 4000];

/** `launchctl print system/LABEL`: exit 0 while launchd knows the service. */
export function printArgs(label: string): string[] {
  return ["print", `system/${validateLabel(label)}`];
}

/** `launchctl enable system/LABEL`: clears a `disable` that would keep bootstrap from loading. */
export function enableArgs(label: string): string[] {
  return ["enable", `system/${validateLabel(label)}`];
}

/** "Bootstrap failed: 5: Input/output error": launchd is still busy with the old service. */
export function isBusy(result: LaunchctlResult): boolean {
  return result.code === 5 || /\b5: Input\/output error/.test(result.stderr);
}

export function launchctlLine(args: readonly string[]): string {
  return `launchctl ${args.join(" ")}`;
}

export function firstLine(text: string): string {
  return text.split("\n").find((line) => line.trim() !== "")?.trim() ?? "no message";
}

function failure(args: readonly string[], result: LaunchctlResult): string {
  return `${launchctlLine(args)} failed (exit ${result.code}): ${firstLine(result.stderr)}`;
}

/** Whether launchd knows the service now. A `print` that fails otherwise counts as loaded, so
 * the bootout that follows says what is wrong. */
export async function isLoaded(steps: LaunchdSteps, label: string): Promise<boolean> {
  const result = await steps.launchctl(printArgs(label));
  return result.code === 0 || !isNotLoaded(result.code, result.stderr);
}

export type UnloadOutcome =
  /** Nothing was loaded under the label. */
  | "not-loaded"
  /** Booted out, and `print` no longer knows it. */
  | "gone"
  /** Booted out, but launchd still knew it when the wait ran out (bootstrap retries follow). */
  | "still-there";

/**
 * Boot the service out if launchd knows it and wait (bounded) until it does not. Throws an
 * Error with launchctl's words when bootout fails for any reason but "not loaded".
 */
export async function unloadService(steps: LaunchdSteps, label: string): Promise<UnloadOutcome> {
  if (!(await isLoaded(steps, label))) return "not-loaded";
  const args = bootoutArgs(label);
  steps.log.announce(launchctlLine(args));
  const result = await steps.launchctl(args);
  if (result.code !== 0 && !isNotLoaded(result.code, result.stderr)) {
    throw new Error(failure(args, result));
  }
  for (let waited = 0; waited < GONE_WAIT_MS; waited += GONE_POLL_MS) {
    if (!(await isLoaded(steps, label))) return "gone";
    await steps.sleep(GONE_POLL_MS);
  }
  if (!(await isLoaded(steps, label))) return "gone";
  steps.log.info(`${label} is still known to launchd after ${GONE_WAIT_MS / 1000} s`);
  return "still-there";
}

/** `launchctl enable`; a failure is only a warning (bootstrap will say if it matters). */
export async function enableService(steps: LaunchdSteps, label: string): Promise<void> {
  const args = enableArgs(label);
  steps.log.announce(launchctlLine(args));
  const result = await steps.launchctl(args);
  if (result.code !== 0) steps.log.warn(failure(args, result));
}

/** Bootstrap `path`, retrying on error 5; null when loaded, else the last failure's words. */
export async function bootstrapWithRetries(
  steps: LaunchdSteps,
  path: string,
  delays: readonly number[] = BOOTSTRAP_RETRY_DELAYS_MS,
): Promise<{ error: string | null; attempts: number }> {
  const args = bootstrapArgs(path);
  for (let attempt = 1;; attempt++) {
    steps.log.announce(launchctlLine(args));
    const result = await steps.launchctl(args);
    if (result.code === 0) return { error: null, attempts: attempt };
    const delay = delays[attempt - 1];
    if (!isBusy(result) || delay === undefined) {
      return { error: failure(args, result), attempts: attempt };
    }
    steps.log.info(`launchd is still busy (error 5); trying again in ${delay / 1000} s`);
    await steps.sleep(delay);
  }
}
