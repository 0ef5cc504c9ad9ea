/**
 * Partial data (docs/semantics.md, "Partial data"): which buckets of a result the cache holds only in
 * part, and how much of a compare period it holds. Pure: both engines give it the same coverage and
 * the same data extent, so both mark the same points.
 *
 * - The _data extent_ is `[first known date 00:00Z, last known date + 1 day 00:00Z)`, the known dates
 *   being those coverage knows (the last listing, the cached partitions, the failures), capped at the
 *   instant of the last listing: a day the listing saw before it ended may still grow (live).
 * - An instant span is _covered_ when it lies inside the extent and no UTC day it overlaps is missing
 *   or failed.
 * - A bucket is _incomplete_ when the range cuts it, or its span is not covered.
 */
import { lifecycleFrame } from "./lifecycle.js";
import type { Cached, Coverage, FunnelSpec, LifecycleSpec, ResultOf, TrendSpec } from "./spec.js";
import { addLocal, bucketsOf, compareOffsetSeconds, DAY_US, frameOf, localStart, type Zone } from "./time.js";

/** Where the data lies (epoch µs, `hi` exclusive); both null when nothing is known. */
export interface DataExtent {
  lo: number | null;
  hi: number | null;
}

export const NO_EXTENT: DataExtent = { lo: null, hi: null };

const dayStartUs = (date: string) => Date.parse(`${date}T00:00:00Z`) * 1000;
const dateOf = (us: number) => new Date(Math.floor(us / 1000)).toISOString().slice(0, 10);

/**
 * The extent from the first and last known partition dates (`YYYY-MM-DD`) and the instant of the last
 * listing (µs; null when none was recorded).
 */
export function extentOf(first: string | null, last: string | null, listedAtUs: number | null): DataExtent {
  if (!first || !last) return NO_EXTENT;
  const end = dayStartUs(last) + DAY_US;
  return { lo: dayStartUs(first), hi: listedAtUs === null ? end : Math.min(end, listedAtUs) };
}

/** What decides completeness: the extent and a coverage's missing and failed dates. */
class Holdings {
  private readonly gaps: Set<string>;
  constructor(
    private readonly extent: DataExtent,
    coverage: Coverage,
  ) {
    this.gaps = new Set([...coverage.missing, ...coverage.failed]);
  }

  /** Whether [lo, hi) lies inside the extent with no missing or failed day. */
  covers(lo: number, hi: number): boolean {
    const { lo: elo, hi: ehi } = this.extent;
    if (elo === null || ehi === null || lo < elo || hi > ehi) return false;
    return !this.someDay(lo, hi, (d) => this.gaps.has(d));
  }

  /** How much of [lo, hi) the data holds: all, part of it, or none (no held day overlaps it). */
  cached(lo: number, hi: number): Cached {
    if (this.covers(lo, hi)) return "all";
    const { lo: elo, hi: ehi } = this.extent;
    if (elo === null || ehi === null) return "none";
    const a = Math.max(lo, elo);
    const b = Math.min(hi, ehi);
    return a < b && this.someDay(a, b, (d) => !this.gaps.has(d)) ? "partly" : "none";
  }

  /** Whether some UTC day overlapping [lo, hi) passes `test`. */
  private someDay(lo: number, hi: number, test: (date: string) => boolean): boolean {
    if (!this.gaps.size) return test("");
    for (let d = Math.floor(lo / DAY_US) * DAY_US; d < hi; d += DAY_US) if (test(dateOf(d))) return true;
    return false;
  }
}

/** Each bucket of `interval` over the frame, as an instant span [start, end). */
function spans(range: TrendSpec["range"], interval: TrendSpec["interval"]): { start: number; end: number }[] {
  const f = frameOf(range);
  return bucketsOf(f, interval).map((b) => ({ start: b.start, end: bucketEnd(f.zone, interval, b.local) }));
}

function bucketEnd(zone: Zone, interval: TrendSpec["interval"], local: number): number {
  return localStart(zone, addLocal(interval, local, 1));
}

/** The compare period of a trend or funnel as an instant span (µs), or null without one. */
export function comparePeriod(spec: { kind: string }): { lo: number; hi: number } | null {
  if (spec.kind !== "trend" && spec.kind !== "funnel") return null;
  const s = spec as TrendSpec | FunnelSpec;
  if (!s.compare) return null;
  const f = frameOf(s.range);
  const off = compareOffsetSeconds(s.range, s.compare) * 1_000_000;
  return { lo: f.lo - off, hi: f.hi - off };
}

/**
 * A span beyond the range whose coverage also decides the marks; null for specs without one:
 * - lifecycle: from the bucket before its first bucket to the range end (the previous bucket counts);
 * - funnel over time: the range and `within` after it (a bucket's later steps may come that late).
 */
export function extraPeriod(spec: { kind: string }): { lo: number; hi: number } | null {
  if (spec.kind === "funnel") {
    const s = spec as FunnelSpec;
    if (!s.trendInterval) return null;
    const f = frameOf(s.range);
    return { lo: f.lo, hi: f.hi + s.withinSeconds * 1_000_000 };
  }
  if (spec.kind !== "lifecycle") return null;
  const s = spec as LifecycleSpec;
  const { f, first } = lifecycleFrame(s);
  return { lo: localStart(f.zone, addLocal(s.interval, first, -1)), hi: f.hi };
}

export interface PartialInput {
  coverage: Coverage;
  /** Coverage of the compare period, when the spec has one. */
  compareCoverage?: Coverage;
  /** Coverage of `extraPeriod`, when the spec has one. */
  extraCoverage?: Coverage;
  extent: DataExtent;
}

