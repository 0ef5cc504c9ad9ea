/**
 * A spec → the `evx` command line that answers it headless: the inverse of the CLI's flag parsing
 * (`parse.ts`). `evx … --print-command` prints it for a parsed command line (normalized: defaults
 * written out, filters and event references in their canonical text), and the TUI's `y` copies it for
 * the screen's answer. Running the line with `--json` gives the same numbers as the spec (tests run
 * it). Pure: no Ink, no engine.
 */
import { formatEventRef, formatExclusion, formatFilter, formatMeasure } from "./parse.js";
import { sampleOf, sampleText } from "./sample.js";
import type { AnalysisSpec, DateRange, UserSelection, UsersSpec } from "./spec.js";

export interface CommandOptions {
  /**
   * The range as a `--last` duration in seconds: a relative range stays relative (`--last 6h`), so the
   * command keeps ending at the newest data. Otherwise the range's bounds are written out.
   */
  last?: number;
  /** Flags that say where the data is (`--cache PATH`, `--engine clickhouse --ch-table T`), first. */
  source?: readonly string[];
  /** Output flags appended at the end (`--json`). */
  output?: readonly string[];
}

/** `3600` → `1h`, `90` → `90s`: the largest unit that divides the seconds (parseDuration reads it back). */
export function durationFlag(seconds: number): string {
  for (const [unit, n] of [
    ["w", 604_800],
    ["d", 86_400],
    ["h", 3600],
    ["m", 60],
  ] as const) {
    if (seconds >= n && seconds % n === 0) return `${seconds / n}${unit}`;
  }
  return `${seconds}s`;
}

/** An ISO instant (`…Z`) → the local date-time in `tz` (`YYYY-MM-DDTHH:MM:SS`), as `--from`/`--to` take it. */
function localBound(bound: string, tz: string): string {
  if (!/[zZ]$/.test(bound)) return bound;
  const d = new Date(bound);
  const parts = new Intl.DateTimeFormat("en-CA", {
    timeZone: tz,
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
    hourCycle: "h23",
  }).formatToParts(d);
  const p = (t: string) => parts.find((x) => x.type === t)?.value ?? "00";
  return `${p("year")}-${p("month")}-${p("day")}T${p("hour")}:${p("minute")}:${p("second")}`;
}

function rangeFlags(range: DateRange, opts: CommandOptions): string[] {
  const out =
    opts.last !== undefined
      ? ["--last", durationFlag(opts.last)]
      : ["--from", localBound(range.from, range.tz), "--to", localBound(range.to, range.tz)];
  if (range.tz !== "UTC") out.push("--tz", range.tz);
  return out;
}

function selectionText(s: UserSelection): string {
  switch (s.kind) {
    case "reached":
    case "dropped":
      return `${s.kind}:${s.step}`;
    case "bucket":
      return s.t;
    case "cohort":
      return `${s.cohort}:${s.period}${s.lost ? ":lost" : ""}`;
    case "path":
      return JSON.stringify(s.path);
  }
}

/** The words after `evx` (not quoted) for a spec; throws for a spec no command answers. */
export function commandArgs(spec: AnalysisSpec, opts: CommandOptions = {}): string[] {
  const where = (fs: { key: string }[]) =>
    (fs as Parameters<typeof formatFilter>[0][]).flatMap((f) => ["--where", formatFilter(f)]);
  // `--sample P%` (a drill-down's comes from its analysis's command).
  const rate = spec.kind === "users" ? undefined : sampleOf(spec);
  const tail = (range: DateRange | undefined) => [
    ...(rate !== undefined ? ["--sample", sampleText(rate)] : []),
    ...(range ? rangeFlags(range, opts) : []),
    ...(opts.source ?? []),
    ...(opts.output ?? []),
  ];
  switch (spec.kind) {
    case "catalog":
      return ["events", ...tail(spec.range)];
    case "props":
      return ["props", spec.event, "--top", String(spec.topValues), ...tail(spec.range)];
    case "trend":
      return [
        "trend",
        ...spec.events.map(formatEventRef),
        "--measure",
        formatMeasure(spec.measure),
        "--interval",
        spec.interval,
        ...(spec.breakdown !== undefined
          ? ["--breakdown", spec.breakdown, "--limit", String(spec.limit)]
          : []),
        ...(spec.compare ? ["--compare", spec.compare] : []),
        ...(spec.annotationsFrom !== undefined ? ["--annotations-from", spec.annotationsFrom] : []),
        ...where(spec.filters),
        ...tail(spec.range),
      ];
    case "funnel":
      return [
        "funnel",
        ...spec.steps.map(formatEventRef),
        "--within",
        durationFlag(spec.withinSeconds),
        ...(spec.order && spec.order !== "ordered" ? ["--order", spec.order] : []),
        ...(spec.exclude ?? []).flatMap((x) => ["--exclude", formatExclusion(x)]),
        ...(spec.hold !== undefined ? ["--hold", spec.hold] : []),
        ...(spec.value !== undefined ? ["--value", spec.value] : []),
        ...(spec.breakdown !== undefined
          ? ["--breakdown", spec.breakdown, "--limit", String(spec.limit)]
          : []),
        ...(spec.trendInterval ? ["--interval", spec.trendInterval] : []),
        ...(spec.trendInterval && spec.annotationsFrom !== undefined
          ? ["--annotations-from", spec.annotationsFrom]
          : []),
        ...(spec.compare ? ["--compare", spec.compare] : []),
        ...where(spec.filters),
        ...tail(spec.range),
      ];
    case "retention":
      return [
        "retention",
        formatEventRef(spec.start),
        formatEventRef(spec.return),
        "--period",
        spec.period,
        "--periods",
        String(spec.periods),
        "--mode",
        spec.mode,
        ...(spec.cohort && spec.cohort !== "first" ? ["--cohort", spec.cohort] : []),
        ...(spec.value !== undefined ? ["--value", spec.value] : []),
        ...where(spec.filters),
        ...tail(spec.range),
      ];
    case "paths":
      return [
        "paths",
        `--${spec.direction}`,
        formatEventRef(spec.anchor),
        "--depth",
        String(spec.depth),
        "--top",
        String(spec.top),
        ...(spec.withinSeconds !== undefined ? ["--within", durationFlag(spec.withinSeconds)] : []),
        ...(spec.collapse ? [] : ["--no-collapse"]),
        ...where(spec.filters),
        ...tail(spec.range),
      ];
    case "stickiness":
    case "lifecycle":
      return [
        spec.kind,
        formatEventRef(spec.event),
        "--interval",
        spec.interval,
        ...where(spec.filters),
        ...tail(spec.range),
      ];
    case "users": {
      const inner = commandArgs(spec.of as UsersSpec["of"], { ...opts, source: [], output: [] });
      return [
        ...inner,
        "--users-of",
        selectionText(spec.select),
        "--limit",
        String(spec.limit),
        ...(opts.source ?? []),
        ...(opts.output ?? []),
      ];
    }
    case "timeline":
      return [
        "user",
        spec.user,
        "--limit",
        String(spec.limit),
        ...spec.events.flatMap((e) => ["--event", e]),
        ...tail(spec.range),
      ];
  }
}

/** A word as a POSIX shell reads it back: bare when safe, else single-quoted. */
export function shellWord(w: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(w)) return w;
  return `'${w.replace(/'/g, `'\\''`)}'`;
}

/** The whole command line, `evx …`, quoted for a POSIX shell. */
export function commandLine(spec: AnalysisSpec, opts: CommandOptions = {}): string {
  return ["evx", ...commandArgs(spec, opts)].map(shellWord).join(" ");
}
