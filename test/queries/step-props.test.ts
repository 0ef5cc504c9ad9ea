/**
 * The props analysis over several event types with `numbers` (the funnel's hold and value pickers):
 * keys of every listed type, and per key the events whose text is a finite number. Runs on ClickHouse
 * too (`EVX_TEST_ENGINE=clickhouse`).
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import type { DateRange } from "../../src/queries/spec.js";
import { cacheFromFiles, ev, lines, type TestCache } from "./helpers.js";

let tc: TestCache;
const range: DateRange = { from: "2023-06-01", to: "2023-06-01", tz: "UTC" };

before(async () => {
  tc = await cacheFromFiles({
    "date=2023-06-01/a.jsonl": lines([
      ev("a", "2023-06-01T10:00:00Z", "u1", { plan: "pro", price: 10 }),
      ev("a", "2023-06-01T10:01:00Z", "u2", { plan: "free", price: "12.5" }),
      ev("b", "2023-06-01T10:02:00Z", "u1", { price: "n/a", only_b: 3, label: "x", flag: true }),
      ev("b", "2023-06-01T10:03:00Z", "u2", { inf: "inf", price: "1" }),
      ev("c", "2023-06-01T10:04:00Z", "u3", { only_c: 5 }),
    ]),
  });
});
after(() => tc?.close());

const keysOf = async (events: string[], numbers: boolean) => {
  const r = (await tc.ex.run({ kind: "props", event: events[0]!, events, range, topValues: 0, numbers }))
    .result;
  return { events: r.events, keys: r.props.map((p) => [p.key, p.events, p.numbers]) };
};

test("keys of several event types, with the count of finite numbers per key", async () => {
  assert.deepEqual(await keysOf(["a", "b"], true), {
    events: 4,
    keys: [
      ["price", 4, 3], // 10, "12.5" and "1" are numbers; "n/a" is not
      ["plan", 2, 0],
      ["flag", 1, 0],
      ["inf", 1, 0], // "inf" casts to infinity, which --value does not sum
      ["label", 1, 0],
      ["only_b", 1, 1],
    ],
  });
  // `*` among the types: every type; without `numbers`, rows have no count.
  const all = await keysOf(["a", "*"], false);
  assert.equal(all.events, 5);
  assert.ok(all.keys.some(([k, , n]) => k === "only_c" && n === undefined));
  // One type alone is the one-event analysis.
  assert.deepEqual((await keysOf(["c"], true)).keys, [["only_c", 1, 1]]);
});
