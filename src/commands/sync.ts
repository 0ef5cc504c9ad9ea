import { existsSync, rmSync, writeFileSync } from "node:fs";
import prettyBytes from "pretty-bytes";
import { Cache } from "../cache/db.js";
import { type FormatRequest, resolveFormat } from "../cache/mapping.js";
import {
  cacheHome,
  ensurePrivateDir,
  lastUsedFile,
  resolveCachePath,
  stagingDirFor,
} from "../cache/paths.js";
import { isPresetName, type PresetName, unknownPresetMessage } from "../cache/presets.js";
import { setMeta } from "../cache/schema.js";
import { type SyncSummary, sync } from "../cache/sync.js";
import type { WatchCycle } from "../cache/watch.js";
import { parseDuration } from "../queries/parse.js";
import { fmtInt } from "../render/table.js";
import { openSource } from "../source/index.js";
import { parseLayout } from "../source/layout.js";
import { takeStopSignals } from "../stopsignals.js";
import { checkDates } from "./dates.js";
import { EXIT, ExitError, UsageError } from "./errors.js";
import { printJson } from "./output.js";
import { type ProgressBar, progressBar } from "./progress.js";

export interface SyncArgs {
  source: string;
  from?: string;
  to?: string;
  cache?: string;
  json?: boolean;
  endpoint?: string;
  region?: string;
  profile?: string;
  signRequest?: boolean;
  concurrency?: number;
  layout?: string;
  map?: string;
  /** A collector's export format (src/cache/presets.ts). */
  preset?: string;
  /** Event id field for dedupe. */
  dedupe?: string;
  /** Sync again every `every` until Ctrl+C or SIGTERM. */
  watch?: boolean;
  /** Watch interval, a duration (`60s`, `5m`); default 60s. */
  every?: string;
}

/** Watch intervals shorter than this are refused: every cycle lists the whole source. */
export const WATCH_MIN_EVERY_MS = 5000;
export const WATCH_DEFAULT_EVERY = "60s";

/**
 * `--every` in ms. `EVX_WATCH_MIN_EVERY_MS` lowers the 5 s minimum; it is a hook for the tests, which
 * would otherwise wait 5 s per cycle, and is honoured only when set.
 */
export function parseEvery(text: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  let seconds: number;
  try {
    seconds = parseDuration(text ?? WATCH_DEFAULT_EVERY);
  } catch (e) {
    throw new UsageError(`--every: ${(e as Error).message}`);
  }
  const hook = env.EVX_WATCH_MIN_EVERY_MS ? Number(env.EVX_WATCH_MIN_EVERY_MS) : Number.NaN;
  const min = Number.isFinite(hook) && hook >= 0 ? hook : WATCH_MIN_EVERY_MS;
  if (seconds * 1000 < min)
    throw new UsageError(
      `--every must be at least ${min / 1000}s, got '${text}': each cycle lists the source`,
    );
  return seconds * 1000;
}

/** Makes `path` the default cache of the reading commands (`src/commands/cachepath.ts`). */
export function rememberCache(path: string): void {
  try {
    ensurePrivateDir(cacheHome());
    writeFileSync(lastUsedFile(), `${path}\n`, { mode: 0o600 });
  } catch {
    // Remembering is a convenience; a read-only home must not fail the sync.
  }
}

/** What the stop handler shares with the run: the bar to freeze, and whether the run is ending. */
interface RunState {
  bar: ProgressBar | null;
  /**
   * Set once the run is ending (closing the cache, removing or remembering it): a signal then has
   * nothing left to stop, and must neither kill the process half-way nor turn a clean end into 130.
   */
  finishing: boolean;
}

export async function runSync(a: SyncArgs): Promise<SyncSummary | undefined> {
  const ac = new AbortController();
  const st: RunState = { bar: null, finishing: false };
  let interrupts = 0;
  const onSig = () => {
    if (st.finishing) return;
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    // The bar stops drawing first and keeps its last state on its line; without one, a new line
    // leaves the terminal's `^C` behind.
    const froze = st.bar?.freeze() ?? false;
    process.stderr.write(
      `${froze ? "" : "\n"}evx: stopping${a.watch ? " the watch" : ""} after the current batch${a.watch ? ", if any" : ""} (Ctrl+C again to quit now)\n`,
    );
    ac.abort();
  };
  // Ctrl+C / SIGTERM are held since start-up (src/stopsignals.ts): one that came early is handled now.
  const untake = takeStopSignals(onSig);
  try {
    return await syncOrWatch(a, ac.signal, st);
  } finally {
    untake();
  }
}

