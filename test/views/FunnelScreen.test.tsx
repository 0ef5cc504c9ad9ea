import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FunnelResult } from "../../src/queries/spec.js";
import { breakdownTable, funnelBars, funnelSpec } from "../../src/views/FunnelScreen.js";
import { initialModels } from "../../src/views/state.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

/** Users of each step row (`1. name ███ 118 100.0% …`) in the frame. */
function stepUsers(frame: string): number[] {
  return [...frame.matchAll(/^[ ›] \d\. \S+.*?\s([\d,]+)\s+[\d.]+%/gm)].map((m) =>
    Number(m[1]!.replace(/,/g, "")),
  );
}

describe("Funnel screen", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("builds a 3-step funnel with bars, % of start, % from previous and median time", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("3");
      await app.waitFor("No steps yet");
      await app.press("a", "application_o", KEYS.enter, KEYS.enter);
      await app.waitFor("Add a second step");
      await app.press("a", "file_op", KEYS.enter, KEYS.enter);
      await app.press("a", "file_sa", KEYS.enter, KEYS.enter);
      const f = await app.waitFor((x) => /3\. file_saved .*%/.test(x) && !x.includes("…"));
      assert.match(f, /Step\s+Users\s+of start\s+from prev\s+median/);
      assert.match(f, /1\. application_opened .*█.* 100\.0%\s+–\s+–/);
      assert.match(f, /› 3\. file_saved/); // the new step is selected
      const users = stepUsers(f);
      assert.equal(users.length, 3, f);
      assert.ok(users[0]! >= users[1]! && users[1]! >= users[2]!, `non-increasing: ${users}`);
      assert.match(f, /2\. file_opened .*\d+(s|m|h)/); // a median time to convert
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("reorders with J/K, removes with x, sets the window, breakdown and conversion over time", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press(
        "3",
        "a",
        "application_o",
        KEYS.enter,
        KEYS.enter,
        "a",
        "file_op",
        KEYS.enter,
        KEYS.enter,
      );
      await app.press("a", "file_sa", KEYS.enter, "autosave=true", KEYS.enter);
      let f = await app.waitFor((x) => /3\. file_saved\[autosave=true\] .*%/.test(x) && !x.includes("…"));
      await app.press("K");
      f = await app.waitFor(/› 2\. file_saved\[autosave=true\][^\n]*\n {2}3\. file_opened/);
      await app.press("J");
      await app.waitFor(/2\. file_opened[^\n]*\n› 3\. file_saved/);
      await app.press("k", "x");
      f = await app.waitFor((x) => !x.includes("file_opened") && /2\. file_saved/.test(x));
      await app.press("w");
      await app.waitFor("Conversion window (now 1d)");
      await app.press(KEYS.down, KEYS.enter); // from "1 day" to "7 days"
      await app.waitFor("window 7d");
      await app.press("w");
      await app.waitFor("Conversion window (now 7d)");
      await app.press(KEYS.down, KEYS.down, KEYS.down, KEYS.enter); // "Custom…"
      await app.waitFor("e.g. 30m");
      await app.press("90m", KEYS.enter);
      await app.waitFor("window 1h 30m");
      await app.press("b");
      await app.waitFor("Break down application_opened by");
      await app.press("platform", KEYS.enter);
      f = await app.waitFor(
        (x) => x.includes("breakdown platform") && /^platform\s+step 1\s+step 2\s+conv/m.test(x),
      );
      assert.match(f, /^(mac|windows|linux|web|ios)\s+[\d,]+\s+[\d,]+\s+[\d.]+%/m);
      await app.press("v");
      f = await app.waitFor("Conversion over time (per day)");
      assert.match(f, /── conversion %/);
      await app.press("v");
      await app.waitFor("over time per week");
      await app.press("v");
      f = await app.waitFor((x) => !x.includes("over time"));
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("needs two steps for a query and lays out bars and breakdowns to the width", () => {
    const m = initialModels().funnel;
    const range = { from: "2023-06-01", to: "2023-06-02", tz: "UTC" };
    assert.equal(funnelSpec({ ...m, steps: [{ event: "a", filters: [] }] }, range), null);
    const spec = funnelSpec(
      {
        ...m,
        steps: [
          { event: "a", filters: [] },
          { event: "b", filters: [] },
        ],
        overTime: "week",
      },
      range,
    )!;
    assert.equal(spec.trendInterval, "week");
    assert.equal(spec.withinSeconds, 86400);
    const r: FunnelResult = {
      within_seconds: 86400,
      steps: [
        { step: "a", users: 200, conversion: 1, from_previous: 1, median_seconds: null },
        { step: "b", users: 50, conversion: 0.25, from_previous: 0.25, median_seconds: 90 },
      ],
      breakdown: [
        {
          value: "mac",
          steps: [
            { step: "a", users: 100, conversion: 1, from_previous: 1, median_seconds: null },
            { step: "b", users: 40, conversion: 0.4, from_previous: 0.4, median_seconds: 60 },
          ],
        },
      ],
    };
    const { header, rows } = funnelBars(["a", "b"], r, 70, false, false);
    assert.match(header, /Users\s+of start\s+from prev\s+median$/);
    assert.match(rows[1]!, /2\. b\s+█+.*\s+50\s+25\.0%\s+25\.0%\s+1m 30s$/);
    for (const l of [header, ...rows]) assert.ok(l.length <= 70, l);
    assert.deepEqual(breakdownTable(r, "platform", 60), [
      "platform                    step 1    step 2    conv",
      "mac                            100        40   40.0%",
    ]);
  });
});
