/**
 * `evx clickhouse schema --apply`: creates the database, the events table and the load's bookkeeping on
 * the server of `--ch-url`, through the same HTTP client the analyses use, idempotently (every
 * statement is `IF NOT EXISTS`; a second run changes nothing). An events table made before the time
 * index (schema.ts `TIME_INDEX`) gets it, and its existing parts are indexed in the background.
 */
import { ChClient, type ChClientOptions, type ClickHouseTarget } from "./client.js";
import { bookkeepingDdl } from "./coverage.js";
import { quoteIdent } from "./quote.js";
import { eventsDdl, TIME_INDEX } from "./schema.js";

/** The statements of the schema, in order: events table(s), then the bookkeeping. */
export function schemaStatements(table: string, cluster?: string): string[] {
  return [
    ...eventsDdl({ table, cluster })
      .split(/;\s*\n\s*\n/)
      .map((s) => s.replace(/;\s*$/, "").trim())
      .filter(Boolean),
    ...bookkeepingDdl(table, cluster),
  ];
}

export interface ApplyReport {
  database: string;
  /** The statements run, in order. */
  statements: string[];
  /** The time index was added to an existing table (its parts are indexed by a background mutation). */
  indexAdded: boolean;
}

/** Applies the schema (see the module comment). */
export async function applySchema(
  target: ClickHouseTarget,
  opts: { cluster?: string; signal?: AbortSignal },
  clientOpts: ChClientOptions = {},
): Promise<ApplyReport> {
  const on = opts.cluster ? ` ON CLUSTER ${quoteIdent(opts.cluster)}` : "";
  const statements: string[] = [];
  // The database may not exist yet: this one statement runs in `system`, which always does.
  const sys = new ChClient({ ...target, database: "system" }, clientOpts);
  try {
    const sql = `CREATE DATABASE IF NOT EXISTS ${quoteIdent(target.database)}${on}`;
    await sys.command(sql, {}, { signal: opts.signal });
    statements.push(sql);
  } finally {
    await sys.close();
  }
  const client = new ChClient(target, clientOpts);
  try {
    const local = opts.cluster ? `${target.table}_local` : target.table;
    const had = await client.rows<{ n: number }>(
      `SELECT count() AS n FROM system.tables WHERE database = {db:String} AND name = {t:String}`,
      { db: target.database, t: local },
      { signal: opts.signal },
    );
    for (const sql of schemaStatements(target.table, opts.cluster)) {
      await client.command(sql, {}, { signal: opts.signal });
      statements.push(sql);
    }
    let indexAdded = false;
    if (Number(had[0]?.n) > 0) {
      const idx = await client.rows<{ n: number }>(
        `SELECT count() AS n FROM system.data_skipping_indices
          WHERE database = {db:String} AND table = {t:String} AND name = {i:String}`,
        { db: target.database, t: local, i: TIME_INDEX.name },
        { signal: opts.signal },
      );
      if (!Number(idx[0]?.n)) {
        for (const sql of [
          `ALTER TABLE ${quoteIdent(local)}${on} ADD INDEX IF NOT EXISTS ${TIME_INDEX.name} ${TIME_INDEX.sql}`,
          `ALTER TABLE ${quoteIdent(local)}${on} MATERIALIZE INDEX ${TIME_INDEX.name}`,
        ]) {
          await client.command(sql, {}, { signal: opts.signal });
          statements.push(sql);
        }
        indexAdded = true;
      }
    }
    return { database: target.database, statements, indexAdded };
  } finally {
    await client.close();
  }
}
