/**
 * `merged` identity in the SQL (docs/semantics.md, "Identity"). Every builder reads its users from the
 * `user_key` column of a relation called `events`; in `merged` mode the statement gets first CTEs that
 * shadow it with the person key in that column, so every analysis (and every number of a drill-down)
 * counts persons without a builder knowing:
 * - DuckDB: `events.person_key` is kept by the sync (NULL: the user is their own person), so the
 *   person is `coalesce(person_key, user_key)`, read in the same scan (measured on 2M events, 48k users,
 *   a fifth of them merged: funnel, trend and retention within noise of `raw`, where a join on the map
 *   at query time cost 1.3-2x);
 * - ClickHouse: the map table is joined (LEFT JOIN on the id; ClickHouse inlines the CTE).
 * The map itself is `identity_map (user_key, person_key)`: the drill-down and the timeline read a
 * person's other ids from it.
 */
import type { EngineName } from "./filters.js";
import { duckKept, sampleTest } from "./sample.js";
import type { AnalysisSpec } from "./spec.js";

/** Placeholders the ClickHouse executors replace with their tables (`chIdentitySql`). */
export const CH_EVENTS_SOURCE = "evx_events_source";
export const CH_IDENTITY_SOURCE = "evx_identity_source";

/** The ClickHouse events table's columns, with the person as `user_key`. */
const CH_MERGED = `SELECT e.event_type AS event_type, e.event_time AS event_time, ifNull(m.person_key, e.user_key) AS user_key,
         e.properties AS properties, e.props AS props, e.date AS date
    FROM ${CH_EVENTS_SOURCE} AS e LEFT JOIN identity_map AS m ON m.user_key = e.user_key`;

const DUCK_MERGED = `SELECT * REPLACE (coalesce(person_key, user_key) AS user_key) FROM main.events`;

/** True when the spec (or the analysis a drill-down lists) counts persons. */
export function isMerged(spec: AnalysisSpec): boolean {
  return spec.identity === "merged";
}

/**
 * `sql` reading persons: the CTEs that shadow `events` (and name the map), before the statement's own.
 * With `sampleBp` (basis points, queries/sample.ts) only the persons in the sample are read.
 */
export function withIdentity(sql: string, engine: EngineName, sampleBp?: number): string {
  const ctes =
    engine === "clickhouse"
      ? [
          `identity_map AS (SELECT user_key, person_key FROM ${CH_IDENTITY_SOURCE})`,
          sampleBp === undefined
            ? `events AS (${CH_MERGED})`
            : `events AS (SELECT * FROM (${CH_MERGED}) AS evx_persons WHERE ${sampleTest("user_key", sampleBp, engine)})`,
        ]
      : [
          sampleBp === undefined
            ? `events AS NOT MATERIALIZED (${DUCK_MERGED})`
            : `events AS NOT MATERIALIZED (${DUCK_MERGED} WHERE ${duckKept("coalesce(person_key, user_key)", sampleBp)})`,
          `identity_map AS NOT MATERIALIZED (SELECT user_key, person_key FROM main.identity)`,
        ];
  const head = ctes.join(",\n");
  return /^WITH\s/i.test(sql) ? sql.replace(/^WITH\s/i, `WITH ${head},\n`) : `WITH ${head}\n${sql}`;
}

/**
 * A merged statement's ClickHouse placeholders → the events table and its identity map (already
 * quoted identifiers); a raw statement is returned as is.
 */
export function chIdentitySql(sql: string, eventsTable: string, identityTable: string): string {
  return sql.replaceAll(CH_EVENTS_SOURCE, eventsTable).replaceAll(CH_IDENTITY_SOURCE, identityTable);
}
