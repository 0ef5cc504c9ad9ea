/**
 * Tab 2: trends. Pick events (`a`/`x`, up/down selects), cycle the measure (`m`), the interval (`i`,
 * only those giving 2–2,000 points over the range) and a compare period (`c`: previous, 1d, 1w, off;
 * drawn dimmed under each series, Δ% in the legend), break down by a property (`b`), add filters
 * (`f`, `F` clears) and flip between the line chart and a table of the same numbers (`t`). ←/→ move
 * a cursor along the x axis that shows each series' value at that point; `u` lists the users of its
 * bucket, and from a user their events (`DrillPanel`). `=` sets a formula over the series (letters
 * A, B, … in the chips' order, e.g. `A/B*100`): the chart, the table and the cursor line then show the
 * formula, its legend its text; an empty formula clears it.
 */

import { Box, Text } from "ink";
import type { Dispatch, ReactNode, SetStateAction } from "react";
import { memo, useEffect, useMemo, useState } from "react";
import { parseFormula, seriesLetter } from "../../queries/formula.js";
import { formatEventRef, formatMeasure } from "../../queries/parse.js";
import type { DateRange, Measure, PropsResult, TrendResult, TrendSpec } from "../../queries/spec.js";
import { resolvedRange } from "../../queries/time.js";
import { annotationLegend, mergeNotes, placeMarkers } from "../../render/annotations.js";
import { type LineSeries, lineChart } from "../../render/charts.js";
import { changeText, offsetText } from "../../render/compare.js";
import { bucketText, formatCompact, formatNumber, timeLabels } from "../../render/format.js";
import { compareNote, markedValue } from "../../render/partial.js";
import { trendEst } from "../../render/sample.js";
import { cleanText, displayWidth, padEnd, padStart, stripSgr, truncate } from "../../render/sanitize.js";
import { formulaView, seriesLabel } from "../../render/series.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { useActions } from "../hooks/useActions.js";
import { queryState, useQuery } from "../hooks/useQuery.js";
import { matches } from "../keymap.js";
import { notesOrNone } from "../state/annotations.js";
import { compareState, fitInterval, nextCompare, nextInterval } from "../state/intervals.js";
import { type TrendsModel, useAppEnv, useReportResult, useReportSettings } from "../state/state.js";
import { AnnotationsPanel, MarkKeyPicker } from "../widgets/annotations.js";
import { AddFilterPrompt, BreakdownPicker, EventPicker, propsSpec } from "../widgets/pickers.js";
import { SettingsLines, settingsLayout, settingTokens, stateRoom } from "../widgets/settings.js";
import { clamp, HintLine, Line, RawLine, TextPrompt } from "../widgets/widgets.js";
import { DrillPanel, type DrillTarget, drillOf } from "./DrillPanel.js";

export function trendSpec(m: TrendsModel, range: DateRange | null): TrendSpec | null {
  if (!range || m.events.length === 0) return null;
  return {
    kind: "trend",
    events: m.events,
    measure: m.measure,
    // The interval asked for when it fits the range, else the nearest that does.
    interval: fitInterval(m.interval, range),
    range,
    filters: m.filters,
    ...(m.breakdown !== undefined ? { breakdown: m.breakdown } : {}),
    limit: 10,
    ...(m.compare ? { compare: m.compare } : {}),
    ...(m.formula !== undefined && formulaFits(m.formula, m.events.length) ? { formula: m.formula } : {}),
    ...(m.annotationsFrom !== undefined ? { annotationsFrom: m.annotationsFrom } : {}),
  };
}

/** Whether a formula reads only the series there are (after removing an event it may not). */
export function formulaFits(formula: string, series: number): boolean {
  try {
    parseFormula(formula, series);
    return true;
  } catch {
    return false;
  }
}

/** Measures offered by `m`: counts, then sum/avg/p95 of each numeric property of the event. */
export function measureCycle(props: PropsResult | undefined): Measure[] {
  const list: Measure[] = [{ kind: "events" }, { kind: "users" }, { kind: "per-user" }];
  for (const p of props?.props ?? []) {
    if (p.type !== "number") continue;
    list.push(
      { kind: "sum", key: p.key },
      { kind: "avg", key: p.key },
      { kind: "stat", stat: "p95", key: p.key },
    );
  }
  return list;
}

