/**
 * Brute-force reference implementation of docs/semantics.md.
 *
 * Clarity over speed: every analysis is a direct transcription of the doc over an in-memory list of
 * events (tests run it on ≤ 50k events). The DuckDB engine is compared against this.
 *
 * Conventions:
 * - Instants are epoch microseconds (`t`), parsed from the text so no precision is lost.
 * - Local wall-clock time is read from `Intl`, UTC minute by UTC minute (one offset per UTC minute:
 *   exact since 1972, when every zone's offset became a whole number of minutes), and written as epoch
 *   microseconds "as if UTC". Local calendar arithmetic uses the "local minute index": local days since
 *   1970-01-01 × 1440 + local hour × 60 + local minute. Bucket keys are the local minute index of the
 *   local time the bucket starts at.
 * - A bucket is the set of instants whose local time falls in it; its first instant reports it (so a
 *   local midnight skipped by DST starts the day at the first instant that exists, and repeated
 *   fall-back times join the bucket of their first occurrence). Instants with local time `w` are found
 *   by scanning the UTC minutes within ±30 h of `w` — no transition table, no binary search.
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { type Formula, parseFormula } from "../src/queries/formula.js";
import { formatEventRef } from "../src/queries/parse.js";
import type {
  CatalogResult,
  CatalogRow,
  CatalogSpec,
  CohortCondition,
  CohortDef,
  CohortRef,
  Compare,
  DateRange,
  EventRef,
  Filter,
  FormulaSeries,
  FunnelResult,
  FunnelSpec,
  FunnelStepResult,
  FunnelTrendPoint,
  Interval,
  Measure,
  Period,
  RetentionCohort,
  RetentionResult,
  RetentionSpec,
  TimeToConvertResult,
  TimeToConvertSpec,
  TrendPoint,
  TrendResult,
  TrendSeries,
  TrendSpec,
} from "../src/queries/spec.js";
import { propertyTexts, rawMember, valueKeepingNumbers } from "./brute-json.js";

export interface BruteEvent {
  type: string;
  /** Epoch microseconds. */
  t: number;
  user: string;
  props: Record<string, unknown>;
}

/* ====================================================================================== */
/* Loading                                                                                  */
/* ====================================================================================== */

const LAKE_FILE = /\.(jsonl|ndjson|json)(\.gz)?$/i;

/** Reads every .jsonl/.ndjson/.json(.gz) file under `dir`, recursively, in path order. */
export async function loadLake(dir: string): Promise<BruteEvent[]> {
  const out: BruteEvent[] = [];
  const walk = async (d: string): Promise<void> => {
    const entries = (await readdir(d, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && LAKE_FILE.test(e.name)) {
        let buf = await readFile(p);
        if (/\.gz$/i.test(e.name)) buf = gunzipSync(buf);
        out.push(...parseLakeText(buf.toString("utf8")));
      }
    }
  };
  await walk(dir);
  return out;
}

/** Parses JSON-lines text; invalid lines are skipped. */
export function parseLakeText(text: string): BruteEvent[] {
  const out: BruteEvent[] = [];
  for (const raw of text.split("\n")) {
    const e = parseLine(raw);
    if (e) out.push(e);
  }
  return out;
}

/** Instants outside [1970-01-01, 2100-01-01) are rejected (as the cache's ingest does). */
const MIN_T = 0;
const MAX_T = Date.UTC(2100, 0, 1) * 1000;

/**
 * One line → event, or null when the line must be skipped: not a JSON object; `event_type` or `user_id`
 * missing or not a non-empty string/number; `event_time` not parseable (see `parseEventTime`).
 * `event_properties` that is missing or not an object counts as `{}`.
 */
export function parseLine(line: string): BruteEvent | null {
  if (line.trim() === "") return null;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof o !== "object" || o === null || Array.isArray(o)) return null;
  const r = o as Record<string, unknown>;
  const type = idText(r.event_type);
  const user = idText(r.user_id);
  if (type === null || user === null) return null;
  const t = parseEventTime(r.event_time);
  if (t === null) return null;
  const p = r.event_properties;
  const props =
    typeof p === "object" && p !== null && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
  WRITTEN.set(props, propertyTexts(line));
  if (props === p) RAW.set(props, rawMember(line, "event_properties") as string);
  return { type, t, user, props };
}

function idText(v: unknown): string | null {
  if (typeof v === "string") return v === "" ? null : v;
  if (typeof v === "number") return String(v);
  return null;
}

const EPOCH = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/**
 * `event_time` → epoch microseconds, or null. An ISO 8601 string (see `parseInstant`), or epoch
 * seconds / milliseconds / microseconds (a JSON number or numeric string) judged by magnitude:
 * |x| < 1e11 seconds, < 1e14 milliseconds, else microseconds; rounded to the microsecond.
 */
export function parseEventTime(v: unknown): number | null {
  let t: number | null = null;
  const text = typeof v === "number" ? String(v) : typeof v === "string" ? v : null;
  if (text === null) return null;
  if (EPOCH.test(text)) {
    const x = Number(text);
    const seconds = Math.abs(x) < 1e11 ? x : Math.abs(x) < 1e14 ? x / 1e3 : x / 1e6;
    t = Math.round(seconds * 1e6);
  } else {
    t = parseInstant(text);
  }
  if (t === null || !Number.isFinite(t) || t < MIN_T || t >= MAX_T) return null;
  return t;
}

