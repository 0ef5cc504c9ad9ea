/**
 * The TUI's first frame as a plain string, drawn by `runUi` before Ink and React are even loaded
 * (loading them takes most of the start-up time). It is exactly what the App draws first — tab bar,
 * "opening <cache>…", status bar — at the same places, so Ink's own first frame replaces it without
 * a flash. No React, no Ink, no DuckDB here.
 */
import { cleanText, displayWidth, padEnd, truncate } from "../../render/sanitize.js";

export const TAB_TITLES = ["Events", "Trends", "Funnel", "Retention", "Sync", "Paths", "Lifecycle"] as const;

/** Tab labels for a width: ` 1 Events ` … or the short ` 1 Eve ` … when the full ones do not fit. */
export function tabLabels(width: number): string[] {
  const full = TAB_TITLES.map((t, i) => ` ${i + 1} ${t} `);
  const short = TAB_TITLES.map((t, i) => ` ${i + 1} ${t.slice(0, 3)} `);
  return displayWidth(`${full.join("")} evx  ? help`) <= width ? full : short;
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
  const labels = tabLabels(width);
  const plain = `evx ${labels.join("")}  ? help`;
  const tabs =
    displayWidth(plain) > width
      ? truncate(plain, width)
      : `\x1b[1mevx \x1b[22m${labels.map((l, i) => (i === 0 ? `\x1b[1;7m${l}\x1b[22;27m` : l)).join("")}  ? help`;
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
