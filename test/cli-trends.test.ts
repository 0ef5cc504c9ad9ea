/**
 * Issue #27 through the command line: `--formula`, order statistics, `--rolling` and `--cumulative`
 * (JSON equals the brute force; human and CSV show the formula; bad input is one line, exit 2).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import { parseEventRef } from "../src/queries/parse.js";
import type { TrendSpec } from "../src/queries/spec.js";
import { generateLake } from "../src/source/synthetic.js";
import { type BruteEvent, bruteTrend, loadLake } from "./brute.js";
import { evx } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";
import { withoutPartialMarks } from "./queries/helpers.js";

let cache = "";
let events: BruteEvent[] = [];
const range = { from: "2023-06-01", to: "2023-06-07", tz: "UTC" };
const dir = tempDir();

before(async () => {
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events: 6000, days: 7, seed: 27 });
  cache = join(dir, "c.duckdb");
  const r = evx(["sync", lake, "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  events = await loadLake(lake);
});

const json = (args: string[]) => {
  const r = evx([...args, "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const { range: _r, coverage: _c, identity, ...result } = withoutPartialMarks(JSON.parse(r.stdout));
  // A plain lake: counted by user id unless asked (`--json` echoes it).
  assert.equal(identity, args.includes("--identity") ? args[args.indexOf("--identity") + 1] : "raw");
  return result;
};
const spec = (t: Omit<Partial<TrendSpec>, "events"> & { events: string[] }): TrendSpec => ({
  kind: "trend",
  measure: { kind: "events" },
  interval: "day",
  range,
  filters: [],
  limit: 10,
  ...t,
  events: t.events.map(parseEventRef),
});

test("--formula, p95, per-user:p90, --rolling and --cumulative: JSON equals the brute force", () => {
  const cases: [string[], TrendSpec][] = [
    [
      ["trend", "error_shown", "application_opened", "--measure", "users", "--formula", "A/B*100"],
      spec({ events: ["error_shown", "application_opened"], measure: { kind: "users" }, formula: "A/B*100" }),
    ],
    [
      [
        "trend",
        "button_clicked",
        "file_saved",
        "zoom",
        "--formula",
        "(A+B)/C",
        "--breakdown",
        "screen",
        "--limit",
        "2",
        "--compare",
        "1d",
      ],
      spec({
        events: ["button_clicked", "file_saved", "zoom"],
        formula: "(A+B)/C",
        breakdown: "screen",
        limit: 2,
        compare: "1d",
      }),
    ],
    [
      ["trend", "application_closed", "--measure", "p95:duration_s"],
      spec({ events: ["application_closed"], measure: { kind: "stat", stat: "p95", key: "duration_s" } }),
    ],
    [
      [
        "trend",
        "button_clicked",
        "--measure",
        "per-user:p90",
        "--interval",
        "hour",
        "--from",
        "2023-06-02",
        "--to",
        "2023-06-02",
      ],
      {
        ...spec({
          events: ["button_clicked"],
          measure: { kind: "per-user-stat", stat: "p90" },
          interval: "hour",
        }),
        range: { from: "2023-06-02", to: "2023-06-02", tz: "UTC" },
      },
    ],
    [
      ["trend", "*", "--measure", "users", "--rolling", "3d"],
      spec({ events: ["*"], measure: { kind: "users" }, rollingSeconds: 3 * 86_400 }),
    ],
    [
      ["trend", "signed_up", "--measure", "users", "--cumulative"],
      spec({ events: ["signed_up"], measure: { kind: "users" }, cumulative: true }),
    ],
  ];
  for (const [args, s] of cases) assert.deepEqual(json(args), bruteTrend(events, s), args.join(" "));
});

test("the human output charts the formula, names its letters, and prints – for a division by zero", () => {
  const r = evx(
    [
      "trend",
      "purchase",
      "signed_up",
      "--formula",
      "A/B",
      "--interval",
      "hour",
      "--from",
      "2023-06-02",
      "--to",
      "2023-06-02",
      "--cache",
      cache,
    ],
    { COLUMNS: "120" },
  );
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.match(lines[0], /^A\/B \(A = purchase, B = signed_up; events\) per hour, /);
  assert.ok(
    lines.some((l) => l.startsWith("── A/B")),
    "the legend shows the formula text",
  );
  assert.ok(lines.some((l) => /^A · purchase\s/.test(l)) && lines.some((l) => /^B · signed_up\s/.test(l)));
  const csv = evx(["trend", "purchase", "signed_up", "--formula", "A/B", "--cache", cache, "--csv"]);
  assert.equal(csv.code, 0, csv.stderr);
  const rows = csv.stdout.trim().split("\n");
  assert.equal(rows[0], "event,breakdown,t,value,complete");
  assert.ok(rows[1].startsWith("formula A/B,,2023-06-01T00:00:00.000Z,"), rows[1]);
  assert.equal(rows.length, 1 + 3 * 7);
});

test("bad formulas, windows and measures: one line, exit 2", () => {
  for (const args of [
    ["trend", "zoom", "file_saved", "--formula", "A/C"],
    ["trend", "zoom", "file_saved", "--formula", "a/b"],
    ["trend", "zoom", "file_saved", "--formula", "A/(B"],
    ["trend", "zoom", "file_saved", "--formula", "A//B"],
    ["trend", "zoom", "file_saved", "--formula", "A^2"],
    ["trend", "zoom", "file_saved", "--formula", "process.exit(1)"],
    ["trend", "zoom", "file_saved", "--formula", ""],
    ["trend", "zoom", "--rolling", "7d", "--cumulative"],
    ["trend", "zoom", "--rolling", "36h"],
    ["trend", "zoom", "--rolling", "7"],
    ["trend", "zoom", "--rolling", "soon"],
    ["trend", "zoom", "--rolling", "30d", "--interval", "month"],
    ["trend", "zoom", "--measure", "p95:level", "--rolling", "7d"],
    ["trend", "zoom", "--measure", "per-user:p90", "--cumulative"],
    ["trend", "zoom", "--measure", "per-user:p42"],
    ["trend", "zoom", "--measure", "p95:"],
    ["trend", "zoom", "--measure", "p42:level"],
    ["trend", "zoom", "--measure", "p95:no_such_key"],
  ]) {
    const r = evx([...args, "--cache", cache]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${r.stderr}`);
  }
});
