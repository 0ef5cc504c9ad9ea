/**
 * The ClickHouse engine's builders on real ClickHouse, in process (chdb): a cache's events are copied
 * into a ClickHouse events table (evx's own DDL and props map), and specs run through
 * `buildQuery(spec, ctx, "clickhouse")` and the same shapers as DuckDB. With `EVX_TEST_ENGINE=clickhouse`
 * the analysis suites (golden, cross-checks, property, drill-down, time zones) run on it instead of
 * DuckDB, so the suite that proves one engine proves the other.
 */

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Session } from "chdb";
import type { Cache, Row } from "../../src/cache/db.js";
import { buildRange, shapeRange } from "../../src/queries/catalog.js";
import { identityDdl, identityTables, rebuildChIdentity } from "../../src/queries/clickhouse/identity.js";
import { MATERIALIZED_CTE_SETTING, materializeShared } from "../../src/queries/clickhouse/materialize.js";
import {
  CH_SETTINGS,
  chQueryParams,
  eventsDdl,
  onTable,
  propsMapSql,
} from "../../src/queries/clickhouse/schema.js";
import { buildQuery, type RunOutput, shapeResult } from "../../src/queries/executor.js";
import type { BuiltQuery } from "../../src/queries/filters.js";
import { CH_EVENTS_SOURCE, chIdentitySql } from "../../src/queries/identity.js";
import { duckUntagJsonSql } from "../../src/queries/numtext.js";
import type { AnalysisSpec, Coverage, DateRange, ResultOf } from "../../src/queries/spec.js";
import { resolvedRange } from "../../src/queries/time.js";

let session: Session | null = null;
let sessionDir = "";
let tables = 0;
/**
 * Bumped by every statement that may write (anything but a SELECT, WITH or EXPLAIN through `chRows`,
 * and anything run on the session handed out by `chSession`): an engine's remembered answers hold only
 * while it is unchanged.
 */
let writes = 0;

/** One chdb session per process (chdb allows one). Its caller may write: remembered answers lapse. */
export function chSession(): Session {
  writes++;
  return openSession();
}

function openSession(): Session {
  if (!session) {
    sessionDir = mkdtempSync(join(tmpdir(), "evx-chdb-"));
    session = new Session(sessionDir);
    process.on("exit", () => {
      try {
        session?.close?.();
      } catch {}
      rmSync(sessionDir, { recursive: true, force: true });
    });
  }
  return session;
}

const SETTINGS = ` SETTINGS ${Object.entries(CH_SETTINGS)
  .map(([k, v]) => `${k} = ${v}`)
  .join(", ")}`;

/**
 * Runs SQL with bound parameters; rows as JSONEachRow objects. `materialized`: the SQL has CTEs written
 * `AS MATERIALIZED` (queries/clickhouse/materialize.ts), which take effect under their setting.
 */
export function chRows(sql: string, params: Record<string, unknown> = {}, materialized = false): Row[] {
  return parseRows(chText(sql, params, materialized));
}

const isRead = (sql: string) => /^\s*(WITH|SELECT|EXPLAIN)\b/i.test(sql);

function chText(sql: string, params: Record<string, unknown>, materialized = false): string {
  if (!isRead(sql)) writes++;
  const extra = materialized ? `, ${MATERIALIZED_CTE_SETTING} = 1` : "";
  return openSession().queryBind(`${sql}${SETTINGS}${extra}`, params, "JSONEachRow");
}

function parseRows(text: string): Row[] {
  return text
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Row);
}

const NO_COVERAGE: Coverage = {
  partitions_in_range: 0,
  partitions_synced: 0,
  missing: [],
  failed: [],
  rejected_lines: 0,
  last_event: null,
};

export class ChdbEngine {
  readonly engine = "clickhouse" as const;
  /**
   * The answers of the statements run so far (their text, by SQL and parameters), while nothing was
   * written: a statement run again on the same data is answered from here rather than planned and run
   * again (chdb spends 50-300 ms of CPU planning each of these statements, whatever the data's size).
   * The suites ask the same statement more than once where two of their paths build the same SQL on
   * ClickHouse, e.g. the cross-check's plan with and without the cache context.
   */
  private readonly answers = new Map<string, { writes: number; text: string }>();
  private constructor(readonly table: string) {}

