/**
 * CLI strings → spec parts. Every error is a one-line `UsageError` naming the bad input.
 *
 * Quoting: a filter key, a filter value or an event name may be written as a JSON string
 * (`"a b"`, `"say \"hi\""`) when it would otherwise be ambiguous: a key containing spaces or operator
 * characters, a value with leading/trailing spaces or starting with `"`, an empty value, an event name
 * that ends in `[...]`. Unquoted values are taken literally, so `message~Can't open "file"` works.
 * `formatEventRef`/`formatFilter` quote exactly when needed, so parse(format(x)) deep-equals x.
 */

import { UsageError } from "./errors.js";
import {
  COHORT_NAME,
  COHORT_RULES,
  COMPARES,
  type Compare,
  type EventRef,
  type Exclusion,
  type Filter,
  FUNNEL_ORDERS,
  type FunnelOrder,
  INTERVALS,
  type Interval,
  type Measure,
  NUMERIC_OPS,
  NUMERIC_VALUE,
  type Op,
  type Period,
  type RetentionCohortRule,
  STATS,
  type Stat,
} from "./spec.js";
import { isValidZone, readBound } from "./time.js";

export { UsageError };

const SYMBOL_OPS = ["!=", ">=", "<=", "=", ">", "<", "~"] as const;
/** Characters that end an unquoted key. */
const KEY_STOP = /[\s=!<>~[\]]/;

function fail(msg: string): never {
  throw new UsageError(msg);
}

/** Shows user input inside an error message on one line. */
function show(s: string): string {
  return JSON.stringify(s.length > 200 ? `${s.slice(0, 200)}…` : s);
}

/** Reads a JSON string literal starting at `s[i] === '"'`; returns the value and the index after it. */
function readQuoted(s: string, i: number): { value: string; end: number } | null {
  let j = i + 1;
  while (j < s.length) {
    const c = s[j];
    if (c === "\\") j += 2;
    else if (c === '"') {
      try {
        const value = JSON.parse(s.slice(i, j + 1)) as string;
        return { value, end: j + 1 };
      } catch {
        return null;
      }
    } else j++;
  }
  return null;
}

/** `KEY OP VALUE`, e.g. `button_name=save`, `revenue >= 10`, `country in US,DE`, `referrer !set`. */
export function parseFilter(text: string): Filter {
  const s = text.trim();
  if (!s) fail("empty filter: expected KEY OP VALUE, e.g. button_name=save");
  let key: string;
  let i: number;
  if (s[0] === '"') {
    const q = readQuoted(s, 0);
    if (!q) fail(`bad filter ${show(text)}: unterminated quoted key`);
    key = q.value;
    i = q.end;
  } else {
    i = 0;
    while (i < s.length && !KEY_STOP.test(s[i])) i++;
    key = s.slice(0, i);
    if (!key) fail(`bad filter ${show(text)}: missing key before the operator`);
  }
  while (i < s.length && /\s/.test(s[i])) i++;
  const rest = s.slice(i);
  const spaced = i > 0 && /\s/.test(s[i - 1]);
  // Word operators need a space before them (after an unquoted key the stop character is the space).
  const word = /^(!set|set|in)(?=\s|$)/.exec(rest);
  if (word && (spaced || s[0] === '"' || word[1] === "!set")) {
    const op = word[1] as Op;
    const after = rest.slice(word[1].length).trim();
    if (op === "set" || op === "!set") {
      if (after) fail(`bad filter ${show(text)}: '${op}' takes no value`);
      return { key, op };
    }
    if (!after) fail(`bad filter ${show(text)}: 'in' needs a comma-separated list, e.g. country in US,DE`);
    return { key, op: "in", value: splitList(after, text) };
  }
  const sym = SYMBOL_OPS.find((o) => rest.startsWith(o));
  if (!sym) {
    fail(
      `bad filter ${show(text)}: expected an operator (= != > >= < <= ~ in set !set) after the key ${show(key)}`,
    );
  }
  const raw = rest.slice(sym.length).trim();
  const value = unquoteValue(raw, text);
  // `cohort=NAME` / `cohort!=NAME` (the key unquoted) is a cohort filter; `"cohort"=x` the property.
  if (key === "cohort" && s[0] !== '"' && (sym === "=" || sym === "!="))
    return { key, op: sym, value: checkCohortName(value, "cohort"), cohort: { name: value } };
  return checkFilterValue({ key, op: sym, value });
}

/** A cohort name as saved (`COHORT_NAME`); `what` names where it was given. */
export function checkCohortName(name: string, what: string): string {
  if (!COHORT_NAME.test(name))
    fail(
      `bad ${what} name ${show(name)}: use letters, digits, _ . - (up to 64, starting with a letter, digit or _)`,
    );
  return name;
}

