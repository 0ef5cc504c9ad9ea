/**
 * Hand-worked golden cases for the funnel and retention modes of docs/semantics.md: `--order strict|any`,
 * `--exclude`, `--hold`, `--value` and `--cohort recurring`. Same shape as test/golden.ts, which lists
 * these with its own cases (so the brute-force test and both engines' golden suites run them).
 */
import type { EventRef, Filter, FunnelStepResult, Op } from "../src/queries/spec.js";
import type { FunnelCase, RetentionCase } from "./golden.js";

function ev(type: string, time: string, user: string, props: Record<string, unknown> = {}) {
  return { event_type: type, event_time: time, user_id: user, event_properties: props };
}
function ref(event: string, ...filters: Filter[]): EventRef {
  return { event, filters };
}
function f(key: string, op: Op, value?: string): Filter {
  return value === undefined ? { key, op } : { key, op, value };
}
const day = (d: string) => ({ from: d, to: d, tz: "UTC" });
const T = (hms: string) => `2023-06-01T${hms}Z`;

/** Step rows from users per step and medians (seconds) per step ≥ 2. */
function steps(labels: string[], users: number[], medians: (number | null)[]): FunnelStepResult[] {
  return labels.map((step, k) => ({
    step,
    users: users[k],
    conversion: users[0] ? users[k] / users[0] : 0,
    from_previous: k === 0 ? 1 : users[k - 1] ? users[k] / users[k - 1] : 0,
    median_seconds: k === 0 ? null : medians[k - 1],
  }));
}

/** With `--order any`, row k reads "any k of K" (its `step` only names the position). */
function anyOrder(rows: FunnelStepResult[]): FunnelStepResult[] {
  return rows.map((r, k) => ({ ...r, label: `any ${k + 1} of ${rows.length}` }));
}

const base = {
  kind: "funnel" as const,
  withinSeconds: 3600,
  range: day("2023-06-01"),
  filters: [],
  limit: 10,
};
const echo = { within_seconds: 3600, exclude: [] as string[], hold: null, breakdown: null };

export const funnelStrict: FunnelCase = {
  name: "funnel --order strict: one interleaved event breaks it; same-instant events and --where-filtered ones do not",
  events: [
    // u1: X at A's instant is not between → 3 steps, Δ2 300, Δ3 600
    ev("A", T("10:00:00"), "u1"),
    ev("X", T("10:00:00"), "u1"),
    ev("B", T("10:05:00"), "u1"),
    ev("C", T("10:10:00"), "u1"),
    // u2: X between A and B → step 1 only (ordered would give 3)
    ev("A", T("10:00:00"), "u2"),
    ev("X", T("10:02:00"), "u2"),
    ev("B", T("10:05:00"), "u2"),
    ev("C", T("10:10:00"), "u2"),
    // u3: X between B and C → 2 steps, Δ2 300
    ev("A", T("10:00:00"), "u3"),
    ev("B", T("10:05:00"), "u3"),
    ev("X", T("10:07:00"), "u3"),
    ev("C", T("10:10:00"), "u3"),
    // u4: C and X at B's instant → 3 steps, Δ2 300, Δ3 300
    ev("A", T("10:00:00"), "u4"),
    ev("B", T("10:05:00"), "u4"),
    ev("X", T("10:05:00"), "u4"),
    ev("C", T("10:05:00"), "u4"),
    // u5: the interleaved X is dropped by --where (internal != true) → 2 steps, Δ2 300
    ev("A", T("10:00:00"), "u5"),
    ev("X", T("10:02:00"), "u5", { internal: true }),
    ev("B", T("10:05:00"), "u5"),
  ],
  spec: {
    ...base,
    steps: [ref("A"), ref("B"), ref("C")],
    order: "strict",
    filters: [f("internal", "!=", "true")],
  },
  // users: 1 {u1..u5}=5, 2 {u1,u3,u4,u5}=4, 3 {u1,u4}=2; Δ2 all 300; Δ3 [300, 600] → 450
  expected: { ...echo, order: "strict", steps: steps(["A", "B", "C"], [5, 4, 2], [300, 450]) },
};

