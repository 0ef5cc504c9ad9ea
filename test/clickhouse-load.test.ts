// `evx clickhouse load`: the server (chdb behind the loopback HTTP adapter) reads the lake from the loopback
// s3rver with its own s3(), and inserts it. Against `evx sync` of the same lake: the same events (type,
// instant, user), the same rejected lines, the same coverage; a re-load replaces a partition; a partition
// that fails keeps its previous data; the S3 credentials never appear in any output, SQL text or URL.
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { Cache } from "../src/cache/db.js";
import { eventsDdl } from "../src/queries/clickhouse/schema.js";
import { duckUntagJsonSql } from "../src/queries/numtext.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { type ChHttpServer, startChHttp } from "./helpers/chhttp.js";
import { type CliResult, evxRun } from "./helpers/cli.js";
import { type S3TestServer, startS3Server, uploadDir } from "./helpers/s3server.js";
import { tempDir } from "./helpers/tmp.js";

const dir = tempDir();
let s3: S3TestServer;
let srv: ChHttpServer;
const PASSWORD = "loader-Pw-5150";
/** s3rver's one account: these must never show. */
const S3_KEY = "S3RVER";
const env = {
  AWS_ACCESS_KEY_ID: S3_KEY,
  AWS_SECRET_ACCESS_KEY: S3_KEY,
  AWS_REGION: "us-east-1",
  EVX_CLICKHOUSE_PASSWORD: PASSWORD,
};
const outputs: CliResult[] = [];

const D1 = "2023-06-01";
const D2 = "2023-06-02";
const D3 = "2023-06-03";

const row = (type: string, time: unknown, user: unknown = "u1", props: unknown = { plan: "pro" }) =>
  JSON.stringify({ event_type: type, event_time: time, user_id: user, event_properties: props });

/** Every event_time form evx reads or rejects, and the kinds of bad lines `evx sync` counts. */
function oddLines(d: string): string {
  const deep = (n: number): unknown => (n === 0 ? "leaf" : { a: deep(n - 1) });
  return [
    row("iso_z", `${d}T01:00:00.123Z`),
    row("iso_micro", `${d}T01:00:00.123456Z`, "u2"),
    row("iso_offset", `${d}T03:00:00+02:00`, "u3", { n: 1.5, b: true, o: { x: [1, 2] } }),
    row("iso_offset_compact", `${d}T03:00:00+0200`),
    row("iso_space", `${d} 04:05:06`),
    row("iso_minutes", `${d}T04:05`),
    row("date_only", d),
    row("epoch_s", 1685577600),
    row("epoch_ms", 1685577600123),
    row("epoch_us", 1685577600123456),
    row("epoch_s_text", "1685577600"),
    row("epoch_frac", 1685577600.5),
    row("epoch_exp", 1.6855776e9),
    row("number_user", `${d}T05:00:00Z`, 42),
    row("props_missing", `${d}T05:00:00Z`, "u4", undefined),
    row("props_null", `${d}T05:00:00Z`, "u4", null),
    row("deep_props", `${d}T05:00:00Z`, "u5", deep(50)),
    row("unicode_é🙂", `${d}T05:00:00Z`, "ü"),
    `  ${row("padded", `${d}T06:00:00Z`)}  `,
    `${row("crlf", `${d}T06:00:00Z`)}\r`,
    "",
    "   ",
    row("before_1970", "1969-12-31T23:59:59Z"),
    row("at_2100", "2100-01-01T00:00:00Z"),
    row("year_1", "0001-01-01T00:00:00Z"),
    row("negative_epoch", -1),
    row("huge_epoch", 1e300),
    row("bool_time", true),
    row("garbage_time", "yesterday-ish"),
    row("hour_25", `${d}T25:00:00Z`),
    JSON.stringify({ event_type: "no_user", event_time: `${d}T01:00:00Z` }),
    JSON.stringify({ event_type: "", event_time: `${d}T01:00:00Z`, user_id: "u1" }),
    JSON.stringify({ event_time: `${d}T01:00:00Z`, user_id: "u1" }),
    JSON.stringify({ event_type: "no_time", user_id: "u1" }),
    JSON.stringify({ event_type: "null_time", event_time: null, user_id: "u1" }),
    "not json",
    "[1, 2]",
    '"a string"',
    "{broken",
  ].join("\n");
}

