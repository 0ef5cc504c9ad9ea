// The host's line protocol: one JSON object per line. Parameters are DuckDB values, so BIGINTs and
// LIST values are tagged; result rows are already plain (db.ts `plain`), so only non-finite doubles
// and bigints need a tag on the way back.
import { type DuckDBValue, listValue } from "@duckdb/node-api";
import type { Params } from "./db.js";

type Wire = null | boolean | number | string | Wire[] | { [k: string]: Wire };

export function encodeValue(v: unknown): Wire {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return { $big: v.toString() };
  if (typeof v === "number") return Number.isFinite(v) ? v : { $num: String(v) };
  if (typeof v === "string" || typeof v === "boolean") return v;
  if (Array.isArray(v)) return { $arr: v.map(encodeValue) };
  if (typeof v === "object" && v.constructor?.name === "DuckDBListValue")
    return { $list: (v as { items: unknown[] }).items.map(encodeValue) };
  if (typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
    const o: Record<string, Wire> = {};
    for (const [k, x] of Object.entries(v)) o[k] = encodeValue(x);
    return { $obj: o };
  }
  throw new Error(`cannot send a ${(v as object).constructor?.name ?? typeof v} to the cache host`);
}

export function decodeValue(w: Wire): unknown {
  if (w === null || typeof w !== "object") return w;
  if (Array.isArray(w)) return w.map(decodeValue);
  if ("$big" in w) return BigInt(w.$big as string);
  if ("$num" in w) return Number(w.$num);
  if ("$arr" in w) return (w.$arr as Wire[]).map(decodeValue);
  if ("$list" in w) return listValue((w.$list as Wire[]).map(decodeValue) as DuckDBValue[]);
  if ("$obj" in w) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(w.$obj as Record<string, Wire>)) o[k] = decodeValue(x);
    return o;
  }
  throw new Error("malformed value from the cache host");
}

export function encodeParams(p?: Params): Wire {
  if (p === undefined) return null;
  if (Array.isArray(p)) return { $arr: p.map(encodeValue) };
  const o: Record<string, Wire> = {};
  for (const [k, x] of Object.entries(p)) o[k] = encodeValue(x);
  return { $obj: o };
}

export function decodeParams(w: Wire): Params | undefined {
  if (w === null) return undefined;
  return decodeValue(w) as Params;
}

/** Rows (already plain) for the wire; only bigints and non-finite numbers need tags. */
export function encodeRows(rows: Record<string, unknown>[]): Wire {
  return rows.map((r) => {
    const o: Record<string, Wire> = {};
    for (const [k, x] of Object.entries(r)) o[k] = encodePlain(x);
    return o;
  });
}

function encodePlain(v: unknown): Wire {
  if (typeof v === "number" && !Number.isFinite(v)) return { $num: String(v) };
  if (typeof v === "bigint") return { $big: v.toString() };
  if (Array.isArray(v)) return v.map(encodePlain);
  if (v && typeof v === "object") {
    const o: Record<string, Wire> = {};
    for (const [k, x] of Object.entries(v)) o[k] = encodePlain(x);
    return { $obj: o };
  }
  return v as Wire;
}

export function decodeRows(w: Wire): Record<string, unknown>[] {
  return (w as Wire[]).map((r) => {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(r as Record<string, Wire>)) o[k] = decodeValue(x);
    return o;
  });
}

/** Splits a socket's text into lines, calling `onLine` for each complete one. */
export function lineReader(onLine: (line: string) => void): (chunk: string) => void {
  let buf = "";
  return (chunk) => {
    buf += chunk;
    let i = buf.indexOf("\n");
    while (i >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line) onLine(line);
      i = buf.indexOf("\n");
    }
  };
}
