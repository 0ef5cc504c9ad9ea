import type { Cache } from "../cache/db.js";
import { parseCohortBreakdown } from "../queries/cohorts.js";
import { commandLine } from "../queries/command.js";
import type { AnalysisEngine, EngineName } from "../queries/engine.js";
import {
  checkSpecKeys,
  Executor,
  inlineSql,
  sqlLiteral,
  type ValidationSource,
  validateSpec,
} from "../queries/executor.js";
import { flatten } from "../queries/flatten.js";
import { parseFormula } from "../queries/formula.js";
import { checkTimeToConvert } from "../queries/funnel.js";
import { propValueText } from "../queries/jsonnumber.js";
import {
  checkCohortName,
  parseCohortRule,
  parseCompare,
  parseDuration,
  parseEventRef,
  parseExclusion,
  parseFilter,
  parseFunnelOrder,
  parseInterval,
  parseLast,
  parseMeasure,
  parsePeriod,
  parseRangeBound,
  parseZone,
  UsageError,
} from "../queries/parse.js";
import { comparePeriod } from "../queries/partial.js";
import { RETENTION_BREAKDOWN_LIMIT } from "../queries/retention.js";
import { parseSample, SAMPLE_MARK, sampleText } from "../queries/sample.js";
import type {
  AnalysisSpec,
  Annotation,
  CatalogResult,
  Coverage,
  DateRange,
  FunnelResult,
  FunnelStepResult,
  PropsResult,
  ResolvedRange,
  RetentionResult,
  TimelineResult,
  TimeToConvertSpec,
  TrendResult,
  UsersResult,
  UsersSpec,
} from "../queries/spec.js";
import { isoOf, lastRange } from "../queries/time.js";
import { checkTrendModes } from "../queries/trend.js";
import { parseUserSelection } from "../queries/users.js";
import { annotationLegend, mergeNotes, placeMarkers } from "../render/annotations.js";
import type { LineSeries } from "../render/charts.js";
import { cleanText } from "../render/clean.js";
import { changeText, pointsText } from "../render/compare.js";
import {
  formatDuration,
  formatNumber,
  formatPercent,
  timeLabel,
  timeLabels,
  timeText,
} from "../render/format.js";
import { fmtInt, toCsv } from "../render/json.js";
import { compareWarning, INCOMPLETE_BUCKET_MARK, markedValue, NO_COMPARE_DATA } from "../render/partial.js";
import { trendEstimates } from "../render/sample.js";
import { formulaLegend, formulaView, seriesLabel } from "../render/series.js";
import { binLabel, timeToConvertHead } from "../render/ttc.js";
import { type Note, readNotes } from "../views/state/annotations.js";
import { cachePathFor, openForRead } from "./cachepath.js";
import type * as Drawing from "./drawing.js";
import { printJson, termWidth } from "./output.js";

/** Charts and tables, loaded by `analyze` before any human output (drawing.ts says why). */
let drawing: typeof Drawing;

export interface CommonArgs {
  cache?: string;
  json?: boolean;
  csv?: boolean;
  from?: string;
  to?: string;
  last?: string;
  tz?: string;
  where?: string[];
  /** Print the SQL and parameters that would run, then exit 0. */
  sql?: boolean;
  /** Print the normalized `evx` command line of the analysis (defaults written out), then exit 0. */
  printCommand?: boolean;
  /** Drill-down: list the users behind one number of the analysis instead (trend, funnel, retention). */
  usersOf?: string;
  /** With usersOf: users listed at most (default 100); otherwise the analysis's own limit. */
  limit?: number;
  /** `duckdb` (the default: the local cache) or `clickhouse` (a server: `chUrl`, `chTable`). */
  engine?: string;
  /** ClickHouse URL (default `$EVX_CLICKHOUSE_URL`); the password comes from `$EVX_CLICKHOUSE_PASSWORD` or it. */
  chUrl?: string;
  /** ClickHouse events table (default `events`). */
  chTable?: string;
  /** `merged` (persons) or `raw` (user ids); default: the engine's (docs/semantics.md, "Identity"). */
  identity?: string;
  /** With usersOf: save every selected user as a static cohort of this name. */
  saveCohort?: string;
  /** `--annotations-from KEY` (trend, funnel over time): mark where each value of KEY first appears. */
  annotationsFrom?: string;
  /** `--no-annotations` (false): leave out the notes of `evx annotate`. */
  annotations?: boolean;
  /** `--sample P%` (docs/semantics.md, "Sampling"): estimate from that share of the users. */
  sample?: string;
}

/** `--engine`: `duckdb` or `clickhouse`; `--ch-url`/`--ch-table` only go with `clickhouse`. */
export function parseEngine(a: { engine?: string; chUrl?: string; chTable?: string }): EngineName {
  const e = (a.engine ?? "duckdb").toLowerCase();
  if (e !== "duckdb" && e !== "clickhouse")
    throw new UsageError(
      `unknown --engine ${JSON.stringify(a.engine)}: use duckdb (the local cache) or clickhouse`,
    );
  if (e === "duckdb" && (a.chUrl !== undefined || a.chTable !== undefined))
    throw new UsageError("--ch-url and --ch-table go with --engine clickhouse");
  return e;
}

/** An opened engine, what validation reads, and what else to close (the cache of the DuckDB engine). */
interface Opened {
  engine: AnalysisEngine;
  validation: Cache | ValidationSource;
  inlined: (q: { sql: string; params: readonly unknown[] }) => string;
  /** A parameter value as the inlined SQL writes it (the parameter list of `--sql` writes it the same way). */
  literal: (v: unknown) => string;
  close(): Promise<void>;
}

