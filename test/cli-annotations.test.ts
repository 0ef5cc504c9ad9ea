/**
 * Issue #28, annotations through the command line: `evx annotate` (add, list, rm, in a private file in
 * the XDG config folder), notes and `--annotations-from KEY` in a trend's and a funnel over time's
 * JSON, CSV and human chart, on a hand-worked lake, on DuckDB and on ClickHouse (chdb behind HTTP).
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { Cache } from "../src/cache/db.js";
import { evx, evxRun } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";
import { type ChLake, chLakeFrom } from "./views/chfixture.js";

const dir = tempDir();
const cache = join(dir, "c.duckdb");
const config = join(dir, "config");
const env = { XDG_CONFIG_HOME: config };
let lake: ChLake;

const e = (event_type: string, t: string, user_id: string, event_properties: object) =>
  JSON.stringify({ event_type, event_time: `2023-06-${t}Z`, user_id, event_properties });

/*
 * `ver` first appears: "1.0" 06-01 10:00 (u1 open), "1.1" 06-02 09:30, "2.0" 06-03 08:00 (u3 open; the
 * click at the same instant has no ver), "2" 06-03 20:00 (a number: its text). A later "1.0" (06-02
 * 15:00) and a null (06-03 11:15, unset) mark nothing; "1.50" is first a number as written (06-03
 * 21:00), then a string (22:00): one value.
 */
const LINES: Record<string, string[]> = {
  "2023-06-01": [
    e("open", "01T10:00:00", "u1", { ver: "1.0" }),
    e("open", "01T12:00:00", "u2", { ver: "1.0" }),
  ],
  "2023-06-02": [
    e("open", "02T09:30:00", "u1", { ver: "1.1" }),
    e("click", "02T15:00:00", "u2", { ver: "1.0", x: 1 }),
  ],
  "2023-06-03": [
    e("open", "03T08:00:00", "u3", { ver: "2.0" }),
    e("click", "03T08:00:00", "u3", {}),
    e("open", "03T11:15:00", "u1", { ver: null }),
    e("open", "03T20:00:00", "u1", { ver: 2 }),
    // A number DuckDB would print back as 1.5 (stored tagged), then the same text as a string: one value.
    '{"event_type":"open","event_time":"2023-06-03T21:00:00Z","user_id":"u2","event_properties":{"ver":1.50}}',
    e("open", "03T22:00:00", "u3", { ver: "1.50" }),
  ],
};

const FIRSTS = [
  { at: "2023-06-01T10:00:00.000Z", text: "ver=1.0", source: "property", key: "ver", value: "1.0" },
  { at: "2023-06-02T09:30:00.000Z", text: "ver=1.1", source: "property", key: "ver", value: "1.1" },
  { at: "2023-06-03T08:00:00.000Z", text: "ver=2.0", source: "property", key: "ver", value: "2.0" },
  { at: "2023-06-03T20:00:00.000Z", text: "ver=2", source: "property", key: "ver", value: "2" },
  { at: "2023-06-03T21:00:00.000Z", text: "ver=1.50", source: "property", key: "ver", value: "1.50" },
];

