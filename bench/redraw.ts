/**
 * `npx tsx bench/redraw.ts [--sizes 80x24,200x50] [--runs 5]`: the bytes each key makes the TUI send
 * to the terminal, measured over a real pseudo-terminal. The real `evx ui` (built CLI when up to date,
 * else the same runUi through tsx) runs in tmux on a small folder-sourced cache; `tmux pipe-pane`
 * copies everything the program writes to its pty into a file, and each action's bytes are that
 * file's growth from the key until the output has been quiet for 400 ms. Prints a Markdown table (the
 * one in README "Over SSH") with the median of `--runs` per action. Not a test: CI does not run it
 * (test/views/redraw-bytes.test.tsx checks the budgets).
 */
import { spawnSync } from "node:child_process";
import { existsSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tmuxDriver, uiArgs } from "../test/helpers/tmux.js";
import { sleep, smallCache } from "../test/views/fixture.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : def;
};
const sizes = arg("--sizes", "80x24,200x50")
  .split(",")
  .map((s) => s.split("x").map(Number) as [number, number]);
const RUNS = Number(arg("--runs", "5"));

if (spawnSync("tmux", ["-V"]).status !== 0) {
  console.error("redraw bench: tmux is not installed");
  process.exit(1);
}
const SOCKET = `evx-redraw-${process.pid}`;
const { tmux, waitScreen, keys, type, shell, kill, screen } = tmuxDriver(SOCKET, { waitMs: 60_000 });
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : Number.NaN;
};

const c = await smallCache();
c.cache.close();
const ui = uiArgs(["ui", "--help"], (h) => /--every\b/.test(`${h.stdout}${h.stderr}`), "no ui --every");
if (!ui.real) console.error(`redraw bench: runUi through tsx (${ui.why})`);
const env = ui.real ? "" : `TSX_TSCONFIG_PATH=${q(join(ROOT, "tsconfig.json"))} `;

const rows: { action: string; bytes: Record<string, number> }[] = [];
const put = (action: string, size: string, bytes: number) => {
  let r = rows.find((x) => x.action === action);
  if (!r) {
    r = { action, bytes: {} };
    rows.push(r);
  }
  r.bytes[size] = bytes;
};

let objects = 0;
/** `n` events in a new object of the lake's last day (live mode picks it up on its next cycle). */
function addObject(n: number): void {
  const t0 = Date.parse("2023-06-14T12:00:00Z");
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      event_type: "button_clicked",
      event_time: new Date(t0 + i * 1000).toISOString(),
      user_id: `redraw-${objects}-${i}`,
      event_properties: { button_name: "save" },
    }),
  );
  writeFileSync(join(c.lake, "date=2023-06-14", `redraw-${objects++}.jsonl`), `${lines.join("\n")}\n`);
}

