/**
 * Failures that no longer exist: an object that failed to sync and was later deleted from the source,
 * or replaced by a good one, stops being reported (status, coverage) after the next sync that lists
 * its date. Failures of dates the next sync does not select stay: that sync did not list them.
 */
import assert from "node:assert/strict";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { Cache } from "../src/cache/db.js";
import { cacheStatus } from "../src/cache/status.js";
import { sync } from "../src/cache/sync.js";
import { watch } from "../src/cache/watch.js";
import { folderSource } from "../src/source/folder.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { evxRun } from "./helpers/cli.js";
import { coverageOf } from "./helpers/coverage.js";
import { type S3TestServer, startS3Server } from "./helpers/s3server.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

const good = (date: string) =>
  jsonl([ev("a", `${date}T00:00:00Z`, "u1"), ev("a", `${date}T00:01:00Z`, "u2")]);
/** A gzip cut short: the object fails to ingest. */
const corrupt = (date: string) => {
  const gz = gzipSync(Buffer.from(good(date).repeat(50)));
  return gz.subarray(0, gz.length - 20);
};

function lakeWithTwoBadObjects(): string {
  const lake = join(tempDir(), "lake");
  writeLakeFiles(lake, {
    "date=2023-06-01/part-0.jsonl": good("2023-06-01"),
    "date=2023-06-02/part-0.jsonl": good("2023-06-02"),
    "date=2023-06-03/part-0.jsonl": good("2023-06-03"),
  });
  writeFileSync(join(lake, "date=2023-06-02/part-1.jsonl.gz"), corrupt("2023-06-02"));
  writeFileSync(join(lake, "date=2023-06-03/part-1.jsonl.gz"), corrupt("2023-06-03"));
  return lake;
}

const failedKeys = async (cache: Cache) => (await cacheStatus(cache)).failures.map((f) => f.key).sort();

test("a failed object deleted from the source is cleared by the next sync of its date; other dates keep theirs", async () => {
  const lake = lakeWithTwoBadObjects();
  const cache = await Cache.open(join(tempDir(), "c.duckdb"), { create: true });
  try {
    let s = await sync(cache, folderSource(lake));
    assert.equal(s.objects.failed, 2);
    assert.deepEqual(await failedKeys(cache), [
      "date=2023-06-02/part-1.jsonl.gz",
      "date=2023-06-03/part-1.jsonl.gz",
    ]);
    assert.deepEqual((await coverageOf(cache, "2023-06-01", "2023-06-04")).failed, [
      "2023-06-02",
      "2023-06-03",
    ]);

    // Both bad objects go; the next sync selects only 06-01..06-02.
    rmSync(join(lake, "date=2023-06-02/part-1.jsonl.gz"));
    rmSync(join(lake, "date=2023-06-03/part-1.jsonl.gz"));
    s = await sync(cache, folderSource(lake), { from: "2023-06-01", to: "2023-06-02" });
    assert.deepEqual(s.objects, { listed: 2, downloaded: 0, unchanged: 2, removed: 0, failed: 0 });
    assert.equal(s.clearedFailures, 1);
    // 06-03 was not listed by that sync: its failure stays until a sync selects it.
    assert.deepEqual(await failedKeys(cache), ["date=2023-06-03/part-1.jsonl.gz"]);
    const cov = await coverageOf(cache, "2023-06-01", "2023-06-04");
    assert.deepEqual(cov.failed, ["2023-06-03"]);
    assert.equal(cov.partitions_synced, 2);

    s = await sync(cache, folderSource(lake));
    assert.equal(s.clearedFailures, 1);
    assert.equal(s.objects.failed, 0);
    assert.deepEqual(await failedKeys(cache), []);
    const all = await coverageOf(cache, "2023-06-01", "2023-06-04");
    assert.deepEqual([all.failed, all.missing, all.partitions_synced], [[], [], 3]);
    assert.equal((await cacheStatus(cache)).partitions.filter((p) => (p.failed ?? 0) > 0).length, 0);
  } finally {
    cache.close();
  }
});