export const funnelAnyReverse: FunnelCase = {
  name: "funnel --order any: completing in reverse, one type twice is one step, the window from each anchor",
  events: [
    // u1: C, B, A → from the C anchor: 2 steps at +600, 3 at +1200
    ev("C", T("10:00:00"), "u1"),
    ev("B", T("10:10:00"), "u1"),
    ev("A", T("10:20:00"), "u1"),
    // u2: B twice is one distinct step → 1
    ev("B", T("10:00:00"), "u2"),
    ev("B", T("10:05:00"), "u2"),
    // u3: C is 90 minutes after A: no window holds both → 1
    ev("A", T("10:00:00"), "u3"),
    ev("C", T("11:30:00"), "u3"),
    // u4: B and A at one instant, C at the window's last second (inclusive) → Δ2 0, Δ3 3599
    ev("B", T("10:00:00"), "u4"),
    ev("A", T("10:00:00"), "u4"),
    ev("C", T("10:59:59"), "u4"),
  ],
  spec: { ...base, steps: [ref("A"), ref("B"), ref("C")], order: "any" },
  // users: 4, 2 {u1,u4}, 2; Δ2 [600, 0] → 300; Δ3 [1200, 3599] → 2399.5
  expected: { ...echo, order: "any", steps: anyOrder(steps(["A", "B", "C"], [4, 2, 2], [300, 2399.5])) },
};

export const funnelAnyOverlap: FunnelCase = {
  name: "funnel --order any: overlapping steps need a distinct event each",
  events: [
    // v1: one save click fills one of the two click steps → 1
    ev("click", T("10:00:00"), "v1", { name: "save" }),
    // v2: save then another click → both click steps, Δ2 60
    ev("click", T("10:00:00"), "v2", { name: "save" }),
    ev("click", T("10:01:00"), "v2", { name: "x" }),
    // v3: two non-save clicks fill only the plain click step → 1
    ev("click", T("10:00:00"), "v3", { name: "x" }),
    ev("click", T("10:01:00"), "v3", { name: "x" }),
    // v4: view, then two save clicks → 2 at +600, 3 at +1200
    ev("view", T("10:00:00"), "v4"),
    ev("click", T("10:10:00"), "v4", { name: "save" }),
    ev("click", T("10:20:00"), "v4", { name: "save" }),
  ],
  spec: { ...base, steps: [ref("click", f("name", "=", "save")), ref("click"), ref("view")], order: "any" },
  // users: 4, 2 {v2,v4}, 1 {v4}; Δ2 [60, 600] → 330; Δ3 1200
  expected: {
    ...echo,
    order: "any",
    steps: anyOrder(steps(["click[name=save]", "click", "view"], [4, 2, 1], [330, 1200])),
  },
};

export const funnelExcludeEdges: FunnelCase = {
  name: "funnel --exclude: at t_A is not excluded, 1 µs after is; at t_B is not; no B → until the deadline",
  events: [
    // u1: X at A's instant → kept, Δ 600
    ev("A", "2023-06-01T10:00:00.000000Z", "u1"),
    ev("X", "2023-06-01T10:00:00.000000Z", "u1"),
    ev("B", T("10:10:00"), "u1"),
    // u2: X one microsecond after A → the only attempt is discarded: not in the funnel
    ev("A", "2023-06-01T10:00:00.000000Z", "u2"),
    ev("X", "2023-06-01T10:00:00.000001Z", "u2"),
    ev("B", T("10:10:00"), "u2"),
    // u3: X at B's instant → kept, Δ 600
    ev("A", T("10:00:00"), "u3"),
    ev("B", T("10:10:00"), "u3"),
    ev("X", T("10:10:00"), "u3"),
    // u4: no B; X before the deadline 11:00 → discarded
    ev("A", T("10:00:00"), "u4"),
    ev("X", T("10:30:00"), "u4"),
    // u5: first attempt discarded like u4; the second (A at 11:00) reaches B at 11:20 → Δ 1200
    ev("A", T("10:00:00"), "u5"),
    ev("X", T("10:30:00"), "u5"),
    ev("A", T("11:00:00"), "u5"),
    ev("B", T("11:20:00"), "u5"),
    // u6: X after B → kept, Δ 600
    ev("A", T("10:00:00"), "u6"),
    ev("B", T("10:10:00"), "u6"),
    ev("X", T("10:20:00"), "u6"),
  ],
  spec: { ...base, steps: [ref("A"), ref("B")], exclude: [{ event: ref("X"), from: 1, to: 2 }] },
  // users: {u1,u3,u5,u6} at both steps; Δ [600, 600, 1200, 600] → 600
  expected: { ...echo, order: "ordered", exclude: ["X@1-2"], steps: steps(["A", "B"], [4, 4], [600]) },
};

