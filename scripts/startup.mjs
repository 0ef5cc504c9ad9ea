// Start-up times of the whole evx process (issue #13's targets), medians of several runs:
//   node scripts/startup.mjs [--bin PATH] [--runs 9] [--cache PATH] [--no-tui]
// `evx --version`, `evx events --json` on the cache, completion of `evx trend --event <TAB>`, and the TUI's
// first frame in tmux (launch → the tab bar drawn). The cache defaults to the demo cache
// (`evx demo --no-ui` makes it); pass the same XDG_CACHE_HOME/EVX_CACHE the demo used.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const bin = resolve(arg("bin", fileURLToPath(new URL("../bin/evx", import.meta.url))));
const runs = Number(arg("runs", 9));
const xdg = process.env.XDG_CACHE_HOME?.startsWith("/")
  ? process.env.XDG_CACHE_HOME
  : join(homedir(), ".cache");
const cache = resolve(arg("cache", process.env.EVX_CACHE ?? join(xdg, "evx", "demo.duckdb")));
if (!existsSync(cache)) {
  process.stderr.write(`no cache at ${cache}: run \`evx demo --no-ui\` first, or pass --cache\n`);
  process.exit(2);
}
const env = { ...process.env, EVX_CACHE: cache, NO_COLOR: "1" };

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function time(label, argv, extraEnv = {}) {
  const ms = [];
  // One warm-up run: the first run after a build pays for the disk cache.
  for (let i = 0; i <= runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(bin, argv, { env: { ...env, ...extraEnv }, encoding: "utf8" });
    const t = performance.now() - t0;
    if (r.status !== 0) {
      process.stderr.write(`${label}: exit ${r.status}\n${r.stderr}\n`);
      process.exit(1);
    }
    if (i > 0) ms.push(t);
  }
  report(label, ms);
}

function report(label, ms) {
  const s = [...ms].sort((a, b) => a - b);
  process.stdout.write(
    `${label.padEnd(34)} median ${median(ms).toFixed(0).padStart(4)} ms   min ${s[0].toFixed(0)}   max ${s[s.length - 1].toFixed(0)}   (n=${ms.length})\n`,
  );
}

/** A tmux server of its own, away from the user's and the tests'. */
const SOCKET = `evx-startup-${process.pid}`;

async function firstFrame() {
  if (spawnSync("tmux", ["-V"]).status !== 0) return process.stdout.write("TUI first frame: no tmux\n");
  const ms = [];
  for (let i = 0; i <= runs; i++) {
    const session = `run-${i}`;
    const t0 = performance.now();
    const pane = spawnSync(
      "tmux",
      [
        "-L",
        SOCKET,
        "new-session",
        "-d",
        "-P",
        "-F",
        "#{pane_pid}",
        "-s",
        session,
        "-x",
        "100",
        "-y",
        "30",
      ].concat(["-e", `EVX_CACHE=${cache}`, bin]),
      { encoding: "utf8" },
    );
    let t = null;
    while (performance.now() - t0 < 10_000) {
      const screen =
        spawnSync("tmux", ["-L", SOCKET, "capture-pane", "-p", "-t", session], { encoding: "utf8" }).stdout ??
        "";
      if (/Events/.test(screen) && /Trends/.test(screen)) {
        t = performance.now() - t0;
        break;
      }
      await sleep(2);
    }
    spawnSync("tmux", ["-L", SOCKET, "kill-session", "-t", session]);
    // The TUI holds the cache: make sure it is gone before the next run.
    const pid = Number(pane.stdout.trim());
    if (pid > 0)
      try {
        process.kill(pid, "SIGKILL");
      } catch {}
    if (t !== null && i > 0) ms.push(t);
  }
  spawnSync("tmux", ["-L", SOCKET, "kill-server"]);
  if (ms.length) report("TUI first frame (tmux)", ms);
}

time("evx --version", ["--version"]);
time("evx events --json", ["events", "--json"]);
// Completion answers from the index of the cache's words (made in the background by the first Tab).
if (spawnSync(bin, ["completion", "bash"], { env }).status === 0) {
  spawnSync(bin, ["__complete-index", cache], { env });
  time("completion: trend <TAB> (events)", ["__complete", "bash", "evx", "trend", ""]);
  time("completion: trend x --breakdown <TAB>", [
    "__complete",
    "bash",
    "evx",
    "trend",
    "x",
    "--breakdown",
    "",
  ]);
}
if (!args.includes("--no-tui")) await firstFrame();
