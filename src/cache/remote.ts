/**
 * The client side of shared mode: a `Cache` whose statements run in the cache host (host.ts). Each
 * `connect()` is a socket of its own, hence a host-side connection of its own with its own
 * transactions, as on a local instance. When no host answers, the client starts one (detached) and
 * waits for it. A reader whose host dies (SIGKILL) reconnects, starting a new host if needed, and
 * replays its open read transaction; a writer's batch is lost as if the writer had been killed, and it
 * fails with one line (the next sync resumes).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createConnection, type Socket } from "node:net";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Cache, Params, Row } from "./db.js";
import { CacheLockedError, CacheMissingError } from "./errors.js";
import { type HostPaths, hostPaths, processRuns } from "./hostpaths.js";
import { decodeRows, encodeParams, lineReader } from "./wire.js";

type Role = "reader" | "writer";

/** The host went away with a request of ours pending (killed, or it exited). */
export class HostGoneError extends Error {
  override name = "HostGoneError";
}

/** A read transaction lost its snapshot with its host: the caller runs it again from its start. */
export class SnapshotLostError extends Error {
  override name = "SnapshotLostError";
}

interface Pending {
  resolve: (v: Record<string, unknown>) => void;
  reject: (e: Error) => void;
}

/** One authenticated socket to the host. */
class Link {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  gone = false;
  hostPid = 0;
  /** Called once when the socket closes (the host went away, or we closed it). */
  onGone: () => void = () => {};

  private constructor(private readonly sock: Socket) {
    sock.unref();
    sock.setEncoding("utf8");
    sock.on(
      "data",
      lineReader((line) => {
        const msg = JSON.parse(line) as Record<string, unknown>;
        const p = this.pending.get(msg.id as number);
        if (!p) return;
        this.pending.delete(msg.id as number);
        if (this.pending.size === 0) sock.unref();
        p.resolve(msg);
      }),
    );
    sock.on("error", () => {});
    sock.on("close", () => {
      this.gone = true;
      for (const p of this.pending.values()) p.reject(new HostGoneError("the cache host went away"));
      this.pending.clear();
      this.onGone();
    });
  }

  static connect(path: string): Promise<Link> {
    return new Promise((resolve, reject) => {
      const s = createConnection(path);
      s.once("connect", () => {
        s.removeListener("error", reject);
        resolve(new Link(s));
      });
      s.once("error", reject);
    });
  }

  request(msg: object): Promise<Record<string, unknown>> {
    if (this.gone) return Promise.reject(new HostGoneError("the cache host went away"));
    const id = this.nextId++;
    // Like a local DuckDB connection, an idle link does not keep the process alive; one waiting for
    // an answer does.
    if (this.pending.size === 0) this.sock.ref();
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.sock.write(`${JSON.stringify({ ...msg, id })}\n`);
    });
  }

  /** Sent without an id and not queued behind the running statement. */
  notify(msg: object): void {
    if (!this.gone) this.sock.write(`${JSON.stringify(msg)}\n`);
  }

  close(): void {
    this.sock.end();
    this.sock.unref();
  }
}

/** The evx launcher (bin/evx) of this installation, from dist/chunks or src/cache alike. */
function evxBin(): string {
  let d = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 4; i++) {
    const b = join(d, "bin", "evx");
    if (existsSync(b)) return b;
    d = dirname(d);
  }
  throw new Error("cannot find bin/evx to start the cache host");
}

interface Started {
  child: ChildProcess;
  exit: Promise<{ code: number | null; line: string }>;
}

function startHost(cachePath: string, create: boolean): Started {
  // The host opens the file itself; anything it opens again (an upgrade of an old cache) too.
  const env = { ...process.env, EVX_SHARED: "0" };
  const child = spawn(process.execPath, [evxBin(), "__host", cachePath, ...(create ? ["--create"] : [])], {
    detached: true,
    stdio: ["ignore", "ignore", "pipe"],
    env,
  });
  let first = "";
  const exit = new Promise<{ code: number | null; line: string }>((res) => {
    child.stderr?.setEncoding("utf8").on("data", (d: string) => {
      first += d;
      if (first.startsWith("ready\n")) {
        child.stderr?.destroy();
        child.unref();
      }
    });
    child.on("exit", (code) => res({ code, line: first.split("\n")[0] ?? "" }));
    child.on("error", () => res({ code: 1, line: "error cannot start the cache host" }));
  });
  return { child, exit };
}

