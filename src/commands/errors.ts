import { CacheLockedError, CacheMissingError, firstLine } from "../cache/errors.js";
import { EngineError } from "../queries/engine.js";
import { UsageError } from "../queries/parse.js";
import { cleanText } from "../render/clean.js";
import { LayoutError } from "../source/layout.js";
import { SourceError } from "../source/types.js";

/** Exit codes, documented in the README. */
export const EXIT = {
  ok: 0,
  error: 1,
  usage: 2,
  partial: 3,
  source: 4,
  locked: 5,
  /** ClickHouse cannot be reached, went away mid-query, timed out, or the URL is not a ClickHouse server. */
  engineUnreachable: 6,
  /** ClickHouse refused the user, or lacks the database, the table or columns evx reads. */
  engineRefused: 7,
  /** ClickHouse stopped the query at a server limit (time, memory, rows, quota). */
  serverLimit: 8,
  interrupted: 130,
} as const;

export { UsageError };

/** A failure whose one-line message has already been printed; only the exit code remains. */
export class ExitError extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`);
  }
}

export function exitCodeFor(e: unknown): number {
  if (e instanceof ExitError) return e.code;
  if (e instanceof UsageError || (e instanceof Error && e.name === "UsageError")) return EXIT.usage;
  if (e instanceof LayoutError) return EXIT.usage;
  // A preset that does not fit the lake (src/cache/sync.ts): the user picks another or refines it.
  if (e instanceof Error && e.name === "PresetMismatchError") return EXIT.usage;
  if (e instanceof SourceError) return EXIT.source;
  if (e instanceof CacheLockedError) return EXIT.locked;
  if (e instanceof CacheMissingError) return EXIT.usage;
  if (e instanceof EngineError) {
    switch (e.kind) {
      case "unreachable":
      case "lost":
      case "timeout":
        return EXIT.engineUnreachable;
      case "auth":
      case "schema":
        return EXIT.engineRefused;
      case "limit":
        return EXIT.serverLimit;
      default:
        return EXIT.error;
    }
  }
  if (e instanceof Error && e.name === "AbortError") return EXIT.interrupted;
  return EXIT.error;
}

/** One line, no stack trace, no secrets (sources redact their own URLs). */
export function errorLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  // Messages quote what the user typed or the data held: no control sequence reaches the terminal.
  return `evx: ${cleanText(firstLine(msg))}`;
}
