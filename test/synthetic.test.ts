/** The synthetic lake generator: determinism, exact counts, layout, realism, reuse. */
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { gunzipSync } from "node:zlib";
import { ensureLake, generateLake, type LakeResult, writeLakeFiles } from "../src/source/synthetic.js";

const root = mkdtempSync(join(tmpdir(), "evx-synth-"));
after(() => rmSync(root, { recursive: true, force: true }));

/** Relative paths of every file under `dir`, sorted. */
function listFiles(dir: string, prefix = ""): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out.sort();
}

function readLines(dir: string, rel: string): string[] {
  let buf = readFileSync(join(dir, rel));
  if (rel.endsWith(".gz")) buf = gunzipSync(buf);
  const text = buf.toString("utf8");
  assert.ok(text.endsWith("\n"), `${rel} ends with a newline`);
  return text.slice(0, -1).split("\n");
}

interface Row {
  event_type: string;
  event_time: string;
  user_id: string;
  event_properties: Record<string, unknown>;
}

describe("generateLake", () => {
  const dirA = join(root, "a");
  let result: LakeResult;
  let files: string[];
  const rows: { file: string; row: Row }[] = [];

  before(async () => {
    result = await generateLake({ dir: dirA, events: 30_000, days: 7, seed: 7 });
    files = listFiles(dirA);
    for (const file of files)
      for (const l of readLines(dirA, file)) rows.push({ file, row: JSON.parse(l) as Row });
  });

  test("writes exactly the requested number of events and reports files, bytes and users", () => {
    assert.equal(result.events, 30_000);
    assert.equal(rows.length, 30_000);
    assert.equal(result.files, files.length);
    assert.equal(
      result.bytes,
      files.reduce((s, f) => s + statSync(join(dirA, f)).size, 0),
    );
    assert.equal(result.users, new Set(rows.map((r) => r.row.user_id)).size);
  });

  test("layout: date=YYYY-MM-DD/part-HHMM.jsonl[.gz], 15-minute parts, some gzipped", () => {
    const dates = new Set<string>();
    for (const f of files) {
      const m = /^date=(\d{4}-\d{2}-\d{2})\/part-(\d{2})(\d{2})\.jsonl(\.gz)?$/.exec(f);
      assert.ok(m, `unexpected file ${f}`);
      assert.ok(+m[2] < 24 && ["00", "15", "30", "45"].includes(m[3]), f);
      dates.add(m[1]);
    }
    assert.deepStrictEqual([...dates].sort(), [
      "2023-06-01",
      "2023-06-02",
      "2023-06-03",
      "2023-06-04",
      "2023-06-05",
      "2023-06-06",
      "2023-06-07",
    ]);
    const gz = files.filter((f) => f.endsWith(".gz")).length;
    assert.ok(gz > files.length * 0.15 && gz < files.length * 0.45, `gz share ${gz}/${files.length}`);
  });

  test("every event sits in its file's 15-minute window, sorted by time; exact line format", () => {
    const LINE =
      /^\{"event_type":"[a-z_]+","event_time":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z","user_id":"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}","event_properties":\{.*\}\}$/;
    for (const file of files.slice(0, 40)) {
      for (const l of readLines(dirA, file)) assert.match(l, LINE);
    }
    let prev = "";
    let prevFile = "";
    for (const { file, row } of rows) {
      const m = /^date=(\d{4}-\d{2}-\d{2})\/part-(\d{2})(\d{2})/.exec(file)!;
      const t = row.event_time;
      assert.equal(t.slice(0, 10), m[1]);
      assert.equal(t.slice(11, 13), m[2]);
      const minute = +t.slice(14, 16);
      assert.ok(minute >= +m[3] && minute < +m[3] + 15, `${t} in ${file}`);
      if (file === prevFile) assert.ok(t >= prev, `unsorted ${file}`);
      prev = t;
      prevFile = file;
    }
  });

  test("realistic mix: event types, sessions, signups, purchases, returning users, odd strings", () => {
    const count = new Map<string, number>();
    for (const { row } of rows) count.set(row.event_type, (count.get(row.event_type) ?? 0) + 1);
    assert.ok(count.size >= 7 && count.size <= 9, `types: ${[...count.keys()]}`);
    for (const t of ["application_opened", "application_closed", "button_clicked", "signed_up", "purchase"])
      assert.ok((count.get(t) ?? 0) > 0, t);
    assert.ok(count.get("button_clicked")! > count.get("purchase")!);

    const signups = rows.filter((r) => r.row.event_type === "signed_up").map((r) => r.row);
    assert.ok(signups.every((s) => ["free", "pro", "team"].includes(s.event_properties.plan as string)));
    const purchases = rows.filter((r) => r.row.event_type === "purchase").map((r) => r.row);
    assert.ok(purchases.every((p) => typeof p.event_properties.revenue === "number"));
    assert.ok(purchases.every((p) => typeof p.event_properties.currency === "string"));
    const zooms = rows.filter((r) => r.row.event_type === "zoom").map((r) => r.row);
    assert.ok(zooms.every((z) => typeof z.event_properties.level === "number"));
    const buttons = new Set(
      rows
        .filter((r) => r.row.event_type === "button_clicked")
        .map((r) => r.row.event_properties.button_name),
    );
    for (const b of ["save", "open", "share", "export", "undo"]) assert.ok(buttons.has(b), b);

    // each user's day starts with application_opened
    const firstOfDay = new Map<string, Row>();
    for (const { row } of rows) {
      const k = `${row.user_id}|${row.event_time.slice(0, 10)}`;
      const cur = firstOfDay.get(k);
      if (!cur || row.event_time < cur.event_time) firstOfDay.set(k, row);
    }
    const opened = [...firstOfDay.values()].filter((r) => r.event_type === "application_opened").length;
    assert.ok(opened / firstOfDay.size > 0.95, `${opened}/${firstOfDay.size} user-days start with opened`);

    // signups happen on the user's first active day
    const firstDay = new Map<string, string>();
    for (const { row } of rows) {
      const d = row.event_time.slice(0, 10);
      const cur = firstDay.get(row.user_id);
      if (!cur || d < cur) firstDay.set(row.user_id, d);
    }
    assert.ok(signups.every((s) => s.event_time.slice(0, 10) === firstDay.get(s.user_id)));

    // returning users: a good share active on 2+ days, some on 4+
    const days = new Map<string, Set<string>>();
    for (const { row } of rows) {
      const s = days.get(row.user_id) ?? new Set<string>();
      s.add(row.event_time.slice(0, 10));
      days.set(row.user_id, s);
    }
    const multi = [...days.values()].filter((s) => s.size >= 2).length;
    const many = [...days.values()].filter((s) => s.size >= 4).length;
    assert.ok(multi / days.size > 0.25, `returning share ${multi}/${days.size}`);
    assert.ok(many > 0);
    // ~40 events per user by default
    assert.ok(days.size > 30_000 / 80 && days.size < 30_000 / 25, `users ${days.size}`);

    // escaping gets exercised: quotes or non-ASCII in some string property
    const odd = rows.filter((r) => /["\\\u0080-\uffff]/.test(String(r.row.event_properties.file_name ?? "")));
    assert.ok(odd.length > 0);
  });

  test("same options → byte-identical files; another seed differs", async () => {
    const dirB = join(root, "b");
    const again = await generateLake({ dir: dirB, events: 30_000, days: 7, seed: 7 });
    assert.deepStrictEqual(again, result);
    assert.deepStrictEqual(listFiles(dirB), files);
    for (const f of files) assert.ok(readFileSync(join(dirA, f)).equals(readFileSync(join(dirB, f))), f);

    const dirC = join(root, "c");
    await generateLake({ dir: dirC, events: 30_000, days: 7, seed: 8 });
    const first = files[0];
    assert.ok(!readFileSync(join(dirC, first)).equals(readFileSync(join(dirA, first))));
  });
});

describe("generateLake options", () => {
  test("exact counts for small and odd sizes", async () => {
    for (const events of [0, 1, 7, 1001]) {
      const dir = join(root, `n${events}`);
      const r = await generateLake({ dir, events, days: 3 });
      const n = r.files === 0 ? 0 : listFiles(dir).reduce((s, f) => s + readLines(dir, f).length, 0);
      assert.equal(n, events);
      assert.equal(r.events, events);
      if (events === 0) assert.equal(r.files, 0);
    }
  });

  test("gzipShare 0 and 1, start date, onProgress", async () => {
    const plain = join(root, "plain");
    const progress: number[] = [];
    await generateLake({
      dir: plain,
      events: 2000,
      days: 2,
      start: "2024-02-28",
      gzipShare: 0,
      onProgress: (n) => progress.push(n),
    });
    const pf = listFiles(plain);
    assert.ok(pf.every((f) => f.endsWith(".jsonl")));
    assert.ok(pf.every((f) => f.startsWith("date=2024-02-28/") || f.startsWith("date=2024-02-29/")));
    assert.equal(progress.at(-1), 2000);
    assert.ok(progress.every((n, i) => i === 0 || n > progress[i - 1]));

    const gz = join(root, "gz");
    await generateLake({ dir: gz, events: 2000, days: 2, gzipShare: 1 });
    assert.ok(listFiles(gz).every((f) => f.endsWith(".jsonl.gz")));
  });

  test("usersPer controls the user count", async () => {
    const r = await generateLake({ dir: join(root, "few"), events: 5000, days: 3, usersPer: 500 });
    assert.ok(r.users >= 5 && r.users <= 12, `users ${r.users}`);
  });
});

describe("ensureLake", () => {
  test("reuses a lake generated with the same options, regenerates otherwise", async () => {
    const dir = join(root, "ensure");
    const first = await ensureLake({ dir, events: 3000, days: 4 });
    assert.equal(first.reused, false);
    assert.ok(statSync(join(dir, ".evx-lake.json")).isFile());
    const again = await ensureLake({ dir, events: 3000, days: 4 });
    assert.equal(again.reused, true);
    assert.deepStrictEqual({ ...again, reused: false }, first);

    const changed = await ensureLake({ dir, events: 1000, days: 2 });
    assert.equal(changed.reused, false);
    const dates = new Set(
      listFiles(dir)
        .filter((f) => f.startsWith("date="))
        .map((f) => f.slice(5, 15)),
    );
    assert.deepStrictEqual([...dates].sort(), ["2023-06-01", "2023-06-02"]); // old days removed
    const n = listFiles(dir)
      .filter((f) => f.startsWith("date="))
      .reduce((s, f) => s + readLines(dir, f).length, 0);
    assert.equal(n, 1000);
  });
});

describe("writeLakeFiles", () => {
  test("creates folders and gzips .gz names", () => {
    const dir = join(root, "fixture");
    writeLakeFiles(dir, {
      "date=2023-06-01/a.jsonl": "x\n",
      "2023/06/01/b.jsonl.gz": "y\n",
      "c.json": Buffer.from("z"),
    });
    assert.equal(readFileSync(join(dir, "date=2023-06-01/a.jsonl"), "utf8"), "x\n");
    assert.equal(gunzipSync(readFileSync(join(dir, "2023/06/01/b.jsonl.gz"))).toString(), "y\n");
    assert.equal(readFileSync(join(dir, "c.json"), "utf8"), "z");
  });
});
