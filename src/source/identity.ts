/**
 * Identity stitching (docs/semantics.md, "Identity"): which ids of a collector's export name one
 * person, from what each vendor documents, and how the links between ids resolve to persons. Pure:
 * the DuckDB sync (src/cache/identity.ts), `evx clickhouse load` (src/queries/clickhouse/identity.ts)
 * and the tests read the same rules and the same resolver, so both engines hold the same map.
 *
 * A _link_ `src → dst` at instant `t` says "the id `src` is the person `dst` is". Each row of the
 * export gives the links of its vendor's rules below (its time is the row's event time), whether the
 * row is an event or a message that is not one (an identify or alias call).
 */
import type { PresetName } from "../cache/presets.js";

/** `merged`: analyses count persons; `raw`: each user id of the lake is its own user. */
export type IdentityMode = "merged" | "raw";
export const IDENTITY_MODES: readonly IdentityMode[] = ["merged", "raw"];

/**
 * One link rule: on a row where `when` holds (a path's text equals one of the values, or, with `not`,
 * equals none of them: a missing field equals none), `src → dst` when both paths give a non-empty text
 * and they differ. `srcPrefix` is put before the source id's text. Paths are dotted as in `--map`
 * (`properties.$device_id`), and a digit step indexes an array (`properties.$distinct_ids.0`).
 */
export interface LinkRule {
  when?: { path: string; values: string[]; not?: boolean };
  src: string;
  dst: string;
  srcPrefix?: string;
}

/**
 * The link rules of each preset, with the vendor's documentation of each. Where the vendor documents
 * what happens when an id is identified as two users, it keeps the first; so does evx (see
 * `resolveLinks`), and such ids are counted as conflicts in `evx status`.
 */
export const IDENTITY_RULES: Record<PresetName, LinkRule[]> = {
  segment: [
    // Identify (and every call made after it) carries both the anonymousId and the userId:
    // https://segment.com/docs/connections/spec/identify/ and
    // https://segment.com/docs/connections/spec/best-practices-identify/ ("anonymousId … userId").
    { when: { path: "type", values: ["alias"], not: true }, src: "anonymousId", dst: "userId" },
    // Alias: "previousId is the existing ID you've referred to the user by … userId … the user's new
    // identity, or an existing identity that you wish to merge": https://segment.com/docs/connections/spec/alias/
    { when: { path: "type", values: ["alias"] }, src: "previousId", dst: "userId" },
  ],
  amplitude: [
    // "Amplitude assumes previous anonymous events on that device belong to a single user until
    // Amplitude receives an event with a user ID" (device_id + user_id on one row), and a device later
    // used by another user ID keeps its earlier anonymous events with the first:
    // https://amplitude.com/docs/data/sources/amplitude-id-assignment
    { src: "device_id", dst: "user_id" },
  ],
  mixpanel: [
    // Simplified ID Merge: "when $user_id and $device_id are detected in the same event for the first
    // time, merge occurs"; anonymous events carry distinct_id `$device:<$device_id>`:
    // https://docs.mixpanel.com/docs/tracking-methods/id-management/identifying-users-simplified
    { src: "properties.$device_id", dst: "properties.$user_id" },
    { src: "properties.$device_id", dst: "properties.$user_id", srcPrefix: "$device:" },
    // Original ID Merge: `$identify` links `$anon_distinct_id` to `$identified_id` (an $anon_id "not
    // already merged to an $identified_id"), `$merge` merges the two ids of `$distinct_ids`:
    // https://docs.mixpanel.com/docs/tracking-methods/id-management/identifying-users-original
    {
      when: { path: "event|event_name", values: ["$identify"] },
      src: "properties.$anon_distinct_id",
      dst: "properties.$identified_id",
    },
    {
      when: { path: "event|event_name", values: ["$merge"] },
      src: "properties.$distinct_ids.0",
      dst: "properties.$distinct_ids.1",
    },
  ],
  posthog: [
    // `$identify` links the anonymous ID (`$anon_distinct_id`) to the distinct ID it identifies:
    // "all past and future events made with that anonymous ID are now associated with the distinct
    // ID": https://posthog.com/docs/product-analytics/identify
    {
      when: { path: "event", values: ["$identify"] },
      src: "properties.$anon_distinct_id",
      dst: "distinct_id",
    },
    // The batch export's `person_id` is the person of the row's distinct_id
    // (https://posthog.com/docs/data-pipelines/batch-exports/s3): a person id points to its first
    // distinct id, so a person, its anonymous and its identified distinct ids are one, keyed by an id
    // the analyst knows (the identified distinct id once an identify links them).
    { src: "person_id", dst: "distinct_id" },
  ],
};

/** The rules of a lake format: a preset's, or none (a plain lake has no identity information). */
export function identityRules(preset: PresetName | undefined): LinkRule[] {
  return preset ? IDENTITY_RULES[preset] : [];
}

/** The result of resolving links: each linked id's person (ids that are their own person are absent). */
export interface Resolution<K> {
  person: Map<K, K>;
  /** Ids linked to more than one person: the first identification won. */
  conflicts: number;
}

/**
 * Resolves links given **in order** (by instant, then source id and target id in byte order, so the
 * answer does not depend on the order objects were synced): each id follows its first link (the first
 * identification wins), except a link that would close a loop (its target already leads back to its
 * source: the two are one person already), which is passed over. An id's person is the end of the
 * chain of first links from it. An id with a link to another person than its own is a conflict.
 */
export function resolveLinks<K>(links: Iterable<readonly [K, K]>): Resolution<K> {
  const parent = new Map<K, K>();
  // `up` holds a known ancestor of each id (path compression); parents never change once set, so an
  // ancestor stays on the id's chain.
  const up = new Map<K, K>();
  const find = (k: K): K => {
    let r = k;
    const seen: K[] = [];
    for (let n = up.get(r); n !== undefined; n = up.get(r)) {
      seen.push(r);
      r = n;
    }
    for (const s of seen) up.set(s, r);
    return r;
  };
  const all: [K, K][] = [];
  for (const [s, d] of links) {
    if (s === d) continue;
    all.push([s, d]);
    if (parent.has(s)) continue;
    if (find(d) === s) continue;
    parent.set(s, d);
    up.set(s, d);
  }
  const person = new Map<K, K>();
  for (const k of parent.keys()) person.set(k, find(k));
  const of = (k: K) => person.get(k) ?? k;
  const conflicted = new Set<K>();
  for (const [s, d] of all) if (of(s) !== of(d)) conflicted.add(s);
  return { person, conflicts: conflicted.size };
}

/** Byte order of two texts (SQL's VARCHAR / String order), for ordering links by id. */
export function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, "utf8"), Buffer.from(b, "utf8"));
}
