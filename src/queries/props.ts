import { propMembersSql, tagNumbersSql } from "./clickhouse/numtext.js";
import { type BuiltQuery, Params } from "./filters.js";
import { duckIsTaggedSql, duckUntagKeySql, duckUntagSql } from "./numtext.js";
import type { PropRow, PropsResult, PropsSpec } from "./spec.js";
import { frameOf, inRange, withClause } from "./time.js";

const TYPE_NAMES = `CASE WHEN j.type = 'VARCHAR' AND ${duckIsTaggedSql("j.value")} THEN 'number' ELSE CASE j.type WHEN 'VARCHAR' THEN 'string' WHEN 'BOOLEAN' THEN 'boolean' WHEN 'OBJECT' THEN 'object'
  WHEN 'ARRAY' THEN 'array' ELSE 'number' END END`;

/**
 * Top-level property keys of one event type: rows carrying the key (set, not null), share of the
 * event's rows, most common JSON type, and the most frequent property texts.
 */
export function buildProps(spec: PropsSpec): BuiltQuery {
  const p = new Params();
  const range = spec.range ? inRange(p, frameOf(spec.range)) : "true";
  const top = p.big(Math.max(0, Math.floor(spec.topValues)));
  const where = `${typesSql(p, spec)} AND ${range}`;
  // One pass over (key, type, text) counts; keys, types and top values are derived from it.
  const ctes = [
    `n AS (SELECT count(*) AS events FROM events WHERE ${where})`,
    `vc AS (
  SELECT ${duckUntagKeySql("j.key")} AS key, ${TYPE_NAMES} AS type, ${duckUntagSql("json_extract_string(j.value, '$')")} AS text, count(*) AS c
    FROM (SELECT properties FROM events WHERE ${where}) ev, json_each(ev.properties) j
   WHERE json_type(ev.properties) = 'OBJECT' AND j.type <> 'NULL'
   GROUP BY ALL)`,
    `keys AS (SELECT key, sum(c) AS events FROM vc GROUP BY key)`,
    `types AS (
  SELECT key, type FROM (SELECT key, type, sum(c) AS c FROM vc GROUP BY key, type)
  QUALIFY row_number() OVER (PARTITION BY key ORDER BY c DESC, type) = 1)`,
    `tops AS (
  SELECT key, list({'value': text, 'events': c} ORDER BY c DESC, text) AS top
    FROM (SELECT key, text, sum(c) AS c FROM vc GROUP BY key, text
          QUALIFY row_number() OVER (PARTITION BY key ORDER BY sum(c) DESC, text) <= ${top})
   GROUP BY key)`,
  ];
  const [nums, numsJoin] = numbersSql(p, spec, ctes);
  const sql = `${withClause(ctes)}SELECT n.events AS total, k.key, t.type, k.events, tp.top${nums}
  FROM n LEFT JOIN keys k ON true LEFT JOIN types t ON t.key = k.key LEFT JOIN tops tp ON tp.key = k.key${numsJoin}
 ORDER BY k.events DESC, k.key`;
  return { sql, params: p.values };
}

/** The event types looked at: `event`, or `events` (any type when one of them is `*`). */
function typesSql(p: Params, spec: PropsSpec): string {
  const types = spec.events ?? [spec.event];
  if (types.includes("*")) return "true";
  return types.length === 1
    ? `event_type = ${p.str(types[0]!)}`
    : `event_type IN (${types.map((t) => p.str(t)).join(", ")})`;
}

/**
 * With `numbers`: a `nums (key, numbers)` CTE counting, from `vc`'s texts, the events whose text is a
 * finite number under the `--value` cast; returns the select and join that add it.
 */
function numbersSql(p: Params, spec: PropsSpec, ctes: string[]): [string, string] {
  if (!spec.numbers) return ["", ""];
  const x = p.tryDouble("text");
  ctes.push(`nums AS (SELECT key, sum(c) AS numbers FROM vc WHERE ${p.isFinite(x)} GROUP BY key)`);
  return [", nm.numbers AS numbers", " LEFT JOIN nums nm ON nm.key = k.key"];
}

export function shapeProps(rows: Record<string, unknown>[], spec: PropsSpec): PropsResult {
  const total = Number(rows[0]?.total ?? 0);
  const props: PropRow[] = rows
    .filter((r) => r.key != null)
    .map((r) => ({
      key: String(r.key),
      type: String(r.type),
      events: Number(r.events),
      presence: total ? Number(r.events) / total : 0,
      top: ((r.top as { value: string; events: number }[] | null) ?? []).map((v) => ({
        value: String(v.value),
        events: Number(v.events),
      })),
      ...(spec.numbers ? { numbers: Number(r.numbers ?? 0) } : {}),
    }));
  return { event: spec.event, events: total, props };
}

/**
 * The same analysis on ClickHouse: each top-level member of the stored JSON with its type and its text
 * by the property-text rule. The JSON is read with its numbers tagged (numtext.ts), so a number keeps
 * its text as written and an integer wider than 64 bits does not hide the whole object.
 */
export function buildPropsClickHouse(spec: PropsSpec): BuiltQuery {
  const p = new Params(undefined, "clickhouse");
  const range = spec.range ? inRange(p, frameOf(spec.range)) : "true";
  const where = `${typesSql(p, spec)} AND ${range}`;
  const top = p.big(Math.max(0, Math.floor(spec.topValues)));
  const ctes = [
    `n AS (SELECT count(*) AS events FROM events WHERE ${where})`,
    `vc AS (
  SELECT m.1 AS key, m.2 AS type, m.3 AS text, count(*) AS c
    FROM events ARRAY JOIN ${propMembersSql(tagNumbersSql("properties"))} AS m
   WHERE ${where}
   GROUP BY key, type, text)`,
    `keys AS (SELECT key, sum(c) AS events FROM vc GROUP BY key)`,
    `types AS (SELECT key, argMin(type, (-toInt64(c), type)) AS type
    FROM (SELECT key, type, sum(c) AS c FROM vc GROUP BY key, type) GROUP BY key)`,
    `tops AS (
  SELECT key, arraySlice(arraySort(x -> (-toInt64(x.2), x.1), groupArray(CAST((text, c), 'Tuple(value String, events UInt64)'))), 1, ${top}) AS top
    FROM (SELECT key, text, sum(c) AS c FROM vc GROUP BY key, text)
   GROUP BY key)`,
  ];
  const [nums, numsJoin] = numbersSql(p, spec, ctes);
  const sql = `${withClause(ctes)}SELECT n.events AS total, k.key AS key, t.type AS type, k.events AS events, tp.top AS top${nums}
  FROM n LEFT JOIN keys k ON true LEFT JOIN types t ON t.key = k.key LEFT JOIN tops tp ON tp.key = k.key${numsJoin}
 ORDER BY k.events DESC, k.key`;
  return { sql, params: p.values };
}
