/**
 * Tab 3: funnels. Build the steps (`a` adds with an optional filter, `x` removes, `J`/`K` reorder),
 * set the window (`w`), a breakdown (`b`), filters (`f`, `F` clears), conversion over time (`v`, per
 * an interval that `i` cycles as in Trends) and a compare period (`c`: previous, 1d, 1w, off); the
 * order (`o`: ordered, strict, any), exclusions (`X` adds one with its step range, `Z` clears), a
 * property held constant (`H`) and a value summed per step (`V`). The over-time chart draws the notes
 * of `evx annotate` and, with `r`, where each value of a key first appears (as on Trends); `n` lists
 * them in full.
 * Each step is a bar with users, % of start, % from the previous step and median time to convert;
 * with compare, the change of % of start in percentage points and a line on the compare period.
 * Enter on a step lists the users who reached it (`tab`: those who dropped there), and from a user
 * their events (`DrillPanel`).
 */

import { Box } from "ink";
import type { Dispatch, ReactNode, SetStateAction } from "react";
import { useEffect, useMemo, useState } from "react";
import { formatEventRef, formatExclusion, parseExclusion } from "../../queries/parse.js";
import type {
  DateRange,
  EventRef,
  FunnelOrder,
  FunnelResult,
  FunnelSpec,
  TimeToConvertBin,
  TimeToConvertResult,
} from "../../queries/spec.js";
import { resolvedRange } from "../../queries/time.js";
import { annotationLegend, mergeNotes, type PlacedMarker, placeMarkers } from "../../render/annotations.js";
import { bars, lineChart } from "../../render/charts.js";
import { offsetText, pointsText } from "../../render/compare.js";
import { formatDuration, formatNumber, formatPercent, timeLabels } from "../../render/format.js";
import { compareNote } from "../../render/partial.js";
import { est } from "../../render/sample.js";
import { cleanText, displayWidth, padEnd, padStart, truncate } from "../../render/sanitize.js";
import { binLabel, timeToConvertHead } from "../../render/ttc.js";
import { PRIORITY, useKeys } from "../hooks/input.js";
import { useActions } from "../hooks/useActions.js";
import { queryState, specKey, useQuery } from "../hooks/useQuery.js";
import { matches } from "../keymap.js";
import { notesOrNone } from "../state/annotations.js";
import { compareState, fitInterval, nextCompare, nextInterval } from "../state/intervals.js";
import {
  changeFunnelSteps,
  checkFunnelKeys,
  type FunnelModel,
  type StepChange,
  useAppEnv,
  useReportResult,
  useReportSettings,
} from "../state/state.js";
import { AnnotationsPanel, MarkKeyPicker } from "../widgets/annotations.js";
import {
  AddFilterPrompt,
  BreakdownPicker,
  EventPicker,
  stepPropsSpec,
  WindowEditor,
} from "../widgets/pickers.js";
import { SettingsLines, settingsLayout, settingTokens, stateRoom } from "../widgets/settings.js";
import { clamp, HintLine, Line, Lines, TextPrompt } from "../widgets/widgets.js";
import { DrillPanel, type DrillTarget, flipFunnel, funnelTarget } from "./DrillPanel.js";

