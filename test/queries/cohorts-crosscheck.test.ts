/**
 * Cohorts (docs/semantics.md, "Cohorts") on the synthetic lake, engine against the brute force: every
 * analysis with `--where cohort=NAME` / `cohort!=NAME` over behavioural definitions (at least N, did
 * not, the last D, a fixed window, event filters), `--breakdown cohort:…` on trend and retention, the
 * drill-down, and a static cohort saved from a drill-down (DuckDB: the cache's table; ClickHouse: a
 * table of user keys on the server).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { refreshCohortMemos } from "../../src/cache/cohortmemo.js";
import { saveBehavioural, saveStatic } from "../../src/cache/cohorts.js";
import { expandCohortTrend, labelCohortTrend } from "../../src/queries/cohorts.js";
import { buildQuery, shapeResult } from "../../src/queries/executor.js";
import { parseEventRef as ref } from "../../src/queries/parse.js";
import type {
  AnalysisSpec,
  CohortDef,
  CohortRef,
  DateRange,
  Filter,
  TrendSpec,
  UsersSpec,
} from "../../src/queries/spec.js";
import { generateLake } from "../../src/source/synthetic.js";
import {
  type BruteEvent,
  bruteCohortMembers,
  bruteFunnel,
  bruteRange,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  loadLake,
} from "../brute.js";
import { bindSpecCohorts } from "../brute-cohorts.js";
import { bruteLifecycle, brutePaths, bruteStickiness } from "../brute-insights.js";
import { bruteUsers } from "../brute-users.js";
import { chRows } from "../helpers/chdb-engine.js";
import { assertClose, cacheFromLake, type TestCache, withoutPartialMarks } from "./helpers.js";

const EVENTS = Number(process.env.EVX_XCHECK_EVENTS ?? 30_000);

let tc: TestCache;
let events: BruteEvent[];
let root: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "evx-xcheck27-"));
  const lake = join(root, "lake");
  await generateLake({ dir: lake, events: EVENTS, days: 28, seed: 7, usersPer: 30 });
  tc = await cacheFromLake(lake, root);
  events = await loadLake(lake);
  // DuckDB: the definitions are saved and kept evaluated (src/cache/cohortmemo.ts), so `run` reads the
  // kept members while `check`'s second query (built without the cache's context) evaluates them.
  if (tc.engine === "duckdb") {
    for (const [name, def] of Object.entries(defs)) await saveBehavioural(tc.cache, name, def);
    assert.equal(await refreshCohortMemos(tc.cache), Object.keys(defs).length);
  }
});

after(() => {
  tc?.close();
  rmSync(root, { recursive: true, force: true });
});

const full = (tz: string): DateRange => ({ from: "2023-06-01", to: "2023-06-28", tz });
const part = (tz: string): DateRange => ({ from: "2023-06-04", to: "2023-06-21", tz });

const defs: Record<string, CohortDef> = {
  savers: { kind: "behavioural", conditions: [{ did: true, event: ref("file_saved"), atLeast: 5 }] },
  week: {
    kind: "behavioural",
    conditions: [
      {
        did: true,
        event: ref("button_clicked[button_name=save]"),
        atLeast: 1,
        window: { kind: "last", seconds: 7 * 86_400 },
      },
      { did: false, event: ref("file_saved"), atLeast: 1, window: { kind: "last", seconds: 7 * 86_400 } },
    ],
  },
  june: {
    kind: "behavioural",
    conditions: [
      {
        did: true,
        event: ref("application_opened[platform=mac]"),
        atLeast: 2,
        window: { kind: "range", range: { from: "2023-06-05", to: "2023-06-12T12:00", tz: "Europe/Berlin" } },
      },
    ],
  },
  nopurchase: { kind: "behavioural", conditions: [{ did: false, event: ref("purchase"), atLeast: 1 }] },
};
const cohort = (name: string): CohortRef => ({ name, def: defs[name] });
const where = (name: string, op: "=" | "!=" = "="): Filter => ({
  key: "cohort",
  op,
  value: name,
  cohort: cohort(name),
});

async function check(spec: AnalysisSpec, brute: (s: AnalysisSpec) => unknown): Promise<void> {
  bindSpecCohorts(events, spec);
  const expected = brute(spec);
  const out = await tc.ex.run(spec);
  assertClose(withoutPartialMarks(out.result), expected);
  if ("range" in spec && spec.range)
    assert.deepStrictEqual(out.range, bruteRange(spec.range), "resolved range");
  assertClose(shapeResult(spec, await tc.ex.query(buildQuery(spec, undefined, tc.engine))), expected);
}

describe("cohort members", () => {
  test("each definition selects users, and not all of them", () => {
    const all = new Set(events.map((e) => e.user)).size;
    for (const [name, def] of Object.entries(defs)) {
      const n = bruteCohortMembers(events, def).size;
      assert.ok(n > 0 && n < all, `${name}: ${n} of ${all}`);
    }
  });
});

describe("--where cohort=NAME / cohort!=NAME", () => {
  test("trend users per day, in and not in, add up to the whole", async () => {
    const base = {
      kind: "trend" as const,
      events: [ref("application_opened")],
      measure: { kind: "users" as const },
      interval: "day" as const,
      range: full("UTC"),
      limit: 10,
    };
    await check({ ...base, filters: [where("savers")] }, (s) => bruteTrend(events, s as never));
    await check({ ...base, filters: [where("savers", "!=")] }, (s) => bruteTrend(events, s as never));
  });
  test("trend events by hour with the last-week cohort on one event's own filter, Kolkata", () =>
    check(
      {
        kind: "trend",
        events: [{ ...ref("button_clicked"), filters: [where("week")] }, ref("file_saved")],
        measure: { kind: "events" },
        interval: "hour",
        range: { from: "2023-06-20", to: "2023-06-22", tz: "Asia/Kolkata" },
        filters: [],
        limit: 10,
        compare: "1w",
      },
      (s) => bruteTrend(events, s as never),
    ));
  test("funnel strict with time to convert, cohort!=nopurchase", () =>
    check(
      {
        kind: "funnel",
        steps: [ref("application_opened"), ref("button_clicked"), ref("file_saved")],
        withinSeconds: 3600,
        order: "strict",
        range: part("Europe/Berlin"),
        filters: [where("nopurchase", "!=")],
        breakdown: "platform",
        limit: 3,
        timeToConvert: { from: 1, to: 3 },
      },
      (s) => bruteFunnel(events, s as never),
    ));
  test("retention by week, on-or-after, cohort=june", () =>
    check(
      {
        kind: "retention",
        start: ref("application_opened"),
        return: ref("*"),
        period: "week",
        periods: 3,
        mode: "on-or-after",
        range: full("Europe/Berlin"),
        filters: [where("june")],
      },
      (s) => bruteRetention(events, s as never, lastEventTime(events)),
    ));
  test("paths, stickiness and lifecycle with cohort=savers", async () => {
    await check(
      {
        kind: "paths",
        anchor: ref("application_opened"),
        direction: "after",
        depth: 3,
        top: 4,
        collapse: true,
        range: part("UTC"),
        filters: [where("savers")],
      },
      (s) => brutePaths(events, s as never),
    );
    await check(
      {
        kind: "stickiness",
        event: ref("file_saved"),
        interval: "day",
        range: part("UTC"),
        filters: [where("savers")],
      },
      (s) => bruteStickiness(events, s as never),
    );
    await check(
      {
        kind: "lifecycle",
        event: ref("file_saved"),
        interval: "week",
        range: full("UTC"),
        filters: [where("week", "!=")],
      },
      (s) => bruteLifecycle(events, s as never),
    );
  });
  test("drill-down: a funnel's reached:2 and a retention cell within a cohort", async () => {
    const funnel: UsersSpec = {
      kind: "users",
      of: {
        kind: "funnel",
        steps: [ref("application_opened"), ref("file_saved")],
        withinSeconds: 3600,
        range: full("UTC"),
        filters: [where("savers")],
        limit: 10,
      },
      select: { kind: "reached", step: 2 },
      limit: 20,
      range: full("UTC"),
    };
    await check(funnel, (s) => bruteUsers(events, s as UsersSpec));
    const ret: UsersSpec = {
      kind: "users",
      of: {
        kind: "retention",
        start: ref("application_opened"),
        return: ref("file_saved"),
        period: "week",
        periods: 3,
        mode: "on",
        range: full("UTC"),
        filters: [where("nopurchase")],
      },
      select: { kind: "cohort", cohort: "2023-06-05T00:00:00.000Z", period: 1, lost: false },
      limit: 20,
      range: full("UTC"),
    };
    await check(ret, (s) => bruteUsers(events, s as UsersSpec));
  });
});

describe("--breakdown cohort:…", () => {
  test("trend: in and not in each cohort as series", () =>
    check(
      {
        kind: "trend",
        events: [ref("application_opened"), ref("purchase")],
        measure: { kind: "users" },
        interval: "week",
        range: full("America/New_York"),
        filters: [],
        limit: 10,
        cohortBreakdown: [cohort("savers"), cohort("week")],
      },
      (s) => {
        const t = s as never as Parameters<typeof expandCohortTrend>[0];
        return labelCohortTrend(bruteTrend(events, expandCohortTrend(t)), t);
      },
    ));
  test("trend: a formula per part (its letters are the events, never the parts)", () =>
    check(
      {
        kind: "trend",
        events: [ref("application_opened"), ref("purchase")],
        measure: { kind: "users" },
        interval: "week",
        range: full("UTC"),
        filters: [],
        limit: 10,
        cohortBreakdown: [cohort("savers")],
        formula: "B/A*100",
      },
      (s) => {
        const t = s as never as TrendSpec;
        const plain = { ...t, formula: undefined };
        const r = labelCohortTrend(bruteTrend(events, expandCohortTrend(plain)), plain);
        // Each part alone, as a trend with the cohort as a filter: its formula is the part's.
        const parts = (["=", "!="] as const).map((op) => {
          const bound = t.cohortBreakdown![0]; // bound by check()
          const f = bruteTrend(events, {
            ...t,
            cohortBreakdown: undefined,
            filters: [{ key: "cohort", op, value: bound.name, cohort: bound }],
          }).formula;
          return { ...f!.series[0], breakdown: op === "=" ? "savers" : r.series[1].breakdown };
        });
        return { ...r, formula: { text: "B/A*100", series: parts } };
      },
    ));
  test("retention: a table per cohort and one of the others", () =>
    check(
      {
        kind: "retention",
        start: ref("application_opened"),
        return: ref("*"),
        period: "day",
        periods: 4,
        mode: "on",
        range: part("UTC"),
        filters: [],
        cohortBreakdown: [cohort("june")],
        value: "revenue",
      },
      (s) => bruteRetention(events, s as never, lastEventTime(events)),
    ));
});

describe("static cohort from a drill-down", () => {
  test("the saved users are the drill-down's; a trend on them matches the brute force", async () => {
    const sel: UsersSpec = {
      kind: "users",
      of: {
        kind: "funnel",
        steps: [ref("application_opened"), ref("purchase")],
        withinSeconds: 86_400,
        range: full("UTC"),
        filters: [],
        limit: 10,
      },
      select: { kind: "reached", step: 2 },
      limit: 1_000_000,
      range: full("UTC"),
    };
    const ids = bruteUsers(events, sel).users.map((u) => u.user_id);
    assert.ok(ids.length > 10);
    let def: CohortDef;
    if (tc.engine === "clickhouse") {
      chRows("DROP TABLE IF EXISTS evx_cohort_buyers");
      chRows("CREATE TABLE evx_cohort_buyers (user_key String) ENGINE = MergeTree ORDER BY user_key");
      chRows("INSERT INTO evx_cohort_buyers SELECT arrayJoin({ids:Array(String)})", { ids });
      def = { kind: "static", users: ids.length, table: "evx_cohort_buyers" };
    } else {
      const q = buildQuery(sel);
      const n = await saveStatic(tc.cache, "buyers", {
        sql: `SELECT user_id FROM (${q.sql}) s WHERE listed`,
        params: q.params,
      });
      assert.equal(n, ids.length);
      def = { kind: "static", users: n };
    }
    const ref1: CohortRef = { name: "buyers", def };
    const spec: AnalysisSpec = {
      kind: "trend",
      events: [ref("application_opened")],
      measure: { kind: "users" },
      interval: "week",
      range: full("UTC"),
      filters: [{ key: "cohort", op: "=", value: "buyers", cohort: ref1 }],
      limit: 10,
    };
    bindSpecCohorts(events, spec, new Map([["buyers", ids]]));
    await check(spec, (s) => bruteTrend(events, s as never));
  });
});
