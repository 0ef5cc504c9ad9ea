/**
 * End to end, live mode: the real `bin/evx ui --every 5s` in tmux on a folder-sourced cache. `L` turns
 * live mode on; a new object dropped into the lake folder shows in the chart's value and in the event
 * counts within two cycles; `q` stops the loop and leaves the terminal as it was. Also: `--every` under
 * 5 s is refused like `evx sync --every`.
 *
 * Timeouts are generous and the screen is polled, for a loaded 2-core machine. Uses `bin/evx` when
 * `npm run build` produced a CLI up to date with `src/`; otherwise the same `runUi` through tsx.
 * Skipped only when tmux is missing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { tmuxDriver, type UiArgs, uiArgs } from "./helpers/tmux.js";
import { type SmallCache, smallCache } from "./views/fixture.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const SOCKET = `evx-e2e-live-${process.pid}`;
const EVERY_S = 5;

const tty = tmuxDriver(SOCKET, { waitMs: 60_000, pollMs: 100 });
const { altScreen, waitScreen, keys, type, kill } = tty;

/** The built CLI when it is up to date with `src/`, else runUi through tsx (the same code, unbuilt). */
const liveUiArgs = () =>
  uiArgs(
    ["ui", "--help"],
    (help) => /--every\b/.test(`${help.stdout}${help.stderr}`),
    "the built CLI's ui has no --every",
  );

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** `n` events of `type` in a new object of the lake's newest partition, a second apart from `t`. */
function addObject(lake: string, name: string, n: number, type: string, t: string): void {
  const t0 = Date.parse(t);
  const lines = Array.from({ length: n }, (_, i) =>
    JSON.stringify({
      event_type: type,
      event_time: new Date(t0 + i * 1000).toISOString(),
      user_id: `e2e-live-${i % 4}`,
      event_properties: { button_name: "save" },
    }),
  );
  writeFileSync(join(lake, "date=2023-06-14", name), `${lines.join("\n")}\n`);
}

describe("end to end in tmux: live mode", {
  skip: hasTmux ? false : "tmux is not installed (apt-get install -y tmux)",
}, () => {
  let c: SmallCache;
  let ui: UiArgs;
  before(async () => {
    c = await smallCache();
    c.cache.close(); // the TUI under test opens it read-write
    ui = liveUiArgs();
  });
  after(() => {
    kill();
    c?.dispose();
  });

  const shell = (name: string) =>
    tty.shell(
      name,
      `EVX_EXPORT_DIR='${c.dir}' XDG_CACHE_HOME='${c.dir}/xdg' TSX_TSCONFIG_PATH='${join(ROOT, "tsconfig.json")}'`,
      100,
      30,
    );

  it("L follows the lake folder: a new object shows in the chart and the counts within two cycles", async (t) => {
    if (!ui.real) t.diagnostic(`running runUi through tsx: ${ui.why}`);
    const name = "live";
    await shell(name);
    t.after(() => kill(name));
    const cmd = [ui.file, ...ui.args, "--cache", c.path, "--every", `${EVERY_S}s`].map(q).join(" ");
    type(name, `cd ${q(c.dir)} && ${cmd}; echo EXIT=$?`);
    keys(name, "Enter");
    let s = await waitScreen(name, /button_clicked\s+1,946/);
    assert.equal(altScreen(name), "1");
    assert.match(s, /│ 5,000 events/);

    // The chart, with the cursor on its newest point (2023-06-14).
    keys(name, "2");
    await waitScreen(name, "── button_clicked");
    keys(name, "Left");
    s = await waitScreen(name, /^2023-06-14 · button_clicked [\d,]+$/m);
    const before = Number(/^2023-06-14 · button_clicked ([\d,]+)$/m.exec(s)![1]!.replace(/,/g, ""));

    keys(name, "L");
    s = await waitScreen(name, /live · \+0 events at \d\d:\d\d:\d\d · next in \ds/);

    // A new object in the newest partition, as a writer of the lake would add it.
    const t0 = Date.now();
    addObject(c.lake, "part-2350.jsonl", 40, "button_clicked", "2023-06-14T23:50:00Z");
    // Within two cycles (each starts every 5 s; the first may start right after the write), with
    // generous room for a loaded machine.
    // The chart's point and the status bar's count come from separate queries after the batch, so they
    // may land in different frames: wait for both.
    const point = `2023-06-14 · button_clicked ${(before + 40).toLocaleString("en-US")}`;
    s = await waitScreen(
      name,
      (x) => x.includes(point) && x.includes("│ 5,040 events"),
      2 * EVERY_S * 1000 + 30_000,
    );
    const seconds = (Date.now() - t0) / 1000;
    t.diagnostic(
      `the chart changed ${seconds.toFixed(1)} s after the object was written (cycles every ${EVERY_S} s)`,
    );
    assert.match(s, /live · \+40 events at \d\d:\d\d:\d\d · (next in \ds|syncing)/);
    assert.match(s, /│ 5,040 events/);

    // The Events tab's numbers moved too; a second object, of a new event type, follows.
    keys(name, "1");
    s = await waitScreen(name, /button_clicked\s+1,986\b/);
    addObject(c.lake, "part-2355.jsonl", 12, "live_probe", "2023-06-14T23:55:00Z");
    s = await waitScreen(
      name,
      (x) => /^live_probe\s+12\s+4\b/m.test(x) && x.includes("│ 5,052 events"),
      2 * EVERY_S * 1000 + 30_000,
    );
    assert.match(s, /10 event types/);

    // q stops the loop after its batch and restores the terminal.
    keys(name, "q");
    s = await waitScreen(name, /EXIT=0\s*\n\s*E2E\$/, 30_000);
    assert.equal(altScreen(name), "0");
    assert.ok(!s.includes("1 Events  2 Trends"), `the TUI is still on screen:\n${s}`);
    type(name, "stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo)$'; echo STTY-END");
    keys(name, "Enter");
    s = await waitScreen(name, /^STTY-END\s*$/m);
    const flags = s.slice(s.lastIndexOf("stty -a"));
    assert.match(flags, /^icanon$/m);
    assert.match(flags, /^echo$/m);
  });

  it("--every under 5 s is refused before anything runs, as evx sync --every", () => {
    const env = {
      ...process.env,
      TSX_TSCONFIG_PATH: join(ROOT, "tsconfig.json"),
      XDG_CACHE_HOME: join(c.dir, "xdg"),
      EVX_WATCH_MIN_EVERY_MS: "",
    };
    const r = spawnSync(ui.file, [...ui.args, "--cache", c.path, "--every", "2s"], {
      encoding: "utf8",
      input: "",
      cwd: c.dir,
      env,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(r.stderr.trim(), /--every must be at least 5s, got '2s': each cycle lists the source$/);
  });
});
