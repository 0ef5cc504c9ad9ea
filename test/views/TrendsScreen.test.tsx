import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PropsResult, TrendResult } from "../../src/queries/spec.js";
import { measureCycle, nextMeasure, seriesLabel, trendTable } from "../../src/views/TrendsScreen.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

describe("Trends screen", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("charts the top event by default, with legend and x-axis labels, fitted to the width", async () => {
    const app = await renderApp(testSession(c), { columns: 90, rows: 26 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      const f = await app.waitFor((x) => x.includes("── button_clicked") && x.includes("┤"));
      assert.match(f, /Events:\s+1 button_clicked/);
      assert.match(f, /events per day · breakdown – · where –/);
      assert.match(f, /06-01\s+06-0\d/); // x-axis labels
      assertFits(f, 90, 26);
    } finally {
      app.unmount();
    }
  });

  it("m cycles the measure, i the interval, t toggles a table of the same numbers", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      await app.waitFor("── button_clicked");
      await app.press("m");
      await app.waitFor("users per day");
      await app.press("m");
      await app.waitFor("per-user per day");
      await app.press("m"); // back to events (button_clicked has no numeric property)
      await app.waitFor("events per day");
      await app.press("i");
      await app.waitFor("events per week");
      await app.press("t");
      let f = await app.waitFor((x) => x.includes("Bucket") && /^W\d\d /m.test(x) && !x.includes("updating"));
      assert.match(f, /^Total\s+[\d,]+/m);
      const total = Number(/^Total\s+([\d,]+)/m.exec(f)![1]!.replace(/,/g, ""));
      const weeks = [...f.matchAll(/^W\d\d \d\d-\d\d\s+([\d,]+)/gm)].map((m) =>
        Number(m[1]!.replace(/,/g, "")),
      );
      assert.ok(weeks.length >= 2, f);
      assert.equal(
        weeks.reduce((a, b) => a + b, 0),
        total,
      );
      await app.press("t");
      f = await app.waitFor((x) => !x.includes("Bucket") && x.includes("┤"));
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("adds an event with a, breaks down by a picked key, adds and clears filters, removes with x", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      await app.waitFor("── button_clicked");
      await app.press("a");
      await app.waitFor("Add an event to the chart");
      await app.press("zoom");
      await app.waitFor((x) => x.includes("filter: zoom") && !x.includes("button_clicked"));
      await app.press(KEYS.enter);
      await app.waitFor("Filter on zoom");
      await app.press("level>=1", KEYS.enter);
      // Without colour the second series is drawn with its own marker.
      let f = await app.waitFor("** zoom[level>=1]");
      assert.match(f, /2 zoom\[level>=1\]/);
      // The new event is selected: break it down by a key from its properties.
      await app.press("b");
      await app.waitFor("direction");
      await app.press("dir", KEYS.enter);
      f = await app.waitFor(
        (x) => x.includes("breakdown direction") && /zoom\[level>=1\] · (in|out)/.test(x),
      );
      await app.press("f");
      await app.waitFor("Add a filter");
      await app.press("bad filter", KEYS.enter);
      await app.waitFor("expected an operator");
      await app.press(KEYS.backspace.repeat(10), "direction=in", KEYS.enter);
      await app.waitFor("where direction=in");
      await app.press("F");
      await app.waitFor("where –");
      await app.press("x");
      f = await app.waitFor((x) => !x.includes("zoom[level>=1]") && x.includes("── "));
      assert.match(f, /Events:\s+1 button_clicked/);
    } finally {
      app.unmount();
    }
  });

  it("measure cycle offers sum and avg of numeric keys", () => {
    const props: PropsResult = {
      event: "purchase",
      events: 10,
      props: [
        { key: "revenue", type: "number", events: 10, presence: 1, top: [] },
        { key: "currency", type: "string", events: 10, presence: 1, top: [] },
      ],
    };
    assert.deepEqual(
      measureCycle(props).map((m) => (m.kind === "sum" || m.kind === "avg" ? `${m.kind}:${m.key}` : m.kind)),
      ["events", "users", "per-user", "sum:revenue", "avg:revenue"],
    );
    assert.deepEqual(nextMeasure({ kind: "avg", key: "revenue" }, props), { kind: "events" });
    assert.deepEqual(nextMeasure({ kind: "sum", key: "gone" }, undefined), { kind: "events" });
  });

  it("labels and tables series", () => {
    const r: TrendResult = {
      interval: "day",
      measure: "events",
      series: [
        { event: "a", breakdown: "x", total: 3, points: [{ t: "2023-06-01T00:00:00.000Z", value: 3 }] },
        { event: "a", breakdown: "(none)", total: 1, points: [{ t: "2023-06-01T00:00:00.000Z", value: 1 }] },
      ],
    };
    assert.equal(seriesLabel(r.series[0]!, r), "x");
    const t = trendTable(r, 60);
    assert.match(t.header, /^Bucket\s+x\s+\(none\)$/);
    assert.match(t.total, /^Total\s+3\s+1$/);
    assert.deepEqual(t.rows.length, 1);
  });
});
