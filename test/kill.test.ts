import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Cache, CacheMissingError } from "../src/cache/db.js";
import { generateLake } from "../src/source/synthetic.js";
import { evx, evxAsync } from "./helpers/cli.js";
import { countLakeLines, tempDir } from "./helpers/tmp.js";

/** Invariants that must hold after any crash: the manifest and the rows agree exactly. */
async function checkConsistent(path: string) {
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
    }>(
      `SELECT (SELECT count(*) FROM events) AS events,
              (SELECT coalesce(sum(events), 0) FROM objects) AS manifest,
              (SELECT count(*) FROM rejects) AS rejects,
              (SELECT coalesce(sum(rejected), 0) FROM objects) AS manifestRejects,
              (SELECT count(*) FROM events WHERE object_id NOT IN (SELECT object_id FROM objects)) AS orphans,
              (SELECT count(*) - count(DISTINCT user_id) FROM users) AS dupUsers`,
    );
    assert.ok(r);
    assert.equal(r.events, r.manifest, "rows match the manifest");
    assert.equal(r.rejects, r.manifestRejects, "rejects match the manifest");
    assert.equal(r.orphans, 0, "no rows without a manifest entry");
    assert.equal(r.dupUsers, 0, "no user mapped twice");
    return r.events;
  } finally {
    cache.close();
  }
}

test("SIGKILL at spread-out moments of a sync never corrupts the cache; the next sync completes exactly", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events: 150_000, days: 5, gzipShare: 0.4, seed: 3 });
  const expected = countLakeLines(lake);
  // Small batches make many commit points to land between.
  const env = { EVX_BATCH_BYTES: "150000" };
  const timeFull = async (cache: string) => {
    const t0 = performance.now();
    const r = evx(["sync", lake, "--cache", cache, "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    return performance.now() - t0;
  };
  const full = await timeFull(join(dir, "full.duckdb"));
  assert.equal(await checkConsistent(join(dir, "full.duckdb")), expected);

  const points = Number(process.env.EVX_KILL_POINTS ?? 8);
  let midway = 0;
  for (let i = 0; i < points; i++) {
    const cache = join(dir, `k${i}.duckdb`);
    const child = evxAsync(["sync", lake, "--cache", cache, "--json"], env);
    const exited = new Promise((r) => child.on("exit", r));
    // Spread the kill points over the whole run: start-up, listing, ingest batches, commit, checkpoint.
    await sleep((full * (i + 0.5)) / points);
    child.kill("SIGKILL");
    await exited;
    const n = await checkConsistent(cache);
    assert.ok(n <= expected);
    if (n > 0 && n < expected) midway++;
    const r = evx(["sync", lake, "--cache", cache, "--json"], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(await checkConsistent(cache), expected, `kill point ${i}: no duplicates, no gaps`);
  }
  // Some kills must land between commits for the test to mean anything.
  assert.ok(midway >= Math.min(2, points), `only ${midway} kills landed mid-sync`);
});
