// SIGKILL during folder syncs: the cache always opens and is consistent per object, and the next sync
// lands exactly the source's events. S3 syncs (so downloads are hit too) are in kill-s3.test.ts.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { generateLake } from "../src/source/synthetic.js";
import { eventsByKey, killChains } from "./helpers/killing.js";
import { tempDir } from "./helpers/tmp.js";

test("SIGKILL at spread-out moments of folder syncs never corrupts the cache; the next sync completes exactly", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events: 60_000, days: 4, gzipShare: 0.4, seed: 3 });
  const chains = Number(process.env.EVX_KILL_CHAINS ?? 3);
  const r = await killChains({
    label: "folder",
    args: ["sync", lake],
    // Small batches make many commit points to land between.
    env: { EVX_BATCH_BYTES: "100000" },
    dir,
    truth: eventsByKey(lake),
    chains,
    killsPerChain: 4,
  });
  console.log(`folder kill points: ${r.kills} (midway ${r.midway}) at ${r.moments.join(", ")}`);
  assert.ok(r.kills >= Math.min(10, chains * 4 - 2), `only ${r.kills} kills hit a running sync`);
  // Some kills must land between commits for the test to mean anything.
  assert.ok(r.midway >= Math.min(3, r.kills), `only ${r.midway} kills landed mid-sync`);
});
