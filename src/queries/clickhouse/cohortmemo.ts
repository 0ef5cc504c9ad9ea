/**
 * Behavioural cohorts kept evaluated on ClickHouse (docs/semantics.md, "Cohorts"; the DuckDB cache's
 * counterpart is src/cache/cohortmemo.ts). A behavioural cohort is defined over all history, so every
 * use evaluated it over the whole table's events of its condition: at 100M events a one-day trend with
 * such a cohort filter took 4.4 s against 0.93 s without, and it could not pass a `max_rows_to_read`
 * sized to the day (issue #25). The server now keeps each saved behavioural cohort's members:
 *
 * - one table per cohort, `evx_memo_<name>` (`user_key`), replaced whole by `CREATE OR REPLACE … AS
 *   SELECT` (never half-written), whose table COMMENT says what it is of. It is a `Set` table: held in
 *   the server's memory, the right side of an `IN` as it is, where a MergeTree memo was read and hashed
 *   into a set by every statement (a one-day trend filtered by a kept 1.6M-user cohort at 100M: 250–320
 *   ms against 100–130 ms with the Set, and 100 ms without the filter). The comment is
 *   `evx cohort memo v2 key=K stamp=S`. K hashes the members SQL this evx writes for the definition
 *   (`cohortMemoKey`) and the events table; S is the data stamp below. Keeping K and S in the comment
 *   (not in a table of heads) lets the context request read them from `system.tables`, which exists
 *   whatever was saved, so reading them costs no request and no fallback;
 * - the data stamp: the events table's uuid and, per active partition, its rows, the lowest and highest
 *   block number of its parts and their highest mutation version (`system.parts`), hashed. An insert, a
 *   `REPLACE PARTITION` (every load), a dropped partition, a mutation (ALTER UPDATE or DELETE, a
 *   lightweight DELETE) or a table swapped in changes it; a merge keeps it (except one that purges
 *   lightweight-deleted rows: the memo is then evaluated again), so the memo survives background merges;
 * - an analysis tests membership in the memo instead of evaluating the definition only when the context
 *   (read in the same request as ever) shows a memo whose K is the definition's and whose S is the data's
 *   now; and the statement computes the stamp again from `system.parts` and reads the memo's comment (a
 *   scalar subquery beside each membership test) and fails with `STALE_MEMO` when a load, or another
 *   save of the name, landed in between, so a memo never gives an
 *   answer about other data: the executor then runs the analysis again, evaluating the cohort. What
 *   reads the members as rows (a member count) evaluates: a Set cannot be read;
 * - written by `evx cohort save` and after `evx clickhouse load` changed partitions; the statement that
 *   writes it checks the stamp it records, and a load landing while it ran drops it again. A failure to
 *   write leaves no memo or a stale one, and analyses evaluate the cohort per use as before.
 *
 * The memo holds raw user keys: an analysis with `merged` identity (queries/identity.ts) evaluates the
 * cohort per use. So does an analysis of a Distributed table: an `IN` subquery runs on each shard, where
 * the memo table (on the server evx talks to) is not.
 */
import { createHash } from "node:crypto";
import { type CohortStore, cohortRefs } from "../cohorts.js";
import { type ChMemoRead, cohortMembersSql, cohortMemoKey, Params, type QueryContext } from "../filters.js";
import type { AnalysisSpec, CohortRef } from "../spec.js";
import type { ChClient, ClickHouseTarget } from "./client.js";
import type { ChContext, ChDistributed } from "./context.js";
import { quoteIdent } from "./quote.js";
import { chQueryParams, onTable, withResultSettings } from "./schema.js";

/** The text of the error a statement raises when the memo it reads is of other data (its marker first). */
export const STALE_MEMO =
  "evx-stale-cohort-memo: a saved cohort's kept members are of other data than this statement reads (a load landed): run the analysis again";

/** The prefix of the memo tables' names. */
export const MEMO_PREFIX = "evx_memo_";

