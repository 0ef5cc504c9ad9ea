/**
 * An analysis whose plan cannot spill (paths' per-user lists) and outgrows DuckDB's memory limit is run
 * again once with a larger one (queries/executor.ts) instead of failing, unless EVX_MEMORY_LIMIT pins
 * the limit. Real DuckDB, a limit small enough that 30k events need more.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { bytesOf, Executor } from "../../src/queries/executor.js";
import { parseEventRef as ref } from "../../src/queries/parse.js";
import type { PathsSpec } from "../../src/queries/spec.js";
import { folderSource } from "../../src/source/folder.js";
import { generateLake } from "../../src/source/synthetic.js";
import { loadLake } from "../brute.js";
import { brutePaths } from "../brute-insights.js";
import { assertClose, withoutPartialMarks } from "./helpers.js";

let root: string;
let path: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "evx-memlimit-"));
  await generateLake({ dir: join(root, "lake"), events: 30_000, days: 6, seed: 3, usersPer: 30 });
  path = join(root, "cache.duckdb");
  const c = await Cache.open(path, { create: true, local: true });
  await sync(c, folderSource(join(root, "lake")));
  c.close();
});

after(() => rmSync(root, { recursive: true, force: true }));

const spec = (): PathsSpec => ({
  kind: "paths",
  anchor: ref("application_opened"),
  direction: "after",
  depth: 4,
  top: 5,
  collapse: true,
  range: { from: "2023-06-01", to: "2023-06-06", tz: "UTC" },
  filters: [],
});

async function withLimit<T>(fn: (ex: Executor, cache: Cache) => Promise<T>): Promise<T> {
  const cache = await Cache.open(path, { readOnly: true, local: true, settings: { memoryLimit: "16MB" } });
  const ex = new Executor(cache);
  try {
    return await fn(ex, cache);
  } finally {
    ex.close();
    cache.close();
  }
}

test("pinned by EVX_MEMORY_LIMIT, paths over 30k events fails with DuckDB's out-of-memory error", async () => {
  process.env.EVX_MEMORY_LIMIT = "16MB";
  try {
    await withLimit((ex) => assert.rejects(ex.run(spec()), /Out of Memory Error/));
  } finally {
    delete process.env.EVX_MEMORY_LIMIT;
  }
});

test("by default it is run again with a larger limit and answers as the brute force", async () => {
  const events = await loadLake(join(root, "lake"));
  await withLimit(async (ex, cache) => {
    const out = await ex.run(spec());
    assertClose(withoutPartialMarks(out.result), brutePaths(events, spec()));
    const m = await cache.one<{ m: string }>("SELECT current_setting('memory_limit') AS m");
    assert.ok(bytesOf(String(m?.m)) > 1e9, `raised: ${m?.m}`);
  });
});

test("bytesOf reads DuckDB's sizes", () => {
  assert.equal(bytesOf("2.0 GiB"), 2 * 2 ** 30);
  assert.equal(bytesOf("512.0 MiB"), 512 * 2 ** 20);
  assert.equal(bytesOf("4GB"), 4e9);
  assert.equal(bytesOf("976.5 KiB"), 976.5 * 1024);
  assert.equal(bytesOf("lots"), 0);
});