/** Numbers as JSON.stringify never writes them (docs/semantics.md "Property text"), and big integers. */
const NUMBER_TEXTS = {
  revenue: "19.0",
  e: "1e2",
  z: "-0.0",
  d: "1.50",
  big: "12345678901234567890123",
  nbig: "-12345678901234567890123",
};
function numberLines(d: string): string[] {
  const props = Object.entries(NUMBER_TEXTS)
    .map(([k, v]) => `"${k}":${v}`)
    .join(",");
  return [
    `{"event_type":"numtext","event_time":"${d}T05:00:00Z","user_id":"u1","event_properties":{${props},"nested":{"x":[1.50, 1e2]}}}`,
    // An integer wider than 64 bits outside the properties: the line is still an event.
    `{"event_type":"numtext","event_time":"${d}T06:00:00Z","user_id":"u2","seq":123456789012345678901234567890,"event_properties":{"revenue":19.0}}`,
  ];
}

/** The lake: three dates, plain and gzip objects, non-data files, odd lines. */
function lake(): Record<string, string | Buffer> {
  return {
    [`date=${D1}/part-0000.jsonl`]: `${oddLines(D1)}\n`,
    [`date=${D1}/part-0015.jsonl.gz`]: `${[row("gz_open", `${D1}T10:00:00Z`, "u7"), row("gz_open", `${D1}T11:00:00Z`, "u8"), "bad line"].join("\n")}\n`,
    [`date=${D1}/_SUCCESS`]: "",
    // Invalid UTF-8 inside a string (read as U+FFFD), and a raw NUL in a string (not JSON).
    [`date=${D1}/part-0030.jsonl`]: Buffer.concat([
      Buffer.from(
        `{"event_type":"bad_utf8","event_time":"${D1}T01:00:00Z","user_id":"u4","event_properties":{"s":"`,
      ),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
      Buffer.from(
        `"}}\n{"event_type":"raw_nul","event_time":"${D1}T01:00:00Z","user_id":"u5","event_properties":{"s":"a`,
      ),
      Buffer.from([0]),
      Buffer.from(`b"}}\n{"event_type":"after_bad","event_time":"${D1}T01:00:00Z","user_id":"u6"}\n`),
    ]),
    [`date=${D2}/part-0000.jsonl`]: `${[row("open", `${D2}T01:00:00Z`, "u1"), row("open", `${D2}T02:00:00Z`, "u2"), row("buy", `${D2}T03:00:00Z`, "u1", { revenue: 9.5 })].join("\n")}\n`,
    [`date=${D2}/part-0015.jsonl`]: `${[row("open", `${D2}T04:00:00Z`, "u3"), ...numberLines(D2)].join("\n")}\n`,
    [`date=${D3}/part-0000.jsonl.gz`]: `${[row("open", `${D3}T01:00:00Z`, "u9"), "nope"].join("\n")}\n`,
    [`date=${D3}/part-0000.jsonl.crc`]: "ignored",
  };
}

const chUrl = () => `${srv.url.replace("http://", "http://loader@")}/default`;
const loadArgs = (extra: string[] = [], table = "events") => [
  "clickhouse",
  "load",
  "s3://lake/raw",
  "--endpoint",
  s3.endpoint,
  "--ch-url",
  chUrl(),
  "--ch-table",
  table,
  ...extra,
];

async function cli(args: string[]): Promise<CliResult> {
  const r = await evxRun(args, env, 120_000);
  outputs.push(r);
  return r;
}

async function loadJson(extra: string[] = [], table = "events", code = 0) {
  const r = await cli(loadArgs(["--json", ...extra], table));
  assert.equal(r.code, code, r.stderr);
  return JSON.parse(r.stdout);
}

/** (type, µs, user) of every event, sorted: the ClickHouse table. */
async function chEvents(table = "events", date?: string) {
  const rows = await srv.exec(
    `SELECT event_type AS type, toString(toUnixTimestamp64Micro(event_time)) AS us, user_key AS user, properties FROM ${table}
      ${date ? "WHERE date = toDate({d:String})" : ""} ORDER BY type, us, user`,
    date ? { d: date } : {},
  );
  return rows.map((r) => ({
    type: String(r.type),
    us: String(r.us),
    user: String(r.user),
    props: JSON.parse(String(r.properties)),
  }));
}

/** The same from an evx cache. */
async function cacheEvents(path: string) {
  const cache = await Cache.open(path, { readOnly: true });
  try {
    // The cache stores numbers DuckDB would re-print tagged; read them back as written.
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
      .sort((a, b) =>
        a.type < b.type
          ? -1
          : a.type > b.type
            ? 1
            : BigInt(a.us) < BigInt(b.us)
              ? -1
              : BigInt(a.us) > BigInt(b.us)
                ? 1
                : a.user < b.user
                  ? -1
                  : 1,
      );
  } finally {
    cache.close();
  }
}

