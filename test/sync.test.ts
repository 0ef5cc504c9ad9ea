import assert from "node:assert/strict";
import { copyFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Cache } from "../src/cache/db.js";
import { parseMap } from "../src/cache/mapping.js";
import { cacheStatus, listRejects } from "../src/cache/status.js";
import { sync } from "../src/cache/sync.js";
import { folderSource } from "../src/source/folder.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

async function counts(cache: Cache) {
  return cache.one<{
    events: number;
    manifest: number;
    rejects: number;
    manifestRejects: number;
    types: number;
  }>(
    `SELECT (SELECT count(*) FROM events) AS events, (SELECT coalesce(sum(events),0) FROM objects) AS manifest,
            (SELECT coalesce(sum(events),0) FROM object_types) AS types,
            (SELECT count(*) FROM rejects) AS rejects, (SELECT coalesce(sum(rejected),0) FROM objects) AS manifestRejects`,
  );
}

test("rejected lines are counted exactly, kept with line numbers, and good lines still land", async () => {
  const dir = tempDir();
  const lines = [
    JSON.stringify(ev("a", "2023-06-01T10:00:00Z", "u1")), // 1 ok
    "", // 2 blank: skipped, not rejected
    "not json", // 3
    JSON.stringify({ event_time: "2023-06-01T10:00:00Z", user_id: "u1" }), // 4 missing event_type
    JSON.stringify({ event_type: "a", event_time: "2023-06-01T10:00:00Z" }), // 5 missing user_id
    JSON.stringify({ event_type: "a", event_time: "yesterday", user_id: "u2" }), // 6 bad time
    "[1,2,3]", // 7 not an object
    `{"event_type":"b","event_time":"2023-06-01T12:00:00+02:00","user_id":"u2","event_properties":{"n":12345678901234567890123}}`, // 8 ok, offset
    JSON.stringify({ event_type: "c", event_time: 1685613600, user_id: 7 }), // 9 ok: epoch seconds, numeric user
    JSON.stringify(ev("d", "2023-06-01", "u3")), // 10 ok: date only = midnight UTC
    JSON.stringify(ev("e", "2150-01-01T00:00:00Z", "u3")), // 11 out of range
    "   ", // 12 blank
    `{"event_type":"f","event_time":"2023-06-01T10:00:00Z","user_id":"u4","event_properties":{"s":"x\\u0000y"}}`, // 13 ok
  ];
  const lake = join(dir, "lake");
  writeLakeFiles(lake, {
    "date=2023-06-01/part-0000.jsonl": `${lines.join("\r\n")}\r\n`,
    "date=2023-06-01/part-0015.jsonl.gz": jsonl([ev("a", "2023-06-01T00:15:00Z", "u5")]),
    "date=2023-06-01/_SUCCESS": "",
    "date=2023-06-01/part-0000.jsonl.crc": "x",
  });
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    const s = await sync(cache, folderSource(lake));
    assert.deepEqual(s.objects, { listed: 2, downloaded: 2, unchanged: 0, removed: 0, failed: 0 });
    assert.equal(s.events, 6);
    assert.equal(s.rejected, 6);
    assert.equal(s.ignored, 2);
    const r = await listRejects(cache, 100);
    assert.deepEqual(
      r.rejects.map((x) => [x.line, x.reason.replace(/ \(.*/, "")]),
      [
        [3, "invalid JSON"],
        [4, "missing event_type"],
        [5, "missing user_id"],
        [6, "unparseable event_time"],
        [7, "not a JSON object"],
        [11, "event_time out of range"],
      ],
    );
    assert.equal(r.rejects[0].raw, "not json");
    const rows = await cache.all<{ event_type: string; t: string; user_id: string; props: string | null }>(
      `SELECT event_type, strftime(event_time, '%Y-%m-%dT%H:%M:%S') AS t, user_id, properties::VARCHAR AS props
         FROM events JOIN users USING (user_key) ORDER BY event_type`,
    );
    assert.deepEqual(
      rows.map((x) => [x.event_type, x.t, x.user_id]),
      [
        ["a", "2023-06-01T00:15:00", "u5"],
        ["a", "2023-06-01T10:00:00", "u1"],
        ["b", "2023-06-01T10:00:00", "u2"],
        ["c", "2023-06-01T10:00:00", "7"],
        ["d", "2023-06-01T00:00:00", "u3"],
        ["f", "2023-06-01T10:00:00", "u4"],
      ],
    );
    // Big integers survive byte for byte in properties.
    assert.match(rows[2].props ?? "", /12345678901234567890123/);
    const st = await cacheStatus(cache);
    assert.equal(st.events, 6);
    assert.equal(st.rejected, 6);
    assert.equal(st.partitions[0].objects, 2);
  } finally {
    cache.close();
  }
});

