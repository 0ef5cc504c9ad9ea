/**
 * Live mode (`L`) and the `last …` range presets: the real watch loop on a folder-sourced cache, with
 * objects added to the lake while the TUI runs; a failing cycle keeps the data on screen; a query
 * superseded by a cycle's refresh never shows its stale answer; quitting stops after the batch.
 */
import assert from "node:assert/strict";
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SyncSummary } from "../../src/cache/sync.js";
import type { WatchCycle } from "../../src/cache/watch.js";
import { parseEvery } from "../../src/commands/sync.js";
import { parseLiveEvery } from "../../src/commands/ui.js";
import { lastRange } from "../../src/queries/time.js";
import type { QueryRunner } from "../../src/views/hooks/useQuery.js";
import { LIVE_OFF, type LiveState, liveText } from "../../src/views/state/live.js";
import type { Session } from "../../src/views/state/state.js";
import { lastLabel } from "../../src/views/widgets/overlays.js";
import { KEYS, renderApp, type SmallCache, sleep, smallCache, testSession } from "./fixture.js";

const count = (frame: string) => Number(/│ ([\d,]+) events/.exec(frame)?.[1]?.replace(/,/g, "") ?? "NaN");

/** A new object in the lake's newest partition: `n` events of `type` at `t` (ISO, seconds apart). */
let seq = 0;
function addObject(lake: string, n: number, type: string, t = "2023-06-14T23:50:00Z"): void {
  const t0 = Date.parse(t);
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      event_type: type,
      event_time: new Date(t0 + i * 1000).toISOString(),
      user_id: `live-${seq}-${i % 3}`,
      event_properties: { n: i },
    }),
  );
  writeFileSync(join(lake, "date=2023-06-14", `live-${seq++}.jsonl`), `${lines.join("\n")}\n`);
}

describe("live status text", () => {
  const at = new Date(2023, 5, 14, 14, 45, 3);
  const base: LiveState = { ...LIVE_OFF, everyMs: 60_000 };
  it("says what the last cycle did and when the next one runs", () => {
    assert.equal(liveText(base), null);
    assert.deepEqual(liveText({ ...base, phase: "syncing" }), { text: "live · syncing…", tone: "ok" });
    const last = { at, events: 1234, objects: 1, removed: 0, failedWhole: false };
    assert.deepEqual(liveText({ ...base, phase: "waiting", last, nextAt: 100_000 }, 58_001), {
      text: "live · +1,234 events at 14:45:03 · next in 42s",
      tone: "ok",
    });
    assert.equal(
      liveText({ ...base, phase: "waiting", last: { ...last, events: 1 }, nextAt: 400_000 }, 100_000)?.text,
      "live · +1 event at 14:45:03 · next in 5m 00s",
    );
    const progress = {
      phase: "syncing" as const,
      listed: 3,
      toFetch: 10,
      fetched: 4,
      ingested: 3,
      bytesTotal: 1,
      bytesDone: 0,
      bytesIngested: 0,
      events: 0,
      rejected: 0,
      skipped: 0,
      duplicates: 0,
      failed: 0,
    };
    assert.equal(
      liveText({ ...base, phase: "syncing", last, progress })?.text,
      "live · +1,234 events at 14:45:03 · syncing 3/10 objects…",
    );
    assert.deepEqual(liveText({ ...base, phase: "stopping", last }), {
      text: "live · stopping after the current batch…",
      tone: "warn",
    });
  });

  it("shows a failed cycle's error (cleaned), red, and a partial one yellow", () => {
    const failed = {
      at,
      events: 0,
      objects: 0,
      removed: 0,
      failedWhole: true,
      error: "folder /x/\x1b[31mlake\x1b[0m does not exist",
    };
    assert.deepEqual(liveText({ ...base, phase: "waiting", last: failed, nextAt: 10_000 }, 0), {
      text: "live · 14:45:03 failed: folder /x/lake does not exist · retry in 10s",
      tone: "error",
    });
    const partial = { ...failed, failedWhole: false, events: 5, error: "1 object failed: bad gzip" };
    assert.deepEqual(liveText({ ...base, phase: "waiting", last: partial, nextAt: 10_000 }, 0), {
      text: "live · +5 events at 14:45:03 · 1 object failed: bad gzip · next in 10s",
      tone: "warn",
    });
  });

  it("evx ui --every follows evx sync --every's rules", () => {
    for (const [text, env] of [
      [undefined, {}],
      ["30s", {}],
      ["5s", {}],
      ["2m", {}],
      ["1s", { EVX_WATCH_MIN_EVERY_MS: "200" }],
    ] as const)
      assert.equal(parseLiveEvery(text, env), parseEvery(text, env));
    for (const [text, env] of [
      ["2s", {}],
      ["soon", {}],
      ["4", { EVX_WATCH_MIN_EVERY_MS: "" }],
    ] as const) {
      assert.throws(() => parseEvery(text, env));
      assert.throws(
        () => parseLiveEvery(text, env),
        (e: Error) => e.name === "UsageError" && e.message === messageOf(() => parseEvery(text, env)),
      );
    }
  });
});

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  return "";
}

