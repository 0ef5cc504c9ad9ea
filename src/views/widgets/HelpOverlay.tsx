/**
 * The `?` overlay: the keymap table grouped by scope, generated from `KEYMAP` (never hand-listed).
 * Lays sections out in as few columns as fit the height (up to as many as fit the width); when even
 * that is too tall, the body scrolls by `scroll` rows (clamped; use `helpLayout(...).maxScroll`).
 */
import { Box, Text } from "ink";
import { memo } from "react";
import { displayWidth, padEnd, truncate, wrapText } from "../../render/sanitize.js";
import { type Binding, KEYMAP, SCOPES } from "../keymap.js";

export interface Segment {
  text: string;
  bold?: boolean;
  dim?: boolean;
  color?: string;
}
export type HelpLine = Segment[];

export interface HelpLayout {
  /** Every body row of the laid-out table (before scrolling). */
  rows: HelpLine[];
  /** Rows of body visible at once. */
  bodyHeight: number;
  /** Largest useful `scroll`. */
  maxScroll: number;
  columns: number;
}

const GAP = 2;
const KEY_GAP = 2;

/** Lines of one scope's section at a column width. */
function sectionLines(title: string, list: readonly Binding[], keyW: number, colW: number): HelpLine[] {
  const lines: HelpLine[] = [[{ text: padEnd(title, colW), bold: true }]];
  const descW = Math.max(1, colW - keyW - KEY_GAP);
  for (const b of list) {
    const keys = b.keys.join("/");
    const parts = wrapText(b.description, descW);
    lines.push([
      { text: padEnd(keys, keyW), color: "cyan" },
      { text: " ".repeat(KEY_GAP) },
      { text: padEnd(parts[0] ?? "", descW) },
    ]);
    for (const more of parts.slice(1)) {
      lines.push([{ text: " ".repeat(keyW + KEY_GAP) }, { text: padEnd(more, descW) }]);
    }
  }
  return lines;
}

/** Splits `heights` (in order) into `k` contiguous groups minimising the tallest (blank line between). */
function partition(heights: number[], k: number): number[][] {
  const n = heights.length;
  const groups = Math.min(k, n);
  const cost = (a: number, b: number) => {
    let s = 0;
    for (let i = a; i < b; i++) s += heights[i]!;
    return s + Math.max(0, b - a - 1);
  };
  // best[j][i]: minimal max height splitting the first i sections into j groups; cut records the split.
  const best: number[][] = Array.from({ length: groups + 1 }, () =>
    Array(n + 1).fill(Number.POSITIVE_INFINITY),
  );
  const cut: number[][] = Array.from({ length: groups + 1 }, () => Array(n + 1).fill(0));
  best[0]![0] = 0;
  for (let j = 1; j <= groups; j++) {
    for (let i = j; i <= n; i++) {
      for (let p = j - 1; p < i; p++) {
        const v = Math.max(best[j - 1]![p]!, cost(p, i));
        if (v < best[j]![i]!) {
          best[j]![i] = v;
          cut[j]![i] = p;
        }
      }
    }
  }
  const out: number[][] = [];
  let i = n;
  for (let j = groups; j >= 1; j--) {
    const p = cut[j]![i]!;
    out.unshift(Array.from({ length: i - p }, (_, x) => p + x));
    i = p;
  }
  return out;
}

