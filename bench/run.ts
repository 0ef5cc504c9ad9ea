/**
 * `npm run bench -- [--events N] [--source folder|s3] [--runs 5] [--syncs 3] [--keep] [--no-clickhouse] [--dedupe] [--queries-only [--only NAME]] [--generate-only] [--sample-rate P%]`
 * `npm run bench -- --shared [--cache PATH] [--runs 9] [--puts 5]`: many processes on one cache (bench/multi.ts).
 *
 * `--dedupe` also syncs the lake with dedupe on (the id is `event_time`, the synthetic lake's nearest to
 * a per-event id: microsecond text, unique but for rare collisions) into fresh caches, and reports the
 * median ingest rate against the same read_json baseline as `dedupe`.
 *
 * Generates (or reuses) a synthetic lake, syncs it into a fresh cache (median of `--syncs`, default 3), times
 * DuckDB's own read_json of the same files as a baseline, runs each analysis `runs` times and reports
 * medians. Writes bench/results-<events>.json. Not a test: CI does not run it.
 *
 * Sampling (bench/sample.ts): per analysis, the exact answer and a `--sample` estimate (10% up to 50M
 * events, 1% above, or `--sample-rate`), timed on each engine: the speed-up and the estimate's error.
 *
 * `--queries-only` re-times the analyses (those whose name contains `--only`) on the cache a `--keep`
 * run left; it prints medians and does not touch the results files, except that `--clickhouse` adds
 * the ClickHouse side (load + analyses + windowFunnel) to `results-<events>.json`. `--generate-only` makes the lake.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, freemem, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { DuckDBInstance } from "@duckdb/node-api";
import { Cache } from "../src/cache/db.js";
import { sync } from "../src/cache/sync.js";
import { Executor } from "../src/queries/executor.js";
import { sampleText } from "../src/queries/sample.js";
import type { DateRange } from "../src/queries/spec.js";
import { folderSource } from "../src/source/folder.js";
import { s3Source } from "../src/source/s3.js";
import { ensureLake } from "../src/source/synthetic.js";
import { benchSampleRate, type SampleRow, sampleLines, sampleSide } from "./sample.js";
import { keepBenchCohorts, specs } from "./specs.js";

const args = process.argv.slice(2);
const arg = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};

/** Default size: 20M events when the machine has room for it (≈3 GB of JSON plus the cache), else less. */
function defaultEvents(): number {
  const freeDisk = (() => {
    try {
      const out = execFileSync("df", ["-Pk", tmpdir()], { encoding: "utf8" })
        .trim()
        .split("\n")[1]
        .split(/\s+/);
      return Number(out[3]) * 1024;
    } catch {
      return 0;
    }
  })();
  const need20m = 5e9;
  if (freeDisk > need20m && totalmem() >= 8 * 2 ** 30) return 20_000_000;
  return 2_000_000;
}

const events = Number(arg("events") ?? defaultEvents());
const sourceKind = (arg("source") ?? "folder") as "folder" | "s3";
const runs = Number(arg("runs") ?? 5);
/** Syncs (and raw baselines) to take the median of: at 100M each takes minutes. */
const syncRuns = Number(arg("syncs") ?? Math.min(3, runs));
const root = join(tmpdir(), "evx-bench");
const lakeDir = join(root, `lake-${events}`);
const cachePath = join(root, `cache-${events}-${sourceKind}.duckdb`);

const sampleRate = benchSampleRate(events, arg("sample-rate"));

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const log = (s: string) => process.stderr.write(`${s}\n`);

function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true }))
    if (e.isFile() && !e.name.startsWith(".")) n += statSync(join(e.parentPath, e.name)).size;
  return n;
}

/**
 * Uncompressed JSON bytes of the lake (gz files count at their inflated size). Inflating 100M events
 * takes minutes, so the figure is kept beside the lake, keyed by the lake's generator manifest.
 */
