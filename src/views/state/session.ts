/**
 * Opens a cache for the TUI and wires the real engine and sync functions into a `Session`.
 * Imported lazily (it pulls in DuckDB), so the first frame can be drawn before it loads.
 *
 * The TUI holds the cache read-write when it can: one process may hold a read-write DuckDB instance and
 * query it from several connections, so the Sync tab's syncs and live mode's cycles write through the
 * cache's own connection while every query runs on a connection of its own (each in its own snapshot)
 * and nothing waits on a file lock. Another evx process meets the lock as it would meet a sync's.
 * Saving a drill-down's users as a cohort (`C`) writes on a connection of its own, beside them.
 */
import { basename } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Cache, CacheLockedError } from "../../cache/db.js";
import { sharedMode } from "../../cache/hostpaths.js";
import { listSource, partitionStates } from "../../cache/plan.js";
import type { RemoteConn } from "../../cache/remote.js";
import { getMeta } from "../../cache/schema.js";
import { cacheStatus, evictPartitions, listRejects } from "../../cache/status.js";
import { sync } from "../../cache/sync.js";
import { type WatchNote, watch } from "../../cache/watch.js";
import { checkSpecKeys, Executor, saveUsersCohort } from "../../queries/executor.js";
import { openSource, type SourceOptions } from "../../source/index.js";
import type { QueryRunner } from "../hooks/useQuery.js";
import type { LiveWatchOptions, Session, SyncApi } from "./state.js";

/**
 * Opens `path` read-write; when another process holds it, read-only (sync, evict and live mode
 * disabled). Throws when neither works.
 */
export async function openSession(path: string): Promise<Session & { sync: SyncApi }> {
  // Shared mode: the TUI reads through the cache's host and claims the writer only while it syncs,
  // evicts or runs live mode, so it never locks out another process's sync.
  if (sharedMode()) return sessionFor(await Cache.open(path, { readOnly: true }), { shared: true });
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
  if (isRemote(cache)) {
    // Outside shared mode, but a host holds the file (Cache.open joined it): read through it as a
    // shared session does, rather than keep the writer for the TUI's whole life.
    cache.close();
    return sessionFor(await Cache.open(path, { readOnly: true }), { shared: true });
  }
  return sessionFor(cache, { readOnly, lockedBy });
}

function isRemote(cache: Cache): boolean {
  return !!(cache as unknown as { remote?: boolean }).remote;
}

/** How often live mode asks the host about another process's writer it follows. */
const FOLLOW_POLL_MS = 500;

/** What holds (or wants) the cache's writer. */
type WriterJob = "sync" | "evict" | "live" | "cohort";

/** What a refusal says is not possible now: `no sync`, `no live mode`, `no saving cohorts`. */
const REFUSED: Record<WriterJob, string> = {
  sync: "sync",
  evict: "evict",
  live: "live mode",
  cohort: "saving cohorts",
};

/** What a refusal says is running: `a sync is running`. */
const RUNNING: Record<Exclude<WriterJob, "live">, string> = {
  sync: "sync",
  evict: "removal",
  cohort: "cohort save",
};

/** The writer slot is another process's (shared mode). */
class WriterHeld extends Error {
  constructor(
    readonly pid: number | undefined,
    what: WriterJob,
  ) {
    super(
      `another evx process${pid ? ` (PID ${pid})` : ""} is syncing this cache: no ${REFUSED[what]} until it ends`,
    );
  }
}

