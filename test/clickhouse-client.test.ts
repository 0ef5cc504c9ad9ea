// The ClickHouse engine's HTTP path, through the official @clickhouse/client against the loopback adapter
// (test/helpers/chhttp.ts: ClickHouse's HTTP protocol served by chdb): runs equal DuckDB's, query ids,
// cancel (the HTTP request aborts and KILL QUERY stops the query on the server), retries, and every fault
// as one line with its exit code. The client and ClickHouse are never mocked. The password never appears.
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { Cache } from "../src/cache/db.js";
import { sync } from "../src/cache/sync.js";
import { bookkeepingDdl } from "../src/queries/clickhouse/coverage.js";
import { ClickHouseExecutor, inlineChSql } from "../src/queries/clickhouse/executor.js";
import { eventsDdl, propsMapSql } from "../src/queries/clickhouse/schema.js";
import { EngineError } from "../src/queries/engine.js";
import { AbortError, buildQuery, Executor, shapeResult } from "../src/queries/executor.js";
import type { AnalysisSpec, FunnelResult } from "../src/queries/spec.js";
import { folderSource } from "../src/source/folder.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { type ChHttpServer, startChHttp } from "./helpers/chhttp.js";
import { type CliResult, evxRun } from "./helpers/cli.js";
import { jsonl, tempDir } from "./helpers/tmp.js";

const USER = "analyst";
const PASSWORD = "pw-Very-Secret-7731";
const dir = tempDir();
let srv: ChHttpServer;
let cache: Cache;
/** Every CLI run of this file, to check the password never appears in any output. */
const outputs: CliResult[] = [];

interface Ev {
  type: string;
  iso: string;
  user: string;
  props: Record<string, unknown>;
}

/** Three days, a few users, properties of each kind; deterministic. */
function lakeEvents(): Ev[] {
  const out: Ev[] = [];
  let seed = 7;
  const rnd = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648;
  };
  const types = ["app_open", "button_clicked", "purchase", "signed_up"];
  for (let d = 1; d <= 3; d++)
    for (let i = 0; i < 40; i++) {
      const type = types[Math.floor(rnd() * types.length)];
      const ms = Date.UTC(2023, 5, d) + Math.floor(rnd() * 86_400_000);
      out.push({
        type,
        iso: new Date(ms).toISOString(),
        user: `u${Math.floor(rnd() * 12)}`,
        props: {
          plan: rnd() < 0.5 ? "pro" : "free",
          ...(type === "purchase" ? { revenue: Math.round(rnd() * 1000) / 10 } : {}),
          ...(rnd() < 0.2 ? { flag: true } : {}),
        },
      });
    }
  return out;
}

const url = (user = USER, db = "default") => `${srv.url.replace("http://", `http://${user}@`)}/${db}`;
const chEnv = { EVX_CLICKHOUSE_PASSWORD: PASSWORD };

async function cli(args: string[], env: NodeJS.ProcessEnv = chEnv): Promise<CliResult> {
  const r = await evxRun(args, env, 60_000);
  outputs.push(r);
  return r;
}

/** The one stderr line of a failed command. */
function oneLine(r: CliResult): string {
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line, got: ${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, "no stack trace");
  return lines[0];
}

const engineOf = (opts: { user?: string; password?: string; table?: string } = {}) =>
  ClickHouseExecutor.open(
    {
      chUrl: `${srv.url.replace("http://", `http://${opts.user ?? USER}:${encodeURIComponent(opts.password ?? PASSWORD)}@`)}/default`,
      chTable: opts.table,
    },
    { maxAttempts: 2 },
  );