const ISO =
  /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ](\d{1,2}):(\d{1,2})(?::(\d{1,2})(?:\.(\d+))?)?)?\s*(?:(Z)|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/**
 * ISO 8601 text → epoch microseconds, or null. No offset = UTC. Fractions beyond 6 digits are
 * truncated. Accepts `YYYY-MM-DD` and `YYYY-MM-DD[T ]HH:MM[:SS[.f…]]` with an optional `Z`, `±HH`,
 * `±HHMM` or `±HH:MM`; `24:00:00` is the next midnight; surrounding whitespace is ignored.
 */
export function parseInstant(s: string): number | null {
  const m = ISO.exec(s.trim());
  if (!m) return null;
  const y = +m[1];
  const mo = +m[2];
  const d = +m[3];
  const h = m[4] === undefined ? 0 : +m[4];
  const mi = m[5] === undefined ? 0 : +m[5];
  const sec = m[6] === undefined ? 0 : +m[6];
  const frac = m[7] === undefined ? 0 : +m[7].slice(0, 6).padEnd(6, "0");
  if (mo < 1 || mo > 12 || d < 1 || d > daysInMonth(y, mo)) return null;
  if (mi > 59 || sec > 59) return null;
  if (h > 24 || (h === 24 && (mi > 0 || sec > 0 || frac > 0))) return null;
  let offsetMin = 0;
  if (m[9] !== undefined) {
    const oh = +m[10];
    const om = m[11] === undefined ? 0 : +m[11];
    if (oh > 23 || om > 59) return null;
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  const secs = daysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offsetMin * 60;
  return secs * 1e6 + frac;
}

/* ====================================================================================== */
/* Civil calendar helpers (proleptic Gregorian, exact integer math)                         */
/* ====================================================================================== */

/** Days since 1970-01-01 of a calendar date (H. Hinnant's algorithm). */
export function daysFromCivil(y: number, m: number, d: number): number {
  const yy = m <= 2 ? y - 1 : y;
  const era = Math.floor(yy / 400);
  const yoe = yy - era * 400;
  const doy = Math.floor((153 * (m + (m > 2 ? -3 : 9)) + 2) / 5) + d - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

export function civilFromDays(z: number): { y: number; m: number; d: number } {
  const zz = z + 719468;
  const era = Math.floor(zz / 146097);
  const doe = zz - era * 146097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const d = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const m = mp + (mp < 10 ? 3 : -9);
  return { y: yoe + era * 400 + (m <= 2 ? 1 : 0), m, d };
}

function daysInMonth(y: number, m: number): number {
  return m === 12 ? 31 : daysFromCivil(y, m + 1, 1) - daysFromCivil(y, m, 1);
}

/** 0 = Monday … 6 = Sunday (1970-01-01 was a Thursday). */
function weekdayMon0(days: number): number {
  return (((days + 3) % 7) + 7) % 7;
}

/* ====================================================================================== */
/* Time zones and local wall-clock time                                                     */
/* ====================================================================================== */

const MINUTE_US = 60_000_000;
const DAY_US = 86_400_000_000;
/** Every UTC offset in the tz database is within ±26 h; an instant with local time `w` is within this of `w`. */
const OFFSET_MARGIN_US = 30 * 3_600_000_000;

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    formatters.set(tz, f);
  }
  return f;
}

const WALL_TEXT = /^(\d{2})\/(\d{2})\/(\d{4}), (\d{2}):(\d{2}):(\d{2})$/;

/** The UTC offset in seconds in force at an instant given in epoch ms, read from `Intl`. */
function offsetSecondsAtMs(tz: string, ms: number): number {
  const text = formatter(tz).format(new Date(ms));
  const m = WALL_TEXT.exec(text);
  if (!m) throw new Error(`unexpected Intl output ${JSON.stringify(text)} for ${tz}`);
  const wall = daysFromCivil(+m[3], +m[1], +m[2]) * 86400 + +m[4] * 3600 + +m[5] * 60 + +m[6];
  return wall - Math.floor(ms / 1000);
}

/**
 * The offsets of one UTC day, one per UTC minute (read at the minute's start: since 1972 every offset
 * is a whole number of minutes and changes on a whole minute), and the local wall-clock span the day
 * covers (`lo` = smallest local time of a minute's start, `hi` = largest local time of a minute's end,
 * µs "as if UTC").
 */
interface DayTable {
  off: Int32Array;
  lo: number;
  hi: number;
}
const dayTables = new Map<string, Map<number, DayTable>>();

function dayTable(tz: string, day: number): DayTable {
  let perZone = dayTables.get(tz);
  if (!perZone) {
    perZone = new Map();
    dayTables.set(tz, perZone);
  }
  let table = perZone.get(day);
  if (!table) {
    const off = new Int32Array(1440);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    // An hour whose two ends have the same offset has it throughout (no zone has changed its offset
    // twice within an hour); otherwise every minute of the hour is read.
    const at = (i: number) => offsetSecondsAtMs(tz, day * 86_400_000 + i * 60_000);
    let next = at(0);
    for (let h = 0; h < 24; h++) {
      const first = next;
      next = at((h + 1) * 60);
      for (let i = h * 60; i < (h + 1) * 60; i++) off[i] = first === next || i === h * 60 ? first : at(i);
    }
    for (let i = 0; i < 1440; i++) {
      const ms = day * 86_400_000 + i * 60_000;
      lo = Math.min(lo, ms * 1000 + off[i] * 1e6);
      hi = Math.max(hi, ms * 1000 + MINUTE_US + off[i] * 1e6);
    }
    table = { off, lo, hi };
    if (perZone.size > 20_000) perZone.clear();
    perZone.set(day, table);
  }
  return table;
}

/** UTC offset (seconds) in force at an instant in epoch microseconds. */
export function offsetSeconds(tz: string, micros: number): number {
  const day = Math.floor(micros / DAY_US);
  return dayTable(tz, day).off[Math.floor((micros - day * DAY_US) / MINUTE_US)];
}

/** Local wall-clock time of an instant, as epoch microseconds "as if UTC" (local 00:00 = a UTC midnight). */
export function wallMicros(tz: string, micros: number): number {
  return micros + offsetSeconds(tz, micros) * 1e6;
}

/** Local minute index: local days since 1970-01-01 × 1440 + local hour × 60 + local minute. */
export function localMinuteIndex(tz: string, micros: number): number {
  return Math.floor(wallMicros(tz, micros) / MINUTE_US);
}

/** Local hour index: local days since 1970-01-01 × 24 + local hour. */
export function localHourIndex(tz: string, micros: number): number {
  return Math.floor(localMinuteIndex(tz, micros) / 60);
}

/**
 * Walks the UTC minutes from `fromMicros` to `toMicros` (a minute at a time, skipping whole days whose
 * local span misses `[wLo, wHi)`), calling `visit(minuteStart, offsetMicros)` until it returns true.
 */
function scanMinutes(
  tz: string,
  fromMicros: number,
  toMicros: number,
  wLo: number,
  wHi: number,
  visit: (u: number, off: number) => boolean,
): void {
  for (let day = Math.floor(fromMicros / DAY_US); day * DAY_US < toMicros; day++) {
    const table = dayTable(tz, day);
    if (table.hi <= wLo || table.lo >= wHi) continue;
    for (let i = 0; i < 1440; i++) if (visit(day * DAY_US + i * MINUTE_US, table.off[i] * 1e6)) return;
  }
}

/**
 * The earliest instant (µs) whose local wall-clock time is in `[w1, w2)` (local µs), or null when no
 * instant has such a local time (all of it skipped by a forward shift).
 */
export function firstInstantIn(tz: string, w1: number, w2: number): number | null {
  let found: number | null = null;
  const to = (Number.isFinite(w2) ? w2 : w1) + OFFSET_MARGIN_US;
  scanMinutes(tz, w1 - OFFSET_MARGIN_US, to, w1, w2, (u, off) => {
    // the minute [u, u + 1 min) shows the local times [u + off, u + 1 min + off)
    if (u + MINUTE_US + off <= w1 || u + off >= w2) return false;
    found = Math.max(u, w1 - off);
    return true;
  });
  return found;
}

/** The earliest instant (µs) whose local wall-clock time is at or after `w` (local µs). */
export function firstInstantFrom(tz: string, w: number): number {
  const t = firstInstantIn(tz, w, Number.POSITIVE_INFINITY);
  if (t === null) throw new Error(`no instant at or after local ${isoMicros(w)} in ${tz}`);
  return t;
}

/**
 * The instant of the local wall-clock time `w` (µs) as DuckDB's `timezone(tz, TIMESTAMP …)` resolves it
 * (ICU "walltime last"): the later instant when `w` occurs twice; when `w` is skipped, `w` read with the
 * offset in force before the forward shift.
 */
export function resolveLocal(tz: string, w: number): number {
  let latest: number | null = null;
  let gap: number | null = null;
  let prevOff: number | null = null;
  scanMinutes(tz, w - OFFSET_MARGIN_US, w + OFFSET_MARGIN_US, w - DAY_US, w + DAY_US, (u, off) => {
    const t = w - off;
    if (t >= u && t < u + MINUTE_US) latest = latest === null ? t : Math.max(latest, t);
    // a forward shift at u that skips w: before it the local time reached u + prevOff, after it u + off
    if (prevOff !== null && prevOff < off && u + prevOff <= w && w < u + off) gap = w - prevOff;
    prevOff = off;
    return false;
  });
  const t = latest ?? gap;
  if (t === null) throw new Error(`cannot resolve local ${isoMicros(w)} in ${tz}`);
  return t;
}

/* ---------- ranges ---------- */

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
const LOCAL_TEXT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

function validDate(y: number, m: number, d: number): boolean {
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/**
 * One end of a range → an instant (µs): a date is its first instant (`from`) or the next date's first
 * instant (`to`, inclusive date); a local date-time resolves as `resolveLocal`; an ISO instant ending
 * in `Z` is itself.
 */
function rangeBound(text: string, tz: string, isTo: boolean): number {
  let m = DATE_TEXT.exec(text);
  if (m) {
    if (!validDate(+m[1], +m[2], +m[3])) throw new Error(`bad date ${text}`);
    const days = daysFromCivil(+m[1], +m[2], +m[3]) + (isTo ? 1 : 0);
    return firstInstantFrom(tz, days * DAY_US);
  }
  m = LOCAL_TEXT.exec(text);
  if (m) {
    const [h, mi, s] = [+m[4], +m[5], m[6] === undefined ? 0 : +m[6]];
    if (!validDate(+m[1], +m[2], +m[3]) || h > 23 || mi > 59 || s > 59)
      throw new Error(`bad local date-time ${text}`);
    const days = daysFromCivil(+m[1], +m[2], +m[3]);
    return resolveLocal(tz, days * DAY_US + (h * 3600 + mi * 60 + s) * 1e6);
  }
  const t = text.endsWith("Z") ? parseInstant(text) : null;
  if (t === null) throw new Error(`bad range bound ${JSON.stringify(text)}`);
  return t;
}

/** `[start, end)` of a range, epoch microseconds. An empty or reversed range throws. */
export function rangeMicros(range: DateRange): { start: number; end: number } {
  const start = rangeBound(range.from, range.tz, false);
  const end = rangeBound(range.to, range.tz, true);
  if (end <= start) throw new Error(`empty or reversed range ${range.from}..${range.to} (${range.tz})`);
  return { start, end };
}

/** The resolved range as a result states it: ISO instants, `to` exclusive. */
export function bruteRange(range: DateRange): { from: string; to: string; tz: string } {
  const { start, end } = rangeMicros(range);
  return { from: isoMicros(start), to: isoMicros(end), tz: range.tz };
}

/**
 * `--last D`: `[end − D, end)` where `end` is the start of the UTC minute after the latest event
 * (the minute that follows the one holding it), as ISO instants.
 */
export function bruteLastRange(events: BruteEvent[], seconds: number, tz: string): DateRange {
  const last = lastEventTime(events);
  if (!Number.isFinite(last)) throw new Error("--last on an empty cache");
  const end = (Math.floor(last / MINUTE_US) + 1) * MINUTE_US;
  return { from: isoMicros(end - seconds * 1e6), to: isoMicros(end), tz };
}

/** The compare offset (µs) of a range. */
function compareOffsetMicros(compare: Compare, start: number, end: number): number {
  switch (compare) {
    case "previous":
      return end - start;
    case "1d":
      return 86_400e6;
    case "1w":
      return 604_800e6;
    case "4w":
      return 2_419_200e6;
  }
}

/* ---------- buckets ---------- */

/** More buckets than this in a range is refused. */
export const MAX_BUCKETS = 10_000;

/**
 * The bucket key of an instant: the local minute index of the local wall-clock time its bucket starts
 * at (the local time truncated to the minute, to a multiple of 5 or 15 minutes past the hour, to the
 * hour, day, Monday week or calendar month).
 */
export function bucketKey(interval: Interval, tz: string, micros: number): number {
  const lmi = localMinuteIndex(tz, micros);
  const days = Math.floor(lmi / 1440);
  switch (interval) {
    case "minute":
      return lmi;
    case "5m":
      return lmi - (((lmi % 5) + 5) % 5);
    case "15m":
      return lmi - (((lmi % 15) + 15) % 15);
    case "hour":
      return Math.floor(lmi / 60) * 60;
    case "day":
      return days * 1440;
    case "week":
      return (days - weekdayMon0(days)) * 1440;
    case "month": {
      const c = civilFromDays(days);
      return daysFromCivil(c.y, c.m, 1) * 1440;
    }
  }
}

/** The key of the bucket that follows bucket `key` in local wall-clock time. */
export function nextBucketKey(interval: Interval, key: number): number {
  switch (interval) {
    case "minute":
      return key + 1;
    case "5m":
      return key + 5;
    case "15m":
      return key + 15;
    case "hour":
      return key + 60;
    case "day":
      return key + 1440;
    case "week":
      return key + 7 * 1440;
    case "month": {
      const c = civilFromDays(key / 1440);
      return (c.m === 12 ? daysFromCivil(c.y + 1, 1, 1) : daysFromCivil(c.y, c.m + 1, 1)) * 1440;
    }
  }
}

/** A bucket's first instant (µs): the earliest instant whose local time is in it; null if none is. */
function bucketFirstInstant(interval: Interval, tz: string, key: number): number | null {
  return firstInstantIn(tz, key * MINUTE_US, nextBucketKey(interval, key) * MINUTE_US);
}

function isoMicros(micros: number): string {
  return new Date(Math.floor(micros / 1000)).toISOString();
}

/**
 * Every bucket that some instant of the range falls in, in time order, each with its first instant
 * (which may be before the range start). A bucket whose local times are all skipped holds no instant
 * and is absent; on a fall-back the repeated local times fall into the buckets of their first
 * occurrence. More than MAX_BUCKETS throws.
 */
export function rangeBuckets(interval: Interval, range: DateRange): { key: number; start: number }[] {
  const { start, end } = rangeMicros(range);
  const tz = range.tz;
  const keys = new Set<number>();
  // the range's instants, UTC minute by UTC minute: each piece shows a contiguous local span [a, b)
  let piece = start;
  while (piece < end) {
    const day = Math.floor(piece / DAY_US);
    const table = dayTable(tz, day);
    let i = Math.floor((piece - day * DAY_US) / MINUTE_US);
    // extend the piece over the following minutes of the same offset (within the day)
    let pieceEnd = Math.min(end, day * DAY_US + (i + 1) * MINUTE_US);
    while (i + 1 < 1440 && pieceEnd < end && table.off[i + 1] === table.off[i]) {
      i++;
      pieceEnd = Math.min(end, day * DAY_US + (i + 1) * MINUTE_US);
    }
    const last = bucketKey(interval, tz, pieceEnd - 1);
    for (let k = bucketKey(interval, tz, piece); k <= last; k = nextBucketKey(interval, k)) {
      keys.add(k);
      if (keys.size > MAX_BUCKETS)
        throw new Error(`more than ${MAX_BUCKETS} ${interval} buckets in the range: use a coarser interval`);
    }
    piece = pieceEnd;
  }
  const out = [...keys]
    .sort((a, b) => a - b)
    .map((key) => {
      const first = bucketFirstInstant(interval, tz, key);
      if (first === null)
        throw new Error(`bucket ${key} holds an instant of the range but has no first instant`);
      return { key, start: first };
    });
  for (let i = 1; i < out.length; i++)
    if (out[i].start <= out[i - 1].start) throw new Error("bucket first instants out of order");
  return out;
}

/** Whole calendar periods from bucket `a` to bucket `b` (both bucket keys of `period`). */
export function periodsBetween(period: Period, a: number, b: number): number {
  switch (period) {
    case "hour":
      return (b - a) / 60;
    case "day":
      return (b - a) / 1440;
    case "week":
      return (b - a) / (7 * 1440);
    case "month": {
      const ca = civilFromDays(a / 1440);
      const cb = civilFromDays(b / 1440);
      return (cb.y - ca.y) * 12 + (cb.m - ca.m);
    }
  }
}

/* ====================================================================================== */
/* Properties and filters                                                                   */
/* ====================================================================================== */

function push<K, V>(m: Map<K, V[]>, key: K, v: V): void {
  const list = m.get(key);
  if (list) list.push(v);
  else m.set(key, [v]);
}

function getProp(props: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(props, key) ? props[key] : undefined;
}

/**
 * The property texts of each parsed line's properties, as the line wrote them (brute-json.ts): the
 * props objects themselves hold JSON.parse's values, whose numbers lost their text.
 */
const WRITTEN = new WeakMap<Record<string, unknown>, Map<string, string>>();

/** The raw `event_properties` text of each parsed line whose properties are an object. */
const RAW = new WeakMap<Record<string, unknown>, string>();

/** Properties as the user timeline gives them: numbers as `JsonNumber`s of their text as written. */
export function propsKeepingNumbers(props: Record<string, unknown>): Record<string, unknown> {
  const raw = RAW.get(props);
  return raw === undefined ? props : (valueKeepingNumbers(raw) as Record<string, unknown>);
}

/** The property text of `key`: as the source line wrote it, or (props built in a test) `propText`. */
export function propTextOf(props: Record<string, unknown>, key: string): string | null {
  const written = WRITTEN.get(props);
  if (written) return written.get(key) ?? null;
  return propText(getProp(props, key));
}

/** Property text: strings as-is, other JSON values as JSON text; null/missing → null (unset). */
export function propText(v: unknown): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v === "string") return v;
  return JSON.stringify(v);
}

