/**
 * Test only: a loopback HTTP server that speaks enough of ClickHouse's HTTP query protocol, backed by an
 * in-process ClickHouse (chdb), that the official `@clickhouse/client` cannot tell it from a server for
 * what evx uses. Never part of src/.
 *
 * What it does like ClickHouse:
 * - `GET /ping` and `GET /` → `Ok.`; queries by POST (body) or GET, with the SQL in the body and/or the
 *   `query` URL parameter (concatenated, URL first), or as multipart/form-data parts (`query`, `param_*`);
 * - `database`, `query_id` (echoed in `X-ClickHouse-Query-Id`), `default_format`, a trailing `FORMAT x`,
 *   `param_NAME` values for `{NAME:Type}` placeholders (in ClickHouse's escaped text form, as the client
 *   sends them; bound by chdb, never spliced into the SQL), and every other URL parameter as a setting,
 *   applied with `SET` for that query only (reset afterwards);
 * - users: basic auth, `X-ClickHouse-User`/`X-ClickHouse-Key`, or `user`/`password` URL parameters, checked
 *   against the configured user; a mismatch is `401` with `Code: 516 … (AUTHENTICATION_FAILED)`;
 * - errors as ClickHouse sends them: a status by exception code, `X-ClickHouse-Exception-Code`, and the
 *   body `Code: N. DB::Exception: … (NAME) (version …)`;
 * - `enable_http_compression=1` with `Accept-Encoding: gzip` → a gzip body; gzip request bodies;
 * - response headers `X-ClickHouse-Query-Id`, `-Format`, `-Timezone`, `-Summary`, `-Server-Display-Name`;
 * - `KILL QUERY WHERE query_id = '…'` (or `= {id:String}`), answered at once (not queued behind the
 *   query it kills): the query's HTTP response fails with `Code: 394 … (QUERY_WAS_CANCELLED)`, and a
 *   running SELECT is really stopped (chdb streams SELECTs and stops between chunks). chdb cannot interrupt
 *   a statement that is not streamed (DDL, INSERT … SELECT): its response fails at once, but the engine
 *   finishes that statement in the background before the next query starts.
 *
 * What it does differently: chdb runs one statement at a time, so queries are served one after another (a
 * real server runs them in parallel); results are sent when complete (like `wait_end_of_query=1`).
 *
 * Faults for tests: `crash()` destroys every open connection and stops listening (a server that went
 * away mid-query), and `onQuery` can crash the server, reset one connection, delay or hang a query.
 */
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { Session } from "chdb";

const VERSION = "26.7.2.1";

export interface ChHttpOptions {
  /** The one user the server knows (default `default`). */
  user?: string;
  /** Its password (default empty). */
  password?: string;
  /** Settings every query runs with, as a server profile imposes them (e.g. `max_execution_time`). */
  profile?: Record<string, string | number>;
  /** The chdb data directory (default: a temp folder removed by `stop()`). */
  dir?: string;
  /** A simulated network round trip: every request waits this long before it is served (ms). */
  latencyMs?: number;
  /** Estimate the rows each SELECT reads (`readRows`; costs an EXPLAIN per SELECT); always on under `max_rows_to_read`. */
  countReads?: boolean;
}

/** What `onQuery` may ask for, to simulate faults. */
export type QueryFault = undefined | "crash" | "reset" | "hang" | { delayMs: number } | { sql: string };

export interface LoggedQuery {
  queryId: string;
  sql: string;
  params: Record<string, string>;
  settings: Record<string, string>;
  database: string;
  user: string;
  status: "running" | "ok" | "error" | "killed" | "reset";
  /** The answer was gzip-compressed (the client asked for it). */
  gzip: boolean;
  /** The request's path and query string, as received. */
  url: string;
  /** Where the `param_*` values came from: the URL, or multipart parts of the body. */
  paramsIn: "url" | "body" | "none";
  /** ClickHouse exception code of a failed query. */
  code?: number;
  /** Milliseconds from arrival to the answer. */
  ms?: number;
  /**
   * Rows the query reads from MergeTree tables, as ClickHouse's index analysis selects them (granules
   * after partition, primary-key and skip-index pruning: `EXPLAIN ESTIMATE`); SELECTs only, when reads are
   * counted. It does not see the rows of `IN (SELECT …)` subqueries, and it is not the limit's check:
   * `max_rows_to_read` is SET on chdb, which counts every row a statement reads (chdb reports no read
   * counters per query: its `rowsRead` is the result's rows).
   */
  readRows?: number;
}

