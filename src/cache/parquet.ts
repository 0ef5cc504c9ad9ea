/**
 * Parquet objects: each file is read through a projection of its own columns onto the root columns
 * the lake format needs (the same names and types read_json yields for JSON lines), so one field
 * map and one staging SQL serve both. Typed columns are turned into the text the shared rules parse:
 * a TIMESTAMP becomes its text (UTC), an epoch number its digits, a MAP or STRUCT its JSON object,
 * and a JSON string (PostHog's `properties`) stays the same JSON object.
 */

import { createReadStream, createWriteStream } from "node:fs";
import { open, rm } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createBrotliDecompress, createGunzip } from "node:zlib";
import { listValue } from "@duckdb/node-api";
import { isParquetKey } from "../source/layout.js";
import type { Cache } from "./db.js";
import { firstLine } from "./db.js";
import type { Extraction } from "./extract.js";
import type { IngestItem } from "./ingest.js";
import { stageInsert } from "./ingest.js";
import { ident } from "./mapping.js";

export function isParquet(key: string): boolean {
  return isParquetKey(key);
}

const NESTED = /^(STRUCT|MAP|UNION)\(|\[\d*\]$/;

function asText(col: string, type: string): string {
  if (type === "VARCHAR") return col;
  if (type === "JSON" || NESTED.test(type)) return `to_json(${col})::VARCHAR`;
  return `CAST(${col} AS VARCHAR)`;
}

function asJson(col: string, type: string): string {
  if (type === "JSON") return col;
  // A string column holding a JSON document is that document; any other string is a JSON string.
  if (type === "VARCHAR") return `CASE WHEN json_valid(${col}) THEN ${col}::JSON ELSE to_json(${col}) END`;
  return `to_json(${col})`;
}

/**
 * Stages a batch's Parquet objects; returns an error message per object that failed (each fails
 * alone). Files with the same schema are read by one read_parquet call (one call per file cost ~10 ms
 * each on a PostHog export of small hourly files); when such a call fails, its files are retried one
 * by one so only the broken one fails. A file that lacks every column one of evx's fields may come
 * from fails with the missing columns named.
 */
export async function stageParquet(
  cache: Cache,
  items: IngestItem[],
  ex: Extraction,
  workDir: string,
): Promise<Map<string, string>> {
  const failed = new Map<string, string>();
  const groups = new Map<string, { schema: Map<string, string>; items: IngestItem[] }>();
  const unwrapped: string[] = [];
  try {
    for (const given of items) {
      const item = await unwrap(given, workDir, unwrapped).catch((e: Error) => {
        failed.set(given.key, `${given.key}: ${e.message}`);
        return null;
      });
      if (item) await describeInto(cache, item, ex, failed, groups);
    }
    for (const g of groups.values()) {
      const err = await stageGroup(cache, g.items, g.schema, ex);
      if (!err) continue;
      if (g.items.length === 1) {
        failed.set(g.items[0].key, `${g.items[0].key}: ${err}`);
        continue;
      }
      for (const item of g.items) {
        const e1 = await stageGroup(cache, [item], g.schema, ex);
        if (e1) failed.set(item.key, `${item.key}: ${e1}`);
      }
    }
    return failed;
  } finally {
    for (const p of unwrapped) await rm(p, { force: true });
  }
}

const MAGIC = { parquet: "50415231", gzip: "1f8b", zstd: "28b52ffd" };

/**
 * A Parquet object as DuckDB can read it. PostHog's `.parquet.zst` (and `.gz`, `.br`, `.sz`, `.lz4`)
 * is a Parquet file whose pages use that codec (it starts with `PAR1`): read as it is. A Parquet file
 * compressed whole by some other writer is unwrapped when Node can (gzip, brotli); a whole-file zstd
 * (Node 20's zlib has no zstd) fails alone with what to do.
 */
async function unwrap(item: IngestItem, workDir: string, temps: string[]): Promise<IngestItem> {
  const fh = await open(item.path, "r");
  let head: string;
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await fh.read(b, 0, 4, 0);
    head = b.subarray(0, bytesRead).toString("hex");
  } finally {
    await fh.close();
  }
  if (head === MAGIC.parquet) return item;
  if (head.startsWith(MAGIC.zstd))
    throw new Error(
      "a Parquet file compressed whole with zstd (PostHog compresses the pages inside the file, which evx reads); decompress it with `zstd -d` first",
    );
  const gzip = head.startsWith(MAGIC.gzip);
  if (!gzip && !/\.br$/i.test(item.key)) return item; // DESCRIBE names what is wrong with it
  const plain = `${workDir}/${item.objectId}.unwrapped.parquet`;
  temps.push(plain);
  try {
    await pipeline(
      createReadStream(item.path),
      gzip ? createGunzip() : createBrotliDecompress(),
      createWriteStream(plain, { mode: 0o600 }),
    );
  } catch (e) {
    throw new Error(
      `corrupt or truncated compressed data (${firstLine(e instanceof Error ? e.message : String(e))})`,
    );
  }
  return { ...item, path: plain };
}

