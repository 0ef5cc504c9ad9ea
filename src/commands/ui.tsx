/**
 * `evx` / `evx ui [--cache PATH]`: the interactive TUI; `evx ui --engine clickhouse --ch-url … --ch-table …`
 * runs the same TUI on a ClickHouse table (no cache is opened).
 *
 * - Needs a terminal on stdin and stdout; otherwise a one-line hint to use the headless commands
 *   (a `UsageError`, exit code 2).
 * - Draws on the alternate screen and restores the terminal (main screen, cursor, cooked mode) on
 *   every way out: q, Ctrl+C, an error, SIGTERM, SIGHUP.
 * - The first frame is drawn before DuckDB is even loaded; the cache opens right after, and data
 *   fills in as queries finish. Nothing here imports DuckDB or the ClickHouse client statically.
 * - On ClickHouse, the first request checks the server, the user and the table: a wrong URL, a refused
 *   user or a missing table ends the TUI like a headless command (one line, exit 6 or 7). Later
 *   failures are one line in the status bar and the TUI keeps running. On the way out the engine is
 *   closed once its KILL QUERY requests have been sent (waiting at most a few seconds).
 */

import { appendFileSync, existsSync, writeSync } from "node:fs";
import type { EngineOptions } from "../queries/engine.js";
import { parseDuration, parseZone } from "../queries/parse.js";
import { parseSample } from "../queries/sample.js";
import { useColor as colorEnabled } from "../render/charts.js";
import { terminalClipboard } from "../views/state/clipboard.js";
import type { Session } from "../views/state/state.js";
import { readViews, type ViewsFile, viewsPath } from "../views/state/views.js";
import { splashFrame } from "../views/widgets/splash.js";
import { cachePathFor } from "./cachepath.js";
import { EXIT, UsageError } from "./errors.js";
import { incrementalStdout } from "./inkfix.js";

/** Exit code when stdin or stdout is not a terminal (the hint goes to stderr via the UsageError). */
export const UI_NOT_A_TTY_EXIT = EXIT.usage;

/** `EVX_TRACE=FILE`: append startup milestones (ms since process start) to FILE. */
function trace(what: string): void {
  const file = process.env.EVX_TRACE;
  if (file) appendFileSync(file, `${Math.round(performance.now())} ${what}\n`);
}
trace("ui module loaded");

export const NOT_A_TTY_HINT =
  "the interactive UI needs a terminal; for scripts use the headless commands: evx events, evx trend, evx funnel, evx retention, evx status (add --json)";

/**
 * How Ink draws the TUI. `incrementalRendering` rewrites only the lines that changed (Ink's default
 * erases and rewrites the whole frame on every change): a cursor move sends a few hundred bytes instead
 * of the whole screen, which is what makes the TUI usable over a slow SSH link (README "Over SSH";
 * test/views/redraw-bytes.test.tsx holds the budget).
 */
export const INK_OPTIONS = {
  exitOnCtrlC: false,
  patchConsole: true,
  maxFps: 30,
  incrementalRendering: true,
} as const;

const ALT_ON = "\x1b[?1049h\x1b[2J\x1b[H";
const ALT_OFF = "\x1b[?25h\x1b[?1049l";