export function funnelSpec(m: FunnelModel, range: DateRange | null): FunnelSpec | null {
  if (!range || m.steps.length < 2) return null;
  const exclude = m.order === "any" ? [] : (m.exclude ?? []).filter((x) => x.to <= m.steps.length);
  return {
    kind: "funnel",
    steps: m.steps,
    withinSeconds: m.withinSeconds,
    range,
    filters: m.filters,
    ...(m.breakdown !== undefined ? { breakdown: m.breakdown } : {}),
    limit: 10,
    // The interval asked for when it fits the range, else the nearest that does.
    ...(m.overTime ? { trendInterval: fitInterval(m.interval, range) } : {}),
    // Marks belong to the over-time chart (`--annotations-from` needs `--over-time`).
    ...(m.overTime && m.annotationsFrom !== undefined ? { annotationsFrom: m.annotationsFrom } : {}),
    ...(m.compare ? { compare: m.compare } : {}),
    ...(m.order && m.order !== "ordered" ? { order: m.order } : {}),
    // Exclusions and values need an ordered or strict funnel. Step edits keep the ranges within the
    // steps (`changeFunnelSteps`); one that still is not is left out here and so, as the settings line
    // is drawn from this spec, not shown either.
    ...(exclude.length ? { exclude } : {}),
    ...(m.hold !== undefined ? { hold: m.hold } : {}),
    ...(m.order !== "any" && m.value !== undefined ? { value: m.value } : {}),
    ...(m.timeToConvert ? { timeToConvert: { from: 1, to: m.steps.length } } : {}),
  };
}

/**
 * The time-to-convert view (`t`): a head line with the count, mean, median and p90, then one bar per
 * bin (at most `rows` lines in all).
 */
export function timeToConvertLines(
  t: TimeToConvertResult,
  width: number,
  rows: number,
  color: boolean,
  ascii: boolean,
  sampled = false,
): string[] {
  const head = truncate(timeToConvertHead(t, sampled), width);
  if (!t.bins.length || rows < 2) return [head];
  const shown = t.bins.length <= rows - 1 ? t.bins : mergeBins(t.bins, rows - 1);
  const lines = bars(
    shown.map((b) => ({
      label: binLabel(b),
      value: b.users,
      note: padStart(formatPercent(b.users / t.count), 7),
    })),
    { width, color, ascii, format: (v) => (sampled ? `≈${formatNumber(v)}` : formatNumber(v)) },
  );
  return [head, ...lines];
}

/** Adjacent bins merged so that at most `n` remain (a short terminal keeps the whole span). */
function mergeBins(bins: TimeToConvertBin[], n: number): TimeToConvertBin[] {
  const per = Math.ceil(bins.length / Math.max(1, n));
  const out: TimeToConvertBin[] = [];
  for (let i = 0; i < bins.length; i += per) {
    const run = bins.slice(i, i + per);
    out.push({
      start_seconds: run[0].start_seconds,
      end_seconds: run[run.length - 1].end_seconds,
      users: run.reduce((a, b) => a + b.users, 0),
    });
  }
  return out;
}

/** The modes of a funnel the settings line names (a run spec, or the model before any can run). */
export type FunnelModes = Pick<FunnelSpec, "order" | "exclude" | "hold" | "value">;

/**
 * The modes part of the settings line: `order strict · excluding X@1-3 · hold plan · value price`, or "".
 * Drawn from the spec whose numbers are on screen, so it names exactly what they count; the model only
 * adds what it holds but that order turns off (`(off: any order)`).
 */
export function funnelModesLabel(shown: FunnelModes, m: FunnelModel): string {
  // The default order is not named, to keep the line short.
  const parts = shown.order && shown.order !== "ordered" ? [`order ${shown.order}`] : [];
  const off = shown.order === "any" ? " (off: any order)" : "";
  const exclude = shown.exclude?.length ? shown.exclude : off ? m.exclude : undefined;
  if (exclude?.length)
    parts.push(`excluding ${exclude.map((x) => cleanText(formatExclusion(x))).join(", ")}${off}`);
  if (shown.hold !== undefined) parts.push(`hold ${cleanText(shown.hold)}`);
  const value = shown.value ?? (off ? m.value : undefined);
  if (value !== undefined) parts.push(`value ${cleanText(value)}${off}`);
  return parts.join(" · ");
}

const ORDERS: FunnelOrder[] = ["ordered", "strict", "any"];

/** The property pickers' titles; `undefined` keeps BreakdownPicker's own. */
const KEY_PICKERS = {
  breakdown: { title: undefined, noneHint: undefined },
  hold: { title: "Hold constant across the steps", noneHint: "no property held" },
  value: { title: "Sum per step (value)", noneHint: "no value" },
} as const;

