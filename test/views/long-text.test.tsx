/**
 * Long texts at 80×24 (issue #28): nothing cut with `…` is out of reach. Enter on a timeline line opens
 * that event in full (each property on its own line, long values wrapped, control characters stripped),
 * in a panel that scrolls; `z` shows the selected row (an event name, a user id, a paths node) and the
 * last status message whole.
 */
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { sync } from "../../src/cache/sync.js";
import { folderSource } from "../../src/source/folder.js";
import { fullText } from "../../src/views/App.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

const NAME = "checkout_payment_method_selected_by_returning_customer";
const USER = `user-${"0123456789abcdef".repeat(5)}`;
const NOTE = `start ${"lorem ipsum dolor ".repeat(12)}\x1b[2J\x07 end-of-note`;

describe("long texts at 80×24", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
    const events = [0, 1].map((i) =>
      JSON.stringify({
        event_type: NAME,
        event_time: `2023-06-14T10:0${i}:00Z`,
        user_id: USER,
        event_properties: { note: NOTE, step: i },
      }),
    );
    writeFileSync(join(c.lake, "date=2023-06-14", "long.jsonl"), `${events.join("\n")}\n`);
    await sync(c.cache, folderSource(c.lake));
  });
  after(() => c.dispose());

  it("z shows the selected event's whole name; Enter on a timeline line shows the event in full", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      await app.waitFor("button_clicked");
      await app.press("/", "chkout", KEYS.enter);
      let f = await app.waitFor(/^checkout_payment\S*…/m); // cut in the table
      assert.ok(!f.includes(NAME));
      await app.press("z");
      f = await app.waitFor("In full");
      assert.ok(f.includes(NAME), f);
      assert.match(f, /2 events · 1 users/);
      assertFits(f, 80, 24);
      await app.press(KEYS.esc);
      await app.waitFor((x) => !x.includes("In full"));
      // Trends on the event, the cursor on the last day, its users, the user's timeline.
      await app.press(KEYS.enter);
      await app.waitFor(`── ${NAME}`);
      await app.press(KEYS.left, "u");
      f = await app.waitFor(/1 user\b/);
      // The user id is cut in the list; z shows it whole.
      await app.press("z");
      f = await app.waitFor("In full");
      assert.ok(f.replace(/│|\s/g, "").includes(`user${USER}`), f);
      await app.press(KEYS.esc);
      await app.press(KEYS.enter);
      f = await app.waitFor((x) => x.includes(`Timeline of ${USER.slice(0, 20)}`) && x.includes("10:01:00"));
      assert.ok(!f.includes("end-of-note"), "the line is cut at 80 columns");
      await app.press("j", KEYS.enter);
      f = await app.waitFor(/Event 2 of 2/);
      assert.match(f, /time 2023-06-14 10:01:00/);
      assert.match(f, /step = 1/);
      assertFits(f, 80, 24);
      // The note, wrapped over lines, ends with its last word; the escape and bell are gone.
      const text = f
        .split("\n")
        .map((l) => l.replace(/^│ ?|\s*│$/g, "").trim())
        .join(" ");
      assert.ok(text.includes("end-of-note"), f);
      assert.ok(!/\x1b|\x07/.test(f));
      await app.press(KEYS.esc);
      await app.waitFor(/Timeline of /);
      // →/← scroll the timeline's lines: the end of the long line comes into view.
      f = await app.waitFor(/←→ columns 1-80 of \d+/);
      let presses = 0;
      while (!app.lastFrame().includes("end-of-note") && presses++ < 12) {
        await app.press("l");
        await app.waitFor(/←→ columns \d+-/);
      }
      f = app.lastFrame();
      assert.ok(f.includes("end-of-note"), f);
      assert.match(f, /^‹/m);
      assertFits(f, 80, 24);
      for (let i = 0; i < presses; i++) await app.press("h");
      await app.waitFor(/←→ columns 1-80 of/);
      // z on the timeline: the selected line whole.
      await app.press("z");
      f = await app.waitFor("In full");
      assert.ok(f.replace(/│|\s/g, "").includes("end-of-note"), f);
      await app.press(KEYS.esc, KEYS.esc, KEYS.esc);
    } finally {
      app.unmount();
    }
  });

  it("fullText: each part whole under its heading, nothing when there is nothing", () => {
    assert.equal(fullText("", null, null), "");
    assert.equal(
      fullText("zoom → file_saved: 4 users", "saved", "live · next in 5s", [
        "trend failed: boom",
        "! partial",
      ]),
      "Selected\nzoom → file_saved: 4 users\n\nMessage\nsaved\n\nLive mode\nlive · next in 5s\n\nStatus\ntrend failed: boom\n! partial",
    );
  });

  it("z shows the last message whole after it left the status bar", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      await app.waitFor("button_clicked");
      await app.press("6");
      await app.waitFor(/^├─ /m);
      await app.press("Z"); // no time limit set: a message says so
      await app.waitFor((x) => x.split("\n").at(-1)!.length > 0);
      await app.press("z");
      const f = await app.waitFor("In full");
      assert.match(f, /Selected/);
      assertFits(f, 80, 24);
    } finally {
      app.unmount();
    }
  });
});
