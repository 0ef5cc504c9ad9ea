// Two processes on one cache, by default (shared mode, README "One cache, many processes"): a second
// sync, readers (status/events) and the TUI while a sync writes. Readers always answer; a second writer
// exits 5 naming the running sync; nobody sees a stack trace; nothing is corrupted. With EVX_SHARED=0
// (the opt-out) a reader meets the lock of a sync that holds the file itself, as before.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { before, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { Cache } from "../src/cache/db.js";
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
  await generateLake({ dir: lake, events: 40_000, days: 4, gzipShare: 0.4, seed: 11 });
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

/**
 * Starts a sync and resolves once it writes (status names it as syncing; with EVX_SHARED=0, once a
 * reader is refused with exit 5).
 */
async function startHeldSync(cache: string, extra: NodeJS.ProcessEnv = {}) {
  const e = { ...env, ...extra };
  const child = evxAsync(["sync", lake, "--cache", cache, "--json"], e);
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
      const r = await evxRun(["status", "--cache", cache, "--json"], e);
      if (r.code === 5) break;
      if (r.code === 0 && JSON.parse(r.stdout).syncing?.pid === child.pid) break;
    }
    await sleep(50);
  }
  return { child, done, running: () => running, stderr: () => stderr };
}

test("a second sync while one runs is refused with one line naming it (exit 5); the first completes exactly", async () => {
  const cache = join(dir, "a.duckdb");
  const first = await startHeldSync(cache);
  // The holder may have released the cache (it is exiting) by the time the second one opens it: then
  // the second sync simply finds nothing to do.
  const second = await evxRun(["sync", lake, "--cache", cache, "--json"], env);
  assertCleanFailure(second, "second sync");
  if (second.code === 5)
    assert.match(second.stderr, new RegExp(`PID ${first.child.pid}\\)`), "names the running sync");
  assert.equal(await first.done, 0, first.stderr());
  assert.equal(await count(cache), expected);
  // And afterwards the second one works and finds nothing to do.
  const again = evx(["sync", lake, "--cache", cache, "--json"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(JSON.parse(again.stdout).objects.downloaded, 0);
});

test("two syncs started together: one wins, the other is refused cleanly or finds nothing to do", async () => {
  const cache = join(dir, "b.duckdb");
  // Larger batches than the other tests: the two overlap from their start, and each transaction is a
  // few round trips through the cache's host.
  const e = { ...env, EVX_BATCH_BYTES: "400000" };
  const [a, b] = await Promise.all([
    evxRun(["sync", lake, "--cache", cache, "--json"], e),
    evxRun(["sync", lake, "--cache", cache, "--json"], e),
  ]);
  assertCleanFailure(a, "sync A");
  assertCleanFailure(b, "sync B");
  assert.ok(a.code === 0 || b.code === 0, "at least one sync succeeds");
  assert.equal(await count(cache), expected);
});

test("readers (status, events, rejects, trend) during a sync answer, never refused", async () => {
  const cache = join(dir, "c.duckdb");
  const first = await startHeldSync(cache);
  await Promise.all(
    [["status"], ["events"], ["rejects"], ["trend", "purchase"]].map(async (args) => {
      const r = await evxRun([...args, "--cache", cache], env);
      assert.doesNotMatch(r.stderr, /\n\s+at /, `${args[0]}: no stack trace`);
      // A reader that gets in before the first commit may find no such event yet (usage error, exit 2).
      assert.ok(
        r.code === 0 || (args[0] === "trend" && r.code === 2),
        `${args.join(" ")}: exit ${r.code}: ${r.stderr}`,
      );
    }),
  );
  assert.equal(await first.done, 0, first.stderr());
  assert.equal(await count(cache), expected);
});

test("EVX_SHARED=0 (the opt-out): a reader meets the lock of a sync holding the file itself (exit 5, one line)", async () => {
  const cache = join(dir, "e.duckdb");
  const off = { EVX_SHARED: "0" };
  const first = await startHeldSync(cache, off);
  const r = await evxRun(["status", "--cache", cache, "--json"], { ...env, ...off });
  assertCleanFailure(r, "status outside shared mode");
  assert.equal(await first.done, 0, first.stderr());
  assert.equal(await count(cache), expected);
});

test("the TUI opening a cache during a sync opens at once and reads it; the sync completes exactly", async () => {
  const cache = join(dir, "d.duckdb");
  const first = await startHeldSync(cache);
  const app = await renderApp({ path: cache } as Session, {
    props: { connect: () => openSession(cache), cachePath: cache },
  });
  try {
    const f = await app.waitFor((x) => /event types|no events/.test(x), 15_000);
    assert.doesNotMatch(f, /in use by another evx process/, "never refused");
    assert.doesNotMatch(f, /\bat .*\.js:\d+/, "no stack trace in the frame");
  } finally {
    app.unmount();
  }
  assert.equal(await first.done, 0, first.stderr());
  assert.equal(await count(cache), expected);
});

test("the lock was met at least once by a process other than the probe", () => {
  assert.ok(refusals >= 1, `refusals: ${refusals}`);
});