export interface ChHttpServer {
  /** `http://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** Every query the server received, in order (KILL QUERY included). */
  log: LoggedQuery[];
  /** Query ids that a KILL QUERY found and stopped. */
  killed: string[];
  /** Query ids received and not answered yet. */
  running(): string[];
  /** HTTP requests received (pings included) since the start or `resetCount()`. */
  readonly requests: number;
  resetCount(): void;
  /** Round trips since `resetCount()`: requests in flight at once count as one. */
  readonly roundTrips: number;
  /** The simulated round trip of every request (ms); settable. */
  latencyMs: number;
  /** Count rows read per SELECT (see `ChHttpOptions.countReads`); settable. */
  countReads: boolean;
  /** Called for every query before it runs (after auth); may ask for a fault. */
  onQuery?: (q: { sql: string; queryId: string; params: Record<string, string> }) => QueryFault;
  /** Runs statements directly on the backing chdb session (setup, inspection); rows of the last. */
  exec(sql: string, params?: Record<string, unknown>): Promise<Record<string, unknown>[]>;
  /** Destroys every open connection and stops listening: the server is gone. */
  crash(): void;
  /** Listens again on the same port after `crash()` (the same data: the server came back). */
  revive(): Promise<void>;
  /** Changes the profile settings every query runs with (a server-side limit); `{}` restores defaults. */
  setProfile(settings: Record<string, string | number>): Promise<void>;
  /** Crashes if still up, waits for chdb to finish, closes the session and removes its folder. */
  stop(): Promise<void>;
}

/** Settings that belong to the HTTP layer, never SET on the engine. */
const HTTP_ONLY = new Set([
  "query",
  "query_id",
  "database",
  "default_format",
  "user",
  "password",
  "quota_key",
  "session_id",
  "session_timeout",
  "session_check",
  "role",
  "compress",
  "decompress",
  "buffer_size",
  "wait_end_of_query",
  "enable_http_compression",
  "http_zlib_compression_level",
  "http_response_compression_method",
  "http_native_compression_disable_checksumming_on_decompress",
  "http_response_buffer_size",
  "http_headers_progress_interval_ms",
  "http_send_progress_in_http_headers",
  "send_progress_in_http_headers",
  "cancel_http_readonly_queries_on_client_close",
  "http_wait_end_of_query",
]);

/** HTTP status for a ClickHouse exception, as the server's `exceptionCodeToHTTPStatus` maps them. */
function statusOf(code: number): number {
  if ([516, 192, 193, 194, 195].includes(code)) return 401;
  if ([497, 164].includes(code)) return 403;
  if ([62, 27, 26, 72, 6, 41, 38, 69, 457, 36, 130, 53, 43, 115, 456].includes(code)) return 400;
  if ([60, 81, 47, 46, 16, 8].includes(code)) return 404;
  if (code === 159) return 408;
  if (code === 48) return 501;
  return 500;
}

const CONTENT_TYPES: [RegExp, string][] = [
  [/^JSON/, "application/json; charset=UTF-8"],
  [/^(TabSeparated|TSV)/, "text/tab-separated-values; charset=UTF-8"],
  [/^CSV/, "text/csv; charset=UTF-8; header=absent"],
];

function contentTypeOf(format: string): string {
  return CONTENT_TYPES.find(([re]) => re.test(format))?.[1] ?? "text/plain; charset=UTF-8";
}

/** ClickHouse's escaped text → the string it stands for (`\t`, `\n`, `\\`, `\'`…). */
function unescapeText(v: string): string {
  const map: Record<string, string> = {
    t: "\t",
    n: "\n",
    r: "\r",
    b: "\b",
    f: "\f",
    0: "\0",
    a: "\x07",
    v: "\v",
  };
  return v.replace(/\\(x[0-9a-fA-F]{2}|.)/gs, (_, c: string) =>
    c.length === 3 ? String.fromCharCode(Number.parseInt(c.slice(1), 16)) : (map[c] ?? c),
  );
}

class TupleParam {
  constructor(readonly values: unknown[]) {}
}

/**
 * A literal of ClickHouse's quoted text form (`['a','b\'c']`, `[1,2.5]`, `(1,'x')`, `{'k':1}`, NULL) →
 * the JS value chdb's binder turns back into exactly that text.
 */
