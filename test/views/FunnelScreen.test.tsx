import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Executor } from "../../src/queries/executor.js";
import type { FunnelResult, FunnelSpec } from "../../src/queries/spec.js";
import { pointsText } from "../../src/render/compare.js";
import { formatNumber } from "../../src/render/format.js";
import { displayWidth } from "../../src/render/sanitize.js";
import { timeToConvertHead } from "../../src/render/ttc.js";
import {
  breakdownTable,
  compareLine,
  funnelBars,
  funnelModesLabel,
  funnelSpec,
} from "../../src/views/screens/FunnelScreen.js";
import { initialModels } from "../../src/views/state/state.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

/** Users of each step row (`1. name ███ 118 100.0% …`, in any order `any 1 of 2 ███ …`) in the frame. */
function stepUsers(frame: string): number[] {
  return [...frame.matchAll(/^[ ›] (?:\d\. \S+|any \d of \d).*?\s([\d,]+)\s+[\d.]+%/gm)].map((m) =>
    Number(m[1]!.replace(/,/g, "")),
  );
}

describe("Funnel screen", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("builds a 3-step funnel with bars, % of start, % from previous and median time", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("3");
      await app.waitFor("No steps yet");
      await app.press("a", "application_o", KEYS.enter, KEYS.enter);
      await app.waitFor("Add a second step");
      await app.press("a", "file_op", KEYS.enter, KEYS.enter);
      await app.press("a", "file_sa", KEYS.enter, KEYS.enter);
      const f = await app.waitFor((x) => /3\. file_saved .*%/.test(x) && !x.includes("…"));
      assert.match(f, /Step\s+Users\s+of start\s+from prev\s+median/);
      assert.match(f, /1\. application_opened .*█.* 100\.0%\s+–\s+–/);
      assert.match(f, /› 3\. file_saved/); // the new step is selected
      const users = stepUsers(f);
      assert.equal(users.length, 3, f);
      assert.ok(users[0]! >= users[1]! && users[1]! >= users[2]!, `non-increasing: ${users}`);
      assert.match(f, /2\. file_opened .*\d+(s|m|h)/); // a median time to convert
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("t shows the time to convert from step 1 to the last: the engine's count, median and bins", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    const ex = new Executor(c.cache);
    try {
      await app.waitFor("button_clicked");
      await app.press(
        "3",
        "a",
        "application_o",
        KEYS.enter,
        KEYS.enter,
        "a",
        "file_sa",
        KEYS.enter,
        KEYS.enter,
      );
      await app.waitFor((x) => /2\. file_saved .*%/.test(x) && !x.includes("…"));
      await app.press("t");
      const f = await app.waitFor((x) => /time to convert, step 1 → 2: [\d,]+ users/.test(x));
      assert.match(f, /· time to convert/);
      const range = await ex.resolveRange();
      const spec: FunnelSpec = {
        ...funnelSpec(
          {
            ...initialModels().funnel,
            steps: [
              { event: "application_opened", filters: [] },
              { event: "file_saved", filters: [] },
            ],
            timeToConvert: true,
          },
          range,
        )!,
      };
      const t = (await ex.run(spec)).result.time_to_convert!;
      assert.ok(t.count > 0);
      assert.ok(f.includes(timeToConvertHead(t)), f);
      // every bin is a bar with its users; the bars add up to the count
      const users = [...f.matchAll(/^\S.* – .*?([\d,]+)\s+[\d.]+%$/gm)].map((m) =>
        Number(m[1]!.replace(/,/g, "")),
      );
      assert.equal(users.length, t.bins.length, f);
      assert.equal(
        users.reduce((a, b) => a + b, 0),
        t.count,
      );
      assertFits(f, 100, 30);
      await app.press("t");
      await app.waitFor((x) => !x.includes("time to convert"));
    } finally {
      ex.close();
      app.unmount();
    }
  });

  it("reorders with J/K, removes with x, sets the window, breakdown and conversion over time", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press(
        "3",
        "a",
        "application_o",
        KEYS.enter,
        KEYS.enter,
        "a",
        "file_op",
        KEYS.enter,
        KEYS.enter,
      );
      await app.press("a", "file_sa", KEYS.enter, "autosave=true", KEYS.enter);
      let f = await app.waitFor((x) => /3\. file_saved\[autosave=true\] .*%/.test(x) && !x.includes("…"));
      await app.press("K");
      f = await app.waitFor(/› 2\. file_saved\[autosave=true\][^\n]*\n {2}3\. file_opened/);
      await app.press("J");
      await app.waitFor(/2\. file_opened[^\n]*\n› 3\. file_saved/);
      await app.press("k", "x");
      f = await app.waitFor((x) => !x.includes("file_opened") && /2\. file_saved/.test(x));
      await app.press("W");
      await app.waitFor("Conversion window (now 1d)");
      await app.press(KEYS.down, KEYS.enter); // from "1 day" to "7 days"
      await app.waitFor("window 7d");
      await app.press("W");
      await app.waitFor("Conversion window (now 7d)");
      await app.press(KEYS.down, KEYS.down, KEYS.down, KEYS.enter); // "Custom…"
      await app.waitFor("e.g. 30m");
      await app.press("90m", KEYS.enter);
      await app.waitFor("window 1h 30m");
      await app.press("b");
      await app.waitFor("Break down application_opened by");
      await app.press("platform", KEYS.enter);
      f = await app.waitFor(
        (x) => x.includes("breakdown platform") && /^platform\s+step 1\s+step 2\s+conv/m.test(x),
      );
      assert.match(f, /^(mac|windows|linux|web|ios)\s+[\d,]+\s+[\d,]+\s+[\d.]+%/m);
      await app.press("v");
      f = await app.waitFor("Conversion over time (per day)");
      assert.match(f, /── conversion %/);
      // i cycles the intervals that give 2–2,000 points over the 14 days: week, 15m, hour, day.
      await app.press("i");
      f = await app.waitFor("Conversion over time (per week)");
      assert.match(f, /over time per week/);
      await app.press("i");
      await app.waitFor("Conversion over time (per 15m)");
      await app.press("i");
      await app.waitFor("Conversion over time (per hour)");
      await app.press("v");
      f = await app.waitFor((x) => !x.includes("over time"));
      await app.press("i"); // turns it back on, at the interval it had
      await app.waitFor("Conversion over time (per hour)");
      await app.press("v");
      f = await app.waitFor((x) => !x.includes("over time"));
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("c compares: Δ of % of start in percentage points beside each step, and the compare period's line", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    const ex = new Executor(c.cache);
    try {
      await app.waitFor("button_clicked");
      await app.press(
        "3",
        "a",
        "application_o",
        KEYS.enter,
        KEYS.enter,
        "a",
        "file_op",
        KEYS.enter,
        KEYS.enter,
      );
      await app.press("a", "file_sa", KEYS.enter, KEYS.enter);
      let f = await app.waitFor((x) => /3\. file_saved .*%/.test(x) && !x.includes("…"));
      assert.match(f, /compare –/);
      assert.doesNotMatch(f, /vs compare|Δ/);
      // The 14 days before the lake are not in the cache at all: the note says so, and no step shows a
      // change against the zeros of a period nobody cached (issue #22).
      await app.press("c");
      f = await app.waitFor(
        (x) =>
          x.includes("compare previous 14d") &&
          x.includes("! no data for the compare period (−14d): it reaches outside the cached data"),
      );
      assert.doesNotMatch(f, /vs compare|Δ/);
      assert.doesNotMatch(f, /^\s+compare period \(−14d\): /m, "no line of zeros for it");
      await app.press("c", "c");
      f = await app.waitFor(
        (x) =>
          x.includes("compare 1w before") && x.includes("compare period (−7d)") && !x.includes("updating"),
      );
      // 05-25..05-31 of that week are before the lake: the Δs stand, with the note beside them.
      assert.match(f, /! compare period \(−7d\) partly cached: it reaches outside the cached data/);
      const spec: FunnelSpec = {
        kind: "funnel",
        steps: ["application_opened", "file_opened", "file_saved"].map((event) => ({ event, filters: [] })),
        withinSeconds: 86400,
        range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
        filters: [],
        limit: 10,
        compare: "1w",
      };
      const { result } = await ex.run(spec);
      const before = result.compare!.steps;
      assert.ok(before[0]!.users > 0);
      for (const i of [1, 2]) {
        const text = pointsText(result.steps[i], before[i]);
        assert.match(text, /^Δ [+−]\d+\.\dpp$/);
        assert.match(f, new RegExp(`${i + 1}\\. \\S+ .*${text.replace("+", "\\+")}$`, "m"));
      }
      assert.ok(f.includes(compareLine(result)!), f);
      assert.match(
        compareLine(result)!,
        new RegExp(`: ${before[0]!.users} entered, ${before[2]!.users} converted \\(\\d+\\.\\d%\\)$`),
      );
      assertFits(f, 100, 30);
      await app.press("c");
      f = await app.waitFor((x) => x.includes("compare –") && !x.includes("compare period"));
      assert.doesNotMatch(f, /Δ/);
    } finally {
      app.unmount();
      ex.close();
    }
  });

  it("o cycles the order, X adds an exclusion with its step range, H holds a key, V sums one: the engine's numbers", async () => {
    const app = await renderApp(testSession(c), { columns: 130, rows: 30 });
    const ex = new Executor(c.cache);
    const base: FunnelSpec = {
      kind: "funnel",
      steps: ["file_opened", "file_saved"].map((event) => ({ event, filters: [] })),
      withinSeconds: 86400,
      range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
      filters: [],
      limit: 10,
    };
    // Settled: the steps have their numbers (a step still running shows "…").
    const settled = (x: string) =>
      /2\. file_saved .*%/.test(x) && !/\d\. \S+ .*…/.test(x) && !x.includes("updating");
    const usersOf = async (spec: FunnelSpec) => (await ex.run(spec)).result.steps.map((s) => s.users);
    try {
      await app.waitFor("button_clicked");
      await app.press("3", "a", "file_op", KEYS.enter, KEYS.enter, "a", "file_sa", KEYS.enter, KEYS.enter);
      let f = await app.waitFor((x) => settled(x) && !x.includes("order "));
      assert.deepEqual(stepUsers(f), await usersOf(base));
      await app.press("o");
      f = await app.waitFor((x) => settled(x) && x.includes("order strict"));
      const strict = await usersOf({ ...base, order: "strict" });
      assert.deepEqual(stepUsers(f), strict);
      assert.ok(strict[1]! < (await usersOf(base))[1]!, "strict converts fewer than ordered");
      await app.press("o");
      // In any order the rows read `any k of K`.
      f = await app.waitFor((x) => /› any 2 of 2 .*%/.test(x) && !x.includes("…") && !x.includes("updating"));
      assert.deepEqual(stepUsers(f), await usersOf({ ...base, order: "any" }));
      await app.press("o");
      await app.waitFor((x) => settled(x) && !x.includes("order "));

      await app.press("X");
      await app.waitFor("Exclude attempts with this event between steps");
      await app.press("error_sh", KEYS.enter, KEYS.enter);
      await app.waitFor("Between which steps?");
      await app.press("2-3", KEYS.enter);
      await app.waitFor("needs 1 ≤ A < B ≤ 2");
      await app.press(KEYS.backspace, KEYS.backspace, KEYS.backspace, KEYS.enter);
      f = await app.waitFor((x) => settled(x) && x.includes("excluding error_shown@1-2"));
      const exclude = [{ event: { event: "error_shown", filters: [] }, from: 1, to: 2 }];
      assert.deepEqual(stepUsers(f), await usersOf({ ...base, exclude }));

      await app.press("H");
      await app.waitFor(
        (x) => x.includes("Hold constant across the steps") && x.includes("file_name  string"),
      );
      await app.press("file_na", KEYS.enter);
      f = await app.waitFor((x) => settled(x) && x.includes("hold file_name"));
      assert.deepEqual(stepUsers(f), await usersOf({ ...base, exclude, hold: "file_name" }));

      await app.press("V");
      await app.waitFor("Sum per step (value)");
      await app.press("size_kb", KEYS.enter);
      f = await app.waitFor((x) => settled(x) && x.includes("value size_kb") && x.includes("value Σ"));
      const { result } = await ex.run({ ...base, exclude, hold: "file_name", value: "size_kb" });
      assert.deepEqual(
        stepUsers(f),
        result.steps.map((s) => s.users),
      );
      const sum = result.steps[1]!.value!.sum;
      assert.ok(sum > 0);
      assert.match(
        f,
        new RegExp(`2\\. file_saved .*\\s${formatNumber(sum).replace(/[.]/g, "\\.")}\\s*$`, "m"),
      );
      assertFits(f, 130, 30);
      await app.press("Z");
      await app.waitFor((x) => settled(x) && !x.includes("excluding"));
    } finally {
      app.unmount();
      ex.close();
    }
  });

  it("removing a step re-checks the exclusions: X error_shown@1-3, then x on step 3 (issue #22)", async () => {
    const app = await renderApp(testSession(c), { columns: 130, rows: 30 });
    const ex = new Executor(c.cache);
    const steps = ["application_opened", "file_opened", "file_saved"].map((event) => ({
      event,
      filters: [],
    }));
    const base: FunnelSpec = {
      kind: "funnel",
      steps,
      withinSeconds: 86400,
      range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
      filters: [],
      limit: 10,
    };
    const settled = (x: string) =>
      /\d\. \S+ .*%/.test(x) && !/\d\. \S+ .*…/.test(x) && !x.includes("updating");
    const usersOf = async (spec: FunnelSpec) => (await ex.run(spec)).result.steps.map((s) => s.users);
    const error = { event: "error_shown", filters: [] };
    try {
      await app.waitFor("button_clicked");
      await app.press(
        "3",
        "a",
        "application_o",
        KEYS.enter,
        KEYS.enter,
        "a",
        "file_op",
        KEYS.enter,
        KEYS.enter,
      );
      await app.press("a", "file_sa", KEYS.enter, KEYS.enter);
      await app.waitFor((x) => settled(x) && x.includes("3. file_saved"));
      await app.press("X", "error_sh", KEYS.enter, KEYS.enter);
      await app.waitFor("Between which steps?");
      await app.press(KEYS.enter); // empty: 1-3
      let f = await app.waitFor((x) => settled(x) && x.includes("excluding error_shown@1-3"));
      assert.deepEqual(stepUsers(f), await usersOf({ ...base, exclude: [{ event: error, from: 1, to: 3 }] }));
      await app.press("x"); // the new step 3 is selected
      f = await app.waitFor((x) => settled(x) && !x.includes("3. file_saved"));
      assert.match(f, /exclusion error_shown@1-3 is now @1-2/);
      assert.match(f, /excluding error_shown@1-2/);
      assert.doesNotMatch(f, /@1-3 ·/);
      const two = { ...base, steps: steps.slice(0, 2) };
      const want = await usersOf({ ...two, exclude: [{ event: error, from: 1, to: 2 }] });
      assert.notDeepEqual(want, await usersOf(two), "the exclusion changes the numbers here");
      assert.deepEqual(stepUsers(f), want);
      // Down to one step: the range cannot stay, and the line says so.
      await app.press("x");
      f = await app.waitFor((x) => x.includes("Add a second step"));
      assert.match(f, /exclusion error_shown@1-2 dropped/);
      assert.doesNotMatch(f, /excluding/);
    } finally {
      app.unmount();
      ex.close();
    }
  });

  it("H lists the keys of every step, V only the keys with numbers (size_kb is on step 2 only)", async () => {
    const app = await renderApp(testSession(c), { columns: 120, rows: 30 });
    const ex = new Executor(c.cache);
    try {
      await app.waitFor("button_clicked");
      await app.press("3", "a", "file_op", KEYS.enter, KEYS.enter, "a", "file_sa", KEYS.enter, KEYS.enter);
      await app.waitFor((x) => /2\. file_saved .*%/.test(x) && !x.includes("…"));
      // file_opened has file_name and source (text); file_saved has file_name, size_kb and autosave.
      await app.press("H");
      let f = await app.waitFor((x) => x.includes("Hold constant across the steps") && x.includes("size_kb"));
      for (const key of ["file_name", "source", "size_kb", "autosave"])
        assert.match(f, new RegExp(`^\\W*${key}\\s`, "m"));
      await app.press(KEYS.esc);
      await app.press("V");
      f = await app.waitFor((x) => x.includes("Sum per step (value)") && x.includes("size_kb"));
      assert.match(f, /^\W*size_kb\s+number in [\d,]+ events/m);
      for (const key of ["file_name", "source", "autosave"])
        assert.doesNotMatch(f, new RegExp(`^\\W*${key}\\s`, "m"));
      // The count is the engine's: file_saved events with a size_kb.
      const props = (
        await ex.run({
          kind: "props",
          event: "file_saved",
          range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
          topValues: 0,
        })
      ).result.props;
      const sizes = props.find((p) => p.key === "size_kb")!.events;
      assert.match(f, new RegExp(`size_kb\\s+number in ${formatNumber(sizes)} events`));
      await app.press("size", KEYS.enter);
      await app.waitFor((x) => x.includes("value size_kb") && x.includes("value Σ"));
    } finally {
      app.unmount();
      ex.close();
    }
  });

  it("a step edit re-checks hold and value against the new steps' keys, dropping them with a note", async () => {
    const app = await renderApp(testSession(c), { columns: 130, rows: 30 });
    const settled = (x: string) =>
      /\d\. \S+ .*%/.test(x) && !/\d\. \S+ .*…/.test(x) && !x.includes("updating");
    try {
      await app.waitFor("button_clicked");
      await app.press(
        "3",
        "a",
        "application_o",
        KEYS.enter,
        KEYS.enter,
        "a",
        "file_op",
        KEYS.enter,
        KEYS.enter,
      );
      await app.press("a", "file_sa", KEYS.enter, KEYS.enter);
      await app.waitFor((x) => settled(x) && x.includes("3. file_saved"));
      await app.press("H", "source"); // on file_opened only
      await app.waitFor(/source\s+string/);
      await app.press(KEYS.enter);
      await app.waitFor((x) => settled(x) && x.includes("hold source"));
      await app.press("V", "size"); // on file_saved only
      await app.waitFor(/size_kb\s+number in/);
      await app.press(KEYS.enter);
      await app.waitFor((x) => settled(x) && x.includes("value size_kb") && x.includes("value Σ"));
      await app.press("x"); // removes file_saved: no step has a size_kb any more
      // The note shows at once and for 5 s; the re-run may take longer on a loaded machine, so the
      // note and the settled numbers are awaited apart.
      await app.waitFor("value size_kb dropped");
      let f = await app.waitFor((x) => settled(x) && !x.includes("3. file_saved"));
      assert.match(f, /hold source/);
      assert.doesNotMatch(f, /value size_kb ·|value Σ/);
      await app.press("x"); // removes file_opened (now selected): no step has a source
      f = await app.waitFor((x) => x.includes("hold source dropped: no step has it"));
      assert.doesNotMatch(f, /hold source ·/);
    } finally {
      app.unmount();
    }
  });

  it("in any order the rows read `any k of K` and the header names the steps once", async () => {
    const app = await renderApp(testSession(c), { columns: 120, rows: 30 });
    const ex = new Executor(c.cache);
    const settled = (x: string) => /any 2 of 2 .*%/.test(x) && !x.includes("…") && !x.includes("updating");
    try {
      await app.waitFor("button_clicked");
      await app.press("3", "a", "file_op", KEYS.enter, KEYS.enter, "a", "file_sa", KEYS.enter, KEYS.enter);
      await app.waitFor((x) => /2\. file_saved .*%/.test(x) && !x.includes("…"));
      await app.press("o", "o");
      const f = await app.waitFor((x) => settled(x) && x.includes("order any"));
      assert.match(f, /^ {2}In any order: 1\. file_opened · 2\. file_saved\s+Users/m);
      assert.match(f, /^ {2}any 1 of 2 /m);
      assert.match(f, /^› any 2 of 2 /m);
      assert.doesNotMatch(f, /\d\. file_saved .*%/);
      const { result } = await ex.run({
        kind: "funnel",
        steps: ["file_opened", "file_saved"].map((event) => ({ event, filters: [] })),
        withinSeconds: 86400,
        range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
        filters: [],
        limit: 10,
        order: "any",
      });
      assert.deepEqual(
        [...f.matchAll(/any \d of 2 .*?\s([\d,]+)\s+[\d.]+%/g)].map((m) => Number(m[1]!.replace(/,/g, ""))),
        result.steps.map((s) => s.users),
      );
      assertFits(f, 120, 30);
      // Its users: those who did any 2 of the 2 steps, as many as the row.
      await app.press(KEYS.enter);
      const list = await app.waitFor((x) => x.includes("did any 2 of 2 steps") && /[\d,]+ users/.test(x));
      assert.doesNotMatch(list, /reached step 2/);
      await app.press(KEYS.tab);
      await app.waitFor("did any 1 of 2 steps, not 2");
    } finally {
      app.unmount();
      ex.close();
    }
  });

  it("the settings line names the modes of the spec that runs, never a setting it left out", () => {
    const m = initialModels().funnel;
    const range = { from: "2023-06-01", to: "2023-06-28", tz: "UTC" };
    const err = { event: { event: "err", filters: [] }, from: 1, to: 3 };
    // A model holding a range past its steps (not reachable through step edits any more).
    const model = {
      ...m,
      steps: [
        { event: "a", filters: [] },
        { event: "b", filters: [] },
      ],
      exclude: [err],
    };
    const spec = funnelSpec(model, range)!;
    assert.equal(spec.exclude, undefined);
    assert.equal(funnelModesLabel(spec, model), "");
    const ok = { ...model, exclude: [{ ...err, to: 2 }], hold: "plan" };
    assert.equal(funnelModesLabel(funnelSpec(ok, range)!, ok), "excluding err@1-2 · hold plan");
    const any = { ...ok, order: "any" as const, value: "price" };
    assert.equal(
      funnelModesLabel(funnelSpec(any, range)!, any),
      "order any · excluding err@1-2 (off: any order) · hold plan · value price (off: any order)",
    );
  });

  it("needs two steps for a query and lays out bars and breakdowns to the width", () => {
    const m = initialModels().funnel;
    const range = { from: "2023-06-01", to: "2023-06-28", tz: "UTC" };
    assert.equal(funnelSpec({ ...m, steps: [{ event: "a", filters: [] }] }, range), null);
    const spec = funnelSpec(
      {
        ...m,
        steps: [
          { event: "a", filters: [] },
          { event: "b", filters: [] },
        ],
        overTime: true,
        interval: "week",
      },
      range,
    )!;
    assert.equal(spec.trendInterval, "week");
    assert.equal(spec.withinSeconds, 86400);
    const r: FunnelResult = {
      within_seconds: 86400,
      order: "ordered",
      exclude: [],
      hold: null,
      steps: [
        { step: "a", users: 200, conversion: 1, from_previous: 1, median_seconds: null },
        { step: "b", users: 50, conversion: 0.25, from_previous: 0.25, median_seconds: 90 },
      ],
      breakdown: [
        {
          value: "mac",
          steps: [
            { step: "a", users: 100, conversion: 1, from_previous: 1, median_seconds: null },
            { step: "b", users: 40, conversion: 0.4, from_previous: 0.4, median_seconds: 60 },
          ],
        },
      ],
    };
    const { header, rows } = funnelBars(["a", "b"], r, 70, false, false);
    assert.match(header, /Users\s+of start\s+from prev\s+median$/);
    assert.match(rows[1]!, /2\. b\s+█+.*\s+50\s+25\.0%\s+25\.0%\s+1m 30s$/);
    for (const l of [header, ...rows]) assert.ok(l.length <= 70, l);
    // With compare: Δ in percentage points (blank for step 1, n/a when the compare step has nobody).
    const withCompare: FunnelResult = {
      ...r,
      compare: {
        offset_seconds: 604800,
        steps: [
          { step: "a", users: 100, conversion: 1, from_previous: 1, median_seconds: null },
          { step: "b", users: 21, conversion: 0.21, from_previous: 0.21, median_seconds: 80 },
        ],
      },
    };
    const cmp = funnelBars(["a", "b"], withCompare, 90, false, false);
    assert.match(cmp.header, /median\s+vs compare$/);
    assert.match(cmp.rows[0]!, /100\.0%\s+–\s+–\s*$/);
    assert.match(cmp.rows[1]!, /1m 30s\s+Δ \+4\.0pp$/);
    for (const l of [cmp.header, ...cmp.rows]) assert.ok(l.length <= 90, l);
    assert.equal(compareLine(withCompare), "compare period (−7d): 100 entered, 21 converted (21.0%)");
    assert.equal(compareLine(r), null);
    const none = { ...withCompare.compare!.steps[1]!, users: 0, conversion: 0 };
    assert.equal(pointsText(r.steps[1], none), "Δ n/a");
    assert.equal(pointsText({ ...r.steps[1]!, conversion: 0.1 }, withCompare.compare!.steps[1]), "Δ −11.0pp");
    assert.deepEqual(breakdownTable(r, "platform", 60), [
      "platform                    step 1    step 2    conv",
      "mac                            100        40   40.0%",
    ]);
  });

  it("a breakdown table wider or longer than the room scrolls: step columns (value column frozen) and rows", () => {
    const K = 9;
    const step = (i: number, users: number) => ({
      step: `s${i}`,
      users,
      conversion: 1,
      from_previous: 1,
      median_seconds: null,
    });
    const steps = Array.from({ length: K }, (_, i) => step(i, 100 - i));
    const r: FunnelResult = {
      within_seconds: 86400,
      order: "ordered",
      exclude: [],
      hold: null,
      steps,
      breakdown: Array.from({ length: 12 }, (_, v) => ({
        value: `plan-${v}`,
        steps: Array.from({ length: K }, (_, i) => step(i, 1000 * (v + 1) + i)),
      })),
    };
    const at0 = breakdownTable(r, "plan", 80, 0, 0, 6);
    for (const l of at0) assert.ok(displayWidth(l) <= 80, l);
    assert.match(at0[0]!, /^plan\s+step 1\s+step 2\s.*…$/); // more columns to the right
    assert.doesNotMatch(at0[0]!, /step 9/);
    assert.equal(at0.length, 7); // header, 5 rows, the position line
    assert.equal(at0.at(-1), "values 1-5 of 12 (pgup/pgdn)");
    // Scrolled to the last step: the value column stays, step 9 and conv show.
    const at8 = breakdownTable(r, "plan", 80, 8, 10, 6);
    assert.match(at8[0]!, /^‹ plan\s+step 9\s+conv$/);
    assert.match(at8[1]!, /^plan-7\s+8,008\s+\d+\.\d%$/);
    assert.equal(at8.at(-1), "values 8-12 of 12 (pgup/pgdn)");
  });
});
