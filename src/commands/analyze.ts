import { Executor, validateSpec } from "../queries/executor.js";
import { flatten } from "../queries/flatten.js";
import {
  parseDate,
  parseDuration,
  parseEventRef,
  parseFilter,
  parseInterval,
  parseMeasure,
  parsePeriod,
  parseZone,
  UsageError,
} from "../queries/parse.js";
import type {
  AnalysisSpec,
  CatalogResult,
  DateRange,
  FunnelResult,
  FunnelStepResult,
  PropsResult,
  RetentionResult,
  TrendResult,
} from "../queries/spec.js";
import { bars, useColor as colorEnabled, lineChart, retentionGrid } from "../render/charts.js";
import { formatDuration, formatPercent, timeLabels } from "../render/format.js";
import { cleanText } from "../render/sanitize.js";
import { fmtInt, textTable, toCsv } from "../render/table.js";
import { formatOf, printJson, termWidth } from "./output.js";
import { openForRead } from "./status.js";

export interface CommonArgs {
  cache?: string;
  json?: boolean;
  csv?: boolean;
  from?: string;
  to?: string;
  tz?: string;
  where?: string[];
}

const list = (v: string | string[] | undefined): string[] =>
  v === undefined ? [] : Array.isArray(v) ? v : [v];

/**
 * Shared shape of every analysis command: open the cache read-only, resolve the date range,
 * validate, run through the one engine, print.
 */
async function analyze<R>(
  a: CommonArgs,
  makeSpec: (range: DateRange) => AnalysisSpec,
  print: (result: R, range: DateRange) => void,
): Promise<void> {
  const from = a.from === undefined ? undefined : parseDate(a.from);
  const to = a.to === undefined ? undefined : parseDate(a.to);
  const tz = parseZone(a.tz ?? "UTC");
  const cache = await openForRead(a.cache);
  const ex = new Executor(cache);
  try {
    const cached = await ex.cachedRange(tz);
    if (!cached) throw new UsageError("the cache has no events; run `evx sync SOURCE` first");
    for (const d of [from, to])
      if (d !== undefined && (d < cached.from || d > cached.to))
        throw new UsageError(
          `${d} is outside the cached range ${cached.from} .. ${cached.to} (${tz}); sync it first`,
        );
    const range = await ex.resolveRange({ from, to, tz });
    const spec = makeSpec(range);
    await validateSpec(cache, spec);
    const { result } = await ex.run(spec);
    if (a.csv && !a.json) {
      const t = flatten(spec, result);
      process.stdout.write(toCsv(t.columns, t.rows));
      return;
    }
    print(result as R, range);
  } finally {
    ex.close();
    cache.close();
  }
}

function where(a: CommonArgs) {
  return list(a.where).map(parseFilter);
}

/* ---------------- events / props ---------------- */

