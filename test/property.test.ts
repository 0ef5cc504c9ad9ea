/**
 * Property-based check of the SQL engine against the brute-force reference: a generated lake with
 * awkward names and values (quotes, semicolons, backslashes, unicode, mixed types, missing keys), and
 * random trend / funnel / retention / catalog specs with random filters. Results must agree exactly
 * (integers exactly, ratios to 1e-9).
 *
 * The lake comes from a seeded PRNG; the specs from fast-check arbitraries, so a failure is shrunk to a
 * small spec and printed with its seed and path (rerun with EVX_PROP_SEED / EVX_PROP_RUNS).
 *
 * The lake holds a week of June and three two-day windows around DST changes (New York's spring
 * forward, Berlin's and New York's fall back); ranges are dates, local date-times at random minutes or
 * ISO instants inside one window, short enough for minute/5m/15m buckets; trends and funnels may
 * compare with a previous period.
 *
 * Issue #22 (no silent wrong answers): one object of 2023-06-02 cannot be read (the sync records the
 * date as failed, its other objects load); trend and funnel ranges may start before the lake's first
 * day or end past its last event, so compare periods reach outside the cache, and the partial-data
 * marks are checked against test/brute-partial.ts (on DuckDB; see `MARKS`). Filters, breakdowns and
 * the other keys a spec reads are drawn among keys no event carries (refused), keys few events carry
 * (a warning when none in range does), and ordinary ones; test/brute-keys.ts says which. Drill-downs
 * draw `--limit 0`.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { gzipSync } from "node:zlib";
import fc from "fast-check";
import { checkSpecKeys, type Executor } from "../src/queries/executor.js";
import { checkKeys } from "../src/queries/keys.js";
import { UsageError } from "../src/queries/parse.js";
import {
  type AnalysisSpec,
  COMPARES,
  type Compare,
  type DateRange,
  type EventRef,
  type Filter,
  type FunnelOrder,
  type FunnelSpec,
  INTERVALS,
  type Interval,
  type Measure,
  type Op,
  type RetentionSpec,
  STATS,
  type TrendSpec,
} from "../src/queries/spec.js";
import { formulaOf } from "../src/queries/trend.js";
import { parseUserSelection } from "../src/queries/users.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import {
  type BruteEvent,
  bruteCatalog,
  bruteFunnel,
  bruteRange,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  loadLake,
  rangeMicros,
} from "./brute.js";
import { bruteLifecycle, brutePaths, bruteStickiness } from "./brute-insights.js";
import { bruteKeyOutcome } from "./brute-keys.js";
import { type LakeListing, listLake, withBruteMarks } from "./brute-partial.js";
import { bruteScale, sampleEvents } from "./brute-sample.js";
import { bruteTimeline, bruteUsers } from "./brute-users.js";
import { tempDir } from "./helpers/tmp.js";
import {
  assertClose,
  cacheFromLake,
  TEST_ENGINE,
  type TestCache,
  withoutPartialMarks,
} from "./queries/helpers.js";

/** mulberry32 */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick, chance: (p: number) => next() < p };
}
type Rng = ReturnType<typeof prng>;

