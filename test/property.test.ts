/**
 * Property-based check of the SQL engine against the brute-force reference: a generated lake with
 * awkward names and values (quotes, semicolons, backslashes, unicode, mixed types, missing keys), and
 * random trend / funnel / retention / catalog specs with random filters. Results must agree exactly
 * (integers exactly, ratios to 1e-9).
 *
 * The generator is a seeded PRNG written here (fast-check is not a dependency yet). A failure prints
 * the seed and the spec; rerun one case with EVX_PROP_SEED=<seed> EVX_PROP_RUNS=1.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, test } from "node:test";
import type {
  AnalysisSpec,
  DateRange,
  EventRef,
  Filter,
  FunnelSpec,
  Measure,
  Op,
  RetentionSpec,
  TrendSpec,
} from "../src/queries/spec.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import {
  type BruteEvent,
  bruteCatalog,
  bruteFunnel,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  loadLake,
} from "./brute.js";
import { tempDir } from "./helpers/tmp.js";
import { assertClose, cacheFromLake, type TestCache } from "./queries/helpers.js";

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
const DAYS = ["2023-06-01", "2023-06-02", "2023-06-03", "2023-06-04", "2023-06-05", "2023-06-06"];

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
  for (const [di, day] of DAYS.entries()) {
    for (let f = 0; f < 2; f++) {
      const lines: string[] = [];
      for (let i = 0; i < 140; i++) {
        const props: Record<string, unknown> = {};
        for (const k of KEYS) if (r.chance(0.55)) props[k] = propValue(r, k);
        const t = Date.UTC(2023, 5, 1 + di) + r.int(86_400_000);
        lines.push(
          JSON.stringify({
            event_type: r.pick(TYPES),
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

const OPS: Op[] = ["=", "!=", ">", ">=", "<", "<=", "~", "in", "set", "!set"];

function filter(r: Rng): Filter {
  const key = r.pick(KEYS);
  const op = r.pick(OPS);
  if (op === "set" || op === "!set") return { key, op };
  if (op === "in") return { key, op, value: [r.pick(STRINGS), r.pick(STRINGS), String(r.pick([1, 2.5, 3]))] };
  const value = r.chance(0.5) ? r.pick(STRINGS) : String(r.pick([0, 1, 2, 2.5, 3, -1, 10]));
  return { key, op, value };
}

const filters = (r: Rng, max: number): Filter[] => Array.from({ length: r.int(max + 1) }, () => filter(r));
const ref = (r: Rng, star = false): EventRef => ({
  event: star && r.chance(0.2) ? "*" : r.pick(TYPES),
  filters: filters(r, 1),
});

function range(r: Rng): DateRange {
  const a = r.int(DAYS.length);
  const b = a + r.int(DAYS.length - a);
  return { from: DAYS[a]!, to: DAYS[b]!, tz: r.pick(["UTC", "America/New_York", "Asia/Kolkata"]) };
}

function spec(r: Rng): AnalysisSpec {
  const kind = r.pick(["trend", "trend", "funnel", "funnel", "retention", "catalog"] as const);
  if (kind === "catalog") return { kind, range: range(r) };
  if (kind === "trend") {
    const measure: Measure = r.pick<Measure>([
      { kind: "events" },
      { kind: "users" },
      { kind: "per-user" },
      { kind: "sum", key: r.pick(["n", "mixed", "plan"]) },
      { kind: "avg", key: r.pick(["n", "mixed"]) },
    ]);
    const s: TrendSpec = {
      kind,
      events: Array.from({ length: 1 + r.int(2) }, () => ref(r, true)),
      measure,
      interval: r.pick(["hour", "day", "week"] as const),
      range: range(r),
      filters: filters(r, 2),
      limit: r.pick([0, 1, 3, 10]),
    };
    if (r.chance(0.4)) s.breakdown = r.pick(KEYS);
    return s;
  }
  if (kind === "funnel") {
    const s: FunnelSpec = {
      kind,
      steps: Array.from({ length: 2 + r.int(2) }, () => ref(r)),
      withinSeconds: r.pick([60, 3600, 86_400, 3 * 86_400]),
      range: range(r),
      filters: filters(r, 1),
      limit: r.pick([1, 3, 10]),
    };
    if (r.chance(0.3)) s.breakdown = r.pick(KEYS);
    if (r.chance(0.3)) s.trendInterval = r.pick(["day", "week"] as const);
    return s;
  }
  const s: RetentionSpec = {
    kind: "retention",
    start: ref(r, true),
    return: ref(r, true),
    period: r.pick(["day", "week"] as const),
    periods: 1 + r.int(5),
    mode: r.pick(["on", "on-or-after"] as const),
    range: range(r),
    filters: filters(r, 1),
  };
  return s;
}

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

let tc: TestCache;
let events: BruteEvent[];
let last: number;
const dir = tempDir("evx-prop-");

before(async () => {
  const lake = join(dir, "lake");
  writeLakeFiles(lake, generateFiles(prng(SEED)));
  tc = await cacheFromLake(lake, dir);
  events = await loadLake(lake);
  last = lastEventTime(events);
});
after(() => tc?.close());

test("the generated lake lands whole", async () => {
  const n = await tc.cache.one<{ n: number }>("SELECT count(*) AS n FROM events");
  assert.equal(n?.n, events.length);
  assert.equal(events.length, DAYS.length * 2 * 140);
});

test(`${RUNS} random specs with random filters: engine = brute force`, async () => {
  for (let i = 0; i < RUNS; i++) {
    const seed = SEED + 1 + i;
    const s = spec(prng(seed));
    let got: unknown;
    try {
      got = (await tc.ex.run(s)).result;
    } catch (e) {
      assert.fail(`seed ${seed}: engine threw ${(e as Error).message}\nspec ${JSON.stringify(s)}`);
    }
    try {
      assertClose(got, brute(events, s, last));
    } catch (e) {
      assert.fail(`seed ${seed}: ${(e as Error).message}\nspec ${JSON.stringify(s)}`);
    }
  }
});