const WAIT_MS = () =>
  Number(process.env.EVX_HOST_WAIT_MS) > 0 ? Number(process.env.EVX_HOST_WAIT_MS) : 30_000;

/**
 * Whether `pid`, which holds the cache file's lock, is a host of this cache: "named" by the host's PID
 * file (one serving, or closing the file as it exits), "starting" when only its command line says so
 * (Linux; it has not written its PID file yet, or it is the host of another runtime folder), else false.
 */
function isHostOf(paths: HostPaths, cachePath: string, pid: number): "named" | "starting" | false {
  if (!processRuns(pid)) return false;
  try {
    if (readFileSync(paths.pid, "utf8").trim() === String(pid)) return "named";
  } catch {}
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
    const i = argv.indexOf("__host");
    return i >= 0 && argv[i + 1] === cachePath ? "starting" : false;
  } catch {
    return false;
  }
}

/** How long a host that holds the file without a PID file of ours is waited for. */
const STARTING_HOST_WAIT_MS = 5000;

/**
 * An authenticated link to the cache's host, starting one if none answers (unless `start` is false:
 * then null when none answers). A second writer is refused with CacheLockedError naming the running
 * one. A host that holds the file without answering (one closing the file as it exits, or one still
 * opening it) is waited for, never reported as a holder; only a process outside shared mode is.
 */
export async function linkTo(
  cachePath: string,
  role: Role,
  opts: { create?: boolean; what?: string; start?: boolean } = {},
): Promise<Link | null> {
  const paths: HostPaths = hostPaths(cachePath);
  const deadline = Date.now() + WAIT_MS();
  let started: Started | null = null;
  let lastStart = 0;
  let lockedRuns = 0;
  /** A host of this cache that holds the file but does not answer (yet, or any more). */
  let waitFor = 0;
  let waitSince = 0;
  for (;;) {
    let link: Link | null = null;
    try {
      link = await Link.connect(paths.socket);
    } catch {}
    if (link) {
      let reply: Record<string, unknown> | null = null;
      try {
        const token = readFileSync(paths.token, "utf8");
        reply = await link.request({ op: "hello", token, role, pid: process.pid, what: opts.what });
      } catch {}
      if (reply?.ok) {
        link.hostPid = Number(reply.hostPid);
        return link;
      }
      link.close();
      const err = reply?.error as { name?: string; pid?: number } | undefined;
      if (err?.name === "CacheLockedError") throw new CacheLockedError(cachePath, err.pid);
    } else if (opts.start === false) {
      return null;
    } else {
      // No host answers: start one, unless ours is still starting.
      const ended = started ? await Promise.race([started.exit, sleep(0).then(() => null)]) : null;
      if (ended) started = null;
      if (ended?.line === "missing") throw new CacheMissingError(cachePath);
      if (ended && /^locked/.test(ended.line)) {
        const holder = Number(ended.line.split(" ")[1]) || 0;
        // Another host won the race, or is closing the file as it exits: wait for it. Only when hosts
        // keep finding the file held by something else is a process outside shared mode holding it.
        const host = holder ? isHostOf(paths, cachePath, holder) : false;
        if (holder !== waitFor) waitSince = Date.now();
        if (host === "named" || (host === "starting" && Date.now() - waitSince < STARTING_HOST_WAIT_MS))
          waitFor = holder;
        else if (host === "starting" || ++lockedRuns >= 3)
          throw new CacheLockedError(cachePath, holder || undefined);
      } else if (ended?.line.startsWith("error "))
        throw new Error(`cannot open cache ${cachePath}: ${ended.line.slice(6)}`);
      // Gone, or no longer a host of this cache (it closed the file and removed its PID file, and is
      // exiting): start at once. A process outside shared mode that holds the file is then found by
      // the hosts' own "locked" reports.
      if (waitFor && (!processRuns(waitFor) || isHostOf(paths, cachePath, waitFor) === false)) waitFor = 0;
      else if (
        waitFor &&
        Date.now() - waitSince > STARTING_HOST_WAIT_MS &&
        isHostOf(paths, cachePath, waitFor) !== "named"
      )
        throw new CacheLockedError(cachePath, waitFor); // a host we cannot reach (another runtime folder)
      if (!started && !waitFor && (lockedRuns === 0 || Date.now() - lastStart > 300)) {
        started = startHost(cachePath, !!opts.create);
        lastStart = Date.now();
      }
    }
    if (Date.now() > deadline) throw new Error(`the cache host of ${cachePath} did not answer`);
    await sleep(20);
  }
}

