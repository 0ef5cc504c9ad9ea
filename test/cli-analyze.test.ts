import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import { generateLake, writeLakeFiles } from "../src/source/synthetic.js";
import {
  type BruteEvent,
  bruteCatalog,
  bruteFunnel,
  bruteRetention,
  bruteTrend,
  lastEventTime,
  loadLake,
} from "./brute.js";
import { evx } from "./helpers/cli.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";

let cache = "";
let events: BruteEvent[] = [];
const range = { from: "2023-06-01", to: "2023-06-07", tz: "UTC" };

const dir = tempDir();
before(async () => {
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events: 8000, days: 7, seed: 11 });
  // Hostile names: quotes, semicolons, backslashes and terminal escapes in event names and values.
  writeLakeFiles(lake, {
    "date=2023-06-03/part-9999.jsonl": jsonl([
      ev(`it's; DROP TABLE events;--`, "2023-06-03T10:00:00Z", "h1", { note: `a "quoted" \\ value;` }),
      ev(`it's; DROP TABLE events;--`, "2023-06-03T11:00:00Z", "h2", { note: "plain" }),
      ev("\u001b[2J\u001b]0;pwned\u0007evil", "2023-06-03T12:00:00Z", "h3", { k: "\u001b[31mred" }),
    ]),
  });
  cache = join(dir, "c.duckdb");
  const r = evx(["sync", lake, "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  events = await loadLake(lake);
});

const json = (args: string[]) => {
  const r = evx([...args, "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
};

test("evx events --json equals the brute force", () => {
  assert.deepEqual(json(["events"]), bruteCatalog(events, { kind: "catalog", range }));
});

test("evx trend --json equals the brute force, with breakdown and a filter", () => {
  const got = json([
    "trend",
    "button_clicked",
    "--measure",
    "users",
    "--breakdown",
    "button_name",
    "--limit",
    "3",
    "--where",
    "screen=editor",
  ]);
  const want = bruteTrend(events, {
    kind: "trend",
    events: [{ event: "button_clicked", filters: [] }],
    measure: { kind: "users" },
    interval: "day",
    range,
    filters: [{ key: "screen", op: "=", value: "editor" }],
    breakdown: "button_name",
    limit: 3,
  });
  assert.deepEqual(got, want);
});

test("evx funnel --json equals the brute force", () => {
  const got = json([
    "funnel",
    "application_opened",
    "button_clicked[button_name=save]",
    "file_saved",
    "--within",
    "1h",
    "--interval",
    "day",
  ]);
  const want = bruteFunnel(events, {
    kind: "funnel",
    steps: [
      { event: "application_opened", filters: [] },
      { event: "button_clicked", filters: [{ key: "button_name", op: "=", value: "save" }] },
      { event: "file_saved", filters: [] },
    ],
    withinSeconds: 3600,
    range,
    filters: [],
    limit: 10,
    trendInterval: "day",
  });
  assert.equal(got.within_seconds, 3600);
  assert.deepEqual(
    got.steps.map((s: { users: number }) => s.users),
    want.steps.map((s) => s.users),
  );
  assert.deepEqual(got, JSON.parse(JSON.stringify(want)));
});

test("evx retention --json equals the brute force", () => {
  const got = json([
    "retention",
    "signed_up",
    "application_opened",
    "--period",
    "day",
    "--periods",
    "5",
    "--mode",
    "on-or-after",
  ]);
  const want = bruteRetention(
    events,
    {
      kind: "retention",
      start: { event: "signed_up", filters: [] },
      return: { event: "application_opened", filters: [] },
      period: "day",
      periods: 5,
      mode: "on-or-after",
      range,
      filters: [],
    },
    lastEventTime(events),
  );
  assert.deepEqual(got, JSON.parse(JSON.stringify(want)));
});

test("hostile event names and values work as data, never as SQL or terminal codes", () => {
  const name = `it's; DROP TABLE events;--`;
  const t = json(["trend", name, "--where", `note=a "quoted" \\ value;`]);
  assert.equal(t.series[0].total, 1);
  const human = evx(["events", "--cache", cache]);
  assert.equal(human.code, 0);
  assert.ok(!human.stdout.includes("\u001b"), "no escape sequences reach the terminal");
  assert.match(human.stdout, /evil/);
  assert.equal(
    json(["events"]).events.length,
    bruteCatalog(events, { kind: "catalog", range }).events.length,
  );
});

test("CSV output is flat with a header", () => {
  const r = evx(["trend", "zoom", "--interval", "week", "--cache", cache, "--csv"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], "event,breakdown,t,value");
  assert.ok(lines.length >= 2);
  assert.match(lines[1], /^zoom,,2023-05-29T00:00:00.000Z,\d+$/);
});

test("bad input: one line, non-zero exit; a filter that matches nothing gives zeros", () => {
  for (const args of [
    ["trend", "no_such_event"],
    ["funnel", "application_opened", "zoom"], // --within missing
    ["funnel", "application_opened", "zoom", "--within", "soon"],
    ["trend", "zoom", "--where", "level"],
    ["trend", "zoom", "--from", "2030-01-01"],
    ["trend", "zoom", "--tz", "Mars/Olympus"],
    ["retention", "zoom", "--period", "fortnight"],
  ]) {
    const r = evx([...args, "--cache", cache]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${r.stderr}`);
  }
  const zero = json(["trend", "zoom", "--where", "level>1000000"]);
  assert.equal(zero.series[0].total, 0);
  assert.ok(zero.series[0].points.every((p: { value: number }) => p.value === 0));
});
