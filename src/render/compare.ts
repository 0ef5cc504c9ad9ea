/**
 * Text for compare results (`--compare`, the TUI's `c`): a total's relative change, a funnel step's
 * change in conversion in percentage points, and a compare offset. Pure, shared by both faces.
 */
import type { FunnelStepResult } from "../queries/spec.js";
import { formatDuration } from "./format.js";

/** `Δ +12.5%`, `Δ −3.0%`, or `Δ n/a` when the compare total is 0 (`change` null). */
export function changeText(change: number | null | undefined): string {
  if (change === null || change === undefined || !Number.isFinite(change)) return "Δ n/a";
  const pct = (100 * change).toFixed(1);
  return `Δ ${change >= 0 ? "+" : "−"}${pct.replace("-", "")}%`;
}

/**
 * The change of a step's overall conversion (users of the step / users of step 1) against the compare
 * period, in percentage points: `Δ +2.1pp`. `Δ n/a` when the compare period has no conversion to
 * compare with: nobody entered it (`first`, its step 1, has no users), or, without `first`, the compare
 * step itself has none. A real drop to 0% shows as a change.
 */
export function pointsText(
  now: FunnelStepResult | undefined,
  before: FunnelStepResult | undefined,
  first?: FunnelStepResult,
): string {
  if (!now || !before || (first ?? before).users === 0) return "Δ n/a";
  const pp = 100 * (now.conversion - before.conversion);
  const t = Math.abs(pp).toFixed(1);
  return `Δ ${pp >= 0 || t === "0.0" ? "+" : "−"}${t}pp`;
}

/** A compare offset as a shift back in time: `−1d`, `−14d`, `−6h`. */
export function offsetText(seconds: number): string {
  return `−${formatDuration(seconds)}`;
}
