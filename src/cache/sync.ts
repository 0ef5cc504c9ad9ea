import { createHash } from "node:crypto";
import { setMaxListeners } from "node:events";
import { realpathSync } from "node:fs";
import { rename, rm } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { listValue } from "@duckdb/node-api";
import pLimit from "p-limit";
import { compressionOf, describeLayout, isParquetKey, type Layout, LayoutError } from "../source/layout.js";
import { type Source, SourceError } from "../source/types.js";
import { keepCohortsEvaluated } from "./cohortmemo.js";
import type { Cache } from "./db.js";
import { type IngestItem, ingestBatch } from "./ingest.js";
import { type FieldMap, type FormatRequest, formatKey, type LakeFormat, resolveFormat } from "./mapping.js";
import { ensurePrivateDir, stagingDirFor } from "./paths.js";
import { type Listing, listSource, planSync } from "./plan.js";
import { PRESETS } from "./presets.js";
import { getFormat, getMeta, setMeta } from "./schema.js";
import { deleteObjects } from "./status.js";

/** Inclusive partition dates `YYYY-MM-DD`; an absent end is open. */
export interface DateRange {
  from?: string;
  to?: string;
}

export interface SyncOptions {
  from?: string;
  to?: string;
  /**
   * Chooses the dates to sync from the dates the listing found (distinct, ascending), instead of
   * `from`/`to`; `null` selects none (nothing is fetched or removed). Watch mode follows the newest
   * partitions with it, from the one listing each run makes anyway.
   */
  select?: (dates: string[]) => DateRange | null;
  /** Explicit layout; otherwise the stored one, otherwise detected. */
  layout?: Layout;
  /** Explicit field mapping; otherwise the stored one, otherwise the default. */
  map?: FieldMap;
  /** `--preset` / `--map` / `--dedupe`: refine the stored format (see `resolveFormat`). */
  lake?: FormatRequest;
  concurrency?: number;
  signal?: AbortSignal;
  onProgress?: (p: SyncProgress) => void;
  /** Batch threshold in (estimated uncompressed) bytes. */
  batchBytes?: number;
}

export interface SyncProgress {
  phase: "listing" | "syncing" | "removing" | "done";
  listed: number;
  toFetch: number;
  fetched: number;
  ingested: number;
  bytesTotal: number;
  bytesDone: number;
  /** Bytes of objects whose rows are committed. */
  bytesIngested: number;
  events: number;
  rejected: number;
  skipped: number;
  duplicates: number;
  failed: number;
}

export interface SyncSummary {
  objects: { listed: number; downloaded: number; unchanged: number; removed: number; failed: number };
  bytes: number;
  events: number;
  rejected: number;
  /** Messages that are not events (by the preset), not stored and not rejected. */
  skipped: number;
  /** Events whose id was already cached or earlier in the batch. */
  duplicates: number;
  seconds: number;
  /** Wall time spent ingesting (the rest is listing and waiting on downloads). */
  ingestSeconds: number;
  ignored: number;
  undated: number;
  /** The first undated data files with the reason their date could not be read. */
  undatedKeys: { key: string; reason: string }[];
  layout: string;
  /** The preset in use, if any. */
  preset: string | null;
  failures: { key: string; error: string }[];
  /**
   * Failures of earlier runs cleared because their object is no longer in the source (within the
   * selected dates). A failed object replaced by a good one counts as downloaded instead.
   */
  clearedFailures: number;
  /** The dates planned (`from`/`to`, or what `select` chose); null when `select` chose none. */
  range: DateRange | null;
  /** Wall time per phase, in ms (download and ingest overlap; `download` is the rest of that stretch). */
  timings: SyncTimings;
}

export interface SyncTimings {
  /** Source check, mapping, staging folder. */
  setup: number;
  list: number;
  /** Recording the listing (`source_dates`) and diffing it against the manifest. */
  plan: number;
  download: number;
  ingest: number;
  /** Removals, failures, cleanup. */
  finish: number;
  checkpoint: number;
}

/**
 * Where an object is downloaded to. The name comes from the object id and a hash of the key, never
 * from the key itself, so no key (`..`, absolute paths, separators, NULs) can write outside staging.
 */
