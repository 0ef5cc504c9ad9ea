/**
 * Filters → SQL predicates. Every user-supplied string (event names, property keys, values, zones)
 * becomes a bound parameter; only fixed SQL text and validated enum words are spliced.
 */
import type { DuckDBValue } from "@duckdb/node-api";
import { DATA_STAMP_SQL, hotColumn, keyPointer } from "../cache/schema.js";
import { duckUntagSql } from "./numtext.js";
import { checkFilterValue } from "./parse.js";
import { type CohortCondition, type CohortRef, type EventRef, type Filter, NUMERIC_VALUE } from "./spec.js";
import { frameOf } from "./time.js";

export interface BuiltQuery {
  sql: string;
  params: DuckDBValue[];
}

/** Facts about the cache that let a builder pick a faster plan (never needed for correctness). */
export interface QueryContext {
  /** The largest `user_key` (keys are dense from 1). */
  userKeyMax?: number;
  /** Property keys pre-extracted into columns `hot1`…, in that order. */
  hotKeys?: string[];
  /** How many distinct event types the cache holds. */
  eventTypes?: number;
  /** The engine the SQL is for (default DuckDB). */
  engine?: EngineName;
  /**
   * The data's latest event (epoch µs; null when empty), when the engine knows it from metadata: the
   * builders then use it instead of reading `max(event_time)` over the whole table (ClickHouse: a scan
   * of every partition).
   */
  lastEventUs?: number | null;
  /** The data's first event (epoch µs; null when empty), when the engine knows it from metadata. */
  firstEventUs?: number | null;
  /**
   * The relation of every event where the statement's `events` holds fewer (a sample's users,
   * queries/sample.ts): the data's end (`max(event_time)`) is read from it, so it is the whole data's.
   */
  wholeEvents?: string;
  /**
   * DuckDB: the cohorts whose members the cache keeps evaluated for this snapshot's data (the
   * `cohort_memo` table, src/cache/cohortmemo.ts), name → the identity mode of the row to read.
   */
  cohortMemo?: ReadonlyMap<string, string>;
  /**
   * ClickHouse: the cohorts whose members the server keeps evaluated for the data the context saw
   * (queries/clickhouse/cohortmemo.ts), name → the memo's Set table and the statement's check of it.
   */
  chCohortMemo?: ReadonlyMap<string, (p: Params) => ChMemoRead>;
}

/** How a ClickHouse statement reads a kept cohort (queries/clickhouse/cohortmemo.ts). */
export interface ChMemoRead {
  /** The memo, a `Set` table (quoted, database-qualified): the right side of `IN`. */
  table: string;
  /** True, or an error (STALE_MEMO) when the data or the memo changed since the context. */
  guard: string;
}

/** The error of a statement that would read a cohort's kept members on data they are not of. */
const STALE_MEMO =
  "a saved cohort's kept members are of other data than this statement reads: run the analysis again (evx then evaluates the cohort)";

/**
 * What a cohort's kept members (src/cache/cohortmemo.ts) must have been evaluated by: the members SQL
 * this evx writes for the definition (parameters inlined), in the identity mode. A memo written by
 * another version of evx, or for another definition, has another key and is not read.
 */
export function cohortMemoKey(ref: CohortRef, ctx: QueryContext | undefined, mode: string): string {
  const p = new Params({ ...ctx, cohortMemo: undefined, chCohortMemo: undefined }, ctx?.engine ?? "duckdb");
  const sql = cohortMembersSql(p, ref);
  return JSON.stringify({ mode, sql, params: p.values.map((v) => String(v)) });
}

/** Memory allowed for per-group user bitmaps. */
const BITMAP_BUDGET_BYTES = 128 * 1024 * 1024;

/**
 * SQL counting distinct `user_key` in a group. With a small enough key range and number of groups it
 * uses a bitmap per group (`bitstring_agg` over [0, userKeyMax]: ~7x faster than `count(DISTINCT)`);
 * otherwise `count(DISTINCT user_key)`. `userKeyMax` must come from the same snapshot as the query
 * (the executor reads both in one transaction); it is an integer, spliced as a literal because
 * bitstring_agg needs constant bounds.
 */
