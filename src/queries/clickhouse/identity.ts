/**
 * The identity map on ClickHouse (docs/semantics.md, "Identity"): the same links and the same
 * resolver as the DuckDB cache (src/source/identity.ts), so both engines hold the same map.
 * - `<table>_evx_identity_links (date, src, dst, t)`: the links of the loaded rows, partitioned by the
 *   lake date like the events (a re-load of a date replaces its links with its events);
 * - `<table>_evx_identity (user_key, person_key)`: every id whose person is another id, rebuilt from
 *   all the links after a load and swapped in whole (`EXCHANGE TABLES`), so an analysis reads the old
 *   map or the new one. Analyses in `merged` mode join it (src/queries/identity.ts).
 * ClickHouse has no transactions: between a partition's load and the map's rebuild, an analysis can
 * read that partition's new events with the map of before (documented in the README).
 */
import { PRESETS, type PresetName } from "../../cache/presets.js";
import { compareBytes, identityRules, type LinkRule, resolveLinks } from "../../source/identity.js";
import { quoteString as lit, quoteIdent } from "./quote.js";

/** The identity tables of an events table. */
export function identityTables(table: string): { links: string; map: string } {
  return { links: `${table}_evx_identity_links`, map: `${table}_evx_identity` };
}

/** DDL of the identity tables (created by the load when missing). */
export function identityDdl(table: string, cluster?: string): string[] {
  const { links, map } = identityTables(table);
  const on = cluster ? ` ON CLUSTER ${quoteIdent(cluster)}` : "";
  const engine = (name: string) =>
    cluster
      ? `ReplicatedMergeTree('/clickhouse/tables/evx/{database}/${name.replace(/'/g, "")}', '{replica}')`
      : "MergeTree";
  return [
    `CREATE TABLE IF NOT EXISTS ${quoteIdent(links)}${on} (date Date, src String, dst String, t DateTime64(6, 'UTC'))
ENGINE = ${engine(links)} PARTITION BY date ORDER BY (src, dst, t)`,
    `CREATE TABLE IF NOT EXISTS ${quoteIdent(map)}${on} (user_key String, person_key String)
ENGINE = ${engine(map)} ORDER BY user_key`,
  ];
}

/** A ClickHouse string literal of fixed SQL text. */

/**
 * SQL: the links of one parsed line `json` (JSON text) under `rules`, as `Array(Tuple(String, String))`
 * (source, target; empty ids and self links left out). Paths are read as text like the DuckDB sync
 * reads them: a string's own text, any other value's JSON text.
 */
export function chLinksSql(rules: LinkRule[], json: string): string {
  if (!rules.length) return "CAST([], 'Array(Tuple(String, String))')";
  const textAt = (path: string) => chTextAt(json, path);
  const pairs = rules.map((r) => {
    const src = r.srcPrefix
      ? `if(${textAt(r.src)} = '', '', concat(${lit(r.srcPrefix)}, ${textAt(r.src)}))`
      : textAt(r.src);
    const cond = r.when
      ? `${r.when.not ? "NOT " : ""}(${textAt(r.when.path)} IN (${r.when.values.map(lit).join(", ")}))`
      : "1";
    return `tuple(if(${cond}, ${src}, ''), ${textAt(r.dst)})`;
  });
  return `arrayFilter(x -> x.1 != '' AND x.2 != '' AND x.1 != x.2, [${pairs.join(", ")}])`;
}

