import { listValue } from "@duckdb/node-api";
import type { Cache } from "./db.js";
import { getHotKeys, getMeta } from "./schema.js";

export interface PartitionStatus {
  date: string;
  objects: number;
  events: number;
  rejected: number;
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
  first_event: string | null;
  last_event: string | null;
  /** Property keys stored pre-extracted (fast filters and breakdowns). */
  hot_keys: string[];
  partitions: PartitionStatus[];
  failures: { key: string; date: string | null; error: string; failed_at: string }[];
}

/** What the cache holds; counts come from the manifest, users and time bounds from the events. */
export async function cacheStatus(cache: Cache): Promise<CacheStatus> {
  const totals = await cache.one<{ events: number; rejected: number }>(
    "SELECT coalesce(sum(events), 0) AS events, coalesce(sum(rejected), 0) AS rejected FROM objects",
  );
  const bounds = await cache.one<{ users: number; first_event: string | null; last_event: string | null }>(
    "SELECT count(DISTINCT user_key) AS users, min(event_time) AS first_event, max(event_time) AS last_event FROM events",
  );
  const partitions = await cache.all<PartitionStatus>(
    `SELECT strftime(date, '%Y-%m-%d') AS date, count(*) AS objects, sum(events) AS events, sum(rejected) AS rejected,
            sum(size) AS bytes, max(synced_at) AS synced_at
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
    first_event: bounds?.first_event ?? null,
    last_event: bounds?.last_event ?? null,
    hot_keys: (await getHotKeys(cache)) ?? [],
    partitions,
    failures,
  };
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
 * Removes objects with their rows, per-type counts and rejects. The caller holds the transaction, so
 * these tables always change together.
 */
export async function deleteObjects(cache: Cache, objectIds: number[]): Promise<void> {
  if (!objectIds.length) return;
  const ids = listValue(objectIds);
  for (const table of ["events", "object_types", "rejects", "objects"])
    await cache.run(`DELETE FROM ${table} WHERE list_contains($1, object_id)`, [ids]);
}

/** Removes whole partitions (their objects, rows and rejects) in one transaction; returns the events removed. */
export async function evictPartitions(cache: Cache, dates: string[]): Promise<number> {
  if (!dates.length) return 0;
  return cache.transaction(async () => {
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
}
