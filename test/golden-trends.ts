/**
 * Hand-worked golden cases of issue #27's trend rules (docs/semantics.md, "Trend": order statistics,
 * "Rolling and cumulative", "Formulas"). Each expected value is worked out in the comments.
 */
import type { EventRef, TrendPoint, TrendSpec } from "../src/queries/spec.js";
import type { TrendCase } from "./golden.js";

function ev(
  event_type: string,
  event_time: string,
  user_id: string,
  event_properties: Record<string, unknown> = {},
) {
  return { event_type, event_time, user_id, event_properties };
}
const ref = (event: string): EventRef => ({ event, filters: [] });
const DAYS3 = ["2023-06-01T00:00:00.000Z", "2023-06-02T00:00:00.000Z", "2023-06-03T00:00:00.000Z"];
const DAYS4 = [...DAYS3, "2023-06-04T00:00:00.000Z"];
function points(ts: string[], values: number[]): TrendPoint[] {
  return ts.map((t, i) => ({ t, value: values[i] }));
}
const base = (t: Partial<TrendSpec>): TrendSpec => ({
  kind: "trend",
  events: [ref("api")],
  measure: { kind: "events" },
  interval: "day",
  range: { from: "2023-06-01", to: "2023-06-03", tz: "UTC" },
  filters: [],
  limit: 10,
  ...t,
});

/** Latencies with ties, text, an infinity and an unset key. */
const latencyEvents = [
  ev("api", "2023-06-01T01:00:00Z", "u1", { ms: 9 }),
  ev("api", "2023-06-01T02:00:00Z", "u1", { ms: 2 }),
  ev("api", "2023-06-01T03:00:00Z", "u2", { ms: "2" }), // numeric text counts
  ev("api", "2023-06-01T04:00:00Z", "u2", { ms: 1 }),
  ev("api", "2023-06-01T05:00:00Z", "u3", { ms: "abc" }), // not a number: left out
  ev("api", "2023-06-01T06:00:00Z", "u3", { ms: "inf" }), // not finite: left out
  ev("api", "2023-06-01T07:00:00Z", "u3"), // unset: left out
  ev("api", "2023-06-02T01:00:00Z", "u1", { ms: 5 }),
  ev("api", "2023-06-04T01:00:00Z", "u1", { ms: 1000 }), // after the range
];

const statCase = (stat: "p90" | "median" | "min" | "max", day1: number, total: number): TrendCase => ({
  name: `trend: ${stat}:ms, ties, text, inf and unset left out, 0 for an empty bucket`,
  events: latencyEvents,
  spec: base({ measure: { kind: "stat", stat, key: "ms" } }),
  expected: {
    interval: "day",
    measure: `${stat}:ms`,
    series: [{ event: "api", breakdown: null, points: points(DAYS3, [day1, 5, 0]), total }],
  },
});

// day 1 sorted [1, 2, 2, 9]; day 2 [5]; day 3 none; the range [1, 2, 2, 5, 9].
// p90: day 1 h = 3 × 0.9 = 2.7 → 2 × 0.3 + 9 × 0.7 = 6.9; range h = 4 × 0.9 = 3.6 → 5 × 0.4 + 9 × 0.6 = 7.4.
// median: day 1 h = 1.5 → 2 × 0.5 + 2 × 0.5 = 2; range h = 2 → 2.
/** The doc's interpolation in doubles: lo × (1 − d) + hi × d, d = (n − 1) × level − ⌊…⌋ (6.9 is 6.900000000000001). */
const lerp = (lo: number, hi: number, n: number, level: number) => {
  const h = (n - 1) * level;
  const d = h - Math.floor(h);
  return lo * (1 - d) + hi * d;
};
const statCases = [
  statCase("p90", lerp(2, 9, 4, 0.9), lerp(5, 9, 5, 0.9)),
  statCase("median", 2, 2),
  statCase("min", 1, 1),
  statCase("max", 9, 9),
];

