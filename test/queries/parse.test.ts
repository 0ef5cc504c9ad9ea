import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  formatEventRef,
  formatFilter,
  formatMeasure,
  parseCompare,
  parseDate,
  parseDuration,
  parseEventRef,
  parseFilter,
  parseInterval,
  parseLast,
  parseMeasure,
  parsePeriod,
  parseRangeBound,
  UsageError,
} from "../../src/queries/parse.js";
import type { EventRef, Filter, Op } from "../../src/queries/spec.js";

function throwsUsage(fn: () => unknown, re: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof UsageError, `expected UsageError, got ${e}`);
    assert.match(e.message, re);
    assert.ok(!e.message.includes("\n"), "one-line message");
    return true;
  });
}

describe("parseFilter", () => {
  const cases: [string, Filter][] = [
    ["button_name=save", { key: "button_name", op: "=", value: "save" }],
    ["button_name = save", { key: "button_name", op: "=", value: "save" }],
    ["revenue>=10", { key: "revenue", op: ">=", value: "10" }],
    ["revenue <= 10", { key: "revenue", op: "<=", value: "10" }],
    ["revenue>1.5e3", { key: "revenue", op: ">", value: "1.5e3" }],
    ["level<2", { key: "level", op: "<", value: "2" }],
    ["plan!=free", { key: "plan", op: "!=", value: "free" }],
    ["message~disk full", { key: "message", op: "~", value: "disk full" }],
    ["country in US,DE, FR", { key: "country", op: "in", value: ["US", "DE", "FR"] }],
    ['country in "a,b",c', { key: "country", op: "in", value: ["a,b", "c"] }],
    ["referrer set", { key: "referrer", op: "set" }],
    ["referrer !set", { key: "referrer", op: "!set" }],
    ["referrer!set", { key: "referrer", op: "!set" }],
    ["screen.w=1920", { key: "screen.w", op: "=", value: "1920" }],
    ['"my key"=v', { key: "my key", op: "=", value: "v" }],
    ['"a=b" in x', { key: "a=b", op: "in", value: ["x"] }],
    ['message=Can\'t open "file"', { key: "message", op: "=", value: 'Can\'t open "file"' }],
    ['name="  padded  "', { key: "name", op: "=", value: "  padded  " }],
    ['name=""', { key: "name", op: "=", value: "" }],
    ["name=a [b] c", { key: "name", op: "=", value: "a [b] c" }],
    ["x==y", { key: "x", op: "=", value: "=y" }],
    ["in=3", { key: "in", op: "=", value: "3" }],
    ["set = 1", { key: "set", op: "=", value: "1" }],
  ];
  for (const [text, want] of cases)
    test(JSON.stringify(text), () => assert.deepEqual(parseFilter(text), want));

  test("errors are one-line UsageErrors", () => {
    throwsUsage(() => parseFilter(""), /empty filter/);
    throwsUsage(() => parseFilter("=x"), /missing key/);
    throwsUsage(() => parseFilter("button_name save"), /expected an operator/);
    throwsUsage(() => parseFilter("country in"), /comma-separated/);
    throwsUsage(() => parseFilter("referrer set yes"), /takes no value/);
    throwsUsage(() => parseFilter('"unterminated=x'), /unterminated/);
    throwsUsage(() => parseFilter('k="a" b'), /one JSON string/);
  });
});

describe("parseEventRef", () => {
  const cases: [string, EventRef][] = [
    ["button_clicked", { event: "button_clicked", filters: [] }],
    ["*", { event: "*", filters: [] }],
    [
      "button_clicked[button_name=save]",
      { event: "button_clicked", filters: [{ key: "button_name", op: "=", value: "save" }] },
    ],
    [
      "a[x=1][y>2]",
      {
        event: "a",
        filters: [
          { key: "x", op: "=", value: "1" },
          { key: "y", op: ">", value: "2" },
        ],
      },
    ],
    [
      "Sign Up [plan in pro,team]",
      { event: "Sign Up", filters: [{ key: "plan", op: "in", value: ["pro", "team"] }] },
    ],
    ["odd[name]event[k set]", { event: "odd[name]event", filters: [{ key: "k", op: "set" }] }],
    ["a[k=x][2]", { event: "a", filters: [{ key: "k", op: "=", value: "x][2" }] }],
    ['a[k="]"]', { event: "a", filters: [{ key: "k", op: "=", value: "]" }] }],
    ['"ends[in]"', { event: "ends[in]", filters: [] }],
    ['"ends[in]"[k=v]', { event: "ends[in]", filters: [{ key: "k", op: "=", value: "v" }] }],
    ["weird name; DROP TABLE events", { event: "weird name; DROP TABLE events", filters: [] }],
  ];
  for (const [text, want] of cases)
    test(JSON.stringify(text), () => assert.deepEqual(parseEventRef(text), want));

  test("errors", () => {
    throwsUsage(() => parseEventRef(""), /empty event/);
    throwsUsage(() => parseEventRef("a[nokey]"), /expected an operator/);
    throwsUsage(() => parseEventRef('"a'), /unterminated/);
    throwsUsage(() => parseEventRef('"a"x'), /expected \[KEY OP VALUE\]/);
  });
});

