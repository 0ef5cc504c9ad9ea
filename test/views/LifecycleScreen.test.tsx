import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Executor } from "../../src/queries/executor.js";
import type { LifecycleResult, StickinessResult } from "../../src/queries/spec.js";
import { formatNumber } from "../../src/render/format.js";
import { lifecycleChart, lifecyclePointText, lifecycleTable } from "../../src/render/insights.js";
import { displayWidth } from "../../src/render/sanitize.js";
import { assertFits, KEYS, renderApp, type SmallCache, smallCache, testSession } from "./fixture.js";

const range = { from: "2023-06-01", to: "2023-06-14", tz: "UTC" };
const event = { event: "button_clicked", filters: [] };

/** The cursor line of a frame: `2023-06-14 · new 1 · returning 2 · resurrecting 3 · dormant -4`. */
function cursorValues(frame: string) {
  const m = /^(\d{4}-\d\d-\d\d) · new (\S+) · returning (\S+) · resurrecting (\S+) · dormant (\S+)/m.exec(
    frame,
  );
  assert.ok(m, `no cursor line in:\n${frame}`);
  const n = (s: string) => Number(s.replace(/,/g, ""));
  return { day: m[1], values: [n(m[2]!), n(m[3]!), n(m[4]!), n(m[5]!)] };
}

describe("Lifecycle screen at 80×24", () => {
  let c: SmallCache;
  let life: LifecycleResult;
  let stick: StickinessResult;
  before(async () => {
    c = await smallCache();
    const ex = new Executor(c.cache);
    life = (await ex.run({ kind: "lifecycle", event, interval: "day", range, filters: [] })).result;
    stick = (await ex.run({ kind: "stickiness", event, interval: "hour", range, filters: [] })).result;
  });
  after(() => c.dispose());

  it("←/→ (h/l) move a cursor over the buckets; the line under the chart shows its four values", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      await app.waitFor("button_clicked");
      await app.press("7");
      let f = await app.waitFor("█ new  ▓ returning");
      assert.doesNotMatch(f, /▲/, "no cursor before ←/→");
      assert.match(f, /^←→ values {2}a pick the event/m);
      // The first press shows the cursor on the newest bucket.
      await app.press(KEYS.left);
      f = await app.waitFor(/^2023-06-14 · new /m);
      const at = (i: number) => {
        const p = life.points[i]!;
        return { day: p.t.slice(0, 10), values: [p.new, p.returning, p.resurrecting, p.dormant] };
      };
      assert.equal(life.points.length, 14);
      assert.deepEqual(cursorValues(f), at(13));
      assertFits(f, 80, 24);
      // The marker sits under the cursor's column: the same column as the 14th bar of the zero line.
      const lines = f.split("\n");
      const zero = lines.find((l) => /^ +0 ┼─+$/.test(l))!;
      const marker = lines.find((l) => /^ +▲$/.test(l))!;
      assert.ok(marker, `no marker row in:\n${f}`);
      const gutter = zero.indexOf("┼") + 1;
      const colW = (zero.length - gutter) / 14;
      assert.equal(marker.indexOf("▲"), gutter + 13 * colW);
      // h three times, then l: the cursor walks back to 06-11 and forward to 06-12.
      await app.press("h", "h", "h");
      f = await app.waitFor(/^2023-06-11 · new /m);
      assert.deepEqual(cursorValues(f), at(10));
      assert.equal(
        f
          .split("\n")
          .find((l) => /^ +▲$/.test(l))!
          .indexOf("▲"),
        gutter + 10 * colW,
        "the marker follows the cursor",
      );
      await app.press(KEYS.right);
      f = await app.waitFor(/^2023-06-12 · new /m);
      assert.deepEqual(cursorValues(f), at(11));
      // It stops at the first bucket.
      await app.press(...Array.from({ length: 15 }, () => KEYS.left));
      f = await app.waitFor(/^2023-06-01 · new /m);
      assert.deepEqual(cursorValues(f), at(0));
      assertFits(f, 80, 24);
    } finally {
      app.unmount();
    }
  });

  it("the stickiness histogram scrolls with ↑/↓ and pgdn when it does not fit, its position shown", async () => {
    const app = await renderApp(testSession(c), { columns: 80, rows: 24 });
    try {
      await app.waitFor("button_clicked");
      await app.press("7");
      await app.waitFor("█ new  ▓ returning");
      await app.press("v");
      await app.waitFor(/^1 day /m);
      // Day → week → hour: 336 hours, far more bars than rows.
      await app.press("i");
      await app.waitFor("per week");
      await app.press("i");
      let f = await app.waitFor((x) => x.includes("per hour") && /^1 hour /m.test(x));
      const n = stick.histogram.length;
      assert.equal(n, 14 * 24);
      const pos = /↑↓ (\d+)-(\d+) of (\d+)/.exec(f);
      assert.ok(pos, `no position in:\n${f}`);
      const shown = Number(pos[2]);
      assert.deepEqual([Number(pos[1]), Number(pos[3])], [1, n]);
      assertFits(f, 80, 24);
      const bar = (count: number) => {
        const h = stick.histogram[count - 1]!;
        return new RegExp(`^${count} hours? +\\S*.* ${formatNumber(h.users)} +\\d+\\.\\d%$`, "m");
      };
      assert.match(f, bar(1));
      assert.match(f, bar(shown));
      assert.doesNotMatch(f, new RegExp(`^${shown + 1} hours `, "m"));
      // The summary line stays on top.
      assert.match(f, /users active on 1\.\.336 hours of the range/);
      await app.press(KEYS.down, "j");
      f = await app.waitFor(`↑↓ 3-${shown + 2} of ${n}`);
      assert.match(f, /^3 hours /m);
      assert.doesNotMatch(f, /^2 hours /m);
      assert.match(f, bar(shown + 2));
      assert.match(f, /users active on 1\.\.336 hours/);
      await app.press("k");
      f = await app.waitFor(`↑↓ 2-${shown + 1} of ${n}`);
      await app.press(KEYS.pgdn);
      f = await app.waitFor(`↑↓ ${shown + 2}-${2 * shown + 1} of ${n}`);
      assert.match(f, bar(2 * shown + 1));
      // It stops at the last bar.
      for (let i = 0; i < 30; i++) await app.press(KEYS.pgdn);
      f = await app.waitFor(`↑↓ ${n - shown + 1}-${n} of ${n}`);
      assert.match(f, bar(n));
      for (const l of f.split("\n")) assert.ok(displayWidth(l) <= 80);
      assertFits(f, 80, 24);
    } finally {
      app.unmount();
    }
  });
});