before(async () => {
  const src = join(dir, "lake");
  for (const [d, lines] of Object.entries(LINES)) {
    mkdirSync(join(src, `date=${d}`), { recursive: true });
    writeFileSync(join(src, `date=${d}`, "part-1.jsonl"), `${lines.join("\n")}\n`);
  }
  const r = evx(["sync", src, "--cache", cache, "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  const c = await Cache.open(cache);
  try {
    lake = await chLakeFrom(c, dir);
  } finally {
    c.close();
  }
});
after(async () => {
  await lake?.srv.stop();
});

const duck = async (args: string[]) => evx([...args, "--cache", cache], env);
const ch = (args: string[]) => evxRun([...args, "--engine", "clickhouse", "--ch-url", lake.url], env);
const engines = [
  ["duckdb", duck],
  ["clickhouse", ch],
] as const;

test("evx annotate: add (--at in --tz), list, rm; a private file, control characters stripped", () => {
  let r = evx(
    ["annotate", "deploy 1.42", "--at", "2023-06-02T14:05", "--tz", "Europe/Berlin", "--json"],
    env,
  );
  assert.equal(r.code, 0, r.stderr);
  const note = JSON.parse(r.stdout);
  assert.equal(note.at, "2023-06-02T12:05:00.000Z");
  assert.equal(note.text, "deploy 1.42");
  r = evx(["annotate", "\x1b]0;pwned\x07evil\x1b[31m red", "--at", "2023-05-20"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /note 2 at 2023-05-20 00:00 \(UTC\): evil red/);
  const file = join(config, "evx", "annotations.json");
  assert.equal(statSync(file).mode & 0o777, 0o600);
  r = evx(["annotate", "list"], env);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split("\n");
  assert.deepEqual(lines.slice(0, 2), ["2  2023-05-20 00:00  evil red", "1  2023-06-02 12:05  deploy 1.42"]);
  assert.ok(!r.stdout.includes("\x1b"));
  r = evx(["annotate", "rm", "9"], env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no note 9; notes: 2, 1/);
  const stored = JSON.parse(readFileSync(file, "utf8"));
  assert.deepEqual(
    stored.notes.map((n: { id: number }) => n.id),
    [2, 1],
  );
  assert.equal(stored.next, 3);
  assert.equal(statSync(file).mode & 0o777, 0o600);
});

for (const [name, run] of engines)
  test(`${name}: --annotations-from marks each value's first appearance in the range, with the notes`, async () => {
    const json = async (args: string[]) => {
      const r = await run([...args, "--json"]);
      assert.equal(r.code, 0, r.stderr);
      return JSON.parse(r.stdout);
    };
    // Whole data: every value; the note of 06-02 12:05 (from the first test) sits between.
    const note = { at: "2023-06-02T12:05:00.000Z", text: "deploy 1.42", source: "note", id: 1 };
    let t = await json([
      "trend",
      "click",
      "--annotations-from",
      "ver",
      "--from",
      "2023-06-01",
      "--to",
      "2023-06-03",
    ]);
    assert.deepEqual(t.annotations, [FIRSTS[0], FIRSTS[1], note, FIRSTS[2], FIRSTS[3], FIRSTS[4]]);
    // A value first seen before the range is no marker there.
    t = await json([
      "trend",
      "open",
      "--annotations-from",
      "ver",
      "--from",
      "2023-06-02",
      "--to",
      "2023-06-03",
    ]);
    assert.deepEqual(t.annotations, [FIRSTS[1], note, FIRSTS[2], FIRSTS[3], FIRSTS[4]]);
    // A funnel over time carries them too.
    const f = await json([
      "funnel",
      "open",
      "click",
      "--within",
      "1d",
      "--interval",
      "day",
      "--annotations-from",
      "ver",
      "--from",
      "2023-06-02",
      "--to",
      "2023-06-03",
      "--no-annotations",
    ]);
    assert.deepEqual(f.annotations, [FIRSTS[1], FIRSTS[2], FIRSTS[3], FIRSTS[4]]);
    // --sql shows the markers' statement after the analysis's, with its parameters.
    const sql = await run(["trend", "open", "--annotations-from", "ver", "--sql"]);
    assert.equal(sql.code, 0, sql.stderr);
    const tail = sql.stdout.split("-- the markers of --annotations-from")[1] ?? "";
    assert.match(tail, /min\(event_time\)/);
    assert.match(tail, /-- parameters:/);
    // Typos: one line with the nearest key, exit 2.
    const r = await run(["trend", "open", "--annotations-from", "vr"]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /"vr".*did you mean "ver"/);
  });

test("output without annotations is unchanged; --print-command, CSV, the human chart", async () => {
  const plain = ["trend", "open", "--from", "2023-06-01", "--to", "2023-06-03"];
  // No note in range and no --annotations-from: no `annotations` key, no extra CSV column.
  const j = JSON.parse((await duck(["trend", "open", "--from", "2023-06-03", "--json"])).stdout);
  assert.equal("annotations" in j, false);
  const noNotes = { ...env, XDG_CONFIG_HOME: join(dir, "empty") };
  assert.equal(
    evx([...plain, "--cache", cache, "--csv"], noNotes).stdout.split("\n")[0],
    "event,breakdown,t,value,complete",
  );
  let r = await duck([...plain, "--annotations-from", "ver", "--print-command"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--annotations-from ver/);
  // It round-trips: the printed command (plain words here) gives the same markers.
  const words = r.stdout.trim().split(" ").slice(1);
  const again = evx([...words, "--json"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(
    JSON.parse(again.stdout).annotations.filter((a: { source: string }) => a.source === "property"),
    FIRSTS,
  );
  r = await duck([...plain, "--annotations-from", "ver", "--csv"]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.stdout.trimEnd().split("\n"), [
    "event,breakdown,t,value,complete,annotations",
    "open,,2023-06-01T00:00:00.000Z,2,true,ver=1.0",
    "open,,2023-06-02T00:00:00.000Z,1,true,ver=1.1 | deploy 1.42",
    "open,,2023-06-03T00:00:00.000Z,5,true,ver=2.0 | ver=2 | ver=1.50",
  ]);
  r = await duck([...plain, "--annotations-from", "ver"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  // Not a terminal: 100 columns (the 80-column fit is tested on the pure chart, test/render).
  for (const l of lines) assert.ok(l.length <= 100, l);
  const axis = lines.findIndex((l) => l.includes("06-01") && l.includes("06-03"));
  // Three points stretched over the columns: the first, the middle and the last column.
  const marks = lines[axis + 1]!;
  const col = (ch: string) => marks.indexOf(ch);
  assert.equal(col("1"), lines[axis]!.indexOf("06-01"));
  assert.equal(marks.trim().replace(/ +/g, " "), "1 * *");
  assert.ok(lines.includes("1 06-01 10:00 ver=1.0"), r.stdout);
  assert.ok(lines.includes("3 06-02 12:05 deploy 1.42"), r.stdout);
  assert.ok(lines.includes("5 06-03 20:00 ver=2"), r.stdout);
  r = await duck(["funnel", "open", "click", "--within", "1d", "--annotations-from", "ver"]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--annotations-from marks the conversion over time: add --interval/);
});
