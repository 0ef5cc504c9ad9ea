// `evx clickhouse load --preset P` reads a collector's export as `evx sync --preset P` reads it: the vendor-
// shaped lakes of src/source/vendors.ts (Segment's epoch-ms day folders and `.gz` names, Amplitude's file
// names and Parquet silver tables, Mixpanel's nested fields, PostHog's `.jsonl.br`, `.parquet.zst` and
// manifests), on the loopback s3rver, loaded by the server (chdb behind the HTTP adapter) and synced into a
// cache: the same events (type, instant, user, properties), rejected lines, skipped messages and duplicates;
// both equal the brute force of test/brute-vendor.ts. Also: a re-load does not count a partition's events as
// duplicates of themselves, a changed format re-loads, `--dedupe none`, and a preset whose layout fits none
// of the keys exits 2 as `evx sync` does.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { Cache } from "../src/cache/db.js";
import type { PresetName } from "../src/cache/presets.js";
import { saveBehaviouralCh } from "../src/queries/clickhouse/cohorts.js";
import { ClickHouseExecutor } from "../src/queries/clickhouse/executor.js";
import { eventsDdl } from "../src/queries/clickhouse/schema.js";
import { duckUntagJsonSql } from "../src/queries/numtext.js";
import { generateLake, writeLakeFiles } from "../src/source/synthetic.js";
import { generateVendorLake } from "../src/source/vendors.js";
import { loadVendorLake } from "./brute-vendor.js";
import { type ChHttpServer, startChHttp } from "./helpers/chhttp.js";
import { type CliResult, evxRun } from "./helpers/cli.js";
import { type S3TestServer, startS3Server, uploadDir } from "./helpers/s3server.js";
import { tempDir } from "./helpers/tmp.js";

