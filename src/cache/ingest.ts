import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { createBrotliDecompress, createGunzip } from "node:zlib";
import { listValue } from "@duckdb/node-api";
import { DUCK_MAY_REWRITE, duckTagLineSql, duckUntagSql, tagLineForDuck } from "../queries/numtext.js";
import { compressionOf } from "../source/layout.js";
import { type Cache, firstLine } from "./db.js";
import { checkObject, type Extraction, extraction } from "./extract.js";
import { BATCH_LINK_IDS, insertBatchLinks, refreshIdentity } from "./identity.js";
import { type LakeFormat, literal } from "./mapping.js";
import { isParquet, stageParquet } from "./parquet.js";
import { getHotKeys, HOT_SLOTS, hotColumn, keyPointer, setMeta } from "./schema.js";
import { deleteObjects } from "./status.js";

/** One downloaded (or local) object ready to be ingested. */
export interface IngestItem {
  key: string;
  date: string;
  version: string;
  size: number;
  /** Local file holding the object's bytes (still compressed). */
  path: string;
  /** Manifest id: reused when the object replaces an older version of itself. */
  objectId: number;
  /** True when a previous version's rows must be removed in the same transaction. */
  replaces: boolean;
  /** `path` holds the object's lines already decompressed (a brotli object's plain copy). */
  plain?: boolean;
}

export type IngestOutcome =
  | { key: string; ok: true; events: number; rejected: number; skipped: number; duplicates: number }
  | { key: string; ok: false; error: string };

/** Lines longer than this are rejected rather than crashing the reader. */
const MAX_OBJECT_BYTES = 64 * 1024 * 1024;
const RAW_KEEP = 1024;

/**
 * Parses `event_time` text: ISO 8601 (no offset = UTC; the session zone is UTC), or epoch
 * seconds / milliseconds / microseconds judged by magnitude.
 */
const TS = (col: string) => `coalesce(TRY_CAST(${col} AS TIMESTAMPTZ), CASE
  WHEN regexp_full_match(${col}, '-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?') THEN
    CASE WHEN abs(TRY_CAST(${col} AS DOUBLE)) < 1e11 THEN TRY(to_timestamp(TRY_CAST(${col} AS DOUBLE)))
         WHEN abs(TRY_CAST(${col} AS DOUBLE)) < 1e14 THEN TRY(to_timestamp(TRY_CAST(${col} AS DOUBLE) / 1e3))
         ELSE TRY(to_timestamp(TRY_CAST(${col} AS DOUBLE) / 1e6)) END
  END)`;

const REASON = `CASE
  WHEN skip THEN NULL
  WHEN event_type IS NULL OR event_type = '' THEN 'missing event_type'
  WHEN user_id IS NULL OR user_id = '' THEN 'missing user_id'
  WHEN time_text IS NULL THEN 'missing event_time'
  WHEN ts IS NULL THEN 'unparseable event_time'
  WHEN ts < TIMESTAMPTZ '1970-01-01 00:00:00+00' OR ts >= TIMESTAMPTZ '2100-01-01 00:00:00+00' THEN 'event_time out of range (1970-2100)'
  END`;

/**
 * `hive_partitioning = false`: a local file under `dt=2023-06-01/` would otherwise get a `dt` column
 * from its path that hides a `dt` field of its lines (S3 objects are staged under hashed names, so
 * the two sources read differently).
 */
function readJsonCall(ex: Extraction, extra: Record<string, string> = {}): string {
  const cols: Record<string, string> = { ...extra, ...Object.fromEntries(ex.roots) };
  const struct = Object.entries(cols)
    .map(([k, v]) => `${literal(k)}: ${literal(v)}`)
    .join(", ");
  return `read_json($1, format = 'newline_delimited', columns = {${struct}},
            maximum_object_size = ${MAX_OBJECT_BYTES}, compression = 'auto_detect', hive_partitioning = false)`;
}

/**
 * Rows are tagged with their object's manifest id (an integer, not the file name, so the later
 * group-bys and the events insert never touch a string per row). `rawCol` may refer to `reason`
 * (Parquet builds its raw text only for rejected rows).
 */
