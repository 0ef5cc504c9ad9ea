/**
 * The ClickHouse engine: the same specs, builders (in the ClickHouse dialect) and shapers as the DuckDB
 * `Executor`, run on a ClickHouse server over HTTP(S) with the official client (see client.ts), so the
 * CLI and the TUI use either one through `AnalysisEngine`.
 *
 * - Rows come back as JSONEachRow objects and go through `shapeResult`, like DuckDB's rows.
 * - Every run has its own query id; an abort cancels the HTTP request and kills the query on the server.
 * - Coverage comes from `system.parts` and the bookkeeping of `evx clickhouse load` (coverage.ts).
 * - The first request checks that the table exists with the columns evx reads, so a missing table or
 *   column is one line pointing at `evx clickhouse schema`, not a SQL error.
 */
import type { Row } from "../../cache/db.js";
import { annotationsKey, buildFirstSeen, shapeFirstSeen, withAnnotations } from "../annotations.js";
import { shapeRange } from "../catalog.js";
import { type CohortStore, cohortRefs, resolveCohorts } from "../cohorts.js";
import { type AnalysisEngine, EngineError, type EngineOptions } from "../engine.js";
import { AbortError, buildQuery, type RunOutput, shapeResult } from "../executor.js";
import type { BuiltQuery } from "../filters.js";
import { CH_EVENTS_SOURCE, chIdentitySql } from "../identity.js";
import type { KeyReader } from "../keys.js";
import { UsageError } from "../parse.js";
import { comparePeriod, extraPeriod, markPartial } from "../partial.js";
import type { AnalysisSpec, Coverage, DateRange, ResultOf } from "../spec.js";
import { frameOf, resolvedRange } from "../time.js";
import {
  ChClient,
  type ChClientOptions,
  type ClickHouseTarget,
  newQueryId,
  resolveTarget,
} from "./client.js";
import { freshChMemos, isStaleMemo } from "./cohortmemo.js";
import { chCohortStore, savedCohortOf } from "./cohorts.js";
import { type ChContext, type ContextShape, readContext } from "./context.js";
import {
  bookkeepingTables,
  type ChLoadRecord,
  type ChPartition,
  chExtent,
  shapeChCoverage,
} from "./coverage.js";
import { identityTables } from "./identity.js";
import { MATERIALIZED_CTE_SETTING, materializeShared } from "./materialize.js";
import { quoteIdent } from "./quote.js";
import { CH_COLUMNS, chQueryParams, onTable, withResultSettings } from "./schema.js";

/** One partition date as the Sync tab shows it: the table's parts, the source listing, the last load. */
export interface ChPartitionRow extends ChPartition {
  /** Objects and bytes the source had at the last load's listing (0 when it had none). */
  sourceObjects: number;
  sourceBytes: number;
  lastLoad: ChLoadRecord | null;
}

export class ClickHouseExecutor implements AnalysisEngine {
  readonly engine = "clickhouse" as const;
  readonly host: string;
  readonly client: ChClient;
  /** How long a context is reused (ms): the steps of one analysis, the queries of one screen. */
  readonly contextTtlMs: number;
  private ctx: { at: number; p: Promise<ChContext> } | null = null;
  /** What the context request assumes; corrected once when the server says otherwise. */
  private shape: Omit<ContextShape, "probes"> = { bookkeeping: true };
  /**
   * Shared CTEs are sent `AS MATERIALIZED` (materialize.ts): the last context said the server can and
   * the table is not Distributed. Unknown until a context came back: the first analysis of an engine
   * that read none waits for its context before building (the CLI has read it, for validation).
   */
  private materializeCtes: boolean | undefined;
  /** A statement with materialized CTEs failed on the server: this engine sends them inlined. */
  private materializeFailed = false;

  constructor(
    readonly target: ClickHouseTarget,
    opts: ChClientOptions & { contextTtlMs?: number } = {},
  ) {
    this.host = target.label;
    this.client = new ChClient(target, opts);
    this.contextTtlMs = opts.contextTtlMs ?? 2000;
  }

