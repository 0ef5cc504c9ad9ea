/**
 * Analysis specs: plain data that the CLI parses flags into and the TUI edits.
 * Every builder in src/queries turns one of these into {sql, params}.
 *
 * Semantics shared by every analysis (the brute-force reference in test/ implements the same):
 * - A property's *text* is: the string itself for JSON strings, the JSON text for numbers,
 *   booleans, objects and arrays (`1.5`, `true`, `{"a":1}`). JSON null and a missing key are "unset".
 * - A filter value "is numeric" when it matches /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.
 * - Filters (`key op value`):
 *   - `=`  : numeric value → TRY_CAST(text AS DOUBLE) = value; otherwise text = value. Unset never matches.
 *   - `!=` : NOT (`=`) — so an event where the key is unset matches `!=` (as PostHog's "is not").
 *   - `>` `>=` `<` `<=`: numeric comparison (non-numeric text never matches); the value must be
 *            numeric (`code>abc` is a usage error, issue #22). Unset never matches.
 *   - `~`  : case-insensitive substring of text. Unset never matches.
 *   - `in` : any of the comma-separated values under `=` rules.
 *   - `set`: key present and not JSON null. `!set`: the opposite.
 * - Ranges: `from`/`to` are dates (inclusive calendar days), local date-times or ISO instants in `tz`;
 *   docs/semantics.md has the exact rules.
 */

export type Op = "=" | "!=" | ">" | ">=" | "<" | "<=" | "~" | "in" | "set" | "!set";

/** The operators that compare numbers: their value must be numeric. */
export const NUMERIC_OPS: readonly Op[] = [">", ">=", "<", "<="];

/** A filter value that "is numeric" (compared as a number, see above). */
export const NUMERIC_VALUE = /^-?\d+(\.\d+)?([eE][-+]?\d+)?$/;

export interface Filter {
  key: string;
  op: Op;
  /** Raw value as typed; for `in` the comma-split list; absent for `set`/`!set`. */
  value?: string | string[];
  /**
   * `--where cohort=NAME` / `cohort!=NAME` (op `=` or `!=`, value NAME): the event's user is (not) in
   * the saved cohort, not a property test. `def` is filled from the cohort store before building.
   */
  cohort?: CohortRef;
}

/* ---------- behavioural cohorts (docs/semantics.md, "Cohorts") ---------- */

/** A saved cohort's name: letters, digits, `_`, `.`, `-`; 1..64 characters, not starting with `.`/`-`. */
export const COHORT_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** Where a behavioural condition looks: the last D before the data's end, or a fixed range. */
export type CohortWindow = { kind: "last"; seconds: number } | { kind: "range"; range: DateRange };

/** `--did EVENT[filter] --at-least N` or `--did-not EVENT[filter]`, over `window` (all data when absent). */
export interface CohortCondition {
  did: boolean;
  event: EventRef;
  /** With `did`: at least this many matching events (default 1). */
  atLeast: number;
  window?: CohortWindow;
}

export type CohortDef =
  /** Re-evaluated over the current data on every use. */
  | { kind: "behavioural"; conditions: CohortCondition[] }
  /** A saved list of user ids (from a drill-down); `users` counts them. */
  | { kind: "static"; users: number; table?: string };

export interface CohortRef {
  name: string;
  def?: CohortDef;
}

/** `EVENT` or `EVENT[KEY OP VALUE]`. `event` may be `*` (any event) where an analysis allows it. */
export interface EventRef {
  event: string;
  filters: Filter[];
}

export interface DateRange {
  /**
   * `YYYY-MM-DD` (the date's first instant in `tz`), `YYYY-MM-DDTHH:MM[:SS]` (a local date-time in `tz`)
   * or an ISO instant ending in `Z` (`--last`, compare periods).
   */
  from: string;
  /** As `from`; a date is inclusive (its next date's first instant), a date-time or instant exclusive. */
  to: string;
  /** IANA zone name, e.g. `UTC`, `Europe/Berlin`. */
  tz: string;
}

