/**
 * Vendor-shaped lakes (tests, `evx demo --preset`): the synthetic lake of synthetic.ts, rewritten as
 * a collector's export with that vendor's documented field names, layout and quirks (see the doc
 * links beside each preset in src/cache/presets.ts):
 * - Segment: `segment-logs/<source>/<received day, epoch ms>/<epoch ms>.<uuid>.gz`; `userId` null on
 *   anonymous calls (identity in `anonymousId`); `page` calls; `identify`/`group`/`alias` messages.
 * - Amplitude: `<project>/<project>_<YYYY-MM-DD>_<hour>#<n>.json.gz` (or `.parquet`, a silver table
 *   with a MAP `event_properties`); `event_time` without offset;
 *   `user_id` null (identity in `device_id`); `$insert_id` sometimes null (never a duplicate then);
 *   a re-delivered row is re-ingested (a new `uuid`); a few rows reuse another device's `$insert_id`
 *   (not duplicates: Amplitude dedupes per device); `$identify` rows.
 * - Mixpanel: `<project>/mp_master_event/YYYY/MM/DD/…json.gz` date folders; raw-export lines with
 *   `properties.time` in epoch seconds or (import format) milliseconds, and a third of the files as a
 *   JSON pipeline writes them (`event_name`, `time`, `distinct_id`, `insert_id` on top); a few lines
 *   without `distinct_id` (rejected); a few reuse an `$insert_id` with another `distinct_id` (not
 *   duplicates: Mixpanel dedupes on event, distinct_id, time and `$insert_id` together).
 * - PostHog: `<interval start>-<interval end>.jsonl` files compressed as its S3 batch export does:
 *   `.jsonl.gz` (a gzip member per write), `.jsonl.br` (brotli) or plain; Parquet (`properties` a
 *   JSON string) as `.parquet` or `.parquet.zst` (zstd pages); some files split (`…-0.jsonl.gz`) with
 *   a `…_manifest.json` beside them; `person_id` null on some rows (identity in `distinct_id`).
 * Every vendor re-delivers ~1% of its lines (same id, same payload), some into the next file.
 * Deterministic: a seeded PRNG, no clock.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import type { PresetName } from "../cache/presets.js";
import { generateLake } from "./synthetic.js";

export interface VendorLakeOptions {
  dir: string;
  preset: PresetName;
  events: number;
  days?: number;
  seed?: number;
  /**
   * Share of files written as Parquet (0..1, default 0): PostHog's batch export format, or for
   * Amplitude a "silver" table of its export (typed `event_time`, `event_properties` as a MAP).
   */
  parquetShare?: number;
}

export interface VendorLakeResult {
  files: number;
  /** Lines written (events, non-event messages, duplicates and bad lines). */
  lines: number;
}

interface Canonical {
  event_type: string;
  event_time: string;
  user_id: string;
  event_properties?: Record<string, unknown>;
}

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uuid-shaped id from a PRNG (not RFC-random, just the shape). */
function uuidOf(r: () => number): string {
  const h = () =>
    Math.floor(r() * 0x100000000)
      .toString(16)
      .padStart(8, "0");
  const a = h() + h() + h() + h();
  return `${a.slice(0, 8)}-${a.slice(8, 12)}-4${a.slice(13, 16)}-a${a.slice(17, 20)}-${a.slice(20, 32)}`;
}

/** `2023-06-01T16:12:14.721323Z` → `2023-06-01 16:12:14.721323` (Amplitude: UTC, no offset). */
const amplitudeTime = (iso: string) => iso.replace("T", " ").replace("Z", "").padEnd(26, "0");
/** → `2023-06-01T16:12:14.721323+00:00` (PostHog). */
const posthogTime = (iso: string) => iso.replace("Z", "+00:00");

/** One canonical file of the synthetic lake → the vendor's lines (objects, serialised later). */
type Convert = (e: Canonical, r: () => number, out: unknown[], file: number) => void;