function parseLiteral(text: string): unknown {
  let i = 0;
  const ws = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };
  const value = (): unknown => {
    ws();
    const c = text[i];
    if (c === "[" || c === "(") {
      const close = c === "[" ? "]" : ")";
      i++;
      const items: unknown[] = [];
      ws();
      if (text[i] === close) {
        i++;
        return c === "[" ? items : new TupleParam(items);
      }
      for (;;) {
        items.push(value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === close) {
          i++;
          break;
        }
        throw new Error(`bad literal ${text}`);
      }
      return c === "[" ? items : new TupleParam(items);
    }
    if (c === "{") {
      i++;
      const m = new Map<unknown, unknown>();
      ws();
      if (text[i] === "}") {
        i++;
        return m;
      }
      for (;;) {
        const k = value();
        ws();
        if (text[i++] !== ":") throw new Error(`bad literal ${text}`);
        m.set(k, value());
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          break;
        }
        throw new Error(`bad literal ${text}`);
      }
      return m;
    }
    if (c === "'") {
      i++;
      let out = "";
      for (;;) {
        if (i >= text.length) throw new Error(`bad literal ${text}`);
        const ch = text[i++];
        if (ch === "\\") {
          const m = /^(x[0-9a-fA-F]{2}|.)/s.exec(text.slice(i));
          i += m?.[0].length ?? 0;
          out += unescapeText(`\\${m?.[0] ?? ""}`);
        } else if (ch === "'") {
          if (text[i] === "'") {
            out += "'";
            i++;
          } else break;
        } else out += ch;
      }
      return out;
    }
    const m = /^[^,\])}:\s]+/.exec(text.slice(i));
    if (!m) throw new Error(`bad literal ${text}`);
    i += m[0].length;
    const w = m[0];
    if (/^null$/i.test(w)) return null;
    if (/^true$/i.test(w)) return true;
    if (/^false$/i.test(w)) return false;
    if (/^[+-]?\d+$/.test(w)) {
      const n = Number(w);
      return Number.isSafeInteger(n) ? n : BigInt(w);
    }
    const n = Number(w);
    if (!Number.isNaN(n) || /^[+-]?(nan|inf)$/i.test(w)) return n;
    return w;
  };
  const v = value();
  ws();
  if (i !== text.length) throw new Error(`bad literal ${text}`);
  return v;
}

/** The `{name:Type}` placeholders of a query. */
function placeholderTypes(sql: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of sql.matchAll(/\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*:\s*([^{}]+?)\s*\}/g)) out.set(m[1], m[2]);
  return out;
}

/** An HTTP parameter value (escaped text, as the server reads it) → the value to give chdb's binder. */
function bindValue(value: string, type: string | undefined): unknown {
  let t = (type ?? "String").trim();
  let nullable = false;
  for (;;) {
    const m = /^(Nullable|LowCardinality)\((.*)\)$/s.exec(t);
    if (!m) break;
    if (m[1] === "Nullable") nullable = true;
    t = m[2].trim();
  }
  if (value === "\\N" && nullable) return null;
  if (/^(Array|Tuple|Map)\(/.test(t)) return parseLiteral(value);
  return unescapeText(value);
}

/** Minimal multipart/form-data → fields. */
function parseMultipart(body: Buffer, contentType: string): Map<string, string> {
  const boundary = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  const fields = new Map<string, string>();
  if (!boundary) return fields;
  const sep = `--${boundary[1] ?? boundary[2]}`;
  for (const part of body.toString("utf8").split(sep)) {
    const headEnd = part.indexOf("\r\n\r\n");
    if (headEnd < 0) continue;
    const name = /name="([^"]*)"/i.exec(part.slice(0, headEnd))?.[1];
    if (name === undefined) continue;
    fields.set(name, part.slice(headEnd + 4).replace(/\r\n$/, ""));
  }
  return fields;
}

/** Statements whose reads the adapter estimates. */
const READS_RE = /^\s*(\(|SELECT\b|WITH\b)/i;

const KILL_RE =
  /^\s*KILL\s+QUERY\s+WHERE\s+query_id\s*=\s*(?:'((?:[^'\\]|\\.)*)'|\{\s*([A-Za-z_]\w*)\s*:\s*String\s*\})\s*(SYNC|ASYNC|TEST)?\s*(?:FORMAT\s+(\w+))?\s*;?\s*$/is;

