import { listValue } from "@duckdb/node-api";
import { keepCohortsEvaluated } from "./cohortmemo.js";
import type { Cache } from "./db.js";
import { type IdentityStatus, identityStatus, refreshIdentity } from "./identity.js";
import type { LakeFormat } from "./mapping.js";
import { getFormat, getHotKeys, getMeta, HOT_SLOTS, hotColumn } from "./schema.js";

export interface PartitionStatus {
  date: string;
  objects: number;
  events: number;
  rejected: number;
  skipped: number;
  duplicates: number;
  bytes: number;
  synced_at: string | null;
  failed?: number;
}

export interface CacheStatus {
  cache: string;
  source: string | null;
  events: number;
  users: number;
  rejected: number;
  /** Lines that are messages but not events (Segment identify/group/alias…), by the preset. */
  skipped: number;
  /** Events not stored because an event with the same id is (see `format.dedupe`). */
  duplicates: number;
  /** The preset, field map and dedupe id in use (stored with the cache). */
  format: LakeFormat | null;
  first_event: string | null;
  last_event: string | null;
  /** Property keys stored pre-extracted (fast filters and breakdowns). */
  hot_keys: string[];
  partitions: PartitionStatus[];
  failures: { key: string; date: string | null; error: string; failed_at: string }[];
  /** Identity stitching (docs/semantics.md, "Identity"): the default mode, links, merged ids, conflicts. */
  identity: IdentityStatus;
  /** Shared mode only: the evx process syncing the cache now (`what` is its command), if any. */
  syncing?: { pid: number; what: string };
}

/** What the cache holds; counts come from the manifest, users and time bounds from the events. */
export async function cacheStatus(cache: Cache): Promise<CacheStatus> {
  const totals = await cache.one<{ events: number; rejected: number; skipped: number; duplicates: number }>(
    `SELECT coalesce(sum(events), 0) AS events, coalesce(sum(rejected), 0) AS rejected,
            coalesce(sum(skipped), 0) AS skipped, coalesce(sum(duplicates), 0) AS duplicates FROM objects`,
  );
  const bounds = await cache.one<{ users: number; first_event: string | null; last_event: string | null }>(
    "SELECT count(DISTINCT user_key) AS users, min(event_time) AS first_event, max(event_time) AS last_event FROM events",
  );
  const partitions = await cache.all<PartitionStatus>(
    `SELECT strftime(date, '%Y-%m-%d') AS date, count(*) AS objects, sum(events) AS events, sum(rejected) AS rejected,
            sum(skipped) AS skipped, sum(duplicates) AS duplicates, sum(size) AS bytes, max(synced_at) AS synced_at
       FROM objects GROUP BY date ORDER BY date`,
  );
  const failures = await cache.all<CacheStatus["failures"][number]>(
    "SELECT key, strftime(date, '%Y-%m-%d') AS date, error, failed_at FROM failures ORDER BY key",
  );
  const failedByDate = new Map<string, number>();
  for (const f of failures) if (f.date) failedByDate.set(f.date, (failedByDate.get(f.date) ?? 0) + 1);
  for (const p of partitions) if (failedByDate.has(p.date)) p.failed = failedByDate.get(p.date);
  return {
    cache: cache.path,
    source: (await getMeta(cache, "source")) ?? null,
    events: totals?.events ?? 0,
    users: bounds?.users ?? 0,
    rejected: totals?.rejected ?? 0,
    skipped: totals?.skipped ?? 0,
    duplicates: totals?.duplicates ?? 0,
    format: (await getFormat(cache)) ?? null,
    first_event: bounds?.first_event ?? null,
    last_event: bounds?.last_event ?? null,
    hot_keys: (await getHotKeys(cache)) ?? [],
    partitions,
    failures,
    identity: await identityStatus(cache),
    ...(await syncingNow(cache)),
  };
}

/** Who holds the writer slot, asked of the shared-mode host (remote.ts); nothing otherwise. */
async function syncingNow(cache: Cache): Promise<{ syncing?: { pid: number; what: string } }> {
  const conn = cache.conn as unknown as { writer?: () => Promise<{ pid: number; what: string } | null> };
  const w = typeof conn.writer === "function" ? await conn.writer() : null;
  return w ? { syncing: { pid: w.pid, what: w.what } } : {};
}

export interface RejectRow {
  key: string;
  line: number | null;
  reason: string;
  raw: string | null;
}

export async function listRejects(
  cache: Cache,
  limit: number,
  offset = 0,
): Promise<{ total: number; rejects: RejectRow[] }> {
  const total = (await cache.one<{ n: number }>("SELECT count(*) AS n FROM rejects"))?.n ?? 0;
  const rejects = await cache.all<RejectRow>(
    "SELECT key, line, reason, raw FROM rejects ORDER BY key, line LIMIT $1 OFFSET $2",
    [limit, offset],
  );
  return { total, rejects };
}