export const funnelExcludeMiddle: FunnelCase = {
  name: "funnel --exclude X@2-3: only between steps 2 and 3, and only for attempts that reached step 2",
  events: [
    // w1: X between steps 1 and 2 is outside 2-3 → 3 steps, Δ2 600, Δ3 1200
    ev("A", T("10:00:00"), "w1"),
    ev("X", T("10:05:00"), "w1"),
    ev("B", T("10:10:00"), "w1"),
    ev("C", T("10:20:00"), "w1"),
    // w2: X between B and C → discarded
    ev("A", T("10:00:00"), "w2"),
    ev("B", T("10:10:00"), "w2"),
    ev("X", T("10:15:00"), "w2"),
    ev("C", T("10:20:00"), "w2"),
    // w3: never reached step 2, so the exclusion does not apply → step 1
    ev("A", T("10:00:00"), "w3"),
    ev("X", T("10:05:00"), "w3"),
  ],
  spec: { ...base, steps: [ref("A"), ref("B"), ref("C")], exclude: [{ event: ref("X"), from: 2, to: 3 }] },
  expected: {
    ...echo,
    order: "ordered",
    exclude: ["X@2-3"],
    steps: steps(["A", "B", "C"], [2, 1, 1], [600, 1200]),
  },
};

export const funnelHold: FunnelCase = {
  name: "funnel --hold plan: later steps carry step 1's text; unset or null on step 1 stops at step 1",
  events: [
    // h1: the free B is skipped, the pro B at 10:10 matches → Δ2 600, Δ3 1200
    ev("A", T("10:00:00"), "h1", { plan: "pro" }),
    ev("B", T("10:05:00"), "h1", { plan: "free" }),
    ev("B", T("10:10:00"), "h1", { plan: "pro" }),
    ev("C", T("10:20:00"), "h1", { plan: "pro" }),
    // h2: plan unset on step 1 → 1
    ev("A", T("10:00:00"), "h2"),
    ev("B", T("10:05:00"), "h2", { plan: "pro" }),
    // h3: the number 1 and the string "1" have the same text → Δ2 300; C's "pro" differs → 2
    ev("A", T("10:00:00"), "h3", { plan: 1 }),
    ev("B", T("10:05:00"), "h3", { plan: "1" }),
    ev("C", T("10:06:00"), "h3", { plan: "pro" }),
    // h4: JSON null is unset → 1
    ev("A", T("10:00:00"), "h4", { plan: null }),
    ev("B", T("10:05:00"), "h4", { plan: null }),
  ],
  spec: { ...base, steps: [ref("A"), ref("B"), ref("C")], hold: "plan" },
  // users 4, 2 {h1,h3}, 1 {h1}; Δ2 [600, 300] → 450; Δ3 1200
  expected: {
    ...echo,
    order: "ordered",
    hold: "plan",
    steps: steps(["A", "B", "C"], [4, 2, 1], [450, 1200]),
  },
};

export const funnelValue: FunnelCase = {
  name: "funnel --value amount: the defining attempt's values, the largest at a shared instant",
  events: [
    // v1: the attempt at 10:00 reaches B (10, 5); the later one at 10:30 does not → 10 and 5
    ev("A", T("10:00:00"), "v1", { amount: 10 }),
    ev("B", T("10:10:00"), "v1", { amount: 5 }),
    ev("A", T("10:30:00"), "v1", { amount: 100 }),
    // v2: step 1 not numeric (no value); two B at one instant → the larger, 9; Δ 1200
    ev("A", T("10:00:00"), "v2", { amount: "x" }),
    ev("B", T("10:20:00"), "v2", { amount: 7 }),
    ev("B", T("10:20:00"), "v2", { amount: 9 }),
    // v3: two A at one instant → the larger, 4
    ev("A", T("10:00:00"), "v3", { amount: 3 }),
    ev("A", T("10:00:00"), "v3", { amount: 4 }),
    // v4: neither attempt reaches B → the earliest, 1
    ev("A", T("11:00:00"), "v4", { amount: 2 }),
    ev("A", T("10:00:00"), "v4", { amount: 1 }),
  ],
  spec: { ...base, steps: [ref("A"), ref("B")], value: "amount" },
  // step 1: 10 + 4 + 1 = 15 over 3 values → 5; step 2: 5 + 9 = 14 → 7; Δ [600, 1200] → 900
  expected: {
    ...echo,
    order: "ordered",
    steps: steps(["A", "B"], [4, 2], [900]).map((s, k) => ({
      ...s,
      value: k === 0 ? { sum: 15, avg: 5 } : { sum: 14, avg: 7 },
    })),
  },
};

