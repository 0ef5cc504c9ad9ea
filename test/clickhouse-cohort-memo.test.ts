/**
 * Behavioural cohorts kept evaluated on ClickHouse (src/queries/clickhouse/cohortmemo.ts), on the real
 * `ClickHouseExecutor` over HTTP against chdb (test/helpers/chhttp.ts):
 * - every analysis with a cohort filter or breakdown gives the same answer from the kept members as
 *   evaluating the definitions;
 * - after data changed (a load's insert), the memo is not read until it is refreshed, and the answers
 *   count the new data;
 * - a load landing between the context and the analysis: the statement refuses the memo, and the
 *   engine runs the analysis again, evaluating the cohort;
 * - a memo of another definition is not read; removing a cohort, or saving its name as a static cohort,
 *   drops its memo.
 */
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import {
  dropChCohortMemo,
  memoTableName,
  refreshChCohortMemos,
} from "../src/queries/clickhouse/cohortmemo.js";
import {
  chCohortStore,
  removeCohortCh,
  saveBehaviouralCh,
  saveUsersCohortCh,
} from "../src/queries/clickhouse/cohorts.js";
import { ClickHouseExecutor } from "../src/queries/clickhouse/executor.js";
import { parseEventRef as ref } from "../src/queries/parse.js";
import type { AnalysisSpec, CohortDef, DateRange, Filter } from "../src/queries/spec.js";
import { type ChLake, chLakeFrom } from "./views/chfixture.js";
import { type SmallCache, smallCache } from "./views/fixture.js";

let c: SmallCache;
let lake: ChLake;
let ex: ClickHouseExecutor;

const defs: Record<string, CohortDef> = {
  savers: { kind: "behavioural", conditions: [{ did: true, event: ref("file_saved"), atLeast: 3 }] },
  week: {
    kind: "behavioural",
    conditions: [
      { did: true, event: ref("button_clicked"), atLeast: 1, window: { kind: "last", seconds: 7 * 86_400 } },
      { did: false, event: ref("file_saved"), atLeast: 1, window: { kind: "last", seconds: 7 * 86_400 } },
    ],
  },
  nopurchase: { kind: "behavioural", conditions: [{ did: false, event: ref("purchase"), atLeast: 1 }] },
};

before(async () => {
  c = await smallCache(6000, 14);
  lake = await chLakeFrom(c.cache, c.dir);
  c.cache.close();
  // A context per run (no reuse), so every run sees the data as it is.
  ex = ClickHouseExecutor.open({ chUrl: lake.url, chTable: "events" }, { contextTtlMs: 0 });
  for (const [name, def] of Object.entries(defs)) await saveBehaviouralCh(ex, name, def);
});

after(async () => {
  await ex?.close();
  await lake?.srv.stop();
  c?.dispose();
});

const range: DateRange = { from: "2023-06-01", to: "2023-06-14", tz: "UTC" };
const where = (name: string, op: "=" | "!=" = "="): Filter => ({
  key: "cohort",
  op,
  value: name,
  cohort: { name },
});

/** Specs reading the saved cohorts (their definitions are read from the server on every run). */
function specs(): AnalysisSpec[] {
  return [
    {
      kind: "trend",
      events: [ref("application_opened")],
      measure: { kind: "users" },
      interval: "day",
      range,
      filters: [where("savers")],
      limit: 10,
    },
    {
      kind: "trend",
      events: [{ ...ref("button_clicked"), filters: [where("week")] }, ref("file_saved")],
      measure: { kind: "events" },
      interval: "hour",
      range: { from: "2023-06-10", to: "2023-06-12", tz: "Asia/Kolkata" },
      filters: [],
      limit: 10,
    },
    {
      kind: "trend",
      events: [ref("application_opened")],
      measure: { kind: "users" },
      interval: "week",
      range,
      filters: [],
      limit: 10,
      cohortBreakdown: [{ name: "savers" }, { name: "nopurchase" }],
    },
    {
      kind: "funnel",
      steps: [ref("application_opened"), ref("button_clicked"), ref("file_saved")],
      withinSeconds: 3600,
      range,
      filters: [where("nopurchase", "!=")],
      limit: 10,
    },
    {
      kind: "retention",
      start: ref("application_opened"),
      return: ref("*"),
      period: "day",
      periods: 3,
      mode: "on",
      range,
      filters: [where("savers")],
    },
    {
      kind: "lifecycle",
      event: ref("file_saved"),
      interval: "day",
      range,
      filters: [where("week", "!=")],
    },
    {
      kind: "users",
      of: {
        kind: "funnel",
        steps: [ref("application_opened"), ref("file_saved")],
        withinSeconds: 3600,
        range,
        filters: [where("savers")],
        limit: 10,
      },
      select: { kind: "reached", step: 2 },
      limit: 1000,
      range,
    } as AnalysisSpec,
  ] as AnalysisSpec[];
}

