import { type BuiltQuery, eventSql, Params, propNumber, propText } from "./filters.js";
import { formatEventRef, formatMeasure } from "./parse.js";
import type { Measure, TrendResult, TrendSeries, TrendSpec } from "./spec.js";
import { bucketOf, bucketSeries, inRange, localJoin, rangeSql, tzoCte, withClause } from "./time.js";

/** The measure over a group of rows `(user_key, x)`, as a DOUBLE that is 0 for an empty group. */
function measureAgg(m: Measure): string {
  switch (m.kind) {
    case "events":
      return "CAST(count(*) AS DOUBLE)";
    case "users":
      return "CAST(count(DISTINCT user_key) AS DOUBLE)";
    case "per-user":
      return "CASE WHEN count(DISTINCT user_key) = 0 THEN 0.0 ELSE count(*) / count(DISTINCT user_key) END";
    // Compensated summation (order-independent to the last bit in practice); fsum turns ±inf into NaN,
    // so infinite inputs fall back to the plain aggregate.
    case "sum":
      return "CASE WHEN bool_or(NOT isfinite(x)) THEN sum(x) ELSE coalesce(fsum(x), 0.0) END";
    case "avg":
      return "CASE WHEN bool_or(NOT isfinite(x)) THEN avg(x) ELSE coalesce(favg(x), 0.0) END";
    default:
      throw new Error(`unknown measure ${JSON.stringify((m as Measure).kind)}`);
  }
}

/**
 * Rows: one per output series `(s, g, label, total, vals, ts)`, where `s` is the event index, `g` is
 * 0 for a top breakdown value (or no breakdown), 1 for `(other)`, 2 for `(none)`; `vals`/`ts` are the
 * per-bucket values and bucket-start instants.
 */
export function buildTrend(spec: TrendSpec): BuiltQuery {
  const p = new Params();
  const r = rangeSql(p, spec.range);
  const m = spec.measure;
  const x = m.kind === "sum" || m.kind === "avg" ? propNumber(p, m.key) : null;
  const b = spec.breakdown !== undefined ? propText(p, spec.breakdown) : null;
  const agg = measureAgg(m);
  const cols = `${x ? `, ${x} AS x` : ""}${b ? `, ${b} AS b` : ""}`;
  const scans = spec.events.map(
    (ev, i) =>
      `SELECT ${i} AS s, user_key, epoch_us(event_time) AS us${cols}
         FROM events WHERE ${inRange(r)} AND ${eventSql(p, ev, spec.filters)}`,
  );
  const lj = localJoin(r, "ev.us");
  const ctes: string[] = [r.cte];
  const tzo = tzoCte(r, `epoch_us(${r.lo})`, `epoch_us(${r.hi})`);
  if (tzo) ctes.push(tzo);
  ctes.push(`ev AS (${scans.join("\n  UNION ALL\n  ")})`);
  ctes.push(
    `lev AS (SELECT ev.s, ev.user_key, ${bucketOf(lj.local, spec.interval)} AS bucket${x ? ", ev.x" : ""}${b ? ", ev.b" : ""}
      FROM ev ${lj.join})`,
  );
  if (b) {
    const limit = p.big(Math.max(0, Math.floor(spec.limit)));
    ctes.push(`vt AS (SELECT s, b, ${agg} AS total FROM lev WHERE b IS NOT NULL GROUP BY s, b)`);
    ctes.push(`rk AS (SELECT s, b, row_number() OVER (PARTITION BY s ORDER BY total DESC, b) AS r FROM vt)`);
    ctes.push(`lab AS (
    SELECT lev.s, lev.user_key, lev.bucket${x ? ", lev.x" : ""},
           CASE WHEN lev.b IS NULL THEN 2 WHEN rk.r <= ${limit} THEN 0 ELSE 1 END AS g,
           CASE WHEN rk.r <= ${limit} THEN lev.b END AS label,
           CASE WHEN rk.r <= ${limit} THEN rk.r ELSE 0 END AS r
      FROM lev LEFT JOIN rk ON rk.s = lev.s AND rk.b = lev.b)`);
  } else {
    ctes.push(
      `lab AS (SELECT s, user_key, bucket${x ? ", x" : ""}, 0 AS g, CAST(NULL AS VARCHAR) AS label, 0 AS r FROM lev)`,
    );
  }
  ctes.push(`agg AS (
    SELECT s, g, label, r, bucket, GROUPING(bucket) AS tot, ${agg} AS v
      FROM lab GROUP BY GROUPING SETS ((s, g, label, r, bucket), (s, g, label, r)))`);
  if (b) {
    ctes.push(`ser AS (SELECT s, g, label, r, v AS total FROM agg WHERE tot = 1)`);
  } else {
    ctes.push(`ser AS (
    SELECT i.s, 0 AS g, CAST(NULL AS VARCHAR) AS label, 0 AS r, coalesce(a.v, 0.0) AS total
      FROM (SELECT unnest(range(${spec.events.length})) AS s) i LEFT JOIN agg a ON a.tot = 1 AND a.s = i.s)`);
  }
  ctes.push(`bk AS ${bucketSeries(r, spec.interval)}`);
  const sql = `${withClause(ctes)}SELECT ser.s, ser.g, ser.label, ser.total,
       list(coalesce(a.v, 0.0) ORDER BY bk.bucket) AS vals,
       list(bk.st ORDER BY bk.bucket) AS ts
  FROM ser CROSS JOIN bk
  LEFT JOIN agg a ON a.tot = 0 AND a.s = ser.s AND a.g = ser.g AND a.r = ser.r AND a.bucket = bk.bucket
 GROUP BY ser.s, ser.g, ser.r, ser.label, ser.total
 ORDER BY ser.s, ser.g, ser.r`;
  return { sql, params: p.values };
}

export function shapeTrend(rows: Record<string, unknown>[], spec: TrendSpec): TrendResult {
  const labels = spec.events.map(formatEventRef);
  const series: TrendSeries[] = rows.map((row) => {
    const g = Number(row.g);
    const vals = row.vals as number[];
    const ts = row.ts as string[];
    return {
      event: labels[Number(row.s)],
      breakdown:
        spec.breakdown === undefined ? null : g === 0 ? String(row.label) : g === 1 ? "(other)" : "(none)",
      points: ts.map((t, i) => ({ t, value: Number(vals[i]) })),
      total: Number(row.total),
    };
  });
  return { interval: spec.interval, measure: formatMeasure(spec.measure), series };
}
