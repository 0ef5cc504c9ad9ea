// The TUI on ClickHouse (`evx ui --engine clickhouse`): the App on a `ClickHouseExecutor` session over the
// loopback adapter (ClickHouse's HTTP protocol served by chdb; test/views/chfixture.ts), the same small
// lake as a DuckDB cache beside it. The screens show the same as on the cache and every result equals
// DuckDB's; the status bar names the engine and host; the Sync tab lists the table's partitions with
// rows and bytes; S, D and L are refused; Esc kills a slow query on the server; engine errors are one
// red line in the status bar and the app keeps running.
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { Executor } from "../../src/queries/executor.js";
import type { AnalysisSpec } from "../../src/queries/spec.js";
import { formatNumber } from "../../src/render/format.js";
import type { QueryRunner } from "../../src/views/hooks/useQuery.js";
import { serverPartitionLine, serverState } from "../../src/views/screens/ServerTableScreen.js";
import { CH_EMPTY_TEXT, CH_SYNC_REFUSED } from "../../src/views/state/chsession.js";
import {
  type ChLake,
  chLakeFrom,
  chTestSession,
  REJECTED,
  REJECTS_DATE,
  UNLOADED_DATE,
} from "./chfixture.js";
import {
  assertFits,
  type Driven,
  KEYS,
  renderApp,
  type SmallCache,
  smallCache,
  testSession,
} from "./fixture.js";

/** Records every spec the screens ran and its result. */
function recording(real: QueryRunner) {
  const runs: { spec: AnalysisSpec; result: unknown }[] = [];
  const runner: QueryRunner = {
    async run(spec, o) {
      const out = await real.run(spec, o);
      runs.push({ spec, result: out.result });
      return out;
    },
  };
  return { runner, runs };
}

/** The frame without its status bar (the last line: engine, timings). */
const body = (f: string) => f.split("\n").slice(0, -1).join("\n");
const statusLine = (f: string) => f.split("\n").at(-1) ?? "";

/**
 * Waits until both apps show `test` and the same frame above the status bar (each settles at its own
 * pace), then returns the ClickHouse one; on timeout, fails with the difference.
 */
