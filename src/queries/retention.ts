import { type BuiltQuery, eventSql, Params } from "./filters.js";
import type { Period, RetentionCohort, RetentionResult, RetentionSpec } from "./spec.js";
import {
  bucketOf,
  bucketSeries,
  inRange,
  localJoin,
  localStart,
  rangeSql,
  tzoCte,
  unit,
  withClause,
} from "./time.js";

/** Whole calendar periods from local bucket `a` to local bucket `b` (both bucket-aligned TIMESTAMPs). */
function periodDiff(period: Period, a: string, b: string): string {
  switch (period) {
    case "day":
      return `date_diff('day', ${a}, ${b})`;
    case "week":
      return `(date_diff('day', ${a}, ${b}) // 7)`;
    case "month":
      return `((year(${b}) - year(${a})) * 12 + month(${b}) - month(${a}))`;
    default:
      throw new Error(`bad period ${JSON.stringify(period)}`);
  }
}

/**
 * First-time retention. Rows: one per cohort bucket of the range, in order:
 * `(cohort, users, cells, inc)` where `cells` lists `{n, c}` — for `on`, users with a RETURN in
 * period `n`; for `on-or-after`, users whose furthest RETURN period is `n` (capped at periods-1) — and
 * `inc` is the period index of the last cached event's bucket relative to the cohort.
 */
export function buildRetention(spec: RetentionSpec): BuiltQuery {
  const p = new Params();
  const r = rangeSql(p, spec.range);
  const P = spec.period;
  const N = p.big(Math.max(1, Math.floor(spec.periods)));
  const lastUs = "(SELECT epoch_us(max(event_time)) FROM events)";
  const ctes: string[] = [r.cte];
  const tzo = tzoCte(r, `epoch_us(${r.lo})`, `greatest(epoch_us(${r.hi}), coalesce(${lastUs}, 0))`);
  if (tzo) ctes.push(tzo);
  const s = localJoin(r, "st.t0");
  ctes.push(`st AS (SELECT user_key, min(epoch_us(event_time)) AS t0
      FROM events WHERE ${inRange(r)} AND ${eventSql(p, spec.start, spec.filters)} GROUP BY user_key)`);
  ctes.push(`stl AS (SELECT st.user_key, st.t0, ${bucketOf(s.local, P)} AS cb FROM st ${s.join})`);
  const ret = eventSql(p, spec.return, spec.filters);
  if (spec.mode === "on") {
    // Only periods 0..N-1 of the last cohort matter: later RETURN events cannot land in a reported cell.
    const cap = localStart(
      r,
      `(date_trunc('${unit(P)}', ${r.hiLocal} - INTERVAL 1 MICROSECOND) + to_${unit(P)}s(CAST(${N} AS INTEGER)))`,
    );
    ctes.push(`rt AS (SELECT user_key, epoch_us(event_time) AS t
      FROM events WHERE event_time >= ${r.lo} AND event_time < ${cap} AND ${ret})`);
    ctes.push(
      `jr AS (SELECT s.user_key, s.cb, r.t FROM stl s JOIN rt r ON r.user_key = s.user_key AND r.t >= s.t0)`,
    );
    const j = localJoin(r, "jr.t");
    ctes.push(
      `jl AS (SELECT user_key, cb, ${periodDiff(P, "cb", bucketOf(j.local, P))} AS n FROM jr ${j.join})`,
    );
    ctes.push(`cells AS (SELECT cb, n, count(DISTINCT user_key) AS c FROM jl WHERE n < ${N} GROUP BY cb, n)`);
  } else {
    ctes.push(
      `rt AS (SELECT user_key, epoch_us(event_time) AS t FROM events WHERE event_time >= ${r.lo} AND ${ret})`,
    );
    ctes.push(`ju AS (SELECT s.user_key, s.cb, max(r.t) AS tm
      FROM stl s JOIN rt r ON r.user_key = s.user_key AND r.t >= s.t0 GROUP BY s.user_key, s.cb)`);
    const j = localJoin(r, "ju.tm");
    ctes.push(
      `jl AS (SELECT cb, least(${periodDiff(P, "cb", bucketOf(j.local, P))}, ${N} - 1) AS n FROM ju ${j.join})`,
    );
    ctes.push(`cells AS (SELECT cb, n, count(*) AS c FROM jl GROUP BY cb, n)`);
  }
  ctes.push(`sizes AS (SELECT cb, count(*) AS users FROM stl GROUP BY cb)`);
  ctes.push(`cl AS (SELECT cb, list({'n': n, 'c': c}) AS cells FROM cells GROUP BY cb)`);
  const lastLocal = r.utc ? "max(event_time)::TIMESTAMP" : `timezone(${r.tz}, max(event_time))`;
  ctes.push(`lastb AS (SELECT date_trunc('${unit(P)}', ${lastLocal}) AS lb FROM events)`);
  ctes.push(`bk AS ${bucketSeries(r, P)}`);
  const sql = `${withClause(ctes)}SELECT bk.st AS cohort, coalesce(sizes.users, 0) AS users, cl.cells,
       ${periodDiff(P, "bk.bucket", "lastb.lb")} AS inc
  FROM bk CROSS JOIN lastb LEFT JOIN sizes ON sizes.cb = bk.bucket LEFT JOIN cl ON cl.cb = bk.bucket
 ORDER BY bk.bucket`;
  return { sql, params: p.values };
}

export function shapeRetention(rows: Record<string, unknown>[], spec: RetentionSpec): RetentionResult {
  const N = Math.max(1, Math.floor(spec.periods));
  const cohorts: RetentionCohort[] = rows.map((row) => {
    const retained = new Array<number>(N).fill(0);
    for (const cell of (row.cells as { n: number; c: number }[] | null) ?? []) {
      const n = Number(cell.n);
      if (n >= 0 && n < N) retained[n] += Number(cell.c);
    }
    if (spec.mode === "on-or-after") for (let n = N - 2; n >= 0; n--) retained[n] += retained[n + 1];
    const inc = row.inc === null || row.inc === undefined ? null : Number(row.inc);
    return {
      cohort: String(row.cohort),
      users: Number(row.users),
      retained,
      incomplete_from: inc === null ? 0 : inc < 0 ? 0 : inc >= N ? null : inc,
    };
  });
  const average: (number | null)[] = [];
  for (let n = 0; n < N; n++) {
    let kept = 0;
    let users = 0;
    for (const c of cohorts) {
      const complete = c.incomplete_from === null || n < c.incomplete_from;
      if (complete && c.users > 0) {
        kept += c.retained[n];
        users += c.users;
      }
    }
    average.push(users ? kept / users : null);
  }
  return { period: spec.period, mode: spec.mode, cohorts, average: average as number[] };
}