const NUMERIC = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

/** Digits with single underscores between them (as DuckDB's number parser allows). */
const DIGITS = "\\d+(?:_\\d+)*";
const DOUBLE_TEXT = new RegExp(
  `^[+-]?(?:${DIGITS}(?:\\.(?:${DIGITS})?)?|\\.${DIGITS})(?:[eE][+-]?${DIGITS})?$`,
);

/**
 * Text cast to double, as TRY_CAST(text AS DOUBLE) does: surrounding whitespace ignored; optional sign;
 * decimal digits (single `_` between digits allowed) with optional fraction and exponent; or
 * `inf`/`infinity`/`nan` in any case. Anything else → null.
 */
export function castDouble(text: string): number | null {
  const s = text.trim();
  const special = /^([+-]?)(inf|infinity|nan)$/i.exec(s);
  if (special) {
    if (special[2].toLowerCase() === "nan") return Number.NaN;
    return special[1] === "-" ? Number.NEGATIVE_INFINITY : Number.POSITIVE_INFINITY;
  }
  if (!DOUBLE_TEXT.test(s)) return null;
  return Number(s.replace(/_/g, ""));
}

/** Double comparison with NaN equal to itself and greater than every other value (SQL order). */
function compareDouble(a: number, b: number): number {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) ? (Number.isNaN(b) ? 0 : 1) : -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Byte-order (UTF-8) comparison. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}