/**
 * Removes objects with their rows, per-type counts, rejects and event ids. The caller holds the
 * transaction, so these tables always change together. With dedupe, an id whose surviving row left
 * with these objects is taken over by a duplicate still cached (see `promoteDuplicates`).
 */
export async function deleteObjects(cache: Cache, objectIds: number[]): Promise<void> {
  if (!objectIds.length) return;
  const ids = listValue(objectIds);
  for (const table of [
    "events",
    "object_types",
    "rejects",
    "objects",
    "event_ids",
    "duplicate_events",
    "identity_links",
  ])
    await cache.run(`DELETE FROM ${table} WHERE list_contains($1, object_id)`, [ids]);
  await promoteDuplicates(cache);
  // The objects' identity links went with them: the map is resolved again (and promoted rows keyed).
  await refreshIdentity(cache, { fixUnkeyed: true });
}

const EVENT_COLS = `event_type, event_time, user_key, properties, object_id, ${Array.from(
  { length: HOT_SLOTS },
  (_, i) => hotColumn(i),
).join(", ")}`;

/**
 * A kept duplicate whose id no cached event carries any more becomes the event (the lowest object id
 * wins), so the cache always holds one row per id that any cached object carries: the same rows a
 * dedupe of the cached objects from scratch would keep, whatever was evicted or replaced before.
 */
async function promoteDuplicates(cache: Cache): Promise<void> {
  const any = await cache.one<{ n: number }>(
    "SELECT count(*) AS n FROM (SELECT 1 FROM duplicate_events LIMIT 1)",
  );
  if (!any?.n) return;
  // Every kept copy of an id that no cached event carries any more: the first (lowest object id)
  // becomes the event, the others go back as its duplicates.
  await cache.run(
    `CREATE OR REPLACE TEMP TABLE orphans AS
     SELECT d.*, row_number() OVER (PARTITION BY d.event_id ORDER BY d.object_id) AS n
       FROM duplicate_events d ANTI JOIN event_ids e ON e.id = d.event_id`,
  );
  try {
    const n = await cache.one<{ n: number }>("SELECT count(*) AS n FROM orphans");
    if (!n?.n) return;
    await cache.run("CREATE OR REPLACE TEMP TABLE promoted AS SELECT * EXCLUDE (n) FROM orphans WHERE n = 1");
    await cache.run("DELETE FROM duplicate_events WHERE event_id IN (SELECT event_id FROM orphans)");
    await cache.run("INSERT INTO duplicate_events SELECT * EXCLUDE (n) FROM orphans WHERE n > 1");
    await cache.run(`INSERT INTO events (${EVENT_COLS}) SELECT ${EVENT_COLS} FROM promoted`);
    await cache.run("INSERT INTO event_ids SELECT event_id, object_id FROM promoted");
    await cache.run(
      `UPDATE objects SET events = events + p.n, duplicates = duplicates - p.n,
              min_time = least(coalesce(min_time, p.lo), p.lo), max_time = greatest(coalesce(max_time, p.hi), p.hi)
         FROM (SELECT object_id, count(*) AS n, min(event_time) AS lo, max(event_time) AS hi FROM promoted GROUP BY object_id) p
        WHERE objects.object_id = p.object_id`,
    );
    // Per-type counts of the objects that gained rows, recounted.
    await cache.run(
      `CREATE OR REPLACE TEMP TABLE promoted_types AS
       SELECT object_id, event_type, count(*) AS events FROM events
        WHERE object_id IN (SELECT DISTINCT object_id FROM promoted) GROUP BY ALL`,
    );
    await cache.run("DELETE FROM object_types WHERE object_id IN (SELECT DISTINCT object_id FROM promoted)");
    await cache.run("INSERT INTO object_types SELECT * FROM promoted_types");
  } finally {
    for (const t of ["orphans", "promoted", "promoted_types"]) await cache.run(`DROP TABLE IF EXISTS ${t}`);
  }
}

/** Removes whole partitions (their objects, rows and rejects) in one transaction; returns the events removed. */
export async function evictPartitions(cache: Cache, dates: string[]): Promise<number> {
  if (!dates.length) return 0;
  const removed = await cache.transaction(async () => {
    const ids = (
      await cache.all<{ id: number }>(
        "SELECT object_id AS id FROM objects WHERE strftime(date, '%Y-%m-%d') IN (SELECT unnest($1::VARCHAR[]))",
        [listValue(dates)],
      )
    ).map((r) => r.id);
    const n = ids.length
      ? ((
          await cache.one<{ n: number }>(
            "SELECT count(*) AS n FROM events WHERE list_contains($1, object_id)",
            [listValue(ids)],
          )
        )?.n ?? 0)
      : 0;
    await deleteObjects(cache, ids);
    return n;
  });
  // The saved cohorts, evaluated over what is left (src/cache/cohortmemo.ts).
  await keepCohortsEvaluated(cache);
  return removed;
}
