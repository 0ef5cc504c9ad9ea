/**
 * Brute-force reference for docs/semantics.md "Partial data", transcribed from the doc over a folder
 * lake's listing (not from src/queries/partial.ts, so a wrong rule there makes the property test fail):
 * which dates the lake holds, which of them failed to load (an object that cannot be read), and from
 * those the data extent, covered spans, incomplete points, and a compare period's coverage and
 * `cached`.
 *
 * The lake is listed once and fully synced, so no date is `missing`; the last listing happens after
 * every date of the lake, so it does not cap the extent.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { Coverage, FunnelResult, FunnelSpec, TrendResult, TrendSpec } from "../src/queries/spec.js";
import { firstInstantFrom, nextBucketKey, parseLine, rangeBuckets, rangeMicros } from "./brute.js";

const DAY_US = 86_400_000_000;
const MINUTE_US = 60_000_000;
const dayStart = (date: string) => Date.parse(`${date}T00:00:00Z`) * 1000;
const dateOf = (us: number) => new Date(Math.floor(us / 1000)).toISOString().slice(0, 10);

/** What the lake's listing says, per `date=YYYY-MM-DD` partition. */
export interface LakeListing {
  /** Every listed date, sorted. */
  dates: string[];
  /** Dates with an object that cannot be read (a cut gzip): the sync records them as failed. */
  failed: Set<string>;
  /** Lines of the readable objects that are not events, per date. */
  rejected: Map<string, number>;
  /** ISO text of the latest event instant of the readable objects (null when none). */
  lastEvent: string | null;
}

