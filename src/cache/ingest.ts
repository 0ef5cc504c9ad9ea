import { createReadStream, createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { StringDecoder } from "node:string_decoder";
import { createGunzip } from "node:zlib";
import { listValue } from "@duckdb/node-api";
import { compressionOf } from "../source/layout.js";
import { type Cache, firstLine } from "./db.js";
import { type FieldMap, ident, literal } from "./mapping.js";
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
}

export type IngestOutcome =
  | { key: string; ok: true; events: number; rejected: number }
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
  WHEN event_type IS NULL OR event_type = '' THEN 'missing event_type'
  WHEN user_id IS NULL OR user_id = '' THEN 'missing user_id'
  WHEN time_text IS NULL THEN 'missing event_time'
  WHEN ts IS NULL THEN 'unparseable event_time'
  WHEN ts < TIMESTAMPTZ '1970-01-01 00:00:00+00' OR ts >= TIMESTAMPTZ '2100-01-01 00:00:00+00' THEN 'event_time out of range (1970-2100)'
  END`;

function readJsonCall(map: FieldMap, extra: Record<string, string> = {}): string {
  const cols: Record<string, string> = {
    ...extra,
    [map.event_type]: "VARCHAR",
    [map.event_time]: "VARCHAR",
    [map.user_id]: "VARCHAR",
    [map.event_properties]: "JSON",
  };
  const struct = Object.entries(cols)
    .map(([k, v]) => `${literal(k)}: ${literal(v)}`)
    .join(", ");
  return `read_json($1, format = 'newline_delimited', columns = {${struct}}, filename = true,
            maximum_object_size = ${MAX_OBJECT_BYTES}, compression = 'auto_detect')`;
}

function stageSelect(map: FieldMap, lineCols: string): string {
  return `SELECT filename AS path, ${lineCols},
      ${ident(map.event_type)} AS event_type, ${ident(map.event_time)} AS time_text,
      ${ident(map.user_id)} AS user_id, ${ident(map.event_properties)} AS properties`;
}

/**
 * Ingests a batch of objects in one transaction: every object's rows, rejects and manifest entry
 * land together or not at all. Clean files go through DuckDB's read_json at full speed; a file with
 * any bad line is re-read line by line so each reject is kept with its line number and reason.
 */
export async function ingestBatch(
  cache: Cache,
  items: IngestItem[],
  map: FieldMap,
  workDir: string,
): Promise<IngestOutcome[]> {
  const failed = new Map<string, string>();
  await cache.run(`CREATE OR REPLACE TEMP TABLE stage (path VARCHAR, line BIGINT, raw VARCHAR,
      event_type VARCHAR, time_text VARCHAR, user_id VARCHAR, properties JSON, ts TIMESTAMPTZ, reason VARCHAR)`);
  try {
    const dirty = await stageFast(cache, items, map);
    const nodeRejects: { path: string; line: number; reason: string; raw: string }[] = [];
    for (const item of dirty) {
      const r = await stageSlow(cache, item, map, workDir);
      if ("error" in r) failed.set(item.key, r.error);
      else nodeRejects.push(...r.rejects.map((x) => ({ path: item.path, ...x })));
    }
    const ok = items.filter((i) => !failed.has(i.key));
    await cache.transaction(() => commitBatch(cache, ok, nodeRejects));
    const counts = await cache.all<{ path: string; events: number; rejected: number }>(
      `SELECT path, count(*) FILTER (WHERE reason IS NULL) AS events, count(*) FILTER (WHERE reason IS NOT NULL) AS rejected
         FROM stage GROUP BY path`,
    );
    const countOf = new Map(counts.map((c) => [c.path, c]));
    return items.map((i): IngestOutcome => {
      const err = failed.get(i.key);
      if (err !== undefined) return { key: i.key, ok: false, error: err };
      const c = countOf.get(i.path);
      return { key: i.key, ok: true, events: c?.events ?? 0, rejected: c?.rejected ?? 0 };
    });
  } finally {
    await cache.run("DROP TABLE IF EXISTS stage").catch(() => {});
  }
}

/** Loads every clean file into `stage`; returns the items that need the line-by-line path. */
async function stageFast(cache: Cache, items: IngestItem[], map: FieldMap): Promise<IngestItem[]> {
  const dirty: IngestItem[] = [];
  let pending = [...items];
  while (pending.length) {
    try {
      await cache.run(
        `INSERT INTO stage
         WITH r AS (${stageSelect(map, "NULL::BIGINT AS line, NULL::VARCHAR AS raw")} FROM ${readJsonCall(map)}),
              t AS (SELECT *, ${TS("time_text")} AS ts FROM r)
         SELECT *, ${REASON} AS reason FROM t`,
        [listValue(pending.map((p) => p.path))],
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
        for (const p of pending) dirty.push(...(await stageFast(cache, [p], map)));
        pending = [];
      }
      await cache.run("DELETE FROM stage WHERE line IS NULL AND list_contains($1, path)", [
        listValue([...dirty, ...pending].map((p) => p.path)),
      ]);
    }
  }
  // Files with rows that fail validation are re-read line by line, to report line numbers.
  const bad = await cache.all<{ path: string }>("SELECT DISTINCT path FROM stage WHERE reason IS NOT NULL");
  if (bad.length) {
    const badPaths = new Set(bad.map((b) => b.path));
    await cache.run("DELETE FROM stage WHERE list_contains($1, path)", [listValue([...badPaths])]);
    for (const i of items) if (badPaths.has(i.path) && !dirty.includes(i)) dirty.push(i);
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
  const comp = compressionOf(item.key);
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
  const input = comp === "gzip" ? raw.pipe(createGunzip()) : raw;
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
 * (the original text is kept byte for byte, so big numbers survive) and loaded by DuckDB.
 */
async function stageSlow(
  cache: Cache,
  item: IngestItem,
  map: FieldMap,
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
      const reason = checkLine(text, map);
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
        const rest = text.slice(1).trimStart();
        return `{"__evx_line":${line},"__evx_raw":${JSON.stringify(cut(text))}${rest.startsWith("}") ? "" : ","}${rest}`;
      }),
    );
    try {
      await cache.run(
        `INSERT INTO stage
         WITH r AS (${stageSelect(map, '"__evx_line" AS line, "__evx_raw" AS raw').replace("filename AS path", "$2 AS path")}
                    FROM ${readJsonCall(map, { __evx_line: "BIGINT", __evx_raw: "VARCHAR" })}),
              t AS (SELECT *, ${TS("time_text")} AS ts FROM r)
         SELECT *, ${REASON} AS reason FROM t`,
        [listValue([cleanPath]), item.path],
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

function checkLine(text: string, map: FieldMap): string | null {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return `invalid JSON (${e instanceof Error ? e.message.slice(0, 120) : "parse error"})`;
  }
  if (v === null || typeof v !== "object" || Array.isArray(v)) return "not a JSON object";
  const o = v as Record<string, unknown>;
  const empty = (x: unknown) => x === undefined || x === null || x === "";
  if (empty(o[map.event_type])) return "missing event_type";
  if (empty(o[map.user_id])) return "missing user_id";
  if (empty(o[map.event_time])) return "missing event_time";
  return null;
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
  if (/unexpected end of file|incorrect header check|invalid (stored block|distance|code)|Z_/i.test(msg))
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

async function commitBatch(
  cache: Cache,
  items: IngestItem[],
  nodeRejects: { path: string; line: number; reason: string; raw: string }[],
): Promise<void> {
  if (!items.length) return;
  await deleteObjects(
    cache,
    items.filter((i) => i.replaces).map((i) => i.objectId),
  );
  await cache.run(
    "CREATE OR REPLACE TEMP TABLE stage_objects (path VARCHAR, object_id INTEGER, key VARCHAR)",
  );
  await cache.run(`INSERT INTO stage_objects SELECT unnest($1), unnest($2), unnest($3)`, [
    listValue(items.map((i) => i.path)),
    listValue(items.map((i) => i.objectId)),
    listValue(items.map((i) => i.key)),
  ]);
  if (nodeRejects.length) {
    await cache.run(
      `INSERT INTO stage (path, line, raw, reason) SELECT unnest($1), unnest($2), unnest($3), unnest($4)`,
      [
        listValue(nodeRejects.map((r) => r.path)),
        listValue(nodeRejects.map((r) => r.line)),
        listValue(nodeRejects.map((r) => r.raw)),
        listValue(nodeRejects.map((r) => r.reason)),
      ],
    );
  }
  await cache.run(
    `INSERT INTO users
     SELECT (SELECT coalesce(max(user_key), 0) FROM users) + row_number() OVER (ORDER BY s.user_id), s.user_id
       FROM (SELECT DISTINCT user_id FROM stage WHERE reason IS NULL) s
      WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.user_id = s.user_id)`,
  );
  await cache.run(
    `INSERT INTO events
     SELECT s.event_type, s.ts, u.user_key, s.properties, o.object_id
       FROM stage s JOIN users u ON u.user_id = s.user_id JOIN stage_objects o ON o.path = s.path
      WHERE s.reason IS NULL
      ORDER BY s.event_type, s.ts`,
  );
  await cache.run(
    `INSERT INTO rejects SELECT o.object_id, o.key, s.line, s.reason, s.raw
       FROM stage s JOIN stage_objects o ON o.path = s.path WHERE s.reason IS NOT NULL ORDER BY o.key, s.line`,
  );
  await cache.run(
    `INSERT INTO objects
     SELECT o.object_id, o.key, m.date, m.version, m.size,
            count(s.path) FILTER (WHERE s.reason IS NULL), count(s.path) FILTER (WHERE s.reason IS NOT NULL),
            min(s.ts) FILTER (WHERE s.reason IS NULL), max(s.ts) FILTER (WHERE s.reason IS NULL), now()
       FROM stage_objects o
       JOIN (SELECT unnest($1) AS key, unnest($2)::DATE AS date, unnest($3) AS version, unnest($4)::BIGINT AS size) m ON m.key = o.key
       LEFT JOIN stage s ON s.path = o.path
      GROUP BY ALL`,
    [
      listValue(items.map((i) => i.key)),
      listValue(items.map((i) => i.date)),
      listValue(items.map((i) => i.version)),
      listValue(items.map((i) => i.size)),
    ],
  );
  await cache.run("DELETE FROM failures WHERE list_contains($1, key)", [listValue(items.map((i) => i.key))]);
}
