/**
 * Tab 7: lifecycle and stickiness of one event. `a` picks the event, `v` switches between the
 * lifecycle chart (new / returning / resurrecting up, dormant down, per bucket) and the stickiness
 * histogram (users per number of active buckets), `i` cycles the view's interval, `f`/`F` filters.
 * Both drawings are the headless ones (`src/render/insights.ts`).
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
import { lifecycleChart, stickinessBars, stickinessSummary } from "../../render/insights.js";
import { incompleteBucketsText } from "../../render/partial.js";
import { cleanText, displayWidth, truncate } from "../../render/sanitize.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { useActions } from "../hooks/useActions.js";
import { queryState, useQuery } from "../hooks/useQuery.js";
import { matches } from "../keymap.js";
import { fitInterval, nextInterval } from "../state/intervals.js";
import { type LifecycleModel, useAppEnv, useReportResult } from "../state/state.js";
import { EventPicker, FilterPrompt, filtersLabel } from "../widgets/pickers.js";
import { HintLine, Line, RawLine } from "../widgets/widgets.js";

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
  const bodyH = Math.max(1, height - 2);

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
          });
      } else if (matches("lifecycle.filter", input, key)) setPicker("filter");
      else if (matches("lifecycle.clearFilters", input, key)) update({ filters: [] });
      else return false;
      return true;
    },
    { priority: PRIORITY.screen, isActive: picker === null },
  );
  // For the command palette: what these keys would do nothing for now.
  useActions("lifecycle", [!model.filters.length && "lifecycle.clearFilters"], picker === null);

  const lines = useMemo(() => {
    if (!q.data || !q.spec) return [];
    if (q.spec.kind === "lifecycle") {
      const r = q.data as LifecycleResult;
      // Buckets the cache holds only in part get a line under the chart (docs/semantics.md, "Partial data").
      const partial = incompleteBucketsText(r.points, r.interval, q.spec.range.tz);
      const chart = lifecycleChart(r, {
        width,
        height: Math.max(4, bodyH - 3 - (partial ? 1 : 0)),
        color: env.color,
        ascii: env.ascii,
        tz: q.spec.range.tz,
      });
      return partial ? [...chart, partial] : chart;
    }
    if (q.spec.kind === "stickiness") {
      const r = q.data as StickinessResult;
      return [stickinessSummary(r), ...stickinessBars(r, { width, color: env.color, ascii: env.ascii })];
    }
    return [];
  }, [q.data, q.spec, width, bodyH, env.color, env.ascii]);

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
      <FilterPrompt
        title="Add a filter"
        event={model.event?.event}
        range={range}
        width={width}
        onSubmit={(f) => {
          if (f) update({ filters: [...model.filters, f] });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }

  const interval = spec && (spec.kind === "lifecycle" || spec.kind === "stickiness") ? spec.interval : "";
  const settings = `${model.view} of ${model.event ? formatEventRef(model.event) : "–"} · per ${interval || (model.view === "lifecycle" ? model.lifecycleInterval : model.stickinessInterval)} · where ${filtersLabel(model.filters)}`;
  const { state, stateColor } = queryState(q);

  let body: ReactNode;
  if (!model.event) body = <Line text="Pick the event with a." width={width} />;
  else if (!q.data)
    body = <Line text={q.status === "running" ? "running the query…" : " "} width={width} dim />;
  else
    body = lines.slice(0, bodyH).map((l, i) => (
      // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
      <RawLine key={i} text={l} />
    ));

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line
        text={`${model.view === "lifecycle" ? "Lifecycle" : "Stickiness"} · ${truncate(cleanText(settings), Math.max(0, width - 14 - displayWidth(state)))}${state}`}
        width={width}
        color={stateColor}
      />
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
      />
    </Box>
  );
}
