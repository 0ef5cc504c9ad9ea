/**
 * Hand-worked golden cases for docs/semantics.md, as data.
 *
 * Each case is `{ name, events, spec, expected }`: `events` are raw lake lines (objects in the lake's
 * JSON-lines format, or a string for a raw/malformed line), `expected` was worked out by hand (the
 * reasoning is in the comments). test/brute.test.ts checks the brute-force reference against these;
 * the DuckDB engine tests can write the same events into a lake (`goldenLakeFiles`), sync, run the spec
 * and compare to `expected` (floats: compare with a tolerance; sums may be added in another order).
 *
 * For retention and `--last`, "the last event in the whole cache" is the latest valid event of the case.
 * A case may also carry `resolved` (its range as the result states it, worked out by hand) and `last`
 * (`--last` in seconds: runners resolve the range with `caseSpec`).
 */

import { expandCohortTrend, labelCohortTrend } from "../src/queries/cohorts.js";
import type {
  CatalogResult,
  CatalogSpec,
  DateRange,
  EventRef,
  Filter,
  FunnelResult,
  FunnelSpec,
  Op,
  RetentionSpec,
  TrendPoint,
  TrendResult,
  TrendSpec,
} from "../src/queries/spec.js";
import {
  type BruteEvent,
  type BruteRetentionResult,
  bruteCatalog,
  bruteFunnel,
  bruteLastRange,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  parseLine,
} from "./brute.js";
import { bindSpecCohorts } from "./brute-cohorts.js";
import { cohortFunnelCases, cohortRetentionCases, cohortTrendCases } from "./golden-cohorts.js";
import { funnelModeCases, retentionModeCases } from "./golden-modes.js";
import { trend27Cases } from "./golden-trends.js";
import { timeToConvertCases } from "./golden-ttc.js";

/** A lake line: an object (serialised with JSON.stringify) or a raw line written as-is. */
export type RawEvent = Record<string, unknown> | string;

interface Base {
  name: string;
  events: RawEvent[];
  /**
   * `--last` in seconds: the runner replaces `spec.range` by the last `last` seconds of the case's
   * cache (`spec.range.tz` is kept; its `from`/`to` are placeholders).
   */
  last?: number;
  /** The resolved range, worked out by hand: ISO instants, `to` exclusive. */
  resolved?: { from: string; to: string };
}
export interface CatalogCase extends Base {
  spec: CatalogSpec & { range: DateRange };
  expected: CatalogResult;
}
export interface TrendCase extends Base {
  spec: TrendSpec;
  expected: TrendResult;
}
export interface FunnelCase extends Base {
  spec: FunnelSpec;
  expected: FunnelResult;
}
export interface RetentionCase extends Base {
  spec: RetentionSpec;
  /** `average[n]` may be null (no complete cohort), see BruteRetentionResult. */
  expected: BruteRetentionResult;
}
export type GoldenCase = CatalogCase | TrendCase | FunnelCase | RetentionCase;

/* ---------- builders ---------- */

function ev(
  event_type: string,
  event_time: string,
  user_id: string,
  event_properties: Record<string, unknown> = {},
) {
  return { event_type, event_time, user_id, event_properties };
}
function ref(event: string, ...filters: Filter[]): EventRef {
  return { event, filters };
}
function f(key: string, op: Op, value?: string | string[]): Filter {
  return value === undefined ? { key, op } : { key, op, value };
}
function range(from: string, to: string, tz = "UTC"): DateRange {
  return { from, to, tz };
}
function points(ts: string[], values: number[]): TrendPoint[] {
  if (ts.length !== values.length) throw new Error("points: length mismatch");
  return ts.map((t, i) => ({ t, value: values[i] }));
}
/** `n` hourly points from `start`, all 0 except `nonzero[index]`. */
function hourly(start: string, n: number, nonzero: Record<number, number>): TrendPoint[] {
  const t0 = Date.parse(start);
  return Array.from({ length: n }, (_, i) => ({
    t: new Date(t0 + i * 3_600_000).toISOString(),
    value: nonzero[i] ?? 0,
  }));
}
const DAYS_0601_0603 = ["2023-06-01T00:00:00.000Z", "2023-06-02T00:00:00.000Z", "2023-06-03T00:00:00.000Z"];

/* ====================================================================================== */
/* Catalog                                                                                  */
/* ====================================================================================== */

const catalogBasic: CatalogCase = {
  name: "catalog: range boundaries, +02:00 offset, ms truncation, sort ties by name",
  events: [
    ev("a", "2023-06-01T10:00:00Z", "u1"),
    ev("a", "2023-06-01T11:00:00.123456Z", "u2"),
    ev("a", "2023-06-02T23:59:59.999999Z", "u1"), // last instant of the range; reported as .999
    ev("b", "2023-06-02T00:00:00Z", "u1"),
    ev("b", "2023-06-02T05:00:00Z", "u3"),
    ev("b", "2023-06-02T06:00:00Z", "u3"),
    ev("c", "2023-05-31T23:59:59.999999Z", "u4"), // before the range
    ev("c", "2023-06-03T00:00:00Z", "u4"), // first instant after the range
    ev("d", "2023-06-01T12:00:00+02:00", "u5"), // = 10:00Z
  ],
  spec: { kind: "catalog", range: range("2023-06-01", "2023-06-02") },
  // a: 3 rows, users {u1,u2}; b: 3 rows, users {u1,u3}; tie on 3 → a before b; d: 1. c is outside.
  expected: {
    events: [
      {
        event_type: "a",
        events: 3,
        users: 2,
        first_seen: "2023-06-01T10:00:00.000Z",
        last_seen: "2023-06-02T23:59:59.999Z",
      },
      {
        event_type: "b",
        events: 3,
        users: 2,
        first_seen: "2023-06-02T00:00:00.000Z",
        last_seen: "2023-06-02T06:00:00.000Z",
      },
      {
        event_type: "d",
        events: 1,
        users: 1,
        first_seen: "2023-06-01T10:00:00.000Z",
        last_seen: "2023-06-01T10:00:00.000Z",
      },
    ],
  },
};

const catalogNewYork: CatalogCase = {
  name: "catalog: America/New_York day range (EDT, UTC-4)",
  // range 2023-06-01 in New York = [2023-06-01T04:00Z, 2023-06-02T04:00Z)
  events: [
    ev("x", "2023-06-01T03:59:59Z", "u1"), // May 31 23:59:59 local → out
    ev("x", "2023-06-01T04:00:00Z", "u1"), // local midnight → in
    ev("x", "2023-06-02T03:59:59.5Z", "u2"), // local 23:59:59.5 → in
    ev("y", "2023-06-02T04:00:00Z", "u3"), // June 2 local midnight → out
    ev("y", "2023-06-01T12:00:00-04:00", "u3"), // = 16:00Z → in
  ],
  spec: { kind: "catalog", range: range("2023-06-01", "2023-06-01", "America/New_York") },
  expected: {
    events: [
      {
        event_type: "x",
        events: 2,
        users: 2,
        first_seen: "2023-06-01T04:00:00.000Z",
        last_seen: "2023-06-02T03:59:59.500Z",
      },
      {
        event_type: "y",
        events: 1,
        users: 1,
        first_seen: "2023-06-01T16:00:00.000Z",
        last_seen: "2023-06-01T16:00:00.000Z",
      },
    ],
  },
};

const catalogSkips: CatalogCase = {
  name: "catalog: invalid lines are skipped, numeric user_id, offset with fraction",
  events: [
    { event_type: "ok", event_time: "2023-06-01T00:00:00Z", user_id: "u1" }, // no properties: fine
    "",
    "   ",
    "not json",
    "[1,2]",
    '"a string"',
    { event_type: "ok", event_time: "nope", user_id: "u1" },
    { event_type: "ok", event_time: "2023-06-01T00:00:00Z" }, // no user_id
    { event_type: "", event_time: "2023-06-01T00:00:00Z", user_id: "u1" }, // empty event_type
    { event_type: "ok", event_time: "2023-02-30T00:00:00Z", user_id: "u2" }, // no such date
    { event_type: "ok", event_time: "2023-06-01T03:00:00.5+02:00", user_id: "u3", event_properties: {} }, // 01:00:00.5Z
    { event_type: "ok", event_time: "2023-06-01T02:00:00Z", user_id: 42 }, // user "42"
  ],
  spec: { kind: "catalog", range: range("2023-06-01", "2023-06-01") },
  // valid: u1 00:00, u3 01:00:00.5, "42" 02:00 → 3 rows, 3 users
  expected: {
    events: [
      {
        event_type: "ok",
        events: 3,
        users: 3,
        first_seen: "2023-06-01T00:00:00.000Z",
        last_seen: "2023-06-01T02:00:00.000Z",
      },
    ],
  },
};

const catalogEmpty: CatalogCase = {
  name: "catalog: nothing in range",
  events: [ev("a", "2023-05-01T00:00:00Z", "u1")],
  spec: { kind: "catalog", range: range("2023-06-01", "2023-06-30") },
  expected: { events: [] },
};

const catalogSkippedRepeatedEnds: CatalogCase = {
  name: "catalog: local date-time ends in Europe/Berlin, a skipped `from` and a repeated `to`",
  // from 2023-03-26T02:30 does not exist (02:00 CET → 03:00 CEST): read with the offset before the
  // change (+01:00) → 01:30Z (= 03:30 CEST). to 2023-10-29T02:30 exists twice (00:30Z CEST, 01:30Z
  // CET): its second occurrence → 01:30Z, exclusive. Range [03-26T01:30Z, 10-29T01:30Z).
  events: [
    ev("x", "2023-03-26T01:29:59Z", "u1"), // 03:29:59 CEST → out
    ev("x", "2023-03-26T01:30:00Z", "u1"), // 03:30 CEST → in, first_seen
    ev("x", "2023-06-15T12:00:00Z", "u2"),
    ev("x", "2023-10-29T00:30:00Z", "u2"), // 02:30 CEST, the first occurrence → in
    ev("x", "2023-10-29T01:29:59.999Z", "u3"), // 02:29:59.999 CET → in, last_seen
    ev("x", "2023-10-29T01:30:00Z", "u4"), // 02:30 CET = `to` → out
  ],
  spec: { kind: "catalog", range: range("2023-03-26T02:30", "2023-10-29T02:30", "Europe/Berlin") },
  resolved: { from: "2023-03-26T01:30:00.000Z", to: "2023-10-29T01:30:00.000Z" },
  expected: {
    events: [
      {
        event_type: "x",
        events: 4,
        users: 3,
        first_seen: "2023-03-26T01:30:00.000Z",
        last_seen: "2023-10-29T01:29:59.999Z",
      },
    ],
  },
};

