/**
 * Time-zone SQL fragments.
 *
 * ICU's `timezone(tz, instant)` costs ~1.5 µs per row, too slow to run on every event. Instead each
 * query builds a small table `tzo(slot, off)` of UTC offsets per 15-minute slot over the instants it
 * needs (ICU is called once per slot), and events join it on `epoch_us // 900e6`. A slot whose offset
 * differs from the next slot's (a transition inside or at the end of it) has `off = NULL`, and its
 * events fall back to the exact ICU conversion, so the result is exact for every zone.
 */
import type { Params } from "./filters.js";
import type { DateRange, Interval } from "./spec.js";

export const SLOT_US = 900_000_000;

const UNITS: Record<Interval, string> = { hour: "hour", day: "day", week: "week", month: "month" };

/** The validated interval word for date_trunc / INTERVAL (never user text). */
export function unit(iv: Interval): string {
  const u = UNITS[iv];
  if (!u) throw new Error(`bad interval ${JSON.stringify(iv)}`);
  return u;
}

export interface RangeSql {
  /** The zone placeholder. */
  tz: string;
  /** First instant of the range (TIMESTAMPTZ expression). */
  lo: string;
  /** First instant after the range (TIMESTAMPTZ expression). */
  hi: string;
  /** Local TIMESTAMP of the range start (from 00:00). */
  loLocal: string;
  /** Local TIMESTAMP of the range end (to+1 00:00, exclusive). */
  hiLocal: string;
  utc: boolean;
  /** The CTE computing the bounds (`rb`), to put first in the query; empty when none is needed. */
  cte: string;
}

export function rangeSql(p: Params, range: DateRange): RangeSql {
  const utc = range.tz === "UTC";
  // Every bound value must appear in the SQL: UTC queries need no zone parameter.
  const tz = utc ? "'UTC'" : p.str(range.tz);
  const loLocal = `CAST(CAST(${p.str(range.from)} AS DATE) AS TIMESTAMP)`;
  const hiLocal = `CAST(CAST(${p.str(range.to)} AS DATE) + 1 AS TIMESTAMP)`;
  if (utc)
    return {
      tz,
      loLocal,
      hiLocal,
      lo: localStart({ tz, utc }, loLocal),
      hi: localStart({ tz, utc }, hiLocal),
      utc,
      cte: "",
    };
  // The bounds are computed once; scans compare against them as scalar subqueries, which DuckDB turns
  // into dynamic table filters (zone maps still prune). Inlining the expression everywhere costs
  // tens of milliseconds of planning per query.
  const bounds = startsSelect(
    { tz, utc },
    `SELECT unnest([epoch_us(${loLocal}), epoch_us(${hiLocal})]) AS l, unnest([0, 1]) AS i`,
  );
  const cte = `rb AS MATERIALIZED (
    SELECT max(st) FILTER (WHERE i = 0) AS lo, max(st) FILTER (WHERE i = 1) AS hi FROM (${bounds}))`;
  return { tz, loLocal, hiLocal, lo: "(SELECT lo FROM rb)", hi: "(SELECT hi FROM rb)", utc, cte };
}

/** `WITH a, b, …` of the non-empty CTEs (empty string when there are none). */
export function withClause(ctes: string[]): string {
  const list = ctes.filter((c) => c);
  return list.length ? `WITH ${list.join(",\n")}\n` : "";
}

const DAY_US = 86_400_000_000;

/**
 * Adds `st` to the rows of `source` (a SELECT with a BIGINT column `l` of local wall-clock micros): the
 * earliest instant whose local time in the zone is at or after `l`. Unlike ICU's `timezone(tz, local)`,
 * a local time repeated by a DST fall-back gives its first occurrence, and a skipped local time gives
 * the transition instant. Candidates are `l - offset` for the offsets a day before and a day after;
 * the ICU calls are staged over columns so each appears once in the plan (planning cost).
 */
