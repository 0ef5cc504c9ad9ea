import { type BuiltQuery, eventSql, Params, propText, type QueryContext } from "./filters.js";
import { formatEventRef } from "./parse.js";
import type { FunnelResult, FunnelSpec, FunnelStepResult, FunnelTrendPoint } from "./spec.js";
import {
  bucketSql,
  bucketsOf,
  checkBuckets,
  compareOffsetSeconds,
  type Frame,
  frameOf,
  inRange,
  isoOf,
  localSql,
  withClause,
} from "./time.js";

/**
 * The step CTEs (`{px}s1…`) and attempt CTEs (`{px}a1…{px}aK`, one row per attempt with `t1…tK`) of a
 * funnel over the frame `f`. `px` keeps a second funnel (the compare period) apart in one statement.
 */
function attemptCtes(
  p: Params,
  spec: FunnelSpec,
  f: Frame,
  W: string,
  b: string | null,
  px: string,
): string[] {
  const K = spec.steps.length;
  const ctes: string[] = [];
  // Step event CTEs; identical later steps share one.
  ctes.push(`${px}s1 AS (SELECT user_key, ${p.us("event_time")} AS t${b ? `, ${b} AS b` : ""}
      FROM events WHERE ${inRange(p, f)} AND ${eventSql(p, spec.steps[0], spec.filters)})`);
  const cteOf: string[] = [`${px}s1`];
  const byText = new Map<string, string>();
  for (let k = 1; k < K; k++) {
    const pred = eventSql(p, spec.steps[k], spec.filters);
    let name = byText.get(pred);
    if (!name) {
      name = `${px}s${k + 1}`;
      byText.set(pred, name);
      ctes.push(`${name} AS (SELECT user_key, ${p.us("event_time")} AS t
      FROM events WHERE event_time >= ${p.ts(p.big(f.lo))}
       AND event_time < ${p.ts(`${p.big(f.hi)} + ${W}`)} AND ${pred})`);
    }
    cteOf.push(name);
  }

  // Attempts.
  // Duplicate step-1 events (same user and instant) make identical attempts, which change nothing.
  ctes.push(`${px}a1 AS (SELECT user_key, t AS t1${b ? ", b" : ""} FROM ${px}s1)`);
  for (let k = 1; k < K; k++) {
    const prev = `a.t${k}`;
    let same = -1;
    for (let j = k - 1; j >= 0; j--) {
      if (spec.steps[j].event === spec.steps[k].event) {
        same = j;
        break;
      }
    }
    const lower = same < 0 ? prev : same === k - 1 ? `${prev} + 1` : `greatest(${prev}, a.t${same + 1} + 1)`;
    ctes.push(`${px}a${k + 1} AS (
    SELECT a.*, CASE WHEN ${prev} IS NOT NULL AND m.t <= a.t1 + ${W} THEN m.t END AS t${k + 1}
      FROM ${px}a${k} a ASOF LEFT JOIN ${cteOf[k]} m ON a.user_key = m.user_key AND ${lower} <= m.t)`);
  }
  return ctes;
}

/**
 * Per user over their attempts: `f1` the first attempt's start, `fc` the first converting attempt's
 * start, `d{k}` the smallest time from step 1 to step k (non-null exactly when the user reached k).
 */
function perUserAggs(p: Params, K: number): string {
  const diffs = Array.from({ length: K - 1 }, (_, i) => `min(t${i + 2} - t1) AS d${i + 2}`);
  return [`min(t1) AS f1`, `${p.minWhere("t1", `t${K} IS NOT NULL`)} AS fc`, ...diffs].join(", ");
}

/**
 * The CTEs of a funnel (no breakdown) ending in `pu (user_key, f1, fc, d2…dK)`: one row per user with
 * an attempt, `d{k}` non-null when they reached step k. The drill-down selects users from it.
 */
