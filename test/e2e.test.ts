/**
 * End to end: the real `bin/evx ui` in a real pseudo-terminal (tmux) on a small cache. Switches
 * through all five tabs, builds a 3-step funnel, quits with q, and checks the terminal came back:
 * main screen, shell prompt, cooked mode with echo. Also: SIGTERM restores the terminal too.
 *
 * Uses `bin/evx` when `npm run build` produced a CLI that has the `ui` command; otherwise runs the
 * same `runUi` through tsx (`test/views/run-ui.ts`) and says so. Skipped only when tmux is missing.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { tmuxDriver, uiArgs } from "./helpers/tmux.js";
import { type SmallCache, smallCache } from "./views/fixture.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const SOCKET = `evx-e2e-${process.pid}`;

const tty = tmuxDriver(SOCKET, { waitMs: 30_000, pollMs: 50 });
const { tmux, altScreen, waitScreen, keys, type, kill } = tty;

/**
 * The command that starts the TUI: the built CLI when it is up to date with `src/` and has `ui`,
 * else runUi through tsx (the same code, unbuilt).
 */
function uiCommand(cache: string): { cmd: string; real: boolean; why?: string } {
  const ui = uiArgs(
    ["--help"],
    (help) => /^\s+evx ui\b/m.test(`${help.stdout}${help.stderr}`),
    "the built CLI has no `ui` command",
  );
  // tsx by URL and the repo's tsconfig (JSX settings): the command runs from another folder.
  const env = ui.real ? "" : `TSX_TSCONFIG_PATH='${join(ROOT, "tsconfig.json")}' `;
  return { cmd: `${env}${[ui.file, ...ui.args].join(" ")} --cache '${cache}'`, real: ui.real, why: ui.why };
}

