/** Issue #28: fuzzy matching in every picker, best match first, matched letters highlighted. */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { fuzzyFilter, fuzzyMatch } from "../../src/views/widgets/fuzzy.js";
import { KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

const labels = (items: string[], q: string) =>
  fuzzyFilter(
    items.map((label) => ({ label })),
    q,
  ).map((m) => m.item.label);

describe("fuzzy matching", () => {
  it("finds letters in order, word starts first; best match first", () => {
    assert.deepEqual(fuzzyMatch("app_op", "application_opened")?.positions, [0, 1, 2, 11, 12, 13]);
    assert.equal(fuzzyMatch("xyz", "application_opened"), null);
    assert.equal(fuzzyMatch("APOP", "application_opened") !== null, true);
    const events = ["application_closed", "application_opened", "button_clicked", "file_opened", "zoom"];
    assert.deepEqual(labels(events, "app_op"), ["application_opened"]);
    assert.deepEqual(
      labels(events, "op"),
      ["file_opened", "application_opened"].sort((a, b) => a.length - b.length),
    );
    assert.equal(labels(events, "ao")[0], "application_opened");
    assert.equal(labels(events, "bc")[0], "button_clicked");
    assert.deepEqual(labels(events, ""), events);
    // A word-start match beats a scattered one.
    assert.deepEqual(labels(["misuse", "sign_up"], "su"), ["sign_up", "misuse"]);
  });

  describe("in the TUI", () => {
    let c: SmallCache;
    before(async () => {
      c = await smallCache();
    });
    after(() => c.dispose());

    it("the event picker and the Events filter match fuzzily, matched letters highlighted", async () => {
      const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
      try {
        await app.waitFor("purchase");
        await app.press("/", "app_op");
        let f = await app.waitFor((x) => x.includes("/app_op▏") && x.includes("application_opened"));
        assert.ok(!f.includes("application_closed"), f);
        await app.press(KEYS.esc);
        await app.waitFor("button_clicked");
        await app.press("2");
        const plain = (x: string) => x.replace(/\x1b\[[0-9;]*m/g, "");
        await app.waitFor((x) => plain(x).includes("Events:"));
        await app.press("a");
        await app.waitFor((x) => plain(x).includes("filter:"));
        await app.press("flop");
        f = await app.waitFor(
          (x) => /filter: flop/.test(x) && /› file_opened/.test(x.replace(/\x1b\[[0-9;]*m/g, "")),
        );
        // The letters the picker highlights (bold yellow; the test renderer drops colours).
        assert.deepEqual(fuzzyMatch("flop", "file_opened")?.positions, [0, 2, 5, 6]);
        await app.press(KEYS.enter);
        await app.waitFor((x) => /Add a filter|file_opened/.test(plain(x)));
      } finally {
        app.unmount();
      }
    });
  });
});
