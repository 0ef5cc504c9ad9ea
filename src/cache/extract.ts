/**
 * From a lake format to the SQL (and the Node mirror of it) that turns one source row into evx's
 * columns: event type, time text, user id, properties, event id, and whether the row is a message
 * that is not an event (skipped). Source rows are the "root" columns a reader yields: JSON lines
 * through read_json, Parquet through a projection of its columns to the same names and types.
 */

import { identityRules } from "../source/identity.js";
import { ident, idParts, type LakeFormat, literal, pathAlternatives } from "./mapping.js";
import { PRESETS } from "./presets.js";
import { keyPointer } from "./schema.js";

export type RootType = "VARCHAR" | "JSON";

export interface Extraction {
  /** Top-level fields read, with the type the expressions expect. */
  roots: Map<string, RootType>;
  eventType: string;
  timeText: string;
  userId: string;
  properties: string;
  /** NULL::VARCHAR without dedupe. */
  eventId: string;
  /** A BOOLEAN: the row is a message that is not an event. */
  skip: string;
  /** The row's identity links (src/source/identity.ts), a `STRUCT(s VARCHAR, d VARCHAR)[]`. */
  links: string;
  /** The top-level fields each canonical field may come from (Parquet checks them). */
  required: { field: string; roots: string[] }[];
}

/** A text that may be a tagged number (`\x01` + its text) back to its text. */
const untagText = (x: string) => `(CASE WHEN starts_with(${x}, chr(1)) THEN ${x}[2:] ELSE ${x} END)`;

const pointer = (rest: string[]) => rest.map(keyPointer).join("");

/**
 * SQL of the extraction of `format` over the root columns. `tagged`: the lines may hold tagged numbers
 * (queries/numtext.ts), so each field read as text is untagged (an epoch `event_time` written `1.7e9`
 * reads as that text).
 */
export function extraction(format: LakeFormat, opts: { tagged?: boolean } = {}): Extraction {
  const m = format.map;
  const preset = format.preset ? PRESETS[format.preset] : undefined;
  const kind = preset?.kind;
  const roots = new Map<string, RootType>();
  const need = (root: string, t: RootType) => {
    if (roots.get(root) !== "JSON") roots.set(root, t);
  };
  const rules = identityRules(format.preset);
  const textPaths = [
    m.event_type,
    m.event_time,
    m.user_id,
    ...(format.dedupe ? idParts(format.dedupe) : []),
    kind?.field,
    ...rules.flatMap((r) => [r.src, r.dst, r.when?.path]),
  ].filter((p): p is string => !!p);
  // A root read nested anywhere (or holding the properties) is read as JSON; a plain leaf as VARCHAR.
  for (const p of textPaths)
    for (const [root, ...rest] of pathAlternatives(p)) need(root, rest.length ? "JSON" : "VARCHAR");
  for (const [root] of pathAlternatives(m.event_properties)) need(root, "JSON");

  const leaf = (alt: string[]) => (opts.tagged ? untagText(plainLeaf(alt)) : plainLeaf(alt));
  const plainLeaf = ([root, ...rest]: string[]) =>
    rest.length
      ? `json_extract_string(${ident(root)}, ${literal(pointer(rest))})`
      : roots.get(root) === "JSON"
        ? `json_extract_string(${ident(root)}, '$')`
        : ident(root);
  const text = (p: string) => {
    const alts = pathAlternatives(p);
    return alts.length === 1
      ? leaf(alts[0])
      : `coalesce(${alts.map((a) => `nullif(${leaf(a)}, '')`).join(", ")})`;
  };
  const json = ([root, ...rest]: string[]) =>
    rest.length ? `json_extract(${ident(root)}, ${literal(pointer(rest))})` : ident(root);
  const propAlts = pathAlternatives(m.event_properties);
  let properties = propAlts.length === 1 ? json(propAlts[0]) : `coalesce(${propAlts.map(json).join(", ")})`;
  const dropped = droppedKeys(format);
  if (dropped.length) {
    const patch = JSON.stringify(Object.fromEntries(dropped.map((k) => [k, null])));
    // A merge patch with nulls removes keys; only an object is patched (a patch replaces anything else).
    properties = `CASE WHEN json_type(${properties}) = 'OBJECT' THEN json_merge_patch(${properties}, ${literal(patch)}) ELSE ${properties} END`;
  }
  let eventType = text(m.event_type);
  let skip = "false";
  if (kind) {
    const k = text(kind.field);
    const renames = Object.entries(kind.rename);
    if (renames.length)
      eventType = `CASE ${k} ${renames.map(([from, to]) => `WHEN ${literal(from)} THEN ${literal(to)}`).join(" ")} ELSE ${eventType} END`;
    if (kind.skip.length) skip = `coalesce(${k} IN (${kind.skip.map(literal).join(", ")}), false)`;
  }
  const links = rules.length
    ? `list_filter([${rules
        .map((r) => {
          const id = (p: string) => `nullif(${text(p)}, '')`;
          const src = r.srcPrefix ? `${literal(r.srcPrefix)} || ${id(r.src)}` : id(r.src);
          const cond = r.when
            ? `${r.when.not ? "NOT " : ""}coalesce(${text(r.when.path)} IN (${r.when.values.map(literal).join(", ")}), false)`
            : "true";
          return `{'s': CASE WHEN ${cond} THEN ${src} END, 'd': ${id(r.dst)}}`;
        })
        .join(", ")}], x -> x.s IS NOT NULL AND x.d IS NOT NULL AND x.s <> x.d)`
    : "NULL::STRUCT(s VARCHAR, d VARCHAR)[]";
  const required = (["event_type", "event_time", "user_id"] as const).map((f) => ({
    field: f,
    roots: [...new Set(pathAlternatives(m[f]).map((a) => a[0]))],
  }));
  return {
    roots,
    eventType,
    timeText: text(m.event_time),
    userId: text(m.user_id),
    properties,
    eventId: format.dedupe ? eventIdSql(format.dedupe, text) : "NULL::VARCHAR",
    skip,
    links,
    required,
  };
}

