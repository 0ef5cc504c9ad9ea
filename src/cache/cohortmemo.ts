/**
 * Behavioural cohorts kept evaluated (docs/semantics.md, "Cohorts"). A behavioural cohort is defined
 * over the current data, so every use evaluated it again: at 20M events "users with 3+ file_saved"
 * grouped 2.9M rows by user, 2.6x the trend it filtered. The cache now keeps each saved cohort's
 * members as one bitmap per identity mode in `cohort_memo (name, mode, def, stamp, bm)`, written by
 * the writer (after a sync that changed events, and when a cohort is saved), and an analysis reads the
 * bitmap instead of evaluating the definition when the row is of the same data: its `stamp` is the
 * data's fingerprint (`DATA_STAMP_SQL`) in the writer's snapshot and must equal the reader's, and its
 * `def` the definition the reader resolved. Anything else (no row, another stamp, a changed definition,
 * an older cache without the table) evaluates the definition as before, so a memo can make an answer
 * faster but never different.
 *
 * This module is in the cache layer but builds its SQL with the query builders (queries/filters.ts):
 * the memo must be exactly what the analyses would compute.
 */
import type { DuckDBValue } from "@duckdb/node-api";
import { cohortMemoKey, Params, type QueryContext, withPreludes } from "../queries/filters.js";
import { withIdentity } from "../queries/identity.js";
import type { CohortRef } from "../queries/spec.js";
import { cacheCohortStore } from "./cohorts.js";
import type { Cache, Row } from "./db.js";
import { DATA_STAMP_SQL } from "./schema.js";

type Read = (sql: string, params?: DuckDBValue[]) => Promise<Row[]>;
export type IdentityMode = "raw" | "merged";

/** Without identity links `merged` reads the same rows as `raw`: one memo serves both. */
const MODE_SQL = (mode: string) =>
  `CASE WHEN ${mode} = 'merged' AND (SELECT count(*) FROM main.identity) > 0 THEN 'merged' ELSE 'raw' END`;

/**
 * The cohorts of `refs` whose memo holds this snapshot's members for `mode`: name → the memo row's
 * mode. Run in the analysis's transaction, so the check and the read see the same data; the row's
 * `def` must be the SQL this evx would evaluate (`cohortMemoKey`), so a memo written by another
 * version, or for another definition, is not read. Every reference to a name must match.
 */
export async function freshCohortMemos(
  read: Read,
  refs: CohortRef[],
  mode: IdentityMode,
  ctx: QueryContext,
): Promise<Map<string, string>> {
  const fresh = new Map<string, string>();
  if (!refs.some((r) => r.def?.kind === "behavioural")) return fresh;
  const t = await read(
    "SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'cohort_memo'",
  );
  if (!Number(t[0]?.n ?? 0)) return fresh;
  const rows = await read(
    `SELECT name, mode, def FROM main.cohort_memo WHERE mode = ${MODE_SQL("$1")} AND stamp = ${DATA_STAMP_SQL}`,
    [mode],
  );
  // A name is read from its memo only when every reference to it is behavioural and matches one row.
  const names = new Set(refs.map((r) => r.name));
  for (const name of names) {
    const rs = refs.filter((r) => r.name === name);
    const modes = rs.map((r) =>
      r.def?.kind === "behavioural"
        ? rows.find((x) => x.name === name && x.def === cohortMemoKey(r, ctx, String(x.mode)))?.mode
        : undefined,
    );
    if (modes[0] !== undefined && modes.every((m) => m === modes[0])) fresh.set(name, String(modes[0]));
  }
  return fresh;
}

/**
 * Evaluates the saved behavioural cohorts (or only `name`) over the cache's data and keeps them, in
 * one transaction with the stamp they are of. Returns how many rows it wrote. Needs the writer.
 */
export async function refreshCohortMemos(cache: Cache, name?: string): Promise<number> {
  const saved = (await cacheCohortStore(cache).list()).filter(
    (c) => c.def.kind === "behavioural" && (name === undefined || c.name === name),
  );
  if (!saved.length) return 0;
  return cache.transaction(async () => {
    const m = await cache.one<{ m: unknown; ids: unknown; hot: unknown }>(
      `SELECT (SELECT max(user_key) FROM main.users) AS m, (SELECT count(*) FROM main.identity) AS ids,
         (SELECT value FROM main.meta WHERE key = 'hot_keys') AS hot`,
    );
    if (m?.m == null) return 0;
    const hotKeys = typeof m.hot === "string" ? (JSON.parse(m.hot) as string[]) : undefined;
    const ctx: QueryContext = { userKeyMax: Number(m.m), hotKeys };
    const modes: IdentityMode[] = Number(m.ids) > 0 ? ["raw", "merged"] : ["raw"];
    let written = 0;
    for (const c of saved) {
      await cache.run("DELETE FROM main.cohort_memo WHERE name = $1", [c.name]);
      for (const mode of modes) {
        const p = new Params(ctx);
        const select = p.cohortBitmapSql({ name: c.name, def: c.def });
        if (select === null) continue;
        const q = withPreludes({ sql: select, params: p.values });
        const sql = mode === "merged" ? withIdentity(q.sql, "duckdb") : q.sql;
        const n = q.params.length;
        await cache.run(
          `INSERT INTO main.cohort_memo SELECT $${n + 1}, $${n + 2}, $${n + 3}, ${DATA_STAMP_SQL}, bm FROM (${sql}) evx_memo`,
          [...q.params, c.name, mode, cohortMemoKey({ name: c.name, def: c.def }, ctx, mode)],
        );
        written++;
      }
    }
    return written;
  });
}

/**
 * `refreshCohortMemos` after data that is already committed changed (a sync, an eviction): its failure
 * (out of memory on a large cohort, say) leaves the old memos, whose stamp no longer matches, so
 * analyses evaluate the cohorts; the sync or eviction itself succeeded and says so.
 */
export async function keepCohortsEvaluated(cache: Cache): Promise<void> {
  try {
    await refreshCohortMemos(cache);
  } catch {}
}
