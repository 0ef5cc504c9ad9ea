/**
 * Tab 7: lifecycle and stickiness of one event. `a` picks the event, `v` switches between the
 * lifecycle chart (new / returning / resurrecting up, dormant down, per bucket) and the stickiness
 * histogram (users per number of active buckets), `i` cycles the view's interval, `f`/`F` filters.
 * Both drawings are the headless ones (`src/render/insights.ts`). On the chart, ←/→ (h/l) move a
 * cursor over the buckets and a line under it shows that bucket's four values; a histogram taller
 * than the screen scrolls with ↑/↓ (k/j) and pgup/pgdn, its position in the hint line.
 */
import { Box } from "ink";
import type { Dispatch, ReactNode, SetStateAction } from "react";
import { useMemo, useState } from "react";
import { formatEventRef } from "../../queries/parse.js";
import {
  type DateRange,
  LIFECYCLE_INTERVALS,
  type LifecycleResult,
  type LifecycleSpec,
  STICKINESS_INTERVALS,
  type StickinessResult,
  type StickinessSpec,
} from "../../queries/spec.js";
import {
  lifecycleChart,
  lifecyclePointText,
  stickinessBars,
  stickinessSummary,
} from "../../render/insights.js";
import { incompleteBucketsText } from "../../render/partial.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { useActions } from "../hooks/useActions.js";
import { queryState, useQuery } from "../hooks/useQuery.js";
import { matches } from "../keymap.js";
import { fitInterval, nextInterval } from "../state/intervals.js";
import { type LifecycleModel, useAppEnv, useReportResult, useReportSettings } from "../state/state.js";
import { AddFilterPrompt, EventPicker } from "../widgets/pickers.js";
import { SettingsLines, settingsLayout, settingTokens, stateRoom } from "../widgets/settings.js";
import { clamp, HintLine, Line, RawLine } from "../widgets/widgets.js";

/** Buckets a chart of the view can show: at least one, at most what fits a terminal. */
const BUCKETS = { min: 1, max: 1000 };

export function lifecycleTabSpec(
  m: LifecycleModel,
  range: DateRange | null,
): LifecycleSpec | StickinessSpec | null {
  if (!range || !m.event) return null;
  if (m.view === "lifecycle") {
    const interval = fitInterval(m.lifecycleInterval, range, LIFECYCLE_INTERVALS, BUCKETS);
    return { kind: "lifecycle", event: m.event, interval, range, filters: m.filters };
  }
  const interval = fitInterval(m.stickinessInterval, range, STICKINESS_INTERVALS, BUCKETS);
  return { kind: "stickiness", event: m.event, interval, range, filters: m.filters };
}

type Picker = null | "event" | "filter";

/** The cursor's bucket: its index in the points (the last one when `t` is not among them); -1: none. */
export function lifecycleCursorIndex(r: LifecycleResult, t: string | null): number {
  if (r.points.length === 0) return -1;
  const i = t === null ? -1 : r.points.findIndex((p) => p.t === t);
  return i >= 0 ? i : r.points.length - 1;
}

export interface LifecycleScreenProps {
  width: number;
  height: number;
  model: LifecycleModel;
  setModel: Dispatch<SetStateAction<LifecycleModel>>;
}

