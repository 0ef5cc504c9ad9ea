/**
 * Opens a cache for the TUI and wires the real engine and sync functions into a `Session`.
 * Imported lazily (it pulls in DuckDB), so the first frame can be drawn before it loads.
 */
import { Cache, CacheLockedError } from "../cache/db.js";
import { listSource, partitionStates } from "../cache/plan.js";
import { getMeta } from "../cache/schema.js";
import { cacheStatus, evictPartitions, listRejects } from "../cache/status.js";
import { sync } from "../cache/sync.js";
import { Executor } from "../queries/executor.js";
import { openSource, type SourceOptions } from "../source/index.js";
import type { Session, SyncApi } from "./state.js";
import type { QueryRunner } from "./useQuery.js";

/**
 * Opens `path` read-write; when another process holds it, read-only (sync and evict disabled).
 * Throws when neither works.
 */
export async function openSession(path: string): Promise<Session> {
  let cache: Cache;
  let readOnly = false;
  let lockedBy: number | undefined;
  try {
    cache = await Cache.open(path);
  } catch (e) {
    if (!(e instanceof CacheLockedError)) throw e;
    lockedBy = e.pid;
    cache = await Cache.open(path, { readOnly: true });
    readOnly = true;
  }
  return sessionFor(cache, { readOnly, lockedBy });
}

/** A session over an already open cache (tests use this with their own cache). */
export function sessionFor(
  cache: Cache,
  opts: { readOnly?: boolean; lockedBy?: number; runner?: QueryRunner } = {},
): Session {
  const executor = new Executor(cache);
  const runner: QueryRunner = opts.runner ?? (executor as unknown as QueryRunner);
  let closed = false;
  return {
    path: cache.path,
    runner,
    sync: syncApiFor(cache),
    readOnly: !!opts.readOnly,
    lockedBy: opts.lockedBy,
    async bounds(tz: string) {
      const r = await executor.cachedRange(tz);
      return r ? { from: r.from, to: r.to } : null;
    },
    close() {
      if (closed) return;
      closed = true;
      executor.close();
      cache.close();
    },
  };
}

async function sourceOf(cache: Cache) {
  const url = await getMeta(cache, "source");
  if (!url) return null;
  let opts: SourceOptions = {};
  try {
    opts = JSON.parse((await getMeta(cache, "source_options")) ?? "{}") as SourceOptions;
  } catch {}
  return openSource(url, opts);
}

export function syncApiFor(cache: Cache): SyncApi {
  return {
    async sourceUrl() {
      return (await getMeta(cache, "source")) ?? null;
    },
    async partitions(signal) {
      const source = await sourceOf(cache);
      if (!source) throw new Error("this cache has no source yet; run `evx sync SOURCE` first");
      const listing = await listSource(cache, source, { signal });
      return partitionStates(cache, listing);
    },
    status: () => cacheStatus(cache),
    rejects: (limit, offset) => listRejects(cache, limit, offset),
    evict: (dates) => evictPartitions(cache, dates),
    async sync(range, signal, onProgress) {
      const source = await sourceOf(cache);
      if (!source) throw new Error("this cache has no source yet; run `evx sync SOURCE` first");
      return sync(cache, source, { from: range.from, to: range.to, signal, onProgress });
    },
  };
}