const catalogInstants: CatalogCase = {
  name: "catalog: ISO instant ends (…Z) are themselves, `to` exclusive, whatever the zone",
  events: [
    ev("x", "2023-06-01T10:00:00.499999Z", "u1"), // before `from` → out
    ev("x", "2023-06-01T10:00:00.5Z", "u1"), // = `from` → in
    ev("x", "2023-06-01T11:59:59.999999Z", "u2"), // last µs before `to` → in
    ev("x", "2023-06-01T12:00:00Z", "u3"), // = `to` → out
  ],
  spec: { kind: "catalog", range: range("2023-06-01T10:00:00.500Z", "2023-06-01T12:00:00Z", "Asia/Tokyo") },
  resolved: { from: "2023-06-01T10:00:00.500Z", to: "2023-06-01T12:00:00.000Z" },
  expected: {
    events: [
      {
        event_type: "x",
        events: 2,
        users: 2,
        first_seen: "2023-06-01T10:00:00.500Z",
        last_seen: "2023-06-01T11:59:59.999Z",
      },
    ],
  },
};

/* ====================================================================================== */
/* Trend                                                                                    */
/* ====================================================================================== */

/** Purchases with a `plan` property: pro ×3, free ×2, team ×1, enterprise ×1, unset/null ×2. */
const planEvents: RawEvent[] = [
  ev("purchase", "2023-06-01T10:00:00Z", "u1", { plan: "pro" }),
  ev("purchase", "2023-06-01T11:00:00Z", "u1", { plan: "pro" }),
  ev("purchase", "2023-06-02T10:00:00Z", "u2", { plan: "pro" }),
  ev("purchase", "2023-06-01T09:00:00Z", "u3", { plan: "free" }),
  ev("purchase", "2023-06-03T09:00:00Z", "u3", { plan: "free" }),
  ev("purchase", "2023-06-02T12:00:00Z", "u4", { plan: "team" }),
  ev("purchase", "2023-06-03T12:00:00Z", "u5", { plan: "enterprise" }),
  ev("purchase", "2023-06-02T13:00:00Z", "u6", {}), // unset → (none)
  ev("purchase", "2023-06-03T13:00:00Z", "u7", { plan: null }), // null → (none)
  ev("purchase", "2023-06-04T00:00:00Z", "u1", { plan: "pro" }), // after the range
  ev("signup", "2023-06-01T00:00:00Z", "u1", { plan: "pro" }), // another event type
];

const trendBreakdownEvents: TrendCase = {
  name: "trend: breakdown top 2 by events, (other) and (none)",
  events: planEvents,
  spec: {
    kind: "trend",
    events: [ref("purchase")],
    measure: { kind: "events" },
    interval: "day",
    range: range("2023-06-01", "2023-06-03"),
    filters: [],
    breakdown: "plan",
    limit: 2,
  },
  // totals: pro 3, free 2, team 1, enterprise 1 → top pro, free; (other) = team + enterprise
  expected: {
    interval: "day",
    measure: "events",
    series: [
      { event: "purchase", breakdown: "pro", points: points(DAYS_0601_0603, [2, 1, 0]), total: 3 },
      { event: "purchase", breakdown: "free", points: points(DAYS_0601_0603, [1, 0, 1]), total: 2 },
      { event: "purchase", breakdown: "(other)", points: points(DAYS_0601_0603, [0, 1, 1]), total: 2 },
      { event: "purchase", breakdown: "(none)", points: points(DAYS_0601_0603, [0, 1, 1]), total: 2 },
    ],
  },
};

const trendBreakdownUsers: TrendCase = {
  name: "trend: breakdown by users, ties broken by value ascending, (other) counts distinct users",
  events: planEvents,
  spec: { ...trendBreakdownEvents.spec, measure: { kind: "users" } },
  // user totals: pro {u1,u2}=2; enterprise, free, team = 1 each → tie → "enterprise" < "free" < "team".
  // top 2 = pro, enterprise; (other) = free + team rows: day1 {u3}, day2 {u4}, day3 {u3}; total {u3,u4}=2.
  expected: {
    interval: "day",
    measure: "users",
    series: [
      { event: "purchase", breakdown: "pro", points: points(DAYS_0601_0603, [1, 1, 0]), total: 2 },
      { event: "purchase", breakdown: "enterprise", points: points(DAYS_0601_0603, [0, 0, 1]), total: 1 },
      { event: "purchase", breakdown: "(other)", points: points(DAYS_0601_0603, [1, 1, 1]), total: 2 },
      { event: "purchase", breakdown: "(none)", points: points(DAYS_0601_0603, [0, 1, 1]), total: 2 },
    ],
  },
};

/** Revenue: numbers, numeric strings, non-numeric text, unset, and a row removed by --where. */
const revenueEvents: RawEvent[] = [
  ev("purchase", "2023-06-01T10:00:00Z", "u1", { revenue: 10, currency: "USD" }),
  ev("purchase", "2023-06-01T11:00:00Z", "u1", { revenue: "5.5", currency: "USD" }),
  ev("purchase", "2023-06-01T12:00:00Z", "u2", { revenue: "abc", currency: "USD" }), // ignored
  ev("purchase", "2023-06-02T10:00:00Z", "u2", { revenue: 4.5, currency: "USD" }),
  ev("purchase", "2023-06-02T11:00:00Z", "u3", { currency: "USD" }), // unset: ignored
  ev("purchase", "2023-06-02T12:00:00Z", "u3", { revenue: 100, currency: "EUR" }), // --where drops it
];
const revenueSpec: TrendSpec = {
  kind: "trend",
  events: [ref("purchase")],
  measure: { kind: "sum", key: "revenue" },
  interval: "day",
  range: range("2023-06-01", "2023-06-02"),
  filters: [f("currency", "=", "USD")],
  limit: 10,
};
const DAYS_0601_0602 = ["2023-06-01T00:00:00.000Z", "2023-06-02T00:00:00.000Z"];

const trendSum: TrendCase = {
  name: "trend: sum:revenue with --where, numeric strings count, text/unset ignored",
  events: revenueEvents,
  spec: revenueSpec,
  // day1: 10 + 5.5 = 15.5; day2: 4.5; total 20
  expected: {
    interval: "day",
    measure: "sum:revenue",
    series: [{ event: "purchase", breakdown: null, points: points(DAYS_0601_0602, [15.5, 4.5]), total: 20 }],
  },
};

const trendAvg: TrendCase = {
  name: "trend: avg:revenue over numeric values only",
  events: revenueEvents,
  spec: { ...revenueSpec, measure: { kind: "avg", key: "revenue" } },
  // day1: (10 + 5.5)/2 = 7.75; day2: 4.5/1; total 20/3
  expected: {
    interval: "day",
    measure: "avg:revenue",
    series: [
      { event: "purchase", breakdown: null, points: points(DAYS_0601_0602, [7.75, 4.5]), total: 20 / 3 },
    ],
  },
};

const trendTokyo: TrendCase = {
  name: "trend: per-user by hour in Asia/Tokyo (UTC+9), range edges across UTC midnight",
  // range 2023-06-01 in Tokyo = [2023-05-31T15:00Z, 2023-06-01T15:00Z) → 24 hourly buckets from 15:00Z
  events: [
    ev("click", "2023-05-31T15:00:00Z", "u1"), // 00:00 local → bucket 0
    ev("click", "2023-05-31T15:59:59.999999Z", "u1"), // 00:59:59.999999 → bucket 0
    ev("click", "2023-05-31T15:30:00Z", "u2"), // bucket 0
    ev("click", "2023-06-01T14:59:59Z", "u1"), // 23:59:59 local → bucket 23
    ev("click", "2023-05-31T14:59:59Z", "u2"), // May 31 local → out
    ev("click", "2023-06-01T15:00:00Z", "u3"), // June 2 local → out
    ev("click", "2023-06-01T09:30:00+09:00", "u3"), // 09:30 local → bucket 9
  ],
  spec: {
    kind: "trend",
    events: [ref("click")],
    measure: { kind: "per-user" },
    interval: "hour",
    range: range("2023-06-01", "2023-06-01", "Asia/Tokyo"),
    filters: [],
    limit: 10,
  },
  // bucket 0: 3 rows / 2 users = 1.5; bucket 9: 1/1; bucket 23: 1/1; total 5 rows / 3 users
  expected: {
    interval: "hour",
    measure: "per-user",
    series: [
      {
        event: "click",
        breakdown: null,
        points: hourly("2023-05-31T15:00:00.000Z", 24, { 0: 1.5, 9: 1, 23: 1 }),
        total: 5 / 3,
      },
    ],
  },
};

