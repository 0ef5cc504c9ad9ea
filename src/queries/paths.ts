/**
 * Paths (docs/semantics.md): what users do after their first ANCHOR event in the range, or did
 * before their last one, as a tree of path prefixes with top-k folding. Both engines.
 *
 * The engine does all the per-event work: anchor per user, the events after (before) it numbered in
 * the doc's order (time, event_type, property text), runs collapsed with `lag`/`lead`, the first
 * `depth` steps aggregated into one array per user, then users per distinct path, per prefix, the rank
 * of each prefix among its siblings, and which prefixes survive the folding. Only the surviving nodes
 * and the `(other)` sums come back; JavaScript orders them depth-first.
 */

import { UsageError } from "./errors.js";
import { type BuiltQuery, eventSql, Params, type QueryContext } from "./filters.js";
import { duckUntagJsonSql } from "./numtext.js";
import { formatEventRef } from "./parse.js";
import type { PathNode, PathsResult, PathsSpec } from "./spec.js";
import { frameOf, inRange, withClause } from "./time.js";

export const MAX_PATH_DEPTH = 10;
export const MAX_PATH_TOP = 50;
export const END = "(end)";
export const OTHER = "(other)";

/** One-line usage errors for a paths spec's own numbers. */
export function checkPaths(spec: PathsSpec): void {
  if (!Number.isInteger(spec.depth) || spec.depth < 1 || spec.depth > MAX_PATH_DEPTH)
    throw new UsageError(`--depth must be a whole number from 1 to ${MAX_PATH_DEPTH} (got ${spec.depth})`);
  if (!Number.isInteger(spec.top) || spec.top < 1 || spec.top > MAX_PATH_TOP)
    throw new UsageError(`--top must be a whole number from 1 to ${MAX_PATH_TOP} (got ${spec.top})`);
  if (spec.withinSeconds !== undefined && !(spec.withinSeconds > 0))
    throw new UsageError(`--within must be a positive duration (got ${spec.withinSeconds} s)`);
}

/** The few array fragments whose spelling differs between DuckDB and ClickHouse. */
function arrays(p: Params) {
  return p.ch
    ? {
        agg: (x: string, by: string) => `arrayMap(x -> x.2, arraySort(groupArray(tuple(${by}, ${x}))))`,
        len: (a: string) => `length(${a})`,
        head: (a: string, n: string) => `arraySlice(${a}, 1, ${n})`,
        push: (a: string, x: string) => `arrayPushBack(${a}, ${x})`,
        orEmpty: (a: string) => a, // a LEFT JOIN's missing array is already []
        json: (a: string) => `toJSONString(${a})`,
        /** One row per level 1…len(P) of each row of `src`, the level as `lvl`. */
        levels: (cols: string, src: string) =>
          `SELECT ${cols}, lvl FROM ${src} ARRAY JOIN arrayEnumerate(P) AS lvl`,
        propsText: "properties",
      }
    : {
        agg: (x: string, by: string) => `list(${x} ORDER BY ${by})`,
        len: (a: string) => `len(${a})`,
        head: (a: string, n: string) => `list_slice(${a}, 1, ${n})`,
        push: (a: string, x: string) => `list_append(${a}, ${x})`,
        orEmpty: (a: string) => `coalesce(${a}, CAST([] AS VARCHAR[]))`,
        json: (a: string) => `CAST(to_json(${a}) AS VARCHAR)`,
        levels: (cols: string, src: string) =>
          `SELECT ${cols}, unnest(range(1, len(P) + 1)) AS lvl FROM ${src}`,
        propsText: duckUntagJsonSql("CAST(properties AS VARCHAR)"),
      };
}

/**
 * Rows `(kind, path, users)`: `total` (path NULL) = anchored users; `node` = a surviving prefix (JSON
 * array) and its users; `other` = the prefix of a parent and the users folded into its `(other)`.
 */
export function buildPaths(spec: PathsSpec, ctx?: QueryContext): BuiltQuery {
  checkPaths(spec);
  const p = new Params(ctx);
  const a = arrays(p);
  const top = p.big(spec.top);
  // One pass over `pk` (ClickHouse inlines a CTE at each reference, and everything before `pk` is
  // the heavy per-user work): each row feeds the total (level 1: one row per user's path), its node
  // if it survives, or its parent's (other) where it folds.
  const sql = `${withClause(pathTreeCtes(p, spec, ctx))}SELECT kd.kind AS kind,
       CASE WHEN kd.kind = 'total' THEN ${p.nullText} WHEN kd.kind = 'node' THEN ${a.json("pk.pre")} ELSE ${a.json(a.head("pk.pre", "pk.lvl - 1"))} END AS path,
       sum(pk.n) AS users
  FROM pk, (SELECT 'total' AS kind UNION ALL SELECT 'node' UNION ALL SELECT 'other') kd
 WHERE (kd.kind = 'total' AND pk.lvl = 1) OR (kd.kind = 'node' AND pk.bad = 0) OR (kd.kind = 'other' AND pk.bad = 1 AND pk.r > ${top})
 GROUP BY kind, path`;
  return { sql, params: p.values };
}

