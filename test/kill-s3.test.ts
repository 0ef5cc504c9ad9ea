// SIGKILL during S3 syncs (downloads in flight, ingest, commits): the cache always opens and is
// consistent per object, and the next sync lands exactly the source's events.
import assert from "node:assert/strict";
import { join } from "node:path";
import { test } from "node:test";
import { generateLake } from "../src/source/synthetic.js";
import { eventsByKey, killChains } from "./helpers/killing.js";
import { startS3Server, uploadDir } from "./helpers/s3server.js";
import { tempDir } from "./helpers/tmp.js";

test("SIGKILL during S3 downloads, ingest and commit never loses or duplicates an event", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events: 24_000, days: 3, gzipShare: 0.5, seed: 5 });
  const server = await startS3Server();
  try {
    await server.createBucket("kill");
    await uploadDir(server, "kill", lake, "raw/");
    const chains = Number(process.env.EVX_KILL_CHAINS ?? 5);
    const r = await killChains({
      label: "s3",
      args: ["sync", "s3://kill/raw", "--endpoint", server.endpoint, "--concurrency", "4"],
      env: {
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        AWS_REGION: "us-east-1",
        AWS_CONFIG_FILE: join(dir, "none"),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, "none"),
        AWS_EC2_METADATA_DISABLED: "true",
        EVX_BATCH_BYTES: "100000",
      },
      dir,
      truth: new Map([...eventsByKey(lake)]),
      chains,
      killsPerChain: 2,
    });
    console.log(`s3 kill points: ${r.kills} (midway ${r.midway}) at ${r.moments.join(", ")}`);
    assert.ok(r.kills >= Math.min(9, chains * 2 - 1), `only ${r.kills} kills hit a running sync`);
    assert.ok(r.midway >= Math.min(3, r.kills), `only ${r.midway} S3 kills landed mid-sync`);
  } finally {
    await server.stop();
  }
});
