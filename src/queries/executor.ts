/**
 * Runs analysis specs against a cache: build (pure) → run on a dedicated connection → shape the
 * small aggregated rows into the `--json` result types.
 */
import { totalmem } from "node:os";
import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import { freshCohortMemos } from "../cache/cohortmemo.js";
import { cacheCohortStore, saveStatic } from "../cache/cohorts.js";
import { type Cache, type Row, rowsOf } from "../cache/db.js";
import { defaultIdentity } from "../cache/identity.js";
import { annotationsKey, buildFirstSeen, shapeFirstSeen, withAnnotations } from "./annotations.js";
import { buildCatalog, buildRange, shapeCatalog, shapeRange } from "./catalog.js";
import { cohortRefs, expandCohortTrend, labelCohortTrend, resolveCohorts } from "./cohorts.js";
import { buildCoverage, extentOfCoverageRow, shapeCoverage } from "./coverage.js";
import type { AnalysisEngine } from "./engine.js";
import { type BuiltQuery, type EngineName, type QueryContext, withPreludes } from "./filters.js";
import { buildFunnel, shapeFunnel } from "./funnel.js";
import { CH_EVENTS_SOURCE, isMerged, withIdentity } from "./identity.js";
import { checkKeys, type KeyReader } from "./keys.js";
import { buildLifecycle, shapeLifecycle } from "./lifecycle.js";
import {
  checkCohortName,
  checkExclusionRange,
  parseCohortRule,
  parseFunnelOrder,
  parseZone,
  UsageError,
} from "./parse.js";
import { comparePeriod, extraPeriod, markPartial } from "./partial.js";
import { buildPaths, checkPaths, shapePaths } from "./paths.js";
import { buildProps, buildPropsClickHouse, shapeProps } from "./props.js";
import { buildRetention, shapeRetention } from "./retention.js";
import { sampleBasisPoints, sampleOf, scaleSample, withSample } from "./sample.js";
import type {
  AnalysisSpec,
  Coverage,
  DateRange,
  EventRef,
  FunnelSpec,
  ResolvedRange,
  ResultOf,
  UsersSpec,
} from "./spec.js";
import { buildStickiness, shapeStickiness } from "./stickiness.js";
import { closestNames } from "./suggest.js";
import { checkBuckets, frameOf, readBound, resolvedRange } from "./time.js";
import { buildTrend, checkTrendModes, shapeTrend } from "./trend.js";
import { buildTimeline, buildUsers, shapeTimeline, shapeUsers } from "./users.js";

export interface RunOutput<R> {
  result: R;
  /** The range the result covers, as ISO instants (`to` exclusive); null for a spec without one. */
  range: ResolvedRange | null;
  /** What the cache holds of that range (docs/semantics.md, "Coverage"). */
  coverage: Coverage;
  /** The exact SQL that produced the result; `$n` placeholders refer to `params`. */
  sql: string;
  params: DuckDBValue[];
  /** Wall time of build + query + shaping, in milliseconds. */
  ms: number;
}

export type { ResultOf };
export { closestNames };

/** Rejection of a cancelled run. */
export class AbortError extends Error {
  override name = "AbortError";
  constructor(message = "query cancelled") {
    super(message);
  }
}

/** The SQL and parameters of a spec (pure); `merged` identity reads persons (queries/identity.ts). */
export function buildQuery(
  spec: AnalysisSpec,
  ctx?: QueryContext,
  engine: EngineName = "duckdb",
): BuiltQuery {
  // The cohorts a spec's filters read are CTEs put before the builder's own (filters.ts).
  return withPreludes(buildOne(spec, ctx, engine));
}

/**
 * A drill-down's users saved as the static cohort `name` in a cache open for writing (`--users-of …
 * --save-cohort NAME`, the TUI's `C`): every user of `spec`, whatever its limit, by the same selection
 * SQL that lists them. Returns how many it holds. `replace: false` refuses a name already saved.
 */