  /** The engine of `--engine clickhouse --ch-url … --ch-table …` (or `$EVX_CLICKHOUSE_URL`). */
  static open(
    opts: Pick<EngineOptions, "chUrl" | "chTable">,
    clientOpts: ChClientOptions & { contextTtlMs?: number } = {},
  ): ClickHouseExecutor {
    return new ClickHouseExecutor(resolveTarget(opts), clientOpts);
  }

  /**
   * The table as the builders' SQL names it (`events`, or a CTE over `--ch-table`); a `merged` statement
   * reads the table and its identity map (queries/identity.ts) by their database-qualified names.
   */
  private onTable(sql: string): string {
    if (!sql.includes(CH_EVENTS_SOURCE)) return onTable(sql, this.target.table);
    const q = (t: string) => `${quoteIdent(this.target.database)}.${quoteIdent(t)}`;
    return chIdentitySql(sql, q(this.target.table), q(identityTables(this.target.table).map));
  }

  /**
   * `merged` when `evx clickhouse load` built the table's identity map (a preset with identity rules):
   * from the context (system.tables), so it costs no request of its own.
   */
  async identityDefault(): Promise<"merged" | "raw"> {
    return (await this.context()).identityMap ? "merged" : "raw";
  }

  /**
   * Says that analyses will read saved cohorts (`spec` has a cohort filter or breakdown): from then on
   * the context request reads their definitions too (context.ts), so such an analysis costs the context
   * and its statement, as others do. Call it before the first request (the CLI does, before the key
   * check); `run` calls it for the screens after.
   */
  expectCohorts(spec: AnalysisSpec): void {
    if (cohortRefs(spec).length && !this.shape.cohorts) {
      this.shape.cohorts = true;
      this.ctx = null;
    }
  }

  /** The saved cohorts: from the context when it read them (no request), else from their table. */
  private cohortStore(ctxP: Promise<ChContext>): CohortStore {
    return {
      list: async () => {
        const rows = (await ctxP).cohorts;
        return rows ? rows.map(savedCohortOf) : chCohortStore(this.client).list();
      },
    };
  }

  /**
   * The statement of `spec` as it runs and as `--sql` prints it: on the table, with its settings.
   * `materialized` says it has materialized CTEs; it travels with the statement (not in a field) because
   * one engine runs several screens' statements at once, and a failure must be judged by its own.
   */
  private build(spec: AnalysisSpec, ctx?: ChContext, memos = true): BuiltQuery & { materialized: boolean } {
    const memo = ctx && memos ? freshChMemos(spec, ctx, this.target) : undefined;
    const built = buildQuery(
      spec,
      {
        engine: "clickhouse",
        ...(ctx && spec.kind === "retention" ? { lastEventUs: ctx.lastEventUs } : {}),
        ...(ctx && spec.kind === "lifecycle" ? { firstEventUs: ctx.firstEventUs } : {}),
        ...(memo?.size ? { chCohortMemo: memo } : {}),
      },
      "clickhouse",
    );
    const on = this.onTable(built.sql);
    const m =
      this.materializeCtes === true && !this.materializeFailed
        ? materializeShared(on)
        : { sql: on, count: 0 };
    const extra: Record<string, number> = m.count ? { [MATERIALIZED_CTE_SETTING]: 1 } : {};
    return {
      sql: withResultSettings(m.sql, extra),
      params: built.params,
      materialized: m.count > 0,
    };
  }

  /**
   * The context (context.ts): schema, partitions, coverage bookkeeping and the summary, in one request
   * read from metadata. A context read within `contextTtlMs` is reused, so the steps of one analysis
   * (range, validation, keys, coverage) and a screen's queries share one request; `fresh` reads it again.
   * The first request finds the table's shape (bookkeeping tables, Distributed); only an unexpected shape
   * costs a second one (a table without evx's bookkeeping; a cluster's first analysis).
   */
  async context(
    opts: { signal?: AbortSignal; fresh?: boolean; probes?: ContextShape["probes"] } = {},
  ): Promise<ChContext> {
    const cached = this.ctx;
    if (!opts.fresh && !opts.probes?.length && cached && Date.now() - cached.at < this.contextTtlMs)
      return untilAborted(cached.p, opts.signal);
    // Shared by every caller within the TTL, so no one caller's cancel aborts it (a screen change
    // cancels the old screen's queries, not the context the new one reuses); each caller stops waiting
    // when its own signal aborts. The client's timeout bounds it.
    if (opts.signal?.aborted) throw new AbortError();
    const p = this.readContext(undefined, opts.probes);
    const entry = { at: Date.now(), p };
    this.ctx = entry;
    p.catch(() => {
      if (this.ctx === entry) this.ctx = null;
    });
    return untilAborted(p, opts.signal);
  }

