/**
 * Number, duration and time-label formatting for tables and charts. Locale-independent on purpose:
 * the same input prints the same text on every machine (and in snapshots).
 */
import type { Interval } from "../queries/spec.js";

const MISSING = "–";

function finite(n: number | null | undefined): n is number {
  return typeof n === "number" && Number.isFinite(n);
}

function groupThousands(digits: string): string {
  return digits.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/**
 * `1234567` → `1,234,567`; non-integers keep up to `decimals` (default 2) decimals, trailing zeros
 * dropped (`1,234.5`). Missing / non-finite → `–`.
 */
export function formatNumber(n: number | null | undefined, decimals = 2): string {
  if (!finite(n)) return MISSING;
  const neg = n < 0;
  const fixed = Math.abs(n).toFixed(Number.isInteger(n) ? 0 : decimals);
  const [int, frac] = fixed.split(".");
  const fracTrim = frac ? frac.replace(/0+$/, "") : "";
  const body = groupThousands(int!) + (fracTrim ? `.${fracTrim}` : "");
  return neg && body !== "0" ? `-${body}` : body;
}

const UNITS = ["", "k", "M", "B", "T"];

/**
 * Short numbers for axes and narrow cells: `950`, `1.2k`, `12.3k`, `123k`, `1.2M`, `3B`.
 * Below 1000 non-integers keep one decimal (`0.5`, `12.3`).
 */
export function formatCompact(n: number | null | undefined): string {
  if (!finite(n)) return MISSING;
  const sign = n < 0 ? "-" : "";
  let a = Math.abs(n);
  let u = 0;
  while (a >= 1000 && u < UNITS.length - 1) {
    a /= 1000;
    u++;
  }
  // Rounding may carry into the next unit (999.96k → 1000k → 1M).
  let text = a >= 100 ? a.toFixed(0) : a.toFixed(1);
  if (Number(text) >= 1000 && u < UNITS.length - 1) {
    a /= 1000;
    u++;
    text = a.toFixed(1);
  }
  if (u === 0 && Number.isInteger(n)) text = String(Math.abs(n));
  text = text.replace(/\.0$/, "");
  return text === "0" ? "0" : `${sign}${text}${UNITS[u]}`;
}

/** A rate (0..1) as a percentage: `0.4213` → `42.1%`. Missing → `–`. */
export function formatPercent(rate: number | null | undefined, decimals = 1): string {
  if (!finite(rate)) return MISSING;
  return `${(rate * 100).toFixed(decimals)}%`;
}

/**
 * Seconds → a short duration: `0.4s`, `45s`, `1m 30s` (under 10 minutes), `12m`, `3h 5m`, `3h`,
 * `2d 4h`, `2d`. Missing → `–`.
 */
export function formatDuration(seconds: number | null | undefined): string {
  if (!finite(seconds)) return MISSING;
  if (seconds < 0) return `-${formatDuration(-seconds)}`;
  if (seconds < 10 && !Number.isInteger(seconds)) {
    const t = seconds.toFixed(1).replace(/\.0$/, "");
    if (t !== "10") return `${t}s`;
  }
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const both = (a: number, ua: string, b: number, ub: string) => (b ? `${a}${ua} ${b}${ub}` : `${a}${ua}`);
  if (s < 600) return both(Math.floor(s / 60), "m", s % 60, "s");
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return both(Math.floor(s / 3600), "h", Math.floor((s % 3600) / 60), "m");
  return both(Math.floor(s / 86400), "d", Math.floor((s % 86400) / 3600), "h");
}

/* ---------- time labels ---------- */

export interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
}

const partFormatters = new Map<string, Intl.DateTimeFormat>();

function partsFormatter(tz: string): Intl.DateTimeFormat {
  let f = partFormatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      hourCycle: "h23",
    });
    partFormatters.set(tz, f);
  }
  return f;
}

/** Wall-clock parts of an instant in `tz` (throws RangeError for an unknown zone). */
export function localParts(instant: string | Date, tz = "UTC"): LocalParts | null {
  const d = instant instanceof Date ? instant : new Date(instant);
  if (Number.isNaN(d.getTime())) return null;
  const p: Record<string, number> = {};
  for (const { type, value } of partsFormatter(tz).formatToParts(d)) {
    if (type !== "literal") p[type] = Number(value);
  }
  return { year: p.year!, month: p.month!, day: p.day!, hour: p.hour! % 24, minute: p.minute! };
}