export async function runEvents(a: CommonArgs): Promise<void> {
  await analyze<CatalogResult>(
    a,
    (range) => ({ kind: "catalog", range }),
    (r) => {
      const f = formatOf(a);
      if (f === "json") return printJson(r);
      const _rows = r.events.map((e) => [e.event_type, e.events, e.users, e.first_seen, e.last_seen]);
      process.stdout.write(
        textTable(
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
      const f = formatOf(a);
      if (f === "json") return printJson(r);
      const top = (p: PropsResult["props"][number]) =>
        p.top.map((t) => `${t.value} (${fmtInt(t.events)})`).join(", ");
      process.stdout.write(`${cleanText(r.event)}: ${fmtInt(r.events)} events\n`);
      process.stdout.write(
        textTable(
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
}

export async function runTrend(a: TrendArgs): Promise<void> {
  const events = list(a.events).map(parseEventRef);
  if (!events.length) throw new UsageError("name at least one event");
  const measure = parseMeasure(a.measure ?? "events");
  const interval = parseInterval(a.interval ?? "day");
  await analyze<TrendResult>(
    a,
    (range) => ({
      kind: "trend",
      events,
      measure,
      interval,
      range,
      filters: where(a),
      breakdown: a.breakdown,
      limit: a.limit ?? 10,
    }),
    (r, range) => {
      const f = formatOf(a);
      if (f === "json") return printJson(r);
      const label = (s: TrendResult["series"][number]) =>
        s.breakdown === null ? s.event : `${s.event} · ${s.breakdown}`;
      const width = termWidth();
      const instants = r.series[0]?.points.map((p) => p.t) ?? [];
      const chart = lineChart(
        r.series.map((s) => ({ label: label(s), values: s.points.map((p) => p.value) })),
        {
          width,
          height: 14,
          xLabels: timeLabels(instants, interval, { tz: range.tz }),
          color: colorEnabled(process.env, process.stdout),
        },
      );
      process.stdout.write(
        `${r.measure} per ${r.interval}, ${range.from} .. ${range.to} (${range.tz})\n${chart.join("\n")}\n\n`,
      );
      process.stdout.write(
        textTable(
          [
            { title: "series", max: 50 },
            { title: "total", align: "right" },
            ...lastPoints(r).map((t) => ({ title: t, align: "right" as const })),
          ],
          r.series.map((s) => [
            label(s),
            num(s.total),
            ...s.points.slice(-lastPoints(r).length).map((p) => num(p.value)),
          ]),
          width,
        ),
      );
    },
  );
}

/** Headers for the last few buckets shown beside each series' total. */
function lastPoints(r: TrendResult): string[] {
  const pts = r.series[0]?.points ?? [];
  const n = Math.max(0, Math.min(pts.length, Math.floor((termWidth() - 70) / 10)));
  return pts
    .slice(pts.length - n)
    .map((p) => p.t.slice(5, r.interval === "hour" ? 13 : 10).replace("T", " "));
}

/* ---------------- funnel ---------------- */

export interface FunnelArgs extends CommonArgs {
  steps: string[];
  within: string;
  breakdown?: string;
  limit?: number;
  interval?: string;
}

export async function runFunnel(a: FunnelArgs): Promise<void> {
  const steps = list(a.steps).map(parseEventRef);
  if (steps.length < 2) throw new UsageError("a funnel needs at least two steps");
  const withinSeconds = parseDuration(a.within);
  let trendInterval: "day" | "week" | undefined;
  if (a.interval !== undefined) {
    if (a.interval !== "day" && a.interval !== "week")
      throw new UsageError("--interval for funnels is day or week");
    trendInterval = a.interval;
  }
  await analyze<FunnelResult>(
    a,
    (range) => ({
      kind: "funnel",
      steps,
      withinSeconds,
      range,
      filters: where(a),
      breakdown: a.breakdown,
      limit: a.limit ?? 10,
      trendInterval,
    }),
    (r, range) => {
      const f = formatOf(a);
      if (f === "json") return printJson(r);
      const width = termWidth();
      const color = colorEnabled(process.env, process.stdout);
      process.stdout.write(
        `funnel within ${formatDuration(r.within_seconds)}, ${range.from} .. ${range.to} (${range.tz})\n`,
      );
      const draw = (ss: FunnelStepResult[]) =>
        bars(
          ss.map((s, i) => ({
            label: `${i + 1}. ${s.step}`,
            value: s.users,
            note: [
              formatPercent(s.conversion).padStart(6),
              (i ? `↳${formatPercent(s.from_previous)}` : "").padStart(7),
              s.median_seconds === null ? "" : formatDuration(s.median_seconds),
            ].join("  "),
          })),
          { width, color },
        ).join("\n");
      process.stdout.write(`${draw(r.steps)}\n`);
      for (const g of r.breakdown ?? [])
        process.stdout.write(`\n${cleanText(a.breakdown ?? "")} = ${cleanText(g.value)}\n${draw(g.steps)}\n`);
      if (r.trend?.length) {
        const chart = lineChart(
          [
            {
              label: "conversion %",
              values: r.trend.map((t) => (t.entered ? (100 * t.converted) / t.entered : 0)),
            },
          ],
          {
            width,
            height: 10,
            xLabels: timeLabels(
              r.trend.map((t) => t.t),
              trendInterval ?? "day",
              { tz: range.tz },
            ),
            color,
          },
        );
        process.stdout.write(`\n${chart.join("\n")}\n`);
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
}

export async function runRetention(a: RetentionArgs): Promise<void> {
  const start = parseEventRef(a.start);
  const ret = parseEventRef(a.return ?? "*");
  const period = parsePeriod(a.period ?? "week");
  const periods = a.periods ?? 8;
  const mode = a.mode ?? "on";
  if (mode !== "on" && mode !== "on-or-after") throw new UsageError("--mode is on or on-or-after");
  await analyze<RetentionResult>(
    a,
    (range) => ({ kind: "retention", start, return: ret, period, periods, mode, range, filters: where(a) }),
    (r, range) => {
      const f = formatOf(a);
      if (f === "json") return printJson(r);
      const width = termWidth();
      const color = colorEnabled(process.env, process.stdout);
      process.stdout.write(
        `${r.mode} retention by ${r.period}, ${range.from} .. ${range.to} (${range.tz}); * = incomplete\n`,
      );
      process.stdout.write(`${retentionGrid(r, { width, color, tz: range.tz }).join("\n")}\n`);
      const known = r.average.slice(0, r.average.indexOf(null) >>> 0) as number[];
      const avg = known.map((x) => 100 * x);
      if (avg.length > 1) {
        const chart = lineChart([{ label: "average retention %", values: avg }], {
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

function num(v: number): string {
  return Number.isInteger(v) ? fmtInt(v) : v.toFixed(2);
}