  /** Forgets the cached context: the next step reads it again (the data changed). */
  invalidate(): void {
    this.ctx = null;
  }

  private async readContext(signal?: AbortSignal, probes?: ContextShape["probes"]): Promise<ChContext> {
    const shape = (): ContextShape => ({ ...this.shape, probes });
    let ctx: ChContext;
    try {
      ctx = await readContext(this.client, this.target, shape(), { signal });
    } catch (e) {
      // No cohort was ever saved (no `evx_cohorts`): read the context without their definitions (the
      // analysis then names the cohort as unknown). Any other schema error is found out below.
      if (this.shape.cohorts && e instanceof EngineError && e.kind === "schema") {
        this.shape.cohorts = false;
        return this.readContext(signal, probes);
      }
      // A shape the first request assumed wrongly (no bookkeeping tables, an older loads table, no
      // events table): find out from the system tables, and either read it again or explain.
      if (!(e instanceof EngineError) || e.kind !== "schema") throw e;
      await this.findShape(signal);
      ctx = await readContext(this.client, this.target, shape(), { signal });
    }
    this.checkColumns(ctx);
    if (ctx.distributed && !this.shape.distributed) {
      // The first read of a Distributed table saw no parts (they live in its local tables).
      this.shape.distributed = ctx.distributed;
      ctx = await readContext(this.client, this.target, shape(), { signal });
    }
    this.materializeCtes = ctx.materializedCte && !ctx.distributed;
    return ctx;
  }

  /**
   * A light check of the table and its bookkeeping (system.columns only): throws the schema error when
   * the table is missing or lacks a column; true when the bookkeeping tables are there in their current
   * form. The load uses it instead of the context.
   */
  async checkTable(signal?: AbortSignal): Promise<boolean> {
    await this.findShape(signal);
    return this.shape.bookkeeping;
  }

  /** What the table and its bookkeeping look like, from the system tables; throws when unusable. */
  private async findShape(signal?: AbortSignal): Promise<void> {
    const where = `ClickHouse at ${this.target.label}`;
    const { listing, loads } = bookkeepingTables(this.target.table);
    const rows = await this.client.rows<{ table: string; name: string }>(
      `SELECT table, name FROM system.columns
        WHERE database = {db:String} AND table IN ({t:String}, {l:String}, {d:String})`,
      { db: this.target.database, t: this.target.table, l: listing, d: loads },
      { signal },
    );
    const cols = (t: string) => new Set(rows.filter((r) => r.table === t).map((r) => r.name));
    const name = `${this.target.database}.${this.target.table}`;
    if (!cols(this.target.table).size)
      throw new EngineError(
        `${where} has no table ${JSON.stringify(name)} (UNKNOWN_TABLE); see \`evx clickhouse schema --ch-table ${this.target.table}\` (--apply creates it)`,
        "schema",
        60,
      );
    this.checkColumns({ columns: [...cols(this.target.table)] });
    const l = cols(loads);
    this.shape.bookkeeping = cols(listing).size > 0 && l.has("event_types") && l.has("min_time");
  }

  /** The schema check, on a context: one line naming what is missing. */
  private checkColumns(ctx: Pick<ChContext, "columns">): void {
    const where = `ClickHouse at ${this.target.label}`;
    const name = `${this.target.database}.${this.target.table}`;
    const hint = `see \`evx clickhouse schema --ch-table ${this.target.table}\``;
    if (!ctx.columns.length)
      throw new EngineError(
        `${where} has no table ${JSON.stringify(name)} (UNKNOWN_TABLE); ${hint}`,
        "schema",
        60,
      );
    const have = new Set(ctx.columns);
    const missing = CH_COLUMNS.filter((c) => !have.has(c));
    if (missing.length)
      throw new EngineError(
        `${where}: table ${JSON.stringify(name)} lacks the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} that evx reads; ${hint}`,
        "schema",
        16,
      );
  }