export function startsSelect(r: Pick<RangeSql, "tz" | "utc">, source: string): string {
  if (r.utc) return `SELECT *, make_timestamptz(l) AS st FROM (${source})`;
  const off = (us: string) => `(epoch_us(timezone(${r.tz}, make_timestamptz(${us}))) - (${us}))`;
  const local = (us: string) => `epoch_us(timezone(${r.tz}, make_timestamptz(${us})))`;
  return `SELECT * EXCLUDE (c1, c2, v1, v2), make_timestamptz(least(CASE WHEN v1 >= l THEN c1 END, CASE WHEN v2 >= l THEN c2 END)) AS st
      FROM (SELECT *, ${local("c1")} AS v1, ${local("c2")} AS v2
              FROM (SELECT *, l - ${off(`l - ${DAY_US}`)} AS c1, l - ${off(`l + ${DAY_US}`)} AS c2 FROM (${source})))`;
}

/** The start instant (see `startsSelect`) of one local TIMESTAMP expression, as a scalar subquery. */
export function localStart(r: Pick<RangeSql, "tz" | "utc">, local: string): string {
  if (r.utc) return `CAST(${local} AS TIMESTAMPTZ)`;
  return `(SELECT st FROM (${startsSelect(r, `SELECT epoch_us(${local}) AS l`)}))`;
}

/** `event_time` inside the range (plain comparisons with constant bounds, so zone maps prune). */
export function inRange(r: RangeSql, col = "event_time"): string {
  return `${col} >= ${r.lo} AND ${col} < ${r.hi}`;
}

/**
 * The offsets CTE body, `tzo(slot, off)`, covering instants in [loUs, hiUs] (BIGINT micros
 * expressions). Empty string for UTC (no table needed).
 */
export function tzoCte(r: RangeSql, loUs: string, hiUs: string): string {
  if (r.utc) return "";
  return `tzo AS (
    SELECT slot, CASE WHEN off = lead(off) OVER (ORDER BY slot) THEN off END AS off
      FROM (SELECT s AS slot, epoch_us(timezone(${r.tz}, make_timestamptz(s * ${SLOT_US}))) - s * ${SLOT_US} AS off
              FROM (SELECT CAST((${loUs}) // ${SLOT_US} - 1 AS BIGINT) AS lo, CAST((${hiUs}) // ${SLOT_US} + 1 AS BIGINT) AS hi) b,
                   generate_series(b.lo, b.hi) g(s)))`;
}

/**
 * FROM-clause suffix joining the offsets for rows whose instant (BIGINT micros) is `usExpr`, and the
 * local wall-clock micros expression. `alias` names the joined offsets row.
 */
export function localJoin(r: RangeSql, usExpr: string, alias = "o"): { join: string; local: string } {
  if (r.utc) return { join: "", local: usExpr };
  return {
    join: `LEFT JOIN tzo ${alias} ON ${alias}.slot = (${usExpr}) // ${SLOT_US}`,
    local: `CASE WHEN ${alias}.off IS NOT NULL THEN (${usExpr}) + ${alias}.off ELSE epoch_us(timezone(${r.tz}, make_timestamptz(${usExpr}))) END`,
  };
}

/** Local bucket start (TIMESTAMP) of local wall-clock micros. */
export function bucketOf(localUs: string, iv: Interval): string {
  return `date_trunc('${unit(iv)}', make_timestamp(${localUs}))`;
}

/**
 * The buckets covering the range: a table expression with `bucket` (local TIMESTAMP) and `st` (its start
 * instant, see `localStart`). A bucket whose local start names no instant of its own (an hour skipped
 * by DST) is left out.
 */
export function bucketSeries(r: RangeSql, iv: Interval): string {
  const u = unit(iv);
  const series = `generate_series(date_trunc('${u}', ${r.loLocal}), date_trunc('${u}', ${r.hiLocal} - INTERVAL 1 MICROSECOND), INTERVAL 1 ${u.toUpperCase()})`;
  if (r.utc)
    return `(SELECT generate_series AS bucket, CAST(generate_series AS TIMESTAMPTZ) AS st FROM ${series})`;
  const starts = startsSelect(
    r,
    `SELECT generate_series AS bucket, epoch_us(generate_series) AS l FROM ${series}`,
  );
  return `(SELECT bucket, st FROM (${starts}) WHERE date_trunc('${u}', timezone(${r.tz}, st)) = bucket)`;
}