export function stagedPathFor(staging: string, objectId: number, key: string): string {
  const ext = isParquetKey(key)
    ? ".parquet"
    : { gzip: ".jsonl.gz", zstd: ".jsonl.zst", brotli: ".jsonl.br", none: ".jsonl" }[compressionOf(key)];
  return join(
    staging,
    `${Math.trunc(objectId)}-${createHash("sha1").update(key).digest("hex").slice(0, 16)}${ext}`,
  );
}

/** Files per ingest batch at most (each is one entry of read_json's file list). */
const MAX_BATCH_FILES = 512;
const EXT_WEIGHT = { gzip: 8, zstd: 8, brotli: 8, none: 1 } as const;
/** Estimated uncompressed bytes of an object. */
const weightOf = (o: { key: string; size: number }) => o.size * EXT_WEIGHT[compressionOf(o.key)];

/** A sync's progress before anything was listed. */
export function emptyProgress(): SyncProgress {
  return {
    phase: "listing",
    listed: 0,
    toFetch: 0,
    fetched: 0,
    ingested: 0,
    bytesTotal: 0,
    bytesDone: 0,
    bytesIngested: 0,
    events: 0,
    rejected: 0,
    skipped: 0,
    duplicates: 0,
    failed: 0,
  };
}

/**
 * Mirrors the selected partitions of `source` into the cache: list → diff → download → ingest,
 * then removal of objects that vanished from the selected dates.
 */