test("a failed object replaced by a good one is ingested and its failure cleared", async () => {
  const lake = lakeWithTwoBadObjects();
  const cache = await Cache.open(join(tempDir(), "c.duckdb"), { create: true });
  try {
    await sync(cache, folderSource(lake));
    writeFileSync(join(lake, "date=2023-06-02/part-1.jsonl.gz"), gzipSync(good("2023-06-02")));
    const s = await sync(cache, folderSource(lake), { from: "2023-06-02", to: "2023-06-02" });
    assert.deepEqual(s.objects, { listed: 2, downloaded: 1, unchanged: 1, removed: 0, failed: 0 });
    assert.equal(s.clearedFailures, 0, "a replaced object counts as downloaded, not cleared");
    assert.deepEqual(await failedKeys(cache), ["date=2023-06-03/part-1.jsonl.gz"]);
    assert.deepEqual((await coverageOf(cache, "2023-06-01", "2023-06-04")).failed, ["2023-06-03"]);
  } finally {
    cache.close();
  }
});

test("watch: a failure whose object vanished is cleared on the next cycle", async () => {
  const lake = lakeWithTwoBadObjects();
  const cache = await Cache.open(join(tempDir(), "c.duckdb"), { create: true });
  const ac = new AbortController();
  const cycles: { failed: number; cleared: number; keys: string[] }[] = [];
  try {
    await watch(cache, folderSource(lake), {
      from: "2023-06-01",
      everyMs: 0,
      signal: ac.signal,
      onCycle: async (c) => {
        cycles.push({
          failed: c.summary.objects.failed,
          cleared: c.summary.clearedFailures,
          keys: await failedKeys(cache),
        });
        if (cycles.length === 1) {
          rmSync(join(lake, "date=2023-06-02/part-1.jsonl.gz"));
          rmSync(join(lake, "date=2023-06-03/part-1.jsonl.gz"));
        } else ac.abort();
      },
    });
    assert.deepEqual(cycles, [
      {
        failed: 2,
        cleared: 0,
        keys: ["date=2023-06-02/part-1.jsonl.gz", "date=2023-06-03/part-1.jsonl.gz"],
      },
      { failed: 0, cleared: 2, keys: [] },
    ]);
  } finally {
    cache.close();
  }
});

describe("the CLI over S3", () => {
  const BUCKET = "lake";
  let server: S3TestServer;
  const work = tempDir();
  before(async () => {
    server = await startS3Server();
    await server.createBucket(BUCKET);
  });
  after(async () => {
    await server?.stop();
  });

  const env = () => ({
    XDG_CACHE_HOME: join(work, "xdg"),
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
  });
  const run = (args: string[], cache: string) => evxRun([...args, "--cache", cache], env());
  const syncArgs = (prefix: string) => ["sync", `s3://${BUCKET}/${prefix}`, "--endpoint", server.endpoint];

  for (const how of ["deleted", "replaced"] as const)
    test(`a failed object ${how} in the bucket: exit 3, then exit 0 and status, coverage report no failure`, async () => {
      const prefix = `raw-${how}`;
      const cache = join(work, `${how}.duckdb`);
      await server.putObject(BUCKET, `${prefix}/date=2023-06-01/part-0.jsonl`, good("2023-06-01"));
      await server.putObject(BUCKET, `${prefix}/date=2023-06-02/part-0.jsonl`, good("2023-06-02"));
      const bad = `${prefix}/date=2023-06-02/part-1.jsonl.gz`;
      await server.putObject(BUCKET, bad, corrupt("2023-06-02"));

      let r = await run(syncArgs(prefix), cache);
      assert.equal(r.code, 3, r.stderr);
      let st = JSON.parse((await run(["status", "--json"], cache)).stdout);
      assert.deepEqual(
        st.failures.map((f: { key: string }) => f.key),
        ["date=2023-06-02/part-1.jsonl.gz"],
      );
      const trend = ["trend", "a", "--from", "2023-06-01", "--to", "2023-06-02", "--json"];
      assert.deepEqual(JSON.parse((await run(trend, cache)).stdout).coverage.failed, ["2023-06-02"]);

      if (how === "deleted") await server.deleteObject(BUCKET, bad);
      else await server.putObject(BUCKET, bad, gzipSync(good("2023-06-02")));
      r = await run([...syncArgs(prefix), "--json"], cache);
      assert.equal(r.code, 0, r.stderr);
      const summary = JSON.parse(r.stdout);
      assert.equal(summary.objects.failed, 0);
      assert.equal(summary.cleared_failures, how === "deleted" ? 1 : 0);
      st = JSON.parse((await run(["status", "--json"], cache)).stdout);
      assert.deepEqual(st.failures, []);
      const cov = JSON.parse((await run(trend, cache)).stdout).coverage;
      assert.deepEqual([cov.failed, cov.missing, cov.partitions_synced], [[], [], 2]);
    });
});
