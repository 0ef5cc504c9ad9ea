/** Shared mode: every spelling of one cache file finds the same host (README "One cache, many processes"). */
import assert from "node:assert/strict";
import { mkdirSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { hostPaths } from "../src/cache/hostpaths.js";
import { tempDir } from "./helpers/tmp.js";

test("a cache reached through a symlinked folder or a relative path has one socket", () => {
  const dir = tempDir();
  const real = join(dir, "real");
  mkdirSync(real);
  symlinkSync(real, join(dir, "link"));
  const env = { ...process.env, XDG_RUNTIME_DIR: join(dir, "run") };
  mkdirSync(env.XDG_RUNTIME_DIR, { mode: 0o700 });
  const a = hostPaths(join(real, "c.duckdb"), env);
  assert.equal(hostPaths(join(dir, "link", "c.duckdb"), env).socket, a.socket);
  assert.equal(hostPaths(join(dir, "link", "..", "real", "c.duckdb"), env).socket, a.socket);
  assert.notEqual(hostPaths(join(real, "d.duckdb"), env).socket, a.socket);
});