export async function sync(cache: Cache, source: Source, opts: SyncOptions = {}): Promise<SyncSummary> {
  const started = performance.now();
  const progress = emptyProgress();
  const emit = () => opts.onProgress?.({ ...progress });
  emit();
  const timings: SyncTimings = {
    setup: 0,
    list: 0,
    plan: 0,
    download: 0,
    ingest: 0,
    finish: 0,
    checkpoint: 0,
  };
  let mark = started;
  const lap = (phase: keyof SyncTimings) => {
    const now = performance.now();
    timings[phase] += now - mark;
    mark = now;
  };

  await checkSource(cache, source);
  const { format, changed } = await resolveLakeFormat(
    cache,
    opts.lake ?? (opts.map ? { map: opts.map } : undefined),
  );
  const preset = format.preset ? PRESETS[format.preset] : undefined;
  lap("setup");

  const listing = await listSource(cache, source, {
    // A new preset brings its vendor's layout, unless one is given.
    layout: opts.layout ?? (changed ? preset?.layout : undefined),
    presetLayout: preset?.layout,
    detect: preset?.detect,
    signal: opts.signal,
    onListed: (n) => {
      progress.listed = n;
      emit();
    },
  });
  const { layout, ignored, undated, undatedKeys } = listing;
  if (!listing.objects.length && undated) throw layoutFitsNone(listing, format.preset);
  lap("list");
  // The cache is bound to a source only once the source has answered; the listing of every date (not
  // only the selected ones) is kept for coverage, so a result can name the dates the cache lacks.
  await cache.transaction(async () => {
    await setMeta(cache, "source", source.url);
    await setMeta(cache, "source_kind", source.kind);
    await setMeta(cache, "layout", JSON.stringify(layout));
    await recordListing(cache, listing);
  });
  const range = opts.select
    ? opts.select([...new Set(listing.objects.map((o) => o.date))].sort())
    : { from: opts.from, to: opts.to };
  const { selected, toFetch, unchanged, removed } = range
    ? await planSync(cache, listing, range.from, range.to)
    : { selected: [], toFetch: [], unchanged: 0, removed: [] };
  lap("plan");

  progress.phase = "syncing";
  progress.listed = selected.length;
  progress.toFetch = toFetch.length;
  progress.bytesTotal = toFetch.reduce((s, o) => s + o.size, 0);
  emit();

  const staging = stagingDirFor(cache.path);
  await rm(staging, { recursive: true, force: true });
  ensurePrivateDir(staging);
  lap("setup");
  const failures: { key: string; date: string; error: string }[] = [];
  let downloadedBytes = 0;
  let downloaded = 0;

  const local = "localPath" in source ? (source as Source & { localPath(k: string): string }) : null;
  const limit = pLimit(Math.max(1, opts.concurrency ?? (local ? 1 : 16)));
  const ready: IngestItem[] = [];
  let readyBytes = 0;
  let inFlight = toFetch.length;
  let wake: (() => void) | null = null;
  const notify = () => {
    wake?.();
    wake = null;
  };
  const maxStaged = 1024 * 1024 * 1024;
  // Downloads stop on the caller's abort and on a fatal error; either way this run waits for them to
  // end before it returns, so no download of this run writes into the staging of the next one.
  const downloads = new AbortController();
  // Each running download listens on it (the S3 client and the body pipeline): not a leak, but more
  // than Node's default of 10 at 16 downloads, which would print a MaxListenersExceededWarning.
  setMaxListeners(Math.max(10, 4 * limit.concurrency), downloads.signal);
  const stopDownloads = () => downloads.abort(opts.signal?.reason);
  opts.signal?.addEventListener("abort", stopDownloads, { once: true });
  const stagedRoom = async () => {
    while (!local && readyBytes > maxStaged && !downloads.signal.aborted)
      await new Promise<void>((r) => setTimeout(r, 50));
  };

  let fatal: unknown = null;
  for (const o of toFetch) {
    void limit(async () => {
      try {
        downloads.signal.throwIfAborted();
        await stagedRoom();
        let path: string;
        if (local) path = local.localPath(o.key);
        else {
          path = stagedPathFor(staging, o.objectId, o.key);
          await source.download(o.key, `${path}.part`, downloads.signal);
          await rename(`${path}.part`, path);
        }
        progress.fetched++;
        progress.bytesDone += o.size;
        ready.push({
          key: o.key,
          date: o.date,
          version: o.version,
          size: o.size,
          path,
          objectId: o.objectId,
          replaces: o.replaces,
        });
        readyBytes += weightOf(o);
      } catch (e) {
        if (e instanceof SourceError && e.fatal) throw e;
        if (!downloads.signal.aborted) {
          failures.push({ key: o.key, date: o.date, error: errorText(e) });
          progress.failed++;
        }
      } finally {
        inFlight--;
        emit();
        notify();
      }
    }).catch((e) => {
      fatal = fatal ?? e;
      downloads.abort();
      notify();
    });
  }
  let ingestMs = 0;
  let firstBatch = true;
  const batchBytes = opts.batchBytes ?? (Number(process.env.EVX_BATCH_BYTES) || 512 * 1024 * 1024);
  try {
    while (true) {
      if (fatal) break;
      if (opts.signal?.aborted) break;
      const enough =
        readyBytes >= batchBytes || ready.length >= MAX_BATCH_FILES || (inFlight === 0 && ready.length > 0);
      if (!enough) {
        if (inFlight === 0) break;
        await new Promise<void>((r) => {
          wake = r;
        });
        continue;
      }
      // A local source has every file ready at once: cap each batch so its stage stays in memory.
      let take = 0;
      let takenBytes = 0;
      while (take < ready.length && take < MAX_BATCH_FILES && (take === 0 || takenBytes < batchBytes))
        takenBytes += weightOf(ready[take++]);
      const batch = ready.splice(0, take);
      readyBytes -= takenBytes;
      const t0 = performance.now();
      const outcomes = await ingestBatch(cache, batch, format, staging);
      ingestMs += performance.now() - t0;
      for (const r of outcomes) {
        const item = batch.find((b) => b.key === r.key)!;
        if (r.ok) {
          downloaded++;
          downloadedBytes += item.size;
          progress.events += r.events;
          progress.rejected += r.rejected;
          progress.skipped += r.skipped;
          progress.duplicates += r.duplicates;
          progress.ingested++;
          progress.bytesIngested += item.size;
        } else {
          failures.push({ key: r.key, date: item.date, error: r.error });
          progress.failed++;
        }
        if (!local) await rm(item.path, { force: true });
      }
      emit();
      if (firstBatch && format.preset) await checkPresetFits(cache, format, batch);
      firstBatch = false;
    }
  } finally {
    limit.clearQueue();
    if (inFlight > 0) {
      // Stopped early (abort, a fatal error, a failed batch): end the downloads still running.
      downloads.abort();
      while (limit.activeCount > 0) await sleep(5);
    }
    opts.signal?.removeEventListener("abort", stopDownloads);
  }
  timings.ingest = ingestMs;
  timings.download = Math.max(0, performance.now() - mark - ingestMs);
  mark = performance.now();
  if (fatal) throw fatal;
  opts.signal?.throwIfAborted();

  if (removed.length) {
    progress.phase = "removing";
    emit();
    await cache.transaction(() =>
      deleteObjects(
        cache,
        removed.map((r) => r.object_id),
      ),
    );
  }
  const clearedFailures = range ? await recordFailures(cache, failures, selected, range) : 0;
  await rm(staging, { recursive: true, force: true });
  // The saved behavioural cohorts, evaluated over the new data (the events are committed already:
  // an analysis meanwhile evaluates a cohort itself).
  if (downloaded || removed.length) await keepCohortsEvaluated(cache);
  lap("finish");
  await cache.run("CHECKPOINT");
  lap("checkpoint");

  progress.phase = "done";
  emit();
  return {
    objects: {
      listed: selected.length,
      downloaded,
      unchanged,
      removed: removed.length,
      failed: failures.length,
    },
    bytes: downloadedBytes,
    events: progress.events,
    rejected: progress.rejected,
    skipped: progress.skipped,
    duplicates: progress.duplicates,
    seconds: Math.round((performance.now() - started) / 10) / 100,
    ingestSeconds: Math.round(ingestMs / 10) / 100,
    ignored,
    undated,
    undatedKeys,
    layout: describeLayout(layout),
    preset: format.preset ?? null,
    failures: failures.map(({ key, error }) => ({ key, error })),
    clearedFailures,
    range,
    timings: roundTimings(timings),
  };
}

