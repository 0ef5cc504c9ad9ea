/**
 * What the CLI and the TUI need from an analysis engine, whichever runs the SQL: the local DuckDB cache
 * (`Executor`) or a ClickHouse server (`ClickHouseExecutor`). Both build with the same builders and
 * shape with the same shapers, so their results have the same shape and, on the same events, the same
 * values.
 *
 * This module is type-only apart from `EngineError` and stays free of DuckDB and the ClickHouse client,
 * so the CLI's start-up path can import it cheaply.
 */
import type { RunOutput } from "./executor.js";
import type { BuiltQuery, EngineName } from "./filters.js";
import type { AnalysisSpec, DateRange, ResultOf } from "./spec.js";

export type { EngineName };

export interface AnalysisEngine {
  /** `duckdb` or `clickhouse`, for the status bar and `--sql`. */
  readonly engine: EngineName;
  /** Where the data is, for the status bar: the cache file, or the ClickHouse `host:port/database`. */
  readonly host: string;
  /** Builds, runs and shapes one analysis; rejects with `AbortError` as soon as `signal` aborts. */
  run<S extends AnalysisSpec>(spec: S, opts?: { signal?: AbortSignal }): Promise<RunOutput<ResultOf<S>>>;
  /** The query `run` would execute for `spec`, without running it. */
  explain(spec: AnalysisSpec): Promise<BuiltQuery>;
  /** The query of `spec`'s `--annotations-from` markers (queries/annotations.ts), or null for none. */
  explainAnnotations(spec: AnalysisSpec): Promise<BuiltQuery | null>;
  /** The latest event's instant (epoch µs), or null when there are no events. */
  lastEventUs(): Promise<number | null>;
  /** The range of the data as dates in `tz`, or null when there are no events. */
  cachedRange(tz?: string): Promise<DateRange | null>;
  /** Fills a missing `from`/`to` from the data's range in `tz`. */
  resolveRange(partial?: { from?: string; to?: string; tz?: string }): Promise<DateRange>;
  /**
   * The `--identity` default: `merged` when the data has identity information (a preset with identity
   * rules whose links were kept), `raw` otherwise (docs/semantics.md, "Identity").
   */
  identityDefault(): Promise<"merged" | "raw">;
  /**
   * Analyses like `spec` will follow (ClickHouse: when it reads saved cohorts, the context request
   * reads their definitions too, so they cost no request of their own).
   */
  expectCohorts?(spec: AnalysisSpec): void;
  /** Releases connections (the DuckDB cache itself stays open; its owner closes it). */
  close(): void | Promise<void>;
}

/** How the CLI and the TUI choose an engine (`--engine`, `--ch-url`, `--ch-table`). */
export interface EngineOptions {
  engine: EngineName;
  /** ClickHouse URL (`https://user@host:8443/db`); default `$EVX_CLICKHOUSE_URL`. */
  chUrl?: string;
  /** ClickHouse events table (default `events`). */
  chTable?: string;
}

/**
 * Why a ClickHouse request failed, each with its own exit code (src/commands/errors.ts):
 * - `unreachable`: no connection (refused, unknown host, TLS), or the URL answers but not as ClickHouse;
 * - `lost`: the connection broke while a query ran (the server went away);
 * - `timeout`: no answer within the request timeout;
 * - `auth`: the server refused the user or password, or the user lacks a privilege;
 * - `schema`: the database, the table or a column evx needs is missing or has another type;
 * - `limit`: the query hit a server limit (time, memory, rows, quota, concurrency);
 * - `query`: any other server-side error.
 */
export type EngineErrorKind = "unreachable" | "lost" | "timeout" | "auth" | "schema" | "limit" | "query";

/** A ClickHouse failure with a one-line message that never holds a password or an S3 secret. */
export class EngineError extends Error {
  override name = "EngineError";
  constructor(
    message: string,
    readonly kind: EngineErrorKind,
    /** The ClickHouse exception code, when the server sent one. */
    readonly code?: number,
  ) {
    super(message);
  }
}
