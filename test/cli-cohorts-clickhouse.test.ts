/**
 * `evx cohort …` and cohort filters on `--engine clickhouse` (the test ClickHouse: chdb behind the HTTP
 * protocol): definitions in `evx_cohorts` on the server, a static cohort as its own table of user keys,
 * and the same numbers as the DuckDB cache the table was copied from.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { evx, evxRun } from "./helpers/cli.js";
import { type ChLake, chLakeFrom } from "./views/chfixture.js";
import { type SmallCache, smallCache } from "./views/fixture.js";

let c: SmallCache;
let lake: ChLake;
before(async () => {
  c = await smallCache();
  lake = await chLakeFrom(c.cache, c.dir);
  c.cache.close();
});
after(async () => {
  await lake?.srv.stop();
  c?.dispose();
});

const ch = (args: string[]) => evxRun([...args, "--engine", "clickhouse", "--ch-url", lake.url]);
const duck = (args: string[]) => evx([...args, "--cache", c.path]);

test("save, list, use, save from a drill-down and remove cohorts on ClickHouse; DuckDB agrees", async () => {
  const def = ["savers", "--did", "file_saved", "--at-least", "2", "--in", "7d"];
  let r = await ch(["cohort", "save", ...def]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /saved cohort savers: did file_saved at least 2 times in the last 1w/);
  assert.equal(duck(["cohort", "save", ...def]).code, 0);
  const trend = ["trend", "application_opened", "--measure", "users", "--where", "cohort=savers", "--json"];
  const ra = await ch(trend);
  assert.equal(ra.code, 0, ra.stderr);
  const a = JSON.parse(ra.stdout);
  const rb = duck(trend);
  assert.ok(rb.stdout.length > 0, `code ${rb.code} ${rb.stderr}`);
  const b = JSON.parse(rb.stdout);
  assert.deepEqual(
    a.series.map((s: { points: unknown }) => s.points),
    b.series.map((s: { points: unknown }) => s.points),
  );
  assert.ok(a.series[0].total > 0);
  const drill = ["funnel", "application_opened", "file_saved", "--within", "1h", "--users-of", "reached:2"];
  r = await ch([...drill, "--save-cohort", "conv", "--limit", "1"]);
  assert.equal(r.code, 0, r.stderr);
  const saved = Number(/saved ([\d,]+) users/.exec(r.stderr)![1]!.replace(/,/g, ""));
  r = await ch(["cohort", "list", "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const list = JSON.parse(r.stdout).cohorts as { name: string; kind: string; users: number }[];
  assert.deepEqual(
    list.map((x) => [x.name, x.kind]),
    [
      ["conv", "static"],
      ["savers", "behavioural"],
    ],
  );
  assert.equal(list[0]!.users, saved);
  const f = JSON.parse(
    (
      await ch([
        "funnel",
        "application_opened",
        "file_saved",
        "--within",
        "1h",
        "--where",
        "cohort=conv",
        "--json",
      ])
    ).stdout,
  );
  assert.equal(f.steps[1].users, saved);
  r = await ch(["cohort", "rm", "conv"]);
  assert.equal(r.code, 0, r.stderr);
  r = await ch(["trend", "application_opened", "--where", "cohort=conv"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown cohort "conv"/);
});