class ChError extends Error {
  constructor(
    readonly code: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** chdb's error → code, name and message (`Code: 60. DB::Exception: … (UNKNOWN_TABLE)`). */
function chErrorOf(e: unknown): ChError {
  if (e instanceof ChError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  const code = Number(
    (e as { clickhouseCode?: unknown }).clickhouseCode ?? /Code: (\d+)/.exec(msg)?.[1] ?? 1001,
  );
  const type = /\(([A-Z][A-Z0-9_]{2,})\)\s*$/.exec(msg.trim())?.[1] ?? "STD_EXCEPTION";
  const text = msg
    .replace(/^Code: \d+\. DB::Exception: /, "")
    .replace(/\s*\([A-Z][A-Z0-9_]{2,}\)\s*$/, "")
    .replace(/\.+$/, "");
  return new ChError(code, type, text);
}

interface Pending {
  entry: LoggedQuery;
  res: ServerResponse;
  stream?: AbortController;
  killed: boolean;
}

export async function startChHttp(opts: ChHttpOptions = {}): Promise<ChHttpServer> {
  const user = opts.user ?? "default";
  const password = opts.password ?? "";
  const ownDir = !opts.dir;
  const dir = opts.dir ?? mkdtempSync(join(tmpdir(), "evx-chhttp-"));
  const session = new Session(dir);
  let profile: Record<string, string | number> = { ...opts.profile };
  const log: LoggedQuery[] = [];
  const killed: string[] = [];
  const pending = new Map<string, Pending>();
  const sockets = new Set<Socket>();
  let queue: Promise<unknown> = Promise.resolve();
  let down = false;
  let requests = 0;
  // Round trips: a request that arrives while none is in flight starts a new one; requests sent
  // together (in flight at once) share it.
  let inFlight = 0;
  let roundTrips = 0;
  let latencyMs = opts.latencyMs ?? 0;
  let countReads = opts.countReads ?? false;

  const literalOf = (v: string | number) =>
    typeof v === "number" || /^-?\d+(\.\d+)?$/.test(v)
      ? String(v)
      : `'${String(v).replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  const setting = (k: string) => {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k))
      throw new ChError(115, "UNKNOWN_SETTING", `Unknown setting '${k}'`);
    return k;
  };
  for (const [k, v] of Object.entries(profile))
    await session.queryAsync(`SET ${setting(k)} = ${literalOf(v)}`);

  /** Serialises work on the chdb session. */
  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const p = queue.then(fn, fn);
    queue = p.catch(() => {});
    return p;
  };

  const send = (
    res: ServerResponse,
    status: number,
    body: string,
    headers: Record<string, string>,
    gzip: boolean,
  ): void => {
    if (res.headersSent || res.destroyed || res.writableEnded) return;
    let buf: Buffer = Buffer.from(body, "utf8");
    const h: Record<string, string> = {
      "X-ClickHouse-Server-Display-Name": "chhttp",
      "X-ClickHouse-Timezone": "UTC",
      "Keep-Alive": "timeout=10",
      ...headers,
    };
    if (gzip) {
      buf = gzipSync(buf);
      h["Content-Encoding"] = "gzip";
    }
    h["Content-Length"] = String(buf.length);
    res.writeHead(status, h);
    res.end(buf);
  };

  const sendError = (res: ServerResponse, err: ChError, queryId: string, gzip: boolean) =>
    send(
      res,
      statusOf(err.code),
      `Code: ${err.code}. DB::Exception: ${err.message}. (${err.type}) (version ${VERSION} (official build))\n`,
      {
        "Content-Type": "text/plain; charset=UTF-8",
        "X-ClickHouse-Query-Id": queryId,
        "X-ClickHouse-Exception-Code": String(err.code),
      },
      gzip,
    );

  /** Runs one statement on chdb: streamed (so a kill stops it) when it is a SELECT, else at once. */
  const runSql = async (
    sql: string,
    params: Record<string, unknown>,
    format: string,
    p?: Pending,
  ): Promise<string> => {
    const hasParams = Object.keys(params).length > 0;
    if (/^\s*(\(|SELECT\b|WITH\b|SHOW\b|DESC\b|DESCRIBE\b|EXPLAIN\b|EXISTS\b)/i.test(sql)) {
      const ac = new AbortController();
      if (p) p.stream = ac;
      // A KILL QUERY that came while this query waited for the session (its SETs, USE, or the queue) found
      // no stream to abort: stop here, or the query would run to its end.
      if (p?.killed) throw new ChError(394, "QUERY_WAS_CANCELLED", "Query was cancelled");
      try {
        const st = hasParams
          ? session.queryStreamBind(sql, params, { format, signal: ac.signal })
          : session.queryStream(sql, { format, signal: ac.signal });
        let out = "";
        for await (const chunk of st) out += chunk.text();
        return out;
      } catch (e) {
        if (p?.killed) throw new ChError(394, "QUERY_WAS_CANCELLED", "Query was cancelled");
        if (!/Streaming query is not supported/.test(e instanceof Error ? e.message : "")) throw e;
      }
    }
    const r = hasParams
      ? await session.queryBindAsync(sql, params, { format })
      : await session.queryAsync(sql, { format });
    return r.text();
  };

  /** Rows a SELECT reads from MergeTree tables after index analysis (`EXPLAIN ESTIMATE`); 0 when unknown. */
  const estimateReads = async (sql: string, params: Record<string, unknown>): Promise<number> => {
    try {
      const q = `EXPLAIN ESTIMATE ${sql}`;
      const r = Object.keys(params).length
        ? await session.queryBindAsync(q, params, { format: "JSONEachRow" })
        : await session.queryAsync(q, { format: "JSONEachRow" });
      return r
        .text()
        .split("\n")
        .filter((l) => l.trim())
        .reduce((n, l) => n + Number((JSON.parse(l) as { rows?: unknown }).rows ?? 0), 0);
    } catch {
      return 0;
    }
  };

  const handleKill = (
    res: ServerResponse,
    entry: LoggedQuery,
    m: RegExpExecArray,
    params: Record<string, string>,
    gzip: boolean,
  ) => {
    const id =
      m[1] !== undefined
        ? unescapeText(m[1])
        : params[m[2]] !== undefined
          ? unescapeText(params[m[2]])
          : undefined;
    if (id === undefined) {
      entry.status = "error";
      entry.code = 456;
      return sendError(
        res,
        new ChError(456, "UNKNOWN_QUERY_PARAMETER", `Substitution \`${m[2]}\` is not set`),
        entry.queryId,
        gzip,
      );
    }
    const target = pending.get(id);
    let body = "";
    if (target && target.entry.queryId !== entry.queryId) {
      target.killed = true;
      killed.push(id);
      target.entry.status = "killed";
      target.stream?.abort();
      // The killed query's HTTP response fails now, as ClickHouse answers a cancelled query.
      sendError(target.res, new ChError(394, "QUERY_WAS_CANCELLED", "Query was cancelled"), id, false);
      const status = (m[3] ?? "").toUpperCase() === "ASYNC" ? "waiting" : "finished";
      const fmt = m[4] ?? "TabSeparated";
      body = /^JSON/.test(fmt)
        ? `${JSON.stringify({ kill_status: status, query_id: id, user, query: target.entry.sql })}\n`
        : `${status}\t${id}\t${user}\t${target.entry.sql.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n")}\n`;
    }
    entry.status = "ok";
    send(
      res,
      200,
      body,
      {
        "Content-Type": "text/tab-separated-values; charset=UTF-8",
        "X-ClickHouse-Query-Id": entry.queryId,
        "X-ClickHouse-Format": "TabSeparated",
      },
      gzip,
    );
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    requests++;
    if (inFlight === 0) roundTrips++;
    inFlight++;
    res.once("close", () => {
      inFlight--;
    });
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    const url = new URL(req.url ?? "/", "http://localhost");
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body = Buffer.concat(chunks);
    if (/gzip/i.test(String(req.headers["content-encoding"] ?? ""))) body = gunzipSync(body);
    if (url.pathname === "/ping" || url.pathname === "/replicas_status") {
      return send(res, 200, "Ok.\n", { "Content-Type": "text/html; charset=UTF-8" }, false);
    }
    const search = url.searchParams;
    const gzip =
      search.get("enable_http_compression") === "1" &&
      /\bgzip\b/i.test(String(req.headers["accept-encoding"] ?? ""));
    const fields = /multipart\/form-data/i.test(String(req.headers["content-type"] ?? ""))
      ? parseMultipart(body, String(req.headers["content-type"]))
      : null;
    const bodySql = fields ? (fields.get("query") ?? "") : body.toString("utf8");
    const urlSql = search.get("query") ?? "";
    const sql = urlSql && bodySql ? `${urlSql}\n${bodySql}` : urlSql || bodySql;
    if (!sql.trim() && req.method === "GET")
      return send(res, 200, "Ok.\n", { "Content-Type": "text/html; charset=UTF-8" }, false);
    const queryId = search.get("query_id") || randomUUID();

