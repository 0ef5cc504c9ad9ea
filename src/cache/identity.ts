/**
 * The cache's identity map (docs/semantics.md, "Identity"). Each batch's rows give identity links
 * (src/source/identity.ts: the vendor's rules) kept in `identity_links` with their object, so an object
 * that leaves the cache takes its links with it. After every change of the links, in the same
 * transaction as the batch, the map is resolved afresh from all the cached links (`resolveLinks`) and:
 * - `identity (user_key, person_key)` holds every id whose person is another id;
 * - `events.person_key` is the event's person key, or NULL when the user is their own person; the rows
 *   of every id whose person changed are re-keyed in that transaction.
 * So a reader sees the map and the events' keys of one snapshot: a late identify re-keys the earlier
 * events of the person at once, never leaving a mix of old and new keys in an answer. Analyses in
 * `merged` mode read `coalesce(person_key, user_key)` as the user (src/queries/identity.ts): no join
 * at query time (measured on 2M events, src/queries/identity.ts).
 */
import { listValue } from "@duckdb/node-api";
import { compareBytes, type IdentityMode, identityRules, resolveLinks } from "../source/identity.js";
import type { Cache } from "./db.js";
import { getFormat, getMeta, setMeta } from "./schema.js";

/** Meta key set on caches that kept identity links from their first batch (schema 5 on). */
export const IDENTITY_KEPT = "identity_kept";

/**
 * Adds the batch's identity links (stage column `links`, on rows that are not rejected and have a
 * time; a duplicate's links too, with its own object) to `identity_links`. The link ids must be in
 * `batch_users`.
 */
export async function insertBatchLinks(cache: Cache): Promise<void> {
  await cache.run(
    `INSERT INTO identity_links
     SELECT us.user_key, ud.user_key, l.ts, l.obj
       FROM (SELECT obj, ts, unnest(links) AS x FROM stage WHERE reason IS NULL AND ts IS NOT NULL AND len(links) > 0) l
       JOIN batch_users us ON us.user_id = l.x.s JOIN batch_users ud ON ud.user_id = l.x.d`,
  );
}

/** SQL: the ids of the batch's links (to be given user keys with the batch's users). */
export const BATCH_LINK_IDS = `SELECT unnest(list_concat(list_transform(links, x -> x.s), list_transform(links, x -> x.d))) AS user_id
  FROM stage WHERE reason IS NULL AND ts IS NOT NULL AND len(links) > 0`;

/** Chains longer than this (or a loop of first links) are resolved by the JS resolver instead. */
const MAX_CHAIN = 32;

/**
 * Resolves the map afresh from every cached link and re-keys the events whose person changed. Runs
 * inside the caller's transaction (the batch's, or an eviction's); `fixUnkeyed` also keys rows added
 * without their person (duplicates promoted when their event's object left). Records the counts in
 * meta (`identity_stats`).
 *
 * The resolution runs in SQL: each id's first link (by time, then target id: `resolveLinks`' order
 * for one source), then one step along the first links per round until nothing moves. When the first
 * links hold no loop this is exactly `resolveLinks` (it only passes a link over when the links it took,
 * all first links, lead back to the source); a loop never settles, and then the links go through
 * `resolveLinks` itself. Measured on a Segment export of 208k events with 150k links (one per
 * anonymous id): the JS round trip of every link cost seconds per batch, the SQL tens of milliseconds.
 */
