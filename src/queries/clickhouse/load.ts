/**
 * `evx clickhouse load`: the ClickHouse server reads the selected date partitions of an S3 lake itself,
 * with `s3()` (or `s3Cluster()` on a cluster), and inserts them. No event passes through evx: evx lists
 * the source with its own S3 listing (to pick partitions and record the listing for coverage), then sends
 * one INSERT … SELECT per partition.
 *
 * Per partition, idempotently:
 * 1. `CREATE TABLE stage AS <table>`: an empty table with the same columns, partitioning and sort key;
 * 2. `INSERT INTO stage SELECT … FROM s3(the partition's objects, 'LineAsString')`: every non-blank line
 *    is parsed with evx's rules (src/cache/ingest.ts). Good lines go to the partition's date; rejected
 *    lines go, as (reason, object key), to a sentinel date that is never moved, so one pass over S3
 *    both loads and counts;
 * 3. `ALTER TABLE <table> REPLACE PARTITION <date> FROM stage` (or `DROP PARTITION` when no line was
 *    good), then the stage is dropped.
 * REPLACE PARTITION swaps the whole partition in one step, so a re-load replaces the partition (never
 * duplicates it), readers never see it half-loaded or empty, and a failed load leaves the previous data
 * as it was (drop-then-insert would leave the date empty or partial in between and after a failure).
 *
 * Rejected lines follow `evx sync`: a line that is not a JSON object, lacks `event_type` or `user_id`, or
 * has a missing, unparseable or out-of-range (1970–2100) `event_time`; blank lines are skipped. Field
 * names follow `--map`. Times: epoch seconds/ms/µs by magnitude, or ISO 8601 (offsets, date-only).
 * Numbers are tagged before any JSON function reads the line (numtext.ts), so property texts keep
 * numbers as written and an integer wider than 64 bits is kept, as `evx sync` keeps it.
 * Differences from DuckDB's parser, for a few hostile forms only: a zone name after the time
 * (`… Europe/Berlin`) is rejected, invalid UTF-8 becomes U+FFFD before parsing.
 *
 * S3 credentials reach the server as query parameters of the statement (sent in the POST body, never in
 * the SQL text or the URL), or stay on the server (`--s3-collection`, `--s3-credentials server`). They
 * are redacted from every message, and `--sql` prints `***` for them.
 */

import { createHash } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { DEFAULT_MAP, type FieldMap, type LakeFormat } from "../../cache/mapping.js";
import type { PresetName } from "../../cache/presets.js";
import {
  dateOf,
  describeLayout,
  detectLayout,
  inDateRange,
  isDataFile,
  isParquetKey,
  type Layout,
  LayoutError,
  undatedReason,
} from "../../source/layout.js";
import { parseS3Url } from "../../source/s3.js";
import { type Source, SourceError } from "../../source/types.js";
import { EngineError } from "../engine.js";
import { AbortError } from "../executor.js";
import type { ChClient, ClickHouseTarget } from "./client.js";
import { keepChCohortsEvaluated } from "./cohortmemo.js";
import { chCohortStore } from "./cohorts.js";
import {
  bookkeepingDdl,
  bookkeepingTables,
  type ChLoadSummary,
  lastLoads,
  tableInfo,
  tablePartitions,
} from "./coverage.js";
import type { ClickHouseExecutor } from "./executor.js";
import { chIdentityStep, type LinkRead } from "./identity.js";
import {
  checkClusterFormat,
  type FormatPlan,
  formatDdl,
  formatFingerprint,
  formatLayout,
  formatPartitionPlan,
  idsDropSql,
  needsFormatPlan,
  parquetRead,
  runFormatPlan,
} from "./loadformat.js";
import { taggedValidSql, tagNumbersSql, untagJsonSql, untagTextSql } from "./numtext.js";
import { quoteString as lit, quoteIdent } from "./quote.js";
import { columnsSql, taggedPropsMapSql } from "./schema.js";

/** How the server authenticates to S3. */
export type S3Access =
  | { kind: "keys"; accessKeyId: string; secretAccessKey: string; sessionToken?: string }
  | { kind: "nosign" }
  /** The server's own credentials (instance role, its S3 settings). */
  | { kind: "server" }
  /** A named collection on the server holding the credentials (and anything else s3() takes). */
  | { kind: "collection"; name: string };

