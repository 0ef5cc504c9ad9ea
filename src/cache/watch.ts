/**
 * Watch mode: one sync, then another every interval, until the signal aborts. Each cycle is a whole
 * sync (list → diff → download → ingest, transactional per batch and incremental), so a failed cycle
 * leaves the cache as consistent as a failed sync does, and the next cycle picks up what it missed.
 * The CLI's `evx sync --watch` prints what `onCycle` reports; the TUI's live mode can run the same loop.
 */
import { setTimeout as sleep } from "node:timers/promises";
import type { Source } from "../source/types.js";
import type { Cache } from "./db.js";
import { type DateRange, type SyncOptions, type SyncProgress, type SyncSummary, sync } from "./sync.js";

/**
 * The dates a watch cycle syncs when no --from/--to was given: from the second-newest date of the
 * listing on, so the newest two dates and every later date that appears. `floor` is the previous
 * cycle's start date: the selection never starts later than it, so a date that was followed stays
 * followed (a late file for yesterday still lands after today's first file appeared) and newer dates
 * are added as they appear. `null` (nothing to select) while the listing has no dates at all.
 */
export function watchSelection(dates: readonly string[], floor?: string): DateRange | null {
  const distinct = [...new Set(dates)].sort();
  const newestTwo = distinct.length ? distinct[Math.max(0, distinct.length - 2)] : undefined;
  const from = newestTwo === undefined ? floor : floor === undefined || newestTwo < floor ? newestTwo : floor;
  return from === undefined ? null : { from };
}

export interface WatchCycle {
  /** 1-based. */
  cycle: number;
  /** When the cycle began (its listing is of this moment or a little later). */
  at: Date;
  /**
   * What the cycle did. For a cycle that failed or was interrupted part way, the counts are what it
   * committed before it stopped (from its progress), `failures` is empty and `range` null.
   */
  summary: SyncSummary;
  /**
   * One line when the cycle failed: the whole cycle (listing, source, cache), or some objects
   * (`summary.failures` names them). The next cycle tries again.
   */
  error?: string;
  /** True when the cycle failed as a whole, not only some objects. */
  failedWhole: boolean;
  /** The signal aborted during the cycle; it stopped after its current batch and the watch ends. */
  interrupted: boolean;
  /** Events in the cache after the cycle (null if the cache could not be read). */
  cacheEvents: number | null;
  /** When the next cycle begins; null when the watch ends after this cycle. */
  nextAt: Date | null;
}

export interface WatchOptions
  extends Pick<SyncOptions, "from" | "to" | "layout" | "map" | "lake" | "concurrency" | "batchBytes"> {
  /** Time from the start of one cycle to the start of the next (a longer cycle is followed at once). */
  everyMs: number;
  /** Ends the watch: during a cycle after its current batch commits, between cycles at once. */
  signal: AbortSignal;
  onCycle: (c: WatchCycle) => void | Promise<void>;
  onProgress?: (cycle: number, p: SyncProgress) => void;
  /**
   * A cycle that throws for which this returns true ends the watch with that error (the CLI stops on
   * any error of the first cycle, as `evx sync` would). Default: no error ends it.
   */
  stopOn?: (error: unknown, cycle: number) => boolean;
}

/**
 * What a watch tells the cache's other processes about itself (shared mode: through the cache host, so
 * a TUI's live mode can follow this watch's cycles instead of running its own).
 */
export interface WatchNote {
  /** The last finished cycle (not an interrupted one), null before the first ends. */
  last: {
    at: string;
    events: number;
    objects: number;
    removed: number;
    error?: string;
    failedWhole: boolean;
  } | null;
  /** A cycle is running. */
  syncing: boolean;
  /** When the next cycle begins (epoch ms), while waiting. */
  nextAt: number | null;
  everyMs: number;
}

/** Tells the host (shared mode) what the watch does; nothing on a cache of this process's own. */
function announce(cache: Cache, note: WatchNote): void {
  const conn = cache.conn as unknown as { announce?: (n: WatchNote) => void };
  if (typeof conn.announce === "function") conn.announce(note);
}

