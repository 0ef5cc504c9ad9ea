/**
 * Issue #28's small fixes: a number prompt's pre-filled value is replaced by typing, `g`/`G`/Home/End
 * move to the first/last row and are listed in `?`, and the tab bar fits 80 columns with whole names.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bindingsFor } from "../../src/views/keymap.js";
import { splashFrame, TAB_TITLES, tabBarLayout } from "../../src/views/widgets/splash.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

describe("small fixes (issue #28)", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("a number prompt: typing replaces the pre-filled value, backspace clears it", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("6");
      await app.waitFor(/depth 4 · top 5/);
      await app.press("n");
      await app.waitFor("> 4");
      await app.press("3");
      let f = await app.waitFor("> 3▏");
      assert.ok(!f.includes("> 43"), f);
      await app.press(KEYS.enter);
      await app.waitFor(/depth 3 · top 5/);
      // Backspace on the selected value clears it; typing then builds a new number.
      await app.press("t");
      await app.waitFor("> 5");
      await app.press(KEYS.backspace);
      await app.waitFor((x) => /> ▏/.test(x));
      await app.press("1", "2");
      f = await app.waitFor("> 12▏");
      await app.press(KEYS.enter);
      f = await app.waitFor(/depth 3 · top 12/);
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("g/G and Home/End go to the first and last event, and `?` lists them", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      let f = await app.waitFor("purchase");
      // Enter opens the row under the cursor in Trends: that tells where the cursor is.
      const opened = async (keys: string[], event: string) => {
        await app.press("1");
        await app.waitFor("9 event types");
        await app.press(...keys, KEYS.enter);
        await app.waitFor(`── ${event}`);
      };
      await opened(["G"], "purchase");
      await opened(["g"], "button_clicked");
      await opened(["\x1b[F"], "purchase"); // End
      await opened(["\x1b[H"], "button_clicked"); // Home
      await app.press("?");
      await app.waitFor("up/down scroll");
      // The Events section is further down the help: scroll until it shows.
      for (
        let i = 0;
        i < 60 && !/First event[\s\S]*Last event|Last event[\s\S]*First event/.test(app.lastFrame());
        i++
      )
        await app.press(KEYS.down);
      f = await app.waitFor("First event");
      assert.match(f, /home\/g\s+First event/);
      assert.match(f, /end\/G\s+Last event/);
    } finally {
      app.unmount();
    }
    for (const scope of ["events", "paths", "drill"] as const) {
      const keys = bindingsFor(scope).flatMap((b) => b.keys);
      for (const k of ["g", "G", "home", "end"]) assert.ok(keys.includes(k), `${scope} lacks ${k}`);
    }
  });

  it("tabs fit 80 columns with whole names, and narrower bars drop the least-used names first", async () => {
    const l80 = tabBarLayout(80);
    const text = (l: ReturnType<typeof tabBarLayout>) => `evx ${l.labels.join(l.sep)}${l.help}`;
    assert.equal(text(l80), "evx 1 Events 2 Trends 3 Funnel 4 Retention 5 Sync 6 Paths 7 Lifecycle  ? help");
    assert.ok(text(l80).length <= 80);
    assert.equal(
      text(tabBarLayout(100)),
      "evx  1 Events  2 Trends  3 Funnel  4 Retention  5 Sync  6 Paths  7 Lifecycle   ? help",
    );
    for (let w = 20; w <= 120; w++) {
      for (let sel = 0; sel < TAB_TITLES.length; sel++) {
        const l = tabBarLayout(w, sel);
        // Every label is a number, or a number and the tab's whole name: never a fragment.
        l.labels.forEach((lab, i) => {
          const t = lab.trim();
          assert.ok(t === String(i + 1) || t === `${i + 1} ${TAB_TITLES[i]}`, `${w}: "${lab}"`);
        });
        assert.ok(l.labels[sel]!.includes(TAB_TITLES[sel]!), `${w}: the selected tab keeps its name`);
        if (w >= 45) assert.ok(text(l).length <= w, `${w}: "${text(l)}"`);
      }
    }
    // 60 columns: Lifecycle goes to its number first; 50: Paths and Sync too.
    assert.equal(text(tabBarLayout(50)), "evx 1 Events 2 Trends 3 Funnel 4 Retention 5 6 7");
    assert.equal(text(tabBarLayout(60)), "evx 1 Events 2 Trends 3 Funnel 4 Retention 5 Sync 6 Paths 7");
    // The splash draws the same bar as the App.
    assert.match(splashFrame(80, 24, "/x"), /evx \x1b\[22m\x1b\[1;7m1 Events\x1b\[22;27m 2 Trends/);
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      const f = await app.waitFor("button_clicked");
      assert.equal(
        f.split("\n")[0],
        "evx 1 Events 2 Trends 3 Funnel 4 Retention 5 Sync 6 Paths 7 Lifecycle  ? help",
      );
      assertFits(f, 80, 24);
    } finally {
      app.unmount();
    }
  });
});
