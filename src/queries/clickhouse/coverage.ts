/**
 * Coverage on ClickHouse (docs/semantics.md, "Coverage"), with the same shape and rules as the cache's:
 *
 * - what the table holds comes from `system.parts` (active parts of the table's `date` partitions: rows
 *   and bytes; for a Distributed table, its local table's parts on one replica per shard);
 * - what the source had comes from the listing that `evx clickhouse load` records (`<table>_evx_listing`,
 *   objects and bytes per partition date of the whole source, one snapshot per load);
 * - what each load did comes from `<table>_evx_loads` (per date and load: status, objects, rows, rejected).
 *
 * A date is in range when its UTC day overlaps the range and the listing, a load or the parts know it.
 * `failed`: its last load failed (the table still holds the previous load). `missing`: not failed, and
 * the listing had more objects than its last load read (0 when never loaded), or that load's rows are no
 * longer in the table. `rejected_lines`: the rejected lines of the last successful load of each date.
 * A table filled by other means (no bookkeeping tables) covers exactly its partitions.
 */
import { type DataExtent, extentOf } from "../partial.js";
import type { Coverage } from "../spec.js";
import type { ChClient, ClickHouseTarget } from "./client.js";
import { quoteIdent } from "./quote.js";

const DAY_US = 86_400_000_000;

/** The bookkeeping tables `evx clickhouse load` keeps beside `table`. */
export function bookkeepingTables(table: string): { listing: string; loads: string } {
  return { listing: `${table}_evx_listing`, loads: `${table}_evx_loads` };
}

/**
 * DDL of the bookkeeping tables (the load creates them when missing). On a cluster every node holds a
 * replica of one shared table, so any node answers coverage.
 */
export function bookkeepingDdl(table: string, cluster?: string): string[] {
  const { listing, loads } = bookkeepingTables(table);
  const engine = (name: string) =>
    cluster
      ? `ReplicatedMergeTree('/clickhouse/tables/evx/{database}/${name.replace(/'/g, "")}', '{replica}')`
      : "MergeTree";
  const on = cluster ? ` ON CLUSTER ${quoteIdent(cluster)}` : "";
  return [
    `CREATE TABLE IF NOT EXISTS ${quoteIdent(listing)}${on} (
    listed_at DateTime64(3, 'UTC'),
    source String,
    date Date,
    objects UInt64,
    bytes UInt64
)
ENGINE = ${engine(listing)}
ORDER BY (listed_at, date)`,
    `CREATE TABLE IF NOT EXISTS ${quoteIdent(loads)}${on} (
    loaded_at DateTime64(3, 'UTC'),
    date Date,
    status LowCardinality(String),
    objects UInt64,
    bytes UInt64,
    rows UInt64,
    rejected UInt64,
    fingerprint String,
    error String,
    source String,
    min_time DateTime64(6, 'UTC'),
    max_time DateTime64(6, 'UTC'),
    event_types Array(String)
)
ENGINE = ${engine(loads)}
ORDER BY (date, loaded_at)`,
    // The summary columns (context.ts), on a loads table made by an older evx.
    `ALTER TABLE ${quoteIdent(loads)}${on}
    ADD COLUMN IF NOT EXISTS min_time DateTime64(6, 'UTC'),
    ADD COLUMN IF NOT EXISTS max_time DateTime64(6, 'UTC'),
    ADD COLUMN IF NOT EXISTS event_types Array(String)`,
  ];
}

export interface ChPartition {
  /** `YYYY-MM-DD` */
  date: string;
  rows: number;
  bytes: number;
  parts: number;
}

export interface ChLoadRecord {
  date: string;
  status: "ok" | "failed";
  objects: number;
  rows: number;
  rejected: number;
  fingerprint: string;
  error: string;
  loaded_at: string;
}

/** What a successful load records of its date's rows: the context's summary (context.ts). */
export interface ChLoadSummary {
  /** First and last event of the date (epoch µs); 0 when it has none. */
  minUs: number;
  maxUs: number;
  eventTypes: string[];
}

/** What the server knows about the table and its bookkeeping. */
export interface ChTableInfo {
  exists: boolean;
  engine: string;
  /** For a Distributed table: its cluster and local table. */
  distributed?: { cluster: string; database: string; table: string };
  hasListing: boolean;
  hasLoads: boolean;
}