export function distinctUsers(ctx: QueryContext | undefined, groups: number, col = "user_key"): string {
  if (bitmapsFit(ctx, groups))
    return `coalesce(bit_count(bitstring_agg(${col}, 0, ${Math.floor(ctx?.userKeyMax ?? 0)})), 0)`;
  return `count(DISTINCT ${col})`;
}

/** Whether `groups` user bitmaps over [0, userKeyMax] fit the memory budget. */
export function bitmapsFit(ctx: QueryContext | undefined, groups: number): boolean {
  if (ctx?.engine === "clickhouse") return false;
  const max = ctx?.userKeyMax;
  return max !== undefined && max > 0 && Number.isFinite(groups) && (groups * max) / 8 <= BITMAP_BUDGET_BYTES;
}

/**
 * Whether a statement that reads `beyondUs` of time outside its range `rangeUs` (a funnel's window past
 * the range, lifecycle's earlier history) should first find the range's users and read the rest only
 * for them (a `user_key IN` set). On ClickHouse those reads feed hash joins and groupings built whole,
 * where the set lets them hold only the users that can matter. Measured in CPU time (medians of 5, one
 * day of the 28-day bench tables, issue #25): the 5-step 7-day funnel 1.3× less at 4M and 1.75× at
 * 20M; lifecycle 8% and 25% less; a one-day funnel within one day 6% more at 4M and 7–15% less at 20M.
 * Over the whole 28 days the same sets cost 15–50% more. So only when the outside reads are at least
 * twice the range. Retention's later periods were measured too and gained nothing at 4M or 20M (the
 * cost is reading them, not grouping them), so it reads them whole; DuckDB reads the cache's few
 * columns fast enough that a set did not pay there either.
 */
export function rangeUsersFirst(p: Params, rangeUs: number, beyondUs: number): boolean {
  return p.engine === "clickhouse" && beyondUs >= 2 * rangeUs;
}

/** The SQL engines evx's builders write for. */
export type EngineName = "duckdb" | "clickhouse";

/** DuckDB's TRY_CAST(text AS DOUBLE) grammar (see castDouble in the brute force), for ClickHouse. */
const CH_DOUBLE_RE =
  "^[+-]?(?:\\d+(?:_\\d+)*(?:\\.(?:\\d+(?:_\\d+)*)?)?|\\.\\d+(?:_\\d+)*)(?:[eE][+-]?\\d+(?:_\\d+)*)?$";