describe("live mode", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("L syncs the source on a timer; new objects show up in the numbers; L again stops", async () => {
    const app = await renderApp(testSession(c), { columns: 110, rows: 30, props: { liveEveryMs: 300 } });
    try {
      let f = await app.waitFor("9 event types");
      const before = count(f);
      await app.press("L");
      f = await app.waitFor(/live · \+0 events at \d\d:\d\d:\d\d · next in \ds/);
      addObject(c.lake, 25, "live_probe");
      f = await app.waitFor((x) => count(x) === before + 25 && x.includes("live_probe"), 15_000);
      assert.match(f, /^live_probe\s+25\s+3\b/m);
      // The open Trends chart follows too: add the new event to it.
      await app.press("2", "a", "live_pr", KEYS.enter, KEYS.enter);
      f = await app.waitFor((x) => /── button_clicked .*live_probe/.test(x) && x.includes("┤"));
      addObject(c.lake, 10, "live_probe");
      await app.press(KEYS.left);
      // The chart and the event count come from different queries: wait until both show the object
      // (on a loaded machine the count can land a cycle after the chart).
      f = await app.waitFor(
        (x) =>
          x.includes("2023-06-14 · button_clicked") &&
          x.includes("live_probe 35") &&
          count(x) === before + 35,
        15_000,
      );
      assert.equal(count(f), before + 35);
      await app.press("L");
      f = await app.waitFor((x) => !x.includes("live ·") && !Number.isNaN(count(x)));
      addObject(c.lake, 5, "live_probe");
      await sleep(1000);
      assert.equal(count(app.lastFrame()), before + 35, "off: nothing more is synced");
      // Back on: the missed object lands.
      await app.press("L");
      await app.waitFor((x) => count(x) === before + 40, 15_000);
      await app.press("L");
      await app.waitFor((x) => !x.includes("live ·"));
    } finally {
      app.unmount();
    }
  });

  it("a failing cycle shows its error and keeps the data; the next good cycle recovers", async () => {
    const app = await renderApp(testSession(c), { columns: 120, rows: 30, props: { liveEveryMs: 300 } });
    const moved = `${c.lake}-away`;
    try {
      let f = await app.waitFor("event types");
      const events = count(f);
      await app.press("L");
      await app.waitFor(/live · \+0 events/);
      renameSync(c.lake, moved);
      f = await app.waitFor(/live · \d\d:\d\d:\d\d failed: /, 15_000);
      assert.equal(count(f), events, `the last good data stays on screen:\n${f}`);
      assert.match(f, /event types/);
      renameSync(moved, c.lake);
      addObject(c.lake, 7, "live_probe");
      f = await app.waitFor((x) => count(x) === events + 7 && /live · \+7 events at/.test(x), 15_000);
      await app.press("L");
      await app.waitFor((x) => !x.includes("live ·"));
    } finally {
      try {
        renameSync(moved, c.lake);
      } catch {}
      app.unmount();
    }
  });

  it("d offers last 15m/1h/6h/24h; a last range slides with each cycle's new data", async () => {
    const session = testSession(c);
    const app = await renderApp(session, { columns: 140, rows: 30, props: { liveEveryMs: 300 } });
    try {
      await app.waitFor("event types");
      const latest = (await session.lastEventUs())!;
      await app.press("d");
      let f = await app.waitFor("Last 15 minutes");
      for (const label of ["Last hour", "Last 6 hours", "Last 24 hours"]) assert.ok(f.includes(label), f);
      await app.press(KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.up);
      await app.waitFor("› Last 15 minutes");
      await app.press(KEYS.down, KEYS.enter);
      const r1 = lastRange(latest, 3600, "UTC");
      const label1 = lastLabel({ ...r1, last: 3600 }, "UTC")!;
      assert.match(label1, /^last 1h · 2023-06-14 \d\d:\d\d → \d\d:\d\d$/);
      const inHour = (await session.runner.run({ kind: "catalog", range: { ...r1, tz: "UTC" } })).result as {
        events: { events: number }[];
      };
      const n1 = inHour.events.reduce((x, e) => x + e.events, 0);
      f = await app.waitFor((x) => x.includes(label1) && count(x) === n1);
      assert.match(f, /event types · 2023-06-14 \d\d:\d\d → \d\d:\d\d/);
      // New data 30 minutes after the newest event: the hour moves to end at the minute after it.
      await app.press("L");
      await app.waitFor(/live · \+0 events/);
      const t = new Date(latest / 1000 + 30 * 60_000).toISOString();
      addObject(c.lake, 12, "late_event", t);
      const r2 = lastRange(latest + 30 * 60 * 1_000_000 + 11_000_000, 3600, "UTC");
      const label2 = lastLabel({ ...r2, last: 3600 }, "UTC")!;
      f = await app.waitFor((x) => x.includes(label2) && x.includes("late_event"), 15_000);
      assert.ok(r2.from > r1.from);
      assert.match(f, /^late_event\s+12\b/m);
      // d shows the preset chosen, resolved at the new newest event.
      await app.press("d");
      f = await app.waitFor("› Last hour");
      await app.press(KEYS.esc, "L");
      await app.waitFor((x) => !x.includes("live ·"));
    } finally {
      app.unmount();
    }
  });

  it("a query superseded by a cycle's refresh never shows its stale answer", async () => {
    const base = testSession(c);
    let delayNext = false;
    let delayed = 0;
    const runner: QueryRunner = {
      async run(spec, o) {
        const out = await base.runner.run(spec, o);
        if (spec.kind === "catalog" && delayNext) {
          // Answered from the data before the cycle, then held: an engine that cannot stop.
          delayNext = false;
          delayed++;
          await sleep(2500);
        }
        return out;
      },
    };
    const app = await renderApp({ ...base, runner }, { columns: 110, rows: 30, props: { liveEveryMs: 300 } });
    try {
      let f = await app.waitFor("event types");
      const events = count(f);
      await app.press("L");
      await app.waitFor(/live · \+0 events/);
      delayNext = true;
      await app.press(KEYS.ctrlR); // the catalog runs again, and hangs with the old count
      await app.waitFor(() => delayed === 1);
      addObject(c.lake, 9, "live_probe");
      f = await app.waitFor((x) => count(x) === events + 9, 15_000);
      const seen = new Set<number>();
      const end = Date.now() + 3500;
      while (Date.now() < end) {
        seen.add(count(app.lastFrame()));
        await sleep(20);
      }
      assert.deepEqual([...seen], [events + 9], "the old answer never replaced the new one");
      await app.press("L");
      await app.waitFor((x) => !x.includes("live ·"));
    } finally {
      app.unmount();
    }
  });

  it("quitting stops the loop after the current batch, then closes the session; q again leaves at once", async () => {
    const real = testSession(c);
    let release: () => void = () => {};
    let closed = 0;
    let forced = 0;
    let stopped = false;
    const held = (): Session => ({
      ...real,
      close() {
        closed++;
      },
      sync: {
        ...real.sync,
        async watch(o) {
          // A cycle whose batch ends only when the test says so.
          const at = new Date();
          o.onProgress?.({
            phase: "syncing",
            listed: 2,
            toFetch: 2,
            fetched: 1,
            ingested: 1,
            bytesTotal: 2,
            bytesDone: 1,
            bytesIngested: 1,
            events: 10,
            rejected: 0,
            skipped: 0,
            duplicates: 0,
            failed: 0,
          });
          await new Promise<void>((r) => {
            release = r;
          });
          stopped = o.signal.aborted;
          o.onCycle({
            cycle: 1,
            at,
            summary: { events: 10, objects: { downloaded: 1, removed: 0 } } as SyncSummary,
            failedWhole: false,
            interrupted: true,
            cacheEvents: null,
            nextAt: null,
          } as WatchCycle);
        },
      },
    });
    const app = await renderApp(held(), { props: { onForceQuit: () => forced++ } });
    try {
      await app.waitFor("event types");
      await app.press("L");
      await app.waitFor("live · syncing 1/2 objects…");
      await app.press("q");
      await app.waitFor("stopping live sync after the current batch… (q again quits now)");
      await sleep(200);
      assert.equal(app.quitCalls, 0);
      assert.equal(closed, 0, "the session stays open while the batch runs");
      release();
      await app.waitFor(() => app.quitCalls === 1);
      assert.ok(stopped, "the loop was told to stop");
      assert.equal(closed, 1);
      assert.equal(forced, 0);
    } finally {
      app.unmount();
    }
    // Again, with a second q while the batch still runs.
    const app2 = await renderApp(held(), { props: { onForceQuit: () => forced++ } });
    try {
      await app2.waitFor("event types");
      await app2.press("L");
      await app2.waitFor("live · syncing");
      await app2.press("q");
      await app2.waitFor("q again quits now");
      await app2.press("q");
      await app2.waitFor(() => app2.quitCalls === 1);
      assert.equal(forced, 1);
      assert.equal(closed, 1, "not closed under the running batch");
    } finally {
      release();
      app2.unmount();
    }
  });

  it("live mode is refused on a read-only cache and when another sync runs", async () => {
    const ro = { ...testSession(c), readOnly: true, lockedBy: 4242 };
    const app = await renderApp(ro);
    try {
      await app.waitFor("event types");
      await app.press("L");
      await app.waitFor("live mode needs the cache read-write; another evx process (PID 4242) holds it");
    } finally {
      app.unmount();
    }
    // The Sync tab's S while live mode runs: refused, the cache untouched.
    const app2 = await renderApp(testSession(c), { columns: 110, rows: 30, props: { liveEveryMs: 300 } });
    try {
      await app2.waitFor("event types");
      await app2.press("L");
      await app2.waitFor(/live · \+0 events/);
      await app2.press("5");
      await app2.waitFor((x) => x.includes("2023-06-14 synced") && !x.includes("listing the source"));
      await sleep(300);
      await app2.press("S");
      await app2.waitFor("sync failed: live mode is syncing this cache; press L to stop it first");
      await app2.press("L");
      await app2.waitFor((x) => !x.includes("live ·"));
    } finally {
      app2.unmount();
    }
  });
});
