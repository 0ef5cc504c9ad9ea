/**
 * Chart widgets as plain string builders: each returns lines that are at most `width` display
 * columns, so they can be tested without Ink and drawn with one `<Text wrap="truncate">` per line.
 * Colour is opt-in per call (`color: true` adds SGR codes); decide it once with `useColor()`.
 * Labels passed in are assumed to be clean (see `cleanText`); they are cleaned again defensively.
 */
import * as asciichart from "asciichart";
import type { Period, RetentionResult } from "../queries/spec.js";
import { formatCompact, formatNumber, timeLabel } from "./format.js";
import { est } from "./sample.js";
import { cleanText, displayWidth, padEnd, padStart, truncate, truncateAnsi } from "./sanitize.js";

const RESET = "\x1b[0m";
const DIM = "\x1b[2m";

/* ---------- colour detection ---------- */

/** The parts of a `tty.WriteStream` colour detection needs. */
export interface ColorStream {
  isTTY?: boolean;
  getColorDepth?: (env?: NodeJS.ProcessEnv) => number;
  hasColors?: (count?: number, env?: NodeJS.ProcessEnv) => boolean;
}

/**
 * Whether widgets should emit colour. False when `NO_COLOR` is set to anything non-empty, when
 * `TERM=dumb`, when `FORCE_COLOR=0`, or when `stream` is given and is not a terminal or has fewer
 * than 16 colours. A non-zero `FORCE_COLOR` skips the stream check. Not a React hook despite the
 * name: call it anywhere.
 */
export function useColor(env: NodeJS.ProcessEnv = process.env, stream?: ColorStream): boolean {
  if (env.NO_COLOR) return false;
  if (env.TERM === "dumb") return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== "") return force !== "0" && force !== "false";
  if (!stream) return true;
  if (stream.isTTY === false) return false;
  if (typeof stream.hasColors === "function") return stream.hasColors(16, env);
  if (typeof stream.getColorDepth === "function") return stream.getColorDepth(env) >= 4;
  return false;
}

/* ---------- resampling ---------- */

export type Downsample = "mean" | "max";

/** One plotted column: its value, and the source index whose label belongs under it (-1 for none). */
interface Column {
  value: number;
  source: number;
}

const num = (v: number) => (Number.isFinite(v) ? v : 0);

/**
 * `values` fitted to `columns` columns. Longer input is bucketed (bucket mean or max, each bucket
 * labelled by its first source index); shorter input is stretched with linear interpolation
 * between the real points (which keep their exact values and their labels) when `stretch` is set.
 */
export function resample(
  values: number[],
  columns: number,
  mode: Downsample = "mean",
  stretch = true,
  length = values.length,
): Column[] {
  return spans(values, columns, { stretch, length }).map((s) => ({
    value: mode === "max" ? s.max : s.sum / s.count,
    source: s.source,
  }));
}

/**
 * One plotted column of a series: the source points merged into it (one point, or with `stretch` a
 * point interpolated between two real ones), in order `first … last`, spanning `min … max`.
 */
export interface Span {
  first: number;
  last: number;
  min: number;
  max: number;
  sum: number;
  count: number;
  /** The source index whose x label belongs under this column (the bucket's first), -1 for none. */
  source: number;
  /** Any merged point is incomplete; for an interpolated column, the point it leads into is. */
  incomplete: boolean;
}

export interface SpanOptions {
  /** Stretch short series across the columns (linear interpolation). Default true. */
  stretch?: boolean;
  /** Points of the longest series drawn beside this one (a shorter one ends early). */
  length?: number;
  /** Same indexing as `values`. */
  incomplete?: boolean[];
}

/**
 * `values` fitted to `columns` columns, keeping everything a chart needs to be honest: a bucket of
 * several points keeps its first, last, min and max, so a spike of one point stays visible however
 * many points share its column.
 */