export async function tableInfo(
  client: ChClient,
  target: ClickHouseTarget,
  signal?: AbortSignal,
): Promise<ChTableInfo> {
  const { listing, loads } = bookkeepingTables(target.table);
  const rows = await client.rows<{ name: string; engine: string; engine_full: string }>(
    `SELECT name, engine, engine_full FROM system.tables
      WHERE database = {db:String} AND name IN ({t:String}, {l:String}, {d:String})`,
    { db: target.database, t: target.table, l: listing, d: loads },
    { signal },
  );
  const main = rows.find((r) => r.name === target.table);
  const info: ChTableInfo = {
    exists: !!main,
    engine: main?.engine ?? "",
    hasListing: rows.some((r) => r.name === listing),
    hasLoads: rows.some((r) => r.name === loads),
  };
  if (main?.engine === "Distributed") {
    // Distributed('cluster', 'db' | currentDatabase(), 'local'[, sharding key])
    const m = /^Distributed\(\s*'?([^',)]+)'?\s*,\s*'?([^',)]*?)'?(?:\(\))?\s*,\s*'?([^',)]+)'?/.exec(
      main.engine_full,
    );
    if (m)
      info.distributed = {
        cluster: m[1],
        database: /currentDatabase/i.test(m[2]) || !m[2] ? target.database : m[2],
        table: m[3],
      };
  }
  return info;
}

/** Active parts per `date` partition of the table: rows, bytes on disk, parts. */
export async function tablePartitions(
  client: ChClient,
  target: ClickHouseTarget,
  info?: ChTableInfo,
  signal?: AbortSignal,
): Promise<ChPartition[]> {
  const i = info ?? (await tableInfo(client, target, signal));
  if (!i.exists) return [];
  const d = i.distributed;
  const from = d ? "cluster({c:String}, system.parts)" : "system.parts";
  const rows = await client.rows<{ date: string; rows: number; bytes: number; parts: number }>(
    `SELECT partition AS date, sum(rows) AS rows, sum(bytes_on_disk) AS bytes, count() AS parts
       FROM ${from}
      WHERE database = {db:String} AND table = {t:String} AND active
      GROUP BY partition ORDER BY partition`,
    d ? { c: d.cluster, db: d.database, t: d.table } : { db: target.database, t: target.table },
    { signal },
  );
  return rows
    .map((r) => ({
      date: String(r.date).replace(/^'|'$/g, ""),
      rows: Number(r.rows),
      bytes: Number(r.bytes),
      parts: Number(r.parts),
    }))
    .filter((r) => /^\d{4}-\d{2}-\d{2}$/.test(r.date));
}

/** The last recorded listing: objects and bytes per date. */
export async function lastListing(
  client: ChClient,
  target: ClickHouseTarget,
  signal?: AbortSignal,
): Promise<{ date: string; objects: number; bytes: number; listed_at: string }[]> {
  const t = quoteIdent(bookkeepingTables(target.table).listing);
  // `listed`, not `listed_at`: ClickHouse's alias would shadow the column in WHERE.
  const rows = await client.rows<{ date: string; objects: number; bytes: number; listed: string }>(
    `SELECT toString(date) AS date, objects, bytes, toString(listed_at) AS listed FROM ${t}
      WHERE listed_at = (SELECT max(listed_at) FROM ${t}) ORDER BY date`,
    {},
    { signal },
  );
  return rows.map((r) => ({
    date: r.date,
    objects: Number(r.objects),
    bytes: Number(r.bytes),
    listed_at: String(r.listed),
  }));
}

/** Per date: its last load, and its last successful load. */
export async function lastLoads(
  client: ChClient,
  target: ClickHouseTarget,
  signal?: AbortSignal,
): Promise<{ last: Map<string, ChLoadRecord>; lastOk: Map<string, ChLoadRecord> }> {
  const t = quoteIdent(bookkeepingTables(target.table).loads);
  const rows = await client.rows<ChLoadRecord & { ok: number }>(
    `SELECT toString(date) AS date, status, objects, rows, rejected, fingerprint, error,
            toString(loaded_at) AS loaded_at, 0 AS ok
       FROM ${t} ORDER BY date, loaded_at DESC LIMIT 1 BY date
     UNION ALL
     SELECT toString(date) AS date, status, objects, rows, rejected, fingerprint, error,
            toString(loaded_at) AS loaded_at, 1 AS ok
       FROM ${t} WHERE status = 'ok' ORDER BY date, loaded_at DESC LIMIT 1 BY date`,
    {},
    { signal },
  );
  const last = new Map<string, ChLoadRecord>();
  const lastOk = new Map<string, ChLoadRecord>();
  for (const r of rows) {
    const rec: ChLoadRecord = {
      date: r.date,
      status: r.status === "ok" ? "ok" : "failed",
      objects: Number(r.objects),
      rows: Number(r.rows),
      rejected: Number(r.rejected),
      fingerprint: r.fingerprint,
      error: r.error,
      loaded_at: r.loaded_at,
    };
    (Number(r.ok) ? lastOk : last).set(r.date, rec);
  }
  return { last, lastOk };
}

