/**
 * Brute-force reference for docs/semantics.md "Stickiness", "Lifecycle" and "Paths": a direct
 * transcription of the doc over the in-memory events, on the calendar helpers of test/brute.ts.
 */
import { formatEventRef } from "../src/queries/parse.js";
import type {
  EventRef,
  Filter,
  LifecycleResult,
  LifecycleSpec,
  PathNode,
  PathsResult,
  PathsSpec,
  StickinessResult,
  StickinessSpec,
} from "../src/queries/spec.js";
import {
  type BruteEvent,
  bucketKey,
  civilFromDays,
  compareBytes,
  daysFromCivil,
  matchFilter,
  rangeBuckets,
  rangeMicros,
} from "./brute.js";

function matches(e: BruteEvent, ref: EventRef, where: Filter[]): boolean {
  if (ref.event !== "*" && e.type !== ref.event) return false;
  return [...ref.filters, ...where].every((f) => matchFilter(e.props, f, e.user));
}

const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString();

export function bruteStickiness(events: BruteEvent[], spec: StickinessSpec): StickinessResult {
  const { start, end } = rangeMicros(spec.range);
  const buckets = rangeBuckets(spec.interval, spec.range);
  const active = new Map<string, Set<number>>();
  for (const e of events) {
    if (e.t < start || e.t >= end || !matches(e, spec.event, spec.filters)) continue;
    const s = active.get(e.user) ?? new Set<number>();
    active.set(e.user, s);
    s.add(bucketKey(spec.interval, spec.range.tz, e.t));
  }
  const histogram = buckets.map((_, i) => ({ count: i + 1, users: 0 }));
  let sum = 0;
  for (const s of active.values()) {
    histogram[s.size - 1].users++;
    sum += s.size;
  }
  return {
    interval: spec.interval,
    buckets_in_range: buckets.length,
    histogram,
    average: active.size ? sum / active.size : null,
  };
}

/** The key of the local bucket right before bucket `key` (local minute index of its start). */
function previousKey(interval: LifecycleSpec["interval"], key: number): number {
  switch (interval) {
    case "day":
      return key - 1440;
    case "week":
      return key - 7 * 1440;
    case "month": {
      const c = civilFromDays(key / 1440);
      return (c.m === 1 ? daysFromCivil(c.y - 1, 12, 1) : daysFromCivil(c.y, c.m - 1, 1)) * 1440;
    }
  }
}

export function bruteLifecycle(events: BruteEvent[], spec: LifecycleSpec): LifecycleResult {
  const tz = spec.range.tz;
  // Activity over the whole cache, whole buckets.
  const active = new Map<string, Set<number>>();
  for (const e of events) {
    if (!matches(e, spec.event, spec.filters)) continue;
    const s = active.get(e.user) ?? new Set<number>();
    active.set(e.user, s);
    s.add(bucketKey(spec.interval, tz, e.t));
  }
  const points = rangeBuckets(spec.interval, spec.range).map((b) => {
    const prev = previousKey(spec.interval, b.key);
    const p = { t: iso(b.start), new: 0, returning: 0, resurrecting: 0, dormant: 0 };
    for (const keys of active.values()) {
      const first = Math.min(...keys);
      if (keys.has(b.key)) {
        if (first === b.key) p.new++;
        else if (keys.has(prev)) p.returning++;
        else if (first < prev) p.resurrecting++;
      } else if (keys.has(prev)) p.dormant--;
    }
    return p;
  });
  return { interval: spec.interval, points };
}

/** The property text of a whole properties object (see the note on bruteTimeline). */
const propsText = (e: BruteEvent) => JSON.stringify(e.props);