const NOTE_W = { start: 8, prev: 10, median: 8, delta: 11, value: 12 };

type Step = FunnelResult["steps"][number];

function note(s: Step | undefined, i: number, compare: Step[] | undefined, value: boolean): string {
  const delta = compare ? padStart(i === 0 ? "" : pointsText(s, compare[i]), NOTE_W.delta) : "";
  const sum = value ? padStart(s?.value ? formatNumber(s.value.sum) : "…", NOTE_W.value) : "";
  if (!s)
    return `${padStart("…", NOTE_W.start)}${padStart("…", NOTE_W.prev)}${padStart("…", NOTE_W.median)}${sum}${delta}`;
  return (
    padStart(formatPercent(s.conversion), NOTE_W.start) +
    padStart(i === 0 ? "–" : formatPercent(s.from_previous), NOTE_W.prev) +
    padStart(i === 0 ? "–" : formatDuration(s.median_seconds), NOTE_W.median) +
    sum +
    delta
  );
}

/** The compare period's line: its entered and converted users and conversion. */
export function compareLine(result: FunnelResult): string | null {
  const c = result.compare;
  // Nothing of it cached: its note says so instead (`compareNote`).
  if (!c || c.cached === "none") return null;
  const entered = c.steps[0]?.users ?? 0;
  const last = c.steps[c.steps.length - 1];
  const converted = last?.users ?? 0;
  const n = (v: number) => est(result, formatNumber(v));
  return `compare period (${offsetText(c.offset_seconds)}): ${n(entered)} entered, ${n(converted)} converted (${entered ? formatPercent(last?.conversion ?? 0) : "–"})`;
}

/**
 * The step bars (selection marker in the first column) and their header, `width` wide. In any order
 * (`anyOrder`) row k counts users who did any k of the steps: it reads `any k of K`, and the header names
 * the steps once, numbered, so the selection still shows which step `x`, `J` and `K` act on.
 */
export function funnelBars(
  labels: string[],
  result: FunnelResult | undefined,
  width: number,
  color: boolean,
  ascii: boolean,
  anyOrder = false,
): { header: string; rows: string[] } {
  const inner = Math.max(1, width - 2);
  // No Δ against a compare period the cache holds none of.
  const compare = result?.compare?.cached === "none" ? undefined : result?.compare?.steps;
  const withValue = result?.steps.some((s) => s.value !== undefined) ?? false;
  const steps = labels.map((l, i) => ({
    label: anyOrder ? `any ${i + 1} of ${labels.length}` : `${i + 1}. ${l}`,
    value: result?.steps[i]?.users ?? 0,
    note: note(result?.steps[i], i, compare, withValue),
  }));
  // A sampled count is an estimate: `≈1,234` (docs/semantics.md, "Sampling").
  const users = (v: number) => (result ? est(result, formatNumber(v)) : "…");
  const valueW = Math.max(5, ...steps.map((s) => displayWidth(users(s.value))));
  const rows = bars(steps, {
    width: inner,
    color,
    ascii,
    max: result?.steps[0]?.users || 1,
    format: (v) => padStart(users(v), valueW),
  });
  const right = `${padStart("Users", valueW)}  ${padStart("of start", NOTE_W.start)}${padStart("from prev", NOTE_W.prev)}${padStart("median", NOTE_W.median)}${withValue ? padStart("value Σ", NOTE_W.value) : ""}${compare ? padStart("vs compare", NOTE_W.delta) : ""}`;
  const title = anyOrder
    ? cleanText(`In any order: ${labels.map((l, i) => `${i + 1}. ${l}`).join(" · ")}`)
    : "Step";
  const room = Math.max(0, inner - displayWidth(right));
  const header = `  ${padEnd(truncate(title, Math.max(0, room - 1)), room)}${right}`;
  return { header: truncate(header, width), rows };
}

