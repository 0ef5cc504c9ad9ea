/**
 * Redraw bytes (issue #28, "Over SSH"): what a key makes the TUI write to the terminal. The App runs in
 * Ink's real renderer with the options `evx ui` uses (`INK_OPTIONS`), on a stdout that is a TTY of
 * 80×24 (and 200×50 for the cursor moves) and counts the bytes it is given. Those are the bytes the process writes to its pseudo-terminal
 * (Ink writes each frame in one `write`; the kernel then only adds a `\r` before each `\n`, counted
 * here too), so this measures what an SSH link carries, without tmux. bench/redraw.ts measures the
 * same through a real pty (`tmux pipe-pane`) for the README table; the two agree.
 *
 * Budgets: a cursor move sends at most 1 KB (the first ← on a chart too; a retention period shift by
 * a page is not a cursor move's cost: README "Over SSH" gives it); a live refresh that changes the chart rewrites only the
 * chart's lines (and the status and settings lines), nothing else on the screen.
 *
 * ink-testing-library cannot measure this: it renders in debug mode, a whole frame per change.
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { SmallCache } from "./fixture.js";

// Ink draws no intermediate frames when it believes it runs in CI (it reads the variables once, at
// import): this test is about those frames, so hide them before Ink loads (as `evx ui` does).
for (const k of Object.keys(process.env))
  if (k === "CI" || k === "CONTINUOUS_INTEGRATION") delete process.env[k];
// A colour terminal, as over SSH (chalk reads it at import too): the cursor row is drawn inverse, and
// the charts carry their colours (App `color`), so the bytes counted include the SGR codes.
process.env.FORCE_COLOR = "3";
delete process.env.NO_COLOR;
const { render } = await import("ink");
const { createElement } = await import("react");
const { App } = await import("../../src/views/App.js");
const { INK_OPTIONS } = await import("../../src/commands/ui.js");
const { TerminalSizeContext } = await import("../../src/views/hooks/useTerminalSize.js");
const fixture = await import("./fixture.js");
const { KEYS, sleep, smallCache, testSession } = fixture;

/** A TTY stdout of `columns`×`rows` that keeps what it is given. */
class Term extends EventEmitter {
  isTTY = true;
  out = "";
  constructor(
    public columns: number,
    public rows: number,
  ) {
    super();
  }
  write(chunk: string | Uint8Array, ...rest: unknown[]): boolean {
    this.out += typeof chunk === "string" ? chunk : Buffer.from(chunk).toString("utf8");
    const cb = rest.find((x) => typeof x === "function") as (() => void) | undefined;
    cb?.();
    return true;
  }
}

/** Ink's stdin: keys written to it are read as typed. */
class Keys extends EventEmitter {
  isTTY = true;
  private data: string | null = null;
  write(s: string) {
    this.data = s;
    this.emit("readable");
    this.emit("data", s);
  }
  read = () => {
    const d = this.data;
    this.data = null;
    return d;
  };
  setEncoding() {}
  setRawMode() {}
  resume() {}
  pause() {}
  ref() {}
  unref() {}
}

