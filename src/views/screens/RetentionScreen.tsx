/**
 * Tab 4: cohort retention. Pick the start (`a`) and return (`r`) events, cycle the period (`p`: hour,
 * day, week, month, those giving 1–1,000 cohorts over the range), set
 * the number of periods (`n`), toggle on / on-or-after (`o`), filters (`f`, `F` clears). A shaded
 * cohort grid (the current period's cells marked `*`, later ones blank) with the average-retention
 * chart beneath it. The arrows move a cell cursor; Enter lists the cell's retained users (`tab`: the
 * cohort's lost ones) and from a user their events (`DrillPanel`).
 */

import { Box, Text } from "ink";
import type { Dispatch, ReactNode, SetStateAction } from "react";
import { memo, useMemo, useState } from "react";
import { formatEventRef } from "../../queries/parse.js";
import type { DateRange, Period, RetentionResult, RetentionSpec } from "../../queries/spec.js";
import { INCOMPLETE_MARK, lineChart, retentionGrid } from "../../render/charts.js";
import { formatNumber, formatPercent, timeLabel } from "../../render/format.js";
import { est } from "../../render/sample.js";
import { cleanText, stripSgr } from "../../render/sanitize.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { useActions } from "../hooks/useActions.js";
import { queryState, useQuery } from "../hooks/useQuery.js";
import { matches } from "../keymap.js";
import { fitInterval, nextInterval } from "../state/intervals.js";
import {
  DEFAULT_PERIODS,
  type RetentionModel,
  useAppEnv,
  useReportResult,
  useReportSelection,
  useReportSettings,
} from "../state/state.js";
import { AddFilterPrompt, BreakdownPicker, EventPicker, NumberPrompt } from "../widgets/pickers.js";
import { SettingsLines, settingsLayout, settingTokens, stateRoom } from "../widgets/settings.js";
import { clamp, HintLine, Line, Lines, scrollTop } from "../widgets/widgets.js";
import { DrillPanel, type DrillTarget, flipRetention, retentionTarget } from "./DrillPanel.js";

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
    ...(m.cohort === "recurring" ? { cohort: "recurring" as const } : {}),
    ...(m.value !== undefined ? { value: m.value } : {}),
    ...(m.breakdown !== undefined ? { breakdown: m.breakdown } : {}),
  };
}

/**
 * The table the screen shows: the whole (`shown` 0) or the `shown`-th breakdown value's, with its name
 * (null for the whole); `shown` past the values wraps to the whole.
 */
export function shownTable(
  r: RetentionResult,
  shown: number | undefined,
): { table: RetentionResult; value: string | null; index: number } {
  const groups = r.breakdown ?? [];
  const i = shown && shown > 0 && shown <= groups.length ? shown : 0;
  if (i === 0) return { table: r, value: null, index: 0 };
  const g = groups[i - 1]!;
  return { table: { ...r, cohorts: g.cohorts, average: g.average as number[] }, value: g.value, index: i };
}

/** Columns of a period cell in the grid (`retentionGrid`'s default cell width). */
const CELL_W = 7;

/** Periods of a result (the longest cohort's, or the average's). */
export function periodCount(r: RetentionResult): number {
  return Math.max(r.average?.length ?? 0, ...r.cohorts.map((c) => c.retained.length), 0);
}

/** Periods the grid's header shows (`D0 D1 …`; later ones are cut when the width runs out). */
export function shownPeriods(header: string, prefix: string): number {
  return [...stripSgr(header).matchAll(new RegExp(`(?:^|\\s)${prefix}\\d+(?=\\s|$)`, "g"))].length;
}

/** Where period `col`'s cell lies on a grid line, from the header's label (`  D3 ` ends a cell). */
export function cellSpan(header: string, col: number, prefix: string): [number, number] | null {
  const m = new RegExp(`(^|\\s)${prefix}${col}(?=\\s|$)`).exec(stripSgr(header));
  if (!m) return null;
  const end = m.index + m[1]!.length + `${prefix}${col}`.length;
  const start = end - (CELL_W - 1);
  return start >= 0 ? [start, start + CELL_W] : null;
}

/** A grid row with one cell shown inverse (the row drawn without its shading, so the cell stands out). */
const CursorRow = memo(function CursorRow({ line, span }: { line: string; span: [number, number] | null }) {
  const plain = stripSgr(line);
  if (!span) return <Text wrap="truncate">{plain || " "}</Text>;
  return (
    <Text wrap="truncate">
      {plain.slice(0, span[0])}
      <Text inverse bold>
        {plain.slice(span[0], span[1])}
      </Text>
      {plain.slice(span[1])}
    </Text>
  );
});