export interface UiOptions {
  cache?: string;
  /** IANA zone for dates and buckets (default UTC). */
  tz?: string;
  /** Live mode's interval (`L`), a duration such as `30s` (default 60s, at least 5s as `sync --every`). */
  every?: string;
  /** `--engine clickhouse` with its `--ch-url` and `--ch-table`; absent (or `duckdb`): the cache. */
  engine?: EngineOptions;
  /** Open this saved view (`--view NAME`). */
  view?: string;
  /** Do not reopen where the TUI was left (`--no-restore`). */
  restore?: boolean;
  /** `--sample P%`: the analyses read that share of the users (`%` in the TUI changes it). */
  sample?: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/** The cache the TUI opens (the same rule as every reading command). */
export const uiCachePath = cachePathFor;

/** How long quitting waits for the engine to close (ClickHouse: KILL QUERY requests still in flight). */
const CLOSE_WAIT_MS = 3000;

/**
 * What the first frame names while ClickHouse connects, `clickhouse · host:port/db.table` as the
 * session's label will say, from the URL alone (without loading the client); `clickhouse` when the URL
 * does not parse (the engine then says why).
 */
export function chOpeningLabel(
  o: Pick<EngineOptions, "chUrl" | "chTable">,
  env: NodeJS.ProcessEnv = process.env,
): string {
  try {
    const u = new URL(o.chUrl ?? env.EVX_CLICKHOUSE_URL ?? "");
    const seg = u.pathname.split("/").filter(Boolean)[0];
    let db = "default";
    try {
      db = seg ? decodeURIComponent(seg) : db;
    } catch {}
    const port = u.port || (u.protocol === "https:" ? "8443" : "8123");
    return `clickhouse · ${u.hostname}:${port}/${db}.${o.chTable ?? "events"}`;
  } catch {
    return "clickhouse";
  }
}

/**
 * `--every` in ms, with `evx sync --every`'s rules and message (`parseEvery` in ./sync.ts, which loads
 * DuckDB: this one keeps the TUI's start light). `EVX_WATCH_MIN_EVERY_MS` lowers the 5 s minimum for tests.
 */
export function parseLiveEvery(text: string | undefined, env: NodeJS.ProcessEnv = process.env): number {
  let seconds: number;
  try {
    seconds = parseDuration(text ?? "60s");
  } catch (e) {
    throw new UsageError(`--every: ${(e as Error).message}`);
  }
  const hook = env.EVX_WATCH_MIN_EVERY_MS ? Number(env.EVX_WATCH_MIN_EVERY_MS) : Number.NaN;
  const min = Number.isFinite(hook) && hook >= 0 ? hook : 5000;
  if (seconds * 1000 < min)
    throw new UsageError(
      `--every must be at least ${min / 1000}s, got '${text}': each cycle lists the source`,
    );
  return seconds * 1000;
}

export async function runUi(opts: UiOptions = {}): Promise<void> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  const tz = parseZone(opts.tz ?? "UTC");
  const liveEveryMs = parseLiveEvery(opts.every);
  const sample = opts.sample === undefined ? undefined : parseSample(opts.sample);
  if (!stdin.isTTY || !stdout.isTTY) throw new UsageError(NOT_A_TTY_HINT);
  const ch = opts.engine?.engine === "clickhouse" ? opts.engine : undefined;
  // On ClickHouse no cache is opened (nor needed): `cachePath` is only what the first frame names.
  const cachePath = ch ? chOpeningLabel(ch) : uiCachePath(opts.cache);
  if (!ch && !existsSync(cachePath))
    throw new UsageError(`no cache at ${cachePath}; run \`evx sync SOURCE\` first (or pass --cache)`);
  // Saved views: `--view NAME`, else where the TUI was left on this cache (unless --no-restore).
  const viewsFile = viewsPath();
  let views: ViewsFile;
  try {
    views = readViews(viewsFile);
  } catch (e) {
    if (opts.view !== undefined) throw new UsageError((e as Error).message);
    views = { views: {} };
  }
  if (opts.view !== undefined && !(opts.view in views.views)) {
    const names = Object.keys(views.views);
    throw new UsageError(
      `no saved view ${JSON.stringify(opts.view)}${names.length ? `; saved: ${names.join(", ")}` : " (w in the TUI saves one)"}`,
    );
  }
  const view =
    opts.view !== undefined
      ? views.views[opts.view]
      : opts.restore === false
        ? undefined
        : views.last?.[cachePath];