try {
  for (const [w, h] of sizes) {
    const size = `${w}×${h}`;
    const name = `s${w}x${h}`;
    const pipe = join(c.dir, `pipe-${w}x${h}.bin`);
    await shell(
      name,
      `XDG_CACHE_HOME=${q(join(c.dir, "xdg"))} XDG_CONFIG_HOME=${q(join(c.dir, `cfg-${w}x${h}`))}`,
      w,
      h,
    );
    type(
      name,
      `${env}${[ui.file, ...ui.args].map(q).join(" ")} --cache ${q(c.path)} --every 5s --no-restore; echo EXIT=$?`,
    );
    keys(name, "Enter");
    await waitScreen(name, /button_clicked\s+[\d,]+\s/);
    await sleep(1500);
    tmux("pipe-pane", "-t", name, "-O", `cat >> ${q(pipe)}`);
    await sleep(300);
    const bytesNow = () => (existsSync(pipe) ? statSync(pipe).size : 0);
    /** Bytes written from sending `k` until the screen passes `until` and the output is quiet. */
    const measure = async (k: string[], until?: (s: string) => boolean): Promise<number> => {
      const before = bytesNow();
      keys(name, ...k);
      if (until) await waitScreen(name, until);
      let last = bytesNow();
      let quietSince = Date.now();
      while (Date.now() - quietSince < 400) {
        await sleep(50);
        const now = bytesNow();
        if (now !== last) {
          last = now;
          quietSince = Date.now();
        }
      }
      return last - before;
    };
    const runs = async (label: string, k: string[], until?: (s: string) => boolean, n = RUNS) => {
      const xs: number[] = [];
      for (let i = 0; i < n; i++) xs.push(await measure(k, until));
      put(label, size, median(xs));
    };

    // Events: the row cursor (down, then up again, so it stays on the first screen).
    await runs("Events: cursor ↓/↑ (one row)", ["j"]);
    await runs("Events: cursor ↓/↑ (one row)", ["k"]);
    await measure(["g", "Enter"], (s) => s.includes("── button_clicked"));
    await sleep(800);
    // Trends: the chart cursor.
    put("Trends: first ← (shows the cursor, the chart redraws)", size, await measure(["h"]));
    await runs("Trends: chart cursor ←/→", ["h"]);
    // Tab switches between screens that hold their results.
    const xs: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      xs.push(await measure(["1"], (s) => /button_clicked\s+[\d,]+\s/.test(s)));
      xs.push(await measure(["2"], (s) => s.includes("── button_clicked")));
    }
    put("Tab switch (1 ↔ 2, results kept)", size, median(xs));
    // Retention: pick the start event, then the cell cursor.
    await measure(["4"]);
    keys(name, "a");
    await waitScreen(name, "Start event");
    type(name, "button_clicked");
    keys(name, "Enter");
    await waitScreen(name, "Filter on button_clicked");
    await measure(["Enter"], (s) => /^Average\s/m.test(s));
    await sleep(800);
    await runs("Retention (14 days): cell cursor ↓ (one cohort)", ["j"]);
    await runs("Retention (14 days): cell cursor → inside the shown periods", ["l"], undefined, 3);
    /** The shown periods, from the cell line (`D0-D7 of 14 (←→)`); null when all fit. */
    const shownSpan = (): [number, number, number] | null => {
      const m = /[DH](\d+)-[DH](\d+) of (\d+) \(←→\)/.exec(screen(name));
      return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
    };
    /** From Home: → to the last shown period, then one → past it (a page shift), End, Home. */
    const periodScroll = async (label: string) => {
      await measure(["Home"]);
      const span = shownSpan();
      if (!span) return;
      for (let i = span[0]; i < span[1]; i++) await measure(["l"]);
      put(`${label}: page shift (→ past the last shown period)`, size, await measure(["l"]));
      put(`${label}: End / Home (periods scroll)`, size, await measure(["End"]));
      put(`${label}: End / Home (periods scroll)`, size, await measure(["Home"]));
    };
    await periodScroll("Retention (14 days)");
    // Hourly cohorts over 72 hours: more periods than fit at 200 columns too, most cells data.
    for (let i = 0; i < 4 && !/24 hours/.test(screen(name)); i++) await measure(["p"]);
    keys(name, "n");
    await waitScreen(name, "Number of hours");
    type(name, "72");
    await measure(["Enter"], (s) => /H0-H\d+ of 72 \(←→\)/.test(s));
    await sleep(800);
    await runs("Retention (72 hours): cell cursor → inside the shown periods", ["l"], undefined, 3);
    await periodScroll("Retention (72 hours)");
    // Live mode on Trends: a cycle that adds events redraws the chart (and the status line).
    await measure(["2"], (s) => s.includes("── button_clicked"));
    await measure(["L"], (s) => /live · /.test(s));
    await waitScreen(name, /live · \+/, 30_000).catch(() => undefined);
    await sleep(1200);
    // An idle second: the status line's countdown.
    {
      const b0 = bytesNow();
      await sleep(5000);
      put("Live: idle (countdown, per second)", size, Math.round((bytesNow() - b0) / 5));
    }
    const live: number[] = [];
    for (let i = 0; i < 2; i++) {
      const before = screen(name);
      const b0 = bytesNow();
      addObject(40 + i);
      await waitScreen(name, (s) => s !== before && /\+4\d events at/.test(s), 30_000);
      await sleep(1500);
      live.push(bytesNow() - b0);
    }
    put("Live: refresh adding events (chart changes)", size, median(live));
    keys(name, "q");
    await waitScreen(name, "EXIT=", 30_000).catch(() => undefined);
    kill(name);
  }
} finally {
  kill();
  c.dispose();
}

const names = sizes.map(([w, h]) => `${w}×${h}`);
console.log(`| Action | ${names.join(" | ")} |`);
console.log(`|---|${names.map(() => "---:").join("|")}|`);
for (const r of rows)
  console.log(`| ${r.action} | ${names.map((n) => `${r.bytes[n] ?? "–"} B`).join(" | ")} |`);
