/**
 * `incrementalStdout` (src/commands/inkfix.ts): Ink 6.8's incremental frames start one line too low when
 * the frame ends in a newline. A frame drawn into a small terminal model must land where the last one
 * was, every time, with the fix; without it each frame moves one row down (the bug it corrects).
 */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import { describe, it } from "node:test";

for (const k of Object.keys(process.env))
  if (k === "CI" || k === "CONTINUOUS_INTEGRATION") delete process.env[k];
const { render, Text, Box } = await import("ink");
const { createElement: h } = await import("react");
const { incrementalStdout } = await import("../../src/commands/inkfix.js");

/** Just enough of a terminal for Ink's output: text, \n, ESC[nA, ESC[E, ESC[nG, ESC[K, ESC[2K; rows kept. */
class Screen extends EventEmitter {
  isTTY = true;
  columns = 40;
  rows = 10;
  lines: string[] = Array.from({ length: 10 }, () => "");
  y = 0;
  x = 0;
  write(s: string) {
    const re = /\x1b\[(\??[0-9;]*)([A-Za-z])|\n|[^\x1b\n]/gu;
    for (const m of s.matchAll(re)) {
      const t = m[0];
      if (t === "\n") {
        this.y++;
        this.x = 0;
        if (this.y >= this.rows) {
          this.lines.shift();
          this.lines.push("");
          this.y = this.rows - 1;
        }
      } else if (m[2]) {
        const n = Number(m[1]) || 0;
        if (m[2] === "A") this.y = Math.max(0, this.y - Math.max(1, n));
        else if (m[2] === "E") {
          this.y = Math.min(this.rows - 1, this.y + 1);
          this.x = 0;
        } else if (m[2] === "G") this.x = Math.max(0, n - 1);
        else if (m[2] === "K") this.lines[this.y] = this.lines[this.y]!.slice(0, this.x);
      } else {
        const l = this.lines[this.y]!.padEnd(this.x);
        this.lines[this.y] = l.slice(0, this.x) + t + l.slice(this.x + 1);
        this.x++;
      }
    }
    return true;
  }
}

const stdin = Object.assign(new EventEmitter(), {
  isTTY: false,
  setEncoding() {},
  setRawMode() {},
  resume() {},
  pause() {},
  ref() {},
  unref() {},
  read: () => null,
});

const frame = (n: number) =>
  h(
    Box,
    { flexDirection: "column" },
    h(Text, null, "top"),
    h(Text, null, n % 2 ? "odd" : "even"),
    h(Text, null, `n=${n}`),
  );

async function draw(fix: boolean): Promise<string[]> {
  const screen = new Screen();
  const out = fix ? incrementalStdout(screen as unknown as NodeJS.WriteStream) : screen;
  const ink = render(frame(0), {
    stdout: out as unknown as NodeJS.WriteStream,
    stdin: stdin as unknown as NodeJS.ReadStream,
    incrementalRendering: true,
    patchConsole: false,
    maxFps: 1000,
  });
  for (let n = 1; n <= 4; n++) {
    ink.rerender(frame(n));
    await new Promise((r) => setTimeout(r, 20));
  }
  ink.unmount();
  return screen.lines.slice(0, 5);
}

describe("incrementalStdout", () => {
  it("keeps each incremental frame where the last one was", async () => {
    assert.deepEqual(await draw(true), ["top", "even", "n=4", "", ""]);
  });
  it("(without it, Ink 6.8 draws each frame one row lower)", async () => {
    const lines = await draw(false);
    assert.notDeepEqual(lines, ["top", "even", "n=4", "", ""], "Ink fixed it: remove incrementalStdout");
  });
});
