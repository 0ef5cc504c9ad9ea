/** Issue #28: the command palette (`:`) lists the keymap's actions live on screen and runs one by name. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Binding, KEYMAP, keyEvent, matches, resolve, type Scope } from "../../src/views/keymap.js";
import { paletteActions } from "../../src/views/state/palette.js";
import { TABS } from "../../src/views/state/state.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

const TITLES = TABS.map((t) => t.title);
const labels = (live: [Scope, string[]][], current = 1) =>
  paletteActions(new Map(live.map(([s, off]) => [s, new Set(off)])), TITLES, current).map((a) => a.label);
/** The list rows of an open palette, in order (the marker `›` on the chosen one). */
const rows = (frame: string) =>
  frame
    .split("\n")
    .map((l) => /^│ ([› ]) (.*?)\s{2,}(\S.*?)\s*│$/.exec(l))
    .filter((m) => m !== null)
    .map((m) => ({ chosen: m![1] === "›", label: m![2]!.trim(), keys: m![3]! }));

describe("command palette", () => {
  it("sends each binding's key as Ink reports it, and that key triggers the binding", () => {
    for (const b of KEYMAP as readonly Binding[]) {
      for (const name of b.keys) {
        const ev = keyEvent(name);
        if (name === "1-7") assert.equal(ev, undefined);
        else assert.ok(ev && matches(b.id as never, ...ev), `${b.id}: ${name}`);
      }
    }
    // A screen's key reaches its own binding, not a global one.
    assert.equal(resolve("trends", ...keyEvent("i")!)?.id, "trends.interval");
    assert.equal(resolve("trends", ...keyEvent(":")!)?.id, "palette");
  });

  it("lists the live scopes' actions (panel, screen, global), without movement, the palette or what would do nothing", () => {
    const trends = labels([
      ["trends", ["trends.clearFilters"]],
      ["global", ["history.back"]],
    ]);
    assert.ok(trends.includes("Change interval"));
    assert.ok(trends.indexOf("Change interval") < trends.indexOf("Quit"), "the screen's actions first");
    for (const gone of [
      "Clear filters",
      "Back to the screen before",
      "Select next event",
      "Run an action by name",
    ])
      assert.ok(!trends.includes(gone), gone);
    // Not another screen's, and 1-7 is one action per other tab.
    assert.ok(!trends.includes("Filter event names"));
    assert.ok(!trends.includes("Go to Trends"));
    assert.ok(trends.includes("Go to Events") && trends.includes("Go to Lifecycle"));
    const goto = paletteActions(new Map([["global", new Set<string>()]]), TITLES, 0).find(
      (a) => a.label === "Go to Funnel",
    )!;
    assert.equal(goto.keys, "3");
    assert.ok(matches("tab.goto", ...goto.press));
    // A drill-down panel takes tab, esc and y before the global bindings: those go.
    const drill = labels([
      ["drill", ["drill.search"]],
      ["global", []],
    ]);
    assert.ok(drill.includes("Open timeline / event") && drill.includes("Copy the user id"));
    assert.ok(drill.includes("Back / close the panel"));
    for (const gone of [
      "Next tab",
      "Cancel query/sync, close",
      "Copy as an evx command",
      "Search the timeline",
    ])
      assert.ok(!drill.includes(gone), gone);
    assert.ok(drill.includes("Previous tab") && drill.includes("Show the SQL"));
  });

  describe("in the TUI", () => {
    let c: SmallCache;
    before(async () => {
      c = await smallCache();
    });
    after(() => c.dispose());

    it(": opens it at 80×24 with the screen's actions and their keys; esc closes it", async () => {
      const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
      try {
        await app.waitFor("purchase");
        await app.press(":");
        const f = await app.waitFor("Run an action · Events");
        assertFits(f, 80, 24);
        const list = rows(f);
        assert.deepEqual(list[0], { chosen: true, label: "Filter event names", keys: "/" });
        assert.deepEqual(list[1], { chosen: false, label: "Open event in Trends", keys: "enter" });
        const names = list.map((r) => r.label);
        assert.ok(names.includes("Go to Trends") && !names.includes("Go to Events"), f);
        assert.ok(!names.includes("Move down") && !names.includes("Change measure"), f);
        // No views file here (`w` and `'` would only say so), no history yet.
        assert.ok(!names.includes("Save view under a name") && !names.includes("Open a saved view"), f);
        assert.ok(!names.includes("Back to the screen before") && !names.includes("Forward again"), f);
        assert.match(f, /type to find · enter run · esc close/);
        await app.press(KEYS.esc);
        const back = await app.waitFor((x) => !x.includes("Run an action") && x.includes("purchase"));
        assert.doesNotMatch(back, /Trends ·|events per day/, "esc only closed the palette");
      } finally {
        app.unmount();
      }
    });

    it("typing filters fuzzily, best first; enter runs the action as its key: switch tab, interval, compare, back", async () => {
      const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
      try {
        await app.waitFor("purchase");
        await app.press(":");
        await app.waitFor("Run an action · Events");
        await app.press("trends");
        let f = await app.waitFor("filter: trends▏");
        assert.deepEqual(rows(f)[0], { chosen: true, label: "Go to Trends", keys: "2" });
        await app.press(KEYS.enter);
        await app.waitFor((x) => x.includes("events per day") && x.includes("── button_clicked"));

        await app.press(":");
        f = await app.waitFor("Run an action · Trends");
        assertFits(f, 80, 24);
        await app.press("chg intv");
        f = await app.waitFor("filter: chg intv▏");
        assert.deepEqual(rows(f)[0], { chosen: true, label: "Change interval", keys: "i" });
        await app.press(KEYS.enter);
        await app.waitFor("events per week");
        assert.doesNotMatch(app.lastFrame(), /Run an action/);

        await app.press(":", "cmpr");
        f = await app.waitFor("filter: cmpr▏");
        assert.equal(rows(f)[0]!.label, "Compare: prev/1d/1w/off");
        await app.press(KEYS.enter);
        await app.waitFor("compare previous");

        // A global action, through the same history as `[`: back to the weekly chart without compare.
        await app.press(":", "back");
        f = await app.waitFor("filter: back▏");
        assert.equal(rows(f)[0]!.label, "Back to the screen before");
        await app.press(KEYS.enter);
        await app.waitFor((x) => x.includes("events per week · compare –"));
      } finally {
        app.unmount();
      }
    });

    it("saved views: open is offered once there is one, save runs its prompt", async () => {
      const path = join(c.dir, "palette-config", "views.json");
      const app = await renderApp(testSession(c), { columns: 80, rows: 24, props: { viewsPath: path } });
      try {
        await app.waitFor("purchase");
        await app.press(":", "view");
        let f = await app.waitFor("filter: view▏");
        let names = rows(f).map((r) => r.label);
        assert.equal(names[0], "Save view under a name");
        assert.ok(!names.includes("Open a saved view"), f);
        await app.press(KEYS.enter);
        await app.waitFor("Save this view as");
        await app.press("by palette", KEYS.enter);
        await app.waitFor("saved view by palette");
        await app.press(":", "view");
        f = await app.waitFor("filter: view▏");
        names = rows(f).map((r) => r.label);
        assert.ok(names.includes("Open a saved view"), f);
      } finally {
        app.unmount();
      }
    });

    it("over a drill-down list it offers the panel's actions, and its esc closes the panel", async () => {
      const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
      try {
        await app.waitFor("purchase");
        await app.press("2");
        await app.waitFor((x) => x.includes("events per day") && x.includes("── button_clicked"));
        await app.press("u");
        await app.waitFor("Users ·");
        await app.press(":");
        const f = await app.waitFor("Run an action · Trends");
        const names = rows(f).map((r) => r.label);
        assert.ok(names.includes("Back / close the panel"), f);
        assert.ok(!names.includes("Change interval") && !names.includes("Next tab"), f);
        await app.press("close pan");
        await app.waitFor((x) => rows(x)[0]?.label === "Back / close the panel");
        await app.press(KEYS.enter);
        await app.waitFor((x) => !x.includes("Users ·") && x.includes("── button_clicked"));
      } finally {
        app.unmount();
      }
    });
  });
});
