/**
 * `C` in a drill-down (issue #27): every user of the list shown (all of them, not only the page drawn)
 * saved as a static cohort under a typed name, through the session, on a real DuckDB cache and on
 * ClickHouse (chdb behind the loopback adapter). The saved ids are checked against the engine's own
 * users query of the same spec run without a limit; a name already saved and a bad name are refused
 * with one line in the status bar, and the saved cohort stays as it was.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { cacheCohortStore } from "../../src/cache/cohorts.js";
import { chCohortStore, staticCohortTable } from "../../src/queries/clickhouse/cohorts.js";
import { Executor } from "../../src/queries/executor.js";
import type { AnalysisSpec, UsersResult, UsersSpec } from "../../src/queries/spec.js";
import type { QueryRunner } from "../../src/views/hooks/useQuery.js";
import { sessionFor } from "../../src/views/state/session.js";
import { type ChLake, chLakeFrom, chTestSession } from "./chfixture.js";
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

/** The panel's total: its second line, `1,234 users`. */
function panelTotal(frame: string): number {
  const m = /^Users · .*\n([\d,]+) users?\b/m.exec(frame);
  return m ? num(m[1]!) : Number.NaN;
}

/** User rows drawn in the panel. */
const panelRows = (frame: string) =>
  [...frame.matchAll(/^[ ›] \S+\s+[\d,]+\s+\d{4}-\d\d-\d\d \d\d:\d\d/gm)].length;

/** Records the users specs the panel ran (as the runner got them: with the identity mode). */
function recording(real: QueryRunner) {
  const users: UsersSpec[] = [];
  const runner: QueryRunner = {
    async run(spec: AnalysisSpec, o) {
      if (spec.kind === "users") users.push(structuredClone(spec));
      return real.run(spec, o);
    },
    identityDefault: real.identityDefault?.bind(real),
  };
  return { runner, users };
}

/** A 2-step funnel, then Enter on step 1 (reached step 1): the panel with its total. */
async function openDrill(app: Driven): Promise<number> {
  await app.waitFor("button_clicked", 30_000);
  await app.press("3");
  await app.waitFor("No steps yet");
  await app.press("a", "application_o", KEYS.enter, KEYS.enter);
  await app.waitFor("Add a second step");
  await app.press("a", "file_op", KEYS.enter, KEYS.enter);
  await app.waitFor((x) => /2\. file_opened .*\d+\.\d%/.test(x) && !x.includes("…"), 30_000);
  await app.press("k", KEYS.enter);
  const f = await app.waitFor(
    (x) => x.includes("Users · reached step 1") && !Number.isNaN(panelTotal(x)) && !x.includes("updating"),
    30_000,
  );
  return panelTotal(f);
}

/** Types `name` into the `C` prompt and submits it. */
async function saveAs(app: Driven, name: string, total: number): Promise<void> {
  await app.press("C");
  await app.waitFor(`Save the ${total.toLocaleString("en-US")} users of this list as the cohort`);
  await app.press(name);
  await app.waitFor(`> ${name}▏`);
  await app.press(KEYS.enter);
}

/** Every user id of `spec` by the engine, in order. */
async function allUsers(run: QueryRunner, spec: UsersSpec): Promise<string[]> {
  const out = await run.run({ ...spec, limit: 1_000_000 });
  return (out.result as UsersResult).users.map((u) => u.user_id).sort();
}

