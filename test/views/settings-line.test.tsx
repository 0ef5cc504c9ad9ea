/**
 * The settings line under the tab bar (issue #28): it wraps between settings onto a second line, then
 * counts what is left as `+N more`, never cutting a filter so that a setting after it disappears; `?`
 * shows the whole line.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { displayWidth } from "../../src/render/sanitize.js";
import { settingsLayout, settingTokens } from "../../src/views/widgets/settings.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

const filter = (key: string, value: string) => ({ key, op: "!=" as const, value });

describe("settingsLayout", () => {
  const tokens = settingTokens(
    "window 1d",
    "compare –",
    "breakdown plan",
    [filter("screen", "a_long_screen_name_one"), filter("button_name", "a_long_button_name_two")],
    false,
    "over time per day",
  );

  it("one line when it fits, the same text as before (filters joined by commas)", () => {
    const l = settingsLayout("Funnel · ", tokens, 200, 6);
    assert.deepEqual(l.lines, [
      "Funnel · window 1d · compare – · breakdown plan · where screen!=a_long_screen_name_one, button_name!=a_long_button_name_two · over time per day",
    ]);
    assert.equal(l.cut, false);
    assert.equal(settingTokens([])[0]!.text, "where –");
  });

  it("wraps between tokens, then counts the rest; every token is whole on screen or counted", () => {
    for (let width = 30; width <= 150; width++) {
      const l = settingsLayout("Funnel · ", tokens, width, 6);
      assert.ok(l.lines.length <= 2, `width ${width}`);
      l.lines.forEach((line, i) => {
        assert.ok(displayWidth(line) + (i === 0 ? 6 : 0) <= width, `width ${width}: ${JSON.stringify(line)}`);
      });
      const text = l.lines.join("\n");
      const shown = tokens.filter((t) => text.includes(t.text)).length;
      assert.equal(shown + l.hidden, tokens.length, `width ${width}: ${text}`);
      // The hidden tokens are the last ones, and the line says how many.
      if (l.hidden) {
        assert.ok(text.endsWith(` +${l.hidden} more`), text);
        for (const t of tokens.slice(0, tokens.length - l.hidden)) assert.ok(text.includes(t.text), t.text);
      }
      assert.equal(l.cut, l.hidden > 0);
    }
    // 80 columns: the first line ends before `where`, the second starts with it; a filter that does
    // not fit whole is counted, with the setting after it.
    assert.deepEqual(settingsLayout("Funnel · ", tokens, 80, 6).lines, [
      "Funnel · window 1d · compare – · breakdown plan",
      "where screen!=a_long_screen_name_one +2 more",
    ]);
    assert.deepEqual(settingsLayout("Funnel · ", tokens, 120, 6).lines, [
      "Funnel · window 1d · compare – · breakdown plan · where screen!=a_long_screen_name_one",
      "button_name!=a_long_button_name_two · over time per day",
    ]);
  });

  it("a token wider than a line is cut (marked …) and the settings after it are still counted", () => {
    const t = settingTokens("window 1d", [filter("screen", "x".repeat(120))], "time to convert");
    const l = settingsLayout("Funnel · ", t, 60, 0);
    assert.equal(l.lines.length, 2);
    assert.equal(l.lines[0], "Funnel · window 1d");
    assert.match(l.lines[1]!, /^where screen!=x+… \+1 more$/);
    assert.equal(displayWidth(l.lines[1]!), 60);
    assert.equal(l.cut, true);
  });
});

describe("settings line at 80×24", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  const filters = [
    "screen!=first_screen_aa",
    "button_name!=second_bb",
    "screen!=third_screen_cc",
    "button_name!=fourth_dd",
    "screen!=fifth_screen_ee",
  ];

  async function addFilters(app: Awaited<ReturnType<typeof renderApp>>, list: string[]) {
    for (const f of list) {
      await app.press("f");
      await app.waitFor("Add a filter");
      await app.press(f);
      await app.waitFor(`${f}▏`);
      await app.press(KEYS.enter);
      await app.waitFor((x) => !x.includes("Add a filter"));
    }
  }

  it("Trends: the filters wrap onto a second line, then +N more; ? shows them all", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      await app.waitFor("events per day · compare – · breakdown – · where –");
      await addFilters(app, filters.slice(0, 4));
      // The chart of the new filters (an earlier chart stays up, marked "updating…", while it runs).
      const settled = (x: string) => /^ +0 ┤/m.test(x) && !x.includes("updating…");
      let f = await app.waitFor((x) => x.includes(filters[3]!) && settled(x));
      let lines = f.split("\n");
      let at = lines.findIndex((l) => l.startsWith("events per day"));
      assert.equal(lines[at], `events per day · compare – · breakdown – · where ${filters[0]}`);
      assert.equal(lines[at + 1], filters.slice(1, 4).join(", "));
      assertFits(f, 80, 24);
      await addFilters(app, filters.slice(4));
      f = await app.waitFor((x) => x.includes(" +1 more") && settled(x));
      lines = f.split("\n");
      at = lines.findIndex((l) => l.startsWith("events per day"));
      assert.equal(lines[at + 1], `${filters.slice(1, 4).join(", ")} +1 more`);
      assert.ok(!f.includes(filters[4]!));
      assertFits(f, 80, 24);
      // The chart gives up the row: the hint line is still the last one above the status bar.
      assert.match(lines.at(-2)!, /^a add an event/);
      await app.press("?");
      f = await app.waitFor("Settings: Trends · events per day");
      const shown = f.replace(/\s+/g, " ");
      for (const x of filters) assert.ok(shown.includes(x), x);
      assertFits(f, 80, 24);
      await app.press(KEYS.esc);
      await app.waitFor(" +1 more");
    } finally {
      app.unmount();
    }
  });

  it("Funnel and Retention wrap the same way; a line that fits stays one line, the help adds nothing", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      await app.waitFor("button_clicked");
      await app.press("3");
      await app.waitFor("Funnel · window 1d · compare – · breakdown – · where –");
      await app.press("?");
      let f = await app.waitFor("?/esc close");
      assert.ok(!f.includes("Settings:"), "nothing hidden: no settings in the help");
      await app.press(KEYS.esc);
      await addFilters(app, filters);
      f = await app.waitFor((x) => x.includes(" more") && x.includes("No steps yet"));
      let lines = f.split("\n");
      let at = lines.findIndex((l) => l.startsWith("Funnel · "));
      assert.equal(lines[at], `Funnel · window 1d · compare – · breakdown – · where ${filters[0]}`);
      assert.equal(lines[at + 1], `${filters.slice(1, 4).join(", ")} +1 more`);
      assert.equal(lines[at + 2], "No steps yet: press a to add the first step of the funnel.");
      assertFits(f, 80, 24);
      await app.press("?");
      f = await app.waitFor("Settings: Funnel · window 1d");
      assert.ok(f.replace(/\s+/g, " ").includes(filters[4]!));

      await app.press(KEYS.esc);
      await app.waitFor((x) => !x.includes("?/esc close"));
      await app.press("4");
      await app.waitFor("Retention · start button_clicked");
      await addFilters(app, filters.slice(0, 2));
      f = await app.waitFor((x) => x.includes(filters[1]!) && /^Average /m.test(x));
      lines = f.split("\n");
      at = lines.findIndex((l) => l.startsWith("Retention · "));
      // The query state takes the end of the first line.
      assert.match(
        lines[at]!,
        /^Retention · start button_clicked · return any event · 14 days · on(?: +\S.*)?$/,
      );
      assert.equal(lines[at + 1], `cohorts first · where ${filters.slice(0, 2).join(", ")}`);
      assert.match(lines[at + 2]!, /^Cohort\s+Users/);
      assertFits(f, 80, 24);
    } finally {
      app.unmount();
    }
  });

  it("Lifecycle and Paths wrap too; the lifecycle chart keeps its legend and hint line in 24 rows", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      await app.waitFor("button_clicked");
      await app.press("7");
      await app.waitFor("Lifecycle · lifecycle of button_clicked · per day · where –");
      await addFilters(app, filters.slice(0, 3));
      let f = await app.waitFor((x) => x.includes(filters[2]!) && x.includes("█ new  ▓ returning"));
      let lines = f.split("\n");
      let at = lines.findIndex((l) => l.startsWith("Lifecycle · "));
      assert.match(lines[at]!, /^Lifecycle · lifecycle of button_clicked · per day(?: +\S.*)?$/);
      assert.equal(lines[at + 1], `where ${filters.slice(0, 3).join(", ")}`);
      assert.match(lines.at(-2)!, /^←→ values {2}a pick the event/);
      assertFits(f, 80, 24);
      await app.press("6");
      await app.waitFor("Paths · after button_clicked");
      await addFilters(app, filters.slice(0, 2));
      f = await app.waitFor((x) => x.includes(filters[1]!) && /what they did after/.test(x));
      lines = f.split("\n");
      at = lines.findIndex((l) => l.startsWith("Paths · "));
      const both = `${lines[at]}\n${lines[at + 1]}`;
      for (const x of filters.slice(0, 2)) assert.ok(both.includes(x), both);
      assert.ok(!both.includes("more"));
      assertFits(f, 80, 24);
    } finally {
      app.unmount();
    }
  });
});
