/**
 * App-wide state shared by the screens: the session (open cache, engine, sync functions), the date
 * range, the event catalog, and each screen's editable model. Screen models live in the App so a
 * tab keeps what was built when the user switches away and back.
 */
import { createContext, useContext, useLayoutEffect } from "react";
import type { PartitionRow } from "../../cache/plan.js";
import type { CacheStatus, RejectRow } from "../../cache/status.js";
import type { SyncProgress, SyncSummary } from "../../cache/sync.js";
import type { WatchCycle, WatchNote } from "../../cache/watch.js";
import type { ChPartitionRow } from "../../queries/clickhouse/executor.js";
import { formatExclusion } from "../../queries/parse.js";
import type {
  AnalysisSpec,
  CatalogResult,
  Compare,
  Coverage,
  DateRange,
  EventRef,
  Exclusion,
  Filter,
  FunnelOrder,
  Interval,
  Measure,
  Period,
  RetentionCohortRule,
  UsersSpec,
} from "../../queries/spec.js";
import { cleanText } from "../../render/sanitize.js";
import type { QueryRunner, QueryState } from "../hooks/useQuery.js";

/** What the Sync screen needs from the cache and the source (real ones in `session.ts`). */
export interface SyncApi {
  /** The source the cache was synced from, or null. */
  sourceUrl(): Promise<string | null>;
  /** Date partitions of the source and the cache, with their states. */
  partitions(signal?: AbortSignal): Promise<PartitionRow[]>;
  status(): Promise<CacheStatus>;
  rejects(limit: number, offset: number): Promise<{ total: number; rejects: RejectRow[] }>;
  evict(dates: string[]): Promise<number>;
  sync(
    range: { from: string; to: string },
    signal: AbortSignal,
    onProgress: (p: SyncProgress) => void,
  ): Promise<SyncSummary>;
  /**
   * Live mode: sync cycles of the cache's source every `everyMs` (the dates `evx sync --watch`
   * follows) until `signal` aborts; resolves once the current batch has committed. Rejects at once
   * when it cannot start (no source, the cache is read-only, another sync runs).
   */
  watch(opts: LiveWatchOptions): Promise<void>;
  /** Shared mode: the process holding the cache's writer (a sync, a watch), or null; absent otherwise. */
  writer?(): Promise<{ pid: number; what: string } | null>;
}

export interface LiveWatchOptions {
  everyMs: number;
  signal: AbortSignal;
  onCycle: (c: WatchCycle) => void;
  onProgress?: (p: SyncProgress) => void;
  /**
   * Shared mode: another process holds the cache's writer (`evx sync --watch`, a sync, another TUI's
   * live mode), so live mode follows it instead of running cycles of its own. Called on each poll with
   * the writer and what it last announced; `changed` when it committed new data since the last poll.
   * Null when the writer has gone (live mode then runs its own cycles, as it takes the writer over).
   */
  onFollow?: (f: FollowedWriter | null, changed: boolean) => void;
}

export interface FollowedWriter {
  pid: number;
  what: string;
  /** A watch's last cycle and when its next begins; null for a writer that says nothing (a sync). */
  note: WatchNote | null;
}

/**
 * What the Sync tab shows of a server engine's table (ClickHouse): its partitions with rows and bytes
 * (`system.parts`), the source's objects at the last load's listing, and each date's last load. The
 * server loads its own data (`evx clickhouse load`), so there is nothing to sync or evict from here.
 */
export interface ServerTableApi {
  /** `host:port/database.table`, for the tab's first line. */
  table: string;
  partitions(signal?: AbortSignal): Promise<ServerPartitionRow[]>;
}

export type ServerPartitionRow = ChPartitionRow;

/**
 * The data the UI analyses, whichever engine runs the queries: a local DuckDB cache (`session.ts`),
 * or a ClickHouse table (`chsession.ts`). Screens only run specs through `runner` and read `bounds` /
 * `lastEventUs`; the App and the Sync tab use the rest.
 */