/**
 * The tree's CTEs: `anc` (anchored users), `up (user_key, steps)`, `upe (user_key, P)` each user's
 * path with `(end)`, `pc (P, n)` users per path, `pf`/`cnt` users per prefix, `rk (lvl, pre, r)` each
 * prefix's rank among its siblings, `pk` which prefixes survive the folding.
 */
function pathTreeCtes(p: Params, spec: PathsSpec, ctx?: QueryContext): string[] {
  const a = arrays(p);
  const depth = spec.depth;
  const top = p.big(spec.top);
  const perUser = codedPlanFits(spec, ctx, p)
    ? codedUserPaths(p, spec, ctx?.eventTypes ?? 0)
    : p.ch
      ? arrayUserPaths(p, spec)
      : userPaths(p, spec);
  // Each CTE after `upe` reads the one before it once, and sibling ranks and prefix counts are
  // windows rather than joins back: on ClickHouse a second reference would redo the per-user work.
  return [
    ...perUser,
    `upe AS (SELECT user_key, CASE WHEN ${a.len("steps")} < ${depth} THEN ${a.push("steps", p.str(END))} ELSE steps END AS P FROM up)`,
    `pc AS (SELECT P, count(*) AS n FROM upe GROUP BY P)`,
    `pf AS (SELECT P, n, lvl, ${a.head("P", "lvl")} AS pre FROM (${a.levels("P, n", "pc")}) lv)`,
    `pw AS (SELECT P, n, lvl, pre, sum(n) OVER (PARTITION BY lvl, pre) AS users FROM pf)`,
    // Rows sharing a prefix share its users and last name, so dense_rank numbers distinct prefixes.
    `rw AS (SELECT P, n, lvl, pre, dense_rank() OVER (PARTITION BY lvl, ${a.head("pre", "lvl - 1")} ORDER BY users DESC, pre[lvl]) AS r FROM pw)`,
    // Per path, how many of its prefixes so far ranked below the top: 0 = the node survives, and the
    // first one that did not is where the path folds into its parent's (other).
    `pk AS (SELECT lvl, pre, n, r,
        sum(CASE WHEN r > ${top} THEN 1 ELSE 0 END) OVER (PARTITION BY P ORDER BY lvl ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS bad
      FROM rw)`,
  ];
}

/** `--users-of` on paths: a node's path as a JSON array, or its names joined by `>`. */
export function parsePathSelection(text: string, spec: PathsSpec): string[] {
  const s = text.trim();
  let path: unknown;
  if (s.startsWith("[")) {
    try {
      path = JSON.parse(s);
    } catch {
      path = null;
    }
  } else path = s.split(">").map((x) => x.trim());
  if (!Array.isArray(path) || !path.length || !path.every((x) => typeof x === "string" && x !== ""))
    throw new UsageError(
      `bad --users-of ${JSON.stringify(text)}: use a node's path, e.g. 'signed_up>button_clicked' or a JSON array`,
    );
  if (path.length > spec.depth)
    throw new UsageError(`bad --users-of ${JSON.stringify(text)}: the paths have depth ${spec.depth}`);
  if (path.slice(0, -1).some((x) => x === END || x === OTHER))
    throw new UsageError(`bad --users-of ${JSON.stringify(text)}: ${END} and ${OTHER} end a path`);
  return path as string[];
}

/**
 * `sel (user_key)`: the users of a node (docs/semantics.md, "Drill-down"): those whose path starts with
 * it; for `[…, (other)]`, those whose path starts with the parent and continues with a child ranked
 * below the top.
 */