/** The server table of a behavioural cohort's kept members (unquoted name). */
export function memoTableName(name: string): string {
  return `${MEMO_PREFIX}${name}`;
}

/**
 * The data stamp (see the module comment) as a scalar subquery over `from` (`system.parts`); `db` and
 * `table` are SQL (placeholders) naming the events table.
 */
export function stampSql(from: string, db: string, table: string): string {
  // The table's uuid: a table dropped and made again, or swapped in by EXCHANGE, numbers its blocks
  // from 1 again. The highest mutation version of each partition (a part's data_version differs from
  // its first block once a mutation, an ALTER UPDATE or a lightweight DELETE, rewrote it; merges keep
  // it): those change the data without changing blocks or, for a lightweight DELETE, rows.
  return `(SELECT toString(sipHash64((SELECT toString(uuid) FROM system.tables WHERE database = ${db} AND name = ${table}),
                                  groupArray((partition, r, lo, hi, mv))))
     FROM (SELECT partition, sum(rows) AS r, min(min_block_number) AS lo, max(max_block_number) AS hi,
                  max(if(data_version != min_block_number, data_version, 0)) AS mv
             FROM ${from} WHERE database = ${db} AND table = ${table} AND active
            GROUP BY partition ORDER BY partition))`;
}

/** K of the comment: the members SQL this evx writes for the definition, on this events table. */
export function memoKey(ref: CohortRef, target: ClickHouseTarget): string {
  const ctx: QueryContext = { engine: "clickhouse" };
  return createHash("sha256")
    .update(JSON.stringify({ table: target.table, def: cohortMemoKey(ref, ctx, "raw") }))
    .digest("hex");
}

/** The memo table's comment for key K and stamp S. */
export function memoComment(key: string, stamp: string): string {
  return `evx cohort memo v2 key=${key} stamp=${stamp}`;
}

/**
 * The statements' readers of the cohorts of `spec` whose memo holds the members of the data the context
 * saw: name → its table and check (read through `QueryContext.chCohortMemo`). Empty for a `merged`
 * analysis, and for a name any reference to which is not behavioural.
 */
export function freshChMemos(
  spec: AnalysisSpec,
  ctx: ChContext,
  target: ClickHouseTarget,
): Map<string, (p: Params) => ChMemoRead> {
  const out = new Map<string, (p: Params) => ChMemoRead>();
  if (spec.identity === "merged" || ctx.distributed || !ctx.cohortStamp) return out;
  const refs = cohortRefs(spec);
  for (const name of new Set(refs.map((r) => r.name))) {
    const rs = refs.filter((r) => r.name === name);
    if (!rs.every((r) => r.def?.kind === "behavioural")) continue;
    const keys = new Set(rs.map((r) => memoKey(r, target)));
    if (keys.size !== 1) continue;
    const comment = memoComment([...keys][0], ctx.cohortStamp);
    if (ctx.cohortMemos.get(memoTableName(name)) !== comment) continue;
    const stamp = ctx.cohortStamp;
    out.set(name, (p) => {
      const db = p.str(target.database);
      const now = stampSql("system.parts", db, p.str(target.table));
      // The memo's own comment too: another table's load, or a save of the name with another
      // definition, may have replaced the memo since the context read it.
      const head = `(SELECT any(comment) FROM system.tables WHERE database = ${db} AND name = ${p.str(memoTableName(name))})`;
      return {
        table: `${quoteIdent(target.database)}.${quoteIdent(memoTableName(name))}`,
        // A scalar subquery: evaluated once per statement, before any row is read.
        guard: `((SELECT throwIf(${now} != ${p.str(stamp)} OR ${head} != ${p.str(comment)}, ${p.str(STALE_MEMO)})) = 0)`,
      };
    });
  }
  return out;
}