  /**
   * Checks that the server answers, accepts the user and has the table with the columns evx reads: one
   * line naming what is missing, pointing at `evx clickhouse schema`. Reads (and keeps) the context.
   */
  async checkSchema(signal?: AbortSignal): Promise<void> {
    await this.context({ signal });
  }

  /**
   * Builds, runs and shapes one analysis: the analysis and, unless a fresh one is at hand, the context
   * (coverage, the latest event) are two requests sent together, so over a WAN the answer costs one
   * round trip. ClickHouse has no read transaction: a load landing in between can make them disagree by
   * that load. Rejects with `AbortError` as soon as `signal` aborts; the server's queries are killed.
   */
  async run<S extends AnalysisSpec>(
    spec: S,
    opts: { signal?: AbortSignal } = {},
  ): Promise<RunOutput<ResultOf<S>>> {
    const started = performance.now();
    const { signal } = opts;
    if (signal?.aborted) throw new AbortError();
    this.expectCohorts(spec);
    // One context for the whole run: the cohorts' definitions, the kept members' check, coverage.
    const ctxP = this.context({ signal });
    ctxP.catch(() => {}); // awaited below; not an unhandled rejection if building throws first
    await resolveCohorts(spec, this.cohortStore(ctxP));
    try {
      return await this.runOnce(spec, signal, started, ctxP, true);
    } catch (e) {
      // A load landed between the context and the statement, which refused the cohort's kept members
      // (cohortmemo.ts): read the context again and evaluate the cohort.
      // So did a memo dropped in between (`cohort rm`, a static save of the name, a refresh's drop): its
      // table is unknown. Evaluating then gives the answer, or the events table's own error again.
      // (ClickHouse names a missing table in `IN db.t` an unknown identifier, 47; elsewhere 60.)
      const dropped = e instanceof EngineError && (e.code === 60 || e.code === 47) && needsMemoCheck(spec);
      if (!isStaleMemo(e) && !dropped) throw e;
      this.invalidate();
      return await this.runOnce(spec, signal, started, this.context({ signal }), false);
    }
  }

  private async runOnce<S extends AnalysisSpec>(
    spec: S,
    signal: AbortSignal | undefined,
    started: number,
    ctxP: Promise<ChContext>,
    memos: boolean,
  ): Promise<RunOutput<ResultOf<S>>> {
    const range = "range" in spec && spec.range ? spec.range : null;
    const frame = range ? frameOf(range) : null;
    // A retention reads the last event from the context (no scan), a lifecycle the first (whether to
    // group only the range's users' history, lifecycle.ts), and a behavioural cohort filter reads
    // whether the server keeps the cohort evaluated (cohortmemo.ts), and the first analysis of an engine
    // that saw no context yet whether the server materializes CTEs: those wait for it (the CLI has it
    // already, from the validation); the others send it with the analysis.
    const ctx =
      spec.kind === "retention" ||
      spec.kind === "lifecycle" ||
      needsMemoCheck(spec) ||
      this.materializeCtes === undefined
        ? await ctxP
        : undefined;
    const built = this.build(spec, ctx, memos);
    // `--annotations-from KEY`: the values' first instants, sent with the analysis.
    const key = annotationsKey(spec);
    const fs = await this.explainAnnotations(spec);
    let sent = built;
    const send = (q: BuiltQuery) =>
      this.client.rows<Row>(q.sql, chQueryParams(q.params), { signal, queryId: newQueryId() });
    const [rows, input, firsts] = await Promise.all([
      // Materialized CTEs are experimental on the server (26.3+): a statement the server fails with them
      // (its own error, not a limit or a cancel) is sent again inlined, and this engine stops using them.
      // Judged by this statement's own flag: another screen's statement may be in flight on this engine.
      send(built).catch((e: unknown) => {
        if (!(built.materialized && e instanceof EngineError && e.kind === "query")) throw e;
        this.materializeFailed = true;
        sent = this.build(spec, ctx, memos);
        return send(sent);
      }),
      ctxP,
      fs ? send(fs) : null,
    ]);
    const coverage = shapeChCoverage(
      input,
      frame?.lo ?? Number.MIN_SAFE_INTEGER,
      frame?.hi ?? Number.MAX_SAFE_INTEGER,
    );
    const cp = comparePeriod(spec);
    const lb = extraPeriod(spec);
    const shaped = markPartial(spec, shapeResult(spec, rows), {
      coverage,
      compareCoverage: cp ? shapeChCoverage(input, cp.lo, cp.hi) : undefined,
      extraCoverage: lb ? shapeChCoverage(input, lb.lo, lb.hi) : undefined,
      extent: chExtent(input),
    });
    const result =
      firsts && key !== undefined ? withAnnotations(shaped, shapeFirstSeen(firsts, key)) : shaped;
    return {
      result,
      range: range ? resolvedRange(range) : null,
      coverage,
      sql: sent.sql,
      params: sent.params,
      ms: performance.now() - started,
    };
  }

