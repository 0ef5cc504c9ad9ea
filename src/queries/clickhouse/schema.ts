import { propMembersSql, tagNumbersSql } from "./numtext.js";
import { quoteIdent } from "./quote.js";

/**
 * The ClickHouse events table evx's ClickHouse engine reads (`evx clickhouse schema` prints it).
 *
 * Column choices, for these analyses:
 * - `event_type LowCardinality(String)`: a few hundred distinct names; dictionary-encoded, and first in
 *   the sort key, so one event type's rows are contiguous and a step's scan skips the rest.
 * - `event_time DateTime64(6, 'UTC')`: microseconds, as evx's cache keeps them; Delta + ZSTD compresses a
 *   sorted time column to a few bits per row.
 * - `user_key String`: the lake's user id as written. Funnels and retention join and group on it; it is
 *   second in the sort key, so each user's events of a type are contiguous and time-ordered (what an
 *   ASOF join and windowFunnel both want).
 * - `properties String CODEC(ZSTD(3))`: the event's JSON object as text (the user timeline and `props`
 *   read it whole).
 * - `props Map(LowCardinality(String), String)`: each top-level key's *property text* (docs/semantics.md:
 *   a string's own text, the JSON text of anything else; JSON null and missing keys are absent),
 *   extracted once at load, so a filter or breakdown reads a map lookup instead of parsing JSON per row.
 *   The JSON type would infer number types and lose the exact text (`1.50` vs `1.5`), which evx's
 *   semantics compare on; numbers are kept as written (numtext.ts).
 * - `date Date`: the lake partition the row came from; the table is partitioned by it, so a re-load
 *   replaces a partition atomically and `system.parts` reports rows and bytes per date.
 */

/** The column list every engine-side SQL relies on. */
export const CH_COLUMNS = ["event_type", "event_time", "user_key", "properties", "props", "date"] as const;

export interface SchemaOptions {
  table?: string;
  /** `ON CLUSTER` name: Replicated tables per shard plus a Distributed table over them. */
  cluster?: string;
}

/**
 * The skip index that keeps a short range's reads to its own days: the table is sorted by event type
 * and user, so within a partition every granule spans the whole day, and the minmax of `event_time` per
 * granule tells the days apart. Without it a one-day analysis reads every partition's rows of its event
 * types (partition pruning only sees `date`, the lake's partition, which the analyses never filter on).
 */
export const TIME_INDEX = { name: "evx_time", sql: "event_time TYPE minmax GRANULARITY 1" } as const;

/** The column list (and, for a MergeTree, the time index): `CREATE TABLE name <this> ENGINE …`. */
export function columnsSql(withIndex = true): string {
  return `(
    event_type LowCardinality(String),
    event_time DateTime64(6, 'UTC') CODEC(Delta, ZSTD(1)),
    user_key String,
    properties String CODEC(ZSTD(3)),
    props Map(LowCardinality(String), String),
    date Date${
      withIndex
        ? `,
    INDEX ${TIME_INDEX.name} ${TIME_INDEX.sql}`
        : ""
    }
)`;
}
const columns = () => columnsSql(true);

const ORDER = `PARTITION BY date
ORDER BY (event_type, user_key, event_time)`;

/** The DDL of the events table (and, for a cluster, its local table and the Distributed table). */
export function eventsDdl(opts: SchemaOptions = {}): string {
  const table = opts.table ?? "events";
  if (!opts.cluster) {
    return `CREATE TABLE IF NOT EXISTS ${quoteIdent(table)} ${columns()}
ENGINE = MergeTree
${ORDER};`;
  }
  const local = `${table}_local`;
  const on = `ON CLUSTER ${quoteIdent(opts.cluster)}`;
  return `CREATE TABLE IF NOT EXISTS ${quoteIdent(local)} ${on} ${columns()}
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/${local}', '{replica}')
${ORDER};

CREATE TABLE IF NOT EXISTS ${quoteIdent(table)} ${on} ${columnsSql(false)}
ENGINE = Distributed(${quoteIdent(opts.cluster)}, currentDatabase(), ${quoteIdent(local)}, cityHash64(user_key));`;
}

/**
 * SQL: the `props` map of a JSON object text `json` (docs/semantics.md "Property text"): strings
 * unquoted, numbers as written, other values as JSON text, nulls left out; `{}` for text that is not a
 * JSON object.
 */
export function propsMapSql(json: string): string {
  return taggedPropsMapSql(tagNumbersSql(json));
}

/** `propsMapSql` of JSON text whose numbers are already tagged (numtext.ts). */
export function taggedPropsMapSql(tagged: string): string {
  const members = propMembersSql(tagged);
  return `mapFromArrays(arrayMap(x -> x.1, ${members}), arrayMap(x -> x.3, ${members}))`;
}

/**
 * Settings that change what an analysis answers: an ASOF/LEFT JOIN miss is NULL (as in DuckDB and the
 * semantics), not the type's default. Every analysis statement carries them in its own text (a
 * `SETTINGS` clause, `withResultSettings`), so the SQL `--sql` prints gives the same numbers when pasted.
 */
export const CH_RESULT_SETTINGS = { join_use_nulls: 1 } as const;

/**
 * Settings every evx request on ClickHouse runs with: the result settings (for evx's own smaller
 * queries), 64-bit integers as JSON numbers (only how evx's HTTP answers are written: shapers read
 * them as numbers), and a limit on index use for large user sets (speed, never the answer).
 */
export const CH_SETTINGS = {
  ...CH_RESULT_SETTINGS,
  output_format_json_quote_64bit_integers: 0,
  // Speed only: a user set (a cohort, a sample, a drill-down's users) of more keys than this is not
  // matched against the primary index (user_key is its second column). With no limit, the server's
  // default, a one-day trend filtered by a 1.6M-user behavioural cohort took 27 s on the 100M bench
  // table, 5 s with this limit: preparing the index ranges of a large set costs more than it skips.
  use_index_for_in_with_subqueries_max_values: 10_000,
} as const;

/**
 * `sql` with a `SETTINGS` clause holding `CH_RESULT_SETTINGS` (and `extra`, settings the statement's
 * text needs, as `enable_materialized_cte`): the statement that runs is the one printed.
 */
export function withResultSettings(sql: string, extra: Record<string, number> = {}): string {
  const list = Object.entries({ ...CH_RESULT_SETTINGS, ...extra })
    .map(([k, v]) => `${k} = ${v}`)
    .join(", ");
  return `${sql.trimEnd()}\nSETTINGS ${list}`;
}

/** `params[i]` of a ClickHouse BuiltQuery is the query parameter `p{i+1}` (`{p1:Int64}` in the SQL). */
export function chQueryParams(params: readonly unknown[]): Record<string, unknown> {
  return Object.fromEntries(params.map((v, i) => [`p${i + 1}`, typeof v === "bigint" ? v.toString() : v]));
}

/**
 * The builders read a table called `events`; on ClickHouse the table is configurable, so the SQL gets a
 * first CTE `events` over it (ClickHouse inlines CTEs, so this costs nothing).
 */
export function onTable(sql: string, table: string): string {
  if (table === "events") return sql;
  const cte = `events AS (SELECT * FROM ${quoteIdent(table)})`;
  return /^WITH\s/i.test(sql) ? sql.replace(/^WITH\s/i, `WITH ${cte},\n`) : `WITH ${cte}\n${sql}`;
}