export function stageInsert(
  ex: Extraction,
  objCol: string,
  lineCols: string,
  source: string,
  rawCol = "raw",
): string {
  return `INSERT INTO stage (obj, line, raw, event_type, user_id, properties, ts, reason, skip, event_id, links)
     WITH r AS (SELECT ${objCol} AS obj, ${lineCols}, ${ex.eventType} AS event_type,
                       ${ex.timeText} AS time_text, ${ex.userId} AS user_id,
                       ${ex.properties} AS properties, ${ex.eventId} AS event_id, ${ex.skip} AS skip,
                       ${ex.links} AS links
                  FROM ${source}),
          t AS (SELECT *, ${TS("time_text")} AS ts FROM r),
          v AS (SELECT *, ${REASON} AS reason FROM t)
     SELECT obj, line, ${rawCol}, event_type, user_id, properties, ts, reason, skip, event_id, links FROM v`;
}

/** A batch loaded into its session's temp `stage` table, ready to commit. */
interface StagedBatch {
  items: IngestItem[];
  failed: Map<string, string>;
  nodeRejects: NodeReject[];
}

/**
 * Ingests a batch of objects: stage, then commit in one transaction. (Staging batch N+1 on a second
 * connection while batch N commits was measured: no gain, both phases already keep ~1.9 cores busy.)
 */
export async function ingestBatch(
  cache: Cache,
  items: IngestItem[],
  format: LakeFormat,
  workDir: string,
): Promise<IngestOutcome[]> {
  return commitStaged(cache, await stageBatch(cache, items, format, workDir), format);
}

/**
 * Loads a batch into this session's temp `stage` table (nothing durable changes). Clean files go
 * through DuckDB's read_json at full speed; a file with any bad line is re-read line by line so
 * each reject is kept with its line number and reason. Parquet files are read one by one, each
 * through a projection of its own columns.
 */
async function stageBatch(
  cache: Cache,
  items: IngestItem[],
  format: LakeFormat,
  workDir: string,
): Promise<StagedBatch> {
  const failed = new Map<string, string>();
  const ex = extraction(format);
  await cache.run(`CREATE OR REPLACE TEMP TABLE stage (obj INTEGER, line BIGINT, raw VARCHAR,
      event_type VARCHAR, user_id VARCHAR, properties JSON, ts TIMESTAMPTZ, reason VARCHAR,
      skip BOOLEAN, event_id VARCHAR, links STRUCT(s VARCHAR, d VARCHAR)[], dup BOOLEAN DEFAULT false)`);
  // The stage's row order carries no meaning (the events insert sorts; lines carry their numbers):
  // letting DuckDB append in any order makes staging ~17% faster.
  await cache.run("SET preserve_insertion_order = false");
  const plainCopies: string[] = [];
  try {
    const parquet = items.filter((i) => isParquet(i.key));
    const lines: IngestItem[] = [];
    for (const i of items) {
      if (isParquet(i.key)) continue;
      if (compressionOf(i.key) !== "brotli") {
        lines.push(i);
        continue;
      }
      // DuckDB reads gzip and zstd but not brotli (PostHog's `.jsonl.br`): a plain copy, by Node's zlib.
      const plain = `${workDir}/${i.objectId}.unbr.jsonl`;
      plainCopies.push(plain);
      try {
        await pipeline(
          createReadStream(i.path),
          createBrotliDecompress(),
          createWriteStream(plain, { mode: 0o600 }),
        );
        lines.push({ ...i, path: plain, plain: true });
      } catch (e) {
        failed.set(i.key, readError(e, i.key));
      }
    }
    if (parquet.length)
      for (const [k, err] of await stageParquet(cache, parquet, ex, workDir)) failed.set(k, err);
    const dirty = lines.length ? await stageFast(cache, lines, ex, format, workDir) : [];
    const nodeRejects: NodeReject[] = [];
    const exTagged = extraction(format, { tagged: true });
    for (const item of dirty) {
      const r = await stageSlow(cache, item, format, exTagged, workDir);
      if ("error" in r) failed.set(item.key, r.error);
      else nodeRejects.push(...r.rejects.map((x) => ({ obj: item.objectId, ...x })));
    }
    return { items, failed, nodeRejects };
  } catch (e) {
    await dropStage(cache);
    throw e;
  } finally {
    await cache.run("RESET preserve_insertion_order").catch(() => {});
    for (const p of plainCopies) await rm(p, { force: true });
  }
}

