// Coverage (docs/semantics.md, "Coverage"): the listing a sync records (`source_dates`) against the
// manifest, through the real DuckDB cache; S3 cases through the loopback s3rver and the fault proxy.
import assert from "node:assert/strict";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { Cache } from "../src/cache/db.js";
import { getMeta, SCHEMA_VERSION } from "../src/cache/schema.js";
import { deleteObjects, evictPartitions } from "../src/cache/status.js";
import { sync } from "../src/cache/sync.js";
import { buildCoverage } from "../src/queries/coverage.js";
import type { Coverage } from "../src/queries/spec.js";
import { folderSource } from "../src/source/folder.js";
import { s3Source } from "../src/source/s3.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { coverageOf, usOf } from "./helpers/coverage.js";
import { startFaultProxy } from "./helpers/faultproxy.js";
import { type S3TestServer, startS3Server, uploadDir } from "./helpers/s3server.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

const cov = (
  c: Partial<Coverage> & Pick<Coverage, "partitions_in_range" | "partitions_synced">,
): Coverage => ({
  missing: [],
  failed: [],
  rejected_lines: 0,
  last_event: null,
  ...c,
});

async function listingRows(cache: Cache) {
  return cache.all<{ date: string; objects: number; bytes: number }>(
    "SELECT strftime(date, '%Y-%m-%d') AS date, objects, bytes FROM source_dates ORDER BY date",
  );
}

/** Four dates; rejected lines on every date; the latest event of 06-02..03 is 2023-06-03T17:45:30.250Z. */
function fourDateLake(dir: string): string {
  const lake = join(dir, "lake");
  writeLakeFiles(lake, {
    "date=2023-06-01/part-0000.jsonl": jsonl([
      ev("open", "2023-06-01T01:00:00Z", "u1"),
      ev("open", "2023-06-01T02:00:00Z", "u2"),
      "not json",
    ]),
    "date=2023-06-01/part-0015.jsonl.gz": jsonl([ev("click", "2023-06-01T03:00:00Z", "u1")]),
    "date=2023-06-02/part-0000.jsonl": jsonl([ev("open", "2023-06-02T00:00:00Z", "u1"), "[1]"]),
    "date=2023-06-02/part-0015.jsonl": jsonl([ev("click", "2023-06-02T12:00:00Z", "u3")]),
    "date=2023-06-02/_SUCCESS": "",
    "date=2023-06-03/part-0000.jsonl.gz": jsonl([
      ev("open", "2023-06-03T17:45:30.250Z", "u2"),
      "nope",
      JSON.stringify({ event_type: "x", event_time: "2023-06-03T01:00:00Z" }),
    ]),
    "date=2023-06-03/part-0015.jsonl": jsonl([ev("click", "2023-06-03T09:00:00Z", "u4")]),
    "date=2023-06-04/part-0000.jsonl": jsonl([ev("open", "2023-06-04T20:00:00Z", "u5")]),
  });
  return lake;
}

