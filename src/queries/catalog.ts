import { type BuiltQuery, Params } from "./filters.js";
import type { CatalogResult, CatalogRow, CatalogSpec, DateRange } from "./spec.js";
import { inRange, rangeSql, withClause } from "./time.js";

/** Per event type in the range: rows, distinct users, first/last instant. */
export function buildCatalog(spec: CatalogSpec): BuiltQuery {
  const p = new Params();
  const r = spec.range ? rangeSql(p, spec.range) : null;
  const where = r ? inRange(r) : "true";
  const sql = `${withClause([r?.cte ?? ""])}SELECT event_type, count(*) AS events, count(DISTINCT user_key) AS users,
       min(event_time) AS first_seen, max(event_time) AS last_seen
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

/**
 * The cached range as calendar dates in `tz`: one row `{from, to}` (both null on an empty cache).
 * This is the default range of every analysis.
 */
export function buildRange(tz: string): BuiltQuery {
  const p = new Params();
  const z = p.str(tz);
  const sql = `SELECT strftime(timezone(${z}, min(event_time)), '%Y-%m-%d') AS "from",
       strftime(timezone(${z}, max(event_time)), '%Y-%m-%d') AS "to"
  FROM events`;
  return { sql, params: p.values };
}

export function shapeRange(rows: Record<string, unknown>[], tz: string): DateRange | null {
  const r = rows[0];
  if (!r || r.from == null || r.to == null) return null;
  return { from: String(r.from), to: String(r.to), tz };
}