/** A ClickHouse string literal of fixed SQL text (backslashes and quotes escaped). */
function chLiteral(s: string): string {
  return `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
}

/**
 * Collects bound values and hands out placeholders (`CAST($n AS T)` for DuckDB, `{pN:T}` for
 * ClickHouse, where parameter N is `values[N-1]`), and writes the few SQL fragments whose spelling
 * differs between the engines, so one builder serves both.
 */
export class Params {
  readonly values: DuckDBValue[] = [];
  private readonly seen = new Map<string, string>();
  private readonly hot: Map<string, string>;
  /** Where the data's latest event is read (QueryContext.wholeEvents). */
  readonly wholeEvents: string;
  /** The cohorts' member CTEs (name → `evx_cohN AS (…)`), put before the builder's own (`withPreludes`). */
  private readonly cohorts = new Map<string, { cte: string; sql: string }>();
  /**
   * DuckDB, when the user keys are known to lie in [0, max] (QueryContext.userKeyMax): a cohort is one
   * bitmap of its members and a membership test one bit lookup (`inCohort`). Measured at 20M events:
   * the `IN (SELECT …)` hash join was half the cost a cohort filter added to a trend.
   */
  private readonly cohortBitmapMax?: number;
  private readonly cohortMemo?: ReadonlyMap<string, string>;
  private readonly chCohortMemo?: ReadonlyMap<string, (p: Params) => ChMemoRead>;

  constructor(
    ctx?: QueryContext,
    readonly engine: EngineName = ctx?.engine ?? "duckdb",
  ) {
    this.wholeEvents = ctx?.wholeEvents ?? "events";
    this.hot = new Map(engine === "duckdb" ? (ctx?.hotKeys ?? []).map((k, i) => [k, hotColumn(i)]) : []);
    if (engine === "duckdb" && bitmapsFit(ctx, 1)) {
      this.cohortBitmapMax = Math.floor(ctx?.userKeyMax ?? 0);
      this.cohortMemo = ctx?.cohortMemo;
    }
    if (engine === "clickhouse") this.chCohortMemo = ctx?.chCohortMemo;
    PRELUDES.set(this.values, () => [...this.cohorts.values()].map((c) => c.sql));
  }

  /**
   * The CTE of a cohort's members, added once per statement: one `user_key` column, or (DuckDB with
   * known key bounds) one row whose `bm` is the members' bitmap. Read it through `inCohort`.
   */
  private cohortCte(ref: CohortRef): string {
    const hit = this.cohorts.get(ref.name);
    if (hit) return hit.cte;
    const cte = `evx_coh${this.cohorts.size + 1}`;
    const max = this.cohortBitmapMax;
    const memo = this.cohortMemo?.get(ref.name);
    // A kept evaluation of this data (same definition, same identity mode) is read, not recomputed.
    // (ClickHouse's is a Set, tested by `inCohort`; what reads the members as rows evaluates them.)
    const body =
      memo !== undefined
        ? // The data is fingerprinted again in the statement: run on other data (its SQL pasted after
          // a sync, as `--sql` offers), it fails rather than read members of other data.
          `SELECT CASE WHEN count(*) = 1 THEN any_value(bm) ELSE error(${this.str(STALE_MEMO)}) END AS bm
             FROM main.cohort_memo WHERE name = ${this.str(ref.name)} AND mode = ${this.str(memo)} AND stamp = ${DATA_STAMP_SQL}`
        : max === undefined
          ? cohortMembersSql(this, ref)
          : `SELECT bitstring_agg(user_key, 0, ${max}) AS bm FROM (${cohortMembersSql(this, ref)})`;
    // DuckDB: computed once however many steps read it.
    this.cohorts.set(ref.name, { cte, sql: `${cte} AS ${this.ch ? "" : "MATERIALIZED "}(${body})` });
    return cte;
  }

  /**
   * A statement's SELECT of the cohort's members as one bitmap `bm` (NULL when it has none), evaluated
   * over the data; null when the keys' bounds are unknown or the bitmap would not fit.
   */
  cohortBitmapSql(ref: CohortRef): string | null {
    if (this.cohortBitmapMax === undefined || this.cohortMemo?.has(ref.name)) return null;
    return `SELECT bm FROM ${this.cohortCte(ref)}`;
  }

  /** A statement's SELECT of the cohort's member count, as `n` (`evx cohort list|show`). */
  cohortCountSql(ref: CohortRef): string {
    const cte = this.cohortCte(ref);
    if (this.cohortBitmapMax === undefined) return `SELECT count(*) AS n FROM ${cte}`;
    return `SELECT coalesce(bit_count(bm), 0) AS n FROM ${cte}`;
  }

  /** True (never NULL) when `user` is a member of the cohort (not a member, with `negate`). */
  inCohort(user: string, ref: CohortRef, negate = false): string {
    const kept = this.chCohortMemo?.get(ref.name);
    if (kept) {
      const { table, guard } = kept(this);
      return `(${guard} AND ${user} ${negate ? "NOT IN" : "IN"} ${table})`;
    }
    const cte = this.cohortCte(ref);
    if (this.cohortBitmapMax === undefined)
      return `(${user} ${negate ? "NOT IN" : "IN"} (SELECT user_key FROM ${cte}))`;
    // An empty cohort's bitmap is NULL: nobody is in it.
    return `(coalesce(get_bit((SELECT bm FROM ${cte}), CAST(${user} AS INTEGER)), 0) = ${negate ? 0 : 1})`;
  }

  /** count of the rows where `cond` holds. */
  countIf(cond: string): string {
    return this.ch ? `countIf(${cond})` : `count(*) FILTER (WHERE ${cond})`;
  }

  get ch(): boolean {
    return this.engine === "clickhouse";
  }

  /** The column holding `key`'s property text when the cache pre-extracted it. */
  hotColumn(key: string): string | undefined {
    return this.hot.get(key);
  }

  /** A placeholder for `v` (DuckDB: `$n`; ClickHouse: `{pN:type}`); equal values share one. */
  add(v: string | number | bigint | boolean, chType = "String"): string {
    const id = `${this.ch ? chType : ""}:${typeof v}:${String(v)}`;
    const hit = this.seen.get(id);
    if (hit) return hit;
    this.values.push(v);
    const ph = this.ch ? `{p${this.values.length}:${chType}}` : `$${this.values.length}`;
    this.seen.set(id, ph);
    return ph;
  }

  /** A VARCHAR placeholder. */
  str(v: string): string {
    return this.ch ? this.add(v, "String") : `CAST(${this.add(v)} AS VARCHAR)`;
  }

  /** A BIGINT placeholder. */
  big(v: number | bigint): string {
    return this.ch ? this.add(BigInt(v), "Int64") : `CAST(${this.add(BigInt(v))} AS BIGINT)`;
  }

  /** A DOUBLE placeholder. */
  dbl(v: number): string {
    return this.ch ? this.add(v, "Float64") : `CAST(${this.add(v)} AS DOUBLE)`;
  }

  /* ---- fragments spelled differently by the engines ---- */

  /** Epoch microseconds (BIGINT) of a timestamp. */
  us(ts: string): string {
    return this.ch ? `toUnixTimestamp64Micro(${ts})` : `epoch_us(${ts})`;
  }

  /** The timestamp of epoch microseconds. */
  ts(us: string): string {
    return this.ch ? `fromUnixTimestamp64Micro(toInt64(${us}), 'UTC')` : `make_timestamptz(${us})`;
  }

  /** Integer division truncating toward zero. */
  idiv(a: string, b: string | number): string {
    return this.ch ? `intDiv(${a}, ${b})` : `((${a}) // ${b})`;
  }

  /** A typed NULL (`BIGINT`, `DOUBLE`, `VARCHAR`). */
  nullOf(type: "BIGINT" | "DOUBLE" | "VARCHAR"): string {
    return this.ch
      ? `CAST(NULL AS Nullable(${type === "VARCHAR" ? "String" : type}))`
      : `CAST(NULL AS ${type})`;
  }

  /**
   * A UNION's rows in order. ClickHouse binds a trailing ORDER BY to the last SELECT of a UNION, so
   * there the union becomes a subquery first.
   */
  orderedUnion(union: string, orderBy: string): string {
    return this.ch ? `SELECT * FROM (${union})\n ORDER BY ${orderBy}` : `${union}\n ORDER BY ${orderBy}`;
  }

  /** A NULL text. */
  get nullText(): string {
    return this.ch ? "CAST(NULL AS Nullable(String))" : "CAST(NULL AS VARCHAR)";
  }

  /** Text → DOUBLE by DuckDB's TRY_CAST rules; NULL when it is not a number. */
  tryDouble(text: string): string {
    if (!this.ch) return `TRY_CAST(${text} AS DOUBLE)`;
    const t = `replaceRegexpAll(${text}, ${chLiteral("^\\s+|\\s+$")}, '')`;
    return `multiIf(match(${t}, ${chLiteral("^[+-]?(?i:inf|infinity)$")}), if(startsWith(${t}, '-'), -inf, inf),
      match(${t}, ${chLiteral("^[+-]?(?i:nan)$")}), nan,
      match(${t}, ${chLiteral(CH_DOUBLE_RE)}), toFloat64OrNull(replaceAll(${t}, '_', '')), NULL)`;
  }

  /** Case-insensitive substring test (NULL when `text` is NULL). */
  icontains(text: string, needle: string): string {
    return this.ch
      ? `(position(lowerUTF8(${text}), lowerUTF8(${needle})) > 0)`
      : `contains(lower(${text}), lower(${needle}))`;
  }

  /** The median with linear interpolation (mean of the two middle values), a DOUBLE; NULL for none. */
  median(x: string): string {
    return this.ch
      ? `CAST(quantileExactInclusive(0.5)(${x}) AS Nullable(Float64))`
      : `CAST(quantile_cont(${x}, 0.5) AS DOUBLE)`;
  }

  /** `min(x)` over the rows where `cond` holds; NULL when there are none (ClickHouse would say 0). */
  minWhere(x: string, cond: string): string {
    return this.ch ? `minIf(toNullable(${x}), ${cond})` : `min(${x}) FILTER (WHERE ${cond})`;
  }

  /** True for a group when `cond` holds for some row. */
  anyTrue(cond: string): string {
    return this.ch ? `max(${cond})` : `bool_or(${cond})`;
  }

  /**
   * `lead(x, n)` over the rows of `partition` ordered by `order`; NULL past the end (ClickHouse's
   * would give the type's default, 0).
   */
  lead(x: string, n: number, partition: string, order: string): string {
    return this.ch
      ? `leadInFrame(toNullable(${x}), ${n}) OVER (PARTITION BY ${partition} ORDER BY ${order} ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING)`
      : `lead(${x}, ${n}) OVER (PARTITION BY ${partition} ORDER BY ${order})`;
  }

  /** `lag(x, n)` over the rows of `partition` ordered by `order`; NULL before the start. */
  lag(x: string, n: number, partition: string, order: string): string {
    return this.ch
      ? `lagInFrame(toNullable(${x}), ${n}) OVER (PARTITION BY ${partition} ORDER BY ${order} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`
      : `lag(${x}, ${n}) OVER (PARTITION BY ${partition} ORDER BY ${order})`;
  }

  /** The last element of the largest tuple `(keys…, last)` of a group (tuples compare element by element). */
  maxLast(parts: string[]): string {
    if (this.ch) return `tupleElement(max((${parts.join(", ")})), ${parts.length})`;
    return `max({${parts.map((x, i) => `'k${i}': ${x}`).join(", ")}}).k${parts.length - 1}`;
  }

  /** Negative infinity as a DOUBLE. */
  get negInf(): string {
    return this.ch ? "-inf" : "CAST('-inf' AS DOUBLE)";
  }

  isFinite(x: string): string {
    return this.ch ? `isFinite(${x})` : `isfinite(${x})`;
  }

  /** Compensated sum (NULL for no rows in DuckDB; 0 in ClickHouse: callers coalesce). */
  fsum(x: string): string {
    return this.ch ? `sumKahan(${x})` : `fsum(${x})`;
  }

  /** Compensated mean; NULL for no values. */
  favg(x: string): string {
    return this.ch ? `if(count(${x}) = 0, NULL, sumKahan(${x}) / count(${x}))` : `favg(${x})`;
  }

  /** A timestamp as the ISO text the shapers expect (`2023-06-01T16:12:14.721Z`). */
  iso(ts: string): string {
    if (!this.ch) return ts;
    return `if(isNull(${ts}), NULL, concat(formatDateTime(${ts}, '%Y-%m-%dT%H:%i:%S', 'UTC'), '.',
      leftPad(toString(intDiv(toUnixTimestamp64Micro(${ts}) % 1000000, 1000)), 3, '0'), 'Z'))`;
  }

  /** Local µs (a wall clock read as UTC) → the local µs of its month's start. */
  monthStart(local: string): string {
    return this.ch
      ? `toUnixTimestamp64Micro(toDateTime64(toStartOfMonth(fromUnixTimestamp64Micro(toInt64(${local}), 'UTC')), 6, 'UTC'))`
      : `epoch_us(date_trunc('month', make_timestamp(${local})))`;
  }

  /** Local µs → year × 12 + month. */
  yearMonth(local: string): string {
    if (this.ch) {
      const t = `fromUnixTimestamp64Micro(toInt64(${local}), 'UTC')`;
      return `(toYear(${t}) * 12 + toMonth(${t}))`;
    }
    return `(year(make_timestamp(${local})) * 12 + month(make_timestamp(${local})))`;
  }
}