export function spans(values: number[], columns: number, opts: SpanOptions = {}): Span[] {
  const n = opts.length ?? values.length;
  const m = Math.max(0, Math.floor(columns));
  if (n === 0 || m === 0) return [];
  const at = (i: number) => (i < values.length ? num(values[i]!) : Number.NaN);
  const inc = (i: number) => opts.incomplete?.[i] === true;
  const point = (v: number, source: number, incomplete: boolean): Span => ({
    first: v,
    last: v,
    min: v,
    max: v,
    sum: v,
    count: 1,
    source,
    incomplete,
  });
  if (n > m) {
    const out: Span[] = [];
    for (let c = 0; c < m; c++) {
      const a = Math.floor((c * n) / m);
      const b = Math.floor(((c + 1) * n) / m);
      let s: Span | null = null;
      for (let i = a; i < b; i++) {
        const v = at(i);
        if (Number.isNaN(v)) break; // past the end of a shorter series
        if (!s) s = point(v, a, inc(i));
        else {
          s.last = v;
          s.min = Math.min(s.min, v);
          s.max = Math.max(s.max, v);
          s.sum += v;
          s.count++;
          s.incomplete ||= inc(i);
        }
      }
      if (!s) break;
      out.push(s);
    }
    return out;
  }
  if (opts.stretch === false || n === m) {
    const out: Span[] = [];
    for (let i = 0; i < Math.min(n, values.length); i++) out.push(point(at(i), i, inc(i)));
    return out;
  }
  if (n === 1) {
    if (values.length === 0) return [];
    return Array.from({ length: m }, (_, c) => point(at(0), c === 0 ? 0 : -1, inc(0)));
  }
  const out: Span[] = [];
  const pos = (i: number) => Math.round((i * (m - 1)) / (n - 1));
  for (let i = 0; i < n - 1; i++) {
    const v0 = at(i);
    const v1 = at(i + 1);
    if (Number.isNaN(v0)) break;
    const c0 = pos(i);
    const c1 = pos(i + 1);
    if (Number.isNaN(v1)) {
      out.push(point(v0, i, inc(i)));
      break;
    }
    // Columns between two points belong to the segment into the later one.
    for (let c = c0; c < c1; c++) {
      const v = c === c0 ? v0 : v0 + ((v1 - v0) * (c - c0)) / (c1 - c0);
      out.push(point(v, c === c0 ? i : -1, c === c0 ? inc(i) : inc(i + 1)));
    }
    if (i === n - 2) out.push(point(v1, n - 1, inc(n - 1)));
  }
  return out;
}

/* ---------- line chart ---------- */

export interface LineSeries {
  label: string;
  values: number[];
  /**
   * Points whose period is not complete (same indexing as `values`): they and the segments into them
   * are drawn dotted (`┈ ┊`, `:` in ASCII), dimmed too with colour, and the legend says so
   * (docs/semantics.md, "Partial data").
   */
  incomplete?: boolean[];
  /**
   * A compare series: drawn under the others, dimmed in the colour of series `colorIndex` (default its
   * own index), and with `.` dots when there is no colour.
   */
  dim?: boolean;
  colorIndex?: number;
}

/** The marker of a dim (compare) series without colour: dots read as "the other period". */
export const DIM_MARKER = ".";
/** The glyphs of incomplete points (box drawing; ASCII uses `INCOMPLETE_ASCII` for both). */
export const INCOMPLETE_H = "┈";
export const INCOMPLETE_V = "┊";
export const INCOMPLETE_ASCII = ":";

function seriesColor(s: LineSeries, i: number): string {
  const c = SERIES_COLORS[(s.colorIndex ?? i) % SERIES_COLORS.length]!;
  return s.dim ? `${DIM}${c}` : c;
}

export interface LineChartOptions {
  /** Total columns available; every returned line is at most this wide. */
  width: number;
  /** Total lines returned, including the x-axis row and the legend row. */
  height: number;
  /** One label per point (same indexing as `values`); a few evenly spaced ones are drawn. */
  xLabels: string[];
  color: boolean;
  /** ASCII line characters instead of box drawing. */
  ascii?: boolean;
  /** Stretch short series across the width (linear interpolation). Default true. */
  stretch?: boolean;
  /** Legend row; default true (dropped first when height is short). */
  legend?: boolean;
  /** Y-axis tick formatter; default compact (`1.2k`) with decimals when the step is small. */
  yFormat?: (v: number) => string;
  /**
   * Annotation markers (render/annotations.ts): a row under the x axis with each mark at the column
   * of its point (`*` where several share one). It takes a plot row, so the height stays the same.
   */
  markers?: { point: number; mark: string }[];
}

/** Series colours (asciichart SGR codes), cycled. */
export const SERIES_COLORS = [
  asciichart.cyan,
  asciichart.magenta,
  asciichart.yellow,
  asciichart.green,
  asciichart.lightred,
  asciichart.lightblue,
  asciichart.lightmagenta,
  asciichart.lightgreen,
];
/** Without colour, series after the first are drawn with these markers. */
export const SERIES_MARKERS = ["*", "+", "o", "x", "#", "%", "@", "="];

