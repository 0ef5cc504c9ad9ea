import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { Executor } from "../../src/queries/executor.js";
import type { EngineName } from "../../src/queries/filters.js";
import type { AnalysisSpec } from "../../src/queries/spec.js";
import { folderSource } from "../../src/source/folder.js";
import { writeLakeFiles } from "../../src/source/synthetic.js";
import { ChdbEngine } from "../helpers/chdb-engine.js";

/** What the analysis suites use of an engine: the DuckDB Executor, or ClickHouse (chdb) under test. */
export type TestEngine = Pick<Executor, "run" | "lastEventUs" | "query" | "all" | "resolveRange">;

/** The engine the analysis suites run on: `EVX_TEST_ENGINE=clickhouse` runs them on chdb. */
export const TEST_ENGINE: EngineName = process.env.EVX_TEST_ENGINE === "clickhouse" ? "clickhouse" : "duckdb";

export interface TestCache {
  dir: string;
  lake: string;
  cache: Cache;
  ex: TestEngine;
  engine: EngineName;
  close(): void;
}

/** Syncs a lake folder into a fresh cache under a temp dir. */
export async function cacheFromLake(lake: string, dir?: string): Promise<TestCache> {
  const root = dir ?? mkdtempSync(join(tmpdir(), "evx-q-"));
  const cache = await Cache.open(join(root, "cache.duckdb"), { create: true, settings: { threads: 2 } });
  await sync(cache, folderSource(lake));
  const ex = bothIdentities(
    TEST_ENGINE === "clickhouse" ? await ChdbEngine.fromCache(cache, root) : new Executor(cache),
  );
  return {
    dir: root,
    lake,
    cache,
    ex,
    engine: TEST_ENGINE,
    close() {
      ex.close();
      cache.close();
      if (!dir) rmSync(root, { recursive: true, force: true });
    },
  };
}

/**
 * The engine, checking every analysis run without an identity in both modes (docs/semantics.md,
 * "Identity"): these lakes have no identity links, so `merged` must give the `raw` answer (the person
 * SQL of every builder, on both engines), apart from the drill-down's and timeline's person fields.
 */
function bothIdentities<E extends TestEngine & { close(): void }>(ex: E): E {
  const run = ex.run.bind(ex) as TestEngine["run"];
  const merged = (spec: AnalysisSpec): AnalysisSpec =>
    spec.kind === "users"
      ? { ...spec, identity: "merged", of: { ...spec.of, identity: "merged" } }
      : { ...spec, identity: "merged" };
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (!v || typeof v !== "object") return v;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (k !== "merged_ids" && k !== "person_id") out[k] = strip(x);
    return out;
  };
  const wrapped = Object.create(ex) as E;
  (wrapped as TestEngine).run = async (spec, opts) => {
    const out = await run(spec, opts);
    if (spec.identity === undefined) {
      const m = await run(merged(spec), opts);
      assertClose(strip(m.result), out.result, "$merged");
    }
    return out;
  };
  return wrapped;
}

/**
 * Writes JSON-lines (objects or raw text lines) into `date=YYYY-MM-DD/part-0000.jsonl` files (one per
 * given date key) and syncs them into a fresh cache.
 */
export async function cacheFromFiles(files: Record<string, string>): Promise<TestCache> {
  const root = mkdtempSync(join(tmpdir(), "evx-q-"));
  const lake = join(root, "lake");
  writeLakeFiles(lake, files);
  const tc = await cacheFromLake(lake, root);
  return {
    ...tc,
    close() {
      tc.close();
      rmSync(root, { recursive: true, force: true });
    },
  };
}

export function lines(rows: unknown[]): string {
  return `${rows.map((r) => (typeof r === "string" ? r : JSON.stringify(r))).join("\n")}\n`;
}

export function ev(type: string, time: string, user: string, props?: Record<string, unknown>) {
  return props === undefined
    ? { event_type: type, event_time: time, user_id: user }
    : { event_type: type, event_time: time, user_id: user, event_properties: props };
}

/**
 * Deep equality where integers must match exactly and non-integers may differ by a relative 1e-9
 * (float sums and ratios computed in a different order).
 */
export function assertClose(actual: unknown, expected: unknown, path = "$"): void {
  if (typeof actual === "number" && typeof expected === "number") {
    if (Number.isInteger(actual) && Number.isInteger(expected)) {
      assert.equal(actual, expected, `${path}: ${actual} !== ${expected}`);
      return;
    }
    const tol = 1e-9 * Math.max(1, Math.abs(expected));
    assert.ok(Math.abs(actual - expected) <= tol, `${path}: ${actual} ≉ ${expected}`);
    return;
  }
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array, got ${JSON.stringify(actual)}`);
    assert.equal(actual.length, expected.length, `${path}: length ${actual.length} !== ${expected.length}`);
    for (let i = 0; i < expected.length; i++) assertClose(actual[i], expected[i], `${path}[${i}]`);
    return;
  }
  if (expected && typeof expected === "object") {
    assert.ok(
      actual && typeof actual === "object",
      `${path}: expected an object, got ${JSON.stringify(actual)}`,
    );
    const a = actual as Record<string, unknown>;
    const e = expected as Record<string, unknown>;
    assert.deepEqual(Object.keys(a).sort(), Object.keys(e).sort(), `${path}: keys differ`);
    for (const k of Object.keys(e)) assertClose(a[k], e[k], `${path}.${k}`);
    return;
  }
  assert.deepEqual(actual, expected, `${path}`);
}

/**
 * A result without its partial-data marks (points' `incomplete`, a compare's `coverage` and `cached`):
 * they depend on what the cache holds around the data, not on the events, and the test ClickHouse
 * engine (chdb, no load bookkeeping) has no coverage. test/partial.test.ts proves the marks on both
 * engines; the suites that check numbers against hand-worked answers or the brute force compare these.
 */
export function withoutPartialMarks<T>(v: T): T {
  if (Array.isArray(v)) return v.map(withoutPartialMarks) as T;
  if (!v || typeof v !== "object") return v;
  const o = v as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(o)) {
    if (k === "incomplete" && x === true) continue;
    if ((k === "coverage" || k === "cached") && "offset_seconds" in o) continue;
    out[k] = withoutPartialMarks(x);
  }
  return out as T;
}