export const INTERVALS = ["minute", "5m", "15m", "hour", "day", "week", "month"] as const;
export type Interval = (typeof INTERVALS)[number];

/** `previous` = the range's length right before it; the others are fixed offsets. */
export const COMPARES = ["previous", "1d", "1w", "4w"] as const;
export type Compare = (typeof COMPARES)[number];

/** Order statistics of a trend measure (docs/semantics.md, "Trend"); `median` is `p50` under its own name. */
export const STATS = ["p50", "p90", "p95", "p99", "median", "min", "max"] as const;
export type Stat = (typeof STATS)[number];

/** The quantile level of a stat: `min` is 0, `max` is 1. */
export function statLevel(stat: Stat): number {
  switch (stat) {
    case "min":
      return 0;
    case "max":
      return 1;
    case "median":
      return 0.5;
    default:
      return Number(stat.slice(1)) / 100;
  }
}

export type Measure =
  | { kind: "events" }
  | { kind: "users" }
  | { kind: "per-user" }
  | { kind: "sum"; key: string }
  | { kind: "avg"; key: string }
  /** `p95:KEY` …: the stat of the key's finite numbers in the bucket. */
  | { kind: "stat"; stat: Stat; key: string }
  /** `per-user:p90` …: the stat of the users' event counts in the bucket. */
  | { kind: "per-user-stat"; stat: Stat };

/**
 * Who a user is (docs/semantics.md, "Identity"): `merged` counts persons (an anonymous id joins the
 * person it was identified as), `raw` each user id of the lake. Absent: `raw`. The CLI and the TUI
 * always set it (default: the cache's, `merged` when its lake has identity rules).
 */
export interface Identified {
  identity?: "merged" | "raw";
}

/**
 * `--sample P%` (docs/semantics.md, "Sampling"): the analysis reads only the users whose stable hash
 * falls in this share (0 < sample < 1; absent: everyone), and scales its counts back up.
 */
export interface Sampled {
  sample?: number;
}

/** Present on a sampled result: the rate (0.1 for `--sample 10%`); its counts are estimates (`≈`). */
export interface SampleMark {
  sample?: number;
}

export interface CatalogSpec extends Identified {
  kind: "catalog";
  range?: DateRange;
}

export interface PropsSpec extends Identified {
  kind: "props";
  event: string;
  /**
   * The keys of several event types together instead of `event`'s alone (the funnel's steps, for its
   * hold and value pickers); `*` among them: every event type. `event` still names the result.
   */
  events?: string[];
  range?: DateRange;
  /** Top values listed per key. */
  topValues: number;
  /** Also count, per key, the events whose property text is a finite number (`numbers`). */
  numbers?: boolean;
}

export interface TrendSpec extends Identified, Sampled {
  kind: "trend";
  /** One series per event (times breakdown values). */
  events: EventRef[];
  measure: Measure;
  interval: Interval;
  range: DateRange;
  /** `--where` filters applied to every event. */
  filters: Filter[];
  breakdown?: string;
  /** Top N breakdown values by total; the rest fold into "(other)". Default 10. */
  limit: number;
  /** Adds each series' values over the compare period. */
  compare?: Compare;
  /**
   * A formula over the series' per-bucket values (`A/B*100`; letters are `events` in order); the
   * result gains `formula` (docs/semantics.md, "Formulas").
   */
  formula?: string;
  /** Each point is the measure over a window of this many seconds (a whole number of buckets) ending with its bucket. */
  rollingSeconds?: number;
  /** Each point is the measure over the range's buckets up to and including its own. */
  cumulative?: boolean;
  /** `--breakdown cohort:A,B`: per event, a series of the users in each cohort and one of those not. */
  cohortBreakdown?: CohortRef[];
  /** `--annotations-from KEY`: mark where each value of KEY first appears (queries/annotations.ts). */
  annotationsFrom?: string;
}

/** How a funnel's steps must follow each other (docs/semantics.md, "Funnel order"). */
export const FUNNEL_ORDERS = ["ordered", "strict", "any"] as const;
export type FunnelOrder = (typeof FUNNEL_ORDERS)[number];

