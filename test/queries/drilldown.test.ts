/**
 * Drill-down (docs/semantics.md "Drill-down") against the brute force (test/brute-users.ts): every
 * `--users-of` form and the user timeline on a synthetic lake, in three zones, plus hand-worked users and
 * the identities that tie a drill-down to its analysis's numbers.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { UsageError } from "../../src/queries/errors.js";
import { JsonNumber, jsonKeepingNumbers } from "../../src/queries/jsonnumber.js";
import { parseEventRef as ref, parseFilter as where } from "../../src/queries/parse.js";
import type {
  DateRange,
  FunnelSpec,
  RetentionSpec,
  TimelineSpec,
  TrendSpec,
  UsersSpec,
} from "../../src/queries/spec.js";
import { parseUserSelection } from "../../src/queries/users.js";
import { generateLake } from "../../src/source/synthetic.js";
import {
  type BruteEvent,
  bruteFunnel,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  loadLake,
} from "../brute.js";
import { bruteTimeline, bruteUsers } from "../brute-users.js";
import { cacheFromFiles, cacheFromLake, ev, lines, TEST_ENGINE, type TestCache } from "./helpers.js";

let tc: TestCache;
let events: BruteEvent[];
let root: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), "evx-drill-"));
  const lake = join(root, "lake");
  await generateLake({ dir: lake, events: 20_000, days: 14, seed: 21, usersPer: 25 });
  tc = await cacheFromLake(lake, root);
  events = await loadLake(lake);
});

after(() => {
  tc?.close();
  rmSync(root, { recursive: true, force: true });
});

// On ClickHouse one zone with an offset (its zone handling is proved by the time-zone suite and the
// property test's random drill-downs on it; chdb pays about a second per case).
const ZONES = TEST_ENGINE === "clickhouse" ? ["Asia/Kolkata"] : ["UTC", "America/New_York", "Asia/Kolkata"];
const range = (tz: string): DateRange => ({ from: "2023-06-02", to: "2023-06-12", tz });

function users(of: UsersSpec["of"], select: string, limit = 50): UsersSpec {
  return { kind: "users", of, select: parseUserSelection(select, of), limit, range: of.range };
}

/** The engine's answer equals the brute force's; returns it, so identities reuse it (one run each). */
async function same(spec: UsersSpec): Promise<{ total: number }> {
  const got = (await tc.ex.run(spec)).result;
  assert.deepEqual(got, bruteUsers(events, spec));
  return got;
}

