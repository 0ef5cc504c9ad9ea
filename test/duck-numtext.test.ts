// Numbers as written on DuckDB (src/queries/numtext.ts): the numbers `DUCK_MAY_REWRITE` leaves untagged
// come out of read_json and json_extract_string unchanged (checked against DuckDB itself, on generated
// numbers), and a line tagged by `tagLineForDuck` gives back every property text as the line wrote it
// (the brute force's texts, test/brute-json.ts), through the same SQL the cache's readers use.
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { DuckDBInstance } from "@duckdb/node-api";
import fc from "fast-check";
import {
  DUCK_MAY_REWRITE,
  duckIsTaggedSql,
  duckUntagKeySql,
  duckUntagSql,
  tagLineForDuck,
} from "../src/queries/numtext.js";
import { propertyTexts } from "./brute-json.js";
import { tempDir } from "./helpers/tmp.js";

const dir = tempDir("evx-duck-numtext-");
const db = await DuckDBInstance.create(":memory:");
const conn = await db.connect();
let files = 0;

/** Each line's event_properties through read_json, as (key, text, type) by the cache's readers. */
async function throughDuckDB(
  lines: string[],
): Promise<{ texts: Map<string, string>; types: Map<string, string> }[]> {
  const path = join(dir, `${files++}.jsonl`);
  writeFileSync(path, lines.map((l, i) => `{"i":${i},${l.slice(1)}`).join("\n"));
  const r = await conn.runAndReadAll(
    `SELECT i, ${duckUntagKeySql("j.key")} AS untagged_key, ${duckUntagSql("json_extract_string(j.value, '$')")} AS each_text,
            ${duckUntagSql("json_extract_string(event_properties, '/' || replace(replace(j.key, '~', '~0'), '/', '~1'))")} AS text,
            CASE WHEN ${duckIsTaggedSql("j.value")} THEN 'number' ELSE j.type END AS type
       FROM read_json('${path}', format = 'newline_delimited', columns = {'i': 'INTEGER', 'event_properties': 'JSON'}) ev,
            json_each(ev.event_properties) j
      WHERE j.type <> 'NULL'`,
  );
  const out = lines.map(() => ({ texts: new Map<string, string>(), types: new Map<string, string>() }));
  for (const row of r.getRowObjectsJS()) {
    assert.equal(row.each_text, row.text, "json_each and json_extract_string agree");
    out[Number(row.i)].texts.set(String(row.untagged_key), String(row.text));
    out[Number(row.i)].types.set(String(row.untagged_key), String(row.type));
  }
  return out;
}

/** A JSON number text: sign, integer part (up to 25 digits), maybe a fraction and an exponent. */
const numberText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9][0-9]{0,24}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,20}$/), { nil: undefined }),
    fc.option(fc.stringMatching(/^[eE][-+]?[0-9]{1,3}$/), { nil: undefined }),
  )
  .map(
    ([neg, int, frac, exp]) => `${neg ? "-" : ""}${int}${frac === undefined ? "" : `.${frac}`}${exp ?? ""}`,
  );

const mayRewrite = new RegExp(DUCK_MAY_REWRITE);

test("numbers DUCK_MAY_REWRITE leaves alone keep their text through read_json", async () => {
  const samples = fc.sample(numberText, { numRuns: 20000, seed: 7 });
  // Python's and JSON.stringify's forms, spelled out: they must stay on the fast path.
  const common = [
    "19.0",
    "0.1",
    "-0.0",
    "0.0",
    "100.0",
    "2.5",
    "0.000001",
    "123456789012345678901234",
    "-7",
    "0",
  ];
  for (const n of common) assert.equal(mayRewrite.test(`{"a":${n}}`), false, n);
  const kept = [...common, ...samples.filter((n) => !mayRewrite.test(`{"a":${n}}`))];
  assert.ok(kept.length > 2000, `enough untagged samples (${kept.length})`);
  const out = await throughDuckDB(kept.map((n) => `{"event_properties":{"a":${n}}}`));
  kept.forEach((n, i) => {
    assert.equal(out[i].texts.get("a"), n, n);
  });
});

test("the numbers DuckDB re-prints are all caught", async () => {
  for (const n of ["1e2", "1E+2", "1.50", "19.00", "-0", "0.0000001", "12345678901234567.5", "1e21"])
    assert.equal(mayRewrite.test(`{"a":${n}}`), true, n);
});

const HOSTILE = [
  `{"a":19.0,"b":1e2,"c":-0.0,"d":1.50,"e":12345678901234567890123,"f":-12345678901234567890123}`,
  `{"g":{"x":1.0,"y":[1.50,"s",2,-0,1E+2,0.000001]},"t":true,"f":false,"n":null}`,
  `{"m":-0,"i":7,"big":18446744073709551616,"u64":18446744073709551615,"i64":-9223372036854775808}`,
  String.raw`{"s":"he said \"1.50\" and 1e2","q":"x\\","k":"a,\"\u00011\"","r":"\\u00015"}`,
  String.raw`{"j":"\u0001123","k":"\u00012","\u0001z":[3],"e":"\u0001","l":["\u00011.5",{"\u0001\u0001":"\u0001\u0001"}]}`,
  `{"date":"2023-06-01T00:00:00.123Z","neg":"-0","digits":"1234567890123456789012"}`,
  `{"tiny":5e-324,"long":0.1000000000000000055511151231257827,"small":0.0000001}`,
];

/** The brute force's texts, with U+0001 kept literal in keys as the JSON means it. */
const written = (o: string) => propertyTexts(`{"event_properties":${o}}`);

test("hand-picked lines, tagged: every property text as the line wrote it", async () => {
  const out = await throughDuckDB(HOSTILE.map((o) => `{"event_properties":${tagLineForDuck(o)}}`));
  HOSTILE.forEach((o, i) => {
    assert.deepEqual(out[i].texts, written(o), o);
  });
  assert.equal(out[0].types.get("b"), "number");
  assert.equal(out[0].types.get("d"), "number");
  assert.equal(out[4].types.get("j"), "VARCHAR");
});

test("generated lines, tagged or not: every property text as the line wrote it", async () => {
  const value = fc.oneof(
    numberText,
    fc.constantFrom('"1.50"', '"\\u00011e2"', '"x"', "true", "null"),
    fc.array(numberText, { maxLength: 3 }).map((xs) => `[${xs.join(",")}]`),
    numberText.map((n) => `{"v":${n}}`),
  );
  const lines = fc.sample(
    fc
      .array(value, { minLength: 1, maxLength: 4 })
      .map((vs) => `{${vs.map((v, i) => `"k${i}":${v}`).join(",")}}`),
    { numRuns: 3000, seed: 3 },
  );
  const out = await throughDuckDB(lines.map((o) => `{"event_properties":${tagLineForDuck(o)}}`));
  lines.forEach((o, i) => {
    assert.deepEqual(out[i].texts, written(o), o);
  });
});
