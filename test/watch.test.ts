// `evx sync --watch` against a real S3 server (s3rver on loopback) behind a proxy that holds every
// LIST until the test lets it through (test/helpers/listgate.ts): each change is made before exactly
// one cycle's listing, so each cycle's JSON line must count exactly that change's events (brute force
// over the object bodies). The real CLI runs as a child process, with the test hook
// EVX_WATCH_MIN_EVERY_MS so that `--every 1s` is allowed.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { watchSelection } from "../src/cache/watch.js";
import { parseEvery } from "../src/commands/sync.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { parseLakeText } from "./brute.js";
import { evx, evxAsync, evxRun } from "./helpers/cli.js";
import { checkConsistent } from "./helpers/killing.js";
import { lineReader } from "./helpers/lines.js";
import { startListGate } from "./helpers/listgate.js";
import { type S3TestServer, startS3Server } from "./helpers/s3server.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";
import { identityObjects, type Message } from "./identity-lake.js";

describe("watchSelection", () => {
  test("the newest two dates, and never later than the previous cycle's start", () => {
    assert.equal(watchSelection([]), null);
    assert.deepEqual(watchSelection(["2023-06-01"]), { from: "2023-06-01" });
    assert.deepEqual(watchSelection(["2023-06-03", "2023-06-01", "2023-06-02", "2023-06-03"]), {
      from: "2023-06-02",
    });
    // A new date appears: the followed dates stay, the new one joins.
    assert.deepEqual(watchSelection(["2023-06-01", "2023-06-02", "2023-06-03", "2023-06-04"], "2023-06-02"), {
      from: "2023-06-02",
    });
    // Nothing listed (yet): keep following from the floor; nothing and no floor selects nothing.
    assert.deepEqual(watchSelection([], "2023-06-02"), { from: "2023-06-02" });
    // The source lost its newest dates: follow the newest two it has.
    assert.deepEqual(watchSelection(["2023-05-01", "2023-05-02"], "2023-06-02"), { from: "2023-05-01" });
  });

  test("--every: a duration of at least 5 s; the test hook lowers the minimum only when set", () => {
    assert.equal(parseEvery(undefined, {}), 60_000);
    assert.equal(parseEvery("5s", {}), 5000);
    assert.equal(parseEvery("2m", {}), 120_000);
    assert.throws(() => parseEvery("2s", {}), { name: "UsageError", message: /at least 5s/ });
    assert.throws(() => parseEvery("4", { EVX_WATCH_MIN_EVERY_MS: "" }), /at least 5s/);
    assert.throws(() => parseEvery("soon", {}), { name: "UsageError", message: /^--every: bad duration/ });
    assert.equal(parseEvery("1s", { EVX_WATCH_MIN_EVERY_MS: "200" }), 1000);
  });
});

