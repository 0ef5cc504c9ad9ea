/**
 * Issue #28 in the TUI: the Trends chart draws the notes of `evx annotate` and, with `r`, the first
 * appearance of each value of a key, as marks under the x axis with a legend that fits 80×24; `n`
 * lists them in full.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Executor } from "../../src/queries/executor.js";
import { addNote } from "../../src/views/state/annotations.js";
import { tempDir } from "../helpers/tmp.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

describe("Trends: annotations", () => {
  let c: SmallCache;
  const saved = process.env.XDG_CONFIG_HOME;
  const config = join(tempDir(), "config");
  before(async () => {
    c = await smallCache();
    process.env.XDG_CONFIG_HOME = config;
    addNote("deploy 1.42", "2023-06-05T12:00:00.000Z");
    addNote("before the data", "2023-05-01T00:00:00.000Z");
  });
  after(() => {
    if (saved === undefined) delete process.env.XDG_CONFIG_HOME;
    else process.env.XDG_CONFIG_HOME = saved;
    c.dispose();
  });

  it("marks a note under its day, r adds a key's first values, n lists them all; fits 80×24", async () => {
    const ex = new Executor(c.cache);
    const firsts = (
      await ex.run({
        kind: "trend",
        events: [{ event: "button_clicked", filters: [] }],
        measure: { kind: "events" },
        interval: "day",
        range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
        filters: [],
        limit: 10,
        annotationsFrom: "app_version",
      })
    ).result.annotations!;
    ex.close();
    assert.ok(firsts.length >= 2, "the lake has several versions");
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      let f = await app.waitFor((x) => x.includes("1 06-05 12:00 deploy 1.42") && x.includes("┤"));
      assertFits(f, 80, 24);
      assert.ok(!f.includes("before the data"), "a note outside the range is not drawn");
      let lines = f.split("\n");
      const legendAt = lines.findIndex((l) => l.includes("1 06-05 12:00 deploy 1.42"));
      // The marks' row sits between the x axis and the series legend: one mark, under 06-05.
      const marks = lines[legendAt - 2]!;
      const axis = lines[legendAt - 3]!;
      assert.match(axis, /06-0\d/);
      assert.equal(marks.replace(/[ │]/g, ""), "1", f);
      assert.match(lines[legendAt - 1]!, /── button_clicked/);
      // 14 daily points stretched over the plot: day 5 (06-05) sits 4/13 of the way along.
      const plot = lines.find((l) => l.includes("┤"))!;
      const start = plot.indexOf("┤") + 1;
      const width = 80 - start;
      const col = marks.indexOf("1", start - 1);
      assert.equal(col - start, Math.round((4 * (width - 1)) / 13), `${marks}\n${f}`);

      // The cursor on 06-05 names the note after the values; its ▲ row sits above the x axis.
      await app.press(KEYS.left);
      await app.waitFor("2023-06-14 · button_clicked");
      for (let i = 0; i < 9; i++) await app.press(KEYS.left);
      f = await app.waitFor((x) => /2023-06-05 · button_clicked [\d,]+ · 1 deploy 1\.42/.test(x));
      assertFits(f, 80, 24);
      lines = f.split("\n");
      const li = lines.findIndex((l) => l.includes("1 06-05 12:00 deploy 1.42"));
      assert.equal(lines[li - 2]!.replace(/[ │]/g, ""), "1", f);
      assert.match(lines[li - 4]!, /▲/, f);
      await app.press("r");
      await app.waitFor("Mark where each value of a key first appears");
      await app.press("app_version");
      await app.waitFor("app_version");
      await app.press(KEYS.enter);
      f = await app.waitFor((x) => x.includes("marks app_version") && x.includes("n lists them all"));
      assertFits(f, 80, 24);
      lines = f.split("\n");
      const n = firsts.length + 1;
      assert.ok(
        lines.some((l) => l.includes(`+${n - 1} more · n lists them all`)),
        f,
      );
      assert.ok(
        lines.some((l) => l.startsWith(`1 ${firsts[0]!.at.slice(5, 10)} `)),
        f,
      );

      await app.press("n");
      f = await app.waitFor(`Annotations (${n})`);
      for (const a of firsts.slice(0, 5)) assert.ok(f.includes(`first seen · ${a.text}`), `${a.text}\n${f}`);
      assert.ok(f.includes("note 1 · deploy 1.42"), f);
      assertFits(f, 80, 24);
      await app.press("n");
      await app.waitFor("marks app_version");
    } finally {
      app.unmount();
    }
  });

  it("the funnel's conversion over time marks the note too, with a one-line legend", async () => {
    const app = await renderApp(testSession(c), {
      columns: 80,
      rows: 24,
      props: {
        view: {
          tab: "funnel",
          models: {
            funnel: {
              steps: [
                { event: "application_opened", filters: [] },
                { event: "button_clicked", filters: [] },
              ],
              withinSeconds: 86400,
              filters: [],
              overTime: true,
              interval: "day",
            },
          },
        },
      },
    });
    try {
      const f = await app.waitFor(
        (x) => x.includes("Conversion over time") && x.includes("1 06-05 12:00 deploy 1.42"),
      );
      assertFits(f, 80, 24);
      const lines = f.split("\n");
      const legendAt = lines.findIndex((l) => l.includes("1 06-05 12:00 deploy 1.42"));
      assert.equal(lines[legendAt - 2]!.replace(/[ │]/g, ""), "1", f);
    } finally {
      app.unmount();
    }
  });
});
