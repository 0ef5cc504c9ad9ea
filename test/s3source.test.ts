// S3 source against a real S3-compatible server (s3rver in a child process) on loopback.
// A few tests put a small HTTP proxy between the source and the server to cut or stall responses.
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { redactUrl, s3Source } from "../src/source/s3.js";
import { type ListedObject, type Source, SourceError } from "../src/source/types.js";
import { type Fault, startFaultProxy } from "./helpers/faultproxy.js";
import { type S3TestServer, startS3Server, uploadDir } from "./helpers/s3server.js";

// Hermetic credentials for the SDK's default chain: s3rver's built-in account, no shared files, no IMDS.
const work = mkdtempSync(join(tmpdir(), "evx-s3test-"));
Object.assign(process.env, {
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  AWS_CONFIG_FILE: join(work, "no-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
});
for (const k of [
  "AWS_PROFILE",
  "AWS_SESSION_TOKEN",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_ENDPOINT_URL",
]) {
  delete process.env[k];
}

const BUCKET = "evx-events";
let server: S3TestServer;
let n = 0;
const tmpFile = () => join(work, `dl-${++n}`);

async function listAll(src: Source): Promise<ListedObject[]> {
  const out: ListedObject[] = [];
  for await (const o of src.list()) out.push(o);
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

async function rejectsWith(p: Promise<unknown>): Promise<SourceError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof SourceError, `expected a SourceError, got ${String(err)}`);
    assert.ok(!err.message.includes("\n"), `message must be one line: ${JSON.stringify(err.message)}`);
    assert.ok(!/S3RVER|Signature=|Credential=/i.test(err.message), `message leaks secrets: ${err.message}`);
    return err;
  }
  assert.fail("expected a rejection");
}

const exists = (p: string) => {
  try {
    statSync(p);
    return true;
  } catch {
    return false;
  }
};

before(async () => {
  server = await startS3Server();
  await server.createBucket(BUCKET);
});

