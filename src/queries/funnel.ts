import { UsageError } from "./errors.js";
import {
  type BuiltQuery,
  eventSql,
  Params,
  propFinite,
  propText,
  type QueryContext,
  rangeUsersFirst,
} from "./filters.js";
import { formatEventRef, formatExclusion } from "./parse.js";
import type {
  Filter,
  FunnelResult,
  FunnelSpec,
  FunnelStepResult,
  FunnelTrendPoint,
  TimeToConvertResult,
  TimeToConvertSpec,
} from "./spec.js";
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

/** What an attempt carries besides its times: breakdown `b`, held text `h`, step values `v`. */
interface Carry {
  b: string | null;
  h: string | null;
  v: string | null;
}

function carryOf(p: Params, spec: FunnelSpec, b: string | null): Carry {
  return {
    b,
    h: spec.hold !== undefined ? propText(p, spec.hold) : null,
    v: spec.value !== undefined ? propFinite(p, spec.value) : null,
  };
}

/**
 * The attempt CTEs of a funnel over the frame `f`, ending in `{px}att`: one row per attempt with
 * `user_key, t1…tK` (µs; `t{k}` non-null when the attempt reached step k), `b` with a breakdown and
 * `v1…vK` with `--value`. `px` keeps a second funnel (the compare period) apart in one statement.
 */
function attemptCtes(
  p: Params,
  spec: FunnelSpec,
  f: Frame,
  W: string,
  b: string | null,
  px: string,
): string[] {
  const c = carryOf(p, spec, b);
  const e = entrantsOf(p, spec, f, px);
  const ctes =
    spec.order === "any" ? anyOrderCtes(p, spec, f, W, c, px, e) : orderedCtes(p, spec, f, W, c, px, e);
  return [...ctes, ...exclusionCtes(p, spec, f, W, px, e)];
}

/**
 * The CTE whose users the later steps' events are limited to (the attempts' first events), or null
 * for all users: when the window reaches past the range far enough (rangeUsersFirst). An ASOF join
 * builds its right side whole, and the window's days past the range hold every user's events.
 */
function entrantsOf(p: Params, spec: FunnelSpec, f: Frame, px: string): string | null {
  if (!rangeUsersFirst(p, f.hi - f.lo, spec.withinSeconds * 1e6)) return null;
  return spec.order === "any" ? `${px}an` : `${px}s1`;
}

/**
 * The `--where` filters of the events read after an attempt's first, on ClickHouse without the cohort
 * filters: whether a user is in a cohort is the user's, and every attempt starts at an event that passed
 * it, so the later events (joined by user) need no test of their own. ClickHouse tests each event
 * against the cohort's set of users: a one-day funnel filtered by a saved cohort of 1.2M users at 100M
 * took 1.4× the CPU with the test on every step (issue #25). DuckDB's test is a bit lookup, and there
 * it keeps the later steps' tables small: it keeps them.
 */
function laterWhere(p: Params, spec: FunnelSpec): Filter[] {
  return p.engine === "clickhouse" ? spec.filters.filter((x) => !x.cohort) : spec.filters;
}

/**
 * Events in `[lo, hi + W)` matching `pred`, as `(user_key, t[, h][, v])`; with values one row per instant.
 * With `entrants` (entrantsOf), only the users of that CTE (the attempts' first events).
 */
function laterEvents(
  p: Params,
  f: Frame,
  W: string,
  pred: string,
  c: Carry,
  entrants: string | null,
): string {
  const entered = entrants ? ` AND user_key IN (SELECT user_key FROM ${entrants})` : "";
  const span = `event_time >= ${p.ts(p.big(f.lo))} AND event_time < ${p.ts(`${p.big(f.hi)} + ${W}`)}${entered}`;
  const h = c.h ? `, ${c.h} AS h` : "";
  const held = c.h ? ` AND ${c.h} IS NOT NULL` : "";
  if (!c.v)
    return `SELECT user_key, ${p.us("event_time")} AS t${h} FROM events WHERE ${span} AND ${pred}${held}`;
  // Several events at one instant: the step's value is their largest (docs/semantics.md, "Value").
  return `SELECT user_key, t${c.h ? ", h" : ""}, max(v) AS v
      FROM (SELECT user_key, ${p.us("event_time")} AS t${h}, ${c.v} AS v FROM events
             WHERE ${span} AND ${pred}${held})
     GROUP BY user_key, t${c.h ? ", h" : ""}`;
}

