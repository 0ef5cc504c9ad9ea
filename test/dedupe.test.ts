/**
 * Dedupe by event id survives what ingest survives: re-syncing a changed object that carries the same
 * ids, evicting a partition, an object vanishing from the source. After each step the cache holds
 * exactly one row per id that any cached object carries (the brute force over the cached objects),
 * and its invariants hold (test/helpers/killing.ts `checkConsistent`). SIGKILL mid-batch is in
 * kill-dedupe.test.ts.
 */
import assert from "node:assert/strict";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Cache } from "../src/cache/db.js";
import { formatKey, resolveFormat } from "../src/cache/mapping.js";
import { PRESETS } from "../src/cache/presets.js";
import { cacheStatus, evictPartitions } from "../src/cache/status.js";
import { sync } from "../src/cache/sync.js";
import { folderSource } from "../src/source/folder.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { loadVendorLake } from "./brute-vendor.js";
import { checkConsistent } from "./helpers/killing.js";
import { jsonl, tempDir } from "./helpers/tmp.js";

const e = (id: string, type: string, time: string, user: string) => ({
  event_id: id,
  event_type: type,
  event_time: time,
  user_id: user,
  event_properties: { id },
});

async function expectTruth(cache: Cache, lake: string, include?: (k: string) => boolean): Promise<void> {
  const t = await loadVendorLake(lake, "plain", { dedupe: true, include });
  const s = await cacheStatus(cache);
  assert.deepEqual(
    { events: s.events, duplicates: s.duplicates, users: s.users },
    { events: t.events.length, duplicates: t.duplicates, users: t.users },
  );
  const ids = await cache.all<{ id: string }>("SELECT properties->>'id' AS id FROM events ORDER BY id");
  assert.deepEqual(
    ids.map((r) => r.id),
    t.events.map((x) => String(x.props.id)).sort(),
    "one row per id",
  );
}

test("--dedupe: duplicates within a batch and across syncs, re-synced changed objects, evicted partitions, vanished objects", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  writeLakeFiles(lake, {
    "date=2023-06-01/a.jsonl": jsonl([
      e("1", "open", "2023-06-01T10:00:00Z", "u1"),
      e("2", "save", "2023-06-01T10:01:00Z", "u1"),
      e("2", "save", "2023-06-01T10:01:00Z", "u1"), // re-delivered in the same file
    ]),
    "date=2023-06-02/b.jsonl": jsonl([
      e("2", "save", "2023-06-01T10:01:00Z", "u1"), // re-delivered the next day
      e("3", "open", "2023-06-02T09:00:00Z", "u2"),
    ]),
  });
  const path = join(dir, "c.duckdb");
  const cache = await Cache.open(path, { create: true });
  try {
    let s = await sync(cache, folderSource(lake), { lake: { dedupe: "event_id" } });
    assert.equal(s.events, 3);
    assert.equal(s.duplicates, 2);
    await expectTruth(cache, lake);

    // Only day 2, on its own batch: still deduped against the cache.
    writeLakeFiles(lake, {
      "date=2023-06-02/c.jsonl": jsonl([
        e("1", "open", "2023-06-01T10:00:00Z", "u1"),
        e("4", "x", "2023-06-02T11:00:00Z", "u3"),
      ]),
    });
    s = await sync(cache, folderSource(lake), { from: "2023-06-02" });
    assert.deepEqual([s.events, s.duplicates], [1, 1]);
    await expectTruth(cache, lake);

    // A changed object carrying the same ids (and one more) is re-synced: its ids are its own.
    writeLakeFiles(lake, {
      "date=2023-06-01/a.jsonl": jsonl([
        e("1", "open", "2023-06-01T10:00:00Z", "u1"),
        e("2", "save", "2023-06-01T10:01:00Z", "u1"),
        e("5", "close", "2023-06-01T12:00:00Z", "u1"),
      ]),
    });
    s = await sync(cache, folderSource(lake));
    assert.equal(s.objects.downloaded, 1);
    await expectTruth(cache, lake);
    await checkOpen(cache, path);

    // Evicting day 1: its ids that day 2 also carries come back from day 2's kept duplicates.
    await evictPartitions(cache, ["2023-06-01"]);
    await expectTruth(cache, lake, (k) => k.startsWith("date=2023-06-02/"));
    await checkOpen(cache, path);
    s = await sync(cache, folderSource(lake));
    await expectTruth(cache, lake);

    // An object vanishing from the source hands its ids over too.
    rmSync(join(lake, "date=2023-06-02/b.jsonl"));
    s = await sync(cache, folderSource(lake));
    assert.equal(s.objects.removed, 1);
    await expectTruth(cache, lake);
    rmSync(join(lake, "date=2023-06-01/a.jsonl"));
    s = await sync(cache, folderSource(lake));
    await expectTruth(cache, lake);
    await checkOpen(cache, path);
  } finally {
    cache.close();
  }
});

