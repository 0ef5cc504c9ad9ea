/**
 * Numbers as written, on ClickHouse (docs/semantics.md "Property text").
 *
 * ClickHouse's JSON functions parse numbers and write them back in their own form (`19.0` → `19`,
 * `1e2` → `100`, `1.50` → `1.5`), and reject a whole line holding an integer wider than 64 bits. So
 * before any JSON function sees a line, every number token outside a string is *tagged*: rewritten as
 * the JSON string `"\u0001<the number as written>"`. The parser then never reads a number, and each
 * value's text comes back out exactly as the line wrote it:
 * - a top-level string value decodes to `\x01<number>`, and `untagText` drops the `\x01`;
 * - nested objects and arrays come back minified, and `untagJson` turns each tagged string back into
 *   the number it was.
 * A source string whose value itself starts with U+0001 would look like a tag, so tagging writes one
 * more `\u0001` in front of it; `untagText` drops exactly one, so the string keeps its own value.
 */

import { NUMBER, STRING_OR_NUMBER } from "../numtext.js";
import { quoteString as lit } from "./quote.js";

/**
 * Lines that may hold a number ClickHouse would re-print or refuse (a fraction or an exponent, 19+
 * digits, a negative zero) or a string starting with U+0001; any other line reads the same untagged.
 */
const MAY_NEED_TAGS = String.raw`[0-9][.eE]|[0-9]{19}|-0[,}\] \t\r\n]|-0$|\\u0001`;

/** A ClickHouse string literal of fixed text evx writes (regexes), never of data. */

/**
 * SQL: the text `text` with every number outside a string tagged (see the module comment). One regex
 * pass marks each number between \x02 and \x03 (a string match leaves an empty pair behind it), then
 * the marks become the tag's quotes. A line holding a raw \x02 or \x03 is invalid JSON anyway (control
 * characters must be escaped) and is left alone, as is a line `MAY_NEED_TAGS` rules out.
 */
export function tagNumbersSql(text: string): string {
  // A string that starts with U+0001 first gets one more (its opening quote follows no backslash; an
  // escaped quote inside a string always does), so it never reads as a tag.
  const doubled = `replaceRegexpAll(${text}, ${lit(String.raw`(^|[^\\])"\\u0001`)}, ${lit(String.raw`\1"\\u0001\\u0001`)})`;
  const marked = `replaceRegexpAll(${doubled}, ${lit(STRING_OR_NUMBER)}, '\\\\1\\x02\\\\2\\x03')`;
  const tagged = `replaceAll(replaceAll(replaceAll(${marked}, '\\x02\\x03', ''), '\\x02', ${lit(String.raw`"\u0001`)}), '\\x03', '"')`;
  return `if(match(${text}, ${lit(MAY_NEED_TAGS)}) AND NOT match(${text}, '[\\x02\\x03]'), ${tagged}, ${text})`;
}

/**
 * SQL: whether tagged text `tagged` was valid JSON before tagging: valid now, and no tag stands where
 * only a string may (a number written as an object key, `{1.5:2}`, became a string key).
 */
export function taggedValidSql(tagged: string): string {
  const tagAsKey = String.raw`(^|[^\\])"\\u0001${NUMBER}"[ \t\r\n]*:`;
  return `(isValidJSON(${tagged}) AND NOT match(${tagged}, ${lit(tagAsKey)}))`;
}

/** SQL: a decoded string value of tagged JSON back to its text: a number as written, or the string. */
export function untagTextSql(s: string): string {
  return `if(startsWith(${s}, '\\x01'), substring(${s}, 2), ${s})`;
}

/**
 * SQL: tagged JSON text (as ClickHouse writes it back: minified) with every tagged number written as
 * it was and every doubled U+0001 at a string's start single again. A `"` that opens a string follows
 * `[`, `{`, `:` or `,` (or starts the text); one inside a string follows a backslash, so it never matches.
 */
export function untagJsonSql(json: string): string {
  const numbers = `replaceRegexpAll(${json}, ${lit(`(^|[\\[:,])"\\\\u0001(${NUMBER})"`)}, ${lit("\\1\\2")})`;
  return `replaceRegexpAll(${numbers}, ${lit(`(^|[\\[{:,])"\\\\u0001\\\\u0001`)}, ${lit(`\\1"\\\\u0001`)})`;
}

/**
 * SQL: the top-level (key, type, text) of each non-null member of a tagged JSON object text: the text
 * by the property-text rule (strings unquoted, numbers as written, objects and arrays as minified JSON
 * with their numbers as written), the type as `props` reports it. Not an object → no members.
 */
export function propMembersSql(tagged: string): string {
  const v = "x.2";
  const decoded = `JSONExtractString(concat('[', ${v}, ']'), 1)`;
  const isString = `startsWith(${v}, '"')`;
  const isNumber = `(startsWith(${v}, ${lit(String.raw`"\u0001`)}) AND NOT startsWith(${v}, ${lit(String.raw`"\u0001\u0001`)}))`;
  return `arrayMap(x -> (${untagTextSql("x.1")},
      multiIf(${isNumber}, 'number', ${isString}, 'string', ${v} IN ('true', 'false'), 'boolean',
              startsWith(${v}, '{'), 'object', startsWith(${v}, '['), 'array', 'number'),
      if(${isString}, ${untagTextSql(decoded)}, ${untagJsonSql(v)})),
    arrayFilter(x -> x.2 != 'null', JSONExtractKeysAndValuesRaw(${tagged})))`;
}
