/**
 * Tab 2: trends. Pick events (`a`/`x`, up/down selects), cycle the measure (`m`), the interval (`i`,
 * only those giving 2–2,000 points over the range) and a compare period (`c`: previous, 1d, 1w, off;
 * drawn dimmed under each series, Δ% in the legend), break down by a property (`b`), add filters
 * (`f`, `F` clears) and flip between the line chart and a table of the same numbers (`t`).
 */
import { Box, Text } from "ink";
import type { Dispatch, ReactNode, SetStateAction } from "react";
import { memo, useEffect, useMemo, useState } from "react";
import { formatEventRef, formatMeasure } from "../queries/parse.js";
import type { DateRange, Measure, PropsResult, TrendResult, TrendSpec } from "../queries/spec.js";
import { type LineSeries, lineChart } from "../render/charts.js";
import { changeText, offsetText } from "../render/compare.js";
import { formatCompact, formatNumber, timeLabels } from "../render/format.js";
import { cleanText, displayWidth, padEnd, padStart, truncate } from "../render/sanitize.js";
import { PRIORITY, useKeys } from "./input.js";
import { compareState, fitInterval, nextCompare, nextInterval } from "./intervals.js";
import { matches } from "./keymap.js";
import { BreakdownPicker, EventPicker, FilterPrompt, filtersLabel, propsSpec } from "./pickers.js";
import { type TrendsModel, useAppEnv, useReportResult } from "./state.js";
import { useQuery } from "./useQuery.js";
import { clamp, HintLine, Line, RawLine } from "./widgets.js";

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
  };
}

/** Measures offered by `m`: counts, then sum/avg of each numeric property of the event. */
export function measureCycle(props: PropsResult | undefined): Measure[] {
  const list: Measure[] = [{ kind: "events" }, { kind: "users" }, { kind: "per-user" }];
  for (const p of props?.props ?? []) {
    if (p.type !== "number") continue;
    list.push({ kind: "sum", key: p.key }, { kind: "avg", key: p.key });
  }
  return list;
}

export function nextMeasure(current: Measure, props: PropsResult | undefined): Measure {
  const list = measureCycle(props);
  const i = list.findIndex((m) => formatMeasure(m) === formatMeasure(current));
  return list[(i + 1) % list.length]!;
}

/** A series' legend label: the event, its breakdown value, or just the value when one event is shown. */
export function seriesLabel(s: TrendResult["series"][number], result: TrendResult): string {
  if (s.breakdown === null) return s.event;
  const oneEvent = result.series.every((x) => x.event === s.event);
  return oneEvent ? s.breakdown : `${s.event} · ${s.breakdown}`;
}

/**
 * The chart's series: one per result series, and with compare one dimmed compare series per series
 * (in its colour, labelled with the offset), the change of the total in the series' legend entry.
 */
