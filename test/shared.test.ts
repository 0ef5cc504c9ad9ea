// Shared mode (EVX_SHARED=1, issue #23): many evx processes on one cache through its host process.
// Real processes throughout: spawned bin/evx syncs and queries, the detached host, SIGKILL.
import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { createConnection } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Cache, CacheLockedError } from "../src/cache/db.js";
import { hostPaths, runtimeDir } from "../src/cache/hostpaths.js";
import { Executor } from "../src/queries/executor.js";
import type { TrendSpec } from "../src/queries/spec.js";
import { generateLake } from "../src/source/synthetic.js";
import { openSession } from "../src/views/state/session.js";
import { evxAsync, evxRun } from "./helpers/cli.js";
import { countLakeLines, tempDir } from "./helpers/tmp.js";
import { renderApp } from "./views/fixture.js";

const dir = tempDir("evx-shared-");
const lake = join(dir, "lake");
let expected = 0;
const env = {
  EVX_SHARED: "1",
  EVX_HOST_IDLE_MS: "1500",
  EVX_BATCH_BYTES: "30000",
  EVX_CACHE: "",
  XDG_CACHE_HOME: join(dir, "xdg"),
  XDG_RUNTIME_DIR: join(dir, "run"),
};

/** For the syncs that complete a cache after a kill: each transaction is a few round trips to the host. */
const bigBatches = { ...env, EVX_BATCH_BYTES: "400000" };

before(async () => {
  await generateLake({ dir: lake, events: 40_000, days: 4, gzipShare: 0.4, seed: 11 });
  expected = countLakeLines(lake);
});

/** The host's PID, from DuckDB's lock (only the host holds the file). */
async function hostPid(cache: string): Promise<number | undefined> {
  try {
    (await Cache.open(cache, { local: true, readOnly: true })).close();
  } catch (e) {
    if (e instanceof CacheLockedError) return e.pid;
    throw e;
  }
  return undefined;
}