/**
 * Commits a staged batch (on the session that staged it) in one transaction: every object's rows,
 * rejects and manifest entry land together or not at all. Reports each object's outcome.
 */
async function commitStaged(cache: Cache, staged: StagedBatch, format: LakeFormat): Promise<IngestOutcome[]> {
  const { items, failed, nodeRejects } = staged;
  try {
    const ok = items.filter((i) => !failed.has(i.key));
    await cache.transaction(() => commitBatch(cache, ok, nodeRejects, !!format.dedupe));
    const counts = await cache.all<{
      obj: number;
      events: number;
      rejected: number;
      skipped: number;
      duplicates: number;
    }>("SELECT obj, events, rejected, skipped, duplicates FROM stage_counts");
    const countOf = new Map(counts.map((c) => [c.obj, c]));
    return items.map((i): IngestOutcome => {
      const err = failed.get(i.key);
      if (err !== undefined) return { key: i.key, ok: false, error: err };
      const c = countOf.get(i.objectId);
      return {
        key: i.key,
        ok: true,
        events: c?.events ?? 0,
        rejected: c?.rejected ?? 0,
        skipped: c?.skipped ?? 0,
        duplicates: c?.duplicates ?? 0,
      };
    });
  } finally {
    await dropStage(cache);
  }
}

async function dropStage(cache: Cache): Promise<void> {
  for (const t of ["stage", "stage_counts", "batch_users", "batch_ids", "batch_known", "batch_multi"])
    await cache.run(`DROP TABLE IF EXISTS ${t}`).catch(() => {});
}

/** DuckDB's view of an object's lines as plain text (it decompresses); `rest` is set past a raw \x01. */
const LINES = `read_csv($1, columns = {'line': 'VARCHAR', 'rest': 'VARCHAR'}, delim = '\x01', quote = '', escape = '',
                     header = false, auto_detect = false, strict_mode = false, null_padding = true,
                     compression = 'auto', filename = true)`;

/**
 * The files holding a line that may hold a number DuckDB's JSON reader would print back differently
 * (`DUCK_MAY_REWRITE`), read as plain lines and matched, never parsed (docs/semantics.md "Property
 * text"); `true` when the file has a line with a raw \x01 (invalid JSON, which the line reader splits).
 */
async function filesToTag(cache: Cache, items: IngestItem[]): Promise<Map<string, boolean>> {
  const rows = await cache.all<{ f: string; raw: boolean }>(
    `SELECT filename AS f, bool_or(rest IS NOT NULL) AS raw FROM ${LINES}
      WHERE rest IS NOT NULL OR regexp_matches(line, ${literal(DUCK_MAY_REWRITE)}) GROUP BY f`,
    [listValue(items.map((i) => i.path))],
  );
  return new Map(rows.map((r) => [r.f, r.raw]));
}

/**
 * Stages files that hold numbers to tag: one copy of all their lines, the matching ones tagged in SQL
 * (`duckTagLineSql`) and each line given its object's id as a first member, read by read_json like
 * clean files. Returns the items that need the line-by-line path (a file whose copy DuckDB cannot
 * read: a bad line), which tags in Node and numbers the lines.
 */
