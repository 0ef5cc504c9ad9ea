/**
 * SIGKILL harness for `evx sync`: kills syncs at spread-out moments and checks after every kill that
 * the cache opens and is consistent, per object exactly (no partial object, no duplicate rows), and
 * that the final sync lands exactly the source's events.
 */
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { gunzipSync } from "node:zlib";
import { Cache, CacheMissingError } from "../../src/cache/db.js";
import { parseLakeText } from "../brute.js";
import { evx, evxAsync } from "./cli.js";

/**
 * With dedupe, which object holds an id's surviving row depends on commit order; such a truth is
 * `new Map([["*", total]])`: the total must match, per-object counts are not checked.
 */
/** Brute-force event count of every data file under `dir`, by key relative to `dir`. */
export function eventsByKey(dir: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile() || !/\.(jsonl|ndjson|json)(\.gz)?$/.test(e.name)) continue;
    const full = join(e.parentPath, e.name);
    let buf = readFileSync(full);
    if (e.name.endsWith(".gz")) buf = gunzipSync(buf);
    m.set(relative(dir, full).split(sep).join("/"), parseLakeText(buf.toString("utf8")).length);
  }
  return m;
}

/**
 * Invariants that must hold after any crash: the manifest and the rows agree exactly, per object
 * (and per object and type), and each committed object holds exactly its brute-force events. Returns the events in the cache.
 */
export async function checkConsistent(path: string, truth?: Map<string, number>): Promise<number> {
  if (!existsSync(path)) return 0;
  let cache: Cache;
  try {
    cache = await Cache.open(path, { readOnly: true });
  } catch (e) {
    // Killed while the file was being created: no schema yet, which the next sync creates.
    if (e instanceof CacheMissingError) return 0;
    throw e;
  }
  try {
    const r = await cache.one<{
      events: number;
      manifest: number;
      rejects: number;
      manifestRejects: number;
      orphans: number;
      dupUsers: number;
      typeMismatch: number;
      dupIds: number;
      unkeyedDuplicates: number;
      duplicatesMismatch: number;
    }>(
      `SELECT (SELECT count(*) FROM events) AS events,
              (SELECT coalesce(sum(events), 0) FROM objects) AS manifest,
              (SELECT count(*) FROM rejects) AS rejects,
              (SELECT coalesce(sum(rejected), 0) FROM objects) AS manifestRejects,
              (SELECT count(*) FROM events WHERE object_id NOT IN (SELECT object_id FROM objects)) AS orphans,
              (SELECT count(*) - count(DISTINCT user_id) FROM users) AS dupUsers,
              (SELECT count(*) FROM (SELECT object_id, event_type, count(*) AS n FROM events GROUP BY ALL) e
                 FULL JOIN object_types t USING (object_id, event_type) WHERE e.n IS DISTINCT FROM t.events) AS typeMismatch,
              (SELECT count(*) - count(DISTINCT id) FROM event_ids) AS dupIds,
              (SELECT count(*) FROM duplicate_events d ANTI JOIN event_ids e ON e.id = d.event_id) AS unkeyedDuplicates,
              (SELECT count(*) FROM (SELECT object_id, count(*) AS n FROM duplicate_events GROUP BY ALL) d
                 FULL JOIN (SELECT object_id, duplicates AS n FROM objects WHERE duplicates > 0) o USING (object_id)
                WHERE d.n IS DISTINCT FROM o.n) AS duplicatesMismatch`,
    );
    assert.ok(r);
    assert.equal(r.events, r.manifest, "rows match the manifest");
    assert.equal(r.rejects, r.manifestRejects, "rejects match the manifest");
    assert.equal(r.orphans, 0, "no rows without a manifest entry");
    assert.equal(r.dupUsers, 0, "no user mapped twice");
    assert.equal(r.typeMismatch, 0, "object_types matches the rows per object and type");
    assert.equal(r.dupIds, 0, "no event id kept twice");
    assert.equal(r.unkeyedDuplicates, 0, "every kept duplicate has its surviving event");
    assert.equal(r.duplicatesMismatch, 0, "duplicates per object match the manifest");
    if (truth && !truth.has("*")) {
      const per = await cache.all<{ key: string; n: number }>(
        "SELECT o.key, count(e.object_id) AS n FROM objects o LEFT JOIN events e USING (object_id) GROUP BY o.key",
      );
      for (const p of per) assert.equal(p.n, truth.get(p.key), `object ${p.key}: exactly its events`);
    }
    return r.events;
  } finally {
    cache.close();
  }
}

export interface KillPlan {
  label: string;
  /** `evx` arguments without `--cache`. */
  args: string[];
  env: NodeJS.ProcessEnv;
  dir: string;
  truth: Map<string, number>;
  /** Chains of kills; each chain is a fresh cache killed `killsPerChain` times, then synced to the end. */
  chains: number;
  killsPerChain: number;
}

