/**
 * Measures watch mode's latency: from a new object being in the source's listing to its events being
 * visible to a query, on a cache of the demo lake's size. Not a test; run it by hand:
 *
 *   npx tsx test/helpers/watch-latency.ts [--events 2000000] [--runs 7] [--source s3|folder] [--keep DIR]
 *
 * It generates the lake (default 2M events, 28 days, 96 files a day), serves it from s3rver on loopback
 * (or reads the folder), syncs it all into a cache, then runs the watch loop (src/cache/watch.ts) in
 * this process. For each run it adds one object to the newest partition right after a cycle ends, and
 * times, in the cycle that finds it: cycle start (= its listing request) → the cycle's commit → a query
 * counting the object's events on a second connection. Sizes: one 15-minute file of the lake (~750
 * events) and a 20,000-event file. Prints medians and the per-phase split (list, plan, download,
 * ingest, finish, checkpoint) of the cycles.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { Cache } from "../../src/cache/db.js";
import type { SyncTimings } from "../../src/cache/sync.js";
import { sync } from "../../src/cache/sync.js";
import { type WatchCycle, watch } from "../../src/cache/watch.js";
import { folderSource } from "../../src/source/folder.js";
import { s3Source } from "../../src/source/s3.js";
import { ensureLake } from "../../src/source/synthetic.js";
import type { Source } from "../../src/source/types.js";
import { startS3Server, uploadDir } from "./s3server.js";

const { values: args } = parseArgs({
  options: {
    events: { type: "string", default: "2000000" },
    runs: { type: "string", default: "7" },
    source: { type: "string", default: "s3" },
    keep: { type: "string" },
    every: { type: "string", default: "2000" },
  },
});
const EVENTS = Number(args.events);
const RUNS = Number(args.runs);
const EVERY = Number(args.every);
const work = args.keep ?? join(tmpdir(), `evx-watch-latency-${EVENTS}`);
mkdirSync(work, { recursive: true });
const lakeDir = join(work, "lake");

const log = (s: string) => process.stderr.write(`${s}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

log(`lake: ${EVENTS} events in ${lakeDir}`);
const lake = await ensureLake({ dir: lakeDir, events: EVENTS, days: 28, seed: 1 });
log(`  ${lake.files} files, ${(lake.bytes / 1e6).toFixed(0)} MB${lake.reused ? " (reused)" : ""}`);
const dates = readdirSync(lakeDir).sort();
const newest = dates[dates.length - 1];
// The body of one plain 15-minute file of the newest day: a realistic new object.
const plainFiles = readdirSync(join(lakeDir, newest))
  .filter((f) => f.endsWith(".jsonl"))
  .sort();
const lines = (b: Buffer) => b.toString("utf8").split("\n").filter(Boolean);
const bodies = plainFiles.map((f) => readFileSync(join(lakeDir, newest, f)));
const pool = bodies.flatMap(lines);
// The file whose size is nearest the lake's average (events / files).
const average = EVENTS / lake.files;
const oneFile = bodies.reduce((best, b) =>
  Math.abs(lines(b).length - average) < Math.abs(lines(best).length - average) ? b : best,
);
const bigFile = Buffer.from(`${pool.slice(0, 20_000).join("\n")}\n`);

let source: Source;
let put: (key: string, body: Buffer) => Promise<void>;
let stop = async () => {};
if (args.source === "s3") {
  const server = await startS3Server();
  stop = () => server.stop();
  process.env.AWS_ACCESS_KEY_ID = "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
  process.env.AWS_REGION = "us-east-1";
  await server.createBucket("lake");
  const t = performance.now();
  await uploadDir(server, "lake", lakeDir, "raw/");
  log(`  uploaded to s3rver in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  source = s3Source("s3://lake/raw", { endpoint: server.endpoint });
  put = (key, body) => server.putObject("lake", `raw/${key}`, body);
} else {
  source = folderSource(lakeDir);
  put = async (key, body) => {
    const tmp = join(work, "drop.tmp");
    writeFileSync(tmp, body);
    const { renameSync } = await import("node:fs");
    renameSync(tmp, join(lakeDir, key));
  };
}

const cachePath = join(work, `cache-${args.source}.duckdb`);
for (const f of [cachePath, `${cachePath}.wal`]) rmSync(f, { force: true });
const cache = await Cache.open(cachePath, { create: true });
const t = performance.now();
const full = await sync(cache, source);
log(`full sync: ${full.events} events in ${((performance.now() - t) / 1000).toFixed(1)} s`);
const reader = await cache.connect();

interface Sample {
  size: number;
  cycleToVisible: number;
  putToVisible: number;
  syncSeconds: number;
  query: number;
  timings: SyncTimings;
}
const samples: Sample[] = [];
const plan: { size: string; body: Buffer }[] = [];
for (let i = 0; i < RUNS; i++) plan.push({ size: "one 15-minute file", body: oneFile });
for (let i = 0; i < RUNS; i++) plan.push({ size: "20,000 events", body: bigFile });

const ac = new AbortController();
let next = 0;
let pending: { key: string; putAt: number; body: Buffer } | null = null;
let cycleStart = 0;
await watch(cache, source, {
  everyMs: EVERY,
  signal: ac.signal,
  onProgress: (_n, p) => {
    if (p.phase === "listing" && p.listed === 0) cycleStart = performance.now();
  },
  onCycle: async (c: WatchCycle) => {
    const committed = performance.now();
    if (c.error) log(`cycle ${c.cycle}: ${c.error}`);
    if (pending && c.summary.objects.downloaded > 0) {
      const q0 = performance.now();
      const r = await reader.runAndReadAll(
        "SELECT count(*)::INTEGER AS n FROM events WHERE object_id = (SELECT object_id FROM objects WHERE key = $1)",
        [pending.key],
      );
      const visible = performance.now();
      const n = r.getRowObjects()[0].n as number;
      const want = lines(pending.body).length;
      if (n !== want) throw new Error(`expected ${want} events of ${pending.key}, the query saw ${n}`);
      samples.push({
        size: want,
        cycleToVisible: visible - cycleStart,
        putToVisible: visible - pending.putAt,
        syncSeconds: c.summary.seconds,
        query: visible - q0,
        timings: c.summary.timings,
      });
      log(
        `  ${want} events: cycle start → visible ${(visible - cycleStart).toFixed(0)} ms (commit at ${(committed - cycleStart).toFixed(0)}, query ${(visible - q0).toFixed(0)} ms; put → visible ${(visible - pending.putAt).toFixed(0)} ms) ${JSON.stringify(c.summary.timings)}`,
      );
      pending = null;
    }
    if (!pending) {
      if (next >= plan.length) {
        ac.abort();
        return;
      }
      const p = plan[next++];
      const key = `${newest}/part-new-${next}.jsonl`;
      await put(key, p.body);
      pending = { key, putAt: performance.now(), body: p.body };
    }
  },
});
reader.closeSync();
cache.close();
await stop();

for (const size of [...new Set(samples.map((s) => s.size))]) {
  const ss = samples.filter((s) => s.size === size);
  const m = (f: (s: Sample) => number) => median(ss.map(f)).toFixed(0);
  console.log(
    `${args.source}, ${size} events (${ss.length} runs): cycle start → visible median ${m((s) => s.cycleToVisible)} ms ` +
      `[min ${Math.min(...ss.map((s) => s.cycleToVisible)).toFixed(0)}, max ${Math.max(...ss.map((s) => s.cycleToVisible)).toFixed(0)}]; ` +
      `put → visible ${m((s) => s.putToVisible)} ms (poll ${EVERY} ms); phases (median ms): ` +
      (Object.keys(ss[0].timings) as (keyof SyncTimings)[])
        .map((k) => `${k} ${m((s) => s.timings[k])}`)
        .join(", ") +
      `, query ${m((s) => s.query)}`,
  );
}
for (const f of readdirSync(join(lakeDir, newest)))
  if (f.startsWith("part-new-")) rmSync(join(lakeDir, newest, f), { force: true });
if (!args.keep && existsSync(work)) rmSync(cachePath, { force: true });