const trendWeeksNewYork: TrendCase = {
  name: "trend: Monday weeks in America/New_York across the March DST change, event filters in labels",
  // range 2023-03-08 (Wed) .. 2023-03-21 (Tue): [03-08T05:00Z (EST), 03-22T04:00Z (EDT)).
  // weeks: Mon 03-06 00:00 EST = 05:00Z; Mon 03-13 00:00 EDT = 04:00Z; Mon 03-20 = 04:00Z.
  events: [
    ev("button_clicked", "2023-03-07T12:00:00Z", "u1", { button_name: "save" }), // before range
    ev("button_clicked", "2023-03-08T05:00:00Z", "u1", { button_name: "save" }), // range start → wk1
    ev("button_clicked", "2023-03-12T06:59:59Z", "u2", { button_name: "open" }), // Sun 01:59:59 EST → wk1
    ev("button_clicked", "2023-03-13T03:59:59Z", "u2", { button_name: "save" }), // Sun 23:59:59 EDT → wk1
    ev("button_clicked", "2023-03-13T04:00:00Z", "u2", { button_name: "save" }), // Mon 00:00 EDT → wk2
    ev("button_clicked", "2023-03-22T03:59:59.999999Z", "u3", { button_name: "open" }), // last instant → wk3
    ev("button_clicked", "2023-03-22T04:00:00Z", "u3", { button_name: "save" }), // after range
  ],
  spec: {
    kind: "trend",
    events: [ref("button_clicked", f("button_name", "=", "save")), ref("button_clicked")],
    measure: { kind: "events" },
    interval: "week",
    range: range("2023-03-08", "2023-03-21", "America/New_York"),
    filters: [],
    limit: 10,
  },
  expected: {
    interval: "week",
    measure: "events",
    series: [
      {
        event: "button_clicked[button_name=save]",
        breakdown: null,
        points: points(
          ["2023-03-06T05:00:00.000Z", "2023-03-13T04:00:00.000Z", "2023-03-20T04:00:00.000Z"],
          [2, 1, 0],
        ),
        total: 3,
      },
      {
        event: "button_clicked",
        breakdown: null,
        points: points(
          ["2023-03-06T05:00:00.000Z", "2023-03-13T04:00:00.000Z", "2023-03-20T04:00:00.000Z"],
          [3, 1, 1],
        ),
        total: 5,
      },
    ],
  },
};

const trendDstDays: TrendCase = {
  name: "trend: day buckets in America/New_York around the 23-hour day (2023-03-12)",
  // days start 03-11T05:00Z, 03-12T05:00Z, 03-13T04:00Z; range end 03-14T04:00Z
  events: [
    ev("e", "2023-03-11T04:59:59Z", "u1"), // 03-10 local → out
    ev("e", "2023-03-12T04:59:59Z", "u1"), // 03-11 23:59:59 EST
    ev("e", "2023-03-12T05:00:00Z", "u1"), // 03-12 00:00 EST
    ev("e", "2023-03-13T03:59:59Z", "u2"), // 03-12 23:59:59 EDT
    ev("e", "2023-03-13T04:00:00Z", "u2"), // 03-13 00:00 EDT
    ev("e", "2023-03-14T04:00:00Z", "u2"), // 03-14 → out
  ],
  spec: {
    kind: "trend",
    events: [ref("e")],
    measure: { kind: "events" },
    interval: "day",
    range: range("2023-03-11", "2023-03-13", "America/New_York"),
    filters: [],
    limit: 10,
  },
  expected: {
    interval: "day",
    measure: "events",
    series: [
      {
        event: "e",
        breakdown: null,
        points: points(
          ["2023-03-11T05:00:00.000Z", "2023-03-12T05:00:00.000Z", "2023-03-13T04:00:00.000Z"],
          [1, 2, 1],
        ),
        total: 4,
      },
    ],
  },
};

/** Six events for the filter matrix (all on 2023-06-01, one user each). */
const filterEvents: RawEvent[] = [
  ev("e", "2023-06-01T12:00:00Z", "p1", { name: 'Q3 "final" report', n: 10, s: "10" }),
  ev("e", "2023-06-01T12:00:00Z", "p2", { name: "café", n: 2.5, s: "abc", flag: true }),
  ev("e", "2023-06-01T12:00:00Z", "p3", { name: "CAFÉ au lait", n: "7", s: null }),
  ev("e", "2023-06-01T12:00:00Z", "p4", { n: -1, obj: { a: 1 }, arr: [1, "x"] }),
  ev("e", "2023-06-01T12:00:00Z", "p5", { name: "Zebra", n: "1e1", flag: false }),
  ev("e", "2023-06-01T12:00:00Z", "p6", {}),
];
/** [filter, label, expected count, which events match] */
const filterMatrix: [Filter, string, number, string][] = [
  [f("name", "=", 'Q3 "final" report'), 'e[name=Q3 "final" report]', 1, "p1"],
  [f("name", "!=", "café"), "e[name!=café]", 5, "all but p2 (unset p4, p6 match !=)"],
  [f("name", "~", "Café"), "e[name~Café]", 2, "p2, p3 (lower('CAFÉ au lait') contains 'café')"],
  [f("n", "=", "10"), "e[n=10]", 2, "p1 (10), p5 ('1e1' casts to 10)"],
  [f("n", ">", "2"), "e[n>2]", 4, "p1 10, p2 2.5, p3 '7', p5 10"],
  [f("n", "<=", "-1"), "e[n<=-1]", 1, "p4"],
  [f("s", "=", "10"), "e[s=10]", 1, "p1 ('10'); 'abc' never equals a number"],
  [f("s", "!=", "10"), "e[s!=10]", 5, "all but p1"],
  [f("name", "in", ["café", "Zebra"]), "e[name in café,Zebra]", 2, "p2, p5"],
  [f("n", "in", ["2.5", "7"]), "e[n in 2.5,7]", 2, "p2 2.5, p3 '7'"],
  [f("flag", "set"), "e[flag set]", 2, "p2 true, p5 false"],
  [f("s", "!set"), "e[s !set]", 4, "p3 (null), p4, p5, p6"],
  [f("flag", "=", "true"), "e[flag=true]", 1, "p2: JSON text 'true'"],
  [f("obj", "=", '{"a":1}'), 'e[obj={"a":1}]', 1, "p4: JSON text of the object"],
  [f("arr", "~", "x"), "e[arr~x]", 1, "p4: '[1,\"x\"]' contains x"],
  [f("n", ">=", "2.5"), "e[n>=2.5]", 4, "p1, p2, p3, p5"],
  [f("name", "~", '"final"'), 'e[name~"\\"final\\""]', 1, "p1: value with quotes"],
];

const trendFilters: TrendCase = {
  name: "trend: filter operators (one series per filter), quotes, unicode, JSON text",
  events: filterEvents,
  spec: {
    kind: "trend",
    events: filterMatrix.map(([flt]) => ref("e", flt)),
    measure: { kind: "events" },
    interval: "day",
    range: range("2023-06-01", "2023-06-01"),
    filters: [],
    limit: 10,
  },
  expected: {
    interval: "day",
    measure: "events",
    series: filterMatrix.map(([, label, n]) => ({
      event: label,
      breakdown: null,
      points: [{ t: "2023-06-01T00:00:00.000Z", value: n }],
      total: n,
    })),
  },
};

const trendWhereBreakdown: TrendCase = {
  name: "trend: --where applies to every series; breakdown on numbers gives JSON text values",
  events: filterEvents,
  spec: {
    kind: "trend",
    events: [ref("e")],
    measure: { kind: "users" },
    interval: "day",
    range: range("2023-06-01", "2023-06-01"),
    filters: [f("name", "set")],
    breakdown: "n",
    limit: 10,
  },
  // --where name set → p1, p2, p3, p5; n text: "10", "2.5", "7", "1e1" (all 1 user) → ties by byte order:
  // "10" < "1e1" < "2.5" < "7"
  expected: {
    interval: "day",
    measure: "users",
    series: [
      { event: "e", breakdown: "10", points: [{ t: "2023-06-01T00:00:00.000Z", value: 1 }], total: 1 },
      { event: "e", breakdown: "1e1", points: [{ t: "2023-06-01T00:00:00.000Z", value: 1 }], total: 1 },
      { event: "e", breakdown: "2.5", points: [{ t: "2023-06-01T00:00:00.000Z", value: 1 }], total: 1 },
      { event: "e", breakdown: "7", points: [{ t: "2023-06-01T00:00:00.000Z", value: 1 }], total: 1 },
    ],
  },
};

const trendEmpty: TrendCase = {
  name: "trend: no matching rows → zero points",
  events: [ev("other", "2023-06-01T00:00:00Z", "u1")],
  spec: {
    kind: "trend",
    events: [ref("e")],
    measure: { kind: "per-user" },
    interval: "day",
    range: range("2023-06-01", "2023-06-02"),
    filters: [],
    limit: 10,
  },
  expected: {
    interval: "day",
    measure: "per-user",
    series: [{ event: "e", breakdown: null, points: points(DAYS_0601_0602, [0, 0]), total: 0 }],
  },
};

const trendEmptyBreakdown: TrendCase = {
  name: "trend: no matching rows with a breakdown → no series",
  events: [ev("other", "2023-06-01T00:00:00Z", "u1")],
  spec: { ...trendEmpty.spec, breakdown: "plan" },
  expected: { interval: "day", measure: "per-user", series: [] },
};

/* ---------- sub-hour buckets, DST, --last, compare ---------- */

