// Numbers as written through the real CLI on a synced DuckDB cache: generated number texts (some DuckDB
// would re-print, some not) come back as the lines wrote them from `evx props`, `--breakdown`,
// `--where 'k~…'`, a `sum:` measure and the user timeline; a clean file next to them keeps the fast path.
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import fc from "fast-check";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { evx } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";

const dir = tempDir("evx-numtext-cli-");
const cache = join(dir, "c.duckdb");

/** A JSON number text as a source may write it: sign, integer part, maybe a fraction and an exponent. */
const numberText = fc
  .tuple(
    fc.boolean(),
    fc.oneof(fc.constant("0"), fc.stringMatching(/^[1-9][0-9]{0,22}$/)),
    fc.option(fc.stringMatching(/^[0-9]{1,18}$/), { nil: undefined }),
    fc.option(fc.stringMatching(/^[eE][-+]?[0-9]{1,2}$/), { nil: undefined }),
  )
  .map(
    ([neg, int, frac, exp]) => `${neg ? "-" : ""}${int}${frac === undefined ? "" : `.${frac}`}${exp ?? ""}`,
  );

// Six generated texts and the forms the issue names, each on its own number of events (1…n), so the
// breakdown's and props' orders are fixed by the counts.
const TEXTS = [
  ...new Set([
    ...fc.sample(numberText, { numRuns: 6, seed: 5 }),
    "1e2",
    "1.50",
    "-0.0",
    "19.0",
    "12345678901234567890123",
  ]),
];
/** Properties of user t1's one event, in the minified form every output writes them. */
const TIMELINE_PROPS = String.raw`{"a":19.0,"b":1e2,"c":1.50,"d":1234567890123456789,"e":-0.0,"f":{"g":12345678901234567890123,"h":[1.0,"2.50"]},"s":"\u00015","t":"1e2"}`;
const line = (t: string, i: number, u: string) =>
  `{"event_type":"buy","event_time":"2023-06-01T${String(i % 24).padStart(2, "0")}:00:00Z","user_id":"${u}","event_properties":{"amount":${t},"nested":{"x":[${t}]}}}`;

before(() => {
  const lines: string[] = [];
  TEXTS.forEach((t, k) => {
    for (let i = 0; i <= k; i++) lines.push(line(t, i, `u${k}`));
  });
  writeLakeFiles(join(dir, "lake"), {
    "date=2023-06-01/numbers.jsonl": `${lines.join("\n")}\n`,
    // Python-style numbers only: read by the fast path.
    "date=2023-06-01/clean.jsonl": `${line("19.0", 1, "c1")}\n${line("0.25", 2, "c2")}\n`,
    // Compressed: DuckDB decompresses it for the scan and the tagged copy.
    "date=2023-06-01/packed.jsonl.gz": `${line("1e2", 3, "g1")}\n${line("0.25", 4, "g2")}\n`,
    // A bad line: the line-by-line path, which tags in Node.
    "date=2023-06-01/bad.jsonl": `not json\n${line("1.50", 5, "b1")}\n`,
    // The timeline's user: numbers JSON.parse would change, strings that look like numbers or tags.
    "date=2023-06-01/timeline.jsonl": `{"event_type":"view","event_time":"2023-06-01T07:00:00Z","user_id":"t1","event_properties":${TIMELINE_PROPS}}\n`,
  });
  const r = evx(["sync", join(dir, "lake"), "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
});

const run = (args: string[]) => {
  const r = evx([...args, "--cache", cache, "--from", "2023-06-01", "--to", "2023-06-01"]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout;
};
const json = (args: string[]) => JSON.parse(run([...args, "--json"]));
/** Events per text, the other files' included. */
const expected = new Map(TEXTS.map((t, k) => [t, k + 1]));
expected.set("19.0", (expected.get("19.0") ?? 0) + 1);
expected.set("0.25", (expected.get("0.25") ?? 0) + 2);
expected.set("1e2", (expected.get("1e2") ?? 0) + 1);
expected.set("1.50", (expected.get("1.50") ?? 0) + 1);

test("props: every text as written, typed number", () => {
  const out = json(["props", "buy", "--top", "100"]);
  const amount = out.props.find((p: { key: string }) => p.key === "amount");
  assert.equal(amount.type, "number");
  assert.deepEqual(
    new Map(amount.top.map((t: { value: string; events: number }) => [t.value, t.events])),
    expected,
  );
  const nested = out.props.find((p: { key: string }) => p.key === "nested");
  assert.deepEqual(
    new Set(nested.top.map((t: { value: string }) => t.value)),
    new Set([...expected.keys()].map((t) => `{"x":[${t}]}`)),
  );
});

test("--breakdown groups by the text as written", () => {
  const out = json(["trend", "buy", "--breakdown", "amount", "--limit", "100"]);
  assert.deepEqual(
    new Map(out.series.map((s: { breakdown: string; total: number }) => [s.breakdown, s.total])),
    expected,
  );
});

test("--where ~ matches the text as written", () => {
  for (const t of TEXTS) {
    const want = [...expected]
      .filter(([x]) => x.toLowerCase().includes(t.toLowerCase()))
      .reduce((a, [, n]) => a + n, 0);
    assert.equal(json(["trend", "buy", "--where", `amount~${t}`]).series[0].total, want, t);
  }
});

test("sum: reads the number", () => {
  const want = [...expected].reduce((a, [t, n]) => a + Number(t) * n, 0);
  const got = json(["trend", "buy", "--measure", "sum:amount"]).series[0].total;
  assert.ok(Math.abs(got - want) <= Math.abs(want) * 1e-9 + 1e-9, `${got} vs ${want}`);
});

test("timeline: a number, never a tag", () => {
  const k = TEXTS.indexOf("1e2");
  const out = json(["user", `u${k}`]);
  assert.equal(out.events[0].properties.amount, 100);
  assert.deepEqual(out.events[0].properties.nested, { x: [100] });
  const human = run(["user", `u${TEXTS.indexOf("1.50")}`]);
  assert.ok(!/\\u0001|\u0001/.test(human), human);
  assert.match(human, /amount.*1\.5/);
});

test("timeline: every number as written, in human text, CSV and --json", () => {
  const human = run(["user", "t1"]);
  assert.ok(
    human.includes(
      'a=19.0 b=1e2 c=1.50 d=1234567890123456789 e=-0.0 f={"g":12345678901234567890123,"h":[1.0,"2.50"]} s=5 t=1e2',
    ),
    human,
  );
  const csv = run(["user", "t1", "--csv"]).split("\n");
  assert.equal(csv[1], `t1,view,2023-06-01T07:00:00.000Z,"${TIMELINE_PROPS.replace(/"/g, '""')}"`);
  const text = run(["user", "t1", "--json"]);
  assert.ok(text.includes(`"properties":${TIMELINE_PROPS}}`), text);
  assert.equal(JSON.parse(text).events[0].properties.s, "\u00015");
});
