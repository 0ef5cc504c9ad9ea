/**
 * Numbers as written, the parts both engines share (docs/semantics.md "Property text").
 *
 * A number whose text a JSON parser would print back differently (`1e2` → `100.0`, `1.50` → `1.5`) is
 * stored *tagged*: as the JSON string `"\u0001<the number as written>"`. A source string whose value
 * itself starts with U+0001 gets one more `\u0001` in front, so it never reads as a tag; untagging
 * drops exactly one. ClickHouse tags every line that may need it in SQL at query time
 * (clickhouse/numtext.ts); the DuckDB cache tags at sync only the lines DuckDB would re-print
 * (`DUCK_MAY_REWRITE`): in SQL (`duckTagLineSql`), or in Node (`tagLineForDuck`) on the line-by-line
 * path of a file with a bad line (cache/ingest.ts). Every DuckDB read goes through `duckUntagSql` /
 * `duckUntagJsonSql`; the hot columns are untagged when they are filled.
 */

/** A JSON number token (RFC 8259 grammar: no leading zeros, no bare `.5`, no `1.`). */
export const NUMBER = String.raw`-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?`;

/** A string token (a quoted run with its escapes), captured as group 1 beside a number as group 2. */
export const STRING_OR_NUMBER = String.raw`("(?:[^"\\]|\\.)*")|(${NUMBER})`;

/**
 * Lines that may hold a number DuckDB's JSON reader would print back differently, or a string starting
 * with U+0001. DuckDB parses a fraction or an exponent into a double and prints the shortest text that
 * reads back as it, with `.0` on integral values and an exponent below 1e-6: so a fraction keeps its
 * text when it has no exponent, no trailing zero past its first decimal (`19.0` stays, `1.50` does
 * not), at most 15 digits in all and is not below 1e-6; integers keep any width, except `-0`.
 * Conservative (a match inside a string only costs speed); checked against DuckDB by
 * test/duck-numtext.test.ts. Python's `19.0`, `0.1` and plain integers do not match.
 */
export const DUCK_MAY_REWRITE = (() => {
  // A number token starts after `:`, `,` or `[` and blanks, and ends before blanks and `,`, `}` or `]`:
  // strings like UUIDs, "2.10" or "00:01:03.500650Z" never match; a string holding ": 1.50," does,
  // which only costs speed.
  const num = String.raw`[:,\[][ \t\r\n]*-?`;
  const end = String.raw`[ \t\r\n]*([,}\]]|$)`;
  return [
    String.raw`${num}[0-9]+(\.[0-9]+)?[eE][-+]?[0-9]+${end}`, // an exponent
    String.raw`${num}[0-9]+\.[0-9]*[0-9]0${end}`, // a trailing zero after the first decimal: 1.50, 19.00
    String.raw`[:,\[][ \t\r\n]*-0${end}`, // the integer -0
    String.raw`${num}0\.000000[0-9]*${end}`, // below 1e-6 (or zero with zeros the rule above takes)
    // 16 digits or more in a fraction (more than a double keeps)
    ...Array.from(
      { length: 15 },
      (_, i) => String.raw`${num}[0-9]{${i + 1}}[0-9]*\.[0-9]{${15 - i}}[0-9]*${end}`,
    ),
    String.raw`\\u0001`, // a string that may start with U+0001
  ].join("|");
})();

const mayRewrite = new RegExp(DUCK_MAY_REWRITE);
const tokens = new RegExp(STRING_OR_NUMBER, "g");

/**
 * A JSON line with every number outside a string tagged, and every string starting with `\u0001` given
 * one more: only when `DUCK_MAY_REWRITE` matches it (any other line is returned as is, and DuckDB keeps
 * all its numbers' texts). The line must be valid JSON.
 */
export function tagLineForDuck(line: string): string {
  return mayRewrite.test(line) ? tagNumbers(line) : line;
}

/**
 * JSON text with every number outside a string tagged (`"\u0001<text>"`), and every string starting
 * with `\u0001` given one more (valid JSON writes U+0001 in a string only as that escape).
 */
export function tagNumbers(line: string): string {
  return line.replace(tokens, (m, str: string | undefined) =>
    str === undefined ? `"\\u0001${m}"` : str.startsWith('"\\u0001') ? `"\\u0001${str.slice(1)}` : str,
  );
}

/** A DuckDB string literal of fixed text evx writes (regexes), never of data. */
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;

/**
 * DuckDB SQL: `tagLineForDuck` of the text `line`. One regex pass marks each number between \x02 and
 * \x03 (a string match leaves an empty pair behind it), then the marks become the tag's quotes. A line
 * holding a raw \x02 or \x03 is invalid JSON anyway and is left alone (read_json rejects it).
 */
export function duckTagLineSql(line: string): string {
  const doubled = `regexp_replace(${line}, ${lit(String.raw`(^|[^\\])"\\u0001`)}, ${lit(String.raw`\1"\\u0001\\u0001`)}, 'g')`;
  const marked = `regexp_replace(${doubled}, ${lit(STRING_OR_NUMBER)}, '\\1' || chr(2) || '\\2' || chr(3), 'g')`;
  const tagged = `replace(replace(replace(${marked}, chr(2) || chr(3), ''), chr(2), ${lit('"\\u0001')}), chr(3), '"')`;
  return `CASE WHEN regexp_matches(${line}, ${lit(DUCK_MAY_REWRITE)}) AND NOT regexp_matches(${line}, '[' || chr(2) || chr(3) || ']') THEN ${tagged} ELSE ${line} END`;
}

/**
 * DuckDB SQL: a property text as `json_extract_string` gives it from tagged JSON, back to the text as
 * written: a tagged number (`\x01` + text) drops its `\x01`, a string with a doubled one keeps one,
 * and an object's or array's JSON text has its tagged numbers written back as numbers. `x` appears
 * once: DuckDB does not share a repeated extraction inside a filter (a CASE over it cost 3× the
 * lookup; these three regex passes cost ~20% of it on text without tags).
 */
export function duckUntagSql(x: string): string {
  return untagJsonRegex(duckUntagKeySql(x));
}

/** DuckDB SQL: a decoded object key back to the key as written (a key is never a tagged number). */
export function duckUntagKeySql(key: string): string {
  return `regexp_replace(${key}, '^' || chr(1), '')`;
}

/** DuckDB SQL: tagged JSON text (as DuckDB writes it: minified) with its numbers written as they were. */
export function duckUntagJsonSql(json: string): string {
  return untagJsonRegex(json);
}

/**
 * A `"` that opens a string follows `[`, `{`, `:` or `,` (or starts the text); one inside a string
 * follows a backslash, so it never matches.
 */
function untagJsonRegex(json: string): string {
  const numbers = `regexp_replace(${json}, ${lit(String.raw`(^|[\[:,])"\\u0001(${NUMBER})"`)}, '\\1\\2', 'g')`;
  return `regexp_replace(${numbers}, ${lit(String.raw`(^|[\[{:,])"\\u0001\\u0001`)}, ${lit(String.raw`\1"\\u0001`)}, 'g')`;
}

/** DuckDB SQL: whether a `json_each` value (JSON) is a tagged number rather than a string. */
export function duckIsTaggedSql(v: string): string {
  return `(starts_with(${v}::VARCHAR, ${lit('"\\u0001')}) AND NOT starts_with(${v}::VARCHAR, ${lit('"\\u0001\\u0001')}))`;
}
