import { existsSync, lstatSync, rmSync } from "node:fs";
import { availableParallelism, totalmem } from "node:os";
import { dirname } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import {
  type DuckDBConnection,
  DuckDBDateValue,
  DuckDBDecimalValue,
  DuckDBInstance,
  DuckDBListValue,
  DuckDBStructValue,
  DuckDBTimestampTZValue,
  DuckDBTimestampValue,
  type DuckDBValue,
} from "@duckdb/node-api";
import { CacheLockedError, CacheMissingError, firstLine } from "./errors.js";
import { processRuns, sharedMode } from "./hostpaths.js";
import { ensurePrivateDir } from "./paths.js";
import { hasSchema, isOutdated, migrate } from "./schema.js";

export { CacheLockedError, CacheMissingError, firstLine, processRuns };

export type Params = DuckDBValue[] | Record<string, DuckDBValue>;
export type Row = Record<string, unknown>;

export interface CacheSettings {
  /** DuckDB worker threads; default: all cores. Env EVX_THREADS. */
  threads?: number;
  /**
   * DuckDB buffer-pool limit, e.g. `2GB`; default min(25% of RAM, 4GB): with Node and DuckDB's own
   * overhead the process stays near 4.5 GB (paths over 100M events needs ~4 GB: 3 GB ran out). An
   * analysis that still runs out is run again once with 60% of RAM (queries/executor.ts), unless
   * env EVX_MEMORY_LIMIT pins the limit.
   */
  memoryLimit?: string;
}

export function defaultSettings(env = process.env): Required<CacheSettings> {
  const threads = Number(env.EVX_THREADS) > 0 ? Math.floor(Number(env.EVX_THREADS)) : availableParallelism();
  const quarterGb = Math.max(1, Math.floor(totalmem() / 4 / 2 ** 30));
  const memoryLimit = env.EVX_MEMORY_LIMIT || `${Math.min(quarterGb, 4)}GB`;
  return { threads, memoryLimit };
}

/** DuckDB values → plain JSON-able values: BIGINT → number, timestamps → ISO strings, lists/structs recursively. */
export function plain(v: DuckDBValue): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === "bigint") return Number(v);
  if (typeof v !== "object") return v;
  if (v instanceof DuckDBTimestampTZValue || v instanceof DuckDBTimestampValue) return microsToIso(v.micros);
  if (v instanceof DuckDBDateValue) return v.toString();
  if (v instanceof DuckDBDecimalValue) return v.toDouble();
  if (v instanceof DuckDBListValue) return v.items.map(plain);
  if (v instanceof DuckDBStructValue) {
    const o: Row = {};
    for (const [k, x] of Object.entries(v.entries)) o[k] = plain(x);
    return o;
  }
  return String(v);
}

export function microsToIso(micros: bigint): string {
  return new Date(Number(micros / 1000n)).toISOString();
}

/** One open cache file: an instance plus a primary connection. */
/** Read-only opens started early (`preopen`), taken by the first `Cache.open` of the same path. */
const preopened = new Map<string, Promise<Cache>>();

/**
 * Starts opening `path` read-only now: main.ts calls it for the reading commands, so DuckDB opens the
 * file on its threads while the CLI's modules load and yargs parses. The command's own
 * `Cache.open(path, {readOnly: true})` then takes this promise, with its result or its error.
 */
export function preopen(path: string): void {
  if (preopened.has(path)) return;
  const p = Cache.open(path, { readOnly: true });
  p.catch(() => {}); // reported by the open that takes it up
  preopened.set(path, p);
}

export class Cache {
  private constructor(
    readonly path: string,
    readonly instance: DuckDBInstance,
    readonly conn: DuckDBConnection,
    readonly readOnly: boolean,
  ) {}

  /**
   * Opens (and for writers creates and migrates) the cache. Files are created private to the user.
   * Translates DuckDB's lock error into CacheLockedError naming the holder's PID.
   */
  static async open(
    path: string,
    opts: { readOnly?: boolean; create?: boolean; settings?: CacheSettings; local?: boolean } = {},
  ): Promise<Cache> {
    // Shared mode (EVX_SHARED=1): the statements run in the cache's host process (remote.ts); the host
    // itself opens the file `local`ly.
    const readOnly = !!opts.readOnly;
    const early = readOnly && !opts.settings && !opts.local ? preopened.get(path) : undefined;
    if (early) {
      preopened.delete(path);
      return early;
    }
    if (!opts.local && sharedMode()) return (await import("./remote.js")).openRemote(path, opts);
    if (!existsSync(path)) {
      if (readOnly || !opts.create) throw new CacheMissingError(path);
      ensurePrivateDir(dirname(path));
    }
    const s = { ...defaultSettings(), ...definedOnly(opts.settings ?? {}) };
    // Cache, WAL and spill files hold a company's user data: only the owner may read them.
    process.umask(0o077);
    const config: Record<string, string> = {
      threads: String(s.threads),
      memory_limit: s.memoryLimit,
      temp_directory: `${path}.tmp`,
    };
    if (readOnly) config.access_mode = "READ_ONLY";
    let instance: DuckDBInstance;
    try {
      instance = await createInstance(path, config);
    } catch (e) {
      if (!bornDead(e, path)) {
        const err = translateOpenError(e, path);
        // Held by the cache's host (shared mode, another process's): go through it rather than be
        // refused. Only a holder outside shared mode refuses us.
        if (err instanceof CacheLockedError && !opts.local) {
          const joined = await (await import("./remote.js")).joinRemote(path, opts, err.pid);
          if (joined === "retry") return Cache.open(path, opts);
          if (joined) return joined;
        }
        throw err;
      }
      // A process killed while DuckDB wrote a new file's header leaves a file without one: it never
      // held data, so a writer starts it again and a reader sees no cache.
      if (readOnly) throw new CacheMissingError(path);
      rmSync(path, { force: true });
      rmSync(`${path}.wal`, { force: true });
      try {
        instance = await createInstance(path, config);
      } catch (e2) {
        throw translateOpenError(e2, path);
      }
    }
    const conn = await instance.connect();
    // Timestamps without an offset are UTC; set per connection since ICU loads after open.
    await conn.run("SET TimeZone = 'UTC'");
    const cache = new Cache(path, instance, conn, readOnly);
    if (!readOnly) await migrate(cache);
    else if (!(await hasSchema(cache))) {
      cache.close();
      throw new CacheMissingError(path);
    } else if (await isOutdated(cache)) {
      // A cache written by an older evx: upgrade it once (briefly as a writer), then read it.
      cache.close();
      (await Cache.open(path, { settings: opts.settings })).close();
      return Cache.open(path, opts);
    }
    return cache;
  }