export interface LoadOptions {
  /** Inclusive partition dates; absent = every date of the listing. */
  from?: string;
  to?: string;
  layout?: Layout;
  map?: FieldMap;
  /**
   * The lake format (preset, map, dedupe), read as `evx sync` reads it (loadformat.ts); a partition
   * with a format other than the plain one, or with Parquet objects, is loaded by loadformat.ts.
   */
  format?: LakeFormat;
  /** The collector preset, when no `format` names one: its identity rules build the table's identity map (identity.ts). */
  preset?: PresetName;
  /** `s3Cluster()` and ON CLUSTER statements over this cluster (the table is Replicated + Distributed). */
  cluster?: string;
  s3: S3Access;
  /** S3-compatible endpoint (path-style) as evx lists through; default AWS in `region`. */
  endpoint?: string;
  /** The same endpoint as the server reaches it, when it differs (MinIO behind a port forward). */
  serverEndpoint?: string;
  region?: string;
  /** Load every selected partition even when its objects did not change since its last load. */
  force?: boolean;
  /** Partitions loaded at once (default 4). */
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (p: PartitionOutcome, index: number, total: number) => void;
}

export interface PartitionOutcome {
  date: string;
  /** `loaded`; `unchanged` (same objects as its last load, skipped); `failed`; `removed` (gone from the source). */
  status: "loaded" | "unchanged" | "failed" | "removed";
  objects: number;
  bytes: number;
  events: number;
  rejected: number;
  /** Messages that are not events (by the preset), and duplicates (dedupe); with a lake format only. */
  skipped?: number;
  duplicates?: number;
  seconds: number;
  error?: string;
}

export interface LoadSummary {
  partitions: { selected: number; loaded: number; unchanged: number; failed: number; removed: number };
  objects: { listed: number; loaded: number; failed: number };
  bytes: number;
  events: number;
  rejected: number;
  skipped: number;
  duplicates: number;
  seconds: number;
  /** Of `seconds`, the source's listing (evx's own S3 LIST requests). */
  listingSeconds: number;
  /** Non-data files in the listing. */
  ignored: number;
  /** Data files whose key has no date in the layout. */
  undated: number;
  layout: string;
  failures: { date: string; error: string }[];
  outcomes: PartitionOutcome[];
}

export { quoteIdent };

/** A fixed SQL string literal (for text evx writes, never data). */

/** Trims what JavaScript's `trim()` trims (evx sync skips lines that are blank after it). */
export const TRIM_RE =
  "^[\\s\\x{00A0}\\x{FEFF}\\x{2028}\\x{2029}\\x{1680}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}\\v]+|[\\s\\x{00A0}\\x{FEFF}\\x{2028}\\x{2029}\\x{1680}\\x{2000}-\\x{200A}\\x{202F}\\x{205F}\\x{3000}\\v]+$";
/** A number: epoch seconds, milliseconds or microseconds by magnitude (as src/cache/ingest.ts). */
export const NUM_RE = "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$";
/** The ISO 8601 forms DuckDB's TIMESTAMPTZ cast reads (date-only, `T` or space, offsets, `Z`, `UTC`). */
export const ISO_RE =
  "^\\s*[0-9]{4}[-/][0-9]{1,2}[-/][0-9]{1,2}(?:[T ](?:[01]?[0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\\.[0-9]+)?(?: ?(?:Z|UTC|[+-][0-9]{2}(?::?[0-9]{2})?))?)?)?\\s*$";
/** 2100-01-01T00:00:00Z in µs. */
export const MAX_US = 4_102_444_800_000_000;

/** The reading of one partition's objects: `s3(…)` / `s3Cluster(…)` with its parameters. */
export interface S3Read {
  sql: string;
  params: Record<string, unknown>;
}

/** The server-side reading of `keys` (full keys in `bucket`) as `LineAsString` rows with `_path`. */
export function s3ReadSql(
  bucket: string,
  keys: string[],
  o: Pick<LoadOptions, "cluster" | "s3" | "endpoint" | "serverEndpoint" | "region">,
): S3Read {
  if (!keys.length) throw new Error("no objects to read");
  const bad = keys.find((k) => /[{}*?,\\]/.test(k));
  if (bad)
    throw new EngineError(
      `object key ${JSON.stringify(bad)} has a glob character ({ } * ? , \\) that the server's s3() cannot read literally; rename it or sync with evx instead`,
      "query",
    );
  const enc = (k: string) => k.replace(/[^A-Za-z0-9._~\-=/+:@!$&()]/g, (c) => encodeURIComponent(c));
  const dirOf = (k: string) => k.slice(0, k.lastIndexOf("/") + 1);
  let common = dirOf(keys[0]);
  for (const k of keys) while (!k.startsWith(common)) common = dirOf(common.slice(0, -1));
  const rest = keys.map((k) => enc(k.slice(common.length)));
  const endpoint = o.serverEndpoint ?? o.endpoint;
  const base = endpoint
    ? `${endpoint.replace(/\/+$/, "")}/${bucket}/`
    : `https://${bucket}.s3.${o.region ?? "us-east-1"}.amazonaws.com/`;
  const url = `${base}${enc(common)}${rest.length === 1 ? rest[0] : `{${rest.join(",")}}`}`;
  const params: Record<string, unknown> = { s3_url: url };
  const fn = o.cluster ? "s3Cluster" : "s3";
  const head = o.cluster ? "{s3_cluster:String}, " : "";
  if (o.cluster) params.s3_cluster = o.cluster;
  let args: string;
  switch (o.s3.kind) {
    case "keys":
      params.s3_key = o.s3.accessKeyId;
      params.s3_secret = o.s3.secretAccessKey;
      if (o.s3.sessionToken) params.s3_token = o.s3.sessionToken;
      args = `{s3_url:String}, {s3_key:String}, {s3_secret:String}, ${o.s3.sessionToken ? "{s3_token:String}, " : ""}'LineAsString', 'line String'`;
      break;
    case "nosign":
      args = "{s3_url:String}, NOSIGN, 'LineAsString', 'line String'";
      break;
    case "server":
      args = "{s3_url:String}, 'LineAsString', 'line String'";
      break;
    case "collection":
      args = `${quoteIdent(o.s3.name)}, url = {s3_url:String}, format = 'LineAsString', structure = 'line String'`;
      break;
  }
  return { sql: `${fn}(${head}${args})`, params };
}

