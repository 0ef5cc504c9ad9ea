/**
 * `evx clickhouse load` of the lakes `evx sync` reads, with the same rules: a preset or `--map` with
 * dotted paths and fallbacks (src/cache/mapping.ts), the preset's non-event messages (skipped) and
 * renamed kinds, the identity and time keys removed from the properties (`droppedKeys`), dedupe on
 * the event id (one path, or `a+b` for an id of several fields: src/cache/extract.ts `eventIdSql`),
 * Parquet objects (`.parquet`, and PostHog's `.parquet.zst` etc., whose suffix names the pages' codec)
 * and JSON lines compressed with gzip, zstd or brotli (`.br`: the server's s3() decompresses by the
 * extension). load.ts keeps its single-statement path for plain JSON lines; a partition with a lake
 * format or a Parquet object is loaded by the plan here.
 *
 * Per partition:
 * 1. every object's rows go to a `rows` table, one row per non-blank line (JSON lines) or Parquet row,
 *    with its object path and row number, its kind (`event`, `skip`, or the reject reason) and its id
 *    (without dedupe, step 1 writes the stage itself: events on the date, the other rows as their kind
 *    on a sentinel date that is never swapped in, as load.ts's own statement does);
 *    a Parquet row is first written as a JSON object of the columns the format reads (a column holding
 *    a JSON document in a string, PostHog's `properties`, is that document, as src/cache/parquet.ts
 *    reads it), so one parse serves both;
 * 2. the partition's stage gets the events: all of them, or with dedupe the first row of each id (by
 *    object path, then row) whose id no other partition of the table holds;
 * 3. with dedupe, the ids kept go to `<table>_evx_ids` (partitioned by date like the table) through a
 *    stage of their own, swapped with the partition, so a later load of another date sees them.
 * The first event of an id wins, where first is: loaded earlier, then the lower object path and row,
 * as `evx sync` keeps the first (objects in date and key order, then lines). A full load in date order
 * keeps exactly the events `evx sync` keeps. Not handled (`evx sync` handles them): a duplicate kept in
 * a later partition does not take over an id whose event left when its partition was re-loaded without
 * it; an id is looked up in every other partition, which holds all of the table's ids in memory.
 */

import { droppedKeys, type Extraction } from "../../cache/extract.js";
import {
  DEFAULT_MAP,
  formatKey,
  idParts,
  isPlain,
  type LakeFormat,
  pathAlternatives,
} from "../../cache/mapping.js";
import { PRESETS } from "../../cache/presets.js";
import type { Layout } from "../../source/layout.js";
import { isParquetKey } from "../../source/layout.js";
import { UsageError } from "../parse.js";
import type { ChClient, ClickHouseTarget } from "./client.js";
import type { ChLoadSummary } from "./coverage.js";
import {
  ISO_RE,
  type LoadOptions,
  MAX_US,
  NUM_RE,
  quoteIdent,
  s3ReadSql,
  sentinelOf,
  TRIM_RE,
} from "./load.js";
import { taggedValidSql, tagNumbersSql, untagJsonSql, untagTextSql } from "./numtext.js";
import { quoteString as lit } from "./quote.js";
import { taggedPropsMapSql } from "./schema.js";

export type { Extraction };

/** The table of the event ids a deduping load kept, per date. */
export const idsTable = (table: string): string => `${table}_evx_ids`;

/** The DDL the load needs for `format` (the ids table when it dedupes). */
export function formatDdl(table: string, format: LakeFormat | undefined): string[] {
  if (!format?.dedupe) return [];
  return [
    `CREATE TABLE IF NOT EXISTS ${quoteIdent(idsTable(table))} (date Date, event_id String)
ENGINE = MergeTree PARTITION BY date ORDER BY event_id`,
  ];
}

/** The layout a load uses: `--layout`, else the preset's; and the preset's extra detection candidates. */
export function formatLayout(
  format: LakeFormat | undefined,
  layout: Layout | undefined,
): { layout?: Layout; detect?: Layout[] } {
  const p = format?.preset ? PRESETS[format.preset] : undefined;
  return { layout: layout ?? p?.layout, detect: p?.detect };
}

/**
 * True when the format needs the plan here: a preset (messages, renames), dedupe, or a `--map` path or
 * fallback. Top-level renames alone (`--map event_type=event`) are read by load.ts's own statement.
 */
