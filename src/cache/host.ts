/**
 * The cache host (`evx __host CACHE`, started detached by the first evx process that needs the cache in
 * shared mode): the one process that holds the DuckDB file read-write. Every evx process on that cache
 * talks to it over a Unix socket, one host-side DuckDB connection per client socket, so each client
 * gets its own transactions and snapshots exactly as it would on its own connections. One client at a
 * time may be the writer (a sync); a second is refused naming the first. The host exits when no client
 * has been connected for EVX_HOST_IDLE_MS (default 30 s). README, "How the cache is held", says why.
 *
 * Election is DuckDB's own file lock: a host starts serving only once it holds the file read-write,
 * which no live host can, so it may remove a socket or token left by a killed one.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { chmodSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import type { DuckDBConnection, DuckDBValue } from "@duckdb/node-api";
import { Cache, rowsOf } from "./db.js";
import { CacheLockedError, CacheMissingError, firstLine } from "./errors.js";
import { hostPaths } from "./hostpaths.js";
import { stagingDirFor } from "./paths.js";
import { decodeParams, encodeRows, lineReader } from "./wire.js";

interface Client {
  sock: Socket;
  authed: boolean;
  role: "reader" | "writer";
  pid?: number;
  what?: string;
  conn?: Promise<DuckDBConnection>;
  queue: Promise<unknown>;
  /** The writer's transaction is open. */
  tx?: boolean;
  /** Set when its socket closed: the release (rollback) under way; the writer slot is free after it. */
  leaving?: Promise<void>;
}

interface Request {
  id?: number;
  op: string;
  token?: string;
  role?: "reader" | "writer";
  pid?: number;
  what?: string;
  sql?: string;
  params?: unknown;
  note?: unknown;
}