// events per user: day 1 u1 3, u2 1, u3 1 → [1, 1, 3]: h = 2 × 0.9 = 1.8 → 1 × 0.2 + 3 × 0.8 = 2.6;
// day 2 u1 2 → 2; day 3 none → 0; range u1 5, u2 1, u3 1 → 1 × 0.2 + 5 × 0.8 = 4.2.
const perUserP90: TrendCase = {
  name: "trend: per-user:p90, the 90th percentile of events per user",
  events: [
    ev("api", "2023-06-01T01:00:00Z", "u1"),
    ev("api", "2023-06-01T02:00:00Z", "u1"),
    ev("api", "2023-06-01T03:00:00Z", "u1"),
    ev("api", "2023-06-01T04:00:00Z", "u2"),
    ev("api", "2023-06-01T05:00:00Z", "u3"),
    ev("api", "2023-06-02T01:00:00Z", "u1"),
    ev("api", "2023-06-02T02:00:00Z", "u1"),
    ev("other", "2023-06-02T02:00:00Z", "u2"), // another event
  ],
  spec: base({ measure: { kind: "per-user-stat", stat: "p90" } }),
  expected: {
    interval: "day",
    measure: "per-user:p90",
    series: [
      {
        event: "api",
        breakdown: null,
        points: points(DAYS3, [lerp(1, 3, 3, 0.9), 2, 0]),
        total: lerp(1, 5, 3, 0.9),
      },
    ],
  },
};

/** u1 on days 1 and 3, u2 on day 2, u3 on days 2 and 3, nobody on day 4; u4 before the range. */
const activeEvents = [
  ev("open", "2023-05-31T12:00:00Z", "u4"), // before the range: never counts
  ev("open", "2023-06-01T08:00:00Z", "u1"),
  ev("open", "2023-06-01T09:00:00Z", "u1"),
  ev("open", "2023-06-02T08:00:00Z", "u2"),
  ev("open", "2023-06-02T09:00:00Z", "u3"),
  ev("open", "2023-06-03T08:00:00Z", "u1"),
  ev("open", "2023-06-03T09:00:00Z", "u3"),
];
const activeSpec = base({
  events: [ref("open")],
  measure: { kind: "users" },
  range: { from: "2023-06-01", to: "2023-06-04", tz: "UTC" },
});

// daily users 1, 2, 2, 0. Two-day windows: d1 {u1} 1; d1–d2 {u1, u2, u3} 3; d2–d3 {u2, u3, u1} 3;
// d3–d4 {u1, u3} 2 (not 2 + 2 = 4: distinct users of the window). Total: distinct over the range, 3.
const rollingUsers: TrendCase = {
  name: "trend: --rolling 2d users: distinct users of the window, not a sum of dailies",
  events: activeEvents,
  spec: { ...activeSpec, rollingSeconds: 2 * 86_400 },
  expected: {
    interval: "day",
    measure: "users",
    window: "rolling 2d",
    series: [{ event: "open", breakdown: null, points: points(DAYS4, [1, 3, 3, 2]), total: 3 }],
  },
};

// events per day 2, 2, 2, 0 → two-day windows 2, 4, 4, 2
const rollingEvents: TrendCase = {
  name: "trend: --rolling 2d events",
  events: activeEvents,
  spec: { ...activeSpec, measure: { kind: "events" }, rollingSeconds: 2 * 86_400 },
  expected: {
    interval: "day",
    measure: "events",
    window: "rolling 2d",
    series: [{ event: "open", breakdown: null, points: points(DAYS4, [2, 4, 4, 2]), total: 6 }],
  },
};

// users seen so far: {u1} 1, {u1, u2, u3} 3, 3, 3
const cumulativeUsers: TrendCase = {
  name: "trend: --cumulative users: distinct users seen since the range start",
  events: activeEvents,
  spec: { ...activeSpec, cumulative: true },
  expected: {
    interval: "day",
    measure: "users",
    window: "cumulative",
    series: [{ event: "open", breakdown: null, points: points(DAYS4, [1, 3, 3, 3]), total: 3 }],
  },
};

