/**
 * Brute-force reader of vendor-shaped lakes: each preset's rules written out again in plain JS, from
 * the vendors' documented fields (not from src/cache), over every data file in key order. Parquet
 * rows are decoded by DuckDB into JSON (decoding only; the mapping is done here).
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { type BruteEvent, parseEventTime } from "./brute.js";

export type Vendor = "segment" | "amplitude" | "mixpanel" | "posthog" | "plain";

export interface VendorTruth {
  events: BruteEvent[];
  rejected: number;
  skipped: number;
  duplicates: number;
  users: number;
}

type Row = Record<string, unknown>;
const present = (v: unknown) => v !== undefined && v !== null && v !== "";
const first = (...vs: unknown[]) => vs.find(present);
const text = (v: unknown): string | null =>
  typeof v === "string" ? (v === "" ? null : v) : typeof v === "number" ? String(v) : null;
const obj = (v: unknown): Row => {
  if (typeof v === "string")
    try {
      v = JSON.parse(v);
    } catch {
      return {};
    }
  return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Row) : {};
};

/** One row → its parts under a vendor's rules. */
function read(
  v: Vendor,
  o: Row,
): { skip?: boolean; type?: unknown; user?: unknown; time?: unknown; props: Row; id?: unknown } {
  switch (v) {
    case "segment": {
      if (["identify", "group", "alias"].includes(o.type as string)) return { skip: true, props: {} };
      const type = o.type === "page" ? "pages" : o.type === "screen" ? "screens" : o.event;
      return {
        type,
        user: first(o.userId, o.anonymousId),
        time: o.timestamp,
        props: obj(o.properties),
        id: o.messageId,
      };
    }
    case "amplitude":
      if (o.event_type === "$identify" || o.event_type === "$groupidentify") return { skip: true, props: {} };
      return {
        type: o.event_type,
        user: first(o.user_id, o.device_id),
        time: o.event_time,
        props: obj(o.event_properties),
        // Amplitude dedupes on the insert id per device; `uuid` is per ingested row.
        id:
          present(o.$insert_id) && present(o.device_id) ? JSON.stringify([o.device_id, o.$insert_id]) : null,
      };
    case "mixpanel": {
      // The raw export (`event`, `properties.time`…) or a JSON pipeline (`event_name`, `time`… on top).
      const p = obj(o.properties);
      const { time, distinct_id, ...rest } = p;
      // Mixpanel's duplicates share event, distinct_id, time and $insert_id.
      const key = [first(o.event, o.event_name), first(distinct_id, o.distinct_id), first(time, o.time)];
      const insert = first(p.$insert_id, o.insert_id);
      return {
        type: first(o.event, o.event_name),
        user: first(distinct_id, o.distinct_id),
        time: first(time, o.time),
        props: rest,
        id: [...key, insert].every(present) ? JSON.stringify([...key, insert].map(text)) : null,
      };
    }
    case "posthog":
      return {
        type: o.event,
        user: first(o.person_id, o.distinct_id),
        time: o.timestamp,
        props: obj(o.properties),
        id: o.uuid,
      };
    case "plain":
      return {
        type: o.event_type,
        user: o.user_id,
        time: o.event_time,
        props: obj(o.event_properties),
        id: o.event_id,
      };
  }
}

async function parquetRows(path: string): Promise<Row[]> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    await c.run("SET TimeZone = 'UTC'");
    const r = await c.runAndReadAll(`SELECT to_json(p)::VARCHAR AS j FROM read_parquet($1) p`, [path]);
    return r.getRowObjectsJson().map((x) => JSON.parse(x.j as string) as Row);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/**
 * Every data file under `dir` (filtered by `include` on the key) in key order; a line that is not a
 * JSON object, or lacks type/user/time, or has an unreadable time, is rejected; with `dedupe`, the
 * first row of an id is the event and later ones are duplicates.
 */
export async function loadVendorLake(
  dir: string,
  vendor: Vendor,
  opts: {
    dedupe?: boolean;
    include?: (key: string) => boolean;
    /** Another event id rule than the vendor's (to show what it would get wrong). */
    idOf?: (row: Row) => unknown;
  } = {},
): Promise<VendorTruth> {
  const files = (readdirSync(dir, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[])
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .filter(
      (k) =>
        /\.(gz|jsonl|json|parquet|parquet\.zst|jsonl\.br)$/.test(k) &&
        !/(^|\/)[._]/.test(k) &&
        !/_manifest\.json$/.test(k) &&
        (opts.include?.(k) ?? true),
    )
    .sort();
  const out: VendorTruth = { events: [], rejected: 0, skipped: 0, duplicates: 0, users: 0 };
  const seen = new Set<string>();
  for (const k of files) {
    const path = join(dir, k);
    let rows: (Row | null)[];
    if (/\.parquet(\.zst)?$/.test(k)) rows = await parquetRows(path);
    else {
      let buf = readFileSync(path);
      if (k.endsWith(".gz")) buf = gunzipSync(buf);
      if (k.endsWith(".br")) buf = brotliDecompressSync(buf);
      rows = buf
        .toString("utf8")
        .split("\n")
        .filter((l) => l.trim())
        .map((l) => {
          try {
            const v = JSON.parse(l);
            return typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Row) : null;
          } catch {
            return null;
          }
        });
    }
    for (const o of rows) {
      if (!o) {
        out.rejected++;
        continue;
      }
      const x = read(vendor, o);
      if (x.skip) {
        out.skipped++;
        continue;
      }
      const type = text(x.type);
      const user = text(x.user);
      const t = parseEventTime(x.time);
      if (type === null || user === null || t === null) {
        out.rejected++;
        continue;
      }
      const id = text(opts.idOf ? opts.idOf(o) : x.id);
      if (opts.dedupe && id !== null) {
        if (seen.has(id)) {
          out.duplicates++;
          continue;
        }
        seen.add(id);
      }
      out.events.push({ type, t, user, props: x.props });
    }
  }
  out.users = new Set(out.events.map((e) => e.user)).size;
  return out;
}
