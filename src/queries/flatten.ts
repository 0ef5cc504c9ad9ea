import { annotationCells } from "./annotations.js";
import { jsonKeepingNumbers } from "./jsonnumber.js";
import type {
  AnalysisSpec,
  CatalogResult,
  FunnelResult,
  FunnelStepResult,
  LifecycleResult,
  PathsResult,
  PropsResult,
  RetentionResult,
  StickinessResult,
  TimelineResult,
  TrendResult,
  UsersResult,
} from "./spec.js";

export interface FlatTable {
  columns: string[];
  rows: unknown[][];
}

/**
 * A result as one flat table: the `--csv` output and the TUI's CSV export, so both agree cell for cell.
 */
export function flatten(spec: AnalysisSpec | undefined, result: unknown): FlatTable {
  let t = flattenOne(spec, result);
  const r = result as FunnelResult;
  if (spec?.kind === "funnel" && r.annotations && r.trend) {
    // A funnel over time with annotations: a last column holds the markers of each `trend` row's bucket.
    const cells = annotationCells(
      r.trend.map((p) => p.t),
      r.annotations,
    );
    t = {
      columns: [...t.columns, "annotations"],
      rows: t.rows.map((row) => [...row, row[0] === "trend" ? (cells.get(row[8] as string) ?? null) : null]),
    };
  }
  // A sampled result (docs/semantics.md, "Sampling"): every row says its numbers are estimates.
  const rate = (result as { sample?: number } | null)?.sample;
  if (rate === undefined) return t;
  return { columns: [...t.columns, "sample"], rows: t.rows.map((row) => [...row, rate]) };
}