/** `--exclude EVENT[filter]@A-B`: an attempt with such an event between steps A and B is discarded. */
export interface Exclusion {
  event: EventRef;
  /** 1-based steps, from < to. */
  from: number;
  to: number;
}

export interface FunnelSpec extends Identified, Sampled {
  kind: "funnel";
  steps: EventRef[];
  withinSeconds: number;
  /** Default `ordered`. */
  order?: FunnelOrder;
  exclude?: Exclusion[];
  /** Property key whose text every matched step shares with step 1. */
  hold?: string;
  /** Property key summed over the matched step events (`value: {sum, avg}` per step). */
  value?: string;
  range: DateRange;
  filters: Filter[];
  /** Property key on the step-1 event. */
  breakdown?: string;
  limit: number;
  /** Adds conversion over time when set. */
  trendInterval?: Interval;
  /** Adds the funnel's steps over the compare period. */
  compare?: Compare;
  /** Adds the histogram of conversion times between two steps (`time_to_convert`). */
  timeToConvert?: TimeToConvertSpec;
  /** `--annotations-from KEY` (with `trendInterval`): mark where each value of KEY first appears. */
  annotationsFrom?: string;
}

/** `--time-to-convert [--from-step A --to-step B] [--bins N]` (docs/semantics.md, "Time to convert"). */
export interface TimeToConvertSpec {
  /** 1-based step the time is measured from (default 1). */
  from: number;
  /** 1-based step the time is measured to (default the last step); from < to. */
  to: number;
  /** Number of bins, 1..90; automatic (⌈∛count⌉ clamped to 1..60) when absent. */
  bins?: number;
}

export type Period = "hour" | "day" | "week" | "month";

export interface RetentionSpec extends Identified, Sampled {
  kind: "retention";
  start: EventRef;
  /** `*` = any event. */
  return: EventRef;
  period: Period;
  periods: number;
  mode: "on" | "on-or-after";
  /** `first` (default): the cohort of a user's first START; `recurring`: every bucket with a START. */
  cohort?: RetentionCohortRule;
  /** Property key summed over the RETURN events behind each cell (`value[n]` per cohort). */
  value?: string;
  range: DateRange;
  filters: Filter[];
  /** Property key of the START event that put the user in the cohort: one table per value. */
  breakdown?: string;
  /** Top N breakdown values by users; the rest fold into "(other)". Default 5. */
  limit?: number;
  /** `--breakdown cohort:A,B`: per cohort, a table of its users' memberships and one of the others'. */
  cohortBreakdown?: CohortRef[];
}

export const COHORT_RULES = ["first", "recurring"] as const;
export type RetentionCohortRule = (typeof COHORT_RULES)[number];

/** Which users of an analysis a drill-down lists (docs/semantics.md, "Drill-down"). */
export type UserSelection =
  /** Funnel: users whose furthest step is ≥ step. */
  | { kind: "reached"; step: number }
  /** Funnel: users who reached step − 1 but not step (step ≥ 2). */
  | { kind: "dropped"; step: number }
  /** Trend: users with a matching event in the bucket that starts at `t` (an ISO instant). */
  | { kind: "bucket"; t: string }
  /** Retention: users of the cohort starting at `cohort` (ISO) retained at `period`, or not (`lost`). */
  | { kind: "cohort"; cohort: string; period: number; lost: boolean }
  /** Paths: the users of a tree node (a path prefix; one ending in `(other)` is the folded rest). */
  | { kind: "path"; path: string[] };

/** The users behind a number of another analysis. */
export interface UsersSpec extends Identified {
  kind: "users";
  of: TrendSpec | FunnelSpec | RetentionSpec | PathsSpec;
  select: UserSelection;
  /** Users listed at most (`total` always counts all). */
  limit: number;
  /** The analysis's range (the same object as `of.range`). */
  range: DateRange;
}

/** One user's events in time order. */
export interface TimelineSpec extends Identified {
  kind: "timeline";
  user: string;
  range: DateRange;
  /** Only these event types (all when empty). */
  events: string[];
  limit: number;
}

