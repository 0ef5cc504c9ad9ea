/**
 * Issue #28, annotations without a process: the notes file (add, list, rm; private; atomic; control
 * characters stripped), `--at` times, and where the markers fall on a chart, hand-worked.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { Cache } from "../src/cache/db.js";
import { sync } from "../src/cache/sync.js";
import { noteInstant } from "../src/commands/annotate.js";
import {
  annotationCells,
  bucketIndexOf,
  buildFirstSeen,
  shapeFirstSeen,
} from "../src/queries/annotations.js";
import type { Annotation, DateRange } from "../src/queries/spec.js";
import { instantText } from "../src/queries/time.js";
import { annotationLegend, mergeNotes, placeMarkers } from "../src/render/annotations.js";
import { lineChart } from "../src/render/charts.js";
import { folderSource } from "../src/source/folder.js";
import { generateLake } from "../src/source/synthetic.js";
import { addNote, annotationsPath, readNotes, removeNote } from "../src/views/state/annotations.js";
import { loadLake, propTextOf, rangeMicros } from "./brute.js";
import { ChdbEngine } from "./helpers/chdb-engine.js";
import { tempDir } from "./helpers/tmp.js";

describe("the notes file", () => {
  it("lives in the XDG config folder", () => {
    assert.equal(annotationsPath({ XDG_CONFIG_HOME: "/x" }), "/x/evx/annotations.json");
    assert.match(annotationsPath({}), /\.config\/evx\/annotations\.json$/);
  });

  it("adds, lists in time order, removes; ids are never reused; 0600; no temporary file left", () => {
    const dir = tempDir();
    const path = join(dir, "cfg", "evx", "annotations.json");
    assert.deepEqual(readNotes(path), { notes: [], next: 1 });
    const now = new Date("2023-07-01T00:00:00Z");
    const a = addNote("deploy 1.42", "2023-06-01T14:05:00.000Z", path, now);
    const b = addNote("  \x1b[31mred\x1b[0m\tline\u202e  ", "2023-05-01T00:00:00.000Z", path, now);
    assert.deepEqual(
      [a.id, b.id, b.text],
      [1, 2, "red line"],
      "control characters, escapes and bidi overrides are stripped, tabs become spaces",
    );
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "cfg", "evx")).mode & 0o777, 0o700);
    assert.deepEqual(
      readNotes(path).notes.map((n) => [n.id, n.at]),
      [
        [2, "2023-05-01T00:00:00.000Z"],
        [1, "2023-06-01T14:05:00.000Z"],
      ],
    );
    assert.equal(removeNote(2, path), true);
    assert.equal(removeNote(2, path), false);
    assert.equal(addNote("again", "2023-06-02T00:00:00.000Z", path, now).id, 3);
    assert.deepEqual(readdirSync(join(dir, "cfg", "evx")), ["annotations.json"]);
    assert.throws(() => addNote("\x1b[0m \x07", "2023-06-02T00:00:00.000Z", path), /empty/);
    // A hand-edited file: its text is cleaned again on display (noteText), a broken file named.
    const f = JSON.parse(readFileSync(path, "utf8"));
    assert.deepEqual(Object.keys(f), ["notes", "next"]);
    writeFileSync(path, "{not json");
    assert.throws(() => readNotes(path), new RegExp(`cannot read the annotations in ${path}`));
  });

  it("mergeNotes keeps the notes in [from, to), by instant, a note first on a tie", () => {
    const n = (id: number, at: string) => ({ id, at, text: "x", created: at });
    const notes = [
      n(1, "2023-06-01T00:00:00.000Z"),
      n(2, "2023-06-01T23:59:59.999Z"),
      n(3, "2023-06-02T00:00:00.000Z"),
    ];
    const prop: Annotation = {
      at: "2023-06-01T00:00:00.000Z",
      text: "v=1",
      source: "property",
      key: "v",
      value: "1",
    };
    assert.deepEqual(
      mergeNotes([prop], notes, "2023-06-01T00:00:00.000Z", "2023-06-02T00:00:00.000Z")?.map(
        (x) => x.id ?? x.text,
      ),
      [1, "v=1", 2],
    );
    assert.equal(
      mergeNotes(undefined, notes, "2023-06-03T00:00:00.000Z", "2023-06-04T00:00:00.000Z"),
      undefined,
    );
    assert.deepEqual(mergeNotes([], [], "2023-06-03T00:00:00.000Z", "2023-06-04T00:00:00.000Z"), []);
  });
});

describe("--at", () => {
  it("reads a date or a local time in --tz as a range's --from does; refuses a zone suffix", () => {
    assert.equal(noteInstant("2023-06-01T14:05", "UTC"), "2023-06-01T14:05:00.000Z");
    assert.equal(noteInstant("2023-06-01", "Asia/Kolkata"), "2023-05-31T18:30:00.000Z");
    // Spring forward in Berlin: 02:30 does not exist; read with the offset before (+01:00).
    assert.equal(noteInstant("2023-03-26T02:30", "Europe/Berlin"), "2023-03-26T01:30:00.000Z");
    // Fall back: 02:30 happens twice; the second (+01:00).
    assert.equal(noteInstant("2023-10-29T02:30", "Europe/Berlin"), "2023-10-29T01:30:00.000Z");
    assert.equal(noteInstant(undefined, "UTC", Date.UTC(2024, 0, 2, 3, 4, 5)), "2024-01-02T03:04:05.000Z");
    assert.throws(() => noteInstant("2023-06-01T14:05Z", "UTC"), /no zone suffix/);
    assert.throws(() => noteInstant("June 1", "UTC"), /bad --at/);
  });
});

const ann = (at: string, text: string): Annotation => ({ at, text, source: "note" });
const days = (n: number) =>
  Array.from({ length: n }, (_, i) => new Date(Date.UTC(2023, 5, 1 + i)).toISOString());

describe("marker placement", () => {
  it("puts each marker in the bucket holding its instant", () => {
    const ts = days(3);
    assert.equal(bucketIndexOf(ts, "2023-05-31T23:59:59.000Z"), -1);
    assert.equal(bucketIndexOf(ts, "2023-06-01T00:00:00.000Z"), 0);
    assert.equal(bucketIndexOf(ts, "2023-06-02T23:59:59.000Z"), 1);
    assert.equal(bucketIndexOf(ts, "2023-06-09T00:00:00.000Z"), 2);
    const placed = placeMarkers(
      [
        ann("2023-06-03T01:00:00.000Z", "c"),
        ann("2023-06-01T10:00:00.000Z", "a"),
        ann("2023-06-02T00:00:00.000Z", "b"),
      ],
      ts,
    );
    assert.deepEqual(
      placed.map((m) => [m.mark, m.point, m.annotation.text]),
      [
        ["1", 0, "a"],
        ["2", 1, "b"],
        ["3", 2, "c"],
      ],
    );
    assert.deepEqual(
      [...annotationCells(ts, [ann("2023-06-02T05:00:00.000Z", "x"), ann("2023-06-02T06:00:00.000Z", "y")])],
      [["2023-06-02T00:00:00.000Z", "x | y"]],
    );
    // Marks: 1–9, a–z, then +.
    const many = placeMarkers(
      Array.from({ length: 40 }, (_, i) => ann(days(40)[i] as string, `n${i}`)),
      days(40),
    );
    assert.deepEqual(
      [many[0]?.mark, many[8]?.mark, many[9]?.mark, many[34]?.mark, many[35]?.mark],
      ["1", "9", "a", "z", "+"],
    );
  });

  it("draws the marks under their points' columns at 80 columns (stretched and merged), same height", () => {
    // 10 points of 0..9: y labels one wide, so the plot starts at column 3 and has 77 columns; a
    // stretched point i sits at column round(i × 76 / 9): point 3 → 25, point 5 → 42, point 9 → 76.
    const values = Array.from({ length: 10 }, (_, i) => i);
    const opts = { width: 80, height: 8, xLabels: days(10).map((t) => t.slice(5, 10)), color: false };
    const plain = lineChart([{ label: "s", values }], opts);
    const lines = lineChart([{ label: "s", values }], {
      ...opts,
      markers: [
        { point: 3, mark: "1" },
        { point: 5, mark: "2" },
        { point: 5, mark: "3" },
        { point: 9, mark: "4" },
      ],
    });
    assert.equal(lines.length, plain.length);
    const row = lines[lines.length - 2] as string;
    assert.equal(row.indexOf("1"), 3 + 25);
    assert.equal(row.indexOf("*"), 3 + 42, "two markers on one point: *");
    assert.equal(row.indexOf("4"), 3 + 76);
    assert.equal(row.length, 80);
    assert.equal(row.replace(/ /g, ""), "1*4");
    assert.match(lines[lines.length - 3] as string, /06-01/, "the x axis is right above");
    // 200 points in 77 columns: column c merges points ⌊c·200/77⌋ … ⌊(c+1)·200/77⌋ − 1, so point 100
    // is in column 38 (points 98–100), point 0 in column 0.
    const long = Array.from({ length: 200 }, (_, i) => i % 10);
    const merged = lineChart([{ label: "s", values: long }], {
      ...opts,
      xLabels: long.map(() => "x"),
      markers: [
        { point: 0, mark: "1" },
        { point: 100, mark: "2" },
        { point: 98, mark: "3" },
      ],
    });
    const mrow = merged[merged.length - 2] as string;
    assert.equal(mrow.indexOf("1"), 3);
    assert.equal(mrow.indexOf("*"), 3 + 38);
    for (const l of [...lines, ...merged]) assert.ok(l.length <= 80, l);
  });

  it("the legend: one line per marker cut to the width, then +N more", () => {
    const placed = placeMarkers(
      [
        ann("2023-06-01T14:05:00.000Z", "deploy 1.42"),
        ann("2023-06-02T00:00:00.000Z", `long ${"x".repeat(100)}`),
        ann("2023-06-03T09:00:00.000Z", "\x1b]52;c;AAAA\x07third"),
      ],
      days(3),
    );
    assert.deepEqual(annotationLegend(placed, { tz: "UTC", width: 80, maxLines: 5, more: "(…)" }), [
      "1 06-01 14:05 deploy 1.42",
      `2 06-02 00:00 long ${"x".repeat(60)}…`,
      "3 06-03 09:00 third",
    ]);
    assert.deepEqual(
      annotationLegend(placed, { tz: "Asia/Kolkata", width: 80, maxLines: 2, more: "(--json)" }),
      ["1 06-01 19:35 deploy 1.42", "+2 more (--json)"],
    );
  });
});

describe("first appearances against the brute force, on both engines", () => {
  it("every key of a synthetic lake, several ranges and zones", async () => {
    const dir = tempDir();
    const lake = join(dir, "lake");
    await generateLake({ dir: lake, events: 3000, days: 6, seed: 28 });
    const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
    try {
      await sync(cache, folderSource(lake));
      const ch = await ChdbEngine.fromCache(cache, dir);
      const events = await loadLake(lake);
      const keys = [...new Set(events.flatMap((e) => Object.keys(e.props)))].sort();
      assert.ok(keys.length >= 5 && keys.includes("app_version"), keys.join(","));
      const ranges: DateRange[] = [
        { from: "2023-06-01", to: "2023-06-06", tz: "UTC" },
        { from: "2023-06-02T13:30", to: "2023-06-04", tz: "Asia/Kolkata" },
        { from: "2023-06-05", to: "2023-06-05", tz: "America/New_York" },
      ];
      const hot = (await cache.all<{ value: string }>("SELECT value FROM meta WHERE key = 'hot_keys'"))[0];
      const hotKeys = JSON.parse(hot?.value ?? "[]") as string[];
      assert.ok(hotKeys.length > 0, "the cache has hot-key columns");
      let marked = 0;
      for (const key of keys)
        for (const range of ranges) {
          const { start, end } = rangeMicros(range);
          const first = new Map<string, number>();
          for (const e of events) {
            const v = propTextOf(e.props, key);
            if (v === null) continue;
            if (!first.has(v) || e.t < first.get(v)!) first.set(v, e.t);
          }
          const want = [...first]
            .filter(([, t]) => t >= start && t < end)
            .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
            .map(([v, t]) => [instantText(t), v]);
          marked += want.length;
          // DuckDB from the JSON text, and from the cache's hot-key columns as the executor reads them.
          for (const ctx of [{}, { hotKeys }]) {
            const q = buildFirstSeen(key, range, ctx);
            const duck = shapeFirstSeen(await cache.all(q.sql, q.params), key).map((a) => [a.at, a.value]);
            assert.deepEqual(duck, want, `duckdb ${key} ${JSON.stringify(range)} ${JSON.stringify(ctx)}`);
          }
          const qc = buildFirstSeen(key, range, { engine: "clickhouse" });
          const chs = shapeFirstSeen(await ch.query(qc), key).map((a) => [a.at, a.value]);
          assert.deepEqual(chs, want, `clickhouse ${key} ${JSON.stringify(range)}`);
        }
      assert.ok(marked > 20, `${marked} markers`);
    } finally {
      cache.close();
    }
  });
});