const D = (d: string, hms: string) => `2023-06-${d}T${hms}Z`;

export const retentionRecurring: RetentionCase = {
  name: "retention --cohort recurring: a user in three cohorts; period 0 counts RETURNs at or after that bucket's first START",
  events: [
    // r1 opens on 06-01, 06-02 and 06-03 (10:00 each)
    ev("use", D("01", "09:00:00"), "r1", { amount: 1000 }), // before every t0: counts nowhere
    ev("open", D("01", "10:00:00"), "r1"),
    ev("use", D("01", "11:00:00"), "r1", { amount: 10 }), // 06-01 n0
    ev("use", D("02", "08:00:00"), "r1", { amount: 20 }), // 06-01 n1; before 06-02's t0
    ev("open", D("02", "10:00:00"), "r1"),
    ev("open", D("03", "10:00:00"), "r1"),
    ev("use", D("04", "10:00:00"), "r1", { amount: 40 }), // 06-01 n3 (beyond), 06-02 n2, 06-03 n1
    // r2 opens on 06-02 and uses at the same instant → 06-02 n0
    ev("open", D("02", "15:00:00"), "r2"),
    ev("use", D("02", "15:00:00"), "r2", { amount: 5 }),
  ],
  spec: {
    kind: "retention",
    start: ref("open"),
    return: ref("use"),
    period: "day",
    periods: 3,
    mode: "on",
    cohort: "recurring",
    value: "amount",
    range: { from: "2023-06-01", to: "2023-06-03", tz: "UTC" },
    filters: [],
  },
  // last event 06-04 10:00: 06-01's periods all end by 06-04 00:00; 06-02's n2 ends 06-05 → 2;
  // 06-03's n1 ends 06-05 → 1. average n0 (1+1+0)/4 = 0.5; n1 (1+0)/3; n2 0/1
  expected: {
    period: "day",
    mode: "on",
    cohort: "recurring",
    cohorts: [
      {
        cohort: D("01", "00:00:00.000"),
        users: 1,
        retained: [1, 1, 0],
        incomplete_from: null,
        value: [10, 20, 0],
      },
      {
        cohort: D("02", "00:00:00.000"),
        users: 2,
        retained: [1, 0, 1],
        incomplete_from: 2,
        value: [5, 0, 40],
      },
      {
        cohort: D("03", "00:00:00.000"),
        users: 1,
        retained: [0, 1, 0],
        incomplete_from: 1,
        value: [0, 40, 0],
      },
    ],
    average: [0.5, 1 / 3, 0],
  },
};

const J = (d: string, hms = "10:00:00") => `2020-07-${d}T${hms}Z`;
const dayStart = (d: string) => J(d, "00:00:00.000");

export const retentionPostHogExample: RetentionCase = {
  name: "retention --cohort recurring: PostHog's documented example (3 visitors on 12 July, one back on day 1 and day 5)",
  events: [
    ev("pageview", J("12"), "a"),
    ev("pageview", J("12"), "b"),
    ev("pageview", J("12"), "c"),
    ev("pageview", J("13"), "a"),
    ev("pageview", J("17"), "a"),
  ],
  spec: {
    kind: "retention",
    start: ref("pageview"),
    return: ref("pageview"),
    period: "day",
    periods: 6,
    mode: "on",
    cohort: "recurring",
    range: { from: "2020-07-12", to: "2020-07-17", tz: "UTC" },
    filters: [],
  },
  // PostHog: "3 users visited on Day 0 … Day 1 33% … one of those users also visited on Day 5". a is also
  // in the 13 July and 17 July cohorts. The last event (17 July 10:00) leaves each cohort's period that
  // ends on 18 July incomplete. average: n0 (3+1)/4; n1 1/4; n2, n3 0/4; n4 0/3 (13 July incomplete); n5 none
  expected: {
    period: "day",
    mode: "on",
    cohort: "recurring",
    cohorts: [
      { cohort: dayStart("12"), users: 3, retained: [3, 1, 0, 0, 0, 1], incomplete_from: 5 },
      { cohort: dayStart("13"), users: 1, retained: [1, 0, 0, 0, 1, 0], incomplete_from: 4 },
      { cohort: dayStart("14"), users: 0, retained: [0, 0, 0, 0, 0, 0], incomplete_from: 3 },
      { cohort: dayStart("15"), users: 0, retained: [0, 0, 0, 0, 0, 0], incomplete_from: 2 },
      { cohort: dayStart("16"), users: 0, retained: [0, 0, 0, 0, 0, 0], incomplete_from: 1 },
      { cohort: dayStart("17"), users: 1, retained: [1, 0, 0, 0, 0, 0], incomplete_from: 0 },
    ],
    average: [1, 0.25, 0, 0, 0, null],
  },
};

