/**
 * Identity stitching (docs/semantics.md, "Identity") per vendor export: hand-worked journeys (an
 * anonymous landing then an identified purchase, one anonymous id identified as two users, a person
 * with three devices, an alias, a late identify), and a cross-check of many generated journeys
 * against the brute force in `merged` and `raw` mode. `EVX_TEST_ENGINE=clickhouse` runs the analyses
 * on ClickHouse (chdb) with the map `evx clickhouse load` builds.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { Cache } from "../../src/cache/db.js";
import { identityStatus } from "../../src/cache/identity.js";
import type { PresetName } from "../../src/cache/presets.js";
import { PRESETS } from "../../src/cache/presets.js";
import { sync } from "../../src/cache/sync.js";
import {
  chReplaceLinks,
  identityDdl,
  identityTables,
  rebuildChIdentity,
} from "../../src/queries/clickhouse/identity.js";
import { Executor } from "../../src/queries/executor.js";
import { parseEventRef as ref } from "../../src/queries/parse.js";
import type {
  AnalysisSpec,
  CatalogSpec,
  DateRange,
  FunnelSpec,
  RetentionSpec,
  TrendSpec,
} from "../../src/queries/spec.js";
import { folderSource } from "../../src/source/folder.js";
import { identityRules } from "../../src/source/identity.js";
import { bruteCatalog, bruteFunnel, bruteRetention, bruteTrend, lastEventTime } from "../brute.js";
import { brutePersons, loadVendorLinks, mergeUsers } from "../brute-identity.js";
import { loadVendorLake } from "../brute-vendor.js";
import { ChdbEngine, chRows, chSession } from "../helpers/chdb-engine.js";
import {
  generateJourneys,
  JOURNEYS,
  LATE_BEFORE,
  LATE_IDENTIFY,
  type Message,
  writeIdentityLake,
} from "../identity-lake.js";
import { assertClose, TEST_ENGINE, type TestEngine, withoutPartialMarks } from "./helpers.js";

const VENDORS: PresetName[] = ["segment", "amplitude", "mixpanel", "posthog"];
const roots: string[] = [];
after(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

interface Opened {
  lake: string;
  cache: Cache;
  ex: TestEngine & { close(): void };
  close(): void;
}

async function open(preset: PresetName, messages: Message[]): Promise<Opened> {
  const root = mkdtempSync(join(tmpdir(), "evx-identity-"));
  roots.push(root);
  const lake = join(root, "lake");
  writeIdentityLake(lake, preset, messages);
  const cache = await Cache.open(join(root, "cache.duckdb"), { create: true, settings: { threads: 2 } });
  await sync(cache, folderSource(lake), { lake: { preset } });
  const ex = TEST_ENGINE === "clickhouse" ? await ChdbEngine.fromCache(cache, root) : new Executor(cache);
  return {
    lake,
    cache,
    ex,
    close() {
      ex.close();
      cache.close();
    },
  };
}

const range: DateRange = { from: "2023-06-01", to: "2023-06-03", tz: "UTC" };
const funnel = (identity: "merged" | "raw", f: Partial<FunnelSpec> = {}): FunnelSpec => ({
  kind: "funnel",
  identity,
  steps: [ref("landing_viewed"), ref("signed_up"), ref("purchase")],
  withinSeconds: 3600,
  range,
  filters: [],
  limit: 10,
  ...f,
});
const trend = (identity: "merged" | "raw", t: Partial<TrendSpec> = {}): TrendSpec => ({
  kind: "trend",
  identity,
  events: [ref("landing_viewed")],
  measure: { kind: "users" },
  interval: "day",
  range,
  filters: [],
  limit: 10,
  ...t,
});

/** How each vendor names the second device of dave (Mixpanel: the anonymous distinct_id). */
const deviceId = (preset: PresetName, d: string) => (preset === "mixpanel" ? `$device:${d}` : d);