/* A plot cell is the set of directions the line leaves it by. */
const LEFT = 1;
const RIGHT = 2;
const UP = 4;
const DOWN = 8;
const BOX_GLYPHS: Record<number, string> = {
  [LEFT | RIGHT]: "─",
  [UP | DOWN]: "│",
  [UP]: "│",
  [DOWN]: "│",
  [LEFT]: "─",
  [RIGHT]: "─",
  [LEFT | UP]: "╯",
  [LEFT | DOWN]: "╮",
  [RIGHT | UP]: "╰",
  [RIGHT | DOWN]: "╭",
  [LEFT | RIGHT | UP]: "┴",
  [LEFT | RIGHT | DOWN]: "┬",
  [LEFT | UP | DOWN]: "┤",
  [RIGHT | UP | DOWN]: "├",
  [LEFT | RIGHT | UP | DOWN]: "┼",
};
const ASCII_GLYPHS: Record<number, string> = {
  [LEFT | RIGHT]: "-",
  [UP | DOWN]: "|",
  [UP]: "|",
  [DOWN]: "|",
  [LEFT]: "-",
  [RIGHT]: "-",
  [LEFT | UP]: "'",
  [LEFT | DOWN]: ".",
  [RIGHT | UP]: "`",
  [RIGHT | DOWN]: ".",
};

function glyph(dirs: number, ascii: boolean | undefined, incomplete: boolean, marker: string | null): string {
  if (incomplete) return ascii ? INCOMPLETE_ASCII : dirs & (LEFT | RIGHT) ? INCOMPLETE_H : INCOMPLETE_V;
  if (marker !== null) return marker;
  return (ascii ? (ASCII_GLYPHS[dirs] ?? "+") : BOX_GLYPHS[dirs]) ?? "┼";
}

function tickFormatter(min: number, max: number, rows: number): (v: number) => string {
  const step = rows > 0 ? (max - min) / rows : 1;
  const big = Math.max(Math.abs(min), Math.abs(max)) >= 1000;
  if (big) return (v) => formatCompact(v);
  const decimals = step >= 1 ? 0 : Math.min(3, Math.ceil(-Math.log10(step)));
  return (v) => {
    const t = v.toFixed(decimals);
    return /^-0(\.0*)?$/.test(t) ? t.slice(1) : t;
  };
}

function blank(width: number, height: number, message: string): string[] {
  const lines = Array.from({ length: Math.max(0, height) }, () => "");
  if (lines.length > 0) lines[0] = truncate(message, Math.max(0, width));
  return lines;
}

/** A drawn plot cell: its glyph and the SGR style it is drawn in ("" for none). */
interface Cell {
  ch: string;
  style: string;
}

/**
 * A multi-series line chart: y labels in a left gutter, an axis, one plot column per resampled
 * point, an x-axis label row and a legend row. Degrades: short heights drop the legend, then the axis
 * row; height 1 gives a sparkline of the first series.
 *
 * Honest by construction: the y range is the data's (with 0), and a column that merges several
 * points draws their whole min–max extent, so the axis top and bottom are always reached by the line
 * and a spike of one point shows wherever it falls.
 */
