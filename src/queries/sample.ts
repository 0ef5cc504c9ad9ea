/**
 * Opt-in sampling (docs/semantics.md, "Sampling"): `--sample 10%` keeps the users (persons, with
 * `merged` identity) whose stable hash falls in the sample, for every step and period of the analysis,
 * and scales the counts back up.
 *
 * - The hash: the first 8 hex digits of md5(id) read as an unsigned 32-bit integer `h`; the user is
 *   kept when `h mod 10000 < k`, k = the rate in basis points (10% → 1000). The id is the person's id
 *   text after identity stitching (`merged`), else the user id. DuckDB, ClickHouse and the brute force
 *   (test/brute-sample.ts) compute the same `h` (test/queries/sample.test.ts).
 * - The SQL: the statement's first CTE shadows `events` with the kept users' events (as the identity
 *   CTEs do, queries/identity.ts), so no builder knows about it.
 * - The result: counts and sums are multiplied by 10000 / k (counts rounded half away from zero to
 *   integers, sums not rounded); ratios, means, percentiles and times are the sample's own. The result
 *   carries `sample` (the rate, e.g. 0.1), which every output marks (`≈`).
 */
import type { EngineName } from "./filters.js";
import { CH_EVENTS_SOURCE } from "./identity.js";
import { UsageError } from "./parse.js";
import type {
  AnalysisSpec,
  FunnelResult,
  FunnelStepResult,
  LifecycleResult,
  PathsResult,
  RetentionCohort,
  RetentionResult,
  StickinessResult,
  TrendResult,
  TrendSpec,
} from "./spec.js";
import { formulaOf } from "./trend.js";

/** The analyses `--sample` applies to (their counts scale); a drill-down lists its analysis's sample. */
export const SAMPLED_KINDS = ["trend", "funnel", "retention", "paths", "stickiness", "lifecycle"] as const;

/** How every output marks a sampled number (an estimate). */
export const SAMPLE_MARK = "≈";

/** Basis points of the whole (the hash's modulus). */
export const SAMPLE_MOD = 10_000;

/**
 * `--sample P%`: a percentage from 1% to 100% with at most two decimals (`10%`, `2.5%`); returns the
 * rate (0.1), or undefined for 100% (everyone: the exact answer, not marked). Anything else is a usage
 * error: a bare number is refused, since `1` could mean 1% or all.
 */
export function parseSample(text: string): number | undefined {
  const m = /^\s*(\d{1,3}(?:\.\d{1,2})?)\s*%\s*$/.exec(text);
  const pct = m ? Number(m[1]) : Number.NaN;
  if (!m || !(pct >= 1 && pct <= 100))
    throw new UsageError(
      `bad --sample ${JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text)}: use a percentage from 1% to 100%, e.g. --sample 10%`,
    );
  return pct === 100 ? undefined : Math.round(pct * 100) / SAMPLE_MOD;
}

/** The rate as `--sample` writes it: 0.1 → `10%`, 0.025 → `2.5%`. */
export function sampleText(rate: number): string {
  return `${Number((rate * 100).toFixed(2))}%`;
}

/** The threshold k of a rate (users with `h mod 10000 < k` are kept). */
export function sampleBasisPoints(rate: number): number {
  const k = Math.round(rate * SAMPLE_MOD);
  if (!(k >= 100 && k <= SAMPLE_MOD)) throw new UsageError(`bad sample rate ${rate}: from 1% to 100%`);
  return k;
}

/** The sample rate a spec runs with (a drill-down: its analysis's), or undefined for the whole data. */
export function sampleOf(spec: AnalysisSpec): number | undefined {
  const s = spec.kind === "users" ? spec.of : spec;
  if (!(SAMPLED_KINDS as readonly string[]).includes(s.kind)) return undefined;
  const rate = (s as { sample?: number }).sample;
  return rate === undefined || rate >= 1 ? undefined : rate;
}

/** SQL: whether the user id text `id` falls in the sample of `k` basis points, on `engine`. */
export function sampleTest(id: string, k: number, engine: EngineName): string {
  const h =
    engine === "clickhouse"
      ? `reinterpretAsUInt32(reverse(substring(MD5(${id}), 1, 4)))`
      : `('0x' || substr(md5(${id}), 1, 8))::UBIGINT`;
  return `${h} % ${SAMPLE_MOD} < ${k}`;
}

/**
 * `sql` reading only the sampled users' events (raw identity; `merged` filters inside its persons' CTE,
 * queries/identity.ts): a first CTE shadows `events`. On ClickHouse the events table is the
 * `CH_EVENTS_SOURCE` placeholder the executors replace.
 */