for (const preset of VENDORS) {
  describe(`${preset}: hand-worked journeys`, () => {
    let o: Opened;
    test("sync", async () => {
      o = await open(preset, JOURNEYS);
    });

    test("an anonymous landing, then an identified sign-up and purchase, is one conversion", async () => {
      // merged: alice 3 steps; bob (a-2's first identification) 2; dave 2; frank (old-frank) 2.
      const m = await o.ex.run(funnel("merged"));
      assert.deepEqual(
        m.result.steps.map((s) => s.users),
        [4, 4, 1],
      );
      // raw: the anonymous ids a-1, a-2, d-1, d-2, d-3 and old-frank land; only old-frank signs up.
      const r = await o.ex.run(funnel("raw"));
      assert.deepEqual(
        r.result.steps.map((s) => s.users),
        [6, 1, 0],
      );
      const who = await o.ex.run({
        kind: "users",
        identity: "merged",
        of: funnel("merged"),
        select: { kind: "reached", step: 3 },
        limit: 10,
        range,
      });
      assert.deepEqual(
        who.result.users.map((u) => u.user_id),
        ["alice"],
      );
      assert.ok(who.result.users[0].merged_ids?.includes(deviceId(preset, "a-1")));
    });

    test("a person with three devices is one user", async () => {
      const m = await o.ex.run(trend("merged"));
      assert.equal(m.result.series[0].total, 4); // alice, bob, dave, frank
      const r = await o.ex.run(trend("raw"));
      assert.equal(r.result.series[0].total, 6);
      const t = await o.ex.run({
        kind: "timeline",
        identity: "merged",
        user: deviceId(preset, "d-2"),
        range,
        events: ["landing_viewed", "signed_up", "purchase"],
        limit: 100,
      });
      assert.equal(t.result.person_id, "dave");
      assert.equal(t.result.total, 5);
      for (const d of ["d-1", "d-2", "d-3"]) assert.ok(t.result.merged_ids?.includes(deviceId(preset, d)), d);
      // raw: the id as the preset's user column reads it (PostHog: the row's person_id).
      const raw = await o.ex.run({
        kind: "timeline",
        identity: "raw",
        user: preset === "posthog" ? "person-d-2" : deviceId(preset, "d-2"),
        range,
        events: ["landing_viewed", "signed_up", "purchase"],
        limit: 100,
      });
      assert.equal(raw.result.total, 1);
      assert.equal(raw.result.person_id, undefined);
    });

    test("an anonymous id identified as two users stays with the first; the conflict is counted", async () => {
      const who = await o.ex.run({
        kind: "users",
        identity: "merged",
        of: funnel("merged"),
        select: { kind: "reached", step: 2 },
        limit: 10,
        range,
      });
      assert.deepEqual(
        who.result.users.map((u) => u.user_id),
        ["alice", "bob", "dave", "frank"],
      );
      const st = await identityStatus(o.cache);
      assert.equal(st.default, "merged");
      // Mixpanel links both `$device:a-2` and `a-2` (its documented anonymous distinct_id and the device id).
      assert.equal(st.conflicts, preset === "mixpanel" ? 2 : 1);
    });

    test("the brute force agrees, merged and raw", async () => {
      const truth = await loadVendorLake(o.lake, preset, { dedupe: true });
      const { personOf } = brutePersons(loadVendorLinks(o.lake, preset));
      for (const identity of ["merged", "raw"] as const) {
        const events = identity === "merged" ? mergeUsers(truth.events, personOf) : truth.events;
        const f = funnel(identity);
        assertClose(withoutPartialMarks((await o.ex.run(f)).result), bruteFunnel(events, f));
        const t = trend(identity);
        assertClose(withoutPartialMarks((await o.ex.run(t)).result), bruteTrend(events, t));
      }
    });

    test("close", () => o.close());
  });
}

describe("late identification", () => {
  for (const preset of VENDORS)
    test(`${preset}: an identify synced later re-keys the earlier events`, async () => {
      const o = await open(preset, LATE_BEFORE);
      const f = funnel("merged", { steps: [ref("landing_viewed"), ref("signed_up")] });
      try {
        assert.deepEqual(
          (await o.ex.run(f)).result.steps.map((s) => s.users),
          [1, 0],
        );
      } finally {
        o.close();
      }
      writeIdentityLake(o.lake, preset, LATE_IDENTIFY, 1);
      const cache = await Cache.open(join(o.lake, "..", "cache.duckdb"));
      try {
        await sync(cache, folderSource(o.lake));
        const ex =
          TEST_ENGINE === "clickhouse"
            ? await ChdbEngine.fromCache(cache, join(o.lake, ".."))
            : new Executor(cache);
        try {
          // a-4's landing (day 2, 10:00) is erin's now: erin converts.
          assert.deepEqual(
            (await ex.run(f)).result.steps.map((s) => s.users),
            [1, 1],
          );
          const who = await ex.run({
            kind: "users",
            identity: "merged",
            of: f,
            select: { kind: "reached", step: 1 },
            limit: 10,
            range,
          });
          assert.deepEqual(
            who.result.users.map((u) => u.user_id),
            ["erin"],
          );
        } finally {
          ex.close();
        }
      } finally {
        cache.close();
      }
    });
});

