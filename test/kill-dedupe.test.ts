// SIGKILL during deduping syncs (a Segment export, `--preset segment`, ids in `messageId`): after
// every kill the cache is consistent (no id kept twice, every kept duplicate has its event, counts
// match the manifest), and the next sync lands exactly the brute force's deduped events.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { generateVendorLake } from "../src/source/vendors.js";
import { loadVendorLake } from "./brute-vendor.js";
import { killChains } from "./helpers/killing.js";
import { tempDir } from "./helpers/tmp.js";

test("SIGKILL mid-batch of a deduping sync never keeps an id twice or loses one; the next sync completes exactly", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  await generateVendorLake({ dir: lake, preset: "segment", events: 30_000, days: 4, seed: 5 });
  const truth = await loadVendorLake(lake, "segment", { dedupe: true });
  assert.ok(truth.duplicates > 100);
  const chains = Number(process.env.EVX_KILL_CHAINS ?? 2);
  const r = await killChains({
    label: "dedupe",
    args: ["sync", lake, "--preset", "segment"],
    env: { EVX_BATCH_BYTES: "100000" },
    dir,
    // Which object keeps an id's row depends on commit order: only the total is exact.
    truth: new Map([["*", truth.events.length]]),
    chains,
    killsPerChain: 4,
  });
  console.log(`dedupe kill points: ${r.kills} (midway ${r.midway}) at ${r.moments.join(", ")}`);
  assert.ok(r.kills >= Math.min(6, chains * 4 - 2), `only ${r.kills} kills hit a running sync`);
  assert.ok(r.midway >= Math.min(2, r.kills), `only ${r.midway} kills landed mid-sync`);
});