export async function saveUsersCohort(
  cache: Cache,
  spec: UsersSpec,
  name: string,
  opts: { replace?: boolean } = {},
): Promise<number> {
  checkCohortName(name, "cohort");
  await resolveCohorts(spec, cacheCohortStore(cache));
  const q = buildQuery({ ...spec, limit: Number.MAX_SAFE_INTEGER });
  return saveStatic(
    cache,
    name,
    { sql: `SELECT user_id FROM (${q.sql}) evx_all WHERE listed`, params: q.params },
    opts,
  );
}

function buildOne(spec: AnalysisSpec, ctx: QueryContext | undefined, engine: EngineName): BuiltQuery {
  if (engine !== (ctx?.engine ?? "duckdb")) ctx = { ...ctx, engine };
  // The sample (queries/sample.ts) filters the users the events CTE reads: the persons with `merged`;
  // the data's end is still read from every event.
  const rate = sampleOf(spec);
  if (rate !== undefined)
    ctx = { ...ctx, wholeEvents: engine === "clickhouse" ? CH_EVENTS_SOURCE : "main.events" };
  const built = buildOf(spec, ctx, engine);
  const bp = rate === undefined ? undefined : sampleBasisPoints(rate);
  if (isMerged(spec)) return { ...built, sql: withIdentity(built.sql, engine, bp) };
  return rate === undefined ? built : { ...built, sql: withSample(built.sql, engine, rate) };
}

function buildOf(spec: AnalysisSpec, ctx: QueryContext | undefined, engine: EngineName): BuiltQuery {
  switch (spec.kind) {
    case "catalog":
      return buildCatalog(spec, ctx);
    case "props":
      return engine === "clickhouse" ? buildPropsClickHouse(spec) : buildProps(spec);
    case "trend":
      return buildTrend(spec.cohortBreakdown ? expandCohortTrend(spec) : spec, ctx);
    case "funnel":
      return buildFunnel(spec, ctx);
    case "retention":
      return buildRetention(spec, ctx);
    case "users":
      return buildUsers(spec, ctx);
    case "timeline":
      return buildTimeline(spec, ctx);
    case "paths":
      return buildPaths(spec, ctx);
    case "stickiness":
      return buildStickiness(spec, ctx);
    case "lifecycle":
      return buildLifecycle(spec, ctx);
    default:
      throw new Error(`unknown analysis ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

/** Aggregated rows → the result contract (pure). */
export function shapeResult<S extends AnalysisSpec>(spec: S, rows: Row[]): ResultOf<S> {
  // A sampled result's counts are scaled back up (queries/sample.ts).
  return scaleSample(spec, shapeOne(spec, rows));
}

function shapeOne<S extends AnalysisSpec>(spec: S, rows: Row[]): ResultOf<S> {
  switch (spec.kind) {
    case "catalog":
      return shapeCatalog(rows) as ResultOf<S>;
    case "props":
      return shapeProps(rows, spec) as ResultOf<S>;
    case "trend":
      if (spec.cohortBreakdown)
        return labelCohortTrend(shapeTrend(rows, expandCohortTrend(spec)), spec) as ResultOf<S>;
      return shapeTrend(rows, spec) as ResultOf<S>;
    case "funnel":
      return shapeFunnel(rows, spec) as ResultOf<S>;
    case "retention":
      return shapeRetention(rows, spec) as ResultOf<S>;
    case "users":
      return shapeUsers(rows) as ResultOf<S>;
    case "timeline":
      return shapeTimeline(rows, spec) as ResultOf<S>;
    case "paths":
      return shapePaths(rows, spec) as ResultOf<S>;
    case "stickiness":
      return shapeStickiness(rows, spec) as ResultOf<S>;
    case "lifecycle":
      return shapeLifecycle(rows, spec) as ResultOf<S>;
    default:
      throw new Error(`unknown analysis ${JSON.stringify((spec as { kind: unknown }).kind)}`);
  }
}

/** A SQL literal for a bound parameter (display only). */
export function sqlLiteral(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "string") return `'${v.replace(/'/g, "''")}'`;
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(sqlLiteral).join(", ")}]`;
  if (typeof v === "object" && Array.isArray((v as { items?: unknown }).items))
    return `[${((v as { items: unknown[] }).items ?? []).map(sqlLiteral).join(", ")}]`;
  return `'${String(v).replace(/'/g, "''")}'`;
}