function equalsValue(text: string | null, value: string): boolean {
  if (text === null) return false;
  if (NUMERIC.test(value)) {
    const x = castDouble(text);
    return x !== null && compareDouble(x, Number(value)) === 0;
  }
  return text === value;
}

function compareValue(text: string | null, value: string): number | null {
  if (text === null) return null;
  if (NUMERIC.test(value)) {
    const x = castDouble(text);
    return x === null ? null : compareDouble(x, Number(value));
  }
  // Comparisons need a numeric value (issue #22): evx refuses `code>abc` before any query.
  throw new Error(`brute: ${JSON.stringify(value)} is not a number; > >= < <= compare numbers`);
}

function scalar(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(",") : (value ?? "");
}

/** The members of each bound cohort filter (`bindCohorts`). */
const MEMBERS = new WeakMap<object, Set<string>>();

/**
 * Computes the members of every cohort the spec's filters use (docs/semantics.md, "Cohorts") over
 * `events` (the whole data), so that `matchFilter` can test them. `staticIds` gives a static cohort's
 * saved user ids by name.
 */
export function bindCohorts(
  events: BruteEvent[],
  refs: CohortRef[],
  staticIds: Map<string, string[]> = new Map(),
): void {
  for (const r of refs) {
    if (MEMBERS.has(r)) continue;
    MEMBERS.set(r, bruteCohortMembers(events, r.def, staticIds.get(r.name)));
  }
}

/** The members of a bound cohort. */
export function cohortMembersOf(r: CohortRef): Set<string> {
  const m = MEMBERS.get(r);
  if (!m) throw new Error(`cohort ${r.name}: call bindCohorts first`);
  return m;
}

export function bruteCohortMembers(
  events: BruteEvent[],
  def: CohortDef | undefined,
  ids: string[] = [],
): Set<string> {
  if (!def) throw new Error("cohort without a definition");
  if (def.kind === "static") return new Set(ids);
  const last = lastEventTime(events);
  // `--in D` ends where `--last` ends: the start of the UTC minute after the latest event
  const end = (Math.floor(last / 60e6) + 1) * 60e6;
  const inWindow = (e: BruteEvent, c: CohortCondition) => {
    const w = c.window;
    if (!w) return true;
    if (w.kind === "last") return e.t >= end - w.seconds * 1e6;
    const r = rangeMicros(w.range);
    return e.t >= r.start && e.t < r.end;
  };
  const counts = def.conditions.map(() => new Map<string, number>());
  const users = new Set<string>();
  for (const e of events) {
    users.add(e.user);
    def.conditions.forEach((c, i) => {
      if (inWindow(e, c) && matchesRef(e, c.event, []))
        counts[i].set(e.user, (counts[i].get(e.user) ?? 0) + 1);
    });
  }
  const out = new Set<string>();
  for (const u of users) {
    const ok = def.conditions.every((c, i) =>
      c.did ? (counts[i].get(u) ?? 0) >= Math.max(1, c.atLeast) : !counts[i].has(u),
    );
    if (ok) out.add(u);
  }
  return out;
}

export function matchFilter(props: Record<string, unknown>, f: Filter, user?: string): boolean {
  if (f.cohort) {
    const members = MEMBERS.get(f.cohort);
    if (!members || user === undefined) throw new Error(`cohort ${f.cohort.name}: call bindCohorts first`);
    return members.has(user) === (f.op === "=");
  }
  const text = propTextOf(props, f.key);
  switch (f.op) {
    case "set":
      return text !== null;
    case "!set":
      return text === null;
    case "=":
      return equalsValue(text, scalar(f.value));
    case "!=":
      return !equalsValue(text, scalar(f.value));
    case "~":
      if (text === null) return false;
      return text.toLowerCase().includes(scalar(f.value).toLowerCase());
    case "in": {
      const list = Array.isArray(f.value) ? f.value : (f.value ?? "").split(",");
      return list.some((v) => equalsValue(text, v));
    }
    case ">":
    case ">=":
    case "<":
    case "<=": {
      const c = compareValue(text, scalar(f.value));
      if (c === null) return false;
      return f.op === ">" ? c > 0 : f.op === ">=" ? c >= 0 : f.op === "<" ? c < 0 : c <= 0;
    }
  }
}

function matchesRef(e: BruteEvent, ref: EventRef, where: Filter[]): boolean {
  if (ref.event !== "*" && e.type !== ref.event) return false;
  return (
    ref.filters.every((f) => matchFilter(e.props, f, e.user)) &&
    where.every((f) => matchFilter(e.props, f, e.user))
  );
}

/** Default label of an event argument: the canonical CLI text (`button_clicked[button_name=save]`). */
export function refLabel(ref: EventRef): string {
  return formatEventRef(ref);
}

export interface BruteOptions {
  /** How an event argument is labelled in results (default `refLabel`). */
  label?: (ref: EventRef) => string;
}

function breakdownValue(e: BruteEvent, key: string): string {
  return propTextOf(e.props, key) ?? "(none)";
}

/* ====================================================================================== */
/* Catalog                                                                                  */
/* ====================================================================================== */

export function bruteCatalog(events: BruteEvent[], spec: CatalogSpec & { range: DateRange }): CatalogResult {
  const { start, end } = rangeMicros(spec.range);
  const byType = new Map<string, BruteEvent[]>();
  for (const e of events) if (e.t >= start && e.t < end) push(byType, e.type, e);
  const rows: CatalogRow[] = [];
  for (const [type, list] of byType) {
    rows.push({
      event_type: type,
      events: list.length,
      users: new Set(list.map((e) => e.user)).size,
      first_seen: isoMicros(list.reduce((m, e) => Math.min(m, e.t), Number.POSITIVE_INFINITY)),
      last_seen: isoMicros(list.reduce((m, e) => Math.max(m, e.t), Number.NEGATIVE_INFINITY)),
    });
  }
  rows.sort((a, b) => b.events - a.events || compareBytes(a.event_type, b.event_type));
  return { events: rows };
}

/* ====================================================================================== */
/* Trend                                                                                    */
/* ====================================================================================== */

