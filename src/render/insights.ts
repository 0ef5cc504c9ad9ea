/**
 * Text renderings of paths, stickiness and lifecycle results (issue #15), shared by the headless
 * human output and the TUI: pure functions from a result to lines.
 */
import * as asciichart from "asciichart";
import type { LifecycleResult, PathNode, PathsResult, StickinessResult } from "../queries/spec.js";
import { bar, bars } from "./charts.js";
import { bucketText, formatCompact, formatNumber, formatPercent, timeLabel } from "./format.js";
import { INCOMPLETE_BUCKET_MARK } from "./partial.js";
import { est } from "./sample.js";
import { cleanText, displayWidth, padEnd, padStart, truncate } from "./sanitize.js";

const RESET = "\x1b[0m";

/* ---------------- paths ---------------- */

/** One visible line of a paths tree. */
export interface PathRow {
  node: PathNode;
  /** Stable key of the node (its path as JSON). */
  key: string;
  /** `├─ ` / `└─ ` / `│  ` glyphs before the name. */
  indent: string;
  /** The node has children in the result. */
  hasChildren: boolean;
  /** Its children are hidden (collapsed). */
  collapsed: boolean;
  /** Its users over its parent's (the anchored users for a first step), from the node counts. */
  parentShare: number;
}

export const pathKey = (path: string[]) => JSON.stringify(path);

/**
 * The nodes of a result in display order (depth-first, as listed), without the descendants of the
 * collapsed nodes, each with its tree glyphs.
 */
export function pathRows(
  r: PathsResult,
  collapsed: ReadonlySet<string> = new Set(),
  ascii = false,
): PathRow[] {
  const kids = new Map<string, PathNode[]>();
  const usersOf = new Map<string, number>([[pathKey([]), r.users]]);
  for (const n of r.nodes) usersOf.set(pathKey(n.path), n.users);
  for (const n of r.nodes) {
    const parent = pathKey(n.path.slice(0, -1));
    const list = kids.get(parent) ?? [];
    list.push(n);
    kids.set(parent, list);
  }
  const [tee, elbow, pipe, gap] = ascii ? ["|- ", "`- ", "|  ", "   "] : ["├─ ", "└─ ", "│  ", "   "];
  const out: PathRow[] = [];
  const walk = (prefix: string[], indent: string) => {
    const list = kids.get(pathKey(prefix)) ?? [];
    list.forEach((node, i) => {
      const last = i === list.length - 1;
      const key = pathKey(node.path);
      const hasChildren = kids.has(key);
      const isCollapsed = hasChildren && collapsed.has(key);
      const parent = usersOf.get(pathKey(prefix)) ?? 0;
      out.push({
        node,
        key,
        indent: indent + (last ? elbow : tee),
        hasChildren,
        collapsed: isCollapsed,
        parentShare: parent > 0 ? node.users / parent : 0,
      });
      if (hasChildren && !isCollapsed) walk(node.path, indent + (last ? gap : pipe));
    });
  };
  walk([], "");
  return out;
}

export interface PathsTreeOptions {
  width: number;
  color: boolean;
  ascii?: boolean;
  collapsed?: ReadonlySet<string>;
}

/** The header line naming the anchor and its users. */
export function pathsHeader(r: PathsResult): string {
  const dir = r.direction === "after" ? "after" : "before";
  return cleanText(
    `${est(r, formatCompact(r.users))} users; what they did ${dir} ${r.anchor} (depth ${r.depth})`,
  );
}

/** Titles of the numbers' columns, aligned over them (`pathRowText`). */
export const PATH_COLUMNS = `${padStart("users", 7)} ${padStart("parent", 6)} ${padStart("all", 6)}`;

/**
 * The anchor line: the anchor (cleaned) and, at the right, the titles of the numbers' columns: users,
 * share of the parent node's users, share of all anchored users.
 */
export function pathsAnchorLine(r: PathsResult, width: number): string {
  const text = cleanText(`${r.anchor}${r.direction === "before" ? " (walking back)" : ""}`);
  const room = width - displayWidth(PATH_COLUMNS);
  if (room < 8) return truncate(text, width);
  return `${padEnd(text, room)}${PATH_COLUMNS}`;
}

/**
 * One tree row as text: glyphs, name, a bar of its share of all anchored users, users, the share of
 * its parent's users and the share of all.
 */
export function pathRowText(
  row: PathRow,
  labelW: number,
  opts: { width: number; color: boolean; ascii?: boolean; sampled?: boolean },
): string {
  const mark = row.collapsed ? (opts.ascii ? " +" : " ▸") : "";
  const label = `${row.indent}${cleanText(row.node.path[row.node.path.length - 1] ?? "")}${mark}`;
  // A sampled count is an estimate (docs/semantics.md, "Sampling").
  const users = formatCompact(row.node.users);
  const right = `${padStart(opts.sampled ? `≈${users}` : users, 7)} ${padStart(formatPercent(row.parentShare), 6)} ${padStart(formatPercent(row.node.share), 6)}`;
  const barW = Math.max(0, opts.width - labelW - displayWidth(right) - 2);
  const b = barW >= 4 ? bar(row.node.share, barW, opts.ascii) : "";
  const head = padEnd(truncate(label, labelW), labelW);
  if (!b) return truncate(`${head} ${right}`, opts.width);
  // labelW + bar + right + 2 spaces is exactly the width, so the coloured line needs no truncation.
  const drawn = opts.color
    ? `${asciichart.cyan}${b.trimEnd()}${RESET}${" ".repeat(b.length - b.trimEnd().length)}`
    : b;
  return `${head} ${drawn} ${right}`;
}

