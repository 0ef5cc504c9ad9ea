/**
 * Tab 4: cohort retention. Pick the start (`a`) and return (`r`) events, cycle the period (`p`: hour,
 * day, week, month, those giving 1–1,000 cohorts over the range), set
 * the number of periods (`n`), toggle on / on-or-after (`o`), filters (`f`, `F` clears). A shaded
 * cohort grid (incomplete cells marked `*`) with the average-retention chart beneath it.
 */
import { Box } from "ink";
import type { Dispatch, ReactNode, SetStateAction } from "react";
import { memo, useMemo, useState } from "react";
import { formatEventRef } from "../queries/parse.js";
import type { DateRange, Period, RetentionSpec } from "../queries/spec.js";
import { INCOMPLETE_MARK, lineChart, retentionGrid } from "../render/charts.js";
import { displayWidth, truncate } from "../render/sanitize.js";
import { PRIORITY, useKeys } from "./input.js";
import { fitInterval, nextInterval } from "./intervals.js";
import { matches } from "./keymap.js";
import { EventPicker, FilterPrompt, filtersLabel, NumberPrompt } from "./pickers.js";
import { DEFAULT_PERIODS, type RetentionModel, useAppEnv, useReportResult } from "./state.js";
import { useQuery } from "./useQuery.js";
import { clamp, HintLine, Line, RawLine } from "./widgets.js";

const PERIODS: readonly Period[] = ["hour", "day", "week", "month"];
const PREFIX: Record<Period, string> = { hour: "H", day: "D", week: "W", month: "M" };
/** Cohorts (one per period of the range) worth a grid: at least one, at most this many. */
const COHORTS = { min: 1, max: 1000 };
/** The most periods `n` accepts, per period (a week of hours, a year of days, …). */
export const MAX_PERIODS: Record<Period, number> = { hour: 168, day: 366, week: 104, month: 36 };

export function periodsOf(m: RetentionModel): number {
  return m.periods ?? DEFAULT_PERIODS[m.period];
}

/**
 * The model as the range allows: its period when that gives 1–1,000 cohorts, else the nearest that
 * does (with that period's default number of periods).
 */
export function fittedRetention(m: RetentionModel, range: DateRange | null): RetentionModel {
  const period = fitInterval(m.period, range, PERIODS, COHORTS);
  return period === m.period ? m : { ...m, period, periods: null };
}

/** The period after `period` among those the range allows, cycling. */
export function nextPeriod(period: Period, range: DateRange | null): Period {
  return nextInterval(period, range, PERIODS, COHORTS);
}

export function retentionSpec(model: RetentionModel, range: DateRange | null): RetentionSpec | null {
  if (!range || !model.start) return null;
  const m = fittedRetention(model, range);
  return {
    kind: "retention",
    start: model.start,
    return: m.ret,
    period: m.period,
    periods: periodsOf(m),
    mode: m.mode,
    range,
    filters: m.filters,
  };
}

const Lines = memo(function Lines({ lines }: { lines: string[] }) {
  return (
    <>
      {lines.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are positional
        <RawLine key={i} text={l} />
      ))}
    </>
  );
});

type Picker = null | "start" | "return" | "periods" | "filter";

export interface RetentionScreenProps {
  width: number;
  height: number;
  model: RetentionModel;
  setModel: Dispatch<SetStateAction<RetentionModel>>;
}

