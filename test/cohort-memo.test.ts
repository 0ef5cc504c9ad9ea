/**
 * Kept cohort evaluations (src/cache/cohortmemo.ts): an analysis reads a saved behavioural cohort's
 * kept members only while they are of the data it reads, and its answer is the brute force's either
 * way: after a sync that changes who is in the cohort (the sync evaluates it again), after an eviction
 * that does not (the analysis evaluates the definition itself), and after the definition changes.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { refreshCohortMemos } from "../src/cache/cohortmemo.js";
import { saveBehavioural } from "../src/cache/cohorts.js";
import { Cache } from "../src/cache/db.js";
import { DATA_STAMP_SQL } from "../src/cache/schema.js";
import { deleteObjects, evictPartitions } from "../src/cache/status.js";
import { sync } from "../src/cache/sync.js";
import { Executor } from "../src/queries/executor.js";
import { parseEventRef as ref } from "../src/queries/parse.js";
import type { CohortDef, TrendResult, TrendSpec } from "../src/queries/spec.js";
import { folderSource } from "../src/source/folder.js";
import { generateLake } from "../src/source/synthetic.js";
import { type BruteEvent, bruteCohortMembers, bruteTrend, loadLake } from "./brute.js";
import { bindSpecCohorts } from "./brute-cohorts.js";
import { assertClose, withoutPartialMarks } from "./queries/helpers.js";

let root: string;
let lake: string;
let cache: Cache;
let ex: Executor;
let all: BruteEvent[];

before(async () => {
  root = mkdtempSync(join(tmpdir(), "evx-cohortmemo-"));
  lake = join(root, "lake");
  await generateLake({ dir: lake, events: 8_000, days: 6, seed: 11, usersPer: 30 });
  all = await loadLake(lake);
  cache = await Cache.open(join(root, "cache.duckdb"), {
    create: true,
    local: true,
    settings: { threads: 2 },
  });
  ex = new Executor(cache);
});

after(() => {
  ex?.close();
  cache?.close();
  rmSync(root, { recursive: true, force: true });
});

const savers = (atLeast: number): CohortDef => ({
  kind: "behavioural",
  conditions: [{ did: true, event: ref("file_saved"), atLeast }],
});

/** A trend of the savers' opens, the cohort read from the cache's store (a fresh spec each time). */
const spec = (): TrendSpec => ({
  kind: "trend",
  events: [ref("application_opened")],
  measure: { kind: "users" },
  interval: "day",
  range: { from: "2023-06-01", to: "2023-06-06", tz: "UTC" },
  filters: [{ key: "cohort", op: "=", value: "savers", cohort: { name: "savers" } }],
  limit: 10,
});

const before_ = (date: string) => all.filter((e) => e.t < Date.parse(`${date}T00:00:00Z`) * 1000);

/** Runs the trend; checks it against the brute force over `events`; says whether it read the memo. */
async function check(events: BruteEvent[]): Promise<{ memo: boolean; result: TrendResult }> {
  const s = spec();
  const out = await ex.run(s);
  bindSpecCohorts(events, s);
  assertClose(withoutPartialMarks(out.result), bruteTrend(events, s));
  const memo = (await ex.explain(spec())).sql.includes("cohort_memo");
  return { memo, result: out.result as TrendResult };
}

