/**
 * End to end on ClickHouse: the real `bin/evx ui --engine clickhouse --ch-url http://analyst@127.0.0.1:PORT/default`
 * in a real pseudo-terminal (tmux), against the loopback ClickHouse adapter started in this process
 * (test/helpers/chhttp.ts, chdb behind ClickHouse's HTTP protocol) holding a small lake. The Events tab
 * shows the lake's counts, Trends its chart, the Sync tab the table's partitions (S refused); q leaves
 * the terminal as it was. A URL where nothing listens exits 6 and a refused password exits 7, each
 * with one line, as the headless commands do; the password never shows.
 *
 * Timeouts are generous and the screen is polled, for a loaded 2-core machine. Uses `bin/evx` when
 * `npm run build` produced a CLI up to date with `src/` whose `ui` has `--engine`; otherwise the same
 * `runUi` through tsx (test/views/run-ui.ts), and says so. Skipped only when tmux is missing.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { tmuxDriver, type UiArgs, uiArgs } from "./helpers/tmux.js";
import { type ChLake, chLakeFrom } from "./views/chfixture.js";
import { type SmallCache, smallCache } from "./views/fixture.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const hasTmux = spawnSync("tmux", ["-V"]).status === 0;
const SOCKET = `evx-e2e-ch-${process.pid}`;
const USER = "analyst";
const PASSWORD = "tui-Secret-4471";
const WAIT_MS = 60_000;

// Polls every 100 ms: the adapter answers from this process, so it is left the event loop between polls.
const tty = tmuxDriver(SOCKET, {
  waitMs: WAIT_MS,
  pollMs: 100,
  join: true,
});
const { altScreen, waitScreen, keys, type, kill } = tty;

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The built CLI when it is up to date with `src/` and its `ui` has `--engine`, else runUi through tsx. */
const chUiArgs = () =>
  uiArgs(
    ["ui", "--help"],
    (help) => /--engine\b/.test(`${help.stdout}${help.stderr}`) && /--ch-url\b/.test(help.stdout),
    "the built CLI's ui has no --engine",
  );

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe("end to end in tmux: the TUI on ClickHouse", {
  skip: hasTmux ? false : "tmux is not installed (apt-get install -y tmux)",
}, () => {
  let c: SmallCache;
  let lake: ChLake;
  let ui: UiArgs;
  let port: string;
  before(async () => {
    c = await smallCache();
    lake = await chLakeFrom(c.cache, c.dir, { user: USER, password: PASSWORD });
    c.cache.close();
    port = new URL(lake.url).port;
    ui = chUiArgs();
  });
  after(async () => {
    kill();
    await lake?.srv.stop();
    c?.dispose();
  });

  /** A shell in a 120×30 tmux pane with a recognisable prompt; `password` goes in its environment. */
  const shell = (name: string, password = PASSWORD) =>
    tty.shell(
      name,
      // XDG_CACHE_HOME: where a cache would be remembered; on ClickHouse nothing is.
      `EVX_CLICKHOUSE_PASSWORD=${q(password)} EVX_EXPORT_DIR=${q(c.dir)} XDG_CACHE_HOME=${q(join(c.dir, "xdg"))} TSX_TSCONFIG_PATH=${q(join(ROOT, "tsconfig.json"))}`,
      120,
      30,
    );

  const command = (url: string) =>
    [ui.file, ...ui.args, "--engine", "clickhouse", "--ch-url", url].map(q).join(" ");

  it("Events with the lake's counts, Trends, the Sync tab's partitions, q restores the terminal", async (t) => {
    if (!ui.real) t.diagnostic(`running runUi through tsx: ${ui.why}`);
    const name = "main";
    await shell(name);
    t.after(() => kill(name));
    const before = lake.srv.log.length;
    type(name, `cd ${q(c.dir)} && ${command(`http://${USER}@127.0.0.1:${port}/default`)}; echo EXIT=$?`);
    keys(name, "Enter");

    let s = await waitScreen(name, (x) => /button_clicked\s+1,946\s+118/.test(x) && /5,000 events/.test(x));
    assert.equal(altScreen(name), "1");
    assert.match(s, /9 event types · 2023-06-01 → 2023-06-14/);
    assert.match(s, /^purchase\s+40\s+31\b/m);
    s = await waitScreen(
      name,
      new RegExp(
        `clickhouse · 127\\.0\\.0\\.1:${port}/default\\.events │ 2023-06-01 → 2023-06-14 │ 5,000 events`,
      ),
    );
    assert.doesNotMatch(s, /duckdb/);
    // The answers came from the server: the analyses ran there, as the TUI's user.
    const mine = lake.srv.log.slice(before);
    assert.ok(mine.some((x) => /GROUP BY event_type/.test(x.sql) && x.user === USER && x.status === "ok"));

    keys(name, "2");
    s = await waitScreen(name, (x) => x.includes("── button_clicked") && /events per day/.test(x));

    keys(name, "5");
    s = await waitScreen(name, (x) => /15 partitions/.test(x) && /^ {2}2023-06-14 loaded\s+423\b/m.test(x));
    assert.match(s, new RegExp(`table 127\\.0\\.0\\.1:${port}/default\\.events · 15 partitions`));
    assert.match(s, /^5,000 rows · [\d.]+ kB on disk · \d+ parts · last load 2023-06-16 08:30:00/m);
    assert.match(s, /^ {2}2023-06-01 loaded\s+367\s+[\d.]+ kB\s+1\s+23\s+[\d.]+ kB\s+ok 2023-06-16 08:30/m);
    assert.match(s, /^ {2}2023-06-15 not loaded/m);
    keys(name, "S");
    await waitScreen(name, "ClickHouse loads its own data: use `evx clickhouse load SOURCE`");

    keys(name, "q");
    s = await waitScreen(name, /EXIT=0\s*\n\s*E2E\$/);
    assert.equal(altScreen(name), "0");
    assert.ok(!s.includes("1 Events  2 Trends"), `the TUI is still on screen:\n${s}`);
    assert.ok(!s.includes(PASSWORD));
    // No cache was opened or remembered.
    assert.ok(!existsSync(join(c.dir, "xdg")), "nothing remembered under XDG_CACHE_HOME");
    type(name, "stty -a | tr ' ' '\\n' | grep -E '^-?(icanon|echo)$'; echo STTY-END");
    keys(name, "Enter");
    s = await waitScreen(name, /^STTY-END\s*$/m);
    const flags = s.slice(s.lastIndexOf("stty -a"));
    assert.match(flags, /^icanon$/m);
    assert.match(flags, /^echo$/m);
    assert.doesNotMatch(flags, /^-icanon$|^-echo$/m);
  });

  /** The line just above `EXIT=N`: the one line the failed start printed. */
  function lineBeforeExit(s: string, code: number): string {
    const lines = s.split("\n");
    const i = lines.findIndex((l) => l.startsWith(`EXIT=${code}`));
    assert.ok(i > 0, s);
    return lines[i - 1]!;
  }

  it("a URL where nothing listens exits 6 with one line, the terminal restored", async (t) => {
    const name = "dead";
    await shell(name);
    t.after(() => kill(name));
    const dead = await deadPort();
    type(name, `${command(`http://127.0.0.1:${dead}/default`)}; echo EXIT=$?`);
    keys(name, "Enter");
    const s = await waitScreen(name, /EXIT=6\s*\n\s*E2E\$/);
    assert.equal(altScreen(name), "0");
    assert.match(
      lineBeforeExit(s, 6),
      new RegExp(
        `^evx: cannot reach ClickHouse at 127\\.0\\.0\\.1:${dead}/default \\(ECONNREFUSED\\); check --ch-url$`,
      ),
    );
    assert.doesNotMatch(s, /\n\s+at /, "no stack trace");
  });

  it("a refused password exits 7 with one line; the password never shows", async (t) => {
    const name = "auth";
    await shell(name, "wrong-Password-1");
    t.after(() => kill(name));
    type(name, `${command(`http://${USER}@127.0.0.1:${port}/default`)}; echo EXIT=$?`);
    keys(name, "Enter");
    const s = await waitScreen(name, /EXIT=7\s*\n\s*E2E\$/);
    assert.equal(altScreen(name), "0");
    assert.match(
      lineBeforeExit(s, 7),
      /^evx: ClickHouse at 127\.0\.0\.1:\d+\/default refused user "analyst": authentication failed/,
    );
    assert.doesNotMatch(s, /\n\s+at /, "no stack trace");
    assert.ok(!s.includes("wrong-Password-1") && !s.includes(PASSWORD));
  });
});