const TYPES = [
  "open",
  "click",
  "it's",
  'say "hi"',
  "semi;colon; DROP TABLE events;--",
  "back\\slash",
  "ünï ☃",
  "100%_done",
] as const;
const STRINGS = ["free", "pro", "it's", "a;b", 'q"q', "x\\y", "", "Pro", "ü", "10", "2.5", "-1", "%", "_"];
const KEYS = ["plan", "n", "flag", "mixed", "obj", "we'ird;key", "sp ace"] as const;
/** Carried by a few `click` events of June only: most ranges and event types have none (a warning). */
const RARE = "rare";
/** `NIL` is on many events but always JSON null, `GHOST` on none: no event carries either (refused). */
const NIL = "nil";
const GHOST = "ghost";
/** UTC days of the lake, in windows: ranges stay inside one window. */
const WINDOWS = [
  ["2023-06-01", "2023-06-02", "2023-06-03", "2023-06-04", "2023-06-05", "2023-06-06"],
  ["2023-03-11", "2023-03-12"], // New York: 02:00 EST → 03:00 EDT on 03-12 (07:00Z)
  ["2023-10-28", "2023-10-29"], // Berlin: 03:00 CEST → 02:00 CET on 10-29 (01:00Z)
  ["2023-11-04", "2023-11-05"], // New York: 02:00 EDT → 01:00 EST on 11-05 (06:00Z); 1w after the last
] as const;
const DAYS: string[] = WINDOWS.flat();
/** The day with an object the sync cannot read (a cut gzip): coverage says `failed`. */
const FAILED_DAY = "2023-06-02";
/**
 * Where trend and funnel ranges lie: the lake's windows, the first (in time) starting two days before
 * the lake's first day and the last ending two days past its last event, so that ranges and compare
 * periods reach outside the cache (docs/semantics.md "Partial data"); and the day after FAILED_DAY.
 */
const EDGE_WINDOWS: readonly (readonly string[])[] = [
  WINDOWS[0],
  ["2023-03-09", "2023-03-10", ...WINDOWS[1]],
  WINDOWS[2],
  [...WINDOWS[3], "2023-11-06", "2023-11-07"],
  ["2023-06-03"],
];

function propValue(r: Rng, key: string): unknown {
  switch (key) {
    case "plan":
      return r.pick(STRINGS);
    case "n":
      return r.pick([0, 1, 2, 3, -1, 2.5, 10, 1e3, 0.1]);
    case "flag":
      return r.chance(0.5);
    case "obj":
      return r.chance(0.5) ? { a: r.int(3) } : [r.int(3)];
    case "mixed":
      return r.pick<unknown>([1, "1", true, null, "pro", 2.5, "it's"]);
    default:
      return r.pick(STRINGS);
  }
}

function generateFiles(r: Rng): Record<string, string> {
  const files: Record<string, string> = {};
  const users = Array.from({ length: 25 }, (_, i) => (i % 5 === 0 ? `u'${i};` : `user-${i}`));
  for (const day of DAYS) {
    for (let f = 0; f < 2; f++) {
      const lines: string[] = [];
      for (let i = 0; i < 140; i++) {
        const props: Record<string, unknown> = {};
        for (const k of KEYS) if (r.chance(0.55)) props[k] = propValue(r, k);
        const type = r.pick(TYPES);
        if (type === "click" && day.startsWith("2023-06") && r.chance(0.05)) props[RARE] = r.pick(STRINGS);
        if (r.chance(0.3)) props[NIL] = null;
        const t = Date.parse(`${day}T00:00:00Z`) + r.int(86_400_000);
        lines.push(
          JSON.stringify({
            event_type: type,
            event_time: new Date(t).toISOString(),
            user_id: r.pick(users),
            event_properties: props,
          }),
        );
      }
      files[`date=${day}/part-${f}.jsonl${f ? ".gz" : ""}`] = `${lines.join("\n")}\n`;
    }
  }
  return files;
}

const CMP_OPS: Op[] = ["=", "!=", "~"];
/** Comparisons take numbers only (a text value is a usage error, issue #22). */
const NUM_OPS: Op[] = [">", ">=", "<", "<="];

const valueArb = fc.oneof(
  fc.constantFrom(...STRINGS),
  fc.constantFrom("0", "1", "2", "2.5", "3", "-1", "10"),
  fc.string({ unit: fc.constantFrom("a", "P", "'", '"', ";", "\\", "%", "_", "1", ".", "ü"), maxLength: 3 }),
);
/** Mostly keys many events carry; sometimes a rare one (often a warning) or one none carries (refused). */
const keyArb = fc.oneof(
  { weight: 12, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 2, arbitrary: fc.constant(RARE) },
  { weight: 1, arbitrary: fc.constantFrom(NIL, GHOST) },
);
/** A key whose values are summed or averaged (`sum:KEY`, `--value`). */
const numberKeyArb = (...keys: string[]) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...keys) },
    { weight: 1, arbitrary: fc.constantFrom(RARE, GHOST) },
  );
