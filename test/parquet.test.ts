/**
 * Parquet objects, mixed with JSON lines in one source, from a folder and from S3: typed columns map
 * through the same field map (`event_time` as a TIMESTAMP, an epoch-ms BIGINT or a string;
 * `event_properties` as a MAP, a STRUCT or a JSON string, stored as the same JSON object), and a file
 * with a wrong schema fails alone naming the missing columns.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { brotliCompressSync, gzipSync } from "node:zlib";
import { DuckDBInstance } from "@duckdb/node-api";
import { Cache } from "../src/cache/db.js";
import { DEFAULT_MAP } from "../src/cache/mapping.js";
import { sync } from "../src/cache/sync.js";
import { folderSource } from "../src/source/folder.js";
import { s3Source } from "../src/source/s3.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { generateVendorLake } from "../src/source/vendors.js";
import { loadVendorLake } from "./brute-vendor.js";
import { type S3TestServer, startS3Server, uploadDir } from "./helpers/s3server.js";
import { jsonl, tempDir } from "./helpers/tmp.js";

let server: S3TestServer;
const env = { ...process.env };
before(async () => {
  server = await startS3Server();
  process.env.AWS_ACCESS_KEY_ID = "S3RVER";
  process.env.AWS_SECRET_ACCESS_KEY = "S3RVER";
  process.env.AWS_REGION = "us-east-1";
});
after(async () => {
  await server?.stop();
  process.env = env;
});

/** Writes Parquet files with DuckDB's COPY: each entry is a SELECT giving the file's rows. */
async function writeParquet(files: Record<string, string>): Promise<void> {
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    for (const [path, select] of Object.entries(files))
      await c.run(`COPY (${select}) TO '${path.replace(/'/g, "''")}' (FORMAT parquet)`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

async function parquetLake(lake: string): Promise<void> {
  writeLakeFiles(lake, {
    "date=2023-06-01/a.jsonl": jsonl([
      {
        event_type: "open",
        event_time: "2023-06-01T10:00:00Z",
        user_id: "u1",
        event_properties: { plan: "pro", n: 1 },
      },
    ]),
    "date=2023-06-02/keep.txt": "not data",
    // Not Parquet at all: fails alone, the other Parquet files of its schema group still land.
    "date=2023-06-02/broken.parquet": "PAR1 this is not a parquet file",
  });
  const d = (x: string) => join(lake, x);
  await writeParquet({
    // MAP properties, epoch-ms BIGINT times, one row without a user (rejected, kept with its row number).
    [d("date=2023-06-01/map.parquet")]: `SELECT * FROM (VALUES
        ('save', 1685613600000::BIGINT, 'u1', MAP {'plan': 'pro', 'n': '2'}),
        ('save', 1685613660000::BIGINT, NULL, MAP {'plan': 'free'}),
        ('close', 1685613720000::BIGINT, 'u2', MAP {'plan': 'team'})) t(event_type, event_time, user_id, event_properties)`,
    // STRUCT properties, TIMESTAMP times.
    [d("date=2023-06-02/struct.parquet")]: `SELECT * FROM (VALUES
        ('open', TIMESTAMP '2023-06-02 08:00:00.123456', 'u3', {'plan': 'pro', 'n': 3})) t(event_type, event_time, user_id, event_properties)`,
    // JSON-string properties, string times.
    [d("date=2023-06-02/json.parquet")]: `SELECT * FROM (VALUES
        ('open', '2023-06-02 09:00:00', 'u4', '{"plan":"free","n":4}')) t(event_type, event_time, user_id, event_properties)`,
    // No user and no time column: fails alone.
    [d("date=2023-06-02/wrong.parquet")]: `SELECT 'open' AS event_type, 'x' AS who`,
  });
}

async function check(cache: Cache, s: Awaited<ReturnType<typeof sync>>, lake: string): Promise<void> {
  assert.equal(s.objects.failed, 2);
  const errors = s.failures.map((f) => f.error).sort();
  assert.match(errors[0], /^date=2023-06-02\/broken\.parquet: not a readable Parquet file/);
  assert.match(
    errors[1],
    /^date=2023-06-02\/wrong\.parquet: Parquet schema lacks event_time \(column 'event_time'\), user_id \(column 'user_id'\); its columns are event_type, who$/,
  );
  const truth = await loadVendorLake(lake, "plain", { include: (k) => !/wrong|broken/.test(k) });
  assert.equal(s.events, truth.events.length);
  assert.equal(s.rejected, truth.rejected);
  assert.equal(s.rejected, 1);
  const rows = await cache.all<{ t: string; u: string; p: string; e: string }>(
    `SELECT e.event_type AS e, strftime(e.event_time, '%Y-%m-%dT%H:%M:%S.%f') AS t, u.user_id AS u, e.properties::VARCHAR AS p
       FROM events e JOIN users u USING (user_key) ORDER BY t`,
  );
  assert.deepEqual(rows, [
    { e: "open", t: "2023-06-01T10:00:00.000000", u: "u1", p: '{"plan":"pro","n":1}' },
    { e: "save", t: "2023-06-01T10:00:00.000000", u: "u1", p: '{"plan":"pro","n":"2"}' },
    { e: "close", t: "2023-06-01T10:02:00.000000", u: "u2", p: '{"plan":"team"}' },
    { e: "open", t: "2023-06-02T08:00:00.123456", u: "u3", p: '{"plan":"pro","n":3}' },
    { e: "open", t: "2023-06-02T09:00:00.000000", u: "u4", p: '{"plan":"free","n":4}' },
  ]);
  const rej = await cache.all<{ key: string; line: number; reason: string }>(
    "SELECT key, line, reason FROM rejects",
  );
  assert.deepEqual(rej, [{ key: "date=2023-06-01/map.parquet", line: 2, reason: "missing user_id" }]);
}

test("Parquet objects mixed with JSON lines, from a folder", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  await parquetLake(lake);
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    await check(cache, await sync(cache, folderSource(lake)), lake);
  } finally {
    cache.close();
  }
});

