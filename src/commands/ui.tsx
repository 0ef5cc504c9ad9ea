/**
 * `evx` / `evx ui [--cache PATH]`: the interactive TUI.
 *
 * - Needs a terminal on stdin and stdout; otherwise a one-line hint to use the headless commands
 *   (a `UsageError`, exit code 2).
 * - Draws on the alternate screen and restores the terminal (main screen, cursor, cooked mode) on
 *   every way out: q, Ctrl+C, an error, SIGTERM, SIGHUP.
 * - The first frame is drawn before DuckDB is even loaded; the cache opens right after, and data
 *   fills in as queries finish. Nothing here imports DuckDB statically.
 */
import { existsSync, readFileSync, writeSync } from "node:fs";
import { render } from "ink";
import { lastUsedFile, resolveCachePath } from "../cache/paths.js";
import { App } from "../views/App.js";
import { useColor as colorEnabled } from "../views/charts.js";
import type { Session } from "../views/state.js";
import { EXIT, UsageError } from "./errors.js";

/** Exit code when stdin or stdout is not a terminal (the hint goes to stderr via the UsageError). */
export const UI_NOT_A_TTY_EXIT = EXIT.usage;

export const NOT_A_TTY_HINT =
  "the interactive UI needs a terminal; for scripts use the headless commands: evx events, evx trend, evx funnel, evx retention, evx status (add --json)";

const ALT_ON = "\x1b[?1049h\x1b[2J\x1b[H";
const ALT_OFF = "\x1b[?25h\x1b[?1049l";

export interface UiOptions {
  cache?: string;
  stdin?: NodeJS.ReadStream;
  stdout?: NodeJS.WriteStream;
  stderr?: NodeJS.WriteStream;
}

/**
 * The cache the TUI opens: `--cache`, `$EVX_CACHE`, else the one the last sync/demo used. Same rule
 * as `cachePathFor` in `status.ts`, without importing DuckDB before the first frame.
 */
export function uiCachePath(cache?: string): string {
  const p = resolveCachePath({ cache });
  if (p) return p;
  const last = lastUsedFile();
  if (existsSync(last)) {
    const remembered = readFileSync(last, "utf8").trim();
    if (remembered) return remembered;
  }
  throw new UsageError("no cache yet: run `evx sync SOURCE` or `evx demo` first, or pass --cache PATH");
}

export async function runUi(opts: UiOptions = {}): Promise<void> {
  const stdin = opts.stdin ?? process.stdin;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  if (!stdin.isTTY || !stdout.isTTY) throw new UsageError(NOT_A_TTY_HINT);
  const cachePath = uiCachePath(opts.cache);
  if (!existsSync(cachePath))
    throw new UsageError(`no cache at ${cachePath}; run \`evx sync SOURCE\` first (or pass --cache)`);

  let session: Session | null = null;
  let restored = false;
  const fd = (stdout as { fd?: number }).fd;
  const restore = () => {
    if (restored) return;
    restored = true;
    try {
      instance.unmount();
    } catch {}
    try {
      if (stdin.isTTY) stdin.setRawMode(false);
    } catch {}
    try {
      session?.close();
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

  stdout.write(ALT_ON);
  const color = colorEnabled(process.env, stdout);
  const connect = async (): Promise<Session> => {
    const { openSession } = await import("../views/session.js");
    const s = await openSession(cachePath);
    session = s;
    if (restored) s.close();
    else {
      const { rememberCache } = await import("./sync.js");
      rememberCache(cachePath);
    }
    return s;
  };
  const instance = render(
    <App
      connect={connect}
      cachePath={cachePath}
      color={color}
      ascii={process.env.EVX_ASCII === "1" || process.env.TERM === "linux"}
    />,
    { stdin, stdout, stderr, exitOnCtrlC: false, patchConsole: true, maxFps: 30 },
  );
  for (const [sig, h] of handlers) process.on(sig, h);
  process.on("exit", onExit);
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  try {
    await instance.waitUntilExit();
  } finally {
    restore();
    for (const [sig, h] of handlers) process.off(sig, h);
    process.off("exit", onExit);
    process.off("uncaughtException", onCrash);
    process.off("unhandledRejection", onCrash);
  }
}
