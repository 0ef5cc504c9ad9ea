import { createHash } from "node:crypto";
import { chmodSync, mkdirSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";

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

/** `--cache` wins, then `EVX_CACHE`, then the XDG default named after the source. */
export function resolveCachePath(
  opts: { cache?: string; source?: string },
  env = process.env,
): string | undefined {
  if (opts.cache) return resolve(opts.cache);
  if (env.EVX_CACHE) return resolve(env.EVX_CACHE);
  if (opts.source) return join(cacheHome(env), cacheNameFor(opts.source));
  return undefined;
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