/** Whether an error is a statement's refusal to read a memo of other data. */
export function isStaleMemo(e: unknown): boolean {
  return e instanceof Error && e.message.includes("evx-stale-cohort-memo");
}

/** The stamp of the data now (one request). */
async function stampNow(client: ChClient, target: ClickHouseTarget) {
  const r = await client.rows<{ s: string }>(
    `SELECT ${stampSql("system.parts", "{db:String}", "{t:String}")} AS s`,
    { db: target.database, t: target.table },
  );
  return String(r[0]?.s ?? "");
}

/**
 * Evaluates the saved behavioural cohorts (or only `name`) over the table's data and keeps them (see
 * the module comment). Returns how many memos it wrote. Throws on a server error; a load landing while
 * it ran drops the memo it was writing (it would be of other data). `signal` stops it: the running
 * statement is killed, and `CREATE OR REPLACE` leaves the previous memo, whose stamp no longer matches.
 */
export async function refreshChCohortMemos(
  client: ChClient,
  target: ClickHouseTarget,
  store: CohortStore,
  opts: MemoRefreshOptions = {},
): Promise<number> {
  // A Distributed table's shards would each look for the memo table in an `IN` subquery (it lives on the
  // server evx talks to): not kept there; analyses evaluate the cohort.
  if (opts.distributed) return 0;
  // A table with an identity map answers `merged` by default, and a memo holds raw keys (freshChMemos
  // reads none for `merged`): evaluating every cohort over all history after each load would buy only
  // `--identity raw` analyses. Those evaluate per use.
  if (opts.identityMap) return 0;
  const saved = (await store.list()).filter(
    (c) => c.def.kind === "behavioural" && (opts.name === undefined || c.name === opts.name),
  );
  let written = 0;
  const { signal } = opts;
  for (const c of saved) {
    if (signal?.aborted) break;
    const ref: CohortRef = { name: c.name, def: c.def };
    const stamp = await stampNow(client, target);
    const p = new Params(undefined, "clickhouse");
    const members = cohortMembersSql(p, ref);
    const now = stampSql("system.parts", p.str(target.database), p.str(target.table));
    const guard = `(SELECT throwIf(${now} != ${p.str(stamp)}, ${p.str(STALE_MEMO)}) = 0)`;
    const table = quoteIdent(memoTableName(c.name));
    // The comment is hex digits and fixed words only (no user text), so it is spliced as a literal.
    await client.command(
      withResultSettings(
        `CREATE OR REPLACE TABLE ${table} ENGINE = Set
         COMMENT '${memoComment(memoKey(ref, target), stamp)}'
         AS ${onTable(`SELECT DISTINCT user_key FROM (${members}) WHERE ${guard}`, target.table)}`,
      ),
      chQueryParams(p.values),
      { signal },
    );
    // A load that landed while the members were read: the memo may be of either data; drop it.
    if ((await stampNow(client, target)) !== stamp) {
      await dropChCohortMemo(client, c.name);
      continue;
    }
    written++;
  }
  return written;
}

export interface MemoRefreshOptions {
  /** Only this cohort. */
  name?: string;
  distributed?: ChDistributed;
  /** The table has an identity map (`merged` by default): no memos. */
  identityMap?: boolean;
  signal?: AbortSignal;
}

/**
 * `refreshChCohortMemos` after a load or a save that succeeded: a failure (or Ctrl+C) leaves analyses
 * evaluating the cohorts per use.
 */
export async function keepChCohortsEvaluated(
  client: ChClient,
  target: ClickHouseTarget,
  store: CohortStore,
  opts: MemoRefreshOptions = {},
): Promise<void> {
  try {
    await refreshChCohortMemos(client, target, store, opts);
  } catch {}
}

/** Forgets a cohort's kept members (removed, or saved anew as a static cohort). */
export async function dropChCohortMemo(client: ChClient, name: string): Promise<void> {
  await client.command(`DROP TABLE IF EXISTS ${quoteIdent(memoTableName(name))}`);
}
