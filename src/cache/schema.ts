import type { Cache } from "./db.js";
import type { FieldMap, LakeFormat } from "./mapping.js";

export const SCHEMA_VERSION = 5;

/**
 * Columns holding the most common top-level property keys (chosen from the first synced batch,
 * listed in meta `hot_keys`), pre-extracted at sync: a filter or breakdown on such a key reads a
 * plain column instead of parsing each row's JSON (measured on 7.4M rows: filter 430 → 80 ms).
 */
export const HOT_SLOTS = 8;
export const hotColumn = (i: number) => `hot${i + 1}`;
const HOT_DDL = Array.from({ length: HOT_SLOTS }, (_, i) => `${hotColumn(i)} VARCHAR`).join(", ");

/**
 * Physical layout, chosen for the analyses:
 * - `users` maps each user_id string to an INTEGER key once; events carry only the key, so
 *   distinct counts, funnels and retention group and join on 4-byte integers.
 * - `events` rows are appended batch by batch in partition order (so zone maps on event_time prune
 *   date ranges), and clustered by event_type inside a batch, so a query about a few event types
 *   skips the row groups of the others (measured on 2M events: trend CPU -45%, funnel -25%). Sorting
 *   by type alone adds ~10% to the insert; (type, time) added ~80% for no measured query gain.
 * - `objects` is the manifest: one row per successfully ingested object. Its rows, rejects and
 *   manifest entry always change in one transaction.
 * - `event_ids` holds the id of every cached event when the lake dedupes (`--dedupe`, presets);
 *   `duplicate_events` keeps the rows that were duplicates, with their id, so that when the object
 *   holding an id's surviving row leaves the cache (evicted, replaced, vanished) a copy from an object
 *   still cached takes its place (see `deleteObjects`). Both are empty without dedupe.
 * - `source_dates` is the last listing a sync recorded: objects and bytes per partition date of the
 *   whole source (not only the synced dates), replaced wholesale with meta `listed_at`. Coverage
 *   compares it with the manifest to tell which dates of a range the cache is missing.
 */
const DDL = [
  `CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)`,
  `CREATE TABLE IF NOT EXISTS objects (
     object_id INTEGER PRIMARY KEY,
     key VARCHAR NOT NULL UNIQUE,
     date DATE NOT NULL,
     version VARCHAR NOT NULL,
     size BIGINT NOT NULL,
     events BIGINT NOT NULL,
     rejected BIGINT NOT NULL,
     min_time TIMESTAMPTZ,
     max_time TIMESTAMPTZ,
     synced_at TIMESTAMPTZ NOT NULL,
     skipped BIGINT NOT NULL DEFAULT 0,
     duplicates BIGINT NOT NULL DEFAULT 0)`,
  `CREATE TABLE IF NOT EXISTS failures (key VARCHAR PRIMARY KEY, date DATE, error VARCHAR, failed_at TIMESTAMPTZ)`,
  `CREATE TABLE IF NOT EXISTS source_dates (date DATE PRIMARY KEY, objects BIGINT NOT NULL, bytes BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS users (user_key INTEGER NOT NULL, user_id VARCHAR NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS events (
     event_type VARCHAR NOT NULL,
     event_time TIMESTAMPTZ NOT NULL,
     user_key INTEGER NOT NULL,
     properties JSON,
     object_id INTEGER NOT NULL,
     ${HOT_DDL},
     person_key INTEGER)`,
  // Identity (src/cache/identity.ts): the links the cached objects' rows carry, and the map resolved
  // from them (ids whose person is another id).
  `CREATE TABLE IF NOT EXISTS identity_links (src_key INTEGER NOT NULL, dst_key INTEGER NOT NULL, t TIMESTAMPTZ NOT NULL, object_id INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS identity (user_key INTEGER NOT NULL, person_key INTEGER NOT NULL)`,
  // Rows per (object, event type): lets a query size its per-type work (e.g. how many user bitmaps
  // the catalog needs) without scanning events.
  `CREATE TABLE IF NOT EXISTS object_types (object_id INTEGER NOT NULL, event_type VARCHAR NOT NULL, events BIGINT NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS event_ids (id VARCHAR NOT NULL, object_id INTEGER NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS duplicate_events (
     event_id VARCHAR NOT NULL,
     event_type VARCHAR NOT NULL,
     event_time TIMESTAMPTZ NOT NULL,
     user_key INTEGER NOT NULL,
     properties JSON,
     object_id INTEGER NOT NULL,
     ${HOT_DDL})`,
  `CREATE TABLE IF NOT EXISTS rejects (object_id INTEGER NOT NULL, key VARCHAR NOT NULL, line BIGINT, reason VARCHAR NOT NULL, raw VARCHAR)`,
  // Saved cohorts (src/cache/cohorts.ts): a behavioural one's definition, a static one's user ids.
  `CREATE TABLE IF NOT EXISTS cohorts (name VARCHAR PRIMARY KEY, kind VARCHAR NOT NULL, definition VARCHAR NOT NULL, users BIGINT, created TIMESTAMPTZ NOT NULL)`,
  `CREATE TABLE IF NOT EXISTS cohort_users (name VARCHAR NOT NULL, user_id VARCHAR NOT NULL)`,
  // A behavioural cohort's members kept evaluated, per identity mode, with the data they are of
  // (src/cache/cohortmemo.ts). Derived: deleting a row only makes the next use evaluate it again.
  `CREATE TABLE IF NOT EXISTS cohort_memo (name VARCHAR NOT NULL, mode VARCHAR NOT NULL, def VARCHAR NOT NULL, stamp VARCHAR NOT NULL, bm BIT)`,
];