function rawJsonBytes(dir: string): number {
  const memo = join(dir, ".raw-bytes.json");
  const manifest = join(dir, ".evx-lake.json");
  const stamp = existsSync(manifest) ? statSync(manifest).mtimeMs : 0;
  try {
    const m = JSON.parse(readFileSync(memo, "utf8")) as { stamp: number; bytes: number };
    if (m.stamp === stamp) return m.bytes;
  } catch {}
  const bytes = inflatedBytes(dir);
  writeFileSync(memo, JSON.stringify({ stamp, bytes }));
  return bytes;
}

function inflatedBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || e.name.startsWith(".")) continue;
    const p = join(e.parentPath, e.name);
    if (e.name.endsWith(".gz")) {
      const out = execFileSync("sh", ["-c", `gzip -dc '${p}' | wc -c`], { encoding: "utf8" });
      n += Number(out.trim());
    } else n += statSync(p).size;
  }
  return n;
}

async function baseline(): Promise<{ seconds: number; rate: number }> {
  const path = join(root, "baseline.duckdb");
  const times: number[] = [];
  for (let i = 0; i < syncRuns; i++) {
    rmSync(path, { force: true });
    rmSync(`${path}.wal`, { force: true });
    const db = await DuckDBInstance.create(path);
    const c = await db.connect();
    const t = performance.now();
    await c.run(
      `CREATE TABLE raw AS SELECT * FROM read_json('${lakeDir}/*/*.json*', format = 'newline_delimited',
         columns = {event_type: 'VARCHAR', event_time: 'TIMESTAMPTZ', user_id: 'VARCHAR', event_properties: 'JSON'})`,
    );
    await c.run("CHECKPOINT");
    times.push((performance.now() - t) / 1000);
    c.closeSync();
    db.closeSync();
  }
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
  const seconds = median(times);
  return { seconds, rate: events / seconds };
}

/** Launch → first frame of the real TUI in tmux, in ms (median of 3), or null without tmux. */
async function firstFrameMs(): Promise<number | null> {
  if (spawnSync("tmux", ["-V"]).status !== 0) return null;
  const bin = fileURLToPath(new URL("../bin/evx", import.meta.url));
  if (!existsSync(fileURLToPath(new URL("../dist/cli.js", import.meta.url)))) return null;
  const times: number[] = [];
  for (let i = 0; i < 3; i++) {
    const session = `evx-bench-${process.pid}-${i}`;
    const t0 = performance.now();
    spawnSync("tmux", [
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "100",
      "-y",
      "30",
      `${bin} ui --cache '${cachePath}'`,
    ]);
    let ms: number | null = null;
    while (performance.now() - t0 < 10_000) {
      const screen =
        spawnSync("tmux", ["capture-pane", "-p", "-t", session], { encoding: "utf8" }).stdout ?? "";
      if (/Events/.test(screen) && /Trends/.test(screen)) {
        ms = performance.now() - t0;
        break;
      }
      await sleep(5);
    }
    spawnSync("tmux", ["kill-session", "-t", session]);
    if (ms !== null) times.push(ms);
  }
  return times.length ? median(times) : null;
}

async function timeQueries(cache: Cache): Promise<Record<string, number>> {
  const ex = new Executor(cache);
  const range = await ex.resolveRange({ tz: "UTC" });
  const queries: Record<string, number> = {};
  const only = arg("only");
  for (const { name, spec } of specs(range)) {
    if (only && !name.includes(only)) continue;
    const ms: number[] = [];
    for (let i = 0; i < runs; i++) ms.push((await ex.run(spec)).ms);
    queries[name] = Math.round(median(ms));
    log(`  ${name.padEnd(26)} ${queries[name]} ms`);
  }
  ex.close();
  logRatios(range, queries);
  logAgainstPrevious(queries);
  return queries;
}

/** How far a median may move between two runs on this shared machine before it counts as slower. */
const NOISE = 1.3;

/**
 * Each analysis against the last recorded run of this size (`results-<events>.json`, before this run
 * writes it): issue #26's "nothing already measured gets slower by more than the noise", said in the
 * summary. Returns the analyses that got slower beyond `NOISE`.
 */