/** The label column width for a set of rows (capped at half the width). */
export function pathLabelWidth(rows: PathRow[], width: number): number {
  const longest = Math.max(
    8,
    ...rows.map((r) => displayWidth(`${r.indent}${cleanText(r.node.path.at(-1) ?? "")}  `)),
  );
  return Math.min(longest, Math.max(8, Math.floor(width / 2)));
}

/** The whole tree as lines: header, the anchor, then one line per node. */
export function pathsTree(r: PathsResult, opts: PathsTreeOptions): string[] {
  const rows = pathRows(r, opts.collapsed, opts.ascii);
  const labelW = pathLabelWidth(rows, opts.width);
  return [
    pathsHeader(r),
    pathsAnchorLine(r, opts.width),
    ...rows.map((row) => pathRowText(row, labelW, { ...opts, sampled: r.sample !== undefined })),
  ];
}

/* ---------------- stickiness ---------------- */

/** One bar per count: `3 days  ████   1,234  12.3%`. */
export function stickinessBars(
  r: StickinessResult,
  opts: { width: number; color: boolean; ascii?: boolean },
): string[] {
  const total = r.histogram.reduce((s, h) => s + h.users, 0);
  const unit = (n: number) => `${n} ${r.interval}${n === 1 ? "" : "s"}`;
  return bars(
    r.histogram.map((h) => ({
      label: unit(h.count),
      value: h.users,
      note: formatPercent(total ? h.users / total : 0).padStart(6),
    })),
    { width: opts.width, color: opts.color, ascii: opts.ascii, format: (v) => est(r, formatNumber(v)) },
  );
}

export function stickinessSummary(r: StickinessResult): string {
  const total = r.histogram.reduce((s, h) => s + h.users, 0);
  const avg = r.average === null ? "–" : r.average.toFixed(2);
  return `${est(r, formatCompact(total))} users active on 1..${r.buckets_in_range} ${r.interval}s of the range; average ${avg}`;
}

/* ---------------- lifecycle ---------------- */

/** Stack order from the baseline up, then dormant below it (PostHog's colours). */
export const LIFECYCLE_SERIES = [
  { key: "new", color: asciichart.green, glyph: "█", ascii: "N" },
  { key: "returning", color: asciichart.blue, glyph: "▓", ascii: "R" },
  { key: "resurrecting", color: asciichart.magenta, glyph: "▒", ascii: "S" },
  { key: "dormant", color: asciichart.red, glyph: "░", ascii: "D" },
] as const;

export interface LifecycleChartOptions {
  width: number;
  /** Rows for the bars (positive and negative together). */
  height: number;
  color: boolean;
  ascii?: boolean;
  tz: string;
  /**
   * Index (into `r.points`) of the bucket under the cursor: a `▲` row under the bars marks its column,
   * and the buckets shown always include it.
   */
  cursor?: number;
}

/**
 * A stacked bar per bucket: new, returning and resurrecting up from the zero line, dormant down from
 * it, one scale for both; a value axis on the left, first and last bucket below, and a legend. When
 * the buckets do not fit the width, the latest ones are shown.
 */
