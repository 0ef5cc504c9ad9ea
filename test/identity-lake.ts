/**
 * Identity fixtures: a journey of abstract messages (anonymous events, identifications, aliases)
 * written as each vendor's export from its documentation (src/source/identity.ts cites them):
 * - Segment: `track` calls with `anonymousId` and, once identified, `userId`; `identify` calls with
 *   both; `alias` calls (`previousId` → `userId`). Keys `segment-logs/<source>/<day ms>/<file>.gz`.
 * - Amplitude: rows with `device_id` and, once identified, `user_id`; an identification is a
 *   `$identify` row with both; an alias is a row of the old id as a device with the new user id.
 * - Mixpanel (Simplified ID Merge): anonymous events with `distinct_id` `$device:<id>` and
 *   `$device_id`; identified events with `distinct_id` = `$user_id` and the `$device_id`; an
 *   identification is the first event carrying both; an alias is a `$merge` event (Original ID Merge).
 * - PostHog: events with `distinct_id` (anonymous or identified) and `person_id` (the anonymous
 *   person's id before the identification, the identified person's after); an identification or alias
 *   is an `$identify` event with `$anon_distinct_id`.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { gzipSync } from "node:zlib";
import type { PresetName } from "../src/cache/presets.js";

export type Message =
  /** An event by a device (`anon`), identified as `user` when given. */
  | { kind: "event"; t: string; type: string; anon: string; user?: string; props?: Record<string, unknown> }
  /** `anon` is identified as `user`. */
  | { kind: "identify"; t: string; anon: string; user: string }
  /** The old id `prev` is the user `user` from now on. */
  | { kind: "alias"; t: string; prev: string; user: string };

let n = 0;
const uuid = () => `00000000-0000-4000-a000-${String(++n).padStart(12, "0")}`;
const phPerson = (id: string) => `person-${id}`;

function vendorRows(preset: PresetName, m: Message): Record<string, unknown>[] {
  switch (preset) {
    case "segment": {
      const base = { messageId: `ajs-${uuid()}`, timestamp: m.t };
      if (m.kind === "event")
        return [
          {
            ...base,
            type: "track",
            event: m.type,
            anonymousId: m.anon,
            userId: m.user ?? null,
            properties: m.props ?? {},
          },
        ];
      if (m.kind === "identify")
        return [{ ...base, type: "identify", anonymousId: m.anon, userId: m.user, traits: {} }];
      return [{ ...base, type: "alias", previousId: m.prev, userId: m.user }];
    }
    case "amplitude": {
      const time = `${m.t.slice(0, 10)} ${m.t.slice(11, 19)}.000000`;
      const base = { event_time: time, uuid: uuid(), $insert_id: uuid(), insert_id: uuid() };
      if (m.kind === "event")
        return [
          {
            ...base,
            event_type: m.type,
            device_id: m.anon,
            user_id: m.user ?? null,
            event_properties: m.props ?? {},
          },
        ];
      if (m.kind === "identify")
        return [
          { ...base, event_type: "$identify", device_id: m.anon, user_id: m.user, event_properties: {} },
        ];
      return [{ ...base, event_type: "$identify", device_id: m.prev, user_id: m.user, event_properties: {} }];
    }
    case "mixpanel": {
      const time = Date.parse(m.t);
      if (m.kind === "event")
        return [
          {
            event: m.type,
            properties: {
              time,
              distinct_id: m.user ?? `$device:${m.anon}`,
              $device_id: m.anon,
              ...(m.user ? { $user_id: m.user } : {}),
              $insert_id: uuid().slice(-12),
              ...(m.props ?? {}),
            },
          },
        ];
      if (m.kind === "identify")
        return [
          {
            event: "$identify",
            properties: {
              time,
              distinct_id: m.user,
              $anon_distinct_id: `$device:${m.anon}`,
              $identified_id: m.user,
              $insert_id: uuid().slice(-12),
            },
          },
        ];
      return [
        {
          event: "$merge",
          properties: {
            time,
            distinct_id: m.user,
            $distinct_ids: [m.prev, m.user],
            $insert_id: uuid().slice(-12),
          },
        },
      ];
    }
    case "posthog": {
      const timestamp = m.t.replace("Z", "+00:00");
      if (m.kind === "event")
        return [
          {
            uuid: uuid(),
            event: m.type,
            distinct_id: m.user ?? m.anon,
            person_id: phPerson(m.user ?? m.anon),
            timestamp,
            properties: m.props ?? {},
          },
        ];
      const [anon, user] = m.kind === "identify" ? [m.anon, m.user] : [m.prev, m.user];
      return [
        {
          uuid: uuid(),
          event: "$identify",
          distinct_id: user,
          person_id: phPerson(user),
          timestamp,
          properties: { $anon_distinct_id: anon },
        },
      ];
    }
  }
}

