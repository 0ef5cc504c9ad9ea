import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { DateRange } from "../../src/queries/spec.js";
import { changeText, offsetText, pointsText } from "../../src/render/compare.js";
import { fittedRetention, nextPeriod } from "../../src/views/screens/RetentionScreen.js";
import { trendSpec } from "../../src/views/screens/TrendsScreen.js";
import {
  compareState,
  fitInterval,
  fittingIntervals,
  nextCompare,
  nextInterval,
  pointsOf,
} from "../../src/views/state/intervals.js";
import { initialModels } from "../../src/views/state/state.js";
import { parseRangeText } from "../../src/views/widgets/overlays.js";

const r = (from: string, to: string, tz = "UTC"): DateRange => ({ from, to, tz });

describe("intervals that fit a range", () => {
  it("counts buckets with the engine's rules and keeps those giving 2–2,000 points", () => {
    const days14 = r("2023-06-01", "2023-06-14");
    assert.equal(pointsOf(days14, "day"), 14);
    assert.equal(pointsOf(days14, "week"), 3); // Thursday 06-01 is in the week of Monday 05-29
    assert.equal(pointsOf(days14, "15m"), 1344);
    assert.deepEqual(fittingIntervals(days14), ["15m", "hour", "day", "week"]);
    const hours3 = r("2023-06-05T09:00", "2023-06-05T12:00");
    assert.equal(pointsOf(hours3, "minute"), 180);
    assert.deepEqual(fittingIntervals(hours3), ["minute", "5m", "15m", "hour"]);
    assert.deepEqual(fittingIntervals(r("2015-01-01", "2023-12-31")), ["week", "month"]);
    assert.equal(pointsOf(r("nope", "2023-06-01"), "day"), null);
    assert.deepEqual(fittingIntervals(null), []);
  });

  it("moves a misfit interval to the nearest that fits, and cycles only through fitting ones", () => {
    const days14 = r("2023-06-01", "2023-06-14");
    const hours3 = r("2023-06-05T09:00", "2023-06-05T12:00");
    assert.equal(fitInterval("day", days14), "day");
    assert.equal(fitInterval("day", hours3), "hour");
    assert.equal(fitInterval("month", hours3), "hour");
    assert.equal(fitInterval("minute", days14), "15m");
    assert.equal(fitInterval("month", days14), "week");
    assert.equal(fitInterval("hour", r("2015-01-01", "2023-12-31")), "week");
    // Nothing fits a one-minute range: the interval stays as it is.
    assert.equal(fitInterval("day", r("2023-06-05T09:00", "2023-06-05T09:01")), "day");
    const cycle = (start: Parameters<typeof nextInterval>[0], range: DateRange, n: number) => {
      const out = [];
      let iv = start;
      for (let i = 0; i < n; i++) {
        iv = nextInterval(iv, range);
        out.push(iv);
      }
      return out;
    };
    assert.deepEqual(cycle("day", days14, 4), ["week", "15m", "hour", "day"]);
    assert.deepEqual(cycle("day", hours3, 4), ["minute", "5m", "15m", "hour"]);
    // Counts are the engine's estimate (a bucket skipped by DST still counts): 24 hours on 03-26.
    assert.equal(pointsOf(r("2023-03-26", "2023-03-26", "Europe/Berlin"), "hour"), 24);
  });

  it("fits the spec the Trends screen builds, and retention periods to 1–1,000 cohorts", () => {
    const m = { ...initialModels().trends, events: [{ event: "a", filters: [] }] };
    assert.equal(trendSpec(m, r("2023-06-05T09:00", "2023-06-05T12:00"))!.interval, "hour");
    assert.equal(trendSpec({ ...m, interval: "minute" }, r("2023-06-01", "2023-06-14"))!.interval, "15m");
    assert.equal(trendSpec(m, r("2023-06-01", "2023-06-14"))!.compare, undefined);
    assert.equal(trendSpec({ ...m, compare: "1w" }, r("2023-06-01", "2023-06-14"))!.compare, "1w");
    const ret = { ...initialModels().retention, start: { event: "a", filters: [] } };
    const days14 = r("2023-06-01", "2023-06-14");
    assert.deepEqual(
      [
        nextPeriod("day", days14),
        nextPeriod("week", days14),
        nextPeriod("month", days14),
        nextPeriod("hour", days14),
      ],
      ["week", "month", "hour", "day"],
    );
    // Hourly cohorts over two years would be 17,520: the grid falls back to days.
    const years = r("2022-01-01", "2023-12-31");
    assert.equal(fittedRetention({ ...ret, period: "hour", periods: 48 }, years).period, "day");
    assert.equal(fittedRetention({ ...ret, period: "hour", periods: 48 }, years).periods, null);
    assert.equal(nextPeriod("week", years), "month");
    assert.equal(nextPeriod("month", years), "day");
    const kept = { ...ret, period: "hour" as const, periods: 48 };
    assert.equal(fittedRetention(kept, days14), kept);
  });
});