/**
 * Breakdown table: value, users per step, overall conversion. Wider or longer than the room, it
 * scrolls: `from` is the first step column shown (the value column stays; `‹` marks the scroll, `…`
 * the columns to the right), `top` the first value row, `rows` how many rows fit (then a last line says
 * which values show).
 */
export function breakdownTable(
  result: FunnelResult,
  key: string,
  width: number,
  from = 0,
  top = 0,
  rows = Number.POSITIVE_INFINITY,
): string[] {
  const groups = result.breakdown ?? [];
  const n = result.steps.length;
  const colW = 9;
  const valueW = Math.max(8, Math.min(24, width - n * (colW + 1) - 8));
  const first = clamp(from, 0, Math.max(0, n - 1));
  const head = [
    padEnd(first > 0 ? `‹ ${cleanText(key)}` : cleanText(key), valueW),
    // In any order column k counts any k of the steps.
    ...result.steps
      .slice(first)
      .map((_, i) =>
        padStart(result.order === "any" ? `any ${first + i + 1}` : `step ${first + i + 1}`, colW),
      ),
    padStart("conv", 7),
  ].join(" ");
  const room = Math.max(1, rows === Number.POSITIVE_INFINITY ? groups.length : rows);
  const more = groups.length > room;
  const shown = more ? Math.max(1, room - 1) : groups.length;
  const start = clamp(top, 0, Math.max(0, groups.length - shown));
  const lines = [head];
  for (const g of groups.slice(start, start + shown)) {
    const firstUsers = g.steps[0]?.users ?? 0;
    const last = g.steps[n - 1]?.users ?? 0;
    lines.push(
      [
        padEnd(cleanText(g.value), valueW),
        ...g.steps.slice(first).map((s) => padStart(formatNumber(s.users), colW)),
        padStart(firstUsers ? formatPercent(last / firstUsers) : "–", 7),
      ].join(" "),
    );
  }
  if (more) lines.push(`values ${start + 1}-${start + shown} of ${groups.length} (pgup/pgdn)`);
  return lines.map((l) => truncate(l, width));
}

type Picker =
  | null
  | "add"
  | "window"
  | "breakdown"
  | "filter"
  | "exclude"
  | "excludeRange"
  | "hold"
  | "value"
  | "annotateFrom"
  | "annotations";

export interface FunnelScreenProps {
  width: number;
  height: number;
  model: FunnelModel;
  setModel: Dispatch<SetStateAction<FunnelModel>>;
}

