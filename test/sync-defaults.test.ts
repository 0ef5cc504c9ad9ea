/**
 * A failed sync changes nothing the user relies on: it leaves no new cache file behind and does not
 * change the default cache; only a sync (or demo) that ended with objects in its cache does. Reading
 * commands, `evx ui --cache X` included, never change it. Syncing the demo lake by its path reuses the
 * demo's cache.
 */
import assert from "node:assert/strict";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { join, relative } from "node:path";
import { after, before, describe, test } from "node:test";
import { gzipSync } from "node:zlib";
import { Cache } from "../src/cache/db.js";
import { getMeta, setMeta } from "../src/cache/schema.js";
import { sync } from "../src/cache/sync.js";
import { folderSource } from "../src/source/folder.js";
import { writeLakeFiles } from "../src/source/synthetic.js";
import { CLI, evx, evxRun } from "./helpers/cli.js";
import { type S3TestServer, startS3Server } from "./helpers/s3server.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";
import { tmuxDriver } from "./helpers/tmux.js";

const good = (date: string) =>
  jsonl([ev("a", `${date}T00:00:00Z`, "u1"), ev("b", `${date}T00:01:00Z`, "u2")]);
const corrupt = (date: string) => {
  const gz = gzipSync(Buffer.from(good(date).repeat(50)));
  return gz.subarray(0, gz.length - 20);
};

/** A temp home: `XDG_CACHE_HOME` and what evx keeps in it. */
function home() {
  const dir = tempDir();
  const xdg = join(dir, "xdg");
  const env = { XDG_CACHE_HOME: xdg, EVX_CACHE: "" };
  const evxHome = join(xdg, "evx");
  return {
    dir,
    env,
    evxHome,
    /** Files under `$XDG_CACHE_HOME/evx` (none when it does not exist). */
    files: () => (existsSync(evxHome) ? readdirSync(evxHome).sort() : []),
    lastUsed: () => {
      const f = join(evxHome, "last-used");
      return existsSync(f) ? readFileSync(f, "utf8").trim() : null;
    },
  };
}

function goodLake(dir: string, name = "lake"): string {
  const lake = join(dir, name);
  writeLakeFiles(lake, {
    "date=2023-06-01/part-0.jsonl": good("2023-06-01"),
    "date=2023-06-02/part-0.jsonl": good("2023-06-02"),
  });
  return lake;
}

test("`evx sync ./typo` exits 4, leaves no cache file and keeps the default cache", () => {
  const h = home();
  const typo = join(h.dir, "typo");
  let r = evx(["sync", typo], h.env);
  assert.equal(r.code, 4, r.stderr);
  assert.match(r.stderr, /no such folder/);
  assert.deepEqual(
    h.files().filter((f) => f !== "last-used"),
    [],
  );
  assert.equal(h.lastUsed(), null);
  r = evx(["events"], h.env);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /no cache yet/);

  // With a good cache as the default, a failed sync keeps it the default.
  const lake = goodLake(h.dir);
  r = evx(["sync", lake], h.env);
  assert.equal(r.code, 0, r.stderr);
  const first = h.lastUsed();
  assert.ok(first && existsSync(first));
  const before = h.files();
  r = evx(["sync", typo], h.env);
  assert.equal(r.code, 4, r.stderr);
  assert.deepEqual(h.files(), before, "no new cache, .wal or staging folder");
  assert.equal(h.lastUsed(), first);
  r = evx(["events", "--json"], h.env);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout)
      .events.map((e: { event_type: string }) => e.event_type)
      .sort(),
    ["a", "b"],
  );
});

test("a failed sync of an existing cache keeps that cache and its events", () => {
  const h = home();
  const lake = goodLake(h.dir);
  const other = goodLake(h.dir, "other");
  const cache = join(h.dir, "kept.duckdb");
  assert.equal(evx(["sync", lake, "--cache", cache], h.env).code, 0);
  assert.equal(evx(["sync", other], h.env).code, 0);
  const def = h.lastUsed();
  assert.notEqual(def, cache);
  rmSync(lake, { recursive: true });
  const r = evx(["sync", lake, "--cache", cache], h.env);
  assert.equal(r.code, 4, r.stderr);
  assert.ok(existsSync(cache));
  assert.equal(h.lastUsed(), def, "a failed sync does not make its cache the default");
  const st = JSON.parse(evx(["status", "--json", "--cache", cache], h.env).stdout);
  assert.equal(st.events, 4);
});

test("a sync that ingests nothing leaves no new cache (every object failed, or no data files)", () => {
  const h = home();
  const bad = join(h.dir, "bad");
  mkdirSync(join(bad, "date=2023-06-01"), { recursive: true });
  writeFileSync(join(bad, "date=2023-06-01/part-0.jsonl.gz"), corrupt("2023-06-01"));
  let r = evx(["sync", bad], h.env);
  assert.equal(r.code, 3, r.stderr);
  assert.match(r.stderr, /no cache was kept/);
  assert.deepEqual(h.files(), []);
  assert.equal(h.lastUsed(), null);

  const empty = join(h.dir, "empty");
  mkdirSync(empty);
  r = evx(["sync", empty, "--layout", "hive"], h.env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /no cache was kept/);
  assert.deepEqual(h.files(), []);
  assert.equal(h.lastUsed(), null);
});