export function measureLabel(m: Measure): string {
  if (m.kind === "sum" || m.kind === "avg") return `${m.kind}:${m.key}`;
  if (m.kind === "stat") return `${m.stat}:${m.key}`;
  if (m.kind === "per-user-stat") return `per-user:${m.stat}`;
  return m.kind;
}

/** The level of a stat: p50 → 0.5, median → 0.5, min → 0, max → 1. */
function levelOf(stat: string): number {
  return stat === "min" ? 0 : stat === "max" ? 1 : stat === "median" ? 0.5 : Number(stat.slice(1)) / 100;
}

/**
 * The stat of a list of numbers (docs/semantics.md, "Trend"): sorted ascending, h = (n − 1)·level,
 * lo = v[⌊h⌋], hi = v[⌊h⌋ + 1], d = h − ⌊h⌋; lo when d = 0, else lo·(1 − d) + hi·d; 0 for none.
 */
export function statOf(values: number[], level: number): number {
  if (!values.length) return 0;
  const v = [...values].sort((a, b) => a - b);
  const h = (v.length - 1) * level;
  const fl = Math.floor(h);
  const d = h - fl;
  return d === 0 ? v[fl] : v[fl] * (1 - d) + v[fl + 1] * d;
}

/** The key's numbers on the rows (non-numeric and unset text left out). */
function numbersOf(rows: BruteEvent[], key: string): number[] {
  const out: number[] = [];
  for (const e of rows) {
    const text = propTextOf(e.props, key);
    const x = text === null ? null : castDouble(text);
    if (x !== null) out.push(x);
  }
  return out;
}

/** The measure over a set of rows. */
function measureRows(m: Measure, rows: BruteEvent[]): number {
  switch (m.kind) {
    case "events":
      return rows.length;
    case "users":
      return new Set(rows.map((e) => e.user)).size;
    case "per-user": {
      const users = new Set(rows.map((e) => e.user)).size;
      return users === 0 ? 0 : rows.length / users;
    }
    case "sum":
    case "avg": {
      const xs = numbersOf(rows, m.key);
      const sum = xs.reduce((a, x) => a + x, 0);
      if (m.kind === "sum") return sum;
      return xs.length === 0 ? 0 : sum / xs.length;
    }
    case "stat":
      return statOf(
        numbersOf(rows, m.key).filter((x) => Number.isFinite(x)),
        levelOf(m.stat),
      );
    case "per-user-stat": {
      const perUser = new Map<string, number>();
      for (const e of rows) perUser.set(e.user, (perUser.get(e.user) ?? 0) + 1);
      return statOf([...perUser.values()], levelOf(m.stat));
    }
  }
}

/** A formula's value (independent of src: a plain recursive walk over the parsed tree). */
function bruteFormula(f: Formula, x: number[]): number | null {
  const go = (e: Formula): number | null => {
    if (e.k === "num") return e.v;
    if (e.k === "var") return x[e.i];
    if (e.k === "neg") {
      const a = go(e.a);
      return a === null ? null : -a;
    }
    const a = go(e.a);
    const b = go(e.b);
    if (a === null || b === null) return null;
    if (e.op === "/" && b === 0) return null;
    const v = e.op === "+" ? a + b : e.op === "-" ? a - b : e.op === "*" ? a * b : a / b;
    return Number.isFinite(v) ? v : null;
  };
  return go(f);
}

/** The window in local minutes: Infinity for cumulative, null for neither. */
function windowMinutes(spec: TrendSpec): number | null {
  if (spec.cumulative) return Number.POSITIVE_INFINITY;
  return spec.rollingSeconds === undefined ? null : spec.rollingSeconds / 60;
}

export function bruteTrend(events: BruteEvent[], spec: TrendSpec, opts: BruteOptions = {}): TrendResult {
  const label = opts.label ?? refLabel;
  const { start, end } = rangeMicros(spec.range);
  const buckets = rangeBuckets(spec.interval, spec.range);
  const tz = spec.range.tz;
  // compare: the events of [start − offset, end − offset), each counted in the bucket of its instant
  // shifted forward by the offset
  const offset = spec.compare === undefined ? null : compareOffsetMicros(spec.compare, start, end);
  const win = windowMinutes(spec);

  const perBucket = (rows: BruteEvent[], shift: number): TrendPoint[] => {
    const byBucket = new Map<number, BruteEvent[]>();
    for (const e of rows) push(byBucket, bucketKey(spec.interval, tz, e.t + shift), e);
    // rolling / cumulative: the rows of the buckets whose local start is in (L − window, L]
    const windowRows = (key: number) =>
      win === null
        ? (byBucket.get(key) ?? [])
        : [...byBucket].filter(([k]) => k <= key && k > key - win).flatMap(([, rs]) => rs);
    const points = buckets.map((b) => ({
      t: isoMicros(b.start),
      value: measureRows(spec.measure, windowRows(b.key)),
    }));
    const placed = buckets.reduce((n, b) => n + (byBucket.get(b.key)?.length ?? 0), 0);
    if (placed !== rows.length) throw new Error("an event of the period fell outside the range's buckets");
    return points;
  };

  const makeSeries = (
    event: string,
    breakdown: string | null,
    rows: BruteEvent[],
    compareRows: BruteEvent[],
  ): TrendSeries => {
    const total = measureRows(spec.measure, rows);
    const series: TrendSeries = { event, breakdown, points: perBucket(rows, 0), total };
    if (offset !== null) {
      const compareTotal = measureRows(spec.measure, compareRows);
      series.compare = {
        offset_seconds: offset / 1e6,
        points: perBucket(compareRows, offset),
        total: compareTotal,
        change: compareTotal === 0 ? null : (total - compareTotal) / compareTotal,
      };
    }
    return series;
  };

  const series: TrendSeries[] = [];
  const rowsOf = (ref: EventRef) => ({
    rows: events.filter((e) => e.t >= start && e.t < end && matchesRef(e, ref, spec.filters)),
    compareRows:
      offset === null
        ? []
        : events.filter(
            (e) => e.t >= start - offset && e.t < end - offset && matchesRef(e, ref, spec.filters),
          ),
  });
  // The top values: each event's own, or with a formula the first event's for every event.
  const topOf = (rows: BruteEvent[], key: string) => {
    const groups = new Map<string, BruteEvent[]>();
    for (const e of rows) {
      const v = propTextOf(e.props, key);
      if (v !== null) push(groups, v, e);
    }
    const ranked = [...groups]
      .map(([value, rs]) => ({ value, total: measureRows(spec.measure, rs) }))
      .sort((a, b) => b.total - a.total || compareBytes(a.value, b.value));
    return ranked.slice(0, Math.max(0, spec.limit)).map((g) => g.value);
  };
  const key = spec.breakdown;
  const formulaTop =
    key !== undefined && spec.formula !== undefined ? topOf(rowsOf(spec.events[0]).rows, key) : null;
  const perEvent: TrendSeries[][] = [];
  const present = new Set<string>();
  for (const ref of spec.events) {
    const { rows, compareRows } = rowsOf(ref);
    const name = label(ref);
    const mine: TrendSeries[] = [];
    perEvent.push(mine);
    if (key === undefined) {
      mine.push(makeSeries(name, null, rows, compareRows));
      continue;
    }
    const top = formulaTop ?? topOf(rows, key);
    const split = (rs: BruteEvent[]) => {
      const byValue = new Map<string, BruteEvent[]>();
      const other: BruteEvent[] = [];
      const none: BruteEvent[] = [];
      for (const e of rs) {
        const v = propTextOf(e.props, key);
        if (v === null) none.push(e);
        else if (top.includes(v)) push(byValue, v, e);
        else other.push(e);
      }
      return { byValue, other, none };
    };
    const cur = split(rows);
    const cmp = split(compareRows);
    if (cur.other.length > 0 || cmp.other.length > 0) present.add("(other)");
    if (cur.none.length > 0 || cmp.none.length > 0) present.add("(none)");
    for (const v of top) {
      // without a formula a top value always has rows; with one, A's values may be empty here
      mine.push(makeSeries(name, v, cur.byValue.get(v) ?? [], cmp.byValue.get(v) ?? []));
    }
    if (cur.other.length > 0 || cmp.other.length > 0 || formulaTop)
      mine.push(makeSeries(name, "(other)", cur.other, cmp.other));
    if (cur.none.length > 0 || cmp.none.length > 0 || formulaTop)
      mine.push(makeSeries(name, "(none)", cur.none, cmp.none));
  }
  if (formulaTop) {
    // (other) and (none) appear when some event has rows there
    const has = (v: string) => present.has(v);
    for (const ss of perEvent)
      for (let i = ss.length - 1; i >= 0; i--)
        if (
          (ss[i].breakdown === "(other)" || ss[i].breakdown === "(none)") &&
          !has(ss[i].breakdown as string)
        )
          ss.splice(i, 1);
  }
  for (const ss of perEvent) series.push(...ss);
  const result: TrendResult = { interval: spec.interval, measure: measureLabel(spec.measure), series };
  if (spec.cumulative) result.window = "cumulative";
  else if (spec.rollingSeconds !== undefined) {
    const d = spec.rollingSeconds;
    result.window = `rolling ${d % 86400 === 0 ? `${d / 86400}d` : d % 3600 === 0 ? `${d / 3600}h` : d % 60 === 0 ? `${d / 60}m` : `${d}s`}`;
  }
  if (spec.formula !== undefined) {
    const f = parseFormula(spec.formula, spec.events.length);
    const values = perEvent[0].map((s0, j) => {
      const letters = perEvent.map((ss) => ss[j]);
      const fs: FormulaSeries = {
        breakdown: s0.breakdown,
        points: s0.points.map((p, i) => ({
          t: p.t,
          value: bruteFormula(
            f,
            letters.map((s) => s.points[i].value),
          ),
        })),
        total: bruteFormula(
          f,
          letters.map((s) => s.total),
        ),
      };
      if (s0.compare) {
        const total = bruteFormula(
          f,
          letters.map((s) => s.compare?.total ?? 0),
        );
        fs.compare = {
          offset_seconds: s0.compare.offset_seconds,
          points: s0.compare.points.map((p, i) => ({
            t: p.t,
            value: bruteFormula(
              f,
              letters.map((s) => s.compare?.points[i].value ?? 0),
            ),
          })),
          total,
          change: total === null || total === 0 || fs.total === null ? null : (fs.total - total) / total,
        };
      }
      return fs;
    });
    result.formula = { text: spec.formula, series: values };
  }
  return result;
}