test("a sync records the whole source's listing per date, replaced wholesale", async () => {
  const dir = tempDir();
  const lake = fourDateLake(dir);
  const size = (k: string) => statSync(join(lake, ...k.split("/"))).size;
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    const t0 = Date.now();
    await sync(cache, folderSource(lake), { from: "2023-06-02", to: "2023-06-03" });
    assert.deepEqual(await listingRows(cache), [
      {
        date: "2023-06-01",
        objects: 2,
        bytes: size("date=2023-06-01/part-0000.jsonl") + size("date=2023-06-01/part-0015.jsonl.gz"),
      },
      {
        date: "2023-06-02",
        objects: 2, // _SUCCESS is not a data file
        bytes: size("date=2023-06-02/part-0000.jsonl") + size("date=2023-06-02/part-0015.jsonl"),
      },
      {
        date: "2023-06-03",
        objects: 2,
        bytes: size("date=2023-06-03/part-0000.jsonl.gz") + size("date=2023-06-03/part-0015.jsonl"),
      },
      { date: "2023-06-04", objects: 1, bytes: size("date=2023-06-04/part-0000.jsonl") },
    ]);
    const listedAt = (await getMeta(cache, "listed_at")) ?? "";
    assert.match(listedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.ok(Date.parse(listedAt) >= t0 - 1000 && Date.parse(listedAt) <= Date.now() + 1000);

    // The next listing replaces the whole table: a date gone from the source leaves it.
    rmSync(join(lake, "date=2023-06-01"), { recursive: true });
    writeLakeFiles(lake, {
      "date=2023-06-05/part-0000.jsonl": jsonl([ev("a", "2023-06-05T00:00:00Z", "u")]),
    });
    await sync(cache, folderSource(lake), { from: "2023-06-04", to: "2023-06-04" });
    assert.deepEqual(
      (await listingRows(cache)).map((r) => [r.date, r.objects]),
      [
        ["2023-06-02", 2],
        ["2023-06-03", 2],
        ["2023-06-04", 1],
        ["2023-06-05", 1],
      ],
    );
    assert.ok((await getMeta(cache, "listed_at"))! >= listedAt);
  } finally {
    cache.close();
  }
});

test("dates outside the sync selection are missing; ranges, rejected lines, last_event and UTC day edges", async () => {
  const dir = tempDir();
  const lake = fourDateLake(dir);
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    await sync(cache, folderSource(lake), { from: "2023-06-02", to: "2023-06-03" });
    const last = "2023-06-03T17:45:30.250Z";

    // A range over all four dates: the two unsynced ones are missing.
    assert.deepEqual(
      await coverageOf(cache, "2023-06-01", "2023-06-05"),
      cov({
        partitions_in_range: 4,
        partitions_synced: 2,
        missing: ["2023-06-01", "2023-06-04"],
        rejected_lines: 3,
        last_event: last,
      }),
    );
    // Only synced dates: nothing missing.
    assert.deepEqual(
      await coverageOf(cache, "2023-06-02", "2023-06-04"),
      cov({ partitions_in_range: 2, partitions_synced: 2, rejected_lines: 3, last_event: last }),
    );
    // rejected_lines counts the dates in range only.
    assert.deepEqual(
      await coverageOf(cache, "2023-06-02", "2023-06-03"),
      cov({ partitions_in_range: 1, partitions_synced: 1, rejected_lines: 1, last_event: last }),
    );
    assert.equal((await coverageOf(cache, "2023-06-03", "2023-06-04")).rejected_lines, 2);

    // UTC day edges: a range ending exactly at d 00:00Z excludes d; one µs into d includes it.
    assert.deepEqual(
      await coverageOf(cache, "2023-06-01T12:00:00Z", "2023-06-02T00:00:00Z"),
      cov({ partitions_in_range: 1, partitions_synced: 0, missing: ["2023-06-01"], last_event: last }),
    );
    assert.deepEqual(
      await coverageOf(cache, usOf("2023-06-01T12:00:00Z"), usOf("2023-06-02") + 1),
      cov({
        partitions_in_range: 2,
        partitions_synced: 1,
        missing: ["2023-06-01"],
        rejected_lines: 1,
        last_event: last,
      }),
    );
    // The last µs of a day and a range starting exactly at the next day's midnight.
    assert.deepEqual(
      (await coverageOf(cache, usOf("2023-06-04") - 1, usOf("2023-06-04"))).partitions_in_range,
      1,
    );
    assert.deepEqual(
      await coverageOf(cache, "2023-06-04T00:00:00Z", "2023-06-04T00:00:00.001Z"),
      cov({ partitions_in_range: 1, partitions_synced: 0, missing: ["2023-06-04"], last_event: last }),
    );
    // A Europe/Berlin day (CEST, +02:00) overlaps two UTC partition days.
    assert.deepEqual(
      await coverageOf(cache, "2023-06-03T22:00:00Z", "2023-06-04T22:00:00Z"),
      cov({
        partitions_in_range: 2,
        partitions_synced: 1,
        missing: ["2023-06-04"],
        rejected_lines: 2,
        last_event: last,
      }),
    );
    // No partition in range, or an empty range: nothing, but last_event is the cache's.
    assert.deepEqual(
      await coverageOf(cache, "2023-06-05", "2023-07-01"),
      cov({ partitions_in_range: 0, partitions_synced: 0, last_event: last }),
    );
    assert.deepEqual(
      await coverageOf(cache, "2023-06-02T06:00:00Z", "2023-06-02T06:00:00Z"),
      cov({ partitions_in_range: 0, partitions_synced: 0, last_event: last }),
    );

    // The SQL binds the range: no instant is spliced into it.
    const q = buildCoverage(usOf("2023-06-01"), usOf("2023-06-05"));
    assert.doesNotMatch(q.sql, /1685577600000000|1685923200000000/);
    assert.deepEqual(q.params.slice(0, 2), [1685577600000000n, 1685923200000000n]);

    // Syncing everything clears `missing`; last_event follows the cache.
    await sync(cache, folderSource(lake));
    assert.deepEqual(
      await coverageOf(cache, "2023-06-01", "2023-06-05"),
      cov({
        partitions_in_range: 4,
        partitions_synced: 4,
        rejected_lines: 4,
        last_event: "2023-06-04T20:00:00.000Z",
      }),
    );
  } finally {
    cache.close();
  }
});

