/**
 * Annotation markers on a time chart (issue #28), pure: which point each note or property marker
 * falls on, its one-character mark, and the legend lines (`1 06-01 14:05 deploy 1.42`) that fit the
 * width. Both faces use them: the headless human chart (commands/analyze.ts) and the TUI's Trends
 * screen.
 */
import { bucketIndexOf } from "../queries/annotations.js";
import type { Annotation } from "../queries/spec.js";
import { cleanText } from "./clean.js";
import { timeLabel } from "./format.js";
import { truncate } from "./sanitize.js";

/** Marks in order: digits, then lower-case letters (upper-case letters name a formula's series). */
const MARKS = "123456789abcdefghijklmnopqrstuvwxyz";

export interface PlacedMarker {
  annotation: Annotation;
  /** The index of the chart point (bucket) it falls in. */
  point: number;
  /** One character; `+` past the 35th. */
  mark: string;
}

/** The annotations on points whose bucket starts are `ts` (ascending ISO instants), in time order. */
export function placeMarkers(annotations: readonly Annotation[], ts: readonly string[]): PlacedMarker[] {
  const sorted = [...annotations].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const out: PlacedMarker[] = [];
  for (const a of sorted) {
    const point = bucketIndexOf(ts, a.at);
    if (point < 0) continue;
    out.push({ annotation: a, point, mark: MARKS[out.length] ?? "+" });
  }
  return out;
}

/** One legend entry: `1 06-01 14:05 deploy 1.42` (local time in `tz`), cut to `width`. */
export function legendEntry(m: PlacedMarker, tz: string, width: number): string {
  const when = timeLabel(m.annotation.at, "minute", { tz });
  return truncate(`${m.mark} ${when} ${cleanText(m.annotation.text)}`, Math.max(1, width));
}

/**
 * The legend: one line per marker, each cut to `width`; past `maxLines`, the last line says how many
 * more there are and where to read them all (`more`).
 */
export function annotationLegend(
  markers: readonly PlacedMarker[],
  opts: { tz: string; width: number; maxLines: number; more: string },
): string[] {
  const max = Math.max(1, opts.maxLines);
  if (markers.length <= max) return markers.map((m) => legendEntry(m, opts.tz, opts.width));
  const shown = markers.slice(0, max - 1).map((m) => legendEntry(m, opts.tz, opts.width));
  return [...shown, truncate(`+${markers.length - shown.length} more ${opts.more}`, Math.max(1, opts.width))];
}

/**
 * A result's markers with the notes of `evx annotate` whose instant lies in `[from, to)` (ISO), by
 * instant (a note first on a tie). Undefined when there is neither a note in range nor a property
 * marker list (the output then stays as it was without annotations).
 */
export function mergeNotes(
  annotations: readonly Annotation[] | undefined,
  notes: readonly { id: number; at: string; text: string }[],
  from: string,
  to: string,
): Annotation[] | undefined {
  const lo = Date.parse(from);
  const hi = Date.parse(to);
  const own: Annotation[] = notes
    .filter((n) => Date.parse(n.at) >= lo && Date.parse(n.at) < hi)
    .map((n) => ({ at: n.at, text: cleanText(n.text).trim(), source: "note", id: n.id }));
  if (!own.length && annotations === undefined) return undefined;
  return [...own, ...(annotations ?? [])].sort((x, y) => Date.parse(x.at) - Date.parse(y.at));
}