/* ====================================================================================== */
/* Funnel                                                                                   */
/* ====================================================================================== */

interface Attempt {
  user: string;
  /** Matched instant of each reached step; times[0] is the step-1 event (the anchor with `any`). */
  times: number[];
  /** Breakdown value of the step-1 event ("(none)" when unset); "" without a breakdown. */
  value: string;
  /** With `--value`: the attempt's value per reached step (null: none). */
  values: (number | null)[];
}

function groupByUser(events: BruteEvent[]): Map<string, BruteEvent[]> {
  const m = new Map<string, BruteEvent[]>();
  for (const e of events) push(m, e.user, e);
  for (const list of m.values()) list.sort((a, b) => a.t - b.t);
  return m;
}

/** A property's finite number, or null (unset, not a number, infinite or NaN). */
function finiteValue(e: BruteEvent, key: string): number | null {
  const text = propTextOf(e.props, key);
  const x = text === null ? null : castDouble(text);
  return x !== null && Number.isFinite(x) ? x : null;
}

function maxOf(values: (number | null)[]): number | null {
  let m: number | null = null;
  for (const v of values) if (v !== null && (m === null || v > m)) m = v;
  return m;
}

/** The exclusion text as echoed in results: `EVENT[filter]@A-B`. */
export function exclusionLabel(x: { event: EventRef; from: number; to: number }): string {
  return `${formatEventRef(x.event)}@${x.from}-${x.to}`;
}

/** Ordered or strict: the step-k matches of one attempt starting at `first` (docs/semantics.md). */
function orderedTimes(list: BruteEvent[], first: BruteEvent, spec: FunnelSpec): number[] {
  const within = spec.withinSeconds * 1e6;
  const steps = spec.steps;
  const held = spec.hold === undefined ? undefined : propTextOf(first.props, spec.hold);
  const times = [first.t];
  if (held === null) return times;
  const visible = list.filter((e) => spec.filters.every((f) => matchFilter(e.props, f, e.user)));
  for (let k = 1; k < steps.length; k++) {
    // latest earlier step naming the same event_type: the match must be strictly later than it
    let sameJ = -1;
    for (let j = 0; j < k; j++) if (steps[j].event === steps[k].event) sameJ = j;
    const prev = times[k - 1];
    const match = list.find(
      (e) =>
        e.t >= prev &&
        e.t <= times[0] + within &&
        (sameJ < 0 || e.t > times[sameJ]) &&
        matchesRef(e, steps[k], spec.filters) &&
        (held === undefined || propTextOf(e.props, spec.hold as string) === held),
    );
    if (!match) break;
    if (spec.order === "strict" && visible.some((e) => e.t > prev && e.t < match.t)) break;
    times.push(match.t);
  }
  return times;
}

/** Max bipartite matching (Kuhn) of events to steps, growing one event at a time. */
class StepMatcher {
  private readonly stepOf: number[];
  private readonly edges: number[][] = [];
  size = 0;
  constructor(private readonly k: number) {
    this.stepOf = new Array<number>(k).fill(-1);
  }
  /** Adds an event that can fill the given steps; returns the new matching size. */
  add(steps: number[]): number {
    const ev = this.edges.length;
    this.edges.push(steps);
    const seen = new Array<boolean>(this.k).fill(false);
    if (this.augment(ev, seen)) this.size++;
    return this.size;
  }
  private augment(ev: number, seen: boolean[]): boolean {
    for (const s of this.edges[ev]) {
      if (seen[s]) continue;
      seen[s] = true;
      if (this.stepOf[s] < 0 || this.augment(this.stepOf[s], seen)) {
        this.stepOf[s] = ev;
        return true;
      }
    }
    return false;
  }
}

/** Any order: from the anchor, the instant at which 1, 2, … distinct steps are matched. */
function anyOrderTimes(list: BruteEvent[], anchor: BruteEvent, spec: FunnelSpec): number[] {
  const within = spec.withinSeconds * 1e6;
  const held = spec.hold === undefined ? undefined : propTextOf(anchor.props, spec.hold);
  if (held === null) return [anchor.t];
  const matcher = new StepMatcher(spec.steps.length);
  const times: number[] = [];
  for (const e of list) {
    if (e.t < anchor.t || e.t > anchor.t + within) continue;
    if (held !== undefined && propTextOf(e.props, spec.hold as string) !== held) continue;
    const fits = spec.steps.flatMap((ref, j) => (matchesRef(e, ref, spec.filters) ? [j] : []));
    if (fits.length === 0) continue;
    if (matcher.add(fits) > times.length) times.push(e.t);
  }
  return times;
}

/** True when an exclusion discards the attempt (docs/semantics.md, "Exclusions"). */
function excluded(list: BruteEvent[], times: number[], spec: FunnelSpec): boolean {
  const within = spec.withinSeconds * 1e6;
  for (const x of spec.exclude ?? []) {
    if (times.length < x.from) continue;
    const tA = times[x.from - 1];
    const end = times.length >= x.to ? times[x.to - 1] : times[0] + within;
    if (list.some((e) => e.t > tA && e.t < end && matchesRef(e, x.event, spec.filters))) return true;
  }
  return false;
}

/**
 * Every attempt: each step-1 event (with `any`: each event matching any step) in `[start, end)`
 * (default: the spec's range); later steps matched per the doc (they may fall after `end`).
 */