function flattenOne(spec: AnalysisSpec | undefined, result: unknown): FlatTable {
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
      // With annotations (notes, --annotations-from), a last column holds the markers of each row's bucket.
      const cells = r.annotations
        ? annotationCells(r.series[0]?.points.map((p) => p.t) ?? [], r.annotations)
        : null;
      // With compare, each row also carries the compare period's value for the same bucket.
      // `complete` is false for an incomplete bucket (docs/semantics.md, "Partial data").
      const compare = r.series.some((s) => s.compare);
      return {
        columns: [
          "event",
          "breakdown",
          "t",
          "value",
          "complete",
          ...(compare ? ["compare_value", "compare_complete"] : []),
          ...(cells ? ["annotations"] : []),
        ],
        // A formula's rows come first, named `formula A/B*100` (their value empty where it is null).
        rows: [
          ...(r.formula?.series ?? []).map((s) => ({ ...s, event: `formula ${r.formula?.text}` })),
          ...r.series,
        ].flatMap((s) =>
          s.points.map((p, i) => {
            const c = s.compare?.points[i];
            return [
              s.event,
              s.breakdown,
              p.t,
              p.value,
              !p.incomplete,
              ...(compare ? [c?.value ?? null, c ? !c.incomplete : null] : []),
              ...(cells ? [cells.get(p.t) ?? null] : []),
            ];
          }),
        ),
      };
    }
    case "funnel": {
      const r = result as FunnelResult;
      const withValue = r.steps.some((s) => s.value !== undefined);
      // In any order a row counts any k of the steps: a last `label` column says so (`any 2 of 3`).
      const withLabel = r.order === "any";
      // With --time-to-convert: one `time_to_convert` row per bin (users, bin bounds) and one
      // `time_to_convert_stats` row (users = count, median, average, p90).
      const tt = r.time_to_convert;
      const ttcCols = tt ? ["bin_start_seconds", "bin_end_seconds", "average_seconds", "p90_seconds"] : [];
      const ttcNull = tt ? [null, null, null, null] : [];
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
          ...(withValue ? [s.value?.sum ?? null, s.value?.avg ?? null] : []),
          ...(withLabel ? [s.label ?? null] : []),
          ...(r.trend ? [null] : []),
          ...ttcNull,
        ]);
      const pad = (row: unknown[]) => [
        ...row,
        ...(withValue ? [null, null] : []),
        ...(withLabel ? [null] : []),
        ...(r.trend ? [null] : []),
      ];
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
          ...(withValue ? ["value_sum", "value_avg"] : []),
          ...(withLabel ? ["label"] : []),
          // Over time: false for an incomplete bucket (docs/semantics.md, "Partial data"); null on steps.
          ...(r.trend ? ["complete"] : []),
          ...ttcCols,
        ],
        rows: [
          ...steps(null, r.steps),
          ...(r.breakdown ?? []).flatMap((g) => steps(g.value, g.steps)),
          ...steps(null, r.compare?.steps ?? []).map((row) => ["compare", ...row.slice(1)]),
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
            ...(withValue ? [null, null] : []),
            ...(withLabel ? [null] : []),
            !t.incomplete,
            ...ttcNull,
          ]),
          ...(tt
            ? [
                [
                  ...pad([
                    "time_to_convert_stats",
                    null,
                    null,
                    `${tt.from_step}-${tt.to_step}`,
                    tt.count,
                    null,
                    null,
                    tt.median_seconds,
                    null,
                    null,
                    null,
                  ]),
                  null,
                  null,
                  tt.average_seconds,
                  tt.p90_seconds,
                ],
                ...tt.bins.map((b, i) => [
                  ...pad([
                    "time_to_convert",
                    null,
                    i + 1,
                    `${tt.from_step}-${tt.to_step}`,
                    b.users,
                    null,
                    null,
                    null,
                    null,
                    null,
                    null,
                  ]),
                  b.start_seconds,
                  b.end_seconds,
                  null,
                  null,
                ]),
              ]
            : []),
        ],
      };
    }
    case "retention": {
      const r = result as RetentionResult;
      const withValue = r.cohorts.some((c) => c.value !== undefined);
      // With a breakdown: a first `breakdown` column, empty on the whole's rows, then each value's rows.
      const by = r.breakdown !== undefined;
      const rowsOf = (b: string | null, cohorts: RetentionResult["cohorts"]) =>
        cohorts.flatMap((c) =>
          c.retained.map((n, i) => [
            ...(by ? [b] : []),
            c.cohort,
            c.users,
            i,
            n,
            c.users ? n / c.users : null,
            c.incomplete_from === null || i < c.incomplete_from,
            ...(withValue ? [c.value?.[i] ?? 0] : []),
          ]),
        );
      return {
        columns: [
          ...(by ? ["breakdown"] : []),
          "cohort",
          "users",
          "period",
          "retained",
          "rate",
          "complete",
          ...(withValue ? ["value"] : []),
        ],
        rows: [...rowsOf(null, r.cohorts), ...(r.breakdown ?? []).flatMap((g) => rowsOf(g.value, g.cohorts))],
      };
    }
    case "users": {
      const r = result as UsersResult;
      // `--limit 0` asks for the total only: one cell, not an empty list that hides it.
      if (spec.limit === 0) return { columns: ["total"], rows: [[r.total]] };
      return {
        columns: ["user_id", "events", "first_seen", "last_seen"],
        rows: r.users.map((u) => [u.user_id, u.events, u.first_seen, u.last_seen]),
      };
    }
    case "timeline": {
      const r = result as TimelineResult;
      if (spec.limit === 0) return { columns: ["user_id", "total"], rows: [[r.user_id, r.total]] };
      return {
        columns: ["user_id", "event_type", "event_time", "properties"],
        rows: r.events.map((e) => [r.user_id, e.event_type, e.event_time, jsonKeepingNumbers(e.properties)]),
      };
    }
    case "paths": {
      // One row per node; `path` is the JSON array (names may hold any character).
      const r = result as PathsResult;
      return {
        columns: ["anchor", "direction", "level", "path", "users", "share"],
        rows: r.nodes.map((n) => [
          r.anchor,
          r.direction,
          n.path.length,
          JSON.stringify(n.path),
          n.users,
          n.share,
        ]),
      };
    }
    case "stickiness": {
      const r = result as StickinessResult;
      return {
        columns: ["interval", "count", "users"],
        rows: r.histogram.map((h) => [r.interval, h.count, h.users]),
      };
    }
    case "lifecycle": {
      const r = result as LifecycleResult;
      return {
        // `complete` is false for an incomplete bucket (docs/semantics.md, "Partial data").
        columns: ["t", "new", "returning", "resurrecting", "dormant", "complete"],
        rows: r.points.map((p) => [p.t, p.new, p.returning, p.resurrecting, p.dormant, !p.incomplete]),
      };
    }
    default:
      return { columns: [], rows: [] };
  }
}