/**
 * SQL with `$n` replaced by the literal of parameter n: what the TUI's `s` and `--sql` show, and what
 * pastes into the duckdb shell.
 */
export function inlineSql(q: { sql: string; params: readonly unknown[] }): string {
  return q.sql.replace(/\$(\d+)/g, (m, n: string) => {
    const i = Number(n) - 1;
    return i >= 0 && i < q.params.length ? sqlLiteral(q.params[i]) : m;
  });
}

const MAX_IDLE = 4;

/** DuckDB's error when a statement needs more memory than its limit and cannot spill to disk. */
const OUT_OF_MEMORY = /Out of Memory Error/;
/** The share of RAM an analysis that ran out of the default limit may use on its second try. */
const MEMORY_CEILING = 0.6;

/** Bytes of DuckDB's printed size (`3.7 GiB`, `512.0 MiB`, `4GB`); 0 when unreadable. */
export function bytesOf(text: string): number {
  const m = /^\s*([\d.]+)\s*([KMGT]?)(i?)B\s*$/i.exec(text);
  if (!m) return 0;
  const base = m[3] ? 1024 : 1000;
  return Number(m[1]) * base ** "_KMGT".indexOf((m[2] || "_").toUpperCase());
}

const CONTEXT_SQL = `SELECT (SELECT max(user_key) FROM users) AS m,
  (SELECT value FROM meta WHERE key = 'hot_keys') AS hot,
  (SELECT count(DISTINCT event_type) FROM object_types) AS types`;

function contextOf(rows: Row[]): QueryContext {
  const { m, hot, types } = rows[0] ?? {};
  const ctx: QueryContext = {};
  if (m != null) ctx.userKeyMax = Number(m);
  if (types != null) ctx.eventTypes = Number(types);
  if (typeof hot === "string") ctx.hotKeys = JSON.parse(hot) as string[];
  return ctx;
}

/**
 * A spec's cohorts resolved and the cache's facts for building it, read in the caller's transaction:
 * the kept cohort evaluations (src/cache/cohortmemo.ts) are checked against the same snapshot the
 * statement then reads.
 */
async function contextFor(
  spec: AnalysisSpec,
  exec: (sql: string, params?: DuckDBValue[]) => Promise<Row[]>,
): Promise<QueryContext> {
  await resolveCohorts(spec, cacheCohortStore(exec));
  const ctx = contextOf(await exec(CONTEXT_SQL));
  const memo = await freshCohortMemos(exec, cohortRefs(spec), isMerged(spec) ? "merged" : "raw", ctx);
  if (memo.size) ctx.cohortMemo = memo;
  return ctx;
}

export class Executor implements AnalysisEngine {
  readonly engine = "duckdb" as const;
  private readonly idle: DuckDBConnection[] = [];
  private closed = false;

  constructor(readonly cache: Cache) {}

  /** The cache file, for the status bar. */
  get host(): string {
    return this.cache.path;
  }

