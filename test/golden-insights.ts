/**
 * Hand-worked golden cases for docs/semantics.md "Stickiness", "Lifecycle" and "Paths" (issue #15),
 * in the format of test/golden.ts: raw lake lines, a spec, and an answer worked out by hand (the
 * reasoning is in the comments).
 */
import type {
  DateRange,
  EventRef,
  Filter,
  LifecycleResult,
  LifecycleSpec,
  PathsResult,
  PathsSpec,
  StickinessResult,
  StickinessSpec,
} from "../src/queries/spec.js";
import type { RawEvent } from "./golden.js";

export type InsightCase =
  | { name: string; events: RawEvent[]; spec: StickinessSpec; expected: StickinessResult }
  | { name: string; events: RawEvent[]; spec: LifecycleSpec; expected: LifecycleResult }
  | { name: string; events: RawEvent[]; spec: PathsSpec; expected: PathsResult };

function ev(
  event_type: string,
  event_time: string,
  user_id: string,
  event_properties: Record<string, unknown> = {},
) {
  return { event_type, event_time, user_id, event_properties };
}
const ref = (event: string, filters: Filter[] = []): EventRef => ({ event, filters });
const range = (from: string, to: string, tz = "UTC"): DateRange => ({ from, to, tz });
const day = (d: string) => `2023-06-${d}T00:00:00.000Z`;

/* ---------- stickiness ---------- */

const stickiness: InsightCase = {
  name: "stickiness: distinct days per user, range edges, other events ignored",
  events: [
    ev("open", "2023-06-01T08:00:00Z", "u1"),
    ev("open", "2023-06-01T09:00:00Z", "u1"), // same day: counts once
    ev("open", "2023-06-03T10:00:00Z", "u1"), // u1: 2 days
    ev("open", "2023-06-02T12:00:00Z", "u2"), // u2: 1 day
    ev("open", "2023-05-31T23:59:59Z", "u3"), // before the range
    ev("open", "2023-06-01T00:00:00Z", "u3"), // u3: 1 day
    ev("open", "2023-06-01T01:00:00Z", "u4"),
    ev("open", "2023-06-02T01:00:00Z", "u4"),
    ev("open", "2023-06-03T23:59:59.999Z", "u4"), // last instant: u4: 3 days
    ev("open", "2023-06-04T00:00:00Z", "u5"), // after the range: u5 not counted
    ev("other", "2023-06-02T00:00:00Z", "u6"), // not the event
  ],
  spec: {
    kind: "stickiness",
    event: ref("open"),
    interval: "day",
    range: range("2023-06-01", "2023-06-03"),
    filters: [],
  },
  expected: {
    interval: "day",
    buckets_in_range: 3,
    histogram: [
      { count: 1, users: 2 }, // u2, u3
      { count: 2, users: 1 }, // u1
      { count: 3, users: 1 }, // u4
    ],
    average: 7 / 4,
  },
};

/* ---------- lifecycle ---------- */

/*
 * Daily, UTC, range 06-05..06-08.
 * u1: 06-01 (before the range), 06-05, 06-06, 06-08 → 05 resurrecting, 06 returning, 07 dormant,
 *     08 resurrecting.
 * u2: first ever 06-05, then nothing on 06-06 and 06-07, then 06-08 → 05 new, 06 dormant, 07 nothing
 *     (not active in 06-06 either), 08 resurrecting after two empty buckets.
 * u3: first ever 06-04 (the day before the range), 06-05 → 05 returning (not new), 06 dormant.
 * u4: first ever 05-20, then twice on 06-07 → 07 resurrecting (not new), 08 dormant.
 * u5: first ever 06-08 23:59:59.999 → 08 new.
 * u6: only 06-03 → dormant on 06-04, outside the range: nothing.
 * u7: only the other event type: nothing.
 * u8: only 06-04, the day before the range → 05 dormant. (Active in no bucket of the range: ClickHouse,
 *     which reads history only for the users active from the day before the range, must keep them.)
 */
