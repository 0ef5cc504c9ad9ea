/**
 * The bottom line: where the data is (the cache's file name, or `clickhouse · host:8123/db.events`),
 * date range, event count and the last query's time; while something runs, a spinner with elapsed
 * seconds and "esc to cancel". Only this line re-renders on spinner ticks.
 *
 * When the last query failed (the engine's one-line error: ClickHouse unreachable, auth, schema, a
 * server limit, the connection lost), the line says so in red until a query succeeds again.
 *
 * When the current result's range is only partly in the cache (coverage with missing or failed
 * partitions), a yellow note leads the line: `! partial: 4/7 partitions · not synced 06-01, 06-06`.
 * It is the last thing to go when the line is short, so a half-synced answer never looks complete.
 *
 * In live mode a segment after it says what the last sync cycle did and when the next one runs
 * (`live · +1,234 events at 14:45:03 · next in 42s`), or the cycle's error in red.
 */

import { basename } from "node:path";
import { Text } from "ink";
import { memo } from "react";
import { sampleText } from "../../queries/sample.js";
import type { Coverage, DateRange } from "../../queries/spec.js";
import { formatNumber } from "../../render/format.js";
import { cleanText, displayWidth, truncate } from "../../render/sanitize.js";
import { useActivity } from "../hooks/useQuery.js";
import { type LiveState, liveText } from "../state/live.js";
import { spinnerFrame, useTicker } from "./widgets.js";

export interface StatusBarProps {
  width: number;
  cachePath: string;
  /** What to name instead of the cache's file name (the session's label). */
  where?: string;
  /** Shorter forms of `where` for a narrow line, longest first. */
  whereShort?: string[];
  range: DateRange | null;
  /** Events in the range (from the catalog), when known. */
  events?: number;
  readOnly?: boolean;
  /** The identity mode the screens' queries run with (`I` toggles it). */
  identity?: "merged" | "raw";
  /** The sample of users the screens' analyses read (`%` cycles it); absent: all users. */
  sample?: number;
  /** Text instead of the cache facts (e.g. "opening cache…"). */
  state?: string;
  /** `error`: `state` is an error (drawn in red). */
  stateTone?: "info" | "error";
  ascii?: boolean;
  /** Coverage of the current screen's result: a note when partitions are missing or failed. */
  coverage?: Coverage;
  /** Warnings about the current screen's result (a property key none of its events has in range). */
  warnings?: string[];
  /** Live mode's state (a segment while it is on). */
  live?: LiveState;
  /** Text for the range instead of its bounds (a `last …` preset). */
  rangeLabel?: string;
}

/** Whether a coverage leaves out partitions of its range. */
export function isPartial(c: Coverage | undefined | null): c is Coverage {
  return !!c && (c.missing.length > 0 || c.failed.length > 0);
}

/**
 * The partial-coverage note, at most `room` columns when it can be: the dates that fit (three or more
 * days in a row as `06-11→06-14`), the rest counted (`+3`); at least `! partial 4/7`, cut with `…`
 * only when even that does not fit. Dates are `MM-DD` when all are in one year. `null` when nothing
 * is missing or failed.
 */
