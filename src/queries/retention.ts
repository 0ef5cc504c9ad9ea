import { type BuiltQuery, distinctUsers, eventSql, Params, type QueryContext } from "./filters.js";
import type { RetentionCohort, RetentionResult, RetentionSpec } from "./spec.js";
import {
  addLocal,
  bucketSql,
  bucketsOf,
  frameOf,
  inRange,
  isoOf,
  localSql,
  localStart,
  periodDiffSql,
  truncLocal,
  withClause,
} from "./time.js";

/** The time frame of a retention spec: offsets cover every period of every cohort. */
function retentionFrame(spec: RetentionSpec) {
  const N = Math.max(1, Math.floor(spec.periods));
  const base = frameOf(spec.range);
  const capLocal = addLocal(spec.period, truncLocal(spec.period, base.hiLocal - 1), N);
  const f = frameOf(spec.range, capLocal);
  return { f, N, cap: localStart(f.zone, capLocal) };
}

/**
 * First-time retention. Rows: `kind = 'size'` `(cb, c)` users per cohort bucket; `kind = 'cell'`
 * `(cb, n, c)` — for `on`, users with a RETURN in period `n`; for `on-or-after`, users whose furthest
 * RETURN period is `n` (capped at periods-1); `kind = 'last'` `(c)` the last cached instant (µs).
 * `cb` is the cohort bucket's local wall-clock µs; shaping lists every bucket of the range.
 */
export function buildRetention(spec: RetentionSpec, ctx?: QueryContext): BuiltQuery {
  const p = new Params();
  const { f, N: periods, cap } = retentionFrame(spec);
  const P = spec.period;
  const N = p.big(periods);
  const ctes: string[] = [];
  ctes.push(`st AS (SELECT user_key, min(epoch_us(event_time)) AS t0
      FROM events WHERE ${inRange(p, f)} AND ${eventSql(p, spec.start, spec.filters)} GROUP BY user_key)`);
  ctes.push(`stl AS (SELECT user_key, t0, ${bucketSql(localSql(p, f.zone, "t0"), P)} AS cb FROM st)`);
  const ret = eventSql(p, spec.return, spec.filters);
  const lo = `make_timestamptz(${p.big(f.lo)})`;
  if (spec.mode === "on") {
    // Only periods 0..N-1 of the last cohort are reported: later RETURN events cannot land in a cell.
    ctes.push(`rt AS (SELECT user_key, epoch_us(event_time) AS t
      FROM events WHERE event_time >= ${lo} AND event_time < make_timestamptz(${p.big(cap)}) AND ${ret})`);
    ctes.push(
      `jr AS (SELECT s.user_key, s.cb, r.t FROM stl s JOIN rt r ON r.user_key = s.user_key AND r.t >= s.t0)`,
    );
    ctes.push(
      `jl AS (SELECT user_key, cb, ${periodDiffSql(P, "cb", bucketSql(localSql(p, f.zone, "t"), P))} AS n FROM jr)`,
    );
    ctes.push(
      `cells AS (SELECT cb, n, ${distinctUsers(ctx, (bucketsOf(f, P).length + 1) * periods)} AS c FROM jl WHERE n < ${N} GROUP BY cb, n)`,
    );
  } else {
    ctes.push(
      `rt AS (SELECT user_key, epoch_us(event_time) AS t FROM events WHERE event_time >= ${lo} AND ${ret})`,
    );
    ctes.push(`ju AS (SELECT s.user_key, s.cb, max(r.t) AS tm
      FROM stl s JOIN rt r ON r.user_key = s.user_key AND r.t >= s.t0 GROUP BY s.user_key, s.cb)`);
    ctes.push(
      `jl AS (SELECT cb, least(${periodDiffSql(P, "cb", bucketSql(localSql(p, f.zone, "tm"), P))}, ${N} - 1) AS n FROM ju)`,
    );
    ctes.push(`cells AS (SELECT cb, n, count(*) AS c FROM jl GROUP BY cb, n)`);
  }
  const sql = `${withClause(ctes)}SELECT 'size' AS kind, cb, CAST(NULL AS BIGINT) AS n, count(*) AS c FROM stl GROUP BY cb
UNION ALL
SELECT 'cell', cb, n, c FROM cells
UNION ALL
SELECT 'last', NULL, NULL, epoch_us(max(event_time)) FROM events`;
  return { sql, params: p.values };
}

export function shapeRetention(rows: Record<string, unknown>[], spec: RetentionSpec): RetentionResult {
  const { f, N } = retentionFrame(spec);
  const sizes = new Map<number, number>();
  const cells = new Map<number, number[]>();
  let last = Number.NEGATIVE_INFINITY;
  for (const r of rows) {
    if (r.kind === "size") sizes.set(Number(r.cb), Number(r.c));
    else if (r.kind === "last") last = r.c == null ? Number.NEGATIVE_INFINITY : Number(r.c);
    else {
      const cb = Number(r.cb);
      const n = Number(r.n);
      let list = cells.get(cb);
      if (!list) {
        list = new Array<number>(N).fill(0);
        cells.set(cb, list);
      }
      if (n >= 0 && n < N) list[n] += Number(r.c);
    }
  }
  const cohorts: RetentionCohort[] = bucketsOf(f, spec.period).map((b) => {
    const retained = [...(cells.get(b.local) ?? new Array<number>(N).fill(0))];
    if (spec.mode === "on-or-after") for (let n = N - 2; n >= 0; n--) retained[n] += retained[n + 1];
    let incomplete: number | null = null;
    for (let n = 0; n < N; n++) {
      if (localStart(f.zone, addLocal(spec.period, b.local, n + 1)) > last) {
        incomplete = n;
        break;
      }
    }
    return { cohort: isoOf(b.start), users: sizes.get(b.local) ?? 0, retained, incomplete_from: incomplete };
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
