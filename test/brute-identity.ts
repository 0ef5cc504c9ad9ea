/**
 * Brute-force identity (docs/semantics.md, "Identity"), written again from the vendors' documentation
 * and the doc's rule, not from src/source/identity.ts: the links of each row of a vendor lake, then
 * each id's person by following first identifications, then the events re-keyed to persons.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { gunzipSync } from "node:zlib";
import type { PresetName } from "../src/cache/presets.js";
import { type BruteEvent, compareBytes, parseEventTime } from "./brute.js";

export interface BruteLink {
  src: string;
  dst: string;
  /** Epoch µs of the row. */
  t: number;
}

type Row = Record<string, unknown>;
const str = (v: unknown): string =>
  typeof v === "string" ? v : typeof v === "number" || typeof v === "boolean" ? String(v) : "";
const objOf = (v: unknown): Row =>
  typeof v === "object" && v !== null && !Array.isArray(v) ? (v as Row) : {};

/** The links one row gives under the vendor's documented identity rules. */
function rowLinks(vendor: PresetName, o: Row): [string, string][] {
  const out: [string, string][] = [];
  const add = (s: string, d: string) => {
    if (s && d && s !== d) out.push([s, d]);
  };
  switch (vendor) {
    case "segment":
      // alias: previousId → userId; every other call: anonymousId → userId.
      if (o.type === "alias") add(str(o.previousId), str(o.userId));
      else add(str(o.anonymousId), str(o.userId));
      break;
    case "amplitude":
      add(str(o.device_id), str(o.user_id));
      break;
    case "mixpanel": {
      const p = objOf(o.properties);
      const dev = str(p.$device_id);
      add(dev, str(p.$user_id));
      if (dev) add(`$device:${dev}`, str(p.$user_id));
      const ev = str(o.event) || str(o.event_name);
      if (ev === "$identify") add(str(p.$anon_distinct_id), str(p.$identified_id));
      if (ev === "$merge" && Array.isArray(p.$distinct_ids))
        add(str(p.$distinct_ids[0]), str(p.$distinct_ids[1]));
      break;
    }
    case "posthog": {
      const p = objOf(o.properties);
      if (o.event === "$identify") add(str(p.$anon_distinct_id), str(o.distinct_id));
      add(str(o.person_id), str(o.distinct_id));
      break;
    }
  }
  return out;
}

/** The row's time, as each vendor writes it (Mixpanel: inside `properties`). */
function rowTime(vendor: PresetName, o: Row): number | null {
  if (vendor === "mixpanel") return parseEventTime(objOf(o.properties).time ?? o.time);
  if (vendor === "segment") return parseEventTime(o.timestamp);
  if (vendor === "amplitude") return parseEventTime(o.event_time);
  return parseEventTime(o.timestamp);
}

/** Every link of a vendor lake's JSON-lines files (gzipped or not), in any order. */
export function loadVendorLinks(dir: string, vendor: PresetName): BruteLink[] {
  const files = (readdirSync(dir, { recursive: true, withFileTypes: true }) as import("node:fs").Dirent[])
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)).split(sep).join("/"))
    .filter((k) => /\.(gz|jsonl|json)$/.test(k) && !/(^|\/)[._]/.test(k));
  const out: BruteLink[] = [];
  for (const k of files) {
    let buf = readFileSync(join(dir, k));
    if (k.endsWith(".gz")) buf = gunzipSync(buf);
    for (const line of buf.toString("utf8").split("\n")) {
      if (!line.trim()) continue;
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch {
        continue;
      }
      if (typeof o !== "object" || o === null || Array.isArray(o)) continue;
      const t = rowTime(vendor, o as Row);
      if (t === null) continue;
      for (const [src, dst] of rowLinks(vendor, o as Row)) out.push({ src, dst, t });
    }
  }
  return out;
}

/**
 * Each id's person: links in order of time, then source and target (byte order); an id takes its first
 * link unless that link's target already leads back to it; an id's person is where its chain of taken
 * links ends. Conflicts: ids with a link to another person than theirs.
 */
export function brutePersons(links: BruteLink[]): { personOf: (id: string) => string; conflicts: number } {
  const sorted = [...links].sort(
    (a, b) => a.t - b.t || compareBytes(a.src, b.src) || compareBytes(a.dst, b.dst),
  );
  const taken = new Map<string, string>();
  const end = (id: string): string => {
    let x = id;
    while (taken.has(x)) x = taken.get(x) as string;
    return x;
  };
  for (const l of sorted) {
    if (taken.has(l.src)) continue;
    if (end(l.dst) === l.src) continue;
    taken.set(l.src, l.dst);
  }
  const conflicted = new Set(sorted.filter((l) => end(l.src) !== end(l.dst)).map((l) => l.src));
  return { personOf: end, conflicts: conflicted.size };
}

/** The events with each user replaced by their person. */
export function mergeUsers(events: BruteEvent[], personOf: (id: string) => string): BruteEvent[] {
  return events.map((e) => ({ ...e, user: personOf(e.user) }));
}