export function lineChart(series: LineSeries[], opts: LineChartOptions): string[] {
  const width = Math.max(0, Math.floor(opts.width));
  const height = Math.max(0, Math.floor(opts.height));
  if (height === 0 || width === 0) return [];
  const live = series.filter((s) => s.values.length > 0);
  if (live.length === 0) return blank(width, height, "no data");
  if (height === 1) return [sparkline(live[0]!.values, width, { ascii: opts.ascii })];

  let legendRow = opts.legend !== false;
  let axisRow = true;
  let plotRows = height - (legendRow ? 1 : 0) - 1;
  if (plotRows < 2 && legendRow) {
    legendRow = false;
    plotRows++;
  }
  if (plotRows < 2) {
    axisRow = false;
    plotRows++;
  }
  const markerRow = !!opts.markers?.length && plotRows > 2;
  if (markerRow) plotRows--;

  // Range: always include 0 (counts), never empty.
  let lo = 0;
  let hi = 0;
  for (const s of live) {
    for (const v of s.values) {
      lo = Math.min(lo, num(v));
      hi = Math.max(hi, num(v));
    }
  }
  if (hi === lo) hi = lo + 1;
  const h = plotRows - 1; // rows above the bottom one
  const fmt = opts.yFormat ?? tickFormatter(lo, hi, h);
  const tick = (r: number) => fmt(r === h ? hi : lo + (r * (hi - lo)) / h);
  let labelWidth = 1;
  for (let r = 0; r <= h; r++) labelWidth = Math.max(labelWidth, displayWidth(tick(r)));
  // Line = label + space + axis + one column per resampled point.
  let columns = width - labelWidth - 2;
  if (columns < 2) {
    labelWidth = Math.max(0, width - 4);
    columns = width - labelWidth - 2;
  }
  if (columns < 1) return blank(width, height, "…");

  const n = Math.max(...live.map((s) => s.values.length));
  // Dim (compare) series are drawn first, so the current ones lie on top.
  const order = live.map((_, i) => i).sort((a, b) => Number(!live[a]!.dim) - Number(!live[b]!.dim));
  const fitted = order.map((i) =>
    spans(live[i]!.values, columns, {
      stretch: opts.stretch !== false,
      length: n,
      incomplete: live[i]!.incomplete,
    }),
  );
  const sources = fitted.reduce((a, b) => (b.length > a.length ? b : a));

  // Row of a value, 0 at the bottom; `hi` is exactly the top row and `lo` exactly the bottom one.
  const rowOf = (v: number) => Math.min(h, Math.max(0, Math.round(((v - lo) / (hi - lo)) * h)));
  const grid: (Cell | null)[][] = Array.from({ length: h + 1 }, () => Array<Cell | null>(columns).fill(null));
  fitted.forEach((cols, j) => {
    const i = order[j]!;
    const s = live[i]!;
    // Without colour, series after the first (and compare series) are told apart by a marker.
    const marker =
      opts.color || (i === 0 && !s.dim)
        ? null
        : s.dim
          ? DIM_MARKER
          : SERIES_MARKERS[(i - 1) % SERIES_MARKERS.length]!;
    const color = opts.color ? seriesColor(s, i) : "";
    let prev: number | null = null;
    cols.forEach((col, x) => {
      // The column's path: in from the left at the previous column's last value, through every
      // merged point (its min–max extent), out to the right at its own last value.
      const entry = prev ?? rowOf(col.first);
      const exit = rowOf(col.last);
      const bottom = Math.min(entry, rowOf(col.min));
      const top = Math.max(entry, rowOf(col.max));
      for (let r = bottom; r <= top; r++) {
        const dirs =
          (r === entry ? LEFT : 0) | (r === exit ? RIGHT : 0) | (r < top ? UP : 0) | (r > bottom ? DOWN : 0);
        const style = opts.color ? (col.incomplete && !s.dim ? `${DIM}${color}` : color) : "";
        grid[h - r]![x] = { ch: glyph(dirs, opts.ascii, col.incomplete, marker), style };
      }
      prev = exit;
    });
  });

  const axis = opts.ascii ? "|" : "┤";
  const out = grid.map((cells, y) => {
    let end = cells.length;
    while (end > 0 && cells[end - 1] === null) end--;
    let line = `${padStart(truncate(tick(h - y), labelWidth), labelWidth)} ${axis}`;
    let style = "";
    for (const c of cells.slice(0, end)) {
      const want = c?.style ?? "";
      if (want !== style) {
        line += style ? RESET : "";
        line += want;
        style = want;
      }
      line += c?.ch ?? " ";
    }
    return style ? line + RESET : line;
  });
  if (axisRow) out.push(xAxis(sources, opts.xLabels, labelWidth + 2, width));
  if (markerRow) out.push(markerLine(sources, opts.markers ?? [], labelWidth + 2));
  if (legendRow) out.push(legend(live, opts, width));
  return out.map((l) => (displayWidth(l) > width ? truncateAnsi(l, width) : l));
}

/**
 * The plot column of source point `point`: the last column whose first point is at or before it (a
 * merged column holds a run of points; a stretched chart puts each point on its own column).
 */
export function columnOfPoint(columns: Span[], point: number): number {
  let col = -1;
  for (let x = 0; x < columns.length; x++) {
    const s = columns[x]!.source;
    if (s < 0) continue;
    if (s > point) break;
    col = x;
  }
  return col;
}

/** The marker row: each mark under its point's column, `*` where several fall on one column. */
function markerLine(columns: Span[], markers: { point: number; mark: string }[], gutter: number): string {
  const cells: string[] = [];
  for (const m of markers) {
    const x = columnOfPoint(columns, m.point);
    if (x < 0) continue;
    cells[x] = cells[x] === undefined ? cleanText(m.mark).slice(0, 1) || "*" : "*";
  }
  let line = " ".repeat(gutter);
  for (let x = 0; x < cells.length; x++) line += cells[x] ?? " ";
  return line.trimEnd();
}