async function openEngine(a: CommonArgs): Promise<Opened> {
  if (parseEngine(a) === "clickhouse") {
    const ch = await import("../queries/clickhouse/executor.js");
    const engine = ch.ClickHouseExecutor.open({ chUrl: a.chUrl, chTable: a.chTable });
    return {
      engine,
      validation: engine,
      inlined: ch.inlineChSql,
      literal: ch.chLiteral,
      close: () => engine.close(),
    };
  }
  const cache = await openForRead(a.cache);
  const engine = new Executor(cache);
  return {
    engine,
    validation: cache,
    inlined: inlineSql,
    literal: sqlLiteral,
    close: async () => {
      engine.close();
      cache.close();
    },
  };
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/** What a printer gets besides the result: the spec's range, as given and resolved, and coverage. */
export interface Answer {
  range: DateRange;
  resolved: ResolvedRange | null;
  coverage: Coverage;
}

/**
 * Shared shape of every analysis command: open the cache read-only, resolve the range (`--from/--to`,
 * `--last` or the cached range), validate, run through the one engine, print. `--json` adds the
 * resolved range and the coverage to the result; the human and CSV outputs warn on stderr when the
 * cache is missing or failed partitions of the range.
 */
export async function analyze<R>(
  a: CommonArgs,
  makeSpec: (range: DateRange) => AnalysisSpec,
  print: (result: R, answer: Answer) => void,
): Promise<void> {
  const from = a.from === undefined ? undefined : parseRangeBound(a.from, "--from");
  const to = a.to === undefined ? undefined : parseRangeBound(a.to, "--to");
  const last = a.last === undefined ? undefined : parseLast(a.last);
  if (last !== undefined && (from !== undefined || to !== undefined))
    throw new UsageError("--last gives the whole range: use it without --from/--to");
  const tz = parseZone(a.tz ?? "UTC");
  const sample = a.sample === undefined ? undefined : parseSample(a.sample);
  if (a.saveCohort !== undefined) {
    if (a.usersOf === undefined)
      throw new UsageError("--save-cohort goes with --users-of (the users it saves)");
    checkCohortName(a.saveCohort, "--save-cohort");
  }
  const opened = await openEngine(a);
  const ex = opened.engine;
  let closed = false;
  try {
    // ClickHouse: the saved cohorts' definitions ride in the context request when the analysis reads
    // any; said before the range is resolved (which reads the context when --from/--to are not both
    // given), so that request is the one. The refs do not depend on the range: any date will do here.
    try {
      ex.expectCohorts?.(makeSpec({ from: "2000-01-01", to: "2000-01-01", tz }));
    } catch {
      // A spec that does not build is refused below, with the real range.
    }
    // A range reaching past the cached dates is answered from what is cached, and its coverage says
    // which partitions are missing; a range with no cached events at all is refused by validateSpec.
    let range: DateRange;
    if (last !== undefined) {
      const lastUs = await ex.lastEventUs();
      if (lastUs === null)
        throw new UsageError(
          ex.engine === "clickhouse"
            ? "the ClickHouse table has no events; load some with `evx clickhouse load SOURCE`"
            : "the cache has no events; run `evx sync SOURCE` first",
        );
      range = lastRange(lastUs, last, tz);
    } else range = await ex.resolveRange({ from, to, tz });
    const given = a.identity === undefined ? undefined : parseIdentity(a.identity);
    const inner = { ...makeSpec(range), identity: given, ...(sample !== undefined ? { sample } : {}) };
    const spec =
      a.usersOf === undefined ? inner : { ...usersSpecOf(inner, a.usersOf, a.limit ?? 100), identity: given };
    // ClickHouse: the context request reads the saved cohorts' definitions too when the spec uses any.
    ex.expectCohorts?.(spec);
    // A key no event has is a usage error; one none of this analysis's events has in the range is
    // answered with a warning line (stderr for every output, so --json stays clean on stdout). Keys are
    // read first (they do not depend on the identity mode): on ClickHouse their probes ride in the
    // request that reads the table's context, which the identity default and validation then reuse (two
    // requests per analysis).
    const keyWarnings = await checkSpecKeys(opened.validation, spec);
    const identity = given ?? (await ex.identityDefault());
    inner.identity = identity;
    spec.identity = identity;
    await validateSpec(opened.validation, spec);
    for (const w of keyWarnings) process.stderr.write(`evx: warning: ${cleanText(w)}\n`);
    if (a.printCommand) {
      process.stdout.write(
        `${commandLine(spec, { last, source: sourceFlags(a), output: outputFlags(a) })}\n`,
      );
      return;
    }
    if (a.sql) {
      process.stdout.write(sqlText(spec, await ex.explain(spec), ex, opened));
      // `--annotations-from KEY`: the markers' statement follows the analysis's.
      const markers = await ex.explainAnnotations(spec);
      if (markers)
        process.stdout.write(
          `\n-- the markers of --annotations-from (each value's first appearance in the range):\n${sqlText(spec, markers, ex, opened)}`,
        );
      return;
    }
    const out = await ex.run(spec);
    if (a.saveCohort !== undefined && spec.kind === "users") {
      closed = true;
      await opened.close();
      await saveStaticCohort(a, spec, a.saveCohort, (out.result as UsersResult).total);
    }
    if (out.range) addNotes(spec, out.result, out.range, a.annotations !== false);
    const answer: Answer = { range, resolved: out.range, coverage: out.coverage };
    if (a.json) {
      printJson({ ...out.result, identity, range: out.range, coverage: out.coverage });
      return;
    }
    drawing ??= await import("./drawing.js");
    warnCoverage(out.coverage, ex.engine);
    estimate = (out.result as { sample?: number }).sample;
    warnCompare(spec, out.result, ex.engine);
    if (a.csv) {
      const t = flatten(spec, out.result);
      process.stdout.write(toCsv(t.columns, t.rows));
      return;
    }
    if (estimate !== undefined) process.stdout.write(`${sampleLine(estimate, spec.kind === "users")}\n`);
    if (spec.kind === "users") printUsers(out.result as UsersResult, answer);
    else print(out.result as R, answer);
  } finally {
    if (!closed) await opened.close();
  }
}

/**
 * A trend's or funnel over time's notes (`evx annotate`) in the range join its property markers in
 * `annotations`, by instant (a note first on a tie). Without notes in range nor `--annotations-from`
 * the result is left as it is. A notes file that cannot be read is a warning, never a failed answer.
 */
function addNotes(spec: AnalysisSpec, result: unknown, range: ResolvedRange, on: boolean): void {
  if (spec.kind !== "trend" && !(spec.kind === "funnel" && spec.trendInterval)) return;
  let notes: Note[] = [];
  if (on)
    try {
      notes = readNotes().notes;
    } catch (e) {
      process.stderr.write(`evx: warning: ${cleanText((e as Error).message)}\n`);
    }
  const r = result as { annotations?: Annotation[] };
  const merged = mergeNotes(r.annotations, notes, range.from, range.to);
  if (merged) r.annotations = merged;
}

/** The chart's markers and the legend lines under it (render/annotations.ts), for the human output. */
function chartMarkers(
  annotations: Annotation[] | undefined,
  ts: string[],
  tz: string,
  width: number,
): { markers: { point: number; mark: string }[]; legend: string[] } {
  const placed = placeMarkers(annotations ?? [], ts);
  return {
    markers: placed.map((m) => ({ point: m.point, mark: m.mark })),
    legend: annotationLegend(placed, { tz, width, maxLines: 6, more: "(--json lists them all)" }),
  };
}

/**
 * The rate of the sampled answer being printed (docs/semantics.md, "Sampling"), or undefined: its
 * counts are printed with `≈` (`est`). One analysis per process.
 */
let estimate: number | undefined;

/** A scaled count as printed: `≈1,234` in a sampled answer. */
export function est(text: string): string {
  return estimate === undefined || text === "" || text === "–" ? text : `${SAMPLE_MARK}${text}`;
}

/** The first line of a sampled answer's human output. */
function sampleLine(rate: number, drill: boolean): string {
  return drill
    ? `${SAMPLE_MARK} the users of a ${sampleText(rate)} sample of users (their analysis is an estimate)`
    : `${SAMPLE_MARK} estimate from a ${sampleText(rate)} sample of users: counts scaled ×${Number((1 / rate).toFixed(2))}; ${SAMPLE_MARK} = estimate`;
}

/** Where the data is, as flags for a printed command (a ClickHouse URL with a password is left out). */
function sourceFlags(a: CommonArgs): string[] {
  if (parseEngine(a) === "clickhouse") {
    const url = a.chUrl !== undefined && !/\/\/[^/]*@/.test(a.chUrl) ? ["--ch-url", a.chUrl] : [];
    return ["--engine", "clickhouse", ...url, ...(a.chTable !== undefined ? ["--ch-table", a.chTable] : [])];
  }
  return a.cache !== undefined ? ["--cache", a.cache] : [];
}

function outputFlags(a: CommonArgs): string[] {
  return a.json ? ["--json"] : a.csv ? ["--csv"] : a.sql ? ["--sql"] : [];
}

/** `--identity merged|raw`. */
export function parseIdentity(v: string): "merged" | "raw" {
  const x = v.toLowerCase();
  if (x !== "merged" && x !== "raw")
    throw new UsageError(`unknown --identity ${JSON.stringify(v)}: use merged (persons) or raw (user ids)`);
  return x;
}

/**
 * `--users-of … --save-cohort NAME`: every user of the drill-down (not only the listed page) saved as a
 * static cohort, by the same selection SQL, in the cache (opened for writing once the answer is in).
 */
async function saveStaticCohort(a: CommonArgs, spec: UsersSpec, name: string, total: number): Promise<void> {
  if (parseEngine(a) === "clickhouse") {
    const ch = await import("../queries/clickhouse/cohorts.js");
    const users = await ch.saveStaticCohortCh({ chUrl: a.chUrl, chTable: a.chTable }, spec, name);
    reportSaved(name, users, total);
    return;
  }
  const { Cache } = await import("../cache/db.js");
  const { saveUsersCohort } = await import("../queries/executor.js");
  const cache = await Cache.open(cachePathFor(a.cache));
  try {
    const users = await saveUsersCohort(cache, spec, name);
    reportSaved(name, users, total);
  } finally {
    cache.close();
  }
}

function reportSaved(name: string, users: number, total: number): void {
  if (users !== total)
    throw new Error(`saving cohort ${name}: ${users} users saved, but the drill-down counts ${total}`);
  process.stderr.write(`evx: saved ${fmtInt(users)} users as the static cohort ${cleanText(name)}\n`);
}

/** The drill-down spec of `--users-of TEXT` on an analysis (its breakdown and compare do not apply). */
function usersSpecOf(inner: AnalysisSpec, text: string, limit: number): UsersSpec {
  if (
    inner.kind !== "trend" &&
    inner.kind !== "funnel" &&
    inner.kind !== "retention" &&
    inner.kind !== "paths"
  )
    throw new UsageError("--users-of works on trend, funnel, retention and paths");
  const {
    breakdown: _b,
    compare: _c,
    formula: _f,
    rollingSeconds: _r,
    cumulative: _cu,
    cohortBreakdown: _cb,
    ...rest
  } = inner as typeof inner & {
    breakdown?: string;
    compare?: string;
    formula?: string;
    rollingSeconds?: number;
    cumulative?: boolean;
    cohortBreakdown?: unknown;
  };
  const of = (inner.kind === "funnel" ? { ...rest, trendInterval: undefined } : rest) as UsersSpec["of"];
  return { kind: "users", of, select: parseUserSelection(text, of), limit, range: of.range };
}

function printUsers(r: UsersResult, answer: Answer): void {
  process.stdout.write(
    `${fmtInt(r.total)} users, ${rangeText(answer)}${listedText(r.total, r.users.length, "by user id ")}\n`,
  );
  if (!r.users.length) return;
  process.stdout.write(
    drawing.textTable(
      [
        { title: "user", max: 48 },
        { title: "events", align: "right" },
        { title: "first seen" },
        { title: "last seen" },
      ],
      r.users.map((u) => [
        u.merged_ids?.length ? `${u.user_id} (+${u.merged_ids.join(", ")})` : u.user_id,
        fmtInt(u.events),
        short(u.first_seen),
        short(u.last_seen),
      ]),
      termWidth(),
    ),
  );
}

/** What part of `total` the list shows, when not all of it (`--limit 0` asks for the total only). */
function listedText(total: number, shown: number, order: string): string {
  if (total <= shown) return "";
  return shown === 0 ? "; none listed (--limit 0)" : `; the first ${fmtInt(shown)} ${order}(--limit)`;
}

/* ---------------- user timeline ---------------- */

export interface UserArgs extends CommonArgs {
  user: string;
  event?: string[];
}

/** `evx user USER_ID`: one user's events in time order, with their properties. */
export async function runUser(a: UserArgs): Promise<void> {
  const events = list(a.event);
  let missing = false;
  await analyze<TimelineResult>(
    { ...a, usersOf: undefined },
    (range) => ({ kind: "timeline", user: a.user, range, events, limit: a.limit ?? 500 }),
    (r, answer) => {
      if (r.total === 0) {
        missing = true;
        return;
      }
      const person =
        r.person_id === undefined
          ? ""
          : ` (person ${r.person_id}${r.merged_ids?.length ? `; ids ${r.merged_ids.join(", ")}` : ""})`;
      process.stdout.write(
        `${cleanText(r.user_id + person)}: ${fmtInt(r.total)} events, ${rangeText(answer)}${listedText(r.total, r.events.length, "")}\n`,
      );
      for (const e of r.events) {
        const props = Object.entries(e.properties)
          .map(([k, v]) => `${k}=${propValueText(v)}`)
          .join(" ");
        process.stdout.write(
          `${cleanText(
            `${timeText(e.event_time, answer.range.tz, true)}  ${e.event_type}${props ? `  ${props}` : ""}`,
          )}\n`,
        );
      }
    },
  );
  if (missing)
    process.stderr.write(
      `evx: no events of user ${JSON.stringify(cleanText(a.user))} in the range (the cache has no such user, or they were not active then)\n`,
    );
}

/** `--sql`: the statement as it would run, its parameters, and the same with the parameters inlined. */
function sqlText(
  spec: AnalysisSpec,
  q: { sql: string; params: readonly unknown[] },
  engine: AnalysisEngine,
  { inlined, literal }: Pick<Opened, "inlined" | "literal">,
): string {
  if (engine.engine === "clickhouse") {
    const types = new Map([...q.sql.matchAll(/\{p(\d+):([^{}]+)\}/g)].map((m) => [Number(m[1]), m[2]]));
    const params = q.params.map(
      (v, i) => `--   {p${i + 1}:${types.get(i + 1) ?? "String"}} = ${cleanText(literal(v))}`,
    );
    return [
      `-- evx ${spec.kind} on ClickHouse (${cleanText(engine.host)}): the statement with its query parameters`,
      q.sql.trimEnd(),
      ...(params.length ? ["-- parameters:", ...params] : []),
      "",
      "-- the same with the parameters inlined (paste into clickhouse-client):",
      `${inlined(q).trimEnd()};`,
      "",
    ].join("\n");
  }
  const params = q.params.map((v, i) => `--   $${i + 1} = ${cleanText(literal(v))}`);
  return [
    `-- evx ${spec.kind} on DuckDB: the statement with its bound parameters`,
    `${q.sql.trimEnd()};`,
    ...(params.length ? ["-- parameters:", ...params] : []),
    "",
    "-- the same with the parameters inlined (paste into the duckdb shell):",
    `${inlined(q).trimEnd()};`,
    "",
  ].join("\n");
}

/** One stderr line when the range is not fully synced: an incident answer must not look complete. */
function warnCoverage(c: Coverage, engine: EngineName): void {
  if (!c.missing.length && !c.failed.length) return;
  const dates = (ds: string[]) =>
    ds.length > 4 ? `${ds.slice(0, 3).join(", ")} … (${ds.length})` : ds.join(", ");
  const parts = [];
  if (c.missing.length)
    parts.push(`${engine === "clickhouse" ? "not loaded" : "not synced"}: ${dates(c.missing)}`);
  if (c.failed.length) parts.push(`failed: ${dates(c.failed)}`);
  process.stderr.write(
    engine === "clickhouse"
      ? `evx: warning: incomplete data: ${c.partitions_synced} of ${c.partitions_in_range} partitions in range are loaded (${parts.join("; ")}); run \`evx clickhouse load\` to complete\n`
      : `evx: warning: incomplete data: ${c.partitions_synced} of ${c.partitions_in_range} partitions in range are synced (${parts.join("; ")}); run \`evx sync\` to complete\n`,
  );
}

/**
 * One stderr line when the compare period of a trend or funnel is not fully cached (docs/semantics.md,
 * "Partial data"): its change would compare with missing data.
 */
function warnCompare(spec: AnalysisSpec, result: unknown, engine: EngineName): void {
  const cp = comparePeriod(spec);
  if (!cp || (spec.kind !== "trend" && spec.kind !== "funnel")) return;
  const c =
    spec.kind === "trend" ? (result as TrendResult).series[0]?.compare : (result as FunnelResult).compare;
  const w = compareWarning(c?.cached, c?.coverage, periodText(cp, spec.range.tz), engine === "clickhouse");
  if (w) process.stderr.write(w);
}

/** An instant span (µs) as local times: `2023-05-31 00:00 .. 2023-06-01 00:00 (UTC)`. */
function periodText(span: { lo: number; hi: number }, tz: string): string {
  return `${timeText(isoOf(span.lo), tz)} .. ${timeText(isoOf(span.hi), tz)} (${tz})`;
}

/** The range line of the human output. */
export function rangeText(answer: Answer): string {
  const r = answer.resolved;
  if (!r) return "";
  const show = (iso: string) => timeText(iso, r.tz);
  return `${show(r.from)} .. ${show(r.to)} (${r.tz})`;
}

export function where(a: CommonArgs) {
  return list(a.where).map(parseFilter);
}

/* ---------------- events / props ---------------- */

export async function runEvents(a: CommonArgs): Promise<void> {
  await analyze<CatalogResult>(
    a,
    (range) => ({ kind: "catalog", range }),
    (r, answer) => {
      process.stdout.write(`${rangeText(answer)}\n`);
      process.stdout.write(
        drawing.textTable(
          [
            { title: "event", max: 48 },
            { title: "events", align: "right" },
            { title: "users", align: "right" },
            { title: "first seen" },
            { title: "last seen" },
          ],
          r.events.map((e) => [
            e.event_type,
            fmtInt(e.events),
            fmtInt(e.users),
            short(e.first_seen),
            short(e.last_seen),
          ]),
          termWidth(),
        ),
      );
    },
  );
}

export async function runProps(a: CommonArgs & { event: string; top?: number }): Promise<void> {
  await analyze<PropsResult>(
    a,
    (range) => ({ kind: "props", event: a.event, range, topValues: a.top ?? 5 }),
    (r) => {
      const top = (p: PropsResult["props"][number]) =>
        p.top.map((t) => `${t.value} (${fmtInt(t.events)})`).join(", ");
      process.stdout.write(`${cleanText(r.event)}: ${fmtInt(r.events)} events\n`);
      process.stdout.write(
        drawing.textTable(
          [
            { title: "key", max: 32 },
            { title: "type" },
            { title: "present", align: "right" },
            { title: "top values", max: 80 },
          ],
          r.props.map((p) => [p.key, p.type, formatPercent(p.presence), top(p)]),
          termWidth(),
        ),
      );
    },
  );
}

/* ---------------- trend ---------------- */

export interface TrendArgs extends CommonArgs {
  events: string[];
  measure?: string;
  interval?: string;
  breakdown?: string;
  limit?: number;
  compare?: string;
  formula?: string;
  rolling?: string;
  cumulative?: boolean;
}

export async function runTrend(a: TrendArgs): Promise<void> {
  const events = list(a.events).map(parseEventRef);
  if (!events.length) throw new UsageError("name at least one event");
  const measure = parseMeasure(a.measure ?? "events");
  const interval = parseInterval(a.interval ?? "day");
  const compare = a.compare === undefined ? undefined : parseCompare(a.compare);
  const formula = a.formula;
  if (formula !== undefined) parseFormula(formula, events.length);
  const rollingSeconds = a.rolling === undefined ? undefined : parseDuration(a.rolling);
  const modes = {
    ...(formula !== undefined ? { formula } : {}),
    ...(rollingSeconds !== undefined ? { rollingSeconds } : {}),
    ...(a.cumulative ? { cumulative: true } : {}),
  };
  // The flags fit together before any data is read (the same checks run on every spec).
  checkTrendModes({
    kind: "trend",
    events,
    measure,
    interval,
    range: { from: "", to: "", tz: "UTC" },
    filters: [],
    limit: 10,
    ...modes,
  });
  const byCohort = parseCohortBreakdown(a.breakdown);
  const annotationsFrom =
    a.annotationsFrom === undefined ? undefined : nonEmptyKey(a.annotationsFrom, "--annotations-from");
  await analyze<TrendResult>(
    a,
    (range) => ({
      kind: "trend",
      events,
      measure,
      interval,
      range,
      filters: where(a),
      ...(byCohort ? { cohortBreakdown: byCohort } : { breakdown: a.breakdown }),
      limit: a.usersOf === undefined ? (a.limit ?? 10) : 10,
      ...(compare ? { compare } : {}),
      ...modes,
      ...(annotationsFrom !== undefined ? { annotationsFrom } : {}),
    }),
    (full, answer) => {
      // With a formula the chart and the first rows are the formula's; the letters' series follow.
      const r = formulaView(full);
      const letters = full.formula ? full.series : [];
      const letterOf = (s: TrendResult["series"][number]) =>
        String.fromCharCode(65 + [...new Set(full.series.map((x) => x.event))].indexOf(s.event));
      const tz = answer.range.tz;
      const label = (s: TrendResult["series"][number]) =>
        s.breakdown === null ? s.event : `${s.event} · ${s.breakdown}`;
      const width = termWidth();
      const instants = r.series[0]?.points.map((p) => p.t) ?? [];
      // The legend names series as the TUI's does: just the breakdown value when one event is shown
      // (the table below keeps `event · value`).
      const named = (s: TrendResult["series"][number]) => seriesLabel(s, r);
      const marks = chartMarkers(full.annotations, instants, tz, width);
      const chart = drawing.lineChart(trendLines(r, named), {
        width,
        height: 14 + (marks.markers.length ? 1 : 0),
        xLabels: timeLabels(instants, interval, { tz }),
        color: drawing.useColor(process.env, process.stdout),
        ...(marks.markers.length ? { markers: marks.markers } : {}),
      });
      const vs = compare
        ? `, compared with ${compareText(compare, r.series[0]?.compare?.offset_seconds)}`
        : "";
      const shown = lastPoints(r, tz, compare ? 30 : 0);
      const marked = r.series.some((s) =>
        s.points.slice(s.points.length - shown.length).some((p) => p.incomplete),
      );
      const none = r.series[0]?.compare?.cached === "none" ? `\n${NO_COMPARE_DATA}` : "";
      const what = full.formula
        ? `${cleanText(full.formula.text)} (${cleanText(formulaLegend(full))}; ${r.measure}${r.window ? `, ${r.window}` : ""})`
        : `${r.measure}${r.window ? ` (${r.window})` : ""}`;
      const nulls = full.formula?.series.some((s) => s.points.some((p) => p.value === null))
        ? "; – = no value (division by zero), drawn at 0"
        : "";
      process.stdout.write(
        `${what} per ${r.interval}, ${rangeText(answer)}${vs}${marked ? `; ${INCOMPLETE_BUCKET_MARK} = incomplete bucket` : ""}${nulls}${none}\n${[...chart, ...marks.legend].join("\n")}\n\n`,
      );
      process.stdout.write(
        drawing.textTable(
          [
            { title: "series", max: 50 },
            { title: "total", align: "right" },
            ...(compare
              ? [
                  { title: "compare", align: "right" as const },
                  { title: "change", align: "right" as const },
                ]
              : []),
            ...shown.map((t) => ({ title: t, align: "right" as const })),
          ],
          [...r.series, ...letters].map((s) => {
            // A sampled count or sum is an estimate (a formula's value comes from estimates).
            const n = (v: number) => (trendEstimates(full) ? est(num(v)) : num(v));
            return [
              letters.includes(s) ? `${letterOf(s)} · ${label(s)}` : label(s),
              n(s.total),
              ...(s.compare
                ? s.compare.cached === "none"
                  ? ["–", "Δ n/a"]
                  : [n(s.compare.total), changeText(s.compare.change)]
                : []),
              ...s.points
                .slice(s.points.length - shown.length)
                .map((p) => markedValue(n(p.value), p.incomplete)),
            ];
          }),
          width,
        ),
      );
    },
  );
}

/** Chart lines: each series, and with compare its compare series (dimmed, Δ in the legend). */
function trendLines(r: TrendResult, label: (s: TrendResult["series"][number]) => string): LineSeries[] {
  const out: LineSeries[] = r.series.map((s) => ({
    label: s.compare ? `${label(s)} ${changeText(s.compare.change)}` : label(s),
    values: s.points.map((p) => p.value),
    incomplete: s.points.map((p) => p.incomplete === true),
  }));
  r.series.forEach((s, i) => {
    // With nothing of the compare period cached there is no compare line: zeros would read as data.
    if (s.compare && s.compare.cached !== "none")
      out.push({
        label: `${label(s)} (−${formatDuration(s.compare.offset_seconds)})`,
        values: s.compare.points.map((p) => p.value),
        incomplete: s.compare.points.map((p) => p.incomplete === true),
        dim: true,
        colorIndex: i,
      });
  });
  return out;
}

function compareText(compare: string, offset?: number): string {
  return compare === "previous"
    ? `the previous ${offset === undefined ? "period" : formatDuration(offset)}`
    : `${formatDuration(offset ?? 0)} before`;
}

/** Headers for the last few buckets shown beside each series' total, as local times. */
function lastPoints(r: TrendResult, tz: string, reserved: number): string[] {
  const pts = r.series[0]?.points ?? [];
  const n = Math.max(0, Math.min(pts.length, Math.floor((termWidth() - 70 - reserved) / 12)));
  return pts.slice(pts.length - n).map((p) => timeLabel(p.t, r.interval, { tz }));
}

/* ---------------- funnel ---------------- */

export interface FunnelArgs extends CommonArgs {
  steps: string[];
  within: string;
  breakdown?: string;
  limit?: number;
  interval?: string;
  compare?: string;
  order?: string;
  exclude?: string[];
  hold?: string;
  value?: string;
  timeToConvert?: boolean;
  fromStep?: number;
  toStep?: number;
  bins?: number;
}

/** `--time-to-convert [--from-step A] [--to-step B] [--bins N]`; the three need the first. */
function timeToConvertOf(a: FunnelArgs, K: number): TimeToConvertSpec | undefined {
  if (!a.timeToConvert) {
    const stray = (
      [
        ["--from-step", a.fromStep],
        ["--to-step", a.toStep],
        ["--bins", a.bins],
      ] as const
    ).find(([, v]) => v !== undefined);
    if (stray) throw new UsageError(`${stray[0]} goes with --time-to-convert`);
    return undefined;
  }
  const t: TimeToConvertSpec = {
    from: a.fromStep ?? 1,
    to: a.toStep ?? K,
    ...(a.bins !== undefined ? { bins: a.bins } : {}),
  };
  checkTimeToConvert(t, K);
  return t;
}

export async function runFunnel(a: FunnelArgs): Promise<void> {
  const steps = list(a.steps).map(parseEventRef);
  const order = a.order === undefined ? "ordered" : parseFunnelOrder(a.order);
  if (steps.length < 2)
    throw new UsageError(
      order === "any" ? "--order any needs at least two steps" : "a funnel needs at least two steps",
    );
  const exclude = list(a.exclude).map((x) => parseExclusion(x, steps.length));
  const hold = a.hold === undefined ? undefined : nonEmptyKey(a.hold, "--hold");
  const value = a.value === undefined ? undefined : nonEmptyKey(a.value, "--value");
  if (parseCohortBreakdown(a.breakdown))
    throw new UsageError(
      "--breakdown cohort:NAME works on trend and retention; on a funnel use --where cohort=NAME (or cohort!=NAME)",
    );
  const withinSeconds = parseDuration(a.within);
  const trendInterval = a.interval === undefined ? undefined : parseInterval(a.interval);
  const compare = a.compare === undefined ? undefined : parseCompare(a.compare);
  const timeToConvert = timeToConvertOf(a, steps.length);
  const annotationsFrom =
    a.annotationsFrom === undefined ? undefined : nonEmptyKey(a.annotationsFrom, "--annotations-from");
  if (annotationsFrom !== undefined && !trendInterval)
    throw new UsageError(
      "--annotations-from marks the conversion over time: add --interval (day, hour, week…)",
    );
  await analyze<FunnelResult>(
    a,
    (range) => ({
      kind: "funnel",
      steps,
      withinSeconds,
      range,
      filters: where(a),
      breakdown: a.breakdown,
      limit: a.usersOf === undefined ? (a.limit ?? 10) : 10,
      trendInterval,
      ...(compare ? { compare } : {}),
      ...(order !== "ordered" ? { order } : {}),
      ...(exclude.length ? { exclude } : {}),
      ...(hold !== undefined ? { hold } : {}),
      ...(value !== undefined ? { value } : {}),
      ...(timeToConvert ? { timeToConvert } : {}),
      ...(annotationsFrom !== undefined ? { annotationsFrom } : {}),
    }),
    (r, answer) => {
      const width = termWidth();
      const color = drawing.useColor(process.env, process.stdout);
      const vs = r.compare ? `; Δ vs ${compareText(compare ?? "", r.compare.offset_seconds)}` : "";
      // In any order the rows are "any k of K", so the steps are named once, here.
      const of = r.order === "any" ? ` of ${r.steps.map((s) => s.step).join(", ")}` : "";
      process.stdout.write(
        `${cleanText(funnelModeText(r, `funnel${of} within ${formatDuration(r.within_seconds)}`))}, ${rangeText(answer)}${vs}\n`,
      );
      const draw = (ss: FunnelStepResult[], before?: FunnelStepResult[]) =>
        drawing
          .bars(
            ss.map((s, i) => ({
              label: s.label ?? `${i + 1}. ${s.step}`,
              value: s.users,
              note: [
                formatPercent(s.conversion).padStart(6),
                (i ? `↳${formatPercent(s.from_previous)}` : "").padStart(7),
                s.median_seconds === null ? "" : formatDuration(s.median_seconds),
                s.value
                  ? `Σ ${est(num(s.value.sum))}${s.value.avg === null ? "" : ` (avg ${num(s.value.avg)})`}`
                  : "",
                before && i > 0 ? pointsText(s, before[i], before[0]) : "",
              ]
                .join("  ")
                .trimEnd(),
            })),
            { width, color, format: (v) => est(formatNumber(v)) },
          )
          .join("\n");
      // Nothing of the compare period cached: no Δ at all (against zeros it would read as a change).
      process.stdout.write(`${draw(r.steps, r.compare?.cached === "none" ? undefined : r.compare?.steps)}\n`);
      if (r.compare?.cached === "none") process.stdout.write(`${NO_COMPARE_DATA}\n`);
      else if (r.compare) {
        const first = r.compare.steps[0]?.users ?? 0;
        const lastStep = r.compare.steps[r.compare.steps.length - 1];
        process.stdout.write(
          `compare period: ${est(fmtInt(first))} entered, ${formatPercent(lastStep?.conversion ?? 0)} converted\n`,
        );
      }
      for (const g of r.breakdown ?? [])
        process.stdout.write(`\n${cleanText(a.breakdown ?? "")} = ${cleanText(g.value)}\n${draw(g.steps)}\n`);
      if (r.trend?.length) {
        const marks = chartMarkers(
          r.annotations,
          r.trend.map((t) => t.t),
          answer.range.tz,
          width,
        );
        const chart = drawing.lineChart(
          [
            {
              label: "conversion %",
              values: r.trend.map((t) => (t.entered ? (100 * t.converted) / t.entered : 0)),
              incomplete: r.trend.map((t) => t.incomplete === true),
            },
          ],
          {
            width,
            height: 10 + (marks.markers.length ? 1 : 0),
            ...(marks.markers.length ? { markers: marks.markers } : {}),
            xLabels: timeLabels(
              r.trend.map((t) => t.t),
              trendInterval ?? "day",
              { tz: answer.range.tz },
            ),
            color,
          },
        );
        process.stdout.write(`\n${[...chart, ...marks.legend].join("\n")}\n`);
      }
      if (r.time_to_convert) {
        const t = r.time_to_convert;
        process.stdout.write(`\n${timeToConvertHead(t, estimate !== undefined)}\n`);
        if (t.bins.length)
          process.stdout.write(
            `${drawing
              .bars(
                t.bins.map((b) => ({
                  label: binLabel(b),
                  value: b.users,
                  note: formatPercent(b.users / t.count),
                })),
                { width, color, format: (v) => est(formatNumber(v)) },
              )
              .join("\n")}\n`,
          );
      }
    },
  );
}

/* ---------------- retention ---------------- */

export interface RetentionArgs extends CommonArgs {
  start: string;
  return?: string;
  period?: string;
  periods?: number;
  mode?: string;
  cohort?: string;
  value?: string;
  breakdown?: string;
}

export async function runRetention(a: RetentionArgs): Promise<void> {
  const start = parseEventRef(a.start);
  const ret = parseEventRef(a.return ?? "*");
  const period = parsePeriod(a.period ?? "week");
  const periods = a.periods ?? 8;
  const mode = a.mode ?? "on";
  if (mode !== "on" && mode !== "on-or-after") throw new UsageError("--mode is on or on-or-after");
  const cohort = a.cohort === undefined ? "first" : parseCohortRule(a.cohort);
  const value = a.value === undefined ? undefined : nonEmptyKey(a.value, "--value");
  const byCohort = parseCohortBreakdown(a.breakdown);
  const breakdown =
    a.breakdown === undefined || byCohort ? undefined : nonEmptyKey(a.breakdown, "--breakdown");
  await analyze<RetentionResult>(
    a,
    (range) => ({
      kind: "retention",
      start,
      return: ret,
      period,
      periods,
      mode,
      range,
      filters: where(a),
      ...(cohort !== "first" ? { cohort } : {}),
      ...(value !== undefined ? { value } : {}),
      ...(breakdown !== undefined
        ? { breakdown, limit: a.usersOf === undefined ? (a.limit ?? RETENTION_BREAKDOWN_LIMIT) : undefined }
        : {}),
      ...(byCohort ? { cohortBreakdown: byCohort } : {}),
    }),
    (r, answer) => {
      const width = termWidth();
      const color = drawing.useColor(process.env, process.stdout);
      const rule = r.cohort === "recurring" ? ", recurring cohorts" : "";
      // The title is prose: wrapped to the width, as the grid is laid out in it.
      const title = `${r.mode} retention by ${r.period}${rule}, ${rangeText(answer)}; * = incomplete, blank = not begun yet`;
      process.stdout.write(`${drawing.wrapText(title, width).join("\n")}\n`);
      process.stdout.write(`${drawing.retentionGrid(r, { width, color, tz: answer.range.tz }).join("\n")}\n`);
      for (const g of r.breakdown ?? []) {
        const table = { ...r, cohorts: g.cohorts, average: g.average as number[] };
        process.stdout.write(
          `\n${byCohort ? "cohort: " : `${cleanText(breakdown ?? "")} = `}${cleanText(g.value)}\n${drawing.retentionGrid(table, { width, color, tz: answer.range.tz }).join("\n")}\n`,
        );
      }
      if (value !== undefined) {
        process.stdout.write(`\n${cleanText(value)} per period (sum over the RETURN events counted)\n`);
        process.stdout.write(
          drawing.textTable(
            [
              { title: "cohort" },
              ...Array.from({ length: periods }, (_, n) => ({ title: `${n}`, align: "right" as const })),
            ],
            r.cohorts.map((c) => [
              cleanText(timeLabel(c.cohort, r.period, { tz: answer.range.tz })),
              ...(c.value ?? []).map((v) => est(num(v))),
            ]),
            width,
          ),
        );
      }
      const known = r.average.slice(0, r.average.indexOf(null) >>> 0) as number[];
      const avg = known.map((x) => 100 * x);
      if (avg.length > 1) {
        const chart = drawing.lineChart([{ label: "average retention %", values: avg }], {
          width,
          height: 10,
          xLabels: avg.map((_, i) => `${r.period} ${i}`),
          color,
        });
        process.stdout.write(`\n${chart.join("\n")}\n`);
      }
    },
  );
}

function short(iso: string | null): string {
  return iso ? iso.slice(0, 16).replace("T", " ") : "";
}

/** `funnel within 1h`, or e.g. `strict funnel within 1h (excluding X@1-3; holding plan)`. */
function funnelModeText(r: FunnelResult, head: string): string {
  const order = r.order === "ordered" ? "" : r.order === "any" ? "any-order " : `${r.order} `;
  const modes = [
    ...(r.exclude.length ? [`excluding ${r.exclude.join(", ")}`] : []),
    ...(r.hold !== null ? [`holding ${r.hold}`] : []),
  ];
  return `${order}${head}${modes.length ? ` (${modes.join("; ")})` : ""}`;
}

function nonEmptyKey(text: string, flag: string): string {
  if (!text.trim()) throw new UsageError(`${flag} needs a property key`);
  return text.trim();
}

function num(v: number): string {
  if (Number.isNaN(v)) return "–";
  return Number.isInteger(v) ? fmtInt(v) : v.toFixed(2);
}