    // Who is asking.
    let who = "default";
    let key = "";
    const auth = String(req.headers.authorization ?? "");
    if (req.headers["x-clickhouse-user"] !== undefined) {
      who = String(req.headers["x-clickhouse-user"]);
      key = String(req.headers["x-clickhouse-key"] ?? "");
    } else if (/^Basic /i.test(auth)) {
      const dec = Buffer.from(auth.slice(6), "base64").toString("utf8");
      const i = dec.indexOf(":");
      who = i < 0 ? dec : dec.slice(0, i);
      key = i < 0 ? "" : dec.slice(i + 1);
    } else if (search.has("user")) {
      who = search.get("user") ?? "default";
      key = search.get("password") ?? "";
    }
    const params: Record<string, string> = {};
    const settings: Record<string, string> = {};
    for (const [k, v] of search) {
      if (k.startsWith("param_")) params[k.slice(6)] = v;
      else if (!HTTP_ONLY.has(k)) settings[k] = v;
    }
    for (const [k, v] of fields ?? []) if (k.startsWith("param_")) params[k.slice(6)] = v;
    const database = search.get("database") || "default";
    const urlParams = [...search.keys()].some((k) => k.startsWith("param_"));
    const entry: LoggedQuery = {
      queryId,
      sql,
      params,
      settings,
      database,
      user: who,
      status: "running",
      gzip,
      url: req.url ?? "/",
      paramsIn: urlParams ? "url" : Object.keys(params).length ? "body" : "none",
    };
    log.push(entry);
    const started = performance.now();
    const done = (status: LoggedQuery["status"], code?: number) => {
      if (entry.status === "running") entry.status = status;
      if (code !== undefined) entry.code = code;
      entry.ms = performance.now() - started;
    };

