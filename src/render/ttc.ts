/** Text of a funnel's time to convert (docs/semantics.md, "Time to convert"), for the CLI and the TUI. */
import type { TimeToConvertBin, TimeToConvertResult } from "../queries/spec.js";
import { formatDuration } from "./format.js";
import { fmtInt } from "./json.js";

/** `time to convert, step 1 → 3: 120 users; average 1h 2m, median 45m, p90 2h`. */
export function timeToConvertHead(t: TimeToConvertResult, sampled = false): string {
  const d = (s: number | null) => (s === null ? "–" : formatDuration(s));
  // A sampled count is an estimate (docs/semantics.md, "Sampling"); the times are the sample's own.
  const head = `time to convert, step ${t.from_step} → ${t.to_step}: ${sampled ? "≈" : ""}${fmtInt(t.count)} users`;
  if (!t.count) return `${head} converted`;
  return `${head}; average ${d(t.average_seconds)}, median ${d(t.median_seconds)}, p90 ${d(t.p90_seconds)}`;
}

/** A histogram bin as `2m – 5m` (from its start to its end). */
export function binLabel(b: TimeToConvertBin): string {
  return `${formatDuration(b.start_seconds)} – ${formatDuration(b.end_seconds)}`;
}
