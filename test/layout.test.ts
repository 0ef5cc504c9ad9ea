import assert from "node:assert/strict";
import { test } from "node:test";
import {
  dateOf,
  detectLayout,
  inDateRange,
  isDataFile,
  LayoutError,
  parseLayout,
  undatedReason,
} from "../src/source/layout.js";

test("detects hive layouts with any key name", () => {
  for (const k of ["date", "dt", "event_date"]) {
    const keys = [
      `raw/${k}=2023-06-01/part-1600.jsonl`,
      `raw/${k}=2023-06-02/part-0000.jsonl.gz`,
      "raw/_SUCCESS",
    ];
    const l = detectLayout(keys);
    assert.deepEqual(l, { name: "hive", hiveKey: k });
    assert.equal(dateOf(keys[1], l), "2023-06-02");
  }
});

test("detects year=/month=/day=, YYYY/MM/DD and YYYY-MM-DD folders", () => {
  const ymdHive = detectLayout(["year=2023/month=06/day=01/a.jsonl", "year=2023/month=6/day=2/b.ndjson"]);
  assert.equal(ymdHive.name, "hive-ymd");
  assert.equal(dateOf("year=2023/month=6/day=2/b.ndjson", ymdHive), "2023-06-02");
  const ymd = detectLayout(["events/2023/06/01/part-1.json.gz", "events/2023/06/02/part-1.json.zst"]);
  assert.equal(ymd.name, "ymd");
  assert.equal(dateOf("events/2023/06/02/part-1.json.zst", ymd), "2023-06-02");
  const plain = detectLayout(["2023-06-01/x.jsonl", "2023-06-02/y.jsonl"]);
  assert.equal(plain.name, "date");
  assert.equal(dateOf("2023-06-02/y.jsonl", plain), "2023-06-02");
});

test("an undetectable layout names the keys it saw", () => {
  assert.throws(
    () => detectLayout(["a/b/c.jsonl", "a/d.jsonl"]),
    (e: unknown) =>
      e instanceof LayoutError && /could not detect/.test(e.message) && /a\/b\/c\.jsonl/.test(e.message),
  );
});

test("dates must be real calendar dates", () => {
  assert.equal(dateOf("date=2023-02-30/x.jsonl", { name: "hive", hiveKey: "date" }), null);
  assert.equal(dateOf("date=2023-02-28/x.jsonl", { name: "hive", hiveKey: "date" }), "2023-02-28");
  // A date in the file name is not a partition.
  assert.equal(dateOf("x/2023-06-01.jsonl", { name: "date" }), null);
});

test("data files vs ignored files", () => {
  for (const k of ["a.jsonl", "a.ndjson", "a.json", "a.jsonl.gz", "a.ndjson.zst", "A.JSONL", "a.parquet"])
    assert.ok(isDataFile(k), k);
  for (const k of [
    "_SUCCESS",
    "a.jsonl.crc",
    ".a.jsonl.crc",
    "a.parquet.crc",
    "a.txt",
    "a.gz",
    "d/.evx-lake.json",
    "d/_tmp.jsonl",
  ])
    assert.ok(!isDataFile(k), k);
});

test("--layout flag spellings", () => {
  assert.deepEqual(parseLayout("dt="), { name: "hive", hiveKey: "dt" });
  assert.deepEqual(parseLayout("hive:event_date"), { name: "hive", hiveKey: "event_date" });
  assert.deepEqual(parseLayout("year=/month=/day="), { name: "hive-ymd" });
  assert.deepEqual(parseLayout("yyyy/mm/dd"), { name: "ymd" });
  assert.deepEqual(parseLayout("date"), { name: "date" });
  assert.throws(() => parseLayout("weird"), /unknown --layout/);
});

test("date selection is inclusive on both ends", () => {
  assert.ok(inDateRange("2023-06-01", "2023-06-01", "2023-06-01"));
  assert.ok(!inDateRange("2023-05-31", "2023-06-01"));
  assert.ok(!inDateRange("2023-06-02", undefined, "2023-06-01"));
  assert.ok(inDateRange("2023-06-02"));
});

test("vendor layouts: Segment's epoch-ms day folders, Amplitude's and PostHog's file names", () => {
  const seg = { name: "epoch-ms" } as const;
  // Segment names its files `<epoch ms>.<uuid>.gz`: data under its layout only.
  assert.ok(isDataFile("segment-logs/s1/1685577600000/1685613934000.e84a.gz", seg));
  assert.ok(!isDataFile("segment-logs/s1/1685577600000/1685613934000.e84a.gz"));
  assert.equal(dateOf("segment-logs/s1/1685577600000/1685613934000.e84a.gz", seg), "2023-06-01");
  // Not a UTC midnight, or no day folder: no date, with the reason, never a guess.
  assert.equal(dateOf("segment-logs/s1/1685613934000/x.gz", seg), null);
  assert.equal(
    undatedReason("segment-logs/s1/1685613934000/x.gz", seg),
    "day folder 1685613934000 is not a UTC midnight in epoch milliseconds",
  );
  assert.equal(
    undatedReason("segment-logs/s1/latest/x.gz", seg),
    "no date in the form <epoch-ms of the UTC day>/",
  );
  const amp = { name: "amplitude" } as const;
  assert.equal(dateOf("187520/187520_2023-06-01_16#0.json.gz", amp), "2023-06-01");
  assert.equal(dateOf("187520/187520_2023-02-30_16#0.json.gz", amp), null);
  assert.equal(dateOf("187520/export.json.gz", amp), null);
  const ph = { name: "file-date" } as const;
  assert.equal(dateOf("ph/2023-06-01T00:00:00+00:00-2023-06-01T01:00:00+00:00.parquet", ph), "2023-06-01");
  // Detection reads file names only when a preset offers such a layout.
  const keys = ["2023-06-01T00:00:00+00:00-2023-06-01T01:00:00+00:00.jsonl.gz"];
  assert.throws(() => detectLayout(keys), LayoutError);
  assert.deepEqual(detectLayout(keys, [ph]), ph);
  assert.deepEqual(detectLayout(["events/2023-06-01/a.jsonl"], [ph]), { name: "date" });
  assert.deepEqual(parseLayout("epoch-ms"), seg);
  assert.deepEqual(parseLayout("amplitude"), amp);
  assert.deepEqual(parseLayout("file-date"), ph);
});
