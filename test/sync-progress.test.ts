/**
 * The sync progress bar: no rate or ETA before they can be measured, never NaN or Infinity, and on
 * Ctrl+C it stops drawing, leaves its last state and the "stopping" message each on its own line, and
 * the shell prompt starts on a fresh line (a real terminal: tmux).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { emptyProgress, type SyncProgress } from "../src/cache/sync.js";
import { progressFields, stoppedLine } from "../src/commands/progress.js";
import { generateLake } from "../src/source/synthetic.js";
import { CLI } from "./helpers/cli.js";
import { tempDir } from "./helpers/tmp.js";
import { tmuxDriver } from "./helpers/tmux.js";

const progress = (over: Partial<SyncProgress> = {}): SyncProgress => ({
  ...emptyProgress(),
  phase: "syncing",
  ...over,
});

const text = (f: ReturnType<typeof progressFields>) => Object.values(f).join(" ");

test("before anything landed the bar shows no rate and no ETA", () => {
  for (const ms of [null, 0, 10, 5000]) {
    const f = progressFields(progress({ toFetch: 2686, bytesTotal: 55_000_000 }), ms);
    assert.equal(f.speed, "", String(ms));
    assert.equal(f.objects, "0/2,686");
    assert.equal(f.bytes, "0 B/55 MB");
  }
  assert.equal(progressFields(progress({ phase: "listing" }), null).phase, "listing ");
});

test("a measured rate and ETA; no ETA once everything landed; never NaN or Infinity", () => {
  const mid = progressFields(
    progress({ toFetch: 10, ingested: 5, bytesTotal: 1000, bytesIngested: 250, events: 4000 }),
    2000,
  );
  // 4,000 events in 2 s; a quarter of the bytes in 2 s leaves 6 s.
  assert.equal(mid.speed, "2,000 ev/s ETA 6s");
  const done = progressFields(
    progress({ toFetch: 10, ingested: 10, bytesTotal: 1000, bytesIngested: 1000, events: 9000 }),
    3000,
  );
  assert.equal(done.speed, "3,000 ev/s");
  // Too early to measure.
  assert.equal(progressFields(progress({ bytesTotal: 9, bytesIngested: 1, events: 1 }), 100).speed, "");
  for (const bytesTotal of [0, 1, 1e12])
    for (const bytesIngested of [0, 1, bytesTotal])
      for (const events of [0, 1, 1e9])
        for (const ms of [null, 0, 1, 600, 1e9]) {
          const t = text(progressFields(progress({ bytesTotal, bytesIngested, events, toFetch: 3 }), ms));
          assert.doesNotMatch(t, /NaN|Infinity|NF|undefined/, t);
        }
  assert.equal(stoppedLine(mid, 25), "syncing stopped at 25%: 5/10 objects 250 B/1 kB 2,000 ev/s");
});

describe("Ctrl+C in a terminal", () => {
  const work = tempDir();
  const lake = join(work, "lake");
  const t = tmuxDriver(`evx-syncprog-${process.pid}`, { waitMs: 60_000, join: true });
  before(async () => {
    await generateLake({ dir: lake, events: 150_000, days: 28 });
  });
  after(() => t.kill());

  for (const watch of [false, true])
    test(`${watch ? "sync --watch" : "sync"}: the bar stops, each message on its own line, the prompt on a fresh line`, async () => {
      const name = watch ? "w" : "s";
      const cache = join(work, `${name}.duckdb`);
      // One object per batch: slow enough to interrupt in the middle.
      await t.shell(name, `EVX_BATCH_BYTES=1 XDG_CACHE_HOME='${work}/xdg'`, 110, 20);
      const screens: string[] = [];
      const seen = (s: string) => {
        screens.push(s);
        return s;
      };
      t.type(
        name,
        `'${process.execPath}' '${CLI}' sync '${lake}' --cache '${cache}'${watch ? " --watch" : ""}`,
      );
      t.keys(name, "Enter");
      seen(await t.waitScreen(name, (s) => seen(s) !== "" && /syncing .*\d ev\/s ETA /.test(s)));
      t.keys(name, "C-c");
      const end = seen(
        await t.waitScreen(name, (s) => seen(s) !== "" && (s.match(/E2E\$/g) ?? []).length >= 2),
      );
      for (const s of screens) assert.doesNotMatch(s, /NaN|Infinity|ETA NF|ETA\s*$/m, s);
      const lines = end
        .split("\n")
        .map((l) => l.trimEnd())
        .filter((l) => l !== "");
      assert.match(lines[0]!, /^E2E\$ /);
      const rest = lines.slice(1);
      assert.equal(rest.at(-1), "E2E$", `the prompt starts a line of its own:\n${end}`);
      assert.match(rest[0]!, /^syncing stopped at \d+%: [\d,]+\/[\d,]+ objects .* ev\/s$/, end);
      assert.match(
        rest[1]!,
        watch
          ? /^evx: stopping the watch after the current batch, if any \(Ctrl\+C again to quit now\)$/
          : /^evx: stopping after the current batch \(Ctrl\+C again to quit now\)$/,
        end,
      );
      if (watch) {
        assert.ok(
          rest.some((l) => /^evx: watch stopped after 1 cycle; the cache is consistent$/.test(l)),
          end,
        );
      } else
        assert.equal(
          rest[2],
          "evx: sync interrupted; the cache is consistent and the next sync resumes",
          end,
        );
      assert.doesNotMatch(end, /\|[░█]+\|/, "no bar redrawn after the stop");
    });
});
