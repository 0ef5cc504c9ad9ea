/**
 * Ink 6.8's incremental renderer (`incrementalRendering`, which rewrites only the lines that changed)
 * moves the cursor up one line too few before each frame when the frame ends in a newline, as every
 * frame shorter than the terminal does (evx keeps its frame one row short, GUIDE §3): each frame then
 * lands one row lower than the last. Ink fixed it upstream (vadimdemedes/ink#910: `cursorUp(previousLines
 * .length - 1)` instead of `cursorUp(previousVisible - 1)`), in Ink 7, which needs Node 22.
 *
 * `incrementalStdout` wraps the stdout Ink writes to and corrects exactly that write: one that starts
 * with a cursor-up (the incremental frame's first move; Ink's other writes start with an erase, a
 * synchronized-update mark or text) moves one more line up. Remove it with Ink 7.
 */
const FRAME_START = /^\x1b\[(\d+)A/;

export function incrementalStdout<T extends NodeJS.WriteStream>(stdout: T): T {
  const write = (chunk: unknown, ...rest: unknown[]): boolean => {
    const fixed =
      typeof chunk === "string"
        ? chunk.replace(FRAME_START, (_m, n: string) => `\x1b[${Number(n) + 1}A`)
        : chunk;
    return (stdout.write as (c: unknown, ...r: unknown[]) => boolean)(fixed, ...rest);
  };
  return new Proxy(stdout, {
    get(target, prop) {
      if (prop === "write") return write;
      const v = Reflect.get(target, prop, target);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}
