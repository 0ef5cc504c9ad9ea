import { DuckDBInstance } from "@duckdb/node-api";
import { NUMBER } from "./src/queries/numtext.js";

const db = await DuckDBInstance.create("/tmp/nt/bench/c-main-clean.duckdb", { access_mode: "READ_ONLY" });
const c = await db.connect();
const x = "json_extract_string(properties, '/app_version')";
const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const u = (x: string) => {
  const top = `regexp_replace(${x}, '^' || chr(1), '')`;
  const numbers = `regexp_replace(${top}, ${lit(String.raw`(^|[\[:,])"\\u0001(${NUMBER})"`)}, '\\1\\2', 'g')`;
  return `regexp_replace(${numbers}, ${lit(String.raw`(^|[\[{:,])"\\u0001\\u0001`)}, ${lit(String.raw`\1"\\u0001`)}, 'g')`;
};
const f = (e: string) => `SELECT count(*) FROM events WHERE coalesce(contains(lower(${e}), '2.1'), false)`;
const g = (e: string) => `SELECT ${e} AS k, count(*) FROM events GROUP BY k`;
const q = { before: f(x), triple: f(u(x)), gbefore: g(x), gtriple: g(u(x)) };
for (let round = 0; round < 2; round++)
  for (const [name, sql] of Object.entries(q)) {
    const ts: number[] = [];
    for (let i = 0; i < 7; i++) {
      const s = performance.now();
      await c.run(sql);
      ts.push(performance.now() - s);
    }
    ts.sort((a, b) => a - b);
    if (round) console.log(name, Math.round(ts[3]), "ms");
  }
