/**
 * Making untrusted data safe to draw, and fitting text into terminal columns.
 *
 * Event names, property keys and values come from whoever wrote the events: they may carry escape
 * sequences that clear the screen, retitle the window, plant hyperlinks or reorder text. Every string
 * from data goes through `cleanText` before it reaches a widget. Widths are display columns (CJK wide
 * characters count 2, combining marks 0), measured with `string-width`.
 */
import stringWidth from "string-width";
import { cleanText } from "./clean.js";

export { cleanText };

/** Display columns of `s` (ANSI SGR codes count 0). */
export function displayWidth(s: string): number {
  return stringWidth(s);
}

/** Made on first use: building a segmenter loads ICU data (~15 ms), which `--json` never needs. */
let segmenter: Intl.Segmenter | undefined;

/** Grapheme clusters of `s` with their display widths. */
function graphemes(s: string): { g: string; w: number }[] {
  const out: { g: string; w: number }[] = [];
  segmenter ??= new Intl.Segmenter(undefined, { granularity: "grapheme" });
  for (const { segment } of segmenter.segment(s)) out.push({ g: segment, w: stringWidth(segment) });
  return out;
}

/**
 * `s` cut to at most `width` columns, ending with `…` when anything was cut. Never splits a grapheme
 * (a wide character that would straddle the edge is dropped, so the result may be one column short).
 * Expects text without escape sequences (see `truncateAnsi` for styled strings).
 */
export function truncate(s: string, width: number): string {
  if (width <= 0) return "";
  if (stringWidth(s) <= width) return s;
  if (width === 1) return "…";
  let out = "";
  let used = 0;
  for (const { g, w } of graphemes(s)) {
    if (used + w > width - 1) break;
    out += g;
    used += w;
  }
  return `${out}…`;
}

/**
 * The columns `[start, start + width)` of clean text `s` (a horizontal scroll): a wide character cut by
 * either edge becomes a space, so the result is never wider than `width`.
 */
export function sliceColumns(s: string, start: number, width: number): string {
  if (width <= 0) return "";
  if (start <= 0 && stringWidth(s) <= width) return s;
  let out = "";
  let col = 0;
  for (const { g, w } of graphemes(s)) {
    const end = col + w;
    if (end > start + width) {
      if (col < start + width) out += " ".repeat(start + width - col);
      break;
    }
    if (col >= start) out += g;
    else if (end > start) out += " ".repeat(end - start);
    col = end;
  }
  return out;
}

/** `s` truncated to `width` columns, then padded with spaces on the right to exactly `width`. */
export function padEnd(s: string, width: number): string {
  const t = truncate(s, width);
  return t + " ".repeat(Math.max(0, width - stringWidth(t)));
}

/** `s` truncated to `width` columns, then padded with spaces on the left to exactly `width`. */
export function padStart(s: string, width: number): string {
  const t = truncate(s, width);
  return " ".repeat(Math.max(0, width - stringWidth(t))) + t;
}

/** `s` centred in exactly `width` columns (truncated when longer). */
export function center(s: string, width: number): string {
  const t = truncate(s, width);
  const gap = Math.max(0, width - stringWidth(t));
  const left = Math.floor(gap / 2);
  return " ".repeat(left) + t + " ".repeat(gap - left);
}

const SGR = /\x1b\[[0-9;]*m/g;

/** Removes SGR colour codes (the only escapes widgets themselves emit). */
export function stripSgr(s: string): string {
  return s.replace(SGR, "");
}

/**
 * Like `truncate`, for strings built by widgets that carry SGR colour codes: codes are kept, only
 * visible text counts, and a reset is appended when the text was cut inside a coloured run.
 */
export function truncateAnsi(s: string, width: number): string {
  if (width <= 0) return "";
  if (stringWidth(s) <= width) return s;
  let out = "";
  let used = 0;
  let styled = false;
  let last = 0;
  const limit = width - 1;
  let done = false;
  const takeText = (text: string) => {
    for (const { g, w } of graphemes(text)) {
      if (used + w > limit) {
        done = true;
        return;
      }
      out += g;
      used += w;
    }
  };
  for (const m of s.matchAll(SGR)) {
    takeText(s.slice(last, m.index));
    if (done) break;
    out += m[0];
    styled = m[0] !== "\x1b[0m" && m[0] !== "\x1b[m";
    last = m.index + m[0].length;
  }
  if (!done) takeText(s.slice(last));
  return `${out}${styled ? "\x1b[0m" : ""}…`;
}

/**
 * Word-wraps clean text into lines of at most `width` columns; words longer than a line are split
 * between graphemes. Always returns at least one line.
 */
export function wrapText(s: string, width: number): string[] {
  const w = Math.max(1, Math.floor(width));
  const lines: string[] = [];
  let line = "";
  let used = 0;
  const flush = () => {
    lines.push(line);
    line = "";
    used = 0;
  };
  for (const word of s.split(/ +/).filter((x) => x.length > 0)) {
    const ww = stringWidth(word);
    if (used > 0 && used + 1 + ww <= w) {
      line += ` ${word}`;
      used += 1 + ww;
      continue;
    }
    if (used > 0) flush();
    if (ww <= w) {
      line = word;
      used = ww;
      continue;
    }
    for (const { g, w: gw } of graphemes(word)) {
      if (used + gw > w && used > 0) flush();
      line += g;
      used += gw;
    }
  }
  if (used > 0 || lines.length === 0) lines.push(line);
  return lines;
}