const work = tempDir("evx-watch-");
const env = {
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  AWS_REGION: "us-east-1",
  AWS_CONFIG_FILE: join(work, "no-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_PROFILE: "",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  EVX_CACHE: "",
  XDG_CACHE_HOME: join(work, "xdg"),
  EVX_WATCH_MIN_EVERY_MS: "200",
};

let server: S3TestServer;
before(async () => {
  server = await startS3Server();
});
after(async () => {
  for (const c of children) c.kill("SIGKILL");
  await server?.stop();
});

/** Today (UTC) and the days around it: the watch follows the source's newest dates. */
const day = (offset: number) => new Date(Date.now() + offset * 86_400_000).toISOString().slice(0, 10);
const [D0, D1, D2, D3] = [day(-2), day(-1), day(0), day(1)];

/** One object's body (gzipped for `.gz` keys) with `n` events (and a rejected line when `bad`), and its brute-force count. */
let users = 0;
function body(key: string, n: number, date: string, bad = false): { data: string | Buffer; events: number } {
  const rows: unknown[] = [];
  for (let i = 0; i < n; i++)
    rows.push(
      ev(i % 4 ? "click" : "open", `${date}T${String(i % 24).padStart(2, "0")}:00:00Z`, `u${users++ % 97}`, {
        i,
      }),
    );
  if (bad) rows.push("not json");
  const text = jsonl(rows);
  return { data: key.endsWith(".gz") ? gzipSync(text) : text, events: parseLakeText(text).length };
}

/** A bucket's objects and their brute-force event counts (keys relative to `raw/`). */
class Lake {
  readonly truth = new Map<string, number>();
  constructor(readonly bucket: string) {}
  async put(key: string, n: number, bad = false): Promise<number> {
    const date = /date=([\d-]+)/.exec(key)![1];
    const b = body(key, n, date, bad);
    await server.putObject(this.bucket, `raw/${key}`, b.data);
    this.truth.set(key, b.events);
    return b.events;
  }
  sum(pred: (key: string) => boolean = () => true): number {
    let s = 0;
    for (const [k, n] of this.truth) if (pred(k)) s += n;
    return s;
  }
}

async function seedLake(bucket: string): Promise<Lake> {
  await server.createBucket(bucket);
  const lake = new Lake(bucket);
  let f = 0;
  for (const d of [D0, D1, D2])
    for (let i = 0; i < 3; i++)
      await lake.put(
        `date=${d}/part-${String(f++).padStart(4, "0")}.jsonl${i === 1 ? ".gz" : ""}`,
        20 + 7 * i,
        i === 2,
      );
  return lake;
}

interface CycleJson {
  cycle: number;
  at: string;
  objects: { listed: number; downloaded: number; unchanged: number; removed: number; failed: number };
  bytes: number;
  events: number;
  rejected: number;
  seconds: number;
  failures: { key: string; error: string }[];
  cache: string;
  cache_events: number;
  error?: string;
  interrupted?: boolean;
}

const children = new Set<ReturnType<typeof evxAsync>>();
const BIN = fileURLToPath(new URL("../bin/evx", import.meta.url));

function startWatch(
  lake: Lake,
  endpoint: string,
  cache: string,
  extraEnv: Record<string, string> = {},
  extraArgs: string[] = [],
) {
  const child = evxAsync(
    [
      "sync",
      ...extraArgs,
      `s3://${lake.bucket}/raw`,
      "--endpoint",
      endpoint,
      "--cache",
      cache,
      "--json",
      "--watch",
      "--every",
      "1s",
    ],
    { ...env, ...extraEnv },
  );
  children.add(child);
  const out = lineReader(child.stdout, "watch stdout");
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
    child.on("close", (code, signal) => {
      children.delete(child);
      r({ code, signal });
    }),
  );
  return {
    child,
    async next(): Promise<CycleJson> {
      const line = await out.next(60_000);
      const j = JSON.parse(line) as CycleJson;
      assert.match(j.at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
      return j;
    },
    /** SIGTERM; resolves with the exit, checking it is 0 and clean. */
    async stop() {
      child.kill("SIGTERM");
      const r = await exited;
      assert.deepEqual(r, { code: 0, signal: null }, `exit 0 on SIGTERM: ${stderr}`);
      assert.doesNotMatch(
        stderr,
        /\n\s+at |TypeError|ReferenceError|MaxListeners|Warning/,
        `clean stderr: ${stderr}`,
      );
      assert.doesNotMatch(out.text() + stderr, /S3RVER/, "no credentials in output");
      return { stdout: out.text(), stderr };
    },
    stderr: () => stderr,
  };
}

/** `evx status --json`: events per partition and in all. */
function status(cache: string) {
  const r = evx(["status", "--cache", cache, "--json"], env);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout) as {
    events: number;
    partitions: { date: string; objects: number; events: number }[];
  };
}

const inDates =
  (...dates: string[]) =>
  (key: string) =>
    dates.some((d) => key.startsWith(`date=${d}/`));

