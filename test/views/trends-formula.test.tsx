/**
 * The Trends tab's formula (issue #27): a second series, then `=` and a formula; the chart draws the
 * formula, the legend shows its text, the table its numbers (the engine's), the chips its letters.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Executor } from "../../src/queries/executor.js";
import { formatNumber } from "../../src/render/format.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

describe("Trends formula", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("a second series and = A/B*100: the chart and table show the formula, the legend its text", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      await app.waitFor("── button_clicked");
      // A formula needs its letters: C is refused in the prompt, with the reason.
      await app.press("a");
      await app.waitFor("Add an event to the chart");
      await app.press("zoom");
      await app.waitFor((x) => x.includes("filter: zoom") && !x.includes("button_clicked"));
      await app.press(KEYS.enter);
      await app.waitFor("Filter on zoom");
      await app.press("level>=1", KEYS.enter);
      await app.waitFor("** zoom[level>=1]");
      await app.press("=");
      await app.waitFor((x) => x.includes("Formula over the series") && x.includes("B = zoom[level>=1]"));
      await app.press("A/C", KEYS.enter);
      await app.waitFor("C names no series");
      await app.press(KEYS.backspace.repeat(3), "B/A*100", KEYS.enter);
      let f = await app.waitFor(
        (x) =>
          x.includes("── B/A*100") &&
          x.includes("formula B/A*100 · events per day") &&
          !x.includes("updating"),
      );
      assert.match(f, /Events:\s+A button_clicked\s+B zoom\[level>=1\]/);
      assert.doesNotMatch(f, /── button_clicked/, "the chart draws the formula, not its letters");
      assertFits(f, 100, 30);
      // The table's total is the engine's formula total.
      const ex = new Executor(c.cache);
      const range = await ex.resolveRange({ tz: "UTC" });
      const out = await ex.run({
        kind: "trend",
        events: [
          { event: "button_clicked", filters: [] },
          { event: "zoom", filters: [{ key: "level", op: ">=", value: "1" }] },
        ],
        measure: { kind: "events" },
        interval: "day",
        range,
        filters: [],
        limit: 10,
        formula: "B/A*100",
      });
      ex.close();
      const total = out.result.formula?.series[0]?.total;
      assert.ok(typeof total === "number" && total > 0);
      await app.press("t");
      f = await app.waitFor((x) => x.includes("Bucket") && x.includes("B/A*100"));
      assert.match(f, new RegExp(`^Total\\s+${formatNumber(total).replace(/[.]/g, "\\.")}`, "m"), f);
      await app.press("t");
      // An empty formula clears it: the letters' series are back.
      await app.press("=");
      await app.waitFor("Formula over the series");
      await app.press(KEYS.backspace.repeat(7), KEYS.enter);
      f = await app.waitFor((x) => x.includes("── button_clicked") && !x.includes("formula"));
      assert.match(f, /Events:\s+1 button_clicked/);
    } finally {
      app.unmount();
    }
  });
});
