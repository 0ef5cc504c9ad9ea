/**
 * The annotation overlays of the charts that draw them (Trends, the Funnel's conversion over time):
 * `r` picks the key whose values are marked where they first appear, `n` lists every marker in full.
 */
import type { DateRange } from "../../queries/spec.js";
import type { PlacedMarker } from "../../render/annotations.js";
import { timeText } from "../../render/format.js";
import { cleanText } from "../../render/sanitize.js";
import { type BindingId, matches } from "../keymap.js";
import { TextPanel } from "./overlays.js";
import { BreakdownPicker } from "./pickers.js";

/** The full list behind `n`: one entry per marker, its local time, where it comes from, its text. */
export function annotationsText(markers: PlacedMarker[], tz: string): string {
  if (!markers.length)
    return 'No annotations in the range.\n\nevx annotate "deploy 1.42" --at 2023-06-01T14:05 adds a note; r marks where a property\'s values first appear.';
  return markers
    .map(
      (m) =>
        `${m.mark} ${timeText(m.annotation.at, tz)} · ${m.annotation.source === "note" ? `note ${m.annotation.id ?? ""}`.trim() : "first seen"} · ${cleanText(m.annotation.text)}`,
    )
    .join("\n");
}

/** `r`: the property keys of `events` (the key marks every event's values, whatever lists it). */
export function MarkKeyPicker(props: {
  events: string[];
  range: DateRange | null;
  current: string | undefined;
  width: number;
  height: number;
  /** After the title's `(any event…`: where the marks are drawn, when not on every chart. */
  where?: string;
  onPick: (key: string | undefined) => void;
  onCancel: () => void;
}) {
  return (
    <BreakdownPicker
      event={props.events[0]}
      events={props.events.length > 1 ? props.events : undefined}
      range={props.range}
      current={props.current}
      width={props.width}
      height={props.height}
      title={`Mark where each value of a key first appears (any event${props.where ? `; ${props.where}` : ""})`}
      noneHint="no property marks"
      onPick={props.onPick}
      onCancel={props.onCancel}
    />
  );
}

/** `n`: every marker of the chart, in a panel that scrolls; `n` again (or esc) closes it. */
export function AnnotationsPanel(props: {
  markers: PlacedMarker[];
  tz: string;
  width: number;
  height: number;
  closeId: BindingId;
  onClose: () => void;
}) {
  return (
    <TextPanel
      title={`Annotations (${props.markers.length})`}
      text={annotationsText(props.markers, props.tz)}
      width={props.width}
      height={props.height}
      closeKeys={(input, key) => matches(props.closeId, input, key)}
      onClose={props.onClose}
    />
  );
}
