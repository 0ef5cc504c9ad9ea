/**
 * `e`: the current result as CSV (the same flat table as `--csv`, from `flatten`) and JSON
 * (`{spec, result, coverage, sql, params}`) files in the
 * working folder or `$EVX_EXPORT_DIR`. Files are created new (never overwriting) and private (0600):
 * they can hold a company's user data.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { flatten } from "../../queries/flatten.js";
import { jsonKeepingNumbers } from "../../queries/jsonnumber.js";
import { toCsv } from "../../render/table.js";
import type { CurrentResult } from "./state.js";

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** Writes `content` to a new file `base + ext`, adding `-2`, `-3`… when the name is taken. */
function writeNew(dir: string, base: string, ext: string, content: string): string {
  for (let i = 1; ; i++) {
    const path = join(dir, `${base}${i > 1 ? `-${i}` : ""}${ext}`);
    try {
      writeFileSync(path, content, { mode: 0o600, flag: "wx" });
      return path;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST" || i > 99) throw e;
    }
  }
}

export function exportDir(env = process.env): string {
  return resolve(env.EVX_EXPORT_DIR || process.cwd());
}

/** Writes the CSV and JSON files of `current`; returns their paths. */
export function exportResult(
  current: CurrentResult,
  dir = exportDir(),
  now = new Date(),
): { csv: string; json: string } {
  const table = current.table ?? flatten(current.spec, current.result);
  const kind = current.spec?.kind ?? current.title.toLowerCase().replace(/[^a-z0-9]+/g, "-");
  const base = `evx-${kind}-${stamp(now)}`;
  const csv = writeNew(dir, base, ".csv", toCsv(table.columns, table.rows));
  const json = writeNew(
    dir,
    base,
    ".json",
    // A timeline's numbers are written as the source wrote them (queries/jsonnumber.ts).
    `${jsonKeepingNumbers(
      current.table
        ? { title: current.title, columns: table.columns, rows: table.rows }
        : {
            spec: current.spec,
            result: current.result,
            ...(current.coverage ? { coverage: current.coverage } : {}),
            sql: current.sql,
            params: current.params,
          },
      (_k, v) => (typeof v === "bigint" ? Number(v) : v),
      2,
    )}\n`,
  );
  return { csv, json };
}
