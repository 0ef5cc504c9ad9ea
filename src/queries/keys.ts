/**
 * Property keys that cannot mean what was typed (issue #22, docs/semantics.md "Property keys"):
 *
 * - a key that no event in the data has ever carried (in `--where`, `EVENT[…]`, `--exclude`,
 *   `--breakdown`, `--hold`, `--value`, `--measure sum:KEY`) is a usage error, with the closest known
 *   keys as suggestions, as an unknown event is;
 * - a key that some event carries, but none of the events the analysis reads in its range, is
 *   answered, with one warning (stderr headless, a note in the TUI).
 *
 * "Carries" is the `set` filter's rule: the key is present and not JSON null.
 *
 * Cost: one query of short-circuiting probes, each `LIMIT 1` over the analysis's event types in its
 * range, so a key that is there stops at its first row. Only a key missing from the range costs more:
 * a probe over the whole data, and, when that finds nothing either, one pass listing the keys the data
 * has for the suggestions (the error path). The same SQL runs on DuckDB and ClickHouse (`Params`).
 * Measured on a 1M-event demo cache (DuckDB, 2 shared cores): a key on the events 10–30 ms; a key of
 * other events (the warning) ~150 ms; a key no event has (the error) ~1 s, scans included.
 */
import type { Row } from "../cache/db.js";
import { annotationsKey } from "./annotations.js";
import { type BuiltQuery, type EngineName, Params, propText, type QueryContext } from "./filters.js";
import { UsageError } from "./parse.js";
import type { AnalysisSpec, DateRange, EventRef, Filter } from "./spec.js";
import { closestNames } from "./suggest.js";
import { frameOf, inRange } from "./time.js";

/** How the key check reads the data: SQL for one engine over a table named `events`. */
export interface KeyReader {
  readonly engine: EngineName;
  /** The builders' context (DuckDB: the hot-key columns, so a probe of a hot key reads a column). */
  context(): Promise<QueryContext>;
  rows(q: BuiltQuery, signal?: AbortSignal): Promise<Row[]>;
}

/** One place a spec reads a property key, and the events whose carrying it matters for. */
export interface KeyUse {
  key: string;
  /** Where the key was given, for messages: `--where`, `--breakdown`, `the filter of step 2`. */
  where: string;
  /** The event types the key is read on; `*` for any. */
  events: string[] | "*";
  /** Appended to the warning: what the answer then means. */
  consequence?: string;
}

/** An event name in a message, quoted (JSON escapes control characters: data never drives the terminal). */
const q = (event: string) => JSON.stringify(event);

const typesOf = (refs: EventRef[]): string[] | "*" =>
  refs.some((r) => r.event === "*") ? "*" : [...new Set(refs.map((r) => r.event))];

function filterUses(filters: Filter[], where: string, events: string[] | "*"): KeyUse[] {
  // A cohort filter reads no property (the cohort store checks its name).
  return filters.filter((f) => !f.cohort).map((f) => ({ key: f.key, where, events }));
}

function refUses(ref: EventRef, where: string): KeyUse[] {
  return filterUses(ref.filters, where, ref.event === "*" ? "*" : [ref.event]);
}

/** `--annotations-from KEY`: read on any event (queries/annotations.ts). */
function annotationUses(spec: AnalysisSpec): KeyUse[] {
  const key = annotationsKey(spec);
  return key === undefined
    ? []
    : [{ key, where: "--annotations-from", events: "*", consequence: "so no value is marked" }];
}

/** Every property key a spec reads, with the events it is read on. */
export function keyUses(spec: AnalysisSpec): KeyUse[] {
  switch (spec.kind) {
    case "catalog":
    case "props":
    case "timeline":
      return [];
    case "users":
      return keyUses(spec.of);
    case "trend": {
      const all = typesOf(spec.events);
      const m = spec.measure;
      return [
        ...spec.events.flatMap((r) => refUses(r, `the filter of ${q(r.event)}`)),
        ...filterUses(spec.filters, "--where", all),
        ...(spec.breakdown !== undefined ? [{ key: spec.breakdown, where: "--breakdown", events: all }] : []),
        ...(m.kind === "sum" || m.kind === "avg" || m.kind === "stat"
          ? [{ key: m.key, where: "--measure", events: all }]
          : []),
        ...annotationUses(spec),
      ];
    }
    case "funnel": {
      const exclusions = (spec.exclude ?? []).map((x) => x.event);
      const all = typesOf([...spec.steps, ...exclusions]);
      // Breakdown and hold values are step 1's event's; in any order, the anchor's, which may be any step.
      const first = spec.order === "any" ? typesOf(spec.steps) : typesOf([spec.steps[0]]);
      return [
        ...spec.steps.flatMap((r, i) => refUses(r, `the filter of step ${i + 1}`)),
        ...exclusions.flatMap((r) => refUses(r, `the filter of --exclude ${q(r.event)}`)),
        ...filterUses(spec.filters, "--where", all),
        ...(spec.breakdown !== undefined
          ? [{ key: spec.breakdown, where: "--breakdown", events: first }]
          : []),
        ...(spec.hold !== undefined
          ? [
              {
                key: spec.hold,
                where: "--hold",
                events: first,
                consequence: "so every attempt stops at step 1",
              },
            ]
          : []),
        ...(spec.value !== undefined
          ? [{ key: spec.value, where: "--value", events: typesOf(spec.steps) }]
          : []),
        ...annotationUses(spec),
      ];
    }
    case "retention":
      return [
        ...refUses(spec.start, `the filter of ${q(spec.start.event)}`),
        ...refUses(spec.return, `the filter of ${q(spec.return.event)}`),
        ...filterUses(spec.filters, "--where", typesOf([spec.start, spec.return])),
        ...(spec.value !== undefined
          ? [{ key: spec.value, where: "--value", events: typesOf([spec.return]) }]
          : []),
        ...(spec.breakdown !== undefined
          ? [{ key: spec.breakdown, where: "--breakdown", events: typesOf([spec.start]) }]
          : []),
      ];
    case "paths":
      // `--where` applies to every event a path may hold, not only the anchor.
      return [
        ...refUses(spec.anchor, `the filter of ${q(spec.anchor.event)}`),
        ...filterUses(spec.filters, "--where", "*"),
      ];
    case "stickiness":
    case "lifecycle":
      return [
        ...refUses(spec.event, `the filter of ${q(spec.event.event)}`),
        ...filterUses(spec.filters, "--where", typesOf([spec.event])),
      ];
  }
}

