/**
 * The SQL engine against the brute-force reference (test/brute.ts) on a synthetic lake: every
 * analysis, several specs each, three time zones.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildQuery, shapeResult } from "../../src/queries/executor.js";
import { parseEventRef as ref, parseFilter as where } from "../../src/queries/parse.js";
import type {
  AnalysisSpec,
  CatalogSpec,
  DateRange,
  FunnelSpec,
  RetentionSpec,
  TrendSpec,
} from "../../src/queries/spec.js";
import { generateLake } from "../../src/source/synthetic.js";
import {
  type BruteEvent,
  bruteCatalog,
  bruteFunnel,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  loadLake,
} from "../brute.js";
import { assertClose, cacheFromLake, type TestCache } from "./helpers.js";

const EVENTS = Number(process.env.EVX_XCHECK_EVENTS ?? 30_000);

let tc: TestCache;
let events: BruteEvent[];
let last: number;
let root: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "evx-xcheck-"));
  const lake = join(root, "lake");
  await generateLake({ dir: lake, events: EVENTS, days: 28, seed: 7, usersPer: 30 });
  tc = await cacheFromLake(lake, root);
  events = await loadLake(lake);
  last = lastEventTime(events);
});

after(() => {
  tc?.close();
  rmSync(root, { recursive: true, force: true });
});

const full = (tz: string): DateRange => ({ from: "2023-06-01", to: "2023-06-28", tz });
const part = (tz: string): DateRange => ({ from: "2023-06-04", to: "2023-06-21", tz });

async function check(spec: AnalysisSpec, expected: unknown): Promise<void> {
  const out = await tc.ex.run(spec);
  assertClose(out.result, expected);
  // Without the cache context the builders take their generic plans (count(DISTINCT) instead of
  // bitmaps): same answer.
  assertClose(shapeResult(spec, await tc.ex.query(buildQuery(spec))), expected);
}

const trend = (t: Partial<TrendSpec> & Pick<TrendSpec, "events" | "range">): TrendSpec => ({
  kind: "trend",
  measure: { kind: "events" },
  interval: "day",
  filters: [],
  limit: 10,
  ...t,
});
const funnel = (f: Partial<FunnelSpec> & Pick<FunnelSpec, "steps" | "range">): FunnelSpec => ({
  kind: "funnel",
  withinSeconds: 3600,
  filters: [],
  limit: 10,
  ...f,
});
const retention = (
  r: Partial<RetentionSpec> & Pick<RetentionSpec, "start" | "range" | "period" | "mode">,
): RetentionSpec => ({
  kind: "retention",
  return: ref("*"),
  periods: 7,
  filters: [],
  ...r,
});

describe("catalog", () => {
  for (const range of [full("UTC"), part("America/New_York"), part("Asia/Kolkata")]) {
    test(`catalog ${range.tz} ${range.from}..${range.to}`, async () => {
      const spec: CatalogSpec = { kind: "catalog", range };
      await check(spec, bruteCatalog(events, { ...spec, range }));
    });
  }
});

const trends: [string, TrendSpec][] = [
  [
    "events/day, two events, UTC",
    trend({ events: [ref("button_clicked"), ref("file_saved")], range: full("UTC") }),
  ],
  [
    "users/hour of *, Kolkata, part range",
    trend({ events: [ref("*")], measure: { kind: "users" }, interval: "hour", range: part("Asia/Kolkata") }),
  ],
  [
    "per-user/week, event filters, New York",
    trend({
      events: [
        ref("button_clicked[button_name=save]"),
        ref("file_saved[autosave=true]"),
        ref("zoom[level>=1.5]"),
      ],
      measure: { kind: "per-user" },
      interval: "week",
      range: full("America/New_York"),
    }),
  ],
  [
    "sum:revenue/day by currency, limit 2, UTC",
    trend({
      events: [ref("purchase")],
      measure: { kind: "sum", key: "revenue" },
      breakdown: "currency",
      limit: 2,
      range: full("UTC"),
    }),
  ],
  [
    "avg:size_kb/month by file_name, limit 3, New York",
    trend({
      events: [ref("file_saved")],
      measure: { kind: "avg", key: "size_kb" },
      interval: "month",
      breakdown: "file_name",
      limit: 3,
      range: full("America/New_York"),
    }),
  ],
  [
    "users/day by referrer with --where, Kolkata",
    trend({
      events: [ref("signed_up")],
      measure: { kind: "users" },
      breakdown: "referrer",
      filters: [where("plan != free")],
      range: part("Asia/Kolkata"),
    }),
  ],
  [
    "events/week with in, ~, numeric and text comparisons",
    trend({
      events: [
        ref("zoom[direction in in,out][level>1]"),
        ref("error_shown[message~DISK]"),
        ref("application_opened[app_version<3]"),
      ],
      interval: "week",
      range: full("UTC"),
    }),
  ],
  [
    "events/day by an object-valued key (screen) and !set / set",
    trend({
      events: [ref("application_opened"), ref("signed_up[referrer !set]"), ref("signed_up[referrer set]")],
      breakdown: "screen",
      limit: 1,
      range: part("America/New_York"),
    }),
  ],
  [
    "per-user/hour by button_name, limit 0 (everything in other)",
    trend({
      events: [ref("button_clicked")],
      measure: { kind: "per-user" },
      interval: "hour",
      breakdown: "button_name",
      limit: 0,
      range: { from: "2023-06-10", to: "2023-06-11", tz: "UTC" },
    }),
  ],
];

describe("trend", () => {
  for (const [name, spec] of trends) test(name, () => check(spec, bruteTrend(events, spec)));
});

const funnels: [string, FunnelSpec][] = [
  [
    "3 steps within 1h, UTC",
    funnel({
      steps: [ref("application_opened"), ref("button_clicked[button_name=save]"), ref("file_saved")],
      range: full("UTC"),
    }),
  ],
  [
    "repeated step, breakdown platform limit 2, trend by day, New York",
    funnel({
      steps: [ref("application_opened"), ref("button_clicked"), ref("button_clicked"), ref("file_saved")],
      withinSeconds: 1800,
      breakdown: "platform",
      limit: 2,
      trendInterval: "day",
      range: part("America/New_York"),
    }),
  ],
  [
    "any event → purchase within a day, trend by week, Kolkata",
    funnel({
      steps: [ref("*"), ref("purchase")],
      withinSeconds: 86_400,
      trendInterval: "week",
      range: part("Asia/Kolkata"),
    }),
  ],
  [
    "5 steps with two repeats, breakdown app_version",
    funnel({
      steps: [
        ref("application_opened"),
        ref("file_opened"),
        ref("file_saved"),
        ref("file_saved"),
        ref("application_closed"),
      ],
      withinSeconds: 7200,
      breakdown: "app_version",
      range: full("UTC"),
    }),
  ],
  [
    "same event three times (non-adjacent repeat) with --where",
    funnel({
      steps: [
        ref("button_clicked"),
        ref("zoom"),
        ref("button_clicked"),
        ref("button_clicked[screen=editor]"),
      ],
      withinSeconds: 600,
      filters: [where("screen != home")],
      range: full("America/New_York"),
    }),
  ],
  [
    "2 steps with breakdown on an unset-heavy key, limit 1",
    funnel({
      steps: [ref("signed_up"), ref("purchase")],
      withinSeconds: 7 * 86_400,
      breakdown: "referrer",
      limit: 1,
      trendInterval: "week",
      range: full("UTC"),
    }),
  ],
];

describe("funnel", () => {
  for (const [name, spec] of funnels) test(name, () => check(spec, bruteFunnel(events, spec)));
});

const retentions: [string, RetentionSpec][] = [
  [
    "signed_up → * by day, on, UTC",
    retention({ start: ref("signed_up"), period: "day", mode: "on", range: full("UTC") }),
  ],
  [
    "application_opened → purchase by week, on-or-after, New York",
    retention({
      start: ref("application_opened"),
      return: ref("purchase"),
      period: "week",
      periods: 4,
      mode: "on-or-after",
      range: full("America/New_York"),
    }),
  ],
  [
    "* → file_saved by month, on, Kolkata",
    retention({
      start: ref("*"),
      return: ref("file_saved"),
      period: "month",
      periods: 2,
      mode: "on",
      range: part("Asia/Kolkata"),
    }),
  ],
  [
    "filtered start and return by day, on-or-after, part range, New York",
    retention({
      start: ref("signed_up[plan in pro,team]"),
      return: ref("button_clicked[button_name=save]"),
      period: "day",
      periods: 10,
      mode: "on-or-after",
      range: part("America/New_York"),
    }),
  ],
  [
    "with --where, by week, on, Kolkata",
    retention({
      start: ref("application_opened"),
      return: ref("application_opened"),
      period: "week",
      periods: 5,
      mode: "on",
      filters: [where("platform in mac,windows")],
      range: part("Asia/Kolkata"),
    }),
  ],
  [
    "filtered start, same event as return without filters (bitmap plan), by day, on",
    retention({
      start: ref("button_clicked[button_name=save]"),
      return: ref("button_clicked"),
      period: "day",
      periods: 7,
      mode: "on",
      range: part("UTC"),
    }),
  ],
  [
    "return narrower than start (per-bucket plan), by week, on, New York",
    retention({
      start: ref("button_clicked"),
      return: ref("button_clicked[button_name=save]"),
      period: "week",
      periods: 3,
      mode: "on",
      range: full("America/New_York"),
    }),
  ],
];

describe("retention", () => {
  for (const [name, spec] of retentions) test(name, () => check(spec, bruteRetention(events, spec, last)));
});