export async function hostMain(cachePath: string, opts: { create: boolean }): Promise<number> {
  process.stderr.on("error", () => {}); // the client that started us stops reading after "ready"
  const paths = hostPaths(cachePath);
  let cache: Cache;
  try {
    cache = await Cache.open(cachePath, { create: opts.create, local: true });
  } catch (e) {
    if (e instanceof CacheLockedError) {
      process.stderr.write(`locked ${e.pid ?? 0}\n`);
      return 5;
    }
    if (e instanceof CacheMissingError) {
      process.stderr.write("missing\n");
      return 2;
    }
    process.stderr.write(`error ${firstLine((e as Error).message)}\n`);
    return 1;
  }
  const token = randomBytes(32).toString("hex");
  const tmp = `${paths.token}.${process.pid}`;
  writeFileSync(tmp, token, { mode: 0o600 });
  renameSync(tmp, paths.token);
  // Holding the file read-write proves no other host serves it: what is at the socket path is stale.
  rmSync(paths.socket, { force: true });
  // Who holds the file, for clients that meet its lock while this host shuts down (remote.ts waits for
  // this PID rather than report the cache as in use). Removed only once the file is closed.
  const pidTmp = `${paths.pid}.${process.pid}`;
  writeFileSync(pidTmp, String(process.pid), { mode: 0o600 });
  renameSync(pidTmp, paths.pid);

  const clients = new Set<Client>();
  let writer: Client | null = null;
  /** What the writer last said about itself (a watch's cycle), for the others' live mode. */
  let note: unknown = null;
  /** Counts the writer's commits: a reader that sees it change knows there is new data. */
  let version = 0;
  const idleMs = Number(process.env.EVX_HOST_IDLE_MS) >= 0 ? Number(process.env.EVX_HOST_IDLE_MS) : 30_000;
  let idle: NodeJS.Timeout | undefined;
  let stopping = false;
  let done!: (code: number) => void;
  const finished = new Promise<number>((r) => {
    done = r;
  });

  /** Removes the cache's files once closed: a sync asked (`drop`) for a cache it created and left empty. */
  let removeFiles = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    server.close();
    // Only our own files: a newer host may already own the names (it cannot while we hold the lock,
    // but the check costs nothing).
    try {
      if (readFileSync(paths.token, "utf8") === token) {
        rmSync(paths.socket, { force: true });
        rmSync(paths.token, { force: true });
      }
    } catch {}
    for (const c of clients) c.sock.destroy();
    await Promise.all([...clients].map((c) => release(c)));
    cache.close();
    if (removeFiles)
      for (const p of [cachePath, `${cachePath}.wal`, stagingDirFor(cachePath)])
        rmSync(p, { recursive: true, force: true });
    try {
      if (readFileSync(paths.pid, "utf8") === String(process.pid)) rmSync(paths.pid, { force: true });
    } catch {}
    done(0);
  };
  const armIdle = () => {
    clearTimeout(idle);
    if (clients.size === 0) idle = setTimeout(() => void stop(), idleMs);
  };

  const send = (c: Client, msg: object) => {
    if (!c.sock.destroyed) c.sock.write(`${JSON.stringify(msg)}\n`);
  };

  /** Rolls back whatever the client left open and closes its connection (a killed sync's batch). */
  const release = async (c: Client) => {
    const conn = c.conn;
    c.conn = undefined;
    if (conn) {
      const k = await conn.catch(() => null);
      try {
        k?.interrupt();
      } catch {}
      await c.queue.catch(() => {});
      await k?.run("ROLLBACK").catch(() => {});
      try {
        k?.closeSync();
      } catch {}
    }
    if (writer === c) {
      writer = null;
      note = null;
    }
  };

  /** After the writer's statement ran: a commit (or a write outside a transaction) is new data. */
  const wrote = (c: Client, sql: string) => {
    if (writer !== c) return;
    const head = sql.trimStart().slice(0, 12).toUpperCase();
    if (/^BEGIN\b/.test(head)) c.tx = true;
    else if (/^(COMMIT|END)\b/.test(head)) {
      c.tx = false;
      version++;
    } else if (/^(ROLLBACK|ABORT)\b/.test(head)) c.tx = false;
    else if (!c.tx && !/^(SELECT|WITH|SET|PRAGMA|SHOW|DESCRIBE|FROM)\b/.test(head)) version++;
  };

  const handle = (c: Client, req: Request) => {
    if (!c.authed) {
      // Compared as bytes: a string of the token's length in characters may differ in bytes, and
      // timingSafeEqual throws on unequal lengths.
      const given = Buffer.from(typeof req.token === "string" ? req.token : "");
      const want = Buffer.from(token);
      const ok = req.op === "hello" && given.length === want.length && timingSafeEqual(given, want);
      if (!ok) {
        c.sock.destroy();
        return;
      }
      if (req.role === "writer") {
        // A writer that has gone (its process ended: socket closed) holds the slot only until its
        // rollback ends: wait for that rather than refuse, so a sync started right after another
        // ended is not told the ended one is running.
        const gone = writer && writer !== c ? writer.leaving : undefined;
        if (gone) {
          void gone.then(() => {
            if (!c.sock.destroyed) handle(c, req);
          });
          return;
        }
        if (writer && writer !== c) {
          send(c, { id: req.id, error: { name: "CacheLockedError", pid: writer.pid, what: writer.what } });
          return;
        }
        writer = c;
      }
      c.authed = true;
      c.role = req.role === "writer" ? "writer" : "reader";
      c.pid = req.pid;
      c.what = req.what;
      send(c, { id: req.id, ok: true, hostPid: process.pid });
      return;
    }
    if (req.op === "interrupt") {
      void c.conn?.then((k) => k.interrupt()).catch(() => {});
      return;
    }
    if (req.op === "writer") {
      send(c, {
        id: req.id,
        writer: writer ? { pid: writer.pid, what: writer.what } : null,
        note: writer ? note : null,
        version,
      });
      return;
    }
    if (req.op === "drop") {
      // The writer's sync created this cache and it holds nothing: close it, remove it, exit. Never
      // while another process is on it, nor once it holds an object.
      c.queue = c.queue.then(async () => {
        let ok = writer === c && clients.size === 1 && !stopping;
        if (ok) {
          const r = await cache
            .one<{ n: boolean }>("SELECT EXISTS (SELECT 1 FROM objects) AS n")
            .catch(() => null);
          ok = r?.n === false && clients.size === 1;
        }
        send(c, { id: req.id, dropped: ok });
        if (ok) {
          removeFiles = true;
          void stop();
        }
      });
      return;
    }
    if (req.op === "note") {
      // Only the writer speaks for the writer; a note is small (a cycle's counts).
      if (writer === c && JSON.stringify(req.note ?? null).length <= 4096) note = req.note ?? null;
      return;
    }
    if (req.op !== "all" && req.op !== "run") {
      send(c, { id: req.id, error: { name: "Error", message: `unknown request ${req.op}` } });
      return;
    }
    c.queue = c.queue.then(async () => {
      try {
        c.conn ??= cache.connect();
        const k = await c.conn;
        const params = decodeParams(req.params as never) as DuckDBValue[] | undefined;
        if (req.op === "run") {
          await k.run(req.sql ?? "", params);
          wrote(c, req.sql ?? "");
          send(c, { id: req.id, ok: true });
        } else {
          const rows = rowsOf(await k.runAndReadAll(req.sql ?? "", params));
          wrote(c, req.sql ?? "");
          send(c, { id: req.id, rows: encodeRows(rows) });
        }
      } catch (e) {
        const err = e as Error;
        send(c, { id: req.id, error: { name: err.name, message: err.message } });
      }
    });
  };

  const server = createServer((sock) => {
    const c: Client = { sock, authed: false, role: "reader", queue: Promise.resolve() };
    clients.add(c);
    clearTimeout(idle);
    // A client must say hello (with the token) at once.
    const hello = setTimeout(() => {
      if (!c.authed) sock.destroy();
    }, 2000);
    sock.setEncoding("utf8");
    sock.on(
      "data",
      lineReader((line) => {
        let req: Request;
        try {
          req = JSON.parse(line) as Request;
        } catch {
          sock.destroy();
          return;
        }
        handle(c, req);
      }),
    );
    sock.on("error", () => {});
    sock.on("close", () => {
      clearTimeout(hello);
      clients.delete(c);
      c.leaving = release(c);
      void c.leaving.then(armIdle);
    });
  });
  process.umask(0o077);
  await new Promise<void>((res, rej) => {
    server.once("error", rej);
    server.listen(paths.socket, () => res());
  });
  chmodSync(paths.socket, 0o600);
  process.on("SIGTERM", () => void stop());
  process.on("SIGINT", () => void stop());
  armIdle();
  process.stderr.write("ready\n");
  return finished;
}
