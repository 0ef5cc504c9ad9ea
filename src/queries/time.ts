/**
 * Calendar and time-zone arithmetic, done at build time in JS so the SQL only does integer math.
 *
 * A zone's UTC offset is piecewise constant. For the instants a query needs, the offsets and the
 * exact transition instants are found with `Intl` (sampled every 6 hours, each change located by binary
 * search to the second). Events are then converted to local wall-clock microseconds in SQL with a
 * `CASE` over the few transitions (bound constants), which costs nanoseconds per row, where ICU's
 * `timezone()` costs ~1.5 µs per row and a join against an offsets table ~0.3 µs.
 *
 * Conventions: instants and local wall-clock times are epoch microseconds (JS numbers, exact until
 * 2255). A local wall-clock time is read "as if UTC": local 2023-06-01 00:00 is Date.UTC(2023, 5, 1).
 */
import { UsageError } from "./errors.js";
import type { Params } from "./filters.js";
import { type Compare, type DateRange, INTERVALS, type Interval } from "./spec.js";

export const MINUTE_US = 60_000_000;
export const HOUR_US = 3_600_000_000;
export const DAY_US = 86_400_000_000;
const SAMPLE_MS = 6 * 3_600_000;
const MARGIN_US = 2 * DAY_US;

/* ---------------- zones ---------------- */

/** `off[i]` (µs) applies from instant `at[i - 1]` (inclusive) to `at[i]`; `at.length === off.length - 1`. */
export interface Zone {
  tz: string;
  at: number[];
  off: number[];
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
      second: "numeric",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** True when `Intl` knows the zone. */
export function isValidZone(tz: string): boolean {
  // The default zone needs no Intl formatter: building one loads ICU's zone data (~20 ms at start-up).
  if (tz === "UTC") return true;
  try {
    formatter(tz);
    return true;
  } catch {
    return false;
  }
}

/** UTC offset in ms at a whole-second instant `ms`. */
function offsetMs(tz: string, ms: number): number {
  let y = 0;
  let mo = 0;
  let d = 0;
  let h = 0;
  let mi = 0;
  let s = 0;
  for (const p of formatter(tz).formatToParts(new Date(ms))) {
    if (p.type === "year") y = Number(p.value);
    else if (p.type === "month") mo = Number(p.value);
    else if (p.type === "day") d = Number(p.value);
    else if (p.type === "hour") h = Number(p.value);
    else if (p.type === "minute") mi = Number(p.value);
    else if (p.type === "second") s = Number(p.value);
  }
  const local = new Date(0);
  local.setUTCFullYear(y, mo - 1, d);
  local.setUTCHours(h, mi, s, 0);
  return local.getTime() - ms;
}

const zones = new Map<string, Zone>();

/**
 * The zone's offsets over the instants [fromUs, toUs] (outside it the first/last offset is assumed).
 * Results are cached per zone and UTC day span.
 */
export function zoneBetween(tz: string, fromUs: number, toUs: number): Zone {
  if (tz === "UTC") return { tz, at: [], off: [0] };
  const fromMs = Math.floor(fromUs / 1000 / 86_400_000) * 86_400_000;
  const toMs = Math.ceil(toUs / 1000 / 86_400_000) * 86_400_000;
  const key = `${tz}|${fromMs}|${toMs}`;
  const hit = zones.get(key);
  if (hit) return hit;
  const at: number[] = [];
  const off: number[] = [];
  let prevMs = fromMs;
  let prev = offsetMs(tz, prevMs);
  off.push(prev * 1000);
  for (let t = fromMs + SAMPLE_MS; prevMs < toMs; t += SAMPLE_MS) {
    const cur = offsetMs(tz, t);
    if (cur !== prev) {
      // Binary search (whole seconds) for the first instant with the new offset.
      let lo = prevMs / 1000;
      let hi = t / 1000;
      while (hi - lo > 1) {
        const mid = Math.floor((lo + hi) / 2);
        if (offsetMs(tz, mid * 1000) === prev) lo = mid;
        else hi = mid;
      }
      at.push(hi * 1_000_000);
      off.push(cur * 1000);
      prev = cur;
    }
    prevMs = t;
  }
  const zone = { tz, at, off };
  if (zones.size > 1000) zones.clear();
  zones.set(key, zone);
  return zone;
}

function segmentOf(z: Zone, us: number): number {
  let lo = 0;
  let hi = z.at.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (us >= z.at[mid]) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Local wall-clock µs of an instant. */
export function toLocal(z: Zone, us: number): number {
  return us + z.off[segmentOf(z, us)];
}

/**
 * The earliest instant whose local time is at or after local `l`: for a local time repeated by a DST
 * fall-back its first occurrence, for a skipped one the transition instant.
 */
export function localStart(z: Zone, l: number): number {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < z.off.length; i++) {
    const a = i === 0 ? Number.NEGATIVE_INFINITY : z.at[i - 1];
    const b = i === z.at.length ? Number.POSITIVE_INFINITY : z.at[i];
    const cand = Math.max(a, l - z.off[i]);
    if (cand < b && cand < best) best = cand;
  }
  return best;
}

/**
 * The instant of local wall-clock time `l` as DuckDB's `timezone(tz, TIMESTAMP …)` (ICU, "walltime
 * last") resolves it: a local time repeated by a fall-back is its second occurrence; one skipped by a
 * spring-forward is read with the offset in force before the transition (02:30 in a 02:00→03:00 gap
 * is 03:30 after it).
 */
export function resolveLocal(z: Zone, l: number): number {
  let best = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < z.off.length; i++) {
    const a = i === 0 ? Number.NEGATIVE_INFINITY : z.at[i - 1];
    const b = i === z.at.length ? Number.POSITIVE_INFINITY : z.at[i];
    const cand = l - z.off[i];
    if (cand >= a && cand < b && cand > best) best = cand;
  }
  if (best > Number.NEGATIVE_INFINITY) return best;
  // Skipped: the gap after a transition whose offset grew; read with the offset before it.
  for (let i = 0; i < z.at.length; i++) {
    const t = z.at[i];
    if (z.off[i + 1] > z.off[i] && l >= t + z.off[i] && l < t + z.off[i + 1]) return l - z.off[i];
  }
  return l - z.off[z.off.length - 1];
}

