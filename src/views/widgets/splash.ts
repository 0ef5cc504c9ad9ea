/**
 * The TUI's first frame as a plain string, drawn by `runUi` before Ink and React are even loaded
 * (loading them takes most of the start-up time). It is exactly what the App draws first — tab bar,
 * "opening <cache>…", status bar — at the same places, so Ink's own first frame replaces it without
 * a flash. No React, no Ink, no DuckDB here.
 */
import { cleanText, displayWidth, padEnd, truncate } from "../../render/sanitize.js";

export const TAB_TITLES = ["Events", "Trends", "Funnel", "Retention", "Sync", "Paths", "Lifecycle"] as const;

/** Tabs whose names go first when the bar is too narrow: the least used first. */
const SHORTEN_ORDER = [6, 5, 4, 3, 2, 1, 0] as const;

export interface TabBarLayout {
  /** One label per tab, in order (` 1 Events ` padded, `1 Events` compact, or `7` number only). */
  labels: string[];
  /** Between labels. */
  sep: string;
  /** After the labels (`  ? help`, or "" when it does not fit). */
  help: string;
}

/**
 * The tab bar for a width, the widest that fits: padded labels (` 1 Events `), then compact ones
 * (`1 Events 2 Trends …`, 77 columns with the help hint: fits 80), then without the help hint, then
 * the least-used tabs (Lifecycle, Paths, Sync, …) shown by number only. The selected tab always keeps
 * its name; no name is ever cut to a fragment.
 */
export function tabBarLayout(width: number, selected = 0): TabBarLayout {
  const fits = (l: TabBarLayout) => displayWidth(`evx ${l.labels.join(l.sep)}${l.help}`) <= width;
  const padded = { labels: TAB_TITLES.map((t, i) => ` ${i + 1} ${t} `), sep: "", help: "  ? help" };
  if (fits(padded)) return padded;
  const names = TAB_TITLES.map((t, i) => `${i + 1} ${t}`);
  const compact = { labels: names, sep: " ", help: "  ? help" };
  if (fits(compact)) return compact;
  const bare = { ...compact, help: "" };
  if (fits(bare)) return bare;
  const labels = [...names];
  for (const i of SHORTEN_ORDER) {
    if (i === selected) continue;
    labels[i] = String(i + 1);
    const l = { labels: [...labels], sep: " ", help: "" };
    if (fits(l)) return l;
  }
  return { labels, sep: " ", help: "" };
}

/** The body line while the cache opens. */
export function openingLine(cachePath: string, width: number): string {
  return truncate(`opening ${cleanText(cachePath)}…`, width);
}

export const OPENING_STATUS = "opening cache…";

/** The App's frame size for a terminal size (one row short of the terminal). */
export function frameSize(columns: number, rows: number): { width: number; height: number } {
  return { width: Math.max(20, columns), height: Math.max(6, rows - 1) };
}

/**
 * The first frame with absolute cursor moves, ending with the cursor at the top left where Ink
 * starts writing. Uses only bold / inverse (no colour), like the App's first frame without colour.
 */
export function splashFrame(
  columns: number,
  rows: number,
  cachePath: string,
  status: string = OPENING_STATUS,
): string {
  const { width, height } = frameSize(columns, rows);
  const { labels, sep, help } = tabBarLayout(width);
  const plain = `evx ${labels.join(sep)}${help}`;
  const tabs =
    displayWidth(plain) > width
      ? truncate(plain, width)
      : `\x1b[1mevx \x1b[22m${labels.map((l, i) => (i === 0 ? `\x1b[1;7m${l}\x1b[22;27m` : l)).join(sep)}${help}`;
  const statusLine = `\x1b[7m${padEnd(status, width)}\x1b[27m`;
  return [
    "\x1b[H",
    tabs,
    "\x1b[2;1H",
    openingLine(cachePath, width),
    `\x1b[${height};1H`,
    statusLine,
    "\x1b[H",
  ].join("");
}