/** Runs sync cycles until `opts.signal` aborts; resolves then. Rejects only as `stopOn` decides. */
export async function watch(cache: Cache, source: Source, opts: WatchOptions): Promise<void> {
  const { signal } = opts;
  const follow = opts.from === undefined && opts.to === undefined;
  let floor: string | undefined;
  let last: WatchNote["last"] = null;
  for (let n = 1; !signal.aborted; n++) {
    const at = new Date();
    announce(cache, { last, syncing: true, nextAt: null, everyMs: opts.everyMs });
    const t0 = performance.now();
    let progress: SyncProgress | undefined;
    let summary: SyncSummary;
    let error: string | undefined;
    let failedWhole = false;
    let interrupted = false;
    // A signal per cycle: whatever the sync and the S3 client hang on it is dropped with the cycle,
    // not piled onto the long-lived watch signal.
    const cycleAc = new AbortController();
    const forward = () => cycleAc.abort(signal.reason);
    signal.addEventListener("abort", forward, { once: true });
    try {
      summary = await sync(cache, source, {
        from: opts.from,
        to: opts.to,
        layout: opts.layout,
        map: opts.map,
        lake: opts.lake,
        concurrency: opts.concurrency,
        batchBytes: opts.batchBytes,
        signal: cycleAc.signal,
        select: follow
          ? (dates) => {
              const r = watchSelection(dates, floor);
              floor = r?.from;
              return r;
            }
          : undefined,
        onProgress: (p) => {
          progress = p;
          opts.onProgress?.(n, p);
        },
      });
      if (summary.objects.failed > 0) {
        const f = summary.failures;
        error = `${f.length} object${f.length === 1 ? "" : "s"} failed: ${f[0]?.error ?? "unknown error"}`;
      }
    } catch (e) {
      if (signal.aborted) interrupted = true;
      else {
        if (opts.stopOn?.(e, n)) throw e;
        failedWhole = true;
        error = firstLine(e);
      }
      summary = partialSummary(progress, t0);
    } finally {
      signal.removeEventListener("abort", forward);
    }
    const cacheEvents = await cache
      .one<{ n: number }>("SELECT coalesce(sum(events), 0) AS n FROM objects")
      .then((r) => r?.n ?? 0)
      .catch(() => null);
    const stopping = interrupted || signal.aborted;
    const waitMs = Math.max(0, t0 + opts.everyMs - performance.now());
    if (!interrupted)
      last = {
        at: at.toISOString(),
        events: summary.events,
        objects: summary.objects.downloaded,
        removed: summary.objects.removed,
        error,
        failedWhole,
      };
    announce(cache, {
      last,
      syncing: false,
      nextAt: stopping ? null : Date.now() + waitMs,
      everyMs: opts.everyMs,
    });
    await opts.onCycle({
      cycle: n,
      at,
      summary,
      error,
      failedWhole,
      interrupted,
      cacheEvents,
      nextAt: stopping ? null : new Date(Date.now() + waitMs),
    });
    if (stopping) return;
    await sleep(waitMs, undefined, { signal }).catch(() => {});
  }
}

/** The counts a stopped sync had committed, from its last progress report. */
function partialSummary(p: SyncProgress | undefined, t0: number): SyncSummary {
  const listed = p && p.phase !== "listing" ? p.listed : 0;
  return {
    objects: {
      listed,
      downloaded: p?.ingested ?? 0,
      unchanged: p && p.phase !== "listing" ? Math.max(0, p.listed - p.toFetch) : 0,
      removed: 0,
      failed: p?.failed ?? 0,
    },
    bytes: p?.bytesIngested ?? 0,
    events: p?.events ?? 0,
    rejected: p?.rejected ?? 0,
    skipped: p?.skipped ?? 0,
    duplicates: p?.duplicates ?? 0,
    seconds: Math.round((performance.now() - t0) / 10) / 100,
    ingestSeconds: 0,
    ignored: 0,
    undated: 0,
    undatedKeys: [],
    layout: "",
    preset: null,
    failures: [],
    clearedFailures: 0,
    range: null,
    timings: { setup: 0, list: 0, plan: 0, download: 0, ingest: 0, finish: 0, checkpoint: 0 },
  };
}

function firstLine(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0].trim();
}
