import { UsageError } from "./errors.js";
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
import { evalFormula, parseFormula } from "./formula.js";
import { formatEventRef, formatMeasure } from "./parse.js";
import {
  type FormulaSeries,
  type Interval,
  type Measure,
  type Stat,
  statLevel,
  type TrendResult,
  type TrendSeries,
  type TrendSpec,
} from "./spec.js";
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
      throw new Error(`measure ${JSON.stringify((m as Measure).kind)} is not a plain aggregate`);
  }
}

/** The sorted list of a group's finite `x` (an aggregate). */
function finiteList(p: Params, x = "x"): string {
  return p.ch
    ? `arraySort(groupArrayIf(assumeNotNull(${x}), isNotNull(${x}) AND isFinite(assumeNotNull(${x}))))`
    : `list_sort(list(${x}) FILTER (WHERE isfinite(${x})))`;
}

/**
 * `SELECT keys, v` where `v` is the stat of each row's sorted list `l` (docs/semantics.md, "Trend":
 * h = (n − 1)·level, lo/hi the values at 0-based ranks ⌊h⌋ and ⌊h⌋ + 1, v = lo·(1 − d) + hi·d with
 * d = h − ⌊h⌋; lo when d = 0; 0 for an empty list). Written out so both engines do the same arithmetic.
 */
function statSelect(p: Params, inner: string, keys: string, stat: Stat): string {
  const n = p.ch ? "toInt64(length(l))" : "CAST(len(l) AS BIGINT)";
  const at = (i: string) => (p.ch ? `arrayElement(l, toInt64(${i}))` : `l[CAST(${i} AS BIGINT)]`);
  const h = `((${n} - 1) * ${p.dbl(statLevel(stat))})`;
  const fl = `floor(${h})`;
  // One projection over the lists (a layer per step would copy each list again).
  return `SELECT ${keys}, CASE WHEN ${n} = 0 THEN 0.0 WHEN ${h} = ${fl} THEN ${at(`${fl} + 1`)}
      ELSE ${at(`${fl} + 1`)} * (1.0 - (${h} - ${fl})) + ${at(`${fl} + 2`)} * (${h} - ${fl}) END AS v
    FROM (${inner}) AS i0`;
}

/**
 * DuckDB: the stat of a group's finite `x` (0 for none). `quantile_cont` interpolates exactly as the
 * rule says (`lo × (1 − d) + hi × d`, `lo` when `d = 0`; checked against the brute force), so
 * ClickHouse's written-out arithmetic (`statSelect`) gives the same doubles.
 */
function duckStat(x: string, stat: Stat): string {
  return `coalesce(quantile_cont(${x}, ${statLevel(stat)}) FILTER (WHERE isfinite(${x})), 0.0)`;
}

/** Whether a measure is an order statistic (of a key's numbers or of events per user). */
function isStat(m: Measure): m is Extract<Measure, { kind: "stat" | "per-user-stat" }> {
  return m.kind === "stat" || m.kind === "per-user-stat";
}

/** The window of a rolling or cumulative trend in local µs (Infinity for cumulative); null for neither. */
export function windowUs(spec: TrendSpec): number | null {
  if (spec.cumulative) return Number.POSITIVE_INFINITY;
  if (spec.rollingSeconds === undefined) return null;
  return spec.rollingSeconds * 1_000_000;
}

const FIXED_WIDTH_US: Partial<Record<Interval, number>> = {
  minute: 60_000_000,
  "5m": 300_000_000,
  "15m": 900_000_000,
  hour: 3_600_000_000,
  day: 86_400_000_000,
  week: 604_800_000_000,
};

/**
 * One-line `UsageError`s for a trend's formula, rolling window and cumulative flag (docs/semantics.md,
 * "Formulas", "Rolling and cumulative").
 */