/**
 * `ordered` and `strict` attempts. Each step is a CTE of its matching events; attempts start at every
 * step-1 event in the range; step k is found with `ASOF LEFT JOIN` (the user's earliest step-k event at
 * or after the lower bound: `t_{k-1}`, or one microsecond after the latest earlier step naming the same
 * event type; with `--hold` only events carrying step 1's text) and kept when `t_k <= t_1 + within`.
 * `strict` first finds the user's next event after `t_{k-1}` (`n{k}`) and needs `t_k <= n{k}`: the
 * earliest match is the only candidate, as any later one has that event between.
 */
function orderedCtes(
  p: Params,
  spec: FunnelSpec,
  f: Frame,
  W: string,
  c: Carry,
  px: string,
  entrants: string | null,
): string[] {
  const K = spec.steps.length;
  const ctes: string[] = [];
  const cols = `${c.b ? ", b" : ""}${c.h ? ", h" : ""}`;
  const s1 = `SELECT user_key, ${p.us("event_time")} AS t${c.b ? `, ${c.b} AS b` : ""}${c.h ? `, ${c.h} AS h` : ""}${c.v ? `, ${c.v} AS v` : ""}
      FROM events WHERE ${inRange(p, f)} AND ${eventSql(p, spec.steps[0], spec.filters)}`;
  // Duplicate step-1 events (same user, instant, breakdown and held text) make identical attempts.
  ctes.push(
    c.v
      ? `${px}s1 AS (SELECT user_key, t${cols}, max(v) AS v FROM (${s1}) GROUP BY user_key, t${cols})`
      : `${px}s1 AS (${s1})`,
  );
  // Step event CTEs; identical later steps share one.
  const cteOf: string[] = [`${px}s1`];
  const byText = new Map<string, string>();
  for (let k = 1; k < K; k++) {
    const pred = eventSql(p, spec.steps[k], laterWhere(p, spec));
    let name = byText.get(pred);
    if (!name) {
      name = `${px}s${k + 1}`;
      byText.set(pred, name);
      ctes.push(`${name} AS (${laterEvents(p, f, W, pred, c, entrants)})`);
    }
    cteOf.push(name);
  }
  const strict = spec.order === "strict";
  if (strict) {
    // Every event of the user (--where applied) that could lie between two steps.
    ctes.push(
      `${px}ev AS (${laterEvents(p, f, W, eventSql(p, { event: "*", filters: [] }, laterWhere(p, spec)), { b: null, h: null, v: null }, entrants)})`,
    );
  }

  ctes.push(`${px}a1 AS (SELECT user_key, t AS t1${cols}${c.v ? ", v AS v1" : ""} FROM ${px}s1)`);
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
    let from = `${px}a${k}`;
    // DuckDB's ASOF join can pair a NULL bound with some row, so every use of m checks the bound.
    let cond = `${prev} IS NOT NULL${c.h ? " AND a.h IS NOT NULL" : ""} AND m.t <= a.t1 + ${W}`;
    if (strict) {
      ctes.push(`${px}n${k + 1} AS (
    SELECT a.*, CASE WHEN ${prev} IS NOT NULL THEN m.t END AS n${k + 1} FROM ${px}a${k} a ASOF LEFT JOIN ${px}ev m ON a.user_key = m.user_key AND ${prev} + 1 <= m.t)`);
      from = `${px}n${k + 1}`;
      cond += ` AND (a.n${k + 1} IS NULL OR m.t <= a.n${k + 1})`;
    }
    const hold = c.h ? " AND a.h = m.h" : "";
    ctes.push(`${px}a${k + 1} AS (
    SELECT a.*, CASE WHEN ${cond} THEN m.t END AS t${k + 1}${c.v ? `, CASE WHEN ${cond} THEN m.v END AS v${k + 1}` : ""}
      FROM ${from} a ASOF LEFT JOIN ${cteOf[k]} m ON a.user_key = m.user_key${hold} AND ${lower} <= m.t)`);
  }
  ctes.push(`${px}ao AS (SELECT * FROM ${px}a${K})`);
  return ctes;
}

