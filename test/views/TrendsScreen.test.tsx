import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Executor } from "../../src/queries/executor.js";
import { formatMeasure } from "../../src/queries/parse.js";
import type { PropsResult, TrendResult, TrendSpec } from "../../src/queries/spec.js";
import { changeText } from "../../src/render/compare.js";
import {
  cursorLine,
  measureCycle,
  nextMeasure,
  seriesLabel,
  trendLines,
  trendTable,
} from "../../src/views/screens/TrendsScreen.js";
import {
  assertFits,
  KEYS,
  renderApp,
  type SmallCache,
  smallCache,
  testSession,
  typeRange,
} from "./fixture.js";

/** The x-axis row of a chart (the line after the last plot row). */
const axisRow = (frame: string) => frame.split("\n").find((l) => /^\s+\d\d-\d\d \d\d:\d\d/.test(l)) ?? "";

describe("Trends screen", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("charts the top event by default, with legend and x-axis labels, fitted to the width", async () => {
    const app = await renderApp(testSession(c), { columns: 90, rows: 26 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      const f = await app.waitFor((x) => x.includes("── button_clicked") && x.includes("┤"));
      assert.match(f, /Events:\s+1 button_clicked/);
      assert.match(f, /events per day · compare – · breakdown – · where –/);
      assert.match(f, /06-01\s+06-0\d/); // x-axis labels
      assertFits(f, 90, 26);
    } finally {
      app.unmount();
    }
  });

  it("hourly buckets wider than the chart: the line reaches the axis top, which is the busiest hour", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    const ex = new Executor(c.cache);
    try {
      const hourly = (
        await ex.run({
          kind: "trend",
          events: [{ event: "button_clicked", filters: [] }],
          measure: { kind: "events" },
          interval: "hour",
          range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
          filters: [],
          limit: 10,
        })
      ).result.series[0]!.points.map((p) => p.value);
      assert.ok(hourly.length > 300, "more points than the chart has columns");
      await app.waitFor("button_clicked");
      await app.press("2");
      await app.waitFor("events per day");
      for (const iv of ["week", "15m", "hour"]) {
        await app.press("i");
        await app.waitFor(`events per ${iv} ·`);
      }
      const f = await app.waitFor(
        (x) => x.includes("events per hour ·") && x.includes("┤") && !x.includes("updating"),
      );
      const top = f.split("\n").find((l) => l.includes("┤"))!;
      const [label, plot] = top.split("┤");
      assert.equal(Number(label), Math.max(...hourly), top);
      assert.match(plot!, /\S/, `the busiest hour is drawn on the top row:\n${f}`);
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
      ex.close();
    }
  });

  it("m cycles the measure, i the interval, t toggles a table of the same numbers", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      await app.waitFor("── button_clicked");
      await app.press("m");
      await app.waitFor("users per day");
      await app.press("m");
      await app.waitFor("per-user per day");
      await app.press("m"); // back to events (button_clicked has no numeric property)
      await app.waitFor("events per day");
      await app.press("i");
      await app.waitFor("events per week");
      await app.press("t");
      let f = await app.waitFor((x) => x.includes("Bucket") && /^W\d\d /m.test(x) && !x.includes("updating"));
      assert.match(f, /^Total\s+[\d,]+/m);
      const total = Number(/^Total\s+([\d,]+)/m.exec(f)![1]!.replace(/,/g, ""));
      const weeks = [...f.matchAll(/^W\d\d \d\d-\d\d\s+([\d,]+)/gm)].map((m) =>
        Number(m[1]!.replace(/,/g, "")),
      );
      assert.ok(weeks.length >= 2, f);
      assert.equal(
        weeks.reduce((a, b) => a + b, 0),
        total,
      );
      await app.press("t");
      f = await app.waitFor((x) => !x.includes("Bucket") && x.includes("┤"));
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("adds an event with a, breaks down by a picked key, adds and clears filters, removes with x", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      await app.waitFor("── button_clicked");
      await app.press("a");
      await app.waitFor("Add an event to the chart");
      await app.press("zoom");
      await app.waitFor((x) => x.includes("filter: zoom") && !x.includes("button_clicked"));
      await app.press(KEYS.enter);
      await app.waitFor("Filter on zoom");
      await app.press("level>=1", KEYS.enter);
      // Without colour the second series is drawn with its own marker.
      let f = await app.waitFor("** zoom[level>=1]");
      assert.match(f, /2 zoom\[level>=1\]/);
      // The new event is selected: break it down by a key from its properties.
      await app.press("b");
      await app.waitFor("direction");
      await app.press("dir", KEYS.enter);
      f = await app.waitFor(
        (x) => x.includes("breakdown direction") && /zoom\[level>=1\] · (in|out)/.test(x),
      );
      await app.press("f");
      await app.waitFor("Add a filter");
      await app.press("bad filter", KEYS.enter);
      await app.waitFor("expected an operator");
      await app.press(KEYS.backspace.repeat(10), "direction=in", KEYS.enter);
      await app.waitFor("where direction=in");
      await app.press("F");
      await app.waitFor("where –");
      await app.press("x");
      f = await app.waitFor((x) => !x.includes("zoom[level>=1]") && x.includes("── "));
      assert.match(f, /Events:\s+1 button_clicked/);
    } finally {
      app.unmount();
    }
  });

  it("c cycles compare (previous, 1d, 1w, off): each series gets a dimmed compare series and Δ% in the legend", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    const ex = new Executor(c.cache);
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      await app.waitFor("── button_clicked");
      await app.press("c");
      // The 14 days before the cached range are not in the cache: no change, a note, and no dimmed
      // series of zeros (issue #22).
      let f = await app.waitFor(
        (x) =>
          x.includes("compare previous 14d") &&
          x.includes("! no data for the compare period (−14d): it reaches outside the cached data") &&
          x.includes("┤"),
      );
      assert.match(f, /── button_clicked Δ n\/a/);
      assert.doesNotMatch(f, /\.\. button_clicked \(−14d\)/);
      assert.ok(
        f
          .split("\n")
          // The chart's rows (the y-axis ┤; the status bar's │ may show a running query's "0.5s").
          .filter((l) => /┤/.test(l))
          .every((l) => !/┤.*\./.test(l)),
        f,
      );
      await app.press("c");
      f = await app.waitFor((x) => x.includes("compare 1d before") && x.includes(".. button_clicked (−1d)"));
      // 05-31 is before the lake: the compare period is partly cached, and the note says so.
      assert.match(f, /! compare period \(−1d\) partly cached: it reaches outside the cached data/);
      await app.press("c");
      f = await app.waitFor(
        (x) =>
          x.includes("compare 1w before") && x.includes(".. button_clicked (−7d)") && !x.includes("updating"),
      );
      // The Δ in the legend is the engine's change of the total against the week before.
      const spec: TrendSpec = {
        kind: "trend",
        events: [{ event: "button_clicked", filters: [] }],
        measure: { kind: "events" },
        interval: "day",
        range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
        filters: [],
        limit: 10,
        compare: "1w",
      };
      const { result } = await ex.run(spec);
      const change = result.series[0]!.compare!.change;
      assert.ok(change !== null && change > 0, `the week before holds fewer events: ${change}`);
      assert.ok(f.includes(`── button_clicked ${changeText(change)}`), f);
      assert.match(changeText(change), /^Δ \+\d+\.\d%$/);
      // Without colour the compare series is drawn in dots, under the current one.
      const plot = f.split("\n").filter((l) => /[┤│]/.test(l));
      assert.ok(
        plot.some((l) => /[┤│].*\./.test(l)),
        f,
      );
      assertFits(f, 100, 30);
      // The table gives the compare column beside each series and the change of the totals.
      await app.press("t");
      f = await app.waitFor((x) => /^Bucket\s+button_clicked\s+button_clicked \(−7d\)/m.test(x));
      assert.match(f, new RegExp(`^Total\\s+[\\d,]+\\s+${result.series[0]!.compare!.total}\\b`, "m"));
      assert.match(f, /^Change\s+Δ \+\d+\.\d%$/m);
      await app.press("t", "c");
      f = await app.waitFor(
        (x) => x.includes("compare –") && x.includes("── button_clicked") && !x.includes("(−"),
      );
      assert.doesNotMatch(f, /Δ/);
    } finally {
      app.unmount();
      ex.close();
    }
  });

  it("i offers only intervals with 2–2,000 points: minute buckets on a few hours, none of them on 14 days", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      await app.waitFor("events per day");
      // 14 days: month (1 point), minute (20,160) and 5m (4,032) are skipped.
      for (const iv of ["week", "15m", "hour", "day"]) {
        await app.press("i");
        await app.waitFor(`events per ${iv} ·`);
      }
      // Three hours: a day is one point, so the chart moves to the nearest interval that fits.
      await typeRange(app, "2023-06-05T09:00..2023-06-05T12:00");
      let f = await app.waitFor(
        (x) => x.includes("events per hour ·") && x.includes("2023-06-05 09:00 → 2023-06-05 12:00"),
      );
      await app.press("i");
      f = await app.waitFor((x) => x.includes("events per minute ·") && !x.includes("updating"));
      // Minute labels along the axis, in the range.
      const labels = [...axisRow(f).matchAll(/06-05 (\d\d):(\d\d)/g)].map(
        (m) => Number(m[1]) * 60 + Number(m[2]),
      );
      assert.ok(labels.length >= 2, f);
      assert.ok(
        labels.every((t) => t >= 9 * 60 && t < 12 * 60),
        axisRow(f),
      );
      assert.ok(labels.some((t) => t % 5 !== 0) || labels[1]! - labels[0]! < 15, axisRow(f));
      await app.press("t");
      f = await app.waitFor((x) => /^06-05 09:01\s+[\d,]+/m.test(x));
      assert.match(f, /^06-05 09:00\s+[\d,]+/m);
      await app.press("t");
      for (const iv of ["5m", "15m", "hour", "minute"]) {
        await app.press("i");
        await app.waitFor(`events per ${iv} ·`);
      }
      // Back to the whole range: minutes no longer fit, the nearest interval that does is 15m.
      await app.press("d");
      await app.waitFor("All data");
      await app.press(KEYS.enter);
      f = await app.waitFor((x) => x.includes("events per 15m ·") && x.includes("2023-06-01 → 2023-06-14"));
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("measure cycle offers sum, avg and p95 of numeric keys", () => {
    const props: PropsResult = {
      event: "purchase",
      events: 10,
      props: [
        { key: "revenue", type: "number", events: 10, presence: 1, top: [] },
        { key: "currency", type: "string", events: 10, presence: 1, top: [] },
      ],
    };
    assert.deepEqual(measureCycle(props).map(formatMeasure), [
      "events",
      "users",
      "per-user",
      "sum:revenue",
      "avg:revenue",
      "p95:revenue",
    ]);
    assert.deepEqual(nextMeasure({ kind: "avg", key: "revenue" }, props), {
      kind: "stat",
      stat: "p95",
      key: "revenue",
    });
    assert.deepEqual(nextMeasure({ kind: "stat", stat: "p95", key: "revenue" }, props), { kind: "events" });
    assert.deepEqual(nextMeasure({ kind: "sum", key: "gone" }, undefined), { kind: "events" });
  });

  it("labels and tables series", () => {
    const r: TrendResult = {
      interval: "day",
      measure: "events",
      series: [
        { event: "a", breakdown: "x", total: 3, points: [{ t: "2023-06-01T00:00:00.000Z", value: 3 }] },
        { event: "a", breakdown: "(none)", total: 1, points: [{ t: "2023-06-01T00:00:00.000Z", value: 1 }] },
      ],
    };
    assert.equal(seriesLabel(r.series[0]!, r), "x");
    const t = trendTable(r, 60);
    assert.match(t.header, /^Bucket\s+x\s+\(none\)$/);
    assert.match(t.total, /^Total\s+3\s+1$/);
    assert.deepEqual(t.rows.length, 1);
    assert.equal(t.change, null);
  });

  it("draws compare series dimmed in their series' colour, and tables them with the change", () => {
    const pts = (vs: number[]) => vs.map((value, i) => ({ t: `2023-06-0${i + 1}T00:00:00.000Z`, value }));
    const r: TrendResult = {
      interval: "day",
      measure: "events",
      series: [
        {
          event: "a",
          breakdown: null,
          total: 6,
          points: pts([1, 2, 3]),
          compare: { offset_seconds: 86400, points: pts([2, 2, 0]), total: 4, change: 0.5 },
        },
        {
          event: "b",
          breakdown: null,
          total: 1,
          points: pts([0, 1, 0]),
          compare: { offset_seconds: 86400, points: pts([0, 0, 0]), total: 0, change: null },
        },
      ],
    };
    const lines = trendLines(r);
    assert.deepEqual(
      lines.map((l) => [l.label, l.dim ?? false, l.colorIndex ?? null]),
      [
        ["a Δ +50.0%", false, null],
        ["b Δ n/a", false, null],
        ["a (−1d)", true, 0],
        ["b (−1d)", true, 1],
      ],
    );
    assert.deepEqual(lines[2]!.values, [2, 2, 0]);
    const t = trendTable(r, 120);
    assert.match(t.header, /^Bucket\s+a\s+a \(−1d\)\s+b\s+b \(−1d\)$/);
    assert.match(t.total, /^Total\s+6\s+4\s+1\s+0$/);
    assert.match(t.change!, /^Change\s+Δ \+50\.0%\s+Δ n\/a$/);
    assert.match(t.rows[0]!, /^06-01\s+1\s+2\s+0\s+0$/);
  });

  it("partial data: incomplete points flagged to the chart, marked in the table and the cursor line; no compare line, column or value when none of its period is cached", () => {
    const pts = (vs: number[], incomplete: number[] = []) =>
      vs.map((value, i) => ({
        t: `2023-06-0${i + 1}T00:00:00.000Z`,
        value,
        ...(incomplete.includes(i) ? { incomplete: true as const } : {}),
      }));
    const cov = {
      partitions_in_range: 1,
      partitions_synced: 0,
      missing: ["2023-05-31"],
      failed: [],
      rejected_lines: 0,
      last_event: null,
    };
    const r: TrendResult = {
      interval: "day",
      measure: "events",
      series: [
        {
          event: "a",
          breakdown: null,
          total: 6,
          points: pts([1, 2, 3], [2]),
          compare: {
            offset_seconds: 86400,
            points: pts([2, 2, 0], [0]),
            total: 4,
            change: 0.5,
            cached: "partly",
            coverage: cov,
          },
        },
        {
          event: "b",
          breakdown: null,
          total: 1,
          points: pts([0, 1, 0], [2]),
          compare: {
            offset_seconds: 86400,
            points: pts([0, 0, 0], [0, 1, 2]),
            total: 0,
            change: null,
            cached: "none",
            coverage: cov,
          },
        },
      ],
    };
    const lines = trendLines(r);
    assert.deepEqual(
      lines.map((l) => [l.label, l.dim ?? false, l.incomplete]),
      [
        ["a Δ +50.0%", false, [false, false, true]],
        ["b Δ n/a", false, [false, false, true]],
        ["a (−1d)", true, [true, false, false]],
      ],
    );
    const t = trendTable(r, 120);
    assert.match(t.header, /^Bucket\s+a\s+a \(−1d\)\s+b$/);
    assert.match(t.rows[0]!, /^06-01\s+1\s+2\*\s+0$/);
    assert.match(t.rows[2]!, /^06-03\s+3\*\s+0\s+0\*$/);
    assert.equal(cursorLine(r, 2, "UTC"), "2023-06-03 · a 3 (−1d 0) · b 0 · incomplete bucket");
    assert.equal(cursorLine(r, 0, "UTC"), "2023-06-01 · a 1 (−1d 2) · b 0");
  });
});