export function checkTrendModes(spec: TrendSpec): void {
  if (spec.formula !== undefined) parseFormula(spec.formula, spec.events.length);
  if (spec.rollingSeconds !== undefined && spec.cumulative)
    throw new UsageError("--rolling and --cumulative exclude each other: pick one");
  if (spec.rollingSeconds === undefined && !spec.cumulative) return;
  const flag = spec.cumulative ? "--cumulative" : "--rolling";
  if (
    spec.measure.kind === "per-user-stat" ||
    (isStat(spec.measure) && spec.measure.stat !== "min" && spec.measure.stat !== "max")
  )
    throw new UsageError(
      `${flag} does not go with --measure ${formatMeasure(spec.measure)}: a percentile of a window needs every value of it again; use events, users, per-user, sum, avg, min or max`,
    );
  if (spec.rollingSeconds === undefined) return;
  const w = FIXED_WIDTH_US[spec.interval];
  if (w === undefined)
    throw new UsageError(
      "--rolling needs --interval minute, 5m, 15m, hour, day or week (months differ in length)",
    );
  const d = spec.rollingSeconds * 1_000_000;
  if (!(d > 0) || d % w !== 0)
    throw new UsageError(
      `--rolling must be a whole number of ${spec.interval} buckets (got ${spec.rollingSeconds}s), e.g. --rolling 7d with --interval day`,
    );
}

/**
 * Rows `(s, g, label, r, tot, bucket, v)`: `s` is the event index; `g` is 0 for a top breakdown value
 * (or no breakdown), 1 for `(other)`, 2 for `(none)`; `r` the value's rank; `tot = 1` rows hold the
 * series total, the others one bucket's value (`bucket` = local wall-clock µs of its start). Empty
 * buckets have no row; shaping fills them with 0.
 *
 * Rolling and cumulative trends (`windowed`) instead give per-bucket partials (`tot = 0`: `n` rows,
 * `sx`/`cx` sum and count of the finite… numbers, `mn`/`mx`), and for distinct users the buckets where
 * a user starts (`tot = 2`) and stops (`tot = 3`) counting in the windows ending there; shaping adds
 * them up over each point's window (aggregated rows only, never events).
 */
