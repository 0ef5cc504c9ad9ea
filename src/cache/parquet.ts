/**
 * Parquet objects: each file is read through a projection of its own columns onto the root columns
 * the lake format needs (the same names and types read_json yields for JSON lines), so one field
 * map and one staging SQL serve both. Typed columns are turned into the text the shared rules parse:
 * a TIMESTAMP becomes its text (UTC), an epoch number its digits, a MAP or STRUCT its JSON object,
 * and a JSON string (PostHog's `properties`) stays the same JSON object.
 */

import type { Cache } from "./db.js";
import { firstLine } from "./db.js";
import type { Extraction } from "./extract.js";
import type { IngestItem } from "./ingest.js";
import { stageInsert } from "./ingest.js";
import { ident } from "./mapping.js";

export function isParquet(key: string): boolean {
  return /\.parquet$/i.test(key);
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
 * Stages one Parquet object; returns an error message (the object fails alone) or null. A file that
 * lacks every column one of evx's fields may come from fails with the missing columns named.
 */
export async function stageParquet(cache: Cache, item: IngestItem, ex: Extraction): Promise<string | null> {
  let schema: Map<string, string>;
  try {
    const cols = await cache.all<{ column_name: string; column_type: string }>(
      "DESCRIBE SELECT * FROM read_parquet($1)",
      [item.path],
    );
    schema = new Map(cols.map((c) => [c.column_name, c.column_type]));
  } catch (e) {
    return `${item.key}: not a readable Parquet file (${firstLine(e instanceof Error ? e.message : String(e))})`;
  }
  const missing = ex.required.filter((r) => !r.roots.some((root) => schema.has(root)));
  if (missing.length)
    return `${item.key}: Parquet schema lacks ${missing
      .map((m) => `${m.field} (column ${m.roots.map((r) => `'${r}'`).join(" or ")})`)
      .join(", ")}; its columns are ${[...schema.keys()].join(", ")}`;
  const proj = [...ex.roots].map(([root, want]) => {
    const type = schema.get(root);
    const col = ident(root);
    if (type === undefined) return `NULL::${want} AS ${col}`;
    return `${want === "JSON" ? asJson(col, type) : asText(col, type)} AS ${col}`;
  });
  const rowJson = `left(to_json({${[...ex.roots.keys()].map((r) => `${ident(r)}: ${ident(r)}`).join(", ")}})::VARCHAR, 1024)`;
  const source = `(SELECT ${proj.join(", ")}, file_row_number FROM read_parquet($1, file_row_number = true))`;
  try {
    await cache.run(
      stageInsert(ex, "$2::INTEGER", `file_row_number + 1 AS line, ${rowJson} AS raw`, source),
      [item.path, item.objectId],
    );
    return null;
  } catch (e) {
    await cache.run("DELETE FROM stage WHERE obj = $1", [item.objectId]);
    return `${item.key}: ${firstLine(e instanceof Error ? e.message : String(e))}`;
  }
}