test("an empty cache: no partitions, last_event null", async () => {
  const dir = tempDir();
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    assert.deepEqual(
      await coverageOf(cache, "2023-06-01", "2023-06-05"),
      cov({ partitions_in_range: 0, partitions_synced: 0 }),
    );
    // An empty source listed: still nothing, and the listing is recorded (empty).
    const lake = join(dir, "lake");
    writeLakeFiles(lake, { "date=2023-06-01/_SUCCESS": "" });
    const s = await sync(cache, folderSource(lake), { layout: { name: "hive", hiveKey: "date" } });
    assert.equal(s.objects.listed, 0);
    assert.ok(await getMeta(cache, "listed_at"));
    assert.deepEqual(await listingRows(cache), []);
    assert.deepEqual(
      await coverageOf(cache, "2023-06-01", "2023-06-05"),
      cov({ partitions_in_range: 0, partitions_synced: 0 }),
    );
  } finally {
    cache.close();
  }
});

test("an interrupted sync, a deleted manifest row and an evicted partition make their dates missing", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  const files: Record<string, string> = {};
  for (const d of ["2023-06-01", "2023-06-02", "2023-06-03"])
    for (const part of ["0000", "0015"])
      files[`date=${d}/part-${part}.jsonl`] = jsonl([
        ev("e", `${d}T${part === "0000" ? "01" : "15"}:00:00Z`, `u${part}`),
      ]);
  writeLakeFiles(lake, files);
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  const all = async () => coverageOf(cache, "2023-06-01", "2023-06-04");
  try {
    await sync(cache, folderSource(lake));
    assert.deepEqual((await all()).missing, []);

    // New objects on two dates; the sync is cancelled after its first one-object batch commits.
    writeLakeFiles(lake, {
      "date=2023-06-02/part-0030.jsonl": jsonl([ev("e", "2023-06-02T00:30:00Z", "u9")]),
      "date=2023-06-03/part-0030.jsonl": jsonl([ev("e", "2023-06-03T00:30:00Z", "u9")]),
    });
    const ac = new AbortController();
    await assert.rejects(
      sync(cache, folderSource(lake), {
        batchBytes: 1,
        signal: ac.signal,
        onProgress: (p) => {
          if (p.ingested >= 1) ac.abort();
        },
      }),
    );
    const committed = new Set(
      (await cache.all<{ key: string }>("SELECT key FROM objects WHERE key LIKE '%part-0030%'")).map(
        (r) => r.key,
      ),
    );
    assert.equal(committed.size, 1, "the sync stopped after one batch");
    const expectMissing = ["2023-06-02", "2023-06-03"].filter(
      (d) => !committed.has(`date=${d}/part-0030.jsonl`),
    );
    const c = await all();
    assert.deepEqual(c.missing, expectMissing);
    assert.equal(c.partitions_in_range, 3);
    assert.equal(c.partitions_synced, 3 - expectMissing.length);

    // The next sync finishes the job.
    await sync(cache, folderSource(lake));
    assert.deepEqual(
      await all(),
      cov({ partitions_in_range: 3, partitions_synced: 3, last_event: "2023-06-03T15:00:00.000Z" }),
    );

    // A manifest entry removed (with its rows) behind the sync's back.
    const id = await cache.one<{ id: number }>(
      "SELECT object_id AS id FROM objects WHERE key = 'date=2023-06-01/part-0015.jsonl'",
    );
    await cache.transaction(() => deleteObjects(cache, [id!.id]));
    assert.deepEqual((await all()).missing, ["2023-06-01"]);
    // An evicted partition (the Sync screen's `D`) is missing too, not forgotten.
    await evictPartitions(cache, ["2023-06-03"]);
    const ev2 = await all();
    assert.deepEqual(ev2.missing, ["2023-06-01", "2023-06-03"]);
    assert.equal(ev2.partitions_in_range, 3);
    assert.equal(ev2.partitions_synced, 1);
    assert.equal(ev2.last_event, "2023-06-02T15:00:00.000Z");

    await sync(cache, folderSource(lake));
    assert.deepEqual((await all()).missing, []);
  } finally {
    cache.close();
  }
});