/** The consistency checks of the kill tests, on a cache this test holds open (run on a copy). */
async function checkOpen(cache: Cache, path: string): Promise<void> {
  await cache.run("CHECKPOINT");
  const copy = `${path}.copy-${Date.now()}.duckdb`;
  const { copyFileSync } = await import("node:fs");
  copyFileSync(path, copy);
  await checkConsistent(copy);
}

test("a --dedupe or --preset change rebuilds the cache; --map alone refines the stored preset", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  writeLakeFiles(lake, {
    "date=2023-06-01/a.jsonl": jsonl([
      e("1", "open", "2023-06-01T10:00:00Z", "u1"),
      e("1", "open", "2023-06-01T10:00:00Z", "u1"),
    ]),
  });
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    let s = await sync(cache, folderSource(lake));
    assert.deepEqual([s.events, s.duplicates], [2, 0]);
    s = await sync(cache, folderSource(lake), { lake: { dedupe: "event_id" } });
    assert.deepEqual([s.events, s.duplicates, s.objects.downloaded], [1, 1, 1]);
    s = await sync(cache, folderSource(lake));
    assert.equal(s.objects.downloaded, 0, "the stored dedupe is reused");
    assert.equal((await cacheStatus(cache)).format?.dedupe, "event_id");
  } finally {
    cache.close();
  }
});

test("--dedupe a+b: an id made of several fields (as Amplitude's device_id + $insert_id); a line lacking a part is kept", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  const a = (dev: string | null, ins: string | null, type: string, n: number) => ({
    event_type: type,
    event_time: `2023-06-01T10:0${n}:00Z`,
    user_id: "u1",
    device_id: dev,
    $insert_id: ins,
    event_properties: { n },
  });
  writeLakeFiles(lake, {
    "date=2023-06-01/a.jsonl": jsonl([
      a("d1", "i1", "open", 1),
      a("d1", "i1", "open", 2), // the same device and insert id: a duplicate, whatever else differs
      a("d2", "i1", "open", 3), // another device: not a duplicate
      a("d1", null, "open", 4), // no insert id: never a duplicate
      a("d1", null, "open", 5),
      a(null, "i1", "open", 6), // no device id: no id
    ]),
  });
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    const s = await sync(cache, folderSource(lake), { lake: { dedupe: "device_id+$insert_id" } });
    assert.deepEqual([s.events, s.duplicates], [5, 1]);
    const ns = await cache.all<{ n: string }>("SELECT properties->>'n' AS n FROM events ORDER BY n");
    assert.deepEqual(
      ns.map((r) => r.n),
      ["1", "3", "4", "5", "6"],
    );
    assert.equal((await cacheStatus(cache)).format?.dedupe, "device_id+$insert_id");
  } finally {
    cache.close();
  }
  assert.throws(() => resolveFormat({ dedupe: "device_id+" }, undefined), /bad --dedupe field 'device_id\+'/);
});

test("a cache deduped on a preset's former id is read again with the vendor's id", () => {
  const stored = { preset: "amplitude" as const, map: PRESETS.amplitude.map, dedupe: "insert_id|uuid" };
  const f = resolveFormat(undefined, stored);
  assert.equal(f.dedupe, "device_id+$insert_id");
  assert.notEqual(formatKey(f), formatKey(stored), "the cache is rebuilt");
  // A --dedupe the user chose is kept.
  assert.equal(resolveFormat({ dedupe: "uuid" }, stored).dedupe, "uuid");
});
