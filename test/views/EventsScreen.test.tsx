import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { catalogLayout, sparkSpec } from "../../src/views/screens/EventsScreen.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

describe("Events screen", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("lists the catalog with counts, last seen and 14-day sparklines", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      const f = await app.waitFor(/button_clicked.*[▁▂▃▄▅▆▇█]{10}/);
      assert.match(f, /9 event types · 2023-06-01 → 2023-06-14/);
      assert.match(f, /Event\s+Events\s+Users\s+Last seen\s+Last 14 days/);
      // Most frequent first, with grouped numbers and a last-seen timestamp.
      const rows = f.split("\n").filter((l) => /^\S+_?\S*\s+[\d,]+\s+[\d,]+\s+2023-06-1\d \d\d:\d\d/.test(l));
      assert.ok(rows.length >= 9, f);
      assert.match(rows[0]!, /^button_clicked/);
      assert.match(f, /5,000 events/); // status bar
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("filters with / (typing q types, it does not quit) and opens the event in Trends on Enter", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("/", "q");
      let f = await app.waitFor("/q▏");
      assert.equal(app.quitCalls, 0);
      await app.press(KEYS.backspace, "zoo");
      f = await app.waitFor((x) => x.includes("/zoo▏") && !x.includes("button_clicked"));
      assert.match(f, /^zoom\s/m);
      await app.press(KEYS.enter); // keep the filter
      f = await app.waitFor('1 of 9 event types match "zoo"');
      await app.press(KEYS.enter); // open in Trends
      f = await app.waitFor((x) => /Events:\s+1 zoom/.test(x) && x.includes("── zoom"));
      assert.match(f, /events per day/);
    } finally {
      app.unmount();
    }
  });

  it("moves the cursor with j/k and arrows, and esc clears the filter", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("j", "j", KEYS.down, "k", KEYS.enter);
      // Third row of the catalog opened in Trends.
      const f = await app.waitFor(/Events:\s+1 \w+/);
      const opened = /Events:\s+1 (\w+)/.exec(f)![1]!;
      assert.notEqual(opened, "button_clicked");
      await app.press("1", "/", "file", KEYS.enter);
      await app.waitFor('match "file"');
      await app.press(KEYS.esc);
      await app.waitFor("9 event types");
    } finally {
      app.unmount();
    }
  });

  it("degrades below 80 columns: no sparklines, then no last-seen, never wider or taller", async () => {
    for (const [columns, rows] of [
      [79, 24],
      [50, 12],
    ] as const) {
      const app = await renderApp(testSession(c), { columns, rows });
      try {
        const f = await app.waitFor("button_clicked");
        assert.ok(!f.includes("Last 14 days"), f);
        assert.doesNotMatch(f, /[▁▂▃▄▅▆▇█]{5}/);
        if (columns < 60) assert.ok(!f.includes("Last seen"), f);
        else assert.ok(f.includes("Last seen"), f);
        assertFits(f, columns, rows);
      } finally {
        app.unmount();
      }
    }
    assert.equal(catalogLayout(100).spark, 14);
    assert.equal(catalogLayout(60).spark, 0);
  });

  it("asks for sparklines over the last 14 days of the range only", () => {
    const s = sparkSpec(["a", "b"], { from: "2023-06-01", to: "2023-06-28", tz: "UTC" })!;
    assert.deepEqual(s.range, { from: "2023-06-15", to: "2023-06-28", tz: "UTC" });
    assert.deepEqual(
      s.events.map((e) => e.event),
      ["a", "b"],
    );
    const short = sparkSpec(["a"], { from: "2023-06-10", to: "2023-06-12", tz: "UTC" })!;
    assert.equal(short.range.from, "2023-06-10");
    assert.equal(sparkSpec([], { from: "2023-06-10", to: "2023-06-12", tz: "UTC" }), null);
  });
});