export function withSample(sql: string, engine: EngineName, rate: number): string {
  const k = sampleBasisPoints(rate);
  const cte =
    engine === "clickhouse"
      ? `events AS (SELECT * FROM ${CH_EVENTS_SOURCE} WHERE ${sampleTest("user_key", k, engine)})`
      : `events AS NOT MATERIALIZED (SELECT * FROM main.events WHERE ${duckKept("user_key", k)})`;
  return /^WITH\s/i.test(sql) ? sql.replace(/^WITH\s/i, `WITH ${cte},\n`) : `WITH ${cte}\n${sql}`;
}

/** DuckDB: whether the user key `key` (an integer of `main.users`) is kept; the hash is of its id text. */
export function duckKept(key: string, k: number): string {
  return `${key} IN (SELECT user_key FROM main.users WHERE ${sampleTest("user_id", k, "duckdb")})`;
}

/* ---------------- scaling the result ---------------- */

/** Scales one shaped result of `spec` (pure); returns it unchanged without a sample. */
export function scaleSample<R>(spec: AnalysisSpec, result: R): R {
  const rate = sampleOf(spec);
  if (rate === undefined) return result;
  const k = sampleBasisPoints(rate);
  const count = (v: number) => Math.sign(v) * Math.round((Math.abs(v) * SAMPLE_MOD) / k) || 0;
  const sum = (v: number) => (v * SAMPLE_MOD) / k;
  const out = result as unknown as Record<string, unknown>;
  switch (spec.kind) {
    case "trend":
      scaleTrend(spec, result as TrendResult, count, sum);
      break;
    case "funnel":
      scaleFunnel(result as FunnelResult, count, sum);
      break;
    case "retention":
      scaleRetention(result as RetentionResult, count, sum);
      break;
    case "paths": {
      const r = result as PathsResult;
      r.users = count(r.users);
      for (const n of r.nodes) n.users = count(n.users);
      break;
    }
    case "stickiness":
      for (const h of (result as StickinessResult).histogram) h.users = count(h.users);
      break;
    case "lifecycle":
      for (const p of (result as LifecycleResult).points) {
        p.new = count(p.new);
        p.returning = count(p.returning);
        p.resurrecting = count(p.resurrecting);
        p.dormant = count(p.dormant);
      }
      break;
    default:
      // A drill-down lists the sample's own users: nothing scales, the list is marked.
      break;
  }
  out.sample = rate;
  return result;
}

type Scale = (v: number) => number;

function scaleTrend(spec: TrendSpec, r: TrendResult, count: Scale, sum: Scale): void {
  const m = spec.measure.kind;
  const f = m === "events" || m === "users" ? count : m === "sum" ? sum : null;
  if (f) {
    for (const s of r.series) {
      s.total = f(s.total);
      for (const p of s.points) p.value = f(p.value);
      if (s.compare) {
        s.compare.total = f(s.compare.total);
        for (const p of s.compare.points) p.value = f(p.value);
      }
    }
  }
  // The formula's inputs are the scaled values.
  if (r.formula) r.formula = formulaOf(r.formula.text, spec.events.length, r.series);
}

function scaleSteps(steps: FunnelStepResult[], count: Scale, sum: Scale): void {
  for (const s of steps) {
    s.users = count(s.users);
    if (s.value) s.value.sum = sum(s.value.sum);
  }
}

function scaleFunnel(r: FunnelResult, count: Scale, sum: Scale): void {
  scaleSteps(r.steps, count, sum);
  for (const g of r.breakdown ?? []) scaleSteps(g.steps, count, sum);
  for (const t of r.trend ?? []) {
    t.entered = count(t.entered);
    t.converted = count(t.converted);
  }
  if (r.compare) scaleSteps(r.compare.steps, count, sum);
  if (r.time_to_convert) {
    r.time_to_convert.count = count(r.time_to_convert.count);
    for (const b of r.time_to_convert.bins) b.users = count(b.users);
  }
}

function scaleCohorts(cohorts: RetentionCohort[], count: Scale, sum: Scale): void {
  for (const c of cohorts) {
    c.users = count(c.users);
    c.retained = c.retained.map(count);
    if (c.value) c.value = c.value.map(sum);
  }
}

function scaleRetention(r: RetentionResult, count: Scale, sum: Scale): void {
  scaleCohorts(r.cohorts, count, sum);
  for (const g of r.breakdown ?? []) scaleCohorts(g.cohorts, count, sum);
}