const trend15mBerlinFallBack: TrendCase = {
  name: "trend: 15m buckets across the Berlin fall-back, the repeated 02:00–03:00 joins its first buckets",
  // 2023-10-29: 03:00 CEST (01:00Z) → 02:00 CET, so local 02:00–02:59 happens at 00:00–00:59Z (CEST)
  // and again at 01:00–01:59Z (CET). from 01:30 (CEST, once) = 10-28T23:30Z; to 03:30 (CET, once) =
  // 02:30Z. Buckets by local start: 01:30 23:30Z, 01:45 23:45Z, 02:00 00:00Z, 02:15 00:15Z, 02:30 00:30Z,
  // 02:45 00:45Z (the CET 02:xx instants join these, reported by their first, CEST, instant), 03:00
  // 02:00Z, 03:15 02:15Z → 8 points.
  events: [
    ev("e", "2023-10-28T23:29:59Z", "u1"), // 01:29:59 CEST → out
    ev("e", "2023-10-28T23:30:00Z", "u1"), // 01:30 → 01:30 bucket
    ev("e", "2023-10-29T00:10:00Z", "u1"), // 02:10 CEST → 02:00 bucket
    ev("e", "2023-10-29T01:05:00Z", "u2"), // 02:05 CET → 02:00 bucket (same bucket)
    ev("e", "2023-10-29T01:14:59Z", "u1"), // 02:14:59 CET → 02:00 bucket
    ev("e", "2023-10-29T01:30:00Z", "u5"), // 02:30 CET → 02:30 bucket (reported 00:30Z)
    ev("e", "2023-10-29T00:50:00Z", "u3"), // 02:50 CEST → 02:45 bucket
    ev("e", "2023-10-29T01:59:59Z", "u2"), // 02:59:59 CET → 02:45 bucket
    ev("e", "2023-10-29T02:00:00Z", "u3"), // 03:00 CET → 03:00 bucket
    ev("e", "2023-10-29T02:29:59.999Z", "u4"), // 03:29:59.999 → 03:15 bucket
    ev("e", "2023-10-29T02:30:00Z", "u4"), // 03:30 = `to` → out
  ],
  spec: {
    kind: "trend",
    events: [ref("e")],
    measure: { kind: "users" },
    interval: "15m",
    range: range("2023-10-29T01:30", "2023-10-29T03:30", "Europe/Berlin"),
    filters: [],
    limit: 10,
  },
  resolved: { from: "2023-10-28T23:30:00.000Z", to: "2023-10-29T02:30:00.000Z" },
  // users: 01:30 {u1}; 02:00 {u1,u2}; 02:30 {u5}; 02:45 {u3,u2}; 03:00 {u3}; 03:15 {u4}; total 5
  expected: {
    interval: "15m",
    measure: "users",
    series: [
      {
        event: "e",
        breakdown: null,
        points: points(
          [
            "2023-10-28T23:30:00.000Z",
            "2023-10-28T23:45:00.000Z",
            "2023-10-29T00:00:00.000Z",
            "2023-10-29T00:15:00.000Z",
            "2023-10-29T00:30:00.000Z",
            "2023-10-29T00:45:00.000Z",
            "2023-10-29T02:00:00.000Z",
            "2023-10-29T02:15:00.000Z",
          ],
          [1, 0, 2, 0, 1, 2, 1, 1],
        ),
        total: 5,
      },
    ],
  },
};

const trend5mBerlinSpringForward: TrendCase = {
  name: "trend: 5m buckets across the Berlin spring-forward, the skipped 02:00–02:55 buckets do not exist",
  // 2023-03-26: 02:00 CET (01:00Z) → 03:00 CEST. from 01:45 CET = 00:45Z; to 03:15 CEST = 01:15Z.
  // Buckets: 01:45 00:45Z, 01:50 00:50Z, 01:55 00:55Z, then 03:00 01:00Z, 03:05 01:05Z, 03:10 01:10Z.
  events: [
    ev("e", "2023-03-26T00:44:59Z", "u1"), // 01:44:59 CET → out
    ev("e", "2023-03-26T00:45:00Z", "u1"), // 01:45 → 1st bucket
    ev("e", "2023-03-26T00:54:00Z", "u1"), // 01:54 → 01:50
    ev("e", "2023-03-26T00:59:59.999999Z", "u2"), // 01:59:59.999999 CET → 01:55
    ev("e", "2023-03-26T01:00:00Z", "u2"), // 03:00 CEST → 03:00
    ev("e", "2023-03-26T01:00:30Z", "u3"), // 03:00:30 → 03:00
    ev("e", "2023-03-26T01:14:59Z", "u3"), // 03:14:59 → 03:10
    ev("e", "2023-03-26T01:15:00Z", "u3"), // 03:15 = `to` → out
  ],
  spec: {
    kind: "trend",
    events: [ref("e")],
    measure: { kind: "events" },
    interval: "5m",
    range: range("2023-03-26T01:45", "2023-03-26T03:15", "Europe/Berlin"),
    filters: [],
    limit: 10,
  },
  resolved: { from: "2023-03-26T00:45:00.000Z", to: "2023-03-26T01:15:00.000Z" },
  expected: {
    interval: "5m",
    measure: "events",
    series: [
      {
        event: "e",
        breakdown: null,
        points: points(
          [
            "2023-03-26T00:45:00.000Z",
            "2023-03-26T00:50:00.000Z",
            "2023-03-26T00:55:00.000Z",
            "2023-03-26T01:00:00.000Z",
            "2023-03-26T01:05:00.000Z",
            "2023-03-26T01:10:00.000Z",
          ],
          [1, 1, 1, 2, 0, 1],
        ),
        total: 6,
      },
    ],
  },
};

const trend15mKolkata: TrendCase = {
  name: "trend: 15m buckets in Asia/Kolkata (+05:30) start at :00/:15/:30/:45 local = :30/:45/:00/:15 UTC",
  // from 10:07 IST = 04:37Z, to 11:00 IST = 05:30Z. The first bucket is the one holding the range start,
  // 10:00 IST = 04:30Z (it starts before the range; its events before 04:37Z do not count).
  // Buckets 10:00 04:30Z, 10:15 04:45Z, 10:30 05:00Z, 10:45 05:15Z.
  events: [
    ev("view", "2023-06-01T04:36:59Z", "u1"), // 10:06:59 → out
    ev("view", "2023-06-01T04:37:00Z", "u1"), // 10:07 → 10:00
    ev("view", "2023-06-01T04:44:59Z", "u1"), // 10:14:59 → 10:00
    ev("view", "2023-06-01T04:45:00Z", "u2"), // 10:15 → 10:15
    ev("view", "2023-06-01T05:00:00Z", "u2"), // 10:30 (a UTC :00) → 10:30
    ev("view", "2023-06-01T05:14:59Z", "u2"), // 10:44:59 → 10:30
    ev("view", "2023-06-01T05:15:00Z", "u3"), // 10:45 → 10:45
    ev("view", "2023-06-01T05:29:59Z", "u3"), // 10:59:59 → 10:45
    ev("view", "2023-06-01T05:30:00Z", "u3"), // 11:00 = `to` → out
  ],
  spec: {
    kind: "trend",
    events: [ref("view")],
    measure: { kind: "events" },
    interval: "15m",
    range: range("2023-06-01T10:07", "2023-06-01T11:00", "Asia/Kolkata"),
    filters: [],
    limit: 10,
  },
  resolved: { from: "2023-06-01T04:37:00.000Z", to: "2023-06-01T05:30:00.000Z" },
  expected: {
    interval: "15m",
    measure: "events",
    series: [
      {
        event: "view",
        breakdown: null,
        points: points(
          [
            "2023-06-01T04:30:00.000Z",
            "2023-06-01T04:45:00.000Z",
            "2023-06-01T05:00:00.000Z",
            "2023-06-01T05:15:00.000Z",
          ],
          [2, 1, 2, 2],
        ),
        total: 7,
      },
    ],
  },
};

const trendLast90m: TrendCase = {
  name: "trend: --last 90m ends at the UTC minute after the cache's latest event (of any type)",
  // latest event 14:44:59.9Z (an `other`) → end 14:45:00Z, from 13:15:00Z. 15m buckets 13:15 … 14:30.
  events: [
    ev("tick", "2023-06-01T12:00:00Z", "u1"), // out
    ev("tick", "2023-06-01T13:14:59.999Z", "u1"), // out
    ev("tick", "2023-06-01T13:15:00Z", "u1"), // 13:15
    ev("tick", "2023-06-01T13:50:00Z", "u2"), // 13:45
    ev("tick", "2023-06-01T14:40:00Z", "u3"), // 14:30
    ev("other", "2023-06-01T14:44:59.9Z", "u4"), // the latest event of the cache
  ],
  last: 90 * 60,
  spec: {
    kind: "trend",
    events: [ref("tick")],
    measure: { kind: "events" },
    interval: "15m",
    range: range("(last)", "(last)"),
    filters: [],
    limit: 10,
  },
  resolved: { from: "2023-06-01T13:15:00.000Z", to: "2023-06-01T14:45:00.000Z" },
  expected: {
    interval: "15m",
    measure: "events",
    series: [
      {
        event: "tick",
        breakdown: null,
        points: points(
          [
            "2023-06-01T13:15:00.000Z",
            "2023-06-01T13:30:00.000Z",
            "2023-06-01T13:45:00.000Z",
            "2023-06-01T14:00:00.000Z",
            "2023-06-01T14:15:00.000Z",
            "2023-06-01T14:30:00.000Z",
          ],
          [1, 0, 1, 0, 0, 1],
        ),
        total: 3,
      },
    ],
  },
};

const DAYS_0608_0609 = ["2023-06-08T00:00:00.000Z", "2023-06-09T00:00:00.000Z"];

const trendComparePreviousEmpty: TrendCase = {
  name: "trend: --compare previous with no data in the previous period → zeros, change null",
  // range [06-08, 06-10) is 2 days → offset 172800 s, compare period [06-06, 06-08): empty
  events: [
    ev("e", "2023-06-05T23:59:59Z", "u1"), // before the compare period
    ev("e", "2023-06-08T01:00:00Z", "u1"),
    ev("e", "2023-06-08T23:00:00Z", "u2"),
    ev("e", "2023-06-09T12:00:00Z", "u1"),
    ev("e", "2023-06-10T00:00:00Z", "u1"), // after the range
  ],
  spec: {
    kind: "trend",
    events: [ref("e")],
    measure: { kind: "events" },
    interval: "day",
    range: range("2023-06-08", "2023-06-09"),
    filters: [],
    limit: 10,
    compare: "previous",
  },
  resolved: { from: "2023-06-08T00:00:00.000Z", to: "2023-06-10T00:00:00.000Z" },
  expected: {
    interval: "day",
    measure: "events",
    series: [
      {
        event: "e",
        breakdown: null,
        points: points(DAYS_0608_0609, [2, 1]),
        total: 3,
        compare: { offset_seconds: 172800, points: points(DAYS_0608_0609, [0, 0]), total: 0, change: null },
      },
    ],
  },
};

