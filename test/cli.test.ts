import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { Cache } from "../src/cache/db.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { evx, evxAsync } from "./helpers/cli.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

function smallLake(dir: string) {
  writeLakeFiles(dir, {
    "date=2023-06-01/part-0000.jsonl": jsonl([
      ev("a", "2023-06-01T00:00:00Z", "u1"),
      "oops",
      ev("b", "2023-06-01T00:01:00Z", "u2"),
    ]),
    "date=2023-06-02/part-0000.jsonl.gz": jsonl([ev("a", "2023-06-02T00:00:00Z", "u1")]),
    "date=2023-06-02/_SUCCESS": "",
  });
}

test("--version and --help with examples on every command", () => {
  const v = evx(["--version"]);
  assert.equal(v.code, 0);
  // The build's name: version and the git commit it was built from (`evx 0.1.0 (1f8d952)`).
  assert.match(v.stdout.trim(), /^evx \d+\.\d+\.\d+( \([0-9a-f]{7,}(-dirty)?\))?$/);
  for (const cmd of ["sync", "status", "rejects"]) {
    const h = evx([cmd, "--help"]);
    assert.equal(h.code, 0, cmd);
    assert.match(h.stdout, /Examples:/, cmd);
  }
});

test("sync --json prints exactly the contract shape; status and rejects agree", () => {
  const dir = tempDir();
  smallLake(join(dir, "lake"));
  const cache = join(dir, "c.duckdb");
  const r = evx(["sync", join(dir, "lake"), "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  for (const k of ["objects", "bytes", "events", "rejected", "seconds"]) assert.ok(k in out, k);
  assert.deepEqual(out.objects, { listed: 2, downloaded: 2, unchanged: 0, removed: 0, failed: 0 });
  assert.equal(out.events, 3);
  assert.equal(out.rejected, 1);
  assert.equal(typeof out.seconds, "number");
  assert.equal(r.stderr, "", "no progress output with --json");

  const again = JSON.parse(evx(["sync", join(dir, "lake"), "--cache", cache, "--json"]).stdout);
  assert.deepEqual(again.objects, { listed: 2, downloaded: 0, unchanged: 2, removed: 0, failed: 0 });

  const st = evx(["status", "--cache", cache, "--json"]);
  assert.equal(st.code, 0, st.stderr);
  const s = JSON.parse(st.stdout);
  assert.equal(s.cache, cache);
  assert.equal(s.source, join(dir, "lake"));
  assert.equal(s.events, 3);
  assert.equal(s.users, 2);
  assert.equal(s.rejected, 1);
  assert.equal(s.first_event, "2023-06-01T00:00:00.000Z");
  assert.equal(s.last_event, "2023-06-02T00:00:00.000Z");
  assert.deepEqual(s.hot_keys, [], "these events carry no properties");
  assert.deepEqual(
    s.partitions.map((p: Record<string, unknown>) => [p.date, p.objects, p.events, p.rejected]),
    [
      ["2023-06-01", 1, 2, 1],
      ["2023-06-02", 1, 1, 0],
    ],
  );
  assert.match(s.partitions[0].synced_at, /^\d{4}-\d{2}-\d{2}T/);

  const rj = JSON.parse(evx(["rejects", "--cache", cache, "--json"]).stdout);
  assert.equal(rj.total, 1);
  assert.deepEqual(
    rj.rejects.map((x: Record<string, unknown>) => [x.key, x.line, x.raw]),
    [["date=2023-06-01/part-0000.jsonl", 2, "oops"]],
  );
});

test("exit codes: usage 2, partial failure 3, source 4, locked cache 5", async () => {
  const dir = tempDir();
  smallLake(join(dir, "lake"));
  const cache = join(dir, "c.duckdb");

  const bad = evx(["sync", join(dir, "lake"), "--cache", cache, "--from", "2023-13-01"]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim().split("\n").length, 1);
  assert.match(bad.stderr, /--from must be a date/);

  const missing = evx(["sync", join(dir, "nowhere"), "--cache", cache]);
  assert.equal(missing.code, 4);
  assert.match(missing.stderr, /no such folder/);

  writeFileSync(join(dir, "lake", "date=2023-06-02", "part-0015.jsonl.gz"), "not gzip at all");
  const partial = evx(["sync", join(dir, "lake"), "--cache", cache, "--json"]);
  assert.equal(partial.code, 3);
  assert.equal(JSON.parse(partial.stdout).objects.failed, 1);

  const held = await Cache.open(cache);
  try {
    const locked = evx(["sync", join(dir, "lake"), "--cache", cache]);
    assert.equal(locked.code, 5);
    assert.match(locked.stderr, new RegExp(`in use by another evx process \\(PID ${process.pid}\\)`));
    assert.ok(!/\n\s+at /.test(locked.stderr), "no stack trace");
  } finally {
    held.close();
  }

  const unknown = evx(["frobnicate"]);
  assert.equal(unknown.code, 2);
  const noCache = evx(["status", "--cache", join(dir, "absent.duckdb")]);
  assert.equal(noCache.code, 2);
  assert.match(noCache.stderr, /no cache at/);
});

test("the default cache lives under $XDG_CACHE_HOME/evx, private to the user, and is remembered", () => {
  const dir = tempDir();
  smallLake(join(dir, "lake"));
  const xdg = join(dir, "xdg");
  const r = evx(["sync", join(dir, "lake"), "--json"], { XDG_CACHE_HOME: xdg, EVX_CACHE: "" });
  assert.equal(r.code, 0, r.stderr);
  const files = readdirSync(join(xdg, "evx")).filter((f) => f.endsWith(".duckdb"));
  assert.equal(files.length, 1);
  assert.match(files[0], /lake-[0-9a-f]{8}\.duckdb$/);
  assert.equal(statSync(join(xdg, "evx")).mode & 0o777, 0o700);
  assert.equal(statSync(join(xdg, "evx", files[0])).mode & 0o777, 0o600);
  assert.ok(!existsSync(join(xdg, "evx", `${files[0]}.staging`)), "staging is cleaned up");
  const st = evx(["status", "--json"], { XDG_CACHE_HOME: xdg, EVX_CACHE: "" });
  assert.equal(st.code, 0, st.stderr);
  assert.equal(JSON.parse(st.stdout).events, 3);
  const viaEnv = evx(["status", "--json"], { EVX_CACHE: join(xdg, "evx", files[0]) });
  assert.equal(JSON.parse(viaEnv.stdout).events, 3);
});

test("a reader that closes the pipe early (evx … | head) gets no stack trace", async () => {
  const dir = tempDir();
  smallLake(join(dir, "lake"));
  const cache = join(dir, "c.duckdb");
  assert.equal(evx(["sync", join(dir, "lake"), "--cache", cache, "--json"]).code, 0);
  const child = evxAsync(["status", "--cache", cache]);
  child.stdout.destroy();
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const code = await new Promise<number | null>((r) => child.on("close", (c) => r(c)));
  assert.equal(stderr, "");
  assert.equal(code, 0);
});

test("evx ui --tz with an unknown zone is a one-line usage error", () => {
  const dir = tempDir();
  smallLake(join(dir, "lake"));
  const cache = join(dir, "c.duckdb");
  assert.equal(evx(["sync", join(dir, "lake"), "--cache", cache, "--json"]).code, 0);
  const r = evx(["ui", "--cache", cache, "--tz", "Mars/Olympus_Mons"]);
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split("\n").length, 1);
  assert.match(r.stderr, /unknown time zone "Mars\/Olympus_Mons"/);
});
