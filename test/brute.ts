/**
 * Brute-force reference implementation of docs/semantics.md.
 *
 * Clarity over speed: every analysis is a direct transcription of the doc over an in-memory list of
 * events (tests run it on ≤ 50k events). The DuckDB engine is compared against this.
 *
 * Conventions:
 * - Instants are epoch microseconds (`t`), parsed from the text so no precision is lost.
 * - Local calendar arithmetic uses a "local hour index": days since 1970-01-01 of the local calendar
 *   date × 24 + local hour. Bucket keys are local hour indexes of the bucket's first local hour.
 * - A bucket's start instant is the earliest instant whose local hour index is ≥ the key (so a local
 *   midnight skipped by DST starts the day at the first instant that exists).
 */
import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { formatEventRef } from "../src/queries/parse.js";
import type {
  CatalogResult,
  CatalogRow,
  CatalogSpec,
  DateRange,
  EventRef,
  Filter,
  FunnelResult,
  FunnelSpec,
  FunnelStepResult,
  FunnelTrendPoint,
  Interval,
  Measure,
  RetentionCohort,
  RetentionResult,
  RetentionSpec,
  TrendResult,
  TrendSeries,
  TrendSpec,
} from "../src/queries/spec.js";

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

function parseDate(s: string): number {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (!m) throw new Error(`bad date ${s}`);
  return daysFromCivil(+m[1], +m[2], +m[3]);
}

/* ====================================================================================== */
/* Time zones                                                                                */
/* ====================================================================================== */

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(tz: string): Intl.DateTimeFormat {
  let f = formatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: tz,
      hourCycle: "h23",
      era: "short",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
    });
    formatters.set(tz, f);
  }
  return f;
}

/** Local hour index (local days since 1970-01-01 × 24 + local hour) of an instant given in ms. */
function localHourIndexUncached(tz: string, ms: number): number {
  let y = 0;
  let m = 0;
  let d = 0;
  let h = 0;
  let bc = false;
  for (const p of formatter(tz).formatToParts(new Date(ms))) {
    if (p.type === "year") y = +p.value;
    else if (p.type === "month") m = +p.value;
    else if (p.type === "day") d = +p.value;
    else if (p.type === "hour") h = +p.value;
    else if (p.type === "era") bc = p.value === "BC";
  }
  if (bc) y = 1 - y;
  return daysFromCivil(y, m, d) * 24 + h;
}

// Since 1972 every zone's UTC offset is a whole number of minutes, so the local hour is constant
// within a UTC minute; cache by minute (a pure speed-up, exact for these instants).
const CACHE_FROM_MS = Date.UTC(1973, 0, 1);
const lhiCache = new Map<string, number>();
function localHourIndexMs(tz: string, ms: number): number {
  if (ms < CACHE_FROM_MS) return localHourIndexUncached(tz, ms);
  const key = `${tz}|${Math.floor(ms / 60000)}`;
  let v = lhiCache.get(key);
  if (v === undefined) {
    v = localHourIndexUncached(tz, Math.floor(ms / 60000) * 60000);
    if (lhiCache.size > 2_000_000) lhiCache.clear();
    lhiCache.set(key, v);
  }
  return v;
}

/** Local hour index of an instant in epoch microseconds. */
export function localHourIndex(tz: string, micros: number): number {
  return localHourIndexMs(tz, Math.floor(micros / 1000));
}

const startCache = new Map<string, number>();
/**
 * Earliest instant (epoch ms) whose local hour index is ≥ `lhi`. Binary search over ms, using that the
 * local hour index never decreases as time advances (true for whole-hour or shorter DST shifts that do
 * not cross a date line backwards).
 */