export interface WriterInfo {
  writer: { pid: number; what: string } | null;
  note: unknown;
  version: number;
}

/** The rows of a host reply, in the reader shape `rowsOf` takes. */
interface PlainReader {
  plainRows: Row[];
  getRowObjects(): never;
}

/**
 * A host-side connection (duck-typed as DuckDBConnection for the executor: `run`, `runAndReadAll`,
 * `interrupt`, `closeSync`). A reader's open transaction is logged so it can be replayed on a new host.
 */
export class RemoteConn {
  private link: Link | null = null;
  private linking: Promise<Link> | null = null;
  private tx: { sql: string; params?: Params }[] | null = null;
  /** A writer's transaction is open on the host. */
  private writerTx = false;
  /** A writer's open transaction died with its host: statements fail until the caller ends it. */
  private broken = false;
  private closed = false;
  /** This writer's temporary tables (a sync's `stage`), each with the link of the host it lives in. */
  private temps = new Map<string, Link>();
  /** A `drop` is under way: the host's exit is expected. */
  private dropping = false;

  constructor(
    private readonly cachePath: string,
    private readonly role: Role,
    private readonly opts: { create?: boolean; what?: string } = {},
  ) {}

  async open(link?: Link): Promise<this> {
    if (link) this.adopt(link);
    else await this.linked();
    return this;
  }

  private adopt(l: Link): void {
    this.link = l;
    // A writer whose host went away claims the writer slot of the next host at once (rather than at its
    // next statement, maybe a watch's next cycle a minute on), so that a TUI following it does not take
    // over. Its open transaction, if any, is lost with the host (see `call`).
    l.onGone = () => {
      if (this.role !== "writer" || this.closed || this.dropping || this.link !== l) return;
      if (this.writerTx) {
        this.writerTx = false;
        this.broken = true;
      }
      setTimeout(() => {
        if (!this.closed && (!this.link || this.link.gone)) this.linked().catch(() => {});
      }, 0);
    };
  }

  private linked(): Promise<Link> {
    if (this.link && !this.link.gone) return Promise.resolve(this.link);
    this.linking ??= linkTo(this.cachePath, this.role, this.opts).then(
      (found) => {
        const l = found as Link; // never null: it starts a host when none answers
        this.adopt(l);
        this.linking = null;
        if (this.closed) l.close();
        return l;
      },
      (e) => {
        this.linking = null;
        throw e;
      },
    );
    return this.linking;
  }

  private async call(op: "run" | "all", sql: string, params?: Params): Promise<Record<string, unknown>> {
    const msg = { op, sql, params: encodeParams(params) };
    const head = sql.trimStart().slice(0, 16).toUpperCase();
    if (this.role === "writer") {
      // The host went away while we were idle: inside our transaction, that transaction is lost with
      // it and statements sent on would commit one by one (half a batch), so everything up to its end
      // (the caller's ROLLBACK) fails; outside one, the writer goes on with a new host (a watch's next
      // cycle, a sync's next batch).
      if (this.link?.gone && this.writerTx) {
        this.writerTx = false;
        this.broken = true;
      }
      // A temporary table (a sync's staging) is gone with the host it lived in: a statement that
      // reads it fails with the host's line, not with "table does not exist" from the next host,
      // until the caller makes it again or drops it (a watch's next cycle starts afresh). Temporary
      // tables outlive COMMITs (a batch reads its counts after committing), so only those events end it.
      if (lostTempUsed(this.temps, sql)) throw hostStopped();
      if (this.broken) {
        // The caller ended the lost transaction, or began a new one (it has given the lost one up: a
        // BEGIN whose host died fails without a ROLLBACK after it, and the next batch begins afresh).
        if (/^(ROLLBACK|ABORT|COMMIT|END|BEGIN)\b/.test(head)) this.broken = false;
        if (/^(ROLLBACK|ABORT)\b/.test(head)) return { ok: true };
        if (this.broken) throw hostStopped();
      }
    }
    for (let attempt = 0; ; attempt++) {
      const fresh = !this.link || this.link.gone;
      try {
        const link = await this.linked();
        if (fresh && this.tx) {
          // Only a transaction whose earlier answers nobody has used yet (just its BEGIN) may go on
          // in a new snapshot; otherwise the caller runs it again whole (Executor.run does).
          if (this.tx.length > 1) {
            this.tx = null;
            throw new SnapshotLostError("the cache host went away mid-transaction; run it again");
          }
          for (const s of this.tx)
            check(await link.request({ op: "run", sql: s.sql, params: encodeParams(s.params) }));
        }
        const reply = check(await link.request(msg));
        this.track(head, sql, params, link);
        return reply;
      } catch (e) {
        if (!(e instanceof HostGoneError) || this.closed) throw e;
        if (this.role === "writer") {
          // Whether the statement ran is unknown: the caller fails (a transaction is rolled back with
          // its host; a statement of its own landed whole or not at all).
          // A BEGIN that failed opened nothing the caller goes on with (transaction() does not roll
          // back a failed BEGIN), so it leaves nothing to end.
          if (this.writerTx) this.broken = !/^(ROLLBACK|ABORT|COMMIT|END)\b/.test(head);
          this.writerTx = false;
          throw hostStopped();
        }
        if (attempt >= 3) throw hostStopped();
        // A reader goes on with a new host (it replays its open read transaction first).
      }
    }
  }