export interface CoverageInput {
  parts: ChPartition[];
  /** `listed_at`: the listing's instant, `YYYY-MM-DD hh:mm:ss.sss` UTC (as `toString` gives it). */
  listing: { date: string; objects: number; bytes?: number; listed_at?: string }[];
  last: Map<string, ChLoadRecord>;
  lastOk: Map<string, ChLoadRecord>;
  /** The latest event of the whole table (epoch µs), or null when it is empty. */
  lastEventUs: number | null;
}

/** The dates coverage knows: the table's partitions, the listing's dates, the loaded dates. */
function knownDates(input: CoverageInput): Set<string> {
  return new Set([
    ...input.parts.map((p) => p.date),
    ...input.listing.map((l) => l.date),
    ...input.last.keys(),
  ]);
}

/**
 * The data extent (src/queries/partial.ts) from what the server reported (pure): the first and last
 * known dates, and the instant of the last listing.
 */
export function chExtent(input: CoverageInput): DataExtent {
  // A date whose last load removed it (it left the source: `ok` with no objects) is not data, as the
  // cache forgets a date that left its source; without this the engines marked different buckets.
  const gone = (d: string) => {
    const r = input.last.get(d);
    return !!r && r.status === "ok" && r.objects === 0 && !input.parts.some((p) => p.date === d);
  };
  const dates = [...knownDates(input)].filter((d) => !gone(d)).sort();
  const at = input.listing[0]?.listed_at;
  const listed = at ? Date.parse(`${at.replace(" ", "T")}Z`) : Number.NaN;
  return extentOf(
    dates[0] ?? null,
    dates[dates.length - 1] ?? null,
    Number.isFinite(listed) ? listed * 1000 : null,
  );
}

/** The coverage of the instant range [loUs, hiUs) from what the server reported (pure). */
export function shapeChCoverage(input: CoverageInput, loUs: number, hiUs: number): Coverage {
  const partRows = new Map(input.parts.map((p) => [p.date, p.rows]));
  const listed = new Map(input.listing.map((l) => [l.date, l.objects]));
  const known = knownDates(input);
  const lo = Math.floor(loUs);
  const hi = Math.ceil(hiUs);
  const missing: string[] = [];
  const failed: string[] = [];
  let inRange = 0;
  let rejected = 0;
  for (const date of [...known].sort()) {
    const start = Date.parse(`${date}T00:00:00Z`) * 1000;
    if (!(lo < hi && start < hi && start + DAY_US > lo)) continue;
    inRange++;
    const ok = input.lastOk.get(date);
    rejected += ok?.rejected ?? 0;
    if (input.last.get(date)?.status === "failed") {
      failed.push(date);
      continue;
    }
    const gone = !!ok && ok.rows > 0 && (partRows.get(date) ?? 0) === 0;
    if ((listed.get(date) ?? 0) > (ok?.objects ?? 0) || gone) missing.push(date);
  }
  return {
    partitions_in_range: inRange,
    partitions_synced: inRange - missing.length - failed.length,
    missing,
    failed,
    rejected_lines: rejected,
    last_event: input.lastEventUs === null ? null : isoOfUs(input.lastEventUs),
  };
}

/** `2023-06-01T17:45:30.250Z` (milliseconds, as the cache's coverage prints it). */
export function isoOfUs(us: number): string {
  return new Date(Math.floor(us / 1000)).toISOString();
}

/** What coverage reads on the server (then shaped for any range by `shapeChCoverage`). */
export async function chCoverageInput(
  client: ChClient,
  target: ClickHouseTarget,
  lastEventUs: number | null,
  signal?: AbortSignal,
): Promise<CoverageInput> {
  const info = await tableInfo(client, target, signal);
  const empty = { last: new Map<string, ChLoadRecord>(), lastOk: new Map<string, ChLoadRecord>() };
  const [parts, listing, loads] = await Promise.all([
    tablePartitions(client, target, info, signal),
    info.hasListing ? lastListing(client, target, signal) : [],
    info.hasLoads ? lastLoads(client, target, signal) : empty,
  ]);
  return { parts, listing, ...loads, lastEventUs };
}

/** Coverage of [loUs, hiUs) on the server. */
export async function chCoverage(
  client: ChClient,
  target: ClickHouseTarget,
  loUs: number,
  hiUs: number,
  lastEventUs: number | null,
  signal?: AbortSignal,
): Promise<Coverage> {
  return shapeChCoverage(await chCoverageInput(client, target, lastEventUs, signal), loUs, hiUs);
}