export function funnelUserCtes(p: Params, spec: FunnelSpec, f: Frame): string[] {
  const K = spec.steps.length;
  const W = p.big(BigInt(Math.round(spec.withinSeconds)) * 1_000_000n);
  const ctes = attemptCtes(p, spec, f, W, null, "");
  ctes.push(`pu AS (SELECT user_key, ${perUserAggs(p, K)} FROM a${K} GROUP BY user_key)`);
  return ctes;
}

/**
 * Funnel without range joins. Each step is a CTE of its matching events `(user_key, t)` with `t` in
 * epoch microseconds. Attempts start at every step-1 event in the range; step k is found with
 * `ASOF LEFT JOIN` (the user's earliest step-k event at or after the lower bound: `t_{k-1}`, or one
 * microsecond after the latest earlier step naming the same event type) and kept when
 * `t_k <= t_1 + within`.
 *
 * Rows: `kind = 'step'` rows `(g, label, r, users[], med[])` — `g` 0 = overall (no breakdown) or a top
 * value, 1 = `(other)`, 2 = `(none)`, `overall = true` for the overall row; and `kind = 'trend'` rows
 * `(bucket, entered, converted)` (bucket = local wall-clock µs of its start; empty buckets have no row)
 * when `trendInterval` is set; with `compare`, one `kind = 'compare'` row `(users[], med[])` of the same
 * funnel over the compare period.
 */
export function buildFunnel(spec: FunnelSpec, ctx?: QueryContext): BuiltQuery {
  const p = new Params(ctx);
  const f = frameOf(spec.range);
  const K = spec.steps.length;
  if (K < 1) throw new Error("a funnel needs at least one step");
  const W = p.big(BigInt(Math.round(spec.withinSeconds)) * 1_000_000n);
  const b = spec.breakdown !== undefined ? propText(p, spec.breakdown) : null;
  if (spec.trendInterval) checkBuckets(f, spec.trendInterval);
  const ctes = attemptCtes(p, spec, f, W, b, "");
  const last = `a${K}`;
  const perUser = perUserAggs(p, K);

  if (b) {
    const limit = p.big(Math.max(0, Math.floor(spec.limit)));
    ctes.push(`rk AS (
    SELECT b, row_number() OVER (ORDER BY count(DISTINCT user_key) DESC, b) AS r
      FROM a1 WHERE b IS NOT NULL GROUP BY b)`);
    ctes.push(`lab AS (
    SELECT f.*, CASE WHEN f.b IS NULL THEN 2 WHEN rk.r <= ${limit} THEN 0 ELSE 1 END AS g,
           CASE WHEN rk.r <= ${limit} THEN f.b END AS label,
           CASE WHEN rk.r <= ${limit} THEN rk.r ELSE 0 END AS r
      FROM ${last} f LEFT JOIN rk ON rk.b = f.b)`);
    ctes.push(`pu AS (
    SELECT GROUPING(g, r) = 3 AS overall, g, label, r, user_key, ${perUser}
      FROM lab GROUP BY GROUPING SETS ((user_key), (g, r, label, user_key)))`);
  } else {
    ctes.push(`pu AS (
    SELECT true AS overall, 0 AS g, ${p.nullText} AS label, 0 AS r, user_key, ${perUser}
      FROM ${last} GROUP BY user_key)`);
  }
  const users = ["count(*)", ...Array.from({ length: K - 1 }, (_, i) => `count(d${i + 2})`)];
  const meds = [p.nullOf("DOUBLE"), ...Array.from({ length: K - 1 }, (_, i) => p.median(`d${i + 2}`))];
  ctes.push(`st AS (
    SELECT overall, g, label, r, [${users.join(", ")}] AS users, [${meds.join(", ")}] AS med
      FROM pu GROUP BY overall, g, label, r)`);
  let compareSelect = "";
  if (spec.compare) {
    // The same funnel over the compare period: overall steps only.
    const off = compareOffsetSeconds(spec.range, spec.compare) * 1_000_000;
    ctes.push(...attemptCtes(p, spec, { zone: f.zone, lo: f.lo - off, hi: f.hi - off }, W, null, "c"));
    ctes.push(`cpu AS (SELECT user_key, ${perUser} FROM ca${K} GROUP BY user_key)`);
    ctes.push(`cst AS (SELECT [${users.join(", ")}] AS users, [${meds.join(", ")}] AS med FROM cpu)`);
    compareSelect = `
UNION ALL
SELECT 'compare', true, 0, NULL, 0, users, med, NULL, NULL, NULL FROM cst`;
  }
  let trendSelect = "";
  if (spec.trendInterval) {
    ctes.push(`tu AS (SELECT coalesce(fc, f1) AS pt, fc IS NOT NULL AS conv FROM pu WHERE overall)`);
    ctes.push(`tb AS (
    SELECT ${bucketSql(p, localSql(p, f.zone, "pt"), spec.trendInterval)} AS bucket,
           count(*) AS entered, count(*) FILTER (WHERE conv) AS converted
      FROM tu GROUP BY bucket)`);
    trendSelect = `
UNION ALL
SELECT 'trend', false, NULL, NULL, NULL, NULL, NULL, bucket, entered, converted FROM tb`;
  }
  const union = `SELECT 'step' AS kind, overall, g, label, r, users, med, ${p.nullOf("BIGINT")} AS bucket,
       ${p.nullOf("BIGINT")} AS entered, ${p.nullOf("BIGINT")} AS converted
  FROM st${trendSelect}${compareSelect}`;
  const sql = `${withClause(ctes)}${p.orderedUnion(union, "kind, overall DESC, g, r, bucket")}`;
  return { sql, params: p.values };
}