test("a new object in the newest partition: the next cycle counts exactly its events", async () => {
  const lake = await seedLake("w-new");
  const gate = await startListGate(server.endpoint);
  const cache = join(work, "new.duckdb");
  const w = startWatch(lake, gate.endpoint, cache);
  try {
    await gate.release();
    const c1 = await w.next();
    // Without --from/--to: the newest two dates, not the older one.
    assert.equal(c1.cycle, 1);
    assert.equal(c1.objects.listed, 6);
    assert.equal(c1.objects.downloaded, 6);
    assert.equal(c1.events, lake.sum(inDates(D1, D2)));
    assert.equal(c1.cache_events, c1.events);
    assert.equal(c1.rejected, 2);
    assert.equal(c1.error, undefined);

    let added = 0;
    await gate.release({
      before: async () => (added = await lake.put(`date=${D2}/part-1615.jsonl.gz`, 750)),
    });
    const c2 = await w.next();
    assert.equal(added, 750);
    assert.equal(c2.cycle, 2);
    assert.deepEqual(c2.objects, { listed: 7, downloaded: 1, unchanged: 6, removed: 0, failed: 0 });
    assert.equal(c2.events, 750);
    assert.equal(c2.cache_events, c1.cache_events + 750);
    assert.ok(Date.parse(c2.at) > Date.parse(c1.at));

    // Nothing new: an empty cycle.
    await gate.release();
    const c3 = await w.next();
    assert.deepEqual(
      [c3.cycle, c3.objects.downloaded, c3.events, c3.cache_events],
      [3, 0, 0, c2.cache_events],
    );
    await w.stop();
  } finally {
    await gate.close();
  }
  assert.equal(await checkConsistent(cache, lake.truth), lake.sum(inDates(D1, D2)));
  const s = status(cache);
  assert.deepEqual(
    s.partitions.map((p) => [p.date, p.objects, p.events]),
    [
      [D1, 3, lake.sum(inDates(D1))],
      [D2, 4, lake.sum(inDates(D2))],
    ],
  );
});

test("an object replaced during the watch is re-ingested: its events are replaced, counts exact", async () => {
  const lake = await seedLake("w-replace");
  const gate = await startListGate(server.endpoint);
  const cache = join(work, "replace.duckdb");
  const w = startWatch(lake, gate.endpoint, cache);
  const key = `date=${D2}/part-0007.jsonl.gz`;
  try {
    await gate.release();
    const c1 = await w.next();
    const old = lake.truth.get(key)!;
    let now = 0;
    await gate.release({ before: async () => (now = await lake.put(key, 123)) });
    const c2 = await w.next();
    assert.deepEqual(c2.objects, { listed: 6, downloaded: 1, unchanged: 5, removed: 0, failed: 0 });
    assert.equal(c2.events, now);
    assert.equal(c2.cache_events, c1.cache_events - old + now);
    // And replaced again, this time smaller, with a rejected line.
    await gate.release({ before: async () => (now = await lake.put(key, 5, true)) });
    const c3 = await w.next();
    assert.equal(c3.objects.downloaded, 1);
    assert.equal(c3.events, 5);
    assert.equal(c3.rejected, 1);
    assert.equal(c3.cache_events, lake.sum(inDates(D1, D2)));
    await w.stop();
  } finally {
    await gate.close();
  }
  assert.equal(await checkConsistent(cache, lake.truth), lake.sum(inDates(D1, D2)));
});