describe("end to end in tmux", {
  skip: hasTmux ? false : "tmux is not installed (apt-get install -y tmux)",
}, () => {
  let c: SmallCache;
  let ui: { cmd: string; real: boolean };
  before(async () => {
    c = await smallCache();
    c.cache.close(); // the TUI under test opens it read-write
    ui = uiCommand(c.path);
  });
  after(() => {
    kill();
    c?.dispose();
  });

  /** A shell in a 100×30 tmux pane, with a recognisable prompt. */
  const shell = (name: string) =>
    // XDG_CACHE_HOME: the TUI remembers the cache it opened; XDG_CONFIG_HOME: quitting records
    // where it was left (views.json); neither in the real home.
    tty.shell(
      name,
      `EVX_EXPORT_DIR='${c.dir}' XDG_CACHE_HOME='${c.dir}/xdg' XDG_CONFIG_HOME='${c.dir}/config'`,
      100,
      30,
    );

  it("tabs, a 3-step funnel and q, leaving the terminal as it was", async (t) => {
    if (!ui.real)
      t.diagnostic("bin/evx has no `ui` command yet (or is not built): running runUi through tsx");
    const name = "main";
    await shell(name);
    t.after(() => kill(name));
    type(name, `cd '${c.dir}' && ${ui.cmd}; echo EXIT=$?`);
    keys(name, "Enter");
    let s = await waitScreen(name, /button_clicked\s+1,946/);
    assert.equal(altScreen(name), "1");
    assert.match(s, /evx {2}1 Events {2}2 Trends {2}3 Funnel {2}4 Retention {2}5 Sync/);
    assert.match(s, /9 event types · 2023-06-01 → 2023-06-14/);
    assert.match(s, /cache\.duckdb │ 2023-06-01 → 2023-06-14 │ 5,000 events/);
    // The frame stays one row short of the terminal: the last row is blank.
    assert.equal(s.split("\n")[29]?.trim(), "");

    keys(name, "2");
    s = await waitScreen(name, "── button_clicked");
    assert.match(s, /events per day/);
    keys(name, "3");
    await waitScreen(name, "No steps yet");
    keys(name, "4");
    s = await waitScreen(name, /^Average\s+[\d,]+/m);
    assert.match(s, /Retention · start button_clicked/);
    keys(name, "5");
    s = await waitScreen(name, "14 partitions");
    assert.match(s, /2023-06-01 synced/);
    // Paths (issue #15): the tree after the top event; then the lifecycle chart.
    keys(name, "6");
    s = await waitScreen(name, /what they did after button_clicked/);
    assert.match(s, /^├─ \S+ +[█▏▎▍▌▋▊▉]+ +[\d.k]+ +\d+\.\d%/m);
    keys(name, "Right"); // expanding an open node changes nothing
    keys(name, "Left");
    s = await waitScreen(name, /^├─ \S+ ▸/m);
    keys(name, "7");
    await waitScreen(name, "█ new  ▓ returning  ▒ resurrecting  ░ dormant");
    keys(name, "Tab"); // wraps to Events
    await waitScreen(name, "9 event types");

    // A 3-step funnel: each step from the picker, type-to-filter, no step filter.
    keys(name, "3");
    await waitScreen(name, "No steps yet");
    for (const step of ["application_o", "file_op", "file_sa"]) {
      keys(name, "a");
      await waitScreen(name, "type to filter");
      type(name, step);
      await waitScreen(name, `filter: ${step}`);
      keys(name, "Enter");
      await waitScreen(name, "(optional: enter to skip)");
      keys(name, "Enter");
    }
    s = await waitScreen(name, (x) => /3\. file_saved .*\d+\.\d%/.test(x) && !x.includes("…"));
    assert.match(s, /1\. application_opened .*118\s+100\.0%\s+–\s+–/);
    assert.match(s, /2\. file_opened .*\d+\.\d%\s+\d+\.\d%\s+\d+s/);

    keys(name, "q");
    s = await waitScreen(name, /EXIT=0\s*\n\s*E2E\$/);
    assert.equal(altScreen(name), "0");
    assert.ok(!s.includes("1 Events  2 Trends"), `the TUI is still on screen:\n${s}`);
    type(name, "stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo)$'; echo STTY-END");
    keys(name, "Enter");
    s = await waitScreen(name, /^STTY-END\s*$/m); // the output line, not the echoed command
    const flags = s.slice(s.lastIndexOf("stty -a"));
    assert.match(flags, /^icanon$/m);
    assert.match(flags, /^echo$/m);
    assert.doesNotMatch(flags, /^-icanon$|^-echo$/m);
  });

  it("retention at 80×24: → reaches the last period with the cohort column frozen, Enter drills it", async (t) => {
    const name = "ret80";
    // Its own config folder: quitting records where it was left, which the other tests reopen.
    await tty.shell(
      name,
      `EVX_EXPORT_DIR='${c.dir}' XDG_CACHE_HOME='${c.dir}/xdg80' XDG_CONFIG_HOME='${c.dir}/config80'`,
      80,
      24,
    );
    t.after(() => kill(name));
    type(name, `cd '${c.dir}' && ${ui.cmd} --no-restore; echo EXIT=$?`);
    keys(name, "Enter");
    await waitScreen(name, /button_clicked\s+1,946/);
    keys(name, "4");
    // One screen with both: the header counts the periods to the right, the cell line says which show.
    let s = await waitScreen(
      name,
      (x) => /^Cohort\s+Users\s+D0\s.*\+\d+$/m.test(x) && /D0-D\d+ of 14 \(←→\)/.test(x),
    );
    keys(name, "End");
    s = await waitScreen(name, (x) => /^06-01 D13: /m.test(x) && /^‹\+\d+\s+Users\s.*\sD13$/m.test(x));
    assert.match(s, /^06-01\s+10\s/m); // the cohort and users columns stay
    for (const l of s.split("\n")) assert.ok(l.length <= 80, l);
    keys(name, "Enter");
    await waitScreen(name, "Users · cohort 06-01 · D13 · retained");
    keys(name, "Escape");
    await waitScreen(name, /^06-01 D13: /m);
    keys(name, "q");
    await waitScreen(name, /EXIT=0/);
  });

  it("a fuzzy picker, back and forward, a saved view that reopens with --view after quitting", async (t) => {
    const name = "views";
    // Its own config folder: the saved view, and where the TUI was left, stay in this test.
    await tty.shell(
      name,
      `EVX_EXPORT_DIR='${c.dir}' XDG_CACHE_HOME='${c.dir}/xdgv' XDG_CONFIG_HOME='${c.dir}/configv'`,
      100,
      30,
    );
    t.after(() => kill(name));
    type(name, `cd '${c.dir}' && ${ui.cmd} --no-restore; echo EXIT=$?`);
    keys(name, "Enter");
    await waitScreen(name, /button_clicked\s+1,946/);
    keys(name, "2");
    await waitScreen(name, "── button_clicked");
    // Fuzzy: `app_op` finds application_opened, the best match first.
    keys(name, "a");
    await waitScreen(name, "type to filter");
    type(name, "app_op");
    const s = await waitScreen(name, (x) => x.includes("filter: app_op") && /application_opened/.test(x));
    // The first event name listed under the filter line is the best match.
    const after = s.slice(s.indexOf("filter: app_op") + "filter: app_op".length);
    assert.equal(/[a-z]+_[a-z_]+/.exec(after)?.[0], "application_opened", s);
    keys(name, "Enter");
    await waitScreen(name, "(optional: enter to skip)");
    keys(name, "Enter");
    await waitScreen(name, (x) => /Events: .*button_clicked .*application_opened/.test(x));
    // Back: the chart without the added event; forward: with it again.
    keys(name, "BSpace");
    await waitScreen(
      name,
      (x) => /Events: .*button_clicked/.test(x) && !/Events: .*application_opened/.test(x),
    );
    keys(name, "]");
    await waitScreen(name, (x) => /Events: .*button_clicked .*application_opened/.test(x));
    // Save it, quit, and reopen it by name.
    keys(name, "w");
    await waitScreen(name, "Save this view as");
    type(name, "two events");
    keys(name, "Enter");
    await waitScreen(name, "saved view two events");
    keys(name, "q");
    await waitScreen(name, /EXIT=0/);
    keys(name, "C-l");
    type(name, `clear; ${ui.cmd} --view 'two events'; echo EXIT=$?`);
    keys(name, "Enter");
    await waitScreen(
      name,
      (x) => /Events: .*button_clicked .*application_opened/.test(x) && x.includes("── application_opened"),
    );
    keys(name, "q");
    await waitScreen(name, /EXIT=0/);
  });

  it("SIGTERM restores the terminal too", async (t) => {
    const name = "term";
    await shell(name);
    t.after(() => kill(name));
    type(name, `${ui.cmd}; echo EXIT=$?`);
    keys(name, "Enter");
    // It reopens where the first test left it: the Funnel tab with its three steps.
    await waitScreen(name, /› 1\. application_opened[^\n]*118/);
    assert.equal(altScreen(name), "1");
    const shellPid = tmux("display-message", "-p", "-t", name, "#{pane_pid}").trim();
    const child = execFileSync("pgrep", ["-P", shellPid], { encoding: "utf8" }).trim().split("\n")[0]!;
    process.kill(Number(child), "SIGTERM");
    await waitScreen(name, /EXIT=143\s*\n\s*E2E\$/);
    assert.equal(altScreen(name), "0");
    type(name, "stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo)$'; echo STTY-END");
    keys(name, "Enter");
    const s = await waitScreen(name, /^STTY-END\s*$/m); // the output line, not the echoed command
    const flags = s.slice(s.lastIndexOf("stty -a"));
    assert.match(flags, /^icanon$/m);
    assert.match(flags, /^echo$/m);
  });

  it("without a terminal it prints a one-line hint to use the headless commands and exits 2", () => {
    const [file, args] = ui.real
      ? [join(ROOT, "bin", "evx"), ["ui", "--cache", c.path]]
      : [
          process.execPath,
          [
            "--import",
            import.meta.resolve("tsx"),
            join(ROOT, "test", "views", "run-ui.ts"),
            "--cache",
            c.path,
          ],
        ];
    const r = spawnSync(file, args, {
      encoding: "utf8",
      input: "",
      cwd: c.dir,
      env: {
        ...process.env,
        TSX_TSCONFIG_PATH: join(ROOT, "tsconfig.json"),
        XDG_CACHE_HOME: join(c.dir, "xdg"),
      },
    });
    assert.equal(r.status, 2, r.stderr);
    assert.equal(r.stdout, "");
    const lines = r.stderr.trim().split("\n");
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0]!, /needs a terminal.*evx events, evx trend/);
  });
});