const filterArb: fc.Arbitrary<Filter> = fc.oneof(
  fc.record({ key: keyArb, op: fc.constantFrom<Op>("set", "!set") }),
  fc.record({
    key: keyArb,
    op: fc.constant<Op>("in"),
    value: fc.array(valueArb, { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ key: keyArb, op: fc.constantFrom(...CMP_OPS), value: valueArb }),
  fc.record({
    key: keyArb,
    op: fc.constantFrom(...NUM_OPS),
    value: fc.constantFrom("0", "1", "2", "2.5", "3", "-1", "10"),
  }),
);
const refArb = (star: boolean): fc.Arbitrary<EventRef> =>
  fc.record({
    event: star
      ? fc.oneof(
          { weight: 4, arbitrary: fc.constantFrom(...TYPES) },
          { weight: 1, arbitrary: fc.constant("*") },
        )
      : fc.constantFrom(...TYPES),
    filters: fc.array(filterArb, { maxLength: 1 }),
  });
const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** Local wall-clock time (ms "as if UTC") → `YYYY-MM-DDTHH:MM` or with `:SS`. */
const localText = (ms: number) => new Date(ms).toISOString().slice(0, ms % MINUTE_MS === 0 ? 16 : 19);
const TZS = ["UTC", "America/New_York", "Asia/Kolkata", "Europe/Berlin"] as const;

/**
 * A range inside one window: dates (when `maxMinutes` allows a day), or a local date-time / ISO instant
 * start at a random minute (sometimes second) of the window and a length of 1..maxMinutes minutes.
 * Ranges that resolve empty (a skipped `from` read past `to`) are left out.
 */
const rangeArb = (
  maxMinutes: number,
  windows: readonly (readonly string[])[] = WINDOWS,
): fc.Arbitrary<DateRange> =>
  fc
    .record({
      w: fc.oneof(
        { weight: 3, arbitrary: fc.constant(0) },
        // June half of the time; with EDGE_WINDOWS (partial data) the others an eighth each
        { weight: windows === WINDOWS ? 1 : 3, arbitrary: fc.integer({ min: 1, max: windows.length - 1 }) },
      ),
      a: fc.nat(5),
      b: fc.nat(5),
      kind: fc.constantFrom(
        ...(maxMinutes >= 1440 ? (["date", "local", "instant"] as const) : (["local", "instant"] as const)),
      ),
      minute: fc.nat(6 * 1440 - 1),
      second: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(59) }),
      length: fc.integer({ min: 1, max: maxMinutes }),
      tz: fc.constantFrom(...TZS),
    })
    .map(({ w, a, b, kind, minute, second, length, tz }) => {
      const days = windows[w];
      if (kind === "date") {
        const [i, j] = [a % days.length, b % days.length];
        return { from: days[Math.min(i, j)]!, to: days[Math.max(i, j)]!, tz };
      }
      const windowStart = Date.parse(`${days[0]}T00:00:00Z`);
      const windowEnd = windowStart + days.length * DAY_MS;
      const from = windowStart + ((minute * MINUTE_MS) % (days.length * DAY_MS)) + second * 1000;
      const to = Math.min(from + length * MINUTE_MS, windowEnd + DAY_MS);
      if (kind === "local") return { from: localText(from), to: localText(to), tz };
      return { from: new Date(from).toISOString(), to: new Date(to).toISOString(), tz };
    })
    .filter((r) => {
      try {
        rangeMicros(r);
        return true;
      } catch {
        return false;
      }
    });

