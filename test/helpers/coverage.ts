import type { Cache } from "../../src/cache/db.js";
import { buildCoverage, shapeCoverage } from "../../src/queries/coverage.js";
import type { Coverage } from "../../src/queries/spec.js";

/** Epoch µs of an ISO instant (`2023-06-01T00:00:00Z`) or a UTC date (`2023-06-01`). */
export const usOf = (iso: string): number => Date.parse(iso.length === 10 ? `${iso}T00:00:00Z` : iso) * 1000;

/** The coverage of [lo, hi) (ISO instants, UTC dates or epoch µs), run through the real cache. */
export async function coverageOf(cache: Cache, lo: string | number, hi: string | number): Promise<Coverage> {
  const q = buildCoverage(typeof lo === "number" ? lo : usOf(lo), typeof hi === "number" ? hi : usOf(hi));
  return shapeCoverage(await cache.all(q.sql, q.params));
}