async function describeInto(
  cache: Cache,
  item: IngestItem,
  ex: Extraction,
  failed: Map<string, string>,
  groups: Map<string, { schema: Map<string, string>; items: IngestItem[] }>,
): Promise<void> {
  {
    let cols: { column_name: string; column_type: string }[];
    try {
      cols = await cache.all("DESCRIBE SELECT * FROM read_parquet($1, hive_partitioning = false)", [
        item.path,
      ]);
    } catch (e) {
      failed.set(
        item.key,
        `${item.key}: not a readable Parquet file (${firstLine(e instanceof Error ? e.message : String(e))})`,
      );
      return;
    }
    const schema = new Map(cols.map((c) => [c.column_name, c.column_type]));
    const missing = ex.required.filter((r) => !r.roots.some((root) => schema.has(root)));
    if (missing.length) {
      failed.set(
        item.key,
        `${item.key}: Parquet schema lacks ${missing
          .map((m) => `${m.field} (column ${m.roots.map((r) => `'${r}'`).join(" or ")})`)
          .join(", ")}; its columns are ${[...schema.keys()].join(", ")}`,
      );
      return;
    }
    const sig = JSON.stringify(cols.map((c) => [c.column_name, c.column_type]));
    const g = groups.get(sig) ?? { schema, items: [] };
    g.items.push(item);
    groups.set(sig, g);
  }
}

/** One read_parquet over files of one schema; on error nothing of theirs stays staged. */
async function stageGroup(
  cache: Cache,
  items: IngestItem[],
  schema: Map<string, string>,
  ex: Extraction,
): Promise<string | null> {
  const proj = [...ex.roots].map(([root, want]) => {
    const type = schema.get(root);
    const col = ident(root);
    if (type === undefined) return `NULL::${want} AS ${col}`;
    return `${want === "JSON" ? asJson(col, type) : asText(col, type)} AS ${col}`;
  });
  const rowJson = `left(to_json({${[...ex.roots.keys()].map((r) => `${ident(r)}: ${ident(r)}`).join(", ")}})::VARCHAR, 1024)`;
  const source = `(SELECT ${proj.join(", ")}, file_index, file_row_number FROM read_parquet($1, file_row_number = true, hive_partitioning = false))`;
  try {
    await cache.run(
      stageInsert(
        ex,
        "$2[(file_index + 1)::BIGINT]",
        `file_row_number + 1 AS line, ${rowJson} AS raw`,
        source,
      ),
      [listValue(items.map((i) => i.path)), listValue(items.map((i) => i.objectId))],
    );
    return null;
  } catch (e) {
    await cache.run("DELETE FROM stage WHERE list_contains($1, obj)", [
      listValue(items.map((i) => i.objectId)),
    ]);
    return firstLine(e instanceof Error ? e.message : String(e));
  }
}