/* ---------- paths, stickiness, lifecycle (issue #15; docs/semantics.md) ---------- */

export const PATH_DIRECTIONS = ["after", "before"] as const;
export type PathDirection = (typeof PATH_DIRECTIONS)[number];

/** What users do after (or did before) their first (last) ANCHOR event in the range. */
export interface PathsSpec extends Identified, Sampled {
  kind: "paths";
  anchor: EventRef;
  direction: PathDirection;
  /** Events per path, 1..10. */
  depth: number;
  /** Children per node that get their own node, 1..50; the rest fold into `(other)`. */
  top: number;
  /** Only events within this many seconds of the anchor (inclusive); none = no limit. */
  withinSeconds?: number;
  /** Consecutive events of one type count once (default true). */
  collapse: boolean;
  range: DateRange;
  filters: Filter[];
}

export const STICKINESS_INTERVALS = ["hour", "day", "week"] as const;
export type StickinessInterval = (typeof STICKINESS_INTERVALS)[number];

/** How many buckets of the range each user was active in. */
export interface StickinessSpec extends Identified, Sampled {
  kind: "stickiness";
  event: EventRef;
  interval: StickinessInterval;
  range: DateRange;
  filters: Filter[];
}

export const LIFECYCLE_INTERVALS = ["day", "week", "month"] as const;
export type LifecycleInterval = (typeof LIFECYCLE_INTERVALS)[number];

/** Per bucket: new, returning, resurrecting and dormant users of one event. */
export interface LifecycleSpec extends Identified, Sampled {
  kind: "lifecycle";
  event: EventRef;
  interval: LifecycleInterval;
  range: DateRange;
  filters: Filter[];
}

export type AnalysisSpec =
  | CatalogSpec
  | PropsSpec
  | TrendSpec
  | FunnelSpec
  | RetentionSpec
  | UsersSpec
  | TimelineSpec
  | PathsSpec
  | StickinessSpec
  | LifecycleSpec;

/* ---------- result shapes (the `--json` contract) ---------- */

/** The result type each spec kind produces. */
export type ResultOf<S extends AnalysisSpec> = S extends CatalogSpec
  ? CatalogResult
  : S extends PropsSpec
    ? PropsResult
    : S extends TrendSpec
      ? TrendResult
      : S extends FunnelSpec
        ? FunnelResult
        : S extends RetentionSpec
          ? RetentionResult
          : S extends UsersSpec
            ? UsersResult
            : S extends TimelineSpec
              ? TimelineResult
              : S extends PathsSpec
                ? PathsResult
                : S extends StickinessSpec
                  ? StickinessResult
                  : S extends LifecycleSpec
                    ? LifecycleResult
                    : never;

export interface CatalogRow {
  event_type: string;
  events: number;
  users: number;
  first_seen: string;
  last_seen: string;
}
export interface CatalogResult {
  events: CatalogRow[];
}

export interface PropValue {
  value: string;
  events: number;
}
export interface PropRow {
  key: string;
  /** Most common JSON type of the key: string | number | boolean | object | array. */
  type: string;
  events: number;
  /** Share of the event's rows that carry the key (0..1). */
  presence: number;
  top: PropValue[];
  /**
   * With `numbers`: the events whose text for the key is a finite number (cast as `--value` and numeric
   * filters cast it), so `--value KEY` has something to sum when it is > 0.
   */
  numbers?: number;
}
export interface PropsResult {
  event: string;
  events: number;
  props: PropRow[];
}