function logAgainstPrevious(ms: Record<string, number>): string[] {
  const file = fileURLToPath(new URL(`./results-${events}.json`, import.meta.url));
  if (!existsSync(file)) return [];
  const prev = JSON.parse(readFileSync(file, "utf8")) as {
    when?: string;
    queries_ms?: Record<string, number>;
  };
  const before = prev.queries_ms ?? {};
  const slower: string[] = [];
  const compared: string[] = [];
  for (const [name, now] of Object.entries(ms)) {
    const then = before[name];
    if (!then) continue;
    compared.push(name);
    const r = now / then;
    if (r > NOISE) slower.push(`${name} ${then} → ${now} ms (${r.toFixed(2)}×)`);
  }
  if (!compared.length) return [];
  log(
    `  against the run of ${prev.when ?? "?"} (${compared.length} analyses, noise ±${Math.round((NOISE - 1) * 100)}%):`,
  );
  if (!slower.length) log("    nothing got slower beyond the noise");
  for (const x of slower) log(`    SLOWER: ${x}`);
  return slower;
}

/** Sampling on DuckDB: each sampled analysis exact and at the bench's rate (bench/sample.ts). */
async function sampleDuck(cache: Cache): Promise<Record<string, SampleRow>> {
  const ex = new Executor(cache);
  const range = await ex.resolveRange({ tz: "UTC" });
  const rows = await sampleSide(
    async (spec) => {
      const ms: number[] = [];
      let result: unknown;
      for (let i = 0; i < runs; i++) {
        const o = await ex.run(spec);
        ms.push(o.ms);
        result = o.result;
      }
      return { ms: median(ms), result };
    },
    range,
    sampleRate,
    arg("only"),
  );
  ex.close();
  for (const l of sampleLines("DuckDB", sampleRate, rows)) log(l);
  return rows;
}

/** Issue #27: each extension's median against its base's (within 1.5× is the budget). */
function logRatios(range: DateRange, ms: Record<string, number>): void {
  for (const { name, base } of specs(range)) {
    if (!base || ms[name] === undefined || ms[base] === undefined) continue;
    const r = ms[name] / Math.max(1, ms[base]);
    log(`  ${name} / ${base}: ${r.toFixed(2)}× ${r <= 1.5 ? "(within 1.5×)" : "(OVER 1.5×)"}`);
  }
}

async function clickhouseSide(range: DateRange) {
  const { loadLake, timeSpec, windowFunnelMs } = await import("./clickhouse.js");
  log("  ClickHouse (chdb): loading the lake…");
  // A load of 20M events takes minutes in process: large lakes are loaded once.
  const loads: ReturnType<typeof loadLake>[] = [];
  for (let i = 0; i < (events > 5_000_000 ? 1 : Math.min(3, runs)); i++)
    loads.push(loadLake(lakeDir, "bench_events"));
  const load = [...loads].sort((a, b) => a.seconds - b.seconds)[loads.length >> 1];
  log(
    `    ${load.seconds.toFixed(1)}s, ${load.events.toLocaleString()} events, ${(load.bytes / 1e6).toFixed(0)} MB`,
  );
  const queries_ms: Record<string, number> = {};
  const window_funnel_ms: Record<string, number> = {};
  const only = arg("only");
  for (const { name, spec } of specs(range)) {
    if (only && !name.includes(only)) continue;
    queries_ms[name] = Math.round(timeSpec("bench_events", spec, runs));
    if (spec.kind === "funnel")
      window_funnel_ms[name] = Math.round(windowFunnelMs("bench_events", spec, runs));
    log(
      `  ${name.padEnd(26)} ${queries_ms[name]} ms${window_funnel_ms[name] !== undefined ? ` (windowFunnel ${window_funnel_ms[name]} ms)` : ""}`,
    );
  }
  logRatios(range, queries_ms);
  const { runSpec } = await import("./clickhouse.js");
  const sampling = await sampleSide(
    async (spec) => runSpec("bench_events", spec, runs),
    range,
    sampleRate,
    only,
  );
  for (const l of sampleLines("ClickHouse", sampleRate, sampling)) log(l);
  return {
    engine: "chdb",
    sampling,
    load_seconds: +load.seconds.toFixed(2),
    events: load.events,
    rejected: load.rejected,
    bytes: load.bytes,
    bytes_per_event: +(load.bytes / Math.max(1, load.events)).toFixed(1),
    queries_ms,
    window_funnel_ms,
  };
}