export function lifecycleChart(r: LifecycleResult, opts: LifecycleChartOptions): string[] {
  const pos = (p: LifecycleResult["points"][number]) => p.new + p.returning + p.resurrecting;
  const maxPos = Math.max(0, ...r.points.map(pos));
  const maxNeg = Math.max(0, ...r.points.map((p) => -p.dormant));
  const gutterW =
    Math.max(displayWidth(formatCompact(maxPos)), displayWidth(`-${formatCompact(maxNeg)}`)) + 2;
  const room = Math.max(1, opts.width - gutterW);
  const colW = room >= r.points.length * 3 ? 3 : room >= r.points.length * 2 ? 2 : 1;
  // The latest buckets that fit, or, with the cursor further back, the ones from the cursor on.
  const fit = Math.max(1, Math.floor(room / colW));
  let start = Math.max(0, r.points.length - fit);
  const cursor =
    opts.cursor !== undefined && opts.cursor >= 0 && opts.cursor < r.points.length ? opts.cursor : -1;
  if (cursor >= 0 && cursor < start) start = cursor;
  const points = r.points.slice(start, start + fit);
  const height = Math.max(2, opts.height);
  const scale = (maxPos + maxNeg) / height || 1;
  const upRows = maxPos ? Math.max(1, Math.ceil(maxPos / scale - 0.5)) : 0;
  const downRows = maxNeg ? Math.max(1, Math.ceil(maxNeg / scale - 0.5)) : 0;
  const cell = (i: number) => {
    const s = LIFECYCLE_SERIES[i];
    const g = opts.ascii ? s.ascii : s.glyph;
    const block = g.repeat(Math.max(1, colW - (colW > 1 ? 1 : 0)));
    const painted = opts.color ? `${s.color}${block}${RESET}` : block;
    return colW > 1 ? `${painted} ` : painted;
  };
  const blank = " ".repeat(colW);
  const lines: string[] = [];
  const axis = (v: string) => padStart(v, gutterW - 2);
  // Above the line: row k (1 = nearest the line) holds the series whose stack covers its middle.
  for (let k = upRows; k >= 1; k--) {
    const mid = (k - 0.5) * scale;
    const cells = points.map((p) => {
      const stack = [p.new, p.new + p.returning, pos(p)];
      const i = stack.findIndex((top) => mid < top);
      return i < 0 ? blank : cell(i);
    });
    lines.push(`${axis(k === upRows ? formatCompact(maxPos) : "")} │${cells.join("")}`);
  }
  lines.push(`${axis("0")} ┼${"─".repeat(points.length * colW)}`);
  for (let k = 1; k <= downRows; k++) {
    const mid = (k - 0.5) * scale;
    const cells = points.map((p) => (mid < -p.dormant ? cell(3) : blank));
    lines.push(`${axis(k === downRows ? `-${formatCompact(maxNeg)}` : "")} │${cells.join("")}`);
  }
  if (cursor >= 0) lines.push(`${" ".repeat(gutterW + (cursor - start) * colW)}${opts.ascii ? "^" : "▲"}`);
  if (points.length) {
    const first = timeLabel(points[0].t, r.interval, { tz: opts.tz });
    const last = timeLabel(points[points.length - 1].t, r.interval, { tz: opts.tz });
    const span = points.length * colW;
    const x =
      points.length > 1 && span > first.length + last.length + 1
        ? `${first}${" ".repeat(span - first.length - last.length)}${last}`
        : first;
    lines.push(`${" ".repeat(gutterW)}${x}`);
  }
  const legend = LIFECYCLE_SERIES.map((s) => {
    const g = opts.ascii ? s.ascii : s.glyph;
    return `${opts.color ? `${s.color}${g}${RESET}` : g} ${s.key}`;
  }).join("  ");
  lines.push(`${" ".repeat(gutterW)}${legend}`);
  return lines;
}

/**
 * The four values of one bucket, for the TUI's cursor: `2023-06-05 · new 12 · returning 340 ·
 * resurrecting 5 · dormant -20` (dormant negative, as in --json); an incomplete bucket says so. When
 * it does not fit `width`: `incomplete`, then `*` (as under the chart) for `incomplete bucket`, then
 * compact numbers.
 */
export function lifecyclePointText(r: LifecycleResult, index: number, tz: string, width: number): string {
  const p = r.points[index];
  if (!p) return "";
  const text = (num: (n: number) => string, partial: string) =>
    [
      bucketText(p.t, r.interval, tz),
      ...LIFECYCLE_SERIES.map((s) => `${s.key} ${est(r, num(p[s.key]))}`),
      ...(p.incomplete ? [partial] : []),
    ].join(" · ");
  // Exact numbers first, then a shorter note, then compact numbers; cut only when nothing fits.
  for (const num of [formatNumber, formatCompact])
    for (const partial of ["incomplete bucket", "incomplete", INCOMPLETE_BUCKET_MARK]) {
      const t = text(num, partial);
      if (displayWidth(t) <= width) return t;
    }
  return truncate(text(formatCompact, INCOMPLETE_BUCKET_MARK), width);
}

/**
 * The headless table under the chart: one row per bucket with its start (`2023-06-05`; a month
 * `2023-06`) and the four counts, exact and right-aligned (dormant negative, as in --json), an
 * incomplete bucket marked `*` as under the chart. At most 10 + 4 × 14 + 2 columns.
 */
export function lifecycleTable(r: LifecycleResult, tz: string): string[] {
  const label = (t: string) => {
    const b = bucketText(t, r.interval, tz);
    return r.interval === "week" ? b.replace(/^week of /, "") : b;
  };
  const head = [r.interval === "week" ? "week of" : r.interval, ...LIFECYCLE_SERIES.map((s) => s.key)];
  const rows = r.points.map((p) => [
    label(p.t),
    ...LIFECYCLE_SERIES.map((s) => est(r, formatNumber(p[s.key]))),
  ]);
  const widths = head.map((h, i) => Math.max(displayWidth(h), ...rows.map((row) => displayWidth(row[i]!))));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? padEnd(c, widths[0]!) : padStart(c, widths[i]!))).join("  ");
  return [
    line(head),
    ...rows.map((row, i) => `${line(row)}${r.points[i]!.incomplete ? ` ${INCOMPLETE_BUCKET_MARK}` : ""}`),
  ];
}
