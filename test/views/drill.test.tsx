/**
 * Drill-down panels: from a funnel step, a retention cell or a trend point to the users behind the
 * number (their total is that number), from a user to their timeline (scroll, `/` search), and `e`
 * exporting either list. The numbers are checked against the engine run on the same specs.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { Executor } from "../../src/queries/executor.js";
import type { TimelineSpec, TrendSpec } from "../../src/queries/spec.js";
import { folderSource } from "../../src/source/folder.js";
import { writeLakeFiles } from "../../src/source/synthetic.js";
import { filterLines, timelineLine } from "../../src/views/screens/DrillPanel.js";
import { cellSpan, shownPeriods } from "../../src/views/screens/RetentionScreen.js";
import { cursorColumn } from "../../src/views/screens/TrendsScreen.js";
import { sessionFor } from "../../src/views/state/session.js";
import {
  assertFits,
  type Driven,
  KEYS,
  renderApp,
  type SmallCache,
  smallCache,
  testSession,
} from "./fixture.js";

const num = (s: string) => Number(s.replace(/,/g, ""));

/** Users of each step row (`1. name ███ 118 100.0% …`) in the frame. */
function stepUsers(frame: string): number[] {
  return [...frame.matchAll(/^[ ›] \d\. \S+.*?\s([\d,]+)\s+[\d.]+%/gm)].map((m) => num(m[1]!));
}

/** The panel's total: its second line, `1,234 users` (or `1 user`). */
function panelTotal(frame: string): number {
  const m = /^Users · .*\n([\d,]+) users?\b/m.exec(frame);
  return m ? num(m[1]!) : Number.NaN;
}

/** User rows of the panel: id and events. */
function panelUsers(frame: string): { id: string; events: number }[] {
  return [...frame.matchAll(/^[ ›] (\S+)\s+([\d,]+)\s+\d{4}-\d\d-\d\d \d\d:\d\d/gm)].map((m) => ({
    id: m[1]!,
    events: num(m[2]!),
  }));
}

async function funnelOf3(app: Driven): Promise<number[]> {
  await app.waitFor("button_clicked");
  await app.press("3");
  await app.waitFor("No steps yet");
  for (const step of ["application_o", "file_op", "file_sa"]) {
    await app.press("a", step, KEYS.enter, KEYS.enter);
    await app.waitFor(new RegExp(`\\d\\. ${step}`));
  }
  const f = await app.waitFor((x) => /3\. file_saved .*%/.test(x) && !x.includes("…"));
  const users = stepUsers(f);
  assert.equal(users.length, 3, f);
  return users;
}

