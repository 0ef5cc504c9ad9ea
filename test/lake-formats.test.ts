/**
 * The CLI side of lake formats: an unknown preset, a preset that does not fit the lake, dotted
 * `--map` paths, `--map` refining a stored preset, keys whose date cannot be read, and what
 * `evx status --json` shows. Runs the built CLI (dist/cli.js).
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { generateLake, writeLakeFiles } from "../src/source/synthetic.js";
import { generateVendorLake } from "../src/source/vendors.js";
import { loadVendorLake } from "./brute-vendor.js";
import { evx } from "./helpers/cli.js";
import { jsonl, tempDir } from "./helpers/tmp.js";

const mixpanelLine = (event: string, time: number, who: string, extra: Record<string, unknown> = {}) => ({
  event,
  properties: { time, distinct_id: who, $insert_id: `${event}-${time}-${who}`, ...extra },
});

test("an unknown preset is a usage error listing the known ones", () => {
  const dir = tempDir();
  const r = evx(["sync", dir, "--preset", "snowplow", "--cache", join(dir, "c.duckdb")]);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown --preset 'snowplow': use one of segment, amplitude, mixpanel, posthog/);
});

test("a preset that does not fit stops after the first batch, naming the preset and the field, and suggests --map", () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  writeLakeFiles(lake, {
    "date=2023-06-01/a.jsonl": jsonl(
      Array.from({ length: 20 }, (_, i) => ({
        event_type: "open",
        event_time: "2023-06-01T00:00:00Z",
        user_id: `u${i}`,
      })),
    ),
  });
  const r = evx(["sync", lake, "--preset", "segment", "--layout", "hive", "--cache", join(dir, "c.duckdb")]);
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    /preset segment does not fit this lake: 20 of 20 lines in the first batch lack event_type \(event\); refine it with --map event_type=FIELD/,
  );
});

test("dotted --map paths read nested fields; the identity and time keys leave the properties", () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  writeLakeFiles(lake, {
    "2023/06/01/a.json": jsonl([
      mixpanelLine("Signup", 1685577600, "u1", { plan: "pro" }),
      mixpanelLine("Signup", 1685577600123, "u2"),
    ]),
  });
  const cache = join(dir, "c.duckdb");
  const r = evx([
    "sync",
    lake,
    "--map",
    "event_type=event,event_time=properties.time,user_id=properties.distinct_id,event_properties=properties",
    "--cache",
    cache,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).events, 2);
  const t = evx([
    "trend",
    "Signup",
    "--measure",
    "users",
    "--from",
    "2023-06-01",
    "--to",
    "2023-06-01",
    "--cache",
    cache,
    "--json",
  ]);
  assert.equal(t.code, 0, t.stderr);
  assert.equal(JSON.parse(t.stdout).series[0].total, 2, "seconds and milliseconds both read");
  const p = evx(["props", "Signup", "--cache", cache, "--json"]);
  assert.equal(p.code, 0, p.stderr);
  assert.doesNotMatch(p.stdout, /distinct_id|"time"/);
  assert.match(p.stdout, /plan/);
});

test("--map refines a stored preset; status --json shows the preset, the map and the dedupe field", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  await generateVendorLake({ dir: lake, preset: "mixpanel", events: 300, days: 2, seed: 3 });
  const cache = join(dir, "c.duckdb");
  let r = evx(["sync", lake, "--preset", "mixpanel", "--cache", cache, "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const first = JSON.parse(r.stdout);
  assert.equal(first.preset, "mixpanel");
  assert.ok(first.duplicates > 0);
  r = evx([
    "sync",
    lake,
    "--map",
    "user_id=properties.distinct_id|distinct_id|properties.$device_id",
    "--cache",
    cache,
    "--json",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const s = evx(["status", "--cache", cache, "--json"]);
  const st = JSON.parse(s.stdout);
  assert.deepEqual(st.format, {
    preset: "mixpanel",
    map: {
      event_type: "event|event_name",
      event_time: "properties.time|time",
      user_id: "properties.distinct_id|distinct_id|properties.$device_id",
      event_properties: "properties",
    },
    dedupe:
      "event|event_name+properties.distinct_id|distinct_id+properties.time|time+properties.$insert_id|insert_id",
  });
  assert.equal(st.duplicates, first.duplicates);
  assert.equal(st.events, first.events);
});

test("a preset whose layout dates none of the keys is a usage error (exit 2, one line), and keeps no cache", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events: 2000, days: 2, seed: 5 });
  const cache = join(dir, "c.duckdb");
  const r = evx(["sync", lake, "--preset", "segment", "--cache", cache, "--json"]);
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, "");
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, r.stderr);
  assert.match(
    lines[0],
    /^evx: preset segment's layout \(<epoch-ms of the UTC day>\/\) dates none of the [\d,]+ data files \(date=2023-06-0\d\/part-\d{4}\.jsonl(\.gz)?: no date in the form <epoch-ms of the UTC day>\/\); pick the preset of this lake, or pass --layout$/,
  );
  assert.equal(existsSync(cache), false, "no cache is kept");
  // The lake's own layout, named with --layout, syncs it.
  const ok = evx(["sync", lake, "--cache", cache, "--json"]);
  assert.equal(ok.code, 0, ok.stderr);
});

test("a key whose date cannot be read is listed as ignored with a reason, not guessed", async () => {
  const dir = tempDir();
  const lake = join(dir, "lake");
  await generateVendorLake({ dir: lake, preset: "segment", events: 200, days: 1, seed: 2 });
  writeLakeFiles(lake, {
    // Not a UTC midnight: a received day is always one.
    "segment-logs/src1a2b3c/1685635934000/1685635934000.abc.gz": "",
    "segment-logs/src1a2b3c/latest/1685635934000.def.gz": "",
  });
  const r = evx(["sync", lake, "--preset", "segment", "--cache", join(dir, "c.duckdb"), "--json"]);
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.undated, 2);
  assert.deepEqual(j.undated_keys, [
    {
      key: "segment-logs/src1a2b3c/1685635934000/1685635934000.abc.gz",
      reason: "day folder 1685635934000 is not a UTC midnight in epoch milliseconds",
    },
    {
      key: "segment-logs/src1a2b3c/latest/1685635934000.def.gz",
      reason: "no date in the form <epoch-ms of the UTC day>/",
    },
  ]);
});

test("--from/--to select by the date a vendor layout reads (Segment's day folders, Amplitude's file names)", async () => {
  const dir = tempDir();
  for (const [preset, inDay] of [
    ["segment", (k: string) => k.includes(`/${Date.UTC(2023, 5, 2)}/`)],
    ["amplitude", (k: string) => k.includes("_2023-06-02_")],
  ] as const) {
    const lake = join(dir, preset);
    await generateVendorLake({ dir: lake, preset, events: 600, days: 3, seed: 4 });
    const r = evx([
      "sync",
      lake,
      "--preset",
      preset,
      "--from",
      "2023-06-02",
      "--to",
      "2023-06-02",
      "--cache",
      join(dir, `${preset}.duckdb`),
      "--json",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    // Re-deliveries carried into the next day's first file are duplicates only when both days are
    // synced; on one day alone they are events, as the brute force over that day's files says.
    const truth = await loadVendorLake(lake, preset, { dedupe: true, include: inDay });
    assert.deepEqual(
      [j.events, j.skipped, j.duplicates],
      [truth.events.length, truth.skipped, truth.duplicates],
      preset,
    );
    assert.ok(j.objects.listed > 0 && j.objects.listed < 300, `${preset}: one day of files`);
  }
});

test("evx demo --preset segment shows a vendor-shaped lake end to end, and reuses it", () => {
  const dir = tempDir();
  const env = { XDG_CACHE_HOME: join(dir, "xdg") };
  const r = evx(["demo", "--preset", "segment", "--events", "5000", "--no-ui"], env);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /writing a segment export of 5,000 synthetic events/);
  assert.match(
    r.stderr,
    /synced [\d,]+ of [\d,]+ objects .*: [\d,]+ events, 0 rejected lines, [\d,]+ skipped messages, [\d,]+ duplicates \(preset segment\)/,
  );
  assert.match(r.stderr, /layout <epoch-ms of the UTC day>\//);
  const cache = join(dir, "xdg", "evx", "demo-segment.duckdb");
  const e = evx(["events", "--cache", cache, "--json"]);
  assert.equal(e.code, 0, e.stderr);
  assert.match(e.stdout, /"pages"/, "page calls are events named as the warehouse names them");
  const again = evx(["demo", "--preset", "segment", "--events", "5000", "--no-ui"], env);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stderr, /reusing the segment demo lake/);
  assert.match(again.stderr, /synced 0 of/);
  assert.equal(evx(["demo", "--preset", "rudderstack", "--no-ui"], env).code, 2);
});