/** Steps that can match one event (the same type, or `*`) share a group; groups match disjoint events. */
function overlapGroups(spec: FunnelSpec): number[][] {
  const K = spec.steps.length;
  const root = Array.from({ length: K }, (_, i) => i);
  const find = (i: number): number => {
    while (root[i] !== i) i = root[i];
    return i;
  };
  for (let i = 0; i < K; i++)
    for (let j = i + 1; j < K; j++) {
      const a = spec.steps[i].event;
      const b = spec.steps[j].event;
      if (a === b || a === "*" || b === "*") root[find(i)] = find(j);
    }
  const groups = new Map<number, number[]>();
  for (let i = 0; i < K; i++) {
    const r = find(i);
    groups.set(r, [...(groups.get(r) ?? []), i]);
  }
  return [...groups.values()];
}

/** The largest BIGINT: stands for "none" inside `least`, whose NULL handling differs by engine. */
const NONE = "9223372036854775807";

/**
 * `any`-order attempts. An attempt starts at each event in the range matching any step (its anchor,
 * at `t`). Steps that can match one event form groups (overlapGroups); the events of different groups
 * are disjoint, so the window's largest matching is the sum over groups, and within a group of `g`
 * steps Hall's theorem gives it as `min over subsets S (g − |S| + N_S)`, where `N_S` (capped at |S|)
 * counts the window's events matching some step of S. For each S one ASOF join finds the user's first
 * |S| distinct instants at or after `t` with their event counts, which is all `N_S(τ)` needs; the
 * matching size changes only at those instants, so `t_k` is the earliest of them where it reaches k.
 */
function anyOrderCtes(
  p: Params,
  spec: FunnelSpec,
  f: Frame,
  W: string,
  c: Carry,
  px: string,
  entrants: string | null,
): string[] {
  const K = spec.steps.length;
  const preds = spec.steps.map((s) => eventSql(p, s, spec.filters));
  const later = spec.steps.map((s) => eventSql(p, s, laterWhere(p, spec)));
  const ctes: string[] = [];
  ctes.push(`${px}an AS (
    SELECT DISTINCT user_key, ${p.us("event_time")} AS t${c.b ? `, ${c.b} AS b` : ""}${c.h ? `, ${c.h} AS h` : ""}
      FROM events WHERE ${inRange(p, f)} AND ((${preds.join(") OR (")})))`);
  const part = `user_key${c.h ? ", h" : ""}`;
  let prev = `${px}an`;
  let q = 0;
  /** Per group: for each subset, its size and its (instant, count) columns. */
  const groups = overlapGroups(spec).map((g) => {
    const subsets: { size: number; at: { t: string; n: string | null }[] }[] = [];
    for (let mask = 1; mask < 1 << g.length; mask++) {
      const members = g.filter((_, i) => mask & (1 << i));
      const size = members.length;
      q++;
      const pred = `((${members.map((j) => later[j]).join(") OR (")}))`;
      const inner = laterEvents(p, f, W, pred, { b: null, h: c.h, v: null }, entrants);
      const leads: string[] = [];
      for (let r = 1; r < size; r++)
        leads.push(`${p.lead("t", r, part, "t")} AS l${r}, ${p.lead("c", r, part, "t")} AS c${r}`);
      ctes.push(
        size === 1
          ? `${px}q${q} AS (SELECT DISTINCT ${part}, t FROM (${inner}))`
          : `${px}q${q} AS (
    SELECT ${part}, t, c${leads.length ? `, ${leads.join(", ")}` : ""}
      FROM (SELECT ${part}, t, count(*) AS c FROM (${inner}) GROUP BY ${part}, t))`,
      );
      const cols = [`m.t AS q${q}_l0`];
      if (size > 1) cols.push(`m.c AS q${q}_c0`);
      for (let r = 1; r < size; r++) cols.push(`m.l${r} AS q${q}_l${r}`, `m.c${r} AS q${q}_c${r}`);
      ctes.push(`${px}j${q} AS (
    SELECT a.*, ${cols.join(", ")}
      FROM ${prev} a ASOF LEFT JOIN ${px}q${q} m ON a.user_key = m.user_key${c.h ? " AND a.h = m.h" : ""} AND a.t <= m.t)`);
      prev = `${px}j${q}`;
      const at = Array.from({ length: size }, (_, r) => ({
        t: `q${q}_l${r}`,
        n: size > 1 ? `q${q}_c${r}` : null,
      }));
      subsets.push({ size, at });
    }
    return { g: g.length, subsets };
  });
  // The window's matching size at a candidate instant τ (an expression).
  const sizeAt = (tau: string) =>
    groups
      .map(({ g, subsets }) => {
        const terms = subsets.map(({ size, at }) => {
          const seen = at.map((x) => `CASE WHEN ${x.t} <= ${tau} THEN ${x.n ?? "1"} ELSE 0 END`).join(" + ");
          return `${g - size} + least(${size}, ${seen})`;
        });
        return `least(${g}, ${terms.join(", ")})`;
      })
      .join(" + ");
  const candidates = groups.flatMap(({ subsets }) => subsets.flatMap(({ at }) => at.map((x) => x.t)));
  ctes.push(`${px}mz AS (
    SELECT *, ${candidates.map((tau, i) => `CASE WHEN ${c.h ? "h IS NOT NULL AND " : ""}${tau} <= t + ${W} THEN ${sizeAt(tau)} ELSE 0 END AS z${i}`).join(",\n           ")}
      FROM ${prev})`);
  const reach = (k: number) =>
    `nullif(least(${candidates.map((tau, i) => `CASE WHEN z${i} >= ${k} THEN ${tau} ELSE ${NONE} END`).join(", ")}), ${NONE})`;
  const ts = Array.from({ length: K - 1 }, (_, i) => `${reach(i + 2)} AS t${i + 2}`);
  ctes.push(`${px}ao AS (SELECT user_key, t AS t1${c.b ? ", b" : ""}, ${ts.join(", ")} FROM ${px}mz)`);
  return ctes;
}

