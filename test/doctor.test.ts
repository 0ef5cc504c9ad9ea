/**
 * `evx doctor` against a working setup (a cache synced from a loopback S3 server, credentials in the
 * environment) and broken ones: a cache folder that cannot be written, files others can read, an
 * endpoint nothing answers on, a missing folder source. Secrets never appear in its output.
 */
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { type CliResult, evx } from "./helpers/cli.js";
import { type S3TestServer, startS3Server, uploadDir } from "./helpers/s3server.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

interface Check {
  name: string;
  status: "ok" | "warn" | "fail" | "skip";
  detail: string;
  fix?: string;
}

const SECRET = "hunter2-do-not-print";

function checks(r: CliResult): Record<string, Check> {
  const out = JSON.parse(r.stdout) as { ok: boolean; checks: Check[] };
  assert.equal(out.ok, r.code === 0, r.stdout);
  return Object.fromEntries(out.checks.map((c) => [c.name, c]));
}

/** A port with nothing listening on it. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("evx doctor", () => {
  const dir = tempDir();
  let server: S3TestServer;
  let env: NodeJS.ProcessEnv;
  const cache = join(dir, "cache", "s3.duckdb");

  before(async () => {
    server = await startS3Server();
    await server.createBucket("lake");
    writeLakeFiles(join(dir, "lake"), {
      "date=2023-06-01/part-0.jsonl": jsonl([ev("a", "2023-06-01T00:00:00Z", "u1")]),
    });
    await uploadDir(server, "lake", join(dir, "lake"), "events/");
    env = {
      // Only the variables set here: none of the runner's EVX_* or AWS_* settings.
      ...Object.fromEntries(
        Object.keys(process.env)
          .filter((k) => /^(EVX|AWS)_/.test(k))
          .map((k) => [k, undefined]),
      ),
      XDG_CACHE_HOME: join(dir, "xdg"),
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
      AWS_CONFIG_FILE: join(dir, "no-aws-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "no-aws-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
      EVX_CLICKHOUSE_PASSWORD: SECRET,
      EVX_CLICKHOUSE_URL: `https://analyst:${SECRET}@ch.internal:8443/analytics`,
      EVX_THREADS: "2",
      LANG: "C.UTF-8",
    };
    const r = evx(
      ["sync", "s3://lake/events", "--endpoint", server.endpoint, "--cache", cache, "--json"],
      env,
    );
    assert.equal(r.code, 0, r.stderr);
  });
  after(() => server?.stop());

  it("a working setup: every check passes, the cache's source answers, secrets are `set`", () => {
    const r = evx(["doctor", "--json", "--cache", cache], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const c = checks(r);
    assert.equal(c.node.status, "ok");
    assert.match(c.node.detail, /^Node 2\d\./);
    assert.equal(c.duckdb.status, "ok");
    assert.match(c.duckdb.detail, /DuckDB v\d/);
    assert.equal(c.cache.status, "ok", c.cache.detail);
    assert.match(c.cache.detail, /files 0600/);
    assert.equal(c.aws.status, "ok", c.aws.detail);
    assert.match(c.aws.detail, /environment variables/);
    assert.equal(c.source.status, "ok", c.source.detail);
    assert.match(c.source.detail, /s3:\/\/lake\/events.*the cache's source.*answers/);
    assert.equal(c.terminal.status, "skip", "stdout is a pipe here");
    assert.equal(c.env.status, "ok");
    assert.match(c.env.detail, /EVX_CLICKHOUSE_PASSWORD=set/);
    assert.match(c.env.detail, /EVX_CLICKHOUSE_URL=https:\/\/\*\*\*@ch\.internal/);
    assert.match(c.env.detail, /EVX_THREADS=2/);
    for (const out of [r.stdout, r.stderr, evx(["doctor", "--cache", cache], env).stdout])
      assert.ok(!out.includes(SECRET) && !out.includes("S3RVER"), "no secret in the output");
  });

  it("the human form: one line per check, ✓ or ASCII, and the fix on the line", () => {
    const r = evx(["doctor", "--cache", cache], env);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const lines = r.stdout.trimEnd().split("\n");
    assert.deepEqual(
      lines.map((l) => l.split(/\s+/)[1]),
      ["node", "duckdb", "cache", "aws", "source", "terminal", "env"],
    );
    assert.match(lines[0], /^✓ node/);
    const ascii = evx(["doctor", "--cache", cache], { ...env, LANG: "C", LC_ALL: "C" });
    assert.match(ascii.stdout, /^ok node/m);
    assert.doesNotMatch(ascii.stdout, /[✓✗→]/);
    const broken = evx(
      [
        "doctor",
        "--cache",
        join(dir, "nowhere", "c.duckdb"),
        "s3://lake/x",
        "--endpoint",
        "http://127.0.0.1:1",
      ],
      env,
    );
    assert.equal(broken.code, 1);
    assert.match(broken.stdout, /^✗ source .*→ fix: check --endpoint/m);
    assert.match(broken.stderr, /evx doctor: 1 check failed/);
  });

  it("an endpoint nothing answers on: the source fails, exit 1, quickly", async () => {
    const port = await closedPort();
    const t0 = Date.now();
    const r = evx(
      ["doctor", "s3://lake/events", "--endpoint", `http://127.0.0.1:${port}`, "--json", "--cache", cache],
      env,
    );
    assert.equal(r.code, 1, r.stdout + r.stderr);
    const c = checks(r);
    assert.equal(c.source.status, "fail");
    assert.match(c.source.detail, /cannot reach .*ECONNREFUSED/);
    assert.match(c.source.fix ?? "", /--endpoint/);
    assert.equal(c.cache.status, "ok");
    assert.ok(Date.now() - t0 < 20_000);
  });

  it("a bucket that does not exist, and a source given as a folder", () => {
    const r = evx(
      ["doctor", "s3://no-such-bucket/x", "--endpoint", server.endpoint, "--json", "--cache", cache],
      env,
    );
    assert.equal(r.code, 1);
    assert.equal(checks(r).source.status, "fail");
    assert.match(checks(r).source.fix ?? "", /bucket name/);
    const folder = evx(["doctor", join(dir, "lake"), "--json", "--cache", cache], env);
    assert.equal(folder.code, 0, folder.stdout);
    assert.match(checks(folder).source.detail, /a readable folder/);
    const missing = evx(["doctor", join(dir, "no-lake"), "--json", "--cache", cache], env);
    assert.equal(missing.code, 1);
    assert.match(checks(missing).source.detail, /ENOENT/);
  });

  it("a cache folder that cannot be written: the cache fails with its fix", () => {
    // Under a regular file: no folder can be made there, for root too.
    const file = join(dir, "a-file");
    writeFileSync(file, "");
    const r = evx(["doctor", "--json", "--cache", join(file, "sub", "c.duckdb")], env);
    assert.equal(r.code, 1);
    const c = checks(r).cache;
    assert.equal(c.status, "fail");
    assert.match(c.detail, /cannot create .*ENOTDIR/);
    assert.match(c.fix ?? "", /--cache PATH or EVX_CACHE/);
    if (process.getuid?.() !== 0) {
      // A folder without write permission (root would write it anyway).
      const ro = join(dir, "read-only");
      mkdirSync(ro, { mode: 0o500 });
      const r2 = evx(["doctor", "--json", "--cache", join(ro, "c.duckdb")], env);
      assert.equal(checks(r2).cache.status, "fail");
      assert.match(checks(r2).cache.detail, /not writable \(EACCES\)/);
    }
  });

  it("cache files other users can read fail; a folder they can list warns", () => {
    chmodSync(cache, 0o644);
    try {
      const r = evx(["doctor", "--json", "--cache", cache], env);
      assert.equal(r.code, 1);
      const c = checks(r).cache;
      assert.equal(c.status, "fail");
      assert.match(c.detail, /s3\.duckdb is 0644/);
      assert.equal(c.fix, `chmod 600 '${cache}'`);
    } finally {
      chmodSync(cache, 0o600);
    }
    chmodSync(join(dir, "cache"), 0o755);
    try {
      const r = evx(["doctor", "--json", "--cache", cache], env);
      assert.equal(r.code, 0, "a warning does not fail");
      assert.equal(checks(r).cache.status, "warn");
      assert.match(checks(r).cache.fix ?? "", /chmod 700/);
    } finally {
      chmodSync(join(dir, "cache"), 0o700);
    }
  });

  it("no credentials: only a failure when the source is on S3", () => {
    const none = { ...env, AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "" };
    const folder = evx(["doctor", join(dir, "lake"), "--json", "--cache", cache], none);
    assert.equal(checks(folder).aws.status, "skip");
    const s3 = evx(
      ["doctor", "s3://lake/events", "--endpoint", server.endpoint, "--json", "--cache", cache],
      none,
    );
    assert.equal(s3.code, 1);
    assert.equal(checks(s3).aws.status, "fail");
    assert.match(checks(s3).aws.fix ?? "", /AWS_PROFILE|--profile/);
    const anon = evx(
      [
        "doctor",
        "s3://lake/events",
        "--no-sign-request",
        "--endpoint",
        server.endpoint,
        "--json",
        "--cache",
        cache,
      ],
      none,
    );
    assert.equal(checks(anon).aws.status, "skip");
  });

  it("unknown EVX_ variables warn (a typo?)", () => {
    const r = evx(["doctor", "--json", "--cache", cache], { ...env, EVX_THRAEDS: "4" });
    const c = checks(r).env;
    assert.equal(c.status, "warn");
    assert.match(c.detail, /unknown to evx: EVX_THRAEDS/);
  });
});