before(async () => {
  writeLakeFiles(join(dir, "lake"), lake());
  // The same lake with Segment-style field names, for --map.
  const seg: Record<string, string> = {};
  for (const [k, v] of Object.entries(lake()))
    if (/\.jsonl$/.test(k))
      seg[k] = String(v)
        .replace(/"event_type":/g, '"event":')
        .replace(/"event_time":/g, '"timestamp":')
        .replace(/"user_id":/g, '"distinct_id":')
        .replace(/"event_properties":/g, '"properties":');
  writeLakeFiles(join(dir, "seg"), seg);
  s3 = await startS3Server();
  await s3.createBucket("lake");
  await uploadDir(s3, "lake", join(dir, "lake"), "raw/");
  await uploadDir(s3, "lake", join(dir, "seg"), "seg/");
  srv = await startChHttp({ user: "loader", password: PASSWORD });
  await srv.exec(eventsDdl({ table: "events" }));
  await srv.exec(eventsDdl({ table: "seg_events" }));
});

after(async () => {
  await srv?.stop();
  await s3?.stop();
});

describe("a load equals evx sync of the same lake", () => {
  let loaded: {
    events: number;
    rejected: number;
    partitions: Record<string, number>;
    objects: Record<string, number>;
  };
  let synced: { events: number; rejected: number };
  const cachePath = join(dir, "sync.duckdb");

  before(async () => {
    loaded = await loadJson();
    const r = await cli(["sync", "s3://lake/raw", "--endpoint", s3.endpoint, "--cache", cachePath, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    synced = JSON.parse(r.stdout);
  });

  test("the same event and rejected-line counts", () => {
    assert.equal(loaded.events, synced.events);
    assert.equal(loaded.rejected, synced.rejected);
    assert.ok(loaded.rejected >= 15, `the lake has many bad lines (${loaded.rejected})`);
    assert.deepEqual(loaded.partitions, { selected: 3, loaded: 3, unchanged: 0, failed: 0, removed: 0 });
    assert.deepEqual(loaded.objects, { listed: 6, loaded: 6, failed: 0 });
  });

  test("the same events: type, instant to the microsecond, user and properties", async () => {
    // Invalid UTF-8: ClickHouse's toValidUTF8 writes one U+FFFD per invalid run, Node one per byte.
    const fffd = (xs: { props: unknown }[]) =>
      xs.map((x) => ({ ...x, props: JSON.parse(JSON.stringify(x.props).replace(/\uFFFD+/g, "\uFFFD")) }));
    assert.deepEqual(fffd(await chEvents()), fffd(await cacheEvents(cachePath)));
  });

  test("the same answers and coverage through both engines", async () => {
    const ch = await cli(["events", "--engine", "clickhouse", "--ch-url", chUrl(), "--json"]);
    const duck = await cli(["events", "--cache", cachePath, "--json"]);
    assert.equal(ch.code, 0, ch.stderr);
    assert.deepEqual(JSON.parse(ch.stdout), JSON.parse(duck.stdout));
    assert.equal(JSON.parse(ch.stdout).coverage.rejected_lines, synced.rejected);
  });

  test("numbers keep their text as written; lines with integers wider than 64 bits load", async () => {
    const props = async (engine: string[]) => {
      const r = await cli(["props", "numtext", "--json", ...engine]);
      assert.equal(r.code, 0, r.stderr);
      const out = JSON.parse(r.stdout) as {
        events: number;
        props: { key: string; type: string; top: { value: string }[] }[];
      };
      return {
        events: out.events,
        texts: Object.fromEntries(out.props.map((p) => [p.key, p.top.map((t) => t.value)])),
        types: Object.fromEntries(out.props.map((p) => [p.key, p.type])),
      };
    };
    const ch = await props(["--engine", "clickhouse", "--ch-url", chUrl()]);
    const duck = await props(["--cache", cachePath]);
    assert.equal(ch.events, 2);
    assert.equal(duck.events, 2);
    for (const [k, v] of Object.entries(NUMBER_TEXTS)) {
      assert.deepEqual(ch.texts[k], [v], k);
      assert.equal(ch.types[k], "number", k);
    }
    assert.deepEqual(ch.texts.nested, ['{"x":[1.50,1e2]}']);
    // DuckDB keeps these as written too (its JSON writer re-prints 1e2 and 1.50: see the todo below).
    for (const k of ["revenue", "z", "big", "nbig"]) assert.deepEqual(duck.texts[k], ch.texts[k], k);
    assert.deepEqual(duck.types, ch.types);
    const matching = async (engine: string[]) => {
      const r = await cli(["trend", "numtext", "--where", "revenue~.0", "--json", ...engine]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout).series[0].total;
    };
    assert.equal(await matching(["--engine", "clickhouse", "--ch-url", chUrl()]), 2);
    assert.equal(await matching(["--cache", cachePath]), 2);
    const groups = async (key: string, engine: string[]) => {
      const r = await cli(["trend", "numtext", "--breakdown", key, "--json", ...engine]);
      assert.equal(r.code, 0, r.stderr);
      return (JSON.parse(r.stdout).series as { breakdown: string; total: number }[]).map((x) => [
        x.breakdown,
        x.total,
      ]);
    };
    for (const key of ["revenue", "z", "big", "nbig"]) {
      const onCh = await groups(key, ["--engine", "clickhouse", "--ch-url", chUrl()]);
      assert.deepEqual(onCh, await groups(key, ["--cache", cachePath]), key);
      assert.ok(JSON.stringify(onCh).includes(NUMBER_TEXTS[key as keyof typeof NUMBER_TEXTS]), key);
    }
  });

  test("DuckDB keeps 1e2 and 1.50 as written", async () => {
    const r = await cli(["props", "numtext", "--json", "--cache", cachePath]);
    const out = JSON.parse(r.stdout) as { props: { key: string; top: { value: string }[] }[] };
    const text = (k: string) => out.props.find((p) => p.key === k)?.top[0]?.value;
    assert.equal(text("e"), "1e2");
    assert.equal(text("d"), "1.50");
  });

  test("--map: renamed fields load as evx sync --map reads them", async () => {
    const map = "event_type=event,event_time=timestamp,user_id=distinct_id,event_properties=properties";
    const r = await cli(
      [...loadArgs(["--json", "--map", map], "seg_events")].map((a) =>
        a === "s3://lake/raw" ? "s3://lake/seg" : a,
      ),
    );
    assert.equal(r.code, 0, r.stderr);
    const segCache = join(dir, "seg.duckdb");
    const s = await cli([
      "sync",
      "s3://lake/seg",
      "--endpoint",
      s3.endpoint,
      "--cache",
      segCache,
      "--map",
      map,
      "--json",
    ]);
    assert.equal(s.code, 0, s.stderr);
    const [a, b] = [JSON.parse(r.stdout), JSON.parse(s.stdout)];
    assert.equal(a.events, b.events);
    assert.equal(a.rejected, b.rejected);
    assert.deepEqual(await chEvents("seg_events"), await cacheEvents(segCache));
  });
});

describe("coverage and partitions on ClickHouse", () => {
  test("dates the source has but the table lacks are missing, as in a cache synced the same way", async () => {
    await srv.exec(eventsDdl({ table: "part_events" }));
    const r = await loadJson(["--from", D1, "--to", D1], "part_events");
    assert.equal(r.partitions.loaded, 1);
    const partCache = join(dir, "part.duckdb");
    const s = await cli([
      "sync",
      "s3://lake/raw",
      "--endpoint",
      s3.endpoint,
      "--cache",
      partCache,
      "--from",
      D1,
      "--to",
      D1,
      "--json",
    ]);
    assert.equal(s.code, 0, s.stderr);
    const range = ["--from", D1, "--to", D3, "--json"];
    const ch = await cli([
      "events",
      "--engine",
      "clickhouse",
      "--ch-url",
      chUrl(),
      "--ch-table",
      "part_events",
      ...range,
    ]);
    const duck = await cli(["events", "--cache", partCache, ...range]);
    assert.equal(ch.code, 0, ch.stderr);
    const [a, b] = [JSON.parse(ch.stdout), JSON.parse(duck.stdout)];
    assert.deepEqual(a.coverage, b.coverage);
    assert.deepEqual(a.coverage.missing, [D2, D3]);
    assert.deepEqual(a, b);
  });

  test("partial data: the compare period's coverage and the incomplete buckets equal the cache's", async () => {
    // part_events and part.duckdb hold D1 only (the test above); the source lists D1..D3.
    const partCache = join(dir, "part.duckdb");
    const ch = ["--engine", "clickhouse", "--ch-url", chUrl(), "--ch-table", "part_events"];
    const both = async (args: string[]) => {
      const [a, b] = await Promise.all([
        cli([...args, ...ch, "--json"]),
        cli([...args, "--cache", partCache, "--json"]),
      ]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.deepEqual(JSON.parse(a.stdout), JSON.parse(b.stdout));
      return JSON.parse(a.stdout);
    };
    const flags = (ps: { incomplete?: boolean }[]) => ps.map((p) => p.incomplete === true);
    const t = await both(["trend", "gz_open", "--from", D1, "--to", D3, "--compare", "1d"]);
    assert.deepEqual(flags(t.series[0].points), [false, true, true]);
    const c = t.series[0].compare;
    assert.equal(c.cached, "partly");
    // 06-01 compares with 05-31 (before the source's first date), 06-02 with D1, 06-03 with D2 (not loaded).
    assert.deepEqual(flags(c.points), [true, false, true]);
    assert.equal(c.coverage.partitions_in_range, 2);
    assert.deepEqual(c.coverage.missing, [D2]);
    const none = await both(["trend", "gz_open", "--from", D1, "--to", D1, "--compare", "1w"]);
    assert.equal(none.series[0].compare.cached, "none");
    assert.equal(none.series[0].compare.change, null);
    const f = await both([
      "funnel",
      "gz_open",
      "gz_open",
      "--within",
      "1h",
      "--interval",
      "day",
      "--from",
      D1,
      "--to",
      D3,
      "--compare",
      "1d",
    ]);
    // D1's conversion window reaches into D2, which is not loaded.
    assert.deepEqual(flags(f.trend), [true, true, true]);
    assert.equal(f.compare.cached, "partly");
    const l = await both(["lifecycle", "gz_open", "--interval", "day", "--from", D1, "--to", D3]);
    assert.deepEqual(flags(l.points), [true, true, true]);
    // The human outputs warn alike (ClickHouse says "not loaded").
    const h = await cli(["trend", "gz_open", "--from", D1, "--to", D1, "--compare", "1d", ...ch]);
    assert.match(
      h.stderr,
      /^evx: warning: no data for the compare period 2023-05-31 00:00 \.\. 2023-06-01 00:00 \(UTC\) \(it reaches outside the cached data\); no change is given$/m,
    );
  });

  test("the Sync tab's partitions: rows and bytes from system.parts, the source's objects, the last load", async () => {
    const { ClickHouseExecutor } = await import("../src/queries/clickhouse/executor.js");
    const ch = ClickHouseExecutor.open({
      chUrl: `${srv.url.replace("http://", `http://loader:${PASSWORD}@`)}/default`,
      chTable: "part_events",
    });
    try {
      const rows = await ch.partitions();
      assert.deepEqual(
        rows.map((r) => [r.date, r.rows > 0, r.bytes > 0, r.sourceObjects, r.lastLoad?.status ?? null]),
        [
          [D1, true, true, 3, "ok"],
          [D2, false, false, 2, null],
          [D3, false, false, 1, null],
        ],
      );
      assert.equal(rows[0].rows, (await chEvents("part_events")).length);
      assert.equal(ch.engine, "clickhouse");
      assert.match(ch.host, /^127\.0\.0\.1:\d+\/default$/);
    } finally {
      await ch.close();
    }
  });
});

describe("re-loads", () => {
  test("an unchanged partition is skipped, --force re-loads it to the same rows", async () => {
    const before = await chEvents();
    const again = await loadJson();
    assert.deepEqual(again.partitions, { selected: 3, loaded: 0, unchanged: 3, failed: 0, removed: 0 });
    const forced = await loadJson(["--force", "--from", D2, "--to", D2]);
    assert.deepEqual(forced.partitions, { selected: 1, loaded: 1, unchanged: 0, failed: 0, removed: 0 });
    assert.deepEqual(await chEvents(), before, "a re-load replaces the partition, never adds to it");
  });

  test("a changed partition is replaced, the others stay; a partition gone from the source is removed", async () => {
    await s3.putObject(
      "lake",
      `raw/date=${D2}/part-0015.jsonl`,
      `${row("open", `${D2}T05:00:00Z`, "u4")}\n${row("open", `${D2}T06:00:00Z`, "u5")}\n`,
    );
    const d1 = await chEvents("events", D1);
    const r = await loadJson();
    assert.deepEqual(r.partitions, { selected: 3, loaded: 1, unchanged: 2, failed: 0, removed: 0 });
    assert.equal(r.events, 5);
    const d2 = await chEvents("events", D2);
    assert.deepEqual(
      d2.map((e) => `${e.type} ${e.user}`),
      ["buy u1", "open u1", "open u2", "open u4", "open u5"],
    );
    assert.deepEqual(await chEvents("events", D1), d1);

    await s3.deleteObject("lake", `raw/date=${D3}/part-0000.jsonl.gz`);
    const gone = await loadJson();
    assert.deepEqual(gone.partitions, { selected: 2, loaded: 0, unchanged: 2, failed: 0, removed: 1 });
    assert.deepEqual(await chEvents("events", D3), []);
  });

  test("a partition that fails keeps its previous data, is reported (exit 3) and shows in coverage", async () => {
    const d1 = await chEvents("events", D1);
    await s3.putObject(
      "lake",
      `raw/date=${D1}/part-0045.jsonl.gz`,
      Buffer.concat([gzipSync(`${row("x", `${D1}T01:00:00Z`)}\n`).subarray(0, 20)]),
    );
    const r = await loadJson([], "events", 3);
    assert.equal(r.partitions.failed, 1);
    assert.equal(r.failures[0].date, D1);
    assert.deepEqual(await chEvents("events", D1), d1, "the failed load left the partition as it was");
    const ev = await cli(["events", "--engine", "clickhouse", "--ch-url", chUrl(), "--json"]);
    assert.equal(ev.code, 0, ev.stderr);
    assert.deepEqual(JSON.parse(ev.stdout).coverage.failed, [D1]);
    const human = await cli(["events", "--engine", "clickhouse", "--ch-url", chUrl()]);
    assert.match(
      human.stderr,
      /warning: incomplete data: 1 of 2 partitions in range are loaded \(failed: 2023-06-01\); run `evx clickhouse load` to complete/,
    );
    // Fixed at the source: the next load retries it.
    await s3.deleteObject("lake", `raw/date=${D1}/part-0045.jsonl.gz`);
    const fixed = await loadJson();
    assert.equal(fixed.partitions.loaded, 1);
    assert.deepEqual(await chEvents("events", D1), d1);
    const left = await srv.exec(
      "SELECT name FROM system.tables WHERE database = currentDatabase() AND name LIKE '%_evx_stage_%'",
    );
    assert.deepEqual(left, [], "no staging table is left behind");
  });
});

describe("S3 credentials", () => {
  test("--sql shows the statements with the secrets as ***", async () => {
    const r = await cli(loadArgs(["--sql", "--from", D2, "--to", D2]));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /-- partition 2023-06-02/);
    assert.match(
      r.stdout,
      /FROM s3\(\{s3_url:String\}, \{s3_key:String\}, \{s3_secret:String\}, 'LineAsString', 'line String'\)/,
    );
    // Parameters are quoted as the analyses' --sql quotes them (ClickHouse literals).
    assert.match(r.stdout, /\{s3_secret\} = '\*\*\*'/);
    assert.match(r.stdout, /\{f_props\} = 'event_properties'/);
    assert.match(r.stdout, /REPLACE PARTITION ID '20230602'/);
  });

  test("never appear in any output, SQL text or URL; they travel as body parameters", async () => {
    assert.ok(outputs.length >= 10);
    for (const r of outputs)
      assert.ok(!`${r.stdout}\n${r.stderr}`.includes(S3_KEY), `${r.stdout}\n${r.stderr}`);
    const inserts = srv.log.filter((q) => /FROM s3\(/.test(q.sql));
    assert.ok(inserts.length >= 5);
    for (const q of srv.log) {
      assert.ok(!q.sql.includes(S3_KEY), q.sql);
      assert.ok(!decodeURIComponent(q.url).includes(S3_KEY), q.url);
    }
    for (const q of inserts) {
      assert.equal(q.paramsIn, "body");
      assert.equal(q.params.s3_secret, S3_KEY);
    }
    const loads = await srv.exec("SELECT error FROM events_evx_loads WHERE error != ''");
    for (const l of loads) assert.ok(!String(l.error).includes(S3_KEY));
  });

  test("a folder source or a bad date is refused before anything runs (exit 2)", async () => {
    const r = await cli(["clickhouse", "load", join(dir, "lake"), "--ch-url", chUrl()]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /SOURCE must be s3:\/\/bucket\/prefix/);
    const d = await cli(loadArgs(["--from", "2023-13-01"]));
    assert.equal(d.code, 2);
  });
});
