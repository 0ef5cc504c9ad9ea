// S3 fault injection through a loopback proxy in front of s3rver, against the real CLI (`evx sync --json`).
// After every scenario the cache holds exactly the events of the objects reported as synced (counted
// with the brute-force reader over those objects' files), and the next clean sync repairs everything.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { Cache } from "../src/cache/db.js";
import { sync } from "../src/cache/sync.js";
import { s3Source } from "../src/source/s3.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { parseLakeText } from "./brute.js";
import { evxRun } from "./helpers/cli.js";
import { type Fault, type ProxiedRequest, startFaultProxy } from "./helpers/faultproxy.js";
import { type S3TestServer, startS3Server, uploadDir } from "./helpers/s3server.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

const BUCKET = "faults";
const PREFIX = "raw/";
const work = tempDir("evx-faults-");
const lake = join(work, "lake");
const env = {
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  AWS_REGION: "us-east-1",
  AWS_CONFIG_FILE: join(work, "no-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_PROFILE: "",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  EVX_S3_TIMEOUT_MS: "700",
  EVX_CACHE: "",
  XDG_CACHE_HOME: join(work, "xdg"),
};

let server: S3TestServer;
/** Brute-force event count of each object (key relative to the source root). */
const truth = new Map<string, number>();
let keys: string[] = [];

before(async () => {
  // For the in-process repair syncs.
  Object.assign(process.env, env);
  const files: Record<string, string> = {};
  let u = 0;
  for (const d of ["2023-06-01", "2023-06-02", "2023-06-03"]) {
    for (let f = 0; f < 4; f++) {
      const rows = [];
      for (let i = 0; i < 20 + f * 7; i++)
        rows.push(
          ev(
            i % 3 ? "click" : "open",
            `${d}T${String(f + 10).padStart(2, "0")}:00:${String(i % 60).padStart(2, "0")}Z`,
            `u${u++ % 37}`,
            { i },
          ),
        );
      if (f === 1) rows.push("not json"); // a rejected line, which is not an event
      files[`date=${d}/part-${f}.jsonl${f % 2 ? ".gz" : ""}`] = jsonl(rows);
    }
  }
  writeLakeFiles(lake, files);
  for (const k of Object.keys(files)) {
    let buf = readFileSync(join(lake, ...k.split("/")));
    if (k.endsWith(".gz")) buf = gunzipSync(buf);
    truth.set(k, parseLakeText(buf.toString("utf8")).length);
  }
  keys = [...truth.keys()].sort();
  server = await startS3Server();
  await server.createBucket(BUCKET);
  await uploadDir(server, BUCKET, lake, PREFIX);
});
after(async () => {
  await server?.stop();
});

interface SyncJson {
  objects: { listed: number; downloaded: number; failed: number };
  events: number;
  failures: { key: string; error: string }[];
}

let nCache = 0;
async function syncVia(endpoint: string, cache: string, extraEnv: Record<string, string> = {}) {
  const r = await evxRun(["sync", `s3://${BUCKET}/raw`, "--endpoint", endpoint, "--cache", cache, "--json"], {
    ...env,
    ...extraEnv,
  });
  assert.doesNotMatch(r.stderr, /\n\s+at |TypeError|ReferenceError/, `no stack trace: ${r.stderr}`);
  assert.doesNotMatch(r.stdout + r.stderr, /S3RVER/, "no credentials in output");
  return r;
}

/** Per-key event counts in the cache. */
async function cachedByKey(path: string): Promise<Map<string, number>> {
  const cache = await Cache.open(path, { readOnly: true });
  try {
    const rows = await cache.all<{ key: string; n: number }>(
      `SELECT o.key, count(e.object_id) AS n FROM objects o LEFT JOIN events e USING (object_id) GROUP BY o.key`,
    );
    const total = await cache.one<{ n: number }>("SELECT count(*) AS n FROM events");
    const m = new Map(rows.map((r) => [r.key, r.n]));
    assert.equal(
      total?.n,
      [...m.values()].reduce((a, b) => a + b, 0),
      "no events outside the manifest",
    );
    return m;
  } finally {
    cache.close();
  }
}

/** The cache holds exactly the brute-force events of `synced` keys, nothing of the others. */
async function assertExactly(path: string, synced: string[]) {
  const got = await cachedByKey(path);
  const want = new Map(synced.map((k) => [k, truth.get(k)!]));
  assert.deepEqual(
    Object.fromEntries([...got].sort()),
    Object.fromEntries([...want].sort()),
    "cache = brute-force count of the synced objects",
  );
}

interface Scenario {
  name: string;
  fault: (r: ProxiedRequest) => Fault;
  /** Keys expected to fail (relative); [] = the sync succeeds. */
  failing?: string[];
  /** The whole run fails with this exit code. */
  fatalExit?: number;
  errorPattern?: RegExp;
  extraEnv?: Record<string, string>;
}

const K = (k: string) => PREFIX + k;
const victim = "date=2023-06-02/part-2.jsonl";
const gzVictim = "date=2023-06-01/part-3.jsonl.gz";

const scenarios: Scenario[] = [
  {
    name: "503 SlowDown on every object's first GET and on the first LIST is retried",
    fault: (r) => ((r.kind === "list" && r.n === 1) || (r.kind === "get" && r.nKey === 1) ? "503" : "pass"),
  },
  {
    name: "500 InternalError (twice on one object) is retried",
    fault: (r) => (r.kind === "get" && r.nKey <= (r.key === K(victim) ? 2 : 1) ? "500" : "pass"),
  },
  {
    name: "connection reset in the middle of a body is retried",
    fault: (r) => (r.kind === "get" && r.nKey === 1 && r.n % 2 === 0 ? "cut" : "pass"),
  },
  {
    name: "a body that stalls longer than the request timeout is retried",
    fault: (r) => (r.kind === "get" && r.key === K(victim) && r.nKey === 1 ? "stall" : "pass"),
  },
  {
    name: "a request that never gets headers times out and is retried",
    fault: (r) => (r.kind === "get" && r.key === K(gzVictim) && r.nKey === 1 ? "hang" : "pass"),
  },
  {
    name: "403 AccessDenied on one object fails that object alone (exit 3)",
    fault: (r) => (r.kind === "get" && r.key === K(victim) ? "403" : "pass"),
    failing: [victim],
    errorPattern: /access denied \(AccessDenied\)/,
  },
  {
    name: "NoSuchKey (deleted between list and get) fails that object alone (exit 3)",
    fault: (r) => (r.kind === "get" && r.key === K(victim) ? "nokey" : "pass"),
    failing: [victim],
    errorPattern: /object not found \(NoSuchKey\)/,
  },
  {
    name: "a truncated gzip fails that object alone (exit 3)",
    fault: (r) => (r.kind === "get" && r.key === K(gzVictim) ? "truncate" : "pass"),
    failing: [gzVictim],
    errorPattern: /corrupt or truncated compressed data/,
  },
  {
    name: "a reset on every attempt fails that object alone (exit 3)",
    fault: (r) => (r.kind === "get" && r.key === K(victim) ? "cut" : "pass"),
    failing: [victim],
    errorPattern: /broke off/,
    extraEnv: { EVX_S3_MAX_ATTEMPTS: "2" },
  },
  {
    name: "NoSuchBucket fails the whole run (exit 4)",
    fault: (r) => (r.kind === "list" ? "nobucket" : "pass"),
    fatalExit: 4,
    errorPattern: /bucket does not exist \(NoSuchBucket\)/,
  },
  {
    name: "LIST answering 500 on every attempt fails the whole run (exit 4)",
    fault: (r) => (r.kind === "list" ? "500" : "pass"),
    fatalExit: 4,
    errorPattern: /listing failed/,
    extraEnv: { EVX_S3_MAX_ATTEMPTS: "2" },
  },
];

describe("S3 faults", () => {
  for (const s of scenarios) {
    test(s.name, async () => {
      const cache = join(work, `c${++nCache}.duckdb`);
      const proxy = await startFaultProxy(server.endpoint, s.fault);
      let r: Awaited<ReturnType<typeof syncVia>>;
      try {
        r = await syncVia(proxy.endpoint, cache, s.extraEnv);
      } finally {
        await proxy.close();
      }
      if (s.fatalExit === undefined && !s.failing?.length)
        // The fault really fired: something was asked twice.
        assert.ok(
          proxy.count("get") > keys.length || proxy.count("list") > 1,
          `no retry seen (${proxy.count("get")} GETs, ${proxy.count("list")} LISTs)`,
        );
      if (s.fatalExit !== undefined) {
        assert.equal(r.code, s.fatalExit, r.stderr);
        const lines = r.stderr.trim().split("\n");
        assert.equal(lines.length, 1, `one-line reason: ${r.stderr}`);
        assert.match(lines[0], /^evx: /);
        if (s.errorPattern) assert.match(lines[0], s.errorPattern);
        // A first sync that failed as a whole leaves no cache file behind (README, "A failed sync").
        assert.ok(!existsSync(cache) && !existsSync(`${cache}.wal`), "no cache file left");
      } else {
        const failing = s.failing ?? [];
        assert.equal(r.code, failing.length ? 3 : 0, r.stderr);
        const out = JSON.parse(r.stdout) as SyncJson;
        assert.deepEqual(out.failures.map((f) => f.key).sort(), [...failing].sort());
        for (const f of out.failures) {
          assert.ok(!f.error.includes("\n"), "one-line reason");
          if (s.errorPattern) assert.match(f.error, s.errorPattern);
        }
        const synced = keys.filter((k) => !failing.includes(k));
        assert.equal(out.objects.downloaded, synced.length);
        assert.equal(
          out.events,
          synced.reduce((a, k) => a + truth.get(k)!, 0),
        );
        await assertExactly(cache, synced);
      }
      // The next clean sync repairs everything (in-process: the CLI's exit codes were checked above).
      const c = await Cache.open(cache, { create: true });
      try {
        const out = await sync(c, s3Source(`s3://${BUCKET}/raw`, { endpoint: server.endpoint }));
        assert.equal(out.objects.failed, 0);
        assert.equal(out.objects.unchanged + out.objects.downloaded, keys.length);
      } finally {
        c.close();
      }
      await assertExactly(cache, keys);
    });
  }
});

test("an object really deleted between list and get fails alone; the next sync drops it from the plan", async () => {
  const cache = join(work, "deleted.duckdb");
  const gone = "date=2023-06-03/part-0.jsonl";
  const proxy = await startFaultProxy(server.endpoint, (r) =>
    // The listing had the object; its GET goes out only once the object is really deleted.
    r.kind === "get" && r.key === K(gone) && r.nKey === 1
      ? server.deleteObject(BUCKET, K(gone)).then(() => "pass" as const)
      : "pass",
  );
  let r: Awaited<ReturnType<typeof syncVia>>;
  try {
    r = await syncVia(proxy.endpoint, cache);
  } finally {
    await proxy.close();
  }
  try {
    assert.equal(r.code, 3, r.stderr);
    const out = JSON.parse(r.stdout) as SyncJson;
    const failed = out.failures.map((f) => f.key);
    assert.deepEqual(failed, [gone]);
    assert.match(out.failures[0]!.error, /object not found \(NoSuchKey\)/);
    await assertExactly(
      cache,
      keys.filter((k) => !failed.includes(k)),
    );
    const clean = await syncVia(server.endpoint, cache);
    assert.equal(clean.code, 0, clean.stderr);
    const after = JSON.parse(clean.stdout) as SyncJson;
    assert.equal(after.objects.failed, 0);
    await assertExactly(
      cache,
      keys.filter((k) => k !== gone),
    );
  } finally {
    await server.putObject(BUCKET, K(gone), readFileSync(join(lake, ...gone.split("/"))));
  }
});