function stepsOf(
  labels: string[],
  users: number[] | null,
  med: (number | null)[] | null,
): FunnelStepResult[] {
  return labels.map((step, k) => {
    const u = users ? Number(users[k]) : 0;
    const first = users ? Number(users[0]) : 0;
    const prev = k === 0 ? u : users ? Number(users[k - 1]) : 0;
    const m = med?.[k];
    return {
      step,
      users: u,
      conversion: first ? u / first : 0,
      from_previous: k === 0 ? 1 : prev ? u / prev : 0,
      median_seconds: k === 0 || m === null || m === undefined || u === 0 ? null : Number(m) / 1e6,
    };
  });
}

export function shapeFunnel(rows: Record<string, unknown>[], spec: FunnelSpec): FunnelResult {
  const labels = spec.steps.map(formatEventRef);
  const steps = rows.filter((r) => r.kind === "step");
  const overall = steps.find((r) => Boolean(r.overall));
  const result: FunnelResult = {
    within_seconds: spec.withinSeconds,
    steps: stepsOf(labels, (overall?.users as number[]) ?? null, (overall?.med as (number | null)[]) ?? null),
    breakdown:
      spec.breakdown === undefined
        ? null
        : steps
            .filter((r) => !r.overall)
            .map((r) => ({
              value: Number(r.g) === 0 ? String(r.label) : Number(r.g) === 1 ? "(other)" : "(none)",
              steps: stepsOf(labels, r.users as number[], r.med as (number | null)[]),
            })),
  };
  if (spec.compare) {
    const c = rows.find((r) => r.kind === "compare");
    result.compare = {
      offset_seconds: compareOffsetSeconds(spec.range, spec.compare),
      steps: stepsOf(labels, (c?.users as number[]) ?? null, (c?.med as (number | null)[]) ?? null),
    };
  }
  if (spec.trendInterval) {
    const byBucket = new Map<number, Record<string, unknown>>();
    for (const r of rows) if (r.kind === "trend") byBucket.set(Number(r.bucket), r);
    result.trend = bucketsOf(frameOf(spec.range), spec.trendInterval).map((b): FunnelTrendPoint => {
      const r = byBucket.get(b.local);
      return { t: isoOf(b.start), entered: Number(r?.entered ?? 0), converted: Number(r?.converted ?? 0) };
    });
  }
  return result;
}
