/**
 * Tables wider than the terminal scroll sideways (issue #28): the Events catalog below 80 columns (the
 * event name stays, the columns after it move), the funnel's breakdown table (the value column stays,
 * the step columns move; pgup/pgdn its values). The selected row stays on screen.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

describe("tables scroll sideways", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("Events: all columns fit at 80; at 70 →/← scroll the columns after the name, the name stays", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      let f = await app.waitFor(/button_clicked\s+1,946/);
      assert.ok(!f.includes("←→ columns"), f);
      assert.match(f, /Last seen\s+Last 14 days/);
      app.resize(70, 24);
      f = await app.waitFor("←→ columns 1-70 of 83");
      assert.doesNotMatch(f, /Last 14 days/);
      assert.match(f, /^Event\s+Events\s+Users\s+Last seen/m);
      await app.press("l", "l");
      f = await app.waitFor("←→ columns 14-83 of 83");
      assert.match(f, /^Event {2,}‹/m); // the name column stays, ‹ marks the scroll
      f = await app.waitFor(/^button_clicked +‹.*2023-06-14 22:47 +[▁▂▃▄▅▆▇█]+$/m); // the sparklines
      assertFits(f, 70, 24);
      // The cursor still moves, its row shown.
      await app.press("j", "j");
      await app.press(KEYS.enter);
      await app.waitFor(/^Events: {2}1 /m);
    } finally {
      app.unmount();
    }
  });

  it("Funnel at 80×24: a 7-step breakdown table scrolls its step columns with the value column frozen", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      await app.waitFor(/button_clicked\s+1,946/);
      await app.press("3");
      await app.waitFor("No steps yet");
      for (const step of ["button_cl", "zoom", "file_sa", "button_cl", "zoom", "file_sa", "button_cl"]) {
        await app.press("a");
        await app.waitFor("type to filter");
        await app.press(step);
        await app.waitFor(`filter: ${step}`);
        await app.press(KEYS.enter);
        await app.waitFor("(optional: enter to skip)");
        await app.press(KEYS.enter);
        await app.waitFor((x) => !x.includes("(optional: enter to skip)"));
      }
      await app.waitFor(/7\. button_clicked /);
      await app.press("b");
      await app.waitFor(/button_name/);
      await app.press("button_name", KEYS.enter);
      // The value column is as narrow as it gets (8): its title, the key picked, is cut.
      let f = await app.waitFor(/^button_…\s+step 1\s+step 2\s.*step 7 …$/m);
      assert.doesNotMatch(f, /conv/);
      await app.press(KEYS.right, KEYS.right, KEYS.right, KEYS.right, KEYS.right, KEYS.right);
      f = await app.waitFor(/^‹ butto…\s+step 7\s+conv$/m);
      assert.match(f, /^save\s+33\s+\d+\.\d%$/m);
      assertFits(f, 80, 24);
      await app.press(KEYS.left);
      f = await app.waitFor(/^‹ butto…\s+step 6\s+step 7\s+conv$/m);
      await app.press(KEYS.pgdn);
      await app.waitFor("values 3-10 of 10 (pgup/pgdn)");
    } finally {
      app.unmount();
    }
  });
});