export interface Session {
  /** The cache file, or the ClickHouse `host:port/database.table`. */
  path: string;
  /** What the status bar names: the cache's file name, or `clickhouse · host:8123/db.events`. */
  label: string;
  /** Shorter labels for a narrow status bar, longest first (`clickhouse · host:port`, `clickhouse`). */
  shortLabels?: string[];
  runner: QueryRunner;
  /**
   * The spec's property keys (keys.ts): rejects with a `UsageError` for a key no event has; resolves
   * to the warnings for keys none of its events has in range (the status bar's note).
   */
  checkKeys?(spec: AnalysisSpec, signal?: AbortSignal): Promise<string[]>;
  /** The local cache's sync functions; null on a server engine (the Sync tab shows `server` instead). */
  sync: SyncApi | null;
  /** A server engine's table, for the Sync tab. */
  server?: ServerTableApi;
  /** Why sync, evict and live mode are refused when `sync` is null (one line). */
  syncRefused?: string;
  /** The cache is open read-only (another process holds it): no sync or evict. */
  readOnly: boolean;
  lockedBy?: number;
  /** The cached range as dates in `tz`, or null for an empty cache. */
  bounds(tz: string): Promise<{ from: string; to: string } | null>;
  /** The latest event's instant (epoch µs), or null for an empty cache (the `last …` presets). */
  lastEventUs(): Promise<number | null>;
  /** SQL with its parameters inlined as the engine's literals, for `s` (default: DuckDB's `$n` rule). */
  inlineSql?(sql: string, params: unknown[]): string;
  /** The dialect named in the `s` overlay's title (e.g. `ClickHouse`); none for the cache. */
  sqlDialect?: string;
  /** The line the Events tab shows when there are no events at all. */
  emptyText?: string;
  /**
   * Saves every user of a drill-down (`spec` as the list ran, whatever its limit) as the static cohort
   * `name` (`C`); resolves to how many users it holds. Rejects with one line for a bad name, a name
   * already saved (never replaced from here), or data that cannot be written (a read-only cache).
   */
  saveCohort?(name: string, spec: UsersSpec): Promise<number>;
  /** Releases the cache or the server connection; a promise when that takes a round trip. */
  close(): void | Promise<void>;
}

export type TabId = "events" | "trends" | "funnel" | "retention" | "sync" | "paths" | "lifecycle";
export const TABS: { id: TabId; title: string }[] = [
  { id: "events", title: "Events" },
  { id: "trends", title: "Trends" },
  { id: "funnel", title: "Funnel" },
  { id: "retention", title: "Retention" },
  { id: "sync", title: "Sync" },
  // After Sync, so tabs 1–5 keep their numbers.
  { id: "paths", title: "Paths" },
  { id: "lifecycle", title: "Lifecycle" },
];

export interface EventsModel {
  filter: string;
  cursor: number;
}

export interface TrendsModel {
  events: EventRef[];
  selected: number;
  measure: Measure;
  /** The interval asked for; a range it does not fit uses the nearest that does (`intervals.ts`). */
  interval: Interval;
  /** Compare with an earlier period (`c`); undefined: off. */
  compare?: Compare;
  breakdown?: string;
  filters: Filter[];
  table: boolean;
  tableTop: number;
  /** The x-axis cursor (←/→): the bucket start `t` of the point it is on; null: hidden. */
  cursor: string | null;
  /** A formula over the series (`=`): letters A, B, … are `events` in order; charted instead of them. */
  formula?: string;
  /** `r`: mark where each value of this property key first appears (`--annotations-from`). */
  annotationsFrom?: string;
}