const trendCompareBreakdown: TrendCase = {
  name: "trend: --compare 1w with a breakdown: top values from the current period, (other)/(none) from either",
  // range [06-08, 06-10), compare period [06-01, 06-03) (offset 604800 s); users by day, plan, limit 1
  events: [
    // current: pro {u1,u2} = 2 users, free {u3} = 1, team {u3} = 1 → top 1 = pro; (other) = free + team
    ev("purchase", "2023-06-08T10:00:00Z", "u1", { plan: "pro" }),
    ev("purchase", "2023-06-08T11:00:00Z", "u2", { plan: "pro" }),
    ev("purchase", "2023-06-09T09:00:00Z", "u1", { plan: "pro" }),
    ev("purchase", "2023-06-08T12:00:00Z", "u3", { plan: "free" }),
    ev("purchase", "2023-06-09T14:00:00Z", "u3", { plan: "team" }),
    // compare period: pro day 1 {u5}, day 2 {u5,u6}; other (not pro: enterprise, free) day 1 {u6},
    // day 2 {u7}; (none) day 2 {u8} — a (none) series with rows only in the compare period
    ev("purchase", "2023-06-01T10:00:00Z", "u5", { plan: "pro" }),
    ev("purchase", "2023-06-02T10:00:00Z", "u5", { plan: "pro" }),
    ev("purchase", "2023-06-02T11:00:00Z", "u6", { plan: "pro" }),
    ev("purchase", "2023-06-01T08:00:00Z", "u6", { plan: "enterprise" }),
    ev("purchase", "2023-06-02T09:00:00Z", "u7", { plan: "free" }),
    ev("purchase", "2023-06-02T15:00:00Z", "u8", {}),
    // outside both periods
    ev("purchase", "2023-05-31T23:59:59Z", "u9", { plan: "pro" }),
    ev("purchase", "2023-06-03T00:00:00Z", "u9", { plan: "pro" }),
  ],
  spec: {
    kind: "trend",
    events: [ref("purchase")],
    measure: { kind: "users" },
    interval: "day",
    range: range("2023-06-08", "2023-06-09"),
    filters: [],
    breakdown: "plan",
    limit: 1,
    compare: "1w",
  },
  resolved: { from: "2023-06-08T00:00:00.000Z", to: "2023-06-10T00:00:00.000Z" },
  // pro: [2, 1] total 2 vs [1, 2] total {u5,u6} 2 → change 0
  // (other): [1, 1] total {u3} 1 vs [1, 1] total {u6,u7} 2 → change (1 − 2)/2 = −0.5
  // (none): [0, 0] total 0 vs [0, 1] total 1 → change −1
  expected: {
    interval: "day",
    measure: "users",
    series: [
      {
        event: "purchase",
        breakdown: "pro",
        points: points(DAYS_0608_0609, [2, 1]),
        total: 2,
        compare: { offset_seconds: 604800, points: points(DAYS_0608_0609, [1, 2]), total: 2, change: 0 },
      },
      {
        event: "purchase",
        breakdown: "(other)",
        points: points(DAYS_0608_0609, [1, 1]),
        total: 1,
        compare: { offset_seconds: 604800, points: points(DAYS_0608_0609, [1, 1]), total: 2, change: -0.5 },
      },
      {
        event: "purchase",
        breakdown: "(none)",
        points: points(DAYS_0608_0609, [0, 0]),
        total: 0,
        compare: { offset_seconds: 604800, points: points(DAYS_0608_0609, [0, 1]), total: 1, change: -1 },
      },
    ],
  },
};

const trendMonthsNewYorkLocalEnds: TrendCase = {
  name: "trend: months in America/New_York over a range from a skipped to a repeated local time",
  // from 2023-03-12T02:30 is skipped (02:00 EST → 03:00 EDT): read as EST → 07:30Z. to 2023-11-05T01:30
  // happens at 05:30Z (EDT) and 06:30Z (EST): the second → 06:30Z, exclusive. Month buckets: Mar 1 00:00
  // EST = 05:00Z, Apr–Nov 1 00:00 EDT = 04:00Z (9 points).
  events: [
    ev("e", "2023-03-12T07:29:59Z", "u1"), // 03:29:59 EDT → out
    ev("e", "2023-03-12T07:30:00Z", "u1"), // = from → March
    ev("e", "2023-11-05T05:30:00Z", "u2"), // 01:30 EDT, the first occurrence → November
    ev("e", "2023-11-05T06:29:59Z", "u2"), // 01:29:59 EST → November
    ev("e", "2023-11-05T06:30:00Z", "u2"), // = to → out
  ],
  spec: {
    kind: "trend",
    events: [ref("e")],
    measure: { kind: "events" },
    interval: "month",
    range: range("2023-03-12T02:30", "2023-11-05T01:30", "America/New_York"),
    filters: [],
    limit: 10,
  },
  resolved: { from: "2023-03-12T07:30:00.000Z", to: "2023-11-05T06:30:00.000Z" },
  expected: {
    interval: "month",
    measure: "events",
    series: [
      {
        event: "e",
        breakdown: null,
        points: points(
          [
            "2023-03-01T05:00:00.000Z",
            "2023-04-01T04:00:00.000Z",
            "2023-05-01T04:00:00.000Z",
            "2023-06-01T04:00:00.000Z",
            "2023-07-01T04:00:00.000Z",
            "2023-08-01T04:00:00.000Z",
            "2023-09-01T04:00:00.000Z",
            "2023-10-01T04:00:00.000Z",
            "2023-11-01T04:00:00.000Z",
          ],
          [1, 0, 0, 0, 0, 0, 0, 0, 2],
        ),
        total: 3,
      },
    ],
  },
};

/* ====================================================================================== */
/* Funnel                                                                                   */
/* ====================================================================================== */

const funnelBasic: FunnelCase = {
  name: "funnel: inclusive window, later attempt converts, events before from, steps after the range",
  events: [
    // u1: Δ2 = 600 s, Δ3 = 3600 s = exactly the window → counts
    ev("signed_up", "2023-06-01T10:00:00Z", "u1"),
    ev("file_opened", "2023-06-01T10:10:00Z", "u1"),
    ev("file_saved", "2023-06-01T11:00:00Z", "u1"),
    // u2: save 1 µs after the window → reaches step 2 (Δ2 = 1800 s)
    ev("signed_up", "2023-06-01T10:00:00Z", "u2"),
    ev("file_opened", "2023-06-01T10:30:00Z", "u2"),
    ev("file_saved", "2023-06-01T11:00:00.000001Z", "u2"),
    // u3: attempt 09:00 reaches 2 (Δ2 300 s, the 12:02 save is outside its window);
    //     attempt 12:00 reaches 3 (Δ2 60 s, Δ3 120 s) → fastest Δ2 = 60 s
    ev("signed_up", "2023-06-01T09:00:00Z", "u3"),
    ev("file_opened", "2023-06-01T09:05:00Z", "u3"),
    ev("signed_up", "2023-06-01T12:00:00Z", "u3"),
    ev("file_opened", "2023-06-01T12:01:00Z", "u3"),
    ev("file_saved", "2023-06-01T12:02:00Z", "u3"),
    // u4: the only file_opened is before the signup → step 1 only
    ev("file_opened", "2023-06-01T08:00:00Z", "u4"),
    ev("signed_up", "2023-06-01T08:30:00Z", "u4"),
    // u5: signed up before the range → no attempt at all
    ev("signed_up", "2023-05-31T23:59:59Z", "u5"),
    ev("file_opened", "2023-06-01T00:00:10Z", "u5"),
    ev("file_saved", "2023-06-01T00:00:20Z", "u5"),
    // u6: later steps after the range end still count: Δ2 2400 s, Δ3 3000 s
    ev("signed_up", "2023-06-01T23:30:00Z", "u6"),
    ev("file_opened", "2023-06-02T00:10:00Z", "u6"),
    ev("file_saved", "2023-06-02T00:20:00Z", "u6"),
    // u7: all three at the same instant (different types: t_k >= t_{k-1}) → Δ 0
    ev("signed_up", "2023-06-01T10:00:00Z", "u7"),
    ev("file_opened", "2023-06-01T10:00:00Z", "u7"),
    ev("file_saved", "2023-06-01T10:00:00Z", "u7"),
  ],
  spec: {
    kind: "funnel",
    steps: [ref("signed_up"), ref("file_opened"), ref("file_saved")],
    withinSeconds: 3600,
    range: range("2023-06-01", "2023-06-01"),
    filters: [],
    limit: 10,
  },
  // users: step1 {u1,u2,u3,u4,u6,u7}=6, step2 {u1,u2,u3,u6,u7}=5, step3 {u1,u3,u6,u7}=4
  // median Δ2: [0, 60, 600, 1800, 2400] → 600; Δ3: [0, 120, 3000, 3600] → (120+3000)/2 = 1560
  expected: {
    within_seconds: 3600,
    order: "ordered",
    exclude: [],
    hold: null,
    steps: [
      { step: "signed_up", users: 6, conversion: 1, from_previous: 1, median_seconds: null },
      { step: "file_opened", users: 5, conversion: 5 / 6, from_previous: 5 / 6, median_seconds: 600 },
      { step: "file_saved", users: 4, conversion: 4 / 6, from_previous: 4 / 5, median_seconds: 1560 },
    ],
    breakdown: null,
  },
};

const funnelSameEvent: FunnelCase = {
  name: "funnel: the same event_type twice needs two occurrences at distinct instants",
  events: [
    // u1: two clicks at 10:00:00 (same instant: cannot chain), one at 10:00:30 → Δ 30 s
    ev("click", "2023-06-01T10:00:00Z", "u1"),
    ev("click", "2023-06-01T10:00:00Z", "u1"),
    ev("click", "2023-06-01T10:00:30Z", "u1"),
    // u2: a single click → step 1 only
    ev("click", "2023-06-01T10:00:00Z", "u2"),
    // u3: second click exactly at the 60 s window → Δ 60 s
    ev("click", "2023-06-01T10:00:00Z", "u3"),
    ev("click", "2023-06-01T10:01:00Z", "u3"),
  ],
  spec: {
    kind: "funnel",
    steps: [ref("click"), ref("click")],
    withinSeconds: 60,
    range: range("2023-06-01", "2023-06-01"),
    filters: [],
    limit: 10,
  },
  // users [3, 2]; median of [30, 60] = 45
  expected: {
    within_seconds: 60,
    order: "ordered",
    exclude: [],
    hold: null,
    steps: [
      { step: "click", users: 3, conversion: 1, from_previous: 1, median_seconds: null },
      { step: "click", users: 2, conversion: 2 / 3, from_previous: 2 / 3, median_seconds: 45 },
    ],
    breakdown: null,
  },
};

