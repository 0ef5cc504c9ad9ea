/**
 * The CLI faces of issue #27's funnel, retention and cohort parts: `--time-to-convert`, `retention
 * --breakdown`, `evx cohort save|list|show|rm`, `--where cohort=…`, `--breakdown cohort:…` and
 * `--users-of … --save-cohort` give the brute force's numbers; bad input is one line and exit 2.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import type { CohortDef, CohortRef, FunnelSpec, RetentionSpec, TrendSpec } from "../src/queries/spec.js";
import { generateLake } from "../src/source/synthetic.js";
import {
  type BruteEvent,
  bruteFunnel,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  loadLake,
} from "./brute.js";
import { bindSpecCohorts } from "./brute-cohorts.js";
import { bruteUsers } from "./brute-users.js";
import { evx } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";
import { withoutPartialMarks } from "./queries/helpers.js";

let cache = "";
let events: BruteEvent[] = [];
const range = { from: "2023-06-01", to: "2023-06-07", tz: "UTC" };
const ref = (event: string) => ({ event, filters: [] });

const dir = tempDir();
before(async () => {
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events: 8000, days: 7, seed: 11 });
  cache = join(dir, "c.duckdb");
  const r = evx(["sync", lake, "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  events = await loadLake(lake);
});

const run = (args: string[]) => evx([...args, "--cache", cache]);
const json = (args: string[]) => {
  const r = run([...args, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const { range: _r, coverage: _c, identity, ...rest } = withoutPartialMarks(JSON.parse(r.stdout));
  // A plain lake: counted by user id unless asked (`--json` echoes it).
  if (args[0] !== "cohort")
    assert.equal(identity, args.includes("--identity") ? args[args.indexOf("--identity") + 1] : "raw");
  return rest;
};
const usage = (args: string[], re: RegExp) => {
  const r = run(args);
  assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
  assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  assert.match(r.stderr, re);
};

test("funnel --time-to-convert: JSON as the brute force, a histogram in the human output, CSV rows", () => {
  const args = ["funnel", "application_opened", "button_clicked", "file_saved", "--within", "1h"];
  const spec: FunnelSpec = {
    kind: "funnel",
    steps: [ref("application_opened"), ref("button_clicked"), ref("file_saved")],
    withinSeconds: 3600,
    range,
    filters: [],
    limit: 10,
    timeToConvert: { from: 2, to: 3, bins: 6 },
  };
  assert.deepEqual(
    json([...args, "--time-to-convert", "--from-step", "2", "--bins", "6"]),
    JSON.parse(JSON.stringify(bruteFunnel(events, spec))),
  );
  const human = run([...args, "--time-to-convert"]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /time to convert, step 1 → 3: [\d,]+ users; average .*, median .*, p90 /);
  const csv = run([...args, "--time-to-convert", "--bins", "3", "--csv"]);
  assert.equal(csv.stdout.split("\n").filter((l) => l.startsWith("time_to_convert,")).length, 3);
  assert.match(csv.stdout, /^time_to_convert_stats,/m);
  usage([...args, "--bins", "3"], /--bins goes with --time-to-convert/);
  usage([...args, "--time-to-convert", "--from-step", "3", "--to-step", "2"], /1 ≤ from < to ≤ 3/);
  usage([...args, "--time-to-convert", "--bins", "91"], /--bins must be a whole number from 1 to 90/);
});

test("retention --breakdown KEY: JSON as the brute force; an unknown key is refused with suggestions", () => {
  const spec: RetentionSpec = {
    kind: "retention",
    start: ref("application_opened"),
    return: ref("*"),
    period: "day",
    periods: 3,
    mode: "on",
    range,
    filters: [],
    breakdown: "platform",
    limit: 2,
  };
  const args = ["retention", "application_opened", "--period", "day", "--periods", "3"];
  assert.deepEqual(
    json([...args, "--breakdown", "platform", "--limit", "2"]),
    JSON.parse(JSON.stringify(bruteRetention(events, spec, lastEventTime(events)))),
  );
  const human = run([...args, "--breakdown", "platform", "--limit", "2"]);
  assert.match(human.stdout, /^platform = \(other\)$/m);
  usage([...args, "--breakdown", "platfrom"], /unknown property key "platfrom".*did you mean "platform"/);
});

test("cohorts: save, list, show, use in --where and --breakdown, static from a drill-down, rm", () => {
  const saved = run(["cohort", "save", "savers", "--did", "file_saved", "--at-least", "3", "--in", "3d"]);
  assert.equal(saved.code, 0, saved.stderr);
  assert.match(
    saved.stdout,
    /saved cohort savers: did file_saved at least 3 times in the last 3d \(behavioural/,
  );
  const def: CohortDef = {
    kind: "behavioural",
    conditions: [
      { did: true, event: ref("file_saved"), atLeast: 3, window: { kind: "last", seconds: 3 * 86_400 } },
    ],
  };
  const savers: CohortRef = { name: "savers", def };
  const trend: TrendSpec = {
    kind: "trend",
    events: [ref("application_opened")],
    measure: { kind: "users" },
    interval: "day",
    range,
    filters: [{ key: "cohort", op: "!=", value: "savers", cohort: savers }],
    limit: 10,
  };
  bindSpecCohorts(events, trend);
  const { series } = bruteTrend(events, trend);
  const got = json(["trend", "application_opened", "--measure", "users", "--where", "cohort!=savers"]) as {
    series: { points: { value: number }[] }[];
  };
  assert.deepEqual(
    got.series[0]!.points.map((p) => p.value),
    series[0]!.points.map((p) => p.value),
  );
  const by = json(["trend", "application_opened", "--measure", "users", "--breakdown", "cohort:savers"]) as {
    series: { event: string; breakdown: string; total: number }[];
  };
  assert.deepEqual(
    by.series.map((s) => s.breakdown),
    ["savers", "not savers"],
  );
  assert.equal(by.series[1]!.total, series[0]!.total);

  // static: the users who reached step 2, all of them, whatever --limit lists
  const drill = run([
    "funnel",
    "application_opened",
    "purchase",
    "--within",
    "1d",
    "--users-of",
    "reached:2",
    "--limit",
    "3",
    "--save-cohort",
    "buyers",
  ]);
  assert.equal(drill.code, 0, drill.stderr);
  const total = bruteUsers(events, {
    kind: "users",
    of: {
      kind: "funnel",
      steps: [ref("application_opened"), ref("purchase")],
      withinSeconds: 86_400,
      range,
      filters: [],
      limit: 10,
    },
    select: { kind: "reached", step: 2 },
    limit: 0,
    range,
  }).total;
  assert.match(
    drill.stderr,
    new RegExp(`saved ${total.toLocaleString("en-US")} users as the static cohort buyers`),
  );
  const list = json(["cohort", "list"]) as { cohorts: { name: string; kind: string; users: number }[] };
  assert.deepEqual(
    list.cohorts.map((c) => [c.name, c.kind]),
    [
      ["buyers", "static"],
      ["savers", "behavioural"],
    ],
  );
  assert.equal(list.cohorts[0]!.users, total);
  const human = run(["cohort", "list"]);
  assert.match(human.stdout, /^buyers\s+static list\s+[\d,]+/m);
  const show = run(["cohort", "show", "buyers"]);
  assert.match(show.stdout, /static: the users saved/);
  const inBuyers = json([
    "funnel",
    "application_opened",
    "purchase",
    "--within",
    "1d",
    "--where",
    "cohort=buyers",
  ]) as {
    steps: { users: number }[];
  };
  assert.equal(inBuyers.steps[1]!.users, total);

  usage(
    ["trend", "application_opened", "--where", "cohort=saverz"],
    /unknown cohort "saverz"; did you mean "savers"/,
  );
  usage(["cohort", "show", "nobody"], /unknown cohort "nobody"/);
  usage(["cohort", "save", "bad name", "--did", "file_saved"], /bad cohort name "bad name"/);
  usage(
    ["cohort", "save", "x", "--did", "file_savd"],
    /unknown event "file_savd" in --did; did you mean "file_saved"/,
  );
  usage(["cohort", "save", "x"], /a cohort needs --did EVENT or --did-not EVENT/);
  usage(
    ["cohort", "save", "x", "--did", "file_saved", "--in", "3d", "--from", "2023-06-01"],
    /--in gives the whole window/,
  );
  usage(["trend", "application_opened", "--save-cohort", "x"], /--save-cohort goes with --users-of/);
  usage(
    ["funnel", "a", "b", "--within", "1h", "--breakdown", "cohort:savers"],
    /works on trend and retention/,
  );
  const rm = run(["cohort", "rm", "savers"]);
  assert.equal(rm.code, 0, rm.stderr);
  usage(["trend", "application_opened", "--where", "cohort=savers"], /unknown cohort "savers"/);
});
