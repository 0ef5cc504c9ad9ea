import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Executor } from "../../src/queries/executor.js";
import type { RetentionSpec } from "../../src/queries/spec.js";
import { cellText, MAX_PERIODS, periodsOf, retentionSpec } from "../../src/views/screens/RetentionScreen.js";
import { initialModels } from "../../src/views/state/state.js";
import {
  assertFits,
  KEYS,
  renderApp,
  type SmallCache,
  smallCache,
  testSession,
  typeRange,
} from "./fixture.js";

describe("Retention screen", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("shows a shaded cohort grid with incomplete cells marked and the average chart beneath", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 34 });
    try {
      await app.waitFor("button_clicked");
      await app.press("4");
      const f = await app.waitFor(
        (x) => /^Average\s+[\d,]+\s+█ 100%/m.test(x) && x.includes("── average retention %"),
      );
      assert.match(f, /start button_clicked · return any event · 14 days · on/);
      assert.match(f, /^Cohort\s+Users\s+D0\s+D1\s+D2/m);
      assert.match(f, /^06-01\s+[\d,]+\s+█ 100%/m);
      // Without colour cells are shaded with block characters; late cells are incomplete (`*`).
      assert.match(f, /[░▒▓█]\s*\d+(\.\d)?%/);
      assert.match(f, /\d%\*/);
      assert.match(f, /^06-14\s+[\d,]+\s+█ 100%\*/m); // every cohort fits at 34 rows
      assert.match(f, /\* period not complete yet$/m);
      assert.match(f, /D0\s+D1\s+D2.*\n.*── average retention %/s);
      assertFits(f, 100, 34);
    } finally {
      app.unmount();
    }
  });

  it("b breaks the cohorts down by a START property; v cycles the values' tables, as the engine gives them", async () => {
    const app = await renderApp(testSession(c), { columns: 110, rows: 34 });
    const ex = new Executor(c.cache);
    try {
      await app.waitFor("button_clicked");
      await app.press("4");
      await app.waitFor(/^Average\s+[\d,]+\s+█ 100%/m);
      await app.press("b");
      await app.waitFor("Break the cohorts down by a property of the START event");
      await app.press("button_name", KEYS.enter);
      let f = await app.waitFor(/breakdown button_name: whole \(\d+ values\)/);
      const result = (
        await ex.run({
          kind: "retention",
          start: { event: "button_clicked", filters: [] },
          return: { event: "*", filters: [] },
          period: "day",
          periods: 14,
          mode: "on",
          range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
          filters: [],
          breakdown: "button_name",
        })
      ).result;
      const groups = result.breakdown!;
      assert.ok(groups.length >= 2);
      const avgUsers = (frame: string) => Number(/^Average\s+([\d,]+)/m.exec(frame)![1]!.replace(/,/g, ""));
      const users = (cs: { users: number }[]) => cs.reduce((a, x) => a + x.users, 0);
      assert.equal(avgUsers(f), users(result.cohorts));
      for (const [i, g] of groups.entries()) {
        await app.press("v");
        f = await app.waitFor(`breakdown button_name: ${g.value} (${i + 1} of ${groups.length})`);
        assert.equal(avgUsers(f), users(g.cohorts), g.value);
        assertFits(f, 110, 34);
      }
      // Enter on a value's table refuses: the drill-down lists the whole table's users
      await app.press(KEYS.enter);
      await app.waitFor("Enter lists the whole table's users");
      await app.press("v");
      await app.waitFor(/breakdown button_name: whole/);
    } finally {
      ex.close();
      app.unmount();
    }
  });

  it("leaves the periods after the current one blank, and the cell line says they have not begun", async () => {
    const app = await renderApp(testSession(c), { columns: 130, rows: 34 });
    const ex = new Executor(c.cache);
    try {
      await app.waitFor("button_clicked");
      await app.press("4");
      const f = await app.waitFor(/^06-14\s+[\d,]+\s+█ 100%\*/m);
      const result = (
        await ex.run({
          kind: "retention",
          start: { event: "button_clicked", filters: [] },
          return: { event: "*", filters: [] },
          period: "day",
          periods: 14,
          mode: "on",
          range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
          filters: [],
        })
      ).result;
      let future = 0;
      for (const cohort of result.cohorts) {
        if (!(cohort.users > 0)) continue;
        const row = f.split("\n").find((l) => l.startsWith(cohort.cohort.slice(5, 10)))!;
        assert.ok(row, cohort.cohort);
        const cells = row.match(/\d+(\.\d)?%\*?/g) ?? [];
        const known = cohort.incomplete_from === null ? 14 : cohort.incomplete_from + 1;
        future += 14 - known;
        assert.equal(cells.length, known, row);
        assert.ok(!cells.slice(0, -1).some((x) => x.endsWith("*")), row);
      }
      assert.ok(future > 0);
      // The cursor on 06-14 D1, a period after the last event.
      await app.press(..."jjjjjjjjjjjjj".split(""), "l");
      await app.waitFor(/^06-14 D1: not begun yet · \*/m);
      assertFits(await app.waitFor("not begun yet"), 130, 34);
    } finally {
      app.unmount();
      ex.close();
    }
  });

  it("p cycles the period, n sets periods, o toggles the mode, a/r pick events, arrows move through cohorts", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("4");
      let f = await app.waitFor(/^06-01\s/m);
      // The arrows move the cell cursor; the cohorts scroll to keep it in sight (12 of 14 fit).
      await app.press("j", "j");
      f = await app.waitFor(/^06-03 D0: [\d,]+ of [\d,]+ retained \(100\.0%\) · (D0-D9 of 14 \(←→\) · )?\*/m);
      assert.match(f, /^06-01\s/m);
      await app.press(..."jjjjjjjjjjj".split(""));
      f = await app.waitFor((x) => !/^06-01\s/m.test(x) && /^06-03\s/m.test(x) && /^06-14 D0:/m.test(x));
      await app.press("o");
      await app.waitFor("14 days · on-or-after");
      await app.press("p");
      f = await app.waitFor((x) => x.includes("8 weeks · on-or-after") && /^W\d\d 0[56]-\d\d\s/m.test(x));
      assert.match(f, /W0\s+W1/);
      await app.press("n");
      await app.waitFor("Number of weeks to follow");
      await app.press(KEYS.backspace, "0", KEYS.enter);
      await app.waitFor("a whole number from 1 to 104");
      await app.press(KEYS.backspace, "3", KEYS.enter);
      f = await app.waitFor((x) => x.includes("3 weeks") && /W0\s+W1\s+W2\s*$/m.test(x));
      await app.press("a");
      await app.waitFor("Start event (defines the cohorts)");
      await app.press("signed", KEYS.enter, KEYS.enter);
      await app.waitFor("start signed_up");
      await app.press("r");
      await app.waitFor("Return event (* = any event)");
      await app.press("purch", KEYS.enter, KEYS.enter);
      f = await app.waitFor((x) => x.includes("return purchase") && /^Average\s/m.test(x));
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("c toggles recurring cohorts and V sums a property per cell: the selected cell is the engine's", async () => {
    const app = await renderApp(testSession(c), { columns: 110, rows: 30 });
    const ex = new Executor(c.cache);
    const spec: RetentionSpec = {
      kind: "retention",
      start: { event: "button_clicked", filters: [] },
      return: { event: "*", filters: [] },
      period: "day",
      periods: 14,
      mode: "on",
      range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
      filters: [],
    };
    try {
      await app.waitFor("button_clicked");
      await app.press("4");
      await app.waitFor((x) => /^06-01 D0: /m.test(x) && x.includes("cohorts first"));
      await app.press("j", "l");
      await app.press("c");
      const recurring = (await ex.run({ ...spec, cohort: "recurring" })).result;
      const cell = cellText(recurring, 1, 1, "UTC");
      let f = await app.waitFor((x) => x.includes("cohorts recurring") && x.includes(cell));
      const first = (await ex.run(spec)).result;
      assert.ok(
        recurring.cohorts[1]!.users > first.cohorts[1]!.users,
        "recurring cohorts hold returning users too",
      );
      await app.press("V");
      await app.waitFor("Sum per cell over the RETURN events (value)");
      await app.press("size_kb", KEYS.enter);
      const valued = (await ex.run({ ...spec, cohort: "recurring", value: "size_kb" })).result;
      const withValue = cellText(valued, 1, 1, "UTC");
      assert.match(withValue, /value Σ [1-9]/);
      f = await app.waitFor((x) => x.includes("value size_kb") && x.includes(withValue));
      assertFits(f, 110, 30);
      const back = cellText((await ex.run({ ...spec, value: "size_kb" })).result, 1, 1, "UTC");
      await app.press("c");
      await app.waitFor((x) => x.includes("cohorts first") && x.includes(back));
    } finally {
      app.unmount();
      ex.close();
    }
  });

  it("p reaches hourly cohorts, and a range too long for them moves to days", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("4");
      await app.waitFor("14 days · on");
      await app.press("p", "p");
      await app.waitFor((x) => x.includes("6 months · on") && /^2023-06\s/m.test(x));
      await app.press("p");
      let f = await app.waitFor((x) => x.includes("24 hours · on") && /^06-01 \d\d:00\s+[\d,]+/m.test(x));
      assert.match(f, /H0\s+H1\s+H2/);
      assert.match(f, /cohorts 1-\d+ of 336/); // 14 days of hourly cohorts
      await app.press("n");
      await app.waitFor("Number of hours to follow");
      await app.press(KEYS.backspace, KEYS.backspace, "200", KEYS.enter);
      await app.waitFor("a whole number from 1 to 168");
      await app.press(KEYS.esc);
      // Three hours: three hourly cohorts.
      await typeRange(app, "2023-06-05T09:00..2023-06-05T12:00");
      f = await app.waitFor(
        (x) => x.includes("24 hours") && /^06-05 11:00\s/m.test(x) && !x.includes("updating"),
      );
      assert.doesNotMatch(f, /^06-05 12:00\s/m);
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("drops the chart on short terminals and period columns on narrow ones", async () => {
    const app = await renderApp(testSession(c), { columns: 60, rows: 16 });
    try {
      await app.waitFor("button_clicked");
      await app.press("4");
      const f = await app.waitFor(/^Average\s/m);
      assert.ok(!f.includes("average retention %"), f);
      assert.match(f, /\+\d+$/m); // hidden period columns are counted in the header
      assertFits(f, 60, 16);
    } finally {
      app.unmount();
    }
  });

  it("scrolls the periods at 80×24 with the cohort column frozen: every period can be reached and drilled", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    const ex = new Executor(c.cache);
    try {
      await app.waitFor("button_clicked");
      await app.press("4");
      let f = await app.waitFor(/^Average\s/m);
      const header = (frame: string) =>
        frame.split("\n").find((l) => /^(Cohort|‹\+\d+)\s+Users\s+D\d/.test(l))!;
      assert.match(header(f), /^Cohort\s+Users\s+D0\s/);
      assert.match(header(f), /\+\d+$/); // periods to the right are counted
      assert.match(f, /D0-D\d+ of 14 \(←→\)/);
      // → to the last period: the grid scrolls, the cohort and users columns stay.
      await app.press(..."lllllllllllll".split(""));
      f = await app.waitFor(/^06-01 D13: /m);
      assert.match(header(f), /^‹\+\d+\s+Users\s.*\sD13$/);
      assert.ok(!/\sD0\s/.test(header(f)), header(f));
      assert.match(f, /^06-01\s+[\d,]+\s/m); // the cohort column is still there
      assert.match(f, /D\d+-D13 of 14 \(←→\)/);
      assertFits(f, 80, 24);
      // The cell line is the engine's number for that cell.
      const result = (
        await ex.run({
          kind: "retention",
          start: { event: "button_clicked", filters: [] },
          return: { event: "*", filters: [] },
          period: "day",
          periods: 14,
          mode: "on",
          range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
          filters: [],
        })
      ).result;
      assert.ok(f.includes(cellText(result, 0, 13, "UTC")), f);
      // Enter drills into that period's cell.
      await app.press(KEYS.enter);
      f = await app.waitFor(/Users · cohort 06-01 · D13 · retained/);
      await app.waitFor(new RegExp(`${result.cohorts[0]!.retained[13]} users?`));
      await app.press(KEYS.esc);
      await app.waitFor(/^06-01 D13: /m);
      // home goes back to D0, and the grid with it.
      await app.press(KEYS.home);
      f = await app.waitFor(/^06-01 D0: /m);
      assert.match(header(f), /^Cohort\s+Users\s+D0\s/);
    } finally {
      app.unmount();
      ex.close();
    }
  });

  it("defaults the number of periods by period", () => {
    const m = { ...initialModels().retention, start: { event: "a", filters: [] } };
    assert.equal(periodsOf(m), 14);
    assert.equal(periodsOf({ ...m, period: "week" }), 8);
    assert.equal(periodsOf({ ...m, period: "month", periods: 3 }), 3);
    assert.equal(periodsOf({ ...m, period: "hour" }), 24);
    assert.equal(MAX_PERIODS.hour, 168);
    const spec = retentionSpec(m, { from: "2023-06-01", to: "2023-06-02", tz: "UTC" })!;
    assert.deepEqual(spec.return, { event: "*", filters: [] });
    assert.equal(
      retentionSpec({ ...m, start: undefined }, { from: "2023-06-01", to: "2023-06-02", tz: "UTC" }),
      null,
    );
  });
});