describe("drill-down panels", () => {
  let c: SmallCache;
  let ex: Executor;
  before(async () => {
    c = await smallCache();
    ex = new Executor(c.cache);
  });
  after(() => {
    ex.close();
    c.dispose();
  });

  it("funnel: Enter lists who reached the step, tab who dropped there; totals are the step's numbers", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      const users = await funnelOf3(app);
      // The last step added is selected.
      await app.press(KEYS.enter);
      let f = await app.waitFor(
        (x) => x.includes("Users · reached step 3 · file_saved") && !Number.isNaN(panelTotal(x)),
      );
      assert.equal(panelTotal(f), users[2]);
      assert.equal(panelUsers(f).length, Math.min(users[2]!, 30 - 1 - 2 - 4), f);
      assert.match(f, /user\s+events\s+first seen\s+last seen/);
      assertFits(f, 100, 30);
      await app.press(KEYS.tab);
      f = await app.waitFor((x) => x.includes("dropped at step 3") && !Number.isNaN(panelTotal(x)));
      assert.equal(panelTotal(f), users[1]! - users[2]!);
      await app.press(KEYS.tab);
      f = await app.waitFor((x) => x.includes("reached step 3") && !Number.isNaN(panelTotal(x)));
      assert.equal(panelTotal(f), users[2]);
      // esc closes; the funnel is as it was.
      await app.press(KEYS.esc);
      await app.waitFor((x) => /› 3\. file_saved/.test(x));
      await app.press("k", KEYS.enter);
      f = await app.waitFor(
        (x) => x.includes("reached step 2 · file_opened") && !Number.isNaN(panelTotal(x)),
      );
      assert.equal(panelTotal(f), users[1]);
      await app.press(KEYS.tab);
      f = await app.waitFor((x) => x.includes("dropped at step 2") && !Number.isNaN(panelTotal(x)));
      assert.equal(panelTotal(f), users[0]! - users[1]!);
      await app.press(KEYS.esc, "k", KEYS.enter);
      f = await app.waitFor((x) => x.includes("reached step 1") && !Number.isNaN(panelTotal(x)));
      assert.equal(panelTotal(f), users[0]);
      await app.press(KEYS.tab);
      f = await app.waitFor("nobody drops at the first step");
      assert.match(f, /Users · reached step 1/);
      // It fits a small terminal too.
      app.resize(80, 24);
      f = await app.waitFor((x) => x.split("\n").length <= 23 && x.includes("Users · reached step 1"));
      assertFits(f, 80, 24);
      // The screen's keys are off while the panel is open: `a` does not open the step picker.
      await app.press("a");
      assert.doesNotMatch(app.lastFrame(), /Add step 4/);
    } finally {
      app.unmount();
    }
  });

  it("retention: the arrows move a cell cursor; Enter lists its retained users, tab the lost ones", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 34 });
    try {
      await app.waitFor("button_clicked");
      await app.press("4");
      let f = await app.waitFor(/^06-01 D0: [\d,]+ of [\d,]+ retained \(100\.0%\)/m);
      await app.press("j", "l", "l");
      f = await app.waitFor(/^06-02 D2: /m);
      const m = /^06-02 D2: ([\d,]+) of ([\d,]+) retained/m.exec(f)!;
      const [kept, cohort] = [num(m[1]!), num(m[2]!)];
      // Against the engine: the same cell of the same spec.
      const { result } = await ex.run({
        kind: "retention",
        start: { event: "button_clicked", filters: [] },
        return: { event: "*", filters: [] },
        period: "day",
        periods: 14,
        mode: "on",
        range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
        filters: [],
      });
      assert.equal(kept, result.cohorts[1]!.retained[2]);
      assert.equal(cohort, result.cohorts[1]!.users);
      await app.press(KEYS.enter);
      f = await app.waitFor(
        (x) => x.includes("Users · cohort 06-02 · D2 · retained") && !Number.isNaN(panelTotal(x)),
      );
      assert.equal(panelTotal(f), kept);
      await app.press(KEYS.tab);
      f = await app.waitFor((x) => x.includes("D2 · lost (not retained)") && !Number.isNaN(panelTotal(x)));
      assert.equal(panelTotal(f), cohort - kept);
      assertFits(f, 100, 34);
      await app.press(KEYS.esc);
      await app.waitFor(/^06-02 D2: /m);
    } finally {
      app.unmount();
    }
  });

  it("trends: ←/→ move a cursor that shows each point's value; u lists that bucket's users", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    const range = { from: "2023-06-01", to: "2023-06-14", tz: "UTC" };
    const spec = (measure: TrendSpec["measure"]): TrendSpec => ({
      kind: "trend",
      events: [{ event: "button_clicked", filters: [] }],
      measure,
      interval: "day",
      range,
      filters: [],
      limit: 10,
    });
    const events = (await ex.run(spec({ kind: "events" }))).result.series[0]!.points;
    const users = (await ex.run(spec({ kind: "users" }))).result.series[0]!.points;
    try {
      await app.waitFor("button_clicked");
      await app.press("2");
      let f = await app.waitFor("── button_clicked");
      assert.doesNotMatch(f, /▲/);
      await app.press(KEYS.left); // shows the cursor on the newest point
      f = await app.waitFor(`2023-06-14 · button_clicked ${events[13]!.value.toLocaleString("en-US")}`);
      await app.press(KEYS.left, "h");
      f = await app.waitFor(`2023-06-12 · button_clicked ${events[11]!.value.toLocaleString("en-US")}`);
      // The marker stands under the point's x-axis label.
      const lines = f.split("\n");
      const marker = lines.findIndex((l) => l.includes("▲"));
      assert.ok(marker > 0, f);
      const axis = lines[marker + 1]!;
      const x = lines[marker]!.indexOf("▲");
      const label = axis.indexOf("06-12");
      assert.ok(label >= 0 && Math.abs(x - (label + 1)) <= 2, `▲ at ${x}, 06-12 at ${label}\n${f}`);
      assertFits(f, 100, 30);
      await app.press(KEYS.right);
      await app.waitFor(`2023-06-13 · button_clicked ${events[12]!.value.toLocaleString("en-US")}`);
      // Clamped at the ends.
      await app.press(..."llll".split(""));
      await app.waitFor("2023-06-14 · button_clicked");
      await app.press(..."hhhhhhhhhhhhhhhh".split(""));
      f = await app.waitFor(`2023-06-01 · button_clicked ${events[0]!.value.toLocaleString("en-US")}`);
      await app.press(..."lll".split(""));
      await app.waitFor("2023-06-04 · button_clicked");
      await app.press("u");
      f = await app.waitFor(
        (x) => x.includes("Users · 2023-06-04 (day) · button_clicked") && !Number.isNaN(panelTotal(x)),
      );
      assert.equal(panelTotal(f), users[3]!.value);
      // The table shows the cursor too.
      await app.press(KEYS.esc, "t");
      f = await app.waitFor((x) => x.includes("Bucket") && x.includes("2023-06-04 · button_clicked"));
    } finally {
      app.unmount();
    }
  });

  it("Enter on a user opens their timeline: scrolls, / keeps the lines with a text, esc goes back", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await funnelOf3(app);
      await app.press(KEYS.enter);
      let f = await app.waitFor((x) => x.includes("reached step 3") && panelUsers(x).length > 5);
      // The busiest user listed, so the timeline is longer than the screen.
      const list = panelUsers(f);
      const busiest = list.reduce((b, u, i) => (u.events > list[b]!.events ? i : b), 0);
      const who = list[busiest]!;
      assert.ok(who.events > 30, `busiest user has ${who.events} events`);
      await app.press(...Array(busiest).fill("j"));
      await app.waitFor((x) => x.includes(`› ${who.id}`));
      await app.press(KEYS.enter);
      f = await app.waitFor(
        (x) => x.includes(`Timeline of ${who.id} · ${who.events} events`) && /lines 1-\d+ of/.test(x),
      );
      const tspec: TimelineSpec = {
        kind: "timeline",
        user: who.id,
        range: { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
        events: [],
        limit: 2000,
      };
      const { result } = await ex.run(tspec);
      assert.equal(result.total, who.events);
      const all = result.events.map((e) => timelineLine(e, "UTC"));
      assert.ok(f.includes(all[0]!), f);
      const shown = Number(/lines 1-(\d+) of/.exec(f)![1]);
      assert.ok(f.includes(all[shown - 1]!) && !f.includes(all[shown]!));
      assertFits(f, 100, 30);
      await app.press(KEYS.pgdn);
      f = await app.waitFor(new RegExp(`lines ${shown + 1}-`));
      assert.ok(f.includes(all[shown]!));
      await app.press("k");
      f = await app.waitFor(new RegExp(`lines ${shown}-`));
      // `/` keeps the lines containing the text (any case).
      await app.press("/");
      await app.waitFor("enter keeps it");
      await app.press("FILE_SAVED");
      f = await app.waitFor("/ FILE_SAVED▏");
      await app.press(KEYS.enter);
      const matching = filterLines(all, "file_saved");
      assert.ok(matching.length > 0 && matching.length < all.length);
      f = await app.waitFor(`search "FILE_SAVED": ${matching.length} of ${all.length} lines`);
      const body = f.split("\n").filter((l) => /^\d{4}-\d\d-\d\d /.test(l));
      assert.equal(body.length, Math.min(matching.length, 30 - 1 - 2 - 3));
      for (const l of body) assert.match(l, /file_saved/);
      // esc in the search clears it; esc then goes back to the list, with the user still selected.
      await app.press("/", KEYS.esc);
      await app.waitFor((x) => x.includes("/ search") && x.includes(all[0]!));
      await app.press(KEYS.esc);
      f = await app.waitFor((x) => x.includes(`› ${who.id}`) && x.includes("Users · reached step 3"));
    } finally {
      app.unmount();
    }
  });

  it("e exports the list shown (users, then a timeline) and s shows its SQL", async () => {
    const dir = mkdtempSync(join(tmpdir(), "evx-drill-export-"));
    const app = await renderApp(testSession(c), { columns: 100, rows: 30, props: { exportDir: dir } });
    try {
      const steps = await funnelOf3(app);
      await app.press(KEYS.enter);
      let f = await app.waitFor((x) => x.includes("reached step 3") && panelUsers(x).length > 0);
      await app.press("e");
      f = await app.waitFor("Exported");
      let files = readdirSync(dir).sort();
      assert.deepEqual(
        files.map((x) => x.replace(/\d{8}-\d{6}/, "T")),
        ["evx-users-T.csv", "evx-users-T.json"],
      );
      const csv = readFileSync(join(dir, files[0]!), "utf8").trim().split("\n");
      assert.equal(csv[0], "user_id,events,first_seen,last_seen");
      assert.equal(csv.length - 1, steps[2]);
      const json = JSON.parse(readFileSync(join(dir, files[1]!), "utf8"));
      assert.equal(json.spec.kind, "users");
      assert.deepEqual(json.spec.select, { kind: "reached", step: 3 });
      assert.equal(json.result.total, steps[2]);
      await app.press(KEYS.esc);
      await app.waitFor("Users · reached step 3");
      await app.press("s");
      f = await app.waitFor("SQL of the Users · reached step 3");
      await app.press(KEYS.esc);
      // A timeline.
      await app.press(KEYS.enter);
      f = await app.waitFor((x) => /Timeline of \S+ · \d+ events/.test(x));
      const total = Number(/Timeline of \S+ · (\d+) events/.exec(f)![1]);
      await app.press("e");
      await app.waitFor("Exported");
      files = readdirSync(dir)
        .filter((x) => x.startsWith("evx-timeline-"))
        .sort();
      assert.equal(files.length, 2);
      const rows = readFileSync(join(dir, files[0]!), "utf8").trim().split("\n");
      assert.equal(rows[0], "user_id,event_type,event_time,properties");
      assert.equal(rows.length - 1, total);
      // Closed, `e` exports the funnel again.
      await app.press(KEYS.esc, KEYS.esc, KEYS.esc);
      await app.waitFor((x) => /› 3\. file_saved/.test(x));
      await app.press("e");
      await app.waitFor("Exported");
      assert.equal(readdirSync(dir).filter((x) => x.startsWith("evx-funnel-")).length, 2);
    } finally {
      app.unmount();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("user ids and property values are cleaned of terminal controls before they are drawn; numbers show as written", async () => {
    const dir = mkdtempSync(join(tmpdir(), "evx-drill-hostile-"));
    const lake = join(dir, "lake");
    const evil = "evil\x1b]0;pwned\x07\x1b[2J\u202eid";
    const line = (type: string, t: string, user: string, props: Record<string, unknown> = {}) =>
      JSON.stringify({ event_type: type, event_time: t, user_id: user, event_properties: props });
    writeLakeFiles(lake, {
      "date=2023-06-01/a.jsonl": [
        line("open", "2023-06-01T10:00:00Z", evil, { note: "\x1b[31mred\x1b[0m\nnext" }),
        // Numbers JSON.parse would change: the timeline shows them as written.
        `{"event_type":"save","event_time":"2023-06-01T10:05:00Z","user_id":${JSON.stringify(evil)},"event_properties":{"n":19.0,"big":1234567890123456789}}`,
        line("open", "2023-06-01T11:00:00Z", "plain"),
      ].join("\n"),
    });
    const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
    await sync(cache, folderSource(lake));
    const s = sessionFor(cache);
    const app = await renderApp({ ...s, close() {} }, { columns: 100, rows: 30, props: { exportDir: dir } });
    try {
      await app.waitFor("2 event types");
      await app.press("3", "a", "open", KEYS.enter, KEYS.enter, "a", "save", KEYS.enter, KEYS.enter);
      await app.waitFor((x) => /2\. save .*%/.test(x) && !x.includes("…"));
      await app.press(KEYS.enter);
      let f = await app.waitFor((x) => x.includes("reached step 2") && panelUsers(x).length === 1);
      for (const bad of ["\x1b", "\x07", "\u202e"]) assert.ok(!f.includes(bad), JSON.stringify(f));
      assert.match(f, /› evil\]0;pwned|› evilid/);
      await app.press(KEYS.enter);
      f = await app.waitFor((x) => x.includes("2 events"));
      for (const bad of ["\x1b", "\x07", "\u202e"]) assert.ok(!f.includes(bad), JSON.stringify(f));
      assert.match(f, /open {2}note=red next/);
      assert.match(f, /save {2}n=19\.0 big=1234567890123456789/);
      // `e` exports the timeline with the numbers as written, in the CSV and the JSON.
      await app.press("e");
      await app.waitFor("Exported");
      const [csv, json] = readdirSync(dir)
        .filter((x) => x.startsWith("evx-timeline-"))
        .sort()
        .map((x) => readFileSync(join(dir, x), "utf8"));
      assert.ok(csv?.includes('{""n"":19.0,""big"":1234567890123456789}'), csv);
      assert.match(json ?? "", /"n": 19\.0,\s+"big": 1234567890123456789\s/);
    } finally {
      app.unmount();
      s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("geometry helpers: the grid's cells and the chart's columns", () => {
    const header = "Cohort  Users     D0      D1      D2 +4";
    assert.equal(shownPeriods(header, "D"), 3);
    assert.deepEqual(cellSpan(header, 0, "D"), [14, 21]);
    assert.deepEqual(cellSpan(header, 2, "D"), [30, 37]);
    assert.equal(cellSpan(header, 3, "D"), null);
    // `12 ┤…`: the axis at 3, so 100 − 3 − 1 = 96 plot columns, at 4…99.
    const first = "12 ┤   ╭";
    assert.equal(cursorColumn(first, 100, 2, 0), 4);
    assert.equal(cursorColumn(first, 100, 2, 1), 99);
    assert.equal(cursorColumn(first, 100, 96, 10), 14);
    assert.equal(cursorColumn(first, 100, 96, 95), 99);
    assert.equal(cursorColumn(first, 100, 192, 10), 9);
    assert.equal(cursorColumn("no axis", 100, 3, 1), null);
  });
});
