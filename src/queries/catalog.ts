import { type BuiltQuery, distinctUsers, type EngineName, Params, type QueryContext } from "./filters.js";
import type { CatalogResult, CatalogRow, CatalogSpec, DateRange } from "./spec.js";
import { frameOf, inRange, localToDate, toLocal, zoneBetween } from "./time.js";

/** Per event type in the range: rows, distinct users, first/last instant. */
export function buildCatalog(spec: CatalogSpec, ctx?: QueryContext): BuiltQuery {
  const p = new Params(ctx);
  const where = spec.range ? inRange(p, frameOf(spec.range)) : "true";
  // One user bitmap per event type; without the type count, assume many (the bitmaps then fit only
  // small caches).
  const sql = `SELECT event_type, count(*) AS events, ${distinctUsers(ctx, (ctx?.eventTypes ?? 1000) + 1)} AS users,
       ${p.iso("min(event_time)")} AS first_seen, ${p.iso("max(event_time)")} AS last_seen
  FROM events
 WHERE ${where}
 GROUP BY event_type
 ORDER BY events DESC, event_type`;
  return { sql, params: p.values };
}

export function shapeCatalog(rows: Record<string, unknown>[]): CatalogResult {
  return {
    events: rows.map(
      (r): CatalogRow => ({
        event_type: String(r.event_type),
        events: Number(r.events),
        users: Number(r.users),
        first_seen: String(r.first_seen),
        last_seen: String(r.last_seen),
      }),
    ),
  };
}

/** The first and last cached instants (µs); `shapeRange` turns them into dates in a zone. */
export function buildRange(engine: EngineName = "duckdb"): BuiltQuery {
  const p = new Params(undefined, engine);
  return {
    sql: `SELECT ${p.us("min(event_time)")} AS lo, ${p.us("max(event_time)")} AS hi FROM events`,
    params: [],
  };
}

/** The cached range as calendar dates in `tz` (null on an empty cache): the default analysis range. */
export function shapeRange(rows: Record<string, unknown>[], tz: string): DateRange | null {
  const r = rows[0];
  if (!r || r.lo == null || r.hi == null) return null;
  const lo = Number(r.lo);
  const hi = Number(r.hi);
  const z = zoneBetween(tz, lo, hi);
  return { from: localToDate(toLocal(z, lo)), to: localToDate(toLocal(z, hi)), tz };
}