/** Small seeded PRNG so the round-trip test is reproducible. */
function rng(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ATOMS = [
  "a",
  "b",
  " ",
  "[",
  "]",
  "][",
  '"',
  "\\",
  "=",
  "!",
  "<",
  ">",
  "~",
  ",",
  "in",
  "set",
  "é",
  "🚀",
  "'",
  ";",
  "0",
  "1.5",
  "\t",
];

describe("formatEventRef / formatFilter round-trip", () => {
  test("parse(format(ref)) deep-equals ref for 3000 random refs with hostile text", () => {
    const r = rng(42);
    const str = (min: number) => {
      let s = "";
      const n = min + Math.floor(r() * 5);
      for (let i = 0; i < n; i++) s += ATOMS[Math.floor(r() * ATOMS.length)];
      return s;
    };
    const ops: Op[] = ["=", "!=", ">", ">=", "<", "<=", "~", "in", "set", "!set"];
    for (let i = 0; i < 3000; i++) {
      const filters: Filter[] = [];
      const nf = Math.floor(r() * 3);
      for (let j = 0; j < nf; j++) {
        const op = ops[Math.floor(r() * ops.length)];
        const key = str(1);
        if (op === "set" || op === "!set") filters.push({ key, op });
        else if (op === "in")
          filters.push({ key, op, value: Array.from({ length: 1 + Math.floor(r() * 3) }, () => str(0)) });
        else if (op === ">" || op === ">=" || op === "<" || op === "<=")
          filters.push({ key, op, value: ["0", "-1", "1.5", "2e3"][Math.floor(r() * 4)] });
        else filters.push({ key, op, value: str(0) });
      }
      let event = str(1);
      if (event === "*") event = "x";
      const ref: EventRef = { event, filters };
      const text = formatEventRef(ref);
      assert.deepEqual(parseEventRef(text), ref, `via ${JSON.stringify(text)}`);
      for (const f of filters)
        assert.deepEqual(parseFilter(formatFilter(f)), f, `filter ${JSON.stringify(f)}`);
    }
  });

  test("plain refs format as typed", () => {
    for (const t of [
      "button_clicked",
      "button_clicked[button_name=save]",
      "a[x=1][y>2]",
      "signed_up[referrer !set]",
      "e[c in US,DE]",
    ])
      assert.equal(formatEventRef(parseEventRef(t)), t);
  });
});

describe("durations, measures, dates, intervals", () => {
  test("parseDuration", () => {
    const cases: [string, number][] = [
      ["90s", 90],
      ["30m", 1800],
      ["1h", 3600],
      ["1.5h", 5400],
      ["1d", 86_400],
      ["7d", 604_800],
      ["2w", 1_209_600],
      ["45", 45],
      ["10 min", 600],
      ["3 days", 259_200],
    ];
    for (const [t, s] of cases) assert.equal(parseDuration(t), s, t);
    throwsUsage(() => parseDuration("1y"), /bad duration/);
    throwsUsage(() => parseDuration("0s"), /positive/);
    throwsUsage(() => parseDuration("0.5s"), /whole number/);
    throwsUsage(() => parseDuration("-1h"), /bad duration/);
    throwsUsage(() => parseDuration(""), /bad duration/);
  });

  test("parseMeasure / formatMeasure", () => {
    assert.deepEqual(parseMeasure("events"), { kind: "events" });
    assert.deepEqual(parseMeasure("users"), { kind: "users" });
    assert.deepEqual(parseMeasure("per-user"), { kind: "per-user" });
    assert.deepEqual(parseMeasure("sum:revenue"), { kind: "sum", key: "revenue" });
    assert.deepEqual(parseMeasure("avg:a:b"), { kind: "avg", key: "a:b" });
    assert.deepEqual(parseMeasure('sum:"odd key"'), { kind: "sum", key: "odd key" });
    assert.equal(formatMeasure({ kind: "sum", key: "revenue" }), "sum:revenue");
    throwsUsage(() => parseMeasure("sum:"), /needs a property key/);
    throwsUsage(() => parseMeasure("mode:x"), /bad measure/);
    throwsUsage(() => parseMeasure("p101:x"), /bad measure/);
  });

  test("parseDate", () => {
    assert.equal(parseDate("2023-06-01"), "2023-06-01");
    assert.equal(parseDate(" 2024-02-29 "), "2024-02-29");
    throwsUsage(() => parseDate("2023-02-29"), /bad date/);
    throwsUsage(() => parseDate("2023-6-1"), /YYYY-MM-DD/);
    throwsUsage(() => parseDate("yesterday"), /bad date/);
  });

  test("parseInterval / parsePeriod / parseCompare", () => {
    for (const iv of ["minute", "5m", "15m", "hour", "day", "week", "month"])
      assert.equal(parseInterval(iv), iv);
    assert.equal(parsePeriod("month"), "month");
    assert.equal(parsePeriod("hour"), "hour");
    throwsUsage(() => parseInterval("year"), /minute, 5m, 15m, hour, day, week, month/);
    throwsUsage(() => parseInterval("2m"), /bad interval "2m"/);
    throwsUsage(() => parsePeriod("minute"), /hour, day, week or month/);
    for (const c of ["previous", "1d", "1w", "4w"]) assert.equal(parseCompare(c), c);
    throwsUsage(() => parseCompare("2d"), /bad compare "2d": use previous, 1d, 1w, 4w/);
  });

  test("parseRangeBound: dates and local date-times; a zone suffix says to use --tz", () => {
    assert.equal(parseRangeBound("2023-06-01"), "2023-06-01");
    assert.equal(parseRangeBound("2023-06-01T14:00"), "2023-06-01T14:00");
    assert.equal(parseRangeBound("2023-06-01 14:00:30", "--to"), "2023-06-01T14:00:30");
    for (const z of [
      "2023-06-01T14:00Z",
      "2023-06-01T14:00:00+02:00",
      "2023-06-01T14:00-0500",
      "2023-06-01T14:00:00.5Z",
    ])
      throwsUsage(() => parseRangeBound(z, "--to"), /bad --to .*no zone suffix.*--tz/);
    for (const bad of ["2023-06-01T24:00", "2023-06-01T14:60", "2023-02-29T10:00", "2023-06-01T14", "today"])
      throwsUsage(() => parseRangeBound(bad), /bad --from/);
  });

  test("parseLast: a bare number names the units (issue #22)", () => {
    throwsUsage(
      () => parseLast("2"),
      /bad --last "2": give a unit: s, m \(minutes\), h, d or w, e\.g\. 2h or 2d/,
    );
    throwsUsage(() => parseLast(" 90 "), /give a unit/);
    assert.equal(parseLast("2d"), 172_800);
  });

  test("comparisons need a number: code>abc is a usage error naming the operator and value (issue #22)", () => {
    throwsUsage(
      () => parseFilter("code>abc"),
      /bad filter "code>abc": > compares numbers, and "abc" is not a number/,
    );
    throwsUsage(() => parseFilter("plan <= pro"), /<= compares numbers, and "pro" is not a number/);
    throwsUsage(() => parseEventRef("e[code>=x1]"), />= compares numbers, and "x1" is not a number/);
    assert.deepEqual(parseFilter("code>-1.5e3"), { key: "code", op: ">", value: "-1.5e3" });
    assert.deepEqual(parseFilter("code=abc"), { key: "code", op: "=", value: "abc" });
  });

  test("parseLast: positive durations only", () => {
    assert.equal(parseLast("90m"), 5400);
    assert.equal(parseLast("6h"), 21_600);
    assert.equal(parseLast("1w"), 604_800);
    throwsUsage(() => parseLast("0m"), /must be positive/);
    throwsUsage(() => parseLast("-5m"), /must be positive/);
    throwsUsage(() => parseLast("soon"), /bad duration/);
  });
});