/**
 * The SELECT that parses every non-blank line of `from` (rows `line`, `_path`) into the events table's
 * columns, in its column order: good lines on `{date}`, rejected ones as (reason, object path) on
 * `{sentinel}`.
 */
export function parseSelectSql(from: string): string {
  const field = (raw: string, name: string) =>
    `if(obj, JSONExtractRaw(tagged, {${name}:String}), '') AS ${raw},
    if(startsWith(${raw}, '"'), ${untagTextSql(`JSONExtractString(tagged, {${name}:String})`)}, ${raw})`;
  return `SELECT
    if(reason = '', et, reason) AS o_event_type,
    fromUnixTimestamp64Micro(if(reason = '', toInt64(us), toInt64(0)), 'UTC') AS o_event_time,
    if(reason = '', uid, key) AS o_user_key,
    if(reason = '', ${untagJsonSql("ptext")}, '') AS o_properties,
    if(reason = '', ${taggedPropsMapSql("ptext")}, map()) AS o_props,
    if(reason = '', toDate({date:String}), toDate({sentinel:String})) AS o_date
FROM (
  SELECT key, text,
    ${tagNumbersSql("text")} AS tagged,
    ${taggedValidSql("tagged")} AS valid,
    valid AND JSONType(tagged) = 'Object' AS obj,
    ${field("et_raw", "f_type")} AS et,
    ${field("uid_raw", "f_user")} AS uid,
    ${field("t_raw", "f_time")} AS t_text,
    if(obj, JSONExtractRaw(tagged, {f_props:String}), '') AS p_raw,
    if(p_raw IN ('', 'null'), '{}', p_raw) AS ptext,
    toFloat64OrNull(t_text) AS num,
    multiIf(abs(num) < 1e11, num, abs(num) < 1e14, num / 1e3, num / 1e6) AS secs,
    if(match(t_text, ${lit(NUM_RE)}), round(secs * 1e6),
       if(match(t_text, ${lit(ISO_RE)}),
          toFloat64(toUnixTimestamp64Micro(parseDateTime64BestEffortOrNull(t_text, 6, 'UTC'))), NULL)) AS us,
    multiIf(NOT valid, 'invalid JSON',
            NOT obj, 'not a JSON object',
            et_raw IN ('', 'null', '""'), 'missing event_type',
            uid_raw IN ('', 'null', '""'), 'missing user_id',
            t_raw IN ('', 'null', '""'), 'missing event_time',
            us IS NULL OR NOT isFinite(us), 'unparseable event_time',
            us < 0 OR us >= ${MAX_US}, 'event_time out of range (1970-2100)',
            '') AS reason
  FROM (SELECT _path AS key, replaceRegexpAll(toValidUTF8(line), ${lit(TRIM_RE)}, '') AS text FROM ${from})
  WHERE text != ''
)`;
}

/** Parameters of `parseSelectSql` for one partition. */
export function parseParams(date: string, map: FieldMap = DEFAULT_MAP): Record<string, unknown> {
  return {
    date,
    sentinel: sentinelOf(date),
    f_type: map.event_type,
    f_user: map.user_id,
    f_time: map.event_time,
    f_props: map.event_properties,
  };
}

/** The date rejected lines are staged on: never the partition's own date, never moved to the table. */
export const sentinelOf = (date: string): string => (date === "1970-01-01" ? "1970-01-02" : "1970-01-01");

/** `2023-06-01` → `20230601`, the partition id of a `PARTITION BY date` table. */
const partitionId = (date: string) => date.replace(/-/g, "");

/** One line, without secrets, bounded. */
function shortError(client: ChClient, e: unknown): string {
  const msg = (e instanceof Error ? e.message : String(e)).replace(
    /^ClickHouse at \S+ rejected the query /,
    "server error ",
  );
  return client.redact(msg.replace(/\s+/g, " ").trim()).slice(0, 300);
}