export function RetentionScreen({ width, height, model, setModel }: RetentionScreenProps) {
  const env = useAppEnv();
  const { range } = env;
  const [picker, setPicker] = useState<Picker>(null);
  const spec = useMemo(() => retentionSpec(model, range), [model, range]);
  // What the screen shows and edits: the model with the period fitted to the range.
  const fitted = useMemo(() => fittedRetention(model, range), [model, range]);
  const q = useQuery(spec);
  const update = (patch: Partial<RetentionModel>) => setModel((m) => ({ ...m, ...patch }));

  useReportResult("retention", "Retention", q);

  // Layout: settings line, grid (header + average + cohorts), chart, hints.
  const bodyH = Math.max(1, height - 2);
  const cohorts = q.data?.cohorts.length ?? 0;
  const chartH = bodyH >= 16 ? clamp(Math.floor(bodyH * 0.4), 5, 10) : 0;
  const gridRows = Math.max(1, bodyH - chartH - 2 - 1); // minus header, average, legend
  const maxTop = Math.max(0, cohorts - gridRows);
  const top = clamp(model.top, 0, maxTop);

  useKeys(
    (input, key) => {
      if (matches("retention.start", input, key)) setPicker("start");
      else if (matches("retention.return", input, key)) setPicker("return");
      else if (matches("retention.period", input, key))
        update({ period: nextPeriod(fitted.period, range), periods: null, top: 0 });
      else if (matches("retention.periods", input, key)) setPicker("periods");
      else if (matches("retention.mode", input, key))
        update({ mode: model.mode === "on" ? "on-or-after" : "on" });
      else if (matches("retention.filter", input, key)) setPicker("filter");
      else if (matches("retention.clearFilters", input, key)) update({ filters: [] });
      else if (matches("retention.up", input, key)) update({ top: clamp(top - 1, 0, maxTop) });
      else if (matches("retention.down", input, key)) update({ top: clamp(top + 1, 0, maxTop) });
      else return false;
      return true;
    },
    { priority: PRIORITY.screen, isActive: picker === null },
  );

  const grid = useMemo(
    () => (q.data ? retentionGrid(q.data, { width, color: env.color, ascii: env.ascii, tz: range?.tz }) : []),
    [q.data, width, env.color, env.ascii, range?.tz],
  );
  const chart = useMemo(() => {
    if (!q.data || chartH < 3) return [];
    const avg = q.data.average ?? [];
    let last = avg.length;
    while (last > 0 && (avg[last - 1] === null || avg[last - 1] === undefined)) last--;
    const values = avg.slice(0, last).map((v) => (v === null || v === undefined ? 0 : v * 100));
    if (values.length === 0) return ["no complete periods to average yet"];
    return lineChart([{ label: "average retention %", values }], {
      width,
      height: chartH,
      xLabels: values.map((_, i) => `${PREFIX[q.data!.period]}${i}`),
      color: env.color,
      ascii: env.ascii,
      yFormat: (v) => `${v.toFixed(0)}%`,
    });
  }, [q.data, chartH, width, env.color, env.ascii]);

  if (picker === "start" || picker === "return") {
    return (
      <EventPicker
        title={picker === "start" ? "Start event (defines the cohorts)" : "Return event (* = any event)"}
        catalog={env.catalog.data}
        range={range}
        width={width}
        height={height}
        allowAny={picker === "return"}
        withFilter
        onPick={(ref) => {
          update(picker === "start" ? { start: ref, top: 0 } : { ret: ref });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "periods") {
    return (
      <NumberPrompt
        title={`Number of ${fitted.period}s to follow`}
        current={periodsOf(fitted)}
        min={1}
        max={MAX_PERIODS[fitted.period]}
        width={width}
        onSubmit={(periods) => {
          update({ period: fitted.period, periods });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "filter") {
    return (
      <FilterPrompt
        title="Add a filter (applies to start and return events)"
        event={model.start?.event}
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

  const ret =
    model.ret.event === "*" && model.ret.filters.length === 0 ? "any event" : formatEventRef(model.ret);
  const settings = `start ${model.start ? formatEventRef(model.start) : "–"} · return ${ret} · ${periodsOf(fitted)} ${fitted.period}s · ${model.mode} · where ${filtersLabel(model.filters)}`;
  let state = "";
  let stateColor: string | undefined;
  if (q.status === "running") state = q.data ? " · updating…" : " · running…";
  else if (q.status === "error") {
    state = ` · error: ${q.error?.message ?? ""}`;
    stateColor = "red";
  } else if (q.status === "cancelled") {
    state = " · cancelled (ctrl+r reruns)";
    stateColor = "yellow";
  }

  let body: ReactNode;
  if (!model.start)
    body = (
      <Line text="Pick the start event with a (the return event defaults to any event)." width={width} />
    );
  else if (!q.data)
    body = <Line text={q.status === "running" ? "running the retention query…" : " "} width={width} dim />;
  else {
    const head = grid.slice(0, 2);
    const rows = grid.slice(2).slice(top, top + gridRows);
    const more = cohorts > gridRows ? ` · cohorts ${top + 1}-${top + rows.length} of ${cohorts} (↑↓)` : "";
    body = (
      <>
        <Lines lines={head} />
        <Lines lines={rows} />
        <Line text={`${INCOMPLETE_MARK} period not complete yet${more}`} width={width} dim />
        <Lines lines={chart} />
      </>
    );
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line
        text={`Retention · ${truncate(settings, Math.max(0, width - 12 - displayWidth(state)))}${state}`}
        width={width}
        color={stateColor}
      />
      <Box flexDirection="column" height={bodyH} overflow="hidden">
        {body}
      </Box>
      <HintLine
        ids={[
          "retention.start",
          "retention.return",
          "retention.period",
          "retention.periods",
          "retention.mode",
          "retention.filter",
        ]}
        width={width}
      />
    </Box>
  );
}
