/**
 * Drill-down: from a number of a trend, funnel or retention to the users behind it, and from a user to
 * their events (docs/semantics.md, "Drill-down"). Each selection reuses the analysis's own CTEs, so the
 * users listed are exactly the ones its number counts.
 */

import { UsageError } from "./errors.js";
import { type BuiltQuery, eventSql, Params, type QueryContext } from "./filters.js";
import { funnelUserCtes } from "./funnel.js";
import { isMerged } from "./identity.js";
import { parseKeepingNumbers } from "./jsonnumber.js";
import { duckUntagJsonSql } from "./numtext.js";
import { parsePathSelection, pathsSelection } from "./paths.js";
import { cohortCtes, retentionFrame } from "./retention.js";
import type {
  DateRange,
  FunnelSpec,
  Interval,
  RetentionSpec,
  TimelineResult,
  TimelineSpec,
  TrendSpec,
  UserSelection,
  UsersResult,
  UsersSpec,
} from "./spec.js";
import {
  addLocal,
  type Bucket,
  bucketSql,
  bucketsOf,
  frameOf,
  HOUR_US,
  inRange,
  instantText,
  localSql,
  localStart,
  periodDiffSql,
  readBound,
  withClause,
} from "./time.js";

/** How far past a bucket's first instant its last one can lie: its width plus a DST shift. */
function bucketReach(f: { zone: import("./time.js").Zone }, iv: Interval, b: Bucket): number {
  return localStart(f.zone, addLocal(iv, b.local, 1)) + 3 * HOUR_US;
}

/** The bucket of `iv` over `range` that starts at `t` (ISO instant, local date-time or date). */
export function bucketAt(range: DateRange, iv: Interval, t: string, what = "bucket"): Bucket {
  const f = frameOf(range);
  const b = readBound(t);
  const all = bucketsOf(f, iv);
  const hit = b ? all.find((x) => (b.kind === "instant" ? x.start === b.us : x.local === b.us)) : undefined;
  if (!hit) {
    const eg = all.length ? ` (e.g. ${instantText(all[0].start)})` : "";
    throw new UsageError(
      `${JSON.stringify(t)} is not the start of a ${iv} ${what} in the range${eg}; use a point's t from --json or its local time`,
    );
  }
  return hit;
}

/** `reached:N`, `dropped:N`, a bucket time `T`, or `COHORT:N[:lost]`, checked against the spec. */
export function parseUserSelection(text: string, of: UsersSpec["of"]): UserSelection {
  const s = text.trim();
  const bad = (why: string): never => {
    throw new UsageError(`bad --users-of ${JSON.stringify(text)}: ${why}`);
  };
  if (of.kind === "funnel") {
    const m = /^(reached|dropped):(\d+)$/.exec(s);
    if (!m) return bad("use reached:N or dropped:N");
    const step = Number(m[2]);
    const K = of.steps.length;
    if (m[1] === "dropped" && step < 2) return bad("dropped:N needs N ≥ 2 (nobody drops at the first step)");
    if (step < 1 || step > K) return bad(`the funnel has steps 1..${K}`);
    return { kind: m[1] as "reached" | "dropped", step };
  }
  if (of.kind === "trend")
    return { kind: "bucket", t: instantText(bucketAt(of.range, of.interval, s).start) };
  if (of.kind === "paths") return { kind: "path", path: parsePathSelection(s, of) };
  const m = /^(.+):(\d+)(:lost)?$/.exec(s);
  if (!m) return bad("use COHORT:N or COHORT:N:lost, e.g. 2023-06-05:1");
  const period = Number(m[2]);
  if (period >= of.periods) return bad(`the retention has periods 0..${of.periods - 1}`);
  const cohort = bucketAt(of.range, of.period, m[1], "cohort");
  return { kind: "cohort", cohort: instantText(cohort.start), period, lost: m[3] !== undefined };
}

/** `sel (user_key)`: the selected users, from the analysis's own CTEs. */
function selectionCtes(p: Params, spec: UsersSpec, ctx?: QueryContext): string[] {
  const sel = spec.select;
  const of = spec.of;
  if (of.kind === "paths") {
    if (sel.kind !== "path") throw new Error("paths select a node's path");
    return pathsSelection(p, of, sel.path, ctx);
  }
  if (of.kind === "funnel") return funnelSelection(p, of, sel);
  if (of.kind === "trend") return trendSelection(p, of, sel);
  return retentionSelection(p, of, sel);
}

function funnelSelection(p: Params, spec: FunnelSpec, sel: UserSelection): string[] {
  if (sel.kind !== "reached" && sel.kind !== "dropped") throw new Error("a funnel selects reached/dropped");
  const reached = (k: number) => (k <= 1 ? "true" : `d${k} IS NOT NULL`);
  const cond =
    sel.kind === "reached" ? reached(sel.step) : `${reached(sel.step - 1)} AND NOT (${reached(sel.step)})`;
  return [...funnelUserCtes(p, spec, frameOf(spec.range)), `sel AS (SELECT user_key FROM pu WHERE ${cond})`];
}