test("a sync keeps the saved cohorts evaluated; the analysis reads them only while they are of its data", async () => {
  await sync(cache, folderSource(lake), { from: "2023-06-01", to: "2023-06-03" });
  const early = before_("2023-06-04");
  await saveBehavioural(cache, "savers", savers(3));
  assert.equal(await refreshCohortMemos(cache), 1);
  const first = await check(early);
  assert.ok(first.memo, "the saved cohort's members are read");

  // Three more days: users reach 3 saves, so the cohort grows; the sync evaluates it again.
  const grown = bruteCohortMembers(all, savers(3)).size;
  assert.ok(grown > bruteCohortMembers(early, savers(3)).size, "the test data changes the cohort");
  await sync(cache, folderSource(lake), { from: "2023-06-01", to: "2023-06-06" });
  const second = await check(all);
  assert.ok(second.memo, "the sync kept the cohort evaluated");
  assert.notDeepEqual(second.result.series[0].points, first.result.series[0].points);

  // Objects leave the cache without the cohort being evaluated again (as while a sync that removed
  // them has not reached its evaluation): the analysis evaluates it itself.
  const gone = await cache.all<{ id: number }>(
    "SELECT object_id AS id FROM objects WHERE date = DATE '2023-06-06'",
  );
  assert.ok(gone.length > 0);
  await cache.transaction(() =>
    deleteObjects(
      cache,
      gone.map((r) => Number(r.id)),
    ),
  );
  const third = await check(before_("2023-06-06"));
  assert.equal(third.memo, false, "a memo of other data is not read");

  // Evaluated again (an eviction does so itself), then redefined: a memo of the old definition is
  // never read.
  await refreshCohortMemos(cache);
  assert.ok((await check(before_("2023-06-06"))).memo);
  await evictPartitions(cache, ["2023-06-05"]);
  assert.ok((await check(before_("2023-06-05"))).memo, "an eviction evaluates the saved cohorts");
  await saveBehavioural(cache, "savers", savers(5));
  const redefined = await check(before_("2023-06-05"));
  assert.equal(redefined.memo, false);
  await refreshCohortMemos(cache, "savers");
  assert.ok((await check(before_("2023-06-05"))).memo);
});

test("a memo whose definition text differs from the store's is not read", async () => {
  // The same name with a definition given in the spec (a caller that resolved it itself).
  const s = spec();
  s.filters[0].cohort = { name: "savers", def: savers(2) };
  const sql = (await ex.explain(s)).sql;
  assert.equal(sql.includes("cohort_memo"), false);
  const out = await ex.run(s);
  const events = before_("2023-06-05");
  bindSpecCohorts(events, s);
  assertClose(withoutPartialMarks(out.result), bruteTrend(events, s));
});

test("the statement itself checks the data: its SQL run after the data changed fails, never reads stale members", async () => {
  await refreshCohortMemos(cache);
  const q = await ex.explain(spec());
  assert.ok(q.sql.includes("cohort_memo"));
  assert.ok((await cache.all(q.sql, q.params)).length > 0, "on the same data the statement runs");
  const gone = await cache.all<{ id: number }>(
    "SELECT object_id AS id FROM objects WHERE date = DATE '2023-06-04'",
  );
  await cache.transaction(() =>
    deleteObjects(
      cache,
      gone.map((r) => Number(r.id)),
    ),
  );
  await assert.rejects(cache.all(q.sql, q.params), /kept members are of other data/);
  const events = before_("2023-06-05").filter(
    (e) =>
      e.t < Date.parse("2023-06-04T00:00:00Z") * 1000 || e.t >= Date.parse("2023-06-05T00:00:00Z") * 1000,
  );
  const s = spec();
  const out = await ex.run(s);
  bindSpecCohorts(events, s);
  assertClose(withoutPartialMarks(out.result), bruteTrend(events, s));
});

test("a memo another evx wrote (its members SQL differs) is not read", async () => {
  await refreshCohortMemos(cache);
  assert.ok((await ex.explain(spec())).sql.includes("cohort_memo"));
  await cache.run("UPDATE cohort_memo SET def = replace(def, 'file_saved', 'file_saved ')");
  assert.equal((await ex.explain(spec())).sql.includes("cohort_memo"), false);
});

test("the data's fingerprint ties each identity pair to its row", async () => {
  const stamp = async () => (await cache.one<{ s: string }>(`SELECT ${DATA_STAMP_SQL} AS s`))?.s;
  await cache.run("INSERT INTO identity VALUES (1, 10), (2, 20)");
  const a = await stamp();
  await cache.run("DELETE FROM identity");
  await cache.run("INSERT INTO identity VALUES (1, 20), (2, 10)");
  const b = await stamp();
  await cache.run("DELETE FROM identity");
  assert.notEqual(a, b);
});
