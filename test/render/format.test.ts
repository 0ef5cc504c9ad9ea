import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  formatCompact,
  formatDuration,
  formatNumber,
  formatPercent,
  isoWeek,
  timeLabel,
  timeLabels,
} from "../../src/render/format.js";

describe("numbers", () => {
  it("groups thousands", () => {
    assert.equal(formatNumber(1234567), "1,234,567");
    assert.equal(formatNumber(0), "0");
    assert.equal(formatNumber(-1234), "-1,234");
    assert.equal(formatNumber(1234.5), "1,234.5");
    assert.equal(formatNumber(2.333333), "2.33");
    assert.equal(formatNumber(null), "–");
    assert.equal(formatNumber(Number.NaN), "–");
  });

  it("compacts", () => {
    assert.equal(formatCompact(950), "950");
    assert.equal(formatCompact(1234), "1.2k");
    assert.equal(formatCompact(12345), "12.3k");
    assert.equal(formatCompact(123456), "123k");
    assert.equal(formatCompact(1_234_567), "1.2M");
    assert.equal(formatCompact(999_999), "1M");
    assert.equal(formatCompact(3_000_000_000), "3B");
    assert.equal(formatCompact(0.5), "0.5");
    assert.equal(formatCompact(-2500), "-2.5k");
    assert.equal(formatCompact(0), "0");
  });

  it("formats rates as percentages", () => {
    assert.equal(formatPercent(0.4213), "42.1%");
    assert.equal(formatPercent(1), "100.0%");
    assert.equal(formatPercent(0.5, 0), "50%");
    assert.equal(formatPercent(null), "–");
  });

  it("formats durations", () => {
    assert.equal(formatDuration(45), "45s");
    assert.equal(formatDuration(0.4), "0.4s");
    assert.equal(formatDuration(90), "1m 30s");
    assert.equal(formatDuration(720), "12m");
    assert.equal(formatDuration(3 * 3600 + 5 * 60), "3h 5m");
    assert.equal(formatDuration(3 * 3600), "3h");
    assert.equal(formatDuration(2 * 86400 + 4 * 3600 + 59), "2d 4h");
    assert.equal(formatDuration(null), "–");
  });
});

describe("time labels", () => {
  it("labels buckets per interval", () => {
    assert.equal(timeLabel("2023-06-01T16:00:00.000Z", "hour"), "06-01 16:00");
    assert.equal(timeLabel("2023-06-01T00:00:00.000Z", "day"), "06-01");
    assert.equal(timeLabel("2023-06-01T00:00:00.000Z", "day", { style: "short" }), "Jun 1");
    assert.equal(timeLabel("2023-05-29T00:00:00.000Z", "week"), "W22 05-29");
    assert.equal(timeLabel("2023-06-01T00:00:00.000Z", "month"), "2023-06");
  });

  it("uses the bucket's time zone", () => {
    // Berlin midnight of 2023-06-01 is 22:00 UTC the day before.
    assert.equal(timeLabel("2023-05-31T22:00:00.000Z", "day", { tz: "Europe/Berlin" }), "06-01");
    assert.equal(timeLabel("2023-05-31T22:00:00.000Z", "month", { tz: "Europe/Berlin" }), "2023-06");
  });

  it("computes ISO weeks", () => {
    assert.equal(isoWeek(2023, 1, 2), 1);
    assert.equal(isoWeek(2023, 1, 1), 52);
    assert.equal(isoWeek(2020, 12, 31), 53);
    assert.equal(isoWeek(2024, 12, 30), 1);
  });

  it("adds the year when day labels span years", () => {
    const labels = timeLabels(["2022-12-31T00:00:00.000Z", "2023-01-01T00:00:00.000Z"], "day");
    assert.deepEqual(labels, ["2022-12-31", "2023-01-01"]);
  });
});