describe("--users-of against the brute force", { concurrency: 2 }, () => {
  for (const tz of ZONES) {
    test(`funnel reached/dropped, ${tz}`, async () => {
      const of: FunnelSpec = {
        kind: "funnel",
        steps: [ref("application_opened"), ref("button_clicked[button_name=save]"), ref("file_saved")],
        withinSeconds: 3600,
        range: range(tz),
        filters: [],
        limit: 10,
      };
      const counts = bruteFunnel(events, of).steps.map((s) => s.users);
      for (const sel of ["reached:1", "reached:2", "reached:3", "dropped:2", "dropped:3"]) {
        const got = await same(users(of, sel));
        // The drill-down lists exactly the users the funnel counts.
        const [kind, n] = sel.split(":");
        const want = kind === "reached" ? counts[+n - 1] : counts[+n - 2] - counts[+n - 1];
        assert.equal(got.total, want, sel);
      }
    });

    test(`trend bucket users, ${tz}`, async () => {
      const of: TrendSpec = {
        kind: "trend",
        events: [ref("file_saved"), ref("error_shown")],
        measure: { kind: "users" },
        interval: "hour",
        range: { from: "2023-06-05T09:00", to: "2023-06-05T15:00", tz },
        filters: [where("platform != linux")],
        limit: 10,
      };
      const t = bruteTrend(events, { ...of, events: [of.events[0]] });
      for (const p of t.series[0].points) {
        const spec = users(of, p.t);
        await same(spec);
      }
      // One event: the bucket's users equal the trend's users measure.
      const one = { ...of, events: [of.events[0]] };
      for (const p of t.series[0].points)
        assert.equal((await tc.ex.run(users(one, p.t))).result.total, p.value);
    });

    test(`retention cells and lost users, ${tz}`, async () => {
      for (const mode of ["on", "on-or-after"] as const) {
        const of: RetentionSpec = {
          kind: "retention",
          start: ref("application_opened"),
          return: ref("file_saved"),
          period: "day",
          periods: 4,
          mode,
          range: range(tz),
          filters: [],
        };
        const r = bruteRetention(events, of, lastEventTime(events));
        for (const c of r.cohorts.slice(0, 3)) {
          for (const n of [0, 1, 3]) {
            const kept = await same(users(of, `${c.cohort}:${n}`));
            const lost = await same(users(of, `${c.cohort}:${n}:lost`));
            assert.equal(kept.total, c.retained[n]);
            assert.equal(lost.total, c.users - c.retained[n]);
          }
        }
      }
    });
  }

  test("the limit cuts the list, never the total", async () => {
    const of: FunnelSpec = {
      kind: "funnel",
      steps: [ref("application_opened"), ref("file_saved")],
      withinSeconds: 86_400,
      range: range("UTC"),
      filters: [],
      limit: 10,
    };
    const spec = users(of, "reached:1", 3);
    const got = (await tc.ex.run(spec)).result;
    assert.equal(got.users.length, 3);
    assert.ok(got.total > 3);
    assert.deepEqual(got, bruteUsers(events, spec));
  });

  test("--limit 0 lists nobody and still counts every user and event (the total only)", async () => {
    const of: FunnelSpec = {
      kind: "funnel",
      steps: [ref("application_opened"), ref("file_saved")],
      withinSeconds: 86_400,
      range: range("UTC"),
      filters: [],
      limit: 10,
    };
    for (const sel of ["reached:1", "dropped:2"]) {
      const spec = users(of, sel, 0);
      const got = (await tc.ex.run(spec)).result;
      assert.equal(got.users.length, 0);
      assert.ok(got.total > 0, sel);
      assert.deepEqual(got, bruteUsers(events, spec));
      assert.equal(got.total, (await tc.ex.run(users(of, sel, 100_000))).result.total);
    }
    const user = events[0].user;
    const tl: TimelineSpec = { kind: "timeline", user, range: range("UTC"), events: [], limit: 0 };
    const got = (await tc.ex.run(tl)).result;
    assert.equal(got.events.length, 0);
    assert.ok(got.total > 0);
    assert.deepEqual(got, bruteTimeline(events, tl));
  });

  test("user timelines", async () => {
    const ids = [...new Set(events.map((e) => e.user))].slice(0, 6);
    for (const [i, user] of ids.entries()) {
      const spec: TimelineSpec = {
        kind: "timeline",
        user,
        range: i % 2 ? range("Europe/Berlin") : { from: "2023-06-01", to: "2023-06-14", tz: "UTC" },
        events: i === 3 ? ["file_saved", "application_opened"] : [],
        limit: i === 4 ? 5 : 500,
      };
      assert.deepEqual((await tc.ex.run(spec)).result, bruteTimeline(events, spec));
    }
    const none = (
      await tc.ex.run({ kind: "timeline", user: "nobody", range: range("UTC"), events: [], limit: 5 })
    ).result;
    assert.deepEqual(none, { user_id: "nobody", total: 0, events: [] });
  });
});