test("date selection, incremental re-sync, changed and removed objects", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  const day = (d: string, n: number) =>
    jsonl(
      Array.from({ length: n }, (_, i) => ev("e", `${d}T00:00:${String(i % 60).padStart(2, "0")}Z`, `u${i}`)),
    );
  writeLakeFiles(lake, {
    "dt=2023-06-01/part-0000.jsonl": day("2023-06-01", 3),
    "dt=2023-06-02/part-0000.jsonl": day("2023-06-02", 4),
    "dt=2023-06-02/part-0015.jsonl.gz": day("2023-06-02", 5),
    "dt=2023-06-03/part-0000.jsonl": day("2023-06-03", 6),
  });
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    const src = folderSource(lake);
    let s = await sync(cache, src, { from: "2023-06-02", to: "2023-06-02" });
    assert.deepEqual(s.objects, { listed: 2, downloaded: 2, unchanged: 0, removed: 0, failed: 0 });
    assert.equal(s.events, 9);
    assert.equal(s.layout, "dt=YYYY-MM-DD/");

    s = await sync(cache, src, { from: "2023-06-02" });
    assert.deepEqual(s.objects, { listed: 3, downloaded: 1, unchanged: 2, removed: 0, failed: 0 });
    assert.equal((await counts(cache))?.events, 15);

    // A changed object replaces its rows; a deleted one loses them.
    const changed = join(lake, "dt=2023-06-02/part-0000.jsonl");
    writeFileSync(changed, day("2023-06-02", 10));
    utimesSync(changed, new Date(), new Date(Date.now() + 5000));
    rmSync(join(lake, "dt=2023-06-03/part-0000.jsonl"));
    s = await sync(cache, src, { from: "2023-06-02" });
    assert.deepEqual(s.objects, { listed: 2, downloaded: 1, unchanged: 1, removed: 1, failed: 0 });
    const c = await counts(cache);
    assert.equal(c?.events, 15);
    assert.equal(c?.manifest, 15);
    assert.equal(c?.types, 15, "per-type counts follow replaced and removed objects");

    // Removal only applies inside the selected dates: 06-01 was never synced, nothing else is touched.
    s = await sync(cache, src, { to: "2023-06-01" });
    assert.deepEqual(s.objects, { listed: 1, downloaded: 1, unchanged: 0, removed: 0, failed: 0 });
    assert.equal((await counts(cache))?.events, 18);
  } finally {
    cache.close();
  }
});

test("a corrupt gzip fails alone and is retried by the next sync", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  const good = jsonl([ev("a", "2023-06-01T00:00:00Z", "u1"), ev("a", "2023-06-01T00:01:00Z", "u2")]);
  writeLakeFiles(lake, {
    "date=2023-06-01/part-0000.jsonl.gz": good,
    "date=2023-06-01/part-0030.jsonl": good,
  });
  const { gzipSync } = await import("node:zlib");
  const gz = gzipSync(Buffer.from(good.repeat(50)));
  writeFileSync(join(lake, "date=2023-06-01/part-0015.jsonl.gz"), gz.subarray(0, gz.length - 20)); // truncated
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    let s = await sync(cache, folderSource(lake));
    assert.deepEqual(s.objects, { listed: 3, downloaded: 2, unchanged: 0, removed: 0, failed: 1 });
    assert.equal(s.failures[0].key, "date=2023-06-01/part-0015.jsonl.gz");
    assert.match(s.failures[0].error, /corrupt|truncated|unexpected end/i);
    let c = await counts(cache);
    assert.equal(c?.events, 4, "nothing of the broken object is half-ingested");
    assert.equal((await cacheStatus(cache)).failures.length, 1);

    writeFileSync(join(lake, "date=2023-06-01/part-0015.jsonl.gz"), gz);
    s = await sync(cache, folderSource(lake));
    assert.deepEqual(s.objects, { listed: 3, downloaded: 1, unchanged: 2, removed: 0, failed: 0 });
    c = await counts(cache);
    assert.equal(c?.events, 104);
    assert.equal((await cacheStatus(cache)).failures.length, 0);
  } finally {
    cache.close();
  }
});

test("--map renames fields, is stored, and is reused by later syncs", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  const seg = (e: string, t: string, u: string) => ({
    event: e,
    timestamp: t,
    distinct_id: u,
    properties: { plan: "pro" },
  });
  writeLakeFiles(lake, { "2023/06/01/a.ndjson": jsonl([seg("signup", "2023-06-01T00:00:00Z", "x")]) });
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    const map = parseMap(
      "event_type=event,event_time=timestamp,user_id=distinct_id,event_properties=properties",
    );
    let s = await sync(cache, folderSource(lake), { map });
    assert.equal(s.events, 1);
    assert.equal(s.rejected, 0);
    writeLakeFiles(lake, { "2023/06/02/b.ndjson": jsonl([seg("login", "2023-06-02T00:00:00Z", "x")]) });
    s = await sync(cache, folderSource(lake)); // no --map: the stored one applies
    assert.equal(s.events, 1);
    assert.equal(s.rejected, 0);
    const props = await cache.all<{ p: string }>("SELECT properties->>'plan' AS p FROM events");
    assert.deepEqual(props, [{ p: "pro" }, { p: "pro" }]);
  } finally {
    cache.close();
  }
});

