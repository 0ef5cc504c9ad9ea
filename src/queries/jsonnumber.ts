/**
 * JSON values whose numbers keep the text they were written with (docs/semantics.md "Property text"):
 * the user timeline parses an event's properties with these, so `19.0`, `1e2`, `1.50` and an integer
 * wider than a double show as written, not as `JSON.parse` would round or re-print them.
 */
import { tagNumbers } from "./numtext.js";

/** A JSON number as written. `JSON.stringify` of it (outside `jsonKeepingNumbers`) gives the double. */
export class JsonNumber {
  /** How many were made in this process: none (every command but a timeline) lets writing skip the replacer. */
  static made = 0;
  constructor(readonly text: string) {
    JsonNumber.made++;
  }
  toJSON(): number {
    return Number(this.text);
  }
  toString(): string {
    return this.text;
  }
}

/**
 * `JSON.parse`, with each number a `JsonNumber`: numbers are tagged as strings first (numtext.ts
 * `tagNumbers`), then every string and key is untagged (a doubled U+0001 was a string's own).
 */
export function parseKeepingNumbers(text: string): unknown {
  return untag(JSON.parse(tagNumbers(text)));
}

const TAG = "\u0001";

function untag(v: unknown): unknown {
  if (typeof v === "string") {
    if (!v.startsWith(TAG)) return v;
    return v.startsWith(TAG, 1) ? v.slice(1) : new JsonNumber(v.slice(1));
  }
  if (Array.isArray(v)) return v.map(untag);
  if (v && typeof v === "object")
    // fromEntries defines own properties, so a `__proto__` key stays a key.
    return Object.fromEntries(
      Object.entries(v).map(([k, x]) => [k.startsWith(TAG) ? k.slice(1) : k, untag(x)]),
    );
  return v;
}

/**
 * `JSON.stringify`, with each `JsonNumber` written as its text (a JSON number token). Node 20 has no
 * `JSON.rawJSON`: a replacer writes each as a string holding a marker with a random nonce, and the
 * marker's quoted text is then replaced by the number. A data string holding the marker would show as
 * one more occurrence than the numbers replaced: then it retries with another nonce. `replacer` and
 * `space` are JSON.stringify's (the replacer sees every value but a `JsonNumber`).
 */
export function jsonKeepingNumbers(
  v: unknown,
  replacer?: (key: string, value: unknown) => unknown,
  space?: number,
): string {
  // The replacer costs ~2.5× on a large answer (20 MB of paths: 100 → 266 ms); only timelines need it.
  if (JsonNumber.made === 0) return JSON.stringify(v, replacer, space) as string;
  for (;;) {
    const nonce = Math.random().toString(36).slice(2);
    const texts: string[] = [];
    const mark = function (this: Record<string, unknown>, k: string, x: unknown) {
      // `this[k]` is the value before its toJSON ran.
      const own = this[k];
      if (own instanceof JsonNumber) return `${TAG}${nonce}:${texts.push(own.text) - 1}`;
      return replacer ? replacer(k, x) : x;
    };
    const out = JSON.stringify(v, mark, space) as string | undefined;
    if (out === undefined || texts.length === 0) return out as string;
    const marker = new RegExp(String.raw`"\\u0001${nonce}:(\d+)"`, "g");
    if (out.split(`\\u0001${nonce}:`).length - 1 !== texts.length) continue;
    return out.replace(marker, (_, i: string) => texts[Number(i)] as string);
  }
}

/** A property value as the timeline shows it: a string as itself, any other value as its JSON text. */
export function propValueText(v: unknown): string {
  return typeof v === "string" ? v : jsonKeepingNumbers(v);
}
