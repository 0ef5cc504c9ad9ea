/**
 * Everything an analysis needs to know about the ClickHouse table besides its answer, read in ONE
 * request from metadata, never from a scan of the events table (issue #25):
 *
 * - the table's columns and engine (`system.columns`, `system.tables`): the schema check;
 * - its partitions: rows, bytes and parts per date (`system.parts`; for a Distributed table, its local
 *   table's parts on one replica per shard through `cluster()`);
 * - the last listing and the last (and last successful) load of each date (the bookkeeping tables of
 *   `evx clickhouse load`): coverage;
 * - the summary: the first and last event and the event types. Each successful load records them for its
 *   date (`min_time`, `max_time`, `event_types` of `<table>_evx_loads`, computed from the staged rows
 *   it was going to swap in anyway). A date's summary is used while the table holds exactly the rows that
 *   load wrote (`system.parts` rows = the load's rows); any other date with rows (a table filled by other
 *   means, a partition changed since) is read from the table, that date's partition only.
 *
 * So on a table that `evx clickhouse load` filled, this request reads the system tables and the two
 * small bookkeeping tables: its cost does not grow with the events.
 */
import type { ChClient, ClickHouseTarget, RequestOptions } from "./client.js";
import { MEMO_PREFIX, stampSql } from "./cohortmemo.js";
import { CH_COHORTS_TABLE } from "./cohorts.js";
import { bookkeepingTables, type ChLoadRecord, type ChPartition, type CoverageInput } from "./coverage.js";
import { identityTables } from "./identity.js";
import { materializesCtes } from "./materialize.js";
import { quoteIdent } from "./quote.js";

/** Where a Distributed table's rows live. */
export interface ChDistributed {
  cluster: string;
  database: string;
  table: string;
}

/** The context of one analysis (or one screen) as read from the server. */
export interface ChContext extends CoverageInput {
  /** Columns of the events table (empty: no such table). */
  columns: string[];
  /** `MergeTree`, `Distributed`, …; empty when the table does not exist. */
  engine: string;
  distributed?: ChDistributed;
  hasListing: boolean;
  hasLoads: boolean;
  /** First event (epoch µs), null on an empty table. */
  firstEventUs: number | null;
  /** Distinct event types of the table, sorted. */
  eventTypes: string[];
  /** Key probe answers (`probes` of the request), in order. */
  probes: number[];
  /** Wall-clock ms when it was read. */
  readAt: number;
  /** The server evaluates a CTE written `AS MATERIALIZED` once (materialize.ts): 26.3 or later. */
  materializedCte: boolean;
  /** The stamp of the events table's data (cohortmemo.ts). */
  cohortStamp: string;
  /** Kept cohort members: memo table name → its comment (what it is of). */
  cohortMemos: Map<string, string>;
  /** The table's identity map exists (`evx clickhouse load` with identity rules): `merged` by default. */
  identityMap: boolean;
  /** The saved cohorts (name, kind, definition JSON, saved at), when the request read them. */
  cohorts?: [string, string, string, string][];
}

/** Parses `Distributed('cluster', 'db' | currentDatabase(), 'local'[, key])`. */
export function parseDistributed(engineFull: string, database: string): ChDistributed | undefined {
  const m = /^Distributed\(\s*'?([^',)]+)'?\s*,\s*'?([^',)]*?)'?(?:\(\))?\s*,\s*'?([^',)]+)'?/.exec(
    engineFull,
  );
  if (!m) return undefined;
  return {
    cluster: m[1],
    database: /currentDatabase/i.test(m[2]) || !m[2] ? database : m[2],
    table: m[3],
  };
}

/** What the context request needs to know up front. */
export interface ContextShape {
  /** The bookkeeping tables exist (else the request reads system tables and the events table only). */
  bookkeeping: boolean;
  /** A Distributed table: its parts are read on the cluster. */
  distributed?: ChDistributed;
  /**
   * Extra scalar subqueries answered in the same request (key probes, keys.ts): each a SELECT of one
   * number over a table named `events`, with `{pN:Type}` parameters of its own.
   */
  probes?: { sql: string; params: Record<string, unknown> }[];
  /**
   * The saved cohorts' definitions are read too (`evx_cohorts`, queries/clickhouse/cohorts.ts): an
   * analysis with a cohort filter then needs no request of its own for them. The table exists once a
   * cohort was saved; without it the request fails and is sent again without them.
   */
  cohorts?: boolean;
}