/** Events in the cache, by the catalog, as a headless process answers (exit 0 or throws). */
async function catalogTotal(cache: string): Promise<number> {
  const r = await evxRun(["events", "--cache", cache, "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { events: { events: number }[] };
  return j.events.reduce((s, e) => s + e.events, 0);
}

function startSync(cache: string) {
  const child = evxAsync(["sync", lake, "--cache", cache, "--json"], env);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdout.resume();
  const done = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  return { child, done, stderr: () => stderr };
}

/** Waits until the sync has committed something (the cache answers with events). */
async function untilSomeEvents(cache: string, s: { done: Promise<unknown> }) {
  let finished = false;
  void s.done.then(() => {
    finished = true;
  });
  for (let i = 0; i < 400 && !finished; i++) {
    if (existsSync(cache)) {
      const r = await evxRun(["status", "--cache", cache, "--json"], env);
      if (r.code === 0 && (JSON.parse(r.stdout) as { events: number }).events > 0) return;
    }
    await sleep(50);
  }
}

/** Runs `fn` with this process in shared mode (the test's own Cache.open goes through the host). */
async function inShared<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(env)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

after(async () => {
  // Hosts exit on their own after EVX_HOST_IDLE_MS; wait so the temp folder goes with them.
  await sleep(2000);
});

test("headless queries answer while a sync writes; a second sync is refused naming the running one", async () => {
  const cache = join(dir, "a.duckdb");
  const sync = startSync(cache);
  await untilSomeEvents(cache, sync);
  const during = await Promise.all([
    evxRun(["trend", "purchase", "--cache", cache, "--json"], env),
    evxRun(["status", "--cache", cache, "--json"], env),
    evxRun(["sync", lake, "--cache", cache, "--json"], env),
  ]);
  const [trend, status, second] = during;
  assert.equal(trend.code, 0, `trend during a sync: ${trend.stderr}`);
  assert.ok(JSON.parse(trend.stdout).coverage, "the answer carries its coverage");
  assert.equal(status.code, 0, `status during a sync: ${status.stderr}`);
  const st = JSON.parse(status.stdout) as { syncing?: { pid: number; what: string } };
  // Unless it has just ended, status names the running sync.
  if (st.syncing) assert.deepEqual(st.syncing, { pid: sync.child.pid, what: "sync" });
  // The running sync may have finished by the time the second one asked: then it finds nothing to do.
  if (second.code !== 0) {
    assert.equal(second.code, 5, second.stderr);
    assert.match(second.stderr.trim(), /^evx: cache .+ is in use by another evx process \(PID \d+\)/);
    assert.match(second.stderr, new RegExp(`PID ${sync.child.pid}\\)`), "names the running sync");
  }
  assert.equal(await sync.done, 0, sync.stderr());
  assert.equal(await catalogTotal(cache), expected);
});

test("two readers at once get the same answer", async () => {
  const cache = join(dir, "a.duckdb");
  const args = ["trend", "purchase", "--measure", "users", "--cache", cache, "--json"];
  const [a, b] = await Promise.all([evxRun(args, env), evxRun(args, env)]);
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  assert.deepEqual(JSON.parse(a.stdout), JSON.parse(b.stdout));
});

test("the host's files are private: 0700 folder, 0600 socket and token; a wrong token gets no answer", async () => {
  const cache = await smallCache("private.duckdb");
  const prev = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = env.XDG_RUNTIME_DIR;
  const paths = hostPaths(cache);
  process.env.XDG_RUNTIME_DIR = prev;
  // Keep a host up for the checks.
  const held = evxAsync(
    ["sync", join(dir, "small-lake"), "--cache", cache, "--watch", "--every", "1s", "--json"],
    {
      ...env,
      EVX_WATCH_MIN_EVERY_MS: "0",
    },
  );
  held.stdout.resume();
  held.stderr.resume();
  try {
    for (let i = 0; i < 200 && !existsSync(paths.socket); i++) await sleep(50);
    assert.equal(statSync(paths.dir).mode & 0o777, 0o700);
    assert.equal(statSync(paths.socket).mode & 0o777, 0o600);
    assert.equal(statSync(paths.token).mode & 0o777, 0o600);
    const answer = await new Promise<string>((resolve) => {
      const s = createConnection(paths.socket);
      let got = "";
      s.setEncoding("utf8").on("data", (d: string) => {
        got += d;
      });
      s.on("connect", () => {
        s.write(`${JSON.stringify({ id: 1, op: "hello", token: "0".repeat(64), role: "reader" })}\n`);
        s.write(`${JSON.stringify({ id: 2, op: "all", sql: "SELECT count(*) AS n FROM events" })}\n`);
      });
      s.on("close", () => resolve(got));
      s.on("error", () => resolve(got));
    });
    assert.equal(answer, "", "the host hangs up without answering");
    assert.notEqual(readFileSync(paths.token, "utf8"), "0".repeat(64));
    // The watch holds the writer: status (headless and the TUI's Sync tab) names it.
    const st = await evxRun(["status", "--cache", cache, "--json"], env);
    assert.equal(st.code, 0, st.stderr);
    assert.deepEqual(JSON.parse(st.stdout).syncing, { pid: held.pid, what: "sync" });
    const human = await evxRun(["status", "--cache", cache], env);
    assert.match(human.stdout, new RegExp(`^syncing evx sync \\(PID ${held.pid}\\)$`, "m"));
    await inShared(async () => {
      const session = await openSession(cache);
      try {
        assert.deepEqual((await session.sync.status()).syncing, { pid: held.pid, what: "sync" });
      } finally {
        session.close();
      }
    });
  } finally {
    held.kill("SIGTERM");
    await new Promise((r) => held.on("close", r));
  }
});

test("SIGKILL of the host: a reader takes over (a new host) and answers within 2 s; nothing committed is lost", async () => {
  const cache = await smallCache("takeover.duckdb");
  await inShared(async () => {
    const c = await Cache.open(cache, { readOnly: true });
    const ex = new Executor(c);
    const range = await ex.resolveRange({});
    const spec: TrendSpec = {
      kind: "trend",
      events: [{ event: "purchase", filters: [] }],
      measure: { kind: "events" },
      interval: "day",
      range,
      filters: [],
      limit: 10,
    };
    const before = (await ex.run(spec)).result;
    const pid = await hostPid(cache);
    assert.ok(pid, "a host holds the cache");
    process.kill(pid, "SIGKILL");
    const t0 = performance.now();
    const again = (await ex.run(spec)).result;
    const ms = performance.now() - t0;
    assert.deepEqual(again, before);
    const next = await hostPid(cache);
    assert.ok(next && next !== pid, "a new host serves the cache");
    process.stderr.write(`# takeover after SIGKILL of the host: ${Math.round(ms)} ms\n`);
    assert.ok(ms < 2000, `answered ${Math.round(ms)} ms after the host was killed`);
    // Killed while a query is in flight: the run is done again whole on the next host, same answer.
    for (const delay of [0, 2, 5, 10, 20]) {
      await ex.run(spec); // a host is up
      const p = await hostPid(cache);
      assert.ok(p);
      const inflight = ex.run(spec);
      await sleep(delay);
      process.kill(p, "SIGKILL");
      assert.deepEqual((await inflight).result, before, `killed ${delay} ms into a query`);
    }
    // Killed between a transaction's answer and its COMMIT: that snapshot is gone, and the caller
    // is told to run the transaction again (it is never continued on another snapshot).
    const conn = await c.connect();
    await conn.run("BEGIN TRANSACTION");
    await conn.runAndReadAll("SELECT count(*) FROM events");
    const p = await hostPid(cache);
    assert.ok(p);
    process.kill(p, "SIGKILL");
    await assert.rejects(conn.run("COMMIT"), { name: "SnapshotLostError" });
    conn.closeSync();
    ex.close();
    c.close();
  });
  assert.equal(await catalogTotal(cache), countLakeLines(join(dir, "small-lake")));
});

test("SIGKILL of a sync mid-batch: the host rolls its batch back, frees the writer, and the next sync completes exactly", async () => {
  const cache = join(dir, "k.duckdb");
  const sync = startSync(cache);
  await untilSomeEvents(cache, sync);
  sync.child.kill("SIGKILL");
  await sync.done;
  const mid = await evxRun(["status", "--cache", cache, "--json"], env);
  assert.equal(mid.code, 0, mid.stderr);
  const again = await evxRun(["sync", lake, "--cache", cache, "--json"], bigBatches);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await catalogTotal(cache), expected);
});

test("the TUI opens and answers while a sync runs; its own sync is refused naming the running one, then runs after it", async () => {
  const cache = join(dir, "t.duckdb");
  const sync = startSync(cache);
  await untilSomeEvents(cache, sync);
  await inShared(async () => {
    const session = await openSession(cache);
    try {
      assert.equal(session.readOnly, false);
      const range = await session.bounds("UTC");
      assert.ok(range, "the session reads the cache");
      const own = session.sync.sync(range, new AbortController().signal, () => {});
      const refused = await own.then(
        () => null,
        (e: Error) => e.message,
      );
      // The spawned sync may just have ended; then the TUI's sync ran and found nothing to do.
      if (refused !== null)
        assert.match(
          refused,
          new RegExp(`another evx process \\(PID ${sync.child.pid}\\) is syncing this cache`),
        );
      assert.equal(await sync.done, 0, sync.stderr());
      const after = await session.sync.sync(range, new AbortController().signal, () => {});
      assert.equal(after.objects.downloaded, 0, "nothing left to do");
    } finally {
      session.close();
    }
    const app = await renderApp({ path: cache } as never, {
      props: { connect: () => openSession(cache), cachePath: cache },
    });
    try {
      await app.waitFor("event types", 15_000);
    } finally {
      app.unmount();
    }
  });
  assert.equal(await catalogTotal(cache), expected);
});

test("SIGKILL of the host during a sync: the sync stops with one line, readers go on, the next sync completes exactly", async () => {
  const cache = join(dir, "h.duckdb");
  const sync = startSync(cache);
  await untilSomeEvents(cache, sync);
  const pid = await hostPid(cache);
  assert.ok(pid, "a host holds the cache");
  process.kill(pid, "SIGKILL");
  const code = await sync.done;
  process.stderr.write(`# the sync whose host was killed exited ${code}\n`);
  // The sync may have finished just before the kill.
  if (code !== 0) {
    assert.equal(sync.stderr().trim().split("\n").length, 1, sync.stderr());
    assert.match(sync.stderr(), /^evx: the cache host stopped mid-request/);
  }
  const status = await evxRun(["status", "--cache", cache, "--json"], env);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout) as { events: number };
  assert.ok(s.events <= expected);
  const again = await evxRun(["sync", lake, "--cache", cache, "--json"], bigBatches);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await catalogTotal(cache), expected);
});

