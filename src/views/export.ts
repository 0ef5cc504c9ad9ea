/**
 * `e`: the current result as CSV (flat rows) and JSON (`{spec, result, sql, params}`) files in the
 * working folder or `$EVX_EXPORT_DIR`. Files are created new (never overwriting) and private (0600):
 * they can hold a company's user data.
 */
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { toCsv } from "../commands/output.js";
import type {
  AnalysisSpec,
  CatalogResult,
  FunnelResult,
  PropsResult,
  RetentionResult,
  TrendResult,
} from "../queries/spec.js";
import type { CurrentResult } from "./state.js";

/** Columns and rows of a result, flat (one value per cell). */
export function flatten(
  spec: AnalysisSpec | undefined,
  result: unknown,
): { columns: string[]; rows: unknown[][] } {
  switch (spec?.kind) {
    case "catalog": {
      const r = result as CatalogResult;
      return {
        columns: ["event_type", "events", "users", "first_seen", "last_seen"],
        rows: r.events.map((e) => [e.event_type, e.events, e.users, e.first_seen, e.last_seen]),
      };
    }
    case "props": {
      const r = result as PropsResult;
      return {
        columns: ["key", "type", "events", "presence", "top_values"],
        rows: r.props.map((p) => [p.key, p.type, p.events, p.presence, p.top.map((t) => t.value).join("|")]),
      };
    }
    case "trend": {
      const r = result as TrendResult;
      const rows: unknown[][] = [];
      for (const s of r.series)
        for (const p of s.points) rows.push([s.event, s.breakdown ?? "", p.t, p.value]);
      return { columns: ["event", "breakdown", "t", r.measure], rows };
    }
    case "funnel": {
      const r = result as FunnelResult;
      const rows: unknown[][] = [];
      const add = (group: string, steps: FunnelResult["steps"]) => {
        for (const [i, s] of steps.entries())
          rows.push([group, i + 1, s.step, s.users, s.conversion, s.from_previous, s.median_seconds]);
      };
      add("", r.steps);
      for (const g of r.breakdown ?? []) add(g.value, g.steps);
      return {
        columns: [
          "breakdown",
          "step_index",
          "step",
          "users",
          "conversion",
          "from_previous",
          "median_seconds",
        ],
        rows,
      };
    }
    case "retention": {
      const r = result as RetentionResult;
      const rows: unknown[][] = [];
      for (const c of r.cohorts) {
        for (const [i, n] of c.retained.entries())
          rows.push([
            c.cohort,
            c.users,
            i,
            n,
            c.users > 0 ? n / c.users : null,
            c.incomplete_from !== null && i >= c.incomplete_from,
          ]);
      }
      return { columns: ["cohort", "users", "period", "retained", "rate", "incomplete"], rows };
    }
    default:
      return { columns: [], rows: [] };
  }
}

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
    `${JSON.stringify(
      current.table
        ? { title: current.title, columns: table.columns, rows: table.rows }
        : { spec: current.spec, result: current.result, sql: current.sql, params: current.params },
      (_k, v) => (typeof v === "bigint" ? Number(v) : v),
      2,
    )}\n`,
  );
  return { csv, json };
}