function trendSelection(p: Params, spec: TrendSpec, sel: UserSelection): string[] {
  if (sel.kind !== "bucket") throw new Error("a trend selects a bucket");
  const f = frameOf(spec.range);
  const b = bucketAt(spec.range, spec.interval, sel.t);
  const lo = Math.max(f.lo, b.start);
  const hi = Math.min(f.hi, bucketReach(f, spec.interval, b));
  const any = spec.events.map((ev) => `(${eventSql(p, ev, spec.filters)})`).join(" OR ");
  const bucket = bucketSql(p, localSql(p, f.zone, p.us("event_time")), spec.interval);
  return [
    `sel AS (SELECT DISTINCT user_key FROM events
      WHERE ${inRange(p, { zone: f.zone, lo, hi })} AND (${any}) AND ${bucket} = ${p.big(b.local)})`,
  ];
}

function retentionSelection(p: Params, spec: RetentionSpec, sel: UserSelection): string[] {
  if (sel.kind !== "cohort") throw new Error("a retention selects a cohort cell");
  const { f } = retentionFrame(spec);
  const c = bucketAt(spec.range, spec.period, sel.cohort, "cohort");
  const L = p.big(c.local);
  const n = p.big(sel.period);
  const cellStart = localStart(f.zone, addLocal(spec.period, c.local, sel.period));
  const cell = { local: addLocal(spec.period, c.local, sel.period), start: cellStart };
  const upper =
    spec.mode === "on" ? ` AND e.event_time < ${p.ts(p.big(bucketReach(f, spec.period, cell)))}` : "";
  const idx = periodDiffSql(
    p,
    spec.period,
    L,
    bucketSql(p, localSql(p, f.zone, p.us("e.event_time")), spec.period),
  );
  const ctes = cohortCtes(p, spec, f);
  ctes.push(`coh AS (SELECT user_key, t0 FROM stl WHERE cb = ${L})`);
  ctes.push(`kept AS (SELECT DISTINCT s.user_key FROM coh s JOIN events e ON e.user_key = s.user_key
      WHERE e.event_time >= ${p.ts(p.big(Math.max(f.lo, cellStart)))}${upper}
        AND ${eventSql(p, spec.return, spec.filters, "e.properties")} AND ${p.us("e.event_time")} >= s.t0
        AND ${idx} ${spec.mode === "on" ? "=" : ">="} ${n})`);
  ctes.push(
    sel.lost
      ? `sel AS (SELECT user_key FROM coh WHERE user_key NOT IN (SELECT user_key FROM kept))`
      : `sel AS (SELECT user_key FROM kept)`,
  );
  return ctes;
}

/**
 * The page of `rows` (a SELECT with `order`) and its total in one pass: every row is numbered and
 * counted by window functions, and the first `limit` rows are kept, plus the first row whatever the
 * limit, so `--limit 0` still returns the total (that row has `listed` false). A `count(*) OVER ()`
 * after a `LIMIT 0` would vanish with the rows, and counting apart would compute the selection twice.
 */
function pageWithTotal(p: Params, ctes: string[], rows: string, order: string, limit: number): string {
  const n = Math.max(0, Math.floor(limit));
  ctes.push(`numbered AS (SELECT r.*, row_number() OVER (ORDER BY ${order}) AS rn, count(*) OVER () AS total
      FROM (${rows}) r)`);
  return `${withClause(ctes)}SELECT *, rn <= ${p.big(n)} AS listed
  FROM numbered
 WHERE rn <= ${p.big(Math.max(1, n))}
 ORDER BY rn`;
}

/**
 * Rows `(user_id, events, first_seen, last_seen, rn, total, listed)`: the selected users sorted by
 * user_id, at most `limit` of them listed, each with their events of any type in the analysis range;
 * `total` counts all selected users, whatever the limit.
 */
export function buildUsers(spec: UsersSpec, ctx?: QueryContext): BuiltQuery {
  const p = new Params(ctx);
  const ctes = selectionCtes(p, spec, ctx);
  const f = frameOf(spec.of.range);
  ctes.push(`stats AS (SELECT user_key, count(*) AS events, ${p.iso("min(event_time)")} AS first_seen, ${p.iso("max(event_time)")} AS last_seen
      FROM events WHERE ${inRange(p, f)} AND user_key IN (SELECT user_key FROM sel) GROUP BY user_key)`);
  // DuckDB keys users by integers (the `users` table maps them back); ClickHouse keys them by the id.
  const [id, users] = p.ch
    ? ["sel.user_key", ""]
    : ["u.user_id", " JOIN users u ON u.user_key = sel.user_key"];
  // Merged identity: each person's other ids (the ids the map sends to it), in byte order.
  const merged = isMerged(spec);
  if (merged)
    ctes.push(
      p.ch
        ? `mids AS (SELECT person_key AS pk, arraySort(groupArray(user_key)) AS ids FROM identity_map
      WHERE person_key IN (SELECT user_key FROM sel) GROUP BY person_key)`
        : `mids AS (SELECT m.person_key AS pk, list(u2.user_id ORDER BY u2.user_id) AS ids
      FROM identity_map m JOIN users u2 ON u2.user_key = m.user_key
     WHERE m.person_key IN (SELECT user_key FROM sel) GROUP BY m.person_key)`,
    );
  const rows = `SELECT ${id} AS user_id, coalesce(s.events, 0) AS events, s.first_seen AS first_seen, s.last_seen AS last_seen${merged ? ", mids.ids AS merged_ids" : ""}
      FROM sel${users} LEFT JOIN stats s ON s.user_key = sel.user_key${merged ? " LEFT JOIN mids ON mids.pk = sel.user_key" : ""}`;
  return { sql: pageWithTotal(p, ctes, rows, "user_id", spec.limit), params: p.values };
}

