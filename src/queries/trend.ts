import {
  type BuiltQuery,
  bitmapsFit,
  distinctUsers,
  eventSql,
  Params,
  propNumber,
  propText,
  type QueryContext,
} from "./filters.js";
import { formatEventRef, formatMeasure } from "./parse.js";
import type { Measure, TrendResult, TrendSeries, TrendSpec } from "./spec.js";
import {
  bucketSql,
  bucketsOf,
  compareOffsetSeconds,
  frameOf,
  inRange,
  isoOf,
  localSql,
  withClause,
} from "./time.js";

/** The measure over a group of rows `(user_key, x)`, as a DOUBLE that is 0 for an empty group. */
function measureAgg(p: Params, m: Measure, users = "count(DISTINCT user_key)"): string {
  switch (m.kind) {
    case "events":
      return "CAST(count(*) AS DOUBLE)";
    case "users":
      return `CAST(${users} AS DOUBLE)`;
    case "per-user":
      return `CASE WHEN ${users} = 0 THEN 0.0 ELSE count(*) / ${users} END`;
    // Compensated summation (order-independent to the last bit in practice); fsum turns ±inf into NaN,
    // so infinite inputs fall back to the plain aggregate.
    case "sum":
      return `CASE WHEN ${p.anyTrue(`NOT ${p.isFinite("x")}`)} THEN sum(x) ELSE coalesce(${p.fsum("x")}, 0.0) END`;
    case "avg":
      return `CASE WHEN ${p.anyTrue(`NOT ${p.isFinite("x")}`)} THEN avg(x) ELSE coalesce(${p.favg("x")}, 0.0) END`;
    default:
      throw new Error(`unknown measure ${JSON.stringify((m as Measure).kind)}`);
  }
}

/**
 * Rows `(s, g, label, r, tot, bucket, v)`: `s` is the event index; `g` is 0 for a top breakdown value
 * (or no breakdown), 1 for `(other)`, 2 for `(none)`; `r` the value's rank; `tot = 1` rows hold the
 * series total, the others one bucket's value (`bucket` = local wall-clock µs of its start). Empty
 * buckets have no row; shaping fills them with 0.
 */
export function buildTrend(spec: TrendSpec, ctx?: QueryContext): BuiltQuery {
  const p = new Params(ctx);
  const f = frameOf(spec.range);
  const m = spec.measure;
  const x = m.kind === "sum" || m.kind === "avg" ? propNumber(p, m.key) : null;
  const b = spec.breakdown !== undefined ? propText(p, spec.breakdown) : null;
  const agg = measureAgg(p, m);
  // Period c = 0 is the range; c = 1 the compare period, its events shifted forward by the offset so
  // they fall into the range's own buckets.
  const offsets = spec.compare ? [0, compareOffsetSeconds(spec.range, spec.compare) * 1_000_000] : [0];
  const groups =
    offsets.length *
    spec.events.length *
    (b ? Math.max(0, spec.limit) + 2 : 1) *
    (bucketsOf(f, spec.interval).length + 1);
  const cols = `${x ? `, ${x} AS x` : ""}${b ? `, ${b} AS b` : ""}`;
  const scans = offsets.flatMap((off, c) => {
    const range = inRange(p, { zone: f.zone, lo: f.lo - off, hi: f.hi - off });
    const us = off ? `${p.us("event_time")} + ${p.big(off)}` : p.us("event_time");
    return spec.events.map(
      (ev, i) =>
        `SELECT ${i} AS s, ${c} AS c, user_key, ${us} AS us${cols}
         FROM events WHERE ${range} AND ${eventSql(p, ev, spec.filters)}`,
    );
  });
  const ctes: string[] = [];
  ctes.push(`ev AS (${scans.join("\n  UNION ALL\n  ")})`);
  ctes.push(
    `lev AS (SELECT s, c, user_key, ${bucketSql(p, localSql(p, f.zone, "us"), spec.interval)} AS bucket${x ? ", x" : ""}${b ? ", b" : ""}
      FROM ev)`,
  );
  if (b) {
    // Top values come from the range alone; the compare period's rows follow the same labels.
    const limit = p.big(Math.max(0, Math.floor(spec.limit)));
    ctes.push(`vt AS (SELECT s, b, ${agg} AS total FROM lev WHERE b IS NOT NULL AND c = 0 GROUP BY s, b)`);
    ctes.push(`rk AS (SELECT s, b, row_number() OVER (PARTITION BY s ORDER BY total DESC, b) AS r FROM vt)`);
    ctes.push(`lab AS (
    SELECT lev.s, lev.c, lev.user_key, lev.bucket${x ? ", lev.x" : ""},
           CASE WHEN lev.b IS NULL THEN 2 WHEN rk.r <= ${limit} THEN 0 ELSE 1 END AS g,
           CASE WHEN rk.r <= ${limit} THEN lev.b END AS label,
           CASE WHEN rk.r <= ${limit} THEN rk.r ELSE 0 END AS r
      FROM lev LEFT JOIN rk ON rk.s = lev.s AND rk.b = lev.b)`);
  } else {
    ctes.push(
      `lab AS (SELECT s, c, user_key, bucket${x ? ", x" : ""}, 0 AS g, ${p.nullText} AS label, 0 AS r FROM lev)`,
    );
  }
  let final: string;
  if ((m.kind === "users" || m.kind === "per-user") && !bitmapsFit(ctx, groups)) {
    // Exact distinct counts per bucket and over the range: one grouping-sets pass.
    final = `SELECT s, c, g, label, r, GROUPING(bucket) AS tot, bucket, ${measureAgg(p, m, distinctUsers(ctx, groups))} AS v
  FROM lab GROUP BY GROUPING SETS ((s, c, g, label, r, bucket), (s, c, g, label, r))`;
  } else {
    // Per-bucket partials, then totals from the partials (bitmaps OR-ed, sums added): events are
    // aggregated once.
    const max = Math.floor(ctx?.userKeyMax ?? 0);
    const partial: string[] = ["count(*) AS n"];
    if (m.kind === "users" || m.kind === "per-user") partial.push(`bitstring_agg(user_key, 0, ${max}) AS bm`);
    if (m.kind === "sum" || m.kind === "avg")
      partial.push(
        `CASE WHEN ${p.anyTrue(`NOT ${p.isFinite("x")}`)} THEN sum(x) ELSE coalesce(${p.fsum("x")}, 0.0) END AS sx`,
        "count(x) AS cx",
      );
    ctes.push(
      `bk AS (SELECT s, c, g, label, r, bucket, ${partial.join(", ")} FROM lab GROUP BY s, c, g, label, r, bucket)`,
    );
    const value = (n: string, u: string, sx: string, cx: string) => {
      switch (m.kind) {
        case "events":
          return `CAST(${n} AS DOUBLE)`;
        case "users":
          return `CAST(${u} AS DOUBLE)`;
        case "per-user":
          return `CASE WHEN ${u} = 0 THEN 0.0 ELSE ${n} / ${u} END`;
        case "sum":
          return sx;
        case "avg":
          return `CASE WHEN ${cx} = 0 THEN 0.0 ELSE ${sx} / ${cx} END`;
      }
    };
    const sumSx = `CASE WHEN ${p.anyTrue(`NOT ${p.isFinite("sx")}`)} THEN sum(sx) ELSE ${p.fsum("sx")} END`;
    final = `SELECT s, c, g, label, r, 0 AS tot, bucket, ${value("n", "bit_count(bm)", "sx", "cx")} AS v FROM bk
UNION ALL
SELECT s, c, g, label, r, 1, NULL, ${value("sum(n)", "bit_count(bit_or(bm))", sumSx, "sum(cx)")} FROM bk GROUP BY s, c, g, label, r`;
  }
  const sql = `${withClause(ctes)}${p.orderedUnion(final, "s, g, r, c, tot DESC, bucket")}`;
  return { sql, params: p.values };
}

