/**
 * `evx paths`, `evx stickiness`, `evx lifecycle` (issue #15): flags → spec, the shared `analyze`
 * run (range, validation, --json/--csv/--sql, coverage), and the human output from src/render.
 */
import { parseDuration, parseEventRef, parseOneOf, UsageError } from "../queries/parse.js";
import { checkPaths } from "../queries/paths.js";
import {
  LIFECYCLE_INTERVALS,
  type LifecycleInterval,
  type LifecycleResult,
  type PathsResult,
  STICKINESS_INTERVALS,
  type StickinessInterval,
  type StickinessResult,
} from "../queries/spec.js";
import { useColor } from "../render/charts.js";
import {
  lifecycleChart,
  lifecycleTable,
  pathsTree,
  stickinessBars,
  stickinessSummary,
} from "../render/insights.js";
import { incompleteBucketsText } from "../render/partial.js";
import { cleanText, wrapText } from "../render/sanitize.js";
import { analyze, type CommonArgs, rangeText, where } from "./analyze.js";
import { termWidth } from "./output.js";

/** A human output's title line, wrapped to the width its chart is drawn in. */
const title = (text: string) => `${wrapText(text, termWidth()).join("\n")}\n`;

export interface PathsArgs extends CommonArgs {
  after?: string;
  before?: string;
  depth?: number;
  top?: number;
  within?: string;
  /** yargs turns `--no-collapse` into `collapse: false`. */
  collapse?: boolean;
}

/** Steps per path of `evx paths` (and its --json) when `--depth` is not given. */
export const DEFAULT_DEPTH = 4;
/** Steps of the human tree when `--depth` is not given (readable in 80 columns). */
export const TREE_DEPTH = 2;

export async function runPaths(a: PathsArgs): Promise<void> {
  if ((a.after === undefined) === (a.before === undefined))
    throw new UsageError("give exactly one of --after EVENT or --before EVENT");
  const direction = a.after !== undefined ? "after" : "before";
  const anchor = parseEventRef((a.after ?? a.before) as string);
  // The tree printed for a person reads in 80 columns with two steps; --json, --csv, --sql, the
  // printed command and --users-of keep the analysis's default depth, 4.
  const tree = !a.json && !a.csv && !a.sql && !a.printCommand && a.usersOf === undefined;
  const treeDepth = tree && a.depth === undefined;
  const base = {
    kind: "paths" as const,
    anchor,
    direction,
    depth: a.depth ?? (treeDepth ? TREE_DEPTH : DEFAULT_DEPTH),
    top: a.top ?? 5,
    collapse: a.collapse !== false,
    ...(a.within === undefined ? {} : { withinSeconds: parseDuration(a.within) }),
  } as const;
  // Bad numbers are refused before the cache is opened.
  checkPaths({ ...base, range: { from: "", to: "", tz: "UTC" }, filters: [] });
  await analyze<PathsResult>(
    a,
    (range) => ({ ...base, range, filters: where(a) }),
    (r, answer) => {
      const width = termWidth();
      process.stdout.write(`${rangeText(answer)}\n`);
      const lines = pathsTree(r, { width, color: useColor(process.env, process.stdout) });
      if (!r.users) process.stdout.write(`0 users: nobody has ${cleanText(r.anchor)} in the range\n`);
      else
        process.stdout.write(
          `${lines.join("\n")}\n${treeDepth ? `(${TREE_DEPTH} steps: --depth N for more, up to 10)\n` : ""}`,
        );
    },
  );
}

export interface StickinessArgs extends CommonArgs {
  event: string;
  interval?: string;
}

export async function runStickiness(a: StickinessArgs): Promise<void> {
  const event = parseEventRef(a.event);
  const interval = parseOneOf<StickinessInterval>(a.interval ?? "day", STICKINESS_INTERVALS, "interval");
  await analyze<StickinessResult>(
    { ...a, usersOf: undefined },
    (range) => ({ kind: "stickiness", event, interval, range, filters: where(a) }),
    (r, answer) => {
      process.stdout.write(
        title(`stickiness of ${cleanText(a.event)} per ${interval}, ${rangeText(answer)}`),
      );
      process.stdout.write(`${stickinessSummary(r)}\n`);
      const lines = stickinessBars(r, { width: termWidth(), color: useColor(process.env, process.stdout) });
      process.stdout.write(`${lines.join("\n")}\n`);
    },
  );
}

export interface LifecycleArgs extends CommonArgs {
  event: string;
  interval?: string;
}

export async function runLifecycle(a: LifecycleArgs): Promise<void> {
  const event = parseEventRef(a.event);
  const interval = parseOneOf<LifecycleInterval>(a.interval ?? "day", LIFECYCLE_INTERVALS, "interval");
  await analyze<LifecycleResult>(
    { ...a, usersOf: undefined },
    (range) => ({ kind: "lifecycle", event, interval, range, filters: where(a) }),
    (r, answer) => {
      process.stdout.write(title(`lifecycle of ${cleanText(a.event)} per ${interval}, ${rangeText(answer)}`));
      const lines = lifecycleChart(r, {
        width: termWidth(),
        height: 14,
        color: useColor(process.env, process.stdout),
        tz: answer.range.tz,
      });
      // Buckets the cache holds only in part (docs/semantics.md, "Partial data").
      const partial = incompleteBucketsText(r.points, interval, answer.range.tz);
      process.stdout.write(`${lines.join("\n")}\n${partial ? `${partial}\n` : ""}`);
      // The numbers behind the bars, one row per bucket.
      if (r.points.length) process.stdout.write(`\n${lifecycleTable(r, answer.range.tz).join("\n")}\n`);
    },
  );
}