/** The listed rows (with `--limit 0`, the one row returned only carries the total). */
const listed = (rows: Record<string, unknown>[]) => rows.filter((r) => Boolean(Number(r.listed)));

export function shapeUsers(rows: Record<string, unknown>[]): UsersResult {
  return {
    total: rows.length ? Number(rows[0].total) : 0,
    users: listed(rows).map((r) => ({
      user_id: String(r.user_id),
      ...("merged_ids" in r ? { merged_ids: idList(r.merged_ids) } : {}),
      events: Number(r.events),
      first_seen: String(r.first_seen),
      last_seen: String(r.last_seen),
    })),
  };
}

/**
 * Rows `(event_type, us, properties, listed, total)`: the user's events in the range in time order (ties
 * by event type, then property text), at most `limit`; `total` counts all of them, whatever the limit
 * (0 when the user has none in the range, or does not exist).
 */
export function buildTimeline(spec: TimelineSpec, ctx?: QueryContext): BuiltQuery {
  const p = new Params(ctx);
  const f = frameOf(spec.range);
  const types = spec.events.length
    ? ` AND event_type IN (${spec.events.map((e) => p.str(e)).join(", ")})`
    : "";
  // Tagged numbers (queries/numtext.ts) are written back as numbers, so they parse as JSON numbers.
  const props = p.ch ? "properties" : duckUntagJsonSql("CAST(properties AS VARCHAR)");
  const id = p.str(spec.user);
  const key = p.ch ? id : `(SELECT user_key FROM users WHERE user_id = ${id})`;
  if (!isMerged(spec)) {
    const rows = `SELECT event_type, ${p.us("event_time")} AS us, ${props} AS properties, event_time AS ord_time
      FROM events
     WHERE user_key = ${key} AND ${inRange(p, f)}${types}`;
    return {
      sql: pageWithTotal(p, [], rows, "ord_time, event_type, properties", spec.limit),
      params: p.values,
    };
  }
  // Merged identity: any of a person's ids gives the person's events; each row carries the person's
  // id and their other ids.
  const ctes = p.ch
    ? [
        `who AS (SELECT if(count() = 0, ${id}, any(person_key)) AS pk FROM identity_map WHERE user_key = ${id})`,
        `mids AS (SELECT arraySort(groupArray(user_key)) AS ids FROM identity_map WHERE person_key = (SELECT pk FROM who))`,
      ]
    : [
        `who AS (SELECT coalesce((SELECT person_key FROM identity_map WHERE user_key = ${key}), ${key}) AS pk)`,
        `mids AS (SELECT list(u.user_id ORDER BY u.user_id) AS ids FROM identity_map m JOIN users u ON u.user_key = m.user_key
      WHERE m.person_key = (SELECT pk FROM who))`,
      ];
  const person = p.ch
    ? "(SELECT pk FROM who)"
    : "(SELECT user_id FROM users WHERE user_key = (SELECT pk FROM who))";
  const rows = `SELECT event_type, ${p.us("event_time")} AS us, ${props} AS properties, event_time AS ord_time,
            ${person} AS person_id, (SELECT ids FROM mids) AS merged_ids
      FROM events
     WHERE user_key = (SELECT pk FROM who) AND ${inRange(p, f)}${types}`;
  return {
    sql: pageWithTotal(p, ctes, rows, "ord_time, event_type, properties", spec.limit),
    params: p.values,
  };
}

/** A list of ids from either engine (null: none). */
function idList(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

export function shapeTimeline(rows: Record<string, unknown>[], spec: TimelineSpec): TimelineResult {
  const first = rows[0];
  return {
    user_id: spec.user,
    ...(isMerged(spec)
      ? {
          person_id: first?.person_id != null ? String(first.person_id) : spec.user,
          merged_ids: idList(first?.merged_ids),
        }
      : {}),
    total: rows.length ? Number(rows[0].total) : 0,
    events: listed(rows).map((r) => ({
      event_type: String(r.event_type),
      event_time: instantText(Number(r.us)),
      properties: parseProps(r.properties),
    })),
  };
}

function parseProps(v: unknown): Record<string, unknown> {
  if (typeof v !== "string") return {};
  try {
    // Numbers keep their text (docs/semantics.md "Property text"): JSON.parse would print `19.0` as 19.
    const o = parseKeepingNumbers(v);
    return o && typeof o === "object" && !Array.isArray(o) ? (o as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}
