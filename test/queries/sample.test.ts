/**
 * Opt-in sampling (docs/semantics.md, "Sampling"): the hash is the same on DuckDB, ClickHouse and in
 * the brute force; a hand-worked lake; every sampled analysis against the brute force with the same
 * rule (exactly: the sample is deterministic), raw and merged identity. `EVX_TEST_ENGINE=clickhouse`
 * runs the analyses on ClickHouse (chdb).
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { buildQuery, Executor, shapeResult } from "../../src/queries/executor.js";
import { parseEventRef as ref, parseFilter as where } from "../../src/queries/parse.js";
import { parseSample, SAMPLE_MOD, sampleTest, sampleText } from "../../src/queries/sample.js";
import type {
  AnalysisSpec,
  DateRange,
  FunnelResult,
  FunnelSpec,
  LifecycleSpec,
  PathsSpec,
  RetentionSpec,
  StickinessSpec,
  TrendResult,
  TrendSpec,
  UsersSpec,
} from "../../src/queries/spec.js";
import { formulaOf } from "../../src/queries/trend.js";
import { folderSource } from "../../src/source/folder.js";
import { generateLake } from "../../src/source/synthetic.js";
import {
  type BruteEvent,
  bruteFunnel,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  loadLake,
} from "../brute.js";
import { brutePersons, loadVendorLinks, mergeUsers } from "../brute-identity.js";
import { bruteLifecycle, brutePaths, bruteStickiness } from "../brute-insights.js";
import { bruteHash, bruteKeep, bruteScale, sampleEvents } from "../brute-sample.js";
import { bruteUsers } from "../brute-users.js";
import { loadVendorLake } from "../brute-vendor.js";
import { ChdbEngine, chRows } from "../helpers/chdb-engine.js";
import { generateJourneys, writeIdentityLake } from "../identity-lake.js";
import {
  assertClose,
  cacheFromFiles,
  cacheFromLake,
  TEST_ENGINE,
  type TestCache,
  withoutPartialMarks,
} from "./helpers.js";

describe("--sample parsing", () => {
  test("a percentage from 1% to 100%", () => {
    assert.equal(parseSample("10%"), 0.1);
    assert.equal(parseSample("1%"), 0.01);
    assert.equal(parseSample("2.5%"), 0.025);
    assert.equal(parseSample(" 37.5 % "), 0.375);
    assert.equal(parseSample("100%"), undefined, "everyone: the exact answer");
    assert.equal(sampleText(0.025), "2.5%");
    assert.equal(sampleText(0.1), "10%");
  });
  test("anything else is refused with one line", () => {
    for (const bad of [
      "0%",
      "0.5%",
      "150%",
      "100.01%",
      "abc",
      "10",
      "0.1",
      "",
      "10%%",
      "-5%",
      "1.234%",
      "1e1%",
    ])
      assert.throws(
        () => parseSample(bad),
        (e: Error) =>
          e.name === "UsageError" &&
          /^bad --sample .*from 1% to 100%/.test(e.message) &&
          !e.message.includes("\n"),
        bad,
      );
  });
});

describe("the hash is the same on DuckDB, ClickHouse and the brute force", () => {
  // Ids of several shapes: numbers, uuids, emails, non-ASCII text.
  const ids: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const r = bruteHash(`seed${i}`).toString(16);
    ids.push(
      i % 4 === 0 ? String(i) : i % 4 === 1 ? `user-${r}` : i % 4 === 2 ? `${r}@example.com` : `ü∂-${r}-名前`,
    );
  }
  const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
  const list = ids.map(lit).join(", ");

  test("3000 ids, two rates", async () => {
    const db = await DuckDBInstance.create(":memory:");
    const conn = await db.connect();
    const duck = (
      await conn.runAndReadAll(
        `SELECT x, ('0x' || substr(md5(x), 1, 8))::UBIGINT AS h, ${sampleTest("x", 1000, "duckdb")} AS k10, ${sampleTest("x", 3750, "duckdb")} AS k37
           FROM (SELECT unnest([${list}]) AS x)`,
      )
    ).getRowObjects();
    conn.closeSync();
    const ch = chRows(
      `SELECT x, reinterpretAsUInt32(reverse(substring(MD5(x), 1, 4))) AS h, lower(hex(MD5(x))) AS m,
              ${sampleTest("x", 1000, "clickhouse")} AS k10, ${sampleTest("x", 3750, "clickhouse")} AS k37
         FROM (SELECT arrayJoin([${list}]) AS x)`,
    );
    assert.equal(duck.length, ids.length);
    assert.equal(ch.length, ids.length);
    const byCh = new Map(ch.map((r) => [String(r.x), r]));
    let kept10 = 0;
    for (const d of duck) {
      const x = String(d.x);
      const c = byCh.get(x);
      assert.ok(c, x);
      assert.equal(Number(d.h), bruteHash(x), x);
      assert.equal(Number(c.h), bruteHash(x), x);
      assert.equal(Number.parseInt(String(c.m).slice(0, 8), 16), bruteHash(x), x);
      assert.equal(Boolean(d.k10), bruteKeep(x, 0.1), x);
      assert.equal(Boolean(Number(c.k10)), bruteKeep(x, 0.1), x);
      assert.equal(Boolean(d.k37), bruteKeep(x, 0.375), x);
      assert.equal(Boolean(Number(c.k37)), bruteKeep(x, 0.375), x);
      if (bruteKeep(x, 0.1)) kept10++;
    }
    // About a tenth (a binomial: 300 ± 3σ).
    assert.ok(kept10 > 250 && kept10 < 350, `${kept10} of 3000 kept at 10%`);
    assert.equal(SAMPLE_MOD, 10000);
  });
});

/* ---------------- a hand-worked lake ---------------- */

