// Numbers kept as written (src/queries/jsonnumber.ts): parsing keeps each number's text, keys and
// strings starting with U+0001 stay themselves, and writing gives the text back as a number token even
// when a data string holds the writer's marker.
import assert from "node:assert/strict";
import { test } from "node:test";
import { JsonNumber, jsonKeepingNumbers, parseKeepingNumbers } from "../../src/queries/jsonnumber.js";
import { jsonText } from "../../src/render/json.js";

const TEXT = String.raw`{"a":19.0,"b":[1e2,-0.0,{"c":1.50}],"d":12345678901234567890123,"\u0001k":"\u00011","__proto__":2,"e":"7","f":true,"g":null}`;

test("a round trip keeps every number's text, and every string's and key's", () => {
  const v = parseKeepingNumbers(TEXT) as Record<string, unknown>;
  assert.deepEqual(v.a, new JsonNumber("19.0"));
  assert.deepEqual(v.b, [new JsonNumber("1e2"), new JsonNumber("-0.0"), { c: new JsonNumber("1.50") }]);
  assert.equal(v["\u0001k"], "\u00011");
  assert.ok(Object.hasOwn(v, "__proto__"));
  assert.equal(v.e, "7");
  assert.equal(jsonKeepingNumbers(v), TEXT);
  assert.equal(jsonText({ p: v }), `{"p":${TEXT}}`);
  // A bare JSON.stringify still writes a number (the double).
  assert.equal(JSON.stringify(new JsonNumber("1.50")), "1.5");
});

test("a data string holding the marker is never taken for a number", () => {
  const random = Math.random;
  // The first nonce is "i" (0.5 in base 36), which the data string holds: the writer tries another.
  const draws = [0.5, 0.25];
  Math.random = () => draws.shift() ?? random();
  try {
    const v = { s: "\u0001i:0", n: new JsonNumber("1.50"), k: { "\u0001i:0": 1 } };
    assert.equal(jsonKeepingNumbers(v), String.raw`{"s":"\u0001i:0","n":1.50,"k":{"\u0001i:0":1}}`);
    assert.equal(draws.length, 0);
  } finally {
    Math.random = random;
  }
});
