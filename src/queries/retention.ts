import { notInCohort } from "./cohorts.js";
import {
  type BuiltQuery,
  bitmapsFit,
  eventSql,
  Params,
  propFinite,
  propText,
  type QueryContext,
} from "./filters.js";
import type { RetentionCohort, RetentionResult, RetentionSpec } from "./spec.js";
import {
  addLocal,
  bucketSql,
  bucketsOf,
  checkBuckets,
  type Frame,
  frameOf,
  inRange,
  isoOf,
  localSql,
  localStart,
  periodDiffSql,
  toLocal,
  truncLocal,
  withClause,
} from "./time.js";

/** The time frame of a retention spec: offsets cover every period of every cohort. */
export function retentionFrame(spec: RetentionSpec) {
  const N = Math.max(1, Math.floor(spec.periods));
  const base = frameOf(spec.range);
  const capLocal = addLocal(spec.period, truncLocal(spec.period, toLocal(base.zone, base.hi - 1)), N);
  const f = frameOf(spec.range, capLocal);
  return { f, N, cap: localStart(f.zone, capLocal) };
}

/**
 * `stl (user_key, t0, cb)`: the cohort memberships with their cohort bucket (local wall-clock µs) and
 * the first START event `t0` that made them. `first`: one row per user, their first START in the range;
 * `recurring`: one row per user and bucket with a START in the range, `t0` the first in that bucket.
 */
export function cohortCtes(p: Params, spec: RetentionSpec, f: Frame): string[] {
  if (spec.cohort === "recurring") {
    const t = p.us("event_time");
    return [
      `stl AS (SELECT user_key, min(t) AS t0, cb
      FROM (SELECT user_key, ${t} AS t, ${bucketSql(p, localSql(p, f.zone, t), spec.period)} AS cb
              FROM events WHERE ${inRange(p, f)} AND ${eventSql(p, spec.start, spec.filters)})
     GROUP BY user_key, cb)`,
    ];
  }
  return [
    `st AS (SELECT user_key, min(${p.us("event_time")}) AS t0
      FROM events WHERE ${inRange(p, f)} AND ${eventSql(p, spec.start, spec.filters)} GROUP BY user_key)`,
    `stl AS (SELECT user_key, t0, ${bucketSql(p, localSql(p, f.zone, "t0"), spec.period)} AS cb FROM st)`,
  ];
}

/**
 * First-time retention. Rows: `kind = 'size'` `(cb, c)` users per cohort bucket; `kind = 'cell'`
 * `(cb, n, c)` — for `on`, users with a RETURN in period `n`; for `on-or-after`, users whose furthest
 * RETURN period is `n` (capped at periods-1); `kind = 'last'` `(c)` the last cached instant (µs).
 * `cb` is the cohort bucket's local wall-clock µs; shaping lists every bucket of the range.
 */