  private track(head: string, sql: string, params: Params | undefined, link: Link) {
    if (this.role === "writer") {
      if (head.startsWith("BEGIN")) this.writerTx = true;
      else if (/^(COMMIT|END|ROLLBACK|ABORT)\b/.test(head)) this.writerTx = false;
      const made = CREATE_TEMP.exec(sql)?.[1];
      if (made) this.temps.set(made.toLowerCase(), link);
      const dropped = DROP_TABLE.exec(sql)?.[1];
      if (dropped) this.temps.delete(dropped.toLowerCase());
      return;
    }
    if (head.startsWith("BEGIN")) this.tx = [{ sql, params }];
    else if (head.startsWith("COMMIT") || head.startsWith("ROLLBACK") || head.startsWith("ABORT"))
      this.tx = null;
    else if (this.tx) this.tx.push({ sql, params });
  }

  async run(sql: string, params?: Params): Promise<void> {
    await this.call("run", sql, params);
  }

  async runAndReadAll(sql: string, params?: Params): Promise<PlainReader> {
    const reply = await this.call("all", sql, params);
    const rows = decodeRows(reply.rows as never) as Row[];
    return {
      plainRows: rows,
      getRowObjects(): never {
        throw new Error("rows of the cache host are plain already");
      },
    };
  }

  interrupt(): void {
    this.link?.notify({ op: "interrupt" });
  }

  /** The process holding the host's writer slot (a sync, a watch, a TUI syncing), or null. */
  async writer(): Promise<{ pid: number; what: string } | null> {
    return (await this.writerInfo()).writer;
  }

  /**
   * The writer slot's holder with what it last announced (a watch's cycle), and the count of its
   * commits so far (it changes when new data lands).
   */
  async writerInfo(): Promise<WriterInfo> {
    let reply: Record<string, unknown>;
    for (let attempt = 0; ; attempt++) {
      try {
        reply = check(await (await this.linked()).request({ op: "writer" }));
        break;
      } catch (e) {
        // The host went away: ask the next one (a reader starts it if needed).
        if (!(e instanceof HostGoneError) || this.closed || attempt >= 3) throw e;
      }
    }
    return {
      writer: (reply.writer as { pid: number; what: string } | null) ?? null,
      note: reply.note ?? null,
      version: Number(reply.version) || 0,
    };
  }

  /**
   * A writer's sync created this cache and left it empty: the host removes it and exits, unless another
   * process is on it. Resolves once the host has gone (true), or false when the cache stays.
   */
  async drop(): Promise<boolean> {
    if (this.role !== "writer" || !this.link || this.link.gone) return false;
    const pid = this.link.hostPid;
    // The host exits once it has removed the files: this writer must not claim a new host then (as
    // `onGone` does after a host's death), which would create the cache again.
    this.dropping = true;
    const reply = await this.link.request({ op: "drop" }).catch(() => null);
    if (!reply?.dropped) {
      this.dropping = false;
      return false;
    }
    for (let i = 0; i < 250 && processRuns(pid); i++) await sleep(20);
    return true;
  }

  /** A writer says what it is doing (a watch's cycle), for the others' live mode; fire and forget. */
  announce(note: unknown): void {
    if (this.role === "writer" && this.link && !this.link.gone) this.link.notify({ op: "note", note });
  }

  closeSync(): void {
    this.closed = true;
    this.link?.close();
    this.link = null;
  }
}

