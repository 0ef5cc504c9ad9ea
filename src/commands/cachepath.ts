import { existsSync, readFileSync } from "node:fs";
import type { Cache } from "../cache/db.js";
import { lastUsedFile, resolveCachePath } from "../cache/paths.js";
import { UsageError } from "./errors.js";

/**
 * The cache a reading command opens: `--cache`, then `EVX_CACHE`, then the cache the last sync or
 * demo used. No DuckDB import, so the TUI can resolve it before its first frame.
 */
export function cachePathFor(cache?: string): string {
  const p = resolveCachePath({ cache });
  if (p) return p;
  const last = lastUsedFile();
  if (existsSync(last)) {
    const remembered = readFileSync(last, "utf8").trim();
    if (remembered) return remembered;
  }
  throw new UsageError("no cache yet: run `evx sync SOURCE` or `evx demo` first, or pass --cache PATH");
}

/** Opens the reading commands' cache read-only (DuckDB is loaded here, on first use). */
export async function openForRead(cache?: string): Promise<Cache> {
  const { Cache } = await import("../cache/db.js");
  return Cache.open(cachePathFor(cache), { readOnly: true });
}