test("a schema-2 cache is upgraded on read; without a recorded listing nothing is missing", async () => {
  const dir = tempDir();
  const lake = fourDateLake(dir);
  const path = join(dir, "old.duckdb");
  const fresh = await Cache.open(path, { create: true });
  await sync(fresh, folderSource(lake), { from: "2023-06-02", to: "2023-06-03" });
  fresh.close();
  // Turn it back into schema 2: no listing table, no listed_at.
  const db = await DuckDBInstance.create(path);
  const c = await db.connect();
  await c.run("DROP TABLE source_dates");
  await c.run("DELETE FROM meta WHERE key = 'listed_at'");
  await c.run("UPDATE meta SET value = '2' WHERE key = 'schema_version'");
  c.closeSync();
  db.closeSync();

  const reader = await Cache.open(path, { readOnly: true });
  try {
    assert.equal(await getMeta(reader, "schema_version"), String(SCHEMA_VERSION));
    assert.deepEqual(await listingRows(reader), []);
    assert.deepEqual(
      await coverageOf(reader, "2023-06-01", "2023-06-05"),
      cov({
        partitions_in_range: 2,
        partitions_synced: 2,
        rejected_lines: 3,
        last_event: "2023-06-03T17:45:30.250Z",
      }),
    );
  } finally {
    reader.close();
  }
  // Its next sync records the listing.
  const cache = await Cache.open(path, { create: true });
  try {
    await sync(cache, folderSource(lake), { from: "2023-06-02", to: "2023-06-03" });
    assert.deepEqual((await coverageOf(cache, "2023-06-01", "2023-06-05")).missing, [
      "2023-06-01",
      "2023-06-04",
    ]);
  } finally {
    cache.close();
  }
});