async function stageTagged(
  cache: Cache,
  items: IngestItem[],
  format: LakeFormat,
  workDir: string,
): Promise<IngestItem[]> {
  const path = `${workDir}/${items[0].objectId}.tagged.jsonl`;
  const ex = extraction(format, { tagged: true });
  const ids = listValue(items.map((i) => i.objectId));
  try {
    await cache.run(
      `COPY (SELECT '{"__evx_obj":' || o || CASE WHEN starts_with(t, '}') THEN '' ELSE ',' END || t
               FROM (SELECT $2[list_position($1, filename)] AS o,
                            ltrim(substr(ltrim(${duckTagLineSql("line")}), 2)) AS t
                       FROM ${LINES} WHERE trim(coalesce(line, '')) <> ''))
         TO ${literal(path)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')`,
      [listValue(items.map((i) => i.path)), ids],
    );
    await cache.run(
      stageInsert(
        ex,
        '"__evx_obj"',
        "NULL::BIGINT AS line, NULL::VARCHAR AS raw",
        readJsonCall(ex, { __evx_obj: "INTEGER" }),
      ),
      [listValue([path])],
    );
    return [];
  } catch {
    await cache.run("DELETE FROM stage WHERE line IS NULL AND list_contains($1, obj)", [ids]);
    if (items.length === 1) return items;
    const dirty: IngestItem[] = [];
    for (const i of items) dirty.push(...(await stageTagged(cache, [i], format, workDir)));
    return dirty;
  } finally {
    await rm(path, { force: true });
  }
}

/**
 * Loads every clean file into `stage`; returns the items that need the line-by-line path. With
 * `detect`, files holding numbers DuckDB would print back differently go through `stageTagged`.
 */
async function stageFast(
  cache: Cache,
  items: IngestItem[],
  ex: Extraction,
  format: LakeFormat,
  workDir: string,
  detect = true,
): Promise<IngestItem[]> {
  const dirty: IngestItem[] = [];
  let pending = [...items];
  if (detect && pending.length) {
    const toTag = await filesToTag(cache, pending).catch(async () => {
      // A file the line reader cannot read (corrupt compression, a line over 2 MB): look at each alone;
      // one that still fails takes the line-by-line path, which reads any line and names any error.
      const found = new Map<string, boolean>();
      for (const p of pending)
        for (const [f, raw] of await filesToTag(cache, [p]).catch(() => new Map([[p.path, true]])))
          found.set(f, raw);
      return found;
    });
    dirty.push(...pending.filter((p) => toTag.get(p.path) === true));
    const tagged = pending.filter((p) => toTag.get(p.path) === false);
    pending = pending.filter((p) => !toTag.has(p.path));
    if (tagged.length) dirty.push(...(await stageTagged(cache, tagged, format, workDir)));
  }
  while (pending.length) {
    try {
      await cache.run(
        stageInsert(
          ex,
          "$2[(file_index + 1)::BIGINT]",
          "NULL::BIGINT AS line, NULL::VARCHAR AS raw",
          readJsonCall(ex),
        ),
        [listValue(pending.map((p) => p.path)), listValue(pending.map((p) => p.objectId))],
      );
      break;
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const named = /file "([^"]+)"/.exec(msg)?.[1];
      const culprit = pending.find((p) => p.path === named);
      if (culprit) {
        dirty.push(culprit);
        pending = pending.filter((p) => p !== culprit);
      } else if (pending.length === 1) {
        dirty.push(pending[0]);
        pending = [];
      } else {
        // The error does not say which file: try them one at a time.
        for (const p of pending) dirty.push(...(await stageFast(cache, [p], ex, format, workDir, false)));
        pending = [];
      }
      await cache.run("DELETE FROM stage WHERE line IS NULL AND list_contains($1, obj)", [
        listValue([...dirty, ...pending].map((p) => p.objectId)),
      ]);
    }
  }
  // Files with rows that fail validation are re-read line by line, to report line numbers.
  const ids = listValue(items.map((i) => i.objectId));
  const bad = await cache.all<{ obj: number }>(
    "SELECT DISTINCT obj FROM stage WHERE reason IS NOT NULL AND list_contains($1, obj)",
    [ids],
  );
  if (bad.length) {
    const badIds = new Set(bad.map((b) => b.obj));
    await cache.run("DELETE FROM stage WHERE list_contains($1, obj)", [listValue([...badIds])]);
    for (const i of items) if (badIds.has(i.objectId) && !dirty.includes(i)) dirty.push(i);
  }
  return dirty;
}