/* ---------------- local calendar ---------------- */

export function dateToLocal(date: string): number {
  return Date.parse(`${date}T00:00:00Z`) * 1000;
}

export function localToDate(l: number): string {
  return new Date(Math.floor(l / 1000)).toISOString().slice(0, 10);
}

/** Start of the local bucket containing local `l`. */
export function truncLocal(iv: Interval, l: number): number {
  switch (iv) {
    case "minute":
    case "5m":
    case "15m":
    case "hour": {
      const w = FIXED_US[iv];
      return Math.floor(l / w) * w;
    }
    case "day":
      return Math.floor(l / DAY_US) * DAY_US;
    case "week": {
      const day = Math.floor(l / DAY_US);
      return (day - ((((day + 3) % 7) + 7) % 7)) * DAY_US; // 1970-01-01 was a Thursday
    }
    case "month": {
      const d = new Date(Math.floor(l / 1000));
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1) * 1000;
    }
  }
}

/** Local bucket start `n` buckets after bucket start `l`. */
export function addLocal(iv: Interval, l: number, n: number): number {
  switch (iv) {
    case "minute":
    case "5m":
    case "15m":
    case "hour":
      return l + n * FIXED_US[iv];
    case "day":
      return l + n * DAY_US;
    case "week":
      return l + n * 7 * DAY_US;
    case "month": {
      const d = new Date(Math.floor(l / 1000));
      return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1) * 1000;
    }
  }
}

/** Widths of the fixed-width local buckets. */
const FIXED_US = { minute: MINUTE_US, "5m": 5 * MINUTE_US, "15m": 15 * MINUTE_US, hour: HOUR_US } as const;

/** Average bucket width, for estimating bucket counts. */
const WIDTH_US: Record<Interval, number> = {
  ...FIXED_US,
  day: DAY_US,
  week: 7 * DAY_US,
  month: 30.436875 * DAY_US,
};

/* ---------------- a query's time frame ---------------- */

