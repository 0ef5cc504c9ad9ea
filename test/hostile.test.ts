// Hostile and odd input: object keys that try to escape staging, lines DuckDB and JSON find hard,
// odd event_time values, terminal escape injection and SQL-ish names. Each is ingested sensibly or
// rejected with a reason; the sync never crashes; the terminal is never driven by data.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Cache } from "../src/cache/db.js";
import { stagedPathFor, sync } from "../src/cache/sync.js";
import { parseEventRef, parseFilter } from "../src/queries/parse.js";
import type { AnalysisSpec, DateRange } from "../src/queries/spec.js";
import { folderSource } from "../src/source/folder.js";
import { s3Source } from "../src/source/s3.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { SourceError } from "../src/source/types.js";
import { sessionFor } from "../src/views/state/session.js";
import { bruteCatalog, bruteFunnel, bruteRetention, bruteTrend, lastEventTime, loadLake } from "./brute.js";
import { evx } from "./helpers/cli.js";
import { type S3TestServer, startS3Server } from "./helpers/s3server.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";
import { assertClose, cacheFromLake, type TestCache, withoutPartialMarks } from "./queries/helpers.js";
import { renderApp } from "./views/fixture.js";

/** ESC, BEL, other C0 controls but \n, DEL and the C1 range: nothing that can drive a terminal. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

const HOSTILE_KEYS = [
  "../../../escape.jsonl",
  "/etc/evx-abs.jsonl",
  "date=2023-06-01/../../../../escape2.jsonl",
  "date=2023-06-01/with space.jsonl",
  "date=2023-06-01/ünïcødé-ファイル-🙂.jsonl",
  "date=2023-06-01/pct%2F..%2F..%2Fx%00.jsonl",
  "date=2023-06-01/back\\slash\\..\\..\\y.jsonl",
  "date=2023-06-01/nul\u0000byte.jsonl",
  `date=2023-06-01/${"long".repeat(200)}.jsonl`,
];

describe("object keys never write outside staging", () => {
  test("staged paths are hashes inside the staging folder, whatever the key", () => {
    const staging = "/tmp/x/cache.duckdb.staging";
    const seen = new Set<string>();
    for (const [i, key] of HOSTILE_KEYS.entries()) {
      const p = stagedPathFor(staging, i + 1, key);
      assert.equal(dirname(p), staging, key);
      assert.match(basename(p), /^\d+-[0-9a-f]{16}\.jsonl(\.gz|\.zst)?$/, key);
      assert.ok(!seen.has(p), "distinct keys, distinct files");
      seen.add(p);
    }
  });

  test("the folder source refuses keys outside its root and does not follow symlinks out", async () => {
    const dir = tempDir();
    const root = join(dir, "lake");
    mkdirSync(join(root, "date=2023-06-01"), { recursive: true });
    writeFileSync(join(dir, "secret.jsonl"), jsonl([ev("secret", "2023-06-01T00:00:00Z", "s")]));
    symlinkSync(join(dir, "secret.jsonl"), join(root, "date=2023-06-01", "link.jsonl"));
    writeFileSync(
      join(root, "date=2023-06-01", "ok file ü.jsonl"),
      jsonl([ev("ok", "2023-06-01T00:00:00Z", "u")]),
    );
    const src = folderSource(root);
    for (const k of ["../secret.jsonl", "/etc/passwd", "date=2023-06-01/../../secret.jsonl", ".."])
      assert.throws(() => src.localPath(k), SourceError, k);
    assert.equal(
      src.localPath("date=2023-06-01/ok file ü.jsonl"),
      join(root, "date=2023-06-01", "ok file ü.jsonl"),
    );
    const keys: string[] = [];
    for await (const o of src.list()) keys.push(o.key);
    assert.deepEqual(keys, ["date=2023-06-01/ok file ü.jsonl"], "the symlink out of the lake is not listed");
  });

  let server: S3TestServer | undefined;
  after(async () => server?.stop());

  test("S3 keys with .., absolute paths, spaces, unicode and percent-escapes sync without escaping", async () => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
      AWS_EC2_METADATA_DISABLED: "true",
    });
    server = await startS3Server();
    await server.createBucket("hostile");
    const put: string[] = [];
    // s3rver stores keys as file names: a NUL or an over-long name takes it down, so those two are
    // covered by the unit test above only.
    for (const [i, key] of HOSTILE_KEYS.filter((k) => !k.includes("\u0000") && k.length < 200).entries()) {
      try {
        await server.putObject("hostile", `lake/${key}`, jsonl([ev("k", "2023-06-01T00:00:00Z", `u${i}`)]));
        put.push(key);
      } catch {
        // s3rver refuses some keys (NUL): nothing to list then.
      }
    }
    assert.ok(put.length >= 6, `s3rver took ${put.length} keys`);
    const dir = tempDir();
    const cacheDir = join(dir, "deep", "cachedir");
    mkdirSync(cacheDir, { recursive: true });
    const cache = await Cache.open(join(cacheDir, "c.duckdb"), { create: true });
    try {
      const s = await sync(cache, s3Source("s3://hostile/lake", { endpoint: server.endpoint }), {
        layout: { name: "hive", hiveKey: "date" },
      });
      assert.equal(s.objects.failed, 0, JSON.stringify(s.failures));
      const dated = put.filter((k) => k.startsWith("date=2023-06-01/") && !k.includes("/../"));
      assert.ok(s.objects.downloaded >= dated.length - 1, JSON.stringify(s));
      const n = await cache.one<{ n: number }>("SELECT count(*) AS n FROM events");
      assert.equal(n?.n, s.events);
    } finally {
      cache.close();
    }
    // Nothing was written anywhere but the cache's own files.
    const everything = readdirSync(dir, { recursive: true }).map(String).sort();
    for (const f of everything)
      assert.match(f, /^deep(\/cachedir(\/c\.duckdb(\.wal|\.tmp)?)?)?$/, `unexpected file ${f}`);
  });
});

// ---------------------------------------------------------------------------------------------

const D = "2023-06-01";
const BIG = 17 * 1024 * 1024;
/** Tagged lines: each event_type names its case, so the test can tell where each line went. */
function oddLines(huge = true): string {
  const deep = (n: number): unknown => (n === 0 ? "leaf" : { a: deep(n - 1) });
  const row = (tag: string, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ event_type: tag, event_time: `${D}T01:00:00Z`, user_id: "u1", ...extra });
  return [
    ...(huge ? [row("huge_line", { event_properties: { blob: "x".repeat(BIG) } })] : []),
    row("deep_props", { event_properties: deep(200) as Record<string, unknown> }),
    row("deeper_props", { event_properties: deep(3000) as Record<string, unknown> }),
    row("long_strings", { user_id: "u".repeat(200_000), event_properties: { s: "y".repeat(500_000) } }),
    `${row("long_type_marker")}`,
    JSON.stringify({ event_type: "t".repeat(100_000), event_time: `${D}T01:00:00Z`, user_id: "u2" }),
    row("nul_escaped", { event_properties: { s: "a\u0000b" } }),
    row("big_number", { event_properties: { n: 1 } }).replace('"n":1', '"n":123456789012345678901234567890'),
    row("big_negative", { event_properties: { n: 1 } }).replace('"n":1', '"n":-9223372036854775809'),
    row("big_user", { user_id: 1 }).replace('"user_id":1', '"user_id":123456789012345678901234567890'),
    `{"event_type":"dup_a","event_type":"dup_b","event_time":"${D}T01:00:00Z","user_id":"u3"}`,
    `{"event_type":"dup_props","event_time":"${D}T01:00:00Z","user_id":"u3","event_properties":{"k":1,"k":2}}`,
    row("date_only", { event_time: D }),
    row("epoch_s", { event_time: 1685577600 }),
    row("epoch_ms", { event_time: 1685577600000 }),
    row("epoch_us", { event_time: 1685577600000000 }),
    row("epoch_s_text", { event_time: "1685577600" }),
    row("epoch_frac", { event_time: 1685577600.5 }),
    row("before_1970", { event_time: "1969-12-31T23:59:59Z" }),
    row("at_2100", { event_time: "2100-01-01T00:00:00Z" }),
    row("year_1", { event_time: "0001-01-01T00:00:00Z" }),
    row("year_99999", { event_time: "99999-01-01T00:00:00Z" }),
    row("negative_epoch", { event_time: -1 }),
    row("huge_epoch", { event_time: 1e300 }),
    row("bool_time", { event_time: true }),
    row("garbage_time", { event_time: "yesterday-ish" }),
  ].join("\n");
}

