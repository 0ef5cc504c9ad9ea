/**
 * The brute-force reference against hand-worked answers (test/golden.ts), plus unit checks of its
 * parsing, filter and time-zone helpers.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { writeLakeFiles } from "../src/source/synthetic.js";
import {
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
} from "./brute.js";
import { goldenCases, goldenEvents, goldenLakeFiles, goldenLines, runBrute } from "./golden.js";

const us = (iso: string) => Date.parse(iso) * 1000;
const iso = (micros: number) => new Date(micros / 1000).toISOString();

describe("golden cases (hand-worked answers)", () => {
  for (const c of goldenCases) {
    test(c.name, () => {
      assert.deepStrictEqual(runBrute(c), c.expected);
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
    assert.equal(matchFilter(p, { key: "w", op: ">", value: "ab" }), true); // text order
    assert.equal(matchFilter(p, { key: "big", op: "=", value: "1e21" }), true);
    assert.equal(matchFilter(p, { key: "neg", op: "=", value: "0" }), true);
    assert.equal(matchFilter(p, { key: "w", op: "in", value: ["x", "abc"] }), true);
    assert.equal(matchFilter(p, { key: "w", op: "in", value: "x,abc" }), true);
    assert.equal(matchFilter(p, { key: "missing", op: "~", value: "" }), false);
    assert.equal(matchFilter(p, { key: "w", op: "~", value: "" }), true);
  });

  test("text comparison is UTF-8 byte order, not UTF-16", () => {
    // U+FF5E (EF BD 9E) < U+1F600 (F0 9F 98 80) in UTF-8, but "\ud83d" < "\uff5e" in UTF-16
    assert.equal(matchFilter({ s: "😀" }, { key: "s", op: ">", value: "～" }), true);
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

  test("goldenLines round-trips raw strings", () => {
    assert.deepStrictEqual(goldenLines(["x", { a: 1 }]), ["x", '{"a":1}']);
  });
});
