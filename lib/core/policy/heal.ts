/**
 * The heal policy of `watch --heal` and `run --heal`, as a pure function of time and
 * observations: no clock, no kernel, no I/O. heal_loop.ts feeds it and carries out what it says.
 *
 * Rules (docs/architecture.md §3.5):
 * - Only fill a void: act only when *no* live global default exists for a family. A default
 *   someone installed (configd, a VPN, another healer) is never replaced; a default on an
 *   interface that is gone, down or whose link is inactive is no default at all (a dead tun's
 *   `default dev tun0 linkdown` blackholes everything), so it counts as a void.
 * - Grace period: the void must last `graceMs` before a repair. A tunnel that deletes the
 *   default and re-adds its own within that time (sing-tun's delete-then-add, issue #80) is not
 *   disturbed. A later event does not restart the clock: the void is measured from when the
 *   default went missing.
 * - Rate limit: at most `maxRepairs` attempts per `windowMs` (sliding window), failed attempts
 *   included, so two healers, or a healer and a VPN that keeps deleting, can never flap fast.
 *   Reaching the limit is reported once per void.
 * - A failed attempt waits a fresh grace period before the next one.
 * - An attempt that found no gateway to add changed nothing in the kernel: it does not count
 *   against the limit, and the next one waits a backoff (0.5 s, doubling to 30 s) or until
 *   something changes on an interface (configd brings up the next network a moment after the
 *   old one went away).
 * - Never route around a live tunnel (issue 17): while a tunnel holds the family's traffic (a
 *   default of any scope, routes covering half the addresses, a policy rule: tunnel_hold.ts),
 *   the void is recorded and left alone; it is reported once, looked at again every
 *   `holdRecheckMs`, and when the hold ends (the tunnel went away) a fresh grace period starts:
 *   a VPN reconnecting brings its next tunnel up within it.
 */
import type { Family } from "../model/types.ts";

export interface HealConfig {
  /** How long a family must have no global default before a repair (ms). */
  graceMs: number;
  /** At most this many repair attempts per window. */
  maxRepairs: number;
  /** The rate-limit window (ms); "per minute" = 60 000. */
  windowMs: number;
  /** While a tunnel holds the traffic, look again this often (ms): a tunnel's split routes may
   * go without an event for a default (default 2000). */
  holdRecheckMs?: number;
}

export const DEFAULT_HEAL_CONFIG: HealConfig = {
  graceMs: 1000,
  maxRepairs: 3,
  windowMs: 60_000,
  holdRecheckMs: 2000,
};

/** The first wait after an attempt that found no gateway; it doubles with each one after. */
export const IDLE_RETRY_FIRST_MS = 500;
/** The longest wait between attempts that find no gateway. */
export const IDLE_RETRY_MAX_MS = 30_000;

export interface FamilyHealState {
  /** A global default exists, as last observed. */
  present: boolean;
  /** When the global default was first seen missing (ms), null while present. */
  voidSince: number | null;
  /** What emptied it, in words, for the repair log ("global default deleted by pid 4711"). */
  cause: string | null;
  /** Times of repair attempts still inside the window (ms), oldest first. */
  attempts: readonly number[];
  /** The rate limit was already reported for the current void. */
  limitReported: boolean;
  /** The live tunnel holding the traffic during this void, in words; null when none. */
  heldBy?: string | null;
  /** The hold was reported (a "held" decision) since it began or changed. */
  holdReported?: boolean;
  /** When the hold was last looked at (ms). */
  holdCheckedAt?: number;
  /** Attempts in a row that found no gateway (they changed nothing; not rate-limited). */
  idleFailures?: number;
  /** After such an attempt: no repair before this time (ms); null or absent otherwise. */
  retryAt?: number | null;
}

export type HealState = ReadonlyMap<Family, FamilyHealState>;

/** What heal_loop tells the policy. */
export type HealInput =
  /** The kernel was (re-)read: whether a global default exists for `family`. */
  | {
    kind: "observed";
    family: Family;
    present: boolean;
    at: number;
    cause: string;
    /** The cause names the deletion itself: during a void it replaces a vaguer cause (events
     * come in batches, so a void may first be seen while handling an unrelated event). */
    refine?: boolean;
    /** A live tunnel holds the traffic (words: which and how); only looked at in a void. */
    heldBy?: string | null;
  }
  /** A repair was attempted at `at`; `ok` when it left a global default in place; `idle` when
   * it found no gateway to add and so changed nothing. */
  | { kind: "attempted"; family: Family; ok: boolean; at: number; idle?: boolean }
  /** Something changed on an interface: an attempt waiting out a no-gateway backoff may go
   * now (after the grace period). */
  | { kind: "nudged"; family: Family; at: number };

/** What the policy tells heal_loop. */
export type HealDecision =
  | { kind: "repair"; family: Family; cause: string; voidSince: number }
  | {
    kind: "rate-limited";
    family: Family;
    cause: string;
    attempts: number;
    /** When the oldest attempt leaves the window and a repair may be tried again. */
    retryAt: number;
  }
  /** A tunnel holds the traffic: the void is left alone (reported once per hold). */
  | { kind: "held"; family: Family; cause: string; heldBy: string }
  /** Look at a held void again (its tunnel's routes may have gone without an event). */
  | { kind: "recheck"; family: Family; cause: string };

