/**
 * Which bucket intervals (and retention periods) suit a range: the screens offer only those that give
 * a readable number of points, and move to the nearest one that does when the range changes. Pure:
 * the counts come from the engine's own time helpers, so they match the buckets a query returns.
 */
import { COMPARES, type Compare, type DateRange, INTERVALS, type Interval } from "../../queries/spec.js";
import { bucketEstimate, compareOffsetSeconds, frameOf } from "../../queries/time.js";
import { formatDuration } from "../../render/format.js";

/** Bounds on the points of a chart: fewer is no line, more is more than the widest chart can show. */
export const CHART_POINTS = { min: 2, max: 2000 } as const;

export interface Fit {
  min: number;
  max: number;
}

/** Buckets of `iv` over the range; null when the range cannot be read. */
export function pointsOf(range: DateRange | null, iv: Interval): number | null {
  if (!range) return null;
  try {
    return bucketEstimate(frameOf(range), iv);
  } catch {
    return null;
  }
}

/** The intervals of `among` (in that order) that give between `fit.min` and `fit.max` points. */
export function fittingIntervals<T extends Interval>(
  range: DateRange | null,
  among: readonly T[] = INTERVALS as unknown as readonly T[],
  fit: Fit = CHART_POINTS,
): T[] {
  return among.filter((iv) => {
    const n = pointsOf(range, iv);
    return n !== null && n >= fit.min && n <= fit.max;
  });
}

/**
 * `current` when it fits the range; otherwise the fitting interval nearest to it in `among` (the
 * coarser one on a tie); `current` again when none fits or the range cannot be read.
 */
export function fitInterval<T extends Interval>(
  current: T,
  range: DateRange | null,
  among: readonly T[] = INTERVALS as unknown as readonly T[],
  fit: Fit = CHART_POINTS,
): T {
  const fits = fittingIntervals(range, among, fit);
  if (fits.length === 0 || fits.includes(current)) return current;
  const at = among.indexOf(current);
  let best = fits[0]!;
  for (const iv of fits) {
    const d = Math.abs(among.indexOf(iv) - at);
    const bd = Math.abs(among.indexOf(best) - at);
    if (d < bd || (d === bd && among.indexOf(iv) > among.indexOf(best))) best = iv;
  }
  return best;
}

/** The next interval after `current` (fitted to the range first) among those that fit, cycling. */
export function nextInterval<T extends Interval>(
  current: T,
  range: DateRange | null,
  among: readonly T[] = INTERVALS as unknown as readonly T[],
  fit: Fit = CHART_POINTS,
): T {
  const fits = fittingIntervals(range, among, fit);
  const from = fitInterval(current, range, among, fit);
  if (fits.length === 0) return among[(among.indexOf(from) + 1) % among.length]!;
  const i = fits.indexOf(from);
  return fits[(i + 1) % fits.length]!;
}

/** The compare cycle of `c`: off → previous → 1d → 1w → off. */
export const COMPARE_CYCLE: readonly (Compare | undefined)[] = [undefined, "previous", "1d", "1w"];

export function nextCompare(current: Compare | undefined): Compare | undefined {
  const i = COMPARE_CYCLE.indexOf(current);
  return COMPARE_CYCLE[(i + 1) % COMPARE_CYCLE.length];
}

/** The compare state for a settings line: `–`, `previous 14d`, `1d before`, `1w before`. */
export function compareState(compare: Compare | undefined, range: DateRange | null): string {
  if (!compare || !(COMPARES as readonly string[]).includes(compare)) return "–";
  if (compare !== "previous") return `${compare} before`;
  if (!range) return "previous";
  try {
    return `previous ${formatDuration(compareOffsetSeconds(range, compare))}`;
  } catch {
    return "previous";
  }
}