/** Splits a byte stream into lines; invalid UTF-8 becomes U+FFFD. Stream errors reject the iteration. */
async function* linesOf(input: AsyncIterable<Buffer>): AsyncIterable<string> {
  const dec = new StringDecoder("utf8");
  let buf = "";
  for await (const chunk of input) {
    buf += dec.write(chunk);
    let start = 0;
    let nl = buf.indexOf("\n", start);
    while (nl >= 0) {
      yield buf.slice(start, nl);
      start = nl + 1;
      nl = buf.indexOf("\n", start);
    }
    buf = buf.slice(start);
  }
  buf += dec.end();
  if (buf) yield buf;
}

/** Opens an object's text as lines, decompressing gzip in Node and zstd through DuckDB. */
async function openLines(
  cache: Cache,
  item: IngestItem,
  workDir: string,
): Promise<{ lines: AsyncIterable<string>; cleanup: () => Promise<void> }> {
  const comp = item.plain ? "none" : compressionOf(item.key);
  if (comp === "zstd") {
    const plainPath = `${workDir}/${item.objectId}.plain`;
    await cache.run(
      `COPY (SELECT coalesce(line, '') FROM read_csv($1, columns = {'line': 'VARCHAR'}, delim = '\x01', quote = '', escape = '',
               header = false, auto_detect = false, strict_mode = false, compression = 'zstd', max_line_size = ${MAX_OBJECT_BYTES}))
         TO ${literal(plainPath)} (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01')`,
      [item.path],
    );
    const raw = createReadStream(plainPath);
    return {
      lines: linesOf(raw),
      cleanup: async () => {
        raw.destroy();
        await rm(plainPath, { force: true });
      },
    };
  }
  const raw = createReadStream(item.path);
  const input =
    comp === "gzip" ? raw.pipe(createGunzip()) : comp === "brotli" ? raw.pipe(createBrotliDecompress()) : raw;
  if (input !== raw) raw.on("error", (e: Error) => input.destroy(e));
  return {
    lines: linesOf(input),
    cleanup: async () => {
      raw.destroy();
      input.destroy();
    },
  };
}

type SlowResult = { rejects: { line: number; reason: string; raw: string }[] } | { error: string };

/**
 * The exact path: every line is checked in Node, good lines are re-emitted with their line number
 * (the original text is kept byte for byte, so big numbers survive; a line that may hold a number
 * DuckDB would print back differently has its numbers tagged, `tagLineForDuck`) and loaded by DuckDB
 * through `ex`, an extraction that untags the fields it reads as text.
 */
async function stageSlow(
  cache: Cache,
  item: IngestItem,
  format: LakeFormat,
  ex: Extraction,
  workDir: string,
): Promise<SlowResult> {
  const rejects: { line: number; reason: string; raw: string }[] = [];
  const cleanPath = `${workDir}/${item.objectId}.clean.jsonl`;
  const kept: { line: number; text: string }[] = [];
  let opened: Awaited<ReturnType<typeof openLines>> | undefined;
  try {
    opened = await openLines(cache, item, workDir);
    let n = 0;
    for await (const line of opened.lines) {
      n++;
      const text = line.replace(/\r$/, "").trim();
      if (!text) continue;
      const reason = checkLine(text, format);
      if (reason) rejects.push({ line: n, reason, raw: cut(text) });
      else kept.push({ line: n, text });
    }
  } catch (e) {
    return { error: readError(e, item.key) };
  } finally {
    await opened?.cleanup();
  }
  // DuckDB's parser is stricter than JSON.parse in rare cases; drop such a line with DuckDB's reason.
  for (let attempt = 0; attempt < 1000; attempt++) {
    await writeLines(
      cleanPath,
      kept.map(({ line, text }) => {
        const rest = tagLineForDuck(text).slice(1).trimStart();
        return `{"__evx_line":${line},"__evx_raw":${JSON.stringify(cut(text))}${rest.startsWith("}") ? "" : ","}${rest}`;
      }),
    );
    try {
      await cache.run(
        stageInsert(
          ex,
          "$2::INTEGER",
          '"__evx_line" AS line, "__evx_raw" AS raw',
          readJsonCall(ex, { __evx_line: "BIGINT", __evx_raw: "VARCHAR" }),
        ),
        [listValue([cleanPath]), item.objectId],
      );
      await rm(cleanPath, { force: true });
      return { rejects };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const at = Number(/in line (\d+)/.exec(msg)?.[1]);
      if (!at || at > kept.length) {
        await rm(cleanPath, { force: true });
        return { error: `${item.key}: ${firstLine(msg)}` };
      }
      const [bad] = kept.splice(at - 1, 1);
      rejects.push({ line: bad.line, reason: `invalid JSON (${shortDuckReason(msg)})`, raw: cut(bad.text) });
    }
  }
  return { error: `${item.key}: too many lines DuckDB cannot parse` };
}