  /** Coverage of the instant range [loUs, hiUs) (see coverage.ts). */
  async coverage(loUs: number, hiUs: number, signal?: AbortSignal): Promise<Coverage> {
    return shapeChCoverage(await this.context({ signal }), loUs, hiUs);
  }

  /** The ClickHouse query `run` would execute for `spec` (with `{pN:Type}` parameters), without running it. */
  async explain(spec: AnalysisSpec): Promise<BuiltQuery> {
    this.expectCohorts(spec);
    const ctxP = this.context();
    await resolveCohorts(spec, this.cohortStore(ctxP));
    const { materialized: _, ...query } = this.build(spec, await ctxP);
    return query;
  }

  /** The query of the spec's `--annotations-from` markers, as `run` sends it; null for none. */
  async explainAnnotations(spec: AnalysisSpec): Promise<BuiltQuery | null> {
    const key = annotationsKey(spec);
    const range = "range" in spec && spec.range ? spec.range : null;
    if (key === undefined || !range) return null;
    const q = buildFirstSeen(key, range, { engine: "clickhouse" });
    return { sql: withResultSettings(this.onTable(q.sql)), params: q.params };
  }

  /** The latest event (epoch µs) from the context's summary, or null on an empty table. */
  async lastEventUs(signal?: AbortSignal): Promise<number | null> {
    return (await this.context({ signal })).lastEventUs;
  }

  /** The table's range as dates in `tz`, or null when it is empty (from the context's summary). */
  async cachedRange(tz = "UTC"): Promise<DateRange | null> {
    const c = await this.context();
    return shapeRange([{ lo: c.firstEventUs, hi: c.lastEventUs }], tz);
  }

  /** Fills a missing `from`/`to` from the table's range in `tz`. */
  async resolveRange(partial: { from?: string; to?: string; tz?: string } = {}): Promise<DateRange> {
    const tz = partial.tz ?? "UTC";
    if (partial.from && partial.to) return { from: partial.from, to: partial.to, tz };
    const cached = await this.cachedRange(tz);
    if (!cached)
      throw new UsageError(
        `the ClickHouse table ${this.target.label}.${this.target.table} has no events; load some with \`evx clickhouse load SOURCE\``,
      );
    return { from: partial.from ?? cached.from, to: partial.to ?? cached.to, tz };
  }

  /** Distinct event types of the table (validation: unknown names and suggestions), from the context. */
  async eventTypes(): Promise<string[]> {
    return (await this.context()).eventTypes;
  }

  /**
   * Answers key probes (keys.ts) in the context request when the context is due anyway, so a screen's
   * key check and its analysis stay two requests; else in a request of their own.
   */
  private async probe(q: BuiltQuery, signal?: AbortSignal): Promise<Row[]> {
    const cached = this.ctx;
    const m = /^SELECT ([\s\S]*)$/.exec(q.sql);
    const parts = m ? splitProbes(m[1]) : null;
    if (!parts || (cached && Date.now() - cached.at < this.contextTtlMs))
      return this.client.rows<Row>(this.onTable(q.sql), chQueryParams(q.params), { signal });
    const params = chQueryParams(q.params);
    const ctx = await this.context({
      signal,
      probes: parts.map((p) => ({ sql: `SELECT ${p.expr}`, params })),
    });
    return [Object.fromEntries(parts.map((p, i) => [p.alias, ctx.probes[i]]))];
  }

  /** How the property-key check (keys.ts) reads the table. */
  readonly keys: KeyReader = {
    engine: "clickhouse",
    context: async () => ({ engine: "clickhouse" }),
    rows: (q, signal) => this.probe(q, signal),
  };

