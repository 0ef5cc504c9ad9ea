// Helpers for tests of the cache host (shared mode, src/cache/host.ts).
import { Cache, CacheLockedError } from "../../src/cache/db.js";

/** The PID of the process holding the cache file (its host), from DuckDB's lock; undefined if none. */
export async function hostPid(cache: string): Promise<number | undefined> {
  try {
    (await Cache.open(cache, { local: true, readOnly: true })).close();
  } catch (e) {
    if (e instanceof CacheLockedError) return e.pid;
    throw e;
  }
  return undefined;
}

/** A JSON-lines object of `n` events of `type` on `day` (YYYY-MM-DD), one a second from 12:00. */
export function probeLines(type: string, day: string, n: number, user = "probe"): string {
  const t0 = Date.parse(`${day}T12:00:00Z`);
  return `${Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      event_type: type,
      event_time: new Date(t0 + i * 1000).toISOString(),
      user_id: `${user}-${i % 5}`,
      event_properties: { i },
    }),
  ).join("\n")}\n`;
}
