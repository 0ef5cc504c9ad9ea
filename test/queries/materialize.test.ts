// Which CTEs the ClickHouse statements materialize (queries/clickhouse/materialize.ts): only aggregated
// ones read more than once, never per-event rows. That the answers stay the same is the cross-checks'
// job: their ClickHouse engine (test/helpers/chdb-engine.ts) sends every statement materialized.
import assert from "node:assert/strict";
import { test } from "node:test";
import { specs } from "../../bench/specs.js";
import { materializeShared, materializesCtes } from "../../src/queries/clickhouse/materialize.js";
import { onTable } from "../../src/queries/clickhouse/schema.js";
import { buildQuery } from "../../src/queries/executor.js";
import type { FunnelSpec } from "../../src/queries/spec.js";

const range = { from: "2023-06-01", to: "2023-06-28", tz: "UTC" };
const materialized = (sql: string) => [...sql.matchAll(/(\w+) AS MATERIALIZED \(/g)].map((m) => m[1]);
const chSql = (name: string) => {
  const s = specs(range).find((x) => x.name === name);
  assert.ok(s, name);
  return onTable(buildQuery(s.spec, { engine: "clickhouse" }, "clickhouse").sql, "my_events");
};

test("the bench's analyses: aggregated CTEs read twice, and nothing else", () => {
  const expect: Record<string, string[]> = {
    catalog: [],
    "funnel 3 steps 1d": [],
    "funnel 3 steps 1d time to convert": ["pu", "tt", "tw"],
    "trend events/day": ["bk"],
    // `lev` (one row per event, read twice) stays inlined: at 8B events it would be held in memory.
    "trend breakdown": ["bk"],
    "trend p95/day": ["sl"],
    // Users per bucket (a DISTINCT), then their windows: read twice (starts and stops).
    "trend rolling WAU": ["uw"],
    "retention weekly 8": ["stl"],
    "lifecycle day 14d": ["w"],
    "paths after d4": [],
  };
  for (const [name, want] of Object.entries(expect)) {
    const sql = chSql(name);
    const m = materializeShared(sql);
    assert.deepEqual(materialized(m.sql), want, name);
    assert.equal(m.count, want.length, name);
    // Only the heads change.
    assert.equal(m.sql.replaceAll(" AS MATERIALIZED (", " AS ("), sql, name);
  }
  assert.match(chSql("trend breakdown"), /\nlev AS \(/, "the breakdown still has its per-event CTE");
});

test("rows per user and instant are per event: not materialized, though a set of entrants reads them again", () => {
  // A one-day funnel within 7 days reads its later steps only for the users of its first (funnel.ts),
  // so step 1's rows are read twice; with --value they are grouped by user and instant, and an
  // any-order funnel's are DISTINCT by user and instant: still one row per event.
  const day = { from: "2023-06-15", to: "2023-06-15", tz: "UTC" };
  const steps = ["application_opened", "file_opened", "file_saved"].map((event) => ({ event, filters: [] }));
  const base = {
    kind: "funnel" as const,
    steps,
    withinSeconds: 7 * 86_400,
    range: day,
    filters: [],
    limit: 10,
  };
  const funnels: FunnelSpec[] = [
    { ...base, value: "amount" },
    { ...base, order: "any" },
  ];
  for (const spec of funnels) {
    const sql = onTable(buildQuery(spec, { engine: "clickhouse" }, "clickhouse").sql, "my_events");
    assert.match(
      sql,
      /user_key IN \(SELECT user_key FROM (s1|an)\)/,
      "the later steps read the entrants only",
    );
    assert.deepEqual(materialized(materializeShared(sql).sql), [], spec.order ?? "value");
  }
});

test("quoted parentheses and names do not move the CTEs' bounds; a union decides by what it reads", () => {
  const sql = `WITH ev AS (SELECT user_key, ')(' AS x FROM events WHERE p = 'a''(b'),
agg AS (SELECT user_key, count(*) AS n, '(' AS y FROM ev GROUP BY user_key),
mix AS (SELECT user_key, 1 AS n FROM ev UNION ALL SELECT user_key, n FROM agg GROUP BY user_key, n),
once AS (SELECT n FROM agg WHERE n > 1),
win AS (SELECT user_key, lagInFrame(n) OVER (ORDER BY user_key) AS pn FROM (SELECT * FROM agg))
SELECT * FROM agg JOIN mix USING user_key
UNION ALL SELECT * FROM agg JOIN mix USING user_key WHERE user_key IN (SELECT user_key FROM once)
UNION ALL SELECT user_key, pn FROM win UNION ALL SELECT user_key, pn FROM win`;
  const m = materializeShared(sql);
  // agg: grouped, read 2× (and by once); mix: a union with a per-event branch; once: read once;
  // win: a window over a subquery of aggregated rows, read 2×; ev: per event.
  assert.deepEqual(materialized(m.sql), ["agg", "win"]);
  assert.equal(materializeShared("SELECT 1").count, 0);
  assert.equal(materializeShared("WITH a AS (SELECT count() AS n FROM t) SELECT * FROM a, a").count, 0);
});

test("servers from 26.3 on materialize CTEs (the version() of the context)", () => {
  for (const v of ["26.3.1.884", "26.7.2.1", "27.1.1", "30.0"]) assert.ok(materializesCtes(v), v);
  for (const v of ["26.2.5.1", "25.8.1", "24.3.18.7", "", "unknown"]) assert.ok(!materializesCtes(v), v);
});
