/**
 * The mark of a sampled number (docs/semantics.md, "Sampling"): an estimate reads `≈1,234` in every
 * face. A result carries `sample` when it was sampled; an unsampled one prints as before.
 */
import { SAMPLE_MARK } from "../queries/sample.js";
import type { TrendResult } from "../queries/spec.js";

export { SAMPLE_MARK };

/** `text` marked as an estimate when `r` was sampled (empty and `–` stay as they are). */
export function est(r: { sample?: number } | null | undefined, text: string): string {
  return r?.sample === undefined || text === "" || text === "–" ? text : `${SAMPLE_MARK}${text}`;
}

/** Whether a trend's values are estimates: a sampled count or sum, or a formula over them. */
export function trendEstimates(r: TrendResult): boolean {
  if (r.sample === undefined) return false;
  const m = r.measure;
  return m === "events" || m === "users" || m.startsWith("sum:") || r.formula !== undefined;
}

/** A trend value as text, marked when the trend's values are estimates. */
export function trendEst(r: TrendResult, text: string): string {
  return trendEstimates(r) ? est(r, text) : text;
}
