/**
 * End to end (issue #28): `y` in the real TUI in tmux emits an OSC 52 sequence; tmux, with
 * `set-clipboard on`, decodes it into a paste buffer. That command, run headless after quitting,
 * prints the numbers the screen showed. Skipped only when tmux is missing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { tmuxDriver, uiArgs } from "./helpers/tmux.js";
import { type SmallCache, smallCache } from "./views/fixture.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const BIN = join(ROOT, "bin", "evx");
const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const SOCKET = `evx-e2e-copy-${process.pid}`;
const { tmux, waitScreen, keys, type, shell, kill } = tmuxDriver(SOCKET, { waitMs: 30_000, pollMs: 50 });

describe("copy as command in tmux", { skip: hasTmux ? false : "tmux is not installed" }, () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
    c.cache.close();
  });
  after(() => {
    kill();
    c?.dispose();
  });

  it("y: an OSC 52 sequence whose command, run headless, prints the screen's numbers", async (t) => {
    const ui = uiArgs(["--help"], (h) => /^\s+evx ui\b/m.test(`${h.stdout}${h.stderr}`), "no ui command");
    if (!ui.real) t.diagnostic(`running runUi through tsx: ${ui.why}`);
    const env = ui.real ? "" : `TSX_TSCONFIG_PATH='${join(ROOT, "tsconfig.json")}' `;
    await shell("copy", `XDG_CACHE_HOME='${c.dir}/xdg' XDG_STATE_HOME='${c.dir}/state'`, 100, 30);
    tmux("set-option", "-s", "set-clipboard", "on");
    type(
      "copy",
      `cd '${c.dir}' && ${env}${[ui.file, ...ui.args].join(" ")} --cache '${c.path}'; echo EXIT=$?`,
    );
    keys("copy", "Enter");
    await waitScreen("copy", /button_clicked\s+1,946/);
    keys("copy", "2");
    await waitScreen("copy", "── button_clicked");
    keys("copy", "t");
    const screen = await waitScreen("copy", /Total\s+1,946/);
    keys("copy", "y");
    await waitScreen("copy", "copied the command: evx trend button_clicked");
    const line = tmux("show-buffer").trim();
    assert.equal(
      line,
      `evx trend button_clicked --measure events --interval day --from 2023-06-01 --to 2023-06-14 --cache ${c.path} --json`,
    );
    keys("copy", "q");
    await waitScreen("copy", "EXIT=0");
    const r = spawnSync("sh", ["-c", `evx() { "$EVX_BIN" "$@"; }; ${line}`], {
      encoding: "utf8",
      env: { ...process.env, EVX_BIN: BIN },
    });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout) as {
      series: { total: number; points: { t: string; value: number }[] }[];
    };
    assert.equal(out.series[0]!.total, 1946);
    for (const p of out.series[0]!.points) {
      const row = new RegExp(`^${p.t.slice(5, 10)}\\s+([\\d,]+)`, "m").exec(screen);
      if (row) assert.equal(Number(row[1]!.replace(/,/g, "")), p.value);
    }
  });
});
