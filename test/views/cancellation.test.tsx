import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { AnalysisSpec, TrendResult } from "../../src/queries/spec.js";
import {
  abortError,
  QueryClient,
  type QueryRunner,
  type RunOutput,
  specKey,
} from "../../src/views/hooks/useQuery.js";
import { KEYS, renderApp, type SmallCache, sleep, smallCache, testSession } from "./fixture.js";

/** Delays specs matching `slow` by `ms`; honours abort unless `ignoreAbort` (an engine that cannot stop). */
function slowRunner(
  real: QueryRunner,
  slow: (s: AnalysisSpec) => boolean,
  ms: number,
  opts: { ignoreAbort?: boolean; relabel?: (s: AnalysisSpec) => string | undefined } = {},
) {
  const stats = { started: 0, aborted: 0, finished: 0 };
  const runner: QueryRunner = {
    async run(spec, o) {
      if (slow(spec)) {
        stats.started++;
        await new Promise<void>((resolve, reject) => {
          const t = setTimeout(resolve, ms);
          if (!opts.ignoreAbort)
            o?.signal?.addEventListener("abort", () => {
              clearTimeout(t);
              stats.aborted++;
              reject(abortError());
            });
        });
        stats.finished++;
      }
      const out = await real.run(spec);
      const label = opts.relabel?.(spec);
      if (label && spec.kind === "trend") {
        const r = out.result as TrendResult;
        return { ...out, result: { ...r, series: r.series.map((s) => ({ ...s, event: label })) } };
      }
      return out;
    },
  };
  return { runner, stats };
}

const isTrend = (m: string) => (s: AnalysisSpec) =>
  s.kind === "trend" && s.measure.kind === m && s.events.length === 1 && s.range.from === "2023-06-01";

describe("cancellation", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  it("esc cancels a slow query at once; ctrl+r runs it again", async () => {
    const base = testSession(c);
    const { runner, stats } = slowRunner(base.runner, isTrend("events"), 60_000);
    const app = await renderApp({ ...base, runner });
    try {
      await app.waitFor("9 event types");
      await app.press("2");
      let f = await app.waitFor(/⠋|⠙|⠹|⠸|⠼|⠴|⠦|⠧|⠇|⠏/);
      assert.match(f, /trend( \+\d)? \d+\.\ds · esc to cancel/);
      assert.match(f, /running…/);
      const t0 = performance.now();
      await app.press(KEYS.esc);
      f = await app.waitFor("cancelled (ctrl+r reruns)");
      assert.ok(performance.now() - t0 < 1000);
      assert.equal(stats.aborted, 1);
      assert.doesNotMatch(f, /esc to cancel/);
      // The keyboard was never blocked: tabs switch while nothing runs.
      await app.press("1");
      await app.waitFor("9 event types");
      await app.press("2"); // coming back runs the cancelled query again
      await app.waitFor("esc to cancel");
      assert.equal(stats.started, 2);
      await app.press(KEYS.esc);
      await app.waitFor("cancelled (ctrl+r reruns)");
      await app.press(KEYS.ctrlR);
      await app.waitFor("esc to cancel");
      assert.equal(stats.started, 3);
      await app.press(KEYS.esc);
      await app.waitFor("cancelled (ctrl+r reruns)");
      assert.equal(stats.aborted, 3);
    } finally {
      app.unmount();
    }
  });

  it("a newer request cancels the older one, and the stale result never replaces the newer", async () => {
    const base = testSession(c);
    // The old query (events) ignores the abort and finishes late; the new one (users) is fast.
    const { runner, stats } = slowRunner(base.runner, isTrend("events"), 700, {
      ignoreAbort: true,
      relabel: (s) => (s.kind === "trend" ? (s.measure.kind === "events" ? "STALE" : "FRESH") : undefined),
    });
    const app = await renderApp({ ...base, runner });
    try {
      await app.waitFor("9 event types");
      await app.press("2");
      await app.waitFor("running…");
      await app.press("m");
      const f = await app.waitFor("── FRESH");
      assert.match(f, /users per day/);
      await sleep(1000); // the stale run finishes meanwhile
      assert.equal(stats.finished, 1);
      const later = app.lastFrame();
      assert.ok(later.includes("── FRESH"), later);
      assert.ok(!later.includes("STALE"), later);
      assert.match(later, /users per day/);
    } finally {
      app.unmount();
    }
  });

  it("the first Ctrl+C cancels a running query, the second quits", async () => {
    const base = testSession(c);
    const { runner, stats } = slowRunner(base.runner, isTrend("events"), 60_000);
    const app = await renderApp({ ...base, runner });
    try {
      await app.waitFor("9 event types");
      await app.press("2");
      await app.waitFor("esc to cancel");
      await app.press(KEYS.ctrlC);
      await app.waitFor("press Ctrl+C again to quit");
      assert.equal(stats.aborted, 1);
      assert.equal(app.quitCalls, 0);
      await app.press(KEYS.ctrlC);
      await app.waitFor(() => app.quitCalls === 1);
    } finally {
      app.unmount();
    }
  });

  it("the client caches by spec content and cancels on demand", async () => {
    let calls = 0;
    const client = new QueryClient({
      run: async (spec, o) => {
        calls++;
        if (spec.kind === "props") {
          await new Promise((_, reject) => o?.signal?.addEventListener("abort", () => reject(abortError())));
        }
        return { result: { events: [] }, sql: "SELECT 1", params: [], ms: 1 } as RunOutput;
      },
    });
    const a: AnalysisSpec = { kind: "catalog", range: { from: "2023-06-01", to: "2023-06-02", tz: "UTC" } };
    const b: AnalysisSpec = { kind: "catalog", range: { tz: "UTC", to: "2023-06-02", from: "2023-06-01" } };
    assert.equal(specKey(a), specKey(b));
    await client.run(a);
    await client.run(b);
    assert.equal(calls, 1);
    assert.equal(client.cancelAll(), false);
    const pending = client.run({ kind: "props", event: "x", topValues: 1 });
    assert.equal(client.busy, true);
    assert.equal(client.cancelAll(), true);
    await assert.rejects(pending, { name: "AbortError" });
    assert.equal(client.busy, false);
    client.invalidate();
    await client.run(a);
    assert.equal(calls, 3);
  });
});
