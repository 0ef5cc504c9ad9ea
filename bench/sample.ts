/**
 * Sampling in the bench (docs/semantics.md, "Sampling"): per analysis, the exact answer and the
 * `--sample` estimate, each timed (median of `runs`), with the speed-up and the error of the estimate
 * against the exact answer: the relative error of the analysis's headline count, and for funnels and
 * retention the absolute error of the headline rate (in percentage points).
 */
import { parseSample, sampleText } from "../src/queries/sample.js";
import type {
  AnalysisSpec,
  DateRange,
  FunnelResult,
  LifecycleResult,
  PathsResult,
  RetentionResult,
  StickinessResult,
  TrendResult,
} from "../src/queries/spec.js";
import { specs } from "./specs.js";

/** The analyses sampled: one or two per kind, from the bench's own list. */
const SAMPLED = [
  "trend users/day",
  "trend events/day",
  "funnel 3 steps 1d",
  "funnel 5 steps 7d filter",
  "retention weekly 8",
  "paths after d4",
  "stickiness day 14d",
  "lifecycle day 14d",
];

/**
 * The rate the bench samples at: `--sample-rate P%`, else 10% up to 50M events and 1% above (where a
 * 1% sample still holds tens of thousands of users).
 */
export function benchSampleRate(events: number, flag?: string): number {
  if (flag !== undefined) {
    const r = parseSample(flag);
    if (r === undefined) throw new Error("--sample-rate 100% is the exact answer");
    return r;
  }
  return events > 50_000_000 ? 0.01 : 0.1;
}

export interface SampleRow {
  exact_ms: number;
  sampled_ms: number;
  speedup: number;
  /** What the error is measured on. */
  headline: string;
  exact: number;
  estimate: number;
  /** |estimate − exact| / exact (null when exact is 0). */
  relative_error: number | null;
  /** Funnels: overall conversion; retention: average retention in period 1 (percentage points). */
  rate?: { name: string; exact: number | null; estimate: number | null; abs_error_pp: number | null };
}

/** The headline count (and rate) of a result. */
function headline(
  spec: AnalysisSpec,
  r: unknown,
): { name: string; value: number; rate?: { name: string; value: number | null } } {
  switch (spec.kind) {
    case "trend": {
      const t = r as TrendResult;
      return { name: `${t.measure} total`, value: t.series.reduce((a, s) => a + s.total, 0) };
    }
    case "funnel": {
      const f = r as FunnelResult;
      const last = f.steps[f.steps.length - 1];
      return {
        name: "users reaching the last step",
        value: last?.users ?? 0,
        rate: { name: "conversion", value: last ? last.conversion : null },
      };
    }
    case "retention": {
      const x = r as RetentionResult;
      return {
        name: "cohort users",
        value: x.cohorts.reduce((a, c) => a + c.users, 0),
        rate: { name: "average retention, period 1", value: x.average[1] ?? null },
      };
    }
    case "paths":
      return { name: "anchor users", value: (r as PathsResult).users };
    case "stickiness":
      return {
        name: "active users",
        value: (r as StickinessResult).histogram.reduce((a, h) => a + h.users, 0),
      };
    case "lifecycle":
      return { name: "new users", value: (r as LifecycleResult).points.reduce((a, p) => a + p.new, 0) };
    default:
      return { name: "-", value: 0 };
  }
}

/** Runs one spec `runs` times: its median time and its result. */
export type SpecRunner = (spec: AnalysisSpec) => Promise<{ ms: number; result: unknown }>;

export async function sampleSide(
  run: SpecRunner,
  range: DateRange,
  rate: number,
  only?: string,
): Promise<Record<string, SampleRow>> {
  const out: Record<string, SampleRow> = {};
  for (const { name, spec } of specs(range)) {
    if (!SAMPLED.includes(name) || (only && !name.includes(only))) continue;
    const exact = await run(spec);
    const sampled = await run({ ...spec, sample: rate } as AnalysisSpec);
    const e = headline(spec, exact.result);
    const s = headline(spec, sampled.result);
    const pp = (v: number | null | undefined) =>
      v === null || v === undefined ? null : +(100 * v).toFixed(3);
    const row: SampleRow = {
      exact_ms: Math.round(exact.ms),
      sampled_ms: Math.round(sampled.ms),
      speedup: +(exact.ms / Math.max(0.5, sampled.ms)).toFixed(2),
      headline: e.name,
      exact: e.value,
      estimate: s.value,
      relative_error: e.value ? +(Math.abs(s.value - e.value) / e.value).toFixed(4) : null,
    };
    if (e.rate) {
      const a = pp(e.rate.value);
      const b = pp(s.rate?.value);
      row.rate = {
        name: e.rate.name,
        exact: a,
        estimate: b,
        abs_error_pp: a === null || b === null ? null : +Math.abs(b - a).toFixed(3),
      };
    }
    out[name] = row;
  }
  return out;
}

/** One line per analysis for the bench's log. */
export function sampleLines(label: string, rate: number, rows: Record<string, SampleRow>): string[] {
  return [
    `  ${label}: --sample ${sampleText(rate)} against the exact answer`,
    ...Object.entries(rows).map(
      ([name, r]) =>
        `    ${name.padEnd(26)} ${r.exact_ms} → ${r.sampled_ms} ms (${r.speedup}×), ${r.headline} ${r.exact.toLocaleString()} vs ≈${r.estimate.toLocaleString()} (${r.relative_error === null ? "n/a" : `${(100 * r.relative_error).toFixed(1)}%`} off)${r.rate ? `; ${r.rate.name} ${r.rate.exact ?? "–"}% vs ${r.rate.estimate ?? "–"}% (${r.rate.abs_error_pp ?? "–"} pp)` : ""}`,
    ),
  ];
}