/** `06-03 D2: 45 of 120 retained (37.5%)`: the selected cell, for the line under the grid. */
export function cellText(result: RetentionResult, row: number, col: number, tz: string | undefined): string {
  const c = result.cohorts[row];
  if (!c) return "";
  const label = cleanText(timeLabel(c.cohort, result.period, { tz }));
  const p = PREFIX[result.period];
  if (!(c.users > 0) || col >= c.retained.length) return `${label} ${p}${col}: no users`;
  // A blank cell: the period begins after the last event, so its 0 is not data.
  if (c.incomplete_from !== null && col > c.incomplete_from) return `${label} ${p}${col}: not begun yet`;
  const n = c.retained[col] ?? 0;
  // A sampled count is an estimate: `≈45` (docs/semantics.md, "Sampling").
  const num = (v: number) => est(result, formatNumber(v));
  const value = c.value ? ` · value Σ ${num(c.value[col] ?? 0)}` : "";
  return `${label} ${p}${col}: ${num(n)} of ${num(c.users)} retained (${formatPercent(n / c.users)})${value}`;
}

/** `breakdown plan: pro (2 of 4) · v: next`, the line above a broken-down grid; "" without one. */
export function breakdownLabel(
  key: string | undefined,
  view: { value: string | null; index: number } | null,
  r: RetentionResult | undefined,
): string {
  if (key === undefined) return "";
  const n = r?.breakdown?.length ?? 0;
  const which =
    view?.value != null ? `${cleanText(view.value)} (${view.index} of ${n})` : `whole (${n} values)`;
  // A result without a breakdown is the one before `b` (still on screen while the new one runs).
  return `breakdown ${cleanText(key)}: ${r?.breakdown ? which : "…"} · v: next`;
}