/** Longest range (minutes) per interval: a few hundred points at most. */
const MAX_MINUTES: Record<Interval, number> = {
  minute: 4 * 60,
  "5m": 16 * 60,
  "15m": 2 * 1440,
  hour: 6 * 1440,
  day: 6 * 1440,
  week: 6 * 1440,
  month: 6 * 1440,
};
const intervalRangeArb = fc
  .constantFrom(...INTERVALS)
  .chain((interval) =>
    fc.record({ interval: fc.constant(interval), range: rangeArb(MAX_MINUTES[interval], EDGE_WINDOWS) }),
  );
/**
 * No compare half of the time; `previous` and `1d` (which often reach data, or just past the lake's
 * first day) more than `1w` and `4w`.
 */
const compareArb: fc.Arbitrary<Compare | undefined> = fc.oneof(
  { weight: 5, arbitrary: fc.constant(undefined) },
  { weight: 3, arbitrary: fc.constantFrom<Compare>("previous", "1d") },
  { weight: 2, arbitrary: fc.constantFrom(...COMPARES) },
);
const withoutUndefined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

const measureArb: fc.Arbitrary<Measure> = fc.oneof(
  fc.constant<Measure>({ kind: "events" }),
  fc.constant<Measure>({ kind: "users" }),
  fc.constant<Measure>({ kind: "per-user" }),
  fc.record({ kind: fc.constant("sum" as const), key: numberKeyArb("n", "mixed", "plan") }),
  fc.record({ kind: fc.constant("avg" as const), key: numberKeyArb("n", "mixed") }),
  fc.record({
    kind: fc.constant("stat" as const),
    stat: fc.constantFrom(...STATS),
    key: numberKeyArb("n", "mixed", "plan"),
  }),
  fc.record({ kind: fc.constant("per-user-stat" as const), stat: fc.constantFrom(...STATS) }),
);
/** Seconds per bucket of the fixed-width intervals (a rolling window is a whole number of them). */
const WIDTH_S: Partial<Record<Interval, number>> = {
  minute: 60,
  "5m": 300,
  "15m": 900,
  hour: 3600,
  day: 86_400,
  week: 604_800,
};
const FORMULAS = [
  ["A*2-1", "-(A)/(A+1)", "A/A"],
  ["A/B*100", "(A+B)/(A-B)", "-A/(B-1)+0.5", "A-B*2"],
];
const trendArb: fc.Arbitrary<TrendSpec> = fc
  .record({
    kind: fc.constant("trend" as const),
    events: fc.array(refArb(true), { minLength: 1, maxLength: 2 }),
    measure: measureArb,
    at: intervalRangeArb,
    filters: fc.array(filterArb, { maxLength: 2 }),
    limit: fc.constantFrom(0, 1, 3, 10),
    breakdown: fc.option(keyArb, { nil: undefined }),
    compare: compareArb,
    // issue 27: a formula, a rolling window (1–4 buckets) or a cumulative count, where they go
    formula: fc.option(fc.nat(3), { nil: undefined, freq: 3 }),
    window: fc.constantFrom<"rolling" | "cumulative" | undefined>(
      undefined,
      undefined,
      "rolling",
      "cumulative",
    ),
    buckets: fc.integer({ min: 1, max: 4 }),
  })
  .map(({ at, formula, window, buckets, ...t }) => {
    const forms = FORMULAS[t.events.length - 1];
    const m = t.measure;
    const windowed =
      m.kind !== "per-user-stat" && (m.kind !== "stat" || m.stat === "min" || m.stat === "max");
    const width = WIDTH_S[at.interval];
    return withoutUndefined({
      ...t,
      interval: at.interval,
      range: at.range,
      formula: formula === undefined ? undefined : forms[formula % forms.length],
      rollingSeconds: window === "rolling" && windowed && width ? buckets * width : undefined,
      cumulative: window === "cumulative" && windowed ? true : undefined,
    });
  });