test("a 503 in one cycle (on LIST, then on a GET) is survived, and the following cycle catches up", async () => {
  const lake = await seedLake("w-503");
  const gate = await startListGate(server.endpoint);
  const cache = join(work, "503.duckdb");
  // One attempt per request, so that a 503 fails the cycle instead of being retried inside it.
  const w = startWatch(lake, gate.endpoint, cache, { EVX_S3_MAX_ATTEMPTS: "1" });
  try {
    await gate.release();
    const c1 = await w.next();

    // Cycle 2: a new object, but the listing answers 503.
    let a = 0;
    await gate.release({
      before: async () => (a = await lake.put(`date=${D2}/part-0100.jsonl`, 40)),
      fault: "503",
    });
    const c2 = await w.next();
    assert.equal(c2.cycle, 2);
    assert.match(c2.error ?? "", /listing failed \(HTTP 503, SlowDown\)/);
    assert.equal(c2.objects.downloaded, 0);
    assert.equal(c2.events, 0);
    assert.equal(c2.cache_events, c1.cache_events);

    // Cycle 3 catches up.
    await gate.release();
    const c3 = await w.next();
    assert.equal(c3.error, undefined);
    assert.equal(c3.objects.downloaded, 1);
    assert.equal(c3.events, a);
    assert.equal(c3.cache_events, c1.cache_events + a);

    // Cycle 4: another new object whose GET answers 503: it fails alone.
    const bKey = `date=${D2}/part-0101.jsonl.gz`;
    gate.getFault = (r) => (r.key === `raw/${bKey}` ? "503" : "pass");
    let b = 0;
    await gate.release({ before: async () => (b = await lake.put(bKey, 60)) });
    const c4 = await w.next();
    assert.match(c4.error ?? "", /^1 object failed: .*part-0101.*503/);
    assert.deepEqual(
      c4.failures.map((f) => f.key),
      [bKey],
    );
    assert.equal(c4.objects.failed, 1);
    assert.equal(c4.cache_events, c3.cache_events);

    // Cycle 5 retries it.
    gate.getFault = () => "pass";
    await gate.release();
    const c5 = await w.next();
    assert.equal(c5.error, undefined);
    assert.deepEqual(c5.failures, []);
    assert.equal(c5.objects.downloaded, 1);
    assert.equal(c5.events, b);
    assert.equal(c5.cache_events, lake.sum(inDates(D1, D2)));
    const { stderr } = await w.stop();
    assert.doesNotMatch(stderr, /evx: .*failed/, "with --json, failures are in the JSON lines");
  } finally {
    await gate.close();
  }
  assert.equal(await checkConsistent(cache, lake.truth), lake.sum(inDates(D1, D2)));
  const s = status(cache);
  assert.equal(s.events, lake.sum(inDates(D1, D2)));
});

test("a new date partition appearing while watching is picked up; followed dates stay followed", async () => {
  const lake = await seedLake("w-newdate");
  const gate = await startListGate(server.endpoint);
  const cache = join(work, "newdate.duckdb");
  const w = startWatch(lake, gate.endpoint, cache);
  try {
    await gate.release();
    const c1 = await w.next();
    assert.equal(c1.objects.listed, 6);

    // Tomorrow's first file.
    let n = 0;
    await gate.release({ before: async () => (n = await lake.put(`date=${D3}/part-0000.jsonl`, 33)) });
    const c2 = await w.next();
    assert.deepEqual(c2.objects, { listed: 7, downloaded: 1, unchanged: 6, removed: 0, failed: 0 });
    assert.equal(c2.events, n);

    // A late file for D1 (now the third-newest date) still lands; one for D0 (never followed) does not.
    let late = 0;
    await gate.release({
      before: async () => {
        late = await lake.put(`date=${D1}/part-2345.jsonl`, 11);
        await lake.put(`date=${D0}/part-2345.jsonl`, 13);
      },
    });
    const c3 = await w.next();
    assert.deepEqual(c3.objects, { listed: 8, downloaded: 1, unchanged: 7, removed: 0, failed: 0 });
    assert.equal(c3.events, late);
    assert.equal(c3.cache_events, lake.sum(inDates(D1, D2, D3)));
    await w.stop();
  } finally {
    await gate.close();
  }
  assert.equal(await checkConsistent(cache, lake.truth), lake.sum(inDates(D1, D2, D3)));
  // Coverage still knows the whole source: D0 is listed but not synced.
  const plain = evx(
    ["sync", `s3://${lake.bucket}/raw`, "--endpoint", server.endpoint, "--cache", cache, "--json"],
    env,
  );
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(JSON.parse(plain.stdout).objects.downloaded, 4, "a plain sync then fetches D0's four objects");
  assert.equal(await checkConsistent(cache, lake.truth), lake.sum());
});

