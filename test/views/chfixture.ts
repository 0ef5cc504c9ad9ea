/**
 * The screen tests' ClickHouse: a small cache's events copied into a ClickHouse `events` table served
 * by the loopback adapter (test/helpers/chhttp.ts: ClickHouse's HTTP protocol, backed by chdb), with
 * the bookkeeping `evx clickhouse load` keeps (the listing and a load per date), so the TUI runs on the
 * real `ClickHouseExecutor` and the official client over HTTP. One adapter per test process (chdb
 * allows one session per process).
 */
import { join } from "node:path";
import type { Cache } from "../../src/cache/db.js";
import { bookkeepingDdl, bookkeepingTables } from "../../src/queries/clickhouse/coverage.js";
import { ClickHouseExecutor } from "../../src/queries/clickhouse/executor.js";
import { eventsDdl, propsMapSql } from "../../src/queries/clickhouse/schema.js";
import { duckUntagJsonSql } from "../../src/queries/numtext.js";
import type { QueryRunner } from "../../src/views/hooks/useQuery.js";
import { type ChSession, chSessionFor } from "../../src/views/state/chsession.js";
import { type ChHttpServer, startChHttp } from "../helpers/chhttp.js";

/** A date the listing has and the table does not (the Sync tab shows it `not loaded`). */
export const UNLOADED_DATE = "2023-06-15";
/** The date whose last load rejected lines. */
export const REJECTS_DATE = "2023-06-03";
export const REJECTED = 3;
export const LOADED_AT = "2023-06-16 08:30:00.000";

export interface ChLake {
  srv: ChHttpServer;
  /** `http://127.0.0.1:PORT/default` */
  url: string;
  /** Per date: objects and bytes in the cache (the listing), events (the table's rows). */
  dates: { date: string; objects: number; bytes: number; events: number }[];
}

/** Starts the adapter and loads the cache's events into `default.events`, with load bookkeeping. */
export async function chLakeFrom(
  cache: Cache,
  dir: string,
  auth: { user?: string; password?: string } = {},
): Promise<ChLake> {
  const srv = await startChHttp(auth);
  const file = join(dir, "ch-events.jsonl");
  await cache.run(
    `COPY (SELECT e.event_type, epoch_us(e.event_time) AS us, u.user_id AS user_key,
                  coalesce(${duckUntagJsonSql("CAST(e.properties AS VARCHAR)")}, '{}') AS properties, strftime(o.date, '%Y-%m-%d') AS date
             FROM events e JOIN users u ON u.user_key = e.user_key JOIN objects o ON o.object_id = e.object_id)
       TO '${file.replace(/'/g, "''")}' (FORMAT JSON)`,
  );
  await srv.exec(eventsDdl({ table: "events" }));
  await srv.exec(`INSERT INTO events
    SELECT event_type, fromUnixTimestamp64Micro(us, 'UTC'), user_key, properties, ${propsMapSql("properties")}, toDate(date)
      FROM file('${file.replace(/'/g, "\\'")}', 'JSONEachRow', 'event_type String, us Int64, user_key String, properties String, date String')`);
  const dates = (
    await cache.all<{ date: string; objects: number; bytes: number; events: number }>(
      `SELECT strftime(date, '%Y-%m-%d') AS date, count(*)::INTEGER AS objects, sum(size)::BIGINT AS bytes,
              sum(events)::BIGINT AS events
         FROM objects GROUP BY date ORDER BY date`,
    )
  ).map((r) => ({
    date: r.date,
    objects: Number(r.objects),
    bytes: Number(r.bytes),
    events: Number(r.events),
  }));
  for (const sql of bookkeepingDdl("events")) await srv.exec(sql);
  const { listing, loads } = bookkeepingTables("events");
  const listed = [...dates, { date: UNLOADED_DATE, objects: 1, bytes: 512, events: 0 }];
  await srv.exec(
    `INSERT INTO ${listing} FORMAT JSONEachRow\n${listed
      .map((d) =>
        JSON.stringify({
          listed_at: LOADED_AT,
          source: "s3://lake/raw",
          date: d.date,
          objects: d.objects,
          bytes: d.bytes,
        }),
      )
      .join("\n")}\n`,
  );
  await srv.exec(
    `INSERT INTO ${loads} FORMAT JSONEachRow\n${dates
      .map((d) =>
        JSON.stringify({
          loaded_at: LOADED_AT,
          date: d.date,
          status: "ok",
          objects: d.objects,
          bytes: d.bytes,
          rows: d.events,
          rejected: d.date === REJECTS_DATE ? REJECTED : 0,
          fingerprint: "f",
          error: "",
          source: "s3://lake/raw",
        }),
      )
      .join("\n")}\n`,
  );
  return { srv, url: `${srv.url}/default`, dates };
}

/** A ClickHouse session on the lake (its own engine; close it). `wrap` may wrap the engine's runner. */
export function chTestSession(lake: ChLake, wrap?: (engine: QueryRunner) => QueryRunner): ChSession {
  const engine = ClickHouseExecutor.open({ chUrl: lake.url, chTable: "events" }, { maxAttempts: 2 });
  const runner = engine as unknown as QueryRunner;
  return chSessionFor(engine, { runner: wrap ? wrap(runner) : runner });
}