export function pathsSelection(p: Params, spec: PathsSpec, path: string[], ctx?: QueryContext): string[] {
  const a = arrays(p);
  const other = path[path.length - 1] === OTHER;
  const fixed = other ? path.slice(0, -1) : path;
  const L = path.length;
  const conds = [`${a.len("P")} >= ${L}`, ...fixed.map((x, i) => `P[${i + 1}] = ${p.str(x)}`)];
  const ctes = pathTreeCtes(p, spec, ctx);
  if (!other) ctes.push(`sel AS (SELECT user_key FROM upe WHERE ${conds.join(" AND ")})`);
  else
    ctes.push(
      `rk AS (SELECT DISTINCT lvl, pre, r FROM rw)`,
      `sel AS (SELECT upe.user_key AS user_key FROM upe JOIN rk ON rk.lvl = ${L} AND rk.pre = ${a.head("upe.P", String(L))}
      WHERE ${conds.map((c) => c.replace(/\bP\b/g, "upe.P")).join(" AND ")} AND rk.r > ${p.big(spec.top)})`,
    );
  return ctes;
}

/**
 * The generic plan (DuckDB without the cache's type count, or when the property-text tie-break
 * matters): `anc (user_key, …)` the anchored users and `up (user_key, steps)` each one's path before
 * `(end)`, from a window over their events in the doc's order.
 */
function userPaths(p: Params, spec: PathsSpec): string[] {
  const a = arrays(p);
  const f = frameOf(spec.range);
  const after = spec.direction === "after";
  const where = eventSql(p, { event: "*", filters: [] }, spec.filters);
  const within =
    spec.withinSeconds === undefined
      ? ""
      : ` AND ev.us ${after ? "<=" : ">="} anc.ta ${after ? "+" : "-"} ${p.big(Math.round(spec.withinSeconds * 1e6))}`;
  // The property text only breaks ties between same-type events at one instant, which matters only
  // when such an event may or may not be the anchor and repeats are kept.
  const byProps = !spec.collapse && spec.anchor.filters.length > 0;
  const order = `PARTITION BY user_key ORDER BY us, event_type${byProps ? ", pt" : ""}`;
  // Walking forward the event before a step is the previous one in time; walking back, the next.
  const neighbour = after ? `lag(event_type) OVER (${order})` : `lead(event_type) OVER (${order})`;
  return [
    `ev AS (SELECT user_key, ${p.us("event_time")} AS us, event_type${byProps ? `, ${a.propsText} AS pt` : ""},
        ${eventSql(p, spec.anchor)} AS a
      FROM events WHERE ${inRange(p, f)} AND ${where})`,
    `anc AS (SELECT user_key, ${after ? "min" : "max"}(us) AS ta FROM ev WHERE a GROUP BY user_key)`,
    `cand AS (SELECT ev.user_key AS user_key, ev.us AS us, ev.event_type AS event_type${byProps ? ", ev.pt AS pt" : ""}, ev.a AS a
      FROM ev JOIN anc ON anc.user_key = ev.user_key
     WHERE ev.us ${after ? ">=" : "<="} anc.ta${within})`,
    `o AS (SELECT user_key, event_type, a, row_number() OVER (${order}) AS rn, ${neighbour} AS ne FROM cand)`,
    `ar AS (SELECT user_key, ${after ? "min" : "max"}(rn) AS arn FROM o WHERE a GROUP BY user_key)`,
    `s AS (SELECT o.user_key AS user_key, o.event_type AS event_type, o.rn AS rn
      FROM o JOIN ar ON ar.user_key = o.user_key
     WHERE o.rn ${after ? ">" : "<"} ar.arn${spec.collapse ? " AND o.event_type <> o.ne" : ""})`,
    `st AS (SELECT user_key, event_type, row_number() OVER (PARTITION BY user_key ORDER BY rn${after ? "" : " DESC"}) AS k FROM s)`,
    `up0 AS (SELECT user_key, ${a.agg("event_type", "k")} AS steps FROM st WHERE k <= ${spec.depth} GROUP BY user_key)`,
    `up AS (SELECT anc.user_key AS user_key, ${a.orEmpty("up0.steps")} AS steps FROM anc LEFT JOIN up0 ON up0.user_key = anc.user_key)`,
  ];
}

/**
 * ClickHouse: each user's events as one sorted array of `(us, event_type[, props], anchor?)` — the way
 * its own sequence functions work — and the path cut from it with array functions: no window, no join,
 * one read of the events. Same rows and order as `userPaths`: the anchor is the first (last) matching
 * element, the steps the elements after (before) it within the window, runs collapsed against the
 * element before (after) each one.
 */