/** The one SELECT of the context, and its parameters. */
export function contextSql(
  target: ClickHouseTarget,
  shape: ContextShape,
): { sql: string; params: Record<string, unknown> } {
  const { listing, loads } = bookkeepingTables(target.table);
  const t = quoteIdent(target.table);
  const d = shape.distributed;
  const partsFrom = d ? "cluster({c:String}, system.parts)" : "system.parts";
  const params: Record<string, unknown> = {
    db: target.database,
    t: target.table,
    l: listing,
    d: loads,
    pdb: d ? d.database : target.database,
    pt: d ? d.table : target.table,
    mp: MEMO_PREFIX,
    im: identityTables(target.table).map,
  };
  if (d) params.c = d.cluster;
  const L = quoteIdent(loads);
  const S = quoteIdent(listing);
  const rec = `tuple(toString(date), toString(status), objects, rows, rejected, fingerprint, error, toString(loaded_at))`;
  const ctes = [
    `evx_parts AS (
    SELECT toDate(p) AS date, sum(rows) AS rows, sum(bytes_on_disk) AS bytes, count() AS parts
      FROM (SELECT replaceAll(partition, '''', '') AS p, rows, bytes_on_disk FROM ${partsFrom}
             WHERE database = {pdb:String} AND table = {pt:String} AND active)
     WHERE match(p, '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
     GROUP BY date)`,
  ];
  // A date's summary from its last successful load, while the table holds exactly that load's rows.
  if (shape.bookkeeping)
    ctes.push(`evx_summarised AS (
    SELECT date, toUnixTimestamp64Micro(min_time) AS lo, toUnixTimestamp64Micro(max_time) AS hi, event_types AS types
      FROM (SELECT * FROM ${L} WHERE status = 'ok' ORDER BY date, loaded_at DESC LIMIT 1 BY date)
     WHERE rows > 0 AND notEmpty(event_types) AND (date, rows) IN (SELECT date, rows FROM evx_parts))`);
  const summarised = shape.bookkeeping
    ? `SELECT date, lo, hi, types FROM evx_summarised
        UNION ALL
       `
    : "";
  const notSummarised = shape.bookkeeping ? " AND date NOT IN (SELECT date FROM evx_summarised)" : "";
  const cols = [
    `(SELECT groupArray(name) FROM system.columns WHERE database = {db:String} AND table = {t:String}) AS columns`,
    `(SELECT groupArray((name, engine, engine_full)) FROM system.tables
       WHERE database = {db:String} AND name IN ({t:String}, {l:String}, {d:String}, {im:String})) AS tables`,
    `(SELECT groupArray((toString(date), rows, bytes, parts)) FROM (SELECT * FROM evx_parts ORDER BY date)) AS parts`,
    // The server's version, not a look in system.settings: reading that table counts its ~2,000 rows
    // against the user's max_rows_to_read.
    `version() AS server_version`,
    // The kept cohorts (cohortmemo.ts): the data's stamp and every memo table's comment, from metadata.
    // (Not for a Distributed table, whose analyses evaluate cohorts per use.)
    `${d ? "''" : stampSql(partsFrom, "{pdb:String}", "{pt:String}")} AS cohort_stamp`,
    `(SELECT groupArray((name, comment)) FROM system.tables
       WHERE database = {db:String} AND startsWith(name, {mp:String})) AS memos`,
    `(SELECT tuple(count(), min(lo), max(hi), arraySort(arrayDistinct(arrayFlatten(groupArray(types)))))
       FROM (${summarised}SELECT date, toUnixTimestamp64Micro(min(event_time)) AS lo, toUnixTimestamp64Micro(max(event_time)) AS hi,
                  groupUniqArray(toString(event_type)) AS types
             FROM ${t} WHERE date IN (SELECT date FROM evx_parts WHERE rows > 0)${notSummarised}
            GROUP BY date)) AS summary`,
  ];
  if (shape.bookkeeping)
    cols.push(
      `(SELECT groupArray((toString(date), objects, bytes, toString(listed_at)))
         FROM (SELECT * FROM ${S} WHERE listed_at = (SELECT max(listed_at) FROM ${S}) ORDER BY date)) AS listing`,
      `(SELECT groupArray(${rec}) FROM (SELECT * FROM ${L} ORDER BY date, loaded_at DESC LIMIT 1 BY date)) AS last`,
      `(SELECT groupArray(${rec}) FROM (SELECT * FROM ${L} WHERE status = 'ok' ORDER BY date, loaded_at DESC LIMIT 1 BY date)) AS last_ok`,
    );
  if (shape.cohorts)
    cols.push(
      `(SELECT groupArray((name, kind, definition, saved_at)) FROM (
         SELECT name, argMax(kind, created) AS kind, argMax(definition, created) AS definition,
                formatDateTime(max(created), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS saved_at
           FROM ${CH_COHORTS_TABLE} GROUP BY name HAVING kind != 'removed' ORDER BY name)) AS cohorts`,
    );
  (shape.probes ?? []).forEach((p, i) => {
    // Each probe's `{pN:…}` parameters are renamed `{kI_pN:…}`, so probes and context never collide.
    const sql = p.sql.replace(/\{p(\d+):/g, `{k${i}_p$1:`);
    for (const [k, v] of Object.entries(p.params)) params[`k${i}_${k}`] = v;
    cols.push(`(${sql.replace(/\bFROM events\b/g, `FROM ${t}`)}) AS probe_${i}`);
  });
  return { sql: `WITH ${ctes.join(",\n")}\nSELECT ${cols.join(",\n       ")}`, params };
}

type Tuple = unknown[];
const num = (v: unknown) => Number(v ?? 0);

function loadRecord(r: Tuple): ChLoadRecord {
  return {
    date: String(r[0]),
    status: r[1] === "ok" ? "ok" : "failed",
    objects: num(r[2]),
    rows: num(r[3]),
    rejected: num(r[4]),
    fingerprint: String(r[5] ?? ""),
    error: String(r[6] ?? ""),
    loaded_at: String(r[7] ?? ""),
  };
}

/** Shapes the context row (pure). */
export function shapeContext(row: Record<string, unknown>, target: ClickHouseTarget, probes = 0): ChContext {
  const tables = (row.tables as Tuple[] | undefined) ?? [];
  const { listing, loads } = bookkeepingTables(target.table);
  const main = tables.find((x) => x[0] === target.table);
  const parts: ChPartition[] = ((row.parts as Tuple[] | undefined) ?? []).map((p) => ({
    date: String(p[0]),
    rows: num(p[1]),
    bytes: num(p[2]),
    parts: num(p[3]),
  }));
  const summary = (row.summary as Tuple | undefined) ?? [0, 0, 0, []];
  const any = num(summary[0]) > 0;
  const last = new Map<string, ChLoadRecord>();
  const lastOk = new Map<string, ChLoadRecord>();
  for (const r of (row.last as Tuple[] | undefined) ?? []) last.set(String(r[0]), loadRecord(r));
  for (const r of (row.last_ok as Tuple[] | undefined) ?? []) lastOk.set(String(r[0]), loadRecord(r));
  return {
    columns: ((row.columns as string[] | undefined) ?? []).map(String),
    engine: main ? String(main[1]) : "",
    distributed:
      main && main[1] === "Distributed" ? parseDistributed(String(main[2]), target.database) : undefined,
    hasListing: tables.some((x) => x[0] === listing),
    hasLoads: tables.some((x) => x[0] === loads),
    parts,
    listing: ((row.listing as Tuple[] | undefined) ?? []).map((l) => ({
      date: String(l[0]),
      objects: num(l[1]),
      bytes: num(l[2]),
      listed_at: String(l[3]),
    })),
    last,
    lastOk,
    firstEventUs: any ? num(summary[1]) : null,
    lastEventUs: any ? num(summary[2]) : null,
    eventTypes: any ? ((summary[3] as unknown[]) ?? []).map(String) : [],
    probes: Array.from({ length: probes }, (_, i) => num(row[`probe_${i}`])),
    readAt: Date.now(),
    materializedCte: materializesCtes(String(row.server_version ?? "")),
    identityMap: tables.some((x) => x[0] === identityTables(target.table).map),
    cohorts:
      row.cohorts === undefined
        ? undefined
        : (row.cohorts as Tuple[]).map((c) => [String(c[0]), String(c[1]), String(c[2]), String(c[3])]),
    cohortStamp: String(row.cohort_stamp ?? ""),
    cohortMemos: new Map(((row.memos as Tuple[] | undefined) ?? []).map((m) => [String(m[0]), String(m[1])])),
  };
}

/** Reads the context in one request (see the module comment). */
export async function readContext(
  client: ChClient,
  target: ClickHouseTarget,
  shape: ContextShape,
  opts: RequestOptions = {},
): Promise<ChContext> {
  const q = contextSql(target, shape);
  const rows = await client.rows<Record<string, unknown>>(q.sql, q.params, opts);
  return shapeContext(rows[0] ?? {}, target, shape.probes?.length ?? 0);
}
