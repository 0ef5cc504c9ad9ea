/** Reads a child process's output line by line: `next()` waits for the next line (or fails after a timeout). */
import type { Readable } from "node:stream";

export interface LineReader {
  /** The next line, waiting up to `timeoutMs`; throws (naming what was read) on timeout or end. */
  next(timeoutMs?: number): Promise<string>;
  /** Every line read so far, plus the unterminated rest. */
  text(): string;
}

export function lineReader(stream: Readable, what = "output"): LineReader {
  const lines: string[] = [];
  let all = "";
  let partial = "";
  let ended = false;
  let waiter: (() => void) | null = null;
  stream.setEncoding("utf8");
  stream.on("data", (d: string) => {
    all += d;
    partial += d;
    const parts = partial.split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    waiter?.();
  });
  stream.on("end", () => {
    ended = true;
    waiter?.();
  });
  return {
    async next(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!lines.length) {
        if (ended) throw new Error(`${what} ended; it was: ${all.slice(-2000)}`);
        const left = deadline - Date.now();
        if (left <= 0)
          throw new Error(`no line of ${what} within ${timeoutMs} ms; it was: ${all.slice(-2000)}`);
        await new Promise<void>((r) => {
          const t = setTimeout(r, left);
          waiter = () => {
            clearTimeout(t);
            waiter = null;
            r();
          };
        });
      }
      return lines.shift()!;
    },
    text: () => all,
  };
}