/** The object key of a vendor's file holding messages of `date` (file `i` of that day). */
function keyOf(preset: PresetName, date: string, i: number): string {
  const day = Date.parse(`${date}T00:00:00Z`);
  switch (preset) {
    case "segment":
      return `segment-logs/src1/${day}/${day + i}.file${i}.gz`;
    case "amplitude":
      return `1234/1234_${date}_${i}#0.json.gz`;
    case "mixpanel":
      return `99/mp_master_event/${date.replace(/-/g, "/")}/part-${i}.json.gz`;
    case "posthog": {
      const start = new Date(day + i * 3_600_000).toISOString().replace(".000Z", "+00:00");
      const end = new Date(day + (i + 1) * 3_600_000).toISOString().replace(".000Z", "+00:00");
      return `${start}-${end}.jsonl.gz`;
    }
  }
}

/**
 * Writes `messages` as `preset`'s export under `dir`: one file per UTC date of the messages (file
 * index `file`, so a later call can add a file to a day that already has one).
 */
export function writeIdentityLake(dir: string, preset: PresetName, messages: Message[], file = 0): string[] {
  const objects = identityObjects(preset, messages, file);
  for (const [key, body] of objects) {
    const path = join(dir, key);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, body);
  }
  return [...objects.keys()];
}

/** The objects (key → gzipped body) of `messages` as `preset`'s export (see `writeIdentityLake`). */
export function identityObjects(preset: PresetName, messages: Message[], file = 0): Map<string, Buffer> {
  const byDate = new Map<string, Record<string, unknown>[]>();
  for (const m of messages) {
    const date = m.t.slice(0, 10);
    const rows = byDate.get(date) ?? [];
    rows.push(...vendorRows(preset, m));
    byDate.set(date, rows);
  }
  const out = new Map<string, Buffer>();
  for (const [date, rows] of byDate)
    out.set(keyOf(preset, date, file), gzipSync(`${rows.map((r) => JSON.stringify(r)).join("\n")}\n`));
  return out;
}

/**
 * The hand-worked journeys (docs/semantics.md, "Identity"; expected answers in test/identity.test.ts):
 * - alice: lands anonymously on device `a-1`, is identified, signs up and buys: one conversion of
 *   `landing_viewed → signed_up → purchase`.
 * - `a-2` is identified as bob, then as carol (a conflict: the first identification wins, bob).
 * - dave uses three devices, each anonymous first, then identified.
 * - frank was known as `old-frank` (an alias).
 */
export const JOURNEYS: Message[] = [
  { kind: "event", t: "2023-06-01T10:00:00Z", type: "landing_viewed", anon: "a-1" },
  { kind: "identify", t: "2023-06-01T10:04:00Z", anon: "a-1", user: "alice" },
  { kind: "event", t: "2023-06-01T10:05:00Z", type: "signed_up", anon: "a-1", user: "alice" },
  {
    kind: "event",
    t: "2023-06-01T10:10:00Z",
    type: "purchase",
    anon: "a-1",
    user: "alice",
    props: { revenue: 20 },
  },
  { kind: "event", t: "2023-06-01T10:50:00Z", type: "landing_viewed", anon: "a-2" },
  { kind: "identify", t: "2023-06-01T11:00:00Z", anon: "a-2", user: "bob" },
  { kind: "event", t: "2023-06-01T11:01:00Z", type: "signed_up", anon: "a-2", user: "bob" },
  { kind: "identify", t: "2023-06-01T12:00:00Z", anon: "a-2", user: "carol" },
  { kind: "event", t: "2023-06-01T12:01:00Z", type: "signed_up", anon: "a-2", user: "carol" },
  { kind: "event", t: "2023-06-01T12:05:00Z", type: "purchase", anon: "a-2", user: "carol" },
  { kind: "event", t: "2023-06-02T09:00:00Z", type: "landing_viewed", anon: "d-1" },
  { kind: "identify", t: "2023-06-02T09:01:00Z", anon: "d-1", user: "dave" },
  { kind: "event", t: "2023-06-02T09:02:00Z", type: "signed_up", anon: "d-1", user: "dave" },
  { kind: "event", t: "2023-06-02T13:00:00Z", type: "landing_viewed", anon: "d-2" },
  { kind: "identify", t: "2023-06-02T13:02:00Z", anon: "d-2", user: "dave" },
  { kind: "event", t: "2023-06-03T08:00:00Z", type: "landing_viewed", anon: "d-3" },
  { kind: "identify", t: "2023-06-03T08:01:00Z", anon: "d-3", user: "dave" },
  {
    kind: "event",
    t: "2023-06-03T08:30:00Z",
    type: "purchase",
    anon: "d-3",
    user: "dave",
    props: { revenue: 5 },
  },
  { kind: "event", t: "2023-06-02T15:00:00Z", type: "landing_viewed", anon: "f-1", user: "old-frank" },
  { kind: "event", t: "2023-06-02T15:10:00Z", type: "signed_up", anon: "f-1", user: "old-frank" },
  { kind: "alias", t: "2023-06-03T09:00:00Z", prev: "old-frank", user: "frank" },
  { kind: "event", t: "2023-06-03T09:05:00Z", type: "purchase", anon: "f-1", user: "frank" },
];