export interface HealStep {
  state: HealState;
  decisions: HealDecision[];
  /** The next time `step` must run even if nothing is observed (ms); null = only on input. */
  wakeAt: number | null;
}

/** Start: each family as first observed at `now`. A family already without a global default
 * starts its void now (so a daemon started after a tunnel broke things repairs it, after grace). */
export function initialHealState(
  observed: ReadonlyMap<Family, boolean>,
  now: number,
  cause = "no global default at start",
): HealState {
  const state = new Map<Family, FamilyHealState>();
  for (const [family, present] of observed) {
    state.set(family, {
      present,
      voidSince: present ? null : now,
      cause: present ? null : cause,
      attempts: [],
      limitReported: false,
    });
  }
  return state;
}

/** Fold one input into the state. Families not in the state are ignored. */
export function applyHealInput(state: HealState, input: HealInput): HealState {
  const current = state.get(input.family);
  if (!current) return state;
  let next: FamilyHealState;
  if (input.kind === "observed") {
    const heldBy = input.present ? null : input.heldBy ?? null;
    const wasHeld = current.heldBy ?? null;
    if (input.present) {
      next = {
        ...current,
        present: true,
        voidSince: null,
        cause: null,
        limitReported: false,
        heldBy: null,
        holdReported: false,
        idleFailures: 0,
        retryAt: null,
      };
    } else if (current.present) {
      next = {
        ...current,
        present: false,
        voidSince: input.at,
        cause: input.cause,
        heldBy,
        holdReported: false,
        holdCheckedAt: input.at,
      };
    } else if (heldBy !== wasHeld) {
      // The hold began, changed or ended. Its end starts a fresh grace period.
      next = {
        ...current,
        heldBy,
        holdReported: false,
        holdCheckedAt: input.at,
        ...(heldBy === null ? { voidSince: input.at, cause: input.cause } : {}),
      };
    } else if (heldBy !== null) {
      next = { ...current, holdCheckedAt: input.at };
    } else if (input.refine && input.cause !== current.cause) {
      // Still void: the clock keeps running from when it started; only the cause gets sharper.
      next = { ...current, cause: input.cause };
    } else {
      return state;
    }
  } else if (input.kind === "nudged") {
    if ((current.retryAt ?? null) === null) return state;
    next = { ...current, idleFailures: 0, retryAt: null, voidSince: input.at };
  } else if (input.idle && !input.ok) {
    // Nothing was tried: no attempt to count, a backoff before the next look.
    const idleFailures = (current.idleFailures ?? 0) + 1;
    const wait = Math.min(IDLE_RETRY_MAX_MS, IDLE_RETRY_FIRST_MS * 2 ** (idleFailures - 1));
    next = { ...current, idleFailures, retryAt: input.at + wait };
  } else {
    next = {
      ...current,
      attempts: [...current.attempts, input.at],
      limitReported: false,
      idleFailures: 0,
      retryAt: null,
      // A failure waits a fresh grace period; a success is confirmed by the next observation.
      voidSince: input.ok || current.voidSince === null ? current.voidSince : input.at,
    };
  }
  const copy = new Map(state);
  copy.set(input.family, next);
  return copy;
}

/** What to do at `now`. */
export function stepHeal(state: HealState, now: number, config: HealConfig): HealStep {
  const copy = new Map<Family, FamilyHealState>();
  const decisions: HealDecision[] = [];
  let wakeAt: number | null = null;
  const wake = (at: number) => wakeAt = wakeAt === null ? at : Math.min(wakeAt, at);

  for (const [family, s] of state) {
    const attempts = s.attempts.filter((t) => t > now - config.windowMs);
    let next: FamilyHealState = { ...s, attempts };
    if (!s.present && s.voidSince !== null && s.heldBy) {
      const cause = s.cause ?? "no global default";
      if (!s.holdReported) {
        decisions.push({ kind: "held", family, cause, heldBy: s.heldBy });
        next = { ...next, holdReported: true };
      }
      const recheckAt = (s.holdCheckedAt ?? now) + (config.holdRecheckMs ?? 2000);
      if (now >= recheckAt) {
        decisions.push({ kind: "recheck", family, cause });
        next = { ...next, holdCheckedAt: now };
        wake(now + (config.holdRecheckMs ?? 2000));
      } else wake(recheckAt);
    } else if (!s.present && s.voidSince !== null) {
      const due = Math.max(s.voidSince + config.graceMs, s.retryAt ?? 0);
      const cause = s.cause ?? "no global default";
      if (now < due) {
        wake(due);
      } else if (attempts.length < config.maxRepairs) {
        decisions.push({ kind: "repair", family, cause, voidSince: s.voidSince });
      } else {
        const retryAt = (attempts[0] ?? now) + config.windowMs;
        wake(retryAt);
        if (!s.limitReported) {
          decisions.push({
            kind: "rate-limited",
            family,
            cause,
            attempts: attempts.length,
            retryAt,
          });
          next = { ...next, limitReported: true };
        }
      }
    }
    copy.set(family, next);
  }
  return { state: copy, decisions, wakeAt };
}