function converter(preset: PresetName): Convert {
  switch (preset) {
    case "segment":
      return (e, r, out) => {
        const anon = r() < 0.25;
        const who = {
          userId: anon ? null : e.user_id,
          anonymousId: anon ? e.user_id : `anon-${uuidOf(r).slice(0, 8)}`,
        };
        const base = {
          ...who,
          messageId: `ajs-next-${uuidOf(r)}`,
          timestamp: e.event_time,
          receivedAt: e.event_time,
          context: { library: { name: "analytics.js", version: "2.11.1" } },
        };
        out.push({ type: "track", event: e.event_type, properties: e.event_properties ?? {}, ...base });
        const x = r();
        if (x < 0.04)
          out.push({
            ...base,
            messageId: `ajs-next-${uuidOf(r)}`,
            type: "page",
            name: "Pricing",
            properties: { path: "/pricing" },
          });
        else if (x < 0.055)
          out.push({
            ...base,
            messageId: `ajs-next-${uuidOf(r)}`,
            type: "identify",
            traits: { plan: "pro" },
          });
        else if (x < 0.06)
          out.push({ ...base, messageId: `ajs-next-${uuidOf(r)}`, type: "group", groupId: "acme" });
        else if (x < 0.062)
          out.push({
            ...base,
            messageId: `ajs-next-${uuidOf(r)}`,
            type: "alias",
            previousId: who.anonymousId,
          });
        else if (x < 0.064)
          out.push({
            ...base,
            messageId: `ajs-next-${uuidOf(r)}`,
            type: "screen",
            name: "Home",
            properties: {},
          });
      };
    case "amplitude":
      return (e, r, out) => {
        const anon = r() < 0.25;
        const uuid = uuidOf(r);
        const row = {
          event_type: e.event_type,
          event_time: amplitudeTime(e.event_time),
          server_upload_time: amplitudeTime(e.event_time),
          user_id: anon ? null : e.user_id,
          device_id: anon ? e.user_id : `dev-${uuid.slice(0, 8)}`,
          $insert_id: r() < 0.1 ? null : `ins-${uuid.slice(0, 13)}`,
          uuid,
          event_properties: e.event_properties ?? {},
          user_properties: {},
          platform: "Web",
        };
        out.push(row);
        // Another device's event that happens to carry the same insert id: not a duplicate.
        if (row.$insert_id && r() < 0.01)
          out.push({ ...row, user_id: null, device_id: `dev-${uuidOf(r).slice(0, 8)}`, uuid: uuidOf(r) });
        if (r() < 0.02)
          out.push({
            ...row,
            event_type: "$identify",
            event_properties: {},
            user_properties: { plan: "pro" },
            $insert_id: null,
            uuid: uuidOf(r),
          });
      };
    case "mixpanel":
      return (e, r, out, file) => {
        const ms = Date.parse(e.event_time);
        if (file % 3 === 2) {
          // A JSON pipeline's row: ids and time at the top level, the rest under `properties`.
          const uuid = uuidOf(r);
          out.push({
            event_name: e.event_type,
            time: e.event_time,
            distinct_id: e.user_id,
            device_id: `dev-${uuid.slice(0, 8)}`,
            insert_id: uuid.replace(/-/g, "").slice(0, 24),
            properties: { mp_lib: "web", ...(e.event_properties ?? {}) },
          });
          return;
        }
        // Raw export: seconds; newer data pipelines: milliseconds.
        const time = r() < 0.3 ? ms : Math.floor(ms / 1000);
        const props: Record<string, unknown> = {
          time,
          distinct_id: e.user_id,
          $insert_id: uuidOf(r).replace(/-/g, "").slice(0, 24),
          mp_lib: "web",
          ...(e.event_properties ?? {}),
        };
        if (r() < 0.003) delete props.distinct_id;
        out.push({ event: e.event_type, properties: props });
        // The same `$insert_id` on another user's event: not a duplicate (the four fields differ).
        if (props.distinct_id && r() < 0.01)
          out.push({ event: e.event_type, properties: { ...props, distinct_id: `${e.user_id}-b` } });
      };
    case "posthog":
      return (e, r, out) => {
        const anon = r() < 0.15;
        out.push({
          uuid: uuidOf(r),
          event: e.event_type,
          distinct_id: anon ? e.user_id : `ph-${uuidOf(r).slice(0, 8)}`,
          person_id: anon ? null : e.user_id,
          timestamp: posthogTime(e.event_time),
          team_id: 1,
          properties: { $lib: "web", ...(e.event_properties ?? {}) },
          elements_chain: "",
        });
      };
  }
}