/** Errors over opens, with plans: pro, free, and an unset plan on an open. */
const rateEvents = [
  ev("error", "2023-06-01T01:00:00Z", "u1", { plan: "pro" }),
  ev("error", "2023-06-02T01:00:00Z", "u2", { plan: "free" }),
  ev("error", "2023-06-02T02:00:00Z", "u2", { plan: "free" }),
  ev("open", "2023-06-01T00:00:00Z", "u1", { plan: "pro" }),
  ev("open", "2023-06-01T00:10:00Z", "u1", { plan: "pro" }),
  ev("open", "2023-06-01T00:20:00Z", "u2", { plan: "free" }),
  ev("open", "2023-06-01T00:30:00Z", "u2", { plan: "free" }),
  ev("open", "2023-06-03T00:00:00Z", "u1", { plan: "pro" }),
  ev("open", "2023-06-03T00:10:00Z", "u3"),
];
const rateSpec = base({ events: [ref("error"), ref("open")], formula: "A/B*100" });

// A = 1, 2, 0 (total 3); B = 4, 0, 2 (total 6) → 25, 2/0 = null, 0/2 = 0; total 3/6 × 100 = 50
const formulaRate: TrendCase = {
  name: "trend: --formula A/B*100, a division by zero is null",
  events: rateEvents,
  spec: rateSpec,
  expected: {
    interval: "day",
    measure: "events",
    series: [
      { event: "error", breakdown: null, points: points(DAYS3, [1, 2, 0]), total: 3 },
      { event: "open", breakdown: null, points: points(DAYS3, [4, 0, 2]), total: 6 },
    ],
    formula: {
      text: "A/B*100",
      series: [
        {
          breakdown: null,
          points: [
            { t: DAYS3[0], value: 25 },
            { t: DAYS3[1], value: null },
            { t: DAYS3[2], value: 0 },
          ],
          total: 50,
        },
      ],
    },
  },
};

// Top value (limit 1) by A's totals: free 2 > pro 1 → free. Every series splits on it:
// A·free 0, 2, 0 (2); A·(other) = pro 1, 0, 0 (1); A·(none) 0, 0, 0 (0: B has an unset plan);
// B·free 2, 0, 0 (2); B·(other) = pro 2, 0, 1 (3); B·(none) 0, 0, 1 (1).
// Formula: free 0/2 = 0, 2/0 null, 0/0 null, total 100; (other) 50, null, 0/1 = 0, total 100/3;
// (none) null, null, 0, total 0/1 = 0.
const formulaBreakdown: TrendCase = {
  name: "trend: --formula with --breakdown: A's top values split every series, one formula series per value",
  events: rateEvents,
  spec: { ...rateSpec, breakdown: "plan", limit: 1 },
  expected: {
    interval: "day",
    measure: "events",
    series: [
      { event: "error", breakdown: "free", points: points(DAYS3, [0, 2, 0]), total: 2 },
      { event: "error", breakdown: "(other)", points: points(DAYS3, [1, 0, 0]), total: 1 },
      { event: "error", breakdown: "(none)", points: points(DAYS3, [0, 0, 0]), total: 0 },
      { event: "open", breakdown: "free", points: points(DAYS3, [2, 0, 0]), total: 2 },
      { event: "open", breakdown: "(other)", points: points(DAYS3, [2, 0, 1]), total: 3 },
      { event: "open", breakdown: "(none)", points: points(DAYS3, [0, 0, 1]), total: 1 },
    ],
    formula: {
      text: "A/B*100",
      series: [
        {
          breakdown: "free",
          points: [
            { t: DAYS3[0], value: 0 },
            { t: DAYS3[1], value: null },
            { t: DAYS3[2], value: null },
          ],
          total: 100,
        },
        {
          breakdown: "(other)",
          points: [
            { t: DAYS3[0], value: 50 },
            { t: DAYS3[1], value: null },
            { t: DAYS3[2], value: 0 },
          ],
          total: (1 / 3) * 100,
        },
        {
          breakdown: "(none)",
          points: [
            { t: DAYS3[0], value: null },
            { t: DAYS3[1], value: null },
            { t: DAYS3[2], value: 0 },
          ],
          total: 0,
        },
      ],
    },
  },
};

export const trend27Cases: TrendCase[] = [
  ...statCases,
  perUserP90,
  rollingUsers,
  rollingEvents,
  cumulativeUsers,
  formulaRate,
  formulaBreakdown,
];