export function startOfLocalHour(tz: string, lhi: number): number {
  const key = `${tz}|${lhi}`;
  const hit = startCache.get(key);
  if (hit !== undefined) return hit;
  const approx = lhi * 3_600_000; // the local wall time read as if it were UTC
  let lo = approx - 30 * 3_600_000; // local index here is < lhi (offsets are within ±26 h)
  let hi = approx + 30 * 3_600_000; // … and here ≥ lhi
  if (!(localHourIndexUncached(tz, lo) < lhi && localHourIndexUncached(tz, hi) >= lhi))
    throw new Error(`startOfLocalHour: bad bracket for ${tz}`);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (localHourIndexUncached(tz, mid) >= lhi) hi = mid;
    else lo = mid;
  }
  startCache.set(key, hi);
  return hi;
}

/** The bucket key (local hour index of the bucket's first local hour) of an instant. */
export function bucketKey(interval: Interval, tz: string, micros: number): number {
  const lhi = localHourIndex(tz, micros);
  const days = Math.floor(lhi / 24);
  switch (interval) {
    case "hour":
      return lhi;
    case "day":
      return days * 24;
    case "week":
      return (days - weekdayMon0(days)) * 24;
    case "month": {
      const c = civilFromDays(days);
      return daysFromCivil(c.y, c.m, 1) * 24;
    }
  }
}

function nextBucketKey(interval: Interval, key: number): number {
  switch (interval) {
    case "hour":
      return key + 1;
    case "day":
      return key + 24;
    case "week":
      return key + 7 * 24;
    case "month": {
      const c = civilFromDays(key / 24);
      return (c.m === 12 ? daysFromCivil(c.y + 1, 1, 1) : daysFromCivil(c.y, c.m + 1, 1)) * 24;
    }
  }
}

/** Start instant of a bucket, epoch microseconds. */
function bucketStart(tz: string, key: number): number {
  return startOfLocalHour(tz, key) * 1000;
}

function isoMicros(micros: number): string {
  return new Date(Math.floor(micros / 1000)).toISOString();
}

/** [start, end) of a date range, epoch microseconds. */
export function rangeMicros(range: DateRange): { start: number; end: number } {
  return {
    start: startOfLocalHour(range.tz, parseDate(range.from) * 24) * 1000,
    end: startOfLocalHour(range.tz, (parseDate(range.to) + 1) * 24) * 1000,
  };
}

/**
 * Every bucket from the one containing the range start to the one containing the range's last instant.
 * Keys that name no real instant (an hour skipped by DST) are left out.
 */
export function rangeBuckets(interval: Interval, range: DateRange): { key: number; start: number }[] {
  const { start, end } = rangeMicros(range);
  if (end <= start) return [];
  const first = bucketKey(interval, range.tz, start);
  const last = bucketKey(interval, range.tz, end - 1);
  const out: { key: number; start: number }[] = [];
  for (let k = first; k <= last; k = nextBucketKey(interval, k)) {
    const s = bucketStart(range.tz, k);
    if (bucketKey(interval, range.tz, s) === k) out.push({ key: k, start: s });
  }
  return out;
}

/** Whole calendar periods from bucket `a` to bucket `b` (both bucket keys of `period`). */
function periodsBetween(period: "day" | "week" | "month", a: number, b: number): number {
  if (period === "day") return (b - a) / 24;
  if (period === "week") return (b - a) / (7 * 24);
  const ca = civilFromDays(a / 24);
  const cb = civilFromDays(b / 24);
  return (cb.y - ca.y) * 12 + (cb.m - ca.m);
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
  return compareBytes(text, value);
}

function scalar(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(",") : (value ?? "");
}

export function matchFilter(props: Record<string, unknown>, f: Filter): boolean {
  const text = propText(getProp(props, f.key));
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
  return ref.filters.every((f) => matchFilter(e.props, f)) && where.every((f) => matchFilter(e.props, f));
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
  return propText(getProp(e.props, key)) ?? "(none)";
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
  return m.kind === "sum" || m.kind === "avg" ? `${m.kind}:${m.key}` : m.kind;
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
      let sum = 0;
      let n = 0;
      for (const e of rows) {
        const text = propText(getProp(e.props, m.key));
        const x = text === null ? null : castDouble(text);
        if (x !== null) {
          sum += x;
          n++;
        }
      }
      if (m.kind === "sum") return sum;
      return n === 0 ? 0 : sum / n;
    }
  }
}