  async run(sql: string, params?: Params): Promise<void> {
    await this.conn.run(sql, params);
  }

  async all<T = Row>(sql: string, params?: Params): Promise<T[]> {
    return rowsOf<T>(await this.conn.runAndReadAll(sql, params));
  }

  async one<T = Row>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  /** Runs `fn` inside one transaction; rolls back on any error. */
  async transaction<T>(fn: () => Promise<T>): Promise<T> {
    await this.conn.run("BEGIN TRANSACTION");
    try {
      const r = await fn();
      await this.conn.run("COMMIT");
      return r;
    } catch (e) {
      await this.conn.run("ROLLBACK").catch(() => {});
      throw e;
    }
  }

  async connect(): Promise<DuckDBConnection> {
    const c = await this.instance.connect();
    await c.run("SET TimeZone = 'UTC'");
    return c;
  }

  close(): void {
    try {
      this.conn.closeSync();
    } catch {}
    try {
      this.instance.closeSync();
    } catch {}
  }
}

/** How long an open waits for the lock of a process that has exited to go (see createInstance). */
const DEAD_HOLDER_WAIT_MS = 3000;

/**
 * DuckDBInstance.create, tried again while DuckDB's lock error names a process that no longer runs
 * (or is a zombie): the kernel drops a dead process's lock as it tears the process down, and an open
 * right after a kill can meet it a moment before. A live holder is reported at once (CacheLockedError).
 */
async function createInstance(path: string, config: Record<string, string>): Promise<DuckDBInstance> {
  const deadline = Date.now() + DEAD_HOLDER_WAIT_MS;
  for (;;) {
    try {
      return await DuckDBInstance.create(path, config);
    } catch (e) {
      const pid = lockHolder(e);
      if (pid === undefined || processRuns(pid) || Date.now() > deadline) throw e;
      await sleep(50);
    }
  }
}

/** The PID in DuckDB's lock error ("Conflicting lock is held in … (PID n)"), if it is one. */
function lockHolder(e: unknown): number | undefined {
  const msg = e instanceof Error ? e.message : String(e);
  if (!/Could not set lock|Conflicting lock/i.test(msg)) return undefined;
  const pid = /PID (\d+)/.exec(msg)?.[1];
  return pid ? Number(pid) : undefined;
}

export function rowsOf<T = Row>(reader: { getRowObjects(): Record<string, DuckDBValue>[] }): T[] {
  // A shared-mode connection (remote.ts) hands back rows that the host made plain already.
  if ("plainRows" in reader) return (reader as unknown as { plainRows: T[] }).plainRows;
  return reader.getRowObjects().map((r) => {
    const o: Row = {};
    for (const [k, v] of Object.entries(r)) o[k] = plain(v);
    return o as T;
  });
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== "")) as Partial<T>;
}

/**
 * DuckDB's header is three 4 KiB blocks; a shorter regular file that it rejects was never initialised:
 * killed before the first block was written (not a valid DuckDB file) or after it (DuckDB cannot
 * read the rest: seen when a sync killed as the cache appeared was resumed at once).
 * Anything else (a device such as /dev/null, a FIFO, a link to one) is never deleted: run as root, a
 * cache path pointing at /dev/null would otherwise replace the device with a file.
 */
function bornDead(e: unknown, path: string): boolean {
  const msg = e instanceof Error ? e.message : String(e);
  if (!/not a valid DuckDB database file|Could not read enough bytes/i.test(msg)) return false;
  try {
    const st = lstatSync(path);
    return st.isFile() && st.size < 3 * 4096;
  } catch {
    return false;
  }
}

export function translateOpenError(e: unknown, path: string): Error {
  const msg = e instanceof Error ? e.message : String(e);
  if (/Could not set lock|Conflicting lock/i.test(msg)) {
    const pid = /PID (\d+)/.exec(msg)?.[1];
    return new CacheLockedError(path, pid ? Number(pid) : undefined);
  }
  if (/not a valid DuckDB database|Could not read from file|Invalid Input Error: The file/i.test(msg)) {
    return new Error(`${path} is not an evx cache (${firstLine(msg)})`);
  }
  return new Error(`cannot open cache ${path}: ${firstLine(msg)}`);
}