/**
 * `--exclude`: for each exclusion, the user's first matching event after `t_A` (`x{j}`); the attempt is
 * dropped when it lies before `t_B`, or before `t_1 + within` when B was not reached. Ends in `{px}att`.
 */
function exclusionCtes(
  p: Params,
  spec: FunnelSpec,
  f: Frame,
  W: string,
  px: string,
  entrants: string | null,
): string[] {
  const ctes: string[] = [];
  let prev = `${px}ao`;
  const keep: string[] = [];
  (spec.exclude ?? []).forEach((x, j) => {
    const pred = eventSql(p, x.event, laterWhere(p, spec));
    ctes.push(`${px}xe${j} AS (${laterEvents(p, f, W, pred, { b: null, h: null, v: null }, entrants)})`);
    ctes.push(`${px}x${j} AS (
    SELECT a.*, CASE WHEN a.t${x.from} IS NOT NULL THEN m.t END AS x${j}
      FROM ${prev} a ASOF LEFT JOIN ${px}xe${j} m ON a.user_key = m.user_key AND a.t${x.from} + 1 <= m.t)`);
    prev = `${px}x${j}`;
    keep.push(`NOT coalesce(x${j} < coalesce(t${x.to}, t1 + ${W}), false)`);
  });
  ctes.push(`${px}att AS (SELECT * FROM ${prev}${keep.length ? ` WHERE ${keep.join(" AND ")}` : ""})`);
  return ctes;
}

/**
 * Per user over their attempts: `f1` the first attempt's start, `fc` the first converting attempt's
 * start, `d{k}` the smallest time from step 1 to step k (non-null exactly when the user reached k).
 */
