/**
 * Saved cohorts (docs/semantics.md, "Cohorts"): where they are kept (`CohortStore`: the DuckDB cache's
 * `cohorts` table, or ClickHouse's `evx_cohorts` table on the server) and how a spec's cohort filters
 * get their definitions before it is built (`resolveCohorts`). A behavioural cohort keeps only its
 * definition, evaluated over the current data by every analysis that uses it; a static one keeps its
 * user ids (DuckDB: `cohort_users`; ClickHouse: a table of user keys per cohort).
 */
import { UsageError } from "./errors.js";
import { checkCohortName, formatEventRef } from "./parse.js";
import type { AnalysisSpec, CohortDef, CohortRef, EventRef, Filter, TrendResult, TrendSpec } from "./spec.js";
import { closestNames } from "./suggest.js";
import { formulaOf } from "./trend.js";

export interface SavedCohort {
  name: string;
  def: CohortDef;
  /** ISO instant. */
  created: string;
}

export interface CohortStore {
  list(): Promise<SavedCohort[]>;
}

/** Every filter list of a spec (where a cohort filter may sit). */
function filterLists(spec: AnalysisSpec): Filter[][] {
  const refs = (rs: EventRef[]) => rs.map((r) => r.filters);
  switch (spec.kind) {
    case "catalog":
    case "props":
    case "timeline":
      return [];
    case "users":
      return filterLists(spec.of);
    case "trend":
      return [spec.filters, ...refs(spec.events)];
    case "funnel":
      return [spec.filters, ...refs(spec.steps), ...refs((spec.exclude ?? []).map((x) => x.event))];
    case "retention":
      return [spec.filters, ...refs([spec.start, spec.return])];
    case "paths":
      return [spec.filters, ...refs([spec.anchor])];
    case "stickiness":
    case "lifecycle":
      return [spec.filters, ...refs([spec.event])];
  }
}

/** The cohort names a spec's filters use. */
export function cohortNames(spec: AnalysisSpec): string[] {
  const names = new Set<string>();
  for (const list of filterLists(spec)) for (const f of list) if (f.cohort) names.add(f.cohort.name);
  return [...names];
}

/**
 * How a static save that must not replace (the TUI's `C`) refuses a name already saved: a one-line
 * usage error saying what to do instead.
 */
export function cohortTaken(name: string): UsageError {
  return new UsageError(
    `cohort ${JSON.stringify(name)} exists already: pick another name (or \`evx cohort rm ${name}\` first)`,
  );
}

/** A saved cohort by name; an unknown name is a usage error naming the closest saved ones. */
export function findCohort(saved: SavedCohort[], name: string): SavedCohort {
  const hit = saved.find((c) => c.name === name);
  if (hit) return hit;
  const close = closestNames(
    name,
    saved.map((c) => c.name),
  );
  throw new UsageError(
    `unknown cohort ${JSON.stringify(name)}${
      close.length
        ? `; did you mean ${close.map((c) => JSON.stringify(c)).join(", ")}?`
        : saved.length
          ? ` (saved: ${saved
              .slice(0, 5)
              .map((c) => c.name)
              .join(", ")}${saved.length > 5 ? ", …" : ""})`
          : "; no cohort is saved yet: `evx cohort save NAME --did EVENT`"
    }`,
  );
}

/** The cohorts of `--breakdown cohort:A,B` of a spec (trend, retention). */
function breakdownRefs(spec: AnalysisSpec): CohortRef[] {
  if (spec.kind === "users") return breakdownRefs(spec.of);
  return spec.kind === "trend" || spec.kind === "retention" ? (spec.cohortBreakdown ?? []) : [];
}

/** Every cohort a spec reads: its cohort filters' and its cohort breakdown's. */
export function cohortRefs(spec: AnalysisSpec): CohortRef[] {
  return [
    ...filterLists(spec).flatMap((l) => l.flatMap((f) => (f.cohort ? [f.cohort] : []))),
    ...breakdownRefs(spec),
  ];
}