test("a watch's commit is visible to a reader in another process at once, and never half of it", async () => {
  const lake2 = join(dir, "lake2");
  await generateLake({ dir: lake2, events: 6000, days: 2, gzipShare: 0, seed: 5 });
  const cache = join(dir, "v.duckdb");
  const watcher = evxAsync(["sync", lake2, "--cache", cache, "--watch", "--every", "1s", "--json"], {
    ...env,
    EVX_WATCH_MIN_EVERY_MS: "0",
  });
  watcher.stderr.resume();
  const cycles: { at: number; events: number }[] = [];
  watcher.stdout.setEncoding("utf8").on("data", (d: string) => {
    for (const line of d.split("\n").filter(Boolean))
      cycles.push({ at: performance.now(), events: (JSON.parse(line) as { events: number }).events });
  });
  try {
    for (let i = 0; i < 600 && cycles.length === 0; i++) await sleep(50);
    assert.ok(cycles.length > 0, "the watch ran a cycle");
    await inShared(async () => {
      const c = await Cache.open(cache, { readOnly: true });
      try {
        const newest = readdirSync(lake2)
          .filter((x) => x.startsWith("date="))
          .sort()
          .at(-1)!;
        const day = newest.slice(5);
        const n = 40;
        const lines = Array.from({ length: n }, (_, i) =>
          JSON.stringify({
            event_type: "shared_probe",
            event_time: `${day}T12:00:${String(i).padStart(2, "0")}Z`,
            user_id: `probe-${i}`,
            event_properties: {},
          }),
        );
        const put = performance.now();
        writeFileSync(join(lake2, newest, "part-probe.jsonl"), `${lines.join("\n")}\n`);
        let seen = 0;
        let visibleAt = 0;
        while (performance.now() - put < 20_000) {
          const r = await c.one<{ k: number }>(
            "SELECT count(*) AS k FROM events WHERE event_type = 'shared_probe'",
          );
          const k = Number(r?.k);
          assert.ok(k === 0 || k === n, `a snapshot holds all of the object or none of it (${k})`);
          if (k === n) {
            visibleAt = performance.now();
            seen = k;
            break;
          }
          await sleep(20);
        }
        assert.equal(seen, n, "the reader sees the new object");
        // The cycle that committed it prints its line after its commit (it may reach us a little later).
        for (let i = 0; i < 100 && !cycles.some((x) => x.events > 0 && x.at >= put); i++) await sleep(20);
        const committed = cycles.find((x) => x.events > 0 && x.at >= put);
        assert.ok(committed, "the watch reported the cycle");
        process.stderr.write(
          `# PUT → visible to another process: ${Math.round(visibleAt - put)} ms; cycle line → visible: ${Math.round(visibleAt - committed.at)} ms\n`,
        );
        assert.ok(visibleAt - committed.at <= 2000, "visible within 2 s of the commit");
      } finally {
        c.close();
      }
    });
  } finally {
    watcher.kill("SIGTERM");
    await new Promise((r) => watcher.on("close", r));
  }
});

