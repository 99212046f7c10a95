/**
 * Table tests of the pure heal policy (lib/core/policy/heal.ts) on a fake clock: each case is a script
 * of observations, repair attempts and policy steps at given milliseconds, with the decisions
 * and wake-up time every step must produce.
 */
import { assertEquals } from "../assert.ts";
import {
  applyHealInput,
  type HealConfig,
  type HealState,
  initialHealState,
  stepHeal,
} from "../../lib/core/policy/heal.ts";
import type { Family } from "../../lib/core/model/types.ts";

const CONFIG: HealConfig = { graceMs: 1000, maxRepairs: 3, windowMs: 60_000 };

type Line =
  | { at: number; observe: Family; present: boolean; refine?: boolean; heldBy?: string }
  | { at: number; attempt: Family; ok: boolean; idle?: boolean }
  | { at: number; nudge: Family }
  | { at: number; step: string[]; wakeAt: number | null };

interface Case {
  name: string;
  start: [Family, boolean][];
  config?: Partial<HealConfig>;
  script: Line[];
}

const CASES: Case[] = [
  {
    name: "a default present all along: nothing to do, no wake-up",
    start: [[4, true], [6, true]],
    script: [{ at: 5000, step: [], wakeAt: null }],
  },
  {
    name: "a deleted default is repaired after the grace period and not before",
    start: [[4, true]],
    script: [
      { at: 100, observe: 4, present: false },
      { at: 100, step: [], wakeAt: 1100 },
      { at: 1099, step: [], wakeAt: 1100 },
      { at: 1100, step: ["repair 4 since 100"], wakeAt: null },
    ],
  },
  {
    name: "a default re-added within the grace period is not disturbed (sing-tun delete+add)",
    start: [[4, true]],
    script: [
      { at: 100, observe: 4, present: false },
      { at: 100, step: [], wakeAt: 1100 },
      { at: 400, observe: 4, present: true },
      { at: 1100, step: [], wakeAt: null },
      { at: 9000, step: [], wakeAt: null },
    ],
  },
  {
    name: "more events during a void do not restart the grace clock",
    start: [[4, true]],
    script: [
      { at: 0, observe: 4, present: false },
      { at: 600, observe: 4, present: false },
      { at: 900, observe: 4, present: false },
      { at: 1000, step: ["repair 4 since 0"], wakeAt: null },
    ],
  },
  {
    name: "no default at start: the void starts at start and is repaired after grace",
    start: [[4, false], [6, true]],
    script: [
      { at: 0, step: [], wakeAt: 1000 },
      { at: 1000, step: ["repair 4 since 0"], wakeAt: null },
    ],
  },
  {
    name: "families are independent",
    start: [[4, true], [6, true]],
    script: [
      { at: 0, observe: 6, present: false },
      { at: 500, observe: 4, present: false },
      { at: 1000, step: ["repair 6 since 0"], wakeAt: 1500 },
      { at: 1500, step: ["repair 4 since 500", "repair 6 since 0"], wakeAt: null },
    ],
  },
  {
    name: "the rate limit stops repairs, is reported once, and frees up after the window",
    start: [[4, true]],
    config: { maxRepairs: 2 },
    script: [
      { at: 0, observe: 4, present: false },
      { at: 1000, step: ["repair 4 since 0"], wakeAt: null },
      { at: 1000, attempt: 4, ok: true },
      { at: 1001, observe: 4, present: true },
      { at: 2000, observe: 4, present: false },
      { at: 3000, step: ["repair 4 since 2000"], wakeAt: null },
      { at: 3000, attempt: 4, ok: true },
      { at: 3001, observe: 4, present: true },
      { at: 4000, observe: 4, present: false },
      { at: 5000, step: ["rate-limited 4 after 2 until 61000"], wakeAt: 61000 },
      { at: 6000, step: [], wakeAt: 61000 },
      { at: 60_999, step: [], wakeAt: 61000 },
      { at: 61_000, step: ["repair 4 since 4000"], wakeAt: null },
    ],
  },
  {
    name: "a failed attempt counts against the limit and waits a fresh grace period",
    start: [[4, false]],
    script: [
      { at: 1000, step: ["repair 4 since 0"], wakeAt: null },
      { at: 1200, attempt: 4, ok: false },
      { at: 1300, step: [], wakeAt: 2200 },
      { at: 2200, step: ["repair 4 since 1200"], wakeAt: null },
      { at: 2200, attempt: 4, ok: false },
      { at: 3200, step: ["repair 4 since 2200"], wakeAt: null },
      { at: 3200, attempt: 4, ok: false },
      { at: 4200, step: ["rate-limited 4 after 3 until 61200"], wakeAt: 61200 },
    ],
  },
  {
    name: "a deletion seen during a void sharpens the cause but does not restart the clock",
    start: [[4, true]],
    script: [
      { at: 100, observe: 4, present: false },
      { at: 300, observe: 4, present: false, refine: true },
      { at: 1100, step: ["repair 4 since 100 (event at 300)"], wakeAt: null },
    ],
  },
  {
    name: "an event that is not a deletion leaves the cause of a void alone",
    start: [[4, true]],
    script: [
      { at: 100, observe: 4, present: false, refine: true },
      { at: 300, observe: 4, present: false },
      { at: 1100, step: ["repair 4 since 100 (event at 100)"], wakeAt: null },
    ],
  },
  {
    name: "a zero grace repairs at once",
    start: [[4, true]],
    config: { graceMs: 0 },
    script: [
      { at: 7, observe: 4, present: false },
      { at: 7, step: ["repair 4 since 7"], wakeAt: null },
    ],
  },
  {
    // The interface carrying the default went away; configd names the next one a moment later.
    name: "an attempt that found no gateway is not counted, and backs off 0.5 s, 1 s, 2 s ...",
    start: [[4, true]],
    config: { graceMs: 0, maxRepairs: 2 },
    script: [
      { at: 100, observe: 4, present: false },
      { at: 100, step: ["repair 4 since 100"], wakeAt: null },
      { at: 101, attempt: 4, ok: false, idle: true },
      { at: 101, step: [], wakeAt: 601 },
      { at: 601, step: ["repair 4 since 100"], wakeAt: null },
      { at: 602, attempt: 4, ok: false, idle: true },
      { at: 602, step: [], wakeAt: 1602 },
      { at: 1602, step: ["repair 4 since 100"], wakeAt: null },
      { at: 1603, attempt: 4, ok: false, idle: true },
      { at: 1603, step: [], wakeAt: 3603 },
      // Three attempts, none counted: --max-repairs 2 is not reached.
      { at: 3603, step: ["repair 4 since 100"], wakeAt: null },
      { at: 3604, attempt: 4, ok: true },
      { at: 3604, observe: 4, present: true },
      { at: 3700, step: [], wakeAt: null },
    ],
  },
  {
    name: "an interface change ends a no-gateway backoff: the next attempt goes after the grace",
    start: [[4, true]],
    config: { graceMs: 200 },
    script: [
      { at: 0, observe: 4, present: false },
      { at: 200, step: ["repair 4 since 0"], wakeAt: null },
      { at: 201, attempt: 4, ok: false, idle: true },
      { at: 202, attempt: 4, ok: false, idle: true },
      { at: 202, step: [], wakeAt: 1202 },
      { at: 300, nudge: 4 },
      { at: 300, step: [], wakeAt: 500 },
      { at: 500, step: ["repair 4 since 300"], wakeAt: null },
    ],
  },
  {
    name: "a nudge without a backoff changes nothing (the grace clock keeps running)",
    start: [[4, true]],
    script: [
      { at: 100, observe: 4, present: false },
      { at: 600, nudge: 4 },
      { at: 600, step: [], wakeAt: 1100 },
    ],
  },
  {
    name: "the backoff stops doubling at 30 s",
    start: [[4, false]],
    config: { graceMs: 0 },
    script: [
      ...Array.from(
        { length: 8 },
        (_, i) => ({ at: i, attempt: 4 as Family, ok: false, idle: true }),
      ),
      { at: 7, step: [], wakeAt: 30_007 },
    ],
  },
  {
    name: "a family not watched is ignored",
    start: [[4, true]],
    script: [
      { at: 0, observe: 6, present: false },
      { at: 5000, step: [], wakeAt: null },
    ],
  },
  {
    name: "issue 17: a void while a live tunnel holds the traffic is left alone until it goes",
    start: [[4, true]],
    script: [
      { at: 100, observe: 4, present: false, heldBy: "tun0 (0/1 + 128/1)" },
      { at: 100, step: ["held 4 by tun0 (0/1 + 128/1)"], wakeAt: 2100 },
      // Reported once; past the grace period nothing is repaired; looked at again every 2 s.
      { at: 1500, step: [], wakeAt: 2100 },
      { at: 2100, step: ["recheck 4"], wakeAt: 4100 },
      { at: 2200, observe: 4, present: false, heldBy: "tun0 (0/1 + 128/1)" },
      { at: 9000, step: ["recheck 4"], wakeAt: 11000 },
      // The tunnel went away: a fresh grace period, then the repair.
      { at: 9500, observe: 4, present: false },
      { at: 9500, step: [], wakeAt: 10500 },
      { at: 10500, step: ["repair 4 since 9500"], wakeAt: null },
    ],
  },
  {
    name: "a void that a tunnel starts holding stops its repair; another tunnel is reported anew",
    start: [[4, true]],
    config: { holdRecheckMs: 60_000 },
    script: [
      { at: 0, observe: 4, present: false },
      { at: 0, step: [], wakeAt: 1000 },
      { at: 500, observe: 4, present: false, heldBy: "utun4 (scoped default)" },
      { at: 1000, step: ["held 4 by utun4 (scoped default)"], wakeAt: 60_500 },
      { at: 2000, observe: 4, present: false, heldBy: "utun5 (scoped default)" },
      { at: 2000, step: ["held 4 by utun5 (scoped default)"], wakeAt: 62_000 },
      // A default comes back (the VPN put its own): the hold is over with the void.
      { at: 3000, observe: 4, present: true },
      { at: 3000, step: [], wakeAt: null },
    ],
  },
];