export interface TrendPoint {
  /** Bucket start as an ISO instant, e.g. 2023-06-01T00:00:00.000Z. */
  t: string;
  value: number;
  /** Present (true) when the range or the cache holds the bucket only in part (docs/semantics.md, "Partial data"). */
  incomplete?: true;
}
export interface TrendCompare {
  offset_seconds: number;
  /** `t` is the current bucket's start (the compare bucket's start shifted forward by the offset). */
  points: TrendPoint[];
  total: number;
  /** (total − compare.total) / compare.total; null when compare.total is 0 or nothing of the period is cached. */
  change: number | null;
  /** What the cache holds of the compare period (same shape as the result's `coverage`). */
  coverage?: Coverage;
  /** How much of the compare period the cache holds (docs/semantics.md, "Partial data"). */
  cached?: Cached;
}
export interface TrendSeries {
  event: string;
  breakdown: string | null;
  points: TrendPoint[];
  total: number;
  compare?: TrendCompare;
}
/** A formula's point: null where it divides by zero (or its value is not finite). */
export interface FormulaPoint {
  t: string;
  value: number | null;
  incomplete?: true;
}
export interface FormulaSeries {
  /** The breakdown value (null without a breakdown). */
  breakdown: string | null;
  points: FormulaPoint[];
  /** The formula over the series' totals. */
  total: number | null;
  compare?: {
    offset_seconds: number;
    points: FormulaPoint[];
    total: number | null;
    change: number | null;
    coverage?: Coverage;
    cached?: Cached;
  };
}
/**
 * A marker on a time chart (issue #28): a note of `evx annotate` (`source: "note"`, with its `id`), or
 * the first appearance of a property value (`source: "property"`, with `key` and `value`).
 */
export interface Annotation {
  /** The instant (ISO). */
  at: string;
  text: string;
  source: "note" | "property";
  id?: number;
  key?: string;
  value?: string;
}

export interface TrendResult extends SampleMark {
  interval: Interval;
  measure: string;
  /** `rolling 7d` or `cumulative` when the points are windows (absent otherwise). */
  window?: string;
  series: TrendSeries[];
  /** With a formula: its text, and its series (one per breakdown value). */
  formula?: { text: string; series: FormulaSeries[] };
  /** The markers in the range, by instant: notes and `--annotations-from` values (absent when none asked). */
  annotations?: Annotation[];
}

export interface FunnelStepResult {
  /** The k-th step as written (with `--order any`, only its position: see `label`). */
  step: string;
  /**
   * With `--order any` only: `any k of K`. Row k counts users who did any k of the K steps, not those
   * who did `step`; both faces label the row with this.
   */
  label?: string;
  users: number;
  conversion: number;
  from_previous: number;
  median_seconds: number | null;
  /** With `--value`: the sum and mean of the key over the users' matched step events (mean null if none). */
  value?: { sum: number; avg: number | null };
}
export interface FunnelTrendPoint {
  t: string;
  entered: number;
  converted: number;
  /** Present (true) when the range or the cache holds the bucket, or its conversion window, only in part. */
  incomplete?: true;
}
export interface FunnelCompare {
  offset_seconds: number;
  /** The funnel over the compare period. */
  steps: FunnelStepResult[];
  /** What the cache holds of the compare period (same shape as the result's `coverage`). */
  coverage?: Coverage;
  /** How much of the compare period the cache holds; with `none` the outputs show no Δ. */
  cached?: Cached;
}
export interface FunnelResult extends SampleMark {
  within_seconds: number;
  order: FunnelOrder;
  /** Exclusions as written with their step range: `error@1-3`. */
  exclude: string[];
  hold: string | null;
  steps: FunnelStepResult[];
  breakdown: { value: string; steps: FunnelStepResult[] }[] | null;
  trend?: FunnelTrendPoint[];
  compare?: FunnelCompare;
  /** With `--time-to-convert`: the users who reached `to_step`, by their time from `from_step`. */
  time_to_convert?: TimeToConvertResult;
  /** With `--interval`: the markers in the range, by instant (as a trend's). */
  annotations?: Annotation[];
}

export interface TimeToConvertBin {
  /** Seconds; the bin is `[start_seconds, end_seconds)`, the last one also holds its end. */
  start_seconds: number;
  end_seconds: number;
  users: number;
}
export interface TimeToConvertResult {
  from_step: number;
  to_step: number;
  /** Users who reached `to_step` (each counted once, with their fastest time). */
  count: number;
  /** Empty when nobody converted. */
  bins: TimeToConvertBin[];
  /** Mean, median and 90th percentile (linear interpolation) of the times; null when count is 0. */
  average_seconds: number | null;
  median_seconds: number | null;
  p90_seconds: number | null;
}