test("cache files are private to the user", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  writeLakeFiles(lake, { "date=2023-06-01/a.jsonl": jsonl([ev("a", "2023-06-01T00:00:00Z", "u")]) });
  const path = join(dir, "sub", "c.duckdb");
  const cache = await Cache.open(path, { create: true });
  await sync(cache, folderSource(lake));
  cache.close();
  assert.equal(statSync(join(dir, "sub")).mode & 0o777, 0o700);
  assert.equal(statSync(path).mode & 0o777, 0o600);
});

test("one cache mirrors one source", async () => {
  const dir = tempDir();
  writeLakeFiles(join(dir, "a"), {
    "date=2023-06-01/a.jsonl": jsonl([ev("a", "2023-06-01T00:00:00Z", "u")]),
  });
  writeLakeFiles(join(dir, "b"), {
    "date=2023-06-01/a.jsonl": jsonl([ev("a", "2023-06-01T00:00:00Z", "u")]),
  });
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    await sync(cache, folderSource(join(dir, "a")));
    await assert.rejects(sync(cache, folderSource(join(dir, "b"))), /mirrors .*\/a, not .*\/b/);
  } finally {
    cache.close();
  }
});

test(".zst objects are read, clean ones fast and dirty ones line by line", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  const { DuckDBInstance } = await import("@duckdb/node-api");
  const db = await DuckDBInstance.create(":memory:");
  const conn = await db.connect();
  const writeZst = async (path: string, lines: string[]) => {
    const { mkdirSync } = await import("node:fs");
    mkdirSync(join(path, ".."), { recursive: true });
    const values = lines.map((l) => `('${l.replace(/'/g, "''")}')`).join(", ");
    await conn.run(
      `COPY (SELECT * FROM (VALUES ${values}) t(line)) TO '${path}' (FORMAT csv, HEADER false, QUOTE '', ESCAPE '', DELIMITER '\x01', COMPRESSION zstd)`,
    );
  };
  const a = JSON.stringify(ev("a", "2023-06-01T00:00:00Z", "u1"));
  const b = JSON.stringify(ev("b", "2023-06-01T00:00:01Z", "u2"));
  await writeZst(join(lake, "date=2023-06-01", "clean.jsonl.zst"), [a, b]);
  await writeZst(join(lake, "date=2023-06-01", "dirty.ndjson.zst"), [a, "not json", b]);
  conn.closeSync();
  db.closeSync();
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    const s = await sync(cache, folderSource(lake));
    assert.equal(s.objects.failed, 0, JSON.stringify(s.failures));
    assert.equal(s.events, 4);
    assert.equal(s.rejected, 1);
    const r = await listRejects(cache, 10);
    assert.deepEqual(
      r.rejects.map((x) => [x.key, x.line, x.raw]),
      [["date=2023-06-01/dirty.ndjson.zst", 2, "not json"]],
    );
  } finally {
    cache.close();
  }
});

test("a cache file killed before DuckDB wrote its whole header is started again; a foreign file is kept", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  writeLakeFiles(lake, { "date=2023-06-01/a.jsonl": jsonl([ev("a", "2023-06-01T00:00:00Z", "u")]) });
  const path = join(dir, "c.duckdb");
  writeFileSync(path, "");
  await assert.rejects(Cache.open(path, { readOnly: true }), { name: "CacheMissingError" });
  const cache = await Cache.open(path, { create: true });
  try {
    assert.equal((await sync(cache, folderSource(lake))).events, 1);
  } finally {
    cache.close();
  }
  // Killed after DuckDB wrote the first of its three header blocks, or the second: DuckDB cannot read
  // the rest. Started again too (a resume right after such a kill failed with "Could not read enough
  // bytes"); a reader sees no cache.
  for (const size of [4096, 8192]) {
    const short = join(dir, `short-${size}.duckdb`);
    copyFileSync(path, short);
    truncateSync(short, size);
    await assert.rejects(Cache.open(short, { readOnly: true }), { name: "CacheMissingError" });
    const again = await Cache.open(short, { create: true });
    try {
      assert.equal((await sync(again, folderSource(lake))).events, 1);
    } finally {
      again.close();
    }
  }
  const foreign = join(dir, "notes.duckdb");
  writeFileSync(foreign, Buffer.alloc(64 * 1024, 1));
  await assert.rejects(Cache.open(foreign, { create: true }), /is not an evx cache/);
  assert.equal(statSync(foreign).size, 64 * 1024, "a file that is not ours is never deleted");
});