const funnelSameTypeFilters: FunnelCase = {
  name: "funnel: same event_type with different step filters is still strictly later",
  events: [
    // u1: save at the open's instant does not count; the save 1 s later does → Δ 1 s
    ev("button_clicked", "2023-06-01T10:00:00Z", "u1", { button_name: "open" }),
    ev("button_clicked", "2023-06-01T10:00:00Z", "u1", { button_name: "save" }),
    ev("button_clicked", "2023-06-01T10:00:01Z", "u1", { button_name: "save" }),
    // u2: only a save at the same instant → step 1 only
    ev("button_clicked", "2023-06-01T10:00:00Z", "u2", { button_name: "open" }),
    ev("button_clicked", "2023-06-01T10:00:00Z", "u2", { button_name: "save" }),
  ],
  spec: {
    kind: "funnel",
    steps: [
      ref("button_clicked", f("button_name", "=", "open")),
      ref("button_clicked", f("button_name", "=", "save")),
    ],
    withinSeconds: 60,
    range: range("2023-06-01", "2023-06-01"),
    filters: [],
    limit: 10,
  },
  expected: {
    within_seconds: 60,
    order: "ordered",
    exclude: [],
    hold: null,
    steps: [
      {
        step: "button_clicked[button_name=open]",
        users: 2,
        conversion: 1,
        from_previous: 1,
        median_seconds: null,
      },
      {
        step: "button_clicked[button_name=save]",
        users: 1,
        conversion: 0.5,
        from_previous: 0.5,
        median_seconds: 1,
      },
    ],
    breakdown: null,
  },
};

const funnelBreakdownTrend: FunnelCase = {
  name: "funnel: breakdown by the step-1 value (top 1, (other), (none)) and conversion over time",
  events: [
    // u1: mac attempt 06-01 10:00 converts at 12:00 (Δ 7200 s); web attempt 06-02 09:00 does not
    ev("app_open", "2023-06-01T10:00:00Z", "u1", { platform: "mac" }),
    ev("purchase", "2023-06-01T12:00:00Z", "u1"),
    ev("app_open", "2023-06-02T09:00:00Z", "u1", { platform: "web" }),
    // u2: mac attempt without a purchase
    ev("app_open", "2023-06-02T10:00:00Z", "u2", { platform: "mac" }),
    // u3: web attempt 06-01 08:00 (purchase 06-03 07:00 is beyond its 1-day window);
    //     mac attempt 06-03 06:00 converts at 07:00 (Δ 3600 s)
    ev("app_open", "2023-06-01T08:00:00Z", "u3", { platform: "web" }),
    ev("app_open", "2023-06-03T06:00:00Z", "u3", { platform: "mac" }),
    ev("purchase", "2023-06-03T07:00:00Z", "u3"),
    // u4: no platform → (none); converts (Δ 1800 s)
    ev("app_open", "2023-06-02T12:00:00Z", "u4"),
    ev("purchase", "2023-06-02T12:30:00Z", "u4"),
    // u5: linux, no purchase
    ev("app_open", "2023-06-03T20:00:00Z", "u5", { platform: "linux" }),
  ],
  spec: {
    kind: "funnel",
    steps: [ref("app_open"), ref("purchase")],
    withinSeconds: 86400,
    range: range("2023-06-01", "2023-06-03"),
    filters: [],
    breakdown: "platform",
    limit: 1,
    trendInterval: "day",
  },
  // overall: progress u1 2, u2 1, u3 2, u4 2, u5 1 → [5, 3]; median Δ2 of [7200, 3600, 1800] = 3600
  // groups by step-1 users: mac {u1,u2,u3}=3, web {u1,u3}=2, linux {u5}=1, (none) {u4}
  //   mac: u1 2 (7200), u2 1, u3 2 (3600) → [3, 2], median 5400
  //   (other) = web + linux attempts: u1 1, u3 1, u5 1 → [3, 0]
  //   (none): u4 → [1, 1], median 1800
  // over time: u1 → 06-01 (converting attempt); u2 → 06-02; u3 → 06-03 (its converting attempt,
  //   not its earliest); u4 → 06-02 converted; u5 → 06-03
  expected: {
    within_seconds: 86400,
    order: "ordered",
    exclude: [],
    hold: null,
    steps: [
      { step: "app_open", users: 5, conversion: 1, from_previous: 1, median_seconds: null },
      { step: "purchase", users: 3, conversion: 0.6, from_previous: 0.6, median_seconds: 3600 },
    ],
    breakdown: [
      {
        value: "mac",
        steps: [
          { step: "app_open", users: 3, conversion: 1, from_previous: 1, median_seconds: null },
          { step: "purchase", users: 2, conversion: 2 / 3, from_previous: 2 / 3, median_seconds: 5400 },
        ],
      },
      {
        value: "(other)",
        steps: [
          { step: "app_open", users: 3, conversion: 1, from_previous: 1, median_seconds: null },
          { step: "purchase", users: 0, conversion: 0, from_previous: 0, median_seconds: null },
        ],
      },
      {
        value: "(none)",
        steps: [
          { step: "app_open", users: 1, conversion: 1, from_previous: 1, median_seconds: null },
          { step: "purchase", users: 1, conversion: 1, from_previous: 1, median_seconds: 1800 },
        ],
      },
    ],
    trend: [
      { t: "2023-06-01T00:00:00.000Z", entered: 1, converted: 1 },
      { t: "2023-06-02T00:00:00.000Z", entered: 2, converted: 1 },
      { t: "2023-06-03T00:00:00.000Z", entered: 2, converted: 1 },
    ],
  },
};

const funnelWhere: FunnelCase = {
  name: "funnel: --where applies to every step",
  events: [
    // u1: the purchase has country DE → filtered out by --where country=US
    ev("app_open", "2023-06-01T10:00:00Z", "u1", { country: "US" }),
    ev("purchase", "2023-06-01T10:05:00Z", "u1", { country: "DE" }),
    // u2: both US → converts (Δ 120 s)
    ev("app_open", "2023-06-01T10:00:00Z", "u2", { country: "US" }),
    ev("purchase", "2023-06-01T10:02:00Z", "u2", { country: "US" }),
    // u3: step-1 event not US → no attempt
    ev("app_open", "2023-06-01T10:00:00Z", "u3", { country: "FR" }),
    ev("purchase", "2023-06-01T10:01:00Z", "u3", { country: "US" }),
  ],
  spec: {
    kind: "funnel",
    steps: [ref("app_open"), ref("purchase")],
    withinSeconds: 3600,
    range: range("2023-06-01", "2023-06-01"),
    filters: [f("country", "=", "US")],
    limit: 10,
  },
  expected: {
    within_seconds: 3600,
    order: "ordered",
    exclude: [],
    hold: null,
    steps: [
      { step: "app_open", users: 2, conversion: 1, from_previous: 1, median_seconds: null },
      { step: "purchase", users: 1, conversion: 0.5, from_previous: 0.5, median_seconds: 120 },
    ],
    breakdown: null,
  },
};

const funnelEmpty: FunnelCase = {
  name: "funnel: nobody enters → zeros (conversion 0 when step 1 has no users)",
  events: [ev("other", "2023-06-01T10:00:00Z", "u1")],
  spec: {
    kind: "funnel",
    steps: [ref("a"), ref("b")],
    withinSeconds: 60,
    range: range("2023-06-01", "2023-06-02"),
    filters: [],
    limit: 10,
    trendInterval: "day",
  },
  expected: {
    within_seconds: 60,
    order: "ordered",
    exclude: [],
    hold: null,
    steps: [
      { step: "a", users: 0, conversion: 0, from_previous: 1, median_seconds: null },
      { step: "b", users: 0, conversion: 0, from_previous: 0, median_seconds: null },
    ],
    breakdown: null,
    trend: [
      { t: "2023-06-01T00:00:00.000Z", entered: 0, converted: 0 },
      { t: "2023-06-02T00:00:00.000Z", entered: 0, converted: 0 },
    ],
  },
};

const funnelCompare: FunnelCase = {
  name: "funnel: --compare previous gives the overall steps over the previous day (no breakdown)",
  // range [06-08, 06-09) → offset 86400 s, compare period [06-07, 06-08)
  events: [
    // current: u1 (mac) converts in 1800 s; u2 (web) does not
    ev("app_open", "2023-06-08T10:00:00Z", "u1", { platform: "mac" }),
    ev("purchase", "2023-06-08T10:30:00Z", "u1"),
    ev("app_open", "2023-06-08T11:00:00Z", "u2", { platform: "web" }),
    // compare: u1 at 23:30 converts at 06-08 00:10, after the compare period's end (Δ 2400 s);
    //   u3 converts in 600 s; u4 does not; u5's app_open is before the compare period
    ev("app_open", "2023-06-07T23:30:00Z", "u1", { platform: "web" }),
    ev("purchase", "2023-06-08T00:10:00Z", "u1"),
    ev("app_open", "2023-06-07T09:00:00Z", "u3", { platform: "mac" }),
    ev("purchase", "2023-06-07T09:10:00Z", "u3"),
    ev("app_open", "2023-06-07T12:00:00Z", "u4"),
    ev("app_open", "2023-06-06T23:59:59Z", "u5"),
    ev("purchase", "2023-06-07T00:10:00Z", "u5"),
  ],
  spec: {
    kind: "funnel",
    steps: [ref("app_open"), ref("purchase")],
    withinSeconds: 3600,
    range: range("2023-06-08", "2023-06-08"),
    filters: [],
    breakdown: "platform",
    limit: 10,
    compare: "previous",
  },
  resolved: { from: "2023-06-08T00:00:00.000Z", to: "2023-06-09T00:00:00.000Z" },
  // current [2, 1], median 1800; mac {u1} [1, 1], web {u2} [1, 0] (tie on 1 user → mac < web)
  // compare {u1, u3, u4} → [3, 2], median of [2400, 600] = 1500
  expected: {
    within_seconds: 3600,
    order: "ordered",
    exclude: [],
    hold: null,
    steps: [
      { step: "app_open", users: 2, conversion: 1, from_previous: 1, median_seconds: null },
      { step: "purchase", users: 1, conversion: 0.5, from_previous: 0.5, median_seconds: 1800 },
    ],
    breakdown: [
      {
        value: "mac",
        steps: [
          { step: "app_open", users: 1, conversion: 1, from_previous: 1, median_seconds: null },
          { step: "purchase", users: 1, conversion: 1, from_previous: 1, median_seconds: 1800 },
        ],
      },
      {
        value: "web",
        steps: [
          { step: "app_open", users: 1, conversion: 1, from_previous: 1, median_seconds: null },
          { step: "purchase", users: 0, conversion: 0, from_previous: 0, median_seconds: null },
        ],
      },
    ],
    compare: {
      offset_seconds: 86400,
      steps: [
        { step: "app_open", users: 3, conversion: 1, from_previous: 1, median_seconds: null },
        { step: "purchase", users: 2, conversion: 2 / 3, from_previous: 2 / 3, median_seconds: 1500 },
      ],
    },
  },
};

