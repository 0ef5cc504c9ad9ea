// Error types shared with the CLI's start-up path: kept free of DuckDB so importing them is cheap.

/** A cache is open by another process in a way that excludes us. */
export class CacheLockedError extends Error {
  override name = "CacheLockedError";
  constructor(
    readonly path: string,
    readonly pid?: number,
  ) {
    super(
      `cache ${path} is in use by another evx process${pid ? ` (PID ${pid})` : ""}; wait for it to finish or close it, or pass a different --cache`,
    );
  }
}

export class CacheMissingError extends Error {
  override name = "CacheMissingError";
  constructor(readonly path: string) {
    super(`no cache at ${path}; run \`evx sync SOURCE\` first (or pass --cache)`);
  }
}

export function firstLine(s: string): string {
  return s.split("\n")[0].trim();
}