async function sameBody(ch: Driven, dk: Driven, test: (f: string) => boolean, ms = 30_000): Promise<string> {
  await ch.waitFor(test, ms);
  await dk.waitFor(test, ms);
  const end = Date.now() + ms;
  for (;;) {
    const [a, b] = [ch.lastFrame(), dk.lastFrame()];
    if (test(a) && test(b) && body(a) === body(b)) return a;
    if (Date.now() > end) {
      assert.equal(body(a), body(b));
      return a;
    }
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Builds the 3-step funnel of the e2e test. */
async function funnel(app: Driven): Promise<string> {
  await app.press("3");
  await app.waitFor("No steps yet");
  await app.press("a", "application_o", KEYS.enter, KEYS.enter);
  await app.waitFor("Add a second step");
  await app.press("a", "file_op", KEYS.enter, KEYS.enter);
  await app.press("a", "file_sa", KEYS.enter, KEYS.enter);
  return app.waitFor((x) => /3\. file_saved .*\d+\.\d%/.test(x) && !x.includes("…"), 30_000);
}

describe("the TUI on ClickHouse", () => {
  let c: SmallCache;
  let lake: ChLake;
  let duck: Executor;
  before(async () => {
    c = await smallCache();
    lake = await chLakeFrom(c.cache, c.dir);
    duck = new Executor(c.cache);
  });
  after(async () => {
    duck?.close();
    await lake?.srv.stop();
    c?.dispose();
  });

  /** Every recorded ClickHouse result equals the DuckDB executor's on the same spec. */
  async function sameAsDuckDb(runs: { spec: AnalysisSpec; result: unknown }[], kinds: string[]) {
    for (const k of kinds)
      assert.ok(
        runs.some((r) => r.spec.kind === k),
        `a ${k} ran: ${runs.map((r) => r.spec.kind)}`,
      );
    for (const { spec, result } of runs)
      assert.deepEqual(result, (await duck.run(spec)).result, `${spec.kind}: ${JSON.stringify(spec)}`);
  }

  it("Events, Trends, Funnel, drill-downs and Retention show what they show on the cache; results equal DuckDB's", async () => {
    const rec = recording(chTestSession(lake).runner);
    const session = chTestSession(lake, () => rec.runner);
    const ch = await renderApp(session, { columns: 120, rows: 32 });
    const dk = await renderApp(testSession(c), { columns: 120, rows: 32 });
    try {
      // Events
      // The catalog, then the sparklines of the last 14 days (their own query).
      const ready = (f: string) =>
        /button_clicked\s+1,946/.test(f) &&
        /^purchase .*[▁▂▃▄▅▆▇█]{14}$/m.test(f) &&
        f.includes("5,000 events");
      const fc = await sameBody(ch, dk, ready);
      const fd = dk.lastFrame();
      assert.match(fc, /9 event types · 2023-06-01 → 2023-06-14/);
      // The status bar names the engine and host, not a cache.
      const port = new URL(lake.url).port;
      assert.match(
        statusLine(fc),
        new RegExp(
          `clickhouse · 127\\.0\\.0\\.1:${port}/default\\.events │ 2023-06-01 → 2023-06-14 │ 5,000 events`,
        ),
      );
      assert.doesNotMatch(fc, /duckdb/);
      assert.match(statusLine(fd), /cache\.duckdb │ 2023-06-01 → 2023-06-14 │ 5,000 events/);

      // Trends: the top event's chart.
      await ch.press("2");
      await dk.press("2");
      const chart = (f: string) =>
        /── button_clicked/.test(f) && /events per day/.test(f) && !/updating|…$/m.test(f);
      await sameBody(ch, dk, chart);
      // Its table view too (every bucket's number).
      await ch.press("t");
      await dk.press("t");
      const table = (f: string) => /2023-06-14/.test(f) && !/chart/.test(f.split("\n")[1] ?? "");
      await sameBody(ch, dk, table);

      // Funnel: three steps, with medians.
      await Promise.all([funnel(ch), funnel(dk)]);
      const uc = await sameBody(ch, dk, (x) => /3\. file_saved .*\d+\.\d%/.test(x) && !x.includes("…"));
      assert.match(uc, /1\. application_opened .*118\s+100\.0%\s+–\s+–/);
      assertFits(uc, 120, 32);

      // Drill-down: the users who reached step 3, then the first one's timeline.
      await ch.press(KEYS.enter);
      await dk.press(KEYS.enter);
      const users = (f: string) => /Users · reached step 3 · file_saved\n[\d,]+ users?\b/.test(f);
      await sameBody(ch, dk, users);
      await ch.press(KEYS.enter);
      await dk.press(KEYS.enter);
      const timeline = (f: string) => /Timeline of \S+ · \d+ events/.test(f) && /lines 1-\d+ of/.test(f);
      await sameBody(ch, dk, timeline);
      await ch.press(KEYS.esc, KEYS.esc);
      await dk.press(KEYS.esc, KEYS.esc);

      // Retention: the cohort grid of the top event.
      await ch.press("4");
      await dk.press("4");
      const grid = (f: string) => /^Average\s+[\d,]+/m.test(f) && /Retention · start button_clicked/.test(f);
      await sameBody(ch, dk, grid);

      await sameAsDuckDb(rec.runs, ["catalog", "trend", "funnel", "users", "timeline", "retention"]);
    } finally {
      ch.unmount();
      dk.unmount();
      await session.close();
    }
  });

  it("s shows the ClickHouse SQL with its parameters inlined, e exports; d's last presets end at the newest event", async () => {
    const session = chTestSession(lake);
    const out = mkdtempSync(join(c.dir, "export-"));
    const app = await renderApp(session, { columns: 120, rows: 32, props: { exportDir: out } });
    try {
      await app.waitFor(/button_clicked\s+1,946/, 30_000);
      await app.press("s");
      let f = await app.waitFor("ClickHouse SQL of the Events result (parameters inlined)");
      assert.doesNotMatch(f, /\{p\d+:/, "parameters inlined");
      assert.doesNotMatch(f, /\$\d/, "not DuckDB's placeholders");
      assert.match(f, /event_type/);
      await app.press(KEYS.esc);
      await app.waitFor("9 event types");
      // e: the same CSV as on the cache.
      await app.press("e");
      await app.waitFor("Exported");
      const csv = readdirSync(out).find((n) => n.endsWith(".csv"))!;
      const lines = readFileSync(join(out, csv), "utf8").split("\n");
      assert.equal(lines[0], "event_type,events,users,first_seen,last_seen");
      assert.match(lines[1]!, /^button_clicked,1946,118,2023-06-01T/);
      await app.press(KEYS.esc);
      await app.waitFor("9 event types");
      // last 1h: from ClickHouse's newest event, the catalog re-runs on it.
      const latest = (await session.lastEventUs())!;
      assert.equal(latest, (await duck.lastEventUs())!);
      await app.press("d");
      await app.waitFor("Last 15 minutes");
      await app.press(KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.up, KEYS.up);
      await app.waitFor("› Last 15 minutes");
      await app.press(KEYS.down, KEYS.enter);
      f = await app.waitFor(/last 1h · 2023-06-14 \d\d:\d\d → \d\d:\d\d/, 30_000);
      await app.waitFor(
        (x) => /event types · 2023-06-14 \d\d:\d\d → \d\d:\d\d/.test(x) && !x.includes("updating"),
      );
    } finally {
      app.unmount();
      await session.close();
    }
  });

  it("the Sync tab lists the table's partitions with rows and bytes, the listing and the last load", async () => {
    const session = chTestSession(lake);
    const out = mkdtempSync(join(c.dir, "export-"));
    const app = await renderApp(session, { columns: 100, rows: 30, props: { exportDir: out } });
    try {
      await app.waitFor(/button_clicked\s+1,946/, 30_000);
      await app.press("5");
      const f = await app.waitFor((x) => x.includes("15 partitions") && !x.includes("listing"), 30_000);
      const port = new URL(lake.url).port;
      assert.match(f, new RegExp(`^table 127\\.0\\.0\\.1:${port}/default\\.events · 15 partitions`, "m"));
      assert.match(f, /^5,000 rows · [\d.]+ kB on disk · \d+ parts · last load 2023-06-16 08:30:00/m);
      assert.match(f, /Date\s+State\s+Rows\s+Size\s+Parts\s+Objects\s+Src size\s+Rejected\s+Last load/);
      // Rows per date are the cache's events per date; bytes come from system.parts.
      const rows = await session.server!.partitions();
      assert.equal(rows.length, 15);
      for (const d of lake.dates) {
        const r = rows.find((x) => x.date === d.date)!;
        assert.equal(r.rows, d.events, d.date);
        assert.ok(r.bytes > 0);
        assert.equal(r.sourceObjects, d.objects);
        assert.equal(serverState(r), "loaded");
        const line = new RegExp(
          `^ {2}${d.date} loaded\\s+${formatNumber(d.events)}\\s+[\\d.]+ kB\\s+\\d+\\s+${d.objects}\\s+[\\d.]+ kB\\s+${d.date === REJECTS_DATE ? REJECTED : ""}\\s+ok 2023-06-16 08:30$`,
          "m",
        );
        assert.match(f, line);
      }
      assert.match(f, new RegExp(`^ {2}${UNLOADED_DATE} not loaded\\s+–\\s+–\\s+–\\s+1\\s+512 B\\s+–`, "m"));
      assert.equal(
        serverPartitionLine(rows.find((r) => r.date === UNLOADED_DATE)!, 100).trimEnd(),
        f
          .split("\n")
          .find((l) => l.includes(UNLOADED_DATE))!
          .trimEnd()
          .replace(/^›/, " "),
      );
      assertFits(f, 100, 30);

      // S, D and L are refused with one line; the list stays.
      await app.press("S");
      let g = await app.waitFor(CH_SYNC_REFUSED);
      assert.match(g, /15 partitions/);
      await app.press("R");
      await app.waitFor(
        (x) => !x.includes(CH_SYNC_REFUSED) && x.includes("15 partitions") && !x.includes("listing"),
      );
      await app.press("D");
      await app.waitFor(CH_SYNC_REFUSED);
      await app.press("L");
      g = await app.waitFor((x) => statusLine(x).includes("ClickHouse loads its own data"));
      assert.doesNotMatch(g, /live ·/);
      // 80×24: the list leaves out parts and source bytes; the status bar still names the engine.
      app.resize(80, 24);
      g = await app.waitFor((x) =>
        /^ {2}2023-06-01 loaded\s+367\s+[\d.]+ kB\s+23\s+ok 06-16 08:30$/m.test(x),
      );
      assertFits(g, 80, 24);
      // (once L's message has gone, after 5 s)
      g = await app.waitFor((x) => /^clickhouse\b.* │ 5,000 events/.test(statusLine(x)), 15_000);
      assertFits(g, 80, 24);
      app.resize(100, 30);
      // e exports the partitions.
      await app.press("e");
      await app.waitFor("Exported");
      const csv = readdirSync(out).find((n) => /^evx-partitions-\d{8}-\d{6}\.csv$/.test(n))!;
      const lines = readFileSync(join(out, csv), "utf8").trim().split("\n");
      assert.equal(
        lines[0],
        "date,state,rows,bytes,parts,source_objects,source_bytes,last_load_status,last_load_at,last_load_rejected",
      );
      assert.equal(lines.length, 16);
      assert.match(
        lines[1]!,
        new RegExp(`^2023-06-01,loaded,${lake.dates[0]!.events},\\d+,1,${lake.dates[0]!.objects},`),
      );
    } finally {
      app.unmount();
      await session.close();
    }
  });

  it("Esc on a slow query aborts it and kills it on the server; ctrl+r runs it again", async () => {
    const session = chTestSession(lake);
    const app = await renderApp(session, { columns: 120, rows: 32 });
    const hung: string[] = [];
    try {
      await app.waitFor(/button_clicked\s+1,946/, 30_000);
      // Every query on the events table hangs from now on (the server never answers it).
      lake.srv.onQuery = (q) => {
        if (/FROM\s+`?events`?\b|\bevents\b AS|WITH events AS/i.test(q.sql) && !/system\./.test(q.sql)) {
          hung.push(q.queryId);
          return "hang";
        }
        return undefined;
      };
      await app.press("2");
      await app.waitFor((x) => /esc to cancel/.test(statusLine(x)) && hung.length > 0, 30_000);
      const ids = [...hung];
      await app.press(KEYS.esc);
      await app.waitFor((x) => /cancelled/.test(x) && !/esc to cancel/.test(statusLine(x)));
      // The HTTP request was aborted and KILL QUERY stopped each hung query on the server.
      const end = Date.now() + 10_000;
      while (!ids.every((id) => lake.srv.killed.includes(id)) && Date.now() < end)
        await new Promise((r) => setTimeout(r, 50));
      for (const id of ids) assert.ok(lake.srv.killed.includes(id), `killed ${id}: ${lake.srv.killed}`);
      assert.ok(
        lake.srv.log.some((q) => /KILL QUERY/.test(q.sql)),
        "KILL QUERY sent",
      );
      lake.srv.onQuery = undefined;
      await app.press(KEYS.ctrlR);
      await app.waitFor((x) => /── button_clicked/.test(x) && /events per day/.test(x), 30_000);
    } finally {
      lake.srv.onQuery = undefined;
      app.unmount();
      await session.close();
    }
  });

  it("engine errors are one red line in the status bar, the app keeps running, and recovers", async () => {
    const session = chTestSession(lake);
    const app = await renderApp(session, { columns: 120, rows: 32 });
    try {
      await app.waitFor(/button_clicked\s+1,946/, 30_000);
      // A server limit: reading more rows than the profile allows.
      await lake.srv.setProfile({ max_rows_to_read: 10 });
      await app.press(KEYS.ctrlR);
      let f = await app.waitFor((x) => /failed: ClickHouse at .* server limit/.test(statusLine(x)), 30_000);
      assert.doesNotMatch(f, /\n\s+at /, "no stack trace");
      assert.match(
        statusLine(f),
        /catalog failed: ClickHouse at 127\.0\.0\.1:\d+\/default stopped the query/,
      );
      await lake.srv.setProfile({});
      // The server goes away: unreachable, one line; the app still answers keys.
      lake.srv.crash();
      await app.press(KEYS.ctrlR);
      f = await app.waitFor((x) => /failed: .*(cannot reach|went away)/.test(statusLine(x)), 30_000);
      assert.doesNotMatch(f, /\n\s+at /);
      await app.press("2");
      await app.waitFor((x) => /Trends/.test(x) && /failed/.test(statusLine(x)), 30_000);
      await lake.srv.revive();
      await app.press("1", KEYS.ctrlR);
      f = await app.waitFor(
        (x) => /button_clicked\s+1,946/.test(x) && /clickhouse · .*5,000 events/.test(statusLine(x)),
        30_000,
      );
      assert.doesNotMatch(statusLine(f), /failed/);
    } finally {
      await lake.srv.setProfile({});
      await lake.srv.revive();
      app.unmount();
      await session.close();
    }
  });

  it("an empty table says how to load it; q closes the engine", async () => {
    await lake.srv.exec("CREATE TABLE empty_events AS events");
    const { ClickHouseExecutor } = await import("../../src/queries/clickhouse/executor.js");
    const { chSessionFor } = await import("../../src/views/state/chsession.js");
    const session = chSessionFor(ClickHouseExecutor.open({ chUrl: lake.url, chTable: "empty_events" }));
    let closes = 0;
    let closed: Promise<void> | undefined;
    const app = await renderApp(
      {
        ...session,
        close() {
          closes++;
          closed = session.close();
          return closed;
        },
      },
      { columns: 120, rows: 32 },
    );
    try {
      const f = await app.waitFor(CH_EMPTY_TEXT, 30_000);
      assert.match(statusLine(f), /clickhouse · 127\.0\.0\.1:\d+\/default\.empty_events/);
      await app.press("q");
      const end = Date.now() + 5000;
      while (app.quitCalls === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      assert.equal(app.quitCalls, 1);
      assert.equal(closes, 1);
      await closed;
      // The engine's client is closed (after any KILL QUERY in flight was sent).
      assert.equal((session.engine.client as unknown as { closed: boolean }).closed, true);
    } finally {
      app.unmount();
      await session.close();
    }
  });
});
