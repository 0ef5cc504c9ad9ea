/**
 * The headless formats that need no display widths: terminal-safe JSON text, RFC 4180 CSV and integer
 * formatting. Apart from table.ts (which re-exports them) so `--json` and `--csv` load no width tables.
 */
import { jsonKeepingNumbers } from "../queries/jsonnumber.js";

/**
 * JSON.stringify (a timeline's `JsonNumber` written as its text, queries/jsonnumber.ts), with DEL, the C1 controls (U+0080–U+009F, e.g. U+009B CSI) and U+2028/U+2029 escaped
 * as well: JSON.stringify escapes only U+0000–U+001F, and some terminals act on raw C1 characters. The
 * data stays exact; only its spelling changes.
 */
export function jsonText(v: unknown): string {
  return jsonKeepingNumbers(v).replace(
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

/** An integer with thousands separators (`1,234`); "" for none. */
export function fmtInt(n: number | null | undefined): string {
  return n === null || n === undefined ? "" : Math.round(n).toLocaleString("en-US");
}