type Picker = null | "start" | "return" | "periods" | "filter" | "value" | "breakdown";

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
  const [drill, setDrill] = useState<{
    target: DrillTarget;
    flip: (t: DrillTarget) => DrillTarget | string;
  } | null>(null);
  const spec = useMemo(() => retentionSpec(model, range), [model, range]);
  // What the screen shows and edits: the model with the period fitted to the range.
  const fitted = useMemo(() => fittedRetention(model, range), [model, range]);
  const q = useQuery(spec);
  const update = (patch: Partial<RetentionModel>) => setModel((m) => ({ ...m, ...patch }));

  useReportResult("retention", "Retention", q);
  // The table on screen: the whole, or one breakdown value's (`v` cycles).
  const view = useMemo(() => (q.data ? shownTable(q.data, model.shown) : null), [q.data, model.shown]);
  const data = view?.table;

  const { state, stateColor } = queryState(q);
  // The settings wrap onto a second line when they do not fit (then `+N more`; `?` shows them all).
  const ret =
    model.ret.event === "*" && model.ret.filters.length === 0 ? "any event" : formatEventRef(model.ret);
  const settings = settingsLayout(
    "Retention · ",
    settingTokens(
      `start ${model.start ? formatEventRef(model.start) : "–"}`,
      `return ${ret}`,
      `${periodsOf(fitted)} ${fitted.period}s`,
      model.mode,
      `cohorts ${model.cohort ?? "first"}`,
      model.value !== undefined && `value ${model.value}`,
      model.breakdown !== undefined && `breakdown ${model.breakdown}`,
      model.filters,
    ),
    width,
    stateRoom(state, stateColor),
  );
  useReportSettings("retention", settings.cut ? settings.full : "");

  // Layout: settings line(s), grid (header + average + cohorts), chart, hints.
  const bodyH = Math.max(1, height - 1 - settings.lines.length);
  const cohorts = data?.cohorts.length ?? 0;
  const chartH = bodyH >= 16 ? clamp(Math.floor(bodyH * 0.4), 5, 10) : 0;
  const byLine = breakdownLabel(model.breakdown, view, q.data);
  // minus header, average, legend (and the breakdown line)
  const gridRows = Math.max(1, bodyH - chartH - 2 - 1 - (byLine ? 1 : 0));
  const row = clamp(model.row, 0, Math.max(0, cohorts - 1));
  const top = scrollTop(model.top, row, gridRows, cohorts);

  const gridOpts = useMemo(
    () => ({ width, color: env.color, ascii: env.ascii, tz: range?.tz }),
    [width, env.color, env.ascii, range?.tz],
  );
  // The grid from period 0: how many periods fit beside the cohort column.
  const grid0 = useMemo(() => (data ? retentionGrid(data, gridOpts) : []), [data, gridOpts]);
  const prefix = PREFIX[data?.period ?? fitted.period];
  const periods = data ? periodCount(data) : 0;
  const fit = Math.max(1, grid0.length ? shownPeriods(grid0[0]!, prefix) : 0);
  const col = clamp(model.col, 0, Math.max(0, periods - 1));
  // Periods past the width scroll in as the cursor reaches them (the cohort column stays).
  const left = scrollTop(model.left ?? 0, col, fit, periods);
  const grid = useMemo(
    () => (left === 0 || !data ? grid0 : retentionGrid(data, { ...gridOpts, from: left })),
    [grid0, data, left, gridOpts],
  );
  const moveRow = (d: number) => {
    const next = clamp(row + d, 0, Math.max(0, cohorts - 1));
    update({ row: next, top: scrollTop(top, next, gridRows, cohorts) });
  };
  const moveCol = (d: number) => {
    const next = clamp(col + d, 0, Math.max(0, periods - 1));
    // Inside the shown periods the cursor moves and the columns stay (one row and the cell line
    // change: a few hundred bytes over SSH). Past an edge the periods move by a page, the cursor's
    // period becoming the first (→) or last (←) shown: a shift redraws every cohort row, so as few
    // shifts as can be.
    const inView = next >= left && next < left + fit;
    const page = clamp(d > 0 ? next : next - fit + 1, 0, Math.max(0, periods - fit));
    update({
      col: next,
      left: inView ? left : Math.abs(d) === 1 ? page : scrollTop(left, next, fit, periods),
    });
  };

  useKeys(
    (input, key) => {
      if (matches("retention.start", input, key)) setPicker("start");
      else if (matches("retention.return", input, key)) setPicker("return");
      else if (matches("retention.period", input, key))
        update({ period: nextPeriod(fitted.period, range), periods: null, top: 0 });
      else if (matches("retention.periods", input, key)) setPicker("periods");
      else if (matches("retention.mode", input, key))
        update({ mode: model.mode === "on" ? "on-or-after" : "on" });
      else if (matches("retention.cohort", input, key))
        update({ cohort: model.cohort === "recurring" ? "first" : "recurring" });
      else if (matches("retention.value", input, key)) {
        if (model.start) setPicker("value");
      } else if (matches("retention.breakdown", input, key)) {
        if (model.start) setPicker("breakdown");
      } else if (matches("retention.nextValue", input, key)) {
        const n = q.data?.breakdown?.length ?? 0;
        if (!n)
          env.notify("no breakdown: press b to break the cohorts down by a property of the START event");
        else update({ shown: ((view?.index ?? 0) + 1) % (n + 1), top: 0 });
      } else if (matches("retention.filter", input, key)) setPicker("filter");
      else if (matches("retention.clearFilters", input, key)) update({ filters: [] });
      else if (matches("retention.up", input, key)) moveRow(-1);
      else if (matches("retention.down", input, key)) moveRow(1);
      else if (matches("retention.left", input, key)) moveCol(-1);
      else if (matches("retention.right", input, key)) moveCol(1);
      else if (matches("retention.firstPeriod", input, key)) moveCol(-periods);
      else if (matches("retention.lastPeriod", input, key)) moveCol(periods);
      else if (matches("retention.users", input, key)) {
        const shown = q.spec?.kind === "retention" ? q.spec : null;
        const c = q.data?.cohorts[row];
        if (!shown || !q.data || !c)
          env.notify("no result yet: Enter lists a cell's users once the grid is in");
        else if (view?.value != null)
          env.notify("Enter lists the whole table's users: press v until the whole table is shown");
        else {
          const label = cleanText(timeLabel(c.cohort, q.data.period, { tz: shown.range.tz }));
          const p = PREFIX[q.data.period];
          setDrill({
            target: retentionTarget(shown, c.cohort, label, col, p, false),
            flip: flipRetention(shown, label, p),
          });
        }
      } else return false;
      return true;
    },
    { priority: PRIORITY.screen, isActive: picker === null && drill === null },
  );
  // For the command palette: what these keys would do nothing for now.
  useActions(
    "retention",
    [
      !model.start && "retention.value",
      !model.start && "retention.breakdown",
      !q.data?.breakdown?.length && "retention.nextValue",
      !model.filters.length && "retention.clearFilters",
      !(q.spec?.kind === "retention" && q.data?.cohorts[row] && view?.value == null) && "retention.users",
    ],
    picker === null && drill === null,
  );

  // `z`: the selected cell's line whole (the line under the grid is cut at the width).
  useReportSelection("retention", data ? cellText(data, row, col, range?.tz) : "");

  const chart = useMemo(() => {
    if (!data || chartH < 3) return [];
    const avg = data.average ?? [];
    let last = avg.length;
    while (last > 0 && (avg[last - 1] === null || avg[last - 1] === undefined)) last--;
    const values = avg.slice(0, last).map((v) => (v === null || v === undefined ? 0 : v * 100));
    if (values.length === 0) return ["no complete periods to average yet"];
    return lineChart([{ label: "average retention %", values }], {
      width,
      height: chartH,
      xLabels: values.map((_, i) => `${PREFIX[data.period]}${i}`),
      color: env.color,
      ascii: env.ascii,
      yFormat: (v) => `${v.toFixed(0)}%`,
    });
  }, [data, chartH, width, env.color, env.ascii]);

  if (drill) {
    return (
      <DrillPanel
        width={width}
        height={height}
        target={drill.target}
        flip={drill.flip}
        onClose={() => setDrill(null)}
      />
    );
  }
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
  if (picker === "value") {
    const event = model.ret.event === "*" ? model.start?.event : model.ret.event;
    return (
      <BreakdownPicker
        event={event}
        range={range}
        current={model.value}
        width={width}
        height={height}
        title="Sum per cell over the RETURN events (value)"
        noneHint="no value"
        onPick={(value) => {
          update({ value });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "breakdown") {
    return (
      <BreakdownPicker
        event={model.start?.event}
        range={range}
        current={model.breakdown}
        width={width}
        height={height}
        title="Break the cohorts down by a property of the START event"
        onPick={(breakdown) => {
          update({ breakdown, shown: 0, top: 0 });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "filter") {
    return (
      <AddFilterPrompt
        title="Add a filter (applies to start and return events)"
        event={model.start?.event}
        range={range}
        width={width}
        onAdd={(f) => update({ filters: [...model.filters, f] })}
        onDone={() => setPicker(null)}
      />
    );
  }

  let body: ReactNode;
  if (!model.start)
    body = (
      <Line text="Pick the start event with a (the return event defaults to any event)." width={width} />
    );
  else if (!data)
    body = <Line text={q.status === "running" ? "running the retention query…" : " "} width={width} dim />;
  else {
    const head = grid.slice(0, 2);
    const rows = grid.slice(2).slice(top, top + gridRows);
    const more = cohorts > gridRows ? ` · cohorts ${top + 1}-${top + rows.length} of ${cohorts} (↑↓)` : "";
    const across =
      periods > fit
        ? `${prefix}${left}-${prefix}${Math.min(periods, left + fit) - 1} of ${periods} (←→) · `
        : "";
    const at = row - top;
    const cell = cellText(data, row, col, range?.tz);
    const span = cellSpan(grid[0]!, col, prefix);
    body = (
      <>
        {byLine ? <Line text={byLine} width={width} color="cyan" /> : null}
        <Lines lines={head} />
        <Lines lines={rows.slice(0, Math.max(0, at))} />
        {at >= 0 && at < rows.length ? <CursorRow line={rows[at]!} span={span} /> : null}
        <Lines lines={rows.slice(at + 1)} />
        <Line
          text={`${cell ? `${cell} · ` : ""}${across}${INCOMPLETE_MARK} period not complete yet${more}`}
          width={width}
          dim
        />
        <Lines lines={chart} />
      </>
    );
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      <SettingsLines layout={settings} state={state} stateColor={stateColor} width={width} />
      <Box flexDirection="column" height={bodyH} overflow="hidden">
        {body}
      </Box>
      <HintLine
        ids={[
          "retention.users",
          "retention.start",
          "retention.return",
          "retention.period",
          "retention.periods",
          "retention.mode",
          "retention.cohort",
          "retention.value",
          "retention.breakdown",
          "retention.nextValue",
          "retention.filter",
        ]}
        width={width}
      />
    </Box>
  );
}