async function main() {
  mkdirSync(root, { recursive: true });
  if (args.includes("--shared")) {
    // Many processes on one cache (bench/multi.ts): on the demo cache unless --cache names one.
    const { benchShared } = await import("./multi.js");
    const { demoCacheFile } = await import("../src/cache/paths.js");
    const cache = arg("cache") ?? demoCacheFile(process.env);
    if (!existsSync(cache))
      throw new Error(`no cache at ${cache}: run \`evx demo --no-ui\` first, or pass --cache`);
    const r = await benchShared({ cache, runs: Number(arg("runs") ?? 9), puts: Number(arg("puts") ?? 5) });
    const out = fileURLToPath(new URL("./results-shared.json", import.meta.url));
    writeFileSync(out, `${JSON.stringify({ when: new Date().toISOString(), cache, ...r }, null, 2)}\n`);
    console.log(JSON.stringify(r, null, 2));
    return;
  }
  if (args.includes("--generate-only")) {
    await ensureLake({ dir: lakeDir, events });
    return;
  }
  if (args.includes("--queries-only")) {
    await keepBenchCohorts(cachePath);
    const cache = await Cache.open(cachePath, { readOnly: true });
    const duckdb = await timeQueries(cache);
    const sampling = await sampleDuck(cache);
    const range = await new Executor(cache).resolveRange({ tz: "UTC" });
    cache.close();
    // `--clickhouse`: the ClickHouse side too, merged into the results file of this size.
    if (args.includes("--clickhouse")) {
      const ch = await clickhouseSide(range);
      const out = fileURLToPath(new URL(`./results-${events}.json`, import.meta.url));
      if (existsSync(out)) {
        const prev = JSON.parse(readFileSync(out, "utf8")) as Record<string, unknown>;
        writeFileSync(
          out,
          `${JSON.stringify({ ...prev, side_by_side: { when: new Date().toISOString(), duckdb_queries_ms: duckdb, duckdb_sampling: { rate: sampleRate, analyses: sampling }, clickhouse: ch } }, null, 2)}\n`,
        );
        log(`merged the ClickHouse side into ${out}`);
      }
    }
    return;
  }
  log(`evx bench: ${events.toLocaleString()} events, source ${sourceKind}, ${runs} runs; lake ${lakeDir}`);
  const tg = performance.now();
  let lastProgress = 0;
  const lake = await ensureLake({
    dir: lakeDir,
    events,
    // The generator reports every file; a line per second is enough (and on a terminal only).
    onProgress: (n) => {
      const now = performance.now();
      if (!process.stderr.isTTY || now - lastProgress < 1000) return;
      lastProgress = now;
      process.stderr.write(`\r  generating ${n.toLocaleString()} events`);
    },
  });
  log(
    `\n  lake: ${lake.files} files, ${(lake.bytes / 1e6).toFixed(0)} MB on disk${lake.reused ? " (reused)" : ` in ${((performance.now() - tg) / 1000).toFixed(1)}s`}`,
  );
  const rawBytes = rawJsonBytes(lakeDir);

  rmSync(cachePath, { force: true });
  rmSync(`${cachePath}.wal`, { force: true });
  let stopServer: (() => Promise<void>) | undefined;
  let source = folderSource(lakeDir) as ReturnType<typeof folderSource> | ReturnType<typeof s3Source>;
  if (sourceKind === "s3") {
    const { startS3Server, uploadDir } = await import("../test/helpers/s3server.js");
    const server = await startS3Server();
    stopServer = () => server.stop();
    await server.createBucket("bench");
    log("  uploading the lake to the loopback S3 server…");
    await uploadDir(server, "bench", lakeDir);
    process.env.AWS_ACCESS_KEY_ID = "S3RVER";
    process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
    source = s3Source("s3://bench", { endpoint: server.endpoint, region: "us-east-1" });
  }
  // Sync into a fresh cache several times (like the baseline) and keep the median run's figures.
  const syncs: Awaited<ReturnType<typeof sync>>[] = [];
  let cache: Cache | undefined;
  for (let i = 0; i < syncRuns; i++) {
    cache?.close();
    rmSync(cachePath, { force: true });
    rmSync(`${cachePath}.wal`, { force: true });
    cache = await Cache.open(cachePath, { create: true });
    log(`  syncing (run ${i + 1})…`);
    syncs.push(await sync(cache, source));
    log(`    ${syncs[i].seconds}s (ingest ${syncs[i].ingestSeconds}s)`);
  }
  if (!cache) throw new Error("--runs and --syncs must be at least 1");
  const s = [...syncs].sort((a, b) => a.ingestSeconds - b.ingestSeconds)[syncs.length >> 1];
  await stopServer?.();
  const cacheBytes =
    statSync(cachePath).size + (existsSync(`${cachePath}.wal`) ? statSync(`${cachePath}.wal`).size : 0);
  log(`  synced ${s.events.toLocaleString()} events in ${s.seconds}s (ingest ${s.ingestSeconds}s)`);

  log("  baseline: DuckDB read_json of the same files…");
  const base = await baseline();
  const dedupe = args.includes("--dedupe") ? await dedupeSide(source, Math.min(3, runs), base.rate) : null;

  cache.close();
  await keepBenchCohorts(cachePath);
  cache = await Cache.open(cachePath);
  const queries = await timeQueries(cache);
  const sampling = await sampleDuck(cache);
  const range = await new Executor(cache).resolveRange({ tz: "UTC" });
  cache.close();
  // chdb runs in this process, so the peak before it is evx's own (sync, baseline, analyses).
  const rssEvx = process.resourceUsage().maxRSS * 1024;

  // The same lake and analyses on ClickHouse (chdb, in process): evx's ClickHouse engine and, for the
  // funnels, the windowFunnel query a ClickHouse user would write.
  const ch = args.includes("--no-clickhouse") ? null : await clickhouseSide(range);

  const firstFrame = await firstFrameMs();
  const rss = process.resourceUsage().maxRSS * 1024;
  const ingestRate = s.events / Math.max(0.001, s.ingestSeconds);
  const results = {
    when: new Date().toISOString(),
    machine: {
      cpus: availableParallelism(),
      model: cpus()[0]?.model ?? "",
      memGB: Math.round(totalmem() / 2 ** 30),
      freeMemGB: Math.round(freemem() / 2 ** 30),
    },
    source: sourceKind,
    runs,
    events: s.events,
    raw_json_bytes: rawBytes,
    lake_bytes_on_disk: dirBytes(lakeDir),
    cache_bytes: cacheBytes,
    cache_ratio: +(cacheBytes / rawBytes).toFixed(3),
    sync_seconds: s.seconds,
    ingest_seconds: s.ingestSeconds,
    download_seconds: +(s.seconds - s.ingestSeconds).toFixed(2),
    events_per_second: Math.round(s.events / s.seconds),
    ingest_events_per_second: Math.round(ingestRate),
    baseline_read_json_seconds: +base.seconds.toFixed(2),
    baseline_events_per_second: Math.round(base.rate),
    ingest_vs_raw: +(ingestRate / base.rate).toFixed(2),
    dedupe,
    queries_ms: queries,
    sampling: { rate: sampleRate, duckdb: sampling, clickhouse: ch?.sampling ?? null },
    clickhouse: ch,
    tui_first_frame_ms: firstFrame === null ? null : Math.round(firstFrame),
    peak_rss_bytes: rss,
    peak_rss_bytes_before_clickhouse: rssEvx,
  };
  const out = fileURLToPath(new URL(`./results-${events}.json`, import.meta.url));
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);

  const rows: [string, string][] = [
    ["events", results.events.toLocaleString()],
    ["raw JSON", `${(rawBytes / 1e9).toFixed(2)} GB`],
    [
      "cache on disk",
      `${(cacheBytes / 1e9).toFixed(2)} GB (${(results.cache_ratio * 100).toFixed(1)}% of raw)`,
    ],
    ["sync total", `${s.seconds}s (${results.events_per_second.toLocaleString()} ev/s)`],
    ["  ingest / download+list", `${s.ingestSeconds}s / ${results.download_seconds}s`],
    [
      "raw read_json baseline",
      `${results.baseline_read_json_seconds}s (${results.baseline_events_per_second.toLocaleString()} ev/s)`,
    ],
    ["ingest rate vs raw", `${results.ingest_vs_raw}×`],
    ...(ch
      ? ([
          [
            "ClickHouse load",
            `${ch.load_seconds}s (${Math.round(ch.events / ch.load_seconds).toLocaleString()} ev/s), ${ch.bytes_per_event} B/event`,
          ],
        ] as [string, string][])
      : []),
    ["analysis", ch ? "evx DuckDB | evx ClickHouse | windowFunnel" : "evx DuckDB"],
    ...Object.entries(queries).map(
      ([k, v]) =>
        [
          `  ${k}`,
          ch
            ? `${v} ms | ${ch.queries_ms[k] ?? "-"} ms${ch.window_funnel_ms[k] !== undefined ? ` | ${ch.window_funnel_ms[k]} ms` : ""}`
            : `${v} ms`,
        ] as [string, string],
    ),
    [`sampled ${sampleText(sampleRate)}`, ch ? "speed-up, error | ClickHouse" : "speed-up, error"],
    ...Object.entries(sampling).map(([k, v]) => {
      const c = ch?.sampling[k];
      const text = (r: SampleRow) =>
        `${r.speedup}×, ${r.relative_error === null ? "n/a" : `${(100 * r.relative_error).toFixed(1)}%`}${r.rate?.abs_error_pp != null ? ` (${r.rate.abs_error_pp} pp)` : ""}`;
      return [`  ${k}`, c ? `${text(v)} | ${text(c)}` : text(v)] as [string, string];
    }),
    [
      "TUI first frame",
      firstFrame === null ? "n/a (no tmux or not built)" : `${results.tui_first_frame_ms} ms`,
    ],
    ["peak RSS", `${(rss / 2 ** 30).toFixed(2)} GB (before ClickHouse: ${(rssEvx / 2 ** 30).toFixed(2)} GB)`],
  ];
  process.stdout.write(`${rows.map(([k, v]) => `${k.padEnd(28)} ${v}`).join("\n")}\n`);
  log(`wrote ${out}`);
  if (!args.includes("--keep")) {
    rmSync(cachePath, { force: true });
    rmSync(`${cachePath}.wal`, { force: true });
  }
}

