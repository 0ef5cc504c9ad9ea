/**
 * Brute-force reference for docs/semantics.md "Drill-down": the users behind a funnel step, a trend
 * bucket or a retention cell, and one user's timeline. A direct transcription of the doc over the
 * in-memory events, built on the analyses' own brute force (test/brute.ts).
 */
import type {
  EventRef,
  Filter,
  TimelineResult,
  TimelineSpec,
  UserRow,
  UsersResult,
  UsersSpec,
} from "../src/queries/spec.js";
import {
  type BruteEvent,
  bucketKey,
  compareBytes,
  funnelAttempts,
  matchFilter,
  parseInstant,
  periodsBetween,
  propsKeepingNumbers,
  rangeBuckets,
  rangeMicros,
} from "./brute.js";
import { brutePathUsers } from "./brute-insights.js";

function matches(e: BruteEvent, ref: EventRef, where: Filter[]): boolean {
  if (ref.event !== "*" && e.type !== ref.event) return false;
  return [...ref.filters, ...where].every((f) => matchFilter(e.props, f, e.user));
}

const iso = (us: number) => new Date(Math.floor(us / 1000)).toISOString();

/** ISO text of an instant, with microseconds when they are not zero (as the engine prints it). */
export function isoExact(us: number): string {
  const ms = Math.floor(us / 1000);
  const rest = us - ms * 1000;
  const base = new Date(ms).toISOString();
  return rest ? `${base.slice(0, -1)}${String(rest).padStart(3, "0")}Z` : base;
}

/** The bucket (by start instant) of a selection time: an ISO instant, or none. */
function bucketStartOf(t: string): number {
  const us = parseInstant(t);
  if (us === null) throw new Error(`brute: selection time must be an ISO instant, got ${t}`);
  return us;
}

/** The selected users (a set of user ids) of a drill-down spec. */
export function bruteSelectedUsers(events: BruteEvent[], spec: UsersSpec): Set<string> {
  const of = spec.of;
  const sel = spec.select;
  const out = new Set<string>();
  if (of.kind === "paths") {
    if (sel.kind !== "path") throw new Error("paths selection");
    return brutePathUsers(events, of, sel.path);
  }
  if (of.kind === "funnel") {
    if (sel.kind !== "reached" && sel.kind !== "dropped") throw new Error("funnel selection");
    const progress = new Map<string, number>();
    for (const a of funnelAttempts(events, of))
      progress.set(a.user, Math.max(progress.get(a.user) ?? 0, a.times.length));
    for (const [user, p] of progress)
      if (sel.kind === "reached" ? p >= sel.step : p === sel.step - 1) out.add(user);
    return out;
  }
  const { start, end } = rangeMicros(of.range);
  const tz = of.range.tz;
  if (of.kind === "trend") {
    if (sel.kind !== "bucket") throw new Error("trend selection");
    const t = bucketStartOf(sel.t);
    const bucket = rangeBuckets(of.interval, of.range).find((b) => b.start === t);
    if (!bucket) throw new Error(`brute: ${sel.t} is not a bucket start`);
    for (const e of events) {
      if (e.t < start || e.t >= end) continue;
      if (bucketKey(of.interval, tz, e.t) !== bucket.key) continue;
      if (of.events.some((ref) => matches(e, ref, of.filters))) out.add(e.user);
    }
    return out;
  }
  if (sel.kind !== "cohort") throw new Error("retention selection");
  const t = bucketStartOf(sel.cohort);
  const cohort = rangeBuckets(of.period, of.range).find((b) => b.start === t);
  if (!cohort) throw new Error(`brute: ${sel.cohort} is not a cohort start`);
  // the cohort's members: first START in the range (`first`), or first START in the cohort's bucket
  const recurring = of.cohort === "recurring";
  const firstStart = new Map<string, number>();
  for (const e of events) {
    if (e.t < start || e.t >= end || !matches(e, of.start, of.filters)) continue;
    if (recurring && bucketKey(of.period, tz, e.t) !== cohort.key) continue;
    const prev = firstStart.get(e.user);
    if (prev === undefined || e.t < prev) firstStart.set(e.user, e.t);
  }
  const members = [...firstStart].filter(([, t0]) => bucketKey(of.period, tz, t0) === cohort.key);
  for (const [user, t0] of members) {
    const kept = events.some((e) => {
      if (e.user !== user || e.t < t0 || !matches(e, of.return, of.filters)) return false;
      const n = periodsBetween(of.period, cohort.key, bucketKey(of.period, tz, e.t));
      return of.mode === "on" ? n === sel.period : n >= sel.period;
    });
    if (kept !== sel.lost) out.add(user);
  }
  return out;
}

export function bruteUsers(events: BruteEvent[], spec: UsersSpec): UsersResult {
  const selected = bruteSelectedUsers(events, spec);
  const { start, end } = rangeMicros(spec.of.range);
  const rows = new Map<string, { n: number; first: number; last: number }>();
  for (const e of events) {
    if (!selected.has(e.user) || e.t < start || e.t >= end) continue;
    const r = rows.get(e.user);
    if (!r) rows.set(e.user, { n: 1, first: e.t, last: e.t });
    else {
      r.n++;
      r.first = Math.min(r.first, e.t);
      r.last = Math.max(r.last, e.t);
    }
  }
  const users: UserRow[] = [...selected]
    .sort(compareBytes)
    .slice(0, Math.max(0, spec.limit))
    .map((u) => {
      const r = rows.get(u);
      if (!r) throw new Error(`brute: selected user ${u} has no event in range`);
      return { user_id: u, events: r.n, first_seen: iso(r.first), last_seen: iso(r.last) };
    });
  return { total: selected.size, users };
}

/**
 * The property text the engine sorts same-instant, same-type events by is DuckDB's serialisation of
 * the stored JSON; the fixtures keep such ties distinguishable by type or time, so this only orders
 * by time and type and then by JSON.stringify (which agrees on the plain objects the fixtures use).
 */
export function bruteTimeline(events: BruteEvent[], spec: TimelineSpec): TimelineResult {
  const { start, end } = rangeMicros(spec.range);
  const types = new Set(spec.events);
  const mine = events
    .filter((e) => e.user === spec.user && e.t >= start && e.t < end && (!types.size || types.has(e.type)))
    .sort(
      (a, b) =>
        a.t - b.t ||
        compareBytes(a.type, b.type) ||
        compareBytes(JSON.stringify(a.props), JSON.stringify(b.props)),
    );
  return {
    user_id: spec.user,
    total: mine.length,
    events: mine.slice(0, Math.max(0, spec.limit)).map((e) => ({
      event_type: e.type,
      event_time: isoExact(e.t),
      properties: propsKeepingNumbers(e.props),
    })),
  };
}