test("a sync where some objects failed and others landed (exit 3) becomes the default", () => {
  const h = home();
  const lake = goodLake(h.dir);
  writeFileSync(join(lake, "date=2023-06-02/part-1.jsonl.gz"), corrupt("2023-06-02"));
  const r = evx(["sync", lake, "--json"], h.env);
  assert.equal(r.code, 3, r.stderr);
  const cache = JSON.parse(r.stdout).cache;
  assert.equal(h.lastUsed(), cache);
  assert.ok(existsSync(cache));
});

describe("S3", () => {
  let server: S3TestServer;
  before(async () => {
    server = await startS3Server();
  });
  after(async () => {
    await server?.stop();
  });
  test("a missing bucket exits 4 and leaves no cache file, nor changes the default", async () => {
    const h = home();
    const env = {
      ...h.env,
      AWS_ACCESS_KEY_ID: "S3RVER",
      AWS_SECRET_ACCESS_KEY: "S3RVER",
      AWS_REGION: "us-east-1",
    };
    const lake = goodLake(h.dir);
    assert.equal((await evxRun(["sync", lake], env)).code, 0);
    const def = h.lastUsed();
    const files = h.files();
    const r = await evxRun(["sync", "s3://no-such-bucket/raw", "--endpoint", server.endpoint], env);
    assert.equal(r.code, 4, r.stderr);
    assert.deepEqual(h.files(), files);
    assert.equal(h.lastUsed(), def);
  });
});

test("`evx ui --cache X` does not change the default cache", { timeout: 120_000 }, async () => {
  const h = home();
  const a = join(h.dir, "a.duckdb");
  const b = join(h.dir, "b.duckdb");
  assert.equal(evx(["sync", goodLake(h.dir, "la"), "--cache", a], h.env).code, 0);
  assert.equal(evx(["sync", goodLake(h.dir, "lb"), "--cache", b], h.env).code, 0);
  assert.equal(h.lastUsed(), b);
  const t = tmuxDriver(`evx-syncdef-${process.pid}`);
  try {
    await t.shell("ui", `XDG_CACHE_HOME='${h.env.XDG_CACHE_HOME}' NO_COLOR=1`);
    t.type("ui", `'${process.execPath}' '${CLI}' ui --cache '${a}'`);
    t.keys("ui", "Enter");
    await t.waitScreen("ui", (s) => s.includes("a.duckdb") && /\d+ ms/.test(s));
    t.keys("ui", "q");
    await t.waitScreen("ui", (s) => (s.match(/E2E\$/g) ?? []).length >= 2);
  } finally {
    t.kill();
  }
  assert.equal(h.lastUsed(), b);
  // Nor does a reading command.
  assert.equal(evx(["events", "--cache", a], h.env).code, 0);
  assert.equal(h.lastUsed(), b);
});

describe("the demo lake synced by its path", () => {
  const h = home();
  before(() => {
    const r = evx(["demo", "--no-ui", "--events", "20000"], h.env);
    assert.equal(r.code, 0, r.stderr);
  });

  test("reuses the demo's cache, by any spelling of the path", () => {
    const demoCache = join(h.evxHome, "demo.duckdb");
    const lake = join(h.evxHome, "demo-lake");
    assert.equal(h.lastUsed(), demoCache);
    const caches = () => h.files().filter((f) => f.endsWith(".duckdb"));
    assert.deepEqual(caches(), ["demo.duckdb"]);
    const link = join(h.dir, "link-to-demo");
    symlinkSync(lake, link);
    for (const spelling of [lake, `${lake}/`, relative(process.cwd(), lake), link, `${link}/.`]) {
      const r = evx(["sync", spelling, "--json"], h.env);
      assert.equal(r.code, 0, `${spelling}: ${r.stderr}`);
      const s = JSON.parse(r.stdout);
      assert.equal(s.cache, demoCache, spelling);
      assert.equal(s.objects.downloaded, 0, `${spelling}: nothing to fetch again`);
      assert.ok(s.objects.unchanged > 0);
    }
    assert.deepEqual(caches(), ["demo.duckdb"], "no second copy");
  });
});

test("a folder source is its real path; a cache bound to another spelling of it still syncs", async () => {
  const dir = tempDir();
  const lake = goodLake(dir);
  const link = join(dir, "link");
  symlinkSync(lake, link);
  assert.equal(folderSource(`${link}/`).url, lake);
  const cache = await Cache.open(join(dir, "c.duckdb"), { create: true });
  try {
    await setMeta(cache, "source", link); // as an older evx recorded it
    const s = await sync(cache, folderSource(link));
    assert.equal(s.objects.downloaded, 2);
    assert.equal(await getMeta(cache, "source"), lake);
  } finally {
    cache.close();
  }
});