/**
 * Marks the incomplete points of a trend, a funnel over time or a lifecycle (`incomplete: true`), and
 * gives a compare period its coverage and how much of it is cached; with none of it cached, a trend's
 * `change` is null (a funnel has no change: its outputs show no Δ). Other results pass through.
 */
export function markPartial<R>(spec: { kind: string }, result: R, input: PartialInput): R {
  switch (spec.kind) {
    case "trend":
      markTrend(spec as TrendSpec, result as ResultOf<TrendSpec>, input);
      break;
    case "funnel":
      markFunnel(spec as FunnelSpec, result as ResultOf<FunnelSpec>, input);
      break;
    case "lifecycle":
      markLifecycle(spec as LifecycleSpec, result as ResultOf<LifecycleSpec>, input);
      break;
  }
  return result;
}

/**
 * A rolling or cumulative point also misses data when an earlier bucket of its window does
 * (docs/semantics.md, "Rolling and cumulative"): a rolling point when its window reaches before the
 * range's first bucket or holds an incomplete bucket; a cumulative point when an earlier bucket is
 * not covered (the range start is where a cumulative count begins, so its cut is no gap).
 */
function windowMarks(spec: TrendSpec, locals: number[], own: boolean[], uncovered: boolean[]): boolean[] {
  if (spec.cumulative) {
    let gap = false;
    return own.map((o, i) => {
      const out = o || gap;
      gap = gap || uncovered[i];
      return out || gap;
    });
  }
  if (spec.rollingSeconds === undefined || !locals.length) return own;
  const win = spec.rollingSeconds * 1_000_000;
  const first = locals[0];
  const width = locals.length > 1 ? locals[1] - locals[0] : win;
  return locals.map((L, i) => {
    if (first - width > L - win) return true;
    for (let j = i; j >= 0 && locals[j] > L - win; j--) if (own[j]) return true;
    return false;
  });
}

function markTrend(spec: TrendSpec, r: ResultOf<TrendSpec>, input: PartialInput): void {
  const f = frameOf(spec.range);
  const held = new Holdings(input.extent, input.coverage);
  const bs = spans(spec.range, spec.interval);
  const locals = bucketsOf(f, spec.interval).map((b) => b.local);
  const cut = bs.map((b) => b.start < f.lo || b.end > f.hi);
  const uncovered = bs.map((b) => !held.covers(b.start, b.end));
  const incomplete = windowMarks(
    spec,
    locals,
    bs.map((_, i) => cut[i] || uncovered[i]),
    uncovered,
  );
  let compare: { cached: Cached; incomplete: boolean[]; coverage: Coverage } | null = null;
  if (spec.compare && input.compareCoverage) {
    const off = compareOffsetSeconds(spec.range, spec.compare) * 1_000_000;
    const ch = new Holdings(input.extent, input.compareCoverage);
    const cuncovered = bs.map((b) => !ch.covers(b.start - off, b.end - off));
    compare = {
      cached: ch.cached(f.lo - off, f.hi - off),
      incomplete: windowMarks(
        spec,
        locals,
        bs.map((_, i) => cut[i] || cuncovered[i]),
        cuncovered,
      ),
      coverage: input.compareCoverage,
    };
  }
  const all: {
    points: { incomplete?: true }[];
    compare?: {
      points: { incomplete?: true }[];
      coverage?: Coverage;
      cached?: Cached;
      change: number | null;
    };
  }[] = [...r.series, ...(r.formula?.series ?? [])];
  for (const s of all) {
    s.points.forEach((p, i) => {
      if (incomplete[i]) p.incomplete = true;
    });
    if (!s.compare || !compare) continue;
    s.compare.points.forEach((p, i) => {
      if (compare.incomplete[i]) p.incomplete = true;
    });
    s.compare.coverage = compare.coverage;
    s.compare.cached = compare.cached;
    if (compare.cached === "none") s.compare.change = null;
  }
}

function markFunnel(spec: FunnelSpec, r: ResultOf<FunnelSpec>, input: PartialInput): void {
  const f = frameOf(spec.range);
  // Over time, the coverage of the range and `within` after it: a day missing after `to` still counts.
  const held = new Holdings(input.extent, input.extraCoverage ?? input.coverage);
  // Later steps may come up to `within` after the entry: a bucket needs the data that long after it.
  const within = spec.withinSeconds * 1_000_000;
  if (spec.trendInterval && r.trend) {
    const bs = spans(spec.range, spec.trendInterval);
    r.trend.forEach((p, i) => {
      const b = bs[i];
      if (b && (b.start < f.lo || b.end > f.hi || !held.covers(b.start, b.end + within))) p.incomplete = true;
    });
  }
  if (spec.compare && r.compare && input.compareCoverage) {
    const off = compareOffsetSeconds(spec.range, spec.compare) * 1_000_000;
    const cached = new Holdings(input.extent, input.compareCoverage).cached(f.lo - off, f.hi - off);
    r.compare.coverage = input.compareCoverage;
    r.compare.cached = cached;
  }
}

/**
 * A lifecycle bucket depends on itself and on the bucket before it (returning, resurrecting, dormant):
 * it is incomplete unless both are covered. The range does not cut it (whole buckets count).
 */
function markLifecycle(spec: LifecycleSpec, r: ResultOf<LifecycleSpec>, input: PartialInput): void {
  const held = new Holdings(input.extent, input.extraCoverage ?? input.coverage);
  const { f } = lifecycleFrame(spec);
  bucketsOf(f, spec.interval).forEach((b, i) => {
    const prev = localStart(f.zone, addLocal(spec.interval, b.local, -1));
    const p = r.points[i];
    if (p && !held.covers(prev, bucketEnd(f.zone, spec.interval, b.local))) p.incomplete = true;
  });
}