function perUserAggs(p: Params, K: number, value: boolean, ttc?: TimeToConvertSpec): string {
  const diffs = Array.from({ length: K - 1 }, (_, i) => `min(t${i + 2} - t1) AS d${i + 2}`);
  const aggs = [`min(t1) AS f1`, `${p.minWhere("t1", `t${K} IS NOT NULL`)} AS fc`, ...diffs];
  // Time to convert: the user's smallest t_B − t_A over the attempts that reached B.
  if (ttc) aggs.push(`min(t${ttc.to} - t${ttc.from}) AS e`);
  if (value) {
    // The defining attempts (furthest step, then earliest start): per step the largest of their values.
    const reached = [
      "1",
      ...Array.from({ length: K - 1 }, (_, i) => `CASE WHEN t${i + 2} IS NOT NULL THEN 1 ELSE 0 END`),
    ];
    const key = `(${reached.join(" + ")})`;
    for (let k = 1; k <= K; k++)
      aggs.push(`nullif(${p.maxLast([key, "-t1", `coalesce(v${k}, ${p.negInf})`])}, ${p.negInf}) AS v${k}`);
  }
  return aggs.join(", ");
}

/**
 * The CTEs of a funnel (no breakdown) ending in `pu (user_key, f1, fc, d2…dK)`: one row per user with
 * an attempt, `d{k}` non-null when they reached step k. The drill-down selects users from it.
 */
