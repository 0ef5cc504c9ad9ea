/**
 * Stickiness (docs/semantics.md): per user, the number of distinct local buckets of the range with a
 * matching event; then users per count. Both engines; the engine returns one row per count.
 */
import { type BuiltQuery, eventSql, Params, type QueryContext } from "./filters.js";
import type { StickinessResult, StickinessSpec } from "./spec.js";
import { bucketSql, bucketsOf, frameOf, inRange, localSql, withClause } from "./time.js";

/** Rows `(c, users)`: users active in exactly `c` buckets (counts with no users have no row). */
export function buildStickiness(spec: StickinessSpec, ctx?: QueryContext): BuiltQuery {
  const p = new Params(ctx);
  const f = frameOf(spec.range);
  const bucket = bucketSql(p, localSql(p, f.zone, p.us("event_time")), spec.interval);
  // One row per (user, bucket) first: a distinct pair count is cheaper than count(DISTINCT) per user.
  const ctes = [
    `ub AS (SELECT user_key, ${bucket} AS b FROM events
      WHERE ${inRange(p, f)} AND ${eventSql(p, spec.event, spec.filters)} GROUP BY user_key, b)`,
    `uc AS (SELECT user_key, count(*) AS c FROM ub GROUP BY user_key)`,
  ];
  const sql = `${withClause(ctes)}SELECT c, count(*) AS users FROM uc GROUP BY c ORDER BY c`;
  return { sql, params: p.values };
}

export function shapeStickiness(rows: Record<string, unknown>[], spec: StickinessSpec): StickinessResult {
  const n = bucketsOf(frameOf(spec.range), spec.interval).length;
  const histogram = Array.from({ length: n }, (_, i) => ({ count: i + 1, users: 0 }));
  let users = 0;
  let sum = 0;
  for (const r of rows) {
    const c = Number(r.c);
    const u = Number(r.users);
    if (c >= 1 && c <= n) histogram[c - 1].users = u;
    users += u;
    sum += c * u;
  }
  return { interval: spec.interval, buckets_in_range: n, histogram, average: users ? sum / users : null };
}