await main();

/**
 * The cost of dedupe: the same lake synced into fresh caches with `--dedupe event_time` (every
 * event's id looked up against the cache's ids and the batch's), median run by ingest time.
 */
async function dedupeSide(source: Parameters<typeof sync>[1], n: number, baseRate: number) {
  const path = `${cachePath}.dedupe.duckdb`;
  const runs: Awaited<ReturnType<typeof sync>>[] = [];
  for (let i = 0; i < n; i++) {
    rmSync(path, { force: true });
    rmSync(`${path}.wal`, { force: true });
    const c = await Cache.open(path, { create: true });
    try {
      log(`  syncing with dedupe (run ${i + 1})…`);
      runs.push(await sync(c, source, { lake: { dedupe: "event_time" } }));
      log(`    ${runs[i].seconds}s (ingest ${runs[i].ingestSeconds}s, ${runs[i].duplicates} duplicates)`);
    } finally {
      c.close();
    }
  }
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
  const m = [...runs].sort((a, b) => a.ingestSeconds - b.ingestSeconds)[runs.length >> 1];
  const rate = m.events / Math.max(0.001, m.ingestSeconds);
  return {
    field: "event_time",
    ingest_seconds: m.ingestSeconds,
    ingest_seconds_runs: runs.map((r) => r.ingestSeconds),
    ingest_events_per_second: Math.round(rate),
    ingest_vs_raw: +(rate / baseRate).toFixed(2),
    events: m.events,
    duplicates: m.duplicates,
  };
}
