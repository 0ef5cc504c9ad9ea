/**
 * Issue #23's budgets for many evx processes on one cache (README, "One cache, many processes"), with
 * real processes throughout (`npm run bench -- --shared [--cache PATH] [--runs 9] [--puts 5]`):
 *
 * (a) A reading command's extra latency while another process holds the cache: `evx trend … --json`,
 *     the whole process, timed alone (EVX_SHARED=0, nothing else on the cache: it opens the file
 *     itself) and while `evx sync --watch` holds the cache (the default, shared mode: through the
 *     cache's host). Blocks of each alternate, so both see the same load. Budget: +50 ms median.
 * (b) New data: an object PUT to the loopback S3 server (s3rver) while `evx sync --watch --every 1s`
 *     follows the bucket; a loop of headless `evx events --json` processes runs until one answer
 *     counts the object's events. Timed from the PUT, and from the watch's line for the cycle that
 *     committed it. Budget: 2 s after the commit.
 *
 * The cache defaults to the demo cache (`evx demo --no-ui`: 2M events).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { Cache, CacheLockedError } from "../src/cache/db.js";
import { generateLake } from "../src/source/synthetic.js";
import { probeLines } from "../test/helpers/hosts.js";
import { startS3Server, uploadDir } from "../test/helpers/s3server.js";

const bin = resolve(import.meta.dirname, "../bin/evx");
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return Math.round(s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2);
};
const log = (s: string) => process.stderr.write(`${s}\n`);

function evx(args: string[], env: NodeJS.ProcessEnv): { ms: number; out: string } {
  const t = performance.now();
  const r = spawnSync(process.execPath, [bin, ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
  });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`evx ${args.join(" ")}: exit ${r.status}: ${r.stderr}`);
  return { ms, out: r.stdout };
}

/** A watch process; resolves once its first cycle is printed. */
async function startWatch(args: string[], env: NodeJS.ProcessEnv) {
  const child = spawn(process.execPath, [bin, "sync", ...args, "--watch", "--json"], {
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const lines: { at: number; j: Record<string, unknown> }[] = [];
  let err = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => {
    for (const l of d.split("\n").filter(Boolean)) lines.push({ at: performance.now(), j: JSON.parse(l) });
  });
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  const exited = new Promise<void>((r) => child.on("close", () => r()));
  for (let i = 0; i < 6000 && lines.length === 0 && child.exitCode === null; i++) await sleep(50);
  if (!lines.length) throw new Error(`the watch did not run a cycle: ${err}`);
  return { child, lines, exited };
}

async function stop(w: { child: ChildProcess; exited: Promise<void> }) {
  w.child.kill("SIGTERM");
  await w.exited;
}

/** Waits until no process holds the cache file (its host left at its idle time). */
async function untilFree(cache: string) {
  for (let i = 0; i < 600; i++) {
    try {
      (await Cache.open(cache, { local: true, readOnly: true })).close();
      return;
    } catch (e) {
      if (!(e instanceof CacheLockedError)) throw e;
    }
    await sleep(100);
  }
  throw new Error(`${cache} stays held`);
}

export async function benchShared(opts: { cache: string; runs: number; puts: number }) {
  const { cache, runs } = opts;
  const out: Record<string, number | string> = {};
  const hostIdle = { EVX_HOST_IDLE_MS: "1000" };
  const status = JSON.parse(evx(["status", "--cache", cache, "--json"], { EVX_SHARED: "0" }).out) as {
    source: string;
    events: number;
  };
  out.cache_events = status.events;
  await untilFree(cache);

  // (a) alone vs while a watch holds the cache.
  const trendArgs = ["trend", "button_clicked", "--measure", "users", "--cache", cache, "--json"];
  const alone: number[] = [];
  const held: number[] = [];
  const per = Math.max(1, Math.ceil(runs / 3));
  for (let block = 0; block < 3; block++) {
    evx(trendArgs, { EVX_SHARED: "0" }); // the file in the OS cache, as for the held runs
    for (let i = 0; i < per; i++) alone.push(evx(trendArgs, { EVX_SHARED: "0" }).ms);
    const w = await startWatch([status.source, "--cache", cache, "--every", "60s"], hostIdle);
    evx(trendArgs, {});
    for (let i = 0; i < per; i++) held.push(evx(trendArgs, {}).ms);
    await stop(w);
    await untilFree(cache);
    log(`  block ${block + 1}: alone ${median(alone)} ms, while a watch holds the cache ${median(held)} ms`);
  }
  out.trend_alone_ms = median(alone);
  out.trend_while_held_ms = median(held);
  out.trend_extra_ms = median(held) - median(alone);
  out.trend_runs = alone.length;

  // (b) PUT → visible to another process's headless answer, through a watch on loopback S3.
  const work = mkdtempSync(join(tmpdir(), "evx-bench-shared-"));
  const server = await startS3Server();
  try {
    const s3env = {
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
      EVX_WATCH_MIN_EVERY_MS: "0",
      ...hostIdle,
    };
    const lake = join(work, "lake");
    await generateLake({ dir: lake, events: 20_000, days: 2, gzipShare: 0, seed: 3 });
    await server.createBucket("lake");
    await uploadDir(server, "lake", lake, "raw/");
    const c2 = join(work, "s3.duckdb");
    const src = ["s3://lake/raw", "--endpoint", server.endpoint, "--cache", c2];
    evx(["sync", ...src, "--json"], s3env);
    const w = await startWatch([...src, "--every", "1s"], s3env);
    const fromPut: number[] = [];
    const fromCommit: number[] = [];
    const answerMs: number[] = [];
    try {
      for (let i = 0; i < opts.puts; i++) {
        const type = `bench_put_${i}`;
        const seen = w.lines.length;
        const put = performance.now();
        await server.putObject(
          "lake",
          `raw/date=2023-06-02/put-${i}.jsonl`,
          probeLines(type, "2023-06-02", 25),
        );
        for (;;) {
          const r = evx(["events", "--cache", c2, "--json"], s3env);
          answerMs.push(r.ms);
          const j = JSON.parse(r.out) as { events: { event_type: string; events: number }[] };
          if (j.events.find((e) => e.event_type === type)?.events === 25) break;
          if (performance.now() - put > 60_000) throw new Error("the object never showed");
        }
        const visible = performance.now();
        fromPut.push(visible - put);
        // The watch prints the cycle's line after its commit (and a count): it may come after the answer.
        const cycleLine = () => w.lines.slice(seen).find((l) => Number(l.j.events) >= 25);
        for (let k = 0; k < 100 && !cycleLine(); k++) await sleep(50);
        const line = cycleLine();
        if (line) fromCommit.push(visible - line.at);
        log(
          `  put ${i + 1}: visible ${Math.round(visible - put)} ms after the PUT${line ? `, ${Math.round(visible - line.at)} ms after the watch's line` : ""}`,
        );
        await sleep(300 + Math.random() * 700); // not in step with the watch's cycles
      }
    } finally {
      await stop(w);
    }
    out.put_to_answer_ms = median(fromPut);
    out.put_to_answer_max_ms = Math.round(Math.max(...fromPut));
    out.commit_line_to_answer_ms = fromCommit.length ? median(fromCommit) : "n/a";
    out.headless_answer_ms = median(answerMs);
    out.puts = fromPut.length;
  } finally {
    await server.stop();
    await sleep(1500); // the s3 cache's host leaves
    rmSync(work, { recursive: true, force: true });
  }
  return out;
}

// Run directly: `npx tsx bench/multi.ts CACHE [runs] [puts]`.
if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const cache = resolve(process.argv[2] ?? "");
  const r = await benchShared({
    cache,
    runs: Number(process.argv[3] ?? 9),
    puts: Number(process.argv[4] ?? 5),
  });
  process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
}