/** Per statement (its parameter list): the cohort CTEs its builder used. */
const PRELUDES = new WeakMap<readonly unknown[], () => string[]>();

/**
 * A built statement with the cohort CTEs its filters read put first (a builder's `WITH` gains them;
 * a statement without one gets one). Every builder's SQL goes through this (executor.ts, buildQuery).
 */
export function withPreludes(q: BuiltQuery): BuiltQuery {
  const pre = PRELUDES.get(q.params)?.() ?? [];
  if (!pre.length) return q;
  const head = pre.join(",\n");
  const sql = /^\s*WITH\s/i.test(q.sql)
    ? q.sql.replace(/^\s*WITH\s/i, `WITH ${head},\n`)
    : `WITH ${head}\n${q.sql}`;
  return { sql, params: q.params };
}

/** The end of `--last`-style windows: the start of the UTC minute after the latest event (µs). */
function dataEndSql(p: Params): string {
  return `((${p.idiv(`(SELECT ${p.us("max(event_time)")} FROM ${p.wholeEvents})`, 60_000_000)} + 1) * 60000000)`;
}

/** A cohort condition's time window as a predicate on `event_time`. */
function windowSql(p: Params, c: CohortCondition): string {
  const w = c.window;
  if (!w) return "true";
  if (w.kind === "last")
    return `${p.us("event_time")} >= ${dataEndSql(p)} - ${p.big(BigInt(Math.round(w.seconds)) * 1_000_000n)}`;
  const f = frameOf(w.range);
  return `event_time >= ${p.ts(p.big(f.lo))} AND event_time < ${p.ts(p.big(f.hi))}`;
}

