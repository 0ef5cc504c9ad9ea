/**
 * Text for partial data (docs/semantics.md, "Partial data"), shared by the headless outputs and the
 * TUI: the mark of an incomplete bucket, and what is said about a compare period the cache holds only
 * in part or not at all. Pure.
 */
import type { Cached, Coverage, Interval } from "../queries/spec.js";
import { offsetText } from "./compare.js";
import { timeLabel } from "./format.js";

/** After a value whose bucket is incomplete (as retention's incomplete cells). */
export const INCOMPLETE_BUCKET_MARK = "*";

/** What the human output and the TUI say instead of a change when no compare data is cached. */
export const NO_COMPARE_DATA = "no data for the compare period";

/** A value with the incomplete mark when its bucket is incomplete. */
export function markedValue(text: string, incomplete: boolean | undefined): string {
  return incomplete ? `${text}${INCOMPLETE_BUCKET_MARK}` : text;
}

/** Dates as a short list: the first three and a count when there are more than four. */
function datesText(ds: string[]): string {
  return ds.length > 4 ? `${ds.slice(0, 3).join(", ")} … (${ds.length})` : ds.join(", ");
}

/**
 * Why a compare period is not fully held, in a few words: its missing and failed dates, or that it
 * reaches outside the cached data. `loaded` words it for ClickHouse.
 */
export function compareGapText(c: Coverage | undefined, loaded = false): string {
  const parts: string[] = [];
  if (c?.missing.length) parts.push(`${loaded ? "not loaded" : "not synced"}: ${datesText(c.missing)}`);
  if (c?.failed.length) parts.push(`failed: ${datesText(c.failed)}`);
  return parts.length ? parts.join("; ") : "it reaches outside the cached data";
}

/**
 * The stderr warning of the human and CSV outputs when the compare period `period` (as text) is not
 * fully cached; null when it is.
 */
export function compareWarning(
  cached: Cached | undefined,
  coverage: Coverage | undefined,
  period: string,
  loaded = false,
): string | null {
  if (cached === undefined || cached === "all") return null;
  const gap = compareGapText(coverage, loaded);
  return cached === "none"
    ? `evx: warning: ${NO_COMPARE_DATA} ${period} (${gap}); no change is given\n`
    : `evx: warning: the compare period ${period} is only partly cached (${gap}); its change compares with partial data\n`;
}

/**
 * The TUI's yellow note for a compare period (offset in seconds) the cache does not fully hold, as the
 * status bar's note for the range: `! compare period (−1d) partly cached: not synced: 2023-05-31`, or
 * `! no data for the compare period (−1w): it reaches outside the cached data`. null when it is.
 */
export function compareNote(
  c: { offset_seconds: number; cached?: Cached; coverage?: Coverage } | undefined,
  loaded = false,
): string | null {
  if (!c || c.cached === undefined || c.cached === "all") return null;
  const offset = offsetText(c.offset_seconds);
  const gap = compareGapText(c.coverage, loaded);
  return c.cached === "none"
    ? `! ${NO_COMPARE_DATA} (${offset}): ${gap}`
    : `! compare period (${offset}) partly cached: ${gap}`;
}

/**
 * `* incomplete: 06-01, 06-07`: the buckets of a chart without per-point marks (lifecycle) that the
 * cache holds only in part, as local labels (the first three and a count beyond); null when none.
 */
export function incompleteBucketsText(
  points: { t: string; incomplete?: boolean }[],
  interval: Interval,
  tz: string,
): string | null {
  const labels = points.filter((p) => p.incomplete).map((p) => timeLabel(p.t, interval, { tz }));
  if (!labels.length) return null;
  const shown =
    labels.length > 4 ? `${labels.slice(0, 3).join(", ")} … (${labels.length})` : labels.join(", ");
  return `${INCOMPLETE_BUCKET_MARK} incomplete: ${shown}`;
}