/** The x-axis label row: labels under evenly spaced columns that carry a real point, never overlapping. */
function xAxis(columns: Span[], labels: string[], gutter: number, width: number): string {
  const texts = labels.map((l) => cleanText(l ?? ""));
  const labelled = columns.map((c, i) => ({ col: i, source: c.source })).filter((c) => c.source >= 0);
  if (labelled.length === 0 || texts.length === 0) return "";
  const lw = Math.max(1, ...labelled.map((c) => displayWidth(texts[c.source] ?? "")));
  const span = Math.max(1, width - gutter);
  const k = Math.max(1, Math.min(labelled.length, Math.floor((span + 2) / (lw + 2))));
  const picked: { col: number; text: string }[] = [];
  for (let j = 0; j < k; j++) {
    const target = k === 1 ? 0 : Math.round((j * (columns.length - 1)) / (k - 1));
    let best = labelled[0]!;
    for (const c of labelled) if (Math.abs(c.col - target) < Math.abs(best.col - target)) best = c;
    if (picked.some((p) => p.col === best.col)) continue;
    picked.push({ col: best.col, text: texts[best.source] ?? "" });
  }
  let line = "";
  for (const p of picked) {
    const w = displayWidth(p.text);
    let start = gutter + p.col;
    if (start + w > width) start = width - w;
    if (start < displayWidth(line) + (line.length ? 2 : 0)) continue;
    line = line + " ".repeat(start - displayWidth(line)) + p.text;
  }
  return truncate(line, width);
}

/**
 * `label` in `room` columns. An `event · value` label is cut in its event part first: the value is
 * what tells a breakdown's series apart.
 */
function shortLabel(label: string, room: number): string {
  const k = label.indexOf(" · ");
  if (k > 0) {
    const tail = label.slice(k);
    if (room - displayWidth(tail) >= 2) return truncate(label.slice(0, k), room - displayWidth(tail)) + tail;
  }
  return truncate(label, room);
}

function legend(series: LineSeries[], opts: LineChartOptions, width: number): string {
  const line = opts.ascii ? "-" : "─";
  const parts: { plain: string; styled: string }[] = series.map((s, i) => {
    const mark = s.dim
      ? opts.color
        ? `${line}${line}`
        : DIM_MARKER.repeat(2)
      : opts.color || i === 0
        ? `${line}${line}`
        : SERIES_MARKERS[(i - 1) % SERIES_MARKERS.length]!.repeat(2);
    const label = cleanText(s.label) || `series ${i + 1}`;
    const color = seriesColor(s, i);
    return {
      plain: `${mark} ${label}`,
      styled: opts.color ? `${color}${mark}${RESET} ${label}` : `${mark} ${label}`,
    };
  });
  // Says what the dotted part is, whenever there is one; it is kept when series are dropped.
  let tail = "";
  let styledTail = "";
  if (series.some((s) => s.incomplete?.some((f, k) => f && k < s.values.length))) {
    const dots = (opts.ascii ? INCOMPLETE_ASCII : INCOMPLETE_H).repeat(2);
    tail = `  ${dots} incomplete`;
    styledTail = opts.color ? `  ${DIM}${dots}${RESET} incomplete` : tail;
  }
  // Fit: shorten labels evenly, then drop trailing series behind "+N".
  for (let shown = parts.length; shown >= 1; shown--) {
    const more = shown < parts.length ? `  +${parts.length - shown}` : "";
    const budget = width - displayWidth(more) - displayWidth(tail) - 2 * (shown - 1);
    const each = Math.floor(budget / shown);
    const widest = Math.max(...parts.slice(0, shown).map((p) => displayWidth(p.plain)));
    if (widest <= each || each >= 8) {
      const items = parts.slice(0, shown).map((p) => {
        if (displayWidth(p.plain) <= each) return p.styled;
        const [mark, ...rest] = p.plain.split(" ");
        const label = shortLabel(rest.join(" "), each - displayWidth(mark!) - 1);
        return p.styled.replace(/ .*$/s, () => ` ${label}`);
      });
      return truncateAnsi(items.join("  ") + more + styledTail, width);
    }
  }
  return truncateAnsi(parts[0]!.styled + styledTail, width);
}

/* ---------- sparkline ---------- */

