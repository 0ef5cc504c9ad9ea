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
}

export function rangeSql(p: Params, range: DateRange): RangeSql {
  const utc = range.tz === "UTC";
  // Every bound value must appear in the SQL: UTC queries need no zone parameter.
  const tz = utc ? "'UTC'" : p.str(range.tz);
  const loLocal = `CAST(CAST(${p.str(range.from)} AS DATE) AS TIMESTAMP)`;
  const hiLocal = `CAST(CAST(${p.str(range.to)} AS DATE) + 1 AS TIMESTAMP)`;
  const r = { tz, loLocal, hiLocal, lo: "", hi: "", utc };
  r.lo = localStart(r, loLocal);
  r.hi = localStart(r, hiLocal);
  return r;
}

const DAY_US = 86_400_000_000;

/**
 * The earliest instant whose local time in the zone is at or after the local TIMESTAMP `local`
 * (TIMESTAMPTZ expression). Unlike ICU's `timezone(tz, local)`, a local time repeated by a DST fall-back
 * gives its first occurrence, and a skipped local time gives the transition instant. Candidates are
 * `local - offset` for the offsets a day before and a day after.
 */
export function localStart(r: Pick<RangeSql, "tz" | "utc">, local: string): string {
  if (r.utc) return `CAST(${local} AS TIMESTAMPTZ)`;
  const lus = `epoch_us(${local})`;
  const off = (us: string) => `(epoch_us(timezone(${r.tz}, make_timestamptz(${us}))) - (${us}))`;
  const c1 = `(${lus} - ${off(`${lus} - ${DAY_US}`)})`;
  const c2 = `(${lus} - ${off(`${lus} + ${DAY_US}`)})`;
  const ok = (c: string) =>
    `CASE WHEN epoch_us(timezone(${r.tz}, make_timestamptz(${c}))) >= ${lus} THEN ${c} END`;
  return `make_timestamptz(least(${ok(c1)}, ${ok(c2)}))`;
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
  return `(SELECT bucket, st FROM (SELECT generate_series AS bucket, ${localStart(r, "generate_series")} AS st FROM ${series})
     WHERE date_trunc('${u}', timezone(${r.tz}, st)) = bucket)`;
}
