/**
 * Shared setup for the screen tests: a real small cache (synthetic lake → folder sync), a session
 * over it, and helpers to render the App at a fixed size and drive it with keys.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { render } from "ink-testing-library";
import { type ReactNode, useState } from "react";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { displayWidth } from "../../src/render/sanitize.js";
import { folderSource } from "../../src/source/folder.js";
import { generateLake } from "../../src/source/synthetic.js";
import { App, type AppProps } from "../../src/views/App.js";
import type { QueryRunner } from "../../src/views/hooks/useQuery.js";
import { type TerminalSize, TerminalSizeContext } from "../../src/views/hooks/useTerminalSize.js";
import { sessionFor } from "../../src/views/state/session.js";
import type { Session, SyncApi } from "../../src/views/state/state.js";

export interface SmallCache {
  dir: string;
  lake: string;
  path: string;
  cache: Cache;
  /** Closes the cache and removes the folder (call from `after`). */
  dispose(): void;
}

/**
 * ~5k synthetic events over 14 days (from 2023-06-01), synced into a fresh cache in a temp folder;
 * `only` syncs just those dates of the lake (the rest stay "not synced").
 */
export async function smallCache(
  events = 5000,
  days = 14,
  only?: { from: string; to: string },
): Promise<SmallCache> {
  // Not `tempDir()`: its `after` hook would fire at the end of a `before` hook that calls it.
  const dir = mkdtempSync(join(tmpdir(), "evx-ui-"));
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events, days });
  const path = join(dir, "cache.duckdb");
  const cache = await Cache.open(path, { create: true });
  await sync(cache, folderSource(lake), only ? { from: only.from, to: only.to } : {});
  return {
    dir,
    lake,
    path,
    cache,
    dispose() {
      cache.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const KEYS = {
  up: "\x1b[A",
  down: "\x1b[B",
  right: "\x1b[C",
  left: "\x1b[D",
  shiftUp: "\x1b[1;2A",
  shiftDown: "\x1b[1;2B",
  enter: "\r",
  esc: "\x1b",
  tab: "\t",
  shiftTab: "\x1b[Z",
  backspace: "\x7f",
  ctrlC: "\x03",
  ctrlR: "\x12",
  pgdn: "\x1b[6~",
  pgup: "\x1b[5~",
  home: "\x1b[H",
  end: "\x1b[F",
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Driven {
  lastFrame(): string;
  /** Writes keys, one write per element (each is one keypress or a typed string). */
  press(...keys: string[]): Promise<void>;
  /** Polls until the frame satisfies `test` (a substring or predicate); throws with the frame. */
  waitFor(test: string | RegExp | ((frame: string) => boolean), timeoutMs?: number): Promise<string>;
  /** Changes the terminal size the App sees. */
  resize(columns: number, rows: number): void;
  unmount(): void;
  quitCalls: number;
  stdin: { write(s: string): void };
}

/** Provides the terminal size from state, so tests can resize. */
function Sized({
  initial,
  expose,
  children,
}: {
  initial: TerminalSize;
  expose: (set: (s: TerminalSize) => void) => void;
  children: ReactNode;
}) {
  const [size, setSize] = useState(initial);
  expose(setSize);
  return <TerminalSizeContext.Provider value={size}>{children}</TerminalSizeContext.Provider>;
}

/** Renders the App on a session at `columns × rows` and returns a driver. */
export async function renderApp(
  session: Session,
  opts: { columns?: number; rows?: number; props?: Partial<AppProps> } = {},
): Promise<Driven> {
  const size = { columns: opts.columns ?? 100, rows: opts.rows ?? 30 };
  let quits = 0;
  let setSize: (s: TerminalSize) => void = () => {};
  const connect = async () => session;
  const app = render(
    <Sized
      initial={size}
      expose={(f) => {
        setSize = f;
      }}
    >
      <App
        connect={connect}
        cachePath={session.path}
        onQuit={() => {
          quits++;
        }}
        {...opts.props}
      />
    </Sized>,
  );
  const driven: Driven = {
    lastFrame: () => app.lastFrame() ?? "",
    async press(...keys) {
      for (const k of keys) {
        app.stdin.write(k);
        // A lone ESC is only flushed after a tick (it may start a sequence).
        await sleep(k === KEYS.esc ? 30 : 15);
      }
    },
    async waitFor(test, timeoutMs = 10_000) {
      const ok = (f: string) =>
        typeof test === "string" ? f.includes(test) : test instanceof RegExp ? test.test(f) : test(f);
      const end = Date.now() + timeoutMs;
      for (;;) {
        const f = app.lastFrame() ?? "";
        if (ok(f)) return f;
        if (Date.now() > end) throw new Error(`timed out waiting for ${String(test)}; frame:\n${f}`);
        await sleep(15);
      }
    },
    resize(columns, rows) {
      setSize({ columns, rows });
    },
    unmount: () => app.unmount(),
    get quitCalls() {
      return quits;
    },
    stdin: app.stdin,
  };
  return driven;
}

/** Sets the date range through `d` → "Custom…" (the last preset) and types `text`. */
export async function typeRange(app: Driven, text: string): Promise<void> {
  // Keys that arrive together are dispatched one commit after another, and React (in development)
  // warns about a long chain of updates from effects: send them in small groups, each group only
  // once the previous one shows.
  const typed = (f: string) => /> (.*)▏/.exec(f)?.[1];
  await app.press("d");
  await app.waitFor("Custom…");
  await app.press(KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.down, KEYS.enter);
  let now = typed(await app.waitFor((f) => f.includes("Date range: FROM..TO") && typed(f) !== undefined))!;
  while (now.length > 0) {
    const left = Math.max(0, now.length - 10);
    await app.press(KEYS.backspace.repeat(now.length - left));
    now = typed(await app.waitFor((f) => typed(f)?.length === left))!;
  }
  for (let i = 0; i < text.length; i += 10) {
    await app.press(text.slice(i, i + 10));
    await app.waitFor(`> ${text.slice(0, i + 10)}▏`);
  }
  await app.press(KEYS.enter);
}

/** A session over an open cache, optionally with a different query runner (fakes, slow runners). */
export function testSession(c: SmallCache, runner?: QueryRunner): Session & { sync: SyncApi } {
  const s = sessionFor(c.cache, { runner });
  // Tests own the cache; closing the session must not close it under the next test.
  return { ...s, close() {} };
}

/** Every line fits the terminal, and the frame is shorter than it. */
export function assertFits(frame: string, columns: number, rows: number): void {
  const lines = frame.split("\n");
  assert.ok(lines.length <= rows - 1, `frame has ${lines.length} lines for ${rows} rows`);
  for (const l of lines)
    assert.ok(displayWidth(l) <= columns, `line wider than ${columns}: ${JSON.stringify(l)}`);
}