/** A small synced cache of its own (synced outside shared mode, so no host holds it afterwards). */
async function smallCache(name: string): Promise<string> {
  const small = join(dir, "small-lake");
  if (!existsSync(small)) await generateLake({ dir: small, events: 3000, days: 2, gzipShare: 0, seed: 7 });
  const cache = join(dir, name);
  const r = await evxRun(["sync", small, "--cache", cache, "--json"], { ...env, EVX_SHARED: "0" });
  assert.equal(r.code, 0, r.stderr);
  return cache;
}

test("stale host files (a dead socket path, an old token) never block; an unsafe runtime folder is refused", async () => {
  const cache = await smallCache("stale.duckdb");
  const saved = process.env.XDG_RUNTIME_DIR;
  process.env.XDG_RUNTIME_DIR = env.XDG_RUNTIME_DIR;
  const paths = hostPaths(cache);
  process.env.XDG_RUNTIME_DIR = saved;
  writeFileSync(paths.socket, "not a socket");
  writeFileSync(paths.token, "f".repeat(64), { mode: 0o600 });
  const r = await evxRun(["events", "--cache", cache, "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.notEqual(readFileSync(paths.token, "utf8"), "f".repeat(64), "the new host wrote its own token");

  const open = join(dir, "open-run");
  mkdirSync(join(open, "evx"), { recursive: true });
  chmodSync(join(open, "evx"), 0o755);
  assert.throws(() => runtimeDir({ XDG_RUNTIME_DIR: open }), /not a private folder/);
  const refused = await evxRun(["events", "--cache", cache, "--json"], { ...env, XDG_RUNTIME_DIR: open });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /not a private folder of this user/);
  assert.equal(refused.stderr.trim().split("\n").length, 1, refused.stderr);
});

test("a process outside shared mode holding the cache: a shared reader exits 5 naming it", async () => {
  const cache = await smallCache("held.duckdb");
  const holder = await Cache.open(cache, { local: true });
  try {
    const r = await evxRun(["events", "--cache", cache, "--json"], env);
    assert.equal(r.code, 5, r.stderr);
    assert.match(r.stderr, new RegExp(`in use by another evx process \\(PID ${process.pid}\\)`));
  } finally {
    holder.close();
  }
});

test("SIGKILL of the host, the sync or a reader at random moments: readers never see half a batch, nothing committed is lost", async () => {
  const runs = Number(process.env.EVX_SHARED_KILL_RUNS ?? 3);
  const killLake = join(dir, "kill-lake");
  await generateLake({ dir: killLake, events: 30_000, days: 3, gzipShare: 0.4, seed: 23 });
  const total = countLakeLines(killLake);
  let rng = 23;
  const random = () => {
    rng = (rng * 1103515245 + 12345) % 2 ** 31;
    return rng / 2 ** 31;
  };
  for (let run = 0; run < runs; run++) {
    const cache = join(dir, `kill-${run}.duckdb`);
    const victim = (["host", "sync", "reader"] as const)[run % 3];
    const sync = evxAsync(["sync", killLake, "--cache", cache, "--json"], env);
    sync.stdout.resume();
    let syncErr = "";
    sync.stderr.setEncoding("utf8").on("data", (d: string) => {
      syncErr += d;
    });
    const syncDone = new Promise<number | null>((r) => sync.on("close", (code) => r(code)));
    for (let i = 0; i < 400 && !existsSync(cache); i++) await sleep(25);
    let maxGap = 0;
    let reads = 0;
    await inShared(async () => {
      // Another process reading at the same time (the reader victim).
      const other = evxAsync(["status", "--cache", cache, "--json"], env);
      other.stdout.resume();
      other.stderr.resume();
      const c = await Cache.open(cache, { readOnly: true });
      const conn = await c.connect();
      const killAt = performance.now() + 300 + random() * 2500;
      let killed = false;
      let last = performance.now();
      let finished = false;
      void syncDone.then(() => {
        finished = true;
      });
      try {
        while (!finished || !killed) {
          if (!killed && performance.now() >= killAt) {
            killed = true;
            if (victim === "host") {
              const pid = await hostPid(cache);
              if (pid) process.kill(pid, "SIGKILL");
            } else if (victim === "sync") sync.kill("SIGKILL");
            else other.kill("SIGKILL");
          }
          let r: { n: number; m: number };
          try {
            await conn.run("BEGIN TRANSACTION");
            r = rowsOfReader(
              await conn.runAndReadAll(
                "SELECT (SELECT count(*) FROM events) AS n, (SELECT coalesce(sum(events), 0) FROM objects) AS m",
              ),
            );
            await conn.run("COMMIT");
          } catch (e) {
            // The host died between the answer and COMMIT: the transaction is run again whole.
            if ((e as Error).name !== "SnapshotLostError") throw e;
            continue;
          }
          assert.equal(r.n, r.m, `run ${run} (${victim}): the rows match the manifest in every snapshot`);
          const now = performance.now();
          maxGap = Math.max(maxGap, now - last);
          last = now;
          reads++;
          await sleep(20);
        }
      } finally {
        conn.closeSync();
        c.close();
        other.kill("SIGKILL");
      }
    });
    const code = await syncDone;
    process.stderr.write(
      `# kill run ${run}: ${victim} killed, sync exit ${code}, ${reads} reads, longest gap ${Math.round(maxGap)} ms\n`,
    );
    if (code !== 0) assert.equal(syncErr.trim().split("\n").length <= 1, true, syncErr);
    const again = await evxRun(["sync", killLake, "--cache", cache, "--json"], bigBatches);
    assert.equal(again.code, 0, again.stderr);
    assert.equal(await catalogTotal(cache), total, `run ${run}: every event is in the cache`);
  }
});

function rowsOfReader(reader: unknown): { n: number; m: number } {
  const rows = (reader as { plainRows: { n: number; m: number }[] }).plainRows;
  return { n: Number(rows[0].n), m: Number(rows[0].m) };
}
