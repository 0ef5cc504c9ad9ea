/**
 * Query-engine timings (not part of the test run):
 *   node --import tsx test/queries/bench.ts [events=2000000] [lakeDir=/tmp/evx-q-lake] [cache=<lakeDir>.duckdb]
 * Generates the synthetic lake once (ensureLake), syncs it once, then prints the median of 3 runs of
 * each analysis in UTC and America/New_York.
 */
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { Executor } from "../../src/queries/executor.js";
import { parseFilter, parseEventRef as ref } from "../../src/queries/parse.js";
import type { AnalysisSpec, DateRange } from "../../src/queries/spec.js";
import { folderSource } from "../../src/source/folder.js";
import { ensureLake } from "../../src/source/synthetic.js";

const events = Number(process.argv[2] ?? 2_000_000);
const lake = process.argv[3] ?? "/tmp/evx-q-lake";
const cachePath = process.argv[4] ?? `${lake}.duckdb`;

const lakeInfo = await ensureLake({ dir: lake, events });
if (!existsSync(cachePath)) {
  const c = await Cache.open(cachePath, { create: true });
  const s = await sync(c, folderSource(lake));
  console.log(`synced ${s.events} events in ${s.seconds} s`);
  c.close();
}
const cache = await Cache.open(cachePath, { readOnly: true });
const ex = new Executor(cache);
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(
      " ",
    )}; lake: ${lakeInfo.events} events, ${lakeInfo.users} users; threads ${(await cache.one<{ t: number }>("SELECT current_setting('threads') AS t"))?.t}`,
);

function specs(range: DateRange): [string, AnalysisSpec][] {
  return [
    ["catalog", { kind: "catalog", range }],
    ["props button_clicked (top 10)", { kind: "props", event: "button_clicked", topValues: 10, range }],
    [
      "trend events/day, 2 events",
      {
        kind: "trend",
        events: [ref("button_clicked"), ref("file_saved")],
        measure: { kind: "events" },
        interval: "day",
        range,
        filters: [],
        limit: 10,
      },
    ],
    [
      "trend users/hour of *",
      {
        kind: "trend",
        events: [ref("*")],
        measure: { kind: "users" },
        interval: "hour",
        range,
        filters: [],
        limit: 10,
      },
    ],
    [
      "trend users/day by button_name (top 5)",
      {
        kind: "trend",
        events: [ref("button_clicked")],
        measure: { kind: "users" },
        interval: "day",
        range,
        filters: [],
        breakdown: "button_name",
        limit: 5,
      },
    ],
    [
      "trend sum:revenue/week, --where plan=pro",
      {
        kind: "trend",
        events: [ref("purchase")],
        measure: { kind: "sum", key: "revenue" },
        interval: "week",
        range,
        filters: [parseFilter("plan=pro")],
        limit: 10,
      },
    ],
    [
      "funnel 3 steps, 1h",
      {
        kind: "funnel",
        steps: [ref("application_opened"), ref("button_clicked[button_name=save]"), ref("file_saved")],
        withinSeconds: 3600,
        range,
        filters: [],
        limit: 10,
      },
    ],
    [
      "funnel 4 steps (repeat), breakdown platform, trend/day",
      {
        kind: "funnel",
        steps: [ref("application_opened"), ref("button_clicked"), ref("button_clicked"), ref("purchase")],
        withinSeconds: 86_400,
        range,
        filters: [],
        limit: 5,
        breakdown: "platform",
        trendInterval: "day",
      },
    ],
    [
      "retention signed_up → * by day, on, 14",
      {
        kind: "retention",
        start: ref("signed_up"),
        return: ref("*"),
        period: "day",
        periods: 14,
        mode: "on",
        range,
        filters: [],
      },
    ],
    [
      "retention application_opened → file_saved by week, on-or-after, 4",
      {
        kind: "retention",
        start: ref("application_opened"),
        return: ref("file_saved"),
        period: "week",
        periods: 4,
        mode: "on-or-after",
        range,
        filters: [],
      },
    ],
  ];
}

const cached = await ex.cachedRange("UTC");
if (!cached) throw new Error("empty cache");
for (const tz of ["UTC", "America/New_York"]) {
  for (const [name, spec] of specs({ from: cached.from, to: cached.to, tz })) {
    const ms: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < 3; i++) {
      const c0 = process.cpuUsage();
      ms.push((await ex.run(spec)).ms);
      const c = process.cpuUsage(c0);
      cpu.push((c.user + c.system) / 1000);
    }
    const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[1];
    console.log(
      `${tz.padEnd(17)} ${name.padEnd(66)} ${med(ms).toFixed(0).padStart(6)} ms wall  ${med(cpu).toFixed(0).padStart(6)} ms cpu   (wall ${ms.map((x) => x.toFixed(0)).join(", ")})`,
    );
  }
}
console.log(
  `load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(" ")}`,
);
ex.close();
cache.close();