describe("hand-worked", () => {
  // h mod 10000 of each id (the first 8 hex digits of md5): alice 3170, bob 7420, carol 1792,
  // dave 999, erin 7545, frank 4480. At 40% (k = 4000): alice, carol, dave; at 10% (k = 1000): dave.
  const line = (user: string, type: string, t: string, props: Record<string, unknown> = {}) =>
    JSON.stringify({ event_type: type, event_time: t, user_id: user, event_properties: props });
  const files = {
    "events/date=2023-06-01/a.jsonl": [
      line("alice", "signup", "2023-06-01T10:00:00Z"),
      line("alice", "purchase", "2023-06-01T10:30:00Z", { revenue: 10 }),
      line("bob", "signup", "2023-06-01T11:00:00Z"),
      line("bob", "purchase", "2023-06-01T11:10:00Z", { revenue: 20 }),
      line("carol", "signup", "2023-06-01T12:00:00Z"),
    ].join("\n"),
    "events/date=2023-06-02/a.jsonl": [
      line("dave", "signup", "2023-06-02T09:00:00Z"),
      line("dave", "purchase", "2023-06-02T09:20:00Z", { revenue: 5 }),
      line("erin", "signup", "2023-06-02T10:00:00Z"),
      line("frank", "signup", "2023-06-02T11:00:00Z"),
      line("frank", "purchase", "2023-06-02T13:00:00Z", { revenue: 7 }),
    ].join("\n"),
    // After the ranges below: only the data's end (bob is not in the samples).
    "events/date=2023-06-03/a.jsonl": line("bob", "signup", "2023-06-03T08:00:00Z"),
  };
  const range: DateRange = { from: "2023-06-01", to: "2023-06-02", tz: "UTC" };
  let tc: TestCache;
  before(async () => {
    tc = await cacheFromFiles(files);
  });
  after(() => tc?.close());
  const trend = (t: Partial<TrendSpec>): TrendSpec => ({
    kind: "trend",
    events: [ref("signup")],
    measure: { kind: "events" },
    interval: "day",
    range,
    filters: [],
    limit: 10,
    ...t,
  });
  const funnel = (f: Partial<FunnelSpec>): FunnelSpec => ({
    kind: "funnel",
    steps: [ref("signup"), ref("purchase")],
    withinSeconds: 3600,
    range,
    filters: [],
    limit: 10,
    ...f,
  });

  test("the ids' hashes are as written above", () => {
    const mods = ["alice", "bob", "carol", "dave", "erin", "frank"].map((u) => bruteHash(u) % 10000);
    assert.deepEqual(mods, [3170, 7420, 1792, 999, 7545, 4480]);
  });

  test("trend at 40%: the sample's counts × 2.5, rounded half away from zero", async () => {
    const r = (await tc.ex.run(trend({ sample: 0.4 }))).result;
    // sample: 2 signups on 06-01 (alice, carol), 1 on 06-02 (dave), 3 in all
    assert.deepEqual(
      r.series[0].points.map((p) => p.value),
      [5, 3],
    );
    assert.equal(r.series[0].total, 8);
    assert.equal(r.sample, 0.4);
    const unsampled = (await tc.ex.run(trend({}))).result;
    assert.deepEqual(
      unsampled.series[0].points.map((p) => p.value),
      [3, 3],
    );
    assert.equal("sample" in unsampled, false);
  });

  test("sum scales unrounded; avg and per-user do not scale", async () => {
    const sum = (
      await tc.ex.run(
        trend({ events: [ref("purchase")], measure: { kind: "sum", key: "revenue" }, sample: 0.4 }),
      )
    ).result;
    // sample: alice 10 (06-01), dave 5 (06-02)
    assert.deepEqual(
      sum.series[0].points.map((p) => p.value),
      [25, 12.5],
    );
    assert.equal(sum.series[0].total, 37.5);
    const avg = (
      await tc.ex.run(
        trend({ events: [ref("purchase")], measure: { kind: "avg", key: "revenue" }, sample: 0.4 }),
      )
    ).result;
    assert.deepEqual(
      avg.series[0].points.map((p) => p.value),
      [10, 5],
    );
    const users = (await tc.ex.run(trend({ measure: { kind: "users" }, sample: 0.1 }))).result;
    // 10%: dave alone
    assert.deepEqual(
      users.series[0].points.map((p) => p.value),
      [0, 10],
    );
  });

  test("formula inputs are the scaled values", async () => {
    const r = (
      await tc.ex.run(trend({ events: [ref("signup"), ref("purchase")], formula: "A+B", sample: 0.4 }))
    ).result;
    // A: 5, 3 (2, 1 × 2.5); B: purchases alice, dave → 3, 3 (1, 1 × 2.5 → 2.5 → 3)
    assert.deepEqual(
      r.formula?.series[0].points.map((p) => p.value),
      [8, 6],
    );
  });

  test("funnel at 40%: counts scale, conversion and median are the sample's", async () => {
    const r = (await tc.ex.run(funnel({ sample: 0.4 }))).result;
    // sample: alice, carol, dave sign up; alice (30 min) and dave (20 min) buy within 1h
    assert.deepEqual(
      r.steps.map((s) => [s.users, s.conversion, s.median_seconds]),
      [
        [8, 1, null],
        [5, 2 / 3, 1500],
      ],
    );
    assert.equal(r.sample, 0.4);
    const exact = (await tc.ex.run(funnel({}))).result;
    assert.deepEqual(
      exact.steps.map((s) => s.users),
      [6, 3],
    );
  });

  test("the drill-down of a sampled funnel lists the sample's users", async () => {
    const spec: UsersSpec = {
      kind: "users",
      of: funnel({ sample: 0.4 }),
      select: { kind: "reached", step: 2 },
      limit: 10,
      range,
    };
    const r = (await tc.ex.run(spec)).result;
    assert.deepEqual(
      r.users.map((u) => u.user_id),
      ["alice", "dave"],
    );
    assert.equal(r.total, 2);
    assert.equal(r.sample, 0.4);
  });

  test("retention's incomplete periods come from the whole data's last event", async () => {
    const spec: RetentionSpec = {
      kind: "retention",
      start: ref("signup"),
      return: ref("purchase"),
      period: "day",
      periods: 2,
      mode: "on",
      range,
      filters: [],
      sample: 0.1,
    };
    const r = (await tc.ex.run(spec)).result;
    // dave alone: cohort 06-02 with 1 user, retained on day 0. The data ends 06-03 08:00 (bob), so day
    // 0 of 06-02 is complete (the sample's own last event, dave's 06-02 09:20, would cut it).
    assert.deepEqual(
      r.cohorts.map((c) => [c.cohort, c.users, c.retained, c.incomplete_from]),
      [
        ["2023-06-01T00:00:00.000Z", 0, [0, 0], null],
        ["2023-06-02T00:00:00.000Z", 10, [10, 0], 1],
      ],
    );
    assert.equal(r.sample, 0.1);
  });
});