/** Listing → dated data objects, like `evx sync` (its layout detection and data-file rules). */
async function listDated(
  source: Source,
  given: Layout | undefined,
  format: LakeFormat | undefined,
  signal?: AbortSignal,
): Promise<{
  layout: Layout;
  objects: { key: string; size: number; version: string; date: string }[];
  ignored: number;
  undated: number;
}> {
  const all: { key: string; size: number; version: string }[] = [];
  for await (const o of source.list(signal)) all.push(o);
  const shape = formatLayout(format, given);
  const l =
    shape.layout ??
    detectLayout(
      all.filter((o) => isDataFile(o.key)).map((d) => d.key),
      shape.detect,
    );
  const data = all.filter((o) => isDataFile(o.key, l));
  const objects: { key: string; size: number; version: string; date: string }[] = [];
  const undatedKeys: string[] = [];
  for (const o of data) {
    const date = dateOf(o.key, l);
    if (date === null) undatedKeys.push(o.key);
    else objects.push({ ...o, date });
  }
  if (!objects.length && undatedKeys.length) {
    // As `evx sync`: a layout that dates nothing would load nothing and look like an empty lake.
    const whose = format?.preset ? `preset ${format.preset}'s layout` : "the layout";
    throw new LayoutError(
      `${whose} (${describeLayout(l)}) dates none of the ${undatedKeys.length.toLocaleString("en-US")} data files (${undatedKeys[0]}: ${undatedReason(undatedKeys[0], l)}); ${format?.preset ? "pick the preset of this lake, or pass --layout" : "pass the --layout of this lake"}`,
    );
  }
  objects.sort((a, b) => (a.date === b.date ? (a.key < b.key ? -1 : 1) : a.date < b.date ? -1 : 1));
  return { layout: l, objects, ignored: all.length - data.length, undated: undatedKeys.length };
}

/** What changed in a partition's objects: their keys, versions and sizes (and a lake format's rules). */
function fingerprintOf(objs: { key: string; version: string; size: number }[], format?: LakeFormat): string {
  const h = createHash("sha1");
  const f = formatFingerprint(format);
  if (f) h.update(`${f}\n`);
  for (const o of [...objs].sort((a, b) => (a.key < b.key ? -1 : 1)))
    h.update(`${o.key}\0${o.version}\0${o.size}\n`);
  return h.digest("hex");
}

/** The statements of one partition's load, in order (what `--sql` prints and `load` runs). */
export interface PartitionPlan {
  date: string;
  stage: string;
  create: string[];
  insert: { sql: string; params: Record<string, unknown> };
  counts: string;
  replace: string;
  drop: string;
  cleanup: string[];
}

export function partitionPlan(
  target: ClickHouseTarget,
  bucket: string,
  keys: string[],
  date: string,
  o: Pick<LoadOptions, "cluster" | "s3" | "endpoint" | "serverEndpoint" | "region" | "map"> & {
    local?: string;
  },
  suffix: string,
): PartitionPlan {
  const stage = `${target.table}_evx_stage_${partitionId(date)}_${suffix}`;
  const read = s3ReadSql(bucket, keys, o);
  const columns = "(event_type, event_time, user_key, properties, props, date)";
  const pid = lit(partitionId(date));
  if (!o.cluster) {
    return {
      date,
      stage,
      create: [`CREATE TABLE ${quoteIdent(stage)} AS ${quoteIdent(target.table)}`],
      insert: {
        sql: `INSERT INTO ${quoteIdent(stage)} ${columns}\n${parseSelectSql(read.sql)}`,
        params: { ...read.params, ...parseParams(date, o.map) },
      },
      counts: countsSql(stage),
      replace: `ALTER TABLE ${quoteIdent(target.table)} REPLACE PARTITION ID ${pid} FROM ${quoteIdent(stage)}`,
      drop: `ALTER TABLE ${quoteIdent(target.table)} DROP PARTITION ID ${pid}`,
      cleanup: [`DROP TABLE IF EXISTS ${quoteIdent(stage)}`],
    };
  }
  // A cluster: the stage is a Replicated local table per shard plus a Distributed table over it (sharded
  // like the events table), and the partition is swapped in each shard's local table.
  const local = o.local ?? `${target.table}_local`;
  const stageLocal = `${stage}_local`;
  const on = `ON CLUSTER ${quoteIdent(o.cluster)}`;
  return {
    date,
    stage,
    create: [
      `CREATE TABLE ${quoteIdent(stageLocal)} ${on} AS ${quoteIdent(local)}
ENGINE = ReplicatedMergeTree('/clickhouse/tables/{shard}/{database}/${stageLocal}', '{replica}')
PARTITION BY date ORDER BY (event_type, user_key, event_time)`,
      `CREATE TABLE ${quoteIdent(stage)} ${on} ${columnsSql(false)}
ENGINE = Distributed(${lit(o.cluster)}, currentDatabase(), ${lit(stageLocal)}, cityHash64(user_key))`,
    ],
    insert: {
      sql: `INSERT INTO ${quoteIdent(stage)} ${columns}\n${parseSelectSql(read.sql)}\nSETTINGS distributed_foreground_insert = 1`,
      params: { ...read.params, ...parseParams(date, o.map) },
    },
    counts: countsSql(stage),
    replace: `ALTER TABLE ${quoteIdent(local)} ${on} REPLACE PARTITION ID ${pid} FROM ${quoteIdent(stageLocal)}`,
    drop: `ALTER TABLE ${quoteIdent(local)} ${on} DROP PARTITION ID ${pid}`,
    cleanup: [
      `DROP TABLE IF EXISTS ${quoteIdent(stage)} ${on} SYNC`,
      `DROP TABLE IF EXISTS ${quoteIdent(stageLocal)} ${on} SYNC`,
    ],
  };
}