  /**
   * Builds, runs and shapes one analysis. The context query and the analysis run in one read
   * transaction, so they see the same snapshot. Rejects with `AbortError` as soon as `signal` aborts.
   */
  async run<S extends AnalysisSpec>(
    spec: S,
    opts: { signal?: AbortSignal } = {},
  ): Promise<RunOutput<ResultOf<S>>> {
    // Shared mode: a read transaction whose host was killed is run again whole on the next host, so
    // the context, the answer and its coverage still come from one snapshot.
    let raised = false;
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.runOnce(spec, opts);
      } catch (e) {
        // An operator that cannot spill (per-user lists, at 100M events: paths needs ~4 GB) outgrew
        // the buffer pool: run it once more with a larger one rather than fail the analysis.
        if (!raised && OUT_OF_MEMORY.test(String((e as Error).message)) && (await this.raiseMemoryLimit())) {
          raised = true;
          continue;
        }
        if ((e as Error).name !== "SnapshotLostError" || attempt >= 2) throw e;
      }
    }
  }

  /**
   * Raises DuckDB's memory limit to `MEMORY_CEILING` of the machine's RAM, unless `EVX_MEMORY_LIMIT`
   * pins it or it is that high already; true when it was raised.
   */
  private async raiseMemoryLimit(): Promise<boolean> {
    if (process.env.EVX_MEMORY_LIMIT) return false;
    const target = Math.floor((totalmem() * MEMORY_CEILING) / 2 ** 20);
    return this.withConnection(undefined, async (exec) => {
      const r = await exec("SELECT current_setting('memory_limit') AS m");
      if (bytesOf(String(r[0]?.m ?? "")) >= target * 2 ** 20 * 0.99) return false;
      await exec(`SET GLOBAL memory_limit = '${target}MiB'`);
      return true;
    });
  }

  private async runOnce<S extends AnalysisSpec>(
    spec: S,
    opts: { signal?: AbortSignal },
  ): Promise<RunOutput<ResultOf<S>>> {
    const started = performance.now();
    return this.withConnection(opts.signal, async (exec) => {
      await exec("BEGIN TRANSACTION");
      try {
        const ctx = await contextFor(spec, exec);
        const built = buildQuery(spec, ctx);
        const rows = await exec(built.sql, built.params);
        // `--annotations-from KEY`: the values' first instants, in the same snapshot.
        const key = annotationsKey(spec);
        const fs =
          key !== undefined && "range" in spec && spec.range ? buildFirstSeen(key, spec.range, ctx) : null;
        const firsts = fs ? await exec(fs.sql, fs.params) : null;
        const range = "range" in spec && spec.range ? frameOf(spec.range) : null;
        const cov = buildCoverage(range?.lo ?? Number.MIN_SAFE_INTEGER, range?.hi ?? Number.MAX_SAFE_INTEGER);
        const covRows = await exec(cov.sql, cov.params);
        const coverage = shapeCoverage(covRows);
        const spanCoverage = async (span: { lo: number; hi: number } | null) => {
          if (!span) return undefined;
          const q = buildCoverage(span.lo, span.hi);
          return shapeCoverage(await exec(q.sql, q.params));
        };
        const compareCoverage = await spanCoverage(comparePeriod(spec));
        const extraCoverage = await spanCoverage(extraPeriod(spec));
        await exec("COMMIT");
        const shaped = markPartial(spec, shapeResult(spec, rows), {
          coverage,
          compareCoverage,
          extraCoverage,
          extent: extentOfCoverageRow(covRows),
        });
        const result =
          firsts && key !== undefined ? withAnnotations(shaped, shapeFirstSeen(firsts, key)) : shaped;
        return {
          result,
          range: "range" in spec && spec.range ? resolvedRange(spec.range) : null,
          coverage,
          sql: built.sql,
          params: built.params,
          ms: performance.now() - started,
        };
      } catch (e) {
        if (!(e instanceof AbortError)) await exec("ROLLBACK").catch(() => {});
        throw e;
      }
    });
  }

  /** The query `run` would execute for `spec` (built with the cache's context), without running it. */
  async explain(spec: AnalysisSpec): Promise<BuiltQuery> {
    return this.withConnection(undefined, async (exec) => {
      return buildQuery(spec, await contextFor(spec, exec));
    });
  }

  /** The query of the spec's `--annotations-from` markers, as `run` executes it; null for none. */
  async explainAnnotations(spec: AnalysisSpec): Promise<BuiltQuery | null> {
    const key = annotationsKey(spec);
    if (key === undefined || !("range" in spec) || !spec.range) return null;
    const range = spec.range;
    return this.withConnection(undefined, async (exec) =>
      buildFirstSeen(key, range, contextOf(await exec(CONTEXT_SQL))),
    );
  }

  /** Runs one built query on its own connection; an abort interrupts it and rejects at once. */
  async query(q: BuiltQuery, signal?: AbortSignal): Promise<Row[]> {
    return this.withConnection(signal, (exec) => exec(q.sql, q.params));
  }

  /**
   * Lends a pooled (or new) connection to `fn`. On abort the running statement is interrupted, the
   * promise rejects with `AbortError` immediately, and the connection is closed once DuckDB has
   * unwound the statement (it never returns to the pool).
   */
  private async withConnection<T>(
    signal: AbortSignal | undefined,
    fn: (exec: (sql: string, params?: DuckDBValue[]) => Promise<Row[]>) => Promise<T>,
  ): Promise<T> {
    if (signal?.aborted) throw new AbortError();
    const conn = this.idle.pop() ?? (await this.cache.connect());
    let aborted = false;
    let pending: Promise<unknown> = Promise.resolve();
    let onAbort: (() => void) | undefined;
    const cancelled = new Promise<never>((_, reject) => {
      onAbort = () => {
        aborted = true;
        try {
          conn.interrupt();
        } catch {}
        reject(new AbortError());
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
    cancelled.catch(() => {});
    const exec = async (sql: string, params: DuckDBValue[] = []): Promise<Row[]> => {
      if (aborted || signal?.aborted) throw new AbortError();
      const work = conn.runAndReadAll(sql, params);
      pending = work.catch(() => {});
      return rowsOf(await Promise.race([work, cancelled]));
    };
    try {
      if (signal?.aborted) throw new AbortError();
      return await fn(exec);
    } catch (e) {
      if (aborted || e instanceof AbortError) throw new AbortError();
      throw e;
    } finally {
      if (onAbort) signal?.removeEventListener("abort", onAbort);
      if (aborted) pending.then(() => this.retire(conn));
      else this.release(conn);
    }
  }

  /** Rows of any SQL on a pooled connection (no cancellation). */
  async all(sql: string, params: DuckDBValue[] = []): Promise<Row[]> {
    return this.query({ sql, params });
  }

  /** The `--identity` default of the cache (src/cache/identity.ts). */
  async identityDefault(): Promise<"merged" | "raw"> {
    return defaultIdentity(this.cache);
  }

  /** The latest event's instant (epoch µs), or null on an empty cache. */
  async lastEventUs(): Promise<number | null> {
    const r = await this.all("SELECT epoch_us(max(event_time)) AS t FROM events");
    return r[0]?.t == null ? null : Number(r[0].t);
  }

  /** The cached range as dates in `tz`, or null on an empty cache. */
  async cachedRange(tz = "UTC"): Promise<DateRange | null> {
    return shapeRange(await this.query(buildRange()), tz);
  }

  /** Fills a missing `from`/`to` from the cached range in `tz`. */
  async resolveRange(partial: { from?: string; to?: string; tz?: string } = {}): Promise<DateRange> {
    const tz = partial.tz ?? "UTC";
    if (partial.from && partial.to) return { from: partial.from, to: partial.to, tz };
    const cached = await this.cachedRange(tz);
    if (!cached) throw new UsageError("the cache has no events; run `evx sync SOURCE` first");
    return { from: partial.from ?? cached.from, to: partial.to ?? cached.to, tz };
  }

  private release(conn: DuckDBConnection): void {
    if (!this.closed && this.idle.length < MAX_IDLE) this.idle.push(conn);
    else this.retire(conn);
  }

  private retire(conn: DuckDBConnection): void {
    try {
      conn.closeSync();
    } catch {}
  }

  /** Closes pooled connections (the cache itself stays open). */
  close(): void {
    this.closed = true;
    for (const c of this.idle.splice(0)) this.retire(c);
  }
}

/* ---------------- validation ---------------- */

function refsOf(spec: AnalysisSpec): { ref: EventRef; what: string; star: boolean }[] {
  switch (spec.kind) {
    case "catalog":
      return [];
    case "props":
      return [{ ref: { event: spec.event, filters: [] }, what: "event", star: false }];
    case "trend":
      return spec.events.map((ref) => ({ ref, what: "event", star: true }));
    case "funnel":
      return [
        ...spec.steps.map((ref, i) => ({ ref, what: `step ${i + 1}`, star: true })),
        ...(spec.exclude ?? []).map((x) => ({ ref: x.event, what: "excluded event", star: true })),
      ];
    case "retention":
      return [
        { ref: spec.start, what: "start event", star: true },
        { ref: spec.return, what: "return event", star: true },
      ];
    case "users":
      return refsOf(spec.of);
    case "timeline":
      return spec.events.map((event) => ({ ref: { event, filters: [] }, what: "event", star: false }));
    case "paths":
      // An anchor event the data does not name is a typo (issue #22); one whose filter matches
      // nothing is an empty tree (issue #15).
      return [
        {
          ref: spec.anchor,
          what: spec.direction === "after" ? "--after event" : "--before event",
          star: true,
        },
      ];
    case "stickiness":
    case "lifecycle":
      return [{ ref: spec.event, what: "event", star: true }];
  }
}

/** The funnel's order, exclusions, held key and value key fit together (docs/semantics.md, "Funnel"). */
function checkFunnelModes(spec: FunnelSpec): void {
  const order = parseFunnelOrder(spec.order ?? "ordered");
  if (spec.steps.length < 2)
    throw new UsageError(
      order === "any" ? "--order any needs at least two steps" : "a funnel needs at least two steps",
    );
  for (const x of spec.exclude ?? []) checkExclusionRange(x, spec.steps.length);
  if (order === "any" && spec.exclude?.length)
    throw new UsageError(
      "--exclude needs an ordered or strict funnel: with --order any steps have no between",
    );
  if (order === "any" && spec.value !== undefined)
    throw new UsageError("--value needs an ordered or strict funnel (with --order any no event is step k's)");
  if (spec.hold !== undefined && !spec.hold) throw new UsageError("--hold needs a property key");
  if (spec.value !== undefined && !spec.value) throw new UsageError("--value needs a property key");
}

function checkPositiveInt(v: number, what: string, min = 1): void {
  if (!Number.isInteger(v) || v < min)
    throw new UsageError(`${what} must be a whole number ≥ ${min} (got ${v})`);
}

/**
 * What validation reads besides the spec: the data's event types and range (a `Cache`, the `Executor` on
 * it, or another engine such as ClickHouse's), and how its messages name the data.
 */
export interface ValidationSource {
  eventTypes(): Promise<string[]>;
  cachedRange(tz: string): Promise<DateRange | null>;
  /** Default: the cache, filled by `evx sync SOURCE`. */
  readonly dataLabel?: { what: string; fill: string; fillDates: string };
  /** How the property-key check (keys.ts) reads the data; without it keys are not checked. */
  readonly keys?: KeyReader;
}

/**
 * The cache's own validation reads, exactly as before engines were pluggable. The key probes run on
 * `rows`: an Executor's pooled connections when there is one (cancellable, and never inside a sync's
 * transaction on the cache's own connection, as in the TUI's live mode).
 */
function cacheSource(
  cache: Cache,
  rows: (q: BuiltQuery, signal?: AbortSignal) => Promise<Row[]> = (q) => cache.all(q.sql, q.params),
): ValidationSource {
  return {
    eventTypes: async () =>
      (await cache.all<{ e: string }>("SELECT DISTINCT event_type AS e FROM events")).map((x) => x.e),
    cachedRange: async (tz) => {
      const q = buildRange();
      return shapeRange(await cache.all(q.sql, q.params), tz);
    },
    keys: {
      engine: "duckdb",
      context: async () =>
        contextOf(
          await rows({
            sql: "SELECT NULL AS m, (SELECT value FROM meta WHERE key = 'hot_keys') AS hot",
            params: [],
          }),
        ),
      rows,
    },
  };
}

/**
 * The property keys of a spec (keys.ts): throws a `UsageError` for a key no event has; returns one
 * warning line per key that none of the analysis's events carries in its range.
 */
export async function checkSpecKeys(
  target: Cache | AnalysisEngine | ValidationSource,
  spec: AnalysisSpec,
  signal?: AbortSignal,
): Promise<string[]> {
  const reader = validationSource(target).keys;
  return reader ? checkKeys(reader, spec, signal) : [];
}

function validationSource(target: Cache | AnalysisEngine | ValidationSource): ValidationSource {
  if (target instanceof Executor) return cacheSource(target.cache, (q, signal) => target.query(q, signal));
  if (typeof (target as Partial<ValidationSource>).eventTypes === "function")
    return target as ValidationSource;
  if (typeof (target as Partial<Cache>).all === "function") return cacheSource(target as Cache);
  throw new Error(
    `validateSpec: the ${(target as AnalysisEngine).engine} engine does not list its event types`,
  );
}

/**
 * One-line `UsageError`s for specs that cannot give a meaningful answer: unknown events (naming the
 * closest known ones), a bad time zone, a range with no cached data, bad counts.
 */
export async function validateSpec(
  target: Cache | AnalysisEngine | ValidationSource,
  spec: AnalysisSpec,
): Promise<void> {
  const source = validationSource(target);
  const label = source.dataLabel;
  const noEvents = label ? `${label.what} has no events` : "the cache has no events";
  const empty = label ? `${noEvents}; ${label.fill}` : "the cache has no events; run `evx sync SOURCE` first";
  switch (spec.kind) {
    case "props":
      checkPositiveInt(spec.topValues, "the number of top values", 0);
      break;
    case "trend":
      if (!spec.events.length) throw new UsageError("trend needs at least one event");
      checkPositiveInt(spec.limit, "the breakdown limit");
      checkTrendModes(spec);
      break;
    case "funnel":
      checkFunnelModes(spec);
      checkPositiveInt(spec.withinSeconds, "the conversion window in seconds");
      checkPositiveInt(spec.limit, "the breakdown limit");
      break;
    case "retention":
      checkPositiveInt(spec.periods, "the number of periods");
      if (spec.cohort !== undefined) parseCohortRule(spec.cohort);
      if (spec.value !== undefined && !spec.value) throw new UsageError("--value needs a property key");
      break;
    case "users":
      checkPositiveInt(spec.limit, "--limit", 0);
      await validateSpec(source, spec.of);
      return;
    case "timeline":
      checkPositiveInt(spec.limit, "--limit", 0);
      break;
    case "paths":
      checkPaths(spec);
      break;
  }
  const refs = refsOf(spec);
  const named = refs.filter((r) => r.ref.event !== "*");
  for (const r of refs) {
    if (r.ref.event === "*" && !r.star) throw new UsageError(`${r.what} must name one event type, not *`);
    for (const f of r.ref.filters) if (!f.key) throw new UsageError(`empty property key in ${r.what}`);
  }
  if (named.length) {
    const known = await source.eventTypes();
    const set = new Set(known);
    for (const r of named) {
      if (set.has(r.ref.event)) continue;
      const close = closestNames(r.ref.event, known);
      throw new UsageError(
        `unknown ${r.what} ${JSON.stringify(r.ref.event)}${close.length ? `; did you mean ${close.map((c) => JSON.stringify(c)).join(", ")}?` : ` (${noEvents})`}`,
      );
    }
  }
  const range = "range" in spec ? spec.range : undefined;
  if (!range) return;
  for (const d of [range.from, range.to]) {
    if (!readBound(d))
      throw new UsageError(`bad date ${JSON.stringify(d)}: use YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS]`);
  }
  parseZone(range.tz);
  const f = frameOf(range);
  if (f.lo >= f.hi)
    throw new UsageError(
      `the range is empty: it starts (${range.from}) ${f.lo > f.hi ? "after" : "at or after"} it ends (${range.to}${readBound(range.to)?.kind === "date" ? ", inclusive" : ", exclusive"})`,
    );
  const cached = await source.cachedRange(range.tz);
  if (!cached) throw new UsageError(empty);
  const cf = frameOf({ from: cached.from, to: cached.to, tz: range.tz });
  if (f.lo >= cf.hi || f.hi <= cf.lo)
    throw new UsageError(
      label
        ? `no events in ${range.from} .. ${range.to} (${range.tz}): ${label.what} covers ${cached.from} .. ${cached.to}; ${label.fillDates}`
        : `no cached events in ${range.from} .. ${range.to} (${range.tz}): the cache covers ${cached.from} .. ${cached.to}; sync those dates first`,
    );
  // Too many buckets is a usage error before any work.
  if (spec.kind === "trend") checkBuckets(f, spec.interval);
  if (spec.kind === "funnel" && spec.trendInterval) checkBuckets(f, spec.trendInterval);
  if (spec.kind === "retention") checkBuckets(f, spec.period, "period");
  if (spec.kind === "stickiness" || spec.kind === "lifecycle") checkBuckets(f, spec.interval);
}