test("SIGTERM in the middle of a cycle exits 0 after the current batch, with a consistent cache", async () => {
  const lake = await seedLake("w-term");
  const gate = await startListGate(server.endpoint);
  const cache = join(work, "term.duckdb");
  // Tiny batches: every object commits on its own as soon as it is downloaded.
  const w = startWatch(lake, gate.endpoint, cache, { EVX_BATCH_BYTES: "1" });
  try {
    await gate.release();
    const c1 = await w.next();
    // Cycle 2 finds five new objects; the GET of the last is held until SIGTERM was sent.
    const keys = [0, 1, 2, 3, 4].map((i) => `date=${D2}/part-03${i}0.jsonl${i % 2 ? ".gz" : ""}`);
    let release: (() => void) | null = null;
    const heldGet = new Promise<void>((r) => {
      release = r;
    });
    const seen = new Set<string>();
    gate.getFault = (r) => {
      if (r.key) seen.add(r.key);
      return r.key === `raw/${keys[4]}` ? heldGet.then(() => "pass" as const) : "pass";
    };
    await gate.release({
      before: async () => {
        for (const k of keys) await lake.put(k, 50);
      },
    });
    while (!keys.every((k) => seen.has(`raw/${k}`))) await new Promise((r) => setTimeout(r, 20));
    // Give the first four time to commit (not required for consistency, only for a mid-cycle stop).
    await new Promise((r) => setTimeout(r, 1500));
    w.child.kill("SIGTERM");
    await new Promise((r) => setTimeout(r, 200));
    release!();
    const last = await w.next();
    assert.equal(last.cycle, 2);
    assert.equal(last.interrupted, true);
    const { stderr } = await w.stop();
    assert.match(stderr, /stopping the watch/);
    // What committed: the manifest and the rows agree, per object exactly.
    const held = await checkConsistent(cache, lake.truth);
    assert.equal(held, last.cache_events);
    assert.equal(held, c1.cache_events + last.events);
    assert.ok(
      last.objects.downloaded >= 1 && last.objects.downloaded <= 4,
      `committed ${last.objects.downloaded}`,
    );
    assert.equal(status(cache).events, held);
  } finally {
    await gate.close();
  }
  // The next sync finishes the job.
  const again = evx(
    ["sync", `s3://${lake.bucket}/raw`, "--endpoint", server.endpoint, "--cache", cache, "--json"],
    env,
  );
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await checkConsistent(cache, lake.truth), lake.sum());
});

