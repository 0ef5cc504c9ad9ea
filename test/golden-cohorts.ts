/**
 * Hand-worked golden cases for cohorts (docs/semantics.md, "Cohorts"): `--where cohort=NAME` and
 * `cohort!=NAME` with behavioural definitions (at least N, did not, the last D of the data, a fixed
 * window, did-not only) and `--breakdown cohort:NAME` on a trend and a retention. The definitions ride
 * in the specs (as the store would fill them), so the brute force and both engines read the same.
 *
 * Data (UTC, last event 06-03 20:00, so `--in 1d` is [06-02 20:01, 06-03 20:01)):
 *   u1: buy 06-01 10:00, buy 06-02 10:00, open 06-03 09:00
 *   u2: buy 06-01 11:00, open 06-01 12:00, refund 06-02 12:00
 *   u3: open 06-01 09:00, open 06-02 09:00
 *   u4: buy 06-03 20:00
 *   u5: open 06-03 10:00, buy[plan=pro] 06-03 11:00, buy[plan=pro] 06-03 12:00
 * Cohorts: repeat (buy ≥ 2) = u1, u5; recent (buy in the last 1d) = u4, u5; kept (buy, no refund) =
 * u1, u4, u5; never (did not buy) = u3 (every user with an event, less the buyers); pro2 (buy[plan=pro]
 * ≥ 2 on 06-03) = u5.
 */
import type { CohortDef, CohortRef, Filter, TrendPoint } from "../src/queries/spec.js";
import type { FunnelCase, RetentionCase, TrendCase } from "./golden.js";

function ev(type: string, time: string, user: string, props: Record<string, unknown> = {}) {
  return { event_type: type, event_time: time, user_id: user, event_properties: props };
}
const T = (d: string, hm: string) => `2023-06-${d}T${hm}:00Z`;
const ref = (event: string, ...filters: Filter[]) => ({ event, filters });

const events = [
  ev("buy", T("01", "10:00"), "u1"),
  ev("buy", T("02", "10:00"), "u1"),
  ev("open", T("03", "09:00"), "u1"),
  ev("buy", T("01", "11:00"), "u2"),
  ev("open", T("01", "12:00"), "u2"),
  ev("refund", T("02", "12:00"), "u2"),
  ev("open", T("01", "09:00"), "u3"),
  ev("open", T("02", "09:00"), "u3"),
  ev("buy", T("03", "20:00"), "u4"),
  ev("open", T("03", "10:00"), "u5"),
  ev("buy", T("03", "11:00"), "u5", { plan: "pro" }),
  ev("buy", T("03", "12:00"), "u5", { plan: "pro" }),
];

const did = (event: string, atLeast = 1, extra: Partial<CohortDef> = {}) => ({
  did: true,
  event: ref(event),
  atLeast,
  ...extra,
});
const defs: Record<string, CohortDef> = {
  repeat: { kind: "behavioural", conditions: [did("buy", 2)] },
  recent: {
    kind: "behavioural",
    conditions: [{ did: true, event: ref("buy"), atLeast: 1, window: { kind: "last", seconds: 86_400 } }],
  },
  kept: {
    kind: "behavioural",
    conditions: [did("buy"), { did: false, event: ref("refund"), atLeast: 1 }],
  },
  never: { kind: "behavioural", conditions: [{ did: false, event: ref("buy"), atLeast: 1 }] },
  pro2: {
    kind: "behavioural",
    conditions: [
      {
        did: true,
        event: ref("buy", { key: "plan", op: "=", value: "pro" }),
        atLeast: 2,
        window: { kind: "range", range: { from: "2023-06-03", to: "2023-06-03", tz: "UTC" } },
      },
    ],
  },
};
const cohort = (name: string): CohortRef => ({ name, def: defs[name] });
const inCohort = (name: string, op: "=" | "!=" = "="): Filter => ({
  key: "cohort",
  op,
  value: name,
  cohort: cohort(name),
});

const range = { from: "2023-06-01", to: "2023-06-03", tz: "UTC" };
const DAYS = ["2023-06-01T00:00:00.000Z", "2023-06-02T00:00:00.000Z", "2023-06-03T00:00:00.000Z"];
const pts = (values: number[]): TrendPoint[] => DAYS.map((t, i) => ({ t, value: values[i] }));
const trendBase = {
  kind: "trend" as const,
  events: [ref("open")],
  measure: { kind: "users" as const },
  interval: "day" as const,
  range,
  limit: 10,
};

const cohortWhereRepeat: TrendCase = {
  name: "cohort=NAME: at least 2 buys (u1, u5) → their opens only",
  events,
  spec: { ...trendBase, filters: [inCohort("repeat")] },
  expected: {
    interval: "day",
    measure: "users",
    series: [{ event: "open", breakdown: null, points: pts([0, 0, 2]), total: 2 }],
  },
};

