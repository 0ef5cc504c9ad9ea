/**
 * Drives a real terminal for the end-to-end tests: a tmux server on its own socket (`-L`), its panes
 * read and typed into, and the choice between the built CLI and the same `runUi` through tsx.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sleep } from "../views/fixture.js";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

export type ScreenTest = string | RegExp | ((s: string) => boolean);

export interface TmuxOptions {
  /** How long `waitScreen` waits by default. */
  waitMs?: number;
  /** How long `waitScreen` sleeps between captures (it leaves this process the event loop). */
  pollMs?: number;
  /** Captures with `-J`: wrapped lines joined, trailing spaces kept. */
  join?: boolean;
}

/** A tmux server on the socket `socket`, and what the tests do with its panes. */
export function tmuxDriver(
  socket: string,
  { waitMs = 30_000, pollMs = 50, join: joinLines = false }: TmuxOptions = {},
) {
  function tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", socket, ...args], { encoding: "utf8" });
  }

  const screen = (name: string) =>
    joinLines ? tmux("capture-pane", "-p", "-J", "-t", name) : tmux("capture-pane", "-p", "-t", name);
  const altScreen = (name: string) => tmux("display-message", "-p", "-t", name, "#{alternate_on}").trim();

  async function waitScreen(name: string, test: ScreenTest, ms = waitMs) {
    const ok = (s: string) =>
      typeof test === "string" ? s.includes(test) : test instanceof RegExp ? test.test(s) : test(s);
    const end = Date.now() + ms;
    for (;;) {
      const s = screen(name);
      if (ok(s)) return s;
      if (Date.now() > end) throw new Error(`timed out waiting for ${String(test)}; screen:\n${s}`);
      await sleep(pollMs);
    }
  }

  /** Sends keys; `literal` text is typed as is (no key-name lookup). */
  function keys(name: string, ...k: string[]) {
    tmux("send-keys", "-t", name, ...k);
  }
  function type(name: string, text: string) {
    tmux("send-keys", "-t", name, "-l", text);
  }

  /** The config folder of shells whose `env` names none (created on first use, removed by `kill()`). */
  let config: string | null = null;

  /**
   * A shell in a new `width`×`height` session `name`, its prompt `E2E$ `, `env` (`NAME='value' …`)
   * and TERM=xterm-256color in its environment, the status line off; resolves once the prompt shows.
   * Without an `XDG_CONFIG_HOME` in `env` it gets a temporary one: quitting the TUI records where it
   * was left in `views.json`, never in the real `~/.config`.
   */
  async function shell(name: string, envText: string, width = 100, height = 30) {
    let env = envText;
    if (!/\bXDG_CONFIG_HOME=/.test(env)) {
      config ??= mkdtempSync(join(tmpdir(), "evx-tmux-config-"));
      env = `${env} XDG_CONFIG_HOME='${config}'`;
    }
    tmux(
      "new-session",
      "-d",
      "-s",
      name,
      "-x",
      String(width),
      "-y",
      String(height),
      `PS1='E2E$ ' ${env} TERM=xterm-256color exec sh`,
    );
    tmux("set-option", "-t", name, "status", "off");
    await waitScreen(name, "E2E$");
  }

  /** Ends the session `name`, or the whole server without one; never throws. */
  function kill(name?: string) {
    spawnSync(
      "tmux",
      name === undefined ? ["-L", socket, "kill-server"] : ["-L", socket, "kill-session", "-t", name],
    );
    if (name === undefined && config) {
      rmSync(config, { recursive: true, force: true });
      config = null;
    }
  }

  return { tmux, screen, altScreen, waitScreen, keys, type, shell, kill };
}

/** Newest modification time of the files under `dir`. */
export function newest(dir: string): number {
  let m = 0;
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) m = Math.max(m, statSync(join(e.parentPath, e.name)).mtimeMs);
  }
  return m;
}

export interface UiArgs {
  file: string;
  args: string[];
  real: boolean;
  why?: string;
}

/**
 * What starts the TUI: the built CLI (`bin/evx ui`) when `dist/` is up to date with `src/` and its
 * output for `helpArgs` passes `has`, else runUi through tsx (the same code, unbuilt); `why` says
 * why not, `lacks` when it was `has` that failed.
 */
export function uiArgs(
  helpArgs: string[],
  has: (help: { stdout: string; stderr: string }) => boolean,
  lacks: string,
): UiArgs {
  const bin = join(ROOT, "bin", "evx");
  const cli = join(ROOT, "dist", "cli.js");
  const tsx = {
    file: process.execPath,
    args: ["--import", import.meta.resolve("tsx"), join(ROOT, "test", "views", "run-ui.ts")],
    real: false,
  };
  if (!existsSync(cli)) return { ...tsx, why: "not built (npm run build)" };
  if (statSync(cli).mtimeMs < newest(join(ROOT, "src")))
    return { ...tsx, why: "dist/ is older than src/ (npm run build)" };
  const help = spawnSync(process.execPath, [bin, ...helpArgs], { encoding: "utf8" });
  if (has(help)) return { file: bin, args: ["ui"], real: true };
  return { ...tsx, why: lacks };
}