const SPARKS = "▁▂▃▄▅▆▇█";
const SPARKS_ASCII = "_.-~=+*#";

/**
 * One character per value (`▁▂▃▄▅▆▇█`), bucket maxima when there are more values than `width`.
 * Scaled from min(0, min) to max; all-equal values give a flat `▁` line. Empty input → "".
 */
export function sparkline(values: number[], width: number, opts: { ascii?: boolean } = {}): string {
  // Bucket maxima, so that a spike of one value is never averaged away.
  const cols = resample(values, Math.max(0, Math.floor(width)), "max", false);
  if (cols.length === 0) return "";
  const chars = opts.ascii ? SPARKS_ASCII : SPARKS;
  const vs = cols.map((c) => c.value);
  const lo = Math.min(0, ...vs);
  const hi = Math.max(...vs);
  if (hi === lo) return chars[0]!.repeat(vs.length);
  return vs.map((v) => chars[Math.min(7, Math.max(0, Math.round(((v - lo) / (hi - lo)) * 7)))]).join("");
}

/* ---------- bars ---------- */

export interface BarRow {
  label: string;
  value: number;
  /** Extra text after the value, e.g. a conversion `42.1%`. */
  note?: string;
}

export interface BarsOptions {
  width: number;
  color: boolean;
  /** Value of a full bar; default the largest value. */
  max?: number;
  /** Bar colour (SGR) when `color`. Default cyan. */
  barColor?: string;
  /** `#` bars instead of block characters. */
  ascii?: boolean;
  /** Formats `value`; default `1,234,567`. */
  format?: (v: number) => string;
}

const EIGHTHS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

/** A bar of `fraction` (0..1) of `width` columns, in eighth-block precision; padded to `width`. */
export function bar(fraction: number, width: number, ascii = false): string {
  const w = Math.max(0, Math.floor(width));
  const f = Math.min(1, Math.max(0, num(fraction)));
  if (ascii) {
    let full = Math.round(f * w);
    if (full === 0 && f > 0 && w > 0) full = 1;
    return "#".repeat(full) + " ".repeat(w - full);
  }
  let eighths = Math.round(f * w * 8);
  if (eighths === 0 && f > 0 && w > 0) eighths = 1; // non-zero is always visible
  const full = Math.floor(eighths / 8);
  const part = EIGHTHS[eighths % 8]!;
  const s = "█".repeat(full) + part;
  return s + " ".repeat(w - full - (part ? 1 : 0));
}

/**
 * Horizontal bars, one line per row: `label  ████▋     12,345  42.1%`. Label, bar and value
 * columns share the width; the label column is capped at about a third of it. Below ~20 columns the
 * bar is dropped and only label and value remain.
 */
export function bars(rows: BarRow[], opts: BarsOptions): string[] {
  const width = Math.max(0, Math.floor(opts.width));
  if (rows.length === 0 || width === 0) return [];
  const fmt = opts.format ?? ((v: number) => formatNumber(v));
  const labels = rows.map((r) => cleanText(r.label));
  const values = rows.map((r) => fmt(r.value));
  const notes = rows.map((r) => (r.note ? cleanText(r.note) : ""));
  const valueW = Math.max(...values.map(displayWidth));
  const noteW = Math.max(0, ...notes.map(displayWidth));
  const right = valueW + (noteW ? noteW + 2 : 0);
  const labelW = Math.min(Math.max(...labels.map(displayWidth)), Math.max(4, Math.floor(width / 3)));
  let barW = width - labelW - right - 2;
  const showBar = barW >= 4;
  if (!showBar) barW = 0;
  const max = opts.max ?? Math.max(0, ...rows.map((r) => num(r.value)));
  const color = opts.barColor ?? asciichart.cyan;
  return rows.map((r, i) => {
    // Notes are left-aligned: a funnel's note is columns (conversion, ↳ step rate, median), and step 1
    // has no ↳ or median, so right-aligning would shift its conversion out of its column.
    const rightText = padStart(values[i]!, valueW) + (noteW ? `  ${padEnd(notes[i]!, noteW)}` : "");
    if (!showBar) {
      const lw = Math.max(0, width - displayWidth(rightText) - 1);
      return truncate(`${padEnd(labels[i]!, lw)} ${rightText}`, width);
    }
    const b = bar(max > 0 ? num(r.value) / max : 0, barW, opts.ascii);
    const drawn = opts.color ? `${color}${b.trimEnd()}${RESET}${" ".repeat(barW - b.trimEnd().length)}` : b;
    return `${padEnd(labels[i]!, labelW)} ${drawn} ${rightText}`;
  });
}