before(async () => {
  const events = lakeEvents();
  const files: Record<string, string> = {};
  for (const e of events) {
    const key = `date=${e.iso.slice(0, 10)}/part-0000.jsonl`;
    files[key] =
      (files[key] ?? "") +
      jsonl([{ event_type: e.type, event_time: e.iso, user_id: e.user, event_properties: e.props }]);
  }
  writeLakeFiles(join(dir, "lake"), files);
  cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  await sync(cache, folderSource(join(dir, "lake")));

  srv = await startChHttp({ user: USER, password: PASSWORD });
  // The table as `evx clickhouse schema --apply` makes it: with the load's bookkeeping.
  await srv.exec(eventsDdl({ table: "events" }));
  for (const sql of bookkeepingDdl("events")) await srv.exec(sql);
  await srv.exec(
    "CREATE TABLE raw (event_type String, us Int64, user_key String, properties String, date String) ENGINE = Memory",
  );
  const rows = events.map((e) =>
    JSON.stringify({
      event_type: e.type,
      us: Date.parse(e.iso) * 1000,
      user_key: e.user,
      properties: JSON.stringify(e.props),
      date: e.iso.slice(0, 10),
    }),
  );
  await srv.exec(`INSERT INTO raw FORMAT JSONEachRow\n${rows.join("\n")}\n`);
  await srv.exec(`INSERT INTO events SELECT event_type, fromUnixTimestamp64Micro(us, 'UTC'), user_key, properties,
      ${propsMapSql("properties")}, toDate(date) FROM raw`);
  await srv.exec("DROP TABLE raw");
  await srv.exec(
    "CREATE TABLE thin (event_type LowCardinality(String), event_time DateTime64(6, 'UTC')) ENGINE = MergeTree ORDER BY event_type",
  );
});

after(async () => {
  cache?.close();
  await srv?.stop();
});