/**
 * The members of a cohort (docs/semantics.md, "Cohorts"), one `user_key` each. Behavioural: the users
 * with at least N events matching each `did` condition in its window, and none matching a `did-not`
 * one (with only `did-not` conditions: every user with an event in the data). Static: the saved ids
 * (DuckDB: `cohort_users`, mapped to keys; ClickHouse: the cohort's table on the server).
 */
/** The SELECT of a cohort's members' `user_key`, evaluated over the statement's `events`. */
export function cohortMembersSql(p: Params, ref: CohortRef): string {
  const def = ref.def;
  if (!def) throw new Error(`cohort ${JSON.stringify(ref.name)} was not resolved before building`);
  if (def.kind === "static") {
    if (p.ch) {
      if (!def.table) throw new Error(`static cohort ${JSON.stringify(ref.name)} has no server table`);
      return `SELECT user_key FROM ${def.table}`;
    }
    return `SELECT u.user_key AS user_key FROM cohort_users c JOIN users u ON u.user_id = c.user_id WHERE c.name = ${p.str(ref.name)}`;
  }
  const cond = (c: CohortCondition) => `(${eventSql(p, c.event)} AND ${windowSql(p, c)})`;
  const did = def.conditions.filter((c) => c.did);
  const not = def.conditions.filter((c) => !c.did);
  const excluded = not.length
    ? `user_key NOT IN (SELECT user_key FROM events WHERE ${not.map(cond).join(" OR ")})`
    : "";
  if (!did.length) return `SELECT DISTINCT user_key FROM events WHERE ${excluded || "true"}`;
  const having = did.map((c) => `${p.countIf(cond(c))} >= ${p.big(Math.max(1, Math.floor(c.atLeast)))}`);
  return `SELECT user_key FROM events WHERE (${did.map(cond).join(" OR ")})${excluded ? ` AND ${excluded}` : ""}
     GROUP BY user_key HAVING ${having.join(" AND ")}`;
}