describe("compare", () => {
  it("cycles off → previous → 1d → 1w → off and states the offset", () => {
    assert.equal(nextCompare(undefined), "previous");
    assert.equal(nextCompare("previous"), "1d");
    assert.equal(nextCompare("1d"), "1w");
    assert.equal(nextCompare("1w"), undefined);
    assert.equal(nextCompare("4w"), undefined); // not offered by `c`: off
    assert.equal(compareState(undefined, null), "–");
    assert.equal(compareState("previous", r("2023-06-01", "2023-06-14")), "previous 14d");
    assert.equal(compareState("previous", r("2023-06-05T09:00", "2023-06-05T12:30")), "previous 3h 30m");
    assert.equal(compareState("1d", null), "1d before");
    assert.equal(compareState("1w", null), "1w before");
  });

  it("formats the change of totals and of conversion", () => {
    assert.equal(changeText(0.125), "Δ +12.5%");
    assert.equal(changeText(-0.03), "Δ −3.0%");
    assert.equal(changeText(0), "Δ +0.0%");
    assert.equal(changeText(null), "Δ n/a");
    const step = (users: number, conversion: number) => ({
      step: "s",
      users,
      conversion,
      from_previous: conversion,
      median_seconds: null,
    });
    assert.equal(pointsText(step(30, 0.3), step(20, 0.279)), "Δ +2.1pp");
    assert.equal(pointsText(step(30, 0.3), step(40, 0.4)), "Δ −10.0pp");
    assert.equal(pointsText(step(30, 0.3), step(0, 0)), "Δ n/a");
    assert.equal(pointsText(step(30, 0.3), undefined), "Δ n/a");
    assert.equal(offsetText(604800), "−7d");
  });
});

describe("typed date ranges", () => {
  it("reads dates and local date-times in the TUI's zone; refuses empty, reversed and zoned ranges", () => {
    assert.deepEqual(parseRangeText("2023-06-01..2023-06-05"), { from: "2023-06-01", to: "2023-06-05" });
    assert.deepEqual(parseRangeText("2023-06-05T09:00..2023-06-05T12:30"), {
      from: "2023-06-05T09:00",
      to: "2023-06-05T12:30",
    });
    assert.deepEqual(parseRangeText("2023-06-05t09:00:30 2023-06-06"), {
      from: "2023-06-05T09:00:30",
      to: "2023-06-06",
    });
    assert.throws(() => parseRangeText("2023-06-05T12:00..2023-06-05T09:00"), /is after/);
    assert.throws(() => parseRangeText("2023-06-05T09:00..2023-06-05T09:00"), /empty/);
    // A date as the end is inclusive: the day's own date-time start is inside it.
    assert.deepEqual(parseRangeText("2023-06-05T23:00..2023-06-05"), {
      from: "2023-06-05T23:00",
      to: "2023-06-05",
    });
    assert.throws(() => parseRangeText("2023-06-05T09:00"), /where the range ends/);
    assert.throws(() => parseRangeText("2023-06-05T25:00..2023-06-06"), /bad time/);
    assert.throws(() => parseRangeText("2023-06-05T09:00Z..2023-06-06"), /no zone suffix/);
    // 02:30 does not exist in Berlin on 2023-03-26 (read as 03:30 CEST, the engine's rule), so this
    // range from 03:00 to it is half an hour long there, and in UTC it is reversed.
    assert.deepEqual(parseRangeText("2023-03-26T03:00..2023-03-26T02:30", "Europe/Berlin"), {
      from: "2023-03-26T03:00",
      to: "2023-03-26T02:30",
    });
    assert.throws(() => parseRangeText("2023-03-26T03:00..2023-03-26T02:30", "UTC"), /is after/);
  });
});