  /** For validation messages: how to name the data and how to fill it. */
  readonly dataLabel = {
    what: "the ClickHouse table",
    fill: "load some with `evx clickhouse load SOURCE`",
    fillDates: "load those dates with `evx clickhouse load SOURCE --from … --to …`",
  };

  /**
   * Every partition date the table, the last listing or a load knows, with the table's rows and bytes
   * (`system.parts`), the source's objects and the last load: the Sync tab's rows (one request: the
   * context, read afresh).
   */
  async partitions(signal?: AbortSignal): Promise<ChPartitionRow[]> {
    const ctx = await this.context({ signal, fresh: true });
    const rows = new Map<string, ChPartitionRow>();
    const row = (date: string) => {
      let r = rows.get(date);
      if (!r) {
        r = { date, rows: 0, bytes: 0, parts: 0, sourceObjects: 0, sourceBytes: 0, lastLoad: null };
        rows.set(date, r);
      }
      return r;
    };
    for (const p of ctx.parts) Object.assign(row(p.date), p);
    for (const l of ctx.listing)
      Object.assign(row(l.date), { sourceObjects: l.objects, sourceBytes: l.bytes ?? 0 });
    for (const [date, rec] of ctx.last) row(date).lastLoad = rec;
    return [...rows.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  }

  /** Closes the HTTP client (after any KILL QUERY still being sent). */
  async close(): Promise<void> {
    await this.client.close();
  }
}

/** Whether `spec` reads a behavioural cohort that the server may keep evaluated (cohortmemo.ts). */
function needsMemoCheck(spec: AnalysisSpec): boolean {
  return spec.identity !== "merged" && cohortRefs(spec).some((r) => r.def?.kind === "behavioural");
}

/** `p`, or an `AbortError` as soon as `signal` aborts (`p` goes on for its other waiters). */
function untilAborted<T>(p: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(new AbortError());
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new AbortError());
    signal.addEventListener("abort", onAbort, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener("abort", onAbort);
        resolve(v);
      },
      (e) => {
        signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

/**
 * The probes of a key-probe SELECT (`(SELECT count(*) FROM (…)) AS c0, …`, keys.ts), split at their
 * top-level commas; null when it is not of that form.
 */
function splitProbes(list: string): { expr: string; alias: string }[] | null {
  const out: { expr: string; alias: string }[] = [];
  let depth = 0;
  let from = 0;
  let quote = false;
  const push = (text: string) => {
    const m = /^\s*([\s\S]*\S)\s+AS\s+(c\d+)\s*$/.exec(text);
    if (!m) return false;
    out.push({ expr: m[1], alias: m[2] });
    return true;
  };
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === "'") quote = false;
    } else if (c === "'") quote = true;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === "," && depth === 0) {
      if (!push(list.slice(from, i))) return null;
      from = i + 1;
    }
  }
  return push(list.slice(from)) ? out : null;
}

/**
 * A ClickHouse literal of a parameter value (display only): what the inlined SQL and the parameter list
 * of `--sql` both print. A quote is doubled (`'it''s'`, standard SQL, as DuckDB's literals); a backslash,
 * an escape character in ClickHouse strings, is doubled too.
 */
export function chLiteral(v: unknown): string {
  if (v === null || v === undefined) return "NULL";
  if (typeof v === "number" || typeof v === "bigint") return String(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (Array.isArray(v)) return `[${v.map(chLiteral).join(", ")}]`;
  return `'${String(v).replace(/\\/g, "\\\\").replace(/'/g, "''")}'`;
}

/**
 * ClickHouse SQL with each `{pN:Type}` replaced by parameter N as a literal of that type: what `--sql`
 * and the TUI's `s` show, and what pastes into clickhouse-client.
 */
export function inlineChSql(q: { sql: string; params: readonly unknown[] }): string {
  return q.sql.replace(/\{p(\d+):([^{}]+)\}/g, (m, n: string, type: string) => {
    const i = Number(n) - 1;
    if (i < 0 || i >= q.params.length) return m;
    const lit = chLiteral(q.params[i]);
    return type.trim() === "String" ? lit : `CAST(${lit} AS ${type.trim()})`;
  });
}