/** A cache mirrors one source; syncing another into it would mix two lakes. */
async function checkSource(cache: Cache, source: Source): Promise<void> {
  const held = await getMeta(cache, "source");
  if (!held || held === source.url) return;
  // A folder cache from before folder sources were named by their real path: the same folder.
  if (source.kind === "folder" && realPathOr(held) === source.url) {
    await setMeta(cache, "source", source.url);
    return;
  }
  throw new Error(`cache ${cache.path} mirrors ${held}, not ${source.url}; pass a different --cache`);
}

/**
 * The lake format (preset, map, dedupe) is stored with the cache; a different one rebuilds the cache,
 * since old rows were read with the old one. Returns the format and whether it is new to the cache.
 */
async function resolveLakeFormat(
  cache: Cache,
  given?: FormatRequest,
): Promise<{ format: LakeFormat; changed: boolean }> {
  const stored = await getFormat(cache);
  const format = resolveFormat(given, stored);
  const changed = !stored || formatKey(stored) !== formatKey(format);
  if (!changed) return { format, changed };
  await cache.transaction(async () => {
    if (stored)
      for (const t of [
        "events",
        "rejects",
        "objects",
        "object_types",
        "users",
        "failures",
        "event_ids",
        "duplicate_events",
        "cohort_memo",
      ])
        await cache.run(`DELETE FROM ${t}`);
    // The properties may now come from other fields: the next batch picks the hot keys again.
    if (stored) await cache.run("DELETE FROM meta WHERE key = 'hot_keys'");
    await setMeta(cache, "format", JSON.stringify(format));
    await setMeta(cache, "map", JSON.stringify(format.map));
  });
  return { format, changed };
}

/**
 * A layout (a preset's, `--layout` or the stored one) that dates none of the data files: nothing could
 * be synced, and an empty cache would pass for an empty lake. A usage error, before the cache changes.
 */
function layoutFitsNone(listing: Listing, preset: string | undefined): LayoutError {
  const first = listing.undatedKeys[0];
  const whose = preset ? `preset ${preset}'s layout` : "the layout";
  return new LayoutError(
    `${whose} (${describeLayout(listing.layout)}) dates none of the ${listing.undated.toLocaleString("en-US")} data files (${first.key}: ${first.reason}); ${preset ? "pick the preset of this lake, or pass --layout" : "pass the --layout of this lake"}`,
  );
}

/** The preset fits when most lines of the first batch are not rejected for one missing field. */
export class PresetMismatchError extends Error {
  override name = "PresetMismatchError";
}

