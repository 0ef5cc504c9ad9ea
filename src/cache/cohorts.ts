/**
 * The DuckDB cache's saved cohorts (queries/cohorts.ts): `cohorts (name, kind, definition, users,
 * created)` and a static cohort's ids in `cohort_users (name, user_id)`. A cache written before cohorts
 * existed has no such tables until it is next opened for writing: it has no cohorts.
 */

import type { DuckDBValue } from "@duckdb/node-api";
import { type CohortStore, cohortTaken, type SavedCohort } from "../queries/cohorts.js";
import type { CohortDef } from "../queries/spec.js";
import type { Cache, Row } from "./db.js";

type Read = (sql: string, params?: DuckDBValue[]) => Promise<Row[]>;

/** The cohorts of a cache, read with `read` (a pooled connection's, or the cache's own). */
export function cacheCohortStore(read: Read | Cache): CohortStore {
  const all: Read = typeof read === "function" ? read : (sql, params) => read.all(sql, params);
  return {
    async list(): Promise<SavedCohort[]> {
      const t = await all(
        "SELECT count(*) AS n FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = 'cohorts'",
      );
      if (!Number(t[0]?.n ?? 0)) return [];
      const rows = await all(
        "SELECT name, definition, strftime(created AT TIME ZONE 'UTC', '%Y-%m-%dT%H:%M:%SZ') AS created FROM cohorts ORDER BY name",
      );
      return rows.map((r) => ({
        name: String(r.name),
        def: JSON.parse(String(r.definition)) as CohortDef,
        created: String(r.created),
      }));
    },
  };
}

/** Deletes every row of cohort `name` (its definition, ids and kept members); the caller holds the transaction. */
async function forget(cache: Cache, name: string): Promise<void> {
  for (const t of ["cohort_users", "cohort_memo", "cohorts"])
    await cache.run(`DELETE FROM ${t} WHERE name = $1`, [name]);
}

/** Saves (or replaces) a behavioural cohort's definition. */
export async function saveBehavioural(cache: Cache, name: string, def: CohortDef): Promise<void> {
  await cache.transaction(async () => {
    await forget(cache, name);
    await cache.run("INSERT INTO cohorts VALUES ($1, 'behavioural', $2, NULL, current_timestamp)", [
      name,
      JSON.stringify(def),
    ]);
  });
}

/**
 * Saves (or replaces) a static cohort: the user ids of `select` (SQL over the cache whose rows have a
 * `user_id` column, with its `params`). Returns how many users it holds. With `replace: false`, a name
 * already saved is refused (`cohortTaken`), checked in the same transaction as the write.
 */
export async function saveStatic(
  cache: Cache,
  name: string,
  select: { sql: string; params: unknown[] },
  opts: { replace?: boolean } = {},
): Promise<number> {
  return cache.transaction(async () => {
    if (opts.replace === false) {
      const r = await cache.all<{ c: number }>("SELECT count(*) AS c FROM cohorts WHERE name = $1", [name]);
      if (Number(r[0]?.c ?? 0) > 0) throw cohortTaken(name);
    }
    await forget(cache, name);
    const n = select.params.length + 1;
    await cache.run(
      `INSERT INTO cohort_users SELECT DISTINCT CAST($${n} AS VARCHAR), user_id FROM (${select.sql}) evx_sel`,
      [...(select.params as never[]), name],
    );
    const r = await cache.all<{ c: number }>("SELECT count(*) AS c FROM cohort_users WHERE name = $1", [
      name,
    ]);
    const users = Number(r[0]?.c ?? 0);
    await cache.run("INSERT INTO cohorts VALUES ($1, 'static', $2, $3, current_timestamp)", [
      name,
      JSON.stringify({ kind: "static", users } satisfies CohortDef),
      users,
    ]);
    return users;
  });
}

/** Removes a cohort; false when there was none of that name. */
export async function removeCohort(cache: Cache, name: string): Promise<boolean> {
  return cache.transaction(async () => {
    const r = await cache.all<{ c: number }>("SELECT count(*) AS c FROM cohorts WHERE name = $1", [name]);
    await forget(cache, name);
    return Number(r[0]?.c ?? 0) > 0;
  });
}