/**
 * A comparison (`>` `>=` `<` `<=`) needs a number: `code>abc` would otherwise compare nothing and
 * answer 0 (issue #22). Returns the filter, or throws a one-line `UsageError` naming operator and value.
 */
export function checkFilterValue(f: Filter): Filter {
  if (!NUMERIC_OPS.includes(f.op)) return f;
  const v = Array.isArray(f.value) ? f.value.join(",") : (f.value ?? "");
  if (!NUMERIC_VALUE.test(v))
    fail(
      `bad filter ${show(formatFilter(f))}: ${f.op} compares numbers, and ${show(v)} is not a number (e.g. ${f.key}${f.op}10); for text use = != ~ or in`,
    );
  return f;
}

function unquoteValue(raw: string, text: string): string {
  if (raw[0] !== '"') return raw;
  const q = readQuoted(raw, 0);
  if (!q || q.end !== raw.length)
    fail(`bad filter ${show(text)}: a value starting with " must be one JSON string, e.g. "a \\"b\\""`);
  return q.value;
}

/** Splits an `in` list on commas; members may be JSON-quoted to contain commas. */
function splitList(raw: string, text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i <= raw.length) {
    while (i < raw.length && /\s/.test(raw[i])) i++;
    if (raw[i] === '"') {
      const q = readQuoted(raw, i);
      if (!q) fail(`bad filter ${show(text)}: unterminated quoted list member`);
      out.push(q.value);
      i = q.end;
      while (i < raw.length && /\s/.test(raw[i])) i++;
      if (i < raw.length && raw[i] !== ",")
        fail(`bad filter ${show(text)}: expected ',' after a quoted member`);
      i++;
    } else {
      let j = raw.indexOf(",", i);
      if (j < 0) j = raw.length;
      out.push(raw.slice(i, j).trim());
      i = j + 1;
    }
  }
  return out;
}

/** `EVENT`, `EVENT[KEY OP VALUE]`, `EVENT[k1=v1][k2>2]`, `"name[with]brackets"[k=v]`, `*`. */
export function parseEventRef(text: string): EventRef {
  const s = text.trim();
  if (!s) fail("empty event name");
  if (s[0] === '"') {
    const q = readQuoted(s, 0);
    if (!q) fail(`bad event ${show(text)}: unterminated quoted name`);
    if (!q.value) fail(`bad event ${show(text)}: empty event name`);
    const tail = s.slice(q.end);
    if (!tail) return { event: q.value, filters: [] };
    const filters = tail[0] === "[" ? parseGroups(tail, 0) : null;
    if (!filters) fail(`bad event ${show(text)}: expected [KEY OP VALUE] after the quoted name`);
    return { event: q.value, filters };
  }
  if (s.endsWith("]")) {
    // The name is the shortest prefix after which the rest parses as [filter][filter]…
    for (let i = 1; i < s.length; i++) {
      if (s[i] !== "[") continue;
      const filters = parseGroups(s, i);
      if (filters && s.slice(0, i).trim()) return { event: s.slice(0, i).trimEnd(), filters };
    }
    // No valid filter list: report the last bracket group's problem rather than taking it as a name.
    const open = s.lastIndexOf("[");
    if (open > 0) {
      try {
        parseFilter(s.slice(open + 1, -1));
      } catch (e) {
        fail(`bad event ${show(text)}: ${(e as Error).message}`);
      }
    }
    fail(
      `bad event ${show(text)}: cannot read the [KEY OP VALUE] filters (quote the name if it ends in brackets)`,
    );
  }
  return { event: s, filters: [] };
}

/** Parses `[f][f]…` from `s[i] === '['` to the end; null when that is not possible. */
function parseGroups(s: string, i: number): Filter[] | null {
  if (s[i] !== "[") return null;
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] !== "]" || (j + 1 < s.length && s[j + 1] !== "[")) continue;
    let f: Filter;
    try {
      f = parseFilter(s.slice(i + 1, j));
    } catch {
      continue;
    }
    if (j + 1 === s.length) return [f];
    const rest = parseGroups(s, j + 1);
    if (rest) return [f, ...rest];
  }
  return null;
}

function quoteIfNeeded(s: string, ok: (s: string) => boolean): string {
  return ok(s) ? s : JSON.stringify(s);
}