export function shapeTrend(rows: Record<string, unknown>[], spec: TrendSpec): TrendResult {
  const labels = spec.events.map(formatEventRef);
  const buckets = bucketsOf(frameOf(spec.range), spec.interval);
  interface Acc {
    s: number;
    g: number;
    label: string | null;
    /** Per period (0 = range, 1 = compare): the total and the value per bucket. */
    total: [number, number];
    values: [Map<number, number>, Map<number, number>];
  }
  const groups = new Map<string, Acc>();
  const order: Acc[] = [];
  const get = (s: number, g: number, r: number, label: string | null) => {
    const key = `${s}|${g}|${r}`;
    let acc = groups.get(key);
    if (!acc) {
      acc = { s, g, label, total: [0, 0], values: [new Map(), new Map()] };
      groups.set(key, acc);
      order.push(acc);
    }
    return acc;
  };
  if (spec.breakdown === undefined) for (let s = 0; s < spec.events.length; s++) get(s, 0, 0, null);
  for (const row of rows) {
    const acc = get(
      Number(row.s),
      Number(row.g),
      Number(row.r),
      row.label == null ? null : String(row.label),
    );
    const c = Number(row.c) === 1 ? 1 : 0;
    if (Number(row.tot) === 1) acc.total[c] = Number(row.v);
    else acc.values[c].set(Number(row.bucket), Number(row.v));
  }
  const offset = spec.compare ? compareOffsetSeconds(spec.range, spec.compare) : 0;
  const series: TrendSeries[] = order.map((acc) => {
    const points = (c: 0 | 1) =>
      buckets.map((bk) => ({ t: isoOf(bk.start), value: acc.values[c].get(bk.local) ?? 0 }));
    const out: TrendSeries = {
      event: labels[acc.s],
      breakdown:
        spec.breakdown === undefined
          ? null
          : acc.g === 0
            ? String(acc.label)
            : acc.g === 1
              ? "(other)"
              : "(none)",
      points: points(0),
      total: acc.total[0],
    };
    if (spec.compare)
      out.compare = {
        offset_seconds: offset,
        points: points(1),
        total: acc.total[1],
        change: acc.total[1] === 0 ? null : (acc.total[0] - acc.total[1]) / acc.total[1],
      };
    return out;
  });
  return { interval: spec.interval, measure: formatMeasure(spec.measure), series };
}