describe("generated journeys against the brute force", () => {
  const messages = generateJourneys({ users: 400, days: 14, seed: 3 });
  const full: DateRange = { from: "2023-06-01", to: "2023-06-14", tz: "UTC" };
  const part: DateRange = { from: "2023-06-03", to: "2023-06-10", tz: "Europe/Berlin" };
  const specs = (identity: "merged" | "raw"): AnalysisSpec[] => [
    { kind: "catalog", identity, range: full } satisfies CatalogSpec,
    funnel(identity, { range: full }),
    funnel(identity, { range: part, withinSeconds: 86_400, order: "strict" }),
    funnel(identity, { range: full, order: "any", steps: [ref("signed_up"), ref("purchase")] }),
    trend(identity, { range: full, events: [ref("purchase"), ref("*")] }),
    trend(identity, { range: part, measure: { kind: "per-user" }, interval: "week" }),
    {
      kind: "retention",
      identity,
      start: ref("landing_viewed"),
      return: ref("purchase"),
      period: "day",
      periods: 5,
      mode: "on-or-after",
      range: full,
      filters: [],
    } satisfies RetentionSpec,
  ];
  for (const preset of VENDORS)
    test(preset, async () => {
      const o = await open(preset, messages);
      try {
        const truth = await loadVendorLake(o.lake, preset, { dedupe: true });
        const { personOf, conflicts } = brutePersons(loadVendorLinks(o.lake, preset));
        assert.ok(conflicts > 0);
        assert.equal((await identityStatus(o.cache)).conflicts, conflicts);
        const last = lastEventTime(truth.events);
        for (const identity of ["merged", "raw"] as const) {
          const events = identity === "merged" ? mergeUsers(truth.events, personOf) : truth.events;
          for (const spec of specs(identity)) {
            const expected =
              spec.kind === "catalog"
                ? bruteCatalog(events, spec as CatalogSpec & { range: DateRange })
                : spec.kind === "funnel"
                  ? bruteFunnel(events, spec)
                  : spec.kind === "trend"
                    ? bruteTrend(events, spec)
                    : bruteRetention(events, spec as RetentionSpec, last);
            assertClose(withoutPartialMarks((await o.ex.run(spec)).result), expected);
          }
        }
        // The persons are fewer than the ids.
        const cat = (await o.ex.run({ kind: "catalog", identity: "merged", range: full })).result;
        const raw = (await o.ex.run({ kind: "catalog", identity: "raw", range: full })).result;
        const users = (r: typeof cat) => r.events.find((x) => x.event_type === "landing_viewed")?.users ?? 0;
        assert.ok(users(cat) < users(raw), `${users(cat)} < ${users(raw)}`);
      } finally {
        o.close();
      }
    });
});

describe("evx clickhouse load builds the same map", () => {
  const messages = [...JOURNEYS, ...generateJourneys({ users: 150, days: 3, seed: 9 })];
  for (const preset of VENDORS)
    test(preset, async () => {
      const o = await open(preset, messages);
      try {
        const duck = await o.cache.all<{ id: string; person: string }>(
          `SELECT u.user_id AS id, p.user_id AS person FROM identity m
             JOIN users u ON u.user_key = m.user_key JOIN users p ON p.user_key = m.person_key ORDER BY id`,
        );
        const table = `idload_${preset}_${process.pid}`;
        const conn = {
          rows: async (sql: string, params?: Record<string, unknown>) => chRows(sql, params),
          command: async (sql: string, params?: Record<string, unknown>) => {
            chSession().queryBind(sql, params ?? {}, "JSONEachRow");
          },
        };
        for (const ddl of identityDdl(table)) chSession().query(ddl);
        try {
          // Every file of the lake, as the load reads one partition: the links of its lines.
          const read = `file('${o.lake.replace(/'/g, "\\'")}/**/*.gz', 'LineAsString', 'line String')`;
          await chReplaceLinks(conn, table, "2023-06-01", {
            rules: identityRules(preset),
            timePath: PRESETS[preset].map.event_time,
            reads: [{ read, params: {} }],
          });
          const stats = await rebuildChIdentity(conn, table);
          const ch = chRows(
            `SELECT user_key AS id, person_key AS person FROM ${identityTables(table).map} ORDER BY id`,
          );
          assert.ok(duck.length > 10);
          assert.deepEqual(ch, duck);
          assert.equal(stats.conflicts, (await identityStatus(o.cache)).conflicts);
        } finally {
          for (const t of Object.values(identityTables(table)))
            chSession().query(`DROP TABLE IF EXISTS ${t}`);
        }
      } finally {
        o.close();
      }
    });
});

describe("aliases that loop", () => {
  test("x → y then y → x: the later link closes a loop and is passed over; one person, y", async () => {
    const o = await open("segment", [
      { kind: "event", t: "2023-06-01T09:00:00Z", type: "landing_viewed", anon: "dx", user: "x" },
      { kind: "alias", t: "2023-06-01T09:10:00Z", prev: "x", user: "y" },
      { kind: "event", t: "2023-06-01T09:20:00Z", type: "signed_up", anon: "dy", user: "y" },
      { kind: "alias", t: "2023-06-01T09:30:00Z", prev: "y", user: "x" },
      { kind: "event", t: "2023-06-01T09:40:00Z", type: "purchase", anon: "dx", user: "x" },
    ]);
    try {
      const f = await o.ex.run(funnel("merged"));
      assert.deepEqual(
        f.result.steps.map((s) => s.users),
        [1, 1, 1],
      );
      const who = await o.ex.run({
        kind: "users",
        identity: "merged",
        of: funnel("merged"),
        select: { kind: "reached", step: 3 },
        limit: 10,
        range,
      });
      assert.deepEqual(
        who.result.users.map((u) => [u.user_id, u.merged_ids]),
        [["y", ["dx", "dy", "x"]]],
      );
      const { personOf, conflicts } = brutePersons(loadVendorLinks(o.lake, "segment"));
      assert.equal(personOf("x"), "y");
      assert.equal((await identityStatus(o.cache)).conflicts, conflicts);
    } finally {
      o.close();
    }
  });
});