/** The overlay's body rows for a size: columns, wrapping and scroll range. Pure; used by the component. */
export function helpLayout(width: number, height: number, bindings: readonly Binding[] = KEYMAP): HelpLayout {
  const w = Math.max(1, Math.floor(width));
  const bodyHeight = Math.max(1, Math.floor(height) - 2);
  const sections = SCOPES.map((s) => ({
    title: s.title,
    list: bindings.filter((b) => b.scope === s.scope),
  })).filter((s) => s.list.length > 0);
  if (sections.length === 0) return { rows: [], bodyHeight, maxScroll: 0, columns: 1 };
  const keyW = Math.min(16, Math.max(...bindings.map((b) => displayWidth(b.keys.join("/")))));
  const descW = Math.max(...bindings.map((b) => displayWidth(b.description)));
  const need = keyW + KEY_GAP + descW;
  const maxCols = Math.max(1, Math.floor((w + GAP) / (need + GAP)));

  let chosen: { cols: number; colW: number; groups: HelpLine[][][] } | null = null;
  for (let cols = 1; cols <= Math.min(maxCols, sections.length); cols++) {
    const colW =
      cols === 1 ? Math.min(w, Math.max(need, Math.floor(w / 2))) : Math.floor((w - GAP * (cols - 1)) / cols);
    const kw = Math.min(keyW, Math.max(1, Math.floor(colW / 3)));
    const lines = sections.map((s) => sectionLines(s.title, s.list, kw, colW));
    const parts = partition(
      lines.map((l) => l.length),
      cols,
    );
    const groups = parts.map((idx) => idx.map((i) => lines[i]!));
    chosen = { cols: parts.length, colW, groups };
    const tallest = Math.max(...groups.map((g) => g.reduce((a, l) => a + l.length, 0) + g.length - 1));
    if (tallest <= bodyHeight) break;
  }
  const { colW, groups } = chosen!;
  const columns = groups.map((g) => {
    const out: HelpLine[] = [];
    g.forEach((sec, i) => {
      if (i > 0) out.push([{ text: " ".repeat(colW) }]);
      out.push(...sec);
    });
    return out;
  });
  const tall = Math.max(...columns.map((c) => c.length));
  const rows: HelpLine[] = [];
  for (let r = 0; r < tall; r++) {
    const line: HelpLine = [];
    columns.forEach((c, i) => {
      if (i > 0) line.push({ text: " ".repeat(GAP) });
      line.push(...(c[r] ?? [{ text: " ".repeat(colW) }]));
    });
    rows.push(line);
  }
  return { rows, bodyHeight, maxScroll: Math.max(0, rows.length - bodyHeight), columns: columns.length };
}

export interface HelpOverlayProps {
  width: number;
  height: number;
  /** First body row shown; clamped to the layout's `maxScroll`. */
  scroll?: number;
  /** Defaults to the whole `KEYMAP`. */
  bindings?: readonly Binding[];
}

const Line = memo(function Line({ line }: { line: HelpLine }) {
  return (
    <Text wrap="truncate">
      {line.map((s, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: segments are positional and never reorder
        <Text key={i} bold={s.bold} dimColor={s.dim} color={s.color}>
          {s.text}
        </Text>
      ))}
    </Text>
  );
});

export function HelpOverlay({ width, height, scroll = 0, bindings = KEYMAP }: HelpOverlayProps) {
  const w = Math.max(1, Math.floor(width));
  const layout = helpLayout(w, height, bindings);
  const top = Math.min(Math.max(0, Math.floor(scroll)), layout.maxScroll);
  const visible = layout.rows.slice(top, top + layout.bodyHeight);
  const close = "?/esc close";
  const title = "Keys";
  const head =
    w >= displayWidth(title) + displayWidth(close) + 2
      ? title + " ".repeat(w - displayWidth(title) - displayWidth(close)) + close
      : truncate(title, w);
  const foot =
    layout.maxScroll > 0
      ? truncate(`up/down scroll · ${top + 1}-${top + visible.length} of ${layout.rows.length}`, w)
      : "";
  return (
    <Box flexDirection="column" width={w} height={Math.max(1, Math.floor(height))} overflow="hidden">
      <Text wrap="truncate" bold>
        {head}
      </Text>
      {visible.map((line, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows are a window over a fixed layout
        <Line key={top + i} line={line} />
      ))}
      {height >= 3 ? (
        <Text wrap="truncate" dimColor>
          {foot || " "}
        </Text>
      ) : null}
    </Box>
  );
}