export function trendLines(result: TrendResult): LineSeries[] {
  const out: LineSeries[] = result.series.map((s) => ({
    label: s.compare ? `${seriesLabel(s, result)} ${changeText(s.compare.change)}` : seriesLabel(s, result),
    values: s.points.map((p) => p.value),
  }));
  result.series.forEach((s, i) => {
    if (s.compare)
      out.push({
        label: `${seriesLabel(s, result)} (${offsetText(s.compare.offset_seconds)})`,
        values: s.compare.points.map((p) => p.value),
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
      change: null as string | null,
    };
    if (!s.compare) return [own];
    own.change = changeText(s.compare.change);
    return [
      own,
      {
        label: `${label} (${offsetText(s.compare.offset_seconds)})`,
        total: s.compare.total,
        values: s.compare.points.map((p) => p.value),
        change: "",
      },
    ];
  });
  const compare = result.series.some((s) => s.compare);
  const bucketW = Math.max(6, ...labels.map(displayWidth));
  const colW = Math.min(28, Math.max(12, Math.floor((width - bucketW) / Math.max(1, columns.length)) - 1));
  const fit = Math.max(1, Math.floor((width - bucketW) / (colW + 1)));
  const shown = columns.slice(0, fit);
  const cell = (v: number) => {
    const t = formatNumber(v);
    return padStart(displayWidth(t) <= colW ? t : formatCompact(v), colW);
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
    [padEnd(l, bucketW), ...shown.map((c) => cell(c.values[i] ?? 0))].join(" "),
  );
  return { header, total, change, rows, hidden: columns.length - shown.length };
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

type Picker = null | "add" | "breakdown" | "filter";

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
  const spec = useMemo(() => trendSpec(model, range), [model, range]);
  const q = useQuery(spec);
  const interval = spec?.interval ?? model.interval;
  const selected = model.events[clamp(model.selected, 0, Math.max(0, model.events.length - 1))];
  // The selected event's keys (for measures): asked once a chart is in (not after a cancel or an
  // error, so esc leaves nothing running), then kept while later charts run.
  const [keysFor, setKeysFor] = useState<string | null>(null);
  useEffect(() => {
    if (q.status === "done" && selected) setKeysFor(selected.event);
  }, [q.status, selected]);
  const props = useQuery(keysFor !== null && keysFor === selected?.event ? propsSpec(keysFor, range) : null);

  useReportResult("trends", "Trends", q);

  const headerH = 2;
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
      else if (matches("trends.clearFilters", input, key)) update({ filters: [] });
      else if (matches("trends.table", input, key)) update({ table: !model.table, tableTop: 0 });
      else if (matches("trends.pageUp", input, key))
        update({ tableTop: Math.max(0, model.tableTop - (bodyH - 3)) });
      else if (matches("trends.pageDown", input, key)) update({ tableTop: model.tableTop + (bodyH - 3) });
      else return false;
      return true;
    },
    { priority: PRIORITY.screen, isActive: picker === null },
  );

  // Bucket labels in the zone the result was computed in.
  const dataTz = (q.spec && "range" in q.spec ? q.spec.range?.tz : undefined) ?? range?.tz ?? "UTC";
  const chart = useMemo(() => {
    if (!q.data || model.table) return [];
    const xLabels = timeLabels(
      (q.data.series[0]?.points ?? []).map((p) => p.t),
      q.data.interval,
      { tz: dataTz },
    );
    return lineChart(trendLines(q.data), {
      width,
      height: bodyH,
      xLabels,
      color: env.color,
      ascii: env.ascii,
    });
  }, [q.data, dataTz, model.table, width, bodyH, env.color, env.ascii]);

  const table = useMemo(
    () => (q.data && model.table ? trendTable(q.data, width, dataTz) : null),
    [q.data, dataTz, model.table, width],
  );

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
  if (picker === "filter") {
    return (
      <FilterPrompt
        title="Add a filter (applies to every event)"
        event={selected?.event}
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

  // Line 1: the events, the selected one highlighted.
  const chips: { text: string; selected: boolean }[] = model.events.map((e, i) => ({
    text: ` ${i + 1} ${cleanText(formatEventRef(e))} `,
    selected: i === model.selected,
  }));
  let used = displayWidth("Events:");
  const shownChips: typeof chips = [];
  for (const c of chips) {
    if (used + displayWidth(c.text) + 1 > width) break;
    shownChips.push(c);
    used += displayWidth(c.text) + 1;
  }
  const settings = `${formatMeasure(model.measure)} per ${interval} · compare ${compareState(model.compare, range)} · breakdown ${model.breakdown ?? "–"} · where ${filtersLabel(model.filters)}`;
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
    const rowsH = Math.max(1, bodyH - 2 - (table.change === null ? 0 : 1));
    const topRow = clamp(model.tableTop, 0, Math.max(0, table.rows.length - rowsH));
    body = (
      <Box flexDirection="column">
        <Line text={table.header + (table.hidden ? `  +${table.hidden}` : "")} width={width} bold />
        <Line text={table.total} width={width} />
        {table.change === null ? null : <Line text={table.change} width={width} />}
        {table.rows.slice(topRow, topRow + rowsH).map((r, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: a window over positional rows
          <Line key={topRow + i} text={r} width={width} />
        ))}
      </Box>
    );
  } else {
    body = <ChartLines lines={chart} />;
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
      <Text wrap="truncate">
        <Text dimColor>{truncate(settings, Math.max(0, width - displayWidth(state)))}</Text>
        <Text color={stateColor} dimColor={!stateColor}>
          {state}
        </Text>
      </Text>
      <Box flexDirection="column" height={bodyH} overflow="hidden">
        {body}
      </Box>
      <HintLine
        ids={[
          "trends.add",
          "trends.measure",
          "trends.interval",
          "trends.compare",
          "trends.breakdown",
          "trends.filter",
          "trends.table",
          "trends.remove",
        ]}
        width={width}
      />
    </Box>
  );
}
