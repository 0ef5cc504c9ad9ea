/**
 * The brute force's sampling (docs/semantics.md, "Sampling"), written from the rule and not from
 * src/queries/sample.ts: a user is kept when the first 8 hex digits of md5(id), as an unsigned 32-bit
 * integer, mod 10000 is below the rate in basis points; the analysis runs on the kept users' events;
 * counts are scaled by 10000 / bp and rounded half away from zero, sums scaled and not rounded.
 */
import { createHash } from "node:crypto";
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
} from "../src/queries/spec.js";
import type { BruteEvent } from "./brute.js";

/** The 32-bit hash of an id. */
export function bruteHash(id: string): number {
  return Number.parseInt(createHash("md5").update(id, "utf8").digest("hex").slice(0, 8), 16);
}

export function bruteKeep(id: string, rate: number): boolean {
  return bruteHash(id) % 10000 < Math.round(rate * 10000);
}

/** The sampled users' events (the users already resolved to persons when the analysis merges them). */
export function sampleEvents(events: BruteEvent[], rate: number): BruteEvent[] {
  const kept = new Map<string, boolean>();
  return events.filter((e) => {
    let k = kept.get(e.user);
    if (k === undefined) {
      k = bruteKeep(e.user, rate);
      kept.set(e.user, k);
    }
    return k;
  });
}

/**
 * `expected` (the brute force's answer on the sampled events) scaled as the rule says, with
 * `sample: rate`. A trend's formula must be computed again from the scaled series: `formula` does it.
 */
export function bruteScale<R>(
  spec: AnalysisSpec,
  expected: R,
  rate: number,
  formula?: (r: TrendResult) => TrendResult["formula"],
): R {
  const f = 10000 / Math.round(rate * 10000);
  const n = (v: number) => {
    const x = Math.round(Math.abs(v) * f);
    return v < 0 ? -x : x;
  };
  const s = (v: number) => v * f;
  const r = structuredClone(expected) as unknown as Record<string, unknown>;
  const steps = (ss: FunnelStepResult[]) => {
    for (const x of ss) {
      x.users = n(x.users);
      if (x.value) x.value.sum = s(x.value.sum);
    }
  };
  const cohorts = (cs: RetentionCohort[]) => {
    for (const c of cs) {
      c.users = n(c.users);
      c.retained = c.retained.map(n);
      if (c.value) c.value = c.value.map(s);
    }
  };
  if (spec.kind === "trend") {
    const t = r as unknown as TrendResult;
    const m = (spec as TrendSpec).measure.kind;
    const g = m === "events" || m === "users" ? n : m === "sum" ? s : null;
    if (g)
      for (const x of t.series) {
        x.total = g(x.total);
        for (const p of x.points) p.value = g(p.value);
        if (x.compare) {
          x.compare.total = g(x.compare.total);
          for (const p of x.compare.points) p.value = g(p.value);
        }
      }
    if (t.formula && formula) t.formula = formula(t);
  } else if (spec.kind === "funnel") {
    const x = r as unknown as FunnelResult;
    steps(x.steps);
    for (const b of x.breakdown ?? []) steps(b.steps);
    for (const p of x.trend ?? []) {
      p.entered = n(p.entered);
      p.converted = n(p.converted);
    }
    if (x.compare) steps(x.compare.steps);
    if (x.time_to_convert) {
      x.time_to_convert.count = n(x.time_to_convert.count);
      for (const b of x.time_to_convert.bins) b.users = n(b.users);
    }
  } else if (spec.kind === "retention") {
    const x = r as unknown as RetentionResult;
    cohorts(x.cohorts);
    for (const b of x.breakdown ?? []) cohorts(b.cohorts);
  } else if (spec.kind === "paths") {
    const x = r as unknown as PathsResult;
    x.users = n(x.users);
    for (const node of x.nodes) node.users = n(node.users);
  } else if (spec.kind === "stickiness") {
    for (const h of (r as unknown as StickinessResult).histogram) h.users = n(h.users);
  } else if (spec.kind === "lifecycle") {
    for (const p of (r as unknown as LifecycleResult).points) {
      p.new = n(p.new);
      p.returning = n(p.returning);
      p.resurrecting = n(p.resurrecting);
      p.dormant = n(p.dormant);
    }
  }
  r.sample = rate;
  return r as R;
}