/* ---------- shading (retention) ---------- */

/** Background ramp (ANSI 256) from empty to full, with a readable foreground for each step. */
const RAMP_BG = [236, 17, 18, 19, 20, 25, 26, 32, 38];
// Text on the ramp: grey on the zero cell, white on the blues, black on the two lightest. Few distinct
// values, so neighbouring cells share one and the grid says it once per run (bytes over SSH).
const RAMP_FG = [250, 255, 255, 255, 255, 255, 255, 16, 16];
const BLOCKS = ["░", "▒", "▓", "█"];
const BLOCKS_ASCII = [".", ":", "+", "#"];

/** Level 0..4 for a rate: 0 is exactly zero, then sqrt-spaced steps (low rates stay visible). */
export function shadeLevel(rate: number): number {
  const r = Math.min(1, Math.max(0, num(rate)));
  if (r <= 0) return 0;
  return Math.min(4, Math.max(1, Math.ceil(Math.sqrt(r) * 4)));
}

export interface ShadeOptions {
  color: boolean;
  ascii?: boolean;
}

/**
 * One cell of shade for a rate (0..1). With colour: a space on a 256-colour background ramp.
 * Without: `░▒▓█` by level (a space for exactly 0), or `.:+#` with `ascii`.
 */
export function shade(rate: number, opts: ShadeOptions): string {
  if (opts.color) return shadeCell(rate, " ", opts);
  const level = shadeLevel(rate);
  return level === 0 ? " " : (opts.ascii ? BLOCKS_ASCII : BLOCKS)[level - 1]!;
}

/**
 * `text` shaded for a rate: with colour, on the background ramp; without, prefixed by the
 * `shade` character (so it is one column wider).
 */
export function shadeCell(rate: number, text: string, opts: ShadeOptions): string {
  if (!opts.color) return shade(rate, opts) + text;
  const i = rampIndex(rate);
  return `\x1b[48;5;${RAMP_BG[i]}m\x1b[38;5;${RAMP_FG[i]}m${text}${RESET}`;
}

function rampIndex(rate: number): number {
  const r = Math.min(1, Math.max(0, num(rate)));
  return r <= 0 ? 0 : Math.min(RAMP_BG.length - 1, 1 + Math.floor(Math.sqrt(r) * (RAMP_BG.length - 1)));
}

/** Resets the foreground only: before unshaded text in a grid row whose shaded cells leave theirs set. */
const FG_OFF = "\x1b[39m";

/**
 * A shaded grid cell that ends its background but leaves its foreground on (it colours only the
 * blank gap after it): a run of cells with one text colour then carries that colour's code once,
 * which Ink's renderer keeps (it re-encodes each line from the styles per character). Unshaded text
 * after it must begin with `FG_OFF`, and the row end with `RESET`.
 */
function shadeRun(rate: number, text: string): string {
  const i = rampIndex(rate);
  return `\x1b[38;5;${RAMP_FG[i]}m\x1b[48;5;${RAMP_BG[i]}m${text}\x1b[49m`;
}

export interface RetentionGridOptions {
  width: number;
  color: boolean;
  /** Columns per period cell, including the shade column and the incomplete marker. Default 7, min 6. */
  cellWidth?: number;
  /** Zone of the cohort buckets (the spec's `range.tz`) for labels. Default `UTC`. */
  tz?: string;
  ascii?: boolean;
  /** Show the `Average` row (from `result.average`) under the header. Default true. */
  average?: boolean;
  /**
   * The first period shown (a horizontal scroll: the cohort and users columns stay, the periods
   * before it are left out: the header says `‹+N` in place of `Cohort`). Default 0.
   */
  from?: number;
}

/** Marker after a cell whose period has not ended yet (its value can still grow). */
export const INCOMPLETE_MARK = "*";

const PERIOD_PREFIX: Record<Period, string> = { hour: "H", day: "D", week: "W", month: "M" };

function pct(rate: number, room: number): string {
  if (rate >= 0.9995) return "100%";
  const one = `${(rate * 100).toFixed(1)}%`;
  return displayWidth(one) <= room ? one : `${Math.round(rate * 100)}%`;
}

