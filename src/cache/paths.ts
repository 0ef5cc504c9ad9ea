import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, realpathSync } from "node:fs";
import { homedir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";
import { isPresetName } from "./presets.js";

/** `$XDG_CACHE_HOME/evx` or `~/.cache/evx`. */
export function cacheHome(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME?.startsWith("/") ? env.XDG_CACHE_HOME : join(homedir(), ".cache");
  return join(base, "evx");
}

/** A readable, collision-free file name for a source: `acme-events_raw-1a2b3c4d.duckdb`. */
export function cacheNameFor(sourceUrl: string): string {
  const readable = sourceUrl
    .replace(/^[a-z0-9]+:\/\//i, "")
    .replace(/[^A-Za-z0-9._-]+/g, "_")
    .replace(/^_+|_+$/g, "")
    .slice(-60);
  const hash = createHash("sha256").update(sourceUrl).digest("hex").slice(0, 8);
  return `${readable || "cache"}-${hash}.duckdb`;
}

/**
 * `--cache` wins, then `EVX_CACHE`, then the XDG default named after the source; the demo's lake
 * (synced by its path) keeps the demo's cache, so it is not built twice.
 */
export function resolveCachePath(
  opts: { cache?: string; source?: string },
  env = process.env,
): string | undefined {
  if (opts.cache) return resolve(opts.cache);
  if (env.EVX_CACHE) return resolve(env.EVX_CACHE);
  if (opts.source)
    return demoCacheOfLake(opts.source, env) ?? join(cacheHome(env), cacheNameFor(opts.source));
  return undefined;
}

/** `evx demo`'s lake: `demo-lake` in the cache home, `demo-lake-PRESET` for a vendor-shaped one. */
export function demoLakeDir(env: NodeJS.ProcessEnv = process.env, preset?: string): string {
  return join(cacheHome(env), preset ? `demo-lake-${preset}` : "demo-lake");
}

/** `evx demo`'s cache (the one `--cache` does not override). */
export function demoCacheFile(env: NodeJS.ProcessEnv = process.env, preset?: string): string {
  return join(cacheHome(env), preset ? `demo-${preset}.duckdb` : "demo.duckdb");
}

/**
 * The demo's cache when `source` is one of the demo's lakes, by any spelling of its path (relative,
 * trailing slash, through a symlink): both sides are resolved to their real path.
 */
export function demoCacheOfLake(source: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return undefined;
  const real = (p: string) => {
    try {
      return realpathSync(p);
    } catch {
      return undefined;
    }
  };
  const lake = real(source);
  const home = real(cacheHome(env));
  if (!lake || !home || dirname(lake) !== home) return undefined;
  const m = /^demo-lake(?:-(.+))?$/.exec(basename(lake));
  if (!m) return undefined;
  const preset = m[1];
  if (preset !== undefined && !isPresetName(preset)) return undefined;
  return demoCacheFile(env, preset);
}

/** Creates the cache's folder private to the user (0700). */
export function ensurePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    chmodSync(dir, 0o700);
  } catch {
    // A folder we do not own (e.g. /tmp itself) keeps its mode.
  }
}

export function stagingDirFor(cachePath: string): string {
  return `${cachePath}.staging`;
}

export function lastUsedFile(env = process.env): string {
  return join(cacheHome(env), "last-used");
}

export function cacheDirOf(cachePath: string): string {
  return dirname(cachePath);
}