/**
 * The event id: one field's text, or for a composite id (`a+b`) the JSON array of its parts' texts,
 * NULL when any part is missing or empty (such an event has no id and is kept, as the vendors keep it).
 */
function eventIdSql(dedupe: string, text: (p: string) => string): string {
  const parts = idParts(dedupe);
  if (parts.length === 1) return text(dedupe);
  const vals = parts.map((p) => `nullif(${text(p)}, '')`);
  return `CASE WHEN ${vals.map((v) => `${v} IS NULL`).join(" OR ")} THEN NULL ELSE to_json([${vals.join(", ")}])::VARCHAR END`;
}

/**
 * Property keys removed from the properties object: the identity and time fields when they live
 * inside it (Mixpanel's `properties.distinct_id` and `properties.time`), so the object holds only the
 * event's own properties.
 */
export function droppedKeys(format: LakeFormat): string[] {
  const m = format.map;
  const props = pathAlternatives(m.event_properties);
  if (props.length !== 1) return [];
  const base = props[0].join(".");
  const out = new Set<string>();
  for (const p of [m.user_id, m.event_time])
    for (const alt of pathAlternatives(p))
      if (alt.length === props[0].length + 1 && alt.slice(0, -1).join(".") === base)
        out.add(alt[alt.length - 1]);
  return [...out];
}

/* ---------------- the same rules in Node, for the line-by-line path ---------------- */

function at(o: unknown, path: string[]): unknown {
  let v: unknown = o;
  for (const k of path) {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

const empty = (x: unknown) => x === undefined || x === null || x === "";

/** The first alternative of `p` that is present and non-empty in `o`. */
export function valueAt(o: unknown, p: string): unknown {
  for (const alt of pathAlternatives(p)) {
    const v = at(o, alt);
    if (!empty(v)) return v;
  }
  return undefined;
}

/** Why a parsed line is not an event (a reject reason), "skip" for a non-event message, or null. */
export function checkObject(o: Record<string, unknown>, format: LakeFormat): string | null {
  const kind = format.preset ? PRESETS[format.preset].kind : undefined;
  const k = kind ? valueAt(o, kind.field) : undefined;
  if (kind && typeof k === "string" && kind.skip.includes(k)) return "skip";
  const renamed = kind && typeof k === "string" && k in kind.rename;
  if (!renamed && empty(valueAt(o, format.map.event_type))) return "missing event_type";
  if (empty(valueAt(o, format.map.user_id))) return "missing user_id";
  if (empty(valueAt(o, format.map.event_time))) return "missing event_time";
  return null;
}
