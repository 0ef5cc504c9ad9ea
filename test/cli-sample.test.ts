/**
 * `--sample P%` as a user runs it (the built CLI) on a hand-worked lake: the JSON's `sample` and
 * scaled counts, `≈` on the human output, the CSV's `sample` column, `--print-command` round trip,
 * `--help`, and the one-line refusals.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import { Cache } from "../src/cache/db.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { evx, evxRun } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";
import { type ChLake, chLakeFrom } from "./views/chfixture.js";

// h mod 10000 of each id (the first 8 hex digits of md5): alice 3170, bob 7420, carol 1792,
// dave 999, erin 7545, frank 4480. At 40%: alice, carol, dave (counts × 2.5).
const line = (user: string, type: string, t: string) =>
  JSON.stringify({ event_type: type, event_time: t, user_id: user });
const FILES = {
  "events/date=2023-06-01/a.jsonl": [
    line("alice", "signup", "2023-06-01T10:00:00Z"),
    line("alice", "purchase", "2023-06-01T10:30:00Z"),
    line("bob", "signup", "2023-06-01T11:00:00Z"),
    line("bob", "purchase", "2023-06-01T11:10:00Z"),
    line("carol", "signup", "2023-06-01T12:00:00Z"),
  ].join("\n"),
  "events/date=2023-06-02/a.jsonl": [
    line("dave", "signup", "2023-06-02T09:00:00Z"),
    line("dave", "purchase", "2023-06-02T09:20:00Z"),
    line("erin", "signup", "2023-06-02T10:00:00Z"),
    line("frank", "signup", "2023-06-02T11:00:00Z"),
    line("frank", "purchase", "2023-06-02T13:00:00Z"),
  ].join("\n"),
};

const dir = tempDir();
let cache = "";
before(() => {
  const lake = join(dir, "lake");
  writeLakeFiles(lake, FILES);
  cache = join(dir, "c.duckdb");
  const r = evx(["sync", lake, "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
});

const run = (args: string[]) => evxRun([...args, "--cache", cache], { COLUMNS: "100" });
const FUNNEL = ["funnel", "signup", "purchase", "--within", "1h"];

// Spawns run side by side: each costs a process start.
test("--json, --csv and human output of a sampled funnel", async () => {
  const [j, exact, csv, human] = await Promise.all([
    run([...FUNNEL, "--sample", "40%", "--json"]),
    run([...FUNNEL, "--json"]),
    run([...FUNNEL, "--sample", "40%", "--csv"]),
    run([...FUNNEL, "--sample", "40%"]),
  ]);
  for (const r of [j, exact, csv, human]) assert.equal(r.code, 0, r.stderr);
  // JSON: the counts scaled, the sample's conversion, and `sample`.
  const o = JSON.parse(j.stdout);
  assert.equal(o.sample, 0.4);
  assert.deepEqual(
    o.steps.map((s: { users: number; conversion: number }) => [s.users, s.conversion]),
    [
      [8, 1],
      [5, 2 / 3],
    ],
  );
  const e = JSON.parse(exact.stdout);
  assert.equal("sample" in e, false);
  assert.deepEqual(
    e.steps.map((s: { users: number }) => s.users),
    [6, 3],
  );
  // CSV: a sample column on every row.
  const rows = csv.stdout.trim().split("\n");
  assert.match(rows[0], /,sample$/);
  for (const row of rows.slice(1)) assert.match(row, /,0\.4$/);
  // Human: a first line saying so, and ≈ on every scaled count.
  assert.match(human.stdout.split("\n")[0], /^≈ estimate from a 40% sample of users: counts scaled ×2\.5/);
  assert.match(human.stdout, /≈8 +100\.0%/);
  assert.match(human.stdout, /≈5 +66\.7%/);
});

test("human output of the other analyses marks their counts", async () => {
  const cases = [
    ["trend", "signup"],
    ["retention", "signup", "--period", "day", "--periods", "2"],
    ["stickiness", "signup"],
    ["lifecycle", "signup"],
  ];
  const out = await Promise.all(cases.map((args) => run([...args, "--sample", "40%"])));
  out.forEach((x, i) => {
    assert.equal(x.code, 0, `${cases[i][0]}: ${x.stderr}`);
    assert.match(x.stdout, /^≈ estimate from a 40% sample/, cases[i][0]);
    assert.match(x.stdout.split("\n").slice(1).join("\n"), /≈\d/, `${cases[i][0]} marks a count`);
  });
  assert.match(out[0].stdout, /signup +≈8 +≈5 +≈3/);
});

test("--print-command keeps --sample, and its line gives the same answer", async () => {
  const r = await run([...FUNNEL, "--sample", "40%", "--print-command"]);
  assert.equal(r.code, 0, r.stderr);
  const cmd = r.stdout.trim();
  assert.match(cmd, / --sample 40% /);
  const again = await evxRun([...cmd.split(" ").slice(1), "--json"]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).steps[1].users, 5);
});

test("bad --sample: one line, exit code 2; --help shows it with an example", async () => {
  const bad = ["0%", "150%", "abc"];
  const [help, ...out] = await Promise.all([
    evxRun(["funnel", "--help"], { COLUMNS: "200" }),
    ...bad.map((b) => evxRun([...FUNNEL, "--sample", b, "--cache", join(dir, "nonexistent.duckdb")])),
  ]);
  out.forEach((r, i) => {
    assert.equal(r.code, 2, `${bad[i]}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, /^evx: bad --sample .*use a percentage from 1% to 100%, e\.g\. --sample 10%/);
  });
  assert.match(help.stdout, /--sample +estimate from a sample of users/);
  assert.match(help.stdout, /evx funnel signed_up purchase --within 7d --sample/);
});

test("--engine clickhouse (over HTTP): the same sampled answer, SQL and marks", async () => {
  const cacheObj = await Cache.open(cache, { readOnly: true });
  let lake: ChLake | undefined;
  try {
    lake = await chLakeFrom(cacheObj, dir);
  } finally {
    cacheObj.close();
  }
  try {
    const args = [...FUNNEL, "--sample", "40%", "--engine", "clickhouse", "--ch-url", lake.url];
    const [j, d, sql] = await Promise.all([
      evxRun([...args, "--json"]),
      run([...FUNNEL, "--sample", "40%", "--json"]),
      evxRun([...args, "--sql"]),
    ]);
    assert.equal(j.code, 0, j.stderr);
    const a = JSON.parse(j.stdout);
    const b = JSON.parse(d.stdout);
    assert.deepEqual(a.steps, b.steps);
    assert.equal(a.sample, 0.4);
    assert.match(
      sql.stdout,
      /reinterpretAsUInt32\(reverse\(substring\(MD5\(user_key\), 1, 4\)\)\) % 10000 < 4000/,
    );
  } finally {
    await lake.srv.stop();
  }
});