/**
 * The staged rows' counts, good (the date's) and rejected, and the good rows' summary that the context
 * reads instead of the table (context.ts): first and last event, event types.
 */
function countsSql(stage: string): string {
  return `SELECT date = toDate({date:String}) AS good, count() AS n,
       toUnixTimestamp64Micro(min(event_time)) AS lo, toUnixTimestamp64Micro(max(event_time)) AS hi,
       if(good, arraySort(groupUniqArray(toString(event_type))), []) AS types
  FROM ${quoteIdent(stage)} GROUP BY good`;
}

/** `YYYY-MM-DD hh:mm:ss.ffffff` (UTC) of epoch µs: a DateTime64(6) value in JSONEachRow. */
export function usText(us: number): string {
  const ms = Math.floor(us / 1000);
  const frac = String(us - Math.floor(us / 1_000_000) * 1_000_000).padStart(6, "0");
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")}.${frac}`;
}

/** Query parameters as `--sql` prints them: S3 secrets replaced by `***`. */
export function shownParams(params: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(params)) out[k] = /^s3_(key|secret|token)$/.test(k) ? "***" : v;
  return out;
}

/**
 * Resolves how the server gets at S3: `--no-sign-request`, `--s3-collection`, `--s3-credentials server`,
 * or (the default) the credentials evx's own AWS chain finds (env, profile, SSO, role), as `evx sync`.
 */
export async function resolveS3Access(o: {
  noSignRequest?: boolean;
  collection?: string;
  serverCredentials?: boolean;
  profile?: string;
}): Promise<S3Access> {
  if (o.noSignRequest) return { kind: "nosign" };
  if (o.collection) return { kind: "collection", name: o.collection };
  if (o.serverCredentials) return { kind: "server" };
  try {
    const c = await fromNodeProviderChain(o.profile ? { profile: o.profile } : {})();
    return {
      kind: "keys",
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
    };
  } catch (e) {
    throw new SourceError(
      `no usable AWS credentials to give the server (${(e as Error).name ?? "CredentialsProviderError"}) — check --profile / credentials, or use --no-sign-request, --s3-collection or --s3-credentials server`,
      true,
      "CredentialsProviderError",
    );
  }
}

/** The region of an AWS URL: `--region`, else the profile's or the environment's, else us-east-1. */
export async function resolveRegion(
  region: string | undefined,
  profile: string | undefined,
): Promise<string> {
  if (region) return region;
  const probe = new S3Client(profile ? { profile } : {});
  try {
    return (await probe.config.region()) || "us-east-1";
  } catch {
    return "us-east-1";
  } finally {
    probe.destroy();
  }
}

/** The statements `load` would run for each selected partition (for `--sql`), without running them. */
export async function planLoad(
  ch: ClickHouseExecutor,
  source: Source,
  o: LoadOptions,
): Promise<(PartitionPlan | (FormatPlan & { format: true }))[]> {
  checkClusterFormat(o.format, o.cluster);
  const { bucket, prefix } = parseS3Url(source.url);
  const listing = await listDated(source, o.layout, o.format, o.signal);
  checkClusterFormat(
    o.format,
    o.cluster,
    listing.objects.map((x) => x.key),
  );
  const byDate = groupByDate(listing.objects.filter((x) => inDateRange(x.date, o.from, o.to)));
  const local = o.cluster ? (await tableInfo(ch.client, ch.target)).distributed?.table : undefined;
  return [...byDate].map(([date, objs]) => {
    const keys = objs.map((x) => prefix + x.key);
    return needsFormatPlan(o.format, keys)
      ? { ...formatPartitionPlan(ch.target, bucket, keys, date, o, "PLAN"), format: true as const }
      : partitionPlan(ch.target, bucket, keys, date, { ...o, local }, "PLAN");
  });
}

function groupByDate<T extends { date: string }>(objs: T[]): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const x of objs) {
    const l = m.get(x.date);
    if (l) l.push(x);
    else m.set(x.date, [x]);
  }
  return m;
}

