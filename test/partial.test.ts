// Partial data must look partial (docs/semantics.md, "Partial data"), through the real CLI on a real
// cache: a compare period outside the cache gets its own coverage, a warning and no change when none of
// it is cached; buckets the range or the cache holds only in part are marked in JSON, CSV and the table.
// The same marks on ClickHouse: test/clickhouse-load.test.ts ("partial data: …").
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { evx } from "./helpers/cli.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

const dir = tempDir();
const lake = join(dir, "lake");
/** error_shown per day in the lake; 05-31 is listed but not synced. */
const ERRORS: Record<string, number> = { "2023-05-31": 2, "2023-06-01": 4, "2023-06-02": 3, "2023-06-03": 5 };
let cache = "";

before(() => {
  const files: Record<string, string> = {};
  for (const [d, n] of Object.entries(ERRORS))
    files[`date=${d}/part-0000.jsonl`] = jsonl([
      ...Array.from({ length: n }, (_, i) =>
        ev("error_shown", `${d}T${String(10 + i).padStart(2, "0")}:00:00Z`, `u${i}`),
      ),
      ev("signup", `${d}T08:00:00Z`, "s1"),
      ev("purchase", `${d}T09:00:00Z`, "s1"),
    ]);
  writeLakeFiles(lake, files);
  cache = join(dir, "c.duckdb");
  const r = evx(["sync", lake, "--cache", cache, "--from", "2023-06-01", "--json"]);
  assert.equal(r.code, 0, r.stderr);
});

const run = (args: string[], env: NodeJS.ProcessEnv = {}) => {
  const r = evx([...args, "--cache", cache], env);
  assert.equal(r.code, 0, r.stderr);
  return r;
};
const json = (args: string[]) => {
  const r = run([...args, "--json"]);
  assert.equal(r.stderr, "");
  return JSON.parse(r.stdout);
};
const flags = (points: { incomplete?: boolean }[]) => points.map((p) => p.incomplete === true);

describe("a compare period outside the cache", () => {
  test("partly cached: compare.coverage says what is missing, one warning line, the change stays", () => {
    const args = ["trend", "error_shown", "--from", "2023-06-01", "--to", "2023-06-02", "--compare", "1d"];
    const got = json(args);
    const c = got.series[0].compare;
    assert.deepEqual(c.coverage, {
      partitions_in_range: 2,
      partitions_synced: 1,
      missing: ["2023-05-31"],
      failed: [],
      rejected_lines: 0,
      last_event: "2023-06-03T14:00:00.000Z",
    });
    assert.equal(c.cached, "partly");
    // Bucket 06-01 compares with 05-31 (not synced), 06-02 with 06-01 (synced).
    assert.deepEqual(flags(c.points), [true, false]);
    assert.deepEqual(flags(got.series[0].points), [false, false]);
    assert.equal(c.total, ERRORS["2023-06-01"]);
    assert.equal(c.change, (4 + 3 - 4) / 4);
    // The main range is fully cached: its own coverage is clean.
    assert.deepEqual(got.coverage.missing, []);

    for (const fmt of [[], ["--csv"]]) {
      const r = run([...args, ...fmt]);
      const lines = r.stderr.trim().split("\n");
      assert.equal(lines.length, 1, r.stderr);
      assert.match(
        lines[0],
        /^evx: warning: the compare period 2023-05-31 00:00 \.\. 2023-06-02 00:00 \(UTC\) is only partly cached \(not synced: 2023-05-31\); its change compares with partial data$/,
      );
    }
  });

  test("none cached: change null, `no data for the compare period`, no dimmed series", () => {
    const args = ["trend", "error_shown", "--from", "2023-06-01", "--to", "2023-06-01", "--compare", "1d"];
    const got = json(args);
    const c = got.series[0].compare;
    assert.equal(c.cached, "none");
    assert.equal(c.change, null);
    assert.deepEqual(c.coverage.missing, ["2023-05-31"]);
    assert.deepEqual(flags(c.points), [true]);

    const human = run(args, { COLUMNS: "100" });
    assert.match(human.stdout, /^no data for the compare period$/m);
    assert.match(
      human.stderr.trim(),
      /^evx: warning: no data for the compare period 2023-05-31 00:00 \.\. 2023-06-01 00:00 \(UTC\) \(not synced: 2023-05-31\); no change is given$/,
    );
    // No compare line in the chart's legend, and no Δ against zeros in the table.
    assert.doesNotMatch(human.stdout, /\(−1d\)/);
    assert.doesNotMatch(human.stdout, /Δ [+−]/);

    // A compare period before anything the source ever listed is as uncached, with an empty coverage.
    const before = json([
      "trend",
      "error_shown",
      "--from",
      "2023-06-01",
      "--to",
      "2023-06-03",
      "--compare",
      "1w",
    ]);
    assert.equal(before.series[0].compare.cached, "none");
    assert.equal(before.series[0].compare.change, null);
    assert.equal(before.series[0].compare.coverage.partitions_in_range, 0);
  });

  test("a funnel's compare period: coverage, and no Δ when none of it is cached", () => {
    const args = [
      "funnel",
      "signup",
      "purchase",
      "--within",
      "1h",
      "--from",
      "2023-06-01",
      "--to",
      "2023-06-01",
      "--compare",
      "1d",
    ];
    const got = json(args);
    assert.equal(got.compare.cached, "none");
    assert.deepEqual(got.compare.coverage.missing, ["2023-05-31"]);
    const human = run(args);
    assert.match(human.stdout, /^no data for the compare period$/m);
    assert.doesNotMatch(human.stdout, /Δ [+−]|Δ n\/a/, "no step shows a change");
    assert.doesNotMatch(human.stdout, /compare period: /);
    assert.match(human.stderr, /^evx: warning: no data for the compare period /);

    const partly = json([
      "funnel",
      "signup",
      "purchase",
      "--within",
      "1h",
      "--from",
      "2023-06-01",
      "--to",
      "2023-06-02",
      "--compare",
      "1d",
    ]);
    assert.equal(partly.compare.cached, "partly");
    assert.equal(partly.compare.steps[0].users, 1);
  });

  test("a fully cached compare period: no warning, cached `all`", () => {
    const args = ["trend", "error_shown", "--from", "2023-06-02", "--to", "2023-06-03", "--compare", "1d"];
    const got = json(args);
    assert.equal(got.series[0].compare.cached, "all");
    assert.deepEqual(flags(got.series[0].compare.points), [false, false]);
    assert.equal(run(args).stderr, "");
  });
});

