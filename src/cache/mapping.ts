import { PRESETS, type PresetName } from "./presets.js";

/**
 * Which source field feeds each canonical column (`--map event_type=event,user_id=distinct_id,…`).
 * A value is a path: dots walk into nested objects (`properties.distinct_id`), and `a|b` takes `b`
 * where `a` is missing, null or empty (identity fallback).
 */
export interface FieldMap {
  event_type: string;
  event_time: string;
  user_id: string;
  event_properties: string;
}

export const DEFAULT_MAP: FieldMap = {
  event_type: "event_type",
  event_time: "event_time",
  user_id: "user_id",
  event_properties: "event_properties",
};

/** A key of a path: restricted so that it can be quoted safely as an identifier or a JSON pointer. */
const KEY = /^[A-Za-z0-9_$@\- ]{1,128}$/;

/** Parses `--map a=b,c=d` over a base mapping. Field names are restricted so they can be quoted safely. */
export function parseMap(spec: string | undefined, base: FieldMap = DEFAULT_MAP): FieldMap {
  const out: FieldMap = { ...base };
  if (!spec) return out;
  for (const part of spec.split(",")) {
    const p = part.trim();
    if (!p) continue;
    const eq = p.indexOf("=");
    const target = p.slice(0, eq).trim();
    const source = p.slice(eq + 1).trim();
    if (eq < 0 || !(target in DEFAULT_MAP))
      throw new Error(
        `bad --map entry '${p}': use COLUMN=FIELD with COLUMN one of ${Object.keys(DEFAULT_MAP).join(", ")}`,
      );
    checkPath(source, "--map field name");
    out[target as keyof FieldMap] = source;
  }
  return out;
}

/** Throws unless `p` is `a.b|c` made of safe keys. */
export function checkPath(p: string, what: string): void {
  const ok = p.split("|").every((alt) => alt.split(".").every((k) => KEY.test(k)));
  if (!ok) throw new Error(`bad ${what} '${p}'`);
}

/**
 * An event id path: one path, or paths joined by `+` when the id is made of several fields (Mixpanel's
 * `(event, distinct_id, time, $insert_id)`); an event lacking any of them has no id (it is kept).
 */
export function checkIdPath(p: string): void {
  try {
    for (const part of idParts(p)) checkPath(part, "--dedupe field");
  } catch {
    throw new Error(`bad --dedupe field '${p}'`);
  }
}

/** `device_id+$insert_id` → ["device_id", "$insert_id"]. */
export function idParts(p: string): string[] {
  return p.split("+");
}

/** `a.b|c` → [["a","b"],["c"]]. */
export function pathAlternatives(p: string): string[][] {
  return p.split("|").map((alt) => alt.split("."));
}

export function formatMap(m: FieldMap): string {
  return (Object.keys(DEFAULT_MAP) as (keyof FieldMap)[]).map((k) => `${k}=${m[k]}`).join(",");
}

/**
 * What a cache's lake looks like: the field map, the preset it came from (its message kinds and
 * layout), and the event id path for dedupe. Stored with the cache (meta `format`).
 */
export interface LakeFormat {
  preset?: PresetName;
  map: FieldMap;
  /** Event id path; events whose id the cache already holds are counted as duplicates. */
  dedupe?: string;
}

/** What the user asked for on the command line (each part optional). */
export interface FormatRequest {
  preset?: PresetName;
  /** `--map` text, applied over the preset's map (or the default); a whole FieldMap replaces it. */
  map?: string | FieldMap;
  dedupe?: string;
}

/**
 * The format of this sync: a given preset, map or dedupe wins; parts not given come from the stored
 * format (so `--map` alone refines the stored preset), then from the preset, then the defaults.
 */
export function resolveFormat(given: FormatRequest | undefined, stored: LakeFormat | undefined): LakeFormat {
  const preset = given?.preset ?? stored?.preset;
  const presetMap = preset ? PRESETS[preset].map : DEFAULT_MAP;
  const map = given?.map
    ? typeof given.map === "object"
      ? given.map
      : parseMap(given.map, given.preset ? presetMap : (stored?.map ?? presetMap))
    : given?.preset
      ? presetMap
      : (stored?.map ?? presetMap);
  let dedupe = given?.dedupe ?? (given?.preset ? PRESETS[given.preset].id : (stored?.dedupe ?? undefined));
  // A cache deduped on a preset's former id (which was not the vendor's rule) is read again with its id.
  if (!given?.dedupe && preset && dedupe && PRESETS[preset].formerIds?.includes(dedupe))
    dedupe = PRESETS[preset].id;
  if (dedupe) checkIdPath(dedupe);
  return { ...(preset ? { preset } : {}), map, ...(dedupe ? { dedupe } : {}) };
}

/** A stable text of a format, to tell whether a sync asks for a different one than the cache holds. */
export function formatKey(f: LakeFormat): string {
  return JSON.stringify([f.preset ?? null, formatMap(f.map), f.dedupe ?? null]);
}

/** True when the format is the plain default (top-level fields, no preset, no dedupe): the fast SQL applies. */
export function isPlain(f: LakeFormat): boolean {
  return !f.preset && !f.dedupe && formatMap(f.map) === formatMap(DEFAULT_MAP);
}

/** A DuckDB double-quoted identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A DuckDB single-quoted string literal (only for names we validated; values are always bound). */
export function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
