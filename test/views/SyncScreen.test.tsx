import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { PartitionRow } from "../../src/cache/plan.js";
import type { SyncProgress, SyncSummary } from "../../src/cache/sync.js";
import { writeLakeFiles } from "../../src/source/synthetic.js";
import { abortError } from "../../src/views/hooks/useQuery.js";
import { partitionLine, progressLine, runsOf } from "../../src/views/screens/SyncScreen.js";
import type { Session } from "../../src/views/state/state.js";
import { assertFits, KEYS, renderApp, type SmallCache, sleep, smallCache, testSession } from "./fixture.js";

const row = (date: string, state: PartitionRow["state"] = "synced"): PartitionRow => ({
  date,
  state,
  sourceObjects: 2,
  sourceBytes: 2048,
  cachedObjects: state === "not synced" ? 0 : 2,
  cachedEvents: state === "not synced" ? 0 : 100,
  failed: 0,
});

describe("Sync screen", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("lists partitions with states and sizes, marks a range, evicts it and syncs it back", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("5");
      let f = await app.waitFor("14 partitions");
      assert.match(f, /^source \S+lake · 14 partitions · 0 marked/m);
      assert.match(f, /^cache 5,000 events · \d+ users · 0 rejected lines · 2023-06-01 → 2023-06-14/m);
      assert.match(f, /Date\s+State\s+Objects\s+Size\s+Cached\s+Events/);
      assert.equal(
        [...f.matchAll(/^ {2}2023-06-\d\d synced\s+\d+\s+[\d.]+ kB\s+\d+\s+[\d,]+/gm)].length,
        14,
        f,
      );
      await app.press(" ", KEYS.shiftDown, KEYS.shiftDown);
      f = await app.waitFor("3 marked");
      assert.equal([...f.matchAll(/^● 2023-06-0[123] /gm)].length, 3, f);
      await app.press("D");
      await app.waitFor("Evict 3 partitions (2023-06-01 … 2023-06-03) from the cache?");
      await app.press("y");
      f = await app.waitFor(
        (x) =>
          /evicted 3 partitions \([\d,]+ events\)/.test(x) &&
          [...x.matchAll(/^ {2}2023-06-0[123] not synced/gm)].length === 3,
      );
      const left = Number(/^cache ([\d,]+) events/m.exec(f)![1]!.replace(/,/g, ""));
      assert.ok(left < 5000);
      // The analyses follow the cache: the status bar's count comes from the re-run catalog.
      await app.waitFor(`${left.toLocaleString("en-US")} events`);
      await app.press("k", "k", " ", "j", " ", "j", " ");
      await app.waitFor("3 marked");
      await app.press("S");
      f = await app.waitFor(
        (x) =>
          /synced 7\d objects, [\d,]+ events/.test(x) &&
          x.includes("cache 5,000 events") &&
          [...x.matchAll(/^ {2}2023-06-\d\d synced/gm)].length === 14,
      );
      assertFits(f, 100, 30);
    } finally {
      app.unmount();
    }
  });

  it("shows rejected lines and drills into one", async () => {
    writeLakeFiles(c.lake, {
      "date=2023-06-05/part-bad.jsonl": 'not json\n{"event_type":"x","event_time":"2023-06-05T10:00:00Z"}\n',
    });
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("5");
      let f = await app.waitFor((x) => /^ {2}2023-06-05 stale/m.test(x) && !x.includes("listing"));
      for (let i = 0; i < 4; i++) await app.press("j");
      await app.press("S");
      f = await app.waitFor((x) => x.includes("2 rejected lines") && !x.includes("listing"));
      await app.press("r");
      f = await app.waitFor("Rejected lines: 2");
      assert.match(f, /date=2023-06-05\/part-bad\.jsonl\s+1\s+invalid JSON/);
      await app.press(KEYS.enter);
      f = await app.waitFor("line 1: invalid JSON");
      assert.match(f, /│ not json/);
      await app.press(KEYS.esc);
      await app.waitFor((x) => x.includes("Rejected lines: 2") && !x.includes("│ not json"));
      await app.press(KEYS.esc);
      await app.waitFor("Date ");
    } finally {
      app.unmount();
    }
  });

  it("shows live progress while syncing and esc cancels the sync", async () => {
    const real = testSession(c);
    let aborted = false;
    const session: Session = {
      ...real,
      sync: {
        ...real.sync,
        async sync(_range, signal, onProgress) {
          const p: SyncProgress = {
            phase: "syncing",
            listed: 10,
            toFetch: 10,
            fetched: 0,
            ingested: 0,
            bytesTotal: 10_000,
            bytesDone: 0,
            bytesIngested: 0,
            events: 0,
            rejected: 0,
            skipped: 0,
            duplicates: 0,
            failed: 0,
          };
          for (let i = 1; i <= 100; i++) {
            if (signal.aborted) {
              aborted = true;
              throw abortError("sync interrupted");
            }
            p.ingested = Math.min(10, i);
            p.bytesIngested = Math.min(10_000, i * 1000);
            p.events = i * 50;
            onProgress({ ...p });
            await sleep(40);
          }
          return {} as SyncSummary;
        },
      },
    };
    const app = await renderApp(session, { columns: 100, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("5");
      await app.waitFor("14 partitions");
      await app.press("S");
      const f = await app.waitFor(/syncing [█▏▎▍▌▋▊▉ ]+ \d+% \d+\/10 objects · .* events · esc cancels/);
      assert.match(f, /sync \d+\.\ds · esc to cancel/); // the status bar's spinner
      await app.press(KEYS.esc);
      await app.waitFor("sync cancelled; the cache is consistent and the next sync resumes");
      assert.ok(aborted);
    } finally {
      app.unmount();
    }
  });

  it("groups marked dates into contiguous runs and formats rows and progress to the width", () => {
    const rows = ["2023-06-01", "2023-06-02", "2023-06-03", "2023-06-04"].map((d) => row(d));
    assert.deepEqual(
      runsOf(rows, new Set(["2023-06-01", "2023-06-02", "2023-06-04"])).map((r) => [r.from, r.to]),
      [
        ["2023-06-01", "2023-06-02"],
        ["2023-06-04", "2023-06-04"],
      ],
    );
    assert.match(
      partitionLine(row("2023-06-01", "not synced"), true, 80),
      /^● 2023-06-01 not synced\s+2\s+2.05 kB\s+–\s+–/,
    );
    const p = progressLine(
      {
        phase: "syncing",
        listed: 4,
        toFetch: 4,
        fetched: 2,
        ingested: 2,
        bytesTotal: 4000,
        bytesDone: 2000,
        bytesIngested: 2000,
        events: 1234,
        rejected: 1,
        skipped: 0,
        duplicates: 0,
        failed: 0,
      },
      80,
      true,
    );
    assert.ok(p.length <= 80, p);
    assert.match(p, /^syncing #+ +50% 2\/4 objects/);
  });
});

describe("Sync screen in shared mode", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("names another process's running sync on the source line (the host reports the writer in status)", async () => {
    const s = testSession(c);
    const status = s.sync.status;
    // What cacheStatus adds when the shared-mode host has a writer (test/shared.test.ts checks that part).
    s.sync = {
      ...s.sync,
      status: async () => ({ ...(await status()), syncing: { pid: 4242, what: "sync" } }),
    };
    const app = await renderApp(s, { columns: 120, rows: 30 });
    try {
      await app.waitFor("button_clicked");
      await app.press("5");
      const f = await app.waitFor((x) => /14 partitions/.test(x) && /is syncing/.test(x));
      assert.match(f, /^source \S+lake · 14 partitions · 0 marked · evx sync \(PID 4242\) is syncing/m);
    } finally {
      app.unmount();
    }
  });
});
