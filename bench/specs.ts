import type { AnalysisSpec, CohortDef, DateRange, Filter, TrendSpec } from "../src/queries/spec.js";

/** The last 14 days of a date range (issue #15's stickiness and lifecycle budgets are for 14 days). */
function last14(range: DateRange): DateRange {
  const to = Date.parse(`${range.to}T00:00:00Z`);
  if (Number.isNaN(to)) return range;
  const from = new Date(Math.max(Date.parse(`${range.from}T00:00:00Z`), to - 13 * 86_400_000));
  return { ...range, from: from.toISOString().slice(0, 10) };
}

/** The behavioural cohorts the bench saves in its cache: users with 3+ file_saved over all history. */
export const BENCH_COHORTS: Record<string, CohortDef> = {
  savers: {
    kind: "behavioural",
    conditions: [{ did: true, event: { event: "file_saved", filters: [] }, atLeast: 3 }],
  },
};

/**
 * Saves the bench's cohorts in the cache at `path` (as a writer) unless saved with the same
 * definition, and has the cache evaluate them, as `evx cohort save` does.
 */
export async function keepBenchCohorts(path: string): Promise<void> {
  const { Cache } = await import("../src/cache/db.js");
  const { cacheCohortStore, saveBehavioural } = await import("../src/cache/cohorts.js");
  const { refreshCohortMemos } = await import("../src/cache/cohortmemo.js");
  const cache = await Cache.open(path, { local: true });
  try {
    const saved = await cacheCohortStore(cache).list();
    for (const [name, def] of Object.entries(BENCH_COHORTS)) {
      const same = saved.find((c) => c.name === name && JSON.stringify(c.def) === JSON.stringify(def));
      if (!same) await saveBehavioural(cache, name, def);
    }
    await refreshCohortMemos(cache);
  } finally {
    cache.close();
  }
}

/**
 * The analyses the benchmark times (issue #5's list). `base` names the analysis an entry extends: the
 * bench reports the ratio (issue #27: each extension within 1.5× of its base).
 */
export function specs(range: DateRange): { name: string; spec: AnalysisSpec; base?: string }[] {
  const ev = (event: string, filters: Filter[] = []) => ({ event, filters });
  const trend = (event: string, measure: "users" | "events"): TrendSpec => ({
    kind: "trend",
    events: [ev(event)],
    measure: { kind: measure },
    interval: "day",
    range,
    filters: [],
    limit: 10,
  });
  // `savers` is saved in the bench's cache (`keepBenchCohorts`), so the cache keeps it evaluated;
  // `savers_eval` has the same definition but is not saved: every run evaluates it.
  const cohortFilter = (name: string): Filter => ({
    key: "cohort",
    op: "=",
    value: name,
    cohort: { name, def: BENCH_COHORTS.savers },
  });
  const savers = cohortFilter("savers");
  /** "funnel 3 steps 1d" with `filters`. */
  const funnel3 = (filters: Filter[]): AnalysisSpec => ({
    kind: "funnel",
    steps: [ev("application_opened"), ev("button_clicked"), ev("file_saved")],
    withinSeconds: 86400,
    range,
    filters,
    limit: 10,
  });
  const saversEval = cohortFilter("savers_eval");
  return [
    { name: "catalog", spec: { kind: "catalog", range } },
    { name: "trend users/day", spec: trend("application_opened", "users") },
    { name: "trend events/day", spec: trend("button_clicked", "events") },
    { name: "trend breakdown", spec: { ...trend("button_clicked", "events"), breakdown: "button_name" } },
    // Issue #27: a 3-series formula, p95, rolling WAU; each against the analysis it extends.
    {
      name: "trend 3 series",
      spec: {
        ...trend("error_shown", "events"),
        events: [ev("error_shown"), ev("application_opened"), ev("file_saved")],
      },
    },
    {
      name: "trend 3-series formula",
      spec: {
        ...trend("error_shown", "events"),
        events: [ev("error_shown"), ev("application_opened"), ev("file_saved")],
        formula: "A/(B+C)*100",
      },
      base: "trend 3 series",
    },
    {
      name: "trend avg/day",
      spec: { ...trend("application_closed", "events"), measure: { kind: "avg", key: "duration_s" } },
    },
    {
      name: "trend p95/day",
      spec: {
        ...trend("application_closed", "events"),
        measure: { kind: "stat", stat: "p95", key: "duration_s" },
      },
      base: "trend avg/day",
    },
    {
      name: "trend rolling WAU",
      spec: { ...trend("application_opened", "users"), rollingSeconds: 7 * 86_400 },
      base: "trend users/day",
    },
    {
      name: "funnel 3 steps 1d",
      spec: {
        kind: "funnel",
        steps: [ev("application_opened"), ev("button_clicked"), ev("file_saved")],
        withinSeconds: 86400,
        range,
        filters: [],
        limit: 10,
      },
    },
    // Issue #27: time to convert extends "funnel 3 steps 1d" (budget: within 1.5× of it).
    {
      name: "funnel 3 steps 1d time to convert",
      spec: {
        kind: "funnel",
        steps: [ev("application_opened"), ev("button_clicked"), ev("file_saved")],
        withinSeconds: 86400,
        range,
        filters: [],
        limit: 10,
        timeToConvert: { from: 1, to: 3 },
      },
      base: "funnel 3 steps 1d",
    },
    {
      name: "funnel 5 steps 7d filter",
      spec: {
        kind: "funnel",
        steps: [
          ev("application_opened"),
          ev("button_clicked", [{ key: "button_name", op: "=", value: "save" }]),
          ev("file_saved"),
          ev("zoom"),
          ev("application_closed"),
        ],
        withinSeconds: 7 * 86400,
        range,
        filters: [],
        limit: 10,
      },
    },
    // Issue #27: a behavioural cohort filter on "trend users/day" and "funnel 3 steps 1d" (budget:
    // within 1.5× of each): users with 3+ file_saved, kept evaluated by the cache, then evaluated in
    // the statement as an unsaved cohort would be.
    {
      name: "trend users/day cohort filter",
      spec: { ...trend("application_opened", "users"), filters: [savers] },
      base: "trend users/day",
    },
    {
      name: "funnel 3 steps 1d cohort filter",
      spec: funnel3([savers]),
      base: "funnel 3 steps 1d",
    },
    {
      name: "trend users/day cohort filter, evaluated",
      spec: { ...trend("application_opened", "users"), filters: [saversEval] },
      base: "trend users/day",
    },
    {
      name: "funnel 3 steps 1d cohort filter, evaluated",
      spec: funnel3([saversEval]),
      base: "funnel 3 steps 1d",
    },
    {
      name: "retention weekly 8",
      spec: {
        kind: "retention",
        start: ev("application_opened"),
        return: ev("*"),
        period: "week",
        periods: 8,
        mode: "on",
        range,
        filters: [],
      },
    },
    // Issue #15 (budgets at 20M: paths ≤ 2 s, stickiness ≤ 1 s, lifecycle ≤ 1.5 s).
    {
      name: "paths after d4",
      spec: {
        kind: "paths",
        anchor: ev("application_opened"),
        direction: "after",
        depth: 4,
        top: 5,
        collapse: true,
        range,
        filters: [],
      },
    },
    {
      name: "stickiness day 14d",
      spec: {
        kind: "stickiness",
        event: ev("application_opened"),
        interval: "day",
        range: last14(range),
        filters: [],
      },
    },
    {
      name: "lifecycle day 14d",
      spec: {
        kind: "lifecycle",
        event: ev("application_opened"),
        interval: "day",
        range: last14(range),
        filters: [],
      },
    },
  ];
}