async function syncOrWatch(a: SyncArgs, stop: AbortSignal, st: RunState): Promise<SyncSummary | undefined> {
  checkDates(a.from, a.to);
  if (
    a.concurrency !== undefined &&
    !(Number.isInteger(a.concurrency) && a.concurrency >= 1 && a.concurrency <= 256)
  )
    throw new UsageError("--concurrency must be a whole number from 1 to 256");
  if (a.every !== undefined && !a.watch) throw new UsageError("--every needs --watch");
  const everyMs = a.watch ? parseEvery(a.every) : 0;
  const layout = a.layout ? parseLayout(a.layout) : undefined;
  if (a.preset !== undefined && !isPresetName(a.preset)) throw new UsageError(unknownPresetMessage(a.preset));
  const lake: FormatRequest | undefined =
    a.preset || a.map || a.dedupe
      ? { preset: a.preset as PresetName | undefined, map: a.map, dedupe: a.dedupe }
      : undefined;
  try {
    // Checked here so a bad --map or --dedupe is a usage error before the cache is touched.
    resolveFormat(lake, undefined);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const source = openSource(a.source, {
    endpoint: a.endpoint,
    region: a.region,
    profile: a.profile,
    noSignRequest: a.signRequest === false,
  });
  const cachePath = resolveCachePath({ cache: a.cache, source: source.url })!;
  // A sync that ends with nothing in a cache it created removes it; it never removes one that was there.
  const created = !existsSync(cachePath);
  // Stopped before the cache was touched: nothing to write, nothing to undo.
  if (stop.aborted) {
    if (!a.watch) return interrupted();
    if (!a.json) process.stderr.write("evx: watch stopped before its first cycle\n");
    return undefined;
  }
  const cache = await Cache.open(cachePath, { create: true });
  // Only a sync that ends (exit 0, or 3 with objects that landed) makes its cache the default.
  let ended = false;
  // Whether the cache holds objects, as last seen (after the sync, after each watch cycle); read at
  // the end only when unknown, so a stopped watch exits as soon as its last cycle is printed.
  let holds: boolean | undefined;
  /** A cache this run created and left empty was removed (or is to be, once closed). */
  let dropped: boolean | undefined;
  // Non-secret connection settings, so the TUI can sync again; credentials in an endpoint URL are dropped.
  await setMeta(
    cache,
    "source_options",
    JSON.stringify({
      endpoint: a.endpoint ? stripCredentials(a.endpoint) : undefined,
      region: a.region,
      profile: a.profile,
      noSignRequest: a.signRequest === false || undefined,
    }),
  );

  const bar = !a.json && process.stderr.isTTY ? progressBar() : null;
  st.bar = bar;

  try {
    if (a.watch) {
      await runWatch(a, cache, source, {
        bar,
        cachePath,
        everyMs,
        layout,
        lake,
        signal: stop,
        onCycleEnded: async (whole) => {
          if (whole) ended = true;
          holds = await holdsObjects(cache).catch(() => true);
        },
      });
      return undefined;
    }
    try {
      const summary = await sync(cache, source, {
        from: a.from,
        to: a.to,
        layout,
        lake,
        concurrency: a.concurrency,
        signal: stop,
        onProgress: bar?.update,
      });
      bar?.stop();
      ended = true;
      holds = await holdsObjects(cache).catch(() => true);
      if (created && !holds) dropped = await dropEmpty(cache);
      const kept = !dropped;
      if (a.json) printJson(summaryJson(summary, kept ? cachePath : null));
      else printSummary(summary, kept ? cachePath : null);
      if (summary.objects.failed > 0) throw new ExitError(EXIT.partial);
      return summary;
    } catch (e) {
      bar?.stop();
      if (stop.aborted && !(e instanceof ExitError)) interrupted();
      throw e;
    }
  } finally {
    st.finishing = true;
    try {
      // Unknown (the cache could not be read): keep it, as if it held objects.
      holds ??= await holdsObjects(cache).catch(() => true);
      if (created && !holds && dropped === undefined) dropped = await dropEmpty(cache);
      cache.close();
      if (dropped) removeCacheFiles(cachePath);
      else if (holds && ended) rememberCache(cachePath);
    } finally {
      st.bar = null;
    }
  }
}

/**
 * Whether a cache this run created and left empty may go. In shared mode its host holds the file: it
 * closes and removes it (and exits) unless another process is on the cache, in which case it stays.
 */
async function dropEmpty(cache: Cache): Promise<boolean> {
  const conn = cache.conn as unknown as { drop?: () => Promise<boolean> };
  return typeof conn.drop === "function" ? conn.drop().catch(() => false) : true;
}

/** Whether the cache holds any synced object (an empty one is not worth keeping or defaulting to). */
async function holdsObjects(cache: Cache): Promise<boolean> {
  return !!(await cache.one<{ n: boolean }>("SELECT EXISTS (SELECT 1 FROM objects) AS n"))?.n;
}

/** A cache file this run created, with its write-ahead log and staging folder. */
function removeCacheFiles(cachePath: string): void {
  for (const p of [cachePath, `${cachePath}.wal`, stagingDirFor(cachePath)])
    rmSync(p, { recursive: true, force: true });
}

function interrupted(): never {
  process.stderr.write("evx: sync interrupted; the cache is consistent and the next sync resumes\n");
  throw new ExitError(EXIT.interrupted);
}

/** The `--json` object of one sync (and of each watch cycle, which adds `cycle` and `at`). */
function summaryJson(s: SyncSummary, cachePath: string | null) {
  return {
    objects: s.objects,
    bytes: s.bytes,
    events: s.events,
    rejected: s.rejected,
    skipped: s.skipped,
    duplicates: s.duplicates,
    seconds: s.seconds,
    ignored: s.ignored,
    undated: s.undated,
    undated_keys: s.undatedKeys,
    preset: s.preset,
    failures: s.failures,
    cleared_failures: s.clearedFailures,
    cache: cachePath,
  };
}

/**
 * `evx sync --watch`: the loop is src/cache/watch.ts; this prints each cycle. Exits 0 when Ctrl+C or
 * SIGTERM stops it. An error of the first cycle ends it as `evx sync` would end (a wrong bucket or
 * layout should not be polled forever); after that, a failed cycle is reported and the next retries.
 */
async function runWatch(
  a: SyncArgs,
  cache: Cache,
  source: ReturnType<typeof openSource>,
  o: {
    /** The first cycle may be a long catch-up: it gets the progress bar on a terminal. */
    bar: ProgressBar | null;
    cachePath: string;
    everyMs: number;
    layout: ReturnType<typeof parseLayout> | undefined;
    lake: FormatRequest | undefined;
    signal: AbortSignal;
    /** After each cycle: `whole` unless it failed as a whole (some objects may have failed). */
    onCycleEnded: (whole: boolean) => Promise<void>;
  },
): Promise<void> {
  const { watch } = await import("../cache/watch.js");
  const { bar } = o;
  let cycles = 0;
  await watch(cache, source, {
    from: a.from,
    to: a.to,
    layout: o.layout,
    lake: o.lake,
    concurrency: a.concurrency,
    everyMs: o.everyMs,
    signal: o.signal,
    stopOn: (_e, n) => {
      if (n === 1) bar?.stop();
      return n === 1;
    },
    onProgress: (n, p) => {
      if (n === 1) bar?.update(p);
    },
    onCycle: async (c) => {
      cycles = c.cycle;
      if (c.cycle === 1) bar?.stop();
      // Before the line is printed: whoever reads it may stop the watch at once.
      await o.onCycleEnded(!c.failedWhole);
      if (a.json) printJson(cycleJson(c, o.cachePath));
      else printCycle(c, source.url, o.everyMs);
    },
  });
  if (!a.json)
    process.stderr.write(
      `evx: watch stopped after ${fmtInt(cycles)} cycle${cycles === 1 ? "" : "s"}; the cache is consistent\n`,
    );
}

/** One line per cycle: the sync `--json` object plus `cycle`, `at`, the cache's events and any `error`. */
export function cycleJson(c: WatchCycle, cachePath: string) {
  return {
    cycle: c.cycle,
    at: c.at.toISOString(),
    ...summaryJson(c.summary, cachePath),
    cache_events: c.cacheEvents,
    ...(c.error !== undefined ? { error: c.error } : {}),
    ...(c.interrupted ? { interrupted: true } : {}),
  };
}

const plural = (n: number, word: string) => `${fmtInt(n)} ${word}${n === 1 ? "" : "s"}`;

/** `14:45:03  +1 object  +1,234 events  cache 2,001,234 events  next in 60s`; failures on stderr. */
function printCycle(c: WatchCycle, url: string, everyMs: number): void {
  const time = c.at.toLocaleTimeString("en-GB", { hour12: false });
  const s = c.summary;
  if (c.cycle === 1 && !c.failedWhole)
    process.stderr.write(
      `evx: watching ${url}${watchedDates(s)} every ${fmtSeconds(everyMs)}; Ctrl+C stops\n`,
    );
  const next = c.nextAt ? `next in ${fmtSeconds(Math.max(0, c.nextAt.getTime() - Date.now()))}` : "stopping";
  if (c.failedWhole) {
    process.stderr.write(
      `evx: ${time}  cycle ${c.cycle} failed: ${c.error}${s.objects.downloaded ? ` (${plural(s.objects.downloaded, "object")} landed first)` : ""}; ${c.nextAt ? `retrying, ${next}` : "stopping"}\n`,
    );
    return;
  }
  const parts = [time, `+${plural(s.objects.downloaded, "object")}`, `+${plural(s.events, "event")}`];
  if (s.objects.removed) parts.push(`-${plural(s.objects.removed, "object")} removed`);
  if (s.clearedFailures) parts.push(`${plural(s.clearedFailures, "failure")} cleared`);
  if (c.cacheEvents !== null) parts.push(`cache ${plural(c.cacheEvents, "event")}`);
  parts.push(c.interrupted ? "stopped" : next);
  process.stdout.write(`${parts.join("  ")}\n`);
  if (c.error) process.stderr.write(`evx: ${time}  cycle ${c.cycle}: ${c.error}; the next cycle retries\n`);
}

function watchedDates(s: SyncSummary): string {
  const r = s.range;
  if (!r) return ", no dates yet,";
  if (r.from && r.to) return `, dates ${r.from} to ${r.to},`;
  if (r.from) return `, dates ${r.from} on,`;
  if (r.to) return `, dates up to ${r.to},`;
  return ", all dates,";
}

function fmtSeconds(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120 || s % 60) return `${s}s`;
  return s % 3600 ? `${s / 60}m` : `${s / 3600}h`;
}