export interface RetentionCohort {
  cohort: string;
  users: number;
  retained: number[];
  incomplete_from: number | null;
  /** With `--value`: per period, the sum of the key over the RETURN events behind `retained[n]`. */
  value?: number[];
}
export interface RetentionResult extends SampleMark {
  period: Period;
  mode: "on" | "on-or-after";
  cohort: RetentionCohortRule;
  cohorts: RetentionCohort[];
  /** null where no cohort has a complete cell for that period. */
  average: (number | null)[];
  /** With `--breakdown`: the same table per value of the START event (top values, `(other)`, `(none)`). */
  breakdown?: RetentionBreakdown[];
}
export interface RetentionBreakdown {
  value: string;
  cohorts: RetentionCohort[];
  average: (number | null)[];
}

/** The resolved range of a result: ISO instants, `to` exclusive. */
export interface ResolvedRange {
  from: string;
  to: string;
  tz: string;
}

/** How much of a compare period the cache holds: all of it, part of it, or none of it. */
export type Cached = "all" | "partly" | "none";

/** What the cache holds of a result's range (docs/semantics.md, "Coverage"). */
export interface Coverage {
  partitions_in_range: number;
  partitions_synced: number;
  /** Dates (YYYY-MM-DD) the source's last listing has but the cache does not (fully). */
  missing: string[];
  /** Dates with objects whose last sync failed. */
  failed: string[];
  rejected_lines: number;
  /** Latest event in the cache, ISO; null when empty. */
  last_event: string | null;
}

export interface UserRow {
  /** With `merged` identity: the person's id (the identified id their other ids resolve to). */
  user_id: string;
  /** With `merged` identity: the person's other ids, in byte order. */
  merged_ids?: string[];
  /** The user's events (of any type) in the analysis range. */
  events: number;
  first_seen: string;
  last_seen: string;
}
export interface UsersResult extends SampleMark {
  /** All selected users, however many are listed. */
  total: number;
  /** Sorted by user_id (byte order), at most `limit`. */
  users: UserRow[];
}

export interface TimelineEvent {
  event_type: string;
  /** ISO instant, with microseconds when they are not zero. */
  event_time: string;
  /** The JSON object, each number a `JsonNumber` holding its text as written (queries/jsonnumber.ts). */
  properties: Record<string, unknown>;
}
export interface TimelineResult {
  /** The id asked for. */
  user_id: string;
  /** With `merged` identity: the person that id belongs to, and the person's other ids. */
  person_id?: string;
  merged_ids?: string[];
  /** The user's events in range (after the type filter), however many are listed. */
  total: number;
  events: TimelineEvent[];
}

export interface PathNode {
  /** The events after (or, walking back, before) the anchor; may end in `(end)` or `(other)`. */
  path: string[];
  users: number;
  /** users / the anchor's users. */
  share: number;
}
export interface PathsResult extends SampleMark {
  /** The anchor as written (`EVENT[filter]`). */
  anchor: string;
  direction: PathDirection;
  depth: number;
  /** Users with an anchor event. */
  users: number;
  /** Depth-first; siblings by users descending (ties by name), then `(other)`. */
  nodes: PathNode[];
}

export interface StickinessResult extends SampleMark {
  interval: StickinessInterval;
  buckets_in_range: number;
  /** count = 1..buckets_in_range, zero-filled. */
  histogram: { count: number; users: number }[];
  /** Mean count per user; null when no user has a matching event. */
  average: number | null;
}

export interface LifecyclePoint {
  /** Bucket start, ISO instant. */
  t: string;
  new: number;
  returning: number;
  resurrecting: number;
  /** ≤ 0: users active in the previous bucket but not in this one, negated. */
  dormant: number;
  /** Present (true) when the cache holds the bucket or the one before it only in part. */
  incomplete?: true;
}
export interface LifecycleResult extends SampleMark {
  interval: LifecycleInterval;
  points: LifecyclePoint[];
}