export function nextMeasure(current: Measure, props: PropsResult | undefined): Measure {
  const list = measureCycle(props);
  const i = list.findIndex((m) => formatMeasure(m) === formatMeasure(current));
  return list[(i + 1) % list.length]!;
}

export { seriesLabel };

/**
 * The chart's series: one per result series, and with compare one dimmed compare series per series
 * (in its colour, labelled with the offset), the change of the total in the series' legend entry.
 */
export function trendLines(result: TrendResult): LineSeries[] {
  const out: LineSeries[] = result.series.map((s) => ({
    label: s.compare ? `${seriesLabel(s, result)} ${changeText(s.compare.change)}` : seriesLabel(s, result),
    values: s.points.map((p) => p.value),
    incomplete: s.points.map((p) => p.incomplete === true),
  }));
  result.series.forEach((s, i) => {
    // Nothing of the compare period cached: no dimmed line (its zeros would read as data).
    if (s.compare && s.compare.cached !== "none")
      out.push({
        label: `${seriesLabel(s, result)} (${offsetText(s.compare.offset_seconds)})`,
        values: s.compare.points.map((p) => p.value),
        incomplete: s.compare.points.map((p) => p.incomplete === true),
        dim: true,
        colorIndex: i,
      });
  });
  return out;
}

/**
 * Table lines: a bucket column and one column per series (as many as fit), totals first. With
 * compare, each series is followed by its compare column, and a `Change` row gives Δ of the totals.
 */
export function trendTable(
  result: TrendResult,
  width: number,
  tz = "UTC",
): { header: string; total: string; change: string | null; rows: string[]; hidden: number } {
  const labels = timeLabels(
    (result.series[0]?.points ?? []).map((p) => p.t),
    result.interval,
    { tz },
  );
  const columns = result.series.flatMap((s) => {
    const label = cleanText(seriesLabel(s, result));
    const own = {
      label,
      total: s.total,
      values: s.points.map((p) => p.value),
      incomplete: s.points.map((p) => p.incomplete === true),
      change: null as string | null,
    };
    if (!s.compare) return [own];
    own.change = changeText(s.compare.change);
    // Nothing of the compare period cached: no compare column of zeros.
    if (s.compare.cached === "none") return [own];
    return [
      own,
      {
        label: `${label} (${offsetText(s.compare.offset_seconds)})`,
        total: s.compare.total,
        values: s.compare.points.map((p) => p.value),
        incomplete: s.compare.points.map((p) => p.incomplete === true),
        change: "",
      },
    ];
  });
  const compare = result.series.some((s) => s.compare);
  const bucketW = Math.max(6, ...labels.map(displayWidth));
  const colW = Math.min(28, Math.max(12, Math.floor((width - bucketW) / Math.max(1, columns.length)) - 1));
  const fit = Math.max(1, Math.floor((width - bucketW) / (colW + 1)));
  const shown = columns.slice(0, fit);
  // An incomplete bucket's value ends with `*` (docs/semantics.md, "Partial data").
  // A sampled count is an estimate: `≈1,234` (docs/semantics.md, "Sampling").
  const cell = (v: number, incomplete = false) => {
    const t = trendEst(result, formatNumber(v));
    return padStart(
      markedValue(
        displayWidth(t) + (incomplete ? 1 : 0) <= colW ? t : trendEst(result, formatCompact(v)),
        incomplete,
      ),
      colW,
    );
  };
  const header = [
    padEnd("Bucket", bucketW),
    ...shown.map((c) => padStart(truncate(c.label, colW), colW)),
  ].join(" ");
  const total = [padEnd("Total", bucketW), ...shown.map((c) => cell(c.total))].join(" ");
  const change = compare
    ? [padEnd("Change", bucketW), ...shown.map((c) => padStart(c.change ?? "", colW))].join(" ").trimEnd()
    : null;
  const rows = labels.map((l, i) =>
    [padEnd(l, bucketW), ...shown.map((c) => cell(c.values[i] ?? 0, c.incomplete[i]))].join(" "),
  );
  return { header, total, change, rows, hidden: columns.length - shown.length };
}

/** The cursor's point: its index in the result's buckets (the last one when `t` is not among them). */
export function cursorIndex(result: TrendResult, t: string | null): number {
  const points = result.series[0]?.points ?? [];
  if (points.length === 0) return -1;
  const i = t === null ? -1 : points.findIndex((p) => p.t === t);
  return i >= 0 ? i : points.length - 1;
}

