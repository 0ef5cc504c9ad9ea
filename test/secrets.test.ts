// Credentials (AWS env keys, a session token, user:pass in an endpoint URL) never appear in the CLI's
// output (human, --json, --csv), its errors, the files it writes (cache, WAL, last-used, exports) or
// the cache file's bytes.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync } from "node:fs";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { type CliResult, evx } from "./helpers/cli.js";
import { type S3TestServer, startS3Server, uploadDir } from "./helpers/s3server.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

const SECRETS = ["S3RVER", "LEAKUSER", "LEAKPASS", "LEAKTOKEN9f8e7d", "LEAKPROFILEKEY"];
const work = tempDir("evx-secrets-");
const xdg = join(work, "xdg");
const env = {
  AWS_ACCESS_KEY_ID: "S3RVER",
  AWS_SECRET_ACCESS_KEY: "S3RVER",
  AWS_SESSION_TOKEN: "LEAKTOKEN9f8e7d",
  AWS_REGION: "us-east-1",
  AWS_CONFIG_FILE: join(work, "no-config"),
  AWS_SHARED_CREDENTIALS_FILE: join(work, "no-credentials"),
  AWS_EC2_METADATA_DISABLED: "true",
  AWS_PROFILE: "",
  XDG_CACHE_HOME: xdg,
  EVX_CACHE: "",
  EVX_S3_MAX_ATTEMPTS: "1",
};

let server: S3TestServer;
const outputs: { what: string; text: string }[] = [];

function record(what: string, r: CliResult): CliResult {
  outputs.push({ what, text: r.stdout + r.stderr });
  return r;
}

function assertNoSecret(what: string, text: string | Buffer) {
  const s = typeof text === "string" ? text : text.toString("latin1");
  for (const secret of SECRETS) assert.ok(!s.includes(secret), `${what} contains ${secret}`);
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map((f) => join(dir, String(f)))
    .filter((f) => statSync(f).isFile());
}

before(async () => {
  server = await startS3Server();
  await server.createBucket("sec");
  const lake = join(work, "lake");
  writeLakeFiles(lake, {
    "date=2023-06-01/part-0.jsonl": jsonl([
      ev("open", "2023-06-01T00:00:00Z", "u1", { plan: "pro" }),
      ev("open", "2023-06-01T01:00:00Z", "u2", { plan: "free" }),
      "not json",
    ]),
  });
  await uploadDir(server, "sec", lake, "raw/");
});
after(async () => server?.stop());

const withCreds = (endpoint: string) => endpoint.replace("http://", "http://LEAKUSER:LEAKPASS@");

test("sync, status, analyses and rejects with credentials in env and in the endpoint URL", () => {
  const cache = join(work, "c.duckdb");
  const ep = withCreds(server.endpoint);
  for (const json of [true, false]) {
    const r = record(
      `sync${json ? " --json" : ""}`,
      evx(["sync", "s3://sec/raw", "--endpoint", ep, "--cache", cache, ...(json ? ["--json"] : [])], env),
    );
    // Whether or not the server accepts the URL's user info, the outcome is reported without it.
    assert.ok([0, 3, 4].includes(r.code ?? -1), r.stderr);
  }
  // A clean sync without user info, so the cache has data for the readers below.
  const ok = record(
    "sync plain",
    evx(["sync", "s3://sec/raw", "--endpoint", server.endpoint, "--cache", cache, "--json"], env),
  );
  assert.equal(ok.code, 0, ok.stderr);
  for (const args of [
    ["status"],
    ["status", "--json"],
    ["events", "--json"],
    ["events", "--csv"],
    ["rejects"],
    ["rejects", "--json"],
    ["trend", "open", "--json"],
    ["trend", "open", "--csv"],
    ["props", "open"],
  ]) {
    const r = record(args.join(" "), evx([...args, "--cache", cache], env));
    assert.equal(r.code, 0, `${args.join(" ")}: ${r.stderr}`);
  }
});

test("errors name the endpoint without its user info: missing bucket, unreachable endpoint", async () => {
  const cache = join(work, "e.duckdb");
  const nob = record(
    "sync NoSuchBucket",
    evx(["sync", "s3://no-such-bucket/raw", "--endpoint", withCreds(server.endpoint), "--cache", cache], env),
  );
  assert.equal(nob.code, 4, nob.stderr);
  assert.equal(nob.stderr.trim().split("\n").length, 1, nob.stderr);

  const s = http.createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((r) => s.close(() => r()));
  const down = record(
    "sync unreachable",
    evx(
      ["sync", "s3://sec/raw", "--endpoint", `http://LEAKUSER:LEAKPASS@127.0.0.1:${port}`, "--cache", cache],
      env,
    ),
  );
  assert.equal(down.code, 4, down.stderr);
  assert.match(down.stderr, /cannot reach http:\/\/\*\*\*@127\.0\.0\.1/);

  const bad = record(
    "sync bad url",
    evx(["sync", "s3://LEAKUSER:LEAKPASS@bucket/raw", "--cache", join(work, "f.duckdb")], env),
  );
  assert.notEqual(bad.code, 0);
});

test("no output and no file evx wrote holds a secret (cache bytes included)", () => {
  assert.ok(outputs.length >= 10);
  for (const o of outputs) assertNoSecret(o.what, o.text);
  const files = [...allFiles(work).filter((f) => !f.includes(`${join(work, "lake")}`)), ...allFiles(xdg)];
  assert.ok(files.some((f) => f.endsWith("c.duckdb")));
  for (const f of files) assertNoSecret(f, readFileSync(f));
});
