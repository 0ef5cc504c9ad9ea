/**
 * Issue #22: property keys that cannot mean what was typed. Runs on DuckDB, and on ClickHouse (chdb)
 * with EVX_TEST_ENGINE=clickhouse: the same probes, the same answers.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { getHotKeys } from "../../src/cache/schema.js";
import { checkKeys, type KeyReader, keyUses } from "../../src/queries/keys.js";
import { UsageError } from "../../src/queries/parse.js";
import type { AnalysisSpec, DateRange, EventRef, Filter } from "../../src/queries/spec.js";
import { cacheFromFiles, ev, lines, TEST_ENGINE, type TestCache } from "./helpers.js";

const day1: DateRange = { from: "2023-06-01", to: "2023-06-01", tz: "UTC" };
const both: DateRange = { from: "2023-06-01", to: "2023-06-02", tz: "UTC" };
const ref = (event: string, filters: Filter[] = []): EventRef => ({ event, filters });
const eq = (key: string, value = "x"): Filter => ({ key, op: "=", value });

const trend = (over: Partial<Extract<AnalysisSpec, { kind: "trend" }>> = {}): AnalysisSpec => ({
  kind: "trend",
  events: [ref("error")],
  measure: { kind: "events" },
  interval: "day",
  range: day1,
  filters: [],
  limit: 10,
  ...over,
});

describe(`property keys (${TEST_ENGINE})`, () => {
  let c: TestCache;
  let reader: KeyReader;
  before(async () => {
    c = await cacheFromFiles({
      "date=2023-06-01/part-0000.jsonl": lines([
        ev("error", "2023-06-01T10:00:00Z", "u1", { message: "Disk full", code: 500, "context.page": "/a" }),
        ev("error", "2023-06-01T11:00:00Z", "u2", {
          message: "Timeout",
          code: 504,
          obj: { a: 1 },
          gone: null,
        }),
        ev("page", "2023-06-01T12:00:00Z", "u1", { $current_url: "/pricing", "Referred by": "Friend" }),
        ev("page", "2023-06-01T12:05:00Z", "u3"),
      ]),
      "date=2023-06-02/part-0000.jsonl": lines([
        ev("error", "2023-06-02T09:00:00Z", "u1", { message: "Late", plan: "pro" }),
      ]),
    });
    const hot = TEST_ENGINE === "duckdb" ? await getHotKeys(c.cache) : undefined;
    reader = {
      engine: TEST_ENGINE,
      context: async () => (hot ? { hotKeys: hot } : {}),
      rows: (q) => c.ex.query(q),
    };
  });
  after(() => c?.close());

  const usage = async (spec: AnalysisSpec, re: RegExp) =>
    assert.rejects(checkKeys(reader, spec), (e: unknown) => {
      assert.ok(e instanceof UsageError, String(e));
      assert.match(e.message, re);
      assert.equal(e.message.split("\n").length, 1);
      return true;
    });

  test("a key no event has is a usage error with the closest keys, wherever it is given", async () => {
    await usage(
      trend({ filters: [eq("mesage", "Disk full")] }),
      /^unknown property key "mesage" in --where: no event has it; did you mean "message", "code", "plan"\?$/,
    );
    await usage(trend({ breakdown: "mesage" }), /"mesage" in --breakdown: .*did you mean "message"/);
    await usage(
      trend({ events: [ref("error", [eq("cod")])] }),
      /"cod" in the filter of "error": .*did you mean "code"/,
    );
    await usage(trend({ measure: { kind: "sum", key: "cde" } }), /"cde" in --measure: .*did you mean "code"/);
    const funnel = {
      kind: "funnel" as const,
      steps: [ref("error"), ref("page")],
      withinSeconds: 3600,
      range: both,
      filters: [],
      limit: 10,
    };
    await usage({ ...funnel, hold: "pln" }, /"pln" in --hold: .*did you mean "plan"/);
    await usage({ ...funnel, value: "cod" }, /"cod" in --value/);
    await usage(
      { ...funnel, exclude: [{ event: ref("page", [eq("$curent_url")]), from: 1, to: 2 }] },
      /"\$curent_url" in the filter of --exclude "page": .*did you mean "\$current_url"/,
    );
    // A key whose only value is JSON null is carried by no event (the `set` rule).
    await usage(
      trend({ filters: [eq("gone")] }),
      /"gone" in --where: no event has it; did you mean "code", "obj", "plan"\?$/,
    );
    // The drill-down checks the analysis it drills into.
    await usage(
      {
        kind: "users",
        of: trend({ filters: [eq("mesage")] }) as never,
        select: { kind: "bucket", t: "2023-06-01T00:00:00.000Z" },
        limit: 10,
        range: day1,
      },
      /"mesage" in --where/,
    );
  });

  test("keys with $, dots, spaces and object values are found as they are", async () => {
    assert.deepEqual(
      await checkKeys(
        reader,
        trend({
          events: [
            ref("error", [eq("context.page", "/a")]),
            ref("page", [eq("$current_url"), eq("Referred by")]),
          ],
          filters: [{ key: "obj", op: "set" }],
        }),
      ),
      [],
    );
  });

  test("a key that exists, but on none of the analysis's events in range, is answered with a warning", async () => {
    // `plan` is only on 06-02's error; `$current_url` only on page events.
    assert.deepEqual(await checkKeys(reader, trend({ breakdown: "plan" })), [
      '--breakdown "plan": no "error" event in the range has it',
    ]);
    assert.deepEqual(await checkKeys(reader, trend({ breakdown: "plan", range: both })), []);
    assert.deepEqual(
      await checkKeys(reader, {
        kind: "funnel",
        steps: [ref("page"), ref("error")],
        withinSeconds: 3600,
        range: both,
        filters: [eq("message")],
        hold: "message",
        limit: 10,
      }),
      ['--hold "message": no "page" event in the range has it, so every attempt stops at step 1'],
      "--where reads every step's events, --hold step 1's",
    );
    // In any order the anchor, whose breakdown value and held text count, may be any step's event.
    const anyOrder: AnalysisSpec = {
      kind: "funnel",
      steps: [ref("page"), ref("error")],
      withinSeconds: 3600,
      range: both,
      filters: [],
      order: "any",
      breakdown: "message",
      hold: "message",
      limit: 10,
    };
    assert.deepEqual(await checkKeys(reader, anyOrder), [], "any order: every step's events");
    assert.deepEqual(
      keyUses(anyOrder)
        .filter((u) => u.where === "--breakdown")
        .map((u) => u.events),
      [["page", "error"]],
    );
    assert.deepEqual(
      await checkKeys(reader, {
        kind: "retention",
        start: ref("page"),
        return: ref("*"),
        period: "day",
        periods: 2,
        mode: "on",
        range: both,
        filters: [],
        value: "$current_url",
      }),
      [],
      "a return of * reads any event",
    );
  });

  test("which keys each analysis reads, and on which events", () => {
    assert.deepEqual(
      keyUses({
        kind: "paths",
        anchor: ref("error", [eq("code", "500")]),
        direction: "after",
        depth: 3,
        top: 5,
        collapse: true,
        range: day1,
        filters: [eq("plan")],
      }),
      [
        { key: "code", where: 'the filter of "error"', events: ["error"] },
        { key: "plan", where: "--where", events: "*" },
      ],
    );
    assert.deepEqual(keyUses({ kind: "props", event: "error", topValues: 5 }), []);
  });
});