describe("lifecycle renderings", () => {
  // 200 days: at 80 columns one column per bucket, the latest 75 or so shown.
  const points = Array.from({ length: 200 }, (_, i) => ({
    t: new Date(Date.UTC(2023, 0, 1) + i * 86_400_000).toISOString(),
    new: i % 7,
    returning: 1000 + i,
    resurrecting: i % 3,
    dormant: -(i % 5) * 100,
    ...(i === 199 ? { incomplete: true as const } : {}),
  }));
  const r: LifecycleResult = { interval: "day", points };
  const opts = { width: 80, height: 10, color: false, tz: "UTC" };

  it("the chart shows the cursor's bucket even when it is older than the buckets that fit", () => {
    const marker = (lines: string[]) => lines.find((l) => /^ +▲$/.test(l))!.indexOf("▲");
    const plain = lifecycleChart(r, opts);
    assert.ok(!plain.some((l) => l.includes("▲")));
    const zero = plain.find((l) => /^ +0 ┼─+$/.test(l))!;
    const gutter = zero.indexOf("┼") + 1;
    const fit = zero.length - gutter;
    assert.ok(fit < 200);
    // The newest bucket: the last column; the first bucket: the window starts there (first label).
    assert.equal(marker(lifecycleChart(r, { ...opts, cursor: 199 })), gutter + fit - 1);
    const first = lifecycleChart(r, { ...opts, cursor: 0 });
    assert.equal(marker(first), gutter);
    assert.match(first.at(-2)!, /^ +01-01 /);
    for (const l of first) assert.ok(displayWidth(l) <= 80, l);
  });

  it("the values line and the headless table, dormant negative as in --json", () => {
    assert.equal(
      lifecyclePointText(r, 199, "UTC", 100),
      "2023-07-19 · new 3 · returning 1,199 · resurrecting 1 · dormant -400 · incomplete bucket",
    );
    // Narrower: a shorter note, then `*`, then compact numbers, then cut.
    const short = "2023-07-19 · new 3 · returning 1,199 · resurrecting 1 · dormant -400 · incomplete";
    assert.equal(lifecyclePointText(r, 199, "UTC", displayWidth(short)), short);
    assert.equal(
      lifecyclePointText(r, 199, "UTC", 80),
      "2023-07-19 · new 3 · returning 1,199 · resurrecting 1 · dormant -400 · *",
    );
    assert.equal(
      lifecyclePointText(r, 199, "UTC", 71),
      "2023-07-19 · new 3 · returning 1.2k · resurrecting 1 · dormant -400 · *",
    );
    assert.equal(displayWidth(lifecyclePointText(r, 199, "UTC", 60)), 60);
    const t = lifecycleTable(r, "UTC");
    assert.equal(t.length, 201);
    assert.equal(t[0], "day         new  returning  resurrecting  dormant");
    assert.equal(t[1], "2023-01-01    0      1,000             0        0");
    assert.equal(t[200], "2023-07-19    3      1,199             1     -400 *");
    const weeks = lifecycleTable({ interval: "week", points: points.slice(0, 2) }, "UTC");
    assert.match(weeks[0]!, /^week of +new/);
    const months = lifecycleTable({ interval: "month", points: points.slice(0, 1) }, "UTC");
    assert.match(months[1]!, /^2023-01 +0/);
  });
});