/** What the rebuild needs of a ClickHouse connection (the HTTP client, or chdb in the tests). */
export interface ChIdentityConn {
  rows(sql: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
}

/**
 * Rebuilds the map from every link (the same order and resolver as the DuckDB sync) and swaps it in.
 * Returns the counts `evx status` reads on DuckDB.
 */
export async function rebuildChIdentity(
  conn: ChIdentityConn,
  table: string,
  database?: string,
): Promise<{ links: number; ids: number; conflicts: number }> {
  const { links, map } = identityTables(table);
  const q = (t: string) => (database ? `${quoteIdent(database)}.${quoteIdent(t)}` : quoteIdent(t));
  const rows = await conn.rows(
    `SELECT src AS s, dst AS d, toUnixTimestamp64Micro(min(t)) AS t FROM ${q(links)} GROUP BY src, dst`,
  );
  const sorted = rows
    .map((r) => ({ s: String(r.s), d: String(r.d), t: Number(r.t) }))
    .sort((a, b) => a.t - b.t || compareBytes(a.s, b.s) || compareBytes(a.d, b.d));
  const { person, conflicts } = resolveLinks(sorted.map((l) => [l.s, l.d] as const));
  const ids = [...person.keys()];
  const fresh = `${map}_new`;
  await conn.command(`DROP TABLE IF EXISTS ${q(fresh)}`);
  await conn.command(`CREATE TABLE ${q(fresh)} AS ${q(map)}`);
  // Chunks keep each request's parameters small.
  for (let i = 0; i < ids.length; i += 50_000) {
    const part = ids.slice(i, i + 50_000);
    await conn.command(
      `INSERT INTO ${q(fresh)} SELECT p.1, p.2 FROM (SELECT arrayJoin(arrayZip({k:Array(String)}, {p:Array(String)})) AS p)`,
      { k: part, p: part.map((k) => person.get(k) as string) },
    );
  }
  await conn.command(`EXCHANGE TABLES ${q(fresh)} AND ${q(map)}`);
  await conn.command(`DROP TABLE IF EXISTS ${q(fresh)}`);
  return { links: sorted.length, ids: ids.length, conflicts };
}

/** A number: epoch seconds, milliseconds or microseconds by magnitude (as the sync reads times). */
const NUM_RE = "^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$";

/** SQL: the text at a `--map` path of JSON text `json` (a string's own text, other values' JSON). */
function chTextAt(json: string, path: string): string {
  const alts = path.split("|").map((alt) => {
    const keys = alt.split(".").map((k) => (/^\d+$/.test(k) ? String(Number(k) + 1) : lit(k)));
    const raw = `JSONExtractRaw(${json}, ${keys.join(", ")})`;
    return `if(startsWith(${raw}, '"'), JSONExtractString(${json}, ${keys.join(", ")}), if(${raw} = 'null', '', ${raw}))`;
  });
  return alts.length === 1 ? alts[0] : `coalesce(${alts.map((a) => `nullIf(${a}, '')`).join(", ")}, '')`;
}

/**
 * The statement that adds one partition's links (rows read by `read`, `LineAsString` rows `line`) to
 * the links table: each valid JSON object line's links (`chLinksSql`) at the line's event time (read
 * from `timePath` as the sync reads it: epoch s/ms/µs by magnitude, or ISO 8601 in UTC).
 */
export function chLoadLinksSql(
  rules: LinkRule[],
  timePath: string,
  linksTable: string,
  read: string,
): string {
  const t = chTextAt("j", timePath);
  return `INSERT INTO ${quoteIdent(linksTable)} (date, src, dst, t)
SELECT toDate({date:String}), l.1, l.2, fromUnixTimestamp64Micro(toInt64(us), 'UTC')
  FROM (SELECT arrayJoin(${chLinksSql(rules, "j")}) AS l,
               ${t} AS t_text, toFloat64OrNull(t_text) AS num,
               multiIf(abs(num) < 1e11, num, abs(num) < 1e14, num / 1e3, num / 1e6) AS secs,
               if(match(t_text, ${lit(NUM_RE)}), round(secs * 1e6),
                  toFloat64(toUnixTimestamp64Micro(parseDateTime64BestEffortOrNull(t_text, 6, 'UTC')))) AS us
          FROM (SELECT toValidUTF8(line) AS j FROM ${read}) WHERE isValidJSON(j) AND JSONType(j) = 'Object')
 WHERE us IS NOT NULL AND isFinite(us)`;
}

/**
 * `evx clickhouse load`'s identity step for one loaded partition (a no-op without rules): the date's
 * links are replaced by the links of its rows. `dropDate` alone (a partition gone from the source)
 * drops them.
 */
export async function chReplaceLinks(
  conn: ChIdentityConn,
  table: string,
  date: string,
  load?: { rules: LinkRule[]; timePath: string; reads: LinkRead[] },
): Promise<void> {
  const { links } = identityTables(table);
  await conn.command(`ALTER TABLE ${quoteIdent(links)} DROP PARTITION ID ${lit(date.replace(/-/g, ""))}`);
  if (load?.rules.length)
    for (const r of load.reads)
      await conn.command(chLoadLinksSql(load.rules, load.timePath, links, r.read), { ...r.params, date });
}

/** A source of `line` rows (JSON text, one per message) and its query parameters. */
export interface LinkRead {
  read: string;
  params: Record<string, unknown>;
}

/**
 * The load's identity hooks (src/queries/clickhouse/load.ts), or undefined for a lake without
 * identity rules: create the tables, replace a partition's links after its events (read from the same
 * objects as its insert: JSON lines as lines, Parquet rows as their JSON text), rebuild the map once
 * at the end.
 */
export function chIdentityStep(
  client: {
    command(sql: string, params?: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<unknown>;
    statement(
      sql: string,
      params: Record<string, unknown>,
      opts?: { signal?: AbortSignal },
    ): Promise<unknown>;
    rows<T>(sql: string, params?: Record<string, unknown>, opts?: { signal?: AbortSignal }): Promise<T[]>;
  },
  table: string,
  o: { preset?: PresetName; map?: { event_time: string }; cluster?: string; signal?: AbortSignal },
):
  | {
      setup(): Promise<void>;
      /** Replaces the date's links by those of `reads` (none: the date left the source). */
      partition(date: string, reads?: LinkRead[]): Promise<void>;
      finish(): Promise<void>;
    }
  | undefined {
  const rules = identityRules(o.preset);
  if (!rules.length || !o.preset) return undefined;
  const timePath = o.map?.event_time ?? PRESETS[o.preset].map.event_time;
  const opts = { signal: o.signal };
  const conn: ChIdentityConn = {
    rows: (sql, params) => client.rows(sql, params ?? {}, opts),
    command: async (sql, params) => {
      if (/^\s*INSERT/i.test(sql)) await client.statement(sql, params ?? {}, opts);
      else await client.command(sql, params ?? {}, opts);
    },
  };
  return {
    setup: async () => {
      for (const ddl of identityDdl(table, o.cluster)) await client.command(ddl, {}, opts);
    },
    partition: async (date, reads) => {
      await chReplaceLinks(conn, table, date, reads ? { rules, timePath, reads } : undefined);
    },
    finish: async () => {
      await rebuildChIdentity(conn, table);
    },
  };
}