export function isFormatted(format: LakeFormat | undefined): boolean {
  if (!format || isPlain(format)) return false;
  return !!format.preset || !!format.dedupe || Object.values(format.map).some((v) => /[.|]/.test(v));
}

/** True when a partition is loaded by the plan here: a format that needs it, or a Parquet object. */
export function needsFormatPlan(format: LakeFormat | undefined, keys: string[]): boolean {
  return isFormatted(format) || keys.some(isParquetKey);
}

/** What decides whether a loaded partition is unchanged: the format, when the plan here reads it. */
export function formatFingerprint(format: LakeFormat | undefined): string {
  return isFormatted(format) && format ? formatKey(format) : "";
}

/**
 * The plan here stages on the node evx talks to (a `rows` table, the stage made `AS` the table): a
 * cluster load takes plain JSON lines with top-level fields only, and says so before it starts.
 */
export function checkClusterFormat(
  format: LakeFormat | undefined,
  cluster: string | undefined,
  keys: string[] = [],
): void {
  if (!cluster) return;
  if (isFormatted(format))
    throw new UsageError(
      `--cluster ${cluster}: presets, dedupe and --map paths or fallbacks load on a single node for now (evx sync reads them anywhere)`,
    );
  const pq = keys.find(isParquetKey);
  if (pq)
    throw new UsageError(
      `--cluster ${cluster}: Parquet objects (${pq}) load on a single node for now (evx sync reads them anywhere)`,
    );
}

/** SQL parameters, named in order (`{f0:String}`), for the path keys the SQL reads. */
class Params {
  readonly values: Record<string, unknown> = {};
  private n = 0;
  add(v: unknown, type = "String"): string {
    const name = `f${this.n++}`;
    this.values[name] = v;
    return `{${name}:${type}}`;
  }
}

/**
 * The parse of `lines` (rows `key`, `rn`, `text`) into (key, rn, kind, event_id, event columns),
 * by `format`'s rules (src/cache/extract.ts, src/cache/ingest.ts `REASON`, in ClickHouse's functions).
 */