describe("odd lines are ingested sensibly or rejected with a reason", () => {
  let tc: TestCache;
  const dir = tempDir();
  before(async () => {
    const lake = join(dir, "lake");
    const invalidUtf8 = Buffer.concat([
      Buffer.from(
        `{"event_type":"bad_utf8","event_time":"${D}T01:00:00Z","user_id":"u4","event_properties":{"s":"`,
      ),
      Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
      Buffer.from(`"}}\n`),
      Buffer.from(
        `{"event_type":"raw_nul","event_time":"${D}T01:00:00Z","user_id":"u5","event_properties":{"s":"a`,
      ),
      Buffer.from([0]),
      Buffer.from(`b"}}\n`),
      Buffer.from(`{"event_type":"after_bad","event_time":"${D}T01:00:00Z","user_id":"u6"}\n`),
    ]);
    writeLakeFiles(lake, {
      [`date=${D}/odd.jsonl`]: `${oddLines()}\n`,
      [`date=${D}/odd.jsonl.gz`]: `${oddLines(false)}\n`,
      [`date=${D}/bytes.jsonl`]: invalidUtf8,
    });
    tc = await cacheFromLake(lake, dir);
  });
  after(() => tc?.close());

  const eventsOf = async (tag: string) =>
    tc.cache.all<{ t: string; user: string; props: string | null }>(
      `SELECT e.event_time AS t, u.user_id AS user, e.properties::VARCHAR AS props
         FROM events e JOIN users u USING (user_key) WHERE e.event_type = $1`,
      [tag],
    );
  const rejectsOf = async (tag: string) =>
    tc.cache.all<{ reason: string; line: number }>(
      "SELECT reason, line FROM rejects WHERE raw LIKE $1 ORDER BY key, line",
      [`{"event_type":"${tag}"%`],
    );

  test("nothing failed and every line is accounted for", async () => {
    const f = await tc.cache.all("SELECT * FROM failures");
    assert.deepEqual(f, []);
    const r = await tc.cache.one<{ objects: number; lines: number }>(
      "SELECT count(*) AS objects, sum(events + rejected) AS lines FROM objects",
    );
    assert.equal(r?.objects, 3);
    const perFile = oddLines(false).split("\n").length;
    assert.equal(r?.lines, 2 * perFile + 1 + 3);
    for (const x of await tc.cache.all<{ reason: string }>("SELECT reason FROM rejects"))
      assert.ok(x.reason.length > 3, "a reason");
  });

  test("lines over DuckDB's default 16 MB object size, deep and long values are ingested whole", async () => {
    const huge = await tc.cache.all<{ n: number }>(
      "SELECT length(properties->>'$.blob') AS n FROM events WHERE event_type = 'huge_line'",
    );
    assert.deepEqual(
      huge.map((h) => h.n),
      [BIG],
    );
    assert.equal((await eventsOf("deep_props")).length, 2);
    // Deeper than DuckDB's JSON parser allows: ingested or rejected with a reason, never a crash.
    const deeper = (await eventsOf("deeper_props")).length + (await rejectsOf("deeper_props")).length;
    assert.equal(deeper, 2);
    const long = await eventsOf("long_strings");
    assert.equal(long.length, 2);
    assert.equal(long[0]?.user.length, 200_000);
    const longType = await tc.cache.all<{ n: number }>(
      "SELECT count(*) AS n FROM events WHERE length(event_type) = 100000",
    );
    assert.equal(longType[0]?.n, 2);
  });

  test("NUL bytes and invalid UTF-8", async () => {
    const nul = await eventsOf("nul_escaped");
    assert.equal(nul.length, 2);
    // Invalid UTF-8 is replaced with U+FFFD, the rest of the line and file land.
    const bad = await eventsOf("bad_utf8");
    const badRej = await rejectsOf("bad_utf8");
    assert.equal(bad.length + badRej.length, 1);
    if (bad.length) assert.match(bad[0]!.props ?? "", /\uFFFD/);
    const rawNul = (await eventsOf("raw_nul")).length + (await rejectsOf("raw_nul")).length;
    assert.equal(rawNul, 1, "a raw NUL inside a string is ingested or rejected, not lost");
    assert.equal((await eventsOf("after_bad")).length, 1);
  });

  test("numbers too large for BIGINT stay exact in properties; a huge numeric user_id is text", async () => {
    const big = await eventsOf("big_number");
    assert.equal(big.length, 2);
    assert.match(big[0]!.props!, /123456789012345678901234567890/);
    const neg = await eventsOf("big_negative");
    assert.equal(neg.length, 2);
    assert.match(neg[0]!.props!, /-9223372036854775809/);
    const bu = (await eventsOf("big_user")).length + (await rejectsOf("big_user")).length;
    assert.equal(bu, 2);
  });

  test("duplicate keys: one value wins, the line is not lost", async () => {
    const a = await tc.cache.all<{ n: number }>(
      "SELECT count(*) AS n FROM events WHERE event_type IN ('dup_a', 'dup_b')",
    );
    const r = await tc.cache.all<{ n: number }>(
      `SELECT count(*) AS n FROM rejects WHERE raw LIKE '{"event_type":"dup_a"%'`,
    );
    assert.equal(a[0]!.n + r[0]!.n, 2);
    assert.equal((await eventsOf("dup_props")).length + (await rejectsOf("dup_props")).length, 2);
  });

  test("event_time: date-only, epoch s/ms/µs land on the same instant; out of range is rejected", async () => {
    for (const tag of ["date_only", "epoch_s", "epoch_ms", "epoch_us", "epoch_s_text"]) {
      const rows = await eventsOf(tag);
      assert.deepEqual(
        rows.map((r) => r.t),
        ["2023-06-01T00:00:00.000Z", "2023-06-01T00:00:00.000Z"],
        tag,
      );
    }
    assert.deepEqual(
      (await eventsOf("epoch_frac")).map((r) => r.t),
      ["2023-06-01T00:00:00.500Z", "2023-06-01T00:00:00.500Z"],
    );
    for (const tag of ["before_1970", "at_2100", "year_1", "negative_epoch"]) {
      assert.equal((await eventsOf(tag)).length, 0, tag);
      const rej = await rejectsOf(tag);
      assert.equal(rej.length, 2, tag);
      for (const x of rej) assert.match(x.reason, /out of range|unparseable/, `${tag}: ${x.reason}`);
    }
    for (const tag of ["year_99999", "huge_epoch", "bool_time", "garbage_time"]) {
      assert.equal((await eventsOf(tag)).length, 0, tag);
      const rej = await rejectsOf(tag);
      assert.equal(rej.length, 2, tag);
      for (const x of rej) assert.match(x.reason, /event_time/, `${tag}: ${x.reason}`);
    }
  });
});