/** A reject reason for a line, or null to keep it (a non-event message is kept: SQL marks it skipped). */
function checkLine(text: string, format: LakeFormat): string | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `invalid JSON (${e instanceof Error ? e.message.slice(0, 120) : "parse error"})`;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return "not a JSON object";
  const r = checkObject(v as Record<string, unknown>, format);
  return r === "skip" ? null : r;
}

function cut(s: string): string {
  if (s.length <= RAW_KEEP) return s;
  return Buffer.from(s)
    .subarray(0, RAW_KEEP)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
}

function shortDuckReason(msg: string): string {
  return firstLine(msg)
    .replace(/^.*?:\s*/, "")
    .replace(/ in file "[^"]*"/, "")
    .slice(0, 160);
}

function readError(e: unknown, key: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (
    /unexpected end of file|incorrect header check|invalid (stored block|distance|code)|Z_|BROTLI|Decompression failed/i.test(
      msg,
    )
  )
    return `${key}: corrupt or truncated compressed data (${firstLine(msg)})`;
  return `${key}: ${firstLine(msg)}`;
}

async function writeLines(path: string, lines: string[]): Promise<void> {
  const out = createWriteStream(path, { mode: 0o600 });
  await pipeline(
    (async function* () {
      for (const l of lines) yield `${l}\n`;
    })(),
    out,
  );
}

/**
 * The cache's hot property keys. The first batch into an empty cache picks them: the most common
 * top-level keys of its rows (up to HOT_SLOTS, each on at least 0.1% of rows). Keys that look like
 * array indexes are left in the JSON, where their lookup has its own rule.
 */
async function hotKeysOf(cache: Cache): Promise<string[]> {
  const known = await getHotKeys(cache);
  if (known) return known;
  const rows = await cache.all<{ k: string; c: number; n: number }>(
    `WITH sample AS (SELECT properties FROM stage WHERE reason IS NULL AND NOT skip AND json_type(properties) = 'OBJECT' LIMIT 200000)
     SELECT k, count(*) AS c, (SELECT count(*) FROM sample) AS n
       FROM (SELECT unnest(json_keys(properties)) AS k FROM sample)
      GROUP BY k ORDER BY c DESC, k`,
  );
  // A batch whose sampled rows carry no property object decides nothing: its rows give NULL for
  // every key either way, so a later batch may still pick.
  if (!rows.length) return [];
  const hot = rows
    .filter((r) => r.c * 1000 >= r.n && !/^(\d+|-)$/.test(r.k))
    .slice(0, HOT_SLOTS)
    .map((r) => r.k);
  await setMeta(cache, "hot_keys", JSON.stringify(hot));
  return hot;
}

interface NodeReject {
  obj: number;
  line: number;
  reason: string;
  raw: string;
}

/** Stage rows that become events: not rejected, not a skipped message, not a duplicate. */
const EVENT = "reason IS NULL AND NOT skip AND NOT dup";