/* ---------------- the brute force, every analysis ---------------- */

const full: DateRange = { from: "2023-06-01", to: "2023-06-21", tz: "UTC" };
const part: DateRange = { from: "2023-06-04", to: "2023-06-17", tz: "America/New_York" };

const SPECS = (sample: number): AnalysisSpec[] => [
  {
    kind: "trend",
    events: [ref("button_clicked"), ref("file_saved")],
    measure: { kind: "events" },
    interval: "day",
    range: part,
    filters: [],
    limit: 10,
    compare: "1w",
    sample,
  },
  {
    kind: "trend",
    events: [ref("*")],
    measure: { kind: "users" },
    interval: "week",
    range: full,
    filters: [where("plan != free")],
    limit: 10,
    sample,
  },
  {
    kind: "trend",
    events: [ref("purchase")],
    measure: { kind: "sum", key: "revenue" },
    interval: "day",
    range: full,
    filters: [],
    breakdown: "currency",
    limit: 2,
    sample,
  },
  {
    kind: "trend",
    events: [ref("application_opened"), ref("signed_up")],
    measure: { kind: "users" },
    interval: "day",
    range: full,
    filters: [],
    limit: 10,
    formula: "B/A*100",
    rollingSeconds: 3 * 86400,
    sample,
  },
  {
    kind: "trend",
    events: [ref("file_saved")],
    measure: { kind: "per-user" },
    interval: "day",
    range: part,
    filters: [],
    limit: 10,
    cumulative: true,
    sample,
  },
  {
    kind: "funnel",
    steps: [ref("application_opened"), ref("button_clicked"), ref("file_saved")],
    withinSeconds: 3600,
    range: full,
    filters: [],
    limit: 10,
    trendInterval: "week",
    timeToConvert: { from: 1, to: 3, bins: 6 },
    value: "size_kb",
    sample,
  } satisfies FunnelSpec,
  {
    kind: "funnel",
    steps: [ref("signed_up"), ref("purchase")],
    withinSeconds: 7 * 86400,
    range: part,
    filters: [],
    breakdown: "referrer",
    limit: 3,
    compare: "previous",
    sample,
  } satisfies FunnelSpec,
  {
    kind: "retention",
    start: ref("signed_up"),
    return: ref("*"),
    period: "day",
    periods: 7,
    mode: "on",
    range: full,
    filters: [],
    value: "revenue",
    sample,
  } satisfies RetentionSpec,
  {
    kind: "retention",
    start: ref("application_opened"),
    return: ref("purchase"),
    period: "week",
    periods: 3,
    mode: "on-or-after",
    range: full,
    filters: [],
    breakdown: "app_version",
    limit: 2,
    sample,
  } satisfies RetentionSpec,
  {
    kind: "paths",
    anchor: ref("application_opened"),
    direction: "after",
    depth: 3,
    top: 3,
    collapse: true,
    range: part,
    filters: [],
    sample,
  } satisfies PathsSpec,
  {
    kind: "stickiness",
    event: ref("button_clicked"),
    interval: "day",
    range: full,
    filters: [],
    sample,
  } satisfies StickinessSpec,
  {
    kind: "lifecycle",
    event: ref("application_opened"),
    interval: "week",
    range: full,
    filters: [],
    sample,
  } satisfies LifecycleSpec,
];

