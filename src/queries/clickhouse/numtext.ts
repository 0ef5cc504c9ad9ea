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

/** A JSON number token (RFC 8259 grammar: no leading zeros, no bare `.5`, no `1.`). */
const NUMBER = String.raw`-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?`;

/** Tokens of a line: a complete string, a run of anything but quotes, or a lone quote (so the tokens
 * always concatenate back to the whole line, valid JSON or not). */
const TOKENS = String.raw`"(?:[^"\\]|\\.)*"|[^"]+|"`;

/** A ClickHouse string literal of fixed text evx writes (regexes), never of data. */
const lit = (s: string) => `'${s.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;

/** SQL: the text `text` with every number outside a string tagged (see the module comment). */
export function tagNumbersSql(text: string): string {
  const tok = "t";
  const str = `if(startsWith(${tok}, ${lit(String.raw`"\u0001`)}), concat(${lit(String.raw`"\u0001`)}, substring(${tok}, 2)), ${tok})`;
  const other = `replaceRegexpAll(${tok}, ${lit(`(${NUMBER})`)}, ${lit(String.raw`"\\u0001\1"`)})`;
  return `arrayStringConcat(arrayMap(${tok} -> if(startsWith(${tok}, '"'), ${str}, ${other}), extractAll(${text}, ${lit(TOKENS)})))`;
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
              startsWith(${v}, '{'), 'object', 'array'),
      if(${isString}, ${untagTextSql(decoded)}, ${untagJsonSql(v)})),
    arrayFilter(x -> x.2 != 'null', JSONExtractKeysAndValuesRaw(${tagged})))`;
}