test("Parquet objects mixed with JSON lines, from S3", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  await parquetLake(lake);
  await server.createBucket("parquet-lake");
  await uploadDir(server, "parquet-lake", lake, "lake/");
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    await check(
      cache,
      await sync(cache, s3Source("s3://parquet-lake/lake", { endpoint: server.endpoint })),
      lake,
    );
  } finally {
    cache.close();
  }
});

test("a field named like the folder's hive key is read from the line, not the path", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  writeLakeFiles(lake, {
    "dt=2023-06-01/a.jsonl": jsonl([{ event_type: "open", dt: "2023-06-01T10:00:00Z", user_id: "u1" }]),
  });
  await writeParquet({
    [join(lake, "dt=2023-06-01/b.parquet")]:
      `SELECT 'save' AS event_type, '2023-06-01T11:00:00Z' AS dt, 'u1' AS user_id`,
  });
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    const s = await sync(cache, folderSource(lake), { map: { ...DEFAULT_MAP, event_time: "dt" } });
    assert.equal(s.events, 2);
    const t = await cache.all<{ t: string }>(
      "SELECT strftime(event_time, '%H:%M') AS t FROM events ORDER BY t",
    );
    assert.deepEqual(t, [{ t: "10:00" }, { t: "11:00" }]);
  } finally {
    cache.close();
  }
});

test("a PostHog export of only .parquet.zst files (zstd pages) syncs from S3, as the brute force reads it", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  await generateVendorLake({ dir: lake, preset: "posthog", events: 1500, days: 2, seed: 8, parquetShare: 1 });
  // Keep only what a batch export with `compression: zstd` writes.
  for (const f of readdirSync(lake)) if (!f.endsWith(".parquet.zst")) rmSync(join(lake, f));
  assert.ok(readdirSync(lake).length > 10);
  await server.createBucket("posthog-zst");
  await uploadDir(server, "posthog-zst", lake, "exports/");
  const truth = await loadVendorLake(lake, "posthog", { dedupe: true });
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    const s = await sync(cache, s3Source("s3://posthog-zst/exports", { endpoint: server.endpoint }), {
      lake: { preset: "posthog" },
    });
    assert.equal(s.objects.failed, 0, JSON.stringify(s.failures));
    assert.equal(s.objects.listed, readdirSync(lake).length);
    assert.equal(s.layout, "YYYY-MM-DD… file names");
    assert.deepEqual(
      [s.events, s.rejected, s.duplicates],
      [truth.events.length, truth.rejected, truth.duplicates],
    );
  } finally {
    cache.close();
  }
});

test("compressed names: .jsonl.br (brotli), a gzipped .parquet.gz; a corrupt .br and a whole-file zstd Parquet fail alone", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  const line = (e: string, u: string) => ({ event_type: e, event_time: "2023-06-01T10:00:00Z", user_id: u });
  writeLakeFiles(lake, {
    "date=2023-06-01/a.jsonl.br": brotliCompressSync(jsonl([line("open", "u1"), line("save", "u1")])),
    // A bad line inside a brotli file goes the line-by-line way and keeps its line number.
    "date=2023-06-01/b.jsonl.br": brotliCompressSync(jsonl([line("open", "u2"), { event_type: "x" }])),
    "date=2023-06-01/corrupt.jsonl.br": Buffer.from("not brotli at all, not at all"),
    "date=2023-06-01/zstd-whole.parquet.zst": Buffer.from("28b52ffd0000000000", "hex"),
  });
  const plain = join(dir, "plain.parquet");
  await writeParquet({
    [plain]: `SELECT 'close' AS event_type, TIMESTAMP '2023-06-01 11:00:00' AS event_time, 'u3' AS user_id`,
  });
  writeFileSync(join(lake, "date=2023-06-01/gz.parquet.gz"), gzipSync(readFileSync(plain)));
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    const s = await sync(cache, folderSource(lake));
    assert.equal(s.objects.listed, 5);
    assert.equal(s.events, 4);
    assert.equal(s.rejected, 1);
    const errors = s.failures.map((f) => f.error).sort();
    assert.equal(errors.length, 2, JSON.stringify(errors));
    assert.match(errors[0], /^date=2023-06-01\/corrupt\.jsonl\.br: corrupt or truncated compressed data/);
    assert.match(
      errors[1],
      /^date=2023-06-01\/zstd-whole\.parquet\.zst: a Parquet file compressed whole with zstd .*decompress it with `zstd -d` first$/,
    );
    const rej = await cache.all<{ key: string; line: number; reason: string }>(
      "SELECT key, line, reason FROM rejects",
    );
    assert.deepEqual(rej, [{ key: "date=2023-06-01/b.jsonl.br", line: 2, reason: "missing user_id" }]);
  } finally {
    cache.close();
  }
});
