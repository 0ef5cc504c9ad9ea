import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Cache, CacheLockedError } from "../../src/cache/db.js";
import { type Binding, KEYMAP } from "../../src/views/keymap.js";
import { sessionFor } from "../../src/views/state/session.js";
import { inlineParams, parseRangeText, rangePresets } from "../../src/views/widgets/overlays.js";
import {
  assertFits,
  KEYS,
  renderApp,
  type SmallCache,
  smallCache,
  testSession,
  typeRange,
} from "./fixture.js";

describe("App", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("draws the first frame before the cache is open, then fills in", async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const session = testSession(c);
    const app = await renderApp(session, {
      props: {
        connect: async () => {
          await gate;
          return session;
        },
      },
    });
    try {
      const f = await app.waitFor("opening");
      assert.match(f, /1 Events\s+2 Trends\s+3 Funnel\s+4 Retention\s+5 Sync/);
      assert.match(f, /opening cache…/);
      release();
      await app.waitFor("button_clicked");
    } finally {
      app.unmount();
    }
  });

  it("waits for a sync that holds the cache, then opens it", async () => {
    const session = testSession(c);
    let calls = 0;
    const app = await renderApp(session, {
      props: {
        connect: async () => {
          calls++;
          if (calls < 3) throw new CacheLockedError(c.path, 4242);
          return session;
        },
      },
    });
    try {
      const f = await app.waitFor("waiting for it to finish");
      assert.match(f, /in use by another evx process \(PID 4242\)/);
      await app.waitFor("9 event types", 5000);
      assert.equal(calls, 3);
      assert.doesNotMatch(app.lastFrame(), /waiting/);
    } finally {
      app.unmount();
    }
  });

  it("--tz sets the zone of the default range and says so in the status bar", async () => {
    // The lake ends on 2023-06-14 in UTC; fourteen hours east that is already 2023-06-15.
    const app = await renderApp(testSession(c), { props: { tz: "Pacific/Kiritimati" } });
    try {
      const f = await app.waitFor("Pacific/Kiritimati");
      assert.match(f, /2023-06-01 → 2023-06-15 Pacific\/Kiritimati/);
    } finally {
      app.unmount();
    }
    const utc = await renderApp(testSession(c));
    try {
      const f = await utc.waitFor("9 event types");
      assert.match(f, /2023-06-01 → 2023-06-14/);
      assert.doesNotMatch(f, /UTC/);
    } finally {
      utc.unmount();
    }
  });

  it("switches tabs with 1-7, tab/shift-tab and [ ]", async () => {
    const app = await renderApp(testSession(c));
    try {
      await app.waitFor("9 event types");
      const screens: [string, string][] = [
        ["2", "Events:"],
        ["3", "Funnel ·"],
        ["4", "Retention ·"],
        ["5", "Date       State"],
        ["6", "Paths ·"],
        ["7", "Lifecycle ·"],
        ["1", "9 event types"],
        [KEYS.tab, "Events:"],
        [KEYS.tab, "Funnel ·"],
        [KEYS.shiftTab, "Events:"],
        [KEYS.tab, "Funnel ·"],
        [KEYS.shiftTab, "Events:"],
        [KEYS.shiftTab, "9 event types"],
        [KEYS.shiftTab, "Lifecycle ·"],
        [KEYS.shiftTab, "Paths ·"],
        [KEYS.shiftTab, "Date       State"],
      ];
      for (const [key, marker] of screens) {
        await app.press(key);
        await app.waitFor(marker);
      }
    } finally {
      app.unmount();
    }
  });

  it("? lists every key binding from the keymap table", async () => {
    const app = await renderApp(testSession(c), { columns: 200, rows: 70 });
    try {
      await app.waitFor("9 event types");
      await app.press("?");
      const f = await app.waitFor("?/esc close");
      for (const b of KEYMAP as readonly Binding[]) {
        assert.ok(f.includes(b.description), `help lacks "${b.description}" (${b.id})`);
        assert.ok(f.includes(b.keys.join("/")), `help lacks the keys of ${b.id}`);
      }
      // The incident keys: compare on Trends and Funnel, the over-time interval on Funnel.
      assert.match(f, /Trends[\s\S]*\bc\s+Compare: prev\/1d\/1w\/off/);
      assert.match(f, /Funnel[\s\S]*\bi\s+Change over-time interval[\s\S]*\bc\s+Compare: prev\/1d\/1w\/off/);
      assertFits(f, 200, 70);
      await app.press("?");
      await app.waitFor((x) => !x.includes("?/esc close") && x.includes("9 event types"));
    } finally {
      app.unmount();
    }
  });

  it("s shows the SQL of the current result with its parameters inlined", async () => {
    const app = await renderApp(testSession(c));
    try {
      await app.waitFor("9 event types");
      await app.press("s");
      let f = await app.waitFor("SQL of the Events result");
      assert.match(f, /SELECT event_type, count\(\*\) AS events/);
      assert.match(f, /FROM events/);
      assert.doesNotMatch(f, /\$\d/); // parameters are inlined
      await app.press(KEYS.esc);
      await app.press("2", "s");
      f = await app.waitFor("SQL of the Trends result");
      assert.match(f, /'button_clicked'/);
      await app.press("s"); // s again closes
      await app.waitFor((x) => !x.includes("SQL of the") && x.includes("Events:"));
      await app.press("5", "s");
      await app.waitFor("The Sync tab runs no analysis query.");
    } finally {
      app.unmount();
    }
  });

  it("e exports the current result to private CSV and JSON files and shows their paths", async () => {
    const dir = mkdtempSync(join(tmpdir(), "evx-export-"));
    const app = await renderApp(testSession(c), { props: { exportDir: dir } });
    try {
      await app.waitFor("9 event types");
      await app.press("e");
      const f = await app.waitFor("Exported");
      const files = readdirSync(dir).sort();
      assert.equal(files.length, 2);
      assert.match(files[0]!, /^evx-catalog-\d{8}-\d{6}\.csv$/);
      assert.match(files[1]!, /^evx-catalog-\d{8}-\d{6}\.json$/);
      for (const name of files) {
        assert.ok(f.includes(name), `overlay lacks ${name}`);
        assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600);
      }
      const csv = readFileSync(join(dir, files[0]!), "utf8").split("\n");
      assert.equal(csv[0], "event_type,events,users,first_seen,last_seen");
      assert.match(csv[1]!, /^button_clicked,1946,\d+,2023-06-01T/);
      const json = JSON.parse(readFileSync(join(dir, files[1]!), "utf8"));
      assert.equal(json.spec.kind, "catalog");
      assert.equal(json.result.events.length, 9);
      assert.match(json.sql, /FROM events/);
      // A second export never overwrites the first.
      await app.press(KEYS.esc, "e");
      await app.waitFor(() => readdirSync(dir).length === 4);
    } finally {
      app.unmount();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("d edits the date range with presets and typed dates; everything re-runs on it", async () => {
    const app = await renderApp(testSession(c));
    try {
      await app.waitFor("5,000 events");
      await app.press("d");
      await app.waitFor("Last 7 days");
      // The cursor starts on the first preset equal to the range (the lake is 14 days): up to "Last 7 days".
      await app.press(KEYS.up);
      await app.waitFor("› Last 7 days");
      await app.press(KEYS.enter);
      let f = await app.waitFor("2023-06-08 → 2023-06-14 │");
      const count = (x: string) => Number(/│ ([\d,]+) events/.exec(x)?.[1]?.replace(/,/g, "") ?? "NaN");
      f = await app.waitFor((x) => count(x) < 5000);
      assert.ok(count(f) > 0, f);
      await app.press("d");
      await app.waitFor("Custom…");
      await app.press(KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.enter); // from "Last 7 days"
      await app.waitFor("Date range: FROM..TO");
      await app.press(KEYS.backspace.repeat(22), "2023-06-03..2023-06-02", KEYS.enter);
      await app.waitFor("2023-06-03 is after 2023-06-02");
      await app.press(KEYS.backspace.repeat(22), "2023-06-02..2023-06-03", KEYS.enter);
      f = await app.waitFor(
        (x) => x.includes("2023-06-02 → 2023-06-03 │") && x.includes("event types · 2023-06-02"),
      );
      assertFits(f, 100, 30);
      // Local date-times: the end is exclusive; the sparklines cover the range in small buckets.
      await typeRange(app, "2023-06-02T10:00..2023-06-02T14:30");
      f = await app.waitFor(
        (x) =>
          x.includes("2023-06-02 10:00 → 2023-06-02 14:30 │") &&
          /Range, 5m/.test(x) &&
          /[▁▂▃▄▅▆▇█]{5}/.test(x) &&
          !x.includes("updating"),
      );
      const few = count(f);
      assert.ok(few > 0 && few < 5000, f);
      assert.match(f, /event types · 2023-06-02 10:00 → 2023-06-02 14:30/);
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("q quits; Ctrl+C quits when nothing runs", async () => {
    for (const key of ["q", KEYS.ctrlC]) {
      const app = await renderApp(testSession(c));
      try {
        await app.waitFor(/button_clicked.*[▁▂▃▄▅▆▇█]{14}/); // idle: the sparklines are in
        await app.press(key);
        await app.waitFor(() => app.quitCalls === 1);
      } finally {
        app.unmount();
      }
    }
  });

  it("re-lays out on resize and degrades below 80×24 without overflowing", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.press("2");
      let f = await app.waitFor("── button_clicked");
      const wide = f.split("\n").find((l) => l.includes("┤"))!;
      app.resize(60, 16);
      f = await app.waitFor((x) => x.split("\n").length <= 15 && x.includes("── button_clicked"));
      assertFits(f, 60, 16);
      const narrow = f.split("\n").find((l) => l.includes("┤"))!;
      assert.ok(narrow.length < wide.length);
      app.resize(40, 10);
      f = await app.waitFor((x) => x.split("\n").length <= 9);
      assertFits(f, 40, 10);
      for (const k of ["1", "3", "4", "5"]) {
        await app.press(k);
        await new Promise((r) => setTimeout(r, 150));
        assertFits(app.lastFrame(), 40, 10);
      }
    } finally {
      app.unmount();
    }
  });

  it("an empty cache says how to fill it", async () => {
    const dir = mkdtempSync(join(tmpdir(), "evx-empty-"));
    const cache = await Cache.open(join(dir, "empty.duckdb"), { create: true });
    const session = { ...sessionFor(cache), close() {} };
    const app = await renderApp(session);
    try {
      await app.waitFor("The cache holds no events yet: mark partitions in the Sync tab (5) and press S.");
      await app.press("5");
      await app.waitFor("this cache has no source yet; run `evx sync SOURCE` first");
    } finally {
      app.unmount();
      cache.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("parses ranges and inlines parameters", () => {
    assert.deepEqual(parseRangeText("2023-06-01..2023-06-05"), { from: "2023-06-01", to: "2023-06-05" });
    assert.deepEqual(parseRangeText(" 2023-06-01 2023-06-05 "), { from: "2023-06-01", to: "2023-06-05" });
    assert.deepEqual(parseRangeText("2023-06-01"), { from: "2023-06-01", to: "2023-06-01" });
    assert.throws(() => parseRangeText("2023-02-30"), /bad date/);
    const p = rangePresets({ from: "2023-06-01", to: "2023-06-28" });
    assert.deepEqual(
      p.map((x) => x.hint),
      [
        "2023-06-22 → 2023-06-28",
        "2023-06-15 → 2023-06-28",
        "2023-06-01 → 2023-06-28",
        "2023-06-01 → 2023-06-28",
        "type FROM..TO",
      ],
    );
    assert.equal(
      inlineParams("a = $1 AND b IN $2 AND c = $10", ["it's", { items: [1, "x"] }]),
      "a = 'it''s' AND b IN [1, 'x'] AND c = $10",
    );
  });
});