function parseRowsSql(format: LakeFormat, lines: string, p: Params): string {
  const m = format.map;
  const preset = format.preset ? PRESETS[format.preset] : undefined;
  const kind = preset?.kind;
  // Each path is read once per line: its raw JSON as a column (one parse of the line per path, not one
  // per use), a string decoded from that raw text alone, and each field's text as a column of its own.
  const defs: string[] = [];
  const named = new Map<string, string>();
  const column = (id: string, sql: () => string) => {
    let name = named.get(id);
    if (!name) {
      name = `c${named.size}`;
      named.set(id, name);
      defs.push(`${sql()} AS ${name}`);
    }
    return name;
  };
  const raw = (alt: string[]) =>
    column(
      `raw:${JSON.stringify(alt)}`,
      () => `JSONExtractRaw(tagged, ${alt.map((k) => p.add(k)).join(", ")})`,
    );
  const present = (r: string) => `(${r} NOT IN ('', 'null', '""'))`;
  const leaf = (alt: string[]) => {
    const r = raw(alt);
    return `if(startsWith(${r}, '"'), ${untagTextSql(`JSONExtractString(concat('[', ${r}, ']'), 1)`)}, ${r})`;
  };
  /** The text of the first alternative that is present and not empty; NULL when none is. */
  const text = (path: string) =>
    column(
      `text:${path}`,
      () =>
        `multiIf(${pathAlternatives(path)
          .map((alt) => `${present(raw(alt))}, ${leaf(alt)}`)
          .join(", ")}, NULL)`,
    );
  const props = pathAlternatives(m.event_properties);
  const pAll = `multiIf(${props.map((alt) => `${raw(alt)} NOT IN ('', 'null'), ${raw(alt)}`).join(", ")}, '{}')`;
  let ptext = "p_all";
  const dropped = droppedKeys(format);
  if (dropped.length) {
    const drop = p.add(dropped, "Array(String)");
    // The object without the identity and time keys; its members stay as written (numbers tagged).
    ptext = `if(JSONType(p_all) = 'Object', concat('{', arrayStringConcat(arrayMap(kv -> concat(toJSONString(kv.1), ':', kv.2),
        arrayFilter(kv -> NOT has(${drop}, ${untagTextSql("kv.1")}), JSONExtractKeysAndValuesRaw(p_all))), ','), '}'), p_all)`;
  }
  let eventType = text(m.event_type);
  let skip = "false";
  if (kind) {
    const k = text(kind.field);
    const renames = Object.entries(kind.rename);
    if (renames.length)
      eventType = `multiIf(${renames.map(([from, to]) => `${k} = ${p.add(from)}, ${p.add(to)}`).join(", ")}, ${eventType})`;
    if (kind.skip.length) skip = `coalesce(${k} IN ${p.add(kind.skip, "Array(String)")}, false)`;
  }
  let eventId = "CAST(NULL AS Nullable(String))";
  if (format.dedupe) {
    const parts = idParts(format.dedupe);
    eventId =
      parts.length === 1
        ? text(parts[0])
        : `if(${parts.map((x) => `coalesce(${text(x)}, '') = ''`).join(" OR ")}, NULL, toJSONString([${parts.map((x) => `assumeNotNull(${text(x)})`).join(", ")}]))`;
  }
  // Every column is named before the SELECT lists them.
  const userText = text(m.user_id);
  const timeText = text(m.event_time);
  return `SELECT key, rn,
    multiIf(NOT valid, 'invalid JSON',
            NOT obj, 'not a JSON object',
            is_skip, 'skip',
            coalesce(et, '') = '', 'missing event_type',
            coalesce(uid, '') = '', 'missing user_id',
            coalesce(t_text, '') = '', 'missing event_time',
            us IS NULL OR NOT isFinite(us), 'unparseable event_time',
            us < 0 OR us >= ${MAX_US}, 'event_time out of range (1970-2100)',
            'event') AS kind,
    if(obj, event_id, NULL) AS event_id, et, us, uid, ptext
  FROM (
    SELECT key, rn,
      ${tagNumbersSql("text")} AS tagged,
      ${taggedValidSql("tagged")} AS valid,
      valid AND JSONType(tagged) = 'Object' AS obj,
      ${defs.join(",\n      ")},
      if(obj, ${skip}, false) AS is_skip,
      if(obj, ${eventType}, NULL) AS et,
      if(obj, ${userText}, NULL) AS uid,
      if(obj, ${timeText}, NULL) AS t_text,
      if(obj, ${eventId}, NULL) AS event_id,
      if(obj, ${pAll}, '{}') AS p_all,
      if(obj, ${ptext}, '{}') AS ptext,
      toFloat64OrNull(t_text) AS num,
      multiIf(abs(num) < 1e11, num, abs(num) < 1e14, num / 1e3, num / 1e6) AS secs,
      if(match(t_text, ${lit(NUM_RE)}), round(secs * 1e6),
         if(match(t_text, ${lit(ISO_RE)}),
            toFloat64(toUnixTimestamp64Micro(parseDateTime64BestEffortOrNull(t_text, 6, 'UTC'))), NULL)) AS us
    FROM ${lines}
    WHERE text != ''
  )`;
}

/**
 * The JSON-lines source: `(key, rn, text)` rows of `read` (an s3() of LineAsString), trimmed as
 * `evx sync` trims a line, invalid UTF-8 made valid.
 */
function jsonLinesSql(read: string): string {
  return `(SELECT _path AS key, _row_number AS rn, replaceRegexpAll(toValidUTF8(line), ${lit(TRIM_RE)}, '') AS text FROM ${read})`;
}

/**
 * The Parquet source: each row as a JSON object of the top-level columns `roots` the format reads (a
 * string column holding a JSON document, as PostHog's `properties`, is that document where a JSON
 * value is read; a missing column is null). Times are written as ISO 8601 in UTC
 * (`date_time_output_format = 'iso'`, set on the statement).
 */