export function buildRetention(spec: RetentionSpec, ctx?: QueryContext): BuiltQuery {
  const p = new Params(ctx);
  const { f, N: periods, cap } = retentionFrame(spec);
  const P = spec.period;
  checkBuckets(f, P, "period");
  const N = p.big(periods);
  const ctes: string[] = [];
  ctes.push(...cohortCtes(p, spec, f));
  const ret = eventSql(p, spec.return, spec.filters);
  const lo = p.ts(p.big(f.lo));
  const bucketOf = (us: string) => bucketSql(p, localSql(p, f.zone, us), P);
  const cohorts = bucketsOf(f, P).length + 1;
  if (spec.mode === "on" && startIsReturn(spec) && bitmapsFit(ctx, cohorts + periods + 1)) {
    // Each user's first START event is itself a RETURN event, so period 0 keeps every user, and any
    // RETURN in a later bucket is after the start: cell n>0 = |cohort ∩ users active in bucket cb+n|,
    // one AND of two bitmaps instead of a join of every RETURN event with its user's cohort.
    const bm = `bitstring_agg(user_key, 0, ${Math.floor(ctx?.userKeyMax ?? 0)})`;
    ctes.push(`coh AS (SELECT cb, ${bm} AS bm FROM stl GROUP BY cb)`);
    ctes.push(`act AS (SELECT ${bucketOf("t")} AS b, ${bm} AS bm
      FROM (SELECT user_key, ${p.us("event_time")} AS t FROM events
             WHERE event_time >= ${lo} AND event_time < ${p.ts(p.big(cap))} AND ${ret}) GROUP BY b)`);
    ctes.push(`cells AS (
    SELECT c.cb, ${periodDiffSql(p, P, "c.cb", "a.b")} AS n, bit_count(c.bm & a.bm) AS c
      FROM coh c JOIN act a ON a.b > c.cb WHERE ${periodDiffSql(p, P, "c.cb", "a.b")} < ${N}
    UNION ALL
    SELECT cb, 0, count(*) FROM stl GROUP BY cb)`);
  } else if (spec.mode === "on") {
    // A user has a RETURN at or after t0 in bucket b iff their latest RETURN in b is: one row per
    // (user, bucket) joins the cohorts instead of one row per event. Only periods 0..N-1 of the last
    // cohort are reported, so later RETURN events cannot land in a cell.
    ctes.push(`rb AS (SELECT user_key, ${bucketOf("t")} AS b, max(t) AS tm
      FROM (SELECT user_key, ${p.us("event_time")} AS t FROM events
             WHERE event_time >= ${lo} AND event_time < ${p.ts(p.big(cap))} AND ${ret})
     GROUP BY ALL)`);
    ctes.push(`jl AS (SELECT s.cb, ${periodDiffSql(p, P, "s.cb", "r.b")} AS n
      FROM stl s JOIN rb r ON r.user_key = s.user_key AND r.tm >= s.t0)`);
    ctes.push(`cells AS (SELECT cb, n, count(*) AS c FROM jl WHERE n < ${N} GROUP BY cb, n)`);
  } else {
    // The latest RETURN at or after t0 is the user's latest RETURN overall, when that is after t0.
    ctes.push(
      `ru AS (SELECT user_key, max(${p.us("event_time")}) AS tm FROM events WHERE event_time >= ${lo} AND ${ret} GROUP BY user_key)`,
    );
    ctes.push(`jl AS (SELECT s.cb, least(${periodDiffSql(p, P, "s.cb", bucketOf("r.tm"))}, ${N} - 1) AS n
      FROM stl s JOIN ru r ON r.user_key = s.user_key AND r.tm >= s.t0)`);
    ctes.push(`cells AS (SELECT cb, n, count(*) AS c FROM jl GROUP BY cb, n)`);
  }
  let valueSelect = "";
  if (spec.value !== undefined) {
    // The RETURN events behind each cell, with their finite numbers (docs/semantics.md, "Value").
    const upper = spec.mode === "on" ? ` AND event_time < ${p.ts(p.big(cap))}` : "";
    ctes.push(`rv AS (SELECT user_key, t, v
      FROM (SELECT user_key, ${p.us("event_time")} AS t, ${propFinite(p, spec.value)} AS v
              FROM events WHERE event_time >= ${lo}${upper} AND ${ret})
     WHERE v IS NOT NULL)`);
    const n = periodDiffSql(p, P, "s.cb", bucketOf("r.t"));
    ctes.push(`vj AS (SELECT s.cb, ${spec.mode === "on" ? n : `least(${n}, ${N} - 1)`} AS n, r.v
      FROM stl s JOIN rv r ON r.user_key = s.user_key AND r.t >= s.t0)`);
    ctes.push(`vc AS (SELECT cb, n, ${p.fsum("v")} AS v FROM vj WHERE n < ${N} GROUP BY cb, n)`);
    valueSelect = `
UNION ALL
SELECT 'value', cb, n, NULL, v FROM vc`;
  }
  const by = spec.breakdown !== undefined || spec.cohortBreakdown !== undefined;
  const bySelect = by ? breakdownSelect(p, ctes, spec, f, periods, cap) : "";
  const more = by ? ", NULL, NULL, NULL" : "";
  // The last event: from the engine's metadata when it has it, else read from the table.
  const last = ctx?.lastEventUs;
  const lastSql =
    last === undefined
      ? `${p.us("max(event_time)")}, NULL${more} FROM ${p.wholeEvents}`
      : `${last === null ? p.nullOf("BIGINT") : p.big(last)}, NULL${more}`;
  const sql = `${withClause(ctes)}SELECT 'size' AS kind, cb, ${p.nullOf("BIGINT")} AS n, count(*) AS c, ${p.nullOf("DOUBLE")} AS v${by ? `, ${p.nullOf("BIGINT")} AS g, ${p.nullOf("BIGINT")} AS r, ${p.nullText} AS label` : ""} FROM stl GROUP BY cb
UNION ALL
SELECT 'cell', cb, n, c, NULL${more} FROM cells
UNION ALL
SELECT 'last', NULL, NULL, ${lastSql}${valueSelect.replace(/FROM vc$/, `${more} FROM vc`)}${bySelect}`;
  return { sql, params: p.values };
}