export function bruteTrend(events: BruteEvent[], spec: TrendSpec, opts: BruteOptions = {}): TrendResult {
  const label = opts.label ?? refLabel;
  const { start, end } = rangeMicros(spec.range);
  const buckets = rangeBuckets(spec.interval, spec.range);
  const tz = spec.range.tz;

  const makeSeries = (event: string, breakdown: string | null, rows: BruteEvent[]): TrendSeries => {
    const byBucket = new Map<number, BruteEvent[]>();
    for (const e of rows) push(byBucket, bucketKey(spec.interval, tz, e.t), e);
    return {
      event,
      breakdown,
      points: buckets.map((b) => ({
        t: isoMicros(b.start),
        value: measureRows(spec.measure, byBucket.get(b.key) ?? []),
      })),
      total: measureRows(spec.measure, rows),
    };
  };

  const series: TrendSeries[] = [];
  for (const ref of spec.events) {
    const rows = events.filter((e) => e.t >= start && e.t < end && matchesRef(e, ref, spec.filters));
    const name = label(ref);
    const key = spec.breakdown;
    if (key === undefined) {
      series.push(makeSeries(name, null, rows));
      continue;
    }
    const groups = new Map<string, BruteEvent[]>();
    const none: BruteEvent[] = [];
    for (const e of rows) {
      const v = propText(getProp(e.props, key));
      if (v === null) none.push(e);
      else push(groups, v, e);
    }
    const ranked = [...groups]
      .map(([value, rs]) => ({ value, rows: rs, total: measureRows(spec.measure, rs) }))
      .sort((a, b) => b.total - a.total || compareBytes(a.value, b.value));
    const top = ranked.slice(0, Math.max(0, spec.limit));
    const rest = ranked.slice(Math.max(0, spec.limit));
    for (const g of top) series.push(makeSeries(name, g.value, g.rows));
    const other = rest.flatMap((g) => g.rows);
    if (other.length > 0) series.push(makeSeries(name, "(other)", other));
    if (none.length > 0) series.push(makeSeries(name, "(none)", none));
  }
  return { interval: spec.interval, measure: measureLabel(spec.measure), series };
}

/* ====================================================================================== */
/* Funnel                                                                                   */
/* ====================================================================================== */

interface Attempt {
  user: string;
  /** Matched instant of each reached step; times[0] is the step-1 event. */
  times: number[];
  /** Breakdown value of the step-1 event ("(none)" when unset); "" without a breakdown. */
  value: string;
}

function groupByUser(events: BruteEvent[]): Map<string, BruteEvent[]> {
  const m = new Map<string, BruteEvent[]>();
  for (const e of events) push(m, e.user, e);
  for (const list of m.values()) list.sort((a, b) => a.t - b.t);
  return m;
}

