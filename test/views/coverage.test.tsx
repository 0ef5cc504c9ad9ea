import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { render } from "ink-testing-library";
import type { Coverage } from "../../src/queries/spec.js";
import { displayWidth } from "../../src/render/sanitize.js";
import { QueryClient, QueryClientContext } from "../../src/views/hooks/useQuery.js";
import { coverageNote, StatusBar } from "../../src/views/widgets/StatusBar.js";
import {
  assertFits,
  renderApp,
  type SmallCache,
  sleep,
  smallCache,
  testSession,
  typeRange,
} from "./fixture.js";

const cov = (over: Partial<Coverage> = {}): Coverage => ({
  partitions_in_range: 7,
  partitions_synced: 7,
  missing: [],
  failed: [],
  rejected_lines: 0,
  last_event: "2023-06-14T23:59:00.000Z",
  ...over,
});

describe("coverage note", () => {
  // The lake has 2023-06-01..14; only 06-03..06-10 are synced.
  let c: SmallCache;
  before(async () => {
    c = await smallCache(5000, 14, { from: "2023-06-03", to: "2023-06-10" });
  });
  after(() => c.dispose());

  it("says which partitions are missing when the range reaches past the synced dates, on every screen", async () => {
    const app = await renderApp(testSession(c), { columns: 100, rows: 30 });
    try {
      // The default range is the cached one: complete, no note.
      let f = await app.waitFor((x) => x.includes("2023-06-03 → 2023-06-10 │") && /\d+ ms\s*$/m.test(x));
      assert.doesNotMatch(f, /partial/);
      await app.press("2");
      f = await app.waitFor((x) => x.includes("── button_clicked") && /trend \d+ ms|props \d+ ms/.test(x));
      assert.doesNotMatch(f, /partial/);
      await app.press("1");
      await typeRange(app, "2023-06-01..2023-06-14");
      // Once the queries are done (the spinner's text takes more of the line while they run).
      f = await app.waitFor((x) =>
        /^! partial: 8\/14 partitions · not synced 06-01, 06-02 \+4 │ 2023-06-01 → 2023-06-14\s+\w+ \d+ ms$/m.test(
          x,
        ),
      );
      assertFits(f, 100, 30);
      // Each screen's own result carries its coverage.
      for (const [tab, marker] of [
        ["2", "── button_clicked"],
        ["4", "Average"],
      ] as const) {
        await app.press(tab);
        f = await app.waitFor((x) => x.includes(marker) && x.includes("! partial: 8/14 partitions"));
      }
      // The Sync tab shows the partitions themselves; its status line has no query result.
      await app.press("5");
      f = await app.waitFor("Date       State");
      await sleep(100);
      assert.doesNotMatch(app.lastFrame().split("\n").at(-1)!, /partial/);
      // A range inside the synced dates is complete again.
      await app.press("2");
      await typeRange(app, "2023-06-04T06:00..2023-06-04T18:00");
      f = await app.waitFor(
        (x) =>
          x.includes("2023-06-04 06:00 → 2023-06-04 18:00") &&
          !x.includes("partial") &&
          !x.includes("updating"),
      );
      // Past the synced dates by a few hours: the 06-11 partition is missing.
      await typeRange(app, "2023-06-10T20:00..2023-06-11T02:00");
      f = await app.waitFor("! partial: 1/2 partitions · not synced 06-11");
      assertFits(f, 100, 30);
      // Narrow: the note keeps its counts and the activity gives way.
      app.resize(50, 16);
      f = await app.waitFor(
        (x) => x.split("\n").length <= 15 && x.split("\n").at(-1)!.startsWith("! partial: 1/2 partitions"),
      );
      assertFits(f, 50, 16);
    } finally {
      app.unmount();
    }
  });
});

describe("coverageNote", () => {
  it("is null for complete coverage and lists missing and failed dates, collapsing runs", () => {
    assert.equal(coverageNote(cov()), null);
    assert.equal(coverageNote(undefined), null);
    const c = cov({
      partitions_synced: 3,
      missing: ["2023-06-01", "2023-06-03", "2023-06-04", "2023-06-05"],
      failed: ["2023-06-07"],
    });
    assert.equal(coverageNote(c), "! partial: 3/7 partitions · not synced 06-01, 06-03→06-05 · failed 06-07");
    assert.equal(coverageNote(c, 62), "! partial: 3/7 partitions · not synced 06-01 +3 · failed 06-07");
    assert.equal(coverageNote(c, 61), "! partial: 3/7 partitions · not synced +4 · failed 06-07");
    assert.equal(coverageNote(c, 53), "! partial: 3/7 partitions · not synced +4 · failed +1");
    assert.equal(coverageNote(c, 30), "! partial 3/7");
    assert.equal(coverageNote(c, 8), "! parti…");
    // Dates in several years keep the year.
    assert.equal(
      coverageNote(cov({ partitions_synced: 5, missing: ["2022-12-31", "2023-01-01"] })),
      "! partial: 5/7 partitions · not synced 2022-12-31, 2023-01-01",
    );
  });

  it("leads the status bar in yellow and never disappears, however narrow", async () => {
    const client = new QueryClient({ run: () => Promise.reject(new Error("no")) });
    const c = cov({ partitions_synced: 6, missing: ["2023-06-02"] });
    for (const width of [120, 80, 40, 20]) {
      const app = render(
        <QueryClientContext.Provider value={client}>
          <StatusBar
            width={width}
            cachePath="/x/acme.duckdb"
            range={{ from: "2023-06-01", to: "2023-06-07", tz: "UTC" }}
            events={1234}
            coverage={c}
          />
        </QueryClientContext.Provider>,
      );
      await sleep(10);
      const f = app.lastFrame() ?? "";
      app.unmount();
      assert.match(f, /^! partial/, `${width}: ${f}`);
      assert.ok(displayWidth(f) <= width, `${width}: ${f}`);
      if (width >= 80)
        assert.match(f, /^! partial: 6\/7 partitions · not synced 06-02 │ .*2023-06-01 → 2023-06-07/);
    }
  });
  it("a message of the moment stays whole beside a long key warning", async () => {
    const client = new QueryClient({ run: () => Promise.reject(new Error("no")) });
    const state = "value size_kb dropped: no step has a number in it";
    const warning = `--hold "source": no "application_opened" event in the range has it, so every attempt stops at step 1`;
    const app = render(
      <QueryClientContext.Provider value={client}>
        <StatusBar
          width={100}
          cachePath="/x/acme.duckdb"
          range={{ from: "2023-06-01", to: "2023-06-07", tz: "UTC" }}
          state={state}
          warnings={[warning]}
        />
      </QueryClientContext.Provider>,
    );
    await sleep(10);
    const f = app.lastFrame() ?? "";
    app.unmount();
    assert.ok(f.includes(state), f);
    assert.match(f, /! --hold "source"/);
    assert.ok(displayWidth(f) <= 100, f);
  });
});