/**
 * An instant as local wall-clock text in `tz`: `2023-06-01 14:00`, with `:SS` when the seconds are not
 * zero (a range bound or a bucket start as the user would type it with `--tz`).
 */
export function timeText(instant: string, tz = "UTC", precise = false): string {
  const p = localParts(instant, tz);
  if (!p) return String(instant);
  const d = new Date(instant);
  const sec = Number(new Intl.DateTimeFormat("en-US", { timeZone: tz, second: "numeric" }).format(d));
  const base = `${p.year}-${two(p.month)}-${two(p.day)} ${two(p.hour)}:${two(p.minute)}`;
  // Precise: seconds always, and the sub-second digits as the ISO text has them (ms or µs).
  if (precise) return `${base}:${two(sec)}.${/\.(\d+)Z$/.exec(instant)?.[1] ?? "000"}`;
  return sec ? `${base}:${two(sec)}` : base;
}

/** A bucket start as a cursor line shows it: `2023-06-05 14:20`, `2023-06-05`, `week of …`, `2023-06`. */
export function bucketText(t: string, interval: Interval, tz: string): string {
  const local = timeText(t, tz);
  if (interval === "day") return local.slice(0, 10);
  if (interval === "week") return `week of ${local.slice(0, 10)}`;
  if (interval === "month") return local.slice(0, 7);
  return local;
}

/** ISO-8601 week number of a calendar date. */
export function isoWeek(year: number, month: number, day: number): number {
  const d = new Date(Date.UTC(year, month - 1, day));
  const dow = d.getUTCDay() || 7; // Mon=1..Sun=7
  d.setUTCDate(d.getUTCDate() + 4 - dow); // the Thursday of this week decides the year
  const jan1 = Date.UTC(d.getUTCFullYear(), 0, 1);
  return Math.floor((d.getTime() - jan1) / 86400000 / 7) + 1;
}

const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
const two = (n: number) => String(n).padStart(2, "0");

export interface TimeLabelOptions {
  /** Zone the bucket was computed in (the spec's `range.tz`). Default `UTC`. */
  tz?: string;
  /** `numeric` (default): `06-01`; `short`: `Jun 1`. Affects day labels only. */
  style?: "numeric" | "short";
}

/**
 * A bucket start (ISO instant) → a short axis/table label for its interval:
 * hour `06-01 16:00`, day `06-01` (or `Jun 1`), week `W22 05-29` (ISO week + its Monday),
 * month `2023-06`. An unparseable instant comes back as its first 16 characters.
 */
export function timeLabel(instant: string, interval: Interval, opts: TimeLabelOptions = {}): string {
  const p = localParts(instant, opts.tz ?? "UTC");
  if (!p) return String(instant).slice(0, 16);
  const md = `${two(p.month)}-${two(p.day)}`;
  switch (interval) {
    case "minute":
    case "5m":
    case "15m":
    case "hour":
      return `${md} ${two(p.hour)}:${two(p.minute)}`;
    case "day":
      return opts.style === "short" ? `${MONTHS[p.month - 1]} ${p.day}` : md;
    case "week":
      return `W${two(isoWeek(p.year, p.month, p.day))} ${md}`;
    case "month":
      return `${p.year}-${two(p.month)}`;
  }
}

/** Labels for a whole axis; adds the year to day labels when the instants span several years. */
export function timeLabels(instants: string[], interval: Interval, opts: TimeLabelOptions = {}): string[] {
  const labels = instants.map((t) => timeLabel(t, interval, opts));
  if (interval !== "day" || opts.style === "short") return labels;
  const years = new Set(instants.map((t) => localParts(t, opts.tz ?? "UTC")?.year));
  if (years.size <= 1) return labels;
  return instants.map((t, i) => {
    const p = localParts(t, opts.tz ?? "UTC");
    return p ? `${p.year}-${labels[i]}` : labels[i]!;
  });
}
