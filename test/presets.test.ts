/**
 * Each preset end to end through the loopback S3 server: a vendor-shaped lake (src/source/vendors.ts)
 * is synced with `--preset`, and the counts (events, users, rejected, skipped, duplicates) must equal
 * the brute-force reader of test/brute-vendor.ts exactly; then trend, funnel and retention on the
 * cache must equal the brute-force analyses over the same events. PostHog and Amplitude lakes are
 * half Parquet.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Cache } from "../src/cache/db.js";
import { PRESETS, type PresetName } from "../src/cache/presets.js";
import { cacheStatus } from "../src/cache/status.js";
import { sync } from "../src/cache/sync.js";
import { Executor } from "../src/queries/executor.js";
import { parseEventRef as ref } from "../src/queries/parse.js";
import type { FunnelSpec, RetentionSpec, TrendSpec } from "../src/queries/spec.js";
import { s3Source } from "../src/source/s3.js";
import { generateVendorLake } from "../src/source/vendors.js";
import { bruteFunnel, bruteRetention, bruteTrend, lastEventTime } from "./brute.js";
import { loadVendorLake } from "./brute-vendor.js";
import { type S3TestServer, startS3Server, uploadDir } from "./helpers/s3server.js";
import { tempDir } from "./helpers/tmp.js";
import { assertClose } from "./queries/helpers.js";

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

const range = { from: "2023-06-01", to: "2023-06-04", tz: "UTC" };

/** The analyses every preset's cache must answer as the brute force does. */
function specs(types: string[]): { trend: TrendSpec; funnel: FunnelSpec; retention: RetentionSpec } {
  return {
    trend: {
      kind: "trend",
      events: types.slice(0, 3).map((t) => ref(t)),
      measure: { kind: "users" },
      interval: "day",
      filters: [],
      limit: 10,
      range,
    },
    funnel: {
      kind: "funnel",
      steps: [ref("application_opened"), ref("file_opened"), ref("file_saved")],
      withinSeconds: 3600,
      filters: [],
      limit: 10,
      range,
    } as FunnelSpec,
    retention: {
      kind: "retention",
      start: ref("application_opened"),
      return: ref("*"),
      period: "day",
      periods: 3,
      mode: "on",
      filters: [],
      range,
    } as RetentionSpec,
  };
}

for (const preset of Object.keys(PRESETS) as PresetName[]) {
  describe(`preset ${preset}`, () => {
    test(`syncs a ${preset} export from S3: counts and analyses match the brute force`, async () => {
      const dir = tempDir();
      const lake = join(dir, "lake");
      await generateVendorLake({ dir: lake, preset, events: 3000, days: 4, seed: 11, parquetShare: 0.5 });
      const bucket = `p-${preset}`;
      await server.createBucket(bucket);
      const keys = await uploadDir(server, bucket, lake, "export/");
      // PostHog's Parquet batch export (properties a JSON string); Amplitude as a silver Parquet
      // table (a MAP column for event_properties, a TIMESTAMP event_time), mixed with JSON lines.
      if (preset === "posthog" || preset === "amplitude")
        assert.ok(keys.some((k) => k.endsWith(".parquet")) && keys.some((k) => !k.endsWith(".parquet")));
      const truth = await loadVendorLake(lake, preset, { dedupe: true });
      assert.ok(truth.duplicates > 0, "the fixture re-delivers lines");
      if (preset === "amplitude" || preset === "mixpanel") {
        // The insert id alone would merge other devices' (users') events that reuse one: the vendor's
        // scoped id keeps them.
        const insertOnly = await loadVendorLake(lake, preset, {
          dedupe: true,
          idOf: (o) =>
            o.$insert_id ?? (o.properties as Record<string, unknown> | undefined)?.$insert_id ?? o.insert_id,
        });
        assert.ok(insertOnly.duplicates > truth.duplicates, `${preset}: scoped ids are not duplicates`);
      }
      if (preset === "amplitude") {
        // Re-ingested rows carry a new uuid: the former `insert_id|uuid` rule found no duplicate.
        const byUuid = await loadVendorLake(lake, preset, { dedupe: true, idOf: (o) => o.uuid });
        assert.equal(byUuid.duplicates, 0);
      }
      if (preset === "posthog")
        // Every file name PostHog's batch export writes: compressed JSON lines, zstd Parquet, manifests.
        for (const ext of [".jsonl.gz", ".jsonl.br", ".jsonl", ".parquet", ".parquet.zst", "_manifest.json"])
          assert.ok(
            keys.some((k) => k.endsWith(ext)),
            ext,
          );
      if (preset === "segment" || preset === "amplitude") assert.ok(truth.skipped > 0, "non-event messages");
      const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
      try {
        const s = await sync(cache, s3Source(`s3://${bucket}/export`, { endpoint: server.endpoint }), {
          lake: { preset },
          concurrency: 4,
        });
        assert.equal(s.objects.failed, 0, JSON.stringify(s.failures));
        assert.equal(s.undated, 0);
        assert.equal(s.ignored, keys.filter((k) => k.endsWith("_manifest.json")).length);
        assert.deepEqual(
          { events: s.events, rejected: s.rejected, skipped: s.skipped, duplicates: s.duplicates },
          {
            events: truth.events.length,
            rejected: truth.rejected,
            skipped: truth.skipped,
            duplicates: truth.duplicates,
          },
        );
        const st = await cacheStatus(cache);
        assert.equal(st.users, truth.users);
        assert.equal(st.duplicates, truth.duplicates);
        assert.equal(st.skipped, truth.skipped);
        assert.equal(st.format?.preset, preset);
        assert.equal(st.format?.dedupe, PRESETS[preset].id);

        // A second sync changes nothing: every object is unchanged, no id is counted twice.
        const again = await sync(cache, s3Source(`s3://${bucket}/export`, { endpoint: server.endpoint }));
        assert.equal(again.objects.downloaded, 0);
        assert.equal((await cacheStatus(cache)).events, truth.events.length);

        const ex = new Executor(cache);
        try {
          const types = [...new Set(truth.events.map((e) => e.type))].sort();
          const sp = specs(types);
          assertClose((await ex.run(sp.trend)).result, bruteTrend(truth.events, sp.trend));
          assertClose((await ex.run(sp.funnel)).result, bruteFunnel(truth.events, sp.funnel));
          assertClose(
            (await ex.run(sp.retention)).result,
            bruteRetention(truth.events, sp.retention, lastEventTime(truth.events)),
          );
        } finally {
          ex.close();
        }
      } finally {
        cache.close();
      }
    });
  });
}