/** Default number of breakdown values with their own table. */
export const RETENTION_BREAKDOWN_LIMIT = 5;

/**
 * `--breakdown KEY` (docs/semantics.md, "Retention breakdown"): the memberships of `stl` again, each
 * with the KEY text of the START event at its `t0` (the least text in byte order when several START
 * events share that instant; unset only when all are), ranked by users into top values `g = 0` (rank
 * `r`), `(other)` `g = 1` and `(none)` `g = 2`; then the sizes, cells and values per group, as rows
 * `bsize`, `bcell`, `bvalue` with `g, r, label`.
 */
function breakdownSelect(
  p: Params,
  ctes: string[],
  spec: RetentionSpec,
  f: Frame,
  periods: number,
  cap: number,
): string {
  const N = p.big(periods);
  if (spec.cohortBreakdown) {
    // `cohort:A,B`: per cohort, its users' memberships (rank 2i + 1) and the others' (2i + 2).
    ctes.push(
      `stg AS (${spec.cohortBreakdown
        .map((ref, i) => {
          return `SELECT user_key, t0, cb, 0 AS g, ${2 * i + 1} AS r, ${p.str(ref.name)} AS label FROM stl WHERE ${p.inCohort("user_key", ref)}
      UNION ALL SELECT user_key, t0, cb, 0 AS g, ${2 * i + 2} AS r, ${p.str(notInCohort(ref.name))} AS label FROM stl WHERE ${p.inCohort("user_key", ref, true)}`;
        })
        .join("\n      UNION ALL ")})`,
    );
  } else groupByProperty(p, ctes, spec, f);
  return breakdownTables(p, ctes, spec, f, N, cap);
}

/** `stg` of a property breakdown: memberships with their START event's text, ranked. */
function groupByProperty(p: Params, ctes: string[], spec: RetentionSpec, f: Frame): void {
  const key = spec.breakdown as string;
  const bucketOf = (us: string) => bucketSql(p, localSql(p, f.zone, us), spec.period);
  const recurring = spec.cohort === "recurring";
  const limit = p.big(Math.max(0, Math.floor(spec.limit ?? RETENTION_BREAKDOWN_LIMIT)));
  ctes.push(`sbt AS (SELECT user_key, t, ${recurring ? "cb, " : ""}min(b) AS b
      FROM (SELECT user_key, ${p.us("event_time")} AS t, ${recurring ? `${bucketOf(p.us("event_time"))} AS cb, ` : ""}${propText(p, key)} AS b
              FROM events WHERE ${inRange(p, f)} AND ${eventSql(p, spec.start, spec.filters)})
     GROUP BY user_key, t${recurring ? ", cb" : ""})`);
  // The text at the membership's first instant (one row per user and instant, so no ties).
  const at = (x: string) => p.maxLast(["-t", x]);
  ctes.push(`sb AS (SELECT user_key, ${recurring ? "cb, " : ""}min(t) AS t0, ${at("CASE WHEN b IS NULL THEN 1 ELSE 0 END")} AS bn, ${at("coalesce(b, '')")} AS bt
      FROM sbt GROUP BY user_key${recurring ? ", cb" : ""})`);
  ctes.push(
    `stb AS (SELECT user_key, t0, ${recurring ? "cb" : `${bucketOf("t0")} AS cb`}, CASE WHEN bn = 1 THEN ${p.nullText} ELSE bt END AS b FROM sb)`,
  );
  ctes.push(`brk AS (
    SELECT b, row_number() OVER (ORDER BY count(DISTINCT user_key) DESC, b) AS r
      FROM stb WHERE b IS NOT NULL GROUP BY b)`);
  ctes.push(`stg AS (
    SELECT s.user_key AS user_key, s.t0 AS t0, s.cb AS cb,
           CASE WHEN s.b IS NULL THEN 2 WHEN k.r <= ${limit} THEN 0 ELSE 1 END AS g,
           CASE WHEN s.b IS NOT NULL AND k.r <= ${limit} THEN k.r ELSE 0 END AS r,
           CASE WHEN s.b IS NOT NULL AND k.r <= ${limit} THEN s.b END AS label
      FROM stb s LEFT JOIN brk k ON k.b = s.b)`);
}

