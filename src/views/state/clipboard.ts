/**
 * `y`/`Y` copy through OSC 52: the terminal puts the text on the local clipboard, over SSH too. Under
 * tmux the sequence is also sent wrapped for passthrough (`DCS tmux; … ST`), so it reaches the outer
 * terminal with `allow-passthrough on`; the plain one sets tmux's own buffer with `set-clipboard on`.
 * evx never reads the clipboard. Where OSC 52 cannot work (not a terminal, `TERM=dumb` or `linux`, or
 * `EVX_CLIPBOARD=file`) the text goes to a file instead and the status bar says where. No React here:
 * `runUi` loads this before Ink (the context is `hooks/useClipboard.ts`).
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

export interface Clipboard {
  /** Writes an escape sequence to the terminal. */
  write(seq: string): void;
  /** Whether the terminal may take OSC 52. */
  osc52: boolean;
  /** Inside tmux: also send the sequence wrapped for passthrough. */
  tmux: boolean;
  /** Where the text goes when OSC 52 is unsupported. */
  fallbackPath: string;
}

/** The OSC 52 sequence that sets the clipboard (`c`) to `text`. */
export function osc52(text: string): string {
  return `\x1b]52;c;${Buffer.from(text, "utf8").toString("base64")}\x07`;
}

/** `seq` wrapped for tmux passthrough: every ESC doubled inside `ESC P tmux; … ESC \`. */
export function tmuxPassthrough(seq: string): string {
  return `\x1bPtmux;${seq.replace(/\x1b/g, "\x1b\x1b")}\x1b\\`;
}

/** The texts of every OSC 52 sequence in `out` (plain or wrapped for tmux), decoded. */
export function decodeOsc52(out: string): string[] {
  return [...out.matchAll(/\x1b\]52;c;([A-Za-z0-9+/=]*)(?:\x07|\x1b\\)/g)].map((m) =>
    Buffer.from(m[1]!, "base64").toString("utf8"),
  );
}

export type Copied = { how: "osc52" } | { how: "file"; path: string };

/** Copies `text`: OSC 52 when the terminal may take it, else a file. */
export function copyText(text: string, cb: Clipboard): Copied {
  if (cb.osc52) {
    const seq = osc52(text);
    cb.write(cb.tmux ? seq + tmuxPassthrough(seq) : seq);
    return { how: "osc52" };
  }
  mkdirSync(join(cb.fallbackPath, ".."), { recursive: true });
  writeFileSync(cb.fallbackPath, text.endsWith("\n") ? text : `${text}\n`);
  return { how: "file", path: cb.fallbackPath };
}

/** The clipboard of the real terminal (`stdout`), from the environment. */
export function terminalClipboard(
  stdout: NodeJS.WriteStream = process.stdout,
  env: NodeJS.ProcessEnv = process.env,
): Clipboard {
  const term = env.TERM ?? "";
  const state = env.XDG_STATE_HOME || join(homedir(), ".local", "state");
  return {
    write: (s) => {
      stdout.write(s);
    },
    osc52: !!stdout.isTTY && term !== "dumb" && term !== "linux" && env.EVX_CLIPBOARD !== "file",
    tmux: !!env.TMUX,
    fallbackPath: join(state, "evx", "copied.txt"),
  };
}

/** A status-bar line for a copy: what was copied and how. */
export function copiedText(what: string, text: string, c: Copied): string {
  const one = text.replace(/\s+/g, " ").trim();
  const shown = one.length > 60 ? `${one.slice(0, 59)}…` : one;
  return c.how === "osc52" ? `copied ${what}: ${shown}` : `no OSC 52 here: ${what} written to ${c.path}`;
}