function parquetRowsSql(read: string, roots: Map<string, "VARCHAR" | "JSON">, p: Params): string {
  const members = [...roots].map(([root, want]) => {
    const k = p.add(root);
    const r = `JSONExtractRaw(row, ${k})`;
    const value =
      want === "JSON"
        ? `multiIf(${r} = '', 'null', startsWith(${r}, '"') AND isValidJSON(JSONExtractString(row, ${k})), JSONExtractString(row, ${k}), ${r})`
        : `if(${r} = '', 'null', ${r})`;
    return `concat(toJSONString(${k}), ':', ${value})`;
  });
  return `(SELECT key, rn, concat('{', arrayStringConcat([${members.join(", ")}], ','), '}') AS text
     FROM (SELECT _path AS key, _row_number AS rn, formatRowNoNewline('JSONEachRow', *) AS row FROM ${read}))`;
}

/** The top-level fields a format reads, and whether each is read as JSON (nested, or the properties). */
function rootsOf(format: LakeFormat): Map<string, "VARCHAR" | "JSON"> {
  const roots = new Map<string, "VARCHAR" | "JSON">();
  const need = (root: string, t: "VARCHAR" | "JSON") => {
    if (roots.get(root) !== "JSON") roots.set(root, t);
  };
  const kind = format.preset ? PRESETS[format.preset].kind : undefined;
  const m = format.map;
  for (const path of [
    m.event_type,
    m.event_time,
    m.user_id,
    ...(format.dedupe ? idParts(format.dedupe) : []),
    ...(kind ? [kind.field] : []),
  ])
    for (const [root, ...rest] of pathAlternatives(path)) need(root, rest.length ? "JSON" : "VARCHAR");
  for (const [root] of pathAlternatives(m.event_properties)) need(root, "JSON");
  return roots;
}

/** One statement with its parameters. */
export interface Statement {
  sql: string;
  params: Record<string, unknown>;
}

/** The statements of one partition's load by a lake format, in order (what `--sql` prints). */
export interface FormatPlan {
  date: string;
  stage: string;
  /** The tables of the load: the stage (like the table), `rows`, and with dedupe the ids stage. */
  create: string[];
  /** Fill `rows`: one INSERT for the JSON-lines objects, one per Parquet object. */
  rows: Statement[];
  /** Fill the stage with the events (and the ids stage with the ids kept). */
  fill: Statement[];
  /** (kind, n) of `rows`, and the stage's count. */
  counts: string;
  staged: string;
  replace: string;
  drop: string;
  /** With dedupe: swap (or drop, when no id was kept) the ids partition. */
  idsReplace?: string;
  idsDrop?: string;
  cleanup: string[];
}

/** Where a partition's objects are read (load.ts `partitionPlan`'s options). */
type ReadOptions = Pick<LoadOptions, "cluster" | "s3" | "endpoint" | "region">;

/** `s3ReadSql` with the format and compression of Parquet objects (their suffix is the pages' codec). */
export function parquetRead(
  bucket: string,
  keys: string[],
  o: ReadOptions,
): { sql: string; params: Record<string, unknown> } {
  const r = s3ReadSql(bucket, keys, o);
  const sql = r.sql
    .replace("'LineAsString', 'line String'", "'Parquet', 'auto', 'none'")
    .replace(
      "format = 'LineAsString', structure = 'line String'",
      "format = 'Parquet', compression_method = 'none'",
    );
  return { sql, params: r.params };
}

