/**
 * The bench's ClickHouse side, in process (chdb, ClickHouse 26.x): the same lake loaded into evx's
 * ClickHouse table with the same parse rules as `evx clickhouse load` (per partition: stage, then
 * REPLACE PARTITION), the same specs through the ClickHouse builders, and — the yardstick a user would
 * reach for instead of evx — the idiomatic `windowFunnel` query for the funnels.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { parseParams, parseSelectSql } from "../src/queries/clickhouse/load.js";
import { materializeShared } from "../src/queries/clickhouse/materialize.js";
import { chQueryParams, eventsDdl, onTable } from "../src/queries/clickhouse/schema.js";
import { buildQuery, shapeResult } from "../src/queries/executor.js";
import { CH_EVENTS_SOURCE, chIdentitySql } from "../src/queries/identity.js";
import type { AnalysisSpec, FunnelSpec } from "../src/queries/spec.js";
import { frameOf } from "../src/queries/time.js";
import { chRows, chSession } from "../test/helpers/chdb-engine.js";

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

export interface ChLoad {
  seconds: number;
  events: number;
  rejected: number;
  /** Compressed bytes of the table's active parts. */
  bytes: number;
}

/** Loads every `date=YYYY-MM-DD` folder of the lake, one partition at a time, as `evx clickhouse load` does. */
export function loadLake(lakeDir: string, table: string): ChLoad {
  const s = chSession();
  s.query(`DROP TABLE IF EXISTS ${table}`);
  s.query(eventsDdl({ table }));
  const dates = readdirSync(lakeDir)
    .map((d) => /^date=(\d{4}-\d{2}-\d{2})$/.exec(d)?.[1])
    .filter((d): d is string => !!d)
    .sort();
  let rejected = 0;
  const t0 = performance.now();
  for (const date of dates) {
    const stage = `${table}_stage`;
    s.query(`DROP TABLE IF EXISTS ${stage}`);
    s.query(`CREATE TABLE ${stage} AS ${table}`);
    const glob = join(lakeDir, `date=${date}`, "*.{jsonl,jsonl.gz}").replace(/'/g, "\\'");
    s.queryBind(
      `INSERT INTO ${stage} ${parseSelectSql(`(SELECT line, _path FROM file('${glob}', 'LineAsString', 'line String'))`)}`,
      parseParams(date),
    );
    const bad = chRows(`SELECT count() AS n FROM ${stage} WHERE date != toDate({d:String})`, { d: date });
    rejected += Number(bad[0]?.n ?? 0);
    s.query(`ALTER TABLE ${table} REPLACE PARTITION ID '${date.replace(/-/g, "")}' FROM ${stage}`);
    s.query(`DROP TABLE ${stage}`);
  }
  s.query(`OPTIMIZE TABLE ${table} FINAL`);
  const seconds = (performance.now() - t0) / 1000;
  const r = chRows(
    `SELECT sum(rows) AS n, sum(data_compressed_bytes) AS b FROM system.parts WHERE table = {t:String} AND active`,
    { t: table },
  );
  return { seconds, events: Number(r[0]?.n ?? 0), rejected, bytes: Number(r[0]?.b ?? 0) };
}

/** Median ms of `runs` runs of one spec through evx's ClickHouse builders (the rows shaped as evx would). */
export function timeSpec(table: string, spec: AnalysisSpec, runs: number): number {
  return runSpec(table, spec, runs).ms;
}

/** Median ms of `runs` runs of one spec, and its result. */
export function runSpec(table: string, spec: AnalysisSpec, runs: number): { ms: number; result: unknown } {
  const q = buildQuery(spec, { engine: "clickhouse" }, "clickhouse");
  // A sampled statement names the table by a placeholder (src/queries/sample.ts).
  const on = q.sql.includes(CH_EVENTS_SOURCE)
    ? chIdentitySql(q.sql, table, `${table}_evx_identity`)
    : onTable(q.sql, table);
  // As the engine sends it to a server that can (chdb can): shared aggregated CTEs evaluated once.
  const m = materializeShared(on);
  const ms: number[] = [];
  let result: unknown;
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    result = shapeResult(spec, chRows(m.sql, chQueryParams(q.params), m.count > 0));
    ms.push(performance.now() - t);
  }
  return { ms: median(ms), result };
}

/**
 * The idiomatic ClickHouse funnel: `windowFunnel` over the steps (µs timestamps), furthest level per
 * user, then users per level. It ignores evx's repeated-step rule (none of the bench funnels repeat a
 * step), which is what a ClickHouse user would write.
 */
export function windowFunnelMs(table: string, spec: FunnelSpec, runs: number): number {
  const f = frameOf(spec.range);
  const steps = spec.steps.map((st, i) => {
    const conds = [`event_type = {e${i}:String}`];
    for (const [j, flt] of st.filters.entries()) {
      if (flt.op !== "=") throw new Error("bench windowFunnel: only = step filters");
      conds.push(`props[{k${i}_${j}:String}] = {v${i}_${j}:String}`);
    }
    return conds.join(" AND ");
  });
  const params: Record<string, unknown> = {
    lo: String(f.lo),
    hi: String(f.hi),
    w: String(spec.withinSeconds * 1e6),
  };
  spec.steps.forEach((st, i) => {
    params[`e${i}`] = st.event;
    st.filters.forEach((flt, j) => {
      params[`k${i}_${j}`] = flt.key;
      params[`v${i}_${j}`] = String(flt.value);
    });
  });
  const sql = `SELECT level, count() AS users FROM (
  SELECT user_key, windowFunnel({w:UInt64})(toUInt64(toUnixTimestamp64Micro(event_time)), ${steps.join(", ")}) AS level
    FROM ${table}
   WHERE event_time >= fromUnixTimestamp64Micro({lo:Int64}, 'UTC')
     AND event_time < fromUnixTimestamp64Micro({hi:Int64} + {w:Int64}, 'UTC')
     AND event_type IN (${spec.steps.map((_, i) => `{e${i}:String}`).join(", ")})
   GROUP BY user_key) WHERE level > 0 GROUP BY level ORDER BY level`;
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    chRows(sql, params);
    ms.push(performance.now() - t);
  }
  return median(ms);
}

export { chQueryParams };
