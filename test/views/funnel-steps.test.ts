/** `changeFunnelSteps` (src/views/state.ts): a step edit re-checks every setting that names steps. */
import assert from "node:assert/strict";
import { test } from "node:test";
import type { EventRef, Exclusion } from "../../src/queries/spec.js";
import {
  changeFunnelSteps,
  checkFunnelKeys,
  type FunnelModel,
  initialModels,
} from "../../src/views/state/state.js";

const ref = (event: string): EventRef => ({ event, filters: [] });
const x = (event: string, from: number, to: number): Exclusion => ({ event: ref(event), from, to });
const model = (steps: string[], exclude: Exclusion[], more: Partial<FunnelModel> = {}): FunnelModel => ({
  ...initialModels().funnel,
  steps: steps.map(ref),
  exclude,
  ...more,
});
const ranges = (m: FunnelModel) => (m.exclude ?? []).map((e) => `${e.event.event}@${e.from}-${e.to}`);

test("removing the last step clips a whole-funnel exclusion, with a note (the issue's case)", () => {
  const { model: m, notes } = changeFunnelSteps(model(["a", "b", "c"], [x("err", 1, 3)]), {
    kind: "remove",
    index: 2,
  });
  assert.deepEqual(
    m.steps.map((s) => s.event),
    ["a", "b"],
  );
  assert.deepEqual(ranges(m), ["err@1-2"]);
  assert.deepEqual(notes, ["exclusion err@1-3 is now @1-2"]);
  assert.equal(m.selected, 1);
});

test("removing a step shifts ranges after it, shrinks ranges around it, drops ranges left with one step", () => {
  const start = model(["a", "b", "c", "d"], [x("p", 3, 4), x("q", 1, 4), x("r", 1, 2), x("s", 2, 3)]);
  const { model: m, notes } = changeFunnelSteps(start, { kind: "remove", index: 1 });
  assert.deepEqual(ranges(m), ["p@2-3", "q@1-3"]);
  assert.deepEqual(notes, [
    "exclusion p@3-4 is now @2-3",
    "exclusion q@1-4 is now @1-3",
    "exclusion r@1-2 dropped: its steps are gone or out of order",
    "exclusion s@2-3 dropped: its steps are gone or out of order",
  ]);
  // A step removed before step A of a range starting past it, and one after B, change nothing else.
  const after = changeFunnelSteps(model(["a", "b", "c"], [x("e", 1, 2)]), { kind: "remove", index: 2 });
  assert.deepEqual(ranges(after.model), ["e@1-2"]);
  assert.deepEqual(after.notes, []);
});

test("inserting widens a range around the new step; appending changes nothing", () => {
  const m = model(["a", "b", "c"], [x("e", 1, 3), x("f", 2, 3)]);
  const mid = changeFunnelSteps(m, { kind: "insert", index: 1, step: ref("n") });
  assert.deepEqual(
    mid.model.steps.map((s) => s.event),
    ["a", "n", "b", "c"],
  );
  assert.deepEqual(ranges(mid.model), ["e@1-4", "f@3-4"]);
  assert.equal(mid.notes.length, 2);
  const end = changeFunnelSteps(m, { kind: "insert", index: 3, step: ref("n") });
  assert.deepEqual(ranges(end.model), ["e@1-3", "f@2-3"]);
  assert.deepEqual(end.notes, []);
  assert.equal(end.model.selected, 3);
});

test("moving a step: ranges follow their step events; ends moved past each other drop the range", () => {
  const m = model(["a", "b", "c"], [x("e", 1, 2), x("f", 2, 3)]);
  const { model: moved, notes } = changeFunnelSteps(m, { kind: "move", from: 1, to: 2 });
  assert.deepEqual(
    moved.steps.map((s) => s.event),
    ["a", "c", "b"],
  );
  assert.deepEqual(ranges(moved), ["e@1-3"]);
  assert.deepEqual(notes, [
    "exclusion e@1-2 is now @1-3",
    "exclusion f@2-3 dropped: its steps are gone or out of order",
  ]);
  assert.equal(moved.selected, 2);
});

test("replacing a step keeps the ranges; no steps left drops hold and value", () => {
  const m = model(["a", "b"], [x("e", 1, 2)], { hold: "plan", value: "price" });
  const r = changeFunnelSteps(m, { kind: "replace", index: 1, step: ref("z") });
  assert.deepEqual(
    r.model.steps.map((s) => s.event),
    ["a", "z"],
  );
  assert.deepEqual(ranges(r.model), ["e@1-2"]);
  assert.deepEqual(r.notes, []);
  const one = changeFunnelSteps(m, { kind: "remove", index: 0 }).model;
  assert.deepEqual(ranges(one), []);
  assert.equal(one.hold, "plan");
  const none = changeFunnelSteps(one, { kind: "remove", index: 0 });
  assert.equal(none.model.hold, undefined);
  assert.equal(none.model.value, undefined);
  assert.deepEqual(none.notes, ["hold plan dropped: no steps left", "value price dropped: no steps left"]);
});

test("checkFunnelKeys drops a hold no step carries and a value no step has a number in", () => {
  const m = model(["a", "b"], [], { hold: "plan", value: "price" });
  const keys = [
    { key: "plan", numbers: 0 },
    { key: "price", numbers: 3 },
    { key: "label", numbers: 0 },
  ];
  assert.deepEqual(checkFunnelKeys(m, keys), { model: m, notes: [] });
  const text = checkFunnelKeys(m, [
    { key: "plan", numbers: 0 },
    { key: "price", numbers: 0 },
  ]);
  assert.equal(text.model.value, undefined);
  assert.equal(text.model.hold, "plan");
  assert.deepEqual(text.notes, ["value price dropped: no step has a number in it"]);
  const none = checkFunnelKeys(m, []);
  assert.equal(none.model.hold, undefined);
  assert.deepEqual(none.notes, [
    "hold plan dropped: no step has it",
    "value price dropped: no step has a number in it",
  ]);
});