export function formatPartitionPlan(
  target: ClickHouseTarget,
  bucket: string,
  keys: string[],
  date: string,
  o: ReadOptions & { format?: LakeFormat },
  suffix: string,
): FormatPlan {
  const format: LakeFormat = o.format ?? { map: DEFAULT_MAP };
  const stage = `${target.table}_evx_stage_${date.replace(/-/g, "")}_${suffix}`;
  const rows = `${stage}_rows`;
  const idsStage = `${stage}_ids`;
  const q = quoteIdent;
  const dateP = { date };
  const rowCols = "(key, rn, kind, event_id, o_event_type, o_event_time, o_user_key, o_properties, o_props)";
  const cols = "(event_type, event_time, user_key, properties, props, date)";
  const statements: Statement[] = [];
  const parquet = keys.filter(isParquetKey);
  const lines = keys.filter((k) => !isParquetKey(k));
  const insertRows = (
    source: (p: Params) => { from: string; params: Record<string, unknown> },
    settings = "output_format_json_escape_forward_slashes = 0",
  ) => {
    const p = new Params();
    const src = source(p);
    const parsed = parseRowsSql(format, src.from, p);
    if (!format.dedupe) {
      // Without dedupe the events go straight to the stage, in one pass (as load.ts's own statement):
      // skipped and rejected rows go, as (kind, object path), to a sentinel date that is never swapped in.
      statements.push({
        sql: `INSERT INTO ${q(stage)} ${cols}
SELECT if(kind = 'event', coalesce(et, ''), kind),
       fromUnixTimestamp64Micro(if(kind = 'event', toInt64(coalesce(us, 0)), toInt64(0)), 'UTC'),
       if(kind = 'event', coalesce(uid, ''), key),
       if(kind = 'event', ${untagJsonSql("ptext")}, ''),
       if(kind = 'event', ${taggedPropsMapSql("ptext")}, map()),
       if(kind = 'event', toDate({date:String}), toDate({sentinel:String}))
FROM (${parsed})
SETTINGS ${settings}`,
        params: { ...src.params, ...p.values, date, sentinel: sentinelOf(date) },
      });
      return;
    }
    statements.push({
      sql: `INSERT INTO ${q(rows)} ${rowCols}
SELECT key, rn, kind, event_id, if(kind = 'event', coalesce(et, ''), ''),
       fromUnixTimestamp64Micro(if(kind = 'event', toInt64(coalesce(us, 0)), toInt64(0)), 'UTC'),
       if(kind = 'event', coalesce(uid, ''), ''),
       if(kind = 'event', ${untagJsonSql("ptext")}, ''),
       if(kind = 'event', ${taggedPropsMapSql("ptext")}, map())
FROM (${parsed})
SETTINGS ${settings}`,
      params: { ...src.params, ...p.values },
    });
  };
  if (lines.length) {
    const read = s3ReadSql(bucket, lines, o);
    insertRows(() => ({ from: jsonLinesSql(read.sql), params: read.params }));
  }
  // One statement per Parquet object: each file has its own schema (a column may be a MAP in one file
  // and a JSON string in the next), which one read of several files would have to unify.
  for (const key of parquet) {
    const read = parquetRead(bucket, [key], o);
    insertRows(
      (p) => ({ from: parquetRowsSql(read.sql, rootsOf(format), p), params: read.params }),
      "output_format_json_escape_forward_slashes = 0, date_time_output_format = 'iso'",
    );
  }
  const ids = q(idsTable(target.table));
  const otherIds = `(SELECT event_id FROM ${ids} WHERE date != toDate({date:String}))`;
  const fill: Statement[] = [];
  const pick = "o_event_type, o_event_time, o_user_key, o_properties, o_props, toDate({date:String})";
  if (format.dedupe) {
    fill.push({
      sql: `INSERT INTO ${q(stage)} ${cols}
SELECT ${pick}
FROM (SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY key, rn) AS k FROM ${q(rows)} WHERE kind = 'event')
WHERE event_id IS NULL OR (k = 1 AND event_id NOT IN ${otherIds})`,
      params: dateP,
    });
    fill.push({
      sql: `INSERT INTO ${q(idsStage)} (date, event_id)
SELECT toDate({date:String}), assumeNotNull(event_id) FROM ${q(rows)}
WHERE kind = 'event' AND event_id IS NOT NULL AND event_id NOT IN ${otherIds}
GROUP BY event_id`,
      params: dateP,
    });
  }
  const pid = lit(date.replace(/-/g, ""));
  return {
    date,
    stage,
    create: [
      `CREATE TABLE ${q(stage)} AS ${q(target.table)}`,
      ...(format.dedupe ? [rowsDdl(q(rows)), `CREATE TABLE ${q(idsStage)} AS ${ids}`] : []),
    ],
    rows: statements,
    fill,
    counts: format.dedupe
      ? `SELECT kind, count() AS n FROM ${q(rows)} GROUP BY kind`
      : `SELECT if(date = toDate({date:String}), 'event', event_type) AS kind, count() AS n FROM ${q(stage)} GROUP BY kind`,
    // The staged events' extent and types feed the per-date summary the analyses read (coverage.ts).
    staged: `SELECT count() AS n, toUnixTimestamp64Micro(min(event_time)) AS lo,
       toUnixTimestamp64Micro(max(event_time)) AS hi, arraySort(groupUniqArray(toString(event_type))) AS types
  FROM ${q(stage)} WHERE date = toDate({date:String})`,
    replace: `ALTER TABLE ${q(target.table)} REPLACE PARTITION ID ${pid} FROM ${q(stage)}`,
    drop: `ALTER TABLE ${q(target.table)} DROP PARTITION ID ${pid}`,
    ...(format.dedupe
      ? {
          idsReplace: `ALTER TABLE ${ids} REPLACE PARTITION ID ${pid} FROM ${q(idsStage)}`,
          idsDrop: `ALTER TABLE ${ids} DROP PARTITION ID ${pid}`,
        }
      : {}),
    cleanup: [stage, ...(format.dedupe ? [rows, idsStage] : [])].map((t) => `DROP TABLE IF EXISTS ${q(t)}`),
  };
}