export async function refreshIdentity(cache: Cache, opts: { fixUnkeyed?: boolean } = {}): Promise<void> {
  const any = await cache.one<{ n: number }>(
    "SELECT (SELECT count(*) FROM (SELECT 1 FROM identity_links LIMIT 1)) + (SELECT count(*) FROM (SELECT 1 FROM identity LIMIT 1)) AS n",
  );
  if (!any?.n) return;
  const temps = ["identity_first", "identity_new", "identity_changed"];
  try {
    await cache.run(
      `CREATE OR REPLACE TEMP TABLE identity_first AS
       SELECT s, d FROM (SELECT l.s, l.d, row_number() OVER (PARTITION BY l.s ORDER BY l.t, ud.user_id) AS k
                           FROM (SELECT src_key AS s, dst_key AS d, min(t) AS t FROM identity_links GROUP BY ALL) l
                           JOIN users ud ON ud.user_key = l.d)
        WHERE k = 1`,
    );
    await cache.run(
      "CREATE OR REPLACE TEMP TABLE identity_new AS SELECT s AS user_key, d AS person_key FROM identity_first",
    );
    let settled = false;
    for (let round = 0; round < MAX_CHAIN && !settled; round++) {
      const moved = await cache.one<{ n: number }>(
        `SELECT count(*) AS n FROM identity_new n JOIN identity_first f ON f.s = n.person_key`,
      );
      if (!moved?.n) settled = true;
      else
        await cache.run(
          "UPDATE identity_new SET person_key = f.d FROM identity_first f WHERE identity_new.person_key = f.s",
        );
    }
    if (!settled) await resolveInNode(cache);
    const conflicts = await cache.one<{ n: number }>(
      `SELECT count(DISTINCT l.src_key) AS n FROM identity_links l
         LEFT JOIN identity_new a ON a.user_key = l.src_key LEFT JOIN identity_new b ON b.user_key = l.dst_key
        WHERE coalesce(a.person_key, l.src_key) <> coalesce(b.person_key, l.dst_key)`,
    );
    // Ids whose person changed: new or different in the new map, or no longer mapped (NULL).
    await cache.run(
      `CREATE OR REPLACE TEMP TABLE identity_changed AS
       SELECT coalesce(n.user_key, o.user_key) AS user_key, n.person_key
         FROM identity_new n FULL JOIN identity o ON o.user_key = n.user_key
        WHERE n.person_key IS DISTINCT FROM o.person_key`,
    );
    const changed = await cache.one<{ n: number }>("SELECT count(*) AS n FROM identity_changed");
    if (changed?.n) {
      await cache.run(
        `UPDATE events SET person_key = c.person_key FROM identity_changed c WHERE events.user_key = c.user_key`,
      );
      await cache.run("DELETE FROM identity");
      await cache.run("INSERT INTO identity SELECT user_key, person_key FROM identity_new");
    }
    if (opts.fixUnkeyed)
      await cache.run(
        `UPDATE events SET person_key = m.person_key FROM identity m
          WHERE events.person_key IS NULL AND events.user_key = m.user_key`,
      );
    const stats = await cache.one<{ links: number; ids: number; persons: number }>(
      `SELECT (SELECT count(*) FROM (SELECT DISTINCT src_key, dst_key FROM identity_links)) AS links,
              count(*) AS ids, count(DISTINCT person_key) AS persons FROM identity`,
    );
    await setMeta(
      cache,
      "identity_stats",
      JSON.stringify({
        links: Number(stats?.links ?? 0),
        ids: Number(stats?.ids ?? 0),
        persons: Number(stats?.persons ?? 0),
        conflicts: Number(conflicts?.n ?? 0),
      }),
    );
  } finally {
    for (const t of temps) await cache.run(`DROP TABLE IF EXISTS ${t}`);
  }
}

/** `identity_new` from `resolveLinks` over every link in its order (first links that loop). */
async function resolveInNode(cache: Cache): Promise<void> {
  const rows = await cache.all<{ s: number; d: number }>(
    `SELECT l.s, l.d FROM (SELECT src_key AS s, dst_key AS d, min(t) AS t FROM identity_links GROUP BY ALL) l
       JOIN users us ON us.user_key = l.s JOIN users ud ON ud.user_key = l.d
      ORDER BY l.t, us.user_id, ud.user_id`,
  );
  const { person } = resolveLinks(rows.map((r) => [Number(r.s), Number(r.d)] as const));
  const keys = [...person.keys()];
  await cache.run(
    "CREATE OR REPLACE TEMP TABLE identity_new AS SELECT unnest($1::INTEGER[]) AS user_key, unnest($2::INTEGER[]) AS person_key",
    [listValue(keys), listValue(keys.map((k) => person.get(k) as number))],
  );
}

export interface IdentityStatus {
  /** `merged` when the cache's lake has identity rules and the cache kept its links. */
  default: IdentityMode;
  /** Why the default is raw, when it is. */
  why?: string;
  /** Distinct links, ids merged into another person, persons they form, conflicts. */
  links: number;
  ids: number;
  persons: number;
  conflicts: number;
}

/** What `evx status` and `--identity`'s default read. */
export async function identityStatus(cache: Cache): Promise<IdentityStatus> {
  const format = await getFormat(cache);
  const statsText = await getMeta(cache, "identity_stats");
  const stats = statsText
    ? (JSON.parse(statsText) as { links: number; ids: number; persons: number; conflicts: number })
    : { links: 0, ids: 0, persons: 0, conflicts: 0 };
  const rules = identityRules(format?.preset);
  if (!rules.length)
    return { default: "raw", why: "the lake's format has no identity rules (use a --preset)", ...stats };
  if ((await getMeta(cache, IDENTITY_KEPT)) === undefined)
    return {
      default: "raw",
      why: "the cache was synced before evx kept identity links; sync the lake into a new cache",
      ...stats,
    };
  return { default: "merged", ...stats };
}

/** The `--identity` default of a cache. */
export async function defaultIdentity(cache: Cache): Promise<IdentityMode> {
  return (await identityStatus(cache)).default;
}

/** Byte-order sort of link texts, for callers that hold ids as text (ClickHouse, tests). */
export function sortLinks<T extends { s: string; d: string; t: number }>(links: T[]): T[] {
  return [...links].sort((a, b) => a.t - b.t || compareBytes(a.s, b.s) || compareBytes(a.d, b.d));
}