const funnelTrend5m: FunnelCase = {
  name: "funnel: conversion over time by 5m over a local date-time range",
  // range [10:00, 10:15) UTC → buckets 10:00, 10:05, 10:10; window 600 s
  events: [
    ev("a", "2023-06-01T10:01:00Z", "u1"), // converts (Δ 120 s) → 10:00
    ev("b", "2023-06-01T10:03:00Z", "u1"),
    ev("a", "2023-06-01T10:07:00Z", "u2"), // never converts → 10:05
    // u3: the 10:08 attempt does not convert (its window ends 10:18), the 10:12 one does (Δ 480 s, after
    //     the range end) → placed at 10:12 → 10:10
    ev("a", "2023-06-01T10:08:00Z", "u3"),
    ev("a", "2023-06-01T10:12:00Z", "u3"),
    ev("b", "2023-06-01T10:20:00Z", "u3"),
    ev("a", "2023-06-01T09:59:59Z", "u4"), // before the range
    ev("a", "2023-06-01T10:14:59Z", "u4"), // → 10:10, not converted
    ev("a", "2023-06-01T10:15:00Z", "u5"), // = to → out
  ],
  spec: {
    kind: "funnel",
    steps: [ref("a"), ref("b")],
    withinSeconds: 600,
    range: range("2023-06-01T10:00", "2023-06-01T10:15"),
    filters: [],
    limit: 10,
    trendInterval: "5m",
  },
  resolved: { from: "2023-06-01T10:00:00.000Z", to: "2023-06-01T10:15:00.000Z" },
  // steps {u1,u2,u3,u4} → [4, 2]; median of [120, 480] = 300
  expected: {
    within_seconds: 600,
    order: "ordered",
    exclude: [],
    hold: null,
    steps: [
      { step: "a", users: 4, conversion: 1, from_previous: 1, median_seconds: null },
      { step: "b", users: 2, conversion: 0.5, from_previous: 0.5, median_seconds: 300 },
    ],
    breakdown: null,
    trend: [
      { t: "2023-06-01T10:00:00.000Z", entered: 1, converted: 1 },
      { t: "2023-06-01T10:05:00.000Z", entered: 1, converted: 0 },
      { t: "2023-06-01T10:10:00.000Z", entered: 2, converted: 1 },
    ],
  },
};

/* ====================================================================================== */
/* Retention                                                                                */
/* ====================================================================================== */

const retentionDayOn: RetentionCase = {
  name: "retention: day/on, start event counts as return (*), returns after the range, incomplete_from",
  events: [
    // u1: cohort 06-01; returns at index 0 (the signup itself), 1, 3
    ev("signed_up", "2023-06-01T10:00:00Z", "u1"),
    ev("app_open", "2023-06-02T09:00:00Z", "u1"),
    ev("app_open", "2023-06-04T10:00:00Z", "u1"),
    // u2: cohort 06-01; index 0 only
    ev("signed_up", "2023-06-01T23:00:00Z", "u2"),
    ev("app_open", "2023-06-01T23:30:00Z", "u2"),
    // u3: an earlier non-START event; cohort 06-02; returns 1 (06-03) and 3 (06-05, after the range)
    ev("app_open", "2023-05-31T12:00:00Z", "u3"),
    ev("signed_up", "2023-06-02T00:00:00Z", "u3"),
    ev("app_open", "2023-06-03T08:00:00Z", "u3"),
    ev("app_open", "2023-06-05T12:00:00Z", "u3"), // the last event of the cache
    // u4: cohort 06-03; a second signup on 06-04 is a return at index 1
    ev("signed_up", "2023-06-03T15:00:00Z", "u4"),
    ev("signed_up", "2023-06-04T15:00:00Z", "u4"),
    // u5: signed up before the range too; first START in range 06-02 10:00 → cohort 06-02;
    //     the 06-01 app_open is before that START and does not count
    ev("signed_up", "2023-05-31T10:00:00Z", "u5"),
    ev("app_open", "2023-06-01T12:00:00Z", "u5"),
    ev("signed_up", "2023-06-02T10:00:00Z", "u5"),
  ],
  spec: {
    kind: "retention",
    start: ref("signed_up"),
    return: ref("*"),
    period: "day",
    periods: 4,
    mode: "on",
    range: range("2023-06-01", "2023-06-03"),
    filters: [],
  },
  // last event 06-05 12:00: cohort 06-01 periods end 06-02..06-05 00:00 → complete;
  // 06-02: period 3 ends 06-06 → incomplete_from 3; 06-03: period 2 ends 06-06 → 2.
  // average: n0 (2+2+1)/5 = 1; n1 (1+1+1)/5 = 0.6; n2 cohorts 06-01, 06-02: (0+0)/4 = 0; n3 06-01: 1/2
  expected: {
    period: "day",
    mode: "on",
    cohort: "first",
    cohorts: [
      { cohort: "2023-06-01T00:00:00.000Z", users: 2, retained: [2, 1, 0, 1], incomplete_from: null },
      { cohort: "2023-06-02T00:00:00.000Z", users: 2, retained: [2, 1, 0, 1], incomplete_from: 3 },
      { cohort: "2023-06-03T00:00:00.000Z", users: 1, retained: [1, 1, 0, 0], incomplete_from: 2 },
    ],
    average: [1, 0.6, 0, 0.5],
  },
};

const retentionWeekBerlin: RetentionCase = {
  name: "retention: week/on-or-after in Europe/Berlin, returns only at or after the first START",
  // weeks (CEST, UTC+2): Mon 06-05 = 06-04T22:00Z, Mon 06-12 = 06-11T22:00Z, Mon 06-19 = 06-18T22:00Z
  events: [
    // u1: cohort wk1 (Mon 00:30 local); purchase in wk3 (index 2)
    ev("app_open", "2023-06-04T22:30:00Z", "u1"),
    ev("purchase", "2023-06-20T10:00:00Z", "u1"), // the last event of the cache
    // u2: an app_open on Sun 06-04 23:59:59 local is before the range; first START in range is
    //     06-12 08:00Z → cohort wk2; the purchase at 06-11T23:00Z (local Mon 01:00) is before it
    ev("app_open", "2023-06-04T21:59:59Z", "u2"),
    ev("purchase", "2023-06-11T23:00:00Z", "u2"),
    ev("app_open", "2023-06-12T08:00:00Z", "u2"),
    // u3: cohort wk1; purchase before its START does not count; one on Sun 23:59:59 local → index 0
    ev("purchase", "2023-06-07T09:00:00Z", "u3"),
    ev("app_open", "2023-06-07T10:00:00Z", "u3"),
    ev("purchase", "2023-06-11T21:59:59Z", "u3"),
    // u4: START on the last local second of the range (wk2); purchase at local Mon 00:00 → index 1
    ev("app_open", "2023-06-18T21:59:59Z", "u4"),
    ev("purchase", "2023-06-18T22:00:00Z", "u4"),
  ],
  spec: {
    kind: "retention",
    start: ref("app_open"),
    return: ref("purchase"),
    period: "week",
    periods: 3,
    mode: "on-or-after",
    range: range("2023-06-05", "2023-06-18", "Europe/Berlin"),
    filters: [],
  },
  // wk1 {u1 (max index 2), u3 (0)} → [2, 1, 1]; wk2 {u2 (none), u4 (1)} → [1, 1, 0]
  // last event 06-20T10:00Z: wk1 period 2 ends 06-25T22:00Z → incomplete_from 2; wk2 period 1 → 1
  // average: n0 (2+1)/4; n1 wk1 only 1/2; n2 none → null
  expected: {
    period: "week",
    mode: "on-or-after",
    cohort: "first",
    cohorts: [
      { cohort: "2023-06-04T22:00:00.000Z", users: 2, retained: [2, 1, 1], incomplete_from: 2 },
      { cohort: "2023-06-11T22:00:00.000Z", users: 2, retained: [1, 1, 0], incomplete_from: 1 },
    ],
    average: [0.75, 0.5, null],
  },
};

const retentionMonth: RetentionCase = {
  name: "retention: calendar months, the first cohort bucket starts before the range",
  events: [
    // u1: cohort Jan (31st 23:00); returns index 0 (itself) and 1 (Feb 1 00:00)
    ev("a", "2023-01-31T23:00:00Z", "u1"),
    ev("b", "2023-02-01T00:00:00Z", "u1"),
    // u2: cohort Feb; return on Mar 31 → index 1
    ev("a", "2023-02-10T12:00:00Z", "u2"),
    ev("c", "2023-03-31T23:59:00Z", "u2"), // the last event of the cache
    // u3: event before the range ignored for the cohort; START 01-20 → Jan; return in March → index 2
    ev("a", "2023-01-10T00:00:00Z", "u3"),
    ev("a", "2023-01-20T00:00:00Z", "u3"),
    ev("b", "2023-03-05T00:00:00Z", "u3"),
  ],
  spec: {
    kind: "retention",
    start: ref("*"),
    return: ref("*"),
    period: "month",
    periods: 2,
    mode: "on",
    range: range("2023-01-15", "2023-02-10"),
    filters: [],
  },
  // Jan {u1, u3}: [2, 1]; Feb {u2}: [1, 1], its period 1 ends Apr 1 > Mar 31 23:59 → incomplete_from 1
  // average: n0 3/3 = 1; n1 Jan only 1/2
  expected: {
    period: "month",
    mode: "on",
    cohort: "first",
    cohorts: [
      { cohort: "2023-01-01T00:00:00.000Z", users: 2, retained: [2, 1], incomplete_from: null },
      { cohort: "2023-02-01T00:00:00.000Z", users: 1, retained: [1, 1], incomplete_from: 1 },
    ],
    average: [1, 0.5],
  },
};