async function commitBatch(
  cache: Cache,
  items: IngestItem[],
  nodeRejects: NodeReject[],
  dedupe: boolean,
): Promise<void> {
  if (!items.length) {
    await cache.run(
      "CREATE OR REPLACE TEMP TABLE stage_counts (obj INTEGER, events BIGINT, rejected BIGINT, skipped BIGINT, duplicates BIGINT)",
    );
    return;
  }
  // Replaced objects go first (their ids with them), so a changed object that carries the same ids
  // finds them gone and keeps its events.
  await deleteObjects(
    cache,
    items.filter((i) => i.replaces).map((i) => i.objectId),
  );
  if (nodeRejects.length) {
    await cache.run(
      `INSERT INTO stage (obj, line, raw, reason, skip) SELECT unnest($1), unnest($2), unnest($3), unnest($4), false`,
      [
        listValue(nodeRejects.map((r) => r.obj)),
        listValue(nodeRejects.map((r) => r.line)),
        listValue(nodeRejects.map((r) => r.raw)),
        listValue(nodeRejects.map((r) => r.reason)),
      ],
    );
  }
  if (dedupe) await markDuplicates(cache);
  // The batch's users are looked up once (the hash is built on the batch's ids, not on every user
  // ever seen), new ones get the next keys, and the events join only this small table.
  await cache.run(
    `CREATE OR REPLACE TEMP TABLE batch_users AS
     WITH ids AS MATERIALIZED (SELECT DISTINCT user_id FROM (SELECT user_id FROM stage WHERE reason IS NULL AND NOT skip
                                                             UNION ALL ${BATCH_LINK_IDS})),
          known AS MATERIALIZED (SELECT u.user_key, u.user_id FROM users u SEMI JOIN ids ON ids.user_id = u.user_id)
     SELECT user_key, user_id FROM known
     UNION ALL
     SELECT (SELECT coalesce(max(user_key), 0) FROM users) + row_number() OVER (ORDER BY i.user_id), i.user_id
       FROM ids i ANTI JOIN known k ON k.user_id = i.user_id`,
  );
  await cache.run(
    "INSERT INTO users SELECT user_key, user_id FROM batch_users WHERE user_key > (SELECT coalesce(max(user_key), 0) FROM users)",
  );
  // Identity links first, then the map (re-keying earlier events), then this batch's rows with it.
  await insertBatchLinks(cache);
  await refreshIdentity(cache);
  const hot = await hotKeysOf(cache);
  await insertRows(cache, "events", EVENT, hot);
  if (dedupe) {
    await cache.run(
      `INSERT INTO event_ids SELECT event_id, obj FROM stage WHERE ${EVENT} AND event_id IS NOT NULL`,
    );
    await insertRows(cache, "duplicate_events", "reason IS NULL AND NOT skip AND dup", hot);
  }
  await cache.run(
    `INSERT INTO object_types SELECT obj, event_type, count(*) FROM stage WHERE ${EVENT} GROUP BY obj, event_type`,
  );
  const meta = `(SELECT unnest($1) AS obj, unnest($2) AS key, unnest($3)::DATE AS date, unnest($4) AS version,
                        unnest($5)::BIGINT AS size)`;
  const metaParams = [
    listValue(items.map((i) => i.objectId)),
    listValue(items.map((i) => i.key)),
    listValue(items.map((i) => i.date)),
    listValue(items.map((i) => i.version)),
    listValue(items.map((i) => i.size)),
  ];
  await cache.run(
    `INSERT INTO rejects SELECT s.obj, m.key, s.line, s.reason, s.raw
       FROM stage s JOIN ${meta} m ON m.obj = s.obj WHERE s.reason IS NOT NULL ORDER BY m.key, s.line`,
    metaParams,
  );
  await cache.run(
    `CREATE OR REPLACE TEMP TABLE stage_counts AS
     SELECT obj, count(*) FILTER (WHERE ${EVENT}) AS events, count(*) FILTER (WHERE reason IS NOT NULL) AS rejected,
            count(*) FILTER (WHERE reason IS NULL AND skip) AS skipped,
            count(*) FILTER (WHERE reason IS NULL AND NOT skip AND dup) AS duplicates,
            min(ts) FILTER (WHERE ${EVENT}) AS min_time, max(ts) FILTER (WHERE ${EVENT}) AS max_time
       FROM stage GROUP BY obj`,
  );
  await cache.run(
    `INSERT INTO objects (object_id, key, date, version, size, events, rejected, min_time, max_time, synced_at, skipped, duplicates)
     SELECT m.obj, m.key, m.date, m.version, m.size, coalesce(c.events, 0), coalesce(c.rejected, 0),
            c.min_time, c.max_time, now(), coalesce(c.skipped, 0), coalesce(c.duplicates, 0)
       FROM ${meta} m LEFT JOIN stage_counts c ON c.obj = m.obj`,
    metaParams,
  );
  await cache.run("DELETE FROM failures WHERE list_contains($1, key)", [listValue(items.map((i) => i.key))]);
}