  let session: Session | null = null;
  /** The session's close, once started (ClickHouse's resolves when its client is closed). */
  let closing: Promise<void> | undefined;
  let instance: { unmount(): void } | undefined;
  /** ClickHouse's first request failed: the TUI leaves with this error (one line, its exit code). */
  let startError: unknown;
  let restored = false;
  /** Quit while live mode still ran a batch: leave without closing the cache under it. */
  let forced = false;
  const fd = (stdout as { fd?: number }).fd;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      instance?.unmount();
    } catch {}
    try {
      if (stdin.isTTY) stdin.setRawMode(false);
    } catch {}
    try {
      if (!forced && session) closing = Promise.resolve(session.close()).catch(() => {});
    } catch {}
    // Synchronously: this also runs from 'exit' and signal handlers.
    try {
      if (typeof fd === "number") writeSync(fd, ALT_OFF);
      else stdout.write(ALT_OFF);
    } catch {}
  };
  const onSignal = (code: number) => () => {
    restore();
    process.exit(code);
  };
  const handlers: [NodeJS.Signals, () => void][] = [
    ["SIGTERM", onSignal(143)],
    ["SIGHUP", onSignal(129)],
    ["SIGINT", onSignal(130)],
  ];
  const onExit = () => restore();
  const onCrash = (e: unknown) => {
    restore();
    stderr.write(`evx: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(EXIT.error);
  };

  for (const [sig, h] of handlers) process.on(sig, h);
  process.on("exit", onExit);
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  try {
    // The first frame, drawn before Ink, React and the screens load (most of the start-up time).
    const openingStatus = ch ? CH_OPENING_STATUS : undefined;
    stdout.write(
      `${ALT_ON}\x1b[?25l${splashFrame(stdout.columns ?? 80, stdout.rows ?? 24, cachePath, openingStatus)}`,
    );
    trace("splash");
    // Keys typed while the rest loads wait in the terminal unechoed; Ink reads them when it attaches.
    stdin.setRawMode(true);
    // Ink's colours come from chalk, which ignores NO_COLOR: turn them off before it loads.
    if (process.env.NO_COLOR && process.env.FORCE_COLOR === undefined) process.env.FORCE_COLOR = "0";
    // No JSX in this file: a static `react/jsx-runtime` import would load React before the splash
    // (and pin its build before the entry point could choose NODE_ENV).
    // Ink stops drawing frames when it thinks it runs in CI (CI=true); this is an interactive
    // terminal (checked above), so hide those variables while Ink reads them at import.
    const ci = { CI: process.env.CI, CONTINUOUS_INTEGRATION: process.env.CONTINUOUS_INTEGRATION };
    delete process.env.CI;
    delete process.env.CONTINUOUS_INTEGRATION;
    const [{ render }, { App }, react, chs] = await Promise.all([
      import("ink"),
      import("../views/App.js"),
      import("react"),
      ch ? import("../views/state/chsession.js") : null,
    ]).finally(() => {
      for (const [k, v] of Object.entries(ci)) if (v !== undefined) process.env[k] = v;
    });
    // React is CommonJS: named exports under Node's ESM loader, only `default` in some bundles.
    const createElement =
      react.createElement ?? (react as unknown as { default: typeof react }).default.createElement;
    const color = colorEnabled(process.env, stdout);
    // ClickHouse: the engine (a bad URL throws here, a UsageError); its first request runs in `connect`.
    const chSession = ch && chs ? chs.openChSession(ch) : null;
    if (chSession) session = chSession;
    const connectCh = async (): Promise<Session> => {
      trace("connect");
      try {
        await chSession!.check();
      } catch (e) {
        // Unreachable, refused, no such table: leave as the headless commands do (one line, exit 6/7).
        if (!restored) {
          startError = e;
          instance?.unmount();
        }
        throw e;
      }
      trace("engine ready");
      return chSession!;
    };
    const connect = async (): Promise<Session> => {
      if (chSession) return connectCh();
      trace("connect");
      const { openSession } = await import("../views/state/session.js");
      const s = await openSession(cachePath);
      trace("cache open");
      session = s;
      // Opening a cache never makes it the default: only a sync or demo that ended does.
      if (restored) s.close();
      return s;
    };
    trace("render");
    let rendered = false;
    const ink = render(
      createElement(App, {
        connect,
        cachePath: chSession ? chSession.label : cachePath,
        openingStatus,
        tz,
        color,
        onMilestone: trace,
        liveEveryMs,
        onForceQuit: () => {
          forced = true;
        },
        ascii: process.env.EVX_ASCII === "1" || process.env.TERM === "linux",
        clipboard: terminalClipboard(stdout),
        view,
        ...(sample !== undefined ? { sample } : {}),
        viewsPath: viewsFile,
        // `y` copies a command that reads the same data: this cache, or this ClickHouse table.
        commandSource: ch
          ? [
              "--engine",
              "clickhouse",
              ...(ch.chUrl !== undefined && !/\/\/[^/]*@/.test(ch.chUrl) ? ["--ch-url", ch.chUrl] : []),
              ...(ch.chTable !== undefined ? ["--ch-table", ch.chTable] : []),
            ]
          : ["--cache", cachePath],
      }),
      {
        stdin,
        stdout: incrementalStdout(stdout),
        stderr,
        ...INK_OPTIONS,
        onRender: () => {
          if (!rendered) trace("first frame");
          rendered = true;
        },
      },
    );
    instance = ink;
    await ink.waitUntilExit();
    if (startError !== undefined) throw startError;
    if (forced) {
      restore();
      process.exit(EXIT.interrupted);
    }
  } finally {
    restore();
    for (const [sig, h] of handlers) process.off(sig, h);
    process.off("exit", onExit);
    process.off("uncaughtException", onCrash);
    process.off("unhandledRejection", onCrash);
    // ClickHouse: let the KILL QUERY of a cancelled query reach the server and the sockets close.
    if (closing) await closeWithin(closing, CLOSE_WAIT_MS);
  }
}

/** The status line while ClickHouse connects (the first frame's and the App's). */
const CH_OPENING_STATUS = "connecting to ClickHouse…";

function closeWithin(p: Promise<void>, ms: number): Promise<void> {
  let t: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<void>((resolve) => {
    t = setTimeout(resolve, ms);
    t.unref?.();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(t));
}
