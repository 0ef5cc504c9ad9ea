import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import type { FunnelSpec, RetentionSpec, TrendSpec } from "../../src/queries/spec.js";
import { exportResult, flatten } from "../../src/views/export.js";
import { tempDir } from "../helpers/tmp.js";

const range = { from: "2023-06-01", to: "2023-06-02", tz: "UTC" };

describe("export", () => {
  it("flattens trends, funnels (with breakdown groups) and retention to one value per cell", () => {
    const trend: TrendSpec = {
      kind: "trend",
      events: [{ event: "a", filters: [] }],
      measure: { kind: "users" },
      interval: "day",
      range,
      filters: [],
      breakdown: "k",
      limit: 10,
    };
    assert.deepEqual(
      flatten(trend, {
        interval: "day",
        measure: "users",
        series: [{ event: "a", breakdown: "x", total: 2, points: [{ t: "T1", value: 2 }] }],
      }),
      { columns: ["event", "breakdown", "t", "users"], rows: [["a", "x", "T1", 2]] },
    );
    const funnel = { kind: "funnel" } as FunnelSpec;
    const step = (users: number) => ({
      step: "s",
      users,
      conversion: 1,
      from_previous: 1,
      median_seconds: null,
    });
    const f = flatten(funnel, {
      within_seconds: 60,
      steps: [step(3)],
      breakdown: [{ value: "mac", steps: [step(2)] }],
    });
    assert.deepEqual(f.rows, [
      ["", 1, "s", 3, 1, 1, null],
      ["mac", 1, "s", 2, 1, 1, null],
    ]);
    const retention = { kind: "retention" } as RetentionSpec;
    const r = flatten(retention, {
      period: "day",
      mode: "on",
      cohorts: [{ cohort: "C", users: 4, retained: [4, 1], incomplete_from: 1 }],
      average: [1, null as unknown as number],
    });
    assert.deepEqual(r.rows, [
      ["C", 4, 0, 4, 1, false],
      ["C", 4, 1, 1, 0.25, true],
    ]);
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
