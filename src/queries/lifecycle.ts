/**
 * Lifecycle (docs/semantics.md): per bucket of the range, new / returning / resurrecting / dormant
 * users of one event, judged by each user's whole history in the cache. Both engines.
 *
 * Plan: one row per (user, active bucket) over the whole cache, with every bucket before the one
 * preceding the range clamped to a single "earlier" bucket (only its existence matters), then `lag`
 * and `lead` over each user's active buckets classify each row: no previous bucket → new; previous
 * bucket one period back → returning; else resurrecting; and a row whose next active bucket is not
 * the following bucket makes the user dormant in the following bucket.
 */
import { type BuiltQuery, eventSql, Params, type QueryContext, rangeUsersFirst } from "./filters.js";
import type { LifecycleInterval, LifecyclePoint, LifecycleResult, LifecycleSpec } from "./spec.js";
import {
  addLocal,
  bucketSql,
  bucketsOf,
  DAY_US,
  type Frame,
  frameOf,
  isoOf,
  localSql,
  localStart,
  periodDiffSql,
  toLocal,
  truncLocal,
  withClause,
  zoneBetween,
} from "./time.js";

/** The frame with offsets from the bucket two before the range's first bucket to past its last. */
export function lifecycleFrame(spec: LifecycleSpec): {
  f: Frame;
  earlier: number;
  first: number;
  last: number;
} {
  const iv = spec.interval;
  const base = frameOf(spec.range);
  const first = truncLocal(iv, toLocal(base.zone, base.lo));
  const last = truncLocal(iv, toLocal(base.zone, base.hi - 1));
  const earlier = addLocal(iv, first, -2);
  const zone = zoneBetween(spec.range.tz, earlier - 2 * DAY_US, addLocal(iv, last, 1) + 2 * DAY_US);
  return { f: { zone, lo: base.lo, hi: base.hi }, earlier, first, last };
}

/** Local µs of the bucket after aligned bucket start `b` (SQL). */
function nextBucketSql(p: Params, b: string, iv: LifecycleInterval): string {
  const step = iv === "day" ? DAY_US : iv === "week" ? 7 * DAY_US : 32 * DAY_US;
  return iv === "month" ? bucketSql(p, `${b} + ${step}`, iv) : `(${b} + ${step})`;
}

/** Rows `(b, k, c)`: `k` ∈ new|returning|resurrecting|dormant, `b` the bucket's local µs. */
export function buildLifecycle(spec: LifecycleSpec, ctx?: QueryContext): BuiltQuery {
  const p = new Params(ctx);
  const iv = spec.interval;
  const { f, earlier, first, last } = lifecycleFrame(spec);
  // Events after the last bucket change nothing reported.
  const end = localStart(f.zone, addLocal(iv, last, 1));
  const prevFirst = addLocal(iv, first, -1);
  const raw = bucketSql(p, localSql(p, f.zone, p.us("event_time")), iv);
  const lo = p.big(prevFirst);
  const ev = eventSql(p, spec.event, spec.filters);
  const from = localStart(f.zone, prevFirst);
  const ctes = [
    `ab AS (SELECT user_key, CASE WHEN ${raw} < ${lo} THEN ${p.big(earlier)} ELSE ${raw} END AS b
      FROM events WHERE event_time < ${p.ts(p.big(end))} AND ${ev}${recentOnly(p, ev, raw, lo, from, end, ctx)}
      GROUP BY user_key, b)`,
    `w AS (SELECT user_key, b,
        ${p.lag("b", 1, "user_key", "b")} AS pb,
        ${p.lead("b", 1, "user_key", "b")} AS nb
      FROM ab)`,
    // (ClickHouse lets an output alias shadow a column everywhere in its SELECT, hence `bk`.)
    `cls AS (
      SELECT b AS bk, CASE WHEN pb IS NULL THEN 'new'
                     WHEN ${periodDiffSql(p, iv, "pb", "b")} = 1 THEN 'returning'
                     ELSE 'resurrecting' END AS k
        FROM w
      UNION ALL
      SELECT ${nextBucketSql(p, "b", iv)} AS bk, 'dormant' AS k
        FROM w WHERE nb IS NULL OR ${periodDiffSql(p, iv, "b", "nb")} > 1)`,
  ];
  const sql = `${withClause(ctes)}SELECT bk AS b, k, count(*) AS c FROM cls
 WHERE bk >= ${p.big(first)} AND bk <= ${p.big(last)} GROUP BY bk, k ORDER BY bk, k`;
  return { sql, params: p.values };
}

/**
 * History only of the users active from the bucket before the range (`fromUs`), when the data before
 * it (from the first event, the server's metadata) is long enough (rangeUsersFirst): everyone else's
 * rows fall in buckets before the range and change nothing reported. The users are found by the same
 * bucket expression; the instant bound, two days early as zones shift the local day, only lets the
 * server skip partitions.
 */
function recentOnly(
  p: Params,
  ev: string,
  raw: string,
  lo: string,
  fromUs: number,
  endUs: number,
  ctx: QueryContext | undefined,
): string {
  const first = ctx?.firstEventUs;
  if (first == null || !rangeUsersFirst(p, endUs - fromUs, fromUs - first)) return "";
  return ` AND user_key IN (SELECT user_key FROM events WHERE event_time >= ${p.ts(p.big(fromUs - 2 * DAY_US))} AND event_time < ${p.ts(p.big(endUs))} AND ${ev} AND ${raw} >= ${lo})`;
}

export function shapeLifecycle(rows: Record<string, unknown>[], spec: LifecycleSpec): LifecycleResult {
  const { f } = lifecycleFrame(spec);
  const byBucket = new Map<number, LifecyclePoint>();
  const points = bucketsOf(f, spec.interval).map((b) => {
    const pt: LifecyclePoint = { t: isoOf(b.start), new: 0, returning: 0, resurrecting: 0, dormant: 0 };
    byBucket.set(b.local, pt);
    return pt;
  });
  for (const r of rows) {
    const pt = byBucket.get(Number(r.b));
    if (!pt) continue;
    const c = Number(r.c);
    if (r.k === "new") pt.new = c;
    else if (r.k === "returning") pt.returning = c;
    else if (r.k === "resurrecting") pt.resurrecting = c;
    else if (r.k === "dormant") pt.dormant = -c;
  }
  return { interval: spec.interval, points };
}