/** Where a vendor writes the objects of one canonical 15-minute file (`date`, `hhmm`, its index). */
function keyFor(
  preset: PresetName,
  date: string,
  hhmm: string,
  n: number,
  r: () => number,
  parquet: boolean,
): string {
  const start = Date.parse(`${date}T${hhmm.slice(0, 2)}:${hhmm.slice(2)}:00Z`);
  const day = Date.parse(`${date}T00:00:00Z`);
  switch (preset) {
    case "segment":
      return `segment-logs/src1a2b3c/${day}/${start + 60_000 * (n % 7)}.${uuidOf(r)}.gz`;
    case "amplitude":
      return `187520/187520_${date}_${Number(hhmm.slice(0, 2))}#${Number(hhmm.slice(2)) / 15}.${parquet ? "parquet" : "json.gz"}`;
    case "mixpanel":
      return `2837462/mp_master_event/${date.slice(0, 4)}/${date.slice(5, 7)}/${date.slice(8)}/part-${hhmm}.json.gz`;
    case "posthog": {
      // `get_s3_key`: `<start>-<end>[-<file number>].<parquet|jsonl>[.<compression>]`.
      const iso = (t: number) => new Date(t).toISOString().replace(".000Z", "+00:00");
      const split = n % 5 === 4 ? "-0" : "";
      const ext = parquet ? (n % 2 ? "parquet" : "parquet.zst") : ["jsonl.gz", "jsonl.br", "jsonl"][n % 3];
      return `${iso(start)}-${iso(start + 900_000)}${split}.${ext}`;
    }
  }
}

/** A line delivered again: the same, except that Amplitude ingests it again under a new `uuid`. */
function redelivered(preset: PresetName, x: unknown, r: () => number): unknown {
  return preset === "amplitude" ? { ...(x as object), uuid: uuidOf(r) } : x;
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

/** Writes a vendor-shaped lake into `dir` (replacing it). */
export async function generateVendorLake(o: VendorLakeOptions): Promise<VendorLakeResult> {
  const seed = o.seed ?? 1;
  const tmp = `${o.dir}.canonical`;
  rmSync(tmp, { recursive: true, force: true });
  rmSync(o.dir, { recursive: true, force: true });
  await generateLake({ dir: tmp, events: o.events, days: o.days ?? 7, seed, gzipShare: 0 });
  const r = mulberry32(seed * 7919 + o.preset.length);
  const convert = converter(o.preset);
  const parts: { date: string; hhmm: string }[] = [];
  for (const d of readdirSync(tmp).sort())
    for (const f of readdirSync(join(tmp, d)).sort()) {
      const m = /^date=(\d{4}-\d{2}-\d{2})$/.exec(d);
      const h = /^part-(\d{4})\.jsonl(\.gz)?$/.exec(f);
      if (m && h) parts.push({ date: m[1], hhmm: h[1] });
    }
  let lines = 0;
  let carry: unknown[] = [];
  const parquetFiles: { key: string; rows: unknown[] }[] = [];
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i];
    const file = join(tmp, `date=${p.date}`, `part-${p.hhmm}.jsonl`);
    const text = readFileSync(file, "utf8");
    const out: unknown[] = [...carry];
    carry = [];
    for (const line of text.split("\n")) {
      if (!line) continue;
      const before = out.length;
      convert(JSON.parse(line) as Canonical, r, out, i);
      // At-least-once delivery: ~1% of the lines again, half in this file, half in the next one.
      for (let j = before; j < out.length; j++)
        if (r() < 0.01) (r() < 0.5 ? out : carry).push(redelivered(o.preset, out[j], r));
    }
    if (i === parts.length - 1) out.push(...carry);
    const parquet = (o.preset === "posthog" || o.preset === "amplitude") && r() < (o.parquetShare ?? 0);
    const key = keyFor(o.preset, p.date, p.hhmm, i, r, parquet);
    lines += out.length;
    if (parquet) {
      parquetFiles.push({ key, rows: out });
      continue;
    }
    const jsonLines = out.map((x) => JSON.stringify(x));
    const body = Buffer.from(`${jsonLines.join("\n")}\n`);
    const path = join(o.dir, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(
      path,
      key.endsWith(".br")
        ? brotliCompressSync(body)
        : !key.endsWith(".gz")
          ? body
          : o.preset === "posthog"
            ? // PostHog gzips each write (`gzip.compress` per batch): a file of several gzip members.
              Buffer.concat(chunks(jsonLines, 50).map((c) => gzipSync(`${c.join("\n")}\n`, { level: 1 })))
            : gzipSync(body, { level: 1 }),
    );
    if (o.preset === "posthog" && /-0\.[a-z.]+$/.test(key))
      writeFileSync(path.replace(/-0\.[a-z.]+$/, "_manifest.json"), JSON.stringify({ files: [key] }));
  }
  if (parquetFiles.length)
    await writeParquet(o.dir, parquetFiles, PARQUET_SELECT[o.preset as "posthog" | "amplitude"]);
  rmSync(tmp, { recursive: true, force: true });
  return { files: parts.length, lines };
}