/** Every attempt: each step-1 event in range; later steps matched greedily per the doc. */
export function funnelAttempts(events: BruteEvent[], spec: FunnelSpec): Attempt[] {
  const { start, end } = rangeMicros(spec.range);
  const within = spec.withinSeconds * 1e6;
  const steps = spec.steps;
  const attempts: Attempt[] = [];
  for (const [user, list] of groupByUser(events)) {
    for (const first of list) {
      if (first.t < start || first.t >= end || !matchesRef(first, steps[0], spec.filters)) continue;
      const times = [first.t];
      for (let k = 1; k < steps.length; k++) {
        // latest earlier step naming the same event_type: the match must be strictly later than it
        let sameJ = -1;
        for (let j = 0; j < k; j++) if (steps[j].event === steps[k].event) sameJ = j;
        const match = list.find(
          (e) =>
            e.t >= times[k - 1] &&
            e.t <= times[0] + within &&
            (sameJ < 0 || e.t > times[sameJ]) &&
            matchesRef(e, steps[k], spec.filters),
        );
        if (!match) break;
        times.push(match.t);
      }
      attempts.push({
        user,
        times,
        value: spec.breakdown === undefined ? "" : breakdownValue(first, spec.breakdown),
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

function funnelSteps(attempts: Attempt[], labels: string[]): FunnelStepResult[] {
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
  const users: number[] = [];
  for (let k = 0; k < n; k++) users.push([...progress.values()].filter((p) => p >= k + 1).length);
  return labels.map((step, k) => {
    const med = k === 0 ? null : median([...fastest[k].values()]);
    return {
      step,
      users: users[k],
      conversion: users[0] === 0 ? 0 : users[k] / users[0],
      from_previous: k === 0 ? 1 : users[k - 1] === 0 ? 0 : users[k] / users[k - 1],
      median_seconds: med === null ? null : med / 1e6,
    };
  });
}

export function bruteFunnel(events: BruteEvent[], spec: FunnelSpec, opts: BruteOptions = {}): FunnelResult {
  const label = opts.label ?? refLabel;
  const labels = spec.steps.map(label);
  const attempts = funnelAttempts(events, spec);
  const result: FunnelResult = {
    within_seconds: spec.withinSeconds,
    steps: funnelSteps(attempts, labels),
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
    result.breakdown = top.map((g) => ({ value: g.value, steps: funnelSteps(g.attempts, labels) }));
    if (other.length > 0) result.breakdown.push({ value: "(other)", steps: funnelSteps(other, labels) });
    if (none.length > 0) result.breakdown.push({ value: "(none)", steps: funnelSteps(none, labels) });
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
  return result;
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
  const buckets = rangeBuckets(period, spec.range);

  // first START event in range per user
  const firstStart = new Map<string, number>();
  for (const e of events) {
    if (e.t < start || e.t >= end || !matchesRef(e, spec.start, spec.filters)) continue;
    const prev = firstStart.get(e.user);
    if (prev === undefined || e.t < prev) firstStart.set(e.user, e.t);
  }

  // bucket indexes of each user's RETURN events at or after their first START (no upper bound)
  const indexes = new Map<string, number[]>();
  for (const e of events) {
    const t0 = firstStart.get(e.user);
    if (t0 === undefined || e.t < t0 || !matchesRef(e, spec.return, spec.filters)) continue;
    const n = periodsBetween(period, bucketKey(period, tz, t0), bucketKey(period, tz, e.t));
    push(indexes, e.user, n);
  }

  const cohorts: RetentionCohort[] = buckets.map((b) => {
    const members = [...firstStart].filter(([, t0]) => bucketKey(period, tz, t0) === b.key).map(([u]) => u);
    const retained: number[] = [];
    let incomplete: number | null = null;
    let periodKey = b.key;
    for (let n = 0; n < spec.periods; n++) {
      retained.push(
        members.filter((u) => {
          const idx = indexes.get(u) ?? [];
          return spec.mode === "on" ? idx.includes(n) : idx.some((i) => i >= n);
        }).length,
      );
      const nextKey = nextBucketKey(period, periodKey);
      if (incomplete === null && bucketStart(tz, nextKey) > lastEventMicros) incomplete = n;
      periodKey = nextKey;
    }
    return { cohort: isoMicros(b.start), users: members.length, retained, incomplete_from: incomplete };
  });

  const average: (number | null)[] = [];
  for (let n = 0; n < spec.periods; n++) {
    const ok = cohorts.filter((c) => c.users > 0 && (c.incomplete_from === null || n < c.incomplete_from));
    const users = ok.reduce((s, c) => s + c.users, 0);
    average.push(ok.length === 0 ? null : ok.reduce((s, c) => s + c.retained[n], 0) / users);
  }
  return { period, mode: spec.mode, cohorts, average };
}

/** The latest event instant (µs) of a list, or -Infinity when empty. */
export function lastEventTime(events: BruteEvent[]): number {
  let m = Number.NEGATIVE_INFINITY;
  for (const e of events) if (e.t > m) m = e.t;
  return m;
}