const funnelArb: fc.Arbitrary<FunnelSpec> = fc
  .record({
    kind: fc.constant("funnel" as const),
    steps: fc.array(refArb(false), { minLength: 2, maxLength: 3 }),
    withinSeconds: fc.constantFrom(60, 3600, 86_400, 3 * 86_400),
    at: intervalRangeArb,
    withTrend: fc.boolean(),
    filters: fc.array(filterArb, { maxLength: 1 }),
    limit: fc.constantFrom(1, 3, 10),
    breakdown: fc.option(keyArb, { nil: undefined }),
    compare: compareArb,
    order: fc.constantFrom<FunnelOrder | undefined>(undefined, "ordered", "strict", "any", "any"),
    exclude: fc.array(fc.record({ event: refArb(false), a: fc.nat(5), b: fc.nat(5) }), { maxLength: 1 }),
    hold: fc.option(keyArb, { nil: undefined, freq: 3 }),
    value: fc.option(numberKeyArb("n", "mixed", "plan"), { nil: undefined, freq: 3 }),
  })
  .map(({ at, withTrend, exclude, ...f }) => {
    const K = f.steps.length;
    const any = f.order === "any";
    return withoutUndefined({
      ...f,
      range: at.range,
      trendInterval: withTrend ? at.interval : undefined,
      // --exclude and --value need an ordered or strict funnel; step ranges 1 ≤ A < B ≤ K
      exclude: any
        ? undefined
        : exclude.map((x) => {
            const from = 1 + (x.a % (K - 1));
            return { event: x.event, from, to: from + 1 + (x.b % (K - from)) };
          }),
      value: any ? undefined : f.value,
    });
  });
const retentionArb: fc.Arbitrary<RetentionSpec> = fc
  .constantFrom<RetentionSpec["period"]>("hour", "day", "week", "month")
  .chain((period) =>
    fc.record({
      kind: fc.constant("retention" as const),
      start: refArb(true),
      return: refArb(true),
      period: fc.constant(period),
      periods: fc.integer({ min: 1, max: 5 }),
      mode: fc.constantFrom("on", "on-or-after") as fc.Arbitrary<RetentionSpec["mode"]>,
      cohort: fc.constantFrom<RetentionSpec["cohort"]>(undefined, "first", "recurring"),
      value: fc.option(numberKeyArb("n", "mixed"), { nil: undefined, freq: 3 }),
      range: rangeArb(period === "hour" ? 2 * 1440 : 6 * 1440),
      filters: fc.array(filterArb, { maxLength: 1 }),
    }),
  )
  .map((r) => withoutUndefined(r));
const catalogArb: fc.Arbitrary<AnalysisSpec> = fc.record({
  kind: fc.constant("catalog" as const),
  range: rangeArb(6 * 1440),
});
/**
 * A trend or funnel over up to four hours of the day after FAILED_DAY, compared with the day before:
 * the cache holds none of the compare period (a failed day) although it has some of its events, so a
 * trend's `change` must be null, not computed from them.
 */
const failedCompareArb: fc.Arbitrary<AnalysisSpec> = fc
  .tuple(fc.oneof(trendArb, funnelArb), fc.nat(20 * 60), fc.integer({ min: 1, max: 240 }))
  .map(([spec, minute, length]) => {
    const from = Date.parse(`${FAILED_DAY}T00:00:00Z`) + DAY_MS + minute * MINUTE_MS;
    const range = {
      from: new Date(from).toISOString(),
      to: new Date(from + length * MINUTE_MS).toISOString(),
      tz: spec.range.tz,
    };
    return { ...spec, range, compare: "1d" as const };
  });
const specArb: fc.Arbitrary<AnalysisSpec> = fc.oneof(
  { weight: 2, arbitrary: trendArb },
  { weight: 2, arbitrary: funnelArb },
  { weight: 1, arbitrary: failedCompareArb },
  { weight: 1, arbitrary: retentionArb },
  { weight: 1, arbitrary: catalogArb },
);

function brute(events: BruteEvent[], s: AnalysisSpec, last: number): unknown {
  switch (s.kind) {
    case "catalog":
      return bruteCatalog(events, { ...s, range: s.range! });
    case "trend":
      return bruteTrend(events, s);
    case "funnel":
      return bruteFunnel(events, s);
    case "retention":
      return bruteRetention(events, s, last);
    default:
      throw new Error(`no brute force for ${s.kind}`);
  }
}