/** A session over an already open cache (tests use this with their own cache). */
export function sessionFor(
  cache: Cache,
  opts: { readOnly?: boolean; lockedBy?: number; runner?: QueryRunner; shared?: boolean } = {},
): Session & { sync: SyncApi } {
  const executor = new Executor(cache);
  const runner: QueryRunner = opts.runner ?? (executor as unknown as QueryRunner);
  const api = syncApiFor(cache, { readOnly: !!opts.readOnly, lockedBy: opts.lockedBy, shared: opts.shared });
  let closed = false;
  return {
    path: cache.path,
    label: basename(cache.path),
    runner,
    checkKeys: (spec, signal) => checkSpecKeys(executor, spec, signal),
    sync: api,
    readOnly: !!opts.readOnly,
    lockedBy: opts.lockedBy,
    async bounds(tz: string) {
      const r = await executor.cachedRange(tz);
      return r ? { from: r.from, to: r.to } : null;
    },
    lastEventUs: () => executor.lastEventUs(),
    // Beside a sync or live mode's writes (not in shared mode, where it takes the host's writer).
    saveCohort: (name, spec) =>
      api.writeBeside("cohort", (w) => saveUsersCohort(w, structuredClone(spec), name, { replace: false })),
    close() {
      if (closed) return;
      closed = true;
      executor.close();
      api.close();
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

const NO_SOURCE = "this cache has no source yet; run `evx sync SOURCE` first";

/**
 * The Sync tab's and live mode's access to the cache. Writers (a sync, an eviction, live mode's
 * cycles) take turns: they share the cache's connection and its transactions, so a second one is
 * refused while one runs. Reads (partitions, status, rejects) use a connection of their own, so the
 * Sync tab can list while a live cycle is in the middle of a batch.
 */
export function syncApiFor(
  cache: Cache,
  opts: { readOnly?: boolean; lockedBy?: number; shared?: boolean } = {},
): SyncApi & { close(): void; writeBeside<T>(what: WriterJob, fn: (w: Cache) => Promise<T>): Promise<T> } {
  let writer: WriterJob | null = null;
  let reader: Promise<Cache> | null = null;
  let opened: Cache | null = null;
  let closed = false;
  const closeConn = (c: Cache) => {
    try {
      c.conn.closeSync();
    } catch {}
  };
  // A cache object on a second connection: the status and plan helpers take a `Cache`.
  const reads = (): Promise<Cache> => {
    reader ??= cache.connect().then((conn) => {
      const c = Object.create(Cache.prototype) as Cache;
      Object.assign(c, { path: cache.path, instance: cache.instance, conn, readOnly: cache.readOnly });
      if (closed) closeConn(c);
      else opened = c;
      return c;
    });
    return reader;
  };
  const readOnlyError = (what: WriterJob) =>
    new Error(
      `the cache is open read-only (another evx process${opts.lockedBy ? `, PID ${opts.lockedBy},` : ""} holds it): no ${REFUSED[what]}`,
    );
  const exclusive = async <T>(what: WriterJob, fn: (w: Cache) => Promise<T>): Promise<T> => {
    if (opts.shared) return sharedWriter(what, fn);
    if (opts.readOnly || cache.readOnly) throw readOnlyError(what);
    if (writer === "live") throw new Error("live mode is syncing this cache; press L to stop it first");
    if (writer) throw new Error(`a ${RUNNING[writer]} is running; try again when it ends`);
    writer = what;
    try {
      return await fn(cache);
    } finally {
      writer = null;
    }
  };
  /** Shared mode: the host's writer slot, held for this one operation; another holder is named. */
  const sharedWriter = async <T>(what: WriterJob, fn: (w: Cache) => Promise<T>): Promise<T> => {
    if (writer === "live") throw new Error("live mode is syncing this cache; press L to stop it first");
    if (writer) throw new Error(`a ${RUNNING[writer]} is running; try again when it ends`);
    writer = what;
    let w: Cache;
    try {
      w = await Cache.open(cache.path);
    } catch (e) {
      writer = null;
      if (e instanceof CacheLockedError) throw new WriterHeld(e.pid, what);
      throw e;
    }
    try {
      return await fn(w);
    } finally {
      writer = null;
      w.close();
    }
  };
  /** Polls the host about the writer until it goes (resolves) or `o.signal` aborts. */
  const follow = async (r: Cache, o: LiveWatchOptions) => {
    const conn = r.conn as unknown as RemoteConn;
    let version: number | null = null;
    let free = 0;
    while (!o.signal.aborted) {
      const info = await conn.writerInfo();
      // Free on two polls in a row: a writer whose host was replaced claims the new one meanwhile.
      if (!info.writer && ++free < 2) {
        await sleep(FOLLOW_POLL_MS, undefined, { signal: o.signal }).catch(() => {});
        continue;
      }
      const changed = version !== null && info.version !== version;
      version = info.version;
      if (!info.writer) {
        o.onFollow?.(null, changed);
        return;
      }
      free = 0;
      o.onFollow?.({ ...info.writer, note: (info.note as WatchNote | null) ?? null }, changed);
      await sleep(FOLLOW_POLL_MS, undefined, { signal: o.signal }).catch(() => {});
    }
  };
  return {
    async sourceUrl() {
      return (await getMeta(await reads(), "source")) ?? null;
    },
    async partitions(signal) {
      const r = await reads();
      const source = await sourceOf(r);
      if (!source) throw new Error(NO_SOURCE);
      const listing = await listSource(r, source, { signal });
      return partitionStates(r, listing);
    },
    status: async () => cacheStatus(await reads()),
    rejects: async (limit, offset) => listRejects(await reads(), limit, offset),
    evict: (dates) => exclusive("evict", (w) => evictPartitions(w, dates)),
    sync: (range, signal, onProgress) =>
      exclusive("sync", async (w) => {
        const source = await sourceOf(w);
        if (!source) throw new Error(NO_SOURCE);
        return sync(w, source, { from: range.from, to: range.to, signal, onProgress });
      }),
    watch: async (o) => {
      const own = async (w: Cache) => {
        const source = await sourceOf(w);
        if (!source) throw new Error(NO_SOURCE);
        // No --from/--to: the dates `evx sync --watch` follows (watchSelection), chosen each cycle.
        await watch(w, source, {
          everyMs: o.everyMs,
          signal: o.signal,
          onCycle: o.onCycle,
          onProgress: (_n, p) => o.onProgress?.(p),
        });
      };
      if (!opts.shared) return exclusive("live", own);
      // Shared mode: run the cycles when the writer is free; while another process holds it (a watch,
      // a sync, another TUI's live mode), follow that one, and take over when it goes.
      while (!o.signal.aborted) {
        try {
          return await exclusive("live", own);
        } catch (e) {
          if (!(e instanceof WriterHeld)) throw e;
        }
        await follow(await reads(), o);
      }
    },
    writer: opts.shared
      ? async () => ((await reads()).conn as unknown as RemoteConn).writerInfo().then((i) => i.writer)
      : undefined,
    /**
     * A small write of the session's own (saving a cohort) that need not wait for a sync or live mode:
     * on a connection of its own, in its own transaction beside theirs (one DuckDB instance runs them
     * side by side; they write other tables). Refused read-only; shared mode takes the host's writer
     * slot for it, as a sync does.
     */
    async writeBeside<T>(what: WriterJob, fn: (w: Cache) => Promise<T>): Promise<T> {
      if (opts.shared) return sharedWriter(what, fn);
      if (opts.readOnly || cache.readOnly) throw readOnlyError(what);
      const c = Object.create(Cache.prototype) as Cache;
      Object.assign(c, {
        path: cache.path,
        instance: cache.instance,
        conn: await cache.connect(),
        readOnly: false,
      });
      try {
        return await fn(c);
      } finally {
        closeConn(c);
      }
    },
    /** Closes the reading connection (before the cache itself is closed). */
    close() {
      closed = true;
      if (opened) closeConn(opened);
      opened = null;
    },
  };
}
