import type { AnalysisSpec, DateRange, Filter, TrendSpec } from "../src/queries/spec.js";

/** The analyses the benchmark times (issue #5's list). */
export function specs(range: DateRange): { name: string; spec: AnalysisSpec }[] {
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
  return [
    { name: "catalog", spec: { kind: "catalog", range } },
    { name: "trend users/day", spec: trend("application_opened", "users") },
    { name: "trend events/day", spec: trend("button_clicked", "events") },
    { name: "trend breakdown", spec: { ...trend("button_clicked", "events"), breakdown: "button_name" } },
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
  ];
}