/** Runs `spec`; what it answered and whether its statement read kept members. */
async function run(spec: AnalysisSpec): Promise<{ result: unknown; memo: boolean }> {
  const mark = lake.srv.log.length;
  const out = await ex.run(spec);
  // Evaluated, the members are a CTE `evx_cohN`; kept, the memo is the right side of `IN`.
  const sent = lake.srv.log.slice(mark).filter((q) => /\bevx_coh\d|\bevx_memo_/.test(q.sql));
  assert.ok(sent.length > 0, "the statement reads a cohort");
  return { result: out.result, memo: sent.some((q) => q.sql.includes(memoTableName(""))) };
}

const memoTables = async () =>
  (
    await lake.srv.exec(
      "SELECT name, comment FROM system.tables WHERE database = currentDatabase() AND startsWith(name, 'evx_memo_') ORDER BY name",
    )
  ).map((r) => String(r.name));

describe("kept members", () => {
  test("save keeps each behavioural cohort evaluated", async () => {
    assert.deepEqual(await memoTables(), ["evx_memo_nopurchase", "evx_memo_savers", "evx_memo_week"]);
  });

  test("every analysis answers the same from the kept members as evaluated", async () => {
    const kept: unknown[] = [];
    for (const spec of specs()) {
      const r = await run(spec);
      assert.ok(r.memo, `${spec.kind}: read the kept members`);
      kept.push(r.result);
    }
    for (const name of Object.keys(defs)) await dropChCohortMemo(ex.client, name);
    const evaluated: unknown[] = [];
    for (const spec of specs()) {
      const r = await run(spec);
      assert.ok(!r.memo, `${spec.kind}: evaluated`);
      evaluated.push(r.result);
    }
    assert.deepStrictEqual(kept, evaluated);
    // The answers have members in them (a cohort of no one would agree trivially).
    const first = kept[0] as { series: { total: number }[] };
    assert.ok(first.series[0].total > 0);
    assert.equal(await refreshChCohortMemos(ex.client, ex.target, chCohortStore(ex.client)), 3);
  });

  test("a refresh stops at Ctrl+C (its signal), and keeps nothing with identity rules", async () => {
    const store = chCohortStore(ex.client);
    const stopped = new AbortController();
    stopped.abort();
    const mark = lake.srv.log.length;
    assert.equal(await refreshChCohortMemos(ex.client, ex.target, store, { signal: stopped.signal }), 0);
    assert.equal(await refreshChCohortMemos(ex.client, ex.target, store, { identityMap: true }), 0);
    assert.ok(
      lake.srv.log.slice(mark).every((q) => !/evx_memo_/.test(q.sql)),
      "no memo written",
    );
    // Stopped while evaluating: the statement is killed, and the memo it replaced stays (of other data
    // from the next load on, so it is not read).
    const mid = new AbortController();
    lake.srv.onQuery = ({ sql }) => {
      if (/CREATE OR REPLACE TABLE `evx_memo_/.test(sql)) mid.abort();
      return undefined;
    };
    try {
      await assert.rejects(
        refreshChCohortMemos(ex.client, ex.target, store, { signal: mid.signal }),
        (e: Error) => e.name === "AbortError",
      );
    } finally {
      lake.srv.onQuery = undefined;
    }
    assert.equal(await refreshChCohortMemos(ex.client, ex.target, store), 3);
  });

  test("after a load that grows the cohort, the memo is not read until refreshed; the answers count the new user", async () => {
    const spec = specs()[0];
    const before = (await run(spec)) as { result: { series: { total: number }[] }; memo: boolean };
    assert.ok(before.memo);
    // A new user saves 3 files and opens the app on one day: a member of `savers` from now on.
    await lake.srv.exec(`INSERT INTO events (event_type, event_time, user_key, properties, props, date)
      SELECT arrayJoin(['file_saved', 'file_saved', 'file_saved', 'application_opened']),
             toDateTime64('2023-06-05 10:00:00', 6, 'UTC'), 'memo-new-user', '{}', map(), toDate('2023-06-05')`);
    const stale = (await run(spec)) as typeof before;
    assert.ok(!stale.memo, "a memo of other data is not read");
    assert.equal(stale.result.series[0].total, before.result.series[0].total + 1);
    assert.equal(await refreshChCohortMemos(ex.client, ex.target, chCohortStore(ex.client)), 3);
    const fresh = (await run(spec)) as typeof before;
    assert.ok(fresh.memo);
    assert.deepStrictEqual(fresh.result, stale.result);
  });

  test("a lightweight DELETE (same parts, same row counts) is other data: the memo is not read", async () => {
    const spec = specs()[0];
    const before = (await run(spec)) as { result: { series: { total: number }[] }; memo: boolean };
    assert.ok(before.memo);
    // Deleting one member's saves (as one would delete a bot's events) takes them out of the cohort;
    // `system.parts` still counts the deleted rows, but the parts' mutation version moves.
    const member = (
      await lake.srv.exec(
        "SELECT user_key FROM events WHERE event_type = 'file_saved' AND user_key IN (SELECT user_key FROM events WHERE event_type = 'application_opened') GROUP BY user_key HAVING count() >= 3 ORDER BY user_key LIMIT 1",
      )
    )[0].user_key;
    const rows =
      "SELECT sum(rows) AS n FROM system.parts WHERE database = currentDatabase() AND table = 'events' AND active";
    const rowsBefore = (await lake.srv.exec(rows))[0].n;
    await lake.srv.exec(
      `DELETE FROM events WHERE user_key = '${member}' AND event_type = 'file_saved' SETTINGS lightweight_deletes_sync = 2`,
    );
    assert.equal((await lake.srv.exec(rows))[0].n, rowsBefore, "the parts' row counts did not move");
    const deleted = (await run(spec)) as typeof before;
    assert.ok(!deleted.memo, "a memo of the data before the delete is not read");
    assert.equal(deleted.result.series[0].total, before.result.series[0].total - 1);
    await refreshChCohortMemos(ex.client, ex.target, chCohortStore(ex.client));
    const fresh = (await run(spec)) as typeof before;
    assert.ok(fresh.memo);
    assert.deepStrictEqual(fresh.result, deleted.result);
  });

  test("a memo replaced under the same data stamp (another definition's) is refused by the statement", async () => {
    const spec = specs()[0];
    const comment = String(
      (
        await lake.srv.exec(
          "SELECT comment FROM system.tables WHERE database = currentDatabase() AND name = 'evx_memo_savers'",
        )
      )[0].comment,
    );
    // What a save of the name with another definition leaves: the same stamp, another key.
    const other = comment.replace(/key=\w+/, "key=another");
    assert.notEqual(other, comment);
    let swapped = false;
    lake.srv.onQuery = ({ sql }) => {
      // Queued on the server before the analysis: it lands after the context was read.
      if (!swapped && sql.includes("evx_memo_savers")) {
        swapped = true;
        void lake.srv.exec(`ALTER TABLE evx_memo_savers MODIFY COMMENT '${other}'`);
      }
      return undefined;
    };
    try {
      const mark = lake.srv.log.length;
      await ex.run(spec);
      assert.ok(swapped);
      const sent = lake.srv.log.slice(mark);
      assert.ok(
        sent.some((q) => q.status === "error" && q.code === 395 && q.sql.includes("evx_memo_savers")),
        "the statement on the replaced memo failed",
      );
      assert.ok(!sent.at(-1)?.sql.includes("evx_memo_"), "the second run evaluated the cohort");
    } finally {
      lake.srv.onQuery = undefined;
      await refreshChCohortMemos(ex.client, ex.target, chCohortStore(ex.client));
    }
  });

  test("a memo dropped between the context and the analysis (cohort rm elsewhere): the run evaluates", async () => {
    const spec = specs()[0];
    const before = (await run(spec)) as { result: unknown; memo: boolean };
    assert.ok(before.memo);
    let dropped = false;
    lake.srv.onQuery = ({ sql }) => {
      // Queued on the server before the analysis: it lands after the context was read.
      if (!dropped && sql.includes("evx_memo_savers")) {
        dropped = true;
        void lake.srv.exec("DROP TABLE evx_memo_savers");
      }
      return undefined;
    };
    try {
      const mark = lake.srv.log.length;
      const out = await ex.run(spec);
      assert.ok(dropped);
      const sent = lake.srv.log.slice(mark);
      assert.ok(
        // Its check finds no comment (395, throwIf: STALE_MEMO), or the server no table first
        // (UNKNOWN_TABLE 60; as the right side of `IN`, UNKNOWN_IDENTIFIER 47).
        sent.some((q) => q.status === "error" && [395, 60, 47].includes(q.code ?? 0)),
        `the statement on the memo failed: ${JSON.stringify(sent.map((q) => [q.status, q.code]))}`,
      );
      assert.ok(!sent.at(-1)?.sql.includes("evx_memo_"), "the second run evaluated the cohort");
      assert.deepStrictEqual(out.result, before.result);
    } finally {
      lake.srv.onQuery = undefined;
      await refreshChCohortMemos(ex.client, ex.target, chCohortStore(ex.client));
    }
  });

  test("a load landing between the context and the analysis: the statement refuses the memo, the run evaluates", async () => {
    const spec = specs()[0];
    const before = (await run(spec)) as { result: { series: { total: number }[] }; memo: boolean };
    assert.ok(before.memo);
    let landed = false;
    lake.srv.onQuery = ({ sql }) => {
      // Queued on the server before the analysis: it lands after the context was read.
      if (!landed && sql.includes("evx_memo_savers")) {
        landed = true;
        void lake.srv.exec(`INSERT INTO events (event_type, event_time, user_key, properties, props, date)
          SELECT arrayJoin(['file_saved', 'file_saved', 'file_saved', 'application_opened']),
                 toDateTime64('2023-06-06 10:00:00', 6, 'UTC'), 'memo-racing-user', '{}', map(), toDate('2023-06-06')`);
      }
      return undefined;
    };
    try {
      const mark = lake.srv.log.length;
      const out = (await ex.run(spec)) as unknown as { result: { series: { total: number }[] } };
      const sent = lake.srv.log.slice(mark);
      assert.ok(landed);
      assert.ok(
        sent.some((q) => q.status === "error" && q.code === 395 && q.sql.includes("evx_memo_savers")),
        "the statement on the memo failed",
      );
      assert.ok(!sent.at(-1)?.sql.includes("evx_memo_"), "the second run evaluated the cohort");
      assert.equal(out.result.series[0].total, before.result.series[0].total + 1);
    } finally {
      lake.srv.onQuery = undefined;
    }
    await refreshChCohortMemos(ex.client, ex.target, chCohortStore(ex.client));
  });

  test("a failure to write the memo fails neither the save nor the analyses (they evaluate)", async () => {
    lake.srv.onQuery = ({ sql }) =>
      /CREATE OR REPLACE TABLE `evx_memo_/.test(sql) ? { sql: "SELECT throwIf(1, 'no room')" } : undefined;
    try {
      await saveBehaviouralCh(ex, "late", {
        kind: "behavioural",
        conditions: [{ did: true, event: ref("file_opened"), atLeast: 2 }],
      });
    } finally {
      lake.srv.onQuery = undefined;
    }
    assert.ok(!(await memoTables()).includes("evx_memo_late"));
    const spec = { ...specs()[0], filters: [where("late")] } as AnalysisSpec;
    const r = (await run(spec)) as { result: { series: { total: number }[] }; memo: boolean };
    assert.ok(!r.memo);
    assert.ok(r.result.series[0].total > 0);
    await removeCohortCh(ex.client, "late");
  });

  test("a memo of another definition is not read; rm and a static save of the name drop it", async () => {
    const other: AnalysisSpec = {
      ...specs()[0],
      filters: [
        {
          ...where("savers"),
          cohort: {
            name: "savers",
            def: { kind: "behavioural", conditions: [{ did: true, event: ref("file_saved"), atLeast: 4 }] },
          },
        },
      ],
    } as AnalysisSpec;
    assert.ok(!(await run(other)).memo);
    await removeCohortCh(ex.client, "week");
    assert.ok(!(await memoTables()).includes("evx_memo_week"));
    await saveUsersCohortCh(
      ex,
      {
        kind: "users",
        of: specs()[3],
        select: { kind: "reached", step: 1 },
        limit: 10,
        range,
      } as never,
      "nopurchase",
    );
    assert.deepEqual(await memoTables(), ["evx_memo_savers"]);
  });
});