/** Everything one partition's load needs (shared by the partitions of one `loadPartitions`). */
interface PartitionRun {
  client: ChClient;
  target: ClickHouseTarget;
  bucket: string;
  prefix: string;
  source: string;
  loadsTable: string;
  local?: string;
  o: LoadOptions;
  suffix: string;
  /** The identity map's hooks (identity.ts), for a lake with identity rules. */
  identity?: ReturnType<typeof chIdentityStep>;
}

type ListedObject = { key: string; size: number; version: string; date: string };

/** Partitions loaded at once: `--concurrency`, default 4 (the server parses each with its own threads). */
export function loadConcurrency(n: number | undefined): number {
  return n !== undefined && Number.isInteger(n) && n > 0 ? Math.min(n, 64) : 4;
}

/**
 * Runs `fn` on every item, at most `limit` at a time. The first failure stops new items from starting;
 * the ones under way finish (each cleans up its stage), then it is thrown.
 */
export async function inPool<T>(
  items: T[],
  limit: number,
  signal: AbortSignal | undefined,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failure: { e: unknown } | null = null;
  const worker = async () => {
    while (!failure && next < items.length) {
      if (signal?.aborted) {
        failure ??= { e: new AbortError() };
        return;
      }
      const item = items[next++];
      try {
        await fn(item);
      } catch (e) {
        failure ??= { e };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failure) throw (failure as { e: unknown }).e;
}

/** Records one partition's load in the loads table (never fails the load). */
async function recordLoad(
  run: PartitionRun,
  oc: PartitionOutcome,
  fingerprint: string,
  summary?: ChLoadSummary,
): Promise<void> {
  await run.client
    .insert(
      run.loadsTable,
      [
        {
          loaded_at: new Date().toISOString().replace("T", " ").replace("Z", ""),
          date: oc.date,
          status: oc.status === "failed" ? "failed" : "ok",
          objects: oc.objects,
          bytes: oc.bytes,
          rows: oc.events,
          rejected: oc.rejected,
          fingerprint,
          error: oc.error ?? "",
          source: run.source,
          min_time: usText(summary?.minUs ?? 0),
          max_time: usText(summary?.maxUs ?? 0),
          event_types: summary?.eventTypes ?? [],
        },
      ],
      {},
    )
    .catch(() => {});
}

/**
 * Where the identity step reads a partition's links (identity.ts): its JSON-lines objects as lines,
 * its Parquet objects' rows as their JSON text (a Map or a struct as an object, as the sync reads them).
 */
function linkReads(run: PartitionRun, keys: string[]): LinkRead[] {
  const lines = keys.filter((k) => !isParquetKey(k));
  const parquet = keys.filter(isParquetKey);
  const out: LinkRead[] = [];
  if (lines.length) {
    const r = s3ReadSql(run.bucket, lines, run.o);
    out.push({ read: r.sql, params: r.params });
  }
  if (parquet.length) {
    const r = parquetRead(run.bucket, parquet, run.o);
    out.push({
      read: `(SELECT formatRowNoNewline('JSONEachRow', *) AS line FROM ${r.sql})`,
      params: r.params,
    });
  }
  return out;
}

/** Loads one partition (stage, insert, count, swap, clean up) and records it. */
async function loadPartition(
  run: PartitionRun,
  date: string,
  objs: ListedObject[],
): Promise<PartitionOutcome> {
  const { client, o } = run;
  if (o.signal?.aborted) throw new AbortError();
  const t0 = performance.now();
  const fingerprint = fingerprintOf(objs, o.format);
  const bytes = objs.reduce((s, x) => s + x.size, 0);
  const keys = objs.map((x) => run.prefix + x.key);
  // A preset's lake (dedupe, Parquet, vendor shapes) loads through its own plan (loadformat.ts).
  const byFormat = needsFormatPlan(o.format, keys)
    ? formatPartitionPlan(run.target, run.bucket, keys, date, o, run.suffix)
    : null;
  const plan =
    byFormat ?? partitionPlan(run.target, run.bucket, keys, date, { ...o, local: run.local }, run.suffix);
  try {
    if (byFormat) {
      const { summary, ...c } = await runFormatPlan(client, byFormat, o.signal);
      await run.identity?.partition(date, linkReads(run, keys));
      const oc: PartitionOutcome = {
        date,
        status: "loaded",
        objects: objs.length,
        bytes,
        ...c,
        seconds: (performance.now() - t0) / 1000,
      };
      await recordLoad(run, oc, fingerprint, summary);
      return oc;
    }
    const p = plan as PartitionPlan;
    for (const sql of p.create) await client.command(sql, {}, { signal: o.signal });
    await client.statement(p.insert.sql, p.insert.params, { signal: o.signal });
    const counts = await client.rows<{ good: number; n: number; lo: number; hi: number; types: string[] }>(
      p.counts,
      { date },
      { signal: o.signal },
    );
    const good = counts.find((c) => Number(c.good) === 1);
    const events = Number(good?.n ?? 0);
    const rejected = Number(counts.find((c) => Number(c.good) === 0)?.n ?? 0);
    // An empty source partition drops the date: REPLACE from nothing is refused by newer servers.
    await client.command(events > 0 ? p.replace : p.drop, {}, { signal: o.signal });
    await run.identity?.partition(date, linkReads(run, keys));
    const oc: PartitionOutcome = {
      date,
      status: "loaded",
      objects: objs.length,
      bytes,
      events,
      rejected,
      seconds: (performance.now() - t0) / 1000,
    };
    await recordLoad(
      run,
      oc,
      fingerprint,
      good ? { minUs: Number(good.lo), maxUs: Number(good.hi), eventTypes: good.types ?? [] } : undefined,
    );
    return oc;
  } catch (e) {
    if (o.signal?.aborted || e instanceof AbortError) throw new AbortError();
    // The server is gone or refuses us: no other partition can load either.
    if (e instanceof EngineError && e.kind !== "query" && e.kind !== "limit") throw e;
    const oc: PartitionOutcome = {
      date,
      status: "failed",
      objects: objs.length,
      bytes,
      events: 0,
      rejected: 0,
      seconds: (performance.now() - t0) / 1000,
      error: shortError(client, e),
    };
    await recordLoad(run, oc, "");
    return oc;
  } finally {
    for (const sql of plan.cleanup) await client.command(sql, {}, {}).catch(() => {});
  }
}

/** Drops a partition that left the source, and records it. */
async function removePartition(run: PartitionRun, date: string): Promise<PartitionOutcome> {
  if (run.o.signal?.aborted) throw new AbortError();
  const t0 = performance.now();
  const plan = partitionPlan(run.target, run.bucket, ["x"], date, { ...run.o, local: run.local }, run.suffix);
  await run.client.command(plan.drop, {}, { signal: run.o.signal });
  if (run.o.format?.dedupe)
    await run.client.command(idsDropSql(run.target.table, date), {}, { signal: run.o.signal });
  await run.identity?.partition(date);
  const oc: PartitionOutcome = {
    date,
    status: "removed",
    objects: 0,
    bytes: 0,
    events: 0,
    rejected: 0,
    seconds: (performance.now() - t0) / 1000,
  };
  await recordLoad(run, oc, fingerprintOf([]));
  return oc;
}

/**
 * Loads the selected partitions of `source` into the engine's table (see the module comment). The
 * table must exist with evx's columns (`evx clickhouse schema`); the bookkeeping tables are created
 * when missing. A partition that fails is recorded as failed and the others go on.
 */
export async function loadPartitions(
  ch: ClickHouseExecutor,
  source: Source,
  o: LoadOptions,
): Promise<LoadSummary> {
  const started = performance.now();
  if (source.kind !== "s3")
    throw new SourceError(
      `the server reads the lake from S3: SOURCE must be s3://bucket/prefix (a folder is loaded with \`evx sync\`)`,
      true,
      "NotS3",
    );
  const { client, target } = ch;
  const { bucket, prefix } = parseS3Url(source.url);
  const [current, info] = await Promise.all([ch.checkTable(o.signal), tableInfo(client, target, o.signal)]);
  if (o.cluster && !info.distributed)
    throw new EngineError(
      `--cluster ${o.cluster}: ${target.database}.${target.table} is not a Distributed table; create the cluster tables as \`evx clickhouse schema --cluster ${o.cluster}\` prints`,
      "schema",
    );
  if (!o.cluster && info.distributed)
    throw new EngineError(
      `${target.database}.${target.table} is a Distributed table over cluster ${info.distributed.cluster}: pass --cluster ${info.distributed.cluster}`,
      "schema",
    );
  checkClusterFormat(o.format, o.cluster);
  // The bookkeeping tables exist once the table is current (a no-change re-run sends no DDL); the
  // format's own tables (dedupe ids) are created when missing.
  for (const ddl of [
    ...(current ? [] : bookkeepingDdl(target.table, o.cluster)),
    ...formatDdl(target.table, o.format),
  ])
    await client.command(ddl, {}, { signal: o.signal });
  const identity = chIdentityStep(client, target.table, {
    ...o,
    preset: o.format?.preset ?? o.preset,
    map: o.format?.map ?? o.map,
  });
  await identity?.setup();

  const listStarted = performance.now();
  const listing = await listDated(source, o.layout, o.format, o.signal);
  const listingSeconds = (performance.now() - listStarted) / 1000;
  checkClusterFormat(
    o.format,
    o.cluster,
    listing.objects.filter((x) => inDateRange(x.date, o.from, o.to)).map((x) => x.key),
  );
  const { listing: listingTable, loads: loadsTable } = bookkeepingTables(target.table);
  const listedAt = new Date().toISOString().replace("T", " ").replace("Z", "");
  const perDate = new Map<string, { objects: number; bytes: number }>();
  for (const x of listing.objects) {
    const d = perDate.get(x.date) ?? { objects: 0, bytes: 0 };
    d.objects++;
    d.bytes += x.size;
    perDate.set(x.date, d);
  }
  const recordListing = async () => {
    if (!perDate.size) return;
    await client.insert(
      listingTable,
      [...perDate].map(([date, d]) => ({
        listed_at: listedAt,
        source: source.url,
        date,
        objects: d.objects,
        bytes: d.bytes,
      })),
      { signal: o.signal },
    );
  };

  const selected = groupByDate(listing.objects.filter((x) => inDateRange(x.date, o.from, o.to)));
  // Independent: sent together (a no-change re-run is these and the checks before).
  const [{ last, lastOk }, partitions] = await Promise.all([
    lastLoads(client, target, o.signal),
    tablePartitions(client, target, info, o.signal),
    recordListing(),
  ]);
  const parts = new Map(partitions.map((p) => [p.date, p]));
  const removedDates = [...parts.keys()]
    .filter((d) => inDateRange(d, o.from, o.to) && !perDate.has(d))
    .sort();
  const total = selected.size + removedDates.length;
  const outcomes: PartitionOutcome[] = [];
  const done = (oc: PartitionOutcome) => {
    outcomes.push(oc);
    o.onProgress?.(oc, outcomes.length, total);
  };
  const run: PartitionRun = {
    client,
    target,
    bucket,
    prefix,
    source: source.url,
    loadsTable,
    local: info.distributed?.table,
    o,
    identity,
    suffix: createHash("sha1")
      .update(`${process.pid}:${Date.now()}:${Math.random()}`)
      .digest("hex")
      .slice(0, 8),
  };
  // Unchanged partitions first (no request each), then the loads, `concurrency` at a time.
  const toLoad: [string, ListedObject[]][] = [];
  for (const [date, objs] of selected) {
    const ok = lastOk.get(date);
    const stillThere = !ok || ok.rows === 0 || (parts.get(date)?.rows ?? 0) > 0;
    const fingerprint = fingerprintOf(objs, o.format);
    if (!o.force && ok && last.get(date)?.status === "ok" && ok.fingerprint === fingerprint && stillThere)
      done({
        date,
        status: "unchanged",
        objects: objs.length,
        bytes: objs.reduce((s, x) => s + x.size, 0),
        events: ok.rows,
        rejected: ok.rejected,
        seconds: 0,
      });
    else toLoad.push([date, objs]);
  }
  await inPool(toLoad, loadConcurrency(o.concurrency), o.signal, async ([date, objs]) =>
    done(await loadPartition(run, date, objs)),
  );
  await inPool(removedDates, loadConcurrency(o.concurrency), o.signal, async (date) =>
    done(await removePartition(run, date)),
  );
  outcomes.sort((x, y) => (x.date < y.date ? -1 : x.date > y.date ? 1 : 0));

  const failed = outcomes.filter((x) => x.status === "failed");
  const loaded = outcomes.filter((x) => x.status === "loaded");
  if (outcomes.some((x) => x.status === "loaded" || x.status === "removed")) {
    await identity?.finish();
    // The saved behavioural cohorts are evaluated again over the new data (cohortmemo.ts); a failure
    // leaves analyses evaluating them per use, and the load succeeded.
    await keepChCohortsEvaluated(client, target, chCohortStore(client), {
      distributed: info.distributed,
      identityMap: !!identity,
      signal: o.signal,
    });
  }
  return {
    partitions: {
      selected: selected.size,
      loaded: loaded.length,
      unchanged: outcomes.filter((x) => x.status === "unchanged").length,
      failed: failed.length,
      removed: outcomes.filter((x) => x.status === "removed").length,
    },
    objects: {
      listed: listing.objects.length,
      loaded: loaded.reduce((s, x) => s + x.objects, 0),
      failed: failed.reduce((s, x) => s + x.objects, 0),
    },
    bytes: loaded.reduce((s, x) => s + x.bytes, 0),
    events: loaded.reduce((s, x) => s + x.events, 0),
    rejected: loaded.reduce((s, x) => s + x.rejected, 0),
    skipped: loaded.reduce((s, x) => s + (x.skipped ?? 0), 0),
    duplicates: loaded.reduce((s, x) => s + (x.duplicates ?? 0), 0),
    seconds: (performance.now() - started) / 1000,
    listingSeconds,
    ignored: listing.ignored,
    undated: listing.undated,
    layout: describeLayout(listing.layout),
    failures: failed.map((x) => ({ date: x.date, error: x.error ?? "" })),
    outcomes,
  };
}