const SEED = Number(process.env.EVX_PROP_SEED ?? 20231126);
const RUNS = Number(process.env.EVX_PROP_RUNS ?? 150);

/**
 * Whether results are checked with their partial-data marks (points' `incomplete`, a compare's
 * `coverage` and `cached`, `change: null` with none of it cached). On ClickHouse only the numbers: the
 * chdb test engine (test/helpers/chdb-engine.ts) has no load bookkeeping and computes no coverage
 * (test/clickhouse-load.test.ts, "partial data: …", proves the marks on ClickHouse's own coverage).
 */
const MARKS = TEST_ENGINE === "duckdb";

let tc: TestCache;
let events: BruteEvent[];
let listing: LakeListing;
let last: number;
const dir = tempDir("evx-prop-");

before(async () => {
  const lake = join(dir, "lake");
  writeLakeFiles(lake, generateFiles(prng(SEED)));
  events = await loadLake(lake);
  // A gzip cut short: the sync records FAILED_DAY as failed and loads the day's other objects.
  const gz = gzipSync(
    Buffer.from(
      `${JSON.stringify({ event_type: "open", event_time: `${FAILED_DAY}T12:00:00Z`, user_id: "x" })}\n`.repeat(
        200,
      ),
    ),
  );
  writeFileSync(join(lake, `date=${FAILED_DAY}/part-9.jsonl.gz`), gz.subarray(0, gz.length - 20));
  listing = await listLake(lake);
  assert.deepEqual([...listing.failed], [FAILED_DAY]);
  tc = await cacheFromLake(lake, dir);
  last = lastEventTime(events);
});

/** The engine's property-key check (keys.ts), as the CLI and the TUI run it on each engine. */
function engineKeyCheck(spec: AnalysisSpec): Promise<string[]> {
  if (tc.engine === "duckdb") return checkSpecKeys(tc.ex as Executor, spec);
  // as the ClickHouse executor's reader (src/queries/clickhouse/executor.ts), on the chdb table
  const reader = { engine: "clickhouse" as const, context: async () => ({}), rows: tc.ex.query.bind(tc.ex) };
  return checkKeys(reader, spec);
}