export function funnelUserCtes(p: Params, spec: FunnelSpec, f: Frame): string[] {
  const K = spec.steps.length;
  const W = p.big(BigInt(Math.round(spec.withinSeconds)) * 1_000_000n);
  const ctes = attemptCtes(p, spec, f, W, null, "");
  ctes.push(`pu AS (SELECT user_key, ${perUserAggs(p, K, false)} FROM att GROUP BY user_key)`);
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
  const last = "att";
  const value = spec.value !== undefined;
  const ttc = spec.timeToConvert;
  if (ttc) checkTimeToConvert(ttc, K);
  const perUser = perUserAggs(p, K, value, ttc);

  if (b) {
    const limit = p.big(Math.max(0, Math.floor(spec.limit)));
    ctes.push(`rk AS (
    SELECT b, row_number() OVER (ORDER BY count(DISTINCT user_key) DESC, b) AS r
      FROM att WHERE b IS NOT NULL GROUP BY b)`);
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
  const ks = Array.from({ length: K }, (_, i) => i + 1);
  const vals = value
    ? `[${ks.map((k) => `coalesce(${p.fsum(`v${k}`)}, 0)`).join(", ")}] AS vsum, [${ks.map((k) => p.favg(`v${k}`)).join(", ")}] AS vavg`
    : "NULL AS vsum, NULL AS vavg";
  ctes.push(`st AS (
    SELECT overall, g, label, r, [${users.join(", ")}] AS users, [${meds.join(", ")}] AS med, ${vals}
      FROM pu GROUP BY overall, g, label, r)`);
  let compareSelect = "";
  if (spec.compare) {
    // The same funnel over the compare period: overall steps only.
    const off = compareOffsetSeconds(spec.range, spec.compare) * 1_000_000;
    ctes.push(...attemptCtes(p, spec, { zone: f.zone, lo: f.lo - off, hi: f.hi - off }, W, null, "c"));
    ctes.push(`cpu AS (SELECT user_key, ${perUser} FROM catt GROUP BY user_key)`);
    ctes.push(
      `cst AS (SELECT [${users.join(", ")}] AS users, [${meds.join(", ")}] AS med, ${vals} FROM cpu)`,
    );
    compareSelect = `
UNION ALL
SELECT 'compare', true, 0, NULL, 0, users, med, vsum, vavg, NULL, NULL, NULL FROM cst`;
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
SELECT 'trend', false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, bucket, entered, converted FROM tb`;
  }
  const ttcSelect = ttc ? timeToConvertSelect(p, ctes, ttc) : "";
  const union = `SELECT 'step' AS kind, overall, g, label, r, users, med, vsum, vavg, ${p.nullOf("BIGINT")} AS bucket,
       ${p.nullOf("BIGINT")} AS entered, ${p.nullOf("BIGINT")} AS converted
  FROM st${trendSelect}${compareSelect}${ttcSelect}`;
  const sql = `${withClause(ctes)}${p.orderedUnion(union, "kind, overall DESC, g, r, bucket")}`;
  return { sql, params: p.values };
}

/** `--from-step`/`--to-step`/`--bins` fit the funnel (1 ≤ A < B ≤ K, 1 ≤ bins ≤ 90). */
export function checkTimeToConvert(t: TimeToConvertSpec, K: number): void {
  const whole = (v: number) => Number.isInteger(v);
  if (!whole(t.from) || !whole(t.to) || t.from < 1 || t.to > K || t.from >= t.to)
    throw new UsageError(
      `--from-step ${t.from} --to-step ${t.to}: the funnel has steps 1..${K}; use 1 ≤ from < to ≤ ${K}`,
    );
  if (t.bins !== undefined && (!whole(t.bins) || t.bins < 1 || t.bins > MAX_TTC_BINS))
    throw new UsageError(`--bins must be a whole number from 1 to ${MAX_TTC_BINS} (got ${t.bins})`);
}

/** Bins a user may ask for; automatic bins are ⌈∛count⌉ clamped to 1..60 (as PostHog's). */
export const MAX_TTC_BINS = 90;
const AUTO_TTC_BINS = 60;

/**
 * Time to convert (docs/semantics.md): over the users of `pu` with a time `e` (µs), the count, mean,
 * median and p90, and a histogram of `nb` bins of `w` µs from the fastest time `lo`: `w` is
 * ⌈(hi − lo) / nb⌉ whole seconds (at least one), a time's bin is ⌊(e − lo) / w⌋, the last bin
 * also holding the slowest. Rows: `kind = 'tts'` (bucket = lo, entered = count, converted = w,
 * r = nb, med = [mean, median, p90]) and `kind = 'ttc'` (bucket = bin, entered = users).
 */
function timeToConvertSelect(p: Params, ctes: string[], t: TimeToConvertSpec): string {
  const int = (x: string) => (p.ch ? `toInt64(${x})` : `CAST(${x} AS BIGINT)`);
  const dbl = (x: string) => (p.ch ? `CAST(${x} AS Nullable(Float64))` : `CAST(${x} AS DOUBLE)`);
  const p90 = p.ch ? `quantileExactInclusive(0.9)(e)` : `quantile_cont(e, 0.9)`;
  ctes.push(`tt AS (SELECT e FROM pu WHERE overall AND e IS NOT NULL)`);
  ctes.push(`tq AS (SELECT count(*) AS n, min(e) AS lo, max(e) AS hi, avg(e) AS av, ${p.median("e")} AS md, ${dbl(p90)} AS p9,
           ${int("ceil(cbrt(count(*)))")} AS c FROM tt)`);
  // ⌈∛n⌉ exactly (cbrt of a cube may land a hair above the integer).
  const nb =
    t.bins !== undefined
      ? p.big(t.bins)
      : `least(${AUTO_TTC_BINS}, greatest(1, c - CASE WHEN (c - 1) * (c - 1) * (c - 1) >= n THEN 1 ELSE 0 END + CASE WHEN c * c * c < n THEN 1 ELSE 0 END))`;
  ctes.push(`tn AS (SELECT n, lo, hi, av, md, p9, ${int(nb)} AS nb FROM tq)`);
  ctes.push(
    `tw AS (SELECT *, greatest(1, ${p.idiv(`coalesce(hi - lo, 0) + nb * 1000000 - 1`, "(nb * 1000000)")}) * 1000000 AS w FROM tn)`,
  );
  ctes.push(`th AS (SELECT least(nb - 1, ${p.idiv("e - lo", "w")}) AS bin, count(*) AS c
      FROM tt CROSS JOIN tw GROUP BY bin)`);
  const u = (x: string) => (p.ch ? `toUInt64(${x})` : x);
  return `
UNION ALL
SELECT 'tts', false, NULL, NULL, ${u("nb")}, NULL, [${dbl("av")}, ${dbl("md")}, ${dbl("p9")}], NULL, NULL, ${int("lo")}, n, ${u("w")} FROM tw
UNION ALL
SELECT 'ttc', false, NULL, NULL, NULL, NULL, NULL, NULL, NULL, ${int("bin")}, c, NULL FROM th`;
}

/** The `time_to_convert` of a funnel result from its `tts`/`ttc` rows. */
function shapeTimeToConvert(rows: Record<string, unknown>[], t: TimeToConvertSpec): TimeToConvertResult {
  const st = rows.find((r) => r.kind === "tts");
  const n = Number(st?.entered ?? 0);
  const out: TimeToConvertResult = {
    from_step: t.from,
    to_step: t.to,
    count: n,
    bins: [],
    average_seconds: null,
    median_seconds: null,
    p90_seconds: null,
  };
  if (!st || n === 0) return out;
  const stats = (st.med as (number | null)[]) ?? [];
  const sec = (v: unknown) => (v === null || v === undefined ? null : Number(v) / 1e6);
  out.average_seconds = sec(stats[0]);
  out.median_seconds = sec(stats[1]);
  out.p90_seconds = sec(stats[2]);
  const nb = Number(st.r);
  const lo = Number(st.bucket);
  const w = Number(st.converted);
  const counts = new Array<number>(nb).fill(0);
  for (const r of rows) if (r.kind === "ttc") counts[Number(r.bucket)] += Number(r.entered);
  out.bins = counts.map((users, i) => ({
    start_seconds: (lo + i * w) / 1e6,
    end_seconds: (lo + (i + 1) * w) / 1e6,
    users,
  }));
  return out;
}

function stepsOf(
  labels: string[],
  users: number[] | null,
  med: (number | null)[] | null,
  values?: { sum: unknown; avg: unknown },
): FunnelStepResult[] {
  const sums = (values?.sum as (number | null)[] | null) ?? null;
  const avgs = (values?.avg as (number | null)[] | null) ?? null;
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
      ...(values
        ? {
            value: {
              sum: Number(sums?.[k] ?? 0),
              avg: avgs?.[k] === null || avgs?.[k] === undefined ? null : Number(avgs[k]),
            },
          }
        : {}),
    };
  });
}

/** A row's label with `--order any` (docs/semantics.md, "Order"): it counts any k of the K steps. */
export function anyOrderLabel(k: number, of: number): string {
  return `any ${k} of ${of}`;
}

/** With `--order any`, every step row (overall, breakdown, compare) gains its `label`. */
function labelAnyOrder(result: FunnelResult): FunnelResult {
  if (result.order !== "any") return result;
  const label = (steps: FunnelStepResult[]) =>
    steps.map((s, i) => ({ ...s, label: anyOrderLabel(i + 1, steps.length) }));
  return {
    ...result,
    steps: label(result.steps),
    breakdown: result.breakdown?.map((g) => ({ ...g, steps: label(g.steps) })) ?? null,
    ...(result.compare ? { compare: { ...result.compare, steps: label(result.compare.steps) } } : {}),
  };
}

export function shapeFunnel(rows: Record<string, unknown>[], spec: FunnelSpec): FunnelResult {
  return labelAnyOrder(shapeFunnelRows(rows, spec));
}

function shapeFunnelRows(rows: Record<string, unknown>[], spec: FunnelSpec): FunnelResult {
  const labels = spec.steps.map(formatEventRef);
  const steps = rows.filter((r) => r.kind === "step");
  const overall = steps.find((r) => Boolean(r.overall));
  const vals = (r: Record<string, unknown> | undefined) =>
    spec.value === undefined ? undefined : { sum: r?.vsum ?? null, avg: r?.vavg ?? null };
  const result: FunnelResult = {
    within_seconds: spec.withinSeconds,
    order: spec.order ?? "ordered",
    exclude: (spec.exclude ?? []).map(formatExclusion),
    hold: spec.hold ?? null,
    steps: stepsOf(
      labels,
      (overall?.users as number[]) ?? null,
      (overall?.med as (number | null)[]) ?? null,
      vals(overall),
    ),
    breakdown:
      spec.breakdown === undefined
        ? null
        : steps
            .filter((r) => !r.overall)
            .map((r) => ({
              value: Number(r.g) === 0 ? String(r.label) : Number(r.g) === 1 ? "(other)" : "(none)",
              steps: stepsOf(labels, r.users as number[], r.med as (number | null)[], vals(r)),
            })),
  };
  if (spec.compare) {
    const c = rows.find((r) => r.kind === "compare");
    result.compare = {
      offset_seconds: compareOffsetSeconds(spec.range, spec.compare),
      steps: stepsOf(labels, (c?.users as number[]) ?? null, (c?.med as (number | null)[]) ?? null, vals(c)),
    };
  }
  if (spec.timeToConvert) result.time_to_convert = shapeTimeToConvert(rows, spec.timeToConvert);
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