export function funnelAttempts(
  events: BruteEvent[],
  spec: FunnelSpec,
  { start, end } = rangeMicros(spec.range),
): Attempt[] {
  const steps = spec.steps;
  const any = spec.order === "any";
  const attempts: Attempt[] = [];
  for (const [user, list] of groupByUser(events)) {
    for (const first of list) {
      if (first.t < start || first.t >= end) continue;
      if (
        any
          ? !steps.some((s) => matchesRef(first, s, spec.filters))
          : !matchesRef(first, steps[0], spec.filters)
      )
        continue;
      const times = any ? anyOrderTimes(list, first, spec) : orderedTimes(list, first, spec);
      if (excluded(list, times, spec)) continue;
      const key = spec.value;
      const held = spec.hold === undefined ? undefined : propTextOf(first.props, spec.hold);
      const values =
        key === undefined
          ? []
          : times.map((t, k) =>
              k === 0
                ? finiteValue(first, key)
                : maxOf(
                    list
                      .filter(
                        (e) =>
                          e.t === t &&
                          matchesRef(e, steps[k], spec.filters) &&
                          (held === undefined || propTextOf(e.props, spec.hold as string) === held),
                      )
                      .map((e) => finiteValue(e, key)),
                  ),
            );
      attempts.push({
        user,
        times,
        value: spec.breakdown === undefined ? "" : breakdownValue(first, spec.breakdown),
        values,
      });
    }
  }
  return attempts;
}

function median(values: number[]): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

function funnelSteps(attempts: Attempt[], labels: string[], withValue = false): FunnelStepResult[] {
  const n = labels.length;
  const progress = new Map<string, number>();
  /** fastest[k] : user → smallest t_k - t_1 (µs) over attempts that reached step k (0-based k). */
  const fastest: Map<string, number>[] = labels.map(() => new Map());
  for (const a of attempts) {
    progress.set(a.user, Math.max(progress.get(a.user) ?? 0, a.times.length));
    for (let k = 0; k < a.times.length; k++) {
      const d = a.times[k] - a.times[0];
      const prev = fastest[k].get(a.user);
      if (prev === undefined || d < prev) fastest[k].set(a.user, d);
    }
  }
  // defining attempts: furthest step, then earliest start; per step the largest of their values
  const defining = new Map<string, Attempt[]>();
  for (const a of attempts) {
    const cur = defining.get(a.user);
    const best = cur?.[0];
    if (
      !best ||
      a.times.length > best.times.length ||
      (a.times.length === best.times.length && a.times[0] < best.times[0])
    )
      defining.set(a.user, [a]);
    else if (a.times.length === best.times.length && a.times[0] === best.times[0]) cur?.push(a);
  }
  const users: number[] = [];
  for (let k = 0; k < n; k++) users.push([...progress.values()].filter((p) => p >= k + 1).length);
  return labels.map((step, k) => {
    const med = k === 0 ? null : median([...fastest[k].values()]);
    const out: FunnelStepResult = {
      step,
      users: users[k],
      conversion: users[0] === 0 ? 0 : users[k] / users[0],
      from_previous: k === 0 ? 1 : users[k - 1] === 0 ? 0 : users[k] / users[k - 1],
      median_seconds: med === null ? null : med / 1e6,
    };
    if (withValue) {
      const vs: number[] = [];
      for (const list of defining.values()) {
        const v = maxOf(list.map((a) => a.values[k] ?? null));
        if (v !== null) vs.push(v);
      }
      const sum = vs.reduce((s, v) => s + v, 0);
      out.value = { sum, avg: vs.length ? sum / vs.length : null };
    }
    return out;
  });
}

export function bruteFunnel(events: BruteEvent[], spec: FunnelSpec, opts: BruteOptions = {}): FunnelResult {
  const label = opts.label ?? refLabel;
  const labels = spec.steps.map(label);
  const { start, end } = rangeMicros(spec.range);
  const attempts = funnelAttempts(events, spec, { start, end });
  const withValue = spec.value !== undefined;
  const result: FunnelResult = {
    within_seconds: spec.withinSeconds,
    order: spec.order ?? "ordered",
    exclude: (spec.exclude ?? []).map(exclusionLabel),
    hold: spec.hold ?? null,
    steps: funnelSteps(attempts, labels, withValue),
    breakdown: null,
  };

  if (spec.breakdown !== undefined) {
    const groups = new Map<string, Attempt[]>();
    for (const a of attempts) push(groups, a.value, a);
    const none = groups.get("(none)") ?? [];
    groups.delete("(none)");
    const ranked = [...groups]
      .map(([value, as]) => ({ value, attempts: as, users: new Set(as.map((a) => a.user)).size }))
      .sort((a, b) => b.users - a.users || compareBytes(a.value, b.value));
    const top = ranked.slice(0, Math.max(0, spec.limit));
    const other = ranked.slice(Math.max(0, spec.limit)).flatMap((g) => g.attempts);
    result.breakdown = top.map((g) => ({
      value: g.value,
      steps: funnelSteps(g.attempts, labels, withValue),
    }));
    if (other.length > 0)
      result.breakdown.push({ value: "(other)", steps: funnelSteps(other, labels, withValue) });
    if (none.length > 0)
      result.breakdown.push({ value: "(none)", steps: funnelSteps(none, labels, withValue) });
  }

  if (spec.trendInterval !== undefined) {
    const interval = spec.trendInterval;
    const tz = spec.range.tz;
    const n = spec.steps.length;
    // per user: earliest attempt that reached the last step, else earliest attempt
    const chosen = new Map<string, Attempt>();
    for (const a of attempts) {
      const c = chosen.get(a.user);
      const aDone = a.times.length === n;
      const cDone = c !== undefined && c.times.length === n;
      if (c === undefined || (aDone && !cDone) || (aDone === cDone && a.times[0] < c.times[0]))
        chosen.set(a.user, a);
    }
    const trend: FunnelTrendPoint[] = rangeBuckets(interval, spec.range).map((b) => {
      const inBucket = [...chosen.values()].filter((a) => bucketKey(interval, tz, a.times[0]) === b.key);
      return {
        t: isoMicros(b.start),
        entered: inBucket.length,
        converted: inBucket.filter((a) => a.times.length === n).length,
      };
    });
    result.trend = trend;
  }

  if (spec.compare !== undefined) {
    // the same funnel, without breakdown, over attempts starting in [start − offset, end − offset)
    const offset = compareOffsetMicros(spec.compare, start, end);
    const compareAttempts = funnelAttempts(events, spec, { start: start - offset, end: end - offset });
    result.compare = { offset_seconds: offset / 1e6, steps: funnelSteps(compareAttempts, labels, withValue) };
  }
  if (spec.timeToConvert !== undefined)
    result.time_to_convert = bruteTimeToConvert(attempts, spec.timeToConvert);
  if (spec.order === "any") {
    // Row k counts users who did any k of the K steps (docs/semantics.md, "Order"): it says so.
    const K = spec.steps.length;
    const mark = (ss: FunnelStepResult[]) => {
      for (const [i, s] of ss.entries()) s.label = `any ${i + 1} of ${K}`;
    };
    mark(result.steps);
    for (const g of result.breakdown ?? []) mark(g.steps);
    if (result.compare) mark(result.compare.steps);
  }
  return result;
}