export async function listLake(dir: string): Promise<LakeListing> {
  const dates: string[] = [];
  const failed = new Set<string>();
  const rejected = new Map<string, number>();
  let last = Number.NEGATIVE_INFINITY;
  for (const part of (await readdir(dir)).sort()) {
    const m = /^date=(\d{4}-\d{2}-\d{2})$/.exec(part);
    if (!m) continue;
    const date = m[1];
    dates.push(date);
    for (const file of await readdir(join(dir, part))) {
      const raw = await readFile(join(dir, part, file));
      let text: string;
      try {
        text = (file.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8");
      } catch {
        failed.add(date);
        continue;
      }
      for (const line of text.split("\n")) {
        if (!line.trim()) continue;
        const e = parseLine(line);
        if (e === null) rejected.set(date, (rejected.get(date) ?? 0) + 1);
        else last = Math.max(last, e.t);
      }
    }
  }
  return {
    dates: dates.sort(),
    failed,
    rejected,
    lastEvent: Number.isFinite(last) ? new Date(Math.floor(last / 1000)).toISOString() : null,
  };
}

/** The data extent `[first date 00:00Z, last date + 1 day 00:00Z)` (µs). */
function extent(l: LakeListing): { lo: number; hi: number } {
  return { lo: dayStart(l.dates[0]), hi: dayStart(l.dates[l.dates.length - 1]) + DAY_US };
}

/** The UTC dates whose day overlaps [lo, hi). */
function daysOf(lo: number, hi: number): string[] {
  const out: string[] = [];
  for (let d = Math.floor(lo / DAY_US) * DAY_US; d < hi; d += DAY_US) out.push(dateOf(d));
  return out;
}

/** Inside the extent, and no UTC day it overlaps failed. */
export function covers(l: LakeListing, lo: number, hi: number): boolean {
  const e = extent(l);
  return lo >= e.lo && hi <= e.hi && !daysOf(lo, hi).some((d) => l.failed.has(d));
}

/** `all` when covered; `none` when no day of it inside the extent is held (not failed); else `partly`. */
export function cachedOf(l: LakeListing, lo: number, hi: number): "all" | "partly" | "none" {
  if (covers(l, lo, hi)) return "all";
  const e = extent(l);
  const [a, b] = [Math.max(lo, e.lo), Math.min(hi, e.hi)];
  return a < b && daysOf(a, b).some((d) => !l.failed.has(d)) ? "partly" : "none";
}

/** The coverage of [lo, hi): the listed dates whose UTC day overlaps it. */
export function coverageOf(l: LakeListing, lo: number, hi: number): Coverage {
  const dates = lo < hi ? l.dates.filter((d) => dayStart(d) < hi && dayStart(d) + DAY_US > lo) : [];
  const failed = dates.filter((d) => l.failed.has(d));
  return {
    partitions_in_range: dates.length,
    partitions_synced: dates.length - failed.length,
    missing: [],
    failed,
    rejected_lines: dates.reduce((n, d) => n + (l.rejected.get(d) ?? 0), 0),
    last_event: l.lastEvent,
  };
}

/** Each bucket of the range as an instant span [start, end): end = the next bucket's local start. */
function spans(interval: TrendSpec["interval"], range: TrendSpec["range"]): { start: number; end: number }[] {
  return rangeBuckets(interval, range).map((b) => ({
    start: b.start,
    end: firstInstantFrom(range.tz, nextBucketKey(interval, b.key) * MINUTE_US),
  }));
}

/**
 * A brute trend or funnel result with the partial-data marks of docs/semantics.md: incomplete points
 * (cut by the range or not covered), a compare period's coverage and `cached`, and a trend's `change`
 * null when none of its compare period is cached.
 */
export function withBruteMarks<R>(spec: { kind: string }, result: R, l: LakeListing): R {
  if (spec.kind === "trend") markTrend(spec as TrendSpec, result as TrendResult, l);
  if (spec.kind === "funnel") markFunnel(spec as FunnelSpec, result as FunnelResult, l);
  return result;
}

function markTrend(spec: TrendSpec, r: TrendResult, l: LakeListing): void {
  const { start, end } = rangeMicros(spec.range);
  const bs = spans(spec.interval, spec.range);
  const keys = rangeBuckets(spec.interval, spec.range).map((b) => b.key);
  const cut = (b: { start: number; end: number }) => b.start < start || b.end > end;
  /**
   * Rolling: a point is incomplete when its window (L − D, L] reaches before the range's first bucket
   * or holds an incomplete bucket. Cumulative: when its own bucket is, or an earlier bucket is not
   * covered. Otherwise: its own bucket.
   */
  const marks = (off: number): boolean[] => {
    const uncovered = bs.map((b) => !covers(l, b.start - off, b.end - off));
    const own = bs.map((b, i) => cut(b) || uncovered[i]);
    if (spec.cumulative) return own.map((o, i) => o || uncovered.slice(0, i).some((u) => u));
    if (spec.rollingSeconds === undefined) return own;
    const D = spec.rollingSeconds / 60;
    const width = keys.length > 1 ? keys[1] - keys[0] : D;
    return keys.map((L) => keys[0] - width > L - D || keys.some((k, j) => k > L - D && k <= L && own[j]));
  };
  const current = marks(0);
  const all = [...r.series, ...(r.formula?.series ?? [])];
  for (const s of all) {
    s.points.forEach((p, i) => {
      if (current[i]) p.incomplete = true;
    });
    if (!s.compare) continue;
    const off = s.compare.offset_seconds * 1e6;
    const cmp = marks(off);
    s.compare.points.forEach((p, i) => {
      if (cmp[i]) p.incomplete = true;
    });
    s.compare.coverage = coverageOf(l, start - off, end - off);
    s.compare.cached = cachedOf(l, start - off, end - off);
    if (s.compare.cached === "none") s.compare.change = null;
  }
}

function markFunnel(spec: FunnelSpec, r: FunnelResult, l: LakeListing): void {
  const { start, end } = rangeMicros(spec.range);
  if (spec.trendInterval && r.trend) {
    // later steps may come up to `within` after the bucket: that span must be covered too
    const within = spec.withinSeconds * 1e6;
    const bs = spans(spec.trendInterval, spec.range);
    r.trend.forEach((p, i) => {
      const b = bs[i];
      if (b.start < start || b.end > end || !covers(l, b.start, b.end + within)) p.incomplete = true;
    });
  }
  if (r.compare) {
    const off = r.compare.offset_seconds * 1e6;
    r.compare.coverage = coverageOf(l, start - off, end - off);
    r.compare.cached = cachedOf(l, start - off, end - off);
  }
}
