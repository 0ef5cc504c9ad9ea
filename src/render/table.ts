/**
 * Plain-text output shared by the headless commands and the TUI's export: JSON text safe for terminals,
 * RFC 4180 CSV, aligned text tables and integer formatting. Pure: nothing here touches the process.
 */
import { cleanText, displayWidth, padEnd, padStart, truncate } from "./sanitize.js";

/**
 * JSON.stringify, with DEL, the C1 controls (U+0080–U+009F, e.g. U+009B CSI) and U+2028/U+2029 escaped
 * as well: JSON.stringify escapes only U+0000–U+001F, and some terminals act on raw C1 characters. The
 * data stays exact; only its spelling changes.
 */
export function jsonText(v: unknown): string {
  return JSON.stringify(v).replace(
    /[\u007f-\u009f\u2028\u2029]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/** RFC 4180 CSV; a cell that starts like a formula is prefixed with `'` so spreadsheets do not run it. */
export function toCsv(columns: string[], rows: unknown[][]): string {
  const cell = (v: unknown) => {
    if (v === null || v === undefined) return "";
    let s = typeof v === "string" ? v : typeof v === "object" ? JSON.stringify(v) : String(v);
    if (typeof v === "string" && /^[=+\-@\t\r]/.test(s) && !/^-?\d/.test(s)) s = `'${s}`;
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return `${[columns, ...rows].map((r) => r.map(cell).join(",")).join("\n")}\n`;
}

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

export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined ? "" : Math.round(n).toLocaleString("en-US");
}