/**
 * The Parquet columns per vendor, from the lines' JSON. PostHog's batch export: `uuid`, `event`,
 * `distinct_id`, `person_id` as strings, `properties` a JSON-encoded string, `timestamp` a timestamp
 * with time zone. Amplitude as a silver table: `event_time` a TIMESTAMP, `event_properties` a
 * MAP(VARCHAR, VARCHAR) (values as text, as a warehouse MAP column holds them).
 */
const PARQUET_SELECT = {
  posthog: `SELECT uuid, event, distinct_id, person_id, properties::VARCHAR AS properties,
                   timestamp::TIMESTAMPTZ AS timestamp, team_id, elements_chain
              FROM read_json($1, format = 'newline_delimited', columns = {uuid: 'VARCHAR', event: 'VARCHAR',
                   distinct_id: 'VARCHAR', person_id: 'VARCHAR', properties: 'JSON', timestamp: 'VARCHAR',
                   team_id: 'BIGINT', elements_chain: 'VARCHAR'})`,
  amplitude: `SELECT event_type, event_time::TIMESTAMP AS event_time, user_id, device_id, "$insert_id", uuid,
                     CAST(event_properties AS MAP(VARCHAR, VARCHAR)) AS event_properties, platform
                FROM read_json($1, format = 'newline_delimited', columns = {event_type: 'VARCHAR',
                     event_time: 'VARCHAR', user_id: 'VARCHAR', device_id: 'VARCHAR', "$insert_id": 'VARCHAR',
                     uuid: 'VARCHAR', event_properties: 'JSON', platform: 'VARCHAR'})`,
};

async function writeParquet(
  dir: string,
  files: { key: string; rows: unknown[] }[],
  select: string,
): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    await c.run("SET TimeZone = 'UTC'");
    for (const f of files) {
      const path = join(dir, f.key);
      mkdirSync(dirname(path), { recursive: true });
      const tmp = `${path}.jsonl`;
      writeFileSync(tmp, `${f.rows.map((x) => JSON.stringify(x)).join("\n")}\n`);
      // PostHog's `.parquet.zst`: a Parquet file whose pages are zstd-compressed.
      const codec = f.key.endsWith(".parquet.zst") ? "zstd" : "snappy";
      await c.run(
        `COPY (${select}) TO '${path.replace(/'/g, "''")}' (FORMAT parquet, COMPRESSION ${codec})`,
        [tmp],
      );
      rmSync(tmp);
    }
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** Reads a gzipped, brotli or plain vendor file's lines (for tests). */
export function vendorFileLines(path: string): string[] {
  let buf = readFileSync(path);
  if (path.endsWith(".gz")) buf = gunzipSync(buf);
  if (path.endsWith(".br")) buf = brotliDecompressSync(buf);
  return buf.toString("utf8").split("\n").filter(Boolean);
}
