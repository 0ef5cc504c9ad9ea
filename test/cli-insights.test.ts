/**
 * `evx paths`, `evx stickiness`, `evx lifecycle` as a user runs them (the built CLI): `--json` equals
 * the brute force, the human and CSV outputs, `--help` examples, and the one-line usage errors.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { before, test } from "node:test";
import type { PathsResult } from "../src/queries/spec.js";
import { pathsTree } from "../src/render/insights.js";
import { displayWidth } from "../src/render/sanitize.js";
import { generateLake } from "../src/source/synthetic.js";
import { type BruteEvent, loadLake } from "./brute.js";
import { bruteLifecycle, brutePaths, bruteStickiness } from "./brute-insights.js";
import { bruteUsers } from "./brute-users.js";
import { evx } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";
import { withoutPartialMarks } from "./queries/helpers.js";

let cache = "";
let events: BruteEvent[] = [];
const range = { from: "2023-06-01", to: "2023-06-07", tz: "UTC" };
const dir = tempDir();

before(async () => {
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events: 6000, days: 7, seed: 15 });
  cache = join(dir, "c.duckdb");
  const r = evx(["sync", lake, "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  events = await loadLake(lake);
});

const json = (args: string[]) => {
  const r = evx([...args, "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  // Without the partial-data marks (test/partial.test.ts checks those).
  const { range: _r, coverage: _c, identity, ...result } = withoutPartialMarks(JSON.parse(r.stdout));
  assert.equal(identity, "raw", "--json echoes the identity (raw on a plain lake)");
  return result;
};

test("evx paths --json equals the brute force (after, before, within, no-collapse, --where)", () => {
  const base = { kind: "paths" as const, range, filters: [], collapse: true, depth: 4, top: 5 };
  const ref = (event: string) => ({ event, filters: [] });
  assert.deepEqual(
    json(["paths", "--after", "application_opened"]),
    brutePaths(events, { ...base, anchor: ref("application_opened"), direction: "after" }),
  );
  assert.deepEqual(
    json([
      "paths",
      "--before",
      "file_saved",
      "--depth",
      "3",
      "--top",
      "2",
      "--within",
      "1h",
      "--no-collapse",
    ]),
    brutePaths(events, {
      ...base,
      anchor: ref("file_saved"),
      direction: "before",
      depth: 3,
      top: 2,
      withinSeconds: 3600,
      collapse: false,
    }),
  );
  assert.deepEqual(
    json(["paths", "--after", "button_clicked", "--where", "screen != home"]),
    brutePaths(events, {
      ...base,
      anchor: ref("button_clicked"),
      direction: "after",
      filters: [{ key: "screen", op: "!=", value: "home" }],
    }),
  );
});

test("evx stickiness and lifecycle --json equal the brute force", () => {
  const event = { event: "application_opened", filters: [] };
  assert.deepEqual(
    json(["stickiness", "application_opened"]),
    bruteStickiness(events, { kind: "stickiness", event, interval: "day", range, filters: [] }),
  );
  assert.deepEqual(
    json([
      "stickiness",
      "application_opened",
      "--interval",
      "hour",
      "--tz",
      "Asia/Kolkata",
      "--from",
      "2023-06-02",
      "--to",
      "2023-06-03",
    ]),
    bruteStickiness(events, {
      kind: "stickiness",
      event,
      interval: "hour",
      range: { from: "2023-06-02", to: "2023-06-03", tz: "Asia/Kolkata" },
      filters: [],
    }),
  );
  assert.deepEqual(
    json(["lifecycle", "application_opened", "--from", "2023-06-03"]),
    bruteLifecycle(events, {
      kind: "lifecycle",
      event,
      interval: "day",
      range: { ...range, from: "2023-06-03" },
      filters: [],
    }),
  );
  assert.deepEqual(
    json(["lifecycle", "file_saved", "--interval", "week"]),
    bruteLifecycle(events, {
      kind: "lifecycle",
      event: { event: "file_saved", filters: [] },
      interval: "week",
      range,
      filters: [],
    }),
  );
});

test("evx paths, human: two steps unless --depth (JSON keeps 4), share of the parent beside all, in 80 columns", () => {
  const r = evx(["paths", "--after", "application_opened", "--cache", cache]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /what they did after application_opened \(depth 2\)/);
  assert.match(r.stdout, /^application_opened +users parent +all$/m);
  assert.match(r.stdout, /^\(2 steps: --depth N for more, up to 10\)$/m);
  assert.doesNotMatch(r.stdout, /^│ {2}│ {2}/m, "no third level");
  // The JSON without --depth is the depth-4 analysis, as before.
  const all = json(["paths", "--after", "application_opened"]) as {
    depth: number;
    users: number;
    nodes: { path: string[]; users: number }[];
  };
  assert.equal(all.depth, 4);
  // Each row: users, share of the parent node's users, share of all anchored users (from the counts).
  const users = new Map(all.nodes.map((n) => [JSON.stringify(n.path), n.users]));
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  let checked = 0;
  for (const n of all.nodes.filter((x) => x.path.length <= 2)) {
    const parent = n.path.length === 1 ? all.users : users.get(JSON.stringify(n.path.slice(0, -1)))!;
    const name = n.path.at(-1)!.replace(/[()]/g, "\\$&");
    const indent = n.path.length === 1 ? "[├└]─ " : "[│ ] {2}[├└]─ ";
    const row = new RegExp(
      `^${indent}${name} .* ${n.users} +${pct(n.users / parent).replace(".", "\\.")} +${pct(n.users / all.users).replace(".", "\\.")}$`,
      "m",
    );
    if (row.test(r.stdout)) checked++;
  }
  assert.ok(checked >= 5, `rows checked against the JSON counts: ${checked}\n${r.stdout}`);
  // The same tree drawn for an 80-column terminal fits it, numbers whole.
  const two = json(["paths", "--after", "application_opened", "--depth", "2"]) as PathsResult;
  const at80 = pathsTree(two, { width: 80, color: false });
  for (const l of at80) assert.ok(displayWidth(l) <= 80, l);
  assert.ok(
    at80.slice(2).every((l) => / +[\d.k]+ +\d+\.\d% +\d+\.\d%$/.test(l)),
    at80.join("\n"),
  );
});

test("human output: a tree, a bar per count, a stacked chart with a legend", () => {
  const run = (args: string[]) => {
    const r = evx([...args, "--cache", cache], { COLUMNS: "100" });
    assert.equal(r.code, 0, r.stderr);
    return r.stdout;
  };
  const tree = run(["paths", "--after", "application_opened", "--depth", "2", "--top", "2"]);
  assert.match(tree, /what they did after application_opened/);
  assert.match(tree, /^├─ \S+ +█/m);
  assert.match(tree, /^│ {2}└─ \(other\)/m);
  const stick = run(["stickiness", "application_opened"]);
  assert.match(stick, /^1 day +█+ +\d+ +\d+\.\d%$/m);
  assert.match(stick, /^7 days /m);
  const life = run(["lifecycle", "application_opened"]);
  assert.match(life, /█ new {2}▓ returning {2}▒ resurrecting {2}░ dormant/);
  assert.match(life, /^ +0 ┼─+$/m);
  // Under the chart, a table of the four values per bucket, equal to the brute force, in 80 columns.
  const want = bruteLifecycle(events, {
    kind: "lifecycle",
    event: { event: "application_opened", filters: [] },
    interval: "day",
    range,
    filters: [],
  });
  const table = life
    .slice(life.indexOf("\nday ") + 1)
    .trimEnd()
    .split("\n");
  assert.match(table[0]!, /^day +new {2}returning {2}resurrecting +dormant$/);
  const n = (s: string) => Number(s.replace(/,/g, ""));
  assert.deepEqual(
    table.slice(1).map((l) => {
      const [day, ...v] = l.replace(/ \*$/, "").split(/ +/);
      return { day, v: v.map(n) };
    }),
    want.points.map((p) => ({
      day: p.t.slice(0, 10),
      v: [p.new, p.returning, p.resurrecting, p.dormant],
    })),
  );
  for (const l of table) assert.ok(l.length <= 80, l);
  const week = run(["lifecycle", "file_saved", "--interval", "week"]);
  assert.match(week, /^week of +new +returning +resurrecting +dormant$/m);
  assert.match(week, /^2023-05-29 +\d/m);
  const none = run(["paths", "--after", "application_opened[plan=nobody]"]);
  assert.match(none, /0 users: nobody has application_opened\[plan=nobody\] in the range/);
});

test("--csv is one row per node / count / bucket", () => {
  const r = evx(["lifecycle", "application_opened", "--csv", "--cache", cache]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], "t,new,returning,resurrecting,dormant,complete");
  assert.equal(lines.length, 1 + 7);
  // The JSON's incomplete buckets are the CSV's complete=false rows (issue #22).
  const j = JSON.parse(evx(["lifecycle", "application_opened", "--json", "--cache", cache]).stdout) as {
    points: { t: string; incomplete?: boolean }[];
  };
  assert.deepEqual(
    lines.slice(1).map((l) => l.split(",").at(-1)),
    j.points.map((pt) => String(!pt.incomplete)),
  );
  const p = evx(["paths", "--after", "application_opened", "--csv", "--cache", cache]);
  assert.equal(p.stdout.split("\n")[0], "anchor,direction,level,path,users,share");
});

test("bad input: one line, exit 2; an anchor whose filter matches nothing: empty, exit 0", () => {
  const bad: [string[], RegExp][] = [
    [["paths", "--after", "zoom", "--depth", "0"], /--depth must be a whole number from 1 to 10/],
    [["paths", "--after", "zoom", "--depth", "11"], /--depth must be a whole number from 1 to 10/],
    [["paths", "--after", "zoom", "--top", "51"], /--top must be a whole number from 1 to 50/],
    [["paths", "--after", "zoom", "--top", "0"], /--top must be a whole number from 1 to 50/],
    [["paths", "--after", "zoom", "--before", "zoom"], /exactly one of --after EVENT or --before EVENT/],
    [["paths"], /exactly one of --after EVENT or --before EVENT/],
    [["stickiness", "zoom", "--interval", "month"], /bad interval "month": use hour, day, week/],
    [["lifecycle", "zoom", "--interval", "hour"], /bad interval "hour": use day, week, month/],
    // An event the data does not name is a typo, as in trend, funnel and retention (issue #22).
    [["paths", "--after", "zom"], /^evx: unknown --after event "zom"; did you mean "zoom"/],
    [["paths", "--before", "never_happens"], /^evx: unknown --before event "never_happens"; did you mean /],
  ];
  for (const [args, msg] of bad) {
    const r = evx([...args, "--cache", cache]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.match(r.stderr, msg);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
  for (const anchor of ["zoom[plan=nobody]"]) {
    const got = json(["paths", "--after", anchor]);
    assert.deepEqual(got, { anchor, direction: "after", depth: 4, users: 0, nodes: [] });
  }
});

test("evx paths --users-of NODE lists the node's users (its count), (other) included", () => {
  const spec = {
    kind: "paths" as const,
    anchor: { event: "application_opened", filters: [] },
    direction: "after" as const,
    depth: 2,
    top: 1,
    collapse: true,
    range,
    filters: [],
  };
  const tree = brutePaths(events, spec);
  for (const node of [tree.nodes[0]!, tree.nodes.find((n) => n.path.at(-1) === "(other)")!]) {
    const got = json([
      "paths",
      "--after",
      "application_opened",
      "--depth",
      "2",
      "--top",
      "1",
      "--users-of",
      JSON.stringify(node.path),
    ]);
    const want = bruteUsers(events, {
      kind: "users",
      of: spec,
      select: { kind: "path", path: node.path },
      limit: 100,
      range,
    });
    assert.equal(got.total, node.users);
    assert.deepEqual(got, want);
  }
  const r = evx(["paths", "--after", "zoom", "--users-of", "(other)>zoom", "--cache", cache]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\(end\) and \(other\) end a path/);
});

test("--help shows examples for each command", () => {
  for (const cmd of ["paths", "stickiness", "lifecycle"]) {
    const r = evx([cmd, "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Examples:/);
  }
});
