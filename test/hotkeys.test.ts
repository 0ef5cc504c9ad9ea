/**
 * Hot properties: the first batch picks the common top-level keys, sync pre-extracts them into
 * columns that hold exactly what the JSON lookup gives, and queries read those columns. Caches
 * from schema 1 gain the columns but keep every key in the JSON.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { Cache } from "../src/cache/db.js";
import { getHotKeys, getMeta, HOT_SLOTS, SCHEMA_VERSION } from "../src/cache/schema.js";
import { cacheStatus } from "../src/cache/status.js";
import { sync } from "../src/cache/sync.js";
import { buildQuery, Executor, shapeResult } from "../src/queries/executor.js";
import { duckUntagSql } from "../src/queries/numtext.js";
import { parseEventRef } from "../src/queries/parse.js";
import type { TrendSpec } from "../src/queries/spec.js";
import { folderSource } from "../src/source/folder.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";
import { withoutPartialMarks } from "./queries/helpers.js";

const range = { from: "2023-06-01", to: "2023-06-02", tz: "UTC" };

function lake(dir: string): string {
  const rows = [];
  for (let i = 0; i < 300; i++) {
    const props: Record<string, unknown> = { screen: i % 3 ? "home" : "editor", n: i % 7 };
    if (i % 2) props["a.b/c~d"] = `v${i % 4}`; // a key that needs pointer escaping
    if (i === 5) props["0"] = "array-like key";
    if (i === 6) props.screen = null; // JSON null reads as unset
    if (i === 7) props.n = { nested: [1, 2] }; // JSON text, not a string
    if (i === 8) props.n = 1.5e300;
    rows.push(
      ev(
        i % 2 ? "click" : "open",
        `2023-06-01T00:${String(i % 60).padStart(2, "0")}:00Z`,
        `u${i % 40}`,
        props,
      ),
    );
  }
  rows.push(ev("click", "2023-06-01T01:00:00Z", "u1", { rare: "once" }));
  const root = join(dir, "lake");
  writeLakeFiles(root, { "date=2023-06-01/part-0000.jsonl": jsonl(rows) });
  return root;
}

const byScreen: TrendSpec = {
  kind: "trend",
  events: [parseEventRef("click[n>=3]")],
  measure: { kind: "users" },
  interval: "day",
  range,
  filters: [],
  breakdown: "screen",
  limit: 10,
};

test("the first sync picks the common keys and each hot column equals the JSON lookup", async () => {
  const dir = tempDir();
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    await sync(cache, folderSource(lake(dir)));
    const hot = await getHotKeys(cache);
    // Most common first; "rare" (1 row in 301) still passes the 0.1% bar; "0" looks like an array
    // index and stays in the JSON.
    assert.deepEqual(hot, ["n", "screen", "a.b/c~d", "rare"]);
    assert.ok((hot?.length ?? 0) <= HOT_SLOTS);
    assert.deepEqual((await cacheStatus(cache)).hot_keys, hot);
    for (const [i, key] of (hot ?? []).entries()) {
      const pointer = `/${key.replace(/~/g, "~0").replace(/\//g, "~1")}`;
      const diff = await cache.one<{ n: number; set: number }>(
        `SELECT count(*) FILTER (WHERE hot${i + 1} IS DISTINCT FROM ${duckUntagSql("json_extract_string(properties, $1)")}) AS n,
                count(hot${i + 1}) AS set FROM events`,
        [pointer],
      );
      assert.equal(diff?.n, 0, key);
      assert.ok((diff?.set ?? 0) > 0, key);
    }

    const ex = new Executor(cache);
    const out = await ex.run(byScreen);
    assert.match(out.sql, /\bhot\d\b/, "the filter and the breakdown read hot columns");
    assert.doesNotMatch(out.sql, /json_extract/);
    // Same answer as the JSON lookups (the plan without the cache context; shaping alone adds no
    // partial-data marks).
    assert.deepEqual(
      withoutPartialMarks(out.result),
      shapeResult(byScreen, await ex.query(buildQuery(byScreen))),
    );
    ex.close();
  } finally {
    cache.close();
  }
});

test("a schema-1 cache is upgraded by its first reader or writer, keeps keys in the JSON, and answers the same", async () => {
  const dir = tempDir();
  const path = join(dir, "old.duckdb");
  const root = lake(dir);
  // Build the cache, then turn it back into schema 1 (no hot columns, no hot_keys).
  const fresh = await Cache.open(path, { create: true });
  await sync(fresh, folderSource(root));
  const expected = (await new Executor(fresh).run(byScreen)).result;
  fresh.close();
  const db = await DuckDBInstance.create(path);
  const c = await db.connect();
  for (let i = 1; i <= HOT_SLOTS; i++) await c.run(`ALTER TABLE events DROP COLUMN hot${i}`);
  await c.run("DELETE FROM meta WHERE key = 'hot_keys'");
  await c.run("UPDATE meta SET value = '1' WHERE key = 'schema_version'");
  await c.run("DROP TABLE object_types");
  c.closeSync();
  db.closeSync();

  // A reader (evx events, the TUI) upgrades it on open and answers as before.
  const reader = await Cache.open(path, { readOnly: true });
  try {
    assert.equal(await getMeta(reader, "schema_version"), String(SCHEMA_VERSION));
    const types = await reader.one<{ n: number }>("SELECT sum(events) AS n FROM object_types");
    assert.equal(types?.n, 301);
    const rx = new Executor(reader);
    assert.deepEqual((await rx.run(byScreen)).result, expected);
    rx.close();
  } finally {
    reader.close();
  }

  const cache = await Cache.open(path, { create: true });
  try {
    assert.deepEqual(await getHotKeys(cache), []);
    const cols = await cache.all<{ n: string }>(
      "SELECT column_name AS n FROM duckdb_columns() WHERE table_name = 'events' AND column_name LIKE 'hot%'",
    );
    assert.equal(cols.length, HOT_SLOTS);
    // A later sync adds rows without extracting anything: no key became hot for half the rows.
    writeLakeFiles(root, {
      "date=2023-06-02/part-0000.jsonl": jsonl([
        ev("click", "2023-06-02T00:00:00Z", "u1", { screen: "x", n: 5 }),
      ]),
    });
    await sync(cache, folderSource(root));
    assert.deepEqual(await getHotKeys(cache), []);
    const ex = new Executor(cache);
    const out = await ex.run(byScreen);
    assert.doesNotMatch(out.sql, /\bhot\d\b/);
    // Day 1 is unchanged ("x" is a new value on day 2).
    const day1 = (r: typeof out.result) =>
      r.series.filter((x) => x.breakdown !== "x").map((x) => [x.breakdown, x.points[0]]);
    assert.deepEqual(day1(out.result), day1(expected));
    assert.deepEqual(out.result, shapeResult(byScreen, await ex.query(buildQuery(byScreen))));
    ex.close();
  } finally {
    cache.close();
  }
});

test("a first batch without any property object leaves the choice to a later batch", async () => {
  const dir = tempDir();
  const root = join(dir, "lake");
  writeLakeFiles(root, {
    "date=2023-06-01/part-0000.jsonl": jsonl([
      ev("click", "2023-06-01T00:00:00Z", "u1"),
      { event_type: "click", event_time: "2023-06-01T00:01:00Z", user_id: "u2", event_properties: [1, 2] },
    ]),
  });
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    await sync(cache, folderSource(root));
    assert.equal(await getHotKeys(cache), undefined);
    writeLakeFiles(root, {
      "date=2023-06-02/part-0000.jsonl": jsonl([
        ev("click", "2023-06-02T00:00:00Z", "u1", { screen: "home", n: 4 }),
        ev("click", "2023-06-02T00:01:00Z", "u3", { screen: "editor", n: 1 }),
      ]),
    });
    await sync(cache, folderSource(root));
    assert.deepEqual(await getHotKeys(cache), ["n", "screen"]);
    const ex = new Executor(cache);
    const out = await ex.run(byScreen);
    assert.match(out.sql, /\bhot\d\b/);
    assert.deepEqual(out.result, shapeResult(byScreen, await ex.query(buildQuery(byScreen))));
    assert.deepEqual(
      out.result.series.map((s) => [s.breakdown, s.total]),
      [["home", 1]],
    );
    ex.close();
  } finally {
    cache.close();
  }
});
