import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { flatten } from "../../src/queries/flatten.js";
import type { TrendSpec } from "../../src/queries/spec.js";
import { toCsv } from "../../src/render/table.js";
import { exportResult } from "../../src/views/state/export.js";
import { tempDir } from "../helpers/tmp.js";

const range = { from: "2023-06-01", to: "2023-06-02", tz: "UTC" };

describe("export", () => {
  it("writes the same flat table as --csv (one flattener for both)", () => {
    const dir = tempDir();
    const spec: TrendSpec = {
      kind: "trend",
      events: [{ event: "a", filters: [] }],
      measure: { kind: "users" },
      interval: "day",
      range,
      filters: [],
      breakdown: "k",
      limit: 10,
    };
    const result = {
      interval: "day",
      measure: "users",
      series: [{ event: "a", breakdown: "x", total: 2, points: [{ t: "T1", value: 2 }] }],
    };
    const coverage = {
      partitions_in_range: 2,
      partitions_synced: 1,
      missing: ["2023-06-02"],
      failed: [],
      rejected_lines: 0,
      last_event: "2023-06-01T23:00:00.000Z",
    };
    const { csv, json } = exportResult(
      { title: "Trends", spec, result, sql: "SELECT 1", params: [], coverage },
      dir,
    );
    const t = flatten(spec, result);
    assert.equal(readFileSync(csv, "utf8"), toCsv(t.columns, t.rows));
    // A result on half-synced data says so in its JSON, as `--json` does.
    assert.deepEqual(JSON.parse(readFileSync(json, "utf8")).coverage, coverage);
  });

  it("writes new private files, never overwriting, and neutralises formula-like cells", () => {
    const dir = tempDir();
    const now = new Date(2023, 5, 1, 12, 0, 0);
    const current = {
      title: "Events",
      spec: { kind: "catalog" as const },
      result: { events: [{ event_type: "=cmd()", events: 1, users: 1, first_seen: "a", last_seen: "b" }] },
      sql: "SELECT 1",
      params: [],
    };
    const a = exportResult(current, dir, now);
    const b = exportResult(current, dir, now);
    assert.equal(a.csv, join(dir, "evx-catalog-20230601-120000.csv"));
    assert.equal(b.csv, join(dir, "evx-catalog-20230601-120000-2.csv"));
    assert.equal(readdirSync(dir).length, 4);
    for (const p of [a.csv, a.json, b.csv, b.json]) assert.equal(statSync(p).mode & 0o777, 0o600);
    assert.match(readFileSync(a.csv, "utf8"), /^event_type,.*\n'=cmd\(\),1,1,a,b\n$/);
    assert.equal(JSON.parse(readFileSync(a.json, "utf8")).sql, "SELECT 1");
    const table = exportResult(
      { title: "Sync", table: { columns: ["date"], rows: [["2023-06-01"]] } },
      dir,
      now,
    );
    assert.match(table.csv, /evx-sync-20230601-120000\.csv$/);
    assert.deepEqual(JSON.parse(readFileSync(table.json, "utf8")).rows, [["2023-06-01"]]);
  });
});