describe("incomplete buckets", () => {
  test("cut by the range: the first and last week of a range that starts mid-week", () => {
    // 2023-06-01 is a Thursday: weeks 05-29 (cut at its start) and 06-05 (cut at its end... and past the data).
    const got = json([
      "trend",
      "error_shown",
      "--interval",
      "week",
      "--from",
      "2023-06-01",
      "--to",
      "2023-06-03",
    ]);
    assert.deepEqual(
      got.series[0].points.map((p: { t: string }) => p.t),
      ["2023-05-29T00:00:00.000Z"],
    );
    assert.deepEqual(flags(got.series[0].points), [true]);
    // A range cut mid-day marks that day; whole days inside the data are complete.
    const day = json(["trend", "error_shown", "--from", "2023-06-01T12:00", "--to", "2023-06-03"]);
    assert.deepEqual(flags(day.series[0].points), [true, false, false]);
  });

  test("--to past the cached data: the buckets after it are incomplete, not a cliff to zero", () => {
    const args = ["trend", "error_shown", "--from", "2023-06-02", "--to", "2023-06-05"];
    const got = json(args);
    assert.deepEqual(
      got.series[0].points.map((p: { value: number }) => p.value),
      [3, 5, 0, 0],
    );
    assert.deepEqual(flags(got.series[0].points), [false, false, true, true]);

    const csv = run([...args, "--csv"])
      .stdout.trim()
      .split("\n");
    assert.equal(csv[0], "event,breakdown,t,value,complete");
    assert.deepEqual(
      csv.slice(1).map((l) => l.split(",").slice(3).join(",")),
      ["3,true", "5,true", "0,false", "0,false"],
    );

    const human = run(args, { COLUMNS: "160" });
    assert.match(human.stdout, /; \* = incomplete bucket/);
    const row = human.stdout.split("\n").find((l) => l.startsWith("error_shown"));
    assert.ok(row, human.stdout);
    // The table shows the last buckets that fit: the two after the data, marked.
    assert.match(row, /\s0\*\s+0\*$/);
    assert.doesNotMatch(row, /[35]\*/);
  });

  test("a missing partition marks its buckets", () => {
    const got = json(["trend", "error_shown", "--from", "2023-05-31", "--to", "2023-06-01"]);
    assert.deepEqual(flags(got.series[0].points), [true, false]);
  });

  test("funnel over time: a bucket whose conversion window reaches past the data is incomplete", () => {
    const got = json([
      "funnel",
      "signup",
      "purchase",
      "--within",
      "1d",
      "--interval",
      "day",
      "--from",
      "2023-06-01",
      "--to",
      "2023-06-03",
    ]);
    assert.deepEqual(flags(got.trend), [false, false, true]);
    const short = json([
      "funnel",
      "signup",
      "purchase",
      "--within",
      "1h",
      "--interval",
      "day",
      "--from",
      "2023-06-01",
      "--to",
      "2023-06-04",
    ]);
    // 06-03's window reaches 06-04 01:00, past the data: incomplete too.
    assert.deepEqual(flags(short.trend), [false, false, true, true]);
    // The CSV's over-time rows say the same in their `complete` column.
    const csv = run([
      "funnel",
      "signup",
      "purchase",
      "--within",
      "1h",
      "--interval",
      "day",
      "--from",
      "2023-06-01",
      "--to",
      "2023-06-04",
      "--csv",
    ])
      .stdout.trim()
      .split("\n");
    const complete = csv[0]!.split(",").indexOf("complete");
    assert.ok(complete > 0, csv[0]);
    assert.deepEqual(
      csv.filter((l) => l.startsWith("trend,")).map((l) => l.split(",")[complete]),
      ["true", "true", "false", "false"],
    );
  });

  test("funnel over time: a missing day after `to`, inside the conversion window, marks the last bucket", () => {
    // A second cache holds only 06-01: 06-02 and 06-03 are listed but not synced.
    const one = join(dir, "one-day.duckdb");
    const s = evx(["sync", lake, "--cache", one, "--from", "2023-06-01", "--to", "2023-06-01", "--json"]);
    assert.equal(s.code, 0, s.stderr);
    const trendFlags = (interval: string, within: string) => {
      const r = evx([
        ...["funnel", "signup", "purchase", "--interval", interval, "--within", within],
        ...["--from", "2023-06-01", "--to", "2023-06-01", "--json", "--cache", one],
      ]);
      assert.equal(r.code, 0, r.stderr);
      return flags(JSON.parse(r.stdout).trend);
    };
    assert.deepEqual(trendFlags("day", "1d"), [true], "06-01's window reaches into 06-02, not synced");
    // Hourly with a 1h window: only 23:00's window reaches into 06-02.
    const hourly = trendFlags("hour", "1h");
    assert.equal(hourly.length, 24);
    assert.deepEqual(hourly, [...Array(23).fill(false), true]);
  });

  test("lifecycle: a bucket whose previous bucket is not cached is incomplete", () => {
    const got = json([
      "lifecycle",
      "error_shown",
      "--interval",
      "day",
      "--from",
      "2023-06-01",
      "--to",
      "2023-06-03",
    ]);
    // 06-01's previous day 05-31 is not synced.
    assert.deepEqual(flags(got.points), [true, false, false]);
    const human = run([
      "lifecycle",
      "error_shown",
      "--interval",
      "day",
      "--from",
      "2023-06-01",
      "--to",
      "2023-06-03",
    ]);
    assert.match(human.stdout, /^\* incomplete: 06-01$/m);
  });

  test("a live cache: today's bucket is incomplete (the listing saw the day before it ended)", () => {
    const today = new Date().toISOString().slice(0, 10);
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const live = join(dir, "live");
    const now = new Date(Date.now() - 1000).toISOString();
    writeLakeFiles(live, {
      [`date=${yesterday}/part-0000.jsonl`]: jsonl([ev("tick", `${yesterday}T12:00:00Z`, "u1")]),
      [`date=${today}/part-0000.jsonl`]: jsonl([ev("tick", now, "u1")]),
    });
    const liveCache = join(dir, "live.duckdb");
    assert.equal(evx(["sync", live, "--cache", liveCache, "--json"]).code, 0);
    const r = evx(["trend", "tick", "--from", yesterday, "--to", today, "--cache", liveCache, "--json"]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(flags(JSON.parse(r.stdout).series[0].points), [false, true]);
  });
});
