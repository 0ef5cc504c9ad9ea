/**
 * Issue #22: the ClickHouse engine's data extent (which buckets are incomplete) follows the cache's
 * rule: a date whose last load removed it (it left the source) is not data.
 */
import assert from "node:assert/strict";
import { test } from "node:test";
import { type ChLoadRecord, chExtent } from "../../src/queries/clickhouse/coverage.js";

const load = (date: string, objects: number, status: "ok" | "failed" = "ok"): [string, ChLoadRecord] => [
  date,
  { date, status, objects, rows: objects * 10, rejected: 0, fingerprint: "f", error: "", loaded_at: "" },
];
const part = (date: string) => ({ date, rows: 10, bytes: 100, parts: 1 });
const us = (iso: string) => Date.parse(iso) * 1000;

test("a date whose last load removed it does not extend the data; a failed or loaded one does", () => {
  const last = new Map([load("2023-06-01", 3), load("2023-06-02", 2), load("2023-06-03", 0)]);
  const input = {
    parts: [part("2023-06-01"), part("2023-06-02")],
    listing: [],
    last,
    lastOk: last,
    lastEventUs: us("2023-06-02T23:00:00Z"),
  };
  assert.deepEqual(chExtent(input), { lo: us("2023-06-01T00:00:00Z"), hi: us("2023-06-03T00:00:00Z") });
  // A failed date is still the source's: the data reaches it (its buckets are marked by `failed`).
  last.set(...load("2023-06-03", 0, "failed"));
  assert.deepEqual(chExtent(input), { lo: us("2023-06-01T00:00:00Z"), hi: us("2023-06-04T00:00:00Z") });
});