/** The keys named by warning lines (`WHERE "KEY": no … in the range has it`). */
const warnedKeys = (lines: string[]) =>
  [
    ...new Set(lines.map((l) => JSON.parse(/("(?:[^"\\]|\\.)*"): no /.exec(l)?.[1] ?? "null") as string)),
  ].sort();

/**
 * The key check must do what the brute force says: refuse a spec reading a key no event carries
 * (a one-line usage error naming such a key; returns true), else warn about exactly the keys that none
 * of their events carries in the range.
 */
async function refusedForKeys(spec: AnalysisSpec): Promise<boolean> {
  const want = bruteKeyOutcome(events, spec);
  if (want.unknown.length) {
    await assert.rejects(engineKeyCheck(spec), (e: unknown) => {
      assert.ok(e instanceof UsageError, String(e));
      const m = /^unknown property key ("(?:[^"\\]|\\.)*") in .*: no event has it/.exec(e.message);
      assert.ok(m && want.unknown.includes(JSON.parse(m[1])), `${e.message} (want one of ${want.unknown})`);
      return true;
    });
    return true;
  }
  assert.deepStrictEqual(warnedKeys(await engineKeyCheck(spec)), want.absent);
  return false;
}
after(() => tc?.close());

test("the generated lake lands whole", async () => {
  const n = await tc.cache.one<{ n: number }>("SELECT count(*) AS n FROM events");
  assert.equal(n?.n, events.length);
  assert.equal(events.length, DAYS.length * 2 * 140);
});

test(`${RUNS} random specs with random filters: engine = brute force`, async () => {
  await fc.assert(
    fc.asyncProperty(specArb, async (spec) => {
      if (spec.kind !== "catalog" && (await refusedForKeys(spec))) return;
      const out = await tc.ex.run(spec);
      const want = brute(events, spec, last);
      if (MARKS) assertClose(out.result, withBruteMarks(spec, want, listing));
      else assertClose(withoutPartialMarks(out.result), want);
      if ("range" in spec && spec.range) assert.deepStrictEqual(out.range, bruteRange(spec.range));
    }),
    { seed: SEED, numRuns: RUNS },
  );
});

/** A drill-down: an analysis and which of its numbers to list the users of (picked from its result). */
const drillArb = fc.tuple(
  fc.oneof(trendArb, funnelArb, retentionArb),
  fc.nat(1000),
  fc.nat(1000),
  fc.boolean(),
  fc.constantFrom(0, 1, 5, 100),
);

test(`${Math.ceil(RUNS / 3)} random drill-downs and timelines: engine = brute force`, async () => {
  await fc.assert(
    fc.asyncProperty(drillArb, async ([of, i, j, flag, limit]) => {
      let text: string | null = null;
      if (of.kind === "funnel") {
        const K = of.steps.length;
        text = flag ? `reached:${1 + (i % K)}` : `dropped:${2 + (i % (K - 1))}`;
      } else if (of.kind === "trend") {
        const pts = bruteTrend(events, of).series[0]?.points ?? [];
        if (pts.length) text = pts[i % pts.length].t;
      } else {
        const cohorts = bruteRetention(events, of, last).cohorts;
        if (cohorts.length)
          text = `${cohorts[i % cohorts.length].cohort}:${j % of.periods}${flag ? ":lost" : ""}`;
      }
      if (text === null) return;
      const plain = { ...of, breakdown: undefined, compare: undefined } as typeof of;
      const spec = {
        kind: "users" as const,
        of: plain,
        select: parseUserSelection(text, plain),
        limit,
        range: of.range,
      };
      if (!(await refusedForKeys(spec))) {
        const want = bruteUsers(events, spec);
        const got = (await tc.ex.run(spec)).result;
        assert.deepStrictEqual(got, want);
        // `--limit 0`: the total, no rows
        if (limit === 0) assert.deepStrictEqual([got.total, got.users.length], [want.total, 0]);
      }
      // The timeline of one of the users (or of a user with no events in range).
      const users = [...new Set(events.map((e) => e.user))];
      const tl = {
        kind: "timeline" as const,
        user: users[j % users.length],
        range: of.range,
        events: flag ? [] : [TYPES[i % TYPES.length]],
        limit,
      };
      const wantTl = bruteTimeline(events, tl);
      const gotTl = (await tc.ex.run(tl)).result;
      assert.deepStrictEqual(gotTl, wantTl);
      if (limit === 0) assert.deepStrictEqual([gotTl.total, gotTl.events.length], [wantTl.total, 0]);
    }),
    { seed: SEED + 1, numRuns: Math.ceil(RUNS / 3) },
  );
});

/* ---------- paths, stickiness, lifecycle (issue #15) ---------- */

const stickinessArb: fc.Arbitrary<AnalysisSpec> = fc
  .constantFrom("hour" as const, "day" as const, "week" as const)
  .chain((interval) =>
    fc.record({
      kind: fc.constant("stickiness" as const),
      event: refArb(true),
      interval: fc.constant(interval),
      range: rangeArb(interval === "hour" ? 2 * 1440 : 6 * 1440),
      filters: fc.array(filterArb, { maxLength: 1 }),
    }),
  );
const lifecycleArb: fc.Arbitrary<AnalysisSpec> = fc.record({
  kind: fc.constant("lifecycle" as const),
  event: refArb(true),
  interval: fc.constantFrom("day" as const, "week" as const, "month" as const),
  range: rangeArb(6 * 1440),
  filters: fc.array(filterArb, { maxLength: 1 }),
});
const pathsArb: fc.Arbitrary<AnalysisSpec> = fc
  .record({
    kind: fc.constant("paths" as const),
    anchor: refArb(false),
    direction: fc.constantFrom("after" as const, "before" as const),
    depth: fc.integer({ min: 1, max: 5 }),
    top: fc.integer({ min: 1, max: 4 }),
    withinSeconds: fc.option(fc.constantFrom(60, 3600, 86_400), { nil: undefined }),
    collapse: fc.boolean(),
    range: rangeArb(6 * 1440),
    filters: fc.array(filterArb, { maxLength: 1 }),
  })
  .map(withoutUndefined);

function bruteInsight(s: AnalysisSpec): unknown {
  switch (s.kind) {
    case "stickiness":
      return bruteStickiness(events, s);
    case "lifecycle":
      return bruteLifecycle(events, s);
    case "paths":
      return brutePaths(events, s);
    default:
      throw new Error(`no brute force for ${s.kind}`);
  }
}

test(`${Math.ceil(RUNS / 2)} random paths, stickiness and lifecycle specs: engine = brute force`, async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(stickinessArb, lifecycleArb, { weight: 2, arbitrary: pathsArb }),
      async (spec) => {
        const out = await tc.ex.run(spec);
        assertClose(withoutPartialMarks(out.result), bruteInsight(spec));
        if ("range" in spec && spec.range) assert.deepStrictEqual(out.range, bruteRange(spec.range));
      },
    ),
    { seed: SEED + 2, numRuns: Math.ceil(RUNS / 2) },
  );
});

