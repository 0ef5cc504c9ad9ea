import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Cache } from "../src/cache/db.js";
import { sync } from "../src/cache/sync.js";
import { s3Source } from "../src/source/s3.js";
import { generateLake } from "../src/source/synthetic.js";
import { type S3TestServer, startS3Server, uploadDir } from "./helpers/s3server.js";
import { countLakeLines, ev, jsonl, tempDir } from "./helpers/tmp.js";

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

const count = async (cache: Cache) =>
  (await cache.one<{ n: number }>("SELECT count(*) AS n FROM events"))?.n ?? -1;

test("syncs a generated lake from S3, incrementally, with changes and deletions", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  const gen = await generateLake({ dir: lake, events: 4000, days: 3, gzipShare: 0.5, seed: 7 });
  await server.createBucket("acme");
  const keys = await uploadDir(server, "acme", lake, "raw/");
  const src = s3Source("s3://acme/raw", { endpoint: server.endpoint });
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    let s = await sync(cache, src, { concurrency: 8 });
    assert.equal(s.objects.listed, keys.length);
    assert.equal(s.objects.downloaded, keys.length);
    assert.equal(s.objects.failed, 0);
    assert.equal(s.events, gen.events);
    // Brute-force reader over the same files agrees with the cache.
    assert.equal(await count(cache), countLakeLines(lake));

    s = await sync(cache, src);
    assert.deepEqual(s.objects, {
      listed: keys.length,
      downloaded: 0,
      unchanged: keys.length,
      removed: 0,
      failed: 0,
    });

    // Overwrite one object with 2 events; delete another.
    const [k1, k2] = [keys[0], keys[1]];
    const before1 = await cache.one<{ n: number }>("SELECT o.events AS n FROM objects o WHERE key = $1", [
      k1.slice("raw/".length),
    ]);
    const before2 = await cache.one<{ n: number }>("SELECT events AS n FROM objects WHERE key = $1", [
      k2.slice("raw/".length),
    ]);
    const date = /date=([\d-]+)/.exec(k1)![1];
    const body = jsonl([ev("x", `${date}T00:00:00Z`, "a"), ev("x", `${date}T00:00:01Z`, "b")]);
    await server.putObject(
      "acme",
      k1,
      k1.endsWith(".gz") ? (await import("node:zlib")).gzipSync(body) : body,
    );
    await server.deleteObject("acme", k2);
    s = await sync(cache, src);
    assert.deepEqual(s.objects, {
      listed: keys.length - 1,
      downloaded: 1,
      unchanged: keys.length - 2,
      removed: 1,
      failed: 0,
    });
    assert.equal(await count(cache), gen.events - before1!.n - before2!.n + 2);
  } finally {
    cache.close();
  }
});

test("a partition with more than 1000 objects syncs completely (list pagination)", async () => {
  const dir = tempDir();
  await server.createBucket("many");
  const n = 1050;
  const lake = join(dir, "lake");
  const { writeLakeFiles } = await import("../src/source/synthetic.js");
  const files: Record<string, string> = {};
  for (let i = 0; i < n; i++)
    files[`date=2023-06-01/part-${String(i).padStart(5, "0")}.jsonl`] = jsonl([
      ev("e", "2023-06-01T00:00:00Z", `u${i}`),
    ]);
  writeLakeFiles(lake, files);
  await uploadDir(server, "many", lake);
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    const s = await sync(cache, s3Source("s3://many", { endpoint: server.endpoint }), { concurrency: 32 });
    assert.equal(s.objects.listed, n);
    assert.equal(s.objects.downloaded, n);
    assert.equal(await count(cache), n);
  } finally {
    cache.close();
  }
});

test("a missing bucket is a fatal, one-line error and leaves the cache usable", async () => {
  const dir = tempDir();
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    await assert.rejects(
      sync(cache, s3Source("s3://nope", { endpoint: server.endpoint, maxAttempts: 1 })),
      (e: Error) => {
        assert.equal(e.name, "SourceError");
        assert.ok(!e.message.includes("\n"));
        assert.match(e.message, /nope/);
        return true;
      },
    );
    assert.equal(await count(cache), 0);
  } finally {
    cache.close();
  }
});