/** Bytes on the wire: UTF-8, with the `\r` the terminal driver adds before each `\n` (onlcr). */
const wireBytes = (s: string) => Buffer.byteLength(s) + (s.match(/\n/g)?.length ?? 0);
/** Text written, escape sequences removed. */
const plain = (s: string) => s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "");
/** The lines a stretch of output rewrote (incremental rendering: `ESC[1G line ESC[K`), plain. */
const rewritten = (s: string) => [...s.matchAll(/\x1b\[1G(.*?)\x1b\[K/gs)].map((m) => plain(m[1]!));

function start(c: SmallCache, columns: number, rows: number, props: Record<string, unknown> = {}) {
  const stdout = new Term(columns, rows);
  const stdin = new Keys();
  const session = testSession(c);
  const ink = render(
    createElement(
      TerminalSizeContext.Provider,
      { value: { columns, rows } },
      createElement(App, {
        connect: async () => session,
        cachePath: session.path,
        onQuit: () => {},
        color: true,
        ...props,
      }),
    ),
    {
      ...INK_OPTIONS,
      patchConsole: false,
      stdout: stdout as unknown as NodeJS.WriteStream,
      stdin: stdin as unknown as NodeJS.ReadStream,
      stderr: new Term(columns, rows) as unknown as NodeJS.WriteStream,
    },
  );
  /**
   * Waits until the output since `from` passes `test` (plain text), then until it is quiet for `quietMs`.
   * In live mode the screen is never quiet (the status line changes at every cycle): pass 0 there, and a
   * test that says what must have been drawn.
   */
  const settle = async (from: number, test?: (written: string) => boolean, quietMs = 250, raw = false) => {
    const end = Date.now() + 15_000;
    const seen = () => (raw ? stdout.out.slice(from) : plain(stdout.out.slice(from)));
    while (test && !test(seen())) {
      if (Date.now() > end)
        throw new Error(`timed out; written:\n${plain(stdout.out.slice(from)).slice(-3000)}`);
      await sleep(20);
    }
    let len = stdout.out.length;
    let quiet = Date.now();
    while (Date.now() - quiet < quietMs) {
      // A screen that never goes quiet fails here rather than hang the run.
      if (Date.now() > end + 15_000)
        throw new Error(`never quiet; last written:\n${plain(stdout.out.slice(-1500))}`);
      await sleep(25);
      if (stdout.out.length !== len) {
        len = stdout.out.length;
        quiet = Date.now();
      }
    }
  };
  /** Presses `key`, waits for `test` and quiet (`quietMs`); returns what it wrote. */
  const press = async (key: string, test?: (written: string) => boolean, quietMs = 250) => {
    const from = stdout.out.length;
    stdin.write(key);
    await settle(from, test, quietMs);
    return stdout.out.slice(from);
  };
  return { stdout, press, settle, unmount: () => ink.unmount() };
}

const BUDGET = 1024;

describe("redraw bytes", () => {
  let c: SmallCache;
  before(async () => {
    c = await smallCache();
  });
  after(() => c.dispose());

  for (const [columns, rows] of [
    [80, 24],
    [200, 50],
  ] as const)
    it(`a cursor move sends at most 1 KB on Events, Trends, Retention and Paths (${columns}×${rows})`, async () => {
      await cursorMoves(columns, rows);
    });

  async function cursorMoves(columns: number, rows: number) {
    const t = start(c, columns, rows);
    try {
      await t.settle(0, (w) => /button_clicked\s+1,946/.test(w));
      const moves: [string, number][] = [];
      const move = async (label: string, key: string) => {
        const w = await t.press(key);
        assert.ok(w.length > 0, `${label}: the key redrew something`);
        moves.push([label, wireBytes(w)]);
        if (process.env.REDRAW_DEBUG) console.log(label, rewritten(w));
      };
      await move("Events ↓", "j");
      await move("Events ↓", "j");
      await move("Events ↑", "k");
      await t.press("g");
      await t.press(KEYS.enter, (w) => w.includes("── button_clicked"));
      // The first ← shows the cursor: its marker row and values line are kept blank until then, so
      // only they are written (before, the plot shrank by two rows: 1.2 KB, every chart line).
      await move("Trends first ← (shows the cursor)", KEYS.left);
      await move("Trends chart ←", KEYS.left);
      await move("Trends chart →", KEYS.right);
      await t.press("4");
      await t.press("a", (w) => w.includes("Start event"));
      await t.press("button_clicked", (w) => w.includes("button_clicked"));
      await t.press(KEYS.enter, (w) => w.includes("Filter on button_clicked"));
      await t.press(KEYS.enter, (w) => /Average\s+\d/.test(w));
      await move("Retention ↓", "j");
      // → inside the shown periods (D0-D7 of 14 at 80 columns): the cursor moves, the columns stay.
      for (let i = 0; i < 7; i++) await move(`Retention → (D${i + 1})`, "l");
      // ← back inside them too.
      await move("Retention ←", "h");
      await t.press("6");
      await t.press("a", (w) => w.includes("Anchor event"));
      await t.press("button_clicked", (w) => w.includes("button_clicked"));
      await t.press(KEYS.enter, (w) => w.includes("Filter on button_clicked"));
      await t.press(KEYS.enter, (w) => w.includes("users; what they did after"));
      await move("Paths ↓", "j");
      await move("Paths ↓", "j");
      for (const [label, bytes] of moves)
        assert.ok(bytes <= BUDGET, `${label} sent ${bytes} bytes (budget ${BUDGET}): ${moves.join(" ")}`);
    } finally {
      t.unmount();
    }
  }

  it("a live refresh that changes the chart rewrites only the chart's lines (and status and settings)", async () => {
    const t = start(c, 80, 24, { liveEveryMs: 300 });
    try {
      await t.settle(0, (w) => /button_clicked\s+[\d,]+/.test(w));
      await t.press(KEYS.enter, (w) => w.includes("── button_clicked"));
      // Live: a cycle is over when the status line counts what it synced (the next may already run:
      // `· syncing…`, under load with no pause between them).
      await t.press("L", (w) => /live · \+0 events/.test(w), 0);
      const from = t.stdout.out.length;
      const lines = Array.from({ length: 30 }, (_, i) =>
        JSON.stringify({
          event_type: "button_clicked",
          event_time: new Date(Date.parse("2023-06-14T12:00:00Z") + i * 1000).toISOString(),
          user_id: `redraw-${i}`,
          event_properties: { button_name: "save" },
        }),
      );
      writeFileSync(join(c.lake, "date=2023-06-14", "redraw.jsonl"), `${lines.join("\n")}\n`);
      // The cycle that synced them is over, and the chart's new answer is drawn (its lines rewritten).
      await t.settle(
        from,
        (w) => /live · \+30 events/.test(plain(w)) && rewritten(w).some((l) => /[┤┼]/.test(l)),
        0,
        true,
      );
      // One more cycle without data: the status line only.
      await t.settle(t.stdout.out.length, (w) => /live · \+0 events/.test(w), 0);
      t.stdout.write("");
      const out = t.stdout.out.slice(from);
      const others = rewritten(out).filter(
        (l) =>
          !/[┤┼╭╮╯╰│─]/.test(l) && // the chart, its axis and legend, the status bar's separators
          !/^\s*(\d\d-\d\d|\d\d:\d\d)(\s+\d\d-\d\d|\s+\d\d:\d\d)*\s*$/.test(l) && // x-axis labels
          !/^Trends · |· where /.test(l), // the settings lines (updating…)
      );
      assert.deepEqual(others, [], "nothing but the chart, the settings and the status line is redrawn");
      const chartLines = rewritten(out).filter((l) => /[┤┼]/.test(l));
      assert.ok(chartLines.length > 0, "the chart was redrawn");
      await t.press("L", (w) => !w.includes("live ·"));
    } finally {
      t.unmount();
    }
  });
});