/** The `rows` table of a deduping load: every line or Parquet row with its object, row number, kind and id. */
function rowsDdl(name: string): string {
  return `CREATE TABLE ${name} (key String, rn UInt64, kind String, event_id Nullable(String),
    o_event_type String, o_event_time DateTime64(6, 'UTC'), o_user_key String, o_properties String,
    o_props Map(LowCardinality(String), String)) ENGINE = MergeTree ORDER BY tuple()`;
}

/** A partition's counts from a format load. */
export interface FormatCounts {
  events: number;
  rejected: number;
  skipped: number;
  duplicates: number;
  /** The staged events' extent and types (none when nothing was staged). */
  summary?: ChLoadSummary;
}

/** Runs a partition's plan (the caller drops its tables with `plan.cleanup` in every case). */
export async function runFormatPlan(
  client: ChClient,
  plan: FormatPlan,
  signal?: AbortSignal,
): Promise<FormatCounts> {
  for (const sql of plan.create) await client.command(sql, {}, { signal });
  for (const s of plan.rows) await client.statement(s.sql, s.params, { signal });
  for (const s of plan.fill) await client.statement(s.sql, s.params, { signal });
  const kinds = await client.rows<{ kind: string; n: number }>(plan.counts, { date: plan.date }, { signal });
  const st = (
    await client.rows<{ n: number; lo: number; hi: number; types: string[] }>(
      plan.staged,
      { date: plan.date },
      { signal },
    )
  )[0];
  const staged = Number(st?.n ?? 0);
  const summary: ChLoadSummary | undefined =
    staged > 0 ? { minUs: Number(st.lo), maxUs: Number(st.hi), eventTypes: st.types ?? [] } : undefined;
  const of = (k: string) => Number(kinds.find((x) => x.kind === k)?.n ?? 0);
  const rejected = kinds
    .filter((x) => x.kind !== "event" && x.kind !== "skip")
    .reduce((s, x) => s + Number(x.n), 0);
  // An empty source partition drops the date: REPLACE from nothing is refused by newer servers.
  await client.command(staged > 0 ? plan.replace : plan.drop, {}, { signal });
  if (plan.idsReplace && plan.idsDrop) {
    const ids = staged > 0 ? plan.idsReplace : plan.idsDrop;
    await client.command(ids, {}, { signal });
  }
  return { events: staged, rejected, skipped: of("skip"), duplicates: of("event") - staged, summary };
}

/** The ids of a date gone from the source leave with its partition. */
export function idsDropSql(table: string, date: string): string {
  return `ALTER TABLE ${quoteIdent(idsTable(table))} DROP PARTITION ID ${lit(date.replace(/-/g, ""))}`;
}

/** `--sql` lines of a format plan. */
export function formatPlanLines(
  p: FormatPlan,
  shown: (params: Record<string, unknown>) => Record<string, unknown>,
  literal: (v: unknown) => string,
): string[] {
  const out = [...p.create.map((s) => `${s};`)];
  for (const s of [...p.rows, ...p.fill]) {
    out.push(`${s.sql};`, "-- parameters:");
    for (const [k, v] of Object.entries(shown(s.params))) out.push(`--   {${k}} = ${literal(v)}`);
  }
  out.push(`${p.counts};`, `${p.staged};`, `${p.replace};  -- or, when no event was staged: ${p.drop}`);
  if (p.idsReplace) out.push(`${p.idsReplace};  -- or, when no event was staged: ${p.idsDrop}`);
  out.push(...p.cleanup.map((s) => `${s};`));
  return out;
}