export function coverageNote(c: Coverage | undefined | null, room = Number.POSITIVE_INFINITY): string | null {
  if (!isPartial(c)) return null;
  const oneYear = new Set([...c.missing, ...c.failed].map((d) => d.slice(0, 4))).size <= 1;
  const day = (d: string) => (oneYear ? d.slice(5) : d);
  const head = `! partial: ${c.partitions_synced}/${c.partitions_in_range} partitions`;
  const groups = [
    { label: "not synced", runs: runsOf(c.missing) },
    { label: "failed", runs: runsOf(c.failed) },
  ].filter((g) => g.runs.length > 0);
  const text = (shown: number[]) =>
    [
      head,
      ...groups.map((g, i) => {
        const k = shown[i]!;
        const list = g.runs
          .slice(0, k)
          .map((r) => (r.length >= 3 ? `${day(r[0]!)}→${day(r[r.length - 1]!)}` : r.map(day).join(", ")))
          .join(", ");
        const hidden = g.runs.slice(k).reduce((a, r) => a + r.length, 0);
        return `${g.label} ${[list, hidden ? `+${hidden}` : ""].filter(Boolean).join(" ")}`;
      }),
    ].join(" · ");
  const shown = groups.map((g) => g.runs.length);
  let t = text(shown);
  // Take runs off the end of the longest list until the note fits.
  while (displayWidth(t) > room && shown.some((k) => k > 0)) {
    const i = shown.indexOf(Math.max(...shown));
    shown[i]!--;
    t = text(shown);
  }
  if (displayWidth(t) <= room) return t;
  const short = `! partial ${c.partitions_synced}/${c.partitions_in_range}`;
  return displayWidth(short) <= room ? short : truncate(short, Math.max(1, room));
}

/** Sorted dates `YYYY-MM-DD` → runs of consecutive days. */
function runsOf(dates: string[]): string[][] {
  const runs: string[][] = [];
  let prev = Number.NaN;
  for (const d of dates) {
    const t = Date.parse(`${d}T00:00:00Z`);
    if (t - prev === 86_400_000) runs[runs.length - 1]!.push(d);
    else runs.push([d]);
    prev = t;
  }
  return runs;
}

/** Between the coverage note and the rest of the line. */
const NOTE_SEP = " │ ";
const LIVE_SEP = " │ ";
const LIVE_COLOR = { ok: "green", warn: "yellow", error: "red" } as const;