describe("S3", () => {
  const BUCKET = "coverage";
  const work = tempDir("evx-coverage-s3-");
  const env = {
    AWS_ACCESS_KEY_ID: "S3RVER",
    AWS_SECRET_ACCESS_KEY: "S3RVER",
    AWS_REGION: "us-east-1",
    AWS_CONFIG_FILE: join(work, "no-config"),
    AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PROFILE: "",
  };
  const saved = { ...process.env };
  let server: S3TestServer;
  const DATES = ["2023-06-01", "2023-06-02", "2023-06-03"];
  const denied = "raw/date=2023-06-02/part-0.jsonl";
  const truncated = "raw/date=2023-06-02/part-1.jsonl.gz";

  before(async () => {
    Object.assign(process.env, env);
    const lake = join(work, "lake");
    const files: Record<string, string> = {};
    let u = 0;
    for (const d of DATES)
      for (let f = 0; f < 3; f++)
        files[`date=${d}/part-${f}.jsonl${f === 1 ? ".gz" : ""}`] = jsonl(
          Array.from({ length: 30 }, (_, i) =>
            ev("e", `${d}T1${f}:00:${String(i).padStart(2, "0")}Z`, `u${u++ % 11}`),
          ),
        );
    writeLakeFiles(lake, files);
    server = await startS3Server();
    await server.createBucket(BUCKET);
    await uploadDir(server, BUCKET, lake, "raw/");
  });
  after(async () => {
    await server?.stop();
    process.env = saved;
  });

  test("a failed object's date is failed, an unselected date missing; a LIST failure keeps the listing; a repair sync clears both", async () => {
    const cache = await Cache.open(join(work, "c.duckdb"), { create: true });
    const all = async () => coverageOf(cache, "2023-06-01", "2023-06-04");
    try {
      // A 403 on one object's GET and a truncated gzip body on another, both of 2023-06-02.
      const proxy = await startFaultProxy(server.endpoint, (r) =>
        r.kind === "get" && r.key === denied
          ? "403"
          : r.kind === "get" && r.key === truncated
            ? "truncate"
            : "pass",
      );
      try {
        const s = await sync(
          cache,
          s3Source(`s3://${BUCKET}/raw`, { endpoint: proxy.endpoint, maxAttempts: 2 }),
          {
            from: "2023-06-01",
            to: "2023-06-02",
          },
        );
        assert.deepEqual(s.failures.map((f) => f.key).sort(), [
          "date=2023-06-02/part-0.jsonl",
          "date=2023-06-02/part-1.jsonl.gz",
        ]);
      } finally {
        await proxy.close();
      }
      const failedCov = cov({
        partitions_in_range: 3,
        partitions_synced: 1,
        missing: ["2023-06-03"],
        failed: ["2023-06-02"],
        last_event: "2023-06-02T12:00:29.000Z",
      });
      assert.deepEqual(await all(), failedCov);
      assert.deepEqual(
        await coverageOf(cache, "2023-06-01", "2023-06-02"),
        cov({ partitions_in_range: 1, partitions_synced: 1, last_event: failedCov.last_event }),
      );

      // A sync whose LIST fails records nothing: the previous listing stays.
      const listedAt = await getMeta(cache, "listed_at");
      const down = await startFaultProxy(server.endpoint, (r) => (r.kind === "list" ? "nobucket" : "pass"));
      try {
        await assert.rejects(
          sync(cache, s3Source(`s3://${BUCKET}/raw`, { endpoint: down.endpoint, maxAttempts: 1 })),
          /NoSuchBucket/,
        );
      } finally {
        await down.close();
      }
      assert.equal(await getMeta(cache, "listed_at"), listedAt);
      assert.deepEqual(await all(), failedCov);

      // The repair sync (everything, no faults) clears both.
      const s = await sync(cache, s3Source(`s3://${BUCKET}/raw`, { endpoint: server.endpoint }));
      assert.equal(s.objects.failed, 0);
      assert.deepEqual(
        await all(),
        cov({ partitions_in_range: 3, partitions_synced: 3, last_event: "2023-06-03T12:00:29.000Z" }),
      );
    } finally {
      cache.close();
    }
  });
});
