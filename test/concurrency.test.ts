// Two processes on one cache: a second sync, readers (status/events) and the TUI while a sync holds it.
// Nobody sees a stack trace, nothing is corrupted, and a process that cannot get the cache says who holds it.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Cache, CacheLockedError } from "../src/cache/db.js";
import { generateLake } from "../src/source/synthetic.js";
import { openSession } from "../src/views/state/session.js";
import type { Session } from "../src/views/state/state.js";
import { type CliResult, evx, evxAsync, evxRun } from "./helpers/cli.js";
import { countLakeLines, tempDir } from "./helpers/tmp.js";
import { renderApp } from "./views/fixture.js";

const dir = tempDir("evx-conc-");
const lake = join(dir, "lake");
let expected = 0;
// Small batches: the sync commits often and runs a few seconds.
const env = { EVX_BATCH_BYTES: "30000", EVX_CACHE: "", XDG_CACHE_HOME: join(dir, "xdg") };

before(async () => {
  await generateLake({ dir: lake, events: 120_000, days: 4, gzipShare: 0.4, seed: 11 });
  expected = countLakeLines(lake);
});

const LOCKED = /^evx: cache .+ is in use by another evx process \(PID \d+\); wait for it to finish/;

/** Exit-5 answers seen from processes other than the probe: the lock was really met. */
let refusals = 0;

function assertCleanFailure(r: CliResult, what: string, also: number[] = []) {
  assert.doesNotMatch(r.stderr, /\n\s+at |Error: .*\n.*at /, `${what}: no stack trace`);
  assert.ok(
    r.code === 0 || r.code === 5 || also.includes(r.code ?? -1),
    `${what}: exit ${r.code}: ${r.stderr}`,
  );
  if (r.code === 5) refusals++;
  if (r.code === 5) {
    assert.equal(r.stderr.trim().split("\n").length, 1, `${what}: one line: ${r.stderr}`);
    assert.match(r.stderr.trim(), LOCKED, what);
  }
}

async function count(path: string): Promise<number> {
  const c = await Cache.open(path, { readOnly: true });
  try {
    const r = await c.one<{ n: number; m: number; dup: number }>(
      `SELECT (SELECT count(*) FROM events) AS n, (SELECT coalesce(sum(events),0) FROM objects) AS m,
              (SELECT count(*) - count(DISTINCT user_id) FROM users) AS dup`,
    );
    assert.equal(r?.n, r?.m, "rows match the manifest");
    assert.equal(r?.dup, 0);
    return r!.n;
  } finally {
    c.close();
  }
}

/** Starts a sync and resolves once it holds the cache (a reader is refused with exit 5). */
async function startHeldSync(cache: string) {
  const child = evxAsync(["sync", lake, "--cache", cache, "--json"], env);
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  child.stdout.resume();
  const done = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  let running = true;
  void done.then(() => {
    running = false;
  });
  const t0 = Date.now();
  while (running && Date.now() - t0 < 20_000) {
    if (existsSync(cache)) {
      const r = await evxRun(["status", "--cache", cache, "--json"], env);
      if (r.code === 5) break;
    }
    await sleep(50);
  }
  return { child, done, running: () => running, stderr: () => stderr };
}

test("a second sync while one runs is refused with the lock message (exit 5); the first completes exactly", async () => {
  const cache = join(dir, "a.duckdb");
  const first = await startHeldSync(cache);
  // The holder may have released the cache (it is exiting) by the time the second one opens it: then
  // the second sync simply finds nothing to do.
  const second = await evxRun(["sync", lake, "--cache", cache, "--json"], env);
  assertCleanFailure(second, "second sync");
  assert.equal(await first.done, 0, first.stderr());
  assert.equal(await count(cache), expected);
  // And afterwards the second one works and finds nothing to do.
  const again = evx(["sync", lake, "--cache", cache, "--json"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).objects.downloaded, 0);
});

test("two syncs started together: one wins, the other is refused cleanly or finds nothing to do", async () => {
  const cache = join(dir, "b.duckdb");
  const [a, b] = await Promise.all([
    evxRun(["sync", lake, "--cache", cache, "--json"], env),
    evxRun(["sync", lake, "--cache", cache, "--json"], env),
  ]);
  assertCleanFailure(a, "sync A");
  assertCleanFailure(b, "sync B");
  assert.ok(a.code === 0 || b.code === 0, "at least one sync succeeds");
  assert.equal(await count(cache), expected);
});

test("readers (status, events, rejects) during a sync get the lock message, no stack trace", async () => {
  const cache = join(dir, "c.duckdb");
  const first = await startHeldSync(cache);
  await Promise.all(
    [["status"], ["events"], ["rejects"], ["trend", "purchase"]].map(async (args) => {
      const r = await evxRun([...args, "--cache", cache], env);
      // A reader that gets in before the first commit may find no such event yet (usage error, exit 2).
      assertCleanFailure(r, args.join(" "), args[0] === "trend" ? [2] : []);
    }),
  );
  assert.equal(await first.done, 0, first.stderr());
  assert.equal(await count(cache), expected);
});

test("the TUI opening a cache that a sync holds says so, waits, and opens it when the sync ends", async () => {
  const cache = join(dir, "d.duckdb");
  const first = await startHeldSync(cache);
  let opened: Session | null = null;
  let error: unknown = null;
  try {
    opened = await openSession(cache);
  } catch (e) {
    error = e;
  }
  if (first.running()) {
    // DuckDB's file lock excludes read-only opens too, so the session cannot fall back to read-only.
    assert.ok(error instanceof CacheLockedError || opened?.readOnly, String(error));
  }
  opened?.close();
  const app = await renderApp({ path: cache } as Session, {
    props: { connect: () => openSession(cache), cachePath: cache },
  });
  try {
    const f = await app.waitFor(
      (x) =>
        /in use by another evx process \(PID \d+\)\nwaiting for it to finish/.test(x) ||
        /event types/.test(x),
      15_000,
    );
    assert.doesNotMatch(f, /\bat .*\.js:\d+/, "no stack trace in the frame");
    assert.equal(await first.done, 0, first.stderr());
    await app.waitFor("event types", 15_000);
  } finally {
    app.unmount();
  }
  assert.equal(await count(cache), expected);
});

test("the lock was met at least once by a process other than the probe", () => {
  assert.ok(refusals >= 1, `refusals: ${refusals}`);
});