after(async () => {
  await server?.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("list", () => {
  test("lists recursively under a prefix, keys relative, directory markers and siblings skipped", async () => {
    const local = join(work, "lake");
    mkdirSync(join(local, "date=2023-06-01"), { recursive: true });
    mkdirSync(join(local, "date=2023-06-02", "nested"), { recursive: true });
    writeFileSync(join(local, "date=2023-06-01", "part-1.jsonl"), '{"a":1}\n');
    writeFileSync(join(local, "date=2023-06-01", "part-2.jsonl"), '{"a":2}\n{"a":3}\n');
    writeFileSync(join(local, "date=2023-06-02", "nested", "part-3.jsonl"), "");
    const keys = await uploadDir(server, BUCKET, local, "lake/events/");
    assert.equal(keys.length, 3);
    await server.putObject(BUCKET, "lake/events/date=2023-06-03/", ""); // console-style folder marker
    await server.putObject(BUCKET, "lake/eventsX/part-9.jsonl", "not under the prefix");
    await server.putObject(BUCKET, "lake/other.jsonl", "not under the prefix");

    const expected = [
      "date=2023-06-01/part-1.jsonl",
      "date=2023-06-01/part-2.jsonl",
      "date=2023-06-02/nested/part-3.jsonl",
    ];
    for (const url of [`s3://${BUCKET}/lake/events`, `s3://${BUCKET}/lake/events/`]) {
      const src = s3Source(url, { endpoint: server.endpoint });
      assert.equal(src.kind, "s3");
      assert.equal(src.url, `s3://${BUCKET}/lake/events/`);
      const listed = await listAll(src);
      assert.deepEqual(
        listed.map((o) => o.key),
        expected,
      );
      assert.deepEqual(
        listed.map((o) => o.size),
        [8, 16, 0],
      );
      for (const o of listed) assert.match(o.version, /^[0-9a-f]{32}$/, "etag without quotes");
    }

    // No prefix: the whole bucket, keys as stored.
    const all = await listAll(s3Source(`s3://${BUCKET}`, { endpoint: server.endpoint }));
    assert.ok(all.some((o) => o.key === "lake/other.jsonl"));
    assert.ok(!all.some((o) => o.key.endsWith("/")));
  });

  test("paginates past 1000 objects", async (t) => {
    const keys = Array.from(
      { length: 1100 },
      (_, i) => `big/date=2023-06-01/part-${String(i).padStart(4, "0")}.jsonl`,
    );
    const dir = join(work, "big");
    mkdirSync(join(dir, "date=2023-06-01"), { recursive: true });
    for (const k of keys) writeFileSync(join(dir, k.slice("big/".length)), `{"i":"${k}"}\n`);
    const t0 = Date.now();
    await uploadDir(server, BUCKET, dir, "big/");
    const uploadMs = Date.now() - t0;
    const t1 = Date.now();
    const listed = await listAll(s3Source(`s3://${BUCKET}/big`, { endpoint: server.endpoint }));
    const listMs = Date.now() - t1;
    t.diagnostic(`upload 1100: ${uploadMs} ms, list: ${listMs} ms`);
    assert.equal(listed.length, 1100);
    assert.equal(new Set(listed.map((o) => o.key)).size, 1100);
    assert.deepEqual(
      listed.map((o) => `big/${o.key}`),
      keys,
    );
  });

  test("etag and size change when an object is overwritten", async () => {
    const src = s3Source(`s3://${BUCKET}/overwrite`, { endpoint: server.endpoint });
    await server.putObject(BUCKET, "overwrite/a.jsonl", '{"v":1}\n');
    const [before] = await listAll(src);
    await server.putObject(BUCKET, "overwrite/a.jsonl", '{"v":22}\n');
    const [after] = await listAll(src);
    assert.equal(before.key, "a.jsonl");
    assert.equal(before.size, 8);
    assert.equal(after.size, 9);
    assert.notEqual(before.version, after.version);
    // Same bytes again → same etag (content hash on this server; on S3 too for single-part uploads).
    await server.putObject(BUCKET, "overwrite/a.jsonl", '{"v":1}\n');
    const [again] = await listAll(src);
    assert.equal(again.version, before.version);
  });

  test("a deleted object disappears from the listing", async () => {
    const src = s3Source(`s3://${BUCKET}/deleted`, { endpoint: server.endpoint });
    await server.putObject(BUCKET, "deleted/a.jsonl", "x");
    await server.putObject(BUCKET, "deleted/b.jsonl", "y");
    await server.deleteObject(BUCKET, "deleted/a.jsonl");
    assert.deepEqual(
      (await listAll(src)).map((o) => o.key),
      ["b.jsonl"],
    );
  });

  test("empty prefix lists nothing", async () => {
    assert.deepEqual(
      await listAll(s3Source(`s3://${BUCKET}/nothing-here`, { endpoint: server.endpoint })),
      [],
    );
  });
});

describe("download", () => {
  test("writes the exact bytes (text, gzip, empty, awkward keys) with mode 0600", async () => {
    const gz = gzipSync(Buffer.concat([Buffer.from('{"e":"signup"}\n'.repeat(2000)), randomBytes(300_000)]));
    const bodies: Record<string, Buffer> = {
      "date=2023-06-01/part-1.jsonl": Buffer.from('{"event":"signup","user":"u1"}\n'),
      "date=2023-06-01/part-2.jsonl.gz": gz,
      "date=2023-06-01/empty.jsonl": Buffer.alloc(0),
      "date=2023-06-01/with space & ünïcødé.jsonl": Buffer.from("héllo\n"),
    };
    for (const [k, b] of Object.entries(bodies)) await server.putObject(BUCKET, `dl/${k}`, b);
    const src = s3Source(`s3://${BUCKET}/dl/`, { endpoint: server.endpoint });
    const listed = await listAll(src);
    assert.deepEqual(listed.map((o) => o.key).sort(), Object.keys(bodies).sort());
    for (const o of listed) {
      const dest = tmpFile();
      await src.download(o.key, dest);
      const got = readFileSync(dest);
      assert.ok(got.equals(bodies[o.key]), `bytes differ for ${o.key}`);
      assert.equal(got.length, o.size);
      assert.equal(statSync(dest).mode & 0o777, 0o600);
    }
  });

  test("NoSuchKey is a non-fatal SourceError and leaves no file", async () => {
    const src = s3Source(`s3://${BUCKET}/dl`, { endpoint: server.endpoint });
    const dest = tmpFile();
    const err = await rejectsWith(src.download("date=2023-06-01/missing.jsonl", dest));
    assert.equal(err.fatal, false);
    assert.equal(err.code, "NoSuchKey");
    assert.match(err.message, /s3:\/\/evx-events\/dl\/date=2023-06-01\/missing\.jsonl: object not found/);
    assert.equal(exists(dest), false);
  });

  test("an aborted download rejects with AbortError and leaves no file", async () => {
    await server.putObject(BUCKET, "abort/a.bin", randomBytes(1000));
    const src = s3Source(`s3://${BUCKET}/abort`, { endpoint: server.endpoint });
    const ac = new AbortController();
    ac.abort();
    const dest = tmpFile();
    await assert.rejects(src.download("a.bin", dest, ac.signal), { name: "AbortError" });
    assert.equal(exists(dest), false);
  });
});

describe("errors", () => {
  test("NoSuchBucket is fatal with a one-line message", async () => {
    const src = s3Source("s3://no-such-bucket-evx/events", { endpoint: server.endpoint });
    const err = await rejectsWith(listAll(src));
    assert.equal(err.fatal, true);
    assert.equal(err.code, "NoSuchBucket");
    assert.equal(err.message, "s3://no-such-bucket-evx: bucket does not exist (NoSuchBucket)");
  });

  test("an unknown access key is fatal on list and names the remedy, not the key", async () => {
    const saved = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = "EVXBOGUSKEY";
    try {
      const err = await rejectsWith(listAll(s3Source(`s3://${BUCKET}/any`, { endpoint: server.endpoint })));
      assert.equal(err.fatal, true);
      assert.equal(err.code, "InvalidAccessKeyId");
      assert.match(err.message, /check --profile/);
      assert.ok(!err.message.includes("EVXBOGUSKEY"));
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved;
    }
  });

  test("noSignRequest sends unsigned requests (works even with bogus credentials in the env)", async () => {
    const saved = process.env.AWS_ACCESS_KEY_ID;
    process.env.AWS_ACCESS_KEY_ID = "EVXBOGUSKEY"; // would be InvalidAccessKeyId if anything were signed
    try {
      await server.putObject(BUCKET, "public/date=2023-06-01/part-1.jsonl", '{"a":1}\n');
      const src = s3Source(`s3://${BUCKET}/public`, { endpoint: server.endpoint, noSignRequest: true });
      const listed = await listAll(src);
      assert.deepEqual(
        listed.map((o) => o.key),
        ["date=2023-06-01/part-1.jsonl"],
      );
      const dest = tmpFile();
      await src.download(listed[0].key, dest);
      assert.equal(readFileSync(dest, "utf8"), '{"a":1}\n');
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved;
    }
  });

  test("profile credentials come from the shared files; a missing profile is fatal", async () => {
    const saved = { ...process.env };
    delete process.env.AWS_ACCESS_KEY_ID;
    delete process.env.AWS_SECRET_ACCESS_KEY;
    process.env.AWS_SHARED_CREDENTIALS_FILE = join(work, "credentials");
    process.env.AWS_CONFIG_FILE = join(work, "config");
    writeFileSync(
      process.env.AWS_SHARED_CREDENTIALS_FILE,
      "[evx]\naws_access_key_id = S3RVER\naws_secret_access_key = S3RVER\n",
    );
    writeFileSync(process.env.AWS_CONFIG_FILE, "[profile evx]\nregion = eu-west-1\n");
    try {
      await server.putObject(BUCKET, "profiled/part-1.jsonl", '{"a":1}\n');
      const listed = await listAll(
        s3Source(`s3://${BUCKET}/profiled`, { endpoint: server.endpoint, profile: "evx" }),
      );
      assert.deepEqual(
        listed.map((o) => o.key),
        ["part-1.jsonl"],
      );
      const err = await rejectsWith(
        listAll(s3Source(`s3://${BUCKET}/profiled`, { endpoint: server.endpoint, profile: "nope" })),
      );
      assert.equal(err.fatal, true);
      assert.equal(err.code, "CredentialsProviderError");
      assert.match(err.message, /^s3:\/\/evx-events: no usable AWS credentials .*--no-sign-request/);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  test("an unreachable endpoint is fatal, fast, and the endpoint's user info is redacted", async () => {
    const port = await closedPort();
    const src = s3Source(`s3://${BUCKET}/lake`, {
      endpoint: `http://alice:hunter2@127.0.0.1:${port}`,
      maxAttempts: 2,
      requestTimeoutMs: 2000,
    });
    const t0 = Date.now();
    const err = await rejectsWith(listAll(src));
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.equal(err.fatal, true);
    assert.equal(err.code, "ECONNREFUSED");
    assert.equal(err.message, `s3://${BUCKET}: cannot reach http://***@127.0.0.1:${port} (ECONNREFUSED)`);
    const err2 = await rejectsWith(src.download("x.jsonl", tmpFile()));
    assert.equal(err2.fatal, true);
  });

  test("a non-s3 url is rejected", () => {
    assert.throws(() => s3Source("https://example.com/x", {}), SourceError);
    assert.throws(() => s3Source("s3://", {}), SourceError);
  });
});

describe("transient failures (through a fault-injecting proxy)", () => {
  const body = gzipSync(randomBytes(200_000)); // incompressible: ~200 KB on the wire
  before(async () => {
    await server.putObject(BUCKET, "flaky/part-1.jsonl.gz", body);
  });

  test("a body that breaks off mid-stream is retried", async () => {
    const proxy = await startProxy(server.endpoint, (i) => (i === 1 ? "cut" : "pass"));
    try {
      const src = s3Source(`s3://${BUCKET}/flaky`, { endpoint: proxy.endpoint, maxAttempts: 3 });
      const dest = tmpFile();
      await src.download("part-1.jsonl.gz", dest);
      assert.ok(readFileSync(dest).equals(body));
      assert.equal(proxy.gets(), 2);
    } finally {
      await proxy.close();
    }
  });

  test("a body that always breaks off fails (non-fatal) after maxAttempts and leaves no partial file", async () => {
    const proxy = await startProxy(server.endpoint, () => "cut");
    try {
      const src = s3Source(`s3://${BUCKET}/flaky`, { endpoint: proxy.endpoint, maxAttempts: 3 });
      const dest = tmpFile();
      const err = await rejectsWith(src.download("part-1.jsonl.gz", dest));
      assert.equal(err.fatal, false);
      assert.equal(
        err.message,
        "s3://evx-events/flaky/part-1.jsonl.gz: download broke off on all 3 attempts (ECONNRESET)",
      );
      assert.equal(exists(dest), false);
      assert.equal(proxy.gets(), 3);
    } finally {
      await proxy.close();
    }
  });

  test("a body that stalls hits the socket timeout and is retried", async () => {
    const proxy = await startProxy(server.endpoint, (i) => (i === 1 ? "stall" : "pass"));
    try {
      const src = s3Source(`s3://${BUCKET}/flaky`, { endpoint: proxy.endpoint, requestTimeoutMs: 400 });
      const dest = tmpFile();
      const t0 = Date.now();
      await src.download("part-1.jsonl.gz", dest);
      assert.ok(readFileSync(dest).equals(body));
      assert.equal(proxy.gets(), 2);
      assert.ok(Date.now() - t0 < 5000);
    } finally {
      await proxy.close();
    }
  });

  test("a request that never gets response headers times out and the SDK retries it", async () => {
    const proxy = await startProxy(server.endpoint, (i) => (i === 1 ? "hang" : "pass"));
    try {
      const src = s3Source(`s3://${BUCKET}/flaky`, { endpoint: proxy.endpoint, requestTimeoutMs: 400 });
      const dest = tmpFile();
      await src.download("part-1.jsonl.gz", dest);
      assert.ok(readFileSync(dest).equals(body));
      assert.equal(proxy.gets(), 2);
    } finally {
      await proxy.close();
    }
  });

  test("5xx on list is retried by the SDK", async () => {
    const proxy = await startProxy(server.endpoint, (i) => (i === 1 ? "503" : "pass"), "list");
    try {
      const listed = await listAll(s3Source(`s3://${BUCKET}/flaky`, { endpoint: proxy.endpoint }));
      assert.deepEqual(
        listed.map((o) => o.key),
        ["part-1.jsonl.gz"],
      );
      assert.equal(proxy.gets(), 2);
    } finally {
      await proxy.close();
    }
  });
});

test("redactUrl hides user:pass@", () => {
  assert.equal(redactUrl("http://user:pass@localhost:9000"), "http://***@localhost:9000");
  assert.equal(
    redactUrl("https://AKIAEXAMPLE:s3cr%2Fet@minio.internal/path?q=1"),
    "https://***@minio.internal/path?q=1",
  );
  assert.equal(redactUrl("https://u:p@ss@host/x"), "https://***@host/x");
  assert.equal(redactUrl("http://localhost:9000"), "http://localhost:9000");
  assert.equal(redactUrl("s3://bucket/prefix/"), "s3://bucket/prefix/");
  assert.equal(
    redactUrl("endpoint http://a:b@h1 and http://c:d@h2"),
    "endpoint http://***@h1 and http://***@h2",
  );
});

// ---------------------------------------------------------------------------------------------

async function closedPort(): Promise<number> {
  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/**
 * The shared fault proxy, seen from one kind of request: `fault(i)` decides what happens to the
 * i-th (1-based) GetObject, or ListObjectsV2 with `on = "list"`; every other request passes.
 */
async function startProxy(target: string, fault: (i: number) => Fault, on: "get" | "list" = "get") {
  const proxy = await startFaultProxy(target, (req) => (req.kind === on ? fault(req.n) : "pass"));
  return { endpoint: proxy.endpoint, gets: () => proxy.count(on), close: () => proxy.close() };
}
