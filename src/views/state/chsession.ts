/**
 * A ClickHouse table as the TUI's session (`evx ui --engine clickhouse`): every screen's queries run on
 * `ClickHouseExecutor` through the same `QueryRunner` surface as the cache's `Executor`, so the screens
 * do not know which engine answers. No DuckDB cache is opened.
 *
 * - Cancel: the query client aborts the run's signal; the executor aborts the HTTP request and sends
 *   `KILL QUERY` for its query id, so the server stops too.
 * - The Sync tab shows the table's partitions (`system.parts` rows and bytes, the load's listing and
 *   last load per date); sync, evict and live mode are refused: the server loads its own data with
 *   `evx clickhouse load`.
 * - `close()` closes the HTTP client once any KILL QUERY still in flight has been sent.
 *
 * Imported lazily by `runUi` (it pulls in the ClickHouse client).
 */
import type { ChClientOptions } from "../../queries/clickhouse/client.js";
import { saveUsersCohortCh } from "../../queries/clickhouse/cohorts.js";
import { ClickHouseExecutor, inlineChSql } from "../../queries/clickhouse/executor.js";
import type { EngineOptions } from "../../queries/engine.js";
import { checkSpecKeys } from "../../queries/executor.js";
import { cleanText } from "../../render/sanitize.js";
import type { QueryRunner } from "../hooks/useQuery.js";
import type { Session } from "./state.js";

/** S, D and L on ClickHouse: one line saying why and what to run instead. */
export const CH_SYNC_REFUSED = "ClickHouse loads its own data: use `evx clickhouse load SOURCE`";

export const CH_EMPTY_TEXT =
  "The ClickHouse table holds no events yet: load some with `evx clickhouse load SOURCE`.";

/** `host:port/database.table`, safe to draw. */
export function chTableLabel(engine: ClickHouseExecutor): string {
  return cleanText(`${engine.host}.${engine.target.table}`);
}

export interface ChSession extends Session {
  engine: ClickHouseExecutor;
  /**
   * Checks once that the server answers, accepts the user and has the table with evx's columns;
   * rejects with the `EngineError` the headless commands exit with (6 unreachable, 7 auth or schema).
   */
  check(signal?: AbortSignal): Promise<void>;
  /** Closes the HTTP client once any KILL QUERY in flight has been sent. */
  close(): Promise<void>;
}

/**
 * The session of `--engine clickhouse --ch-url … --ch-table …` (or `$EVX_CLICKHOUSE_URL`). Opens no
 * connection yet; a bad URL is a `UsageError`.
 */
export function openChSession(
  opts: Pick<EngineOptions, "chUrl" | "chTable">,
  clientOpts: ChClientOptions = {},
): ChSession {
  return chSessionFor(ClickHouseExecutor.open(opts, clientOpts));
}

/** A session over an engine (tests pass their own, or wrap its runner). */
export function chSessionFor(engine: ClickHouseExecutor, opts: { runner?: QueryRunner } = {}): ChSession {
  const table = chTableLabel(engine);
  let closing: Promise<void> | null = null;
  return {
    engine,
    path: table,
    label: `clickhouse · ${table}`,
    shortLabels: [
      `clickhouse · ${cleanText(engine.target.origin.replace(/^https?:\/\//, ""))}`,
      "clickhouse",
    ],
    runner: opts.runner ?? (engine as unknown as QueryRunner),
    checkKeys: (spec, signal) => checkSpecKeys(engine, spec, signal),
    sync: null,
    server: { table, partitions: (signal) => engine.partitions(signal) },
    syncRefused: CH_SYNC_REFUSED,
    readOnly: false,
    check: (signal) => engine.checkSchema(signal),
    async bounds(tz: string) {
      const r = await engine.cachedRange(tz);
      return r ? { from: r.from, to: r.to } : null;
    },
    lastEventUs: () => engine.lastEventUs(),
    saveCohort: (name, spec) => saveUsersCohortCh(engine, structuredClone(spec), name, { replace: false }),
    inlineSql: (sql, params) => inlineChSql({ sql, params }),
    sqlDialect: "ClickHouse",
    emptyText: CH_EMPTY_TEXT,
    close() {
      closing ??= engine.close().catch(() => {});
      return closing;
    },
  };
}