function printSummary(s: SyncSummary, cachePath: string | null): void {
  const o = s.objects;
  const lines = [
    `synced ${fmtInt(o.downloaded)} of ${fmtInt(o.listed)} objects (${prettyBytes(s.bytes)}) in ${s.seconds}s: ${fmtInt(s.events)} events, ${fmtInt(s.rejected)} rejected lines${s.skipped ? `, ${fmtInt(s.skipped)} skipped messages` : ""}${s.duplicates ? `, ${fmtInt(s.duplicates)} duplicates` : ""}${s.preset ? ` (preset ${s.preset})` : ""}`,
    `  unchanged ${fmtInt(o.unchanged)}, removed ${fmtInt(o.removed)}, failed ${fmtInt(o.failed)}; layout ${s.layout}${s.ignored ? `; ignored ${fmtInt(s.ignored)} non-data files` : ""}${s.undated ? `; ${fmtInt(s.undated)} files outside the layout` : ""}`,
    cachePath
      ? `  cache ${cachePath}`
      : "  nothing landed, so no cache was kept (and the default cache is unchanged)",
  ];
  for (const u of s.undatedKeys.slice(0, 5)) lines.push(`  ignored ${u.key}: ${u.reason}`);
  if (s.undated > 5)
    lines.push(`  … and ${fmtInt(s.undated - 5)} more files outside the layout (--json lists 20)`);
  if (s.rejected) lines.push("  see rejected lines with `evx rejects`");
  if (s.clearedFailures)
    lines.push(
      `  cleared ${plural(s.clearedFailures, "earlier failure")}: the object is no longer in the source`,
    );
  for (const f of s.failures.slice(0, 10)) lines.push(`  failed: ${f.error}`);
  if (s.failures.length > 10) lines.push(`  … and ${s.failures.length - 10} more failures (evx status)`);
  process.stderr.write(`${lines.join("\n")}\n`);
}

/** `https://user:pass@host/` → `https://host/`. */
export function stripCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}
