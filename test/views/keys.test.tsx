/**
 * Issue #22 in the TUI: a property key no event has is the query's error (one line, with the
 * suggestions); a key that exists but on none of the analysis's events in range is answered, with a
 * yellow note on the status bar.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

describe("property keys in the TUI", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("a mistyped key is an error with suggestions; a key of other events is answered with a note", async () => {
    const app = await renderApp(testSession(c), { columns: 120, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      await app.waitFor("── button_clicked");
      // `level` is a zoom property: button_clicked never carries it.
      await app.press("f");
      await app.waitFor("Add a filter");
      await app.press("level>=1", KEYS.enter);
      let f = await app.waitFor((x) =>
        x.includes('! --where "level": no "button_clicked" event in the range has it'),
      );
      assertFits(f, 120, 30);
      await app.press("F");
      // The note goes with the result it was about.
      await app.waitFor((x) => x.includes("where –") && !x.includes('no "button_clicked" event'));
      await app.press("f");
      await app.waitFor("Add a filter");
      await app.press("levle>=1", KEYS.enter);
      f = await app.waitFor((x) => x.includes('unknown property key "levle" in --where: no event has it'));
      assert.match(f, /did you mean "level"/);
      assertFits(f, 120, 30);
    } finally {
      app.unmount();
    }
  });
});
