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
import { shapeRange } from "../catalog.js";
import { resolveCohorts } from "../cohorts.js";
import { type AnalysisEngine, EngineError, type EngineOptions } from "../engine.js";
import { AbortError, buildQuery, type RunOutput, shapeResult } from "../executor.js";
import type { BuiltQuery } from "../filters.js";
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
import { chCohortStore } from "./cohorts.js";
import {
  type ChLoadRecord,
  type ChPartition,
  chCoverage,
  chCoverageInput,
  chExtent,
  lastListing,
  lastLoads,
  shapeChCoverage,
  tableInfo,
  tablePartitions,
} from "./coverage.js";
import { CH_COLUMNS, chQueryParams, onTable, withResultSettings } from "./schema.js";

const quoteIdent = (s: string) => `\`${s.replace(/\\/g, "\\\\").replace(/`/g, "\\`")}\``;

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
  private ready: Promise<void> | null = null;

  constructor(
    readonly target: ClickHouseTarget,
    opts: ChClientOptions = {},
  ) {
    this.host = target.label;
    this.client = new ChClient(target, opts);
  }

  /** The engine of `--engine clickhouse --ch-url … --ch-table …` (or `$EVX_CLICKHOUSE_URL`). */
  static open(
    opts: Pick<EngineOptions, "chUrl" | "chTable">,
    clientOpts: ChClientOptions = {},
  ): ClickHouseExecutor {
    return new ClickHouseExecutor(resolveTarget(opts), clientOpts);
  }

  /** The table as the builders' SQL names it (`events`, or a CTE over `--ch-table`). */
  private onTable(sql: string): string {
    return onTable(sql, this.target.table);
  }

  /** The statement of `spec` as it runs and as `--sql` prints it: on the table, with its settings. */
  private build(spec: AnalysisSpec): BuiltQuery {
    const built = buildQuery(spec, { engine: "clickhouse" }, "clickhouse");
    return { sql: withResultSettings(this.onTable(built.sql)), params: built.params };
  }

  /**
   * Checks once that the table exists with the columns evx reads (the database is checked on the way):
   * one line naming what is missing, pointing at `evx clickhouse schema`. A failure is not cached.
   */
  async checkSchema(signal?: AbortSignal): Promise<void> {
    this.ready ??= (async () => {
      const where = `ClickHouse at ${this.target.label}`;
      const dbs = await this.client.rows<{ n: number }>(
        "SELECT count() AS n FROM system.databases WHERE name = {db:String}",
        { db: this.target.database },
        { signal },
      );
      if (!Number(dbs[0]?.n))
        throw new EngineError(
          `${where} has no database ${JSON.stringify(this.target.database)} (UNKNOWN_DATABASE); create it, then the table \`evx clickhouse schema\` prints`,
          "schema",
          81,
        );
      const cols = await this.client.rows<{ name: string }>(
        "SELECT name FROM system.columns WHERE database = {db:String} AND table = {t:String}",
        { db: this.target.database, t: this.target.table },
        { signal },
      );
      const name = `${this.target.database}.${this.target.table}`;
      const hint = `see \`evx clickhouse schema --ch-table ${this.target.table}\``;
      if (!cols.length)
        throw new EngineError(
          `${where} has no table ${JSON.stringify(name)} (UNKNOWN_TABLE); ${hint}`,
          "schema",
          60,
        );
      const have = new Set(cols.map((c) => c.name));
      const missing = CH_COLUMNS.filter((c) => !have.has(c));
      if (missing.length)
        throw new EngineError(
          `${where}: table ${JSON.stringify(name)} lacks the column${missing.length > 1 ? "s" : ""} ${missing.join(", ")} that evx reads; ${hint}`,
          "schema",
          16,
        );
    })();
    const p = this.ready;
    try {
      await p;
    } catch (e) {
      if (this.ready === p) this.ready = null;
      throw e;
    }
  }

  /**
   * Builds, runs and shapes one analysis. The analysis, the latest event and the coverage are separate
   * requests that run together (ClickHouse has no read transaction: a load landing in between can make
   * them disagree by that load). Rejects with `AbortError` as soon as `signal` aborts; the server's
   * queries are killed.
   */
  async run<S extends AnalysisSpec>(
    spec: S,
    opts: { signal?: AbortSignal } = {},
  ): Promise<RunOutput<ResultOf<S>>> {
    const started = performance.now();
    const { signal } = opts;
    if (signal?.aborted) throw new AbortError();
    await this.checkSchema(signal);
    await resolveCohorts(spec, chCohortStore(this.client));
    const built = this.build(spec);
    const range = "range" in spec && spec.range ? spec.range : null;
    const frame = range ? frameOf(range) : null;
    const [rows, input] = await Promise.all([
      this.client.rows<Row>(built.sql, chQueryParams(built.params), { signal, queryId: newQueryId() }),
      this.lastEventUs(signal).then((last) => chCoverageInput(this.client, this.target, last, signal)),
    ]);
    const coverage = shapeChCoverage(
      input,
      frame?.lo ?? Number.MIN_SAFE_INTEGER,
      frame?.hi ?? Number.MAX_SAFE_INTEGER,
    );
    const cp = comparePeriod(spec);
    const lb = extraPeriod(spec);
    const result = markPartial(spec, shapeResult(spec, rows), {
      coverage,
      compareCoverage: cp ? shapeChCoverage(input, cp.lo, cp.hi) : undefined,
      extraCoverage: lb ? shapeChCoverage(input, lb.lo, lb.hi) : undefined,
      extent: chExtent(input),
    });
    return {
      result,
      range: range ? resolvedRange(range) : null,
      coverage,
      sql: built.sql,
      params: built.params,
      ms: performance.now() - started,
    };
  }

  /** Coverage of the instant range [loUs, hiUs) (see coverage.ts). */
  async coverage(loUs: number, hiUs: number, signal?: AbortSignal): Promise<Coverage> {
    return chCoverage(this.client, this.target, loUs, hiUs, await this.lastEventUs(signal), signal);
  }

  /** The ClickHouse query `run` would execute for `spec` (with `{pN:Type}` parameters), without running it. */
  async explain(spec: AnalysisSpec): Promise<BuiltQuery> {
    await this.checkSchema();
    await resolveCohorts(spec, chCohortStore(this.client));
    return this.build(spec);
  }

  /** First and last event (epoch µs); nulls on an empty table (ClickHouse's max of nothing is 1970). */
  private async bounds(signal?: AbortSignal): Promise<{ lo: number | null; hi: number | null }> {
    const t = quoteIdent(this.target.table);
    const r = await this.client.rows<{ n: number; lo: number; hi: number }>(
      `SELECT count() AS n, toUnixTimestamp64Micro(min(event_time)) AS lo, toUnixTimestamp64Micro(max(event_time)) AS hi FROM ${t}`,
      {},
      { signal },
    );
    const row = r[0];
    if (!row || !Number(row.n)) return { lo: null, hi: null };
    return { lo: Number(row.lo), hi: Number(row.hi) };
  }

  async lastEventUs(signal?: AbortSignal): Promise<number | null> {
    return (await this.bounds(signal)).hi;
  }

  /** The table's range as dates in `tz`, or null when it is empty. */
  async cachedRange(tz = "UTC"): Promise<DateRange | null> {
    await this.checkSchema();
    return shapeRange([await this.bounds()], tz);
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

  /** Distinct event types of the table (validation: unknown names and suggestions). */
  async eventTypes(): Promise<string[]> {
    await this.checkSchema();
    const rows = await this.client.rows<{ e: string }>(
      `SELECT DISTINCT event_type AS e FROM ${quoteIdent(this.target.table)}`,
    );
    return rows.map((r) => r.e);
  }

  /** How the property-key check (keys.ts) reads the table. */
  readonly keys: KeyReader = {
    engine: "clickhouse",
    context: async () => ({ engine: "clickhouse" }),
    rows: async (q, signal) => {
      await this.checkSchema(signal);
      return this.client.rows<Row>(this.onTable(q.sql), chQueryParams(q.params), { signal });
    },
  };

  /** For validation messages: how to name the data and how to fill it. */
  readonly dataLabel = {
    what: "the ClickHouse table",
    fill: "load some with `evx clickhouse load SOURCE`",
    fillDates: "load those dates with `evx clickhouse load SOURCE --from … --to …`",
  };

  /**
   * Every partition date the table, the last listing or a load knows, with the table's rows and bytes
   * (`system.parts`), the source's objects and the last load: the Sync tab's rows.
   */
  async partitions(signal?: AbortSignal): Promise<ChPartitionRow[]> {
    await this.checkSchema(signal);
    const info = await tableInfo(this.client, this.target, signal);
    const [parts, listing, loads] = await Promise.all([
      tablePartitions(this.client, this.target, info, signal),
      info.hasListing ? lastListing(this.client, this.target, signal) : [],
      info.hasLoads ? lastLoads(this.client, this.target, signal) : { last: new Map<string, ChLoadRecord>() },
    ]);
    const rows = new Map<string, ChPartitionRow>();
    const row = (date: string) => {
      let r = rows.get(date);
      if (!r) {
        r = { date, rows: 0, bytes: 0, parts: 0, sourceObjects: 0, sourceBytes: 0, lastLoad: null };
        rows.set(date, r);
      }
      return r;
    };
    for (const p of parts) Object.assign(row(p.date), p);
    for (const l of listing) Object.assign(row(l.date), { sourceObjects: l.objects, sourceBytes: l.bytes });
    for (const [date, rec] of loads.last) row(date).lastLoad = rec;
    return [...rows.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  }

  /** Closes the HTTP client (after any KILL QUERY still being sent). */
  async close(): Promise<void> {
    await this.client.close();
  }
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