const CREATE_TEMP =
  /^\s*CREATE\s+(?:OR\s+REPLACE\s+)?TEMP(?:ORARY)?\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?"?(\w+)"?/i;
const DROP_TABLE = /^\s*DROP\s+TABLE\s+(?:IF\s+EXISTS\s+)?"?(\w+)"?/i;

/**
 * Whether `sql` reads a temporary table whose host is gone (`temps`: name → its host's link). A
 * statement that makes such a table again, or drops it, does not read it.
 */
export function lostTempUsed(temps: Map<string, Link>, sql: string): boolean {
  const made = (CREATE_TEMP.exec(sql)?.[1] ?? DROP_TABLE.exec(sql)?.[1])?.toLowerCase();
  for (const [name, link] of temps) {
    if (!link.gone || name === made) continue;
    if (new RegExp(`\\b${name}\\b`, "i").test(sql)) return true;
  }
  return false;
}

function hostStopped(): Error {
  return new Error(
    "the cache host stopped mid-request; nothing half-done was kept, and the next sync resumes",
  );
}

function check(reply: Record<string, unknown>): Record<string, unknown> {
  const err = reply.error as { name?: string; message?: string } | undefined;
  if (err) {
    const e = new Error(err.message ?? "cache host error");
    e.name = err.name ?? "Error";
    throw e;
  }
  return reply;
}

/**
 * A process outside shared mode (EVX_SHARED=0, a library caller) found the file locked by `holder`:
 * the cache through its host when one answers; "retry" once a host that held the file without answering
 * (it was starting, or closing the file as it exited) has gone, so the caller opens the file itself;
 * null when the holder is no host (the caller reports it).
 */
export async function joinRemote(
  path: string,
  opts: { readOnly?: boolean; create?: boolean },
  holder?: number,
): Promise<Cache | "retry" | null> {
  const paths = hostPaths(path);
  const deadline = Date.now() + WAIT_MS();
  const role: Role = opts.readOnly ? "reader" : "writer";
  for (;;) {
    const link = await linkTo(path, role, { start: false, what: commandWord() });
    if (link) return openRemote(path, opts, link);
    if (!holder || !processRuns(holder)) return "retry";
    if (!isHostOf(paths, path, holder) || Date.now() > deadline) return null;
    await sleep(20);
  }
}

/** The command's name, shown to the others as who is syncing: only a plain word (the first non-flag
 * argument may be a flag's value, such as an endpoint URL with credentials in it). */
function commandWord(): string {
  const first = process.argv.slice(2).find((a) => !a.startsWith("-")) ?? "";
  return /^[a-z]+$/.test(first) ? first : "evx";
}

/** `Cache.open` in shared mode (`link`: an authenticated link of the right role to use first). */
export async function openRemote(
  path: string,
  opts: { readOnly?: boolean; create?: boolean },
  link?: Link,
): Promise<Cache> {
  const readOnly = !!opts.readOnly;
  if (!existsSync(path) && (readOnly || !opts.create)) throw new CacheMissingError(path);
  const role: Role = readOnly ? "reader" : "writer";
  const primary = await new RemoteConn(path, role, { create: opts.create, what: commandWord() }).open(link);
  const others = new Set<RemoteConn>();
  const cache = {
    path,
    readOnly,
    instance: undefined,
    conn: primary,
    remote: true,
    async run(sql: string, params?: Params) {
      await primary.run(sql, params);
    },
    async all<T = Row>(sql: string, params?: Params): Promise<T[]> {
      return (await primary.runAndReadAll(sql, params)).plainRows as T[];
    },
    async one<T = Row>(sql: string, params?: Params): Promise<T | undefined> {
      return (await cache.all<T>(sql, params))[0];
    },
    async transaction<T>(fn: () => Promise<T>): Promise<T> {
      await primary.run("BEGIN TRANSACTION");
      try {
        const r = await fn();
        await primary.run("COMMIT");
        return r;
      } catch (e) {
        await primary.run("ROLLBACK").catch(() => {});
        throw e;
      }
    },
    async connect() {
      // Extra connections read (the executor's, the Sync tab's): they never claim the writer.
      const c = await new RemoteConn(path, "reader").open();
      others.add(c);
      const closeSync = c.closeSync.bind(c);
      c.closeSync = () => {
        others.delete(c);
        closeSync();
      };
      return c;
    },
    close() {
      primary.closeSync();
      for (const c of others) c.closeSync();
      others.clear();
    },
  };
  return cache as unknown as Cache;
}
