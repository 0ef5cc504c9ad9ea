// Numbers as written on ClickHouse (src/queries/clickhouse/numtext.ts), on chdb: the `props` map of a
// line's properties equals the brute force's property texts read from the line itself
// (test/brute-json.ts), for hand-picked hostile lines and for generated ones; tagging keeps an invalid
// line invalid and a valid one valid, as JSON.parse decides.
import assert from "node:assert/strict";
import { test } from "node:test";
import { taggedValidSql, tagNumbersSql } from "../src/queries/clickhouse/numtext.js";
import { propsMapSql } from "../src/queries/clickhouse/schema.js";
import { propertyTexts } from "./brute-json.js";
import { chRows } from "./helpers/chdb-engine.js";

/** Each object text through the engine: its props map, and whether the tagged text is valid JSON. */
function throughClickHouse(objects: string[]): { props: Record<string, string>; valid: boolean }[] {
  const rows = chRows(
    `SELECT ${propsMapSql("o")} AS props, ${taggedValidSql(tagNumbersSql("o"))} AS valid
       FROM (SELECT arrayJoin({objs:Array(String)}) AS o, rowNumberInAllBlocks() AS i) ORDER BY i`,
    { objs: objects },
  );
  return rows.map((r) => ({ props: r.props as Record<string, string>, valid: Number(r.valid) === 1 }));
}

const written = (o: string) => Object.fromEntries(propertyTexts(`{"event_properties":${o}}`));

const HOSTILE = [
  `{"a":19.0,"b":1e2,"c":-0.0,"d":1.50,"e":12345678901234567890123,"f":-12345678901234567890123}`,
  `{"g":{"x":1.0, "y" : [1.50, "s", 2, -0, 1E+2, 0.000001]},"t":true,"f":false,"n":null}`,
  `{"m":-0,"i":7,"big":18446744073709551616,"u64":18446744073709551615,"i64":-9223372036854775808}`,
  String.raw`{"s":"he said \"1.50\" and 1e2","q":"x\\","k":"a,\"\u00011\"","r":"\\u00015"}`,
  String.raw`{"j":"\u0001123","k":"\u00012","\u0001z":[3],"e":"\u0001","l":["\u00011.5",{"\u0001\u0001":"\u0001\u0001"}]}`,
  `{"date":"2023-06-01T00:00:00.123Z","neg":"-0","digits":"1234567890123456789012"}`,
  `{"inf":1e400,"tiny":5e-324,"long":0.1000000000000000055511151231257827}`,
  '{"z":-0\r\n,"y":[-0\t]}',
  '{"z":-0\r}',
];

test("hand-picked lines: every property text as the line wrote it", () => {
  const out = throughClickHouse(HOSTILE);
  HOSTILE.forEach((o, i) => {
    assert.equal(out[i].valid, true, o);
    assert.deepEqual(out[i].props, written(o), o);
  });
});

test("generated lines: every property text as the line wrote it", () => {
  let seed = 11;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
  const digits = (n: number) => Array.from({ length: n }, () => Math.floor(rnd() * 10)).join("");
  const number = () => {
    const int = rnd() < 0.2 ? "0" : `${1 + Math.floor(rnd() * 9)}${digits(Math.floor(rnd() * 25))}`;
    const frac = rnd() < 0.5 ? `.${digits(1 + Math.floor(rnd() * 6))}` : "";
    const exp =
      rnd() < 0.25 ? `${pick(["e", "E"])}${pick(["", "+", "-"])}${digits(1 + Math.floor(rnd() * 2))}` : "";
    return `${rnd() < 0.3 ? "-" : ""}${int}${frac}${exp}`;
  };
  const str = () =>
    JSON.stringify(pick(["", "x", "1.50", 'a"b', "\\", "1e2 , [ ] { } :", "\u0001", "\u00011"]));
  const value = (depth: number): string => {
    const r = rnd();
    if (depth > 0 && r < 0.15)
      return `[${Array.from({ length: Math.floor(rnd() * 3) }, () => value(depth - 1)).join(pick([",", " , "]))}]`;
    if (depth > 0 && r < 0.3) return object(depth - 1);
    if (r < 0.7) return number();
    if (r < 0.85) return str();
    return pick(["true", "false", "null"]);
  };
  const object = (depth: number): string =>
    `{${Array.from({ length: Math.floor(rnd() * 5) }, (_, i) => `${JSON.stringify(`k${i}`)}${pick([":", " : "])}${value(depth)}`).join(",")}}`;
  const objects = Array.from({ length: 400 }, () => object(2));
  const out = throughClickHouse(objects);
  objects.forEach((o, i) => {
    assert.equal(out[i].valid, true, o);
    assert.deepEqual(out[i].props, written(o), o);
  });
});

test("tagging keeps invalid lines invalid (as JSON.parse decides)", () => {
  const lines = [
    `{"a":01}`,
    `{"a":1.}`,
    `{"a":.5}`,
    `{"a":"x}`,
    `{"a":1}"`,
    `{"a":-}`,
    `{"a":1e}`,
    `{"a":+1}`,
    `{"a":0x10}`,
    `{"a":1}}`,
    `{"a":1 2}`,
    `{"a":"1.5"2.5}`,
    `{"a":\u00021.5\u0003}`,
    `{"a":"\u00021.5\u0003"}`,
    `{1.5:2}`,
    `{"a":{-0 :1}}`,
    `{"a":"\\"\u00011.5\\":1}`,
    `[1e2]`,
  ];
  const out = throughClickHouse(lines);
  lines.forEach((l, i) => {
    let ok = true;
    try {
      JSON.parse(l);
    } catch {
      ok = false;
    }
    assert.equal(out[i].valid, ok, JSON.stringify(l));
  });
});