/** Sizes, cells and values per group of `stg` (rows `bsize`, `bcell`, `bvalue`). */
function breakdownTables(
  p: Params,
  ctes: string[],
  spec: RetentionSpec,
  f: Frame,
  N: string,
  cap: number,
): string {
  const P = spec.period;
  const bucketOf = (us: string) => bucketSql(p, localSql(p, f.zone, us), P);
  const ret = eventSql(p, spec.return, spec.filters);
  const lo = p.ts(p.big(f.lo));
  if (spec.mode === "on") {
    ctes.push(`brb AS (SELECT user_key, ${bucketOf("t")} AS b, max(t) AS tm
      FROM (SELECT user_key, ${p.us("event_time")} AS t FROM events
             WHERE event_time >= ${lo} AND event_time < ${p.ts(p.big(cap))} AND ${ret})
     GROUP BY user_key, b)`);
    ctes.push(`bjl AS (SELECT s.cb AS cb, s.g AS g, s.r AS r, s.label AS label, ${periodDiffSql(p, P, "s.cb", "x.b")} AS n
      FROM stg s JOIN brb x ON x.user_key = s.user_key AND x.tm >= s.t0)`);
    ctes.push(
      `bcells AS (SELECT cb, g, r, label, n, count(*) AS c FROM bjl WHERE n < ${N} GROUP BY cb, g, r, label, n)`,
    );
  } else {
    ctes.push(
      `bru AS (SELECT user_key, max(${p.us("event_time")}) AS tm FROM events WHERE event_time >= ${lo} AND ${ret} GROUP BY user_key)`,
    );
    ctes.push(`bjl AS (SELECT s.cb AS cb, s.g AS g, s.r AS r, s.label AS label, least(${periodDiffSql(p, P, "s.cb", bucketOf("x.tm"))}, ${N} - 1) AS n
      FROM stg s JOIN bru x ON x.user_key = s.user_key AND x.tm >= s.t0)`);
    ctes.push(`bcells AS (SELECT cb, g, r, label, n, count(*) AS c FROM bjl GROUP BY cb, g, r, label, n)`);
  }
  let values = "";
  if (spec.value !== undefined) {
    const n = periodDiffSql(p, P, "s.cb", bucketOf("x.t"));
    ctes.push(`bvj AS (SELECT s.cb AS cb, s.g AS g, s.r AS r, s.label AS label, ${spec.mode === "on" ? n : `least(${n}, ${N} - 1)`} AS n, x.v AS v
      FROM stg s JOIN rv x ON x.user_key = s.user_key AND x.t >= s.t0)`);
    ctes.push(
      `bvc AS (SELECT cb, g, r, label, n, ${p.fsum("v")} AS v FROM bvj WHERE n < ${N} GROUP BY cb, g, r, label, n)`,
    );
    values = `
UNION ALL
SELECT 'bvalue', cb, n, NULL, v, g, r, label FROM bvc`;
  }
  return `
UNION ALL
SELECT 'bsize', cb, NULL, count(*), NULL, g, r, label FROM stg GROUP BY cb, g, r, label
UNION ALL
SELECT 'bcell', cb, n, c, NULL, g, r, label FROM bcells${values}`;
}

/**
 * True when every user's first START event also matches RETURN (RETURN is `*`, or the START event
 * with no extra filters of its own), so each cohort keeps all its users in period 0.
 */
function startIsReturn(spec: RetentionSpec): boolean {
  if (spec.return.event === "*") return spec.return.filters.length === 0;
  if (spec.return.event !== spec.start.event) return false;
  const startFilters = new Set(spec.start.filters.map((x) => JSON.stringify(x)));
  return spec.return.filters.every((x) => startFilters.has(JSON.stringify(x)));
}