/** `2023-06-05 14:00 · button_clicked 1,234 · file_saved 56 (1d before 50)`: every series at one point. */
export function cursorLine(result: TrendResult, index: number, tz: string): string {
  const t = result.series[0]?.points[index]?.t;
  if (t === undefined) return "";
  const values = result.series.map((s) => {
    const v = s.points[index]?.value ?? 0;
    // No compare value from a period the cache holds none of.
    const c = s.compare?.cached === "none" ? undefined : s.compare?.points[index];
    const n = (x: number) => trendEst(result, formatNumber(x));
    return `${cleanText(seriesLabel(s, result))} ${n(v)}${c ? ` (${offsetText(s.compare!.offset_seconds)} ${n(c.value)})` : ""}`;
  });
  const partial = result.series[0]?.points[index]?.incomplete ? ["incomplete bucket"] : [];
  return [bucketText(t, result.interval, tz), ...values, ...partial].join(" · ");
}

/**
 * The column of point `index` of `n` on a line chart (`lineChart`'s layout): the y axis is the first
 * axis character of the plot's first line, the plot has the `width − axis − 1` columns after it and
 * the points are spread (or bucketed) over them as the chart resamples them.
 */
export function cursorColumn(chartFirstLine: string, width: number, n: number, index: number): number | null {
  const axis = [...stripSgr(chartFirstLine)].findIndex((ch) => "┤┼|".includes(ch));
  if (axis < 0 || n <= 0) return null;
  const m = width - axis - 1;
  if (m < 1) return null;
  let c: number;
  if (n > m) c = Math.floor((index * m) / n);
  else if (n === 1) c = 0;
  else if (n === m) c = index;
  else c = Math.round((index * (m - 1)) / (n - 1));
  return Math.min(width - 1, axis + 1 + c);
}

const ChartLines = memo(function ChartLines({ lines }: { lines: string[] }) {
  return (
    <>
      {lines.map((l, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: chart rows are positional
        <RawLine key={i} text={l} />
      ))}
    </>
  );
});

type Picker = null | "add" | "breakdown" | "filter" | "formula" | "annotateFrom" | "annotations";

export interface TrendsScreenProps {
  width: number;
  height: number;
  model: TrendsModel;
  setModel: Dispatch<SetStateAction<TrendsModel>>;
}