const lifecycle: InsightCase = {
  name: "lifecycle: first event before the range is not new; resurrecting after two empty buckets",
  events: [
    ev("open", "2023-06-01T10:00:00Z", "u1"),
    ev("open", "2023-06-05T10:00:00Z", "u1"),
    ev("open", "2023-06-06T10:00:00Z", "u1"),
    ev("open", "2023-06-08T10:00:00Z", "u1"),
    ev("open", "2023-06-05T00:00:00Z", "u2"),
    ev("open", "2023-06-08T12:00:00Z", "u2"),
    ev("open", "2023-06-04T23:00:00Z", "u3"),
    ev("open", "2023-06-05T01:00:00Z", "u3"),
    ev("open", "2023-05-20T10:00:00Z", "u4"),
    ev("open", "2023-06-07T10:00:00Z", "u4"),
    ev("open", "2023-06-07T11:00:00Z", "u4"),
    ev("open", "2023-06-08T23:59:59.999Z", "u5"),
    ev("open", "2023-06-03T10:00:00Z", "u6"),
    ev("other", "2023-06-06T10:00:00Z", "u7"),
    ev("open", "2023-06-04T10:00:00Z", "u8"),
  ],
  spec: {
    kind: "lifecycle",
    event: ref("open"),
    interval: "day",
    range: range("2023-06-05", "2023-06-08"),
    filters: [],
  },
  expected: {
    interval: "day",
    points: [
      { t: day("05"), new: 1, returning: 1, resurrecting: 1, dormant: -1 },
      { t: day("06"), new: 0, returning: 1, resurrecting: 0, dormant: -2 },
      { t: day("07"), new: 0, returning: 0, resurrecting: 1, dormant: -1 },
      { t: day("08"), new: 1, returning: 0, resurrecting: 2, dormant: -1 },
    ],
  },
};

/*
 * Weekly in America/New_York (Monday weeks, local), range 06-12..06-25 (two weeks: 06-12, 06-19).
 * u1: Sun 06-11 23:30 EDT (= 06-12 03:30Z, week of 06-05 locally) and Mon 06-12 00:30 EDT → week
 *     06-12 returning (active the week before, locally), week 06-19 dormant.
 * u2: first ever Mon 06-19 03:59Z = Sun 06-18 23:59 EDT → week 06-12 new; week 06-19 dormant.
 */
const lifecycleWeeks: InsightCase = {
  name: "lifecycle: local Monday weeks in New York",
  events: [
    ev("open", "2023-06-12T03:30:00Z", "u1"),
    ev("open", "2023-06-12T04:30:00Z", "u1"),
    ev("open", "2023-06-19T03:59:00Z", "u2"),
  ],
  spec: {
    kind: "lifecycle",
    event: ref("open"),
    interval: "week",
    range: range("2023-06-12", "2023-06-25", "America/New_York"),
    filters: [],
  },
  expected: {
    interval: "week",
    points: [
      { t: "2023-06-12T04:00:00.000Z", new: 1, returning: 1, resurrecting: 0, dormant: 0 },
      { t: "2023-06-19T04:00:00.000Z", new: 0, returning: 0, resurrecting: 0, dormant: -2 },
    ],
  },
};

/* ---------- paths ---------- */

/*
 * u1: a 10:00, then three events at 10:01 written c, b, a: ordered a, b, c at that instant.
 * u2: Z, a, b at 10:00 (written b, a, Z): ordered Z, a, b; the anchor is a, so Z is before it; then
 *     d at 11:00.
 * u3: a 09:00, a 09:05, c 09:10.
 * Collapsed: u1 [b, c, (end)] (the a at 10:01 joins the anchor's run), u2 [b, d, (end)], u3 [c, (end)].
 * Not collapsed: u1 [a, b, c], u2 [b, d, (end)], u3 [a, c, (end)].
 */
const tieEvents: RawEvent[] = [
  ev("a", "2023-06-01T10:00:00Z", "u1"),
  ev("c", "2023-06-01T10:01:00Z", "u1"),
  ev("b", "2023-06-01T10:01:00Z", "u1"),
  ev("a", "2023-06-01T10:01:00Z", "u1"),
  ev("b", "2023-06-01T10:00:00Z", "u2"),
  ev("a", "2023-06-01T10:00:00Z", "u2"),
  ev("Z", "2023-06-01T10:00:00Z", "u2"),
  ev("d", "2023-06-01T11:00:00Z", "u2"),
  ev("a", "2023-06-01T09:00:00Z", "u3"),
  ev("a", "2023-06-01T09:05:00Z", "u3"),
  ev("c", "2023-06-01T09:10:00Z", "u3"),
];
const pathsSpec = (p: Partial<PathsSpec>): PathsSpec => ({
  kind: "paths",
  anchor: ref("a"),
  direction: "after",
  depth: 3,
  top: 5,
  collapse: true,
  range: range("2023-06-01", "2023-06-01"),
  filters: [],
  ...p,
});
const node = (path: string[], users: number, of: number) => ({ path, users, share: users / of });

