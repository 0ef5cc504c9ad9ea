/**
 * The brute-force reference against hand-worked answers (test/golden.ts), plus unit checks of its
 * parsing, filter and time-zone helpers.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { DateRange, TrendSpec } from "../src/queries/spec.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import {
  type BruteEvent,
  bruteFunnel,
  bruteLastRange,
  bruteRange,
  bruteRetention,
  bruteTrend,
  castDouble,
  firstInstantFrom,
  loadLake,
  localHourIndex,
  matchFilter,
  parseEventTime,
  parseInstant,
  parseLakeText,
  propText,
  rangeBuckets,
  rangeMicros,
  resolveLocal,
} from "./brute.js";
import { caseSpec, goldenCases, goldenEvents, goldenLakeFiles, goldenLines, runBrute } from "./golden.js";

const us = (iso: string) => Date.parse(iso) * 1000;
const iso = (micros: number) => new Date(micros / 1000).toISOString();

describe("golden cases (hand-worked answers)", () => {
  for (const c of goldenCases) {
    test(c.name, () => {
      assert.deepStrictEqual(runBrute(c), c.expected);
      if (c.resolved !== undefined) {
        const events = goldenEvents(c.events);
        const spec = caseSpec(c, (seconds, tz) => bruteLastRange(events, seconds, tz));
        const range = (spec as { range: DateRange }).range;
        assert.deepStrictEqual(bruteRange(range), { ...c.resolved, tz: range.tz });
      }
    });
  }
});

describe("lake loading", () => {
  const dir = mkdtempSync(join(tmpdir(), "evx-brute-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("reads .jsonl/.ndjson/.json, gzipped or not, recursively; ignores other files", async () => {
    const line = (t: string, u: string) =>
      JSON.stringify({ event_type: "e", event_time: t, user_id: u, event_properties: { k: u } });
    writeLakeFiles(dir, {
      "date=2023-06-01/part-0000.jsonl": `${line("2023-06-01T00:00:00Z", "a")}\n\n`,
      "date=2023-06-01/part-0015.jsonl.gz": `${line("2023-06-01T00:15:00Z", "b")}\r\n`,
      "date=2023-06-02/deep/x.ndjson": `${line("2023-06-02T00:00:00Z", "c")}\nbroken\n`,
      "date=2023-06-02/y.json.gz": line("2023-06-02T01:00:00Z", "d"),
      "date=2023-06-02/_SUCCESS": "",
      "date=2023-06-02/notes.txt": line("2023-06-02T02:00:00Z", "z"),
    });
    const events = await loadLake(dir);
    assert.deepStrictEqual(events.map((e) => e.user).sort(), ["a", "b", "c", "d"]);
    assert.deepStrictEqual(
      events.find((e) => e.user === "b"),
      { type: "e", t: us("2023-06-01T00:15:00Z"), user: "b", props: { k: "b" } },
    );
  });

  test("golden lake files hold exactly the golden events", async () => {
    for (const c of goldenCases) {
      const d = join(dir, `g${goldenCases.indexOf(c)}`);
      writeLakeFiles(d, goldenLakeFiles(c.events));
      const key = (e: { t: number; user: string; type: string }) => `${e.t}|${e.user}|${e.type}`;
      assert.deepStrictEqual(
        (await loadLake(d)).map(key).sort(),
        goldenEvents(c.events).map(key).sort(),
        c.name,
      );
    }
  });

  test("skips invalid lines and keeps microseconds", () => {
    const text = [
      '{"event_type":"a","event_time":"2023-06-01T10:00:00.123456Z","user_id":"u"}',
      '{"event_type":"a","event_time":"2023-06-01T10:00:00.123456Z","user_id":""}',
      '{"event_type":null,"event_time":"2023-06-01T10:00:00Z","user_id":"u"}',
      '{"event_type":"a","event_time":"1969-12-31T23:59:59Z","user_id":"u"}',
      '{"event_type":"a","event_time":"2100-01-01T00:00:00Z","user_id":"u"}',
      '{"event_type":"a","event_time":true,"user_id":"u"}',
      '{"event_type":7,"event_time":"2023-06-01T10:00:00Z","user_id":8,"event_properties":[1]}',
      "{",
    ].join("\n");
    const events = parseLakeText(text);
    assert.deepStrictEqual(events, [
      { type: "a", t: 1685613600123456, user: "u", props: {} },
      { type: "7", t: 1685613600000000, user: "8", props: {} },
    ]);
  });
});

describe("event_time parsing", () => {
  const cases: [unknown, string | null][] = [
    ["2023-06-01T10:00:00Z", "2023-06-01T10:00:00.000Z"],
    ["2023-06-01T10:00:00", "2023-06-01T10:00:00.000Z"], // no offset = UTC
    ["2023-06-01 10:00:00+02:00", "2023-06-01T08:00:00.000Z"],
    ["2023-06-01T10:00:00-0530", "2023-06-01T15:30:00.000Z"],
    ["2023-06-01T10:00:00+02", "2023-06-01T08:00:00.000Z"],
    ["2023-06-01", "2023-06-01T00:00:00.000Z"],
    ["2023-06-01T10:00", "2023-06-01T10:00:00.000Z"],
    ["2023-06-01T24:00:00Z", "2023-06-02T00:00:00.000Z"],
    [" 2023-06-01T10:00:00Z ", "2023-06-01T10:00:00.000Z"],
    ["2023-06-01T25:00:00Z", null],
    ["2023-06-31T10:00:00Z", null],
    ["2024-02-29T10:00:00Z", "2024-02-29T10:00:00.000Z"],
    ["2023-02-29T10:00:00Z", null],
    ["2023-06-01t10:00:00z", null],
    ["June 1 2023", null],
    ["", null],
    [1685613600, "2023-06-01T10:00:00.000Z"], // epoch seconds
    [1685613600123, "2023-06-01T10:00:00.123Z"], // epoch milliseconds
    ["1685613600123456", "2023-06-01T10:00:00.123Z"], // epoch microseconds
  ];
  for (const [input, want] of cases) {
    test(JSON.stringify(input), () => {
      const t = parseEventTime(input);
      assert.equal(t === null ? null : iso(t), want);
    });
  }

  test("microseconds survive; extra digits are truncated", () => {
    assert.equal(parseInstant("2023-06-01T10:00:00.123456Z"), 1685613600123456);
    assert.equal(parseInstant("2023-06-01T10:00:00.1234569Z"), 1685613600123456);
    assert.equal(parseInstant("2023-06-01T10:00:00.5Z"), 1685613600500000);
    assert.equal(parseInstant("2023-06-01T10:00:00.000001+02:00"), 1685606400000001);
    assert.equal(parseEventTime(1685613600.1234567), 1685613600123457);
  });
});

describe("property text and filters", () => {
  test("propText", () => {
    assert.equal(propText("x"), "x");
    assert.equal(propText(1.5), "1.5");
    assert.equal(propText(10), "10");
    assert.equal(propText(true), "true");
    assert.equal(propText({ a: 1, b: [1, "x"] }), '{"a":1,"b":[1,"x"]}');
    assert.equal(propText([]), "[]");
    assert.equal(propText(""), "");
    assert.equal(propText(null), null);
    assert.equal(propText(undefined), null);
  });

  test("castDouble follows TRY_CAST(text AS DOUBLE)", () => {
    assert.equal(castDouble(" 1.5 "), 1.5);
    assert.equal(castDouble("+.5e1"), 5);
    assert.equal(castDouble("5."), 5);
    assert.equal(castDouble("1_000"), 1000);
    assert.equal(castDouble("-inf"), Number.NEGATIVE_INFINITY);
    assert.ok(Number.isNaN(castDouble("NaN") as number));
    for (const bad of ["", "abc", "0x10", "1,5", "1.5e", "--1", "true", "_1", "1__0"])
      assert.equal(castDouble(bad), null, bad);
  });

  test("keys are own properties only", () => {
    assert.equal(matchFilter({}, { key: "constructor", op: "set" }), false);
    assert.equal(matchFilter({}, { key: "toString", op: "!set" }), true);
    assert.equal(
      matchFilter(JSON.parse('{"__proto__":"x"}'), { key: "__proto__", op: "=", value: "x" }),
      true,
    );
  });

  test("numeric vs text rules", () => {
    const p = { v: "007", w: "abc", big: 1e21, neg: "-0" };
    assert.equal(matchFilter(p, { key: "v", op: "=", value: "7" }), true); // numeric: 007 → 7
    assert.equal(matchFilter(p, { key: "v", op: "=", value: "7.0" }), true);
    assert.equal(matchFilter(p, { key: "v", op: "=", value: "+7" }), false); // "+7" is not numeric → text
    assert.equal(matchFilter(p, { key: "w", op: ">", value: "1" }), false); // non-numeric text never matches
    assert.equal(matchFilter(p, { key: "w", op: "!=", value: "1" }), true);
    assert.throws(() => matchFilter(p, { key: "w", op: ">", value: "ab" }), /not a number/); // a usage error in evx
    assert.equal(matchFilter(p, { key: "big", op: "=", value: "1e21" }), true);
    assert.equal(matchFilter(p, { key: "neg", op: "=", value: "0" }), true);
    assert.equal(matchFilter(p, { key: "w", op: "in", value: ["x", "abc"] }), true);
    assert.equal(matchFilter(p, { key: "w", op: "in", value: "x,abc" }), true);
    assert.equal(matchFilter(p, { key: "missing", op: "~", value: "" }), false);
    assert.equal(matchFilter(p, { key: "w", op: "~", value: "" }), true);
  });
});

describe("time zones", () => {
  test("local hour index in New York across the spring-forward gap", () => {
    const lhi = (t: string) => localHourIndex("America/New_York", us(t));
    // 2023-03-12 01:59:59 EST → 03:00 EDT: local hour jumps from 1 to 3
    assert.equal(lhi("2023-03-12T06:59:59Z") % 24, 1);
    assert.equal(lhi("2023-03-12T07:00:00Z") % 24, 3);
  });

  test("start of a local day or hour", () => {
    const start = (tz: string, y: number, m: number, d: number, h = 0) =>
      iso(firstInstantFrom(tz, Date.UTC(y, m - 1, d, h) * 1000));
    assert.equal(start("America/New_York", 2023, 3, 12), "2023-03-12T05:00:00.000Z");
    assert.equal(start("America/New_York", 2023, 3, 13), "2023-03-13T04:00:00.000Z");
    assert.equal(start("Asia/Tokyo", 2023, 6, 1), "2023-05-31T15:00:00.000Z");
    assert.equal(start("Asia/Kolkata", 2023, 6, 1, 5), "2023-05-31T23:30:00.000Z");
    // skipped local hour 02:00 → the first instant after it (03:00 EDT)
    assert.equal(start("America/New_York", 2023, 3, 12, 2), "2023-03-12T07:00:00.000Z");
    // Santiago skips local midnight on 2023-09-03 (00:00 → 01:00): the day starts at 01:00 -03
    assert.equal(start("America/Santiago", 2023, 9, 3), "2023-09-03T04:00:00.000Z");
    // fall-back repeated hour 01:00 EDT/EST: the bucket starts at its first occurrence
    assert.equal(start("America/New_York", 2023, 11, 5, 1), "2023-11-05T05:00:00.000Z");
  });

  test("ranges and buckets", () => {
    const r = rangeMicros({ from: "2023-06-01", to: "2023-06-01", tz: "Europe/Berlin" });
    assert.equal(iso(r.start), "2023-05-31T22:00:00.000Z");
    assert.equal(iso(r.end), "2023-06-01T22:00:00.000Z");
    const weeks = rangeBuckets("week", { from: "2023-06-01", to: "2023-06-12", tz: "UTC" });
    assert.deepStrictEqual(
      weeks.map((b) => iso(b.start)),
      ["2023-05-29T00:00:00.000Z", "2023-06-05T00:00:00.000Z", "2023-06-12T00:00:00.000Z"],
    );
    const months = rangeBuckets("month", { from: "2023-01-31", to: "2023-03-01", tz: "Asia/Tokyo" });
    assert.deepStrictEqual(
      months.map((b) => iso(b.start)),
      ["2022-12-31T15:00:00.000Z", "2023-01-31T15:00:00.000Z", "2023-02-28T15:00:00.000Z"],
    );
    // hour buckets on the spring-forward day: 23 of them (02:00 does not exist)
    const hours = rangeBuckets("hour", { from: "2023-03-12", to: "2023-03-12", tz: "America/New_York" });
    assert.equal(hours.length, 23);
    assert.equal(new Set(hours.map((b) => b.start)).size, 23);
    // hour buckets on the fall-back day: 24 local hour keys, the repeated 01:00 is one bucket
    const fall = rangeBuckets("hour", { from: "2023-11-05", to: "2023-11-05", tz: "America/New_York" });
    assert.equal(fall.length, 24);
  });

  test("local date-times resolve as DuckDB's timezone(tz, TIMESTAMP …) (checked against DuckDB)", () => {
    const cases: [string, string, string][] = [
      // skipped (spring forward): read with the offset before the change
      ["Europe/Berlin", "2023-03-26T02:30", "2023-03-26T01:30:00.000Z"],
      ["America/New_York", "2023-03-12T02:30", "2023-03-12T07:30:00.000Z"],
      ["Australia/Lord_Howe", "2023-10-01T02:10", "2023-09-30T15:40:00.000Z"], // 30-minute gap
      ["America/Santiago", "2023-09-03T00:00", "2023-09-03T04:00:00.000Z"], // skipped midnight
      // repeated (fall back): the second occurrence
      ["Europe/Berlin", "2023-10-29T02:30", "2023-10-29T01:30:00.000Z"],
      ["America/New_York", "2023-11-05T01:30", "2023-11-05T06:30:00.000Z"],
      ["Australia/Lord_Howe", "2023-04-02T01:45", "2023-04-01T15:15:00.000Z"], // 30-minute overlap
      // ordinary: with seconds, and the edges of a change
      ["Europe/Berlin", "2023-06-01T10:00:30", "2023-06-01T08:00:30.000Z"],
      ["Europe/Berlin", "2023-10-29T03:00", "2023-10-29T02:00:00.000Z"],
      ["Europe/Berlin", "2023-10-29T01:59:59", "2023-10-28T23:59:59.000Z"],
      ["Europe/Berlin", "2023-03-26T03:00", "2023-03-26T01:00:00.000Z"],
      ["Asia/Kolkata", "2023-06-01T00:00", "2023-05-31T18:30:00.000Z"],
    ];
    for (const [tz, local, want] of cases) {
      assert.equal(iso(resolveLocal(tz, Date.parse(`${local}Z`) * 1000)), want, `${tz} ${local}`);
      assert.equal(bruteRange({ from: local, to: "2099-01-01", tz }).from, want, `${tz} ${local} as from`);
      assert.equal(bruteRange({ from: "1999-01-01", to: local, tz }).to, want, `${tz} ${local} as to`);
    }
  });

  test("range ends: dates, date-times, instants", () => {
    assert.deepStrictEqual(bruteRange({ from: "2023-06-01", to: "2023-06-01", tz: "Asia/Kolkata" }), {
      from: "2023-05-31T18:30:00.000Z",
      to: "2023-06-01T18:30:00.000Z",
      tz: "Asia/Kolkata",
    });
    // a date `to` is the next date's first instant; Santiago's 2023-09-03 starts at 01:00 -03
    assert.equal(
      bruteRange({ from: "2023-09-02", to: "2023-09-02", tz: "America/Santiago" }).to,
      "2023-09-03T04:00:00.000Z",
    );
    // an instant `from` keeps its microseconds (ISO output shows milliseconds); 10:00 Berlin is 08:00Z
    const r = { from: "2023-06-01T07:59:59.123456Z", to: "2023-06-01T10:00", tz: "Europe/Berlin" };
    assert.deepStrictEqual(rangeMicros(r), {
      start: us("2023-06-01T07:59:59Z") + 123456,
      end: us("2023-06-01T08:00:00Z"),
    });
    assert.deepStrictEqual(bruteRange(r), {
      from: "2023-06-01T07:59:59.123Z",
      to: "2023-06-01T08:00:00.000Z",
      tz: r.tz,
    });
  });

  test("empty, reversed or malformed ranges throw", () => {
    const bad: [string, string][] = [
      ["2023-06-01T10:00", "2023-06-01T10:00"],
      ["2023-06-02", "2023-06-01"],
      ["2023-06-01T10:00Z", "2023-06-01T09:00Z"],
      ["2023-06-01T10:00+02:00", "2023-06-02"],
      ["2023-06-01T24:00", "2023-06-02"],
      ["2023-02-30", "2023-03-01"],
      ["2023-06-01 10:00", "2023-06-02"],
    ];
    for (const [from, to] of bad) assert.throws(() => rangeMicros({ from, to, tz: "UTC" }), `${from}..${to}`);
    // Berlin 02:30 on 10-29 is 01:30Z (second occurrence), 02:15 is 01:15Z: reversed
    assert.throws(() =>
      rangeMicros({ from: "2023-10-29T02:30", to: "2023-10-29T02:15", tz: "Europe/Berlin" }),
    );
  });

  test("--last ends at the start of the UTC minute after the latest event", () => {
    const at = (...ts: string[]): BruteEvent[] =>
      ts.map((t) => ({ type: "e", t: us(t), user: "u", props: {} }));
    assert.deepStrictEqual(
      bruteLastRange(at("2023-06-01T10:00:00Z", "2023-06-01T14:44:59.9Z"), 5400, "UTC"),
      {
        from: "2023-06-01T13:15:00.000Z",
        to: "2023-06-01T14:45:00.000Z",
        tz: "UTC",
      },
    );
    // an event exactly on a minute is in the range: the end is the next minute
    assert.deepStrictEqual(bruteLastRange(at("2023-06-01T14:45:00Z"), 7 * 86400, "Asia/Kolkata"), {
      from: "2023-05-25T14:46:00.000Z",
      to: "2023-06-01T14:46:00.000Z",
      tz: "Asia/Kolkata",
    });
    assert.throws(() => bruteLastRange([], 60, "UTC"));
  });

  test("sub-hour buckets of local wall-clock time", () => {
    const starts = (interval: Parameters<typeof rangeBuckets>[0], range: DateRange) =>
      rangeBuckets(interval, range).map((b) => iso(b.start));
    // Kathmandu (+05:45): 15-minute buckets at local :00/:15/:30/:45 = :15/:30/:45/:00 UTC
    assert.deepStrictEqual(
      starts("15m", { from: "2023-06-01T06:00", to: "2023-06-01T06:40", tz: "Asia/Kathmandu" }),
      ["2023-06-01T00:15:00.000Z", "2023-06-01T00:30:00.000Z", "2023-06-01T00:45:00.000Z"],
    );
    // minute buckets of a range starting mid-minute: the first bucket starts before the range
    assert.deepStrictEqual(
      starts("minute", { from: "2023-06-01T10:00:30Z", to: "2023-06-01T10:02:00Z", tz: "UTC" }),
      ["2023-06-01T10:00:00.000Z", "2023-06-01T10:01:00.000Z"],
    );
    // New York spring forward: 5m buckets 01:55 EST, then 03:00 EDT (02:00–02:55 do not exist)
    assert.deepStrictEqual(
      starts("5m", { from: "2023-03-12T01:55", to: "2023-03-12T03:10", tz: "America/New_York" }),
      ["2023-03-12T06:55:00.000Z", "2023-03-12T07:00:00.000Z", "2023-03-12T07:05:00.000Z"],
    );
    // Lord Howe's 30-minute gap (02:00 → 02:30): the 02:00 hour exists from 02:30, 02:00–02:25 5m do not
    assert.deepStrictEqual(
      starts("5m", { from: "2023-10-01T01:55", to: "2023-10-01T02:35", tz: "Australia/Lord_Howe" }),
      ["2023-09-30T15:25:00.000Z", "2023-09-30T15:30:00.000Z"],
    );
    assert.deepStrictEqual(
      starts("hour", { from: "2023-10-01T01:55", to: "2023-10-01T02:35", tz: "Australia/Lord_Howe" }),
      ["2023-09-30T14:30:00.000Z", "2023-09-30T15:30:00.000Z"],
    );
    // a range starting inside the repeated Berlin hour (second occurrence): the bucket of 02:30 is
    // reported by its first (CEST) instant, and the range's CET 02:xx instants add no new bucket
    assert.deepStrictEqual(
      starts("15m", { from: "2023-10-29T02:30", to: "2023-10-29T03:10", tz: "Europe/Berlin" }),
      ["2023-10-29T00:30:00.000Z", "2023-10-29T00:45:00.000Z", "2023-10-29T02:00:00.000Z"],
    );
    // …and a range from 02:40 CEST to 02:20 CET covers 02:40–02:59 and 02:00–02:19: every 15m bucket
    // of the 02:00 hour, in local-time order, from a range that starts at the 02:30 bucket
    assert.deepStrictEqual(
      starts("15m", { from: "2023-10-29T00:40:00Z", to: "2023-10-29T01:20:00Z", tz: "Europe/Berlin" }),
      [
        "2023-10-29T00:00:00.000Z",
        "2023-10-29T00:15:00.000Z",
        "2023-10-29T00:30:00.000Z",
        "2023-10-29T00:45:00.000Z",
      ],
    );
  });

  test("more than 10,000 buckets throw; 10,000 do not", () => {
    const spec = (to: string): TrendSpec => ({
      kind: "trend",
      events: [{ event: "e", filters: [] }],
      measure: { kind: "events" },
      interval: "minute",
      range: { from: "2023-06-01T00:00", to, tz: "UTC" },
      filters: [],
      limit: 10,
    });
    // 10,000 minutes = 6 days 22:40
    assert.equal(bruteTrend([], spec("2023-06-07T22:40")).series[0].points.length, 10_000);
    assert.throws(() => bruteTrend([], spec("2023-06-07T22:41")), /10000|coarser/);
    assert.throws(() =>
      bruteFunnel([], {
        kind: "funnel",
        steps: [
          { event: "a", filters: [] },
          { event: "b", filters: [] },
        ],
        withinSeconds: 60,
        range: { from: "2023-01-01", to: "2023-12-31", tz: "UTC" },
        filters: [],
        limit: 10,
        trendInterval: "15m",
      }),
    );
    assert.throws(() =>
      bruteRetention(
        [],
        {
          kind: "retention",
          start: { event: "a", filters: [] },
          return: { event: "*", filters: [] },
          period: "hour",
          periods: 2,
          mode: "on",
          range: { from: "2022-01-01", to: "2023-12-31", tz: "UTC" },
          filters: [],
        },
        0,
      ),
    );
  });

  test("compare offsets: previous is the range's real length (23 h on a spring-forward day)", () => {
    const e = (t: string): BruteEvent => ({ type: "e", t: us(t), user: "u", props: {} });
    const spec: TrendSpec = {
      kind: "trend",
      events: [{ event: "e", filters: [] }],
      measure: { kind: "events" },
      interval: "day",
      range: { from: "2023-03-26", to: "2023-03-26", tz: "Europe/Berlin" },
      filters: [],
      limit: 10,
      compare: "previous",
    };
    // [03-25T23:00Z, 03-26T22:00Z) is 23 h → compare [03-25T00:00Z, 03-25T23:00Z)
    const out = bruteTrend(
      [e("2023-03-24T23:59:59Z"), e("2023-03-25T00:00:00Z"), e("2023-03-25T22:59:59Z")],
      spec,
    );
    assert.equal(out.series[0].compare?.offset_seconds, 82_800);
    assert.equal(out.series[0].compare?.total, 2);
    assert.deepStrictEqual(out.series[0].compare?.points, [{ t: "2023-03-25T23:00:00.000Z", value: 2 }]);
    for (const [compare, seconds] of [
      ["1d", 86_400],
      ["1w", 604_800],
      ["4w", 2_419_200],
    ] as const)
      assert.equal(bruteTrend([], { ...spec, compare }).series[0].compare?.offset_seconds, seconds);
  });

  test("goldenLines round-trips raw strings", () => {
    assert.deepStrictEqual(goldenLines(["x", { a: 1 }]), ["x", '{"a":1}']);
  });
});