    if (who !== user || key !== password) {
      done("error", 516);
      return sendError(
        res,
        new ChError(
          516,
          "AUTHENTICATION_FAILED",
          `${who}: Authentication failed: password is incorrect, or there is no user with such name`,
        ),
        queryId,
        gzip,
      );
    }

    const kill = KILL_RE.exec(sql);
    if (kill) return handleKill(res, entry, kill, params, gzip);

    let run = sql;
    const fault = this_onQuery?.({ sql, queryId, params });
    if (fault === "crash") {
      server.crash();
      return;
    }
    if (fault === "reset") {
      done("reset");
      req.socket.destroy();
      return;
    }
    const p: Pending = { entry, res, killed: false };
    // Like ClickHouse (cancel_http_readonly_queries_on_client_close = 0), a query whose client went away
    // keeps running until it ends or KILL QUERY stops it.
    pending.set(queryId, p);
    if (fault === "hang") return;
    if (fault && typeof fault === "object" && "delayMs" in fault) {
      await new Promise((r) => setTimeout(r, fault.delayMs));
      if (p.killed || res.destroyed) return;
    }
    if (fault && typeof fault === "object" && "sql" in fault) run = fault.sql;

    const trimmed = run.replace(/;\s*$/, "").trimEnd();
    const format =
      /\bFORMAT\s+(\w+)\s*$/i.exec(trimmed)?.[1] ?? search.get("default_format") ?? "TabSeparated";
    const types = placeholderTypes(trimmed);
    try {
      const bound: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(params)) bound[k] = bindValue(v, types.get(k));
      const out = await serial(async () => {
        if (p.killed) throw new ChError(394, "QUERY_WAS_CANCELLED", "Query was cancelled");
        const applied: string[] = [];
        try {
          for (const [k, v] of Object.entries(settings)) {
            await session.queryAsync(`SET ${setting(k)} = ${literalOf(v)}`);
            applied.push(k);
          }
          await session.queryAsync(`USE ${"`"}${database.replace(/`/g, "\\`")}${"`"}`);
          // `max_rows_to_read` is SET on chdb like every other setting: chdb enforces it as the server does,
          // counting every row the statement reads (`IN (SELECT …)` subqueries and system tables too). The
          // estimate below is only the log's `readRows` (index analysis of the main reads: it misses
          // subqueries), never the check.
          const limit = Number(settings.max_rows_to_read ?? profile.max_rows_to_read ?? 0);
          if (READS_RE.test(trimmed) && (countReads || limit > 0))
            entry.readRows = await estimateReads(trimmed.replace(/\s*\bFORMAT\s+\w+\s*$/i, ""), bound);
          return await runSql(trimmed, bound, format, p);
        } finally {
          for (const k of applied)
            await session
              .queryAsync(`SET ${k} = ${k in profile ? literalOf(profile[k]) : "DEFAULT"}`)
              .catch(() => {});
          await session.queryAsync("USE default").catch(() => {});
        }
      });
      if (p.killed) return;
      done("ok");
      const rows = out ? out.split("\n").filter(Boolean).length : 0;
      send(
        res,
        200,
        out,
        {
          "Content-Type": contentTypeOf(format),
          "X-ClickHouse-Query-Id": queryId,
          "X-ClickHouse-Format": format,
          "X-ClickHouse-Summary": JSON.stringify({
            read_rows: "0",
            read_bytes: "0",
            written_rows: "0",
            written_bytes: "0",
            total_rows_to_read: "0",
            result_rows: String(rows),
            result_bytes: String(Buffer.byteLength(out)),
            elapsed_ns: String(Math.round((performance.now() - started) * 1e6)),
          }),
        },
        gzip,
      );
    } catch (e) {
      if (p.killed) return;
      const err = chErrorOf(e);
      done("error", err.code);
      sendError(res, err, queryId, gzip);
    } finally {
      pending.delete(queryId);
    }
  };

  let this_onQuery: ChHttpServer["onQuery"];
  const makeHttp = (): Server => {
    const h = createServer((req, res) => {
      handle(req, res).catch((e) => {
        try {
          sendError(res, chErrorOf(e), "", false);
        } catch {
          res.destroy();
        }
      });
    });
    h.keepAliveTimeout = 10_000;
    h.on("connection", (s: Socket) => {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
    });
    return h;
  };
  let http = makeHttp();
  await new Promise<void>((resolve) => http.listen(0, "127.0.0.1", resolve));
  const port = (http.address() as AddressInfo).port;

  let stopped: Promise<void> | undefined;
  const server: ChHttpServer = {
    url: `http://127.0.0.1:${port}`,
    port,
    log,
    killed,
    running: () => [...pending.keys()],
    get requests() {
      return requests;
    },
    resetCount() {
      requests = 0;
      roundTrips = 0;
    },
    get roundTrips() {
      return roundTrips;
    },
    get latencyMs() {
      return latencyMs;
    },
    get countReads() {
      return countReads;
    },
    set countReads(on: boolean) {
      countReads = on;
    },
    set latencyMs(ms: number) {
      latencyMs = ms;
    },
    get onQuery() {
      return this_onQuery;
    },
    set onQuery(fn) {
      this_onQuery = fn;
    },
    async exec(sql, params = {}) {
      return serial(async () => {
        const r = Object.keys(params).length
          ? await session.queryBindAsync(sql, params, { format: "JSONEachRow" })
          : await session.queryAsync(sql, { format: "JSONEachRow" });
        return r
          .text()
          .split("\n")
          .filter((l) => l.trim())
          .map((l) => JSON.parse(l) as Record<string, unknown>);
      });
    },
    crash() {
      if (down) return;
      down = true;
      http.close();
      for (const s of sockets) s.destroy();
      for (const p of pending.values()) {
        p.killed = true;
        p.stream?.abort();
        if (p.entry.status === "running") p.entry.status = "reset";
      }
    },
    async setProfile(settings) {
      await serial(async () => {
        for (const k of Object.keys(profile)) await session.queryAsync(`SET ${setting(k)} = DEFAULT`);
        profile = { ...settings };
        for (const [k, v] of Object.entries(profile))
          await session.queryAsync(`SET ${setting(k)} = ${literalOf(v)}`);
      });
    },
    async revive() {
      if (!down || stopped) return;
      http = makeHttp();
      await new Promise<void>((resolve, reject) => {
        http.once("error", reject);
        http.listen(port, "127.0.0.1", () => resolve());
      });
      down = false;
    },
    stop() {
      stopped ??= (async () => {
        server.crash();
        await queue.catch(() => {});
        session.close();
        if (ownDir) rmSync(dir, { recursive: true, force: true });
      })();
      return stopped;
    },
  };
  return server;
}
