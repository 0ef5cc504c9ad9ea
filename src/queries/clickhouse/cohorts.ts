/**
 * Saved cohorts on ClickHouse (queries/cohorts.ts): definitions in `evx_cohorts` (append-only; the
 * latest row of a name wins, a `removed` row forgets it), and each static cohort's user keys in a table
 * of its own on the server, `evx_cohort_<name>`, which the analyses' SQL reads. A behavioural cohort's
 * members are kept evaluated in `evx_memo_<name>` (cohortmemo.ts).
 */
import { type CohortStore, cohortTaken, resolveCohorts, type SavedCohort } from "../cohorts.js";
import type { EngineOptions } from "../engine.js";
import { buildQuery } from "../executor.js";
import { checkCohortName } from "../parse.js";
import type { AnalysisSpec, CohortDef, UsersSpec } from "../spec.js";
import type { ChClient } from "./client.js";
import { dropChCohortMemo, keepChCohortsEvaluated } from "./cohortmemo.js";
import { ClickHouseExecutor } from "./executor.js";
import { quoteIdent } from "./quote.js";
import { chQueryParams, onTable, withResultSettings } from "./schema.js";

export const CH_COHORTS_TABLE = "evx_cohorts";

/** The server table of a static cohort's user keys. */
export function staticCohortTable(name: string): string {
  return quoteIdent(`evx_cohort_${name}`);
}

const DDL = `CREATE TABLE IF NOT EXISTS ${CH_COHORTS_TABLE} (
    name String, kind String, definition String, users UInt64, created DateTime64(3, 'UTC')
) ENGINE = MergeTree ORDER BY (name, created)`;

export function chCohortStore(client: ChClient): CohortStore {
  return {
    async list(): Promise<SavedCohort[]> {
      const t = await client.rows<{ n: number }>(
        "SELECT count() AS n FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        { t: CH_COHORTS_TABLE },
      );
      if (!Number(t[0]?.n)) return [];
      const rows = await client.rows<{ name: string; kind: string; definition: string; saved_at: string }>(
        `SELECT name, argMax(kind, created) AS kind, argMax(definition, created) AS definition,
                formatDateTime(max(created), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS saved_at
           FROM ${CH_COHORTS_TABLE} GROUP BY name HAVING kind != 'removed' ORDER BY name`,
      );
      return rows.map((r) => savedCohortOf([r.name, r.kind, r.definition, r.saved_at]));
    },
  };
}

/** A saved cohort from its row (name, kind, definition JSON, saved at), as the store and the context read it. */
export function savedCohortOf(r: readonly [string, string, string, string]): SavedCohort {
  const def = JSON.parse(r[2]) as CohortDef;
  if (def.kind === "static") def.table = staticCohortTable(r[0]);
  return { name: r[0], def, created: r[3] };
}

async function record(client: ChClient, name: string, def: CohortDef | null, users: number): Promise<void> {
  await client.command(DDL);
  await client.command(
    `INSERT INTO ${CH_COHORTS_TABLE} SELECT {n:String}, {k:String}, {d:String}, {u:UInt64}, now64(3)`,
    { n: name, k: def ? def.kind : "removed", d: def ? JSON.stringify(def) : "{}", u: users },
  );
}

/** Saves a behavioural cohort and keeps it evaluated (cohortmemo.ts; a failure only leaves it unkept). */
export async function saveBehaviouralCh(ex: ClickHouseExecutor, name: string, def: CohortDef): Promise<void> {
  await ex.client.command(`DROP TABLE IF EXISTS ${staticCohortTable(name)}`);
  await record(ex.client, name, def, 0);
  ex.invalidate();
  const ctx = await ex.context().catch(() => undefined);
  await keepChCohortsEvaluated(ex.client, ex.target, chCohortStore(ex.client), {
    name,
    distributed: ctx?.distributed,
    identityMap: ctx?.identityMap,
  });
}

export async function removeCohortCh(client: ChClient, name: string): Promise<void> {
  await client.command(`DROP TABLE IF EXISTS ${staticCohortTable(name)}`);
  await dropChCohortMemo(client, name);
  await record(client, name, null, 0);
}

/** `--users-of … --save-cohort NAME` on ClickHouse: the drill-down's users as a server table. */
export async function saveStaticCohortCh(
  opts: Pick<EngineOptions, "chUrl" | "chTable">,
  spec: UsersSpec,
  name: string,
): Promise<number> {
  const ex = ClickHouseExecutor.open(opts);
  try {
    return await saveUsersCohortCh(ex, spec, name);
  } finally {
    await ex.close();
  }
}

/**
 * A drill-down's users saved as the static cohort `name` through an open engine (the headless
 * `--save-cohort`, the TUI's `C`): every user of `spec`, whatever its limit, by the same selection SQL
 * that lists them. Returns how many it holds. `replace: false` refuses a name already saved.
 */
export async function saveUsersCohortCh(
  ex: ClickHouseExecutor,
  spec: UsersSpec,
  name: string,
  opts: { replace?: boolean } = {},
): Promise<number> {
  checkCohortName(name, "cohort");
  const store = chCohortStore(ex.client);
  if (opts.replace === false && (await store.list()).some((c) => c.name === name)) throw cohortTaken(name);
  await resolveCohorts(spec as AnalysisSpec, store);
  const q = buildQuery({ ...spec, limit: Number.MAX_SAFE_INTEGER }, { engine: "clickhouse" }, "clickhouse");
  const table = staticCohortTable(name);
  await ex.client.command(`DROP TABLE IF EXISTS ${table}`);
  // A behavioural cohort of that name is replaced: its kept members go.
  await dropChCohortMemo(ex.client, name);
  await ex.client.command(
    withResultSettings(
      `CREATE TABLE ${table} ENGINE = MergeTree ORDER BY user_key AS SELECT DISTINCT user_id AS user_key FROM (${onTable(q.sql, ex.target.table)}) WHERE listed`,
    ),
    chQueryParams(q.params),
  );
  const r = await ex.client.rows<{ n: number }>(`SELECT count() AS n FROM ${table}`);
  const users = Number(r[0]?.n ?? 0);
  await record(ex.client, name, { kind: "static", users }, users);
  // The engine's next context reads the definitions again (they may ride in it).
  ex.invalidate();
  return users;
}
