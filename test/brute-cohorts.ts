/** Binds the brute force's cohort members for every cohort a spec uses (its filters and breakdown). */
import type { AnalysisSpec, CohortRef, EventRef, Filter } from "../src/queries/spec.js";
import { type BruteEvent, bindCohorts } from "./brute.js";

function refsOf(spec: AnalysisSpec): CohortRef[] {
  const lists: Filter[][] = [];
  const add = (rs: EventRef[]) => lists.push(...rs.map((r) => r.filters));
  const extra: CohortRef[] = [];
  switch (spec.kind) {
    case "users":
      return refsOf(spec.of);
    case "trend":
      add(spec.events);
      extra.push(...(spec.cohortBreakdown ?? []));
      break;
    case "funnel":
      add([...spec.steps, ...(spec.exclude ?? []).map((x) => x.event)]);
      break;
    case "retention":
      add([spec.start, spec.return]);
      extra.push(...(spec.cohortBreakdown ?? []));
      break;
    case "paths":
      add([spec.anchor]);
      break;
    case "stickiness":
    case "lifecycle":
      add([spec.event]);
      break;
    default:
      return [];
  }
  lists.push(spec.filters);
  return [...lists.flatMap((l) => l.flatMap((f) => (f.cohort ? [f.cohort] : []))), ...extra];
}

export function bindSpecCohorts(
  events: BruteEvent[],
  spec: AnalysisSpec,
  staticIds: Map<string, string[]> = new Map(),
): void {
  bindCohorts(events, refsOf(spec), staticIds);
}
