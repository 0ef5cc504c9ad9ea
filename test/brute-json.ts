/**
 * Test only: the property text rule of docs/semantics.md, on a source line, without JSON.parse's
 * numbers. `JSON.parse` turns `19.0` into 19 and a 23-digit integer into a rounded double, so the brute
 * force reads each property's text from the line itself: a number as written, a string's own text,
 * an object or array as minified JSON with its numbers as written and its strings as JSON.stringify
 * writes them. Only valid JSON reaches here (parseLine has already JSON.parsed the line).
 */

import { JsonNumber } from "../src/queries/jsonnumber.js";

/** Index just past the JSON value starting at `i` (after whitespace). */
function skipValue(s: string, i: number): number {
  i = skipWs(s, i);
  const c = s[i];
  if (c === '"') return skipString(s, i);
  if (c === "{" || c === "[") {
    const close = c === "{" ? "}" : "]";
    i = skipWs(s, i + 1);
    if (s[i] === close) return i + 1;
    for (;;) {
      if (c === "{") {
        i = skipWs(s, skipString(s, skipWs(s, i)));
        i++; // ':'
      }
      i = skipWs(s, skipValue(s, i));
      if (s[i] === close) return i + 1;
      i++; // ','
    }
  }
  const m = /^(?:true|false|null|-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?)/.exec(
    s.slice(i, i + 400),
  );
  if (!m) throw new Error(`not JSON at ${i}`);
  return i + m[0].length;
}

function skipWs(s: string, i: number): number {
  while (i < s.length && " \t\r\n".includes(s[i])) i++;
  return i;
}

function skipString(s: string, i: number): number {
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] === "\\") j++;
    else if (s[j] === '"') return j + 1;
  }
  throw new Error("unterminated string");
}

/** The members of the object written at `raw`, each with its raw value text (the last of a repeated key). */
function members(raw: string): Map<string, string> {
  const out = new Map<string, string>();
  let i = skipWs(raw, 0);
  if (raw[i] !== "{") return out;
  i = skipWs(raw, i + 1);
  if (raw[i] === "}") return out;
  for (;;) {
    const k0 = skipWs(raw, i);
    const k1 = skipString(raw, k0);
    const v0 = skipWs(raw, skipWs(raw, k1) + 1);
    const v1 = skipValue(raw, v0);
    out.set(JSON.parse(raw.slice(k0, k1)) as string, raw.slice(v0, v1));
    i = skipWs(raw, v1);
    if (raw[i] === "}") return out;
    i++;
  }
}

/** Minified JSON text of a raw value: numbers as written, strings as JSON.stringify writes them. */
function minified(raw: string): string {
  let out = "";
  for (let i = 0; i < raw.length; ) {
    const c = raw[i];
    if (c === '"') {
      const j = skipString(raw, i);
      out += JSON.stringify(JSON.parse(raw.slice(i, j)));
      i = j;
    } else if (" \t\r\n".includes(c)) i++;
    else {
      out += c;
      i++;
    }
  }
  return out;
}

/**
 * Property texts of the line's `event_properties` object (key → text; null and absent keys left
 * out), or an empty map when it is not an object.
 */
export function propertyTexts(line: string, field = "event_properties"): Map<string, string> {
  const props = members(line).get(field);
  const out = new Map<string, string>();
  if (props === undefined) return out;
  for (const [k, v] of members(props)) {
    if (v === "null") continue;
    out.set(k, v.startsWith('"') ? (JSON.parse(v) as string) : minified(v));
  }
  return out;
}

/** The raw text of the line's `field` value (undefined when absent). */
export function rawMember(line: string, field: string): string | undefined {
  return members(line).get(field);
}

/** The elements of the array written at `raw`, each with its raw text. */
function elements(raw: string): string[] {
  const out: string[] = [];
  let i = skipWs(raw, skipWs(raw, 0) + 1);
  if (raw[i] === "]") return out;
  for (;;) {
    const v0 = skipWs(raw, i);
    const v1 = skipValue(raw, v0);
    out.push(raw.slice(v0, v1));
    i = skipWs(raw, v1);
    if (raw[i] === "]") return out;
    i++;
  }
}

/** The raw JSON value as the timeline gives it: JSON.parse's, with each number a `JsonNumber` of its text. */
export function valueKeepingNumbers(raw: string): unknown {
  const s = raw.trim();
  if (s.startsWith("{"))
    return Object.fromEntries([...members(s)].map(([k, v]) => [k, valueKeepingNumbers(v)]));
  if (s.startsWith("[")) return elements(s).map(valueKeepingNumbers);
  if (/^[-0-9]/.test(s)) return new JsonNumber(s);
  return JSON.parse(s);
}