async function checkPresetFits(cache: Cache, format: LakeFormat, batch: IngestItem[]): Promise<void> {
  const ids = listValue(batch.map((b) => b.objectId));
  const tot = await cache.one<{ n: number }>(
    "SELECT coalesce(sum(events + rejected + skipped + duplicates), 0) AS n FROM objects WHERE list_contains($1, object_id)",
    [ids],
  );
  const top = await cache.one<{ reason: string; n: number }>(
    `SELECT reason, count(*) AS n FROM rejects WHERE list_contains($1, object_id)
      GROUP BY reason ORDER BY n DESC, reason LIMIT 1`,
    [ids],
  );
  const total = Number(tot?.n ?? 0);
  if (!top || !total || Number(top.n) * 2 <= total) return;
  const field = /^missing (\w+)$/.exec(top.reason)?.[1] as keyof FieldMap | undefined;
  const what = field ? `lack ${field} (${format.map[field]})` : `are rejected: ${top.reason}`;
  throw new PresetMismatchError(
    `preset ${format.preset} does not fit this lake: ${top.n} of ${total} lines in the first batch ${what}; refine it with --map ${field ?? "COLUMN"}=FIELD, or pick another --preset`,
  );
}

/**
 * Replaces the recorded listing (`source_dates`: objects and bytes per partition date) and stamps
 * meta `listed_at`. The caller holds the transaction.
 */
async function recordListing(cache: Cache, listing: Listing): Promise<void> {
  const perDate = new Map<string, { objects: number; bytes: number }>();
  for (const o of listing.objects) {
    const d = perDate.get(o.date) ?? { objects: 0, bytes: 0 };
    d.objects++;
    d.bytes += o.size;
    perDate.set(o.date, d);
  }
  await cache.run("DELETE FROM source_dates");
  if (perDate.size) {
    const dates = [...perDate.keys()];
    await cache.run(
      "INSERT INTO source_dates SELECT unnest($1::VARCHAR[])::DATE, unnest($2::BIGINT[]), unnest($3::BIGINT[])",
      [
        listValue(dates),
        listValue(dates.map((d) => BigInt(perDate.get(d)!.objects))),
        listValue(dates.map((d) => BigInt(Math.round(perDate.get(d)!.bytes)))),
      ],
    );
  }
  await setMeta(cache, "listed_at", new Date().toISOString());
}

/**
 * Failures of this run replace earlier ones for the selected dates; they are retried next time. An
 * earlier failure of a selected date whose key this listing no longer holds is cleared (the object was
 * deleted): the count of those is returned. Failures of dates outside the selection stay, since this
 * run did not list them.
 */
async function recordFailures(
  cache: Cache,
  failures: { key: string; date: string; error: string }[],
  selected: { key: string }[],
  range: DateRange,
): Promise<number> {
  const listed = new Set(selected.map((s) => s.key));
  const inRange = "($1::VARCHAR IS NULL OR date >= $1::DATE) AND ($2::VARCHAR IS NULL OR date <= $2::DATE)";
  const bounds = [range.from ?? null, range.to ?? null];
  return cache.transaction(async () => {
    // Few rows (one per failed object): compared here rather than binding every listed key.
    const earlier = await cache.all<{ key: string }>(`SELECT key FROM failures WHERE ${inRange}`, bounds);
    const vanished = earlier.filter((f) => !listed.has(f.key)).length;
    await cache.run(`DELETE FROM failures WHERE ${inRange}`, bounds);
    if (selected.length)
      await cache.run("DELETE FROM failures WHERE list_contains($1, key)", [listValue([...listed])]);
    if (failures.length)
      await cache.run(
        `INSERT OR REPLACE INTO failures SELECT unnest($1), unnest($2)::DATE, unnest($3), now()`,
        [
          listValue(failures.map((f) => f.key)),
          listValue(failures.map((f) => f.date)),
          listValue(failures.map((f) => f.error)),
        ],
      );
    return vanished;
  });
}

function roundTimings(t: SyncTimings): SyncTimings {
  const r = { ...t };
  for (const k of Object.keys(r) as (keyof SyncTimings)[]) r[k] = Math.round(r[k]);
  return r;
}

function realPathOr(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

function errorText(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