  /**
   * A new ClickHouse table holding the cache's events, as `evx clickhouse load` would store them (the
   * cache's tagged numbers written back as the line wrote them).
   */
  static async fromCache(cache: Cache, dir: string): Promise<ChdbEngine> {
    const table = `events_t${process.pid}_${++tables}`;
    const file = join(dir, `${table}.jsonl`);
    await cache.run(
      `COPY (SELECT e.event_type, epoch_us(e.event_time) AS us, u.user_id AS user_key,
                    coalesce(${duckUntagJsonSql("CAST(e.properties AS VARCHAR)")}, '{}') AS properties, strftime(o.date, '%Y-%m-%d') AS date
               FROM events e JOIN users u ON u.user_key = e.user_key JOIN objects o ON o.object_id = e.object_id)
         TO '${file.replace(/'/g, "''")}' (FORMAT JSON)`,
    );
    const s = chSession();
    s.query(eventsDdl({ table }));
    s.query(`INSERT INTO ${table}
      SELECT event_type, fromUnixTimestamp64Micro(us, 'UTC'), user_key, properties, ${propsMapSql("properties")}, toDate(date)
        FROM file('${file.replace(/'/g, "\\'")}', 'JSONEachRow', 'event_type String, us Int64, user_key String, properties String, date String')`);
    // The identity links the cache kept, resolved into the map by the load's own code.
    const links = join(dir, `${table}.links.jsonl`);
    await cache.run(
      `COPY (SELECT us.user_id AS src, ud.user_id AS dst, epoch_us(l.t) AS us, strftime(o.date, '%Y-%m-%d') AS date
               FROM identity_links l JOIN users us ON us.user_key = l.src_key JOIN users ud ON ud.user_key = l.dst_key
               JOIN objects o ON o.object_id = l.object_id)
         TO '${links.replace(/'/g, "''")}' (FORMAT JSON)`,
    );
    for (const ddl of identityDdl(table)) s.query(ddl);
    s.query(`INSERT INTO ${identityTables(table).links}
      SELECT toDate(date), src, dst, fromUnixTimestamp64Micro(us, 'UTC')
        FROM file('${links.replace(/'/g, "\\'")}', 'JSONEachRow', 'src String, dst String, us Int64, date String')`);
    await rebuildChIdentity(
      {
        rows: async (sql, params) => chRows(sql, params),
        command: async (sql, params) => {
          chSession().queryBind(sql, params ?? {}, "JSONEachRow");
        },
      },
      table,
    );
    return new ChdbEngine(table);
  }

  /** The builders' SQL on this table (and, `merged`, its identity map). */
  private on(sql: string): string {
    return sql.includes(CH_EVENTS_SOURCE)
      ? chIdentitySql(sql, this.table, identityTables(this.table).map)
      : onTable(sql, this.table);
  }

  /** As the ClickHouse engine sends it to a server that can: shared aggregated CTEs materialized. */
  async query(q: BuiltQuery): Promise<Row[]> {
    const m = materializeShared(this.on(q.sql));
    return this.rows(m.sql, chQueryParams(q.params), m.count > 0);
  }

  async all(sql: string): Promise<Row[]> {
    return this.rows(this.on(sql), {});
  }

  private rows(sql: string, params: Record<string, unknown>, materialized = false): Row[] {
    if (!isRead(sql)) return parseRows(chText(sql, params));
    const key = `${sql}\n${JSON.stringify(params)}`;
    const known = this.answers.get(key);
    if (known && known.writes === writes) return parseRows(known.text);
    const text = chText(sql, params, materialized);
    this.answers.set(key, { writes, text });
    return parseRows(text);
  }

  async identityDefault(): Promise<"merged" | "raw"> {
    return "merged";
  }

  async run<S extends AnalysisSpec>(spec: S): Promise<RunOutput<ResultOf<S>>> {
    const started = performance.now();
    // The data's extent, which the ClickHouse executor passes from its context: lifecycle chooses its
    // plan by the first event (rangeUsersFirst) and retention reads the last, so the cross-checks run
    // the statements the server would.
    const extent =
      spec.kind === "retention" || spec.kind === "lifecycle"
        ? (await this.query(buildRange("clickhouse")))[0]
        : undefined;
    const ext = (v: unknown) => (v == null ? null : Number(v));
    const built = buildQuery(
      spec,
      {
        engine: "clickhouse",
        ...(extent ? { firstEventUs: ext(extent.lo), lastEventUs: ext(extent.hi) } : {}),
      },
      "clickhouse",
    );
    const rows = await this.query(built);
    return {
      result: shapeResult(spec, rows),
      range: "range" in spec && spec.range ? resolvedRange(spec.range) : null,
      coverage: NO_COVERAGE,
      sql: built.sql,
      params: built.params,
      ms: performance.now() - started,
    };
  }

  async lastEventUs(): Promise<number | null> {
    const r = await this.query(buildRange("clickhouse"));
    return r[0]?.hi == null ? null : Number(r[0].hi);
  }

  async resolveRange(partial: { from?: string; to?: string; tz?: string } = {}): Promise<DateRange> {
    const tz = partial.tz ?? "UTC";
    const cached = shapeRange(await this.query(buildRange("clickhouse")), tz);
    if (!cached) throw new Error("no events");
    return { from: partial.from ?? cached.from, to: partial.to ?? cached.to, tz };
  }

  close(): void {
    try {
      chSession().query(`DROP TABLE IF EXISTS ${this.table}`);
      for (const t of Object.values(identityTables(this.table)))
        chSession().query(`DROP TABLE IF EXISTS ${t}`);
    } catch {}
  }
}