export interface KillReport {
  /** Kills that hit a running sync. */
  kills: number;
  /** Kills after which some but not all events were committed. */
  midway: number;
  /** Where each kill landed: "start" (before the sync's work began) or the share of the work done, in %. */
  moments: string[];
}

/** Spawns a sync; resolves when the staging folder appears (the work begins) and when it exits. */
function spawnSync(p: KillPlan, cache: string) {
  const child = evxAsync([...p.args, "--cache", cache, "--json"], p.env);
  child.stdout.resume();
  child.stderr.resume();
  let exited = false;
  let exitedAt = 0;
  const exit = new Promise<NodeJS.Signals | null>((r) =>
    child.on("exit", (_code, sig) => {
      exited = true;
      exitedAt = performance.now();
      r(sig);
    }),
  );
  const waitFor = async (path: string) => {
    while (!exited && !existsSync(path)) await sleep(5);
  };
  return { child, exit, waitFor, isRunning: () => !exited, exitedAt: () => exitedAt };
}

/**
 * Times the work of one full sync (from its staging folder appearing to its exit), then kills syncs at
 * moments spread over that work, measured from when each sync's own work begins, so start-up time
 * (which varies a lot on a busy machine) does not decide where a kill lands. The first kill of the
 * first chain lands as soon as the cache file exists (creation, migration, listing). Each chain
 * resumes its killed cache with the next sync (killed again, within what is left), so kills also land
 * in resumed syncs. After every kill the cache is checked; after each chain a sync runs to the end and
 * must land exactly the source.
 *
 * On a loaded machine the timed sync can be much slower than the later ones, and a kill then comes
 * after its sync has finished. Such a sync is timed in turn (the work it did, scaled to the whole),
 * and the kill is tried again, on a fresh cache for the chain, up to three times.
 */
export async function killChains(p: KillPlan): Promise<KillReport> {
  const expected = [...p.truth.values()].reduce((a, b) => a + b, 0);
  const run = (cache: string) => evx([...p.args, "--cache", cache, "--json"], p.env);
  const fullPath = join(p.dir, `${p.label}-full.duckdb`);
  const full = spawnSync(p, fullPath);
  await full.waitFor(`${fullPath}.staging`);
  const t0 = performance.now();
  await full.exit;
  let work = Math.max(200, performance.now() - t0);
  assert.equal(await checkConsistent(fullPath, p.truth), expected);

  const report: KillReport = { kills: 0, midway: 0, moments: [] };
  const total = p.chains * p.killsPerChain;
  for (let c = 0; c < p.chains; c++) {
    let fresh = 0;
    /** Who was killed on this chain: a "cache … in use by … (PID n)" names one of them, or this process. */
    const killed: number[] = [];
    let cache = join(p.dir, `${p.label}-c${c}.duckdb`);
    let left = 1;
    for (let k = 0; k < p.killsPerChain; k++) {
      // Interleave the chains so that together they cover the work evenly.
      const slot = k * p.chains + c;
      const share = (slot + 0.5) / total;
      let s: ReturnType<typeof spawnSync>;
      let where: string;
      for (let attempt = 0; ; attempt++) {
        s = spawnSync(p, cache);
        if (slot === 0) {
          await s.waitFor(cache);
          where = "start";
        } else {
          await s.waitFor(`${cache}.staging`);
          const began = performance.now();
          await sleep(work * left * share);
          if (!s.isRunning() && attempt < 3) {
            // Finished before its kill: faster than the timed sync. Time it, start the chain afresh.
            await s.exit;
            work = Math.max(200, (s.exitedAt() - began) / left);
            cache = join(p.dir, `${p.label}-c${c}-${++fresh}.duckdb`);
            left = 1;
            continue;
          }
          where = `${Math.round(100 * (1 - left + left * share))}%`;
        }
        break;
      }
      const hit = s.isRunning();
      if (s.child.pid) killed.push(s.child.pid);
      s.child.kill("SIGKILL");
      const sig = await s.exit;
      if (hit && sig === "SIGKILL") {
        report.kills++;
        report.moments.push(where);
      }
      const n = await checkConsistent(cache, p.truth);
      assert.ok(n <= expected, `${p.label} chain ${c} kill ${k}: no more than the source`);
      if (n > 0 && n < expected) report.midway++;
      left = Math.max(0.05, 1 - n / expected);
    }
    const r = run(cache);
    assert.equal(
      r.code,
      0,
      `${p.label} chain ${c}: ${r.stderr} (this process: PID ${process.pid}; killed: ${killed.join(", ")})`,
    );
    assert.equal(
      await checkConsistent(cache, p.truth),
      expected,
      `${p.label} chain ${c}: no duplicates, no gaps`,
    );
    assert.equal(existsSync(`${cache}.staging`), false, "staging cleaned up");
  }
  return report;
}