describe("C saves a drill-down's users as a static cohort", () => {
  let c: SmallCache;
  let ex: Executor;
  /** The first test's list: its spec as it ran, and its total. */
  let drilled: UsersSpec | undefined;
  let drilledTotal = -1;
  before(async () => {
    c = await smallCache();
    ex = new Executor(c.cache);
  });
  after(() => {
    ex?.close();
    c?.dispose();
  });

  it("DuckDB: every user of the list, not only the page drawn; a taken or bad name is refused", async () => {
    const rec = recording(ex as unknown as QueryRunner);
    const app = await renderApp(testSession(c, rec.runner), { columns: 80, rows: 24 });
    try {
      const total = await openDrill(app);
      const shown = panelRows(app.lastFrame());
      assert.ok(total > shown && shown > 0, `the list has more users (${total}) than it draws (${shown})`);
      const spec = rec.users.at(-1)!;
      drilled = spec;
      drilledTotal = total;
      assert.equal(spec.select.kind === "reached" ? spec.select.step : -1, 1, JSON.stringify(spec.select));

      // `?` lists the key with the panel's ("Users and timeline"; scrolled to with down).
      await app.press("?");
      await app.waitFor("up/down scroll");
      // One key at a time, each waited for (the scroll position moves): two keys written before Ink
      // reads the first can arrive as one chunk on a loaded machine, and a chunk of two is no key.
      const line = "C            Save all users as a cohort";
      const top = (x: string) => /(\d+)-\d+ of \d+/.exec(x)?.[1];
      for (let i = 0; i < 80 && !app.lastFrame().includes(line); i++) {
        const at = top(app.lastFrame());
        await app.press(KEYS.down);
        await app.waitFor((x) => x.includes(line) || top(x) !== at);
      }
      assert.match(app.lastFrame(), /Users and timeline[\s\S]*C {12}Save all users as a cohort/);
      await app.press("?");
      await app.waitFor((x) => !x.includes("Save all users") && x.includes("Users · reached step 1"));

      // The palette (`:`) offers it over the list and runs it as the key: the prompt opens; esc closes
      // it and saves nothing.
      await app.press(":");
      await app.waitFor("Run an action");
      await app.press("as a cohort");
      await app.waitFor((x) => /› Save all users as a cohort/.test(x));
      await app.press(KEYS.enter);
      assertFits(await app.waitFor("Save the"), 80, 24);
      if (process.env.SHOW_FRAMES) console.log(app.lastFrame());
      await app.press(KEYS.esc);
      await app.waitFor((x) => !x.includes("Save the") && x.includes("Users · reached step 1"));
      assert.deepEqual(await cacheCohortStore(c.cache).list(), []);

      await saveAs(app, "openers", total);
      let f = await app.waitFor(`saved ${total.toLocaleString("en-US")} users as cohort openers`, 30_000);
      assert.match(f, /Users · reached step 1/, "the panel stays open");
      const saved = await cacheCohortStore(c.cache).list();
      assert.deepEqual(
        saved.map((s) => [s.name, s.def]),
        [["openers", { kind: "static", users: total }]],
      );
      const ids = (
        await c.cache.all<{ u: string }>("SELECT user_id AS u FROM cohort_users WHERE name = 'openers'")
      )
        .map((r) => r.u)
        .sort();
      assert.equal(ids.length, total);
      assert.deepEqual(ids, await allUsers(ex as unknown as QueryRunner, spec));

      // A name already saved is refused, and the cohort stays as it was.
      await saveAs(app, "openers", total);
      f = await app.waitFor("exists already", 30_000);
      if (process.env.SHOW_FRAMES) console.log(f);
      assertFits(f, 80, 24);
      assert.match(f, /cohort "openers" exists already: pick another name/);
      // A bad name: one line, nothing saved.
      await saveAs(app, "no way", total);
      f = await app.waitFor("bad cohort name", 30_000);
      assert.match(f, /bad cohort name "no way": use letters/);
      assert.equal((await cacheCohortStore(c.cache).list()).length, 1);
      const again = await c.cache.all<{ n: number }>(
        "SELECT count(*) AS n FROM cohort_users WHERE name = 'openers'",
      );
      assert.equal(Number(again[0]!.n), total);

      // The cohort is usable: filtering the same funnel step on it keeps every one of its users.
      const inCohort = await ex.run({
        ...spec,
        of: {
          ...spec.of,
          filters: [
            ...spec.of.filters,
            { key: "cohort", op: "=", value: "openers", cohort: { name: "openers" } },
          ],
        },
        limit: 1_000_000,
      });
      assert.equal(inCohort.result.total, total);
    } finally {
      app.unmount();
    }
  });

  it("the session refuses to save on a cache open read-only, in one line, and saves nothing", async () => {
    // Not closed: closing the session would close the test's cache (its executor opened no connection).
    const s = sessionFor(c.cache, { readOnly: true, lockedBy: 4242 });
    const spec = {
      kind: "users",
      of: {
        kind: "trend",
        events: [{ event: "application_opened", filters: [] }],
        measure: { kind: "users" },
        interval: "day",
        filters: [],
        range: { from: "2023-06-01", to: "2023-06-15", tz: "UTC" },
      },
      select: { kind: "bucket", t: "2023-06-02T00:00:00.000Z" },
      limit: 10,
      range: { from: "2023-06-01", to: "2023-06-15", tz: "UTC" },
    } as unknown as UsersSpec; // refused before it is read
    await assert.rejects(s.saveCohort!("ro_try", spec), {
      message: "the cache is open read-only (another evx process, PID 4242, holds it): no saving cohorts",
    });
    assert.ok(!(await cacheCohortStore(c.cache).list()).some((x) => x.name === "ro_try"));
  });

  it("the save does not wait for live mode or a sync: it writes beside them, on a connection of its own", async () => {
    const s = testSession(c);
    const spec = structuredClone(drilled!);
    // Live mode (the real watch loop on the cache's folder source) holds the cache's writer.
    const ac = new AbortController();
    let cycles = 0;
    const live = s.sync.watch({ everyMs: 60_000, signal: ac.signal, onCycle: () => cycles++ });
    try {
      for (let i = 0; i < 400 && cycles === 0; i++) await new Promise((r) => setTimeout(r, 25));
      assert.equal(cycles, 1, "live mode ran its first cycle and waits for the next");
      await assert.rejects(s.sync.evict(["2023-06-01"]), /live mode is syncing this cache/);
      assert.equal(await s.saveCohort!("during_live", spec), drilledTotal);
      // A write transaction left open on the cache's own connection (as a sync's batch holds one).
      await c.cache.run("BEGIN TRANSACTION");
      try {
        await c.cache.run("INSERT INTO meta VALUES ('cohort_test', 'x')");
        assert.equal(await s.saveCohort!("during_batch", spec), drilledTotal);
      } finally {
        await c.cache.run("ROLLBACK");
      }
    } finally {
      ac.abort();
      await live;
    }
    const names = (await cacheCohortStore(c.cache).list()).map((x) => x.name);
    assert.ok(names.includes("during_live") && names.includes("during_batch"), names.join(","));
  });

  it("ClickHouse: the same list saved on the server, the same ids; a taken name is refused", async () => {
    const lake: ChLake = await chLakeFrom(c.cache, c.dir);
    const rec = recording(chTestSession(lake).runner);
    const session = chTestSession(lake, () => rec.runner);
    const app = await renderApp(session, { columns: 110, rows: 24 });
    try {
      const total = await openDrill(app);
      const spec = rec.users.at(-1)!;
      await saveAs(app, "ch_openers", total);
      await app.waitFor(`saved ${total.toLocaleString("en-US")} users as cohort ch_openers`, 30_000);
      const saved = (await chCohortStore(session.engine.client).list()).find((s) => s.name === "ch_openers");
      assert.equal(saved?.def.kind, "static");
      assert.equal(saved?.def.kind === "static" ? saved.def.users : -1, total);
      const ids = (
        await session.engine.client.rows<{ u: string }>(
          `SELECT user_key AS u FROM ${staticCohortTable("ch_openers")}`,
        )
      )
        .map((r) => r.u)
        .sort();
      // The same users as the list on the server, and as DuckDB's list of the same spec.
      assert.deepEqual(ids, await allUsers(session.runner, spec));
      assert.deepEqual(ids, await allUsers(ex as unknown as QueryRunner, spec));

      await saveAs(app, "ch_openers", total);
      const f = await app.waitFor("exists already", 30_000);
      assert.match(f, /cohort "ch_openers" exists already: pick another name/);
    } finally {
      app.unmount();
      await session.close();
      await lake.srv.stop();
    }
  });
});