describe("drill-down, hand-worked", () => {
  test("funnel dropped:2 and a trend bucket on a DST fall-back day", async () => {
    // u1 opens and saves; u2 opens twice and never saves; u3 saves without opening.
    const c = await cacheFromFiles({
      "date=2023-10-29/a.jsonl": lines([
        ev("open", "2023-10-29T00:30:00Z", "u1"), // 02:30 CEST (first 02:xx)
        ev("save", "2023-10-29T00:40:00Z", "u1"),
        ev("open", "2023-10-29T01:30:00Z", "u2"), // 02:30 CET (the repeated 02:xx)
        ev("open", "2023-10-29T03:00:00Z", "u2"), // 04:00 CET
        ev("save", "2023-10-29T05:00:00Z", "u3"),
      ]),
    });
    try {
      const rangeB = { from: "2023-10-29", to: "2023-10-29", tz: "Europe/Berlin" };
      const f: FunnelSpec = {
        kind: "funnel",
        steps: [ref("open"), ref("save")],
        withinSeconds: 3600,
        range: rangeB,
        filters: [],
        limit: 10,
      };
      const dropped = (await c.ex.run(users(f, "dropped:2"))).result;
      assert.deepEqual(
        dropped.users.map((u) => [u.user_id, u.events]),
        [["u2", 2]],
      );
      const reached = (await c.ex.run(users(f, "reached:2"))).result;
      assert.deepEqual(
        reached.users.map((u) => u.user_id),
        ["u1"],
      );
      // The 02:00 wall-clock hour holds both occurrences (00:00Z–02:00Z); it is named by its first
      // instant, 00:00Z, or by its local time.
      const t: TrendSpec = {
        kind: "trend",
        events: [ref("open")],
        measure: { kind: "users" },
        interval: "hour",
        range: rangeB,
        filters: [],
        limit: 10,
      };
      for (const at of ["2023-10-29T00:00:00.000Z", "2023-10-29T02:00"]) {
        const r = (await c.ex.run(users(t, at))).result;
        assert.deepEqual(
          r.users.map((u) => u.user_id),
          ["u1", "u2"],
          at,
        );
      }
      assert.throws(() => users(t, "2023-10-29T02:30"), UsageError);
      assert.throws(() => users(f, "dropped:1"), /N ≥ 2/);
      assert.throws(() => users(f, "reached:3"), /steps 1..2/);
      const tl = (await c.ex.run({ kind: "timeline", user: "u2", range: rangeB, events: [], limit: 10 }))
        .result;
      assert.deepEqual(tl, {
        user_id: "u2",
        total: 2,
        events: [
          { event_type: "open", event_time: "2023-10-29T01:30:00.000Z", properties: {} },
          { event_type: "open", event_time: "2023-10-29T03:00:00.000Z", properties: {} },
        ],
      });
    } finally {
      c.close();
    }
  });

  test("the timeline keeps every number's text, on both engines", async () => {
    // Numbers JSON.parse would change (19.0 → 19, 1e2 → 100, the big integers rounded), with spaces
    // the engines may drop, and strings that look like numbers or tags.
    const props = String.raw`{"a": 19.0, "b":1e2,"c":1.50,"d":1234567890123456789,"e":-0.0,"f":{"g":12345678901234567890123,"h":[1.0,"2.50"]},"s":"\u00015","t":"1e2"}`;
    const c = await cacheFromFiles({
      "date=2023-06-01/a.jsonl": `{"event_type":"v","event_time":"2023-06-01T07:00:00Z","user_id":"t1","event_properties":${props}}\n`,
    });
    try {
      const tl = (
        await c.ex.run({
          kind: "timeline",
          user: "t1",
          range: { from: "2023-06-01", to: "2023-06-01", tz: "UTC" },
          events: [],
          limit: 10,
        })
      ).result;
      const got = tl.events[0].properties;
      assert.deepEqual(got, {
        a: new JsonNumber("19.0"),
        b: new JsonNumber("1e2"),
        c: new JsonNumber("1.50"),
        d: new JsonNumber("1234567890123456789"),
        e: new JsonNumber("-0.0"),
        f: { g: new JsonNumber("12345678901234567890123"), h: [new JsonNumber("1.0"), "2.50"] },
        s: "\u00015",
        t: "1e2",
      });
      assert.equal(jsonKeepingNumbers(got), props.replace(/ /g, ""));
    } finally {
      c.close();
    }
  });
});