const range = { from: "2023-06-01", to: "2023-06-03", tz: "UTC" };
/** The adapter's hook for a server that fails every statement with materialized CTEs. */
const failMaterialized = ({ sql }: { sql: string }) =>
  / AS MATERIALIZED \(/.test(sql) ? { sql: "SELECT throwIf(1, 'a materialized CTE bug')" } : undefined;
/** A funnel with time to convert: it reads its per-user rows 3 times (materialized CTEs). */
const ttcFunnel: AnalysisSpec = {
  kind: "funnel",
  steps: [
    { event: "app_open", filters: [] },
    { event: "button_clicked", filters: [] },
    { event: "purchase", filters: [] },
  ],
  withinSeconds: 86_400,
  timeToConvert: { from: 1, to: 3 },
  range,
  filters: [],
  limit: 10,
};

/** Whether the ClickHouse builders of `spec` exist yet (they land separately from the engine). */
function chBuilt(spec: AnalysisSpec): boolean {
  try {
    return /\{p1:/.test(buildQuery(spec, { engine: "clickhouse" }, "clickhouse").sql);
  } catch {
    return false;
  }
}

describe("runs through the official client", () => {
  const specs: AnalysisSpec[] = [
    { kind: "catalog", range },
    {
      kind: "trend",
      events: [{ event: "button_clicked", filters: [] }],
      measure: { kind: "users" },
      interval: "day",
      range,
      filters: [{ key: "plan", op: "=", value: "pro" }],
      limit: 10,
    },
    {
      kind: "funnel",
      steps: [
        { event: "app_open", filters: [] },
        { event: "purchase", filters: [] },
      ],
      withinSeconds: 86_400,
      range,
      filters: [],
      limit: 10,
    },
  ];
  for (const spec of specs)
    test(`${spec.kind}: the same result, range and coverage as DuckDB`, {
      skip: !chBuilt(spec) && "ClickHouse builder not there yet",
    }, async () => {
      const ch = engineOf();
      const duck = new Executor(cache);
      try {
        const [a, b] = [await ch.run(spec), await duck.run(spec)];
        assert.deepEqual(a.result, b.result);
        assert.deepEqual(a.range, b.range);
        // No load bookkeeping on this table: coverage is its partitions, here all of the lake's dates.
        assert.deepEqual(a.coverage, b.coverage);
        assert.match(a.sql, /\{p1:Int64\}/);
      } finally {
        await ch.close();
        duck.close();
      }
    });

  test("a CTE read twice is sent AS MATERIALIZED once the server says it can, with the same answer", async () => {
    // Time to convert reads the per-user rows 3 times (steps, the statistics, the histogram).
    const spec = ttcFunnel;
    const ch = engineOf();
    const duck = new Executor(cache);
    try {
      const before = srv.log.length;
      const a = await ch.run(spec);
      const sent = srv.log.slice(before).find((q) => /\bpu AS MATERIALIZED \(/.test(q.sql));
      assert.ok(sent, "the statement materializes the per-user rows");
      assert.equal(sent.status, "ok");
      assert.ok(sent.sql.startsWith(a.sql), "the statement run is the one --sql prints");
      assert.match(a.sql, /\nSETTINGS join_use_nulls = 1, enable_materialized_cte = 1$/);
      // Per-event rows are never materialized (they would be held whole in memory).
      assert.doesNotMatch(a.sql, /\b(events|ev\w*) AS MATERIALIZED/);
      const expected = (await duck.run(spec)).result;
      assert.deepEqual(a.result, expected);
      // A server that fails a statement with them (they are experimental there) gets it again inlined,
      // and the engine sends no more of them.
      srv.onQuery = failMaterialized;
      try {
        const mark = srv.log.length;
        const b = await ch.run(spec);
        assert.deepEqual(b.result, expected);
        assert.doesNotMatch(b.sql, /AS MATERIALIZED/);
        const failed = srv.log.slice(mark).filter((q) => q.status === "error");
        assert.equal(failed.length, 1, "one statement failed, once");
        const again = srv.log.length;
        await ch.run(spec);
        assert.ok(srv.log.slice(again).every((q) => !/ AS MATERIALIZED \(/.test(q.sql)));
      } finally {
        srv.onQuery = undefined;
      }
    } finally {
      await ch.close();
      duck.close();
    }
  });

  test("a failed materialized statement is resent inlined while another screen's statement is in flight", async () => {
    // The TUI runs several screens' statements on one engine at once: whether the failed one had
    // materialized CTEs is its own, not the last one built (a catalog, which has none).
    const spec = ttcFunnel;
    const ch = engineOf();
    const duck = new Executor(cache);
    try {
      await ch.checkSchema(); // the context: the engine knows the server materializes
      srv.onQuery = failMaterialized;
      const mark = srv.log.length;
      const [a, b] = await Promise.all([ch.run(spec), ch.run({ kind: "catalog", range })]);
      assert.equal(srv.log.slice(mark).filter((q) => q.status === "error").length, 1);
      assert.doesNotMatch(a.sql, /AS MATERIALIZED/, "what it prints is what answered");
      assert.ok((a.result as FunnelResult).steps[2].users > 0, "some users convert");
      assert.deepEqual(a.result, (await duck.run(spec)).result);
      assert.deepEqual(b.result, (await duck.run({ kind: "catalog", range })).result);
    } finally {
      srv.onQuery = undefined;
      await ch.close();
      duck.close();
    }
  });

  test("every run has its own evx query id, asks for gzip, sends evx's settings and the database", async () => {
    const ch = engineOf();
    try {
      const before = srv.log.length;
      await ch.run({ kind: "catalog", range });
      await ch.run({ kind: "catalog", range });
      const mine = srv.log.slice(before);
      const analyses = mine.filter((q) => /GROUP BY event_type/.test(q.sql));
      assert.equal(analyses.length, 2);
      assert.match(analyses[0].queryId, /^evx-[0-9a-f-]{36}$/);
      assert.notEqual(analyses[0].queryId, analyses[1].queryId);
      assert.equal(new Set(mine.map((q) => q.queryId)).size, mine.length, "one id per request");
      for (const q of mine) {
        assert.equal(q.status, "ok", q.sql);
        assert.equal(q.gzip, true, "compressed answers");
        assert.equal(q.user, USER);
        assert.equal(q.settings.join_use_nulls, "1");
        assert.equal(q.settings.output_format_json_quote_64bit_integers, "0");
      }
      // Values are parameters, never spliced: the range bounds travel as param_p1/param_p2.
      assert.deepEqual(Object.keys(analyses[0].params).sort(), ["p1", "p2"]);
      assert.match(
        inlineChSql({ sql: "x = {p1:Int64} AND y = {p2:String}", params: [5n, "it's"] }),
        /CAST\(5 AS Int64\).*'it''s'/,
      );
    } finally {
      await ch.close();
    }
  });

  test("a connection reset is retried with a new query id; a server error is not", async () => {
    const ch = engineOf();
    let resets = 0;
    srv.onQuery = ({ sql }) => {
      if (/GROUP BY event_type/.test(sql) && resets++ === 0) return "reset";
    };
    try {
      const before = srv.log.length;
      await ch.run({ kind: "catalog", range });
      const tries = srv.log.slice(before).filter((q) => /GROUP BY event_type/.test(q.sql));
      assert.deepEqual(
        tries.map((q) => q.status),
        ["reset", "ok"],
      );
      assert.notEqual(tries[0].queryId, tries[1].queryId);
      srv.onQuery = undefined;
      const n = srv.log.length;
      await assert.rejects(
        ch.client.rows("SELECT * FROM no_such_table"),
        (e: unknown) => e instanceof EngineError && e.kind === "schema",
      );
      assert.equal(srv.log.slice(n).length, 1, "not retried");
    } finally {
      srv.onQuery = undefined;
      await ch.close();
    }
  });
});

/** Replaces the analysis (the catalog's GROUP BY event_type) with a slow query the server can stop. */
function slowCatalog(seconds = 20): void {
  srv.onQuery = ({ sql }) =>
    /GROUP BY event_type/.test(sql)
      ? {
          sql: `SELECT number, sleepEachRow(0.1) AS z FROM numbers(${seconds * 10}) SETTINGS max_block_size = 1 FORMAT JSONEachRow`,
        }
      : undefined;
}

async function waitFor(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("cancel aborts the HTTP request at once and kills the query on the server", async () => {
  const ch = engineOf();
  slowCatalog();
  try {
    const before = srv.log.length;
    const ac = new AbortController();
    const run = ch.run({ kind: "catalog", range }, { signal: ac.signal });
    run.catch(() => {});
    await waitFor("the analysis to run", () =>
      srv.log.slice(before).some((q) => /GROUP BY event_type/.test(q.sql) && q.status === "running"),
    );
    const analysis = srv.log.slice(before).find((q) => /GROUP BY event_type/.test(q.sql))!;
    const t0 = performance.now();
    ac.abort();
    await assert.rejects(run, (e: unknown) => e instanceof AbortError);
    // "At once" against the 20 s query; generous for a loaded 2-core machine.
    assert.ok(performance.now() - t0 < 2000, "the run rejects at once");
    await waitFor("KILL QUERY", () => srv.killed.includes(analysis.queryId));
    assert.equal(analysis.status, "killed");
    const kill = srv.log.find((q) => /^KILL QUERY/.test(q.sql) && q.params.id === analysis.queryId)!;
    assert.ok(kill, "KILL QUERY WHERE query_id = {id:String} on its own request");
    assert.notEqual(kill.queryId, analysis.queryId);
    // The server really stopped: the next query does not wait for the 20 s one to finish.
    srv.onQuery = undefined;
    const t1 = performance.now();
    await ch.client.rows("SELECT 1 AS x");
    assert.ok(
      performance.now() - t1 < 10_000,
      `the server is free again (${Math.round(performance.now() - t1)} ms)`,
    );
  } finally {
    srv.onQuery = undefined;
    await ch.close();
  }
});

describe("--sql prints the statement that runs", () => {
  const quoted = { key: "plan", op: "!=" as const, value: "it's" };
  const specs: AnalysisSpec[] = [
    {
      kind: "funnel",
      steps: [
        { event: "app_open", filters: [] },
        { event: "purchase", filters: [] },
        { event: "button_clicked", filters: [] },
      ],
      withinSeconds: 86_400,
      range,
      filters: [quoted],
      breakdown: "plan",
      limit: 10,
    },
    {
      kind: "funnel",
      steps: [
        { event: "app_open", filters: [] },
        { event: "purchase", filters: [] },
      ],
      withinSeconds: 3_600,
      order: "strict",
      value: "revenue",
      range,
      filters: [],
      limit: 10,
    },
    {
      kind: "trend",
      events: [{ event: "purchase", filters: [quoted] }],
      measure: { kind: "sum", key: "revenue" },
      interval: "day",
      range,
      filters: [],
      breakdown: "plan",
      limit: 10,
    },
    {
      kind: "retention",
      start: { event: "app_open", filters: [] },
      return: { event: "purchase", filters: [] },
      period: "day",
      periods: 2,
      mode: "on",
      range,
      filters: [quoted],
    },
  ];
  for (const spec of specs)
    test(`${spec.kind}: the inlined SQL, pasted with no settings, gives the run's numbers`, async () => {
      const ch = engineOf();
      try {
        const run = await ch.run(spec);
        const q = await ch.explain(spec);
        assert.equal(q.sql, run.sql, "the statement printed is the statement that runs");
        assert.match(q.sql, /\nSETTINGS join_use_nulls = 1(, enable_materialized_cte = 1)?$/);
        // The adapter's exec runs the text as it is, with the server's defaults (join_use_nulls = 0).
        const pasted = await srv.exec(inlineChSql(q));
        assert.deepEqual(shapeResult(spec, pasted), run.result);
      } finally {
        await ch.close();
      }
    });

  test("the parameter list and the inlined SQL quote it's the same way", async () => {
    const r = await cli([
      "trend",
      "purchase",
      "--where",
      "plan!=it's",
      "--sql",
      "--engine",
      "clickhouse",
      "--ch-url",
      url(),
    ]);
    assert.equal(r.code, 0, r.stderr);
    const param = /^-- {3}\{p\d+:String\} = (.*it.*s.*)$/m.exec(r.stdout)?.[1];
    assert.equal(param, "'it''s'");
    const inlined = r.stdout.slice(r.stdout.indexOf("paste into clickhouse-client"));
    assert.ok(inlined.includes("'it''s'"), inlined);
    assert.ok(!r.stdout.includes("\\'"), "one quoting everywhere");
    // The CLI has read the context (validation) before building: the server can, so the trend's shared
    // per-bucket counts are materialized in what it prints too.
    assert.match(inlined, /\nbk AS MATERIALIZED \(/);
    assert.match(inlined, /SETTINGS join_use_nulls = 1, enable_materialized_cte = 1;\n$/);
  });
});

describe("faults: one line, an exit code, no password", () => {
  const catalog = (extra: string[] = [], u = url()) => [
    "events",
    "--engine",
    "clickhouse",
    "--ch-url",
    u,
    ...extra,
  ];

  test("the CLI answers like DuckDB, and --sql shows the ClickHouse SQL", async () => {
    const r = await cli(catalog(["--json"]));
    assert.equal(r.code, 0, r.stderr);
    const duck = new Executor(cache);
    try {
      const out = await duck.run({ kind: "catalog", range: await duck.resolveRange() });
      assert.deepEqual(JSON.parse(r.stdout), {
        ...out.result,
        range: out.range,
        coverage: out.coverage,
        identity: "raw",
      });
    } finally {
      duck.close();
    }
    const s = await cli(catalog(["--sql"]));
    assert.equal(s.code, 0, s.stderr);
    assert.match(s.stdout, /-- evx catalog on ClickHouse \(127\.0\.0\.1:\d+\/default\)/);
    assert.match(s.stdout, /\{p1:Int64\}/);
    assert.match(s.stdout, /paste into clickhouse-client/);
  });

  test("refused authentication: exit 7, and the password appears nowhere", async () => {
    const wrong = "Wrong-Pass-4242";
    const r = await cli(catalog(), { EVX_CLICKHOUSE_PASSWORD: wrong });
    assert.equal(r.code, 7);
    assert.match(
      oneLine(r),
      /refused user "analyst": authentication failed \(AUTHENTICATION_FAILED, code 516\)/,
    );
    assert.ok(!`${r.stdout}${r.stderr}`.includes(wrong));
    // The same password in the URL instead of the environment.
    const r2 = await cli(catalog([], url(`${USER}:${wrong}`)), {});
    assert.equal(r2.code, 7);
    assert.ok(!`${r2.stdout}${r2.stderr}`.includes(wrong));
    // The right one in the URL works.
    const ok = await cli(catalog([], url(`${USER}:${PASSWORD}`)), {});
    assert.equal(ok.code, 0, ok.stderr);
  });

  test("a missing table, database or columns: exit 7, pointing at evx clickhouse schema", async () => {
    const t = await cli(catalog(["--ch-table", "nope"]));
    assert.equal(t.code, 7);
    assert.match(
      oneLine(t),
      /has no table "default\.nope" \(UNKNOWN_TABLE\); see `evx clickhouse schema --ch-table nope`/,
    );
    const c = await cli(catalog(["--ch-table", "thin"]));
    assert.equal(c.code, 7);
    assert.match(
      oneLine(c),
      /lacks the columns user_key, properties, props, date that evx reads; see `evx clickhouse schema/,
    );
    const d = await cli(catalog([], url(USER, "nodb")));
    assert.equal(d.code, 7);
    assert.match(oneLine(d), /has no database "nodb" \(UNKNOWN_DATABASE, code 81\)/);
  });

  test("a wrong URL: nothing listening, not ClickHouse, not http: exits 6, 6, 2", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, "127.0.0.1", r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const refused = await cli(catalog([], `http://${USER}@127.0.0.1:${port}/default`));
    assert.equal(refused.code, 6);
    assert.match(
      oneLine(refused),
      /cannot reach ClickHouse at 127\.0\.0\.1:\d+\/default \(ECONNREFUSED\); check --ch-url/,
    );

    const web = createServer((_req, res) => {
      res.writeHead(404, { "Content-Type": "text/html" });
      res.end("<html><body>Not Found</body></html>");
    });
    await new Promise<void>((r) => web.listen(0, "127.0.0.1", r));
    try {
      const other = await cli(
        catalog([], `http://${USER}@127.0.0.1:${(web.address() as AddressInfo).port}/default`),
      );
      assert.equal(other.code, 6);
      assert.match(oneLine(other), /does not answer like a ClickHouse HTTP server/);
    } finally {
      web.close();
    }
    const bad = await cli(catalog([], `ftp://${USER}:${PASSWORD}@host/db`));
    assert.equal(bad.code, 2);
    assert.match(oneLine(bad), /bad ClickHouse URL "ftp:\/\/\*\*\*@host\/db"/);
  });

  test("unknown events and ranges outside the table are usage errors (exit 2), as on DuckDB", async () => {
    const u = await cli(["trend", "button_clikced", "--engine", "clickhouse", "--ch-url", url()]);
    assert.equal(u.code, 2);
    assert.match(oneLine(u), /unknown event "button_clikced"; did you mean "button_clicked"/);
    const r = await cli(catalog(["--from", "2030-01-01", "--to", "2030-01-02"]));
    assert.equal(r.code, 2);
    assert.match(
      oneLine(r),
      /no events in 2030-01-01 \.\. 2030-01-02 \(UTC\): the ClickHouse table covers 2023-06-01 \.\. 2023-06-03/,
    );
    const e = await cli(catalog(["--from", "2023-06-02", "--to", "2023-06-01"]));
    assert.equal(e.code, 2);
    assert.match(oneLine(e), /the range is empty/);
  });

  test("property keys on ClickHouse: a key no event has is exit 2 with suggestions; one of other events warns (issue #22)", async () => {
    const ch = ["--engine", "clickhouse", "--ch-url", url()];
    const typo = await cli(["trend", "button_clicked", "--where", "plna=pro", ...ch]);
    assert.equal(typo.code, 2, typo.stderr);
    assert.match(
      oneLine(typo),
      /^evx: unknown property key "plna" in --where: no event has it; did you mean "plan", /,
    );
    // revenue is a purchase property: answered, one warning line on stderr, JSON on stdout.
    const other = await cli(["trend", "button_clicked", "--breakdown", "revenue", "--json", ...ch]);
    assert.equal(other.code, 0, other.stderr);
    assert.equal(
      other.stderr,
      'evx: warning: --breakdown "revenue": no "button_clicked" event in the range has it\n',
    );
    assert.deepEqual(
      JSON.parse(other.stdout).series.map((x: { breakdown: string }) => x.breakdown),
      ["(none)"],
    );
  });

  test("a query over a server limit: exit 8 (time), and the memory limit through the engine", async () => {
    slowCatalog();
    await srv.setProfile({ max_execution_time: 0.5 });
    try {
      const r = await cli(catalog());
      assert.equal(r.code, 8, r.stderr);
      assert.match(oneLine(r), /stopped the query at a server limit \(TIMEOUT_EXCEEDED, code 159\)/);
      srv.onQuery = ({ sql }) =>
        /GROUP BY event_type/.test(sql)
          ? { sql: "SELECT groupArray(number) AS a FROM numbers(10000000) FORMAT JSONEachRow" }
          : undefined;
      await srv.setProfile({ max_memory_usage: 2_000_000 });
      const ch = engineOf();
      try {
        await assert.rejects(
          ch.run({ kind: "catalog", range }),
          (e: unknown) => e instanceof EngineError && e.kind === "limit" && e.code === 241,
        );
      } finally {
        await ch.close();
      }
    } finally {
      srv.onQuery = undefined;
      await srv.setProfile({});
    }
  });

  test("a server that disappears mid-query: exit 6, and it answers again when it is back", async () => {
    srv.onQuery = ({ sql }) => {
      if (!/GROUP BY event_type/.test(sql)) return undefined;
      setTimeout(() => srv.crash(), 200);
      return { delayMs: 5000 };
    };
    try {
      const r = await cli(catalog());
      assert.equal(r.code, 6, r.stderr);
      assert.match(
        oneLine(r),
        /ClickHouse at 127\.0\.0\.1:\d+\/default went away mid-query: the connection broke \(ECONNRESET\) and the server is unreachable now \(ECONNREFUSED\)/,
      );
    } finally {
      srv.onQuery = undefined;
      await srv.revive();
    }
    const again = await cli(catalog());
    assert.equal(again.code, 0, again.stderr);
  });

  test("the password never appears in any output of this file", () => {
    assert.ok(outputs.length >= 10);
    for (const r of outputs) assert.ok(!`${r.stdout}\n${r.stderr}`.includes(PASSWORD), r.stderr);
  });
});