test(`${Math.ceil(RUNS / 5)} random paths nodes' users: engine = brute force, total = the node's users`, async () => {
  await fc.assert(
    fc.asyncProperty(pathsArb, fc.nat(1000), async (spec, i) => {
      if (spec.kind !== "paths") return;
      const tree = brutePaths(events, spec);
      const node = tree.nodes[i % Math.max(1, tree.nodes.length)];
      if (!node) return;
      const users = {
        kind: "users" as const,
        of: spec,
        select: { kind: "path" as const, path: node.path },
        limit: 5,
        range: spec.range,
      };
      const want = bruteUsers(events, users);
      assert.equal(want.total, node.users);
      assert.deepStrictEqual((await tc.ex.run(users)).result, want);
    }),
    { seed: SEED + 3, numRuns: Math.ceil(RUNS / 5) },
  );
});

/** Sampling (docs/semantics.md, "Sampling"): the brute force on the kept users' events, scaled. */
test(`${Math.ceil(RUNS / 5)} random sampled specs: engine = brute force with the same sample`, async () => {
  const bruteAny = (evs: BruteEvent[], s: AnalysisSpec): unknown => {
    switch (s.kind) {
      case "stickiness":
        return bruteStickiness(evs, s);
      case "lifecycle":
        return bruteLifecycle(evs, s);
      case "paths":
        return brutePaths(evs, s);
      default:
        return brute(evs, s, last);
    }
  };
  await fc.assert(
    fc.asyncProperty(
      fc.oneof(trendArb, funnelArb, retentionArb, stickinessArb, lifecycleArb, pathsArb),
      fc.constantFrom(0.01, 0.1, 0.25, 0.333, 0.5, 0.9),
      async (inner, sample) => {
        const spec = { ...inner, sample } as AnalysisSpec;
        const keyed = spec.kind === "trend" || spec.kind === "funnel" || spec.kind === "retention";
        if (keyed && (await refusedForKeys(spec))) return;
        const out = await tc.ex.run(spec);
        const want = bruteScale(spec, bruteAny(sampleEvents(events, sample), spec), sample, (t) =>
          formulaOf((spec as TrendSpec).formula as string, (spec as TrendSpec).events.length, t.series),
        );
        // As the unsampled properties check them: with the partial-data marks where they apply.
        if (MARKS && keyed) assertClose(out.result, withBruteMarks(spec, want, listing));
        else assertClose(withoutPartialMarks(out.result), want);
      },
    ),
    { seed: SEED + 4, numRuns: Math.ceil(RUNS / 5) },
  );
});