export interface Frame {
  zone: Zone;
  /** The range as instants: [lo, hi). */
  lo: number;
  hi: number;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/;
const INSTANT_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?Z$/;

/** A range bound: a date, a local date-time (local wall-clock µs) or an instant (µs). */
export type Bound = { kind: "date" | "local" | "instant"; us: number };

/** Reads one bound of a DateRange; null when the text is none of the three forms (or no real date). */
export function readBound(text: string): Bound | null {
  let m = DATE_RE.exec(text);
  if (m) {
    const us = Date.UTC(+m[1], +m[2] - 1, +m[3]) * 1000;
    return localToDate(us) === text ? { kind: "date", us } : null;
  }
  const local = LOCAL_RE.exec(text);
  m = local ?? INSTANT_RE.exec(text);
  if (!m) return null;
  const kind = local ? "local" : "instant";
  const [h, mi, sec] = [+m[4], +m[5], m[6] ? +m[6] : 0];
  if (h > 23 || mi > 59 || sec > 59) return null;
  const day = Date.UTC(+m[1], +m[2] - 1, +m[3]) * 1000;
  if (localToDate(day) !== `${m[1]}-${m[2]}-${m[3]}`) return null;
  const frac = kind === "instant" && m[7] ? Number(m[7].padEnd(6, "0")) : 0;
  return { kind, us: day + ((h * 60 + mi) * 60 + sec) * 1_000_000 + frac };
}

function boundOf(text: string): Bound {
  const b = readBound(text);
  if (!b)
    throw new UsageError(`bad range bound ${JSON.stringify(text)}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]`);
  return b;
}

function instantOf(z: Zone, b: Bound, end: boolean): number {
  if (b.kind === "instant") return b.us;
  if (b.kind === "local") return resolveLocal(z, b.us);
  return localStart(z, end ? b.us + DAY_US : b.us);
}

/**
 * The range's instants and the zone's offsets over [range start, `untilUs`] (default: the range end),
 * with a margin of two days on each side.
 */
export function frameOf(range: DateRange, untilUs?: number): Frame {
  const from = boundOf(range.from);
  const to = boundOf(range.to);
  const span = to.us + (to.kind === "date" ? DAY_US : 0);
  const zone = zoneBetween(range.tz, from.us - MARGIN_US, Math.max(span, untilUs ?? span) + MARGIN_US);
  return { zone, lo: instantOf(zone, from, false), hi: instantOf(zone, to, true) };
}

/** The resolved range of a result: ISO instants, `to` exclusive. */
export function resolvedRange(range: DateRange): { from: string; to: string; tz: string } {
  const f = frameOf(range);
  return { from: isoOf(f.lo), to: isoOf(f.hi), tz: range.tz };
}

/** An instant as an ISO string that `readBound` reads back exactly (microseconds when needed). */
export function instantText(us: number): string {
  const ms = Math.floor(us / 1000);
  const iso = new Date(ms).toISOString();
  const micros = us - ms * 1000;
  return micros ? `${iso.slice(0, -1)}${String(micros).padStart(3, "0")}Z` : iso;
}

/** `--last`: [end − seconds, end) where end is the start of the UTC minute after the latest event. */
export function lastRange(lastEventUs: number, seconds: number, tz: string): DateRange {
  const end = Math.floor(lastEventUs / MINUTE_US) * MINUTE_US + MINUTE_US;
  return { from: instantText(end - seconds * 1_000_000), to: instantText(end), tz };
}

/** The compare offset in seconds for a range (`previous` is its length). */
export function compareOffsetSeconds(range: DateRange, compare: Compare): number {
  switch (compare) {
    case "previous": {
      const f = frameOf(range);
      return (f.hi - f.lo) / 1_000_000;
    }
    case "1d":
      return 86_400;
    case "1w":
      return 7 * 86_400;
    case "4w":
      return 28 * 86_400;
    default:
      throw new UsageError(`bad compare ${JSON.stringify(compare)}: use previous, 1d, 1w or 4w`);
  }
}

/** The range shifted back by `seconds`, as instants. */
export function shiftedRange(range: DateRange, seconds: number): DateRange {
  const f = frameOf(range);
  const off = seconds * 1_000_000;
  return { from: instantText(f.lo - off), to: instantText(f.hi - off), tz: range.tz };
}

/** The most buckets one answer may have. */
export const MAX_BUCKETS = 10_000;

/** How many buckets of `iv` the frame spans (exact but for buckets skipped by DST). */
export function bucketEstimate(f: Frame, iv: Interval): number {
  if (f.hi <= f.lo) return 0;
  const a = truncLocal(iv, toLocal(f.zone, f.lo));
  const b = truncLocal(iv, toLocal(f.zone, f.hi - 1));
  if (iv !== "month") return Math.round((b - a) / WIDTH_US[iv]) + 1;
  const da = new Date(a / 1000);
  const db = new Date(b / 1000);
  return (db.getUTCFullYear() - da.getUTCFullYear()) * 12 + db.getUTCMonth() - da.getUTCMonth() + 1;
}

/** A UsageError naming the finest coarser interval that fits, when the range has too many buckets. */
export function checkBuckets(f: Frame, iv: Interval, what = "interval"): void {
  if (bucketEstimate(f, iv) <= MAX_BUCKETS) return;
  const fits = INTERVALS.find((x) => bucketEstimate(f, x) <= MAX_BUCKETS) ?? "month";
  throw new UsageError(
    `${iv} ${what === "interval" ? "buckets" : "periods"} over this range would be more than ${MAX_BUCKETS.toLocaleString("en-US")} points; use --${what} ${fits} or a shorter range`,
  );
}

/** `col` inside the range, with constant bounds (so zone maps prune). */
export function inRange(p: Params, f: Frame, col = "event_time"): string {
  return `${col} >= ${p.ts(p.big(f.lo))} AND ${col} < ${p.ts(p.big(f.hi))}`;
}

/** SQL: local wall-clock µs of the instant `usExpr` (BIGINT µs). */
export function localSql(p: Params, z: Zone, usExpr: string): string {
  if (z.at.length === 0) return z.off[0] === 0 ? usExpr : `(${usExpr} + ${p.big(z.off[0])})`;
  const whens = z.at.map((a, i) => `WHEN ${usExpr} < ${p.big(a)} THEN ${usExpr} + ${p.big(z.off[i])}`);
  return `(CASE ${whens.join(" ")} ELSE ${usExpr} + ${p.big(z.off[z.off.length - 1])} END)`;
}

/** A shift that keeps `//` (which truncates toward zero) a floor division: 1000 weeks in µs. */
const SHIFT_US = 7000 * DAY_US;
/** 1970-01-05, the first Monday after the epoch. */
const MONDAY_US = 4 * DAY_US;

/**
 * SQL: the local bucket start (BIGINT local wall-clock µs) of local wall-clock µs. Hours, days and
 * Monday weeks are integer arithmetic; months use date_trunc.
 */
export function bucketSql(p: Params, localUs: string, iv: Interval): string {
  switch (iv) {
    case "minute":
    case "5m":
    case "15m":
    case "hour":
    case "day": {
      const w = iv === "day" ? DAY_US : FIXED_US[iv];
      return `(${p.idiv(`(${localUs}) + ${SHIFT_US}`, w)} * ${w} - ${SHIFT_US})`;
    }
    case "week": {
      const w = 7 * DAY_US;
      return `(${p.idiv(`(${localUs}) - ${MONDAY_US} + ${SHIFT_US}`, w)} * ${w} + ${MONDAY_US - SHIFT_US})`;
    }
    case "month":
      return p.monthStart(localUs);
    default:
      throw new Error(`bad interval ${JSON.stringify(iv)}`);
  }
}

/** SQL: whole periods from bucket start `a` to bucket start `b` (BIGINT local µs, both aligned). */
export function periodDiffSql(
  p: Params,
  period: "hour" | "day" | "week" | "month",
  a: string,
  b: string,
): string {
  switch (period) {
    case "hour":
      return p.idiv(`${b} - ${a}`, HOUR_US);
    case "day":
      return p.idiv(`${b} - ${a}`, DAY_US);
    case "week":
      return p.idiv(`${b} - ${a}`, 7 * DAY_US);
    case "month":
      return `(${p.yearMonth(b)} - ${p.yearMonth(a)})`;
    default:
      throw new Error(`bad period ${JSON.stringify(period)}`);
  }
}

export interface Bucket {
  /** Local wall-clock µs of the bucket start. */
  local: number;
  /** The bucket's first instant (µs). */
  start: number;
}

/**
 * The buckets from the one containing the range start to the one containing its last instant; a
 * bucket whose local start names no instant of its own (an hour skipped by DST) is left out.
 */
export function bucketsOf(f: Frame, iv: Interval): Bucket[] {
  const out: Bucket[] = [];
  if (f.hi <= f.lo) return out;
  checkBuckets(f, iv);
  const last = truncLocal(iv, toLocal(f.zone, f.hi - 1));
  for (let l = truncLocal(iv, toLocal(f.zone, f.lo)); l <= last; l = addLocal(iv, l, 1)) {
    const start = localStart(f.zone, l);
    if (truncLocal(iv, toLocal(f.zone, start)) === l) out.push({ local: l, start });
  }
  return out;
}

export function isoOf(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** `WITH a, b, …` of the non-empty CTEs (empty string when there are none). */
export function withClause(ctes: string[]): string {
  const list = ctes.filter((c) => c);
  return list.length ? `WITH ${list.join(",\n")}\n` : "";
}