/**
 * The cohort × period table: `Cohort  Users  D0  D1 …`, an `Average` row, then one row per cohort.
 * Cells show the retained share shaded by rate; the cell at `incomplete_from` (the period holding
 * the last event: its value can still grow) ends with `*` (and is dimmed, not shaded, with colour),
 * and the cells after it are blank: those periods begin after the last event, so their zeros are not
 * data. Cohorts with no users show `–`. Trailing period
 * columns are dropped to fit `width` (the header then ends with `+N`); very narrow widths drop the
 * Users column, then shorten cohort labels.
 */
export function retentionGrid(result: RetentionResult, opts: RetentionGridOptions): string[] {
  const width = Math.max(0, Math.floor(opts.width));
  const cw = Math.max(6, Math.floor(opts.cellWidth ?? 7));
  const periods = Math.max(result.average?.length ?? 0, ...result.cohorts.map((c) => c.retained.length), 0);
  const showAverage = opts.average !== false;
  const cohortLabels = result.cohorts.map((c) =>
    cleanText(timeLabel(c.cohort, result.period, { tz: opts.tz })),
  );
  const totalUsers = result.cohorts.reduce((a, c) => a + num(c.users), 0);
  let labelW = Math.max(6, ...cohortLabels.map(displayWidth), showAverage ? 7 : 0);
  const usersTexts = result.cohorts.map((c) => est(result, formatNumber(c.users)));
  let usersW = Math.max(
    5,
    ...usersTexts.map(displayWidth),
    showAverage ? displayWidth(est(result, formatNumber(totalUsers))) : 0,
  );

  let fit = Math.floor((width - labelW - usersW - 2 + 1) / (cw + 1));
  if (fit < 1 && periods > 0) {
    usersW = 0; // drop the Users column
    fit = Math.floor((width - labelW - 1 + 1) / (cw + 1));
  }
  if (fit < 1 && periods > 0) {
    labelW = Math.max(3, width - cw - 1);
    fit = 1;
  }
  const from = Math.max(0, Math.min(Math.floor(opts.from ?? 0), Math.max(0, periods - 1)));
  const shown = Math.min(periods - from, Math.max(0, fit));
  const dropped = periods - from - shown;

  const room = cw - 2; // shade column + text + marker column
  const cell = (rate: number | null | undefined, incomplete: boolean): string => {
    const off = opts.color ? FG_OFF : "";
    if (rate === null || rate === undefined || !Number.isFinite(rate))
      return `${off}${padStart("–", cw - 1)} `;
    const text = padStart(pct(rate, room), room);
    const mark = incomplete ? INCOMPLETE_MARK : " ";
    if (!opts.color) return shade(rate, { color: false, ascii: opts.ascii }) + text + mark;
    if (incomplete) return `${off}${DIM} ${text}${mark}${RESET}`;
    // The mark is a space here: the foreground left on by `shadeRun` shows nothing on it.
    return `${shadeRun(rate, ` ${text}`)}${mark}`;
  };

  const row = (label: string, users: string, cells: string[]): string => {
    const parts = [padEnd(label, labelW)];
    if (usersW > 0) parts.push(padStart(users, usersW));
    const line = [...parts, ...cells].join(" ");
    return opts.color && cells.length ? `${line}${RESET}` : line;
  };

  const prefix = PERIOD_PREFIX[result.period] ?? "P";
  const header: string[] = [];
  for (let n = from; n < from + shown; n++) header.push(`${padStart(`${prefix}${n}`, cw - 1)} `);
  let headLine = row(from > 0 ? `‹+${from}` : "Cohort", "Users", header).trimEnd();
  if (dropped > 0) {
    const more = ` +${dropped}`;
    if (displayWidth(headLine) + displayWidth(more) <= width) headLine += more;
  }
  const out = [headLine];

  if (showAverage) {
    const cells: string[] = [];
    for (let n = from; n < from + shown; n++) cells.push(cell(result.average?.[n] ?? null, false));
    out.push(row("Average", est(result, formatNumber(totalUsers)), cells));
  }
  result.cohorts.forEach((c, i) => {
    const cells: string[] = [];
    for (let n = from; n < from + shown; n++) {
      if (!(num(c.users) > 0) || n >= c.retained.length) {
        cells.push(cell(null, false));
        continue;
      }
      if (c.incomplete_from !== null && n > c.incomplete_from) {
        cells.push(" ".repeat(cw)); // not begun yet
        continue;
      }
      cells.push(cell(num(c.retained[n]!) / c.users, n === c.incomplete_from));
    }
    out.push(row(cohortLabels[i]!, usersTexts[i]!, cells));
  });
  return out.map((l) => (displayWidth(l) > width ? truncateAnsi(l, width) : l));
}
