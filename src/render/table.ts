/**
 * Plain-text output shared by the headless commands and the TUI's export: JSON text safe for terminals,
 * RFC 4180 CSV, aligned text tables and integer formatting. Pure: nothing here touches the process.
 */
import { cleanText, displayWidth, padEnd, padStart, truncate } from "./sanitize.js";

export { fmtInt, jsonText, toCsv } from "./json.js";

export interface Column {
  title: string;
  align?: "left" | "right";
  /** Upper bound on the column's width; wider cells are truncated with `…`. */
  max?: number;
}

/** A plain aligned text table; every cell is stripped of control characters first. */
export function textTable(
  columns: Column[],
  rows: (string | number | null | undefined)[][],
  width: number,
): string {
  const cells = rows.map((r) => r.map((c) => cleanText(c === null || c === undefined ? "" : String(c))));
  const widths = columns.map((col, i) =>
    Math.min(col.max ?? 80, Math.max(displayWidth(col.title), ...cells.map((r) => displayWidth(r[i] ?? "")))),
  );
  // Shrink the widest left-aligned column until the table fits the terminal.
  const total = () => widths.reduce((a, b) => a + b, 0) + 2 * (columns.length - 1);
  while (total() > width) {
    let wi = -1;
    for (let i = 0; i < widths.length; i++)
      if (columns[i].align !== "right" && (wi < 0 || widths[i] > widths[wi])) wi = i;
    if (wi < 0 || widths[wi] <= 8) break;
    widths[wi]--;
  }
  const line = (r: string[]) =>
    r
      .map((c, i) => {
        const t = truncate(c, widths[i]);
        return columns[i].align === "right" ? padStart(t, widths[i]) : padEnd(t, widths[i]);
      })
      .join("  ")
      .trimEnd();
  return `${[line(columns.map((c) => cleanText(c.title))), ...cells.map(line)].join("\n")}\n`;
}