function brute(events: BruteEvent[], spec: AnalysisSpec, last: number): unknown {
  switch (spec.kind) {
    case "trend":
      return bruteTrend(events, spec);
    case "funnel":
      return bruteFunnel(events, spec);
    case "retention":
      return bruteRetention(events, spec, last);
    case "paths":
      return brutePaths(events, spec);
    case "stickiness":
      return bruteStickiness(events, spec);
    case "lifecycle":
      return bruteLifecycle(events, spec);
    case "users":
      return bruteUsers(events, spec);
    default:
      throw new Error(spec.kind);
  }
}

/** The brute force's sampled answer: the analysis on the kept users' events, scaled. */
function expectedOf(events: BruteEvent[], spec: AnalysisSpec, rate: number, last: number): unknown {
  const raw = brute(sampleEvents(events, rate), spec, last);
  return bruteScale(spec, raw, rate, (t: TrendResult) =>
    formulaOf((spec as TrendSpec).formula as string, (spec as TrendSpec).events.length, t.series),
  );
}

describe(`every analysis against the brute force (${TEST_ENGINE})`, () => {
  let tc: TestCache;
  let events: BruteEvent[];
  let last: number;
  let root: string;
  before(async () => {
    root = mkdtempSync(join(tmpdir(), "evx-sample-"));
    const lake = join(root, "lake");
    await generateLake({ dir: lake, events: 4_000, days: 21, seed: 11, usersPer: 8 });
    tc = await cacheFromLake(lake, root);
    events = await loadLake(lake);
    last = lastEventTime(events);
  });
  after(() => {
    tc?.close();
    rmSync(root, { recursive: true, force: true });
  });

  // Every analysis at 37.5%; at 10% (another rounding) the funnels, retentions and lifecycle.
  for (const [rate, pick] of [
    [0.375, () => true],
    [0.1, (s: AnalysisSpec) => s.kind === "funnel" || s.kind === "retention" || s.kind === "lifecycle"],
  ] as const)
    test(`${sampleText(rate)}`, async () => {
      for (const spec of SPECS(rate).filter(pick)) {
        const expected = expectedOf(events, spec, rate, last);
        const out = await tc.ex.run(spec);
        assertClose(withoutPartialMarks(out.result), expected);
        // Without the engine's context (generic plans; ClickHouse reads the data's end from the table).
        if (rate === 0.375 && (spec.kind === "retention" || spec.kind === "trend"))
          assertClose(shapeResult(spec, await tc.ex.query(buildQuery(spec, undefined, tc.engine))), expected);
      }
    });

  test("the sample is one set of users: a funnel's steps and the drill-down agree", async () => {
    const f = SPECS(0.1)[5] as FunnelSpec;
    const r = (await tc.ex.run(f)).result as FunnelResult;
    const users: UsersSpec = {
      kind: "users",
      of: f,
      select: { kind: "reached", step: 2 },
      limit: 5,
      range: f.range,
    };
    const d = (await tc.ex.run(users)).result;
    const expected = bruteScale(users, bruteUsers(sampleEvents(events, 0.1), users), 0.1);
    assertClose(d, expected);
    // The step's estimate is the drill-down's total scaled.
    assert.equal(r.steps[1].users, d.total * 10);
    // Every listed user is in the sample.
    for (const u of d.users) assert.ok(bruteKeep(u.user_id, 0.1), u.user_id);
  });
});