/** Each anchored user's path (with `(end)` when it ends early). */
export function brutePathsByUser(events: BruteEvent[], spec: PathsSpec): Map<string, string[]> {
  const { start, end } = rangeMicros(spec.range);
  const byUser = new Map<string, BruteEvent[]>();
  for (const e of events) {
    if (e.t < start || e.t >= end || !matches(e, { event: "*", filters: [] }, spec.filters)) continue;
    const list = byUser.get(e.user);
    if (list) list.push(e);
    else byUser.set(e.user, [e]);
  }
  const after = spec.direction === "after";
  const out = new Map<string, string[]>();
  for (const [user, list] of byUser) {
    list.sort(
      (a, b) => a.t - b.t || compareBytes(a.type, b.type) || compareBytes(propsText(a), propsText(b)),
    );
    const hits = list.flatMap((e, i) => (matches(e, spec.anchor, spec.filters) ? [i] : []));
    if (!hits.length) continue;
    const ai = after ? hits[0] : hits[hits.length - 1];
    const anchor = list[ai];
    const seq = after ? list.slice(ai + 1) : list.slice(0, ai).reverse();
    const path: string[] = [];
    let previous = anchor.type;
    for (const e of seq) {
      if (spec.withinSeconds !== undefined && Math.abs(e.t - anchor.t) > spec.withinSeconds * 1e6) break;
      if (spec.collapse && e.type === previous) continue;
      previous = e.type;
      path.push(e.type);
      if (path.length === spec.depth) break;
    }
    if (path.length < spec.depth) path.push("(end)");
    out.set(user, path);
  }
  return out;
}

/** The names of the children of `prefix` that get their own node (the top ones, ties by name). */
function topChildren(paths: string[][], prefix: string[], top: number): Set<string> {
  const counts = new Map<string, number>();
  for (const p of paths)
    if (p.length > prefix.length && prefix.every((x, i) => p[i] === x))
      counts.set(p[prefix.length], (counts.get(p[prefix.length]) ?? 0) + 1);
  return new Set(
    [...counts]
      .sort((a, b) => b[1] - a[1] || compareBytes(a[0], b[0]))
      .slice(0, top)
      .map(([name]) => name),
  );
}

/** The users of a node: their path starts with it; `[…, (other)]`: with its parent, then a folded child. */
export function brutePathUsers(events: BruteEvent[], spec: PathsSpec, node: string[]): Set<string> {
  const byUser = brutePathsByUser(events, spec);
  const other = node[node.length - 1] === "(other)";
  const parent = other ? node.slice(0, -1) : node;
  const kept = other ? topChildren([...byUser.values()], parent, spec.top) : new Set<string>();
  const out = new Set<string>();
  for (const [user, p] of byUser) {
    if (p.length < node.length || !parent.every((x, i) => p[i] === x)) continue;
    if (other && kept.has(p[parent.length])) continue;
    out.add(user);
  }
  return out;
}

export function brutePaths(events: BruteEvent[], spec: PathsSpec): PathsResult {
  const paths = [...brutePathsByUser(events, spec).values()];
  const total = paths.length;
  const nodes: PathNode[] = [];
  const expand = (prefix: string[], members: string[][]) => {
    const k = prefix.length;
    const children = new Map<string, string[][]>();
    for (const p of members) {
      if (p.length <= k) continue;
      const list = children.get(p[k]);
      if (list) list.push(p);
      else children.set(p[k], [p]);
    }
    const ranked = [...children].sort((a, b) => b[1].length - a[1].length || compareBytes(a[0], b[0]));
    for (const [name, list] of ranked.slice(0, spec.top)) {
      const path = [...prefix, name];
      nodes.push({ path, users: list.length, share: list.length / total });
      expand(path, list);
    }
    const rest = ranked.slice(spec.top).reduce((s, [, list]) => s + list.length, 0);
    if (rest) nodes.push({ path: [...prefix, "(other)"], users: rest, share: rest / total });
  };
  expand([], paths);
  return {
    anchor: formatEventRef(spec.anchor),
    direction: spec.direction,
    depth: spec.depth,
    users: total,
    nodes,
  };
}