export function isNumeric(v: string): boolean {
  return NUMERIC_VALUE.test(v);
}

export { keyPointer };

/**
 * The property text of `key` (NULL when unset): the string itself for JSON strings, the JSON text
 * otherwise; JSON null and a missing key give NULL.
 */
export function propText(p: Params, key: string, col = "properties"): string {
  if (p.ch) {
    const k = p.str(key);
    const m = `${col.slice(0, -"properties".length)}props`;
    return `if(mapContains(${m}, ${k}), ${m}[${k}], NULL)`;
  }
  const hot = p.hotColumn(key);
  if (hot) return col === "properties" ? hot : `${col.slice(0, -"properties".length)}${hot}`;
  // Numbers DuckDB would print back differently are stored tagged (queries/numtext.ts).
  // A key starting with U+0001 is stored with one more (every line holding one is tagged).
  const stored = key.startsWith("\x01") ? `\x01${key}` : key;
  const extract = duckUntagSql(`json_extract_string(${col}, ${p.str(keyPointer(stored))})`);
  // A pointer like `/0` also indexes arrays; properties that are not an object have no keys.
  if (/^(\d+|-)$/.test(key)) return `CASE WHEN json_type(${col}) = 'OBJECT' THEN ${extract} END`;
  return extract;
}

/**
 * `propText` in two steps, for a grouping over many rows: `raw` is cheap to compute (equal raw texts
 * have equal property texts; NULL exactly when unset) and `finish(raw)` is the property text. On
 * DuckDB the untagging of numbers (numtext.ts) then runs once per distinct raw text, not per row.
 */