export function buildTrend(spec: TrendSpec, ctx?: QueryContext): BuiltQuery {
  const p = new Params(ctx);
  const f = frameOf(spec.range);
  const m = spec.measure;
  const win = windowUs(spec);
  const x = m.kind === "sum" || m.kind === "avg" || m.kind === "stat" ? propNumber(p, m.key) : null;
  const b = spec.breakdown !== undefined ? propText(p, spec.breakdown) : null;
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
  /** The measure per `keys` over the rows of `from` (columns `user_key`, `x`), as `SELECT keys, v`. */
  const measureBy = (from: string, keys: string, where = "true"): string => {
    if (isStat(m) && !p.ch) {
      // DuckDB's quantile_cont is exactly the rule (lo × (1 − d) + hi × d, lo at d = 0).
      const src =
        m.kind === "stat"
          ? `(SELECT ${keys}, x FROM ${from} WHERE ${where}) AS q0`
          : `(SELECT ${keys}, CAST(count(*) AS DOUBLE) AS x FROM ${from} WHERE ${where} GROUP BY ${keys}, user_key) AS q0`;
      return `SELECT ${keys}, ${duckStat("x", m.stat)} AS v FROM ${src} GROUP BY ${keys}`;
    }
    if (m.kind === "stat")
      return statSelect(
        p,
        `SELECT ${keys}, ${finiteList(p)} AS l FROM ${from} WHERE ${where} GROUP BY ${keys}`,
        keys,
        m.stat,
      );
    if (m.kind === "per-user-stat")
      return statSelect(
        p,
        `SELECT ${keys}, ${finiteList(p)} AS l FROM (SELECT ${keys}, user_key, CAST(count(*) AS DOUBLE) AS x FROM ${from} WHERE ${where} GROUP BY ${keys}, user_key) AS pu GROUP BY ${keys}`,
        keys,
        m.stat,
      );
    return `SELECT ${keys}, ${measureAgg(p, m)} AS v FROM ${from} WHERE ${where} GROUP BY ${keys}`;
  };
  if (b) {
    // Top values come from the range alone; the compare period's rows follow the same labels. With a
    // formula, from the first series (A) alone, and every series is split on A's values.
    const limit = p.big(Math.max(0, Math.floor(spec.limit)));
    const formula = spec.formula !== undefined;
    ctes.push(
      `vt AS (SELECT s, b, v AS total FROM (${measureBy("lev", "s, b", `b IS NOT NULL AND c = 0${formula ? " AND s = 0" : ""}`)}) AS vt0)`,
    );
    ctes.push(`rk AS (SELECT s, b, row_number() OVER (PARTITION BY s ORDER BY total DESC, b) AS r FROM vt)`);
    ctes.push(`lab AS (
    SELECT lev.s, lev.c, lev.user_key, lev.bucket${x ? ", lev.x" : ""},
           CASE WHEN lev.b IS NULL THEN 2 WHEN rk.r <= ${limit} THEN 0 ELSE 1 END AS g,
           CASE WHEN rk.r <= ${limit} THEN lev.b END AS label,
           CASE WHEN rk.r <= ${limit} THEN rk.r ELSE 0 END AS r
      FROM lev LEFT JOIN rk ON rk.s = ${formula ? "0" : "lev.s"} AND rk.b = lev.b)`);
  } else {
    ctes.push(
      `lab AS (SELECT s, c, user_key, bucket${x ? ", x" : ""}, 0 AS g, ${p.nullText} AS label, 0 AS r FROM lev)`,
    );
  }
  const K = "s, c, g, label, r";
  let final: string;
  if (win !== null) {
    // Windowed: per-bucket partials (one pass over the events), totals, and the window's users.
    const nul = p.nullOf("DOUBLE");
    const userMeasure = m.kind === "users" || m.kind === "per-user";
    const rollingBitmaps = userMeasure && win !== Number.POSITIVE_INFINITY && bitmapsFit(ctx, 2 * groups);
    const finite = (e: string) => (x ? `CASE WHEN ${p.isFinite("x")} THEN ${e} END` : "NULL");
    const dbl = p.ch ? "Nullable(Float64)" : "DOUBLE";
    const pcols = [`CAST(count(*) AS DOUBLE) AS n`];
    if (x)
      pcols.push(
        `CASE WHEN ${p.anyTrue(`NOT ${p.isFinite("x")}`)} THEN sum(x) ELSE coalesce(${p.fsum("x")}, 0.0) END AS sx`,
        "CAST(count(x) AS DOUBLE) AS cx",
        `CAST(min(${finite("x")}) AS ${dbl}) AS mn`,
        `CAST(max(${finite("x")}) AS ${dbl}) AS mx`,
      );
    else pcols.push(`${nul} AS sx`, `${nul} AS cx`, `${nul} AS mn`, `${nul} AS mx`);
    if (rollingBitmaps) pcols.push(`bitstring_agg(user_key, 0, ${Math.floor(ctx?.userKeyMax ?? 0)}) AS bm`);
    ctes.push(`wp AS (SELECT ${K}, bucket, ${pcols.join(", ")} FROM lab GROUP BY ${K}, bucket)`);
    const parts: string[] = [];
    if (rollingBitmaps) {
      // Totals from the partials: bitmaps OR-ed.
      const u = "bit_count(bit_or(bm))";
      parts.push(
        `SELECT ${K}, 1 AS tot, ${p.nullOf("BIGINT")} AS bucket, ${m.kind === "users" ? `CAST(${u} AS DOUBLE)` : `CASE WHEN ${u} = 0 THEN 0.0 ELSE sum(n) / ${u} END`} AS v, ${nul} AS n, ${nul} AS sx, ${nul} AS cx, ${nul} AS mn, ${nul} AS mx FROM wp GROUP BY ${K}`,
      );
    } else
      parts.push(
        `SELECT ${K}, 1 AS tot, ${p.nullOf("BIGINT")} AS bucket, v, ${nul} AS n, ${nul} AS sx, ${nul} AS cx, ${nul} AS mn, ${nul} AS mx FROM (${measureBy("lab", K)}) AS t`,
      );
    parts.push(`SELECT ${K}, 0, bucket, ${nul}, n, sx, cx, mn, mx FROM wp`);
    if (userMeasure) {
      if (rollingBitmaps) {
        // Each window's users: the bitmaps of its buckets OR-ed (`tot = 4`, one row per window end L).
        const bs = bucketsOf(f, spec.interval);
        const step = FIXED_WIDTH_US[spec.interval] as number;
        ctes.push(
          `grid AS (SELECT unnest(range(${p.big(bs[0]?.local ?? 0)}, ${p.big((bs[bs.length - 1]?.local ?? 0) + 1)}, ${p.big(step)})) AS wl)`,
        );
        parts.push(
          `SELECT ${K}, 4, wl, ${nul}, CAST(bit_count(bit_or(bm)) AS DOUBLE), ${nul}, ${nul}, ${nul}, ${nul}
             FROM wp JOIN grid ON wp.bucket <= grid.wl AND wp.bucket > grid.wl - ${p.big(win)} GROUP BY ${K}, wl`,
        );
      } else if (win === Number.POSITIVE_INFINITY) {
        ctes.push(`fu AS (SELECT ${K}, user_key, min(bucket) AS bucket FROM lab GROUP BY ${K}, user_key)`);
        parts.push(
          `SELECT ${K}, 2, bucket, ${nul}, CAST(count(*) AS DOUBLE), ${nul}, ${nul}, ${nul}, ${nul} FROM fu GROUP BY ${K}, bucket`,
        );
      } else {
        const w = p.big(win);
        ctes.push(`ub AS (SELECT DISTINCT ${K}, user_key, bucket FROM lab)`);
        ctes.push(
          `ud AS (SELECT ${K}, bucket, ${p.lag("bucket", 1, `${K}, user_key`, "bucket")} AS pb FROM ub)`,
        );
        ctes.push(
          `uw AS (SELECT ${K}, bucket + ${w} AS stop, CASE WHEN pb IS NULL THEN bucket ELSE greatest(bucket, pb + ${w}) END AS start FROM ud)`,
        );
        parts.push(
          `SELECT ${K}, 2, start, ${nul}, CAST(count(*) AS DOUBLE), ${nul}, ${nul}, ${nul}, ${nul} FROM uw GROUP BY ${K}, start`,
          `SELECT ${K}, 3, stop, ${nul}, CAST(count(*) AS DOUBLE), ${nul}, ${nul}, ${nul}, ${nul} FROM uw GROUP BY ${K}, stop`,
        );
      }
    }
    final = parts.join("\nUNION ALL\n");
  } else if (isStat(m) && !p.ch) {
    // DuckDB: the stat's inputs once (a key's numbers, or events per user and bucket), then
    // quantile_cont per bucket and over the range.
    if (m.kind === "stat")
      ctes.push(
        `sx AS MATERIALIZED (SELECT ${K}, bucket, user_key, CASE WHEN isfinite(x) THEN x END AS x FROM lab)`,
      );
    else
      ctes.push(
        `sx AS MATERIALIZED (SELECT ${K}, bucket, user_key, CAST(count(*) AS DOUBLE) AS x FROM lab GROUP BY ${K}, bucket, user_key)`,
      );
    const total =
      m.kind === "stat"
        ? `SELECT ${K}, ${duckStat("x", m.stat)} AS v FROM sx GROUP BY ${K}`
        : `SELECT ${K}, ${duckStat("x", m.stat)} AS v FROM (SELECT ${K}, user_key, sum(x) AS x FROM sx GROUP BY ${K}, user_key) AS t0 GROUP BY ${K}`;
    final = `SELECT ${K}, 0 AS tot, bucket, ${duckStat("x", m.stat)} AS v FROM sx GROUP BY ${K}, bucket
UNION ALL
SELECT ${K}, 1, NULL, v FROM (${total}) AS pt`;
  } else if (m.kind === "stat") {
    // ClickHouse: each bucket's sorted list; the range's is their concatenation.
    ctes.push(`sl AS (SELECT ${K}, bucket, ${finiteList(p)} AS l FROM lab GROUP BY ${K}, bucket)`);
    final = `SELECT ${K}, 0 AS tot, bucket, v FROM (${statSelect(p, `SELECT ${K}, bucket, l FROM sl`, `${K}, bucket`, m.stat)}) AS pb
UNION ALL
SELECT ${K}, 1, ${p.nullOf("BIGINT")}, v FROM (${statSelect(p, `SELECT ${K}, arraySort(arrayFlatten(groupArray(l))) AS l FROM sl GROUP BY ${K}`, K, m.stat)}) AS pt`;
  } else if (m.kind === "per-user-stat") {
    // ClickHouse: events per user and bucket once; a user's range count is the sum of theirs.
    ctes.push(
      `pu AS (SELECT ${K}, bucket, user_key, count(*) AS k FROM lab GROUP BY ${K}, bucket, user_key)`,
    );
    const list = (from: string, keys: string) =>
      `SELECT ${keys}, ${finiteList(p)} AS l FROM ${from} GROUP BY ${keys}`;
    final = `SELECT ${K}, 0 AS tot, bucket, v FROM (${statSelect(p, list(`(SELECT ${K}, bucket, CAST(k AS DOUBLE) AS x FROM pu) AS pb0`, `${K}, bucket`), `${K}, bucket`, m.stat)}) AS pb
UNION ALL
SELECT ${K}, 1, ${p.nullOf("BIGINT")}, v FROM (${statSelect(p, list(`(SELECT ${K}, user_key, CAST(sum(k) AS DOUBLE) AS x FROM pu GROUP BY ${K}, user_key) AS pt0`, K), K, m.stat)}) AS pt`;
  } else if ((m.kind === "users" || m.kind === "per-user") && !bitmapsFit(ctx, groups)) {
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
        default:
          throw new Error(`measure ${formatMeasure(m)} has no partials`);
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

/** `7d`, `36h`, `90m`, `45s`: the window as echoed in results. */
export function rollingText(seconds: number): string {
  for (const [u, n] of [
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
  ] as const)
    if (seconds % n === 0) return `${seconds / n}${u}`;
  return `${seconds}s`;
}

interface Parts {
  n: number;
  sx: number;
  cx: number;
  mn: number | null;
  mx: number | null;
}

/** A window's measure from its summed partials and distinct users. */
function windowValue(m: Measure, w: Parts, users: number): number {
  switch (m.kind) {
    case "events":
      return w.n;
    case "users":
      return users;
    case "per-user":
      return users === 0 ? 0 : w.n / users;
    case "sum":
      return w.sx;
    case "avg":
      return w.cx === 0 ? 0 : w.sx / w.cx;
    case "stat":
      return (m.stat === "min" ? w.mn : w.mx) ?? 0;
    default:
      throw new Error(`measure ${m.kind} has no window`);
  }
}

export function shapeTrend(rows: Record<string, unknown>[], spec: TrendSpec): TrendResult {
  const labels = spec.events.map(formatEventRef);
  const buckets = bucketsOf(frameOf(spec.range), spec.interval);
  const win = windowUs(spec);
  interface Acc {
    s: number;
    g: number;
    r: number;
    label: string | null;
    /** Per period (0 = range, 1 = compare): the total and the value per bucket. */
    total: [number, number];
    values: [Map<number, number>, Map<number, number>];
    /** Windowed: per period, partials per bucket, and users starting / stopping per bucket. */
    parts: [Map<number, Parts>, Map<number, Parts>];
    /** Windowed, from user bitmaps: the users of the window ending at each bucket. */
    windowUsers: [Map<number, number>, Map<number, number>];
    starts: [Map<number, number>, Map<number, number>];
    stops: [Map<number, number>, Map<number, number>];
  }
  const groups = new Map<string, Acc>();
  const order: Acc[] = [];
  const get = (s: number, g: number, r: number, label: string | null) => {
    const key = `${s}|${g}|${r}`;
    let acc = groups.get(key);
    if (!acc) {
      acc = {
        s,
        g,
        r,
        label,
        total: [0, 0],
        values: [new Map(), new Map()],
        parts: [new Map(), new Map()],
        windowUsers: [new Map(), new Map()],
        starts: [new Map(), new Map()],
        stops: [new Map(), new Map()],
      };
      groups.set(key, acc);
      order.push(acc);
    }
    return acc;
  };
  if (spec.breakdown === undefined) for (let s = 0; s < spec.events.length; s++) get(s, 0, 0, null);
  const num = (v: unknown) => (v == null ? null : Number(v));
  for (const row of rows) {
    const acc = get(
      Number(row.s),
      Number(row.g),
      Number(row.r),
      row.label == null ? null : String(row.label),
    );
    const c = Number(row.c) === 1 ? 1 : 0;
    const tot = Number(row.tot);
    const bucket = Number(row.bucket);
    if (tot === 1) acc.total[c] = Number(row.v);
    else if (win === null) acc.values[c].set(bucket, Number(row.v));
    else if (tot === 0)
      acc.parts[c].set(bucket, {
        n: Number(row.n),
        sx: num(row.sx) ?? 0,
        cx: num(row.cx) ?? 0,
        mn: num(row.mn),
        mx: num(row.mx),
      });
    else if (tot === 4) acc.windowUsers[c].set(bucket, Number(row.n));
    else {
      const to = tot === 2 ? acc.starts[c] : acc.stops[c];
      to.set(bucket, (to.get(bucket) ?? 0) + Number(row.n));
    }
  }
  if (spec.formula !== undefined && spec.breakdown !== undefined) {
    // Every series is split on the same values (A's): a value a series has no rows for counts 0.
    const labelsSeen = [...order];
    for (let s = 0; s < spec.events.length; s++) for (const a of labelsSeen) get(s, a.g, a.r, a.label);
    order.sort((a, b) => a.s - b.s || a.g - b.g || a.r - b.r);
  }
  if (win !== null) {
    // Each point: the measure over the range's buckets in (L − window, L], L its bucket's local start.
    for (const acc of order)
      for (const c of [0, 1] as const) {
        const parts = [...acc.parts[c]].sort((a, b) => a[0] - b[0]);
        const starts = [...acc.starts[c]].sort((a, b) => a[0] - b[0]);
        const stops = [...acc.stops[c]].sort((a, b) => a[0] - b[0]);
        for (const bk of buckets) {
          const L = bk.local;
          const w: Parts = { n: 0, sx: 0, cx: 0, mn: null, mx: null };
          for (const [b, q] of parts) {
            if (b > L) break;
            if (!(b > L - win)) continue;
            w.n += q.n;
            w.sx += q.sx;
            w.cx += q.cx;
            if (q.mn !== null) w.mn = w.mn === null ? q.mn : Math.min(w.mn, q.mn);
            if (q.mx !== null) w.mx = w.mx === null ? q.mx : Math.max(w.mx, q.mx);
          }
          let users = acc.windowUsers[c].get(L) ?? 0;
          for (const [b, n] of starts) if (b <= L) users += n;
          for (const [b, n] of stops) if (b <= L) users -= n;
          acc.values[c].set(L, windowValue(spec.measure, w, users));
        }
      }
  }
  const offset = spec.compare ? compareOffsetSeconds(spec.range, spec.compare) : 0;
  const seriesOf = (acc: Acc): TrendSeries => {
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
  };
  const series = order.map(seriesOf);
  const result: TrendResult = { interval: spec.interval, measure: formatMeasure(spec.measure), series };
  if (spec.cumulative) result.window = "cumulative";
  else if (spec.rollingSeconds !== undefined) result.window = `rolling ${rollingText(spec.rollingSeconds)}`;
  if (spec.formula !== undefined) result.formula = formulaOf(spec.formula, spec.events.length, series);
  return result;
}

/**
 * The formula's series (docs/semantics.md, "Formulas"): per breakdown value (or once), the formula
 * over the letters' points, totals and compare values; null where it divides by zero.
 */
export function formulaOf(
  text: string,
  letters: number,
  series: TrendSeries[],
): NonNullable<TrendResult["formula"]> {
  const f = parseFormula(text, letters);
  const byValue = new Map<string, TrendSeries[]>();
  const names: string[] = [];
  const eventsSeen = new Map<string, number>();
  for (const s of series) {
    const key = s.breakdown ?? "";
    if (!byValue.has(key)) {
      byValue.set(key, []);
      names.push(key);
    }
    // series come event by event: the k-th series of a value is letter k
    const idx = eventsSeen.get(`${key}`) ?? 0;
    eventsSeen.set(key, idx + 1);
    (byValue.get(key) as TrendSeries[])[idx] = s;
  }
  const out: FormulaSeries[] = names.map((key) => {
    const ss = byValue.get(key) as TrendSeries[];
    const at = (pick: (s: TrendSeries) => number | undefined) => ss.map((s) => (s ? (pick(s) ?? 0) : 0));
    const first = ss.find((s) => s) as TrendSeries;
    const points = first.points.map((p, i) => ({
      t: p.t,
      value: evalFormula(
        f,
        at((s) => s.points[i]?.value),
      ),
    }));
    const fs: FormulaSeries = {
      breakdown: first.breakdown,
      points,
      total: evalFormula(
        f,
        at((s) => s.total),
      ),
    };
    if (first.compare) {
      const c = first.compare;
      const total = evalFormula(
        f,
        at((s) => s.compare?.total),
      );
      fs.compare = {
        offset_seconds: c.offset_seconds,
        points: c.points.map((p, i) => ({
          t: p.t,
          value: evalFormula(
            f,
            at((s) => s.compare?.points[i]?.value),
          ),
        })),
        total,
        change: total === null || total === 0 || fs.total === null ? null : (fs.total - total) / total,
      };
    }
    return fs;
  });
  return { text, series: out };
}