function arrayUserPaths(p: Params, spec: PathsSpec): string[] {
  const a = arrays(p);
  const f = frameOf(spec.range);
  const after = spec.direction === "after";
  const where = eventSql(p, { event: "*", filters: [] }, spec.filters);
  const byProps = !spec.collapse && spec.anchor.filters.length > 0;
  const isA = byProps ? "x.4" : "x.3";
  const w = spec.withinSeconds === undefined ? null : p.big(Math.round(spec.withinSeconds * 1e6));
  const near = w === null ? "" : after ? `x -> x.1 <= xs[i].1 + ${w}, ` : `x -> x.1 >= xs[i].1 - ${w}, `;
  const side = after ? "arraySlice(xs, i + 1)" : "arraySlice(xs, 1, i - 1)";
  const cut = near ? `arrayFilter(${near}${side})` : side;
  // Walking back, the steps are the elements before the anchor, nearest first.
  const types = after ? `arrayMap(x -> x.2, ${cut})` : `arrayReverse(arrayMap(x -> x.2, ${cut}))`;
  const steps = spec.collapse
    ? `arrayFilter((t, q) -> t != q, ts, arraySlice(arrayPushFront(ts, xs[i].2), 1, length(ts)))`
    : "ts";
  return [
    `ev AS (SELECT user_key, ${p.us("event_time")} AS us, event_type${byProps ? `, ${a.propsText} AS pt` : ""},
        toUInt8(ifNull(${eventSql(p, spec.anchor)}, 0)) AS a
      FROM events WHERE ${inRange(p, f)} AND ${where})`,
    `ua AS (SELECT user_key, arraySort(groupArray(tuple(us, event_type${byProps ? ", pt" : ""}, a))) AS xs
      FROM ev GROUP BY user_key HAVING max(a) = 1)`,
    `ui AS (SELECT user_key, xs, ${after ? "arrayFirstIndex" : "arrayLastIndex"}(x -> ${isA} = 1, xs) AS i FROM ua)`,
    `ut AS (SELECT user_key, xs, i, ${types} AS ts FROM ui)`,
    `up AS (SELECT user_key, arraySlice(${steps}, 1, ${spec.depth}) AS steps FROM ut)`,
  ];
}

/** Events kept per user by the coded plan's first pass; users it cannot finish get a second one. */
const FIRST_PASS = 32;
/** …and only those this close to the anchor (µs). */
const FIRST_PASS_US = 3_600_000_000;
/** Type codes times instants must stay below 2^63 (instants < 2^52 µs until 2100). */
const MAX_CODED_TYPES = 2048;

/**
 * DuckDB with the cache's type count known: a window over every event after the anchor sorts ~20M
 * rows by a string; the coded plan needs no window. Each event becomes one integer `k = us × T + code`
 * (codes in event_type byte order), so the doc's order is the order of `k`; the anchor is the min (max)
 * `k` of the matching events; the first pass keeps each user's FIRST_PASS nearest `k` in a per-group
 * heap (`min(k, n)`) from the first hour after (before) the anchor, and only users whose path it does
 * not finish (fewer than `depth` steps) are read again in full. Needs the property-text tie-break to
 * be irrelevant (see userPaths).
 */
function codedPlanFits(spec: PathsSpec, ctx: QueryContext | undefined, p: Params): boolean {
  const types = ctx?.eventTypes ?? 0;
  return (
    !p.ch && types > 0 && types <= MAX_CODED_TYPES && !(!spec.collapse && spec.anchor.filters.length > 0)
  );
}

