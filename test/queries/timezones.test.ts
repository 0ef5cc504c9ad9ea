/**
 * Calendar edge cases against the brute force: DST transitions (skipped and repeated hours, a skipped
 * and a repeated local midnight, a 30-minute shift), half-hour zones, hour/day/week/month buckets, in
 * trend, funnel-over-time and retention.
 */
import { after, before, describe, test } from "node:test";
import type { DateRange, FunnelSpec, Interval, RetentionSpec, TrendSpec } from "../../src/queries/spec.js";
import {
  type BruteEvent,
  bruteFunnel,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  parseLakeText,
} from "../brute.js";
import { goldenLakeFiles } from "../golden.js";
import { assertClose, cacheFromFiles, type TestCache, withoutPartialMarks } from "./helpers.js";

/** [zone, first day, last day] windows around transitions (2023). */
const WINDOWS: [string, string, string][] = [
  ["America/New_York", "2023-03-10", "2023-03-14"], // spring forward 02:00 → 03:00
  ["America/New_York", "2023-11-03", "2023-11-07"], // fall back 02:00 → 01:00
  ["America/Santiago", "2023-03-31", "2023-04-03"], // fall back at midnight: 00:00 → 23:00
  ["America/Santiago", "2023-09-01", "2023-09-05"], // spring forward at midnight: 00:00 → 01:00
  ["Australia/Lord_Howe", "2023-03-31", "2023-04-03"], // 30-minute fall back
  ["Australia/Lord_Howe", "2023-09-29", "2023-10-03"], // 30-minute spring forward
  ["Asia/Kolkata", "2023-06-28", "2023-07-03"], // +05:30, month boundary
  ["Asia/Kathmandu", "2023-12-29", "2024-01-02"], // +05:45, year boundary
];

function makeLines(): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const [, from, to] of WINDOWS) {
    const start = Date.parse(`${from}T00:00:00Z`) - 36 * 3_600_000;
    const end = Date.parse(`${to}T00:00:00Z`) + 60 * 3_600_000;
    for (let t = start, i = 0; t < end; t += 7 * 60_000, i++) {
      const iso = new Date(t).toISOString();
      const key = `${iso}|${i % 13}`;
      if (seen.has(key)) continue;
      seen.add(key);
      out.push(
        JSON.stringify({
          event_type: i % 3 === 0 ? "a" : i % 3 === 1 ? "b" : "c",
          event_time: iso,
          user_id: `u${i % 13}`,
          event_properties: { k: i % 4 },
        }),
      );
    }
  }
  return out;
}

let tc: TestCache;
let events: BruteEvent[];
let last: number;

before(async () => {
  const lines = makeLines();
  events = parseLakeText(lines.join("\n"));
  last = lastEventTime(events);
  tc = await cacheFromFiles(goldenLakeFiles(lines));
});
after(() => tc?.close());

const INTERVALS: Interval[] = ["hour", "day", "week", "month"];

for (const [tz, from, to] of WINDOWS) {
  const range: DateRange = { from, to, tz };
  describe(`${tz} ${from}..${to}`, () => {
    for (const interval of INTERVALS) {
      test(`trend users by ${interval}`, async () => {
        const spec: TrendSpec = {
          kind: "trend",
          events: [
            { event: "a", filters: [] },
            { event: "*", filters: [] },
          ],
          measure: { kind: "users" },
          interval,
          range,
          filters: [],
          breakdown: interval === "day" ? "k" : undefined,
          limit: 2,
        };
        assertClose(withoutPartialMarks((await tc.ex.run(spec)).result), bruteTrend(events, spec));
      });
    }
    for (const trendInterval of ["day", "week"] as const) {
      test(`funnel over time by ${trendInterval}`, async () => {
        const spec: FunnelSpec = {
          kind: "funnel",
          steps: [
            { event: "a", filters: [] },
            { event: "b", filters: [{ key: "k", op: "=", value: "1" }] },
            { event: "c", filters: [] },
          ],
          withinSeconds: 1800,
          range,
          filters: [],
          limit: 10,
          trendInterval,
        };
        assertClose(withoutPartialMarks((await tc.ex.run(spec)).result), bruteFunnel(events, spec));
      });
    }
    for (const period of ["day", "week", "month"] as const) {
      // RETURN `*` takes the bitmap plan (the start event is a return); `b` the per-bucket join.
      for (const [mode, ret] of [
        ["on", "b"],
        ["on", "*"],
        ["on-or-after", "b"],
      ] as const) {
        test(`retention by ${period}, ${mode}, return ${ret}`, async () => {
          const spec: RetentionSpec = {
            kind: "retention",
            start: { event: "a", filters: [{ key: "k", op: "=", value: "0" }] },
            return: { event: ret, filters: [] },
            period,
            periods: 3,
            mode,
            range,
            filters: [],
          };
          assertClose(
            withoutPartialMarks((await tc.ex.run(spec)).result),
            bruteRetention(events, spec, last),
          );
        });
      }
    }
  });
}