/** A late identification: `a-4` lands on day 2; its identify as erin arrives in a file synced later. */
export const LATE_BEFORE: Message[] = [
  { kind: "event", t: "2023-06-02T10:00:00Z", type: "landing_viewed", anon: "a-4" },
  { kind: "event", t: "2023-06-02T10:20:00Z", type: "signed_up", anon: "s-erin", user: "erin" },
];
export const LATE_IDENTIFY: Message[] = [
  { kind: "identify", t: "2023-06-03T07:00:00Z", anon: "a-4", user: "erin" },
];

/**
 * Many journeys for the cross-checks (deterministic): each person uses 1-3 devices; on each device
 * they browse anonymously, are identified (an identify message, or only identified events: the
 * vendor's "event with both ids"), then act identified. Every 17th device is identified as a second
 * person later (a conflict); every 23rd person had an old id aliased to their id.
 */
export function generateJourneys(opts: { users: number; days: number; seed?: number }): Message[] {
  let a = (opts.seed ?? 1) >>> 0;
  const r = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const types = ["landing_viewed", "signed_up", "purchase", "page_viewed", "search"];
  const start = Date.parse("2023-06-01T00:00:00Z");
  const span = opts.days * 86_400_000;
  const iso = (ms: number) => new Date(ms).toISOString();
  const out: Message[] = [];
  let device = 0;
  for (let u = 0; u < opts.users; u++) {
    const user = `u${u}`;
    const devices = 1 + Math.floor(r() * 3);
    let oldId: string | undefined;
    if (u % 23 === 5) {
      oldId = `old-${user}`;
      const t = start + Math.floor(r() * span * 0.5);
      out.push({ kind: "event", t: iso(t), type: "landing_viewed", anon: `dev${device++}`, user: oldId });
      out.push({ kind: "alias", t: iso(t + 60_000 + Math.floor(r() * span * 0.3)), prev: oldId, user });
    }
    for (let d = 0; d < devices; d++) {
      const anon = `dev${device++}`;
      let t = start + Math.floor(r() * span * 0.8);
      const anonEvents = Math.floor(r() * 4);
      for (let i = 0; i < anonEvents; i++) {
        out.push({ kind: "event", t: iso(t), type: types[Math.floor(r() * 2) * 3], anon });
        t += Math.floor(r() * 1_800_000) + 1000;
      }
      if (r() < 0.15) continue; // never identified on this device
      if (r() < 0.7) out.push({ kind: "identify", t: iso(t), anon, user });
      t += Math.floor(r() * 600_000) + 1000;
      const known = 1 + Math.floor(r() * 5);
      for (let i = 0; i < known; i++) {
        out.push({ kind: "event", t: iso(t), type: types[Math.floor(r() * types.length)], anon, user });
        t += Math.floor(r() * 3_600_000) + 1000;
      }
      if (device % 17 === 0) {
        const other = `u${(u + 1) % opts.users}`;
        out.push({ kind: "identify", t: iso(t), anon, user: other });
        out.push({ kind: "event", t: iso(t + 5000), type: "purchase", anon, user: other });
      }
    }
  }
  return out.filter((m) => Date.parse(m.t) < start + span);
}
