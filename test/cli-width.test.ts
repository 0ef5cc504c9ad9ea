/**
 * The width of human (non-JSON) output when stdout is not a terminal (`COLUMNS=80 evx paths … | cat`):
 * `COLUMNS` when it is a whole number, else the terminal's width, else 100, never below 20. The built
 * CLI's stdout is a pipe here, as in a script or `| less`.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import { DEFAULT_WIDTH, MIN_WIDTH, termWidth } from "../src/commands/output.js";
import { displayWidth, stripSgr } from "../src/render/sanitize.js";
import { generateLake } from "../src/source/synthetic.js";
import { evx } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

let cache = "";
const dir = tempDir();

before(async () => {
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events: 6000, days: 7, seed: 28 });
  cache = join(dir, "c.duckdb");
  const r = evx(["sync", lake, "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
});

/** Each analysis's human output: a title (prose, wrapped to the width), then its tables and charts. */
const COMMANDS: string[][] = [
  ["paths", "--after", "application_opened"],
  ["trend", "application_opened"],
  ["funnel", "application_opened", "file_opened", "file_saved", "--within", "1h"],
  ["retention", "application_opened", "--periods", "14"],
  ["lifecycle", "application_opened"],
  ["stickiness", "application_opened"],
];

const widest = (out: string) => Math.max(...out.split("\n").map((l) => displayWidth(stripSgr(l))));

test("COLUMNS sets the width of tables and charts on a pipe; without it they are 100 wide", () => {
  for (const args of COMMANDS) {
    const wide = evx([...args, "--cache", cache]);
    assert.equal(wide.code, 0, wide.stderr);
    for (const columns of [80, 60]) {
      const r = evx([...args, "--cache", cache], { COLUMNS: String(columns) });
      assert.equal(r.code, 0, r.stderr);
      const w = widest(r.stdout);
      assert.ok(w <= columns, `${args.join(" ")} at COLUMNS=${columns}: a line of ${w}\n${r.stdout}`);
    }
    // Not the same output cut: the default lays out wider than 80 (the charts and bars fill the
    // width; lifecycle's 7 daily buckets are narrower whatever the width).
    if (args[0] !== "lifecycle")
      assert.ok(widest(wide.stdout) > 80, `${args.join(" ")} without COLUMNS:\n${wide.stdout}`);
    assert.ok(widest(wide.stdout) <= DEFAULT_WIDTH, `${args.join(" ")}:\n${wide.stdout}`);
  }
  // A title longer than the width wraps between words, nothing cut.
  const r = evx(["retention", "application_opened", "--periods", "14", "--cache", cache], { COLUMNS: "40" });
  assert.match(r.stdout, /^on retention by week, [^\n]*\n[^\n]*\(UTC\); \* =\n.*blank = not\s+begun yet\n/s);
});

test("the width: COLUMNS (a whole number, at least 20), else the terminal's, else 100", () => {
  assert.equal(termWidth({ COLUMNS: "80" }, { columns: 200 }), 80);
  assert.equal(termWidth({ COLUMNS: " 132 " }, {}), 132);
  assert.equal(termWidth({ COLUMNS: "5" }, {}), MIN_WIDTH);
  assert.equal(termWidth({ COLUMNS: "abc" }, { columns: 120 }), 120);
  assert.equal(termWidth({ COLUMNS: "" }, {}), DEFAULT_WIDTH);
  assert.equal(termWidth({ COLUMNS: "0" }, {}), DEFAULT_WIDTH);
  assert.equal(termWidth({}, { columns: 90 }), 90);
  assert.equal(termWidth({}, {}), DEFAULT_WIDTH);
});