export interface FunnelModel {
  steps: EventRef[];
  selected: number;
  withinSeconds: number;
  breakdown?: string;
  filters: Filter[];
  /** Conversion over time (`v`), per `interval` (`i`; fitted to the range as in Trends). */
  overTime: boolean;
  interval: Interval;
  /** Compare with an earlier period (`c`); undefined: off. */
  compare?: Compare;
  /** `o` cycles; undefined: ordered. */
  order?: FunnelOrder;
  /** `X` adds, `Z` clears. */
  exclude?: Exclusion[];
  /** `H`: the property every step shares with step 1. */
  hold?: string;
  /** `V`: the property summed per step. */
  value?: string;
  /** `t`: the histogram of times from step 1 to the last step. */
  timeToConvert?: boolean;
  /**
   * `r`: mark where each value of this property key first appears on the over-time chart
   * (`--annotations-from`; only with `overTime`, which `r` turns on).
   */
  annotationsFrom?: string;
  /** The breakdown table's scroll: first step column shown (←/→) and first value row (pgup/pgdn). */
  bdFrom?: number;
  bdTop?: number;
}

/** An edit of a funnel's steps (0-based indices; `to` is the moved step's new index). */
export type StepChange =
  | { kind: "insert"; index: number; step: EventRef }
  | { kind: "remove"; index: number }
  | { kind: "move"; from: number; to: number }
  | { kind: "replace"; index: number; step: EventRef };

/**
 * Applies a step edit and re-checks every setting that names steps, so the model never holds a setting
 * the query would have to skip. An exclusion follows its two step events: each end takes its step's new
 * place; an end whose step was removed moves inward to the nearest step of its range that is left (a
 * range `@1-3` whose step 3 is removed becomes `@1-2`); a range left with fewer than two steps, or whose
 * ends were reordered past each other, is dropped. Hold and value need a step to apply to: with no steps
 * left they are dropped. Every adjustment and drop is one note for the status line.
 */
export function changeFunnelSteps(
  m: FunnelModel,
  change: StepChange,
): { model: FunnelModel; notes: string[] } {
  const n = m.steps.length;
  // order[i]: the old index (or -1 for a new step) of the new step at i.
  const order = m.steps.map((_, i) => i);
  let selected = m.selected;
  if (change.kind === "insert") {
    const at = Math.max(0, Math.min(n, change.index));
    order.splice(at, 0, -1);
    selected = at;
  } else if (change.kind === "remove") {
    if (change.index < 0 || change.index >= n) return { model: m, notes: [] };
    order.splice(change.index, 1);
    selected = Math.max(0, Math.min(change.index, order.length - 1));
  } else if (change.kind === "move") {
    if (change.from < 0 || change.from >= n || change.to < 0 || change.to >= n)
      return { model: m, notes: [] };
    const [moved] = order.splice(change.from, 1);
    order.splice(change.to, 0, moved!);
    selected = change.to;
  } else if (change.index < 0 || change.index >= n) return { model: m, notes: [] };
  const steps = order.map((old) => (old >= 0 ? m.steps[old]! : (change as { step: EventRef }).step));
  if (change.kind === "replace") steps[change.index] = change.step;
  // place[k]: the new 1-based position of old step k (1-based), or 0 when it was removed.
  const place = [0, ...m.steps.map((_, i) => order.indexOf(i) + 1)];
  const notes: string[] = [];
  const exclude: Exclusion[] = [];
  for (const x of m.exclude ?? []) {
    let from = 0;
    for (let k = x.from; k <= x.to && !from; k++) from = place[k] ?? 0;
    let to = 0;
    for (let k = x.to; k >= x.from && !to; k--) to = place[k] ?? 0;
    const was = cleanText(formatExclusion(x));
    if (from >= 1 && from < to) {
      const next = { ...x, from, to };
      if (from !== x.from || to !== x.to) notes.push(`exclusion ${was} is now @${from}-${to}`);
      exclude.push(next);
    } else notes.push(`exclusion ${was} dropped: its steps are gone or out of order`);
  }
  const model: FunnelModel = { ...m, steps, selected };
  if (m.exclude) model.exclude = exclude;
  if (!steps.length) {
    if (m.hold !== undefined) notes.push(`hold ${cleanText(m.hold)} dropped: no steps left`);
    if (m.value !== undefined) notes.push(`value ${cleanText(m.value)} dropped: no steps left`);
    delete model.hold;
    delete model.value;
  }
  return { model, notes };
}