export function LifecycleScreen({ width, height, model, setModel }: LifecycleScreenProps) {
  const env = useAppEnv();
  const { range } = env;
  const [picker, setPicker] = useState<Picker>(null);
  const spec = useMemo(() => lifecycleTabSpec(model, range), [model, range]);
  const q = useQuery(spec);
  useReportResult("lifecycle", model.view === "lifecycle" ? "Lifecycle" : "Stickiness", q);
  const update = (patch: Partial<LifecycleModel>) => setModel((m) => ({ ...m, ...patch }));
  const { state, stateColor } = queryState(q);
  // The settings wrap onto a second line when they do not fit (then `+N more`; `?` shows them all).
  const shownInterval =
    spec && (spec.kind === "lifecycle" || spec.kind === "stickiness")
      ? spec.interval
      : model.view === "lifecycle"
        ? model.lifecycleInterval
        : model.stickinessInterval;
  const settings = settingsLayout(
    `${model.view === "lifecycle" ? "Lifecycle" : "Stickiness"} · `,
    settingTokens(
      `${model.view} of ${model.event ? formatEventRef(model.event) : "–"}`,
      `per ${shownInterval}`,
      model.filters,
    ),
    width,
    stateRoom(state, stateColor),
  );
  useReportSettings("lifecycle", settings.cut ? settings.full : "");
  const bodyH = Math.max(1, height - 1 - settings.lines.length);
  const life = q.spec?.kind === "lifecycle" && q.data ? (q.data as LifecycleResult) : null;
  const stick = q.spec?.kind === "stickiness" && q.data ? (q.data as StickinessResult) : null;
  const cursorAt = life && model.cursor !== null ? lifecycleCursorIndex(life, model.cursor) : -1;
  // Stickiness: the summary stays on top, the bars below it scroll.
  const barsH = Math.max(1, bodyH - 1);
  const maxScroll = stick ? Math.max(0, stick.histogram.length - barsH) : 0;
  const scroll = clamp(model.scroll, 0, maxScroll);

  useKeys(
    (input, key) => {
      if (matches("lifecycle.event", input, key)) setPicker("event");
      else if (matches("lifecycle.view", input, key))
        update({ view: model.view === "lifecycle" ? "stickiness" : "lifecycle" });
      else if (matches("lifecycle.interval", input, key)) {
        if (model.view === "lifecycle")
          update({
            lifecycleInterval: nextInterval(model.lifecycleInterval, range, LIFECYCLE_INTERVALS, BUCKETS),
          });
        else
          update({
            stickinessInterval: nextInterval(model.stickinessInterval, range, STICKINESS_INTERVALS, BUCKETS),
            scroll: 0,
          });
      } else if (matches("lifecycle.filter", input, key)) setPicker("filter");
      else if (
        life &&
        (matches("lifecycle.cursorLeft", input, key) || matches("lifecycle.cursorRight", input, key))
      ) {
        // The first press shows the cursor on the newest bucket; then it moves.
        const i = lifecycleCursorIndex(life, model.cursor);
        const d = matches("lifecycle.cursorLeft", input, key) ? -1 : 1;
        const next = model.cursor === null ? i : clamp(i + d, 0, life.points.length - 1);
        if (next >= 0) update({ cursor: life.points[next]!.t });
      } else if (stick && matches("lifecycle.up", input, key))
        update({ scroll: clamp(scroll - 1, 0, maxScroll) });
      else if (stick && matches("lifecycle.down", input, key))
        update({ scroll: clamp(scroll + 1, 0, maxScroll) });
      else if (stick && matches("lifecycle.pageUp", input, key))
        update({ scroll: clamp(scroll - barsH, 0, maxScroll) });
      else if (stick && matches("lifecycle.pageDown", input, key))
        update({ scroll: clamp(scroll + barsH, 0, maxScroll) });
      else if (matches("lifecycle.clearFilters", input, key)) update({ filters: [] });
      else return false;
      return true;
    },
    { priority: PRIORITY.screen, isActive: picker === null },
  );
  // For the command palette: what these keys would do nothing for now.
  useActions("lifecycle", [!model.filters.length && "lifecycle.clearFilters"], picker === null);

  const tz = q.spec?.kind === "lifecycle" || q.spec?.kind === "stickiness" ? q.spec.range.tz : "UTC";
  const lines = useMemo(() => {
    if (life) {
      // Buckets the cache holds only in part get a line under the chart (docs/semantics.md, "Partial data").
      const partial = incompleteBucketsText(life.points, life.interval, tz);
      // With the cursor: a marker row under the bars and the values line at the bottom.
      const extra = (partial ? 1 : 0) + (cursorAt >= 0 ? 2 : 0);
      const chart = lifecycleChart(life, {
        width,
        height: Math.max(4, bodyH - 3 - extra),
        color: env.color,
        ascii: env.ascii,
        tz,
        ...(cursorAt >= 0 ? { cursor: cursorAt } : {}),
      });
      return partial ? [...chart, partial] : chart;
    }
    if (stick) return stickinessBars(stick, { width, color: env.color, ascii: env.ascii });
    return [];
  }, [life, stick, tz, width, bodyH, env.color, env.ascii, cursorAt]);

  if (picker === "event") {
    return (
      <EventPicker
        title={`Event (${model.view})`}
        catalog={env.catalog.data}
        range={range}
        width={width}
        height={height}
        allowAny
        withFilter
        onPick={(ref) => {
          update({ event: ref });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "filter") {
    return (
      <AddFilterPrompt
        title="Add a filter"
        event={model.event?.event}
        range={range}
        width={width}
        onAdd={(f) => update({ filters: [...model.filters, f] })}
        onDone={() => setPicker(null)}
      />
    );
  }

  let body: ReactNode;
  if (!model.event) body = <Line text="Pick the event with a." width={width} />;
  else if (!q.data)
    body = <Line text={q.status === "running" ? "running the query…" : " "} width={width} dim />;
  else if (stick)
    body = (
      <>
        <Line text={stickinessSummary(stick)} width={width} />
        {lines.slice(scroll, scroll + barsH).map((l, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
          <RawLine key={scroll + i} text={l} />
        ))}
      </>
    );
  else
    body = (
      <>
        {lines.slice(0, bodyH - (cursorAt >= 0 ? 1 : 0)).map((l, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
          <RawLine key={i} text={l} />
        ))}
        {life && cursorAt >= 0 ? (
          <Line text={lifecyclePointText(life, cursorAt, tz, width)} width={width} color="cyan" />
        ) : null}
      </>
    );
  const position =
    stick && lines.length > barsH
      ? `↑↓ ${scroll + 1}-${Math.min(lines.length, scroll + barsH)} of ${lines.length}`
      : undefined;

  return (
    <Box flexDirection="column" width={width} height={height}>
      <SettingsLines layout={settings} state={state} stateColor={stateColor} width={width} />
      <Box flexDirection="column" height={bodyH} overflow="hidden">
        {body}
      </Box>
      <HintLine
        ids={[
          "lifecycle.event",
          "lifecycle.view",
          "lifecycle.interval",
          "lifecycle.filter",
          "lifecycle.clearFilters",
        ]}
        width={width}
        extra={position ?? (life ? "←→ values" : undefined)}
      />
    </Box>
  );
}
