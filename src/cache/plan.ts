import {
  dateOf,
  detectLayout,
  inDateRange,
  isDataFile,
  type Layout,
  undatedReason,
} from "../source/layout.js";
import type { ListedObject, Source } from "../source/types.js";
import type { Cache } from "./db.js";
import { getMeta } from "./schema.js";

export type DatedObject = ListedObject & { date: string };

export interface ManifestRow {
  object_id: number;
  key: string;
  date: string;
  version: string;
  size: number;
}

/** What a source holds, resolved against the layout: the input to a sync plan or the Sync screen. */
export interface Listing {
  layout: Layout;
  objects: DatedObject[];
  ignored: number;
  undated: number;
  /** The first undated data files, with why their date could not be read (never guessed). */
  undatedKeys: { key: string; reason: string }[];
}

/** Undated keys listed by name at most (the count covers them all). */
const UNDATED_LISTED = 20;

export async function listSource(
  cache: Cache,
  source: Source,
  opts: {
    layout?: Layout;
    /** A preset's layout (used unless `layout` is given or one is stored) and extra detection candidates. */
    presetLayout?: Layout;
    detect?: Layout[];
    signal?: AbortSignal;
    onListed?: (n: number) => void;
  } = {},
): Promise<Listing> {
  const all: ListedObject[] = [];
  for await (const o of source.list(opts.signal)) {
    all.push(o);
    if (all.length % 1000 === 0) opts.onListed?.(all.length);
  }
  const stored = await getMeta(cache, "layout");
  const layout =
    opts.layout ??
    (stored ? (JSON.parse(stored) as Layout) : undefined) ??
    opts.presetLayout ??
    detectLayout(
      all.filter((o) => isDataFile(o.key)).map((d) => d.key),
      opts.detect,
    );
  const data = all.filter((o) => isDataFile(o.key, layout));
  const objects: DatedObject[] = [];
  let undated = 0;
  const undatedKeys: Listing["undatedKeys"] = [];
  for (const o of data) {
    const date = dateOf(o.key, layout);
    if (date === null) {
      undated++;
      if (undatedKeys.length < UNDATED_LISTED)
        undatedKeys.push({ key: o.key, reason: undatedReason(o.key, layout) ?? "no date" });
    } else objects.push({ ...o, date });
  }
  objects.sort((a, b) => (a.date === b.date ? (a.key < b.key ? -1 : 1) : a.date < b.date ? -1 : 1));
  return { layout, objects, ignored: all.length - data.length, undated, undatedKeys };
}

export interface SyncPlan {
  selected: DatedObject[];
  toFetch: (DatedObject & { objectId: number; replaces: boolean })[];
  unchanged: number;
  removed: ManifestRow[];
}

/** Diff of a listing against the manifest within [from, to]: new or changed objects, and vanished ones. */
export async function planSync(
  cache: Cache,
  listing: Listing,
  from?: string,
  to?: string,
): Promise<SyncPlan> {
  const selected = listing.objects.filter((o) => inDateRange(o.date, from, to));
  const manifest = await manifestRows(cache);
  const byKey = new Map(manifest.map((m) => [m.key, m]));
  const listedKeys = new Set(selected.map((s) => s.key));
  let nextId = manifest.reduce((m, r) => Math.max(m, r.object_id), 0) + 1;
  const toFetch: SyncPlan["toFetch"] = [];
  let unchanged = 0;
  for (const o of selected) {
    const old = byKey.get(o.key);
    if (old && old.version === o.version) unchanged++;
    else toFetch.push({ ...o, objectId: old ? old.object_id : nextId++, replaces: !!old });
  }
  const removed = manifest.filter((m) => !listedKeys.has(m.key) && inDateRange(m.date, from, to));
  return { selected, toFetch, unchanged, removed };
}

export async function manifestRows(cache: Cache): Promise<ManifestRow[]> {
  return cache.all<ManifestRow>(
    "SELECT object_id, key, strftime(date, '%Y-%m-%d') AS date, version, size FROM objects",
  );
}

export type PartitionState = "synced" | "stale" | "not synced" | "failed" | "cached only";

export interface PartitionRow {
  date: string;
  state: PartitionState;
  /** Objects and bytes in the source for this date. */
  sourceObjects: number;
  sourceBytes: number;
  /** Objects and events held in the cache for this date. */
  cachedObjects: number;
  cachedEvents: number;
  failed: number;
}

/**
 * One row per date known to the source or the cache: `synced` (cache matches source),
 * `stale` (new, changed or vanished objects), `not synced`, `failed` (an object failed last time),
 * or `cached only` (the source no longer has the date).
 */
export async function partitionStates(cache: Cache, listing: Listing): Promise<PartitionRow[]> {
  const manifest = await manifestRows(cache);
  const events = await cache.all<{ date: string; events: number }>(
    "SELECT strftime(date, '%Y-%m-%d') AS date, sum(events) AS events FROM objects GROUP BY date",
  );
  const failures = await cache.all<{ date: string; n: number }>(
    "SELECT strftime(date, '%Y-%m-%d') AS date, count(*) AS n FROM failures GROUP BY date",
  );
  const rows = new Map<string, PartitionRow & { diff: boolean }>();
  const row = (date: string) => {
    let r = rows.get(date);
    if (!r) {
      r = {
        date,
        state: "not synced",
        sourceObjects: 0,
        sourceBytes: 0,
        cachedObjects: 0,
        cachedEvents: 0,
        failed: 0,
        diff: false,
      };
      rows.set(date, r);
    }
    return r;
  };
  const byKey = new Map(manifest.map((m) => [m.key, m]));
  const listed = new Set<string>();
  for (const o of listing.objects) {
    const r = row(o.date);
    r.sourceObjects++;
    r.sourceBytes += o.size;
    listed.add(o.key);
    if (byKey.get(o.key)?.version !== o.version) r.diff = true;
  }
  for (const m of manifest) {
    const r = row(m.date);
    r.cachedObjects++;
    if (!listed.has(m.key)) r.diff = true;
  }
  for (const e of events) row(e.date).cachedEvents = e.events;
  for (const f of failures) if (f.date) row(f.date).failed = f.n;
  return [...rows.values()]
    .map(({ diff, ...r }) => ({
      ...r,
      state: (r.failed
        ? "failed"
        : r.sourceObjects === 0
          ? "cached only"
          : r.cachedObjects === 0
            ? "not synced"
            : diff
              ? "stale"
              : "synced") as PartitionState,
    }))
    .sort((a, b) => (a.date < b.date ? -1 : 1));
}
