/** Names of result series, shared by both faces so the TUI and the headless output agree. */
import type { TrendResult } from "../queries/spec.js";

/** A series' legend label: the event, its breakdown value, or just the value when one event is shown. */
export function seriesLabel(s: TrendResult["series"][number], result: TrendResult): string {
  if (s.breakdown === null) return s.event;
  const oneEvent = result.series.every((x) => x.event === s.event);
  return oneEvent ? s.breakdown : `${s.event} · ${s.breakdown}`;
}
