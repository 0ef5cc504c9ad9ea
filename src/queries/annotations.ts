/**
 * Property markers (issue #28, `--annotations-from KEY` on a trend and a funnel over time): the
 * instant each value of KEY first appears in the data, as Amplitude marks releases
 * (docs/semantics.md, "Annotations"). The rule: per value, the earliest `event_time` of any event
 * (any type, no filters, every user) whose KEY text is that value, over the whole data; a value is a
 * marker of the analysis when that first instant lies in the range `[from, to)`. A value first seen
 * before the range is no marker there (it was released before), so a range shows only the changes
 * inside it.
 *
 * Aggregated in the engine (one `min(event_time) … GROUP BY value` pass, the key bound as a
 * parameter); the same builder writes DuckDB's and ClickHouse's SQL (`Params`). Pure: no engine here.
 */
import type { Row } from "../cache/db.js";
import { type BuiltQuery, Params, propTextParts, type QueryContext } from "./filters.js";
import type { AnalysisSpec, Annotation, DateRange } from "./spec.js";
import { frameOf, inRange, instantText } from "./time.js";

/** The key of a spec's property markers: a trend's, or a funnel over time's; none otherwise. */
export function annotationsKey(spec: AnalysisSpec): string | undefined {
  if (spec.kind === "trend") return spec.annotationsFrom;
  if (spec.kind === "funnel" && spec.trendInterval) return spec.annotationsFrom;
  return undefined;
}

/** Rows `(value, us)`: each value of `key` whose first instant in the data lies in `range`, by time then value. */
export function buildFirstSeen(key: string, range: DateRange, ctx?: QueryContext): BuiltQuery {
  const p = new Params(ctx);
  const f = frameOf(range);
  const v = propTextParts(p, key);
  // Events from the range's end on cannot hold a first appearance inside it. Grouped by the raw text
  // first, so the text's finishing (DuckDB's untagging of numbers) runs once per distinct value.
  const hi = p.ts(p.big(f.hi));
  const sql = `SELECT value, ${p.us("t")} AS us
  FROM (SELECT ${v.finish("raw")} AS value, min(t0) AS t
          FROM (SELECT ${v.raw} AS raw, min(event_time) AS t0 FROM events
                 WHERE event_time < ${hi} AND ${v.raw} IS NOT NULL GROUP BY raw) AS r
         GROUP BY value) AS fs
 WHERE ${inRange(p, f, "t")}
 ORDER BY us, value`;
  return { sql, params: p.values };
}

/** The rows of `buildFirstSeen` as annotations (`source: "property"`). */
export function shapeFirstSeen(rows: Row[], key: string): Annotation[] {
  return rows.map((r) => {
    const value = String(r.value);
    return {
      at: instantText(Number(r.us)),
      text: `${key}=${value}`,
      source: "property" as const,
      key,
      value,
    };
  });
}

/** A result with its property markers (the result's own object, `annotations` set). */
export function withAnnotations<R>(result: R, annotations: Annotation[]): R {
  (result as { annotations?: Annotation[] }).annotations = annotations;
  return result;
}

/**
 * The index of the bucket holding instant `at` among bucket starts `ts` (ascending ISO instants): the
 * last start at or before it; -1 before the first. A marker belongs to its bucket's point.
 */
export function bucketIndexOf(ts: readonly string[], at: string): number {
  const x = Date.parse(at);
  let lo = 0;
  let hi = ts.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (Date.parse(ts[mid] as string) <= x) lo = mid + 1;
    else hi = mid;
  }
  return lo - 1;
}

/** Per bucket start, the texts of the markers in that bucket, joined by ` | ` (the CSV's `annotations` cell). */
export function annotationCells(
  ts: readonly string[],
  annotations: readonly Annotation[],
): Map<string, string> {
  const by = new Map<string, string[]>();
  for (const a of annotations) {
    const t = ts[bucketIndexOf(ts, a.at)];
    if (t === undefined) continue;
    by.set(t, [...(by.get(t) ?? []), a.text]);
  }
  return new Map([...by].map(([t, xs]) => [t, xs.join(" | ")]));
}
