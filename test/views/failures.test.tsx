/** The TUI's coverage note stops naming a failed date once the failed object left the source. */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { gzipSync } from "node:zlib";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { folderSource } from "../../src/source/folder.js";
import { generateLake } from "../../src/source/synthetic.js";
import { renderApp, type SmallCache, testSession } from "./fixture.js";

test("the partial note names a failed date, and no longer once its object is deleted and synced", async () => {
  const dir = mkdtempSync(join(tmpdir(), "evx-ui-failures-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events: 3000, days: 7 });
  const bad = join(lake, "date=2023-06-04", "zz-broken.jsonl.gz");
  const gz = gzipSync(Buffer.from(`${JSON.stringify({ event_type: "x" })}\n`.repeat(500)));
  writeFileSync(bad, gz.subarray(0, gz.length - 20));
  const cache = await Cache.open(join(dir, "cache.duckdb"), { create: true });
  const c: SmallCache = { dir, lake, path: join(dir, "cache.duckdb"), cache, dispose() {} };
  try {
    assert.equal((await sync(cache, folderSource(lake))).objects.failed, 1);
    let app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      const f = await app.waitFor((x) => /\d+ ms\s*$/m.test(x) && x.includes("partial"));
      assert.match(f, /! partial: 6\/7 partitions · failed 06-04/);
    } finally {
      app.unmount();
    }

    rmSync(bad);
    assert.equal((await sync(cache, folderSource(lake))).clearedFailures, 1);
    app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      const f = await app.waitFor((x) => x.includes("2023-06-01 → 2023-06-07 │") && /\d+ ms\s*$/m.test(x));
      assert.doesNotMatch(f, /partial|failed/);
    } finally {
      app.unmount();
    }
  } finally {
    cache.close();
  }
});