export function TrendsScreen({ width, height, model, setModel }: TrendsScreenProps) {
  const env = useAppEnv();
  const { range } = env;
  const [picker, setPicker] = useState<Picker>(null);
  const [drill, setDrill] = useState<DrillTarget | null>(null);
  const spec = useMemo(() => trendSpec(model, range), [model, range]);
  const raw = useQuery(spec);
  // With a formula, everything below draws the formula's series (render/series.ts).
  const view = useMemo(() => (raw.data ? formulaView(raw.data) : undefined), [raw.data]);
  const q = { ...raw, data: view };
  const interval = spec?.interval ?? model.interval;
  const selected = model.events[clamp(model.selected, 0, Math.max(0, model.events.length - 1))];
  // The selected event's keys (for measures): asked once a chart is in (not after a cancel or an
  // error, so esc leaves nothing running), then kept while later charts run.
  const [keysFor, setKeysFor] = useState<string | null>(null);
  useEffect(() => {
    if (q.status === "done" && selected) setKeysFor(selected.event);
  }, [q.status, selected]);
  const props = useQuery(keysFor !== null && keysFor === selected?.event ? propsSpec(keysFor, range) : null);

  useReportResult("trends", "Trends", raw);

  // A compare period the cache does not fully hold: a yellow note above the chart or table.
  const cmpNote = compareNote(q.data?.series[0]?.compare);
  const { state, stateColor } = queryState(q);
  // The settings wrap onto a second line when they do not fit (then `+N more`; `?` shows them all).
  const settings = settingsLayout(
    "",
    settingTokens(
      model.formula !== undefined &&
        `formula ${model.formula}${formulaFits(model.formula, model.events.length) ? "" : " (names a removed event: off)"}`,
      `${formatMeasure(model.measure)} per ${interval}`,
      `compare ${compareState(model.compare, range)}`,
      `breakdown ${model.breakdown ?? "–"}`,
      model.annotationsFrom !== undefined && `marks ${model.annotationsFrom}`,
      model.filters,
    ),
    width,
    stateRoom(state, stateColor),
  );
  useReportSettings("trends", settings.cut ? `Trends · ${settings.full}` : "");
  const headerH = 1 + settings.lines.length + (cmpNote ? 1 : 0);
  const bodyH = Math.max(1, height - headerH - 1);

  const update = (patch: Partial<TrendsModel>) => setModel((m) => ({ ...m, ...patch }));

  useKeys(
    (input, key) => {
      const n = model.events.length;
      if (matches("trends.add", input, key)) setPicker("add");
      else if (matches("trends.remove", input, key)) {
        if (n === 0) return true;
        const events = model.events.filter((_, i) => i !== model.selected);
        update({ events, selected: clamp(model.selected, 0, Math.max(0, events.length - 1)), tableTop: 0 });
      } else if (matches("trends.up", input, key))
        update({ selected: clamp(model.selected - 1, 0, Math.max(0, n - 1)) });
      else if (matches("trends.down", input, key))
        update({ selected: clamp(model.selected + 1, 0, Math.max(0, n - 1)) });
      else if (matches("trends.measure", input, key))
        update({ measure: nextMeasure(model.measure, props.data) });
      else if (matches("trends.interval", input, key))
        update({ interval: nextInterval(interval, range), tableTop: 0 });
      else if (matches("trends.compare", input, key)) update({ compare: nextCompare(model.compare) });
      else if (matches("trends.breakdown", input, key)) {
        if (n) setPicker("breakdown");
      } else if (matches("trends.filter", input, key)) setPicker("filter");
      else if (matches("trends.formula", input, key)) {
        if (n) setPicker("formula");
        else env.notify("add events first (a): a formula reads them as A, B, …");
      } else if (matches("trends.annotateFrom", input, key)) {
        if (n) setPicker("annotateFrom");
      } else if (matches("trends.annotations", input, key)) setPicker("annotations");
      else if (matches("trends.clearFilters", input, key)) update({ filters: [] });
      else if (matches("trends.table", input, key)) update({ table: !model.table, tableTop: 0 });
      else if (matches("trends.pageUp", input, key))
        update({ tableTop: Math.max(0, model.tableTop - (bodyH - 3)) });
      else if (matches("trends.pageDown", input, key)) update({ tableTop: model.tableTop + (bodyH - 3) });
      else if (matches("trends.cursorLeft", input, key) || matches("trends.cursorRight", input, key)) {
        const points = q.data?.series[0]?.points ?? [];
        if (!points.length) return true;
        // The first press shows the cursor on the newest point; then it moves.
        const i = cursorIndex(q.data!, model.cursor);
        const d = matches("trends.cursorLeft", input, key) ? -1 : 1;
        const next = model.cursor === null ? i : clamp(i + d, 0, points.length - 1);
        update({ cursor: points[next]!.t });
      } else if (matches("trends.users", input, key)) {
        const shown = q.spec?.kind === "trend" ? q.spec : null;
        const i = q.data ? cursorIndex(q.data, model.cursor) : -1;
        const t = i >= 0 ? q.data!.series[0]!.points[i]!.t : undefined;
        if (!shown || t === undefined)
          env.notify("no result yet: u lists a bucket's users once the chart is in");
        else {
          if (model.cursor === null) update({ cursor: t });
          const events = shown.events.map((e) => cleanText(formatEventRef(e))).join(", ");
          setDrill({
            of: drillOf(shown),
            selection: t,
            title: `${bucketText(t, shown.interval, shown.range.tz)} (${shown.interval}) · ${events}`,
          });
        }
      } else return false;
      return true;
    },
    { priority: PRIORITY.screen, isActive: picker === null && drill === null },
  );
  // For the command palette: what these keys would do nothing for now.
  useActions(
    "trends",
    [
      !model.events.length && "trends.remove",
      !model.events.length && "trends.breakdown",
      !model.events.length && "trends.formula",
      !model.events.length && "trends.annotateFrom",
      !model.filters.length && "trends.clearFilters",
      !(q.spec?.kind === "trend" && q.data?.series[0]?.points.length) && "trends.users",
    ],
    picker === null && drill === null,
  );

  // Bucket labels in the zone the result was computed in.
  const dataTz = (q.spec && "range" in q.spec ? q.spec.range?.tz : undefined) ?? range?.tz ?? "UTC";
  // With the cursor: a marker row between the plot and the x axis, and the values line at the bottom.
  const cursorOn = model.cursor !== null && !!q.data && (q.data.series[0]?.points.length ?? 0) > 0;
  const cursorAt = cursorOn ? cursorIndex(q.data!, model.cursor) : -1;
  // Annotations: the notes in range and the `r` key's first values, as marks under the x axis and a
  // legend of at most two lines below (`n` lists them all).
  const markers = useMemo(() => {
    if (!q.data) return [];
    const shown = q.spec?.kind === "trend" ? q.spec : null;
    const r = shown ? resolvedRange(shown.range) : null;
    const all = r ? mergeNotes(q.data.annotations, notesOrNone(), r.from, r.to) : q.data.annotations;
    return placeMarkers(
      all ?? [],
      (q.data.series[0]?.points ?? []).map((p) => p.t),
    );
  }, [q.data, q.spec]);
  const legend = useMemo(
    () =>
      markers.length
        ? annotationLegend(markers, { tz: dataTz, width, maxLines: 2, more: "· n lists them all" })
        : [],
    [markers, dataTz, width],
  );
  const chart = useMemo(() => {
    if (!q.data || model.table) return [];
    const points = (q.data.series[0]?.points ?? []).map((p) => p.t);
    const xLabels = timeLabels(points, q.data.interval, { tz: dataTz });
    // The cursor's two rows (its marker and its values line) are always kept, blank without it, so
    // the first ← only fills them: the plot keeps its height (and its bytes over SSH).
    const h = Math.max(1, bodyH - 2 - legend.length);
    const lines = lineChart(trendLines(q.data), {
      width,
      height: h,
      xLabels,
      color: env.color,
      ascii: env.ascii,
      ...(markers.length ? { markers: markers.map((m) => ({ point: m.point, mark: m.mark })) } : {}),
    });
    // A chart of 4 rows or more is plot rows, then the x-axis row (the marks' row, from 5) and the legend row.
    const x = cursorOn && h >= 4 ? cursorColumn(lines[0] ?? "", width, points.length, cursorAt) : null;
    const marker = x === null ? "" : `${" ".repeat(x)}${env.ascii ? "^" : "▲"}`;
    const below = markers.length && h >= 5 ? 3 : 2;
    const at = Math.max(0, h - below);
    return [...lines.slice(0, at), marker, ...lines.slice(at), ...legend];
  }, [q.data, dataTz, model.table, width, bodyH, env.color, env.ascii, cursorOn, cursorAt, markers, legend]);

  // The cursor's bucket's annotations, after its values.
  const atCursor = markers
    .filter((m) => m.point === cursorAt)
    .map((m) => ` · ${m.mark} ${cleanText(m.annotation.text)}`)
    .join("");
  const table = useMemo(
    () => (q.data && model.table ? trendTable(q.data, width, dataTz) : null),
    [q.data, dataTz, model.table, width],
  );

  if (drill) {
    return (
      <DrillPanel
        width={width}
        height={height}
        target={drill}
        flip={() => "tab flips a funnel's reached/dropped and a retention cell's retained/lost"}
        onClose={() => setDrill(null)}
      />
    );
  }
  if (picker === "add") {
    return (
      <EventPicker
        title="Add an event to the chart"
        catalog={env.catalog.data}
        range={range}
        width={width}
        height={height}
        allowAny
        withFilter
        onPick={(ref) => {
          setModel((m) => ({ ...m, events: [...m.events, ref], selected: m.events.length, tableTop: 0 }));
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "breakdown") {
    return (
      <BreakdownPicker
        event={selected?.event}
        range={range}
        current={model.breakdown}
        width={width}
        height={height}
        onPick={(breakdown) => {
          update({ breakdown });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "formula") {
    const letters = model.events
      .map((e, i) => `${seriesLetter(i)} = ${cleanText(formatEventRef(e))}`)
      .join(", ");
    return (
      <TextPrompt
        title="Formula over the series (empty: none)"
        width={width}
        initial={model.formula ?? ""}
        help={[letters, "+ - * / ( ) and numbers, e.g. A/B*100; a division by zero has no value"]}
        validate={(t) => {
          if (!t.trim()) return null;
          try {
            parseFormula(t, model.events.length);
            return null;
          } catch (e) {
            return (e as Error).message;
          }
        }}
        onSubmit={(t) => {
          update({ formula: t.trim() ? t.trim() : undefined });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "annotateFrom") {
    return (
      <MarkKeyPicker
        events={selected ? [selected.event] : []}
        range={range}
        current={model.annotationsFrom}
        width={width}
        height={height}
        onPick={(annotationsFrom) => {
          update({ annotationsFrom });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "annotations") {
    return (
      <AnnotationsPanel
        markers={markers}
        tz={dataTz}
        width={width}
        height={height}
        closeId="trends.annotations"
        onClose={() => setPicker(null)}
      />
    );
  }
  if (picker === "filter") {
    return (
      <AddFilterPrompt
        title="Add a filter (applies to every event)"
        event={selected?.event}
        range={range}
        width={width}
        onAdd={(f) => update({ filters: [...model.filters, f] })}
        onDone={() => setPicker(null)}
      />
    );
  }

  // Line 1: the events, the selected one highlighted.
  // With a formula the chips are its letters.
  const chips: { text: string; selected: boolean }[] = model.events.map((e, i) => ({
    text: ` ${model.formula !== undefined ? seriesLetter(i) : i + 1} ${cleanText(formatEventRef(e))} `,
    selected: i === model.selected,
  }));
  let used = displayWidth("Events:");
  const shownChips: typeof chips = [];
  for (const c of chips) {
    if (used + displayWidth(c.text) + 1 > width) break;
    shownChips.push(c);
    used += displayWidth(c.text) + 1;
  }

  // The cursor's values (a blank line until ← or → shows the cursor).
  const cursorValues = (
    <Line
      text={cursorOn ? `${cursorLine(q.data!, cursorAt, dataTz)}${atCursor}` : " "}
      width={width}
      color="cyan"
    />
  );
  let body: ReactNode;
  if (model.events.length === 0) {
    body = (
      <Box flexDirection="column">
        <Line
          text="No events yet: press a to add one, or Enter on an event in the Events tab."
          width={width}
        />
      </Box>
    );
  } else if (!q.data) {
    body = <Line text={q.status === "running" ? "running the trend…" : " "} width={width} dim />;
  } else if (table) {
    // The cursor's values line is kept (blank without it), as under the chart.
    const rowsH = Math.max(1, bodyH - 2 - (table.change === null ? 0 : 1) - 1);
    const topRow = clamp(model.tableTop, 0, Math.max(0, table.rows.length - rowsH));
    body = (
      <Box flexDirection="column">
        <Line text={table.header + (table.hidden ? `  +${table.hidden}` : "")} width={width} bold />
        <Line text={table.total} width={width} />
        {table.change === null ? null : <Line text={table.change} width={width} />}
        {table.rows.slice(topRow, topRow + rowsH).map((r, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a window over positional rows
          <Line key={topRow + i} text={r} width={width} inverse={topRow + i === cursorAt} />
        ))}
        {cursorValues}
      </Box>
    );
  } else {
    body = (
      <>
        <ChartLines lines={chart} />
        {cursorValues}
      </>
    );
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      <Text wrap="truncate">
        <Text bold>Events:</Text>
        {shownChips.length === 0 ? <Text dimColor> none</Text> : null}
        {shownChips.map((c, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: chips are positional
          <Text key={`${i}:${c.text}`}>
            {" "}
            <Text inverse={c.selected} color={c.selected ? "cyan" : undefined}>
              {c.text}
            </Text>
          </Text>
        ))}
        {shownChips.length < chips.length ? (
          <Text dimColor>{` +${chips.length - shownChips.length}`}</Text>
        ) : null}
      </Text>
      <SettingsLines layout={settings} state={state} stateColor={stateColor} width={width} dim />
      {cmpNote ? <Line text={cmpNote} width={width} color="yellow" /> : null}
      <Box flexDirection="column" height={bodyH} overflow="hidden">
        {body}
      </Box>
      <HintLine
        ids={[
          "trends.add",
          "trends.measure",
          "trends.interval",
          "trends.compare",
          "trends.users",
          "trends.breakdown",
          "trends.filter",
          "trends.formula",
          "trends.annotateFrom",
          "trends.table",
          "trends.remove",
        ]}
        width={width}
      />
    </Box>
  );
}