export const funnelModeCases: FunnelCase[] = [
  funnelStrict,
  funnelAnyReverse,
  funnelAnyOverlap,
  funnelExcludeEdges,
  funnelExcludeMiddle,
  funnelHold,
  funnelValue,
];
/**
 * `--breakdown plan --limit 1`: the value is the START event's that put the user in the cohort.
 * u5's first open (pro) counts, not the later one (free); u3 has two opens at one instant (pro, basic):
 * the least text, basic. Users per value: pro 2 (u1, u5), free 1, basic 1 → top 1 is pro, (other) is
 * u2 + u3, (none) is u4. Last event 06-02 13:00: cohort 06-01 is complete at n0 only, 06-02 at none.
 */
export const retentionBreakdown: RetentionCase = {
  name: "retention --breakdown: the first START's value, least text at one instant, top 1 + (other) + (none)",
  events: [
    ev("open", D("01", "08:00:00"), "u5", { plan: "pro" }),
    ev("open", D("01", "09:00:00"), "u5", { plan: "free" }),
    ev("open", D("01", "10:00:00"), "u1", { plan: "pro" }),
    ev("open", D("02", "10:00:00"), "u1", { plan: "pro" }),
    ev("open", D("01", "11:00:00"), "u2", { plan: "free" }),
    ev("open", D("01", "12:00:00"), "u3", { plan: "pro" }),
    ev("open", D("01", "12:00:00"), "u3", { plan: "basic" }),
    ev("open", D("02", "13:00:00"), "u3", {}),
    ev("open", D("02", "09:00:00"), "u4", {}),
  ],
  spec: {
    kind: "retention",
    start: ref("open"),
    return: ref("*"),
    period: "day",
    periods: 2,
    mode: "on",
    range: { from: "2023-06-01", to: "2023-06-02", tz: "UTC" },
    filters: [],
    breakdown: "plan",
    limit: 1,
  },
  expected: {
    period: "day",
    mode: "on",
    cohort: "first",
    cohorts: [
      { cohort: D("01", "00:00:00.000"), users: 4, retained: [4, 2], incomplete_from: 1 },
      { cohort: D("02", "00:00:00.000"), users: 1, retained: [1, 0], incomplete_from: 0 },
    ],
    average: [1, null],
    breakdown: [
      {
        value: "pro",
        cohorts: [
          { cohort: D("01", "00:00:00.000"), users: 2, retained: [2, 1], incomplete_from: 1 },
          { cohort: D("02", "00:00:00.000"), users: 0, retained: [0, 0], incomplete_from: 0 },
        ],
        average: [1, null],
      },
      {
        value: "(other)",
        cohorts: [
          { cohort: D("01", "00:00:00.000"), users: 2, retained: [2, 1], incomplete_from: 1 },
          { cohort: D("02", "00:00:00.000"), users: 0, retained: [0, 0], incomplete_from: 0 },
        ],
        average: [1, null],
      },
      {
        value: "(none)",
        cohorts: [
          { cohort: D("01", "00:00:00.000"), users: 0, retained: [0, 0], incomplete_from: 1 },
          { cohort: D("02", "00:00:00.000"), users: 1, retained: [1, 0], incomplete_from: 0 },
        ],
        average: [null, null],
      },
    ],
  },
};

export const retentionModeCases: RetentionCase[] = [
  retentionRecurring,
  retentionPostHogExample,
  retentionBreakdown,
];