/**
 * The fingerprint of what a snapshot's events are made of (src/cache/cohortmemo.ts): the manifest
 * (every cached row belongs to an object, whose rows never change while it is cached), the identity map
 * (merged persons), the users (their keys) and the lake format (how lines became rows). Any sync,
 * eviction or rebuild changes it. Each row is hashed whole before the XOR: DuckDB's `hash(a, b)` XORs
 * `b`'s hash into `a`'s, so `bit_xor(hash(a, b))` over rows would not tie `b` to its row.
 */
export const DATA_STAMP_SQL = `((SELECT count(*) || ':' || coalesce(bit_xor(hash(hash(object_id, key, version, events, rejected, duplicates))), 0) FROM main.objects)
  || '/' || (SELECT count(*) || ':' || coalesce(bit_xor(hash(hash(user_key, person_key))), 0) FROM main.identity)
  || '/' || (SELECT count(*) || ':' || coalesce(max(user_key), -1) FROM main.users)
  || '/' || coalesce((SELECT value FROM main.meta WHERE key = 'format'), ''))`;

/** Creates the schema in one transaction, so a process killed while creating a cache leaves none of it. */
export async function migrate(cache: Cache): Promise<void> {
  await cache.transaction(async () => {
    for (const sql of DDL) await cache.run(sql);
    const v = await getMeta(cache, "schema_version");
    if (v !== undefined && Number(v) > SCHEMA_VERSION)
      throw new Error(`cache ${cache.path} was written by a newer evx (schema ${v}); upgrade evx`);
    if (v !== undefined && Number(v) < 2) await upgradeFrom1(cache);
    // Schema 2 → 3 adds only `source_dates` (created above). An older cache has no listing recorded
    // until its next sync, so its coverage reports nothing missing.
    // Schema 3 → 4 adds `event_ids`, `duplicate_events` (created above) and two counts per object.
    if (v !== undefined && Number(v) < 4)
      for (const c of ["skipped", "duplicates"])
        await cache.run(`ALTER TABLE objects ADD COLUMN IF NOT EXISTS ${c} BIGINT DEFAULT 0`);
    // Schema 4 → 5 adds `person_key` (NULL: the user is their own person) and the identity tables.
    // An older cache kept no identity links: it answers `raw` by default (src/cache/identity.ts).
    if (v !== undefined && Number(v) < 5)
      await cache.run("ALTER TABLE events ADD COLUMN IF NOT EXISTS person_key INTEGER");
    if (v === undefined) await setMeta(cache, "identity_kept", "1");
    if (v !== String(SCHEMA_VERSION)) await setMeta(cache, "schema_version", String(SCHEMA_VERSION));
  });
}

/**
 * Schema 1 → 2: `object_types` is filled from the events; the hot columns exist but stay empty.
 * Rows already cached have no extracted values, so no key may be hot unless there are no events yet.
 */
async function upgradeFrom1(cache: Cache): Promise<void> {
  for (let i = 0; i < HOT_SLOTS; i++)
    await cache.run(`ALTER TABLE events ADD COLUMN IF NOT EXISTS ${hotColumn(i)} VARCHAR`);
  await cache.run(
    "INSERT INTO object_types SELECT object_id, event_type, count(*) FROM events GROUP BY object_id, event_type",
  );
  const n = await cache.one<{ n: number }>("SELECT count(*) AS n FROM (SELECT 1 FROM events LIMIT 1)");
  if (n?.n) await setMeta(cache, "hot_keys", "[]");
}

/** RFC 6901 JSON pointer of a top-level key: keys may contain dots, quotes, slashes, anything. */
export function keyPointer(key: string): string {
  return `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
}

/** The hot property keys, in column order (`hot1`…); undefined until the first batch picks them. */
export async function getHotKeys(cache: Cache): Promise<string[] | undefined> {
  const v = await getMeta(cache, "hot_keys");
  return v === undefined ? undefined : (JSON.parse(v) as string[]);
}

/** True when the cache was written by an older evx and needs `migrate`. */
export async function isOutdated(cache: Cache): Promise<boolean> {
  return Number((await getMeta(cache, "schema_version")) ?? SCHEMA_VERSION) < SCHEMA_VERSION;
}

/** True when the file holds an evx schema (a cache killed while being created may not). */
export async function hasSchema(cache: Cache): Promise<boolean> {
  const r = await cache.one<{ n: number }>(
    "SELECT count(*) AS n FROM duckdb_tables() WHERE table_name IN ('meta', 'events', 'objects')",
  );
  return (r?.n ?? 0) === 3;
}

export async function getMeta(cache: Cache, key: string): Promise<string | undefined> {
  const r = await cache.one<{ value: string }>("SELECT value FROM meta WHERE key = $1", [key]);
  return r?.value;
}

export async function setMeta(cache: Cache, key: string, value: string): Promise<void> {
  await cache.run("INSERT OR REPLACE INTO meta VALUES ($1, $2)", [key, value]);
}

/**
 * The lake format stored with the cache: meta `format` (preset, map, dedupe), or for a cache written
 * before presets, its meta `map` alone.
 */
export async function getFormat(cache: Cache): Promise<LakeFormat | undefined> {
  const f = await getMeta(cache, "format");
  if (f) return JSON.parse(f) as LakeFormat;
  const m = await getMeta(cache, "map");
  return m ? { map: JSON.parse(m) as FieldMap } : undefined;
}