const retentionEmptyCohorts: RetentionCase = {
  name: "retention: empty cohorts are listed and excluded from the average; where + START filters",
  events: [
    // u1: START with plan=pro on 06-02, returns on 06-03
    ev("signed_up", "2023-06-02T10:00:00Z", "u1", { plan: "pro", country: "US" }),
    ev("app_open", "2023-06-03T10:00:00Z", "u1", { country: "US" }),
    // u2: free plan → not a START
    ev("signed_up", "2023-06-01T10:00:00Z", "u2", { plan: "free", country: "US" }),
    // u3: pro but --where country=US fails → not a START
    ev("signed_up", "2023-06-01T10:00:00Z", "u3", { plan: "pro", country: "DE" }),
    // u1's DE return does not pass --where either
    ev("app_open", "2023-06-04T10:00:00Z", "u1", { country: "DE" }),
  ],
  spec: {
    kind: "retention",
    start: ref("signed_up", f("plan", "=", "pro")),
    return: ref("app_open"),
    period: "day",
    periods: 3,
    mode: "on",
    range: range("2023-06-01", "2023-06-03"),
    filters: [f("country", "=", "US")],
  },
  // last event 06-04 10:00. 06-01: empty (complete: periods end 06-02..06-04 00:00 ≤ last);
  // 06-02 {u1}: [0, 1, 0] (app_open is RETURN, signed_up is not); period 2 ends 06-05 → incomplete 2;
  // 06-03: empty; period 1 ends 06-05 → incomplete 1.
  // average over non-empty cohorts with the cell complete: n0 0/1, n1 1/1, n2 none → null
  expected: {
    period: "day",
    mode: "on",
    cohort: "first",
    cohorts: [
      { cohort: "2023-06-01T00:00:00.000Z", users: 0, retained: [0, 0, 0], incomplete_from: null },
      { cohort: "2023-06-02T00:00:00.000Z", users: 1, retained: [0, 1, 0], incomplete_from: 2 },
      { cohort: "2023-06-03T00:00:00.000Z", users: 0, retained: [0, 0, 0], incomplete_from: 1 },
    ],
    average: [0, 1, null],
  },
};

const retentionHourNewYorkFallBack: RetentionCase = {
  name: "retention: by local hour across the New York fall-back (the repeated 01:00 hour is one period)",
  // 2023-11-05: 02:00 EDT (06:00Z) → 01:00 EST. from 00:00 EDT = 04:00Z; to 03:00 EST = 08:00Z.
  // Hour buckets: 00:00 04:00Z; 01:00 05:00Z (covers 05:00–07:00Z, both 01:xx); 02:00 07:00Z.
  // Period indexes count local wall-clock hours.
  events: [
    ev("signed_up", "2023-11-05T03:59:59Z", "u4"), // 23:59:59 EDT on 11-04 → before the range
    // u1: cohort 00:00; returns 01:50 EDT (1), 01:10 EST (1), 02:30 EST (2)
    ev("signed_up", "2023-11-05T04:10:00Z", "u1"),
    ev("app_open", "2023-11-05T05:50:00Z", "u1"),
    ev("app_open", "2023-11-05T06:10:00Z", "u1"),
    ev("app_open", "2023-11-05T07:30:00Z", "u1"),
    // u2: START at 01:20 EST (the second 01:xx) → cohort 01:00; returns 06:40Z (0) and 03:05 EST (2:
    //     three real hours after the cohort's first instant, two local hours)
    ev("signed_up", "2023-11-05T06:20:00Z", "u2"),
    ev("app_open", "2023-11-05T06:40:00Z", "u2"),
    ev("app_open", "2023-11-05T08:05:00Z", "u2"), // the last event of the cache
    // u3: START on the last second of the range → cohort 02:00; return at 03:00 EST (1)
    ev("signed_up", "2023-11-05T07:59:59Z", "u3"),
    ev("app_open", "2023-11-05T08:00:00Z", "u3"),
  ],
  spec: {
    kind: "retention",
    start: ref("signed_up"),
    return: ref("*"),
    period: "hour",
    periods: 3,
    mode: "on",
    range: range("2023-11-05T00:00", "2023-11-05T03:00", "America/New_York"),
    filters: [],
  },
  resolved: { from: "2023-11-05T04:00:00.000Z", to: "2023-11-05T08:00:00.000Z" },
  // RETURN * counts each START at index 0. u1 [1,1,1]; u2 [1,0,1]; u3 [1,1,0].
  // Period ends (the next local hour's first instant), last event 08:05Z: cohort 00:00 → 05:00Z, 07:00Z,
  // 08:00Z, all complete; cohort 01:00 → 07:00Z, 08:00Z, 09:00Z → incomplete_from 2; cohort 02:00 →
  // 08:00Z, 09:00Z → 1. average: n0 3/3; n1 (1 + 0)/2; n2 1/1
  expected: {
    period: "hour",
    mode: "on",
    cohort: "first",
    cohorts: [
      { cohort: "2023-11-05T04:00:00.000Z", users: 1, retained: [1, 1, 1], incomplete_from: null },
      { cohort: "2023-11-05T05:00:00.000Z", users: 1, retained: [1, 0, 1], incomplete_from: 2 },
      { cohort: "2023-11-05T07:00:00.000Z", users: 1, retained: [1, 1, 0], incomplete_from: 1 },
    ],
    average: [1, 0.5, 1],
  },
};

export const catalogCases: CatalogCase[] = [
  catalogBasic,
  catalogNewYork,
  catalogSkips,
  catalogEmpty,
  catalogSkippedRepeatedEnds,
  catalogInstants,
];
export const trendCases: TrendCase[] = [
  trendBreakdownEvents,
  trendBreakdownUsers,
  trendSum,
  trendAvg,
  trendTokyo,
  trendWeeksNewYork,
  trendDstDays,
  trendFilters,
  trendWhereBreakdown,
  trendEmpty,
  trendEmptyBreakdown,
  trend15mBerlinFallBack,
  trend5mBerlinSpringForward,
  trend15mKolkata,
  trendLast90m,
  trendComparePreviousEmpty,
  trendCompareBreakdown,
  trendMonthsNewYorkLocalEnds,
  ...trend27Cases,
  ...cohortTrendCases,
];
export const funnelCases: FunnelCase[] = [
  funnelBasic,
  funnelSameEvent,
  funnelSameTypeFilters,
  funnelBreakdownTrend,
  funnelWhere,
  funnelEmpty,
  funnelCompare,
  funnelTrend5m,
  ...funnelModeCases,
  ...timeToConvertCases,
  ...cohortFunnelCases,
];
export const retentionCases: RetentionCase[] = [
  retentionDayOn,
  retentionWeekBerlin,
  retentionMonth,
  retentionEmptyCohorts,
  retentionHourNewYorkFallBack,
  ...retentionModeCases,
  ...cohortRetentionCases,
];
export const goldenCases: GoldenCase[] = [...catalogCases, ...trendCases, ...funnelCases, ...retentionCases];

/* ---------- helpers for tests ---------- */

/** The JSON-lines text of a case's events (one line each, raw strings as-is). */
export function goldenLines(events: RawEvent[]): string[] {
  return events.map((e) => (typeof e === "string" ? e : JSON.stringify(e)));
}

/** The case's valid events as the brute force sees them. */
export function goldenEvents(events: RawEvent[]): BruteEvent[] {
  return goldenLines(events)
    .map(parseLine)
    .filter((e): e is BruteEvent => e !== null);
}

/**
 * Lake files for `writeLakeFiles`: lines grouped into `date=YYYY-MM-DD/part-0000.jsonl` by the UTC date
 * of their instant (lines that do not parse go with the first date), in the given order.
 */
export function goldenLakeFiles(events: RawEvent[]): Record<string, string> {
  const lines = goldenLines(events);
  const dates = lines.map((l) => {
    const e = parseLine(l);
    return e === null ? null : new Date(Math.floor(e.t / 1000)).toISOString().slice(0, 10);
  });
  const fallback = dates.find((d) => d !== null) ?? "2023-06-01";
  const files: Record<string, string> = {};
  lines.forEach((line, i) => {
    const key = `date=${dates[i] ?? fallback}/part-0000.jsonl`;
    files[key] = `${files[key] ?? ""}${line}\n`;
  });
  return files;
}

/**
 * The case's spec with a `last` case's range resolved by `lastRange(seconds, tz)` (the brute force's
 * `bruteLastRange` or the engine's `lastRange`).
 */
export function caseSpec<C extends GoldenCase>(
  c: C,
  lastRange: (seconds: number, tz: string) => DateRange,
): C["spec"] {
  const spec = c.spec as C["spec"] & { range: DateRange };
  return c.last === undefined ? spec : { ...spec, range: lastRange(c.last, spec.range.tz) };
}

/** Runs the brute force on a case (retention uses the case's last valid event as the cache's last). */
export function runBrute(c: GoldenCase): unknown {
  const events = goldenEvents(c.events);
  const spec = caseSpec(c, (seconds, tz) => bruteLastRange(events, seconds, tz));
  bindSpecCohorts(events, spec);
  switch (spec.kind) {
    case "catalog":
      return bruteCatalog(events, spec as CatalogCase["spec"]);
    case "trend":
      return spec.cohortBreakdown
        ? labelCohortTrend(bruteTrend(events, expandCohortTrend(spec)), spec)
        : bruteTrend(events, spec);
    case "funnel":
      return bruteFunnel(events, spec);
    case "retention":
      return bruteRetention(events, spec, lastEventTime(events));
  }
}
