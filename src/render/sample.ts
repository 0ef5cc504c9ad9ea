/**
 * The mark of a sampled number (docs/semantics.md, "Sampling"): an estimate reads `≈1,234` in every
 * face. A result carries `sample` when it was sampled; an unsampled one prints as before.
 */
import { SAMPLE_MARK } from "../queries/sample.js";

export { SAMPLE_MARK };

/** `text` marked as an estimate when `r` was sampled (empty and `–` stay as they are). */
export function est(r: { sample?: number } | null | undefined, text: string): string {
  return r?.sample === undefined || text === "" || text === "–" ? text : `${SAMPLE_MARK}${text}`;
}