/**
 * After a step edit, the funnel's hold and value checked against the keys of its new steps (`props` of
 * a `stepPropsSpec` over them): a hold no step carries, or a value no step has a number in, is dropped
 * with a note, as the pickers would no longer offer them.
 */
export function checkFunnelKeys(
  m: FunnelModel,
  props: { key: string; numbers?: number }[],
): { model: FunnelModel; notes: string[] } {
  const model = { ...m };
  const notes: string[] = [];
  if (m.hold !== undefined && !props.some((p) => p.key === m.hold)) {
    notes.push(`hold ${cleanText(m.hold)} dropped: no step has it`);
    delete model.hold;
  }
  if (m.value !== undefined && !props.some((p) => p.key === m.value && (p.numbers ?? 0) > 0)) {
    notes.push(`value ${cleanText(m.value)} dropped: no step has a number in it`);
    delete model.value;
  }
  return { model: notes.length ? model : m, notes };
}

export interface RetentionModel {
  start?: EventRef;
  ret: EventRef;
  /** The period asked for; a range it does not suit uses the nearest that does (`intervals.ts`). */
  period: Period;
  /** null: the default for the period. */
  periods: number | null;
  mode: "on" | "on-or-after";
  /** `c` toggles; undefined: first. */
  cohort?: RetentionCohortRule;
  /** `V`: the property summed per cell. */
  value?: string;
  /** `b`: a property of the START event; one table per value (`v` cycles them). */
  breakdown?: string;
  /** The table shown: 0 the whole, i the i-th breakdown value's. */
  shown?: number;
  filters: Filter[];
  top: number;
  /** The selected cell: cohort index (in the result) and period. */
  row: number;
  col: number;
  /** The first period shown when the periods do not all fit (←/→ scroll them; the cohort column stays). */
  left?: number;
}

export interface PathsModel {
  anchor?: EventRef;
  direction: "after" | "before";
  depth: number;
  top: number;
  collapse: boolean;
  withinSeconds?: number;
  filters: Filter[];
  /** Index of the selected visible row. */
  cursor: number;
  /** Rows scrolled off the top. */
  scroll: number;
  /** Keys (`pathKey`) of the nodes whose children are hidden. */
  folded: string[];
  /**
   * Keys of the nodes below the first two levels' whose children are shown: a tree opens with two
   * levels, each deeper one unfolds on →.
   */
  unfolded?: string[];
}

export interface LifecycleModel {
  event?: EventRef;
  view: "lifecycle" | "stickiness";
  lifecycleInterval: "day" | "week" | "month";
  stickinessInterval: "hour" | "day" | "week";
  filters: Filter[];
  /** The lifecycle chart's cursor (←/→): the bucket start `t` it is on; null: hidden. */
  cursor: string | null;
  /** Histogram rows of the stickiness view scrolled off the top (↑/↓). */
  scroll: number;
}

export const DEFAULT_PERIODS: Record<Period, number> = { hour: 24, day: 14, week: 8, month: 6 };