const pathsCollapse: InsightCase = {
  name: "paths: ties at one instant by event_type; a run with the anchor collapses",
  events: tieEvents,
  spec: pathsSpec({}),
  expected: {
    anchor: "a",
    direction: "after",
    depth: 3,
    users: 3,
    nodes: [
      node(["b"], 2, 3),
      node(["b", "c"], 1, 3), // ties by name: c before d
      node(["b", "c", "(end)"], 1, 3),
      node(["b", "d"], 1, 3),
      node(["b", "d", "(end)"], 1, 3),
      node(["c"], 1, 3),
      node(["c", "(end)"], 1, 3),
    ],
  },
};

const pathsNoCollapse: InsightCase = {
  name: "paths: --no-collapse keeps repeats",
  events: tieEvents,
  spec: pathsSpec({ collapse: false }),
  expected: {
    anchor: "a",
    direction: "after",
    depth: 3,
    users: 3,
    nodes: [
      node(["a"], 2, 3),
      node(["a", "b"], 1, 3),
      node(["a", "b", "c"], 1, 3),
      node(["a", "c"], 1, 3),
      node(["a", "c", "(end)"], 1, 3),
      node(["b"], 1, 3),
      node(["b", "d"], 1, 3),
      node(["b", "d", "(end)"], 1, 3),
    ],
  },
};

/*
 * Before the last z, within 1 hour, depth 2, top 1.
 * u1: x 08:00, y 09:30, z 10:00 → y (30 min), x is 2 h back: cut → [y, (end)].
 * u2: y 09:50, z 10:00, z 10:30 (anchor: the last z) → z 10:00 joins the anchor's run, y (40 min)
 *     → [y, (end)].
 * u3: w 09:59, z 10:00 → [w, (end)].
 * u4: z 10:00 alone → [(end)].
 * Level 1: y 2, then w 1 and (end) 1 fold into (other) 2; [y] expands to [y, (end)] 2.
 */
const pathsBefore: InsightCase = {
  name: "paths: --before walks back from the last anchor, --within cuts, top 1 folds into (other)",
  events: [
    ev("x", "2023-06-01T08:00:00Z", "u1"),
    ev("y", "2023-06-01T09:30:00Z", "u1"),
    ev("z", "2023-06-01T10:00:00Z", "u1"),
    ev("y", "2023-06-01T09:50:00Z", "u2"),
    ev("z", "2023-06-01T10:00:00Z", "u2"),
    ev("z", "2023-06-01T10:30:00Z", "u2"),
    ev("w", "2023-06-01T09:59:00Z", "u3"),
    ev("z", "2023-06-01T10:00:00Z", "u3"),
    ev("z", "2023-06-01T10:00:00Z", "u4"),
  ],
  spec: pathsSpec({ anchor: ref("z"), direction: "before", depth: 2, top: 1, withinSeconds: 3600 }),
  expected: {
    anchor: "z",
    direction: "before",
    depth: 2,
    users: 4,
    nodes: [node(["y"], 2, 4), node(["y", "(end)"], 2, 4), node(["(other)"], 2, 4)],
  },
};

const pathsNoAnchor: InsightCase = {
  name: "paths: an anchor that never occurs gives an empty tree",
  events: tieEvents,
  spec: pathsSpec({ anchor: ref("a", [{ key: "k", op: "=", value: "1" }]) }),
  expected: { anchor: "a[k=1]", direction: "after", depth: 3, users: 0, nodes: [] },
};

export const insightCases: InsightCase[] = [
  stickiness,
  lifecycle,
  lifecycleWeeks,
  pathsCollapse,
  pathsNoCollapse,
  pathsBefore,
  pathsNoAnchor,
];
