/**
 * Issue #28, saved views: `w` saves the screen under a name (its tab and settings, the range), `'`
 * lists and opens one, quitting records where the TUI was left (per cache) and a new App opens there;
 * `evx view list|show|rm` read the same readable JSON file (bin/evx: build first).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { readViews, settingsOf, viewsPath } from "../../src/views/state/views.js";
import { KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

const BIN = fileURLToPath(new URL("../../bin/evx", import.meta.url));

describe("saved views", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("w saves, ' opens, q records where the TUI was left and it reopens there", async () => {
    const path = join(c.dir, "config", "evx", "views.json");
    const app = await renderApp(testSession(c), { columns: 100, rows: 30, props: { viewsPath: path } });
    try {
      await app.waitFor("purchase");
      await app.press("2");
      await app.waitFor("── button_clicked");
      await app.press("t", "c");
      await app.waitFor(/compare previous/);
      await app.press("w");
      await app.waitFor("Save this view as");
      await app.press("clicks vs before", KEYS.enter);
      await app.waitFor("saved view clicks vs before");
      const file = JSON.parse(readFileSync(path, "utf8"));
      // Private to the user, like the annotations file and the cache.
      assert.equal(statSync(path).mode & 0o777, 0o600);
      assert.equal(statSync(join(c.dir, "config", "evx")).mode & 0o777, 0o700);
      assert.deepEqual(file.views["clicks vs before"], {
        tab: "trends",
        models: {
          trends: {
            events: [{ event: "button_clicked", filters: [] }],
            measure: { kind: "events" },
            interval: "day",
            compare: "previous",
            filters: [],
            table: true,
          },
        },
      });
      // Elsewhere, with other settings: ' brings the view back.
      await app.press("c", "c", "c");
      await app.waitFor(/compare –/);
      await app.press("1");
      await app.waitFor("9 event types");
      await app.press("'");
      await app.waitFor("Saved views");
      await app.press("clicks", KEYS.enter);
      await app.waitFor((f) => /compare previous/.test(f) && /Total\s+1,946/.test(f));
      await app.press("q");
      await app.waitFor(() => app.quitCalls === 1);
    } finally {
      app.unmount();
    }
    const last = readViews(path).last?.[c.path];
    assert.equal(last?.tab, "trends");
    assert.equal(last?.models.trends?.compare, "previous");
    assert.ok(last?.models.paths && last.models.funnel, "every tab's settings");
    const again = await renderApp(testSession(c), {
      columns: 100,
      rows: 30,
      props: { view: last, viewsPath: path },
    });
    try {
      await again.waitFor((f) => /compare previous/.test(f) && /Total\s+1,946/.test(f));
    } finally {
      again.unmount();
    }
  });

  it("a relative range stays relative; positions are not settings", () => {
    assert.deepEqual(settingsOf("paths", { top: 5, cursor: 3, scroll: 1, folded: ["x"], depth: 2 }), {
      top: 5,
      depth: 2,
    });
    assert.deepEqual(settingsOf("retention", { top: 5, row: 1, col: 2, period: "day" }), { period: "day" });
    assert.equal(viewsPath({ XDG_CONFIG_HOME: "/x" }), "/x/evx/views.json");
  });

  it("evx view list | show | rm", () => {
    const env = { ...process.env, XDG_CONFIG_HOME: join(c.dir, "config") };
    const evx = (...args: string[]) => spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", env });
    let r = evx("view", "list");
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^clicks vs before {2}trends · button_clicked · all data$/m);
    r = evx("view", "show", "clicks vs before");
    assert.equal(JSON.parse(r.stdout).models.trends.compare, "previous");
    r = evx("view", "show", "nope");
    assert.equal(r.status, 2);
    assert.match(r.stderr, /no saved view "nope"; saved: clicks vs before/);
    r = evx("view", "rm", "clicks vs before");
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(Object.keys(readViews(join(c.dir, "config", "evx", "views.json")).views), []);
  });
});