export function initialModels() {
  return {
    events: { filter: "", cursor: 0 } as EventsModel,
    trends: {
      events: [],
      selected: 0,
      measure: { kind: "events" },
      interval: "day",
      filters: [],
      table: false,
      tableTop: 0,
      cursor: null,
    } as TrendsModel,
    funnel: {
      steps: [],
      selected: 0,
      withinSeconds: 86400,
      filters: [],
      overTime: false,
      interval: "day",
    } as FunnelModel,
    retention: {
      ret: { event: "*", filters: [] },
      period: "day",
      periods: null,
      mode: "on",
      filters: [],
      top: 0,
      row: 0,
      col: 0,
    } as RetentionModel,
    paths: {
      direction: "after",
      depth: 4,
      top: 5,
      collapse: true,
      filters: [],
      cursor: 0,
      scroll: 0,
      folded: [],
    } as PathsModel,
    lifecycle: {
      view: "lifecycle",
      lifecycleInterval: "day",
      stickinessInterval: "day",
      filters: [],
      cursor: null,
      scroll: 0,
    } as LifecycleModel,
  };
}

/** What `s` and `e` act on: the result the current screen shows. */
export interface CurrentResult {
  title: string;
  spec?: AnalysisSpec;
  result?: unknown;
  sql?: string;
  params?: unknown[];
  /** What the cache holds of the result's range; the status bar warns when it is partial. */
  coverage?: Coverage;
  /** Warnings about the result (a property key none of its events has in range): a status-bar note. */
  warnings?: string[];
  /** For non-query views (Sync): rows to export as they are. */
  table?: { columns: string[]; rows: unknown[][] };
}

export interface AppEnv {
  session: Session | null;
  range: DateRange | null;
  bounds: { from: string; to: string } | null;
  /** The cache holds no events (nothing to analyse until a sync). */
  empty: boolean;
  catalog: QueryState<CatalogResult>;
  color: boolean;
  ascii: boolean;
  /** Shows a one-line message in the hint bar. */
  notify(text: string, tone?: "info" | "error"): void;
  /** Screens publish what `s`/`e` should act on. */
  report(tab: TabId, current: CurrentResult | null): void;
  /** An open drill-down panel publishes its list instead (null when it closes). */
  reportDrill(current: CurrentResult | null): void;
  /** Screens publish their whole settings line (the `?` help shows it, when the screen shows part). */
  reportSettings(tab: TabId, text: string): void;
  /**
   * Screens (and an open drill-down panel, as `drill`) publish the selected row's whole text, which a
   * narrow screen may cut with `…`: `z` shows it in full ("" when nothing is selected).
   */
  reportSelection(tab: TabId | "drill", text: string): void;
  /** Opens an event in Trends. */
  openInTrends(ref: EventRef): void;
  /** The cached data changed (sync, evict): re-run everything. */
  dataChanged(): void;
}

export const AppEnvContext = createContext<AppEnv | null>(null);

export function useAppEnv(): AppEnv {
  const env = useContext(AppEnvContext);
  if (!env) throw new Error("useAppEnv outside the App");
  return env;
}

/** Publishes a screen's whole settings text for the `?` help (read when the help opens). */
export function useReportSettings(tab: TabId, text: string): void {
  const { reportSettings } = useAppEnv();
  useLayoutEffect(() => reportSettings(tab, text), [reportSettings, tab, text]);
}

/** Publishes the selected row's whole text for `z` (read when it is pressed; "" on unmount). */
export function useReportSelection(tab: TabId | "drill", text: string): void {
  const { reportSelection } = useAppEnv();
  useLayoutEffect(() => reportSelection(tab, text), [reportSelection, tab, text]);
  useLayoutEffect(() => () => reportSelection(tab, ""), [reportSelection, tab]);
}

/**
 * Publishes a screen's current result for `s` (SQL) and `e` (export). A layout effect: a key pressed
 * right after the frame shows the result must already see it.
 */
export function useReportResult(tab: TabId, title: string, q: QueryState<unknown>): void {
  const { report } = useAppEnv();
  useLayoutEffect(() => {
    report(
      tab,
      q.data
        ? {
            title,
            spec: q.spec,
            result: q.data,
            sql: q.sql,
            params: q.params,
            coverage: q.coverage,
            warnings: q.warnings,
          }
        : null,
    );
  }, [q.data, q.spec, q.sql, q.params, q.coverage, q.warnings, report, tab, title]);
}