export function shapeRetention(rows: Record<string, unknown>[], spec: RetentionSpec): RetentionResult {
  const last = rows.find((r) => r.kind === "last");
  const lastUs = last?.c == null ? Number.NEGATIVE_INFINITY : Number(last.c);
  const overall = tableOf(
    rows.filter((r) => r.kind === "size" || r.kind === "cell" || r.kind === "value"),
    spec,
    lastUs,
  );
  const result: RetentionResult = {
    period: spec.period,
    mode: spec.mode,
    cohort: spec.cohort ?? "first",
    cohorts: overall.cohorts,
    average: overall.average as number[],
  };
  if (spec.breakdown !== undefined || spec.cohortBreakdown !== undefined) {
    const groups = new Map<
      string,
      { g: number; r: number; value: string; rows: Record<string, unknown>[] }
    >();
    for (const row of rows) {
      if (row.kind !== "bsize" && row.kind !== "bcell" && row.kind !== "bvalue") continue;
      const g = Number(row.g);
      const r = Number(row.r);
      const id = `${g}:${r}`;
      let grp = groups.get(id);
      if (!grp) {
        grp = { g, r, value: g === 0 ? String(row.label) : g === 1 ? "(other)" : "(none)", rows: [] };
        groups.set(id, grp);
      }
      grp.rows.push({ ...row, kind: String(row.kind).slice(1) });
    }
    result.breakdown = [...groups.values()]
      .sort((a, b) => a.g - b.g || a.r - b.r)
      .map((grp) => ({ value: grp.value, ...tableOf(grp.rows, spec, lastUs) }));
  }
  return result;
}

/** One retention table (cohorts and average) from its `size`, `cell` and `value` rows. */
function tableOf(
  rows: Record<string, unknown>[],
  spec: RetentionSpec,
  last: number,
): { cohorts: RetentionCohort[]; average: (number | null)[] } {
  const { f, N } = retentionFrame(spec);
  const sizes = new Map<number, number>();
  const cells = new Map<number, number[]>();
  const values = new Map<number, number[]>();
  for (const r of rows) {
    if (r.kind === "size") sizes.set(Number(r.cb), Number(r.c));
    else if (r.kind === "value") {
      const list = values.get(Number(r.cb)) ?? new Array<number>(N).fill(0);
      values.set(Number(r.cb), list);
      const n = Number(r.n);
      if (n >= 0 && n < N) list[n] += Number(r.v ?? 0);
    } else if (r.kind === "cell") {
      const cb = Number(r.cb);
      const n = Number(r.n);
      let list = cells.get(cb);
      if (!list) {
        list = new Array<number>(N).fill(0);
        cells.set(cb, list);
      }
      if (n >= 0 && n < N) list[n] += Number(r.c);
    }
  }
  const cohorts: RetentionCohort[] = bucketsOf(f, spec.period).map((b) => {
    const retained = [...(cells.get(b.local) ?? new Array<number>(N).fill(0))];
    const value = [...(values.get(b.local) ?? new Array<number>(N).fill(0))];
    if (spec.mode === "on-or-after")
      for (let n = N - 2; n >= 0; n--) {
        retained[n] += retained[n + 1];
        value[n] += value[n + 1];
      }
    let incomplete: number | null = null;
    for (let n = 0; n < N; n++) {
      if (localStart(f.zone, addLocal(spec.period, b.local, n + 1)) > last) {
        incomplete = n;
        break;
      }
    }
    const cohort: RetentionCohort = {
      cohort: isoOf(b.start),
      users: sizes.get(b.local) ?? 0,
      retained,
      incomplete_from: incomplete,
    };
    if (spec.value !== undefined) cohort.value = value;
    return cohort;
  });
  const average: (number | null)[] = [];
  for (let n = 0; n < N; n++) {
    let kept = 0;
    let users = 0;
    for (const c of cohorts) {
      const complete = c.incomplete_from === null || n < c.incomplete_from;
      if (complete && c.users > 0) {
        kept += c.retained[n];
        users += c.users;
      }
    }
    average.push(users ? kept / users : null);
  }
  return { cohorts, average };
}