function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms)} ms`;
}

export const StatusBar = memo(function StatusBar(props: StatusBarProps) {
  const activity = useActivity();
  const running = activity.running.length > 0;
  // 5 redraws a second: enough for the elapsed time, light on the CPU the query needs.
  const tick = useTicker(running, 200);
  // Live mode counts down to its next cycle: a redraw a second.
  const liveOn = !!props.live && props.live.phase !== "off";
  useTicker(liveOn && !running, 1000);
  const live = props.live ? liveText(props.live) : null;
  const fullWidth = Math.max(1, props.width);
  // The live segment keeps at least 24 columns for the rest of the line.
  const liveSeg = live ? truncate(live.text, Math.max(0, fullWidth - 24 - LIVE_SEP.length)) : "";
  const width = Math.max(1, fullWidth - (liveSeg ? displayWidth(liveSeg) + LIVE_SEP.length : 0));

  // The last failure, while nothing newer runs (a message of the App's takes precedence).
  const failure = !running && !props.state ? activity.failure : null;
  let right = "";
  if (running) {
    const job = activity.running[activity.running.length - 1]!;
    const secs = (performance.now() - job.started) / 1000;
    const more = activity.running.length > 1 ? ` +${activity.running.length - 1}` : "";
    right = `${spinnerFrame(tick, props.ascii)} ${job.label}${more} ${secs.toFixed(1)}s · esc to cancel`;
  } else if (failure) {
    right = "ctrl+r retries";
  } else if (activity.last) {
    right = `${activity.last.label} ${fmtMs(activity.last.ms)}`;
  }

  let rangeText = "";
  if (props.rangeLabel) rangeText = props.rangeLabel;
  else if (props.range) {
    const r = props.range;
    const zone = r.tz && r.tz !== "UTC" ? ` ${r.tz}` : "";
    const from = boundText(r.from);
    const to = boundText(r.to);
    rangeText = `${from === to ? from : `${from} → ${to}`}${zone}`;
  }

  // The coverage note comes first and goes last: the activity gives way to it on a narrow line.
  let note: string | null = null;
  if (isPartial(props.coverage)) {
    // Room beside the activity, less the range it is about (kept in sight when the line allows).
    const beside = width - (right ? displayWidth(right) + 2 : 0) - NOTE_SEP.length;
    const keep = rangeText && !props.state ? displayWidth(rangeText) : 0;
    note = coverageNote(props.coverage, Math.min(beside, Math.max(44, beside - keep)));
    // Only the short form fits beside the activity: the note is worth more than the timing.
    if (right && note !== null && !note.includes("partitions")) {
      right = "";
      note = coverageNote(props.coverage, width - NOTE_SEP.length);
    }
  }
  // A key none of the analysis's events has in range: the answer is real but likely not what was meant.
  if (props.warnings?.length) {
    const more = props.warnings.length > 1 ? ` (+${props.warnings.length - 1})` : "";
    const keyNote = `! ${cleanText(props.warnings[0]!)}${more}`;
    // A message of the moment (a step edit's note, "cancelled", …) keeps its room: it lasts 5 s,
    // the warning stays as long as the answer does.
    const keep = props.state ? Math.min(displayWidth(props.state) + 2, width - 12) : 24;
    const room = Math.max(
      12,
      width - (note ? displayWidth(note) + NOTE_SEP.length : 0) - NOTE_SEP.length - keep,
    );
    note = `${note ? `${note}${NOTE_SEP}` : ""}${truncate(keyNote, room)}`;
  }
  const lineW = Math.max(0, width - (note ? displayWidth(note) + NOTE_SEP.length : 0));

  // Facts with the order they give way in (the cache first; with a note, the range it is about last).
  const parts: { text: string; drop: number; short?: string[] }[] = [];
  const ro = props.readOnly ? " (read-only)" : "";
  if (props.state) parts.push({ text: props.state, drop: 0 });
  else if (failure) parts.push({ text: `${failure.label} failed: ${failure.message}`, drop: 0 });
  else {
    const where = props.where ?? basename(props.cachePath);
    parts.push({
      text: where + ro,
      drop: 0,
      short: props.whereShort?.filter((w) => w !== where).map((w) => w + ro),
    });
    if (rangeText) parts.push({ text: rangeText, drop: note ? 2 : 1 });
    if (props.events !== undefined)
      parts.push({ text: `${formatNumber(props.events)} events`, drop: note ? 1 : 2 });
    if (props.identity) parts.push({ text: props.identity === "merged" ? "persons" : "user ids", drop: 1 });
    if (props.sample !== undefined) parts.push({ text: `≈ ${sampleText(props.sample)} sample`, drop: 3 });
  }
  // Drop facts until everything fits beside the activity.
  const join = () => parts.map((p) => p.text).join(" │ ");
  let left = join();
  const room = () => lineW - (right ? displayWidth(right) + 2 : 0);
  while (parts.length > 1 && displayWidth(left) > room()) {
    const first = parts.reduce((a, p) => (p.drop < a.drop ? p : a));
    // A fact with shorter forms gives way to them first.
    if (first.short?.length) first.text = first.short.shift()!;
    else parts.splice(parts.indexOf(first), 1);
    left = join();
  }
  while (parts.length === 1 && parts[0]!.short?.length && displayWidth(left) > room()) {
    parts[0]!.text = parts[0]!.short.shift()!;
    left = join();
  }
  if (displayWidth(left) > room()) left = truncate(left, Math.max(0, room()));
  const gap = Math.max(right ? 2 : 0, lineW - displayWidth(left) - displayWidth(right));
  const line = truncate(`${left}${" ".repeat(gap)}${right}`, lineW);
  return (
    <Text wrap="truncate">
      {note ? (
        <Text color="yellow" bold>
          {`${note}${NOTE_SEP}`}
        </Text>
      ) : null}
      {liveSeg ? (
        <Text color={LIVE_COLOR[live!.tone]} bold>
          {`${liveSeg}${LIVE_SEP}`}
        </Text>
      ) : null}
      <Text
        inverse
        color={
          running ? "yellow" : failure || (props.state && props.stateTone === "error") ? "red" : undefined
        }
      >
        {line}
      </Text>
    </Text>
  );
});

/** A range bound as typed: a date, or a local date-time with a space for the `T`. */
function boundText(b: string): string {
  return b.replace("T", " ");
}