export function propTextParts(p: Params, key: string): { raw: string; finish: (raw: string) => string } {
  const id = (x: string) => x;
  if (p.ch || p.hotColumn(key)) return { raw: propText(p, key), finish: id };
  const stored = key.startsWith("\x01") ? `\x01${key}` : key;
  const extract = `json_extract_string(properties, ${p.str(keyPointer(stored))})`;
  const raw = /^(\d+|-)$/.test(key)
    ? `CASE WHEN json_type(properties) = 'OBJECT' THEN ${extract} END`
    : extract;
  return { raw, finish: (x) => duckUntagSql(x) };
}

/** The property text cast to DOUBLE; NULL when unset or not a number. */
export function propNumber(p: Params, key: string, col = "properties"): string {
  return p.tryDouble(propText(p, key, col));
}

/** `propNumber`, NULL also for ±inf and NaN: the values `--value` sums (docs/semantics.md, "Value"). */
export function propFinite(p: Params, key: string): string {
  const x = propNumber(p, key);
  return `CASE WHEN ${p.isFinite(x)} THEN ${x} END`;
}

function eqSql(p: Params, text: string, value: string): string {
  if (isNumeric(value)) return `coalesce(${p.tryDouble(text)} = ${p.dbl(Number(value))}, false)`;
  return `coalesce(${text} = ${p.str(value)}, false)`;
}

function one(value: Filter["value"]): string {
  if (value === undefined) return "";
  return Array.isArray(value) ? value.join(",") : value;
}

/** One filter as a predicate that is never NULL. */
export function filterSql(p: Params, f: Filter, col = "properties"): string {
  if (f.cohort) {
    const user = `${col.slice(0, -"properties".length)}user_key`;
    return p.inCohort(user, f.cohort, f.op === "!=");
  }
  const text = propText(p, f.key, col);
  switch (f.op) {
    case "=":
      return eqSql(p, text, one(f.value));
    case "!=":
      return `(NOT ${eqSql(p, text, one(f.value))})`;
    case ">":
    case ">=":
    case "<":
    case "<=": {
      // A value that is not a number is a usage error (parseFilter and validateSpec say so first).
      checkFilterValue(f);
      return `coalesce(${p.tryDouble(text)} ${f.op} ${p.dbl(Number(one(f.value)))}, false)`;
    }
    case "~":
      return `coalesce(${p.icontains(text, p.str(one(f.value)))}, false)`;
    case "in": {
      const list = Array.isArray(f.value) ? f.value : f.value === undefined ? [] : [f.value];
      if (!list.length) return "false";
      return `(${list.map((v) => eqSql(p, text, v)).join(" OR ")})`;
    }
    case "set":
      return `(${text} IS NOT NULL)`;
    case "!set":
      return `(${text} IS NULL)`;
    default:
      throw new Error(`unknown filter operator ${JSON.stringify((f as Filter).op)}`);
  }
}

/** All filters ANDed; `true` when there are none. */
export function filtersSql(p: Params, filters: Filter[], col = "properties"): string {
  if (!filters.length) return "true";
  return filters.map((f) => filterSql(p, f, col)).join(" AND ");
}

/** `event_type = $n` (or `true` for `*`) AND the event's own filters AND the `--where` filters. */
export function eventSql(p: Params, ref: EventRef, where: Filter[] = [], col = "properties"): string {
  const parts: string[] = [];
  if (ref.event !== "*") parts.push(`event_type = ${p.str(ref.event)}`);
  for (const f of [...ref.filters, ...where]) parts.push(filterSql(p, f, col));
  return parts.length ? parts.join(" AND ") : "true";
}
