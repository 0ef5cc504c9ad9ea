/**
 * Range bounds and time rules of docs/semantics.md ("Range", "--last", "Buckets"): local date-times are
 * resolved exactly as DuckDB's own `timezone(tz, TIMESTAMP …)` resolves them (checked against DuckDB
 * itself every 15 minutes across DST transitions), `--last` ends at the minute after the latest event,
 * and too many buckets is a one-line usage error naming an interval that fits.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type DuckDBConnection, DuckDBInstance } from "@duckdb/node-api";
import { UsageError } from "../../src/queries/errors.js";
import {
  checkBuckets,
  frameOf,
  instantText,
  lastRange,
  readBound,
  resolvedRange,
  resolveLocal,
  zoneBetween,
} from "../../src/queries/time.js";

const us = (iso: string) => Date.parse(iso) * 1000;

describe("local date-times resolve as DuckDB resolves them", () => {
  let db: DuckDBInstance;
  let conn: DuckDBConnection;
  before(async () => {
    db = await DuckDBInstance.create(":memory:");
    conn = await db.connect();
  });
  after(() => {
    conn.closeSync();
  });
  // [zone, first local day, days]: spring forward, fall back, at midnight, 30 minutes, southern.
  const windows: [string, string, number][] = [
    ["Europe/Berlin", "2023-03-25", 3],
    ["Europe/Berlin", "2023-10-28", 3],
    ["America/New_York", "2023-03-12", 1],
    ["America/New_York", "2023-11-05", 1],
    ["America/Santiago", "2023-04-01", 2],
    ["America/Santiago", "2023-09-02", 2],
    ["Australia/Lord_Howe", "2023-04-02", 1],
    ["Australia/Lord_Howe", "2023-10-01", 1],
    ["Asia/Kolkata", "2023-06-01", 1],
    ["UTC", "2023-06-01", 1],
  ];
  for (const [tz, day, days] of windows) {
    test(`${tz} from ${day}, every 15 minutes`, async () => {
      const start = us(`${day}T00:00:00Z`);
      const locals = Array.from({ length: days * 96 }, (_, i) => start + i * 15 * 60_000_000);
      const r = await conn.runAndReadAll(
        `SELECT epoch_us(timezone($1, make_timestamp(l))) AS t FROM unnest($2::BIGINT[]) u(l) ORDER BY l`,
        [tz, `[${locals.join(",")}]`],
      );
      const want = r.getRowObjects().map((x) => Number(x.t));
      const z = zoneBetween(tz, start - 3 * 86_400_000_000, start + (days + 3) * 86_400_000_000);
      const got = locals.map((l) => resolveLocal(z, l));
      assert.deepEqual(got, want);
    });
  }
});

describe("range bounds", () => {
  test("readBound reads dates, local date-times and Z instants; nothing else", () => {
    assert.deepEqual(readBound("2023-06-01"), { kind: "date", us: us("2023-06-01T00:00:00Z") });
    assert.deepEqual(readBound("2023-06-01T14:05"), { kind: "local", us: us("2023-06-01T14:05:00Z") });
    assert.deepEqual(readBound("2023-06-01T14:05:09"), { kind: "local", us: us("2023-06-01T14:05:09Z") });
    assert.deepEqual(readBound("2023-06-01T14:05:09.123456Z"), {
      kind: "instant",
      us: us("2023-06-01T14:05:09Z") + 123_456,
    });
    for (const bad of [
      "2023-02-29",
      "2023-06-01T14:05Z",
      "2023-06-01T25:00",
      "2023-06-01T14:05:09+02:00",
      "",
    ])
      assert.equal(readBound(bad), null, bad);
  });

  test("instantText round-trips through readBound to the microsecond", () => {
    for (const t of [us("2023-06-01T00:00:00Z"), us("2023-06-01T14:05:09.001Z") + 7, 1]) {
      assert.equal(readBound(instantText(t))?.us, t);
    }
  });

  test("dates are inclusive days, date-times exclusive instants, and they mix", () => {
    const r = (from: string, to: string, tz = "UTC") => resolvedRange({ from, to, tz });
    assert.deepEqual(r("2023-06-01", "2023-06-01"), {
      from: "2023-06-01T00:00:00.000Z",
      to: "2023-06-02T00:00:00.000Z",
      tz: "UTC",
    });
    assert.deepEqual(r("2023-06-01", "2023-06-01T14:30", "Europe/Berlin"), {
      from: "2023-05-31T22:00:00.000Z",
      to: "2023-06-01T12:30:00.000Z",
      tz: "Europe/Berlin",
    });
    assert.deepEqual(r("2023-06-01T14:30:15", "2023-06-02", "Asia/Kolkata"), {
      from: "2023-06-01T09:00:15.000Z",
      to: "2023-06-02T18:30:00.000Z",
      tz: "Asia/Kolkata",
    });
    // Spring forward: 02:30 does not exist in Berlin on 2023-03-26 (read with +01:00 → 01:30Z);
    // fall back: 02:30 exists twice on 2023-10-29 (the second, +01:00 → 01:30Z).
    assert.equal(r("2023-03-26T02:30", "2023-03-27", "Europe/Berlin").from, "2023-03-26T01:30:00.000Z");
    assert.equal(r("2023-10-29T02:30", "2023-10-30", "Europe/Berlin").from, "2023-10-29T01:30:00.000Z");
    // A date still means the first instant of the local day, even when midnight is skipped.
    assert.equal(r("2023-09-03", "2023-09-03", "America/Santiago").from, "2023-09-03T04:00:00.000Z");
  });

  test("--last ends at the start of the minute after the latest event", () => {
    assert.deepEqual(lastRange(us("2023-06-01T14:44:59.900Z"), 90 * 60, "Europe/Berlin"), {
      from: "2023-06-01T13:15:00.000Z",
      to: "2023-06-01T14:45:00.000Z",
      tz: "Europe/Berlin",
    });
    // An event exactly on a minute is inside [end − D, end): end is the next minute.
    assert.equal(lastRange(us("2023-06-01T14:45:00Z"), 60, "UTC").to, "2023-06-01T14:46:00.000Z");
  });

  test("more than 10,000 buckets is a usage error naming an interval that fits", () => {
    const frame = (from: string, to: string, tz = "UTC") => frameOf({ from, to, tz });
    // Exactly 10,000 minutes is allowed; one more is not.
    assert.doesNotThrow(() => checkBuckets(frame("2023-06-01T00:00", "2023-06-07T22:40"), "minute"));
    assert.throws(
      () => checkBuckets(frame("2023-06-01T00:00", "2023-06-07T22:41"), "minute"),
      (e: Error) =>
        e instanceof UsageError &&
        e.message ===
          "minute buckets over this range would be more than 10,000 points; use --interval 5m or a shorter range",
    );
    // Two years of hours: the suggestion is days; retention says --period.
    assert.throws(() => checkBuckets(frame("2022-01-01", "2023-12-31"), "hour"), /use --interval day/);
    assert.throws(
      () => checkBuckets(frame("2022-01-01", "2023-12-31"), "hour", "period"),
      /hour periods .* use --period day/,
    );
    assert.doesNotThrow(() => checkBuckets(frame("1990-01-01", "2099-12-31"), "month"));
  });
});