function codedUserPaths(p: Params, spec: PathsSpec, types: number): string[] {
  const f = frameOf(spec.range);
  const after = spec.direction === "after";
  const T = p.big(types);
  const N = FIRST_PASS;
  const where = eventSql(p, { event: "*", filters: [] }, spec.filters);
  const cmp = after ? ">" : "<";
  const within =
    spec.withinSeconds === undefined
      ? ""
      : ` AND e.k // ${T} ${after ? "<=" : ">="} anc.ka // ${T} ${after ? "+" : "-"} ${p.big(Math.round(spec.withinSeconds * 1e6))}`;
  const nearest = after ? "min" : "max"; // max(k, n) lists the largest first: walking back
  const span = p.big(FIRST_PASS_US * types);
  const near = after ? `e.k < anc.ka + ${span}` : `e.k > anc.ka - ${span}`;
  // Codes of one user's steps → the path's codes: the anchor's own code leads so that a run with the
  // anchor collapses; without collapsing, copies of the anchor (same instant and type) lead instead.
  const steps = (src: string, out: string) => [
    `${out}a AS (SELECT x.user_key AS user_key, ${
      spec.collapse
        ? `list_prepend(anc.ka % ${T}, list_transform(coalesce(x.ks, []), y -> y % ${T}))`
        : `list_concat(list_transform(range(x.d - 1), y -> anc.ka % ${T}), list_transform(coalesce(x.ks, []), y -> y % ${T}))`
    } AS s FROM ${src} x JOIN anc ON anc.user_key = x.user_key)`,
    `${out} AS (SELECT user_key, ${
      spec.collapse
        ? `list_slice(list_filter(s, (y, i) -> i = 1 OR y <> s[i - 1]), 2, ${spec.depth + 1})`
        : `list_slice(s, 1, ${spec.depth})`
    } AS steps FROM ${out}a)`,
  ];
  return [
    `ty AS (SELECT event_type, CAST(row_number() OVER (ORDER BY event_type) - 1 AS BIGINT) AS code
      FROM (SELECT DISTINCT event_type FROM object_types))`,
    `nm AS (SELECT list(event_type ORDER BY code) AS names FROM ty)`,
    `e AS (SELECT user_key, epoch_us(event_time) * ${T} + ty.code AS k, ${eventSql(p, spec.anchor)} AS a
      FROM events JOIN ty USING (event_type) WHERE ${inRange(p, f)} AND ${where})`,
    `anc AS (SELECT user_key, ${nearest}(k) AS ka FROM e WHERE a GROUP BY user_key)`,
    // The first pass reads only the first hour after (before) the anchor: a path is usually complete
    // by then, and the per-user heap is most of the plan's time, so it sees ~30% of the rows on the
    // bench lake. Users whose path it does not finish are read again in full.
    `nx AS (SELECT e.user_key AS user_key, ${nearest}(e.k, ${N}) FILTER (WHERE e.k ${cmp} anc.ka) AS ks,
        count(*) FILTER (WHERE e.k = anc.ka) AS d
      FROM e JOIN anc ON anc.user_key = e.user_key WHERE e.k ${cmp}= anc.ka AND ${near}${within} GROUP BY e.user_key)`,
    ...steps("nx", "p1"),
    `rest AS (SELECT e.user_key AS user_key, list(e.k ORDER BY e.k${after ? "" : " DESC"}) AS ks
      FROM e JOIN anc ON anc.user_key = e.user_key JOIN p1 ON p1.user_key = e.user_key
     WHERE len(p1.steps) < ${spec.depth} AND e.k ${cmp} anc.ka${within} GROUP BY e.user_key)`,
    `rx AS (SELECT r.user_key AS user_key, r.ks AS ks, nx.d AS d FROM rest r JOIN nx ON nx.user_key = r.user_key)`,
    ...steps("rx", "p2"),
    `up AS (SELECT p1.user_key AS user_key, list_transform(coalesce(p2.steps, p1.steps), y -> nm.names[y + 1]) AS steps
      FROM p1 LEFT JOIN p2 ON p2.user_key = p1.user_key, nm)`,
  ];
}

const bytes = (a: string, b: string) => Buffer.compare(Buffer.from(a), Buffer.from(b));

export function shapePaths(rows: Record<string, unknown>[], spec: PathsSpec): PathsResult {
  let total = 0;
  const children = new Map<string, { name: string; users: number }[]>();
  const other = new Map<string, number>();
  for (const r of rows) {
    if (r.kind === "total") {
      total = Number(r.users);
      continue;
    }
    const path = JSON.parse(String(r.path)) as string[];
    if (r.kind === "other") {
      other.set(JSON.stringify(path), Number(r.users));
      continue;
    }
    const parent = JSON.stringify(path.slice(0, -1));
    const list = children.get(parent) ?? [];
    children.set(parent, list);
    list.push({ name: path[path.length - 1], users: Number(r.users) });
  }
  const nodes: PathNode[] = [];
  const share = (u: number) => (total ? u / total : 0);
  const walk = (prefix: string[]) => {
    const key = JSON.stringify(prefix);
    const list = (children.get(key) ?? []).sort((x, y) => y.users - x.users || bytes(x.name, y.name));
    for (const c of list) {
      const path = [...prefix, c.name];
      nodes.push({ path, users: c.users, share: share(c.users) });
      walk(path);
    }
    const folded = other.get(key);
    if (folded) nodes.push({ path: [...prefix, OTHER], users: folded, share: share(folded) });
  };
  if (total) walk([]);
  return {
    anchor: formatEventRef(spec.anchor),
    direction: spec.direction,
    depth: spec.depth,
    users: total,
    nodes,
  };
}