// ---------------------------------------------------------------------------------------------

const EVIL_TYPE = "evil\u001b[2J\u001b]0;pwned\u0007\u009b31m\u001b[8mhidden\u001b[0m\u0008\u000dname";
const EVIL_KEY = "key\u001b[31m\u0007";
const EVIL_VALUE = "val\u001b[1A\u001b[K\u009dtitle\u0007\u0085";

describe("terminal escape injection is rendered harmlessly", () => {
  const dir = tempDir();
  const cachePath = join(dir, "c.duckdb");
  before(() => {
    const lake = join(dir, "lake");
    writeLakeFiles(lake, {
      [`date=${D}/part-0.jsonl`]: jsonl([
        ev(EVIL_TYPE, `${D}T01:00:00Z`, "u\u001b[2Juser", { [EVIL_KEY]: EVIL_VALUE }),
        ev(EVIL_TYPE, `${D}T02:00:00Z`, "u2", { [EVIL_KEY]: EVIL_VALUE }),
        ev("plain", `${D}T02:00:00Z`, "u2", { k: "v" }),
        `{"event_type":"rejected\u001b[2J\u0007","user_id":"x"}`,
      ]),
    });
    const r = evx(["sync", lake, "--cache", cachePath], { EVX_CACHE: "", XDG_CACHE_HOME: join(dir, "xdg") });
    assert.equal(r.code, 0, r.stderr);
  });

  for (const [args] of [
    [() => ["events"]],
    [() => ["props", EVIL_TYPE]],
    [() => ["rejects"]],
    [() => ["trend", EVIL_TYPE, "--breakdown", EVIL_KEY]],
    [() => ["funnel", EVIL_TYPE, "plain", "--within", "1d"]],
    [() => ["funnel", EVIL_TYPE, "plain", "--within", "1d", "--breakdown", EVIL_KEY]],
    [() => ["retention", EVIL_TYPE, "plain", "--period", "day", "--periods", "3"]],
    [() => ["status"]],
  ] as [() => string[]][]) {
    test(`evx ${args().slice(0, 1).join(" ")}${args().includes("--breakdown") ? " --breakdown" : ""} table output has no control characters`, () => {
      const r = evx([...args(), "--cache", cachePath], { COLUMNS: "120" });
      assert.equal(r.code, 0, r.stderr);
      assert.ok(r.stdout.length > 0);
      const bad = CONTROL.exec(r.stdout + r.stderr);
      assert.equal(bad, null, `control character ${JSON.stringify(bad?.[0])} in ${JSON.stringify(r.stdout)}`);
      if (args()[0] === "events") assert.match(r.stdout, /evil.*name/);
    });
  }

  test("--json keeps the data exact (escaped by JSON, not stripped)", () => {
    const r = evx(["props", EVIL_TYPE, "--cache", cachePath, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(CONTROL.exec(r.stdout), null, "JSON escapes control characters");
    const out = JSON.parse(r.stdout) as { props: { key: string; top: { value: string }[] }[] };
    assert.equal(out.props[0]?.key, EVIL_KEY);
  });

  test("the TUI Events screen shows the names without escape sequences", async () => {
    const cache = await Cache.open(cachePath, { readOnly: true });
    const s = sessionFor(cache, { readOnly: true });
    const app = await renderApp({ ...s, close() {} }, { columns: 100, rows: 30 });
    try {
      const f = await app.waitFor(/plain/);
      assert.match(f, /evil/);
      const bad = CONTROL.exec(f);
      assert.equal(bad, null, `control character ${JSON.stringify(bad?.[0])} in the frame:\n${f}`);
    } finally {
      app.unmount();
      s.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------

const SQLISH = [
  "it's",
  "a'; DROP TABLE events; --",
  'quote"double',
  "back\\slash\\",
  "semi;colon",
  "$1",
  "%_like",
  "[bracket]",
];

describe("SQL-ish names and values work in every analysis", () => {
  let tc: TestCache;
  let events: Awaited<ReturnType<typeof loadLake>>;
  const range: DateRange = { from: "2023-06-01", to: "2023-06-03", tz: "UTC" };
  const dir = tempDir();
  before(async () => {
    const lake = join(dir, "lake");
    const rows: unknown[] = [];
    let i = 0;
    for (const d of ["2023-06-01", "2023-06-02", "2023-06-03"])
      for (const [j, name] of SQLISH.entries())
        for (let u = 0; u < 3 + j; u++)
          rows.push(
            ev(name, `${d}T0${u % 10}:${String(j).padStart(2, "0")}:00Z`, `user '${u}"`, {
              [name]: SQLISH[(u + j) % SQLISH.length],
              n: i++ % 7,
            }),
          );
    writeLakeFiles(lake, { "date=2023-06-01/part.jsonl": jsonl(rows) });
    tc = await cacheFromLake(lake, dir);
    events = await loadLake(lake);
  });
  after(() => tc?.close());

  // Names are written in the event-ref syntax via filters built directly (no parsing ambiguity).
  const ref = (event: string, key?: string, value?: string) => ({
    event,
    filters: key === undefined ? [] : [{ key, op: "=" as const, value }],
  });

  test("catalog, trend, funnel, retention agree with the brute-force reference", async () => {
    const specs: [AnalysisSpec, unknown][] = [];
    const cat = { kind: "catalog" as const, range };
    specs.push([cat, bruteCatalog(events, cat)]);
    for (const [j, name] of SQLISH.entries()) {
      const other = SQLISH[(j + 1) % SQLISH.length]!;
      const trend = {
        kind: "trend" as const,
        events: [ref(name), ref(name, name, other)],
        measure: { kind: "users" as const },
        interval: "day" as const,
        range,
        filters: [{ key: name, op: "!=" as const, value: name }],
        breakdown: name,
        limit: 10,
      };
      specs.push([trend, bruteTrend(events, trend)]);
      const funnel = {
        kind: "funnel" as const,
        steps: [ref(name), ref(other)],
        withinSeconds: 86_400,
        range,
        filters: [],
        breakdown: name,
        limit: 10,
      };
      specs.push([funnel, bruteFunnel(events, funnel)]);
      const retention = {
        kind: "retention" as const,
        start: ref(name, name, other),
        return: ref(other),
        period: "day" as const,
        periods: 3,
        mode: "on" as const,
        range,
        filters: [],
      };
      specs.push([retention, bruteRetention(events, retention, lastEventTime(events))]);
    }
    for (const [spec, expected] of specs) {
      const out = await tc.ex.run(spec);
      assertClose(withoutPartialMarks(out.result), expected);
    }
    const n = await tc.cache.one<{ n: number }>("SELECT count(*) AS n FROM events");
    assert.equal(n?.n, events.length, "nothing was dropped");
  });

  test("the CLI parses them in steps and --where and answers", () => {
    // parseEventRef/parseFilter accept these values as typed on a command line.
    assert.equal(parseEventRef("it's").event, "it's");
    assert.equal(parseFilter("semi;colon = a'; DROP TABLE events; --").value, "a'; DROP TABLE events; --");
    // Its own cache: this process holds the other one open.
    const cliCache = join(dir, "cli.duckdb");
    const env = { EVX_CACHE: "", XDG_CACHE_HOME: join(dir, "xdg") };
    const s = evx(["sync", join(dir, "lake"), "--cache", cliCache], env);
    assert.equal(s.code, 0, s.stderr);
    const t = evx(
      ["trend", "a'; DROP TABLE events; --", "--where", "n >= 0", "--json", "--cache", cliCache],
      env,
    );
    assert.equal(t.code, 0, t.stderr);
    const total = (
      JSON.parse(t.stdout) as { series: { points: { value: number }[] }[] }
    ).series[0]!.points.reduce((a, p) => a + p.value, 0);
    assert.equal(total, events.filter((e) => e.type === "a'; DROP TABLE events; --").length);
  });
});
