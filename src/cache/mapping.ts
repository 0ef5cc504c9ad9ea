/** Which source field feeds each canonical column (`--map event_type=event,user_id=distinct_id,…`). */
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

const FIELD = /^[A-Za-z0-9_$@.\- ]{1,128}$/;

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
    if (!FIELD.test(source)) throw new Error(`bad --map field name '${source}'`);
    out[target as keyof FieldMap] = source;
  }
  return out;
}

export function formatMap(m: FieldMap): string {
  return (Object.keys(DEFAULT_MAP) as (keyof FieldMap)[]).map((k) => `${k}=${m[k]}`).join(",");
}

/** A DuckDB double-quoted identifier. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A DuckDB single-quoted string literal (only for names we validated; values are always bound). */
export function literal(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}
