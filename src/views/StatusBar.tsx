/**
 * The bottom line: cache, date range, event count and the last query's time; while something runs,
 * a spinner with elapsed seconds and "esc to cancel". Only this line re-renders on spinner ticks.
 */
import { basename } from "node:path";
import { Text } from "ink";
import { memo } from "react";
import type { DateRange } from "../queries/spec.js";
import { formatNumber } from "../render/format.js";
import { displayWidth, truncate } from "../render/sanitize.js";
import { useActivity } from "./useQuery.js";
import { spinnerFrame, useTicker } from "./widgets.js";

export interface StatusBarProps {
  width: number;
  cachePath: string;
  range: DateRange | null;
  /** Events in the range (from the catalog), when known. */
  events?: number;
  readOnly?: boolean;
  /** Text instead of the cache facts (e.g. "opening cache…"). */
  state?: string;
  ascii?: boolean;
}

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export const StatusBar = memo(function StatusBar(props: StatusBarProps) {
  const activity = useActivity();
  const running = activity.running.length > 0;
  // 5 redraws a second: enough for the elapsed time, light on the CPU the query needs.
  const tick = useTicker(running, 200);
  const width = Math.max(1, props.width);

  let right = "";
  if (running) {
    const job = activity.running[activity.running.length - 1]!;
    const secs = (performance.now() - job.started) / 1000;
    const more = activity.running.length > 1 ? ` +${activity.running.length - 1}` : "";
    right = `${spinnerFrame(tick, props.ascii)} ${job.label}${more} ${secs.toFixed(1)}s · esc to cancel`;
  } else if (activity.last) {
    right = `${activity.last.label} ${fmtMs(activity.last.ms)}`;
  }

  const parts: string[] = [];
  if (props.state) parts.push(props.state);
  else {
    parts.push(basename(props.cachePath) + (props.readOnly ? " (read-only)" : ""));
    if (props.range) {
      const r = props.range;
      const zone = r.tz && r.tz !== "UTC" ? ` ${r.tz}` : "";
      parts.push(`${r.from === r.to ? r.from : `${r.from} → ${r.to}`}${zone}`);
    }
    if (props.events !== undefined) parts.push(`${formatNumber(props.events)} events`);
  }
  // Drop facts from the left end until everything fits beside the activity.
  let left = parts.join(" │ ");
  const room = () => width - (right ? displayWidth(right) + 2 : 0);
  while (parts.length > 1 && displayWidth(left) > room()) {
    parts.shift();
    left = parts.join(" │ ");
  }
  if (displayWidth(left) > room()) left = truncate(left, Math.max(0, room()));
  const gap = Math.max(right ? 2 : 0, width - displayWidth(left) - displayWidth(right));
  const line = truncate(`${left}${" ".repeat(gap)}${right}`, width);
  return (
    <Text wrap="truncate" inverse color={running ? "yellow" : undefined}>
      {line}
    </Text>
  );
});