describe(`merged identity samples persons (${TEST_ENGINE})`, () => {
  test("segment journeys: the persons' hash, not the ids'", async () => {
    const root = mkdtempSync(join(tmpdir(), "evx-sample-id-"));
    const lake = join(root, "lake");
    writeIdentityLake(lake, "segment", generateJourneys({ users: 300, days: 10, seed: 5 }));
    const cache = await Cache.open(join(root, "cache.duckdb"), { create: true, settings: { threads: 2 } });
    try {
      await sync(cache, folderSource(lake), { lake: { preset: "segment" } });
      const ex = TEST_ENGINE === "clickhouse" ? await ChdbEngine.fromCache(cache, root) : new Executor(cache);
      try {
        const truth = await loadVendorLake(lake, "segment", { dedupe: true });
        const { personOf } = brutePersons(loadVendorLinks(lake, "segment"));
        const last = lastEventTime(truth.events);
        const range: DateRange = { from: "2023-06-01", to: "2023-06-10", tz: "UTC" };
        for (const identity of ["merged", "raw"] as const) {
          const events = identity === "merged" ? mergeUsers(truth.events, personOf) : truth.events;
          const specs: AnalysisSpec[] = [
            {
              kind: "funnel",
              identity,
              steps: [ref("landing_viewed"), ref("signed_up"), ref("purchase")],
              withinSeconds: 86400,
              range,
              filters: [],
              limit: 10,
              sample: 0.3,
            },
            {
              kind: "retention",
              identity,
              start: ref("landing_viewed"),
              return: ref("purchase"),
              period: "day",
              periods: 4,
              mode: "on-or-after",
              range,
              filters: [],
              sample: 0.3,
            },
            {
              kind: "trend",
              identity,
              events: [ref("*")],
              measure: { kind: "users" },
              interval: "day",
              range,
              filters: [],
              limit: 10,
              sample: 0.3,
            },
          ];
          for (const spec of specs)
            assertClose(
              withoutPartialMarks((await ex.run(spec)).result),
              expectedOf(events, spec, 0.3, last),
            );
        }
      } finally {
        ex.close();
      }
    } finally {
      cache.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
