import type {
  AnalysisSpec,
  CatalogResult,
  FunnelResult,
  FunnelStepResult,
  PropsResult,
  RetentionResult,
  TrendResult,
} from "./spec.js";

export interface FlatTable {
  columns: string[];
  rows: unknown[][];
}

/**
 * A result as one flat table: the `--csv` output and the TUI's CSV export, so both agree cell for cell.
 */
export function flatten(spec: AnalysisSpec | undefined, result: unknown): FlatTable {
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
        columns: ["event", "key", "type", "events", "presence", "top_values"],
        rows: r.props.map((p) => [
          r.event,
          p.key,
          p.type,
          p.events,
          p.presence,
          p.top.map((t) => `${t.value} (${t.events})`).join("; "),
        ]),
      };
    }
    case "trend": {
      const r = result as TrendResult;
      return {
        columns: ["event", "breakdown", "t", "value"],
        rows: r.series.flatMap((s) => s.points.map((p) => [s.event, s.breakdown, p.t, p.value])),
      };
    }
    case "funnel": {
      const r = result as FunnelResult;
      const steps = (b: string | null, ss: FunnelStepResult[]) =>
        ss.map((s, i) => [
          "step",
          b,
          i + 1,
          s.step,
          s.users,
          s.conversion,
          s.from_previous,
          s.median_seconds,
          null,
          null,
          null,
        ]);
      return {
        columns: [
          "section",
          "breakdown",
          "step_index",
          "step",
          "users",
          "conversion",
          "from_previous",
          "median_seconds",
          "t",
          "entered",
          "converted",
        ],
        rows: [
          ...steps(null, r.steps),
          ...(r.breakdown ?? []).flatMap((g) => steps(g.value, g.steps)),
          ...(r.trend ?? []).map((t) => [
            "trend",
            null,
            null,
            null,
            null,
            null,
            null,
            null,
            t.t,
            t.entered,
            t.converted,
          ]),
        ],
      };
    }
    case "retention": {
      const r = result as RetentionResult;
      return {
        columns: ["cohort", "users", "period", "retained", "rate", "complete"],
        rows: r.cohorts.flatMap((c) =>
          c.retained.map((n, i) => [
            c.cohort,
            c.users,
            i,
            n,
            c.users ? n / c.users : null,
            c.incomplete_from === null || i < c.incomplete_from,
          ]),
        ),
      };
    }
    default:
      return { columns: [], rows: [] };
  }
}
