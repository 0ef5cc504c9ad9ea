/**
 * Brute-force reference for docs/semantics.md "Property keys", transcribed from the doc over the
 * in-memory events (not from src/queries/keys.ts): every key a spec reads, on which events; a key no
 * event carries is refused, one that none of the events it is read on carries in the range is answered
 * with a warning. "Carries" is the `set` filter's rule (present, not JSON null).
 */
import type { AnalysisSpec, EventRef, Filter } from "../src/queries/spec.js";
import { type BruteEvent, matchFilter, rangeMicros } from "./brute.js";

interface Use {
  key: string;
  /** Event types the key is read on; `*`: any. */
  events: string[] | "*";
}

const typesOf = (refs: EventRef[]): string[] | "*" =>
  refs.some((r) => r.event === "*") ? "*" : refs.map((r) => r.event);
const onRef = (r: EventRef): Use[] => r.filters.map((f) => ({ key: f.key, events: typesOf([r]) }));
const onAll = (filters: Filter[], events: string[] | "*"): Use[] =>
  filters.map((f) => ({ key: f.key, events }));
const opt = (key: string | undefined, events: string[] | "*"): Use[] =>
  key === undefined ? [] : [{ key, events }];

/** The keys a trend, funnel or retention (or a drill-down into one) reads, with their events. */
function uses(spec: AnalysisSpec): Use[] {
  switch (spec.kind) {
    case "users":
      return uses(spec.of);
    case "trend": {
      const all = typesOf(spec.events);
      const m = spec.measure;
      return [
        ...spec.events.flatMap(onRef),
        ...onAll(spec.filters, all),
        ...opt(spec.breakdown, all),
        ...opt(m.kind === "sum" || m.kind === "avg" || m.kind === "stat" ? m.key : undefined, all),
      ];
    }
    case "funnel": {
      const excluded = (spec.exclude ?? []).map((x) => x.event);
      // Breakdown and hold read the anchor's event: step 1's, or in any order any step's (semantics.md).
      const first = spec.order === "any" ? typesOf(spec.steps) : typesOf([spec.steps[0]]);
      return [
        ...spec.steps.flatMap(onRef),
        ...excluded.flatMap(onRef),
        ...onAll(spec.filters, typesOf([...spec.steps, ...excluded])),
        ...opt(spec.breakdown, first),
        ...opt(spec.hold, first),
        ...opt(spec.value, typesOf(spec.steps)),
      ];
    }
    case "retention":
      return [
        ...onRef(spec.start),
        ...onRef(spec.return),
        ...onAll(spec.filters, typesOf([spec.start, spec.return])),
        ...opt(spec.value, typesOf([spec.return])),
      ];
    default:
      throw new Error(`brute keys: no rule for ${spec.kind}`);
  }
}

const carries = (e: BruteEvent, key: string) => matchFilter(e.props, { key, op: "set" });
const readOn = (e: BruteEvent, events: string[] | "*") => events === "*" || events.includes(e.type);

/**
 * `unknown`: keys no event carries (the spec is a usage error); `absent`: the other keys that none of
 * the events they are read on carries in the range (a warning each), both sorted and distinct.
 */
export function bruteKeyOutcome(
  events: BruteEvent[],
  spec: AnalysisSpec,
): { unknown: string[]; absent: string[] } {
  const us = uses(spec);
  const unknown = new Set(us.filter((u) => !events.some((e) => carries(e, u.key))).map((u) => u.key));
  const range = "range" in spec && spec.range ? rangeMicros(spec.range) : null;
  const inRange = range ? events.filter((e) => e.t >= range.start && e.t < range.end) : events;
  const absent = new Set(
    us
      .filter((u) => !unknown.has(u.key) && !inRange.some((e) => readOn(e, u.events) && carries(e, u.key)))
      .map((u) => u.key),
  );
  return { unknown: [...unknown].sort(), absent: [...absent].sort() };
}
