/**
 * A cache path that is not a regular file is never deleted or replaced, even when DuckDB rejects it:
 * run as root, `--cache /dev/null` would otherwise turn the device into a file (seen once on this
 * project's machine). The born-dead rule (a short regular file DuckDB rejects is started again) stays.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { lstatSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { setTimeout } from "node:timers/promises";
import { Cache, processRuns } from "../src/cache/db.js";
import { tempDir } from "./helpers/tmp.js";

test("a symlink to a short foreign file is refused and left alone", async () => {
  const dir = tempDir("evx-safety-");
  const target = join(dir, "notes.txt");
  writeFileSync(target, "not a database");
  const link = join(dir, "cache.duckdb");
  symlinkSync(target, link);
  await assert.rejects(Cache.open(link, { create: true }), /not an evx cache|not a valid DuckDB/);
  assert.ok(lstatSync(link).isSymbolicLink(), "the link is still a link");
  assert.equal(readFileSync(target, "utf8"), "not a database");
});

test("/dev/null as a cache is refused and stays a device", async () => {
  const before = lstatSync("/dev/null");
  assert.ok(before.isCharacterDevice());
  await assert.rejects(Cache.open("/dev/null", { create: true }));
  assert.ok(lstatSync("/dev/null").isCharacterDevice(), "/dev/null is still a character device");
});

test("a short regular file DuckDB rejects is still started again (killed while being created)", async () => {
  const dir = tempDir("evx-safety-");
  const path = join(dir, "cache.duckdb");
  writeFileSync(path, Buffer.alloc(100, 7));
  const cache = await Cache.open(path, { create: true });
  cache.close();
  assert.ok(lstatSync(path).size > 100);
});

test("a lock holder counts as gone once it has exited or is a zombie (Cache.open then waits for its lock to go); a running one does not", async () => {
  // Cache.open tries again while DuckDB names a holder for which processRuns is false.
  assert.equal(processRuns(process.pid), true);
  const dead = spawnSync(process.execPath, ["-e", ""]).pid!;
  assert.equal(processRuns(dead), false, "exited and reaped");
  // A zombie: `sleep 1` exits after its parent has exec'd into `sleep 10`, which never reaps it. (With
  // `sleep 0` the shell could reap it before its exec on a loaded machine: there was no zombie to see.)
  const parent = spawn("sh", ["-c", "sleep 1 & echo $!; exec sleep 10"], {
    stdio: ["ignore", "pipe", "ignore"],
  });
  try {
    const zombie = Number(await new Promise<string>((r) => parent.stdout.once("data", (d) => r(String(d)))));
    const stat = () => readFileSync(`/proc/${zombie}/stat`, "utf8");
    for (let i = 0; i < 500 && !/\) Z /.test(stat()); i++) await setTimeout(20);
    assert.match(stat(), /\) Z /);
    assert.equal(processRuns(zombie), false, "a zombie");
    assert.equal(processRuns(parent.pid!), true);
  } finally {
    parent.kill("SIGKILL");
  }
});