/** Linear interpolation between the closest ranks (R-7): position (n − 1)·q of the sorted values. */
export function quantileLinear(values: number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  const pos = (s.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return s[lo] + (s[hi] - s[lo]) * (pos - lo);
}

/**
 * Time to convert (docs/semantics.md): per user who reached step B, the smallest t_B − t_A over their
 * attempts that reached B; count, mean, median, p90 and the histogram.
 */
function bruteTimeToConvert(attempts: Attempt[], t: TimeToConvertSpec): TimeToConvertResult {
  const best = new Map<string, number>();
  for (const a of attempts) {
    if (a.times.length < t.to) continue;
    const d = a.times[t.to - 1] - a.times[t.from - 1];
    const prev = best.get(a.user);
    if (prev === undefined || d < prev) best.set(a.user, d);
  }
  const xs = [...best.values()];
  const n = xs.length;
  const out: TimeToConvertResult = {
    from_step: t.from,
    to_step: t.to,
    count: n,
    bins: [],
    average_seconds: null,
    median_seconds: null,
    p90_seconds: null,
  };
  if (n === 0) return out;
  out.average_seconds = xs.reduce((s, x) => s + x, 0) / n / 1e6;
  out.median_seconds = (quantileLinear(xs, 0.5) as number) / 1e6;
  out.p90_seconds = (quantileLinear(xs, 0.9) as number) / 1e6;
  // automatic: the smallest m with m³ ≥ n, clamped to 1..60
  let auto = 1;
  while (auto * auto * auto < n) auto++;
  const nb = t.bins ?? Math.min(60, Math.max(1, auto));
  const lo = Math.min(...xs);
  const hi = Math.max(...xs);
  const per = BigInt(nb) * 1_000_000n;
  const w = Math.max(1, Number((BigInt(hi - lo) + per - 1n) / per)) * 1e6;
  const counts = new Array<number>(nb).fill(0);
  for (const x of xs) counts[Math.min(nb - 1, Math.floor((x - lo) / w))]++;
  out.bins = counts.map((users, i) => ({
    start_seconds: (lo + i * w) / 1e6,
    end_seconds: (lo + (i + 1) * w) / 1e6,
    users,
  }));
  return out;
}

/* ====================================================================================== */
/* Retention                                                                                */
/* ====================================================================================== */

/**
 * `average[n]` is `null` when no cohort qualifies (the doc); spec.ts types it as number[], hence the
 * wider element type here.
 */
export type BruteRetentionResult = Omit<RetentionResult, "average"> & { average: (number | null)[] };

export function bruteRetention(
  events: BruteEvent[],
  spec: RetentionSpec,
  lastEventMicros: number,
): BruteRetentionResult {
  const { start, end } = rangeMicros(spec.range);
  const tz = spec.range.tz;
  const period = spec.period;
  const recurring = spec.cohort === "recurring";

  // memberships: (user, cohort bucket key) → first START in it; `first` keeps only the user's first.
  // With a breakdown, each START event's KEY text; the membership's value is the least text (byte
  // order) among the START events at its first instant, "(none)" when all of them have KEY unset.
  const firstStart = new Map<string, { t0: number; texts: (string | null)[] }>();
  for (const e of events) {
    if (e.t < start || e.t >= end || !matchesRef(e, spec.start, spec.filters)) continue;
    const id = recurring ? `${e.user}\u0000${bucketKey(period, tz, e.t)}` : e.user;
    const text = spec.breakdown === undefined ? null : propTextOf(e.props, spec.breakdown);
    const prev = firstStart.get(id);
    if (prev === undefined || e.t < prev.t0) firstStart.set(id, { t0: e.t, texts: [text] });
    else if (e.t === prev.t0) prev.texts.push(text);
  }
  const members: Member[] = [...firstStart].map(([id, { t0, texts }]) => {
    const set = texts.filter((x): x is string => x !== null).sort(compareBytes);
    return {
      user: recurring ? id.slice(0, id.indexOf("\u0000")) : id,
      key: bucketKey(period, tz, t0),
      t0,
      value: set.length ? set[0] : "(none)",
    };
  });
  const returnsOf = new Map<string, BruteEvent[]>();
  for (const e of events) if (matchesRef(e, spec.return, spec.filters)) push(returnsOf, e.user, e);
  const result: BruteRetentionResult = {
    period,
    mode: spec.mode,
    cohort: spec.cohort ?? "first",
    ...retentionTable(members, returnsOf, spec, lastEventMicros),
  };
  if (spec.cohortBreakdown !== undefined) {
    result.breakdown = spec.cohortBreakdown.flatMap((r) => {
      const m = cohortMembersOf(r);
      return [
        {
          value: r.name,
          ...retentionTable(
            members.filter((x) => m.has(x.user)),
            returnsOf,
            spec,
            lastEventMicros,
          ),
        },
        {
          value: `not ${r.name}`,
          ...retentionTable(
            members.filter((x) => !m.has(x.user)),
            returnsOf,
            spec,
            lastEventMicros,
          ),
        },
      ];
    });
  }
  if (spec.breakdown !== undefined) {
    const groups = new Map<string, Member[]>();
    for (const m of members) push(groups, m.value, m);
    const none = groups.get("(none)") ?? [];
    groups.delete("(none)");
    const ranked = [...groups]
      .map(([value, ms]) => ({ value, ms, users: new Set(ms.map((m) => m.user)).size }))
      .sort((a, b) => b.users - a.users || compareBytes(a.value, b.value));
    const limit = Math.max(0, spec.limit ?? 5);
    const tables = ranked.slice(0, limit).map((g) => ({ value: g.value, ms: g.ms }));
    const other = ranked.slice(limit).flatMap((g) => g.ms);
    if (other.length) tables.push({ value: "(other)", ms: other });
    if (none.length) tables.push({ value: "(none)", ms: none });
    result.breakdown = tables.map((t) => ({
      value: t.value,
      ...retentionTable(t.ms, returnsOf, spec, lastEventMicros),
    }));
  }
  return result;
}

interface Member {
  user: string;
  key: number;
  t0: number;
  /** The breakdown value of the membership's START event ("(none)" without a breakdown). */
  value: string;
}

/** The cohorts and average of a set of memberships. */
function retentionTable(
  members: Member[],
  returnsOf: Map<string, BruteEvent[]>,
  spec: RetentionSpec,
  lastEventMicros: number,
): { cohorts: RetentionCohort[]; average: (number | null)[] } {
  const tz = spec.range.tz;
  const period = spec.period;
  const buckets = rangeBuckets(period, spec.range);
  const cohorts: RetentionCohort[] = buckets.map((b) => {
    const mine = members.filter((m) => m.key === b.key);
    // per member: period indexes (and values) of their RETURN events at or after t0 (no upper bound)
    const idx = mine.map((m) =>
      (returnsOf.get(m.user) ?? [])
        .filter((e) => e.t >= m.t0)
        .map((e) => ({
          n: periodsBetween(period, m.key, bucketKey(period, tz, e.t)),
          v: spec.value === undefined ? null : finiteValue(e, spec.value),
        })),
    );
    const counts = (n: number, i: { n: number }) => (spec.mode === "on" ? i.n === n : i.n >= n);
    const retained: number[] = [];
    const value: number[] = [];
    let incomplete: number | null = null;
    let periodKey = b.key;
    for (let n = 0; n < spec.periods; n++) {
      retained.push(idx.filter((list) => list.some((i) => counts(n, i))).length);
      value.push(idx.flat().reduce((s, i) => (counts(n, i) && i.v !== null ? s + i.v : s), 0));
      const nextKey = nextBucketKey(period, periodKey);
      // period n ends where local time reaches the start of period n + 1
      if (incomplete === null && firstInstantFrom(tz, nextKey * MINUTE_US) > lastEventMicros) incomplete = n;
      periodKey = nextKey;
    }
    const cohort: RetentionCohort = {
      cohort: isoMicros(b.start),
      users: mine.length,
      retained,
      incomplete_from: incomplete,
    };
    if (spec.value !== undefined) cohort.value = value;
    return cohort;
  });

  const average: (number | null)[] = [];
  for (let n = 0; n < spec.periods; n++) {
    const ok = cohorts.filter((c) => c.users > 0 && (c.incomplete_from === null || n < c.incomplete_from));
    const users = ok.reduce((s, c) => s + c.users, 0);
    average.push(ok.length === 0 ? null : ok.reduce((s, c) => s + c.retained[n], 0) / users);
  }
  return { cohorts, average };
}

/** The latest event instant (µs) of a list, or -Infinity when empty. */
export function lastEventTime(events: BruteEvent[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const e of events) if (e.t > m) m = e.t;
  return m;
}