/** Fills the definition of every cohort filter and cohort breakdown of `spec` (in place) from the store. */
export async function resolveCohorts(spec: AnalysisSpec, store: CohortStore | null): Promise<void> {
  const refs = cohortRefs(spec);
  // A definition given with the spec (tests, a caller that resolved it) stays; one read from a store
  // is read again on every run, so a cohort saved anew counts from then on.
  const todo = refs.filter((r) => !r.def || FROM_STORE.has(r));
  if (!todo.length) return;
  if (!store) throw new UsageError("cohorts need a cache or a ClickHouse table to be saved in");
  const saved = await store.list();
  for (const r of todo) {
    r.def = findCohort(saved, r.name).def;
    FROM_STORE.add(r);
  }
}

/** Cohort references whose definition `resolveCohorts` read from a store. */
const FROM_STORE = new WeakSet<CohortRef>();

/** `cohort:A,B` of `--breakdown` (null for a property key); the names are checked. */
export function parseCohortBreakdown(text: string | undefined): CohortRef[] | null {
  if (text === undefined || !text.startsWith("cohort:")) return null;
  const names = text
    .slice("cohort:".length)
    .split(",")
    .map((n) => n.trim());
  if (!names.length || names.some((n) => !n))
    throw new UsageError(`bad --breakdown ${JSON.stringify(text)}: use cohort:NAME or cohort:NAME1,NAME2`);
  if (new Set(names).size !== names.length)
    throw new UsageError(`bad --breakdown ${JSON.stringify(text)}: a cohort is named twice`);
  return names.map((n) => ({ name: checkCohortName(n, "cohort") }));
}

/** The label of the series or table of the users not in cohort `name`. */
export const notInCohort = (name: string) => `not ${name}`;

/** `did checkout_started[plan=pro] ≥ 2 in the last 7d; did not refund`, for `list` and `show`. */
export function describeCohort(def: CohortDef): string {
  if (def.kind === "static") return `a saved list of ${def.users.toLocaleString("en-US")} users`;
  return def.conditions
    .map((c) => {
      const w = c.window
        ? c.window.kind === "last"
          ? ` in the last ${durationText(c.window.seconds)}`
          : ` from ${c.window.range.from} to ${c.window.range.to} (${c.window.range.tz})`
        : "";
      return c.did
        ? `did ${formatEventRef(c.event)}${c.atLeast > 1 ? ` at least ${c.atLeast} times` : ""}${w}`
        : `did not ${formatEventRef(c.event)}${w}`;
    })
    .join("; ");
}

function durationText(s: number): string {
  for (const [u, n] of [
    ["w", 604_800],
    ["d", 86_400],
    ["h", 3_600],
    ["m", 60],
  ] as const)
    if (s % n === 0) return `${s / n}${u}`;
  return `${s}s`;
}

/**
 * `--breakdown cohort:A,B` on a trend: per event E, the series of E for the users in A, for those not
 * in A, then B's two (docs/semantics.md, "Cohorts"). Built as a trend of those events, each with its
 * cohort filter.
 */
export function expandCohortTrend(spec: TrendSpec): TrendSpec {
  const refs = spec.cohortBreakdown ?? [];
  const { cohortBreakdown: _c, breakdown: _b, ...rest } = spec;
  return {
    ...rest,
    events: spec.events.flatMap((e) =>
      refs.flatMap((r) =>
        (["=", "!="] as const).map((op) => ({
          ...e,
          filters: [...e.filters, { key: "cohort", op, value: r.name, cohort: r }],
        })),
      ),
    ),
  };
}

/**
 * The expanded trend's series renamed: the event as written, the cohort (or not) as breakdown. A
 * formula is computed again per part (in a cohort, not in it), its letters the events: on the expanded
 * trend they would name its parts.
 */
export function labelCohortTrend(result: TrendResult, spec: TrendSpec): TrendResult {
  const refs = spec.cohortBreakdown ?? [];
  const per = refs.length * 2;
  const series = result.series.map((s, i) => {
    const e = spec.events[Math.floor(i / per)];
    const r = refs[Math.floor((i % per) / 2)];
    return { ...s, event: formatEventRef(e), breakdown: i % 2 === 0 ? r.name : notInCohort(r.name) };
  });
  const out: TrendResult = { ...result, series };
  if (spec.formula !== undefined) out.formula = formulaOf(spec.formula, spec.events.length, series);
  return out;
}