/** One probe per use: 1 when some event of its types (in `range`, when given) carries its key. */
export function buildKeyProbes(
  uses: { key: string; events: string[] | "*" }[],
  range: DateRange | undefined,
  ctx: QueryContext,
): BuiltQuery {
  const p = new Params(ctx);
  const frame = range ? frameOf(range) : undefined;
  const probes = uses.map((u, i) => {
    const cond = [
      ...(frame ? [inRange(p, frame)] : []),
      ...(u.events === "*" ? [] : [`event_type IN (${u.events.map((e) => p.str(e)).join(", ")})`]),
      `${propText(p, u.key)} IS NOT NULL`,
    ].join(" AND ");
    return `(SELECT count(*) FROM (SELECT 1 FROM events WHERE ${cond} LIMIT 1)) AS c${i}`;
  });
  return { sql: `SELECT ${probes.join(",\n       ")}`, params: p.values };
}

/**
 * The distinct top-level keys of the data's events, at most `limit`: the suggestions' pool. DuckDB's
 * `json_keys` lists keys whose value is JSON null too (a pass with `json_each` to leave them out costs
 * ten times more), so the suggestions are probed before they are shown, as ClickHouse's `props` map
 * already leaves them out.
 */
export function buildKeyList(engine: EngineName, limit = 100_000): BuiltQuery {
  const sql =
    engine === "clickhouse"
      ? `SELECT DISTINCT arrayJoin(mapKeys(props)) AS k FROM events LIMIT ${limit}`
      : `SELECT DISTINCT unnest(json_keys(properties)) AS k FROM events LIMIT ${limit}`;
  return { sql, params: [] };
}

const hit = (row: Row | undefined, i: number) => Number(row?.[`c${i}`] ?? 0) > 0;

function eventsText(events: string[] | "*"): string {
  if (events === "*") return "event";
  const shown = events.slice(0, 3).map(q);
  return `${shown.join(" or ")}${events.length > 3 ? ` (or ${events.length - 3} more)` : ""} event`;
}

/**
 * Throws a one-line `UsageError` for a key no event carries; returns one warning line (without the
 * `evx: warning:` prefix) per key that no event of the analysis carries in its range.
 */
export async function checkKeys(
  reader: KeyReader,
  spec: AnalysisSpec,
  signal?: AbortSignal,
): Promise<string[]> {
  const uses = keyUses(spec);
  if (!uses.length) return [];
  for (const u of uses) if (!u.key) throw new UsageError(`empty property key in ${u.where}`);
  const ctx = { ...(await reader.context()), engine: reader.engine };
  const range = "range" in spec ? spec.range : undefined;
  const inRange = await reader.rows(buildKeyProbes(uses, range, ctx), signal);
  const missing = uses.filter((_, i) => !hit(inRange[0], i));
  if (!missing.length) return [];
  const keys = [...new Set(missing.map((u) => u.key))];
  const anywhere = await reader.rows(
    buildKeyProbes(
      keys.map((key) => ({ key, events: "*" })),
      undefined,
      ctx,
    ),
    signal,
  );
  const unknown = keys.filter((_, i) => !hit(anywhere[0], i));
  if (unknown.length) {
    const key = unknown[0];
    const use = missing.find((u) => u.key === key)!;
    const known = (await reader.rows(buildKeyList(reader.engine), signal)).map((r) => String(r.k));
    // The closest few, keeping those some event carries (each probe stops at its first row).
    const candidates = closestNames(key, known, 10);
    const carried = candidates.length
      ? await reader.rows(
          buildKeyProbes(
            candidates.map((k) => ({ key: k, events: "*" })),
            undefined,
            ctx,
          ),
          signal,
        )
      : [];
    const close = candidates.filter((_, i) => hit(carried[0], i)).slice(0, 3);
    throw new UsageError(
      `unknown property key ${JSON.stringify(key)} in ${use.where}: no event has it${close.length ? `; did you mean ${close.map((c) => JSON.stringify(c)).join(", ")}?` : known.length ? "" : " (no event has properties)"}`,
    );
  }
  const seen = new Set<string>();
  const warnings: string[] = [];
  for (const u of missing) {
    const line = `${u.where} ${JSON.stringify(u.key)}: no ${eventsText(u.events)} in the range has it${u.consequence ? `, ${u.consequence}` : ""}`;
    if (!seen.has(line)) warnings.push(line);
    seen.add(line);
  }
  return warnings;
}