export function FunnelScreen({ width, height, model, setModel }: FunnelScreenProps) {
  const env = useAppEnv();
  const { range } = env;
  const [picker, setPicker] = useState<Picker>(null);
  const [drill, setDrill] = useState<{ target: DrillTarget; spec: FunnelSpec } | null>(null);
  /** The excluded event picked with `X`, waiting for its step range. */
  const [excluded, setExcluded] = useState<EventRef | null>(null);
  const spec = useMemo(() => funnelSpec(model, range), [model, range]);
  const q = useQuery(spec);
  const update = (patch: Partial<FunnelModel>) => setModel((m) => ({ ...m, ...patch }));
  const interval = fitInterval(model.interval, range);

  useReportResult("funnel", "Funnel", q);

  const n = model.steps.length;
  const sel = clamp(model.selected, 0, Math.max(0, n - 1));
  // Result rows only describe the steps they were computed for.
  const result = q.fresh || q.status === "running" ? q.data : undefined;
  const ranSteps = q.spec?.kind === "funnel" ? q.spec.steps : undefined;
  const usable = result && ranSteps && specKey(ranSteps) === specKey(model.steps) ? result : undefined;
  // The breakdown table is under the bars (not the time-to-convert or over-time chart): ←/→ and
  // pgup/pgdn scroll it.
  const tableOn =
    !!usable?.breakdown &&
    model.breakdown !== undefined &&
    !(usable.time_to_convert && model.timeToConvert) &&
    !(usable.trend && model.overTime);
  // The spec behind the numbers on screen, else the one asked for: the settings line describes it.
  const shownSpec = usable && q.spec?.kind === "funnel" ? q.spec : spec;
  /**
   * The steps whose keys the hold and value still have to be checked against (`specKey` of the steps),
   * after a step edit; the check runs on the props of those steps (the pickers' own query).
   */
  const [keysCheck, setKeysCheck] = useState<string | null>(null);
  const stepsKey = specKey(model.steps);
  const keysQ = useQuery(
    keysCheck === stepsKey
      ? stepPropsSpec(
          model.steps.map((s) => s.event),
          range,
        )
      : null,
  );
  // biome-ignore lint/correctness/useExhaustiveDependencies: runs when the keys of the steps arrive
  useEffect(() => {
    if (keysCheck !== stepsKey || !keysQ.fresh || !keysQ.data) return;
    setKeysCheck(null);
    const { model: next, notes } = checkFunnelKeys(model, keysQ.data.props);
    if (!notes.length) return;
    setModel(next);
    env.notify(notes.join("; "));
  }, [keysCheck, stepsKey, keysQ.fresh, keysQ.data]);
  /** A step edit, with every exclusion, hold and value re-checked; what changed is said in the hint bar. */
  const changeSteps = (change: StepChange) => {
    const { model: next, notes } = changeFunnelSteps({ ...model, selected: sel }, change);
    setModel(next);
    if (notes.length) env.notify(notes.join("; "));
    if (next.steps.length && (next.hold !== undefined || next.value !== undefined))
      setKeysCheck(specKey(next.steps));
  };
  const move = (delta: number) => {
    const to = sel + delta;
    if (to < 0 || to >= n) return;
    changeSteps({ kind: "move", from: sel, to });
  };

  useKeys(
    (input, key) => {
      if (matches("funnel.add", input, key)) setPicker("add");
      else if (matches("funnel.remove", input, key)) {
        if (!n) return true;
        changeSteps({ kind: "remove", index: sel });
      } else if (matches("funnel.up", input, key))
        update({ selected: clamp(sel - 1, 0, Math.max(0, n - 1)) });
      else if (matches("funnel.down", input, key))
        update({ selected: clamp(sel + 1, 0, Math.max(0, n - 1)) });
      else if (matches("funnel.left", input, key) || matches("funnel.right", input, key)) {
        if (!tableOn) return false;
        const d = matches("funnel.left", input, key) ? -1 : 1;
        update({ bdFrom: clamp((model.bdFrom ?? 0) + d, 0, Math.max(0, n - 1)) });
      } else if (matches("funnel.pageUp", input, key) || matches("funnel.pageDown", input, key)) {
        if (!tableOn) return false;
        const page = Math.max(1, restH - 3);
        const d = matches("funnel.pageUp", input, key) ? -page : page;
        const values = usable?.breakdown?.length ?? 0;
        update({ bdTop: clamp((model.bdTop ?? 0) + d, 0, Math.max(0, values - 1)) });
      } else if (matches("funnel.moveDown", input, key)) move(1);
      else if (matches("funnel.moveUp", input, key)) move(-1);
      else if (matches("funnel.window", input, key)) setPicker("window");
      else if (matches("funnel.breakdown", input, key)) {
        if (n) setPicker("breakdown");
      } else if (matches("funnel.filter", input, key)) setPicker("filter");
      else if (matches("funnel.clearFilters", input, key)) update({ filters: [] });
      else if (matches("funnel.overTime", input, key)) update({ overTime: !model.overTime });
      else if (matches("funnel.interval", input, key))
        // A new interval is only worth choosing with the chart on: `i` turns it on.
        update({ overTime: true, interval: model.overTime ? nextInterval(interval, range) : interval });
      else if (matches("funnel.compare", input, key)) update({ compare: nextCompare(model.compare) });
      else if (matches("funnel.order", input, key))
        update({ order: ORDERS[(ORDERS.indexOf(model.order ?? "ordered") + 1) % ORDERS.length] });
      else if (matches("funnel.exclude", input, key)) {
        if (n < 2) env.notify("add two steps first: an exclusion lies between steps");
        else setPicker("exclude");
      } else if (matches("funnel.clearExclusions", input, key)) update({ exclude: [] });
      else if (matches("funnel.hold", input, key)) {
        if (n) setPicker("hold");
      } else if (matches("funnel.value", input, key)) {
        if (n) setPicker("value");
      } else if (matches("funnel.timeToConvert", input, key)) {
        update({ timeToConvert: !model.timeToConvert });
      } else if (matches("funnel.annotateFrom", input, key)) {
        if (n) setPicker("annotateFrom");
      } else if (matches("funnel.annotations", input, key)) {
        if (model.overTime) setPicker("annotations");
        else env.notify("annotations are drawn on the conversion over time: v shows it");
      } else if (matches("funnel.users", input, key)) {
        // The users behind the step as shown: the spec of the result on screen.
        const shown = usable && q.spec?.kind === "funnel" ? q.spec : null;
        if (!shown) env.notify("no result yet: Enter lists a step's users once the funnel has run");
        else setDrill({ target: funnelTarget(shown, sel + 1, "reached"), spec: shown });
      } else return false;
      return true;
    },
    { priority: PRIORITY.screen, isActive: picker === null && drill === null },
  );
  // For the command palette: what these keys would do nothing for now.
  useActions(
    "funnel",
    [
      !n && "funnel.remove",
      !n && "funnel.breakdown",
      !n && "funnel.hold",
      !n && "funnel.value",
      !n && "funnel.annotateFrom",
      !model.overTime && "funnel.annotations",
      sel <= 0 && "funnel.moveUp",
      sel >= n - 1 && "funnel.moveDown",
      n < 2 && "funnel.exclude",
      !model.filters.length && "funnel.clearFilters",
      !model.exclude?.length && "funnel.clearExclusions",
      !(usable && q.spec?.kind === "funnel") && "funnel.users",
    ],
    picker === null && drill === null,
  );

  const labels = useMemo(() => model.steps.map((s) => formatEventRef(s)), [model.steps]);
  const barLines = useMemo(
    () => funnelBars(labels, usable, width, env.color, env.ascii, shownSpec?.order === "any"),
    [labels, usable, width, env.color, env.ascii, shownSpec?.order],
  );

  const { state, stateColor } = queryState(q);
  // The settings wrap onto a second line when they do not fit (then `+N more`; `?` shows them all).
  const modes = funnelModesLabel(shownSpec ?? model, model);
  const settings = settingsLayout(
    "Funnel · ",
    settingTokens(
      `window ${formatDuration(model.withinSeconds)}`,
      // Each mode its own setting (`order strict`, `excluding X@1-3`, …), so a line breaks between them.
      ...(modes ? modes.split(" · ") : []),
      `compare ${compareState(model.compare, range)}`,
      `breakdown ${model.breakdown ?? "–"}`,
      model.filters,
      model.overTime && `over time per ${interval}`,
      model.overTime && model.annotationsFrom !== undefined && `marks ${model.annotationsFrom}`,
      model.timeToConvert && "time to convert",
    ),
    width,
    stateRoom(state, stateColor),
  );
  useReportSettings("funnel", settings.cut ? settings.full : "");
  const settingsH = settings.lines.length;

  const vsLine = usable ? compareLine(usable) : null;
  const cmpNote = usable ? compareNote(usable.compare) : null;
  // settings, header, steps, compare, note, hints
  const used = settingsH + 1 + n + 1 + (vsLine ? 1 : 0) + (cmpNote ? 1 : 0);
  const restH = Math.max(0, height - used - 1);
  const trendInterval = usable && q.spec?.kind === "funnel" ? q.spec.trendInterval : undefined;
  const dataTz = (q.spec && "range" in q.spec ? q.spec.range?.tz : undefined) ?? range?.tz ?? "UTC";
  // Annotations on the over-time chart: the notes in range and the `r` key's first values.
  const markers: PlacedMarker[] = useMemo(() => {
    if (!usable?.trend || !model.overTime) return [];
    const shown = q.spec?.kind === "funnel" ? resolvedRange(q.spec.range) : null;
    return placeMarkers(
      (shown ? mergeNotes(usable.annotations, notesOrNone(), shown.from, shown.to) : usable.annotations) ??
        [],
      usable.trend.map((p) => p.t),
    );
  }, [usable, model.overTime, q.spec]);
  const extra = useMemo(() => {
    if (!usable || restH < 3) return [] as string[];
    if (usable.time_to_convert && model.timeToConvert)
      return timeToConvertLines(
        usable.time_to_convert,
        width,
        restH,
        env.color,
        env.ascii,
        usable.sample !== undefined,
      );
    if (usable.trend && model.overTime && trendInterval) {
      const values = usable.trend.map((p) => (p.entered ? (100 * p.converted) / p.entered : 0));
      const entered = usable.trend.reduce((a, p) => a + p.entered, 0);
      const converted = usable.trend.reduce((a, p) => a + p.converted, 0);
      const n = (v: number) => est(usable, formatNumber(v));
      const title = `Conversion over time (per ${trendInterval}): ${n(converted)} of ${n(entered)} users`;
      // Annotations under the x axis, a legend of at most two lines (`n` lists them all), as on Trends.
      const ts = usable.trend.map((p) => p.t);
      const legend = markers.length
        ? annotationLegend(markers, { tz: dataTz, width, maxLines: 2, more: "· n lists them all" })
        : [];
      return [
        title,
        ...lineChart(
          [{ label: "conversion %", values, incomplete: usable.trend.map((p) => p.incomplete === true) }],
          {
            width,
            height: Math.max(1, restH - 1 - legend.length),
            xLabels: timeLabels(ts, trendInterval, { tz: dataTz }),
            color: env.color,
            ascii: env.ascii,
            yFormat: (v) => `${v.toFixed(0)}%`,
            ...(markers.length ? { markers: markers.map((m) => ({ point: m.point, mark: m.mark })) } : {}),
          },
        ),
        ...legend,
      ];
    }
    if (usable.breakdown && model.breakdown !== undefined) {
      return breakdownTable(usable, model.breakdown, width, model.bdFrom ?? 0, model.bdTop ?? 0, restH - 1);
    }
    return [];
  }, [
    usable,
    restH,
    model.overTime,
    model.timeToConvert,
    trendInterval,
    dataTz,
    model.breakdown,
    model.bdFrom,
    model.bdTop,
    width,
    env.color,
    env.ascii,
    markers,
  ]);

  if (drill) {
    return (
      <DrillPanel
        width={width}
        height={height}
        target={drill.target}
        flip={flipFunnel(drill.spec)}
        onClose={() => setDrill(null)}
      />
    );
  }
  if (picker === "add") {
    return (
      <EventPicker
        title={`Add step ${n + 1}`}
        catalog={env.catalog.data}
        range={range}
        width={width}
        height={height}
        withFilter
        onPick={(ref) => {
          changeSteps({ kind: "insert", index: n, step: ref });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "window") {
    return (
      <WindowEditor
        current={model.withinSeconds}
        width={width}
        height={height}
        onPick={(withinSeconds) => {
          update({ withinSeconds });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "breakdown" || picker === "hold" || picker === "value") {
    // One property picker for the three keys the funnel can use: the breakdown is step 1's value (in
    // any order the anchor's, which may be any step), while hold and value apply to every step, so they
    // list the keys of all steps (value: those with numbers).
    const { title, noneHint } = KEY_PICKERS[picker];
    return (
      <BreakdownPicker
        event={model.steps[0]?.event}
        events={picker === "breakdown" && model.order !== "any" ? undefined : model.steps.map((s) => s.event)}
        numeric={picker === "value"}
        range={range}
        current={model[picker]}
        width={width}
        height={height}
        title={title}
        noneHint={noneHint}
        onPick={(k) => {
          update({ [picker]: k, ...(picker === "breakdown" ? { bdFrom: 0, bdTop: 0 } : {}) });
          setPicker(null);
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "annotateFrom") {
    return (
      <MarkKeyPicker
        events={model.steps.map((s) => s.event)}
        range={range}
        current={model.annotationsFrom}
        width={width}
        height={height}
        where="over time"
        onPick={(annotationsFrom) => {
          // The marks are drawn on the conversion over time: picking a key turns it on.
          update({ annotationsFrom, ...(annotationsFrom !== undefined ? { overTime: true } : {}) });
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
        closeId="funnel.annotations"
        onClose={() => setPicker(null)}
      />
    );
  }
  if (picker === "exclude") {
    return (
      <EventPicker
        title="Exclude attempts with this event between steps"
        catalog={env.catalog.data}
        range={range}
        width={width}
        height={height}
        withFilter
        onPick={(ref) => {
          setExcluded(ref);
          setPicker("excludeRange");
        }}
        onCancel={() => setPicker(null)}
      />
    );
  }
  if (picker === "excludeRange" && excluded) {
    const text = (t: string) => `${formatEventRef(excluded)}${t.trim() ? `@${t.trim()}` : ""}`;
    return (
      <TextPrompt
        title={`Between which steps? (A-B, 1 ≤ A < B ≤ ${n}; empty: 1-${n})`}
        initial=""
        width={width}
        help={[`excluding ${formatEventRef(excluded)}`, "e.g. 1-2: between step 1 and step 2"]}
        validate={(t) => {
          try {
            parseExclusion(text(t), n);
            return null;
          } catch (e) {
            return (e as Error).message;
          }
        }}
        onSubmit={(t) => {
          update({ exclude: [...(model.exclude ?? []), parseExclusion(text(t), n)] });
          setExcluded(null);
          setPicker(null);
        }}
        onCancel={() => {
          setExcluded(null);
          setPicker(null);
        }}
      />
    );
  }
  if (picker === "filter") {
    return (
      <AddFilterPrompt
        title="Add a filter (applies to every step)"
        event={model.steps[0]?.event}
        range={range}
        width={width}
        onAdd={(f) => update({ filters: [...model.filters, f] })}
        onDone={() => setPicker(null)}
      />
    );
  }

  let body: ReactNode;
  if (n === 0)
    body = <Line text="No steps yet: press a to add the first step of the funnel." width={width} />;
  else {
    body = (
      <>
        <Line text={barLines.header} width={width} dim />
        <Lines lines={barLines.rows} marker={sel} />
        {vsLine ? <Line text={`  ${vsLine}`} width={width} dim /> : null}
        {cmpNote ? <Line text={`  ${cmpNote}`} width={width} color="yellow" /> : null}
        {n === 1 ? <Line text="Add a second step (a) to see conversion." width={width} dim /> : null}
        <Lines lines={extra} />
      </>
    );
  }

  return (
    <Box flexDirection="column" width={width} height={height}>
      <SettingsLines layout={settings} state={state} stateColor={stateColor} width={width} />
      <Box flexDirection="column" height={Math.max(1, height - 1 - settingsH)} overflow="hidden">
        {body}
      </Box>
      <HintLine
        ids={[
          "funnel.add",
          "funnel.remove",
          "funnel.users",
          "funnel.compare",
          "funnel.order",
          "funnel.exclude",
          "funnel.hold",
          "funnel.value",
          "funnel.moveDown",
          "funnel.moveUp",
          "funnel.window",
          "funnel.breakdown",
          "funnel.overTime",
          "funnel.timeToConvert",
          "funnel.annotateFrom",
          "funnel.filter",
        ]}
        width={width}
      />
    </Box>
  );
}
