/**
 * Coverage of a result (docs/semantics.md, "Coverage"): which partition dates of the range the cache
 * holds, read from the manifest (`objects`, `failures`) and the last listing a sync recorded
 * (`source_dates`). Partition dates are UTC days.
 */
import { type BuiltQuery, Params } from "./filters.js";
import { type DataExtent, extentOf } from "./partial.js";
import type { Coverage } from "./spec.js";

const DAY_US = 86_400_000_000;

/**
 * One row: the coverage of the instant range [loUs, hiUs) (epoch µs), and what `extentOfCoverageRow`
 * reads (the first and last known dates, the last listing's instant). A date is in range when its UTC
 * day overlaps the range and the listing, the manifest or the failures know it.
 */
export function buildCoverage(loUs: number, hiUs: number): BuiltQuery {
  const p = new Params();
  // Fractional µs cannot change which whole days overlap: day edges are whole µs.
  const lo = p.big(Math.floor(loUs));
  const hi = p.big(Math.ceil(hiUs));
  const dayStart = "epoch_us(CAST(d.date AS TIMESTAMP))";
  const sql = `WITH listed AS (SELECT date, objects FROM source_dates),
cached AS (SELECT date, count(*) AS objects, sum(rejected) AS rejected FROM objects GROUP BY date),
failed AS (SELECT DISTINCT date FROM failures WHERE date IS NOT NULL),
known AS (SELECT date FROM listed UNION SELECT date FROM cached UNION SELECT date FROM failed),
in_range AS (
  SELECT d.date,
         f.date IS NOT NULL AS is_failed,
         f.date IS NULL AND coalesce(l.objects, 0) > coalesce(c.objects, 0) AS is_missing,
         coalesce(c.rejected, 0) AS rejected
    FROM known d
    LEFT JOIN listed l ON l.date = d.date
    LEFT JOIN cached c ON c.date = d.date
    LEFT JOIN failed f ON f.date = d.date
   WHERE ${lo} < ${hi} AND ${dayStart} < ${hi} AND ${dayStart} + ${p.big(DAY_US)} > ${lo})
SELECT count(*) AS partitions_in_range,
       count(*) FILTER (WHERE NOT is_failed AND NOT is_missing) AS partitions_synced,
       coalesce(list(strftime(date, '%Y-%m-%d') ORDER BY date) FILTER (WHERE is_missing), []) AS missing,
       coalesce(list(strftime(date, '%Y-%m-%d') ORDER BY date) FILTER (WHERE is_failed), []) AS failed,
       coalesce(sum(rejected), 0) AS rejected_lines,
       (SELECT max(max_time) FROM objects) AS last_event,
       (SELECT strftime(min(date), '%Y-%m-%d') FROM known) AS first_date,
       (SELECT strftime(max(date), '%Y-%m-%d') FROM known) AS last_date,
       (SELECT value FROM meta WHERE key = 'listed_at') AS listed_at
  FROM in_range`;
  return { sql, params: p.values };
}

/** The single row of `buildCoverage` (after `rowsOf`: timestamps are ISO strings, lists arrays). */
export function shapeCoverage(rows: Record<string, unknown>[]): Coverage {
  const r = rows[0] ?? {};
  const dates = (v: unknown) => (Array.isArray(v) ? v.map(String).sort() : []);
  return {
    partitions_in_range: Number(r.partitions_in_range ?? 0),
    partitions_synced: Number(r.partitions_synced ?? 0),
    missing: dates(r.missing),
    failed: dates(r.failed),
    rejected_lines: Number(r.rejected_lines ?? 0),
    last_event: r.last_event == null ? null : String(r.last_event),
  };
}

/** The data extent (src/queries/partial.ts) from the row of `buildCoverage`. */
export function extentOfCoverageRow(rows: Record<string, unknown>[]): DataExtent {
  const r = rows[0] ?? {};
  const listed = typeof r.listed_at === "string" ? Date.parse(r.listed_at) : Number.NaN;
  return extentOf(
    r.first_date == null ? null : String(r.first_date),
    r.last_date == null ? null : String(r.last_date),
    Number.isFinite(listed) ? listed * 1000 : null,
  );
}
