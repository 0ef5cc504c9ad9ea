/**
 * Shared setup for the screen tests: a real small cache (synthetic lake → folder sync), a session
 * over it, and helpers to render the App at a fixed size and drive it with keys.
 */
import { join } from "node:path";
import { render } from "ink-testing-library";
import { Cache } from "../../src/cache/db.js";
import { sync } from "../../src/cache/sync.js";
import { folderSource } from "../../src/source/folder.js";
import { generateLake } from "../../src/source/synthetic.js";
import { App, type AppProps } from "../../src/views/App.js";
import { sessionFor } from "../../src/views/session.js";
import type { Session } from "../../src/views/state.js";
import type { QueryRunner } from "../../src/views/useQuery.js";
import { TerminalSizeContext } from "../../src/views/useTerminalSize.js";
import { tempDir } from "../helpers/tmp.js";

export interface SmallCache {
  dir: string;
  lake: string;
  path: string;
  cache: Cache;
}

/** ~5k synthetic events over 14 days, synced into a fresh cache in a temp folder. */
export async function smallCache(events = 5000, days = 14): Promise<SmallCache> {
  const dir = tempDir("evx-ui-");
  const lake = join(dir, "lake");
  await generateLake({ dir: lake, events, days });
  const path = join(dir, "cache.duckdb");
  const cache = await Cache.open(path, { create: true });
  await sync(cache, folderSource(lake));
  return { dir, lake, path, cache };
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
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface Driven {
  lastFrame(): string;
  /** Writes keys, one write per element (each is one keypress or a typed string). */
  press(...keys: string[]): Promise<void>;
  /** Polls until the frame satisfies `test` (a substring or predicate); throws with the frame. */
  waitFor(test: string | RegExp | ((frame: string) => boolean), timeoutMs?: number): Promise<string>;
  unmount(): void;
  quitCalls: number;
  stdin: { write(s: string): void };
}

/** Renders the App on a session at `columns × rows` and returns a driver. */
export async function renderApp(
  session: Session,
  opts: { columns?: number; rows?: number; props?: Partial<AppProps> } = {},
): Promise<Driven> {
  const size = { columns: opts.columns ?? 100, rows: opts.rows ?? 30 };
  let quits = 0;
  const connect = async () => session;
  const app = render(
    <TerminalSizeContext.Provider value={size}>
      <App
        connect={connect}
        cachePath={session.path}
        onQuit={() => {
          quits++;
        }}
        {...opts.props}
      />
    </TerminalSizeContext.Provider>,
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
    unmount: () => app.unmount(),
    get quitCalls() {
      return quits;
    },
    stdin: app.stdin,
  };
  return driven;
}

/** A session over an open cache, optionally with a different query runner (fakes, slow runners). */
export function testSession(c: SmallCache, runner?: QueryRunner): Session {
  const s = sessionFor(c.cache, { runner });
  // Tests own the cache; closing the session must not close it under the next test.
  return { ...s, close() {} };
}
