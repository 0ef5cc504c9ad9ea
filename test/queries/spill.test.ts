/**
 * Answers stay exact when DuckDB runs out of its memory budget and spills joins, sorts and
 * aggregates to the cache's temp directory: the same specs as the brute force, with a memory limit
 * far below what the queries need.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { Executor } from "../../src/queries/executor.js";
import { parseEventRef as ref } from "../../src/queries/parse.js";
import type { AnalysisSpec, DateRange } from "../../src/queries/spec.js";
import { folderSource } from "../../src/source/folder.js";
import { generateLake } from "../../src/source/synthetic.js";
import {
  type BruteEvent,
  bruteCatalog,
  bruteFunnel,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  loadLake,
} from "../brute.js";
import { assertClose } from "./helpers.js";

const root = mkdtempSync(join(tmpdir(), "evx-spill-"));
const cachePath = join(root, "cache.duckdb");
let events: BruteEvent[];
let last: number;
let cache: Cache | undefined;
let ex: Executor | undefined;
const range: DateRange = { from: "2023-06-01", to: "2023-06-14", tz: "UTC" };

before(async () => {
  const lake = join(root, "lake");
  await generateLake({ dir: lake, events: 400_000, days: 14, seed: 11, usersPer: 4 });
  const writer = await Cache.open(cachePath, { create: true });
  await sync(writer, folderSource(lake));
  writer.close();
  events = await loadLake(lake);
  last = lastEventTime(events);
  // One thread and a few MB: the funnel's ASOF joins and the retention aggregates cannot fit. The runs
  // must pass by spilling, not by being run again with more memory (queries/executor.ts does that
  // unless the limit is pinned): pinned for the readers (the sync above had the default).
  process.env.EVX_MEMORY_LIMIT = "12MB";
});

async function spillingExecutor(): Promise<Executor> {
  if (!ex) {
    cache = await Cache.open(cachePath, { readOnly: true, settings: { threads: 1, memoryLimit: "12MB" } });
    ex = new Executor(cache);
  }
  return ex;
}

after(() => {
  delete process.env.EVX_MEMORY_LIMIT;
  ex?.close();
  cache?.close();
  rmSync(root, { recursive: true, force: true });
});

const specs: [string, AnalysisSpec, () => unknown][] = [];
const add = (name: string, spec: AnalysisSpec, brute: (s: never) => unknown) =>
  specs.push([name, spec, () => brute(spec as never)]);

add(
  "funnel, 3 steps within 1d",
  {
    kind: "funnel",
    steps: [ref("application_opened"), ref("button_clicked"), ref("file_saved")],
    withinSeconds: 86400,
    range,
    filters: [],
    limit: 10,
  },
  (s) => bruteFunnel(events, s),
);
add(
  "retention, daily, per-bucket plan",
  {
    kind: "retention",
    start: ref("application_opened"),
    return: ref("file_saved"),
    period: "day",
    periods: 7,
    mode: "on",
    range,
    filters: [],
  },
  (s) => bruteRetention(events, s, last),
);
add(
  "retention, daily, bitmap plan",
  {
    kind: "retention",
    start: ref("application_opened"),
    return: ref("*"),
    period: "day",
    periods: 7,
    mode: "on",
    range,
    filters: [],
  },
  (s) => bruteRetention(events, s, last),
);
add(
  "trend, users by day with a breakdown",
  {
    kind: "trend",
    events: [ref("button_clicked")],
    measure: { kind: "users" },
    interval: "day",
    range,
    filters: [],
    breakdown: "screen",
    limit: 5,
  },
  (s) => bruteTrend(events, s),
);
add("catalog", { kind: "catalog", range }, (s) => bruteCatalog(events, s));

test("without a temp directory the funnel below runs out of memory: the runs that pass spill", async () => {
  const c = await Cache.open(cachePath, { readOnly: true, settings: { threads: 1, memoryLimit: "12MB" } });
  const e = new Executor(c);
  try {
    await c.run("SET temp_directory = ''");
    await assert.rejects(e.run(specs[0][1]), /memory/i);
  } finally {
    e.close();
    c.close();
  }
});

for (const [name, spec, expected] of specs) {
  test(`${name}: exact with a 12MB memory limit`, async () => {
    assertClose((await (await spillingExecutor()).run(spec)).result, expected());
  });
}