test("SIGTERM at any moment of the start-up exits 0 (bin/evx as a user runs it); the cache stays consistent", async (t) => {
  const lake = await seedLake("w-early");
  const gate = await startListGate(server.endpoint);
  const started = fileURLToPath(new URL("./helpers/started.cjs", import.meta.url));
  /** Where each SIGTERM lands: right after spawn, after evx's first line plus a delay, at the cache file's creation, at the first LIST. */
  const moments = [
    "spawn",
    "started",
    "started+20ms",
    "started+80ms",
    "started+250ms",
    "cache file",
    "first LIST",
  ];
  const outcomes: string[] = [];
  try {
    for (const [i, moment] of moments.entries()) {
      const cache = join(work, `early-${i}.duckdb`);
      const mark = join(work, `early-${i}.started`);
      const child = spawn(
        process.execPath,
        [
          BIN,
          "sync",
          `s3://${lake.bucket}/raw`,
          "--endpoint",
          gate.endpoint,
          "--cache",
          cache,
          "--json",
          "--watch",
          "--every",
          "1s",
        ],
        {
          env: {
            ...process.env,
            ...env,
            NO_COLOR: "1",
            NODE_OPTIONS: `--require ${started}`,
            EVX_TEST_STARTED_FILE: mark,
          },
          stdio: ["ignore", "pipe", "pipe"],
        },
      );
      children.add(child as ReturnType<typeof evxAsync>);
      let stdout = "";
      let stderr = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
      child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
      let running = true;
      const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) =>
        child.on("close", (code, signal) => {
          running = false;
          children.delete(child as ReturnType<typeof evxAsync>);
          r({ code, signal });
        }),
      );
      const until = async (done: () => boolean) => {
        while (running && !done()) await sleep(1);
      };
      if (moment.startsWith("started")) {
        await until(() => existsSync(mark));
        await sleep(Number(/\+(\d+)ms/.exec(moment)?.[1] ?? 0));
      } else if (moment === "cache file") await until(() => existsSync(cache));
      else if (moment === "first LIST") await until(() => gate.held() > 0);
      assert.ok(running, `${moment}: still running when signalled: ${stderr}`);
      child.kill("SIGTERM");
      if (moment === "first LIST") await gate.release();
      const r = await exited;
      const what = `${moment}: ${JSON.stringify(r)} ${stderr}`;
      outcomes.push(`${moment}: ${r.signal ? `died of ${r.signal} in Node's start-up` : `exit ${r.code}`}`);
      if (r.signal) {
        // Only Node's own start-up, before evx's first line, may die of it: nothing written.
        assert.equal(existsSync(mark), false, `died of ${r.signal} after evx started: ${what}`);
        assert.deepEqual([r.signal, stdout, stderr, existsSync(cache)], ["SIGTERM", "", "", false], what);
      } else {
        assert.equal(r.code, 0, what);
        assert.doesNotMatch(stderr, /\n\s+at |TypeError|ReferenceError|Warning/, what);
        for (const line of stdout.split("\n").filter(Boolean))
          assert.equal((JSON.parse(line) as CycleJson).interrupted, true, what);
      }
      // The cache opens and is consistent; before the first LIST nothing was committed.
      const held = await checkConsistent(cache, lake.truth);
      if (moment !== "first LIST") assert.equal(held, 0, what);
    }
    // Signalled once its cache file existed, the watch landed nothing: a cache it created and left
    // empty is removed (README "A failed sync changes nothing you rely on").
    assert.equal(existsSync(join(work, `early-${moments.indexOf("cache file")}.duckdb`)), false);
  } finally {
    await gate.close();
    t.diagnostic(outcomes.join("; "));
  }
  // A sync of the cache stopped as it was being created completes.
  const cache = join(work, `early-${moments.indexOf("cache file")}.duckdb`);
  const again = evx(
    ["sync", `s3://${lake.bucket}/raw`, "--endpoint", server.endpoint, "--cache", cache, "--json"],
    env,
  );
  assert.equal(again.code, 0, again.stderr);
  assert.equal(await checkConsistent(cache, lake.truth), lake.sum());
});

test("--every below 5s is a one-line usage error; so are --every without --watch and a bad duration", async () => {
  const cache = join(work, "usage.duckdb");
  const noHook = { ...env, EVX_WATCH_MIN_EVERY_MS: "" };
  for (const [args, pattern] of [
    [["--watch", "--every", "2s"], /^evx: --every must be at least 5s, got '2s'/],
    [["--every", "10s"], /^evx: --every needs --watch/],
    [["--watch", "--every", "soon"], /^evx: --every: bad duration "soon"/],
  ] as const) {
    const r = await evxRun(["sync", join(work, "no-lake"), "--cache", cache, ...args], noHook);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
    assert.match(r.stderr, pattern);
    assert.equal(r.stdout, "");
  }
});

