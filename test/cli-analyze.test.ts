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
import { bruteTimeline, bruteUsers } from "./brute-users.js";
import { evx } from "./helpers/cli.js";
import { ev, jsonl, tempDir } from "./helpers/tmp.js";
import { withoutPartialMarks } from "./queries/helpers.js";

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

/**
 * The `--json` result without its `range`, `coverage` (checked here for the default range) and
 * `identity` (`raw` on this plain lake unless asked), and without its partial-data marks
 * (test/partial.test.ts checks those).
 */
const json = (args: string[], c = cache) => {
  const { range: resolved, coverage, identity, ...result } = withoutPartialMarks(rawJson(args, c));
  const asked = args.indexOf("--identity");
  assert.equal(identity, asked < 0 ? "raw" : args[asked + 1], "--json echoes the identity");
  if (!args.some((a) => a.startsWith("--from") || a.startsWith("--to") || a.startsWith("--last"))) {
    assert.deepEqual(resolved, {
      from: "2023-06-01T00:00:00.000Z",
      to: "2023-06-08T00:00:00.000Z",
      tz: "UTC",
    });
    assert.deepEqual(coverage.missing, []);
    assert.deepEqual(coverage.failed, []);
  }
  return result;
};
const rawJson = (args: string[], c = cache) => {
  const r = evx([...args, "--cache", c, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stderr, "", "--json warns in the JSON, not on stderr");
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

test("funnel --order/--exclude/--hold/--value and retention --cohort/--value: JSON equals the brute force, echoes the modes", () => {
  const steps = ["file_opened", "file_saved"].map((event) => ({ event, filters: [] }));
  const base = { kind: "funnel" as const, steps, withinSeconds: 3600, range, filters: [], limit: 10 };
  const args = ["funnel", "file_opened", "file_saved", "--within", "1h"];
  const strict = json([...args, "--order", "strict", "--exclude", "error_shown", "--hold", "file_name"]);
  assert.equal(strict.order, "strict");
  assert.deepEqual(strict.exclude, ["error_shown@1-2"]);
  assert.equal(strict.hold, "file_name");
  const exclude = [{ event: { event: "error_shown", filters: [] }, from: 1, to: 2 }];
  assert.deepEqual(
    strict,
    JSON.parse(JSON.stringify(bruteFunnel(events, { ...base, order: "strict", exclude, hold: "file_name" }))),
  );
  const any = json([...args, "--order", "any"]);
  assert.deepEqual(any, JSON.parse(JSON.stringify(bruteFunnel(events, { ...base, order: "any" }))));
  const valued = json([...args, "--value", "size_kb"]);
  assert.ok(valued.steps[1].value.sum > 0);
  const want = bruteFunnel(events, { ...base, value: "size_kb" });
  assert.equal(valued.steps[1].value.sum, want.steps[1]!.value!.sum);
  assert.equal(valued.steps[0].value.avg, null); // file_opened has no size_kb
  const human = evx([...args, "--order", "strict", "--exclude", "error_shown@1-2", "--cache", cache]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^strict funnel within 1h \(excluding error_shown@1-2\), /);
  const csv = evx([...args, "--value", "size_kb", "--csv", "--cache", cache]);
  assert.match(csv.stdout.split("\n")[0]!, /,value_sum,value_avg$/);
  // --hold on a key of other events (file_opened has no size_kb): answered, with one warning line on
  // stderr (stdout stays JSON), and everyone stops at step 1.
  const held = evx([...args, "--hold", "size_kb", "--json", "--cache", cache]);
  assert.equal(held.code, 0, held.stderr);
  assert.equal(
    held.stderr,
    'evx: warning: --hold "size_kb": no "file_opened" event in the range has it, so every attempt stops at step 1\n',
  );
  assert.equal(JSON.parse(held.stdout).steps[1].users, 0);
  // --hold on a key no event has: a usage error with suggestions (issue #22).
  const typo = evx([...args, "--hold", "file_nme", "--json", "--cache", cache]);
  assert.equal(typo.code, 2, typo.stderr);
  assert.equal(typo.stdout, "");
  assert.match(
    typo.stderr,
    /^evx: unknown property key "file_nme" in --hold: no event has it; did you mean "file_name"/,
  );

  const rargs = ["retention", "application_opened", "file_saved", "--period", "day", "--periods", "4"];
  const recurring = json([...rargs, "--cohort", "recurring", "--value", "size_kb"]);
  assert.equal(recurring.cohort, "recurring");
  const rspec = {
    kind: "retention" as const,
    start: { event: "application_opened", filters: [] },
    return: { event: "file_saved", filters: [] },
    period: "day" as const,
    periods: 4,
    mode: "on" as const,
    cohort: "recurring" as const,
    value: "size_kb",
    range,
    filters: [],
  };
  const rwant = JSON.parse(JSON.stringify(bruteRetention(events, rspec, lastEventTime(events))));
  assert.deepEqual(recurring, rwant);
  assert.ok(recurring.cohorts[1].value[0] > 0);
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

test("the human trend's legend names each breakdown value, as the TUI's does", () => {
  const args = ["trend", "button_clicked", "--breakdown", "button_name", "--limit", "5"];
  const values: string[] = json(args).series.map((s: { breakdown: string }) => s.breakdown);
  assert.ok(values.length >= 5, "five values (and `(other)`)");
  const r = evx([...args, "--cache", cache]);
  assert.equal(r.code, 0, r.stderr);
  const legend = r.stdout.split("\n").find((l) => l.startsWith("── "));
  assert.ok(legend, r.stdout);
  for (const v of values) assert.ok(legend.includes(` ${v}`), `${v} in ${legend}`);
});

test("human retention: periods after the current one are blank, the current one is marked *", () => {
  const args = ["retention", "application_opened", "*", "--period", "day", "--periods", "8"];
  const result = json(args);
  const r = evx([...args, "--cache", cache]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  let future = 0;
  for (const c of result.cohorts as { cohort: string; users: number; incomplete_from: number | null }[]) {
    if (!(c.users > 0)) continue;
    const row = lines.find((l) => l.startsWith(c.cohort.slice(5, 10)));
    assert.ok(row, `${c.cohort} in\n${r.stdout}`);
    const cells = row.match(/\d+(\.\d)?%\*?/g) ?? [];
    const known = c.incomplete_from === null ? 8 : c.incomplete_from + 1;
    future += 8 - known;
    assert.equal(cells.length, known, row);
    assert.deepEqual(
      cells.map((x) => x.endsWith("*")),
      cells.map((_, n) => n === c.incomplete_from),
      row,
    );
  }
  assert.ok(future > 0, "the range ends with cohorts whose later periods lie in the future");
});

test("CSV output is flat with a header", () => {
  const r = evx(["trend", "zoom", "--interval", "week", "--cache", cache, "--csv"]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split("\n");
  assert.equal(lines[0], "event,breakdown,t,value,complete");
  assert.ok(lines.length >= 2);
  // The range starts on a Thursday: its first week is cut, so incomplete.
  assert.match(lines[1], /^zoom,,2023-05-29T00:00:00.000Z,\d+,false$/);
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
    ["trend", "zoom", "--from", "2023-06-05", "--to", "2023-06-02"],
    ["trend", "zoom", "--from", "2023-06-05T10:00", "--to", "2023-06-05T10:00"],
    ["trend", "zoom", "--interval", "2m"],
    ["trend", "zoom", "--compare", "2d"],
    ["funnel", "zoom", "zoom", "--within", "1h", "--compare", "yesterday"],
    ["trend", "zoom", "--last", "0m"],
    ["trend", "zoom", "--last=-5m"],
    ["trend", "zoom", "--last", "1h", "--from", "2023-06-02"],
    ["trend", "zoom", "--from", "2023-06-02T10:00Z"],
    ["trend", "zoom", "--to", "2023-06-02T10:00:00+02:00"],
    ["trend", "zoom", "--interval", "minute"], // 7 days of minutes: more than 10,000 points
    ["retention", "zoom", "--period", "hour", "--periods", "0"],
    ["funnel", "zoom", "file_saved", "--within", "1h", "--order", "random"],
    ["funnel", "zoom", "file_saved", "--within", "1h", "--exclude", "error_shown@2-1"],
    ["funnel", "zoom", "file_saved", "--within", "1h", "--exclude", "error_shown@1-3"],
    ["funnel", "zoom", "file_saved", "--within", "1h", "--exclude", "no_such_event"],
    ["funnel", "zoom", "file_saved", "--within", "1h", "--order", "any", "--exclude", "error_shown"],
    ["funnel", "zoom", "file_saved", "--within", "1h", "--order", "any", "--value", "n"],
    ["funnel", "zoom", "--within", "1h", "--order", "any"],
    ["retention", "zoom", "--cohort", "every"],
  ]) {
    const r = evx([...args, "--cache", cache]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, `${args.join(" ")}: ${r.stderr}`);
  }
  const zero = json(["trend", "zoom", "--where", "level>1000000"]);
  assert.equal(zero.series[0].total, 0);
  assert.ok(zero.series[0].points.every((p: { value: number }) => p.value === 0));
});

test("--last, date-times and --compare through the CLI equal the brute force", () => {
  const last = lastEventTime(events) ?? 0;
  const end = Math.floor(last / 60_000_000) * 60_000_000 + 60_000_000;
  const iso = (us: number) => new Date(us / 1000).toISOString();
  const got = rawJson([
    "trend",
    "zoom",
    "--last",
    "6h",
    "--interval",
    "15m",
    "--compare",
    "1d",
    "--tz",
    "Asia/Kolkata",
  ]);
  assert.deepEqual(got.range, { from: iso(end - 6 * 3_600_000_000), to: iso(end), tz: "Asia/Kolkata" });
  const spec = {
    kind: "trend" as const,
    events: [{ event: "zoom", filters: [] }],
    measure: { kind: "events" as const },
    interval: "15m" as const,
    range: { from: got.range.from, to: got.range.to, tz: "Asia/Kolkata" },
    filters: [],
    limit: 10,
    compare: "1d" as const,
  };
  const { range: _r, coverage: _c, identity: _i, ...result } = withoutPartialMarks(got);
  assert.deepEqual(result, JSON.parse(JSON.stringify(bruteTrend(events, spec))));
  assert.equal(got.series[0].compare.offset_seconds, 86_400);

  const f = rawJson([
    "funnel",
    "application_opened",
    "file_saved",
    "--within",
    "1h",
    "--from",
    "2023-06-03T09:30",
    "--to",
    "2023-06-05T18:00",
    "--tz",
    "Europe/Berlin",
    "--compare",
    "previous",
    "--interval",
    "hour",
  ]);
  assert.deepEqual(f.range, {
    from: "2023-06-03T07:30:00.000Z",
    to: "2023-06-05T16:00:00.000Z",
    tz: "Europe/Berlin",
  });
  const fspec = {
    kind: "funnel" as const,
    steps: [
      { event: "application_opened", filters: [] },
      { event: "file_saved", filters: [] },
    ],
    withinSeconds: 3600,
    range: { from: "2023-06-03T09:30", to: "2023-06-05T18:00", tz: "Europe/Berlin" },
    filters: [],
    limit: 10,
    trendInterval: "hour" as const,
    compare: "previous" as const,
  };
  const { range: _fr, coverage: _fc, identity: _fi, ...fres } = withoutPartialMarks(f);
  assert.deepEqual(fres, JSON.parse(JSON.stringify(bruteFunnel(events, fspec))));
  assert.equal(f.compare.offset_seconds, 2 * 86_400 + 8.5 * 3600);
});

test("--sql prints the statement, its parameters and the inlined SQL, and exits 0", () => {
  const r = evx(["funnel", "application_opened", "file_saved", "--within", "1h", "--sql", "--cache", cache]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^-- evx funnel on DuckDB/);
  assert.match(r.stdout, /ASOF LEFT JOIN/);
  assert.match(r.stdout, /-- parameters:\n-- {3}\$1 = /);
  assert.match(r.stdout, /'application_opened'/, "the inlined copy has the literal");
  assert.doesNotMatch(r.stdout.split("-- parameters:")[0], /'application_opened'/, "the statement binds it");
});

test("coverage: a range past the synced partitions is answered, and says what is missing", () => {
  const partial = join(dir, "partial.duckdb");
  const r = evx([
    "sync",
    join(dir, "lake"),
    "--cache",
    partial,
    "--from",
    "2023-06-02",
    "--to",
    "2023-06-05",
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const human = evx(["events", "--cache", partial, "--from", "2023-06-01", "--to", "2023-06-07"]);
  assert.equal(human.code, 0, human.stderr);
  const warn = human.stderr.trim().split("\n");
  assert.equal(warn.length, 1, human.stderr);
  assert.match(
    warn[0],
    /^evx: warning: incomplete data: 4 of 7 partitions in range are synced \(not synced: 2023-06-01, 2023-06-06, 2023-06-07\)/,
  );
  const got = rawJson(["events", "--from", "2023-06-01", "--to", "2023-06-07"], partial);
  assert.deepEqual(got.coverage.missing, ["2023-06-01", "2023-06-06", "2023-06-07"]);
  assert.equal(got.coverage.partitions_in_range, 7);
  assert.equal(got.coverage.partitions_synced, 4);
  // Fully synced dates: no warning.
  const inside = evx(["events", "--cache", partial, "--from", "2023-06-02", "--to", "2023-06-05"]);
  assert.equal(inside.stderr, "");
});

test("--users-of and evx user: JSON equals the brute force, CSV and human work, bad forms exit 2", () => {
  const funnel = {
    kind: "funnel" as const,
    steps: [
      { event: "application_opened", filters: [] },
      { event: "file_saved", filters: [] },
    ],
    withinSeconds: 3600,
    range,
    filters: [],
    limit: 10,
  };
  const got = json([
    "funnel",
    "application_opened",
    "file_saved",
    "--within",
    "1h",
    "--users-of",
    "dropped:2",
    "--limit",
    "7",
  ]);
  const want = bruteUsers(events, {
    kind: "users",
    of: funnel,
    select: { kind: "dropped", step: 2 },
    limit: 7,
    range,
  });
  assert.deepEqual(got, want);
  assert.equal(got.users.length, 7);
  const counts = bruteFunnel(events, funnel).steps.map((s) => s.users);
  assert.equal(got.total, counts[0] - counts[1]);

  const csv = evx([
    "funnel",
    "application_opened",
    "file_saved",
    "--within",
    "1h",
    "--users-of",
    "reached:2",
    "--limit",
    "3",
    "--csv",
    "--cache",
    cache,
  ]);
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout.split("\n")[0], "user_id,events,first_seen,last_seen");
  assert.equal(csv.stdout.trim().split("\n").length, 4);

  const human = evx([
    "retention",
    "signed_up",
    "--period",
    "day",
    "--users-of",
    "2023-06-02:1",
    "--cache",
    cache,
  ]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^\d+ users, 2023-06-01 00:00 \.\. 2023-06-08 00:00 \(UTC\)/);

  const user = want.users[0].user_id;
  const tl = json(["user", user, "--limit", "5"]);
  // Parsed back, as the CLI's JSON is (its numbers' texts: numtext-cli.test.ts).
  const brute = bruteTimeline(events, { kind: "timeline", user, range, events: [], limit: 5 });
  assert.deepEqual(tl, JSON.parse(JSON.stringify(brute)));
  const lines = evx(["user", user, "--cache", cache]);
  assert.equal(lines.code, 0, lines.stderr);
  assert.match(lines.stdout, /^\S+: \d+ events, /);
  assert.match(lines.stdout.split("\n")[1], /^2023-06-\d\d \d\d:\d\d:\d\d\.\d{3,6} {2}\S+/);

  const nobody = evx(["user", "nobody-at-all", "--cache", cache]);
  assert.equal(nobody.code, 0);
  assert.match(nobody.stderr, /no events of user "nobody-at-all"/);
  assert.equal(json(["user", "nobody-at-all"]).total, 0);

  for (const args of [
    ["funnel", "application_opened", "file_saved", "--within", "1h", "--users-of", "dropped:1"],
    ["funnel", "application_opened", "file_saved", "--within", "1h", "--users-of", "reached:3"],
    ["funnel", "application_opened", "file_saved", "--within", "1h", "--users-of", "gone:1"],
    ["trend", "zoom", "--interval", "hour", "--users-of", "2023-06-02T10:30"],
    ["retention", "signed_up", "--period", "day", "--periods", "3", "--users-of", "2023-06-02:3"],
    ["retention", "signed_up", "--period", "week", "--users-of", "2023-06-02:1"],
  ]) {
    const r = evx([...args, "--cache", cache]);
    assert.equal(r.code, 2, `${args.join(" ")}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split("\n").length, 1, r.stderr);
  }
});

test("--limit 0 on a drill-down is the total only: JSON, human and CSV; evx user keeps the user", () => {
  const funnel = ["funnel", "application_opened", "file_saved", "--within", "1h", "--users-of", "reached:1"];
  const all = json([...funnel, "--limit", "100000"]);
  assert.ok(all.total > 0);
  assert.deepEqual(json([...funnel, "--limit", "0"]), { total: all.total, users: [] });
  const human = evx([...funnel, "--limit", "0", "--cache", cache]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(
    human.stdout,
    new RegExp(`^${all.total.toLocaleString("en-US")} users, .*; none listed \\(--limit 0\\)\\n$`),
  );
  const csv = evx([...funnel, "--limit", "0", "--csv", "--cache", cache]);
  assert.equal(csv.code, 0, csv.stderr);
  assert.equal(csv.stdout, `total\n${all.total}\n`);

  const user = all.users[0].user_id;
  const full = json(["user", user, "--limit", "100000"]);
  assert.ok(full.total > 0);
  assert.deepEqual(json(["user", user, "--limit", "0"]), { user_id: user, total: full.total, events: [] });
  const lines = evx(["user", user, "--limit", "0", "--cache", cache]);
  assert.equal(lines.code, 0, lines.stderr);
  assert.equal(lines.stderr, "", "the user exists");
  assert.match(lines.stdout, new RegExp(`^\\S+: ${full.total} events, .*; none listed \\(--limit 0\\)\\n$`));
  const tcsv = evx(["user", user, "--limit", "0", "--csv", "--cache", cache]);
  assert.equal(tcsv.stdout, `user_id,total\n${user},${full.total}\n`);
});

test("funnel --order any: row k reads `any k of K` (human, JSON label, CSV label), the steps named once", () => {
  const args = ["funnel", "signed_up", "file_opened", "file_saved", "--within", "1d", "--order", "any"];
  const r = json(args);
  assert.deepEqual(
    r.steps.map((s: { step: string; label: string }) => [s.step, s.label]),
    [
      ["signed_up", "any 1 of 3"],
      ["file_opened", "any 2 of 3"],
      ["file_saved", "any 3 of 3"],
    ],
  );
  // Row 1 is not signed_up's users: more users did any one of the steps than ever signed up.
  const signedUp = json(["events"]).events.find(
    (e: { event_type: string }) => e.event_type === "signed_up",
  ).users;
  assert.ok(r.steps[0].users > signedUp, `${r.steps[0].users} > ${signedUp}`);
  const human = evx([...args, "--cache", cache]);
  assert.equal(human.code, 0, human.stderr);
  const lines = human.stdout.split("\n");
  assert.match(lines[0]!, /^any-order funnel of signed_up, file_opened, file_saved within 1d, /);
  for (const [i, s] of r.steps.entries())
    assert.match(lines[i + 1]!, new RegExp(`^any ${i + 1} of 3 .*\\b${s.users.toLocaleString("en-US")}\\b`));
  assert.doesNotMatch(human.stdout, /^\d\. signed_up/m);
  const csv = evx([...args, "--csv", "--cache", cache]);
  assert.equal(csv.code, 0, csv.stderr);
  const rows = csv.stdout.trim().split("\n");
  assert.match(rows[0]!, /,label$/);
  assert.match(rows[1]!, /^step,,1,signed_up,\d+,.*,any 1 of 3$/);
  // Ordered funnels keep their shape: no label.
  const ordered = json(["funnel", "signed_up", "file_opened", "--within", "1d"]);
  assert.equal(ordered.steps[0].label, undefined);
  assert.match(
    evx(["funnel", "signed_up", "file_opened", "--within", "1d", "--cache", cache]).stdout,
    /^1\. signed_up /m,
  );
});