const cohortNotKept: TrendCase = {
  name: "cohort!=NAME: did buy and did not refund (u1, u4, u5) → the others' opens (u2, u3)",
  events,
  spec: { ...trendBase, filters: [inCohort("kept", "!=")] },
  expected: {
    interval: "day",
    measure: "users",
    series: [{ event: "open", breakdown: null, points: pts([2, 1, 0]), total: 2 }],
  },
};

const cohortNever: TrendCase = {
  name: "cohort=NAME with only --did-not: every user with an event but the buyers (u3)",
  events,
  spec: { ...trendBase, filters: [inCohort("never")] },
  expected: {
    interval: "day",
    measure: "users",
    series: [{ event: "open", breakdown: null, points: pts([1, 1, 0]), total: 1 }],
  },
};

const cohortRangeFilter: TrendCase = {
  name: "cohort=NAME with an event filter, at least 2, a fixed window (u5), on the event's own filter",
  events,
  spec: {
    ...trendBase,
    events: [ref("open", inCohort("pro2"))],
    measure: { kind: "events" },
    filters: [],
  },
  expected: {
    interval: "day",
    measure: "events",
    series: [{ event: "open[cohort=pro2]", breakdown: null, points: pts([0, 0, 1]), total: 1 }],
  },
};

const cohortBreakdownTrend: TrendCase = {
  name: "--breakdown cohort:NAME on a trend: the last 1d's buyers (u4, u5) and the others",
  events,
  spec: { ...trendBase, filters: [], cohortBreakdown: [cohort("recent")] },
  expected: {
    interval: "day",
    measure: "users",
    series: [
      { event: "open", breakdown: "recent", points: pts([0, 0, 1]), total: 1 },
      { event: "open", breakdown: "not recent", points: pts([2, 1, 1]), total: 3 },
    ],
  },
};

/** u1's open comes after both buys (step 1 only); u5 opens at 10:00 and buys at 11:00. */
const cohortFunnel: FunnelCase = {
  name: "cohort=NAME on a funnel: the kept buyers' opens and buys",
  events,
  spec: {
    kind: "funnel",
    steps: [ref("open"), ref("buy")],
    withinSeconds: 86_400,
    range,
    filters: [inCohort("kept")],
    limit: 10,
  },
  expected: {
    within_seconds: 86_400,
    order: "ordered",
    exclude: [],
    hold: null,
    breakdown: null,
    steps: [
      { step: "open", users: 2, conversion: 1, from_previous: 1, median_seconds: null },
      { step: "buy", users: 1, conversion: 0.5, from_previous: 0.5, median_seconds: 3600 },
    ],
  },
};

/**
 * Retention open → buy by day, `--breakdown cohort:repeat`. Cohorts: 06-01 u3 (09:00), u2 (12:00; its
 * buy at 11:00 is before); 06-03 u1 (09:00; buys before), u5 (10:00, buys 11:00 → n0). Last event
 * 06-03 20:00: 06-01 complete, 06-02 from 1, 06-03 from 0. repeat = u1, u5; not repeat = u2, u3.
 */
const cohortRetention: RetentionCase = {
  name: "--breakdown cohort:NAME on retention: a table for the cohort's users, one for the others",
  events,
  spec: {
    kind: "retention",
    start: ref("open"),
    return: ref("buy"),
    period: "day",
    periods: 2,
    mode: "on",
    range,
    filters: [],
    cohortBreakdown: [cohort("repeat")],
  },
  expected: {
    period: "day",
    mode: "on",
    cohort: "first",
    cohorts: [
      { cohort: DAYS[0], users: 2, retained: [0, 0], incomplete_from: null },
      { cohort: DAYS[1], users: 0, retained: [0, 0], incomplete_from: 1 },
      { cohort: DAYS[2], users: 2, retained: [1, 0], incomplete_from: 0 },
    ],
    average: [0, 0],
    breakdown: [
      {
        value: "repeat",
        cohorts: [
          { cohort: DAYS[0], users: 0, retained: [0, 0], incomplete_from: null },
          { cohort: DAYS[1], users: 0, retained: [0, 0], incomplete_from: 1 },
          { cohort: DAYS[2], users: 2, retained: [1, 0], incomplete_from: 0 },
        ],
        average: [null, null],
      },
      {
        value: "not repeat",
        cohorts: [
          { cohort: DAYS[0], users: 2, retained: [0, 0], incomplete_from: null },
          { cohort: DAYS[1], users: 0, retained: [0, 0], incomplete_from: 1 },
          { cohort: DAYS[2], users: 0, retained: [0, 0], incomplete_from: 0 },
        ],
        average: [0, 0],
      },
    ],
  },
};

export const cohortTrendCases: TrendCase[] = [
  cohortWhereRepeat,
  cohortNotKept,
  cohortNever,
  cohortRangeFilter,
  cohortBreakdownTrend,
];
export const cohortFunnelCases: FunnelCase[] = [cohortFunnel];
export const cohortRetentionCases: RetentionCase[] = [cohortRetention];
