/**
 * Issue #28, back and forward: backspace (or `[`) goes back through the screens — a tab change, a
 * re-anchored path, a changed setting — and `]` forward again; Enter on a paths node is no one-way trip.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

describe("back and forward", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("re-anchoring a path, then back and forward; tabs and settings are steps too", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("purchase");
      await app.press("6");
      let f = await app.waitFor(/of all · 1\//);
      // Down to a node of another event: Enter re-anchors on it.
      let row = 1;
      const nodeAt = (x: string) =>
        new RegExp(`^(.+?): [\\d,]+ users, .* of all · ${row}/`, "m").exec(x)?.[1]?.split(" → ").at(-1);
      for (;;) {
        await app.press(KEYS.down);
        row++;
        f = await app.waitFor((x) => nodeAt(x) !== undefined);
        const name = nodeAt(f)!;
        if (name !== "button_clicked" && !name.startsWith("(")) break;
      }
      await app.press(KEYS.enter);
      f = await app.waitFor((x) => /^Paths · after (?!button_clicked)\S+ ·/m.test(x));
      const anchor = /^Paths · after (\S+) ·/m.exec(f)![1]!;
      await app.press(KEYS.backspace);
      f = await app.waitFor(/^Paths · after button_clicked ·/m);
      // The cursor came back to the node it was on.
      assert.match(f, new RegExp(`of all · ${row}/`));
      await app.press("]");
      await app.waitFor(new RegExp(`^Paths · after ${anchor} ·`, "m"));
      await app.press("[");
      await app.waitFor(/^Paths · after button_clicked ·/m);
      // Back again: the Events tab, where it started.
      await app.press("[");
      await app.waitFor("9 event types");
      await app.press("[");
      await app.waitFor("no earlier screen");
      // A new step drops the forward ones.
      await app.press("2");
      await app.waitFor("── button_clicked");
      await app.press("]");
      await app.waitFor("no later screen");
      await app.press("c");
      await app.waitFor(/compare previous/);
      await app.press(KEYS.backspace);
      await app.waitFor(/compare –/);
    } finally {
      app.unmount();
    }
  });
});
