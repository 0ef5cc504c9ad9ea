/**
 * Paths, stickiness and lifecycle: the SQL engine against the brute-force reference
 * (test/brute-insights.ts) on the synthetic lake of crosscheck.test.ts, several specs each, three
 * time zones, date / local date-time / instant ranges.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { buildQuery, shapeResult } from "../../src/queries/executor.js";
import { parseEventRef as ref, parseFilter as where } from "../../src/queries/parse.js";
import type {
  AnalysisSpec,
  DateRange,
  LifecycleSpec,
  PathsSpec,
  StickinessSpec,
} from "../../src/queries/spec.js";
import { generateLake } from "../../src/source/synthetic.js";
import { type BruteEvent, bruteRange, loadLake } from "../brute.js";
import { bruteLifecycle, brutePaths, bruteStickiness } from "../brute-insights.js";
import { bruteUsers } from "../brute-users.js";
import { assertClose, cacheFromLake, type TestCache, withoutPartialMarks } from "./helpers.js";

const EVENTS = Number(process.env.EVX_XCHECK_EVENTS ?? 30_000);

let tc: TestCache;
let events: BruteEvent[];
let root: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "evx-xcheck15-"));
  const lake = join(root, "lake");
  await generateLake({ dir: lake, events: EVENTS, days: 28, seed: 7, usersPer: 30 });
  tc = await cacheFromLake(lake, root);
  events = await loadLake(lake);
});

after(() => {
  tc?.close();
  rmSync(root, { recursive: true, force: true });
});

const full = (tz: string): DateRange => ({ from: "2023-06-01", to: "2023-06-28", tz });
const part = (tz: string): DateRange => ({ from: "2023-06-04", to: "2023-06-21", tz });

async function check(spec: AnalysisSpec, expected: unknown): Promise<void> {
  const out = await tc.ex.run(spec);
  assertClose(withoutPartialMarks(out.result), expected);
  if ("range" in spec && spec.range)
    assert.deepStrictEqual(out.range, bruteRange(spec.range), "resolved range");
  // Without the cache context: the generic plans give the same answer.
  assertClose(shapeResult(spec, await tc.ex.query(buildQuery(spec, undefined, tc.engine))), expected);
}

const stick = (s: Partial<StickinessSpec> & Pick<StickinessSpec, "event" | "range">): StickinessSpec => ({
  kind: "stickiness",
  interval: "day",
  filters: [],
  ...s,
});
const life = (s: Partial<LifecycleSpec> & Pick<LifecycleSpec, "event" | "range">): LifecycleSpec => ({
  kind: "lifecycle",
  interval: "day",
  filters: [],
  ...s,
});
const paths = (s: Partial<PathsSpec> & Pick<PathsSpec, "anchor" | "range">): PathsSpec => ({
  kind: "paths",
  direction: "after",
  depth: 4,
  top: 5,
  collapse: true,
  filters: [],
  ...s,
});

describe("stickiness", () => {
  const cases: [string, StickinessSpec][] = [
    ["day, UTC", stick({ event: ref("application_opened"), range: full("UTC") })],
    [
      "hour, Kolkata, part",
      stick({ event: ref("file_saved"), interval: "hour", range: part("Asia/Kolkata") }),
    ],
    [
      "week, filter and --where, New York",
      stick({
        event: ref("button_clicked[button_name=save]"),
        interval: "week",
        filters: [where("plan != free")],
        range: full("America/New_York"),
      }),
    ],
    [
      "any event, local date-times",
      stick({
        event: ref("*"),
        range: { from: "2023-06-03T07:41", to: "2023-06-09T23:59:30", tz: "Asia/Kolkata" },
      }),
    ],
  ];
  for (const [name, spec] of cases) test(name, () => check(spec, bruteStickiness(events, spec)));
});

describe("lifecycle", () => {
  const cases: [string, LifecycleSpec][] = [
    ["day, UTC, part", life({ event: ref("application_opened"), range: part("UTC") })],
    ["week, New York", life({ event: ref("file_saved"), interval: "week", range: full("America/New_York") })],
    ["month, Kolkata", life({ event: ref("zoom"), interval: "month", range: part("Asia/Kolkata") })],
    [
      "day, filter, instants",
      life({
        event: ref("button_clicked[button_name=save]"),
        filters: [where("plan != free")],
        range: { from: "2023-06-05T12:00:00.5Z", to: "2023-06-16T00:00:00Z", tz: "America/New_York" },
      }),
    ],
  ];
  for (const [name, spec] of cases) test(name, () => check(spec, bruteLifecycle(events, spec)));
});

describe("paths", () => {
  const cases: [string, PathsSpec][] = [
    ["after, depth 4, top 5, UTC", paths({ anchor: ref("application_opened"), range: full("UTC") })],
    [
      "after, no collapse, top 2, Kolkata",
      paths({ anchor: ref("button_clicked"), collapse: false, top: 2, range: part("Asia/Kolkata") }),
    ],
    [
      "before, depth 3, within 1h, New York",
      paths({
        anchor: ref("file_saved"),
        direction: "before",
        depth: 3,
        withinSeconds: 3600,
        range: part("America/New_York"),
      }),
    ],
    [
      "after, anchor filter, --where, within 10m, depth 6",
      paths({
        anchor: ref("button_clicked[button_name=save]"),
        filters: [where("plan != free")],
        withinSeconds: 600,
        depth: 6,
        top: 3,
        range: full("UTC"),
      }),
    ],
    [
      "before, no collapse, depth 1, top 1",
      paths({
        anchor: ref("zoom"),
        direction: "before",
        collapse: false,
        depth: 1,
        top: 1,
        range: full("UTC"),
      }),
    ],
  ];
  for (const [name, spec] of cases) test(name, () => check(spec, brutePaths(events, spec)));
});

describe("paths drill-down: a node's users", () => {
  const cases: [string, PathsSpec][] = [
    ["after, top 2", paths({ anchor: ref("application_opened"), top: 2, depth: 3, range: part("UTC") })],
    [
      "before, no collapse, filter",
      paths({
        anchor: ref("file_saved"),
        direction: "before",
        collapse: false,
        top: 3,
        depth: 2,
        filters: [where("plan != free")],
        range: full("Asia/Kolkata"),
      }),
    ],
  ];
  for (const [name, spec] of cases) {
    test(name, async () => {
      const tree = brutePaths(events, spec);
      // The first nodes and every (other): the list's total is the node's count.
      const nodes = [...tree.nodes.slice(0, 6), ...tree.nodes.filter((n) => n.path.at(-1) === "(other)")];
      assert.ok(
        nodes.some((n) => n.path.at(-1) === "(other)"),
        "the case folds something",
      );
      for (const n of nodes) {
        const users = {
          kind: "users" as const,
          of: spec,
          select: { kind: "path" as const, path: n.path },
          limit: 20,
          range: spec.range,
        };
        const want = bruteUsers(events, users);
        assert.equal(want.total, n.users, `brute ${JSON.stringify(n.path)}`);
        assert.deepStrictEqual((await tc.ex.run(users)).result, want, JSON.stringify(n.path));
      }
    });
  }
});