test("human output: one line per cycle on stdout, a failed object on one stderr line; a folder source", async () => {
  const dir = join(work, "folder");
  const lakeDir = join(dir, "lake");
  const files: Record<string, string> = {};
  for (const d of [D1, D2]) files[`date=${d}/part-0000.jsonl`] = jsonl([ev("open", `${d}T01:00:00Z`, "a")]);
  writeLakeFiles(lakeDir, files);
  /** Writes a file into the lake whole (rename), so no listing sees half of it. */
  const drop = (key: string, data: string | Buffer) => {
    const tmp = join(dir, "tmp");
    writeFileSync(tmp, data);
    mkdirSync(join(lakeDir, key, ".."), { recursive: true });
    renameSync(tmp, join(lakeDir, key));
  };
  const child = evxAsync(
    ["sync", lakeDir, "--cache", join(dir, "c.duckdb"), "--watch", "--every", "1s"],
    env,
  );
  children.add(child);
  const out = lineReader(child.stdout, "stdout");
  const err = lineReader(child.stderr, "stderr");
  const exited = new Promise<number | null>((r) => child.on("close", (code) => r(code)));
  const line =
    /^\d{2}:\d{2}:\d{2} {2}\+(\d+) objects? {2}\+([\d,]+) events? {2}cache ([\d,]+) events? {2}next in \d+s$/;
  const first = line.exec(await out.next());
  assert.ok(first, out.text());
  assert.deepEqual(first.slice(1), ["2", "2", "2"]);
  assert.match(
    await err.next(),
    new RegExp(`^evx: watching .*lake, dates ${D1} on, every 1s; Ctrl\\+C stops$`),
  );

  drop(
    `date=${D2}/part-0100.jsonl`,
    jsonl(Array.from({ length: 1234 }, (_, i) => ev("x", `${D2}T02:00:00Z`, `u${i}`))),
  );
  let m: RegExpExecArray | null = null;
  while (!m || m[1] === "0") m = line.exec(await out.next());
  assert.deepEqual(m.slice(1), ["1", "1,234", "1,236"]);

  drop(`date=${D2}/part-0200.jsonl.gz`, "not gzip at all");
  assert.match(
    await err.next(),
    /^evx: \d{2}:\d{2}:\d{2} {2}cycle \d+: 1 object failed: .*part-0200.*; the next cycle retries$/,
  );
  child.kill("SIGTERM");
  assert.equal(await exited, 0);
  assert.match(err.text(), /evx: watch stopped after \d+ cycles; the cache is consistent\n$/);
  assert.doesNotMatch(err.text(), /\n\s+at /);
});

test("a late identify arriving during the watch re-keys the person's earlier events (Segment)", async () => {
  await server.createBucket("w-identity");
  const lake = new Lake("w-identity");
  const put = async (messages: Message[], file: number) => {
    for (const [key, data] of identityObjects("segment", messages, file))
      await server.putObject(lake.bucket, `raw/${key}`, data);
  };
  // Yesterday: a-4 lands anonymously; erin signs up (server-side, her user id only).
  await put(
    [
      { kind: "event", t: `${D1}T10:00:00.000Z`, type: "landing_viewed", anon: "a-4" },
      { kind: "event", t: `${D1}T10:20:00.000Z`, type: "signed_up", anon: "s-erin", user: "erin" },
    ],
    0,
  );
  const gate = await startListGate(server.endpoint);
  const cache = join(work, "identity.duckdb");
  // Shared mode (issue #23): the analyses read the cache while the watch writes it.
  const shared = { ...env, EVX_SHARED: "1", EVX_HOST_IDLE_MS: "1500", XDG_RUNTIME_DIR: join(work, "run") };
  const funnel = () => {
    const r = evx(
      ["funnel", "landing_viewed", "signed_up", "--within", "1h", "--cache", cache, "--json"],
      shared,
    );
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { identity: string; steps: { users: number }[] };
    return [j.identity, ...j.steps.map((s) => s.users)];
  };
  const w = startWatch(lake, gate.endpoint, cache, shared, ["--preset", "segment"]);
  try {
    await gate.release();
    await w.next();
    assert.deepEqual(funnel(), ["merged", 1, 0]);
    // Today: the identify of a-4 as erin arrives.
    await gate.release({
      before: () => put([{ kind: "identify", t: `${D2}T07:00:00.000Z`, anon: "a-4", user: "erin" }], 1),
    });
    const c2 = await w.next();
    assert.equal(c2.objects.downloaded, 1);
    // Yesterday's anonymous landing is erin's now: she converts.
    assert.deepEqual(funnel(), ["merged", 1, 1]);
    await w.stop();
  } finally {
    await gate.close();
  }
  const who = evx(
    [
      "funnel",
      "landing_viewed",
      "signed_up",
      "--within",
      "1h",
      "--cache",
      cache,
      "--json",
      "--users-of",
      "reached:2",
    ],
    shared,
  );
  assert.equal(who.code, 0, who.stderr);
  assert.deepEqual(
    (JSON.parse(who.stdout) as { users: { user_id: string; merged_ids: string[] }[] }).users.map((u) => [
      u.user_id,
      u.merged_ids,
    ]),
    [["erin", ["a-4", "s-erin"]]],
  );
});
