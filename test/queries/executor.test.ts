/**
 * Executor behaviour: hostile names and values stay bound parameters, cancellation, validation,
 * props, default ranges.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  AbortError,
  closestNames,
  Executor,
  inlineSql,
  shapeResult,
  validateSpec,
} from "../../src/queries/executor.js";
import { UsageError } from "../../src/queries/parse.js";
import type { AnalysisSpec, DateRange, EventRef, Filter } from "../../src/queries/spec.js";
import { cacheFromFiles, ev, lines, type TestCache, withoutPartialMarks } from "./helpers.js";

const EVIL_EVENT = `x'); DROP TABLE events; --`;
const EVIL_KEY = `k"'\\;-- $1`;
const EVIL_VALUE = `v' OR '1'='1`;
const BACKSLASH = "C:\\temp\\new";

let tc: TestCache;
const range: DateRange = { from: "2023-06-01", to: "2023-06-02", tz: "UTC" };

before(async () => {
  tc = await cacheFromFiles({
    "date=2023-06-01/part-0000.jsonl": lines([
      ev(EVIL_EVENT, "2023-06-01T10:00:00Z", "u1", {
        [EVIL_KEY]: EVIL_VALUE,
        path: BACKSLASH,
        pct: "50% off",
      }),
      ev(EVIL_EVENT, "2023-06-01T11:00:00Z", "u2", { [EVIL_KEY]: "other", path: "x", pct: "500 off" }),
      ev(EVIL_EVENT, "2023-06-01T12:00:00Z", "u3", { [EVIL_KEY]: EVIL_VALUE, pct: "a_b" }),
      ev("normal", "2023-06-01T10:30:00Z", "u1", { "a.b": "dotted", "": "empty key", "/~": "slash tilde" }),
      ev("normal", "2023-06-02T10:30:00Z", "u2", { n: 1.5, b: true, o: { z: [1, 2] }, s: "text", nul: null }),
      ev("normal", "2023-06-02T11:30:00Z", "u3", { n: "7", s: "text" }),
      ev("sign_up", "2023-06-02T09:00:00Z", "u4"),
      { event_type: "arr", event_time: "2023-06-01T09:00:00Z", user_id: "u5", event_properties: ["x", "y"] },
      {
        event_type: "arr",
        event_time: "2023-06-01T09:00:00Z",
        user_id: "u5",
        event_properties: { "0": "x" },
      },
      ev("signed_up", "2023-06-02T09:00:00Z", "u4"),
    ]),
  });
});
after(() => tc?.close());

const evil = (filters: Filter[] = []): EventRef => ({ event: EVIL_EVENT, filters });

async function total(filters: Filter[], where: Filter[] = []): Promise<number> {
  const spec: AnalysisSpec = {
    kind: "trend",
    events: [evil(filters)],
    measure: { kind: "events" },
    interval: "day",
    range,
    filters: where,
    limit: 10,
  };
  const out = await tc.ex.run(spec);
  for (const s of [EVIL_EVENT, EVIL_KEY, EVIL_VALUE, BACKSLASH, "50%"])
    assert.ok(!out.sql.includes(s), `SQL must not contain ${JSON.stringify(s)}`);
  return out.result.series[0].total;
}

describe("hostile names and values are bound, never spliced", () => {
  test("event names, keys and values with quotes, semicolons, backslashes, $n", async () => {
    assert.equal(await total([]), 3);
    assert.equal(await total([{ key: EVIL_KEY, op: "=", value: EVIL_VALUE }]), 2);
    assert.equal(await total([{ key: EVIL_KEY, op: "!=", value: EVIL_VALUE }]), 1);
    assert.equal(await total([{ key: EVIL_KEY, op: "in", value: [EVIL_VALUE, "other"] }]), 3);
    assert.equal(await total([], [{ key: "path", op: "=", value: BACKSLASH }]), 1);
    assert.equal(await total([{ key: "path", op: "~", value: "TEMP\\NEW" }]), 1);
    // `~` is a plain substring: % and _ are not wildcards.
    assert.equal(await total([{ key: "pct", op: "~", value: "50%" }]), 1);
    assert.equal(await total([{ key: "pct", op: "~", value: "_" }]), 1);
    const cat = await tc.ex.run({ kind: "catalog" });
    assert.deepEqual(
      cat.result.events.map((e) => [e.event_type, e.events]),
      [
        ["normal", 3],
        [EVIL_EVENT, 3],
        ["arr", 2],
        ["sign_up", 1],
        ["signed_up", 1],
      ],
    );
  });

  test("properties that are not an object have no keys (even `0`)", async () => {
    const out = await tc.ex.run({
      kind: "trend",
      events: [{ event: "arr", filters: [{ key: "0", op: "=", value: "x" }] }],
      measure: { kind: "events" },
      interval: "day",
      range,
      filters: [],
      limit: 10,
    });
    assert.equal(out.result.series[0].total, 1);
  });

  test("breakdown, funnel, retention and props with hostile text", async () => {
    const t = await tc.ex.run({
      kind: "trend",
      events: [evil()],
      measure: { kind: "users" },
      interval: "day",
      range,
      filters: [],
      breakdown: EVIL_KEY,
      limit: 10,
    });
    assert.deepEqual(
      t.result.series.map((s) => [s.breakdown, s.total]),
      [
        [EVIL_VALUE, 2],
        ["other", 1],
      ],
    );
    const f = await tc.ex.run({
      kind: "funnel",
      steps: [evil([{ key: EVIL_KEY, op: "set" }]), { event: "normal", filters: [] }],
      withinSeconds: 3600,
      range,
      filters: [],
      limit: 10,
    });
    assert.deepEqual(
      f.result.steps.map((s) => s.users),
      [3, 1],
    );
    const r = await tc.ex.run({
      kind: "retention",
      start: evil(),
      return: { event: "normal", filters: [] },
      period: "day",
      periods: 2,
      mode: "on",
      range,
      filters: [],
    });
    assert.deepEqual(r.result.cohorts[0].retained, [1, 2]);
    const p = await tc.ex.run({ kind: "props", event: EVIL_EVENT, topValues: 1 });
    assert.deepEqual(
      p.result.props.find((x) => x.key === EVIL_KEY),
      {
        key: EVIL_KEY,
        type: "string",
        events: 3,
        presence: 1,
        top: [{ value: EVIL_VALUE, events: 2 }],
      },
    );
    assert.equal((await tc.cache.one<{ n: number }>("SELECT count(*) AS n FROM events"))?.n, 10);
  });

  test("keys with dots, slashes, tildes and the empty key are literal top-level keys", async () => {
    const count = async (f: Filter) =>
      (
        await tc.ex.run({
          kind: "trend",
          events: [{ event: "normal", filters: [f] }],
          measure: { kind: "events" },
          interval: "day",
          range,
          filters: [],
          limit: 10,
        })
      ).result.series[0].total;
    assert.equal(await count({ key: "a.b", op: "=", value: "dotted" }), 1);
    assert.equal(await count({ key: "", op: "=", value: "empty key" }), 1);
    assert.equal(await count({ key: "/~", op: "set" }), 1);
    assert.equal(await count({ key: "o", op: "=", value: '{"z":[1,2]}' }), 1);
    assert.equal(await count({ key: "b", op: "=", value: "true" }), 1);
    assert.equal(await count({ key: "n", op: ">", value: "1" }), 2);
    assert.equal(await count({ key: "nul", op: "!set" }), 3);
  });

  test("inlineSql renders parameters as literals that DuckDB reads back", async () => {
    const spec: AnalysisSpec = {
      kind: "trend",
      events: [evil([{ key: EVIL_KEY, op: "=", value: EVIL_VALUE }])],
      measure: { kind: "events" },
      interval: "day",
      range: { ...range, tz: "Europe/Berlin" },
      filters: [],
      limit: 10,
    };
    const out = await tc.ex.run(spec);
    const rows = await tc.ex.all(inlineSql(out));
    assert.deepEqual(
      rows.filter((r) => r.tot === 1).map((r) => r.v),
      [2],
    );
  });
});

describe("props", () => {
  test("keys, presence, most common type, top values", async () => {
    const out = await tc.ex.run({ kind: "props", event: "normal", topValues: 2, range });
    assert.deepEqual(out.result, {
      event: "normal",
      events: 3,
      props: [
        {
          key: "n",
          type: "number",
          events: 2,
          presence: 2 / 3,
          top: [
            { value: "1.5", events: 1 },
            { value: "7", events: 1 },
          ],
        },
        { key: "s", type: "string", events: 2, presence: 2 / 3, top: [{ value: "text", events: 2 }] },
        { key: "", type: "string", events: 1, presence: 1 / 3, top: [{ value: "empty key", events: 1 }] },
        { key: "/~", type: "string", events: 1, presence: 1 / 3, top: [{ value: "slash tilde", events: 1 }] },
        { key: "a.b", type: "string", events: 1, presence: 1 / 3, top: [{ value: "dotted", events: 1 }] },
        { key: "b", type: "boolean", events: 1, presence: 1 / 3, top: [{ value: "true", events: 1 }] },
        { key: "o", type: "object", events: 1, presence: 1 / 3, top: [{ value: '{"z":[1,2]}', events: 1 }] },
      ],
    });
  });

  test("an event with no rows in range", async () => {
    const out = await tc.ex.run({
      kind: "props",
      event: "normal",
      topValues: 2,
      range: { from: "2023-06-04", to: "2023-06-04", tz: "Pacific/Kiritimati" },
    });
    assert.deepEqual(out.result, { event: "normal", events: 0, props: [] });
  });
});

describe("cancellation", () => {
  const SLOW = { sql: "SELECT count(*) AS n FROM range(100000000000) t(i) WHERE i % 7 = 3", params: [] };

  test("abort interrupts a running query quickly and the executor keeps working", async () => {
    const ac = new AbortController();
    const started = performance.now();
    setTimeout(() => ac.abort(), 150);
    await assert.rejects(tc.ex.query(SLOW, ac.signal), (e: unknown) => {
      assert.ok(e instanceof Error);
      assert.equal(e.name, "AbortError");
      return true;
    });
    assert.ok(performance.now() - started < 1500, "rejected quickly");
    // The interrupted statement must not keep the worker threads busy: the next query is fast.
    const t0 = performance.now();
    const out = await tc.ex.run({ kind: "catalog" });
    assert.equal(out.result.events.length, 5);
    assert.equal((await tc.cache.one<{ n: number }>("SELECT count(*) AS n FROM events"))?.n, 10);
    assert.ok(performance.now() - t0 < 2000, "next query not slowed by the cancelled one");
  });

  test("an already-aborted signal rejects before running", async () => {
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(tc.ex.run({ kind: "catalog" }, { signal: ac.signal }), AbortError);
  });

  test("concurrent runs each use their own connection; cancelling one leaves the other", async () => {
    const ac = new AbortController();
    const slow = tc.ex.query(SLOW, ac.signal);
    const fast = tc.ex.run({ kind: "catalog" });
    setTimeout(() => ac.abort(), 100);
    await assert.rejects(slow, AbortError);
    assert.equal((await fast).result.events.length, 5);
  });
});

describe("validateSpec", () => {
  const fails = async (spec: AnalysisSpec, re: RegExp) =>
    assert.rejects(validateSpec(tc.cache, spec), (e: unknown) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.match(e.message, re);
      assert.ok(!e.message.includes("\n"));
      return true;
    });
  const trend = (events: EventRef[], r: DateRange = range): AnalysisSpec => ({
    kind: "trend",
    events,
    measure: { kind: "events" },
    interval: "day",
    range: r,
    filters: [],
    limit: 10,
  });

  test("a valid spec passes", async () => {
    await validateSpec(
      tc.cache,
      trend([
        { event: "normal", filters: [] },
        { event: "*", filters: [] },
      ]),
    );
  });
  test("unknown event lists the closest names", async () => {
    await fails(
      trend([{ event: "signup", filters: [] }]),
      /unknown event "signup"; did you mean "sign_up", "signed_up"/,
    );
  });
  test("bad time zone", async () => {
    await fails(
      trend([{ event: "normal", filters: [] }], { ...range, tz: "Mars/Olympus" }),
      /unknown time zone "Mars\/Olympus"/,
    );
  });
  test("range outside the cache", async () => {
    await fails(
      trend([{ event: "normal", filters: [] }], { from: "2024-01-01", to: "2024-01-31", tz: "UTC" }),
      /no cached events in 2024-01-01 \.\. 2024-01-31 \(UTC\): the cache covers 2023-06-01 \.\. 2023-06-02/,
    );
  });
  test("range backwards and bad dates", async () => {
    await fails(
      trend([{ event: "normal", filters: [] }], { from: "2023-06-02", to: "2023-06-01", tz: "UTC" }),
      /starts .* after it ends/,
    );
    await fails(
      trend([{ event: "normal", filters: [] }], { from: "2023-02-30", to: "2023-06-01", tz: "UTC" }),
      /bad date/,
    );
  });
  test("funnel shape, props *, retention periods", async () => {
    await fails(
      {
        kind: "funnel",
        steps: [{ event: "normal", filters: [] }],
        withinSeconds: 60,
        range,
        filters: [],
        limit: 10,
      },
      /at least two steps/,
    );
    await fails({ kind: "props", event: "*", topValues: 5 }, /must name one event type/);
    await fails(
      {
        kind: "retention",
        start: { event: "normal", filters: [] },
        return: { event: "*", filters: [] },
        period: "day",
        periods: 0,
        mode: "on",
        range,
        filters: [],
      },
      /number of periods/,
    );
  });
  test("closestNames", () => {
    assert.deepEqual(closestNames("clik", ["button_clicked", "click", "zoom"], 2), ["click", "zoom"]);
  });
});

describe("default range", () => {
  test("resolveRange fills from/to from the cache in the zone", async () => {
    assert.deepEqual(await tc.ex.resolveRange({ tz: "UTC" }), {
      from: "2023-06-01",
      to: "2023-06-02",
      tz: "UTC",
    });
    // The first event is 2023-06-01T09:00Z = 2023-06-01 23:00 at UTC+14.
    assert.deepEqual(await tc.ex.resolveRange({ tz: "Pacific/Kiritimati", to: "2023-06-05" }), {
      from: "2023-06-01",
      to: "2023-06-05",
      tz: "Pacific/Kiritimati",
    });
  });
});

describe("--sql on DuckDB: the inlined SQL runs as printed", () => {
  test("in a shell whose TimeZone is not UTC it gives the run's numbers (local time is in the SQL)", async () => {
    if (tc.engine !== "duckdb") return;
    const rows = [];
    for (let d = 1; d <= 20; d++)
      for (let h = 0; h < 24; h += 5)
        rows.push(
          ev(
            h % 2 ? "a" : "b",
            `2023-06-${String(d).padStart(2, "0")}T${String(h).padStart(2, "0")}:30:00Z`,
            `u${(d * h) % 7}`,
          ),
        );
    const local = await cacheFromFiles({ "date=2023-06-01/part-0000.jsonl": lines(rows) });
    const ex = new Executor(local.cache);
    const range: DateRange = { from: "2023-06-01", to: "2023-06-20", tz: "America/New_York" };
    const a: EventRef = { event: "a", filters: [] };
    const specs: AnalysisSpec[] = [
      {
        kind: "trend",
        events: [a],
        measure: { kind: "users" },
        interval: "week",
        range,
        filters: [],
        limit: 10,
      },
      {
        kind: "trend",
        events: [a],
        measure: { kind: "events" },
        interval: "month",
        range,
        filters: [],
        limit: 10,
      },
      {
        kind: "retention",
        start: a,
        return: { event: "b", filters: [] },
        period: "day",
        periods: 5,
        mode: "on",
        range,
        filters: [],
      },
    ];
    const shell = await local.cache.connect();
    try {
      await shell.run("SET TimeZone = 'Asia/Kolkata'");
      for (const spec of specs) {
        const run = await ex.run(spec);
        const pasted = (await shell.runAndReadAll(inlineSql(await ex.explain(spec)))).getRowObjectsJS();
        const plain = (x: unknown) =>
          JSON.parse(JSON.stringify(x, (_k, v) => (typeof v === "bigint" ? Number(v) : v)));
        assert.deepEqual(
          plain(shapeResult(spec, pasted as Record<string, unknown>[])),
          // The SQL gives the numbers; the partial-data marks come from the coverage beside it.
          plain(withoutPartialMarks(run.result)),
          spec.kind,
        );
      }
    } finally {
      shell.closeSync();
      ex.close();
      local.close();
    }
  });
});