function run(c: Case): void {
  const config = { ...CONFIG, ...c.config };
  let state: HealState = initialHealState(new Map(c.start), 0);
  for (const line of c.script) {
    if ("observe" in line) {
      state = applyHealInput(state, {
        kind: "observed",
        family: line.observe,
        present: line.present,
        at: line.at,
        cause: `event at ${line.at}`,
        refine: line.refine,
        heldBy: line.heldBy ?? null,
      });
    } else if ("attempt" in line) {
      state = applyHealInput(state, {
        kind: "attempted",
        family: line.attempt,
        ok: line.ok,
        at: line.at,
        idle: line.idle,
      });
    } else if ("nudge" in line) {
      state = applyHealInput(state, { kind: "nudged", family: line.nudge, at: line.at });
    } else {
      const result = stepHeal(state, line.at, config);
      state = result.state;
      const got = result.decisions.map((d) => {
        switch (d.kind) {
          case "repair":
            return `repair ${d.family} since ${d.voidSince}${
              line.step.some((x) => x.includes("(")) ? ` (${d.cause})` : ""
            }`;
          case "rate-limited":
            return `rate-limited ${d.family} after ${d.attempts} until ${d.retryAt}`;
          case "held":
            return `held ${d.family} by ${d.heldBy}`;
          case "recheck":
            return `recheck ${d.family}`;
        }
      }).sort();
      assertEquals({ at: line.at, decisions: got, wakeAt: result.wakeAt }, {
        at: line.at,
        decisions: line.step,
        wakeAt: line.wakeAt,
      });
    }
  }
}

for (const c of CASES) {
  Deno.test(`heal policy: ${c.name}`, () => run(c));
}

Deno.test("heal policy: the repair carries the event that caused the void", () => {
  let state = initialHealState(new Map([[4, true]]), 0);
  state = applyHealInput(state, {
    kind: "observed",
    family: 4,
    present: false,
    at: 10,
    cause: "global default deleted by pid 4711 (sing-box)",
  });
  const { decisions } = stepHeal(state, 2000, CONFIG);
  assertEquals(decisions, [{
    kind: "repair",
    family: 4,
    cause: "global default deleted by pid 4711 (sing-box)",
    voidSince: 10,
  }]);
});

Deno.test("heal policy: stepping does not mutate the state it was given", () => {
  const state = initialHealState(new Map([[4, false]]), 0);
  const before = JSON.stringify([...state]);
  stepHeal(state, 100_000, { ...CONFIG, maxRepairs: 0 });
  applyHealInput(state, { kind: "attempted", family: 4, ok: false, at: 5 });
  assertEquals(JSON.stringify([...state]), before);
});