/** The canonical text of a filter; `parseFilter(formatFilter(f))` deep-equals `f`. */
export function formatFilter(f: Filter): string {
  if (f.cohort) return `cohort${f.op}${f.cohort.name}`;
  // A property called `cohort` is quoted, so it does not read back as a cohort filter.
  const key = quoteIfNeeded(f.key, (k) => k.length > 0 && k !== "cohort" && !/[\s=!<>~"[\]]/.test(k));
  if (f.op === "set" || f.op === "!set") return `${key} ${f.op}`;
  if (f.op === "in") {
    const list = (Array.isArray(f.value) ? f.value : [f.value ?? ""]).map((v) =>
      quoteIfNeeded(v, (x) => x.length > 0 && x === x.trim() && !/[,"[\]]/.test(x)),
    );
    return `${key} in ${list.join(",")}`;
  }
  const v = Array.isArray(f.value) ? f.value.join(",") : (f.value ?? "");
  const value = quoteIfNeeded(
    v,
    (x) => x.length > 0 && x === x.trim() && !/^["=<>~!]/.test(x) && !/[[\]]/.test(x),
  );
  const sep = /^(in|set|!set)$/.test(key) ? " " : "";
  return `${key}${sep}${f.op}${value}`;
}

/** The label of an event reference, as the user would write it; round-trips through parseEventRef. */
export function formatEventRef(ref: EventRef): string {
  const filters = ref.filters.map((f) => `[${formatFilter(f)}]`).join("");
  const plainName = `${ref.event}${filters}`;
  const name =
    ref.event.length > 0 && ref.event === ref.event.trim() && ref.event[0] !== '"' && !ref.event.endsWith("]")
      ? ref.event
      : JSON.stringify(ref.event);
  const text = name === ref.event ? plainName : `${name}${filters}`;
  try {
    const back = parseEventRef(text);
    if (back.event === ref.event && sameFilters(back.filters, ref.filters)) return text;
  } catch {}
  return `${JSON.stringify(ref.event)}${filters}`;
}

function sameFilters(a: Filter[], b: Filter[]): boolean {
  const norm = (fs: Filter[]) => JSON.stringify(fs.map((f) => [f.key, f.op, f.value ?? null]));
  return norm(a) === norm(b);
}

const UNITS: Record<string, number> = {
  s: 1,
  sec: 1,
  secs: 1,
  second: 1,
  seconds: 1,
  m: 60,
  min: 60,
  mins: 60,
  minute: 60,
  minutes: 60,
  h: 3600,
  hr: 3600,
  hrs: 3600,
  hour: 3600,
  hours: 3600,
  d: 86_400,
  day: 86_400,
  days: 86_400,
  w: 604_800,
  week: 604_800,
  weeks: 604_800,
};

/** `90s`, `30m`, `1h`, `1.5h`, `7d`, `2w` (or a bare number of seconds) → whole seconds. */
export function parseDuration(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = m ? (m[2] ? UNITS[m[2].toLowerCase()] : 1) : undefined;
  if (!m || unit === undefined) fail(`bad duration ${show(text)}: use e.g. 90s, 30m, 1h, 7d or 2w`);
  const seconds = Number(m[1]) * unit;
  if (!(seconds > 0) || !Number.isInteger(seconds) || seconds > 3650 * 86_400)
    fail(`bad duration ${show(text)}: must be a positive whole number of seconds, at most 10 years`);
  return seconds;
}

const MEASURES_HELP =
  "use events, users, per-user, sum:KEY, avg:KEY, p50|p90|p95|p99|median|min|max:KEY or per-user:p50|p90|p95|p99|median|min|max";

/** `events`, `users`, `per-user`, `sum:KEY`, `avg:KEY`, `p95:KEY` (and the other stats), `per-user:p90`. */
export function parseMeasure(text: string): Measure {
  const s = text.trim();
  if (s === "events" || s === "users" || s === "per-user") return { kind: s };
  const pu = /^per-user:(.*)$/s.exec(s);
  if (pu) {
    if (!(STATS as readonly string[]).includes(pu[1]))
      fail(
        `bad measure ${show(text)}: per-user takes ${STATS.join(", ")} (events per user), e.g. per-user:p90`,
      );
    return { kind: "per-user-stat", stat: pu[1] as Stat };
  }
  const m = /^(sum|avg|p50|p90|p95|p99|median|min|max):(.*)$/s.exec(s);
  if (m) {
    const key = m[2][0] === '"' ? readQuoted(m[2], 0)?.value : m[2];
    if (!key) fail(`bad measure ${show(text)}: ${m[1]} needs a property key, e.g. ${m[1]}:revenue`);
    if (m[1] === "sum" || m[1] === "avg") return { kind: m[1], key };
    return { kind: "stat", stat: m[1] as Stat, key };
  }
  return fail(`bad measure ${show(text)}: ${MEASURES_HELP}`);
}

/** The measure's label in results (`sum:revenue`); round-trips through parseMeasure. */
export function formatMeasure(m: Measure): string {
  const key = (k: string) => (/^"|^$/.test(k) ? JSON.stringify(k) : k);
  if (m.kind === "sum" || m.kind === "avg") return `${m.kind}:${m.key}`;
  if (m.kind === "stat") return `${m.stat}:${key(m.key)}`;
  if (m.kind === "per-user-stat") return `per-user:${m.stat}`;
  return m.kind;
}

/** The property key a measure reads, if any. */
export function measureKey(m: Measure): string | undefined {
  return m.kind === "sum" || m.kind === "avg" || m.kind === "stat" ? m.key : undefined;
}

/** `YYYY-MM-DD`, a real calendar date. */
/** An IANA zone name, as given; a UsageError naming it when `Intl` does not know it. */
export function parseZone(text: string): string {
  if (!isValidZone(text))
    throw new UsageError(
      `unknown time zone ${JSON.stringify(text)}: use an IANA name like UTC or Europe/Berlin`,
    );
  return text;
}

export function parseDate(text: string): string {
  const s = text.trim();
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  if (m) {
    const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (d.toISOString().slice(0, 10) === s) return s;
  }
  return fail(`bad date ${show(text)}: use YYYY-MM-DD, e.g. 2023-06-01`);
}

/** `text` (trimmed) when it is one of `allowed`; else `bad WHAT "text": use a, b, c`. */
export function parseOneOf<T extends string>(
  text: string,
  allowed: readonly T[],
  what: string,
  sep = ", ",
): T {
  const s = text.trim();
  if ((allowed as readonly string[]).includes(s)) return s as T;
  return fail(`bad ${what} ${show(text)}: use ${allowed.join(sep)}`);
}

export function parseInterval(text: string): Interval {
  return parseOneOf(text, INTERVALS, "interval");
}

export function parsePeriod(text: string): Period {
  const s = text.trim();
  if (s === "hour" || s === "day" || s === "week" || s === "month") return s;
  return fail(`bad period ${show(text)}: use hour, day, week or month`);
}

export function parseCompare(text: string): Compare {
  return parseOneOf(text, COMPARES, "compare");
}

/**
 * `--from`/`--to`: a date `YYYY-MM-DD` or a local date-time `YYYY-MM-DDTHH:MM[:SS]` in `--tz`. A zone
 * suffix is refused: the zone is `--tz`, so one range never mixes two zones.
 */
export function parseRangeBound(text: string, flag = "--from"): string {
  const s = text.trim();
  if (/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)$/i.test(s))
    fail(`bad ${flag} ${show(text)}: no zone suffix; write the local time and set the zone with --tz`);
  const b = readBound(s.replace(" ", "T"));
  if (!b || b.kind === "instant")
    fail(`bad ${flag} ${show(text)}: use a date YYYY-MM-DD or a local time YYYY-MM-DDTHH:MM[:SS]`);
  return s.replace(" ", "T");
}

/**
 * `--last`: a positive duration with its unit (`90m`, `6h`, `2d`, `1w`). A bare number is refused:
 * `--last 2` is far more often "2 days" or "2 hours" than "2 seconds" (issue #22).
 */
export function parseLast(text: string): number {
  if (/^\s*-/.test(text)) fail(`bad --last ${show(text)}: the duration must be positive, e.g. 90m, 6h, 2d`);
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  if (m && !m[2])
    fail(`bad --last ${show(text)}: give a unit: s, m (minutes), h, d or w, e.g. ${m[1]}h or ${m[1]}d`);
  if (m && Number(m[1]) === 0)
    fail(`bad --last ${show(text)}: the duration must be positive, e.g. 90m, 6h, 2d`);
  return parseDuration(text);
}

export function parseFunnelOrder(text: string): FunnelOrder {
  return parseOneOf(text, FUNNEL_ORDERS, "--order");
}

export function parseCohortRule(text: string): RetentionCohortRule {
  return parseOneOf(text, COHORT_RULES, "--cohort", " or ");
}

/**
 * `--exclude EVENT[filter]@A-B` for a funnel of `steps` steps: the step range defaults to `1-K` and
 * must satisfy 1 ≤ A < B ≤ K.
 */
export function parseExclusion(text: string, steps: number): Exclusion {
  const m = /^(.*)@(\d+)-(\d+)\s*$/s.exec(text);
  const event = parseEventRef(m ? m[1] : text);
  const from = m ? Number(m[2]) : 1;
  const to = m ? Number(m[3]) : steps;
  checkExclusionRange({ event, from, to }, steps);
  return { event, from, to };
}

/** One-line error unless 1 ≤ from < to ≤ steps. */
export function checkExclusionRange(x: Exclusion, steps: number): void {
  if (!(Number.isInteger(x.from) && Number.isInteger(x.to) && x.from >= 1 && x.from < x.to && x.to <= steps))
    fail(
      `bad --exclude ${show(formatExclusion(x))}: the step range A-B needs 1 ≤ A < B ≤ ${steps} (the funnel has ${steps} steps)`,
    );
}

/** `EVENT[filter]@A-B`, as echoed in results; round-trips through parseExclusion. */
export function formatExclusion(x: Exclusion): string {
  return `${formatEventRef(x.event)}@${x.from}-${x.to}`;
}