/**
 * Marks the batch's duplicates: an event whose id the cache already holds, or that an earlier row of
 * the batch carries (earlier = lower object id, then line). One aggregate over the batch's ids gives
 * both the ids to look up (a semi join built on them, so the big `event_ids` table is only scanned)
 * and the few ids the batch carries more than once; only those rows are ranked (a window over every
 * row of the batch cost 1.3 s per million). Measured in `npm run bench -- --dedupe`.
 */
async function markDuplicates(cache: Cache): Promise<void> {
  const valid = "reason IS NULL AND NOT skip AND event_id IS NOT NULL";
  await cache.run(
    `CREATE OR REPLACE TEMP TABLE batch_ids AS SELECT event_id, count(*) AS n FROM stage WHERE ${valid} GROUP BY event_id`,
  );
  await cache.run(
    `CREATE OR REPLACE TEMP TABLE batch_known AS
     SELECT e.id FROM event_ids e SEMI JOIN batch_ids b ON b.event_id = e.id`,
  );
  const multi = await cache.one<{ n: number }>("SELECT count(*) AS n FROM batch_ids WHERE n > 1");
  if (multi?.n) {
    await cache.run(
      `CREATE OR REPLACE TEMP TABLE batch_multi AS
       SELECT * FROM stage WHERE ${valid} AND event_id IN (SELECT event_id FROM batch_ids WHERE n > 1)`,
    );
    await cache.run(
      `DELETE FROM stage WHERE ${valid} AND event_id IN (SELECT event_id FROM batch_ids WHERE n > 1)`,
    );
    await cache.run(
      `INSERT INTO stage SELECT * EXCLUDE (dup, k), k > 1 AS dup
         FROM (SELECT *, row_number() OVER (PARTITION BY event_id ORDER BY obj, line) AS k FROM batch_multi)`,
    );
  }
  await cache.run(`UPDATE stage SET dup = true WHERE ${valid} AND event_id IN (SELECT id FROM batch_known)`);
}

/**
 * Inserts the stage rows matching `where` into `events` (or `duplicate_events`, which also keeps the
 * id). Clustering rows by event type lets a query about a few types skip the others' row groups; a
 * sort on the type alone costs ~10% of the insert, where (type, time) cost ~80%. Hot keys are
 * extracted after the sort (one JSON parse per row for all of them): carrying them through the sort
 * cost 2.5x as much.
 */
async function insertRows(
  cache: Cache,
  table: "events" | "duplicate_events",
  where: string,
  hot: string[],
): Promise<void> {
  const id = table === "duplicate_events";
  const hotCols = hot.map((_, i) => `, ${hotColumn(i)}`).join("");
  const sorted = `SELECT ${id ? "s.event_id, " : ""}s.event_type, s.ts, u.user_key, s.properties, s.obj${id ? "" : ", m.person_key"}
       FROM stage s JOIN batch_users u ON u.user_id = s.user_id${id ? "" : " LEFT JOIN identity m ON m.user_key = u.user_key"}
      WHERE ${where.replace(/(reason|skip|dup)\b/g, "s.$1")}
      ORDER BY s.event_type`;
  const cols = `${id ? "event_id, " : ""}event_type, event_time, user_key, properties, object_id${id ? "" : ", person_key"}`;
  await cache.run(
    hot.length
      ? `INSERT INTO ${table} (${cols}${hotCols})
         SELECT ${id ? "event_id, " : ""}event_type, ts, user_key, properties, obj${id ? "" : ", person_key"}${hot.map((_, i) => `, l[${i + 1}]`).join("")}
           FROM (SELECT *, list_transform(json_extract_string(properties, $1::VARCHAR[]), v -> ${duckUntagSql("v")}) AS l
                   FROM (${sorted}))`
      : `INSERT INTO ${table} (${cols}) ${sorted}`,
    hot.length ? [listValue(hot.map(keyPointer))] : undefined,
  );
}