const dir = tempDir();
let s3: S3TestServer;
let srv: ChHttpServer;
const env = { AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER", AWS_REGION: "us-east-1" };
const PRESETS: PresetName[] = ["segment", "amplitude", "mixpanel", "posthog"];

const cli = (args: string[]): Promise<CliResult> => evxRun(args, env, 180_000);

const load = (preset: string, table: string, extra: string[] = []) =>
  cli([
    "clickhouse",
    "load",
    `s3://vendors/${preset}`,
    "--endpoint",
    s3.endpoint,
    "--ch-url",
    `${srv.url}/default`,
    "--ch-table",
    table,
    "--json",
    ...extra,
  ]);

type Ev = { type: string; us: string; user: string; props: unknown };
const order = (a: Ev, b: Ev) =>
  a.type !== b.type
    ? a.type < b.type
      ? -1
      : 1
    : a.us !== b.us
      ? BigInt(a.us) < BigInt(b.us)
        ? -1
        : 1
      : a.user < b.user
        ? -1
        : a.user > b.user
          ? 1
          : JSON.stringify(a.props) < JSON.stringify(b.props)
            ? -1
            : 1;

async function chEvents(table: string): Promise<Ev[]> {
  const rows = await srv.exec(
    `SELECT event_type AS type, toString(toUnixTimestamp64Micro(event_time)) AS us, user_key AS user, properties FROM ${table}`,
  );
  return rows
    .map((r) => ({
      type: String(r.type),
      us: String(r.us),
      user: String(r.user),
      props: JSON.parse(String(r.properties)),
    }))
    .sort(order);
}

/** Every merged id and its person, on the server (`evx clickhouse load`'s map) and in a cache. */
async function chIdentity(table: string): Promise<{ id: string; person: string }[]> {
  const rows = await srv.exec(
    `SELECT user_key AS id, person_key AS person FROM ${table}_evx_identity ORDER BY id, person`,
  );
  return rows.map((r) => ({ id: String(r.id), person: String(r.person) }));
}

async function cacheIdentity(path: string): Promise<{ id: string; person: string }[]> {
  const cache = await Cache.open(path, { readOnly: true });
  try {
    return await cache.all<{ id: string; person: string }>(
      `SELECT u.user_id AS id, p.user_id AS person FROM identity m
         JOIN users u ON u.user_key = m.user_key JOIN users p ON p.user_key = m.person_key
        ORDER BY id COLLATE "C", person COLLATE "C"`,
    );
  } finally {
    cache.close();
  }
}

async function cacheEvents(path: string): Promise<Ev[]> {
  const cache = await Cache.open(path, { readOnly: true });
  try {
    const rows = await cache.all<{ type: string; us: number; user: string; props: string | null }>(
      `SELECT e.event_type AS type, epoch_us(e.event_time) AS us, u.user_id AS user, ${duckUntagJsonSql("CAST(e.properties AS VARCHAR)")} AS props
         FROM events e JOIN users u USING (user_key)`,
    );
    return rows
      .map((r) => ({
        type: r.type,
        us: String(r.us),
        user: r.user,
        props: r.props === null ? {} : JSON.parse(r.props),
      }))
      .sort(order);
  } finally {
    cache.close();
  }
}

before(async () => {
  s3 = await startS3Server();
  await s3.createBucket("vendors");
  for (const preset of PRESETS) {
    const lake = join(dir, preset);
    await generateVendorLake({ dir: lake, preset, events: 1000, days: 2, seed: 21, parquetShare: 0.5 });
    await uploadDir(s3, "vendors", lake, `${preset}/`);
  }
  await generateLake({ dir: join(dir, "plain"), events: 500, days: 2, seed: 3 });
  await uploadDir(s3, "vendors", join(dir, "plain"), "plain/");
  srv = await startChHttp({});
  // A saved behavioural cohort: a load with identity rules keeps no memo of it (the table answers
  // `merged`, and a memo holds raw keys: it would be evaluated over all history and never read).
  const ex = ClickHouseExecutor.open({ chUrl: `${srv.url}/default`, chTable: "segment_events" });
  await saveBehaviouralCh(ex, "openers", {
    kind: "behavioural",
    conditions: [{ did: true, event: { event: "*", filters: [] }, atLeast: 1 }],
  });
  await ex.close();
});

after(async () => {
  await srv?.stop();
  await s3?.stop();
});

for (const preset of PRESETS) {
  describe(`clickhouse load --preset ${preset}`, () => {
    test("equals evx sync --preset of the same export, and the brute force", async () => {
      const table = `${preset}_events`;
      await srv.exec(eventsDdl({ table }));
      const mark = srv.log.length;
      const r = await load(preset, table, ["--preset", preset]);
      assert.equal(r.code, 0, r.stderr);
      assert.ok(
        srv.log.slice(mark).some((q) => /_evx_identity\b/.test(q.sql)),
        "the load built an identity map",
      );
      assert.ok(
        srv.log.slice(mark).every((q) => !/\bevx_memo_/.test(q.sql)),
        "no cohort memo for a table with identity rules",
      );
      const loaded = JSON.parse(r.stdout);
      const cache = join(dir, `${preset}.duckdb`);
      const s = await cli([
        "sync",
        `s3://vendors/${preset}`,
        "--endpoint",
        s3.endpoint,
        "--preset",
        preset,
        "--cache",
        cache,
        "--json",
      ]);
      assert.equal(s.code, 0, s.stderr);
      const synced = JSON.parse(s.stdout);
      const truth = await loadVendorLake(join(dir, preset), preset, { dedupe: true });
      const counts = (x: { events: number; rejected: number; skipped: number; duplicates: number }) => [
        x.events,
        x.rejected,
        x.skipped,
        x.duplicates,
      ];
      assert.deepEqual(counts(loaded), counts(synced));
      assert.deepEqual(counts(loaded), [
        truth.events.length,
        truth.rejected,
        truth.skipped,
        truth.duplicates,
      ]);
      assert.ok(loaded.duplicates > 0);
      assert.equal(loaded.partitions.failed, 0, JSON.stringify(loaded.failures));
      assert.equal(loaded.ignored, synced.ignored);
      assert.deepEqual(await chEvents(table), await cacheEvents(cache));
      // The identity map: the same persons as the sync's, from the JSON lines and the Parquet rows.
      const persons = await cacheIdentity(cache);
      // (The generated Mixpanel export has no identity messages: its map is empty on both.)
      if (preset !== "mixpanel") assert.ok(persons.length > 0, "the export identifies some anonymous ids");
      assert.deepEqual(await chIdentity(table), persons);

      // A re-load (forced) finds the partitions' own ids and counts the same, not everything as a duplicate.
      const again = await load(preset, table, ["--preset", preset, "--force"]);
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(counts(JSON.parse(again.stdout)), counts(loaded));
      assert.equal((await chEvents(table)).length, truth.events.length);
    });
  });
}

describe("clickhouse load: formats and layouts", () => {
  test("--dedupe none keeps every re-delivered event; a different format re-loads unchanged partitions", async () => {
    const table = "mixpanel_nodedupe";
    await srv.exec(eventsDdl({ table }));
    const r = await load("mixpanel", table, ["--preset", "mixpanel", "--dedupe", "none"]);
    assert.equal(r.code, 0, r.stderr);
    const truth = await loadVendorLake(join(dir, "mixpanel"), "mixpanel", { dedupe: false });
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.events, j.duplicates], [truth.events.length, 0]);
    const deduped = await load("mixpanel", table, ["--preset", "mixpanel"]);
    const k = JSON.parse(deduped.stdout);
    assert.equal(k.partitions.unchanged, 0, "the format is part of what a partition was loaded with");
    assert.ok(k.duplicates > 0);
  });

  test("a preset whose layout dates none of the keys exits 2 with one line, as evx sync does", async () => {
    await srv.exec(eventsDdl({ table: "plain_events" }));
    const r = await load("plain", "plain_events", ["--preset", "segment"]);
    assert.equal(r.code, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(
      r.stderr.trim(),
      /^evx: preset segment's layout \(<epoch-ms of the UTC day>\/\) dates none of the [\d,]+ data files \(date=.*\); pick the preset of this lake, or pass --layout$/,
    );
  });

  test("--sql prints the format's statements: rows, then the deduped events and ids", async () => {
    const r = await cli([
      "clickhouse",
      "load",
      "s3://vendors/posthog",
      "--endpoint",
      s3.endpoint,
      "--ch-url",
      `${srv.url}/default`,
      "--ch-table",
      "posthog_events",
      "--preset",
      "posthog",
      "--sql",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /read by the lake format: rows, then the events deduped on uuid/);
    assert.match(r.stdout, /'Parquet', 'auto', 'none'/);
    assert.match(r.stdout, /posthog_events_evx_ids/);
    assert.doesNotMatch(r.stdout, /S3RVER/);
  });
});

test("a cluster load says before it starts that presets and Parquet load on a single node (exit 2)", async () => {
  const args = (preset: string, extra: string[]) => [
    "clickhouse",
    "load",
    `s3://vendors/${preset}`,
    "--endpoint",
    s3.endpoint,
    "--ch-url",
    `${srv.url}/default`,
    "--cluster",
    "prod",
    "--sql",
    ...extra,
  ];
  const p = await cli(args("posthog", ["--preset", "posthog"]));
  assert.equal(p.code, 2, p.stderr);
  assert.match(
    p.stderr,
    /--cluster prod: presets, dedupe and --map paths or fallbacks load on a single node for now/,
  );
  // PostHog's export without the preset, by --map: its Parquet objects are named.
  const q = await cli(
    args("posthog", [
      "--layout",
      "file-date",
      "--map",
      "event_type=event,event_time=timestamp,user_id=distinct_id,event_properties=properties",
    ]),
  );
  assert.equal(q.code, 2, q.stderr);
  assert.match(
    q.stderr,
    /--cluster prod: Parquet objects \(.*\.parquet(\.zst)?\) load on a single node for now/,
  );
});

test("Parquet in a plain lake: typed columns (MAP, STRUCT, JSON string, epoch-ms BIGINT, TIMESTAMP) load as evx sync reads them", async () => {
  const lake = join(dir, "typed");
  writeLakeFiles(lake, {
    "date=2023-06-01/a.jsonl": `${JSON.stringify({ event_type: "open", event_time: "2023-06-01T10:00:00Z", user_id: "u1", event_properties: { plan: "pro", n: 1 } })}\n`,
  });
  const db = await DuckDBInstance.create(":memory:");
  const c = await db.connect();
  try {
    const files: Record<string, string> = {
      "date=2023-06-01/map.parquet": `SELECT * FROM (VALUES
        ('save', 1685613600000::BIGINT, 'u1', MAP {'plan': 'pro', 'n': '2'}),
        ('save', 1685613660000::BIGINT, NULL, MAP {'plan': 'free'}),
        ('close', 1685613720000::BIGINT, 'u2', MAP {'plan': 'team'})) t(event_type, event_time, user_id, event_properties)`,
      "date=2023-06-02/struct.parquet": `SELECT * FROM (VALUES
        ('open', TIMESTAMP '2023-06-02 08:00:00.123456', 'u3', {'plan': 'pro', 'n': 3})) t(event_type, event_time, user_id, event_properties)`,
      "date=2023-06-02/json.parquet.zst": `SELECT * FROM (VALUES
        ('open', '2023-06-02 09:00:00', 'u4', '{"plan":"free","n":4.50}')) t(event_type, event_time, user_id, event_properties)`,
    };
    mkdirSync(join(lake, "date=2023-06-02"), { recursive: true });
    for (const [k, sel] of Object.entries(files))
      await c.run(`COPY (${sel}) TO '${join(lake, k)}' (FORMAT parquet, COMPRESSION zstd)`);
  } finally {
    c.closeSync();
    db.closeSync();
  }
  await uploadDir(s3, "vendors", lake, "typed/");
  await srv.exec(eventsDdl({ table: "typed_events" }));
  const r = await load("typed", "typed_events");
  assert.equal(r.code, 0, r.stderr);
  const cache = join(dir, "typed.duckdb");
  const s = await cli(["sync", "s3://vendors/typed", "--endpoint", s3.endpoint, "--cache", cache, "--json"]);
  assert.equal(s.code, 0, s.stderr);
  const [a, b] = [JSON.parse(r.stdout), JSON.parse(s.stdout)];
  assert.deepEqual([a.events, a.rejected], [b.events, b.rejected]);
  assert.deepEqual([a.events, a.rejected], [5, 1]);
  assert.deepEqual(await chEvents("typed_events"), await cacheEvents(cache));

  // A broken Parquet object fails its partition alone (exit 3); the others stay loaded.
  writeLakeFiles(join(dir, "typed-broken"), { "date=2023-06-03/broken.parquet": "PAR1 not parquet at all" });
  await uploadDir(s3, "vendors", join(dir, "typed-broken"), "typed/");
  const f = await load("typed", "typed_events");
  assert.equal(f.code, 3, f.stderr);
  const j = JSON.parse(f.stdout);
  assert.deepEqual(j.partitions, { selected: 3, loaded: 0, unchanged: 2, failed: 1, removed: 0 });
  assert.match(j.failures[0].error, /broken\.parquet|Parquet/i);
});
