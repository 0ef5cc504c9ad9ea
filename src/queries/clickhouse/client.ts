/**
 * The ClickHouse connection: the official `@clickhouse/client` over HTTP(S), configured for evx.
 *
 * - The target comes from `--ch-url` or `$EVX_CLICKHOUSE_URL` (`https://user@host:8443/analytics`: the
 *   path names the database); the password from `$EVX_CLICKHOUSE_PASSWORD`, else the URL. The password
 *   goes into the client's Basic auth header and nowhere else: not into the URL the client keeps, not into
 *   labels, messages or logs (the client's own logging is off).
 * - Every request has a `query_id`, a request timeout (`$EVX_CLICKHOUSE_TIMEOUT_MS`, default 120 s) and
 *   gzip response compression. Connection errors are retried with backoff (`$EVX_CLICKHOUSE_MAX_ATTEMPTS`,
 *   default 3): for a read, any connection error (refused, reset, a stale keep-alive socket); for a write,
 *   only a refused connection, which never reached the server. Server errors are never retried.
 * - Cancel: an aborted signal aborts the HTTP request and sends `KILL QUERY WHERE query_id = …` on a
 *   separate request, so the server stops the work too (ClickHouse keeps running a query whose client went
 *   away). A timed-out query is killed the same way.
 * - Every failure becomes one `EngineError` line without secrets (see `EngineErrorKind`).
 */
import { randomUUID } from "node:crypto";
import {
  type ClickHouseClient,
  ClickHouseLogLevel,
  type ClickHouseSettings,
  createClient,
} from "@clickhouse/client";
import type { Row } from "../../cache/db.js";
import { EngineError, type EngineOptions } from "../engine.js";
import { AbortError } from "../executor.js";
import { UsageError } from "../parse.js";
import { CH_SETTINGS } from "./schema.js";

/** Where evx's ClickHouse data lives. `password` is a secret: never print, log or store it. */
export interface ClickHouseTarget {
  /** `http(s)://host:port`, without user info or path. */
  origin: string;
  /** `host:port/database`: a label safe to show (status bar, messages). */
  label: string;
  username: string;
  password: string;
  database: string;
  table: string;
}

const DEFAULT_TIMEOUT_MS = 120_000;
const DEFAULT_MAX_ATTEMPTS = 3;

function envInt(env: NodeJS.ProcessEnv, name: string): number | undefined {
  const n = Number(env[name]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** `https://user:pass@host` → `https://***@host` (for messages about a URL that failed to parse). */
function redactUserInfo(u: string): string {
  return u.replace(/\/\/[^/?#\s]*@/g, "//***@");
}

/** A table or database name evx accepts: anything printable (it is always quoted as an identifier). */
function checkName(name: string, what: string): string {
  if (!name || name.length > 200 || /[\u0000-\u001f\u007f]/.test(name))
    throw new UsageError(`bad ${what} ${JSON.stringify(name)}: use a table name such as events`);
  return name;
}

/**
 * The target of `--engine clickhouse`: `--ch-url` (else `$EVX_CLICKHOUSE_URL`), `--ch-table` (default
 * `events`), and the password from `$EVX_CLICKHOUSE_PASSWORD` or the URL. A bad URL is a `UsageError`
 * whose message shows the URL without its user info.
 */
export function resolveTarget(
  opts: Pick<EngineOptions, "chUrl" | "chTable">,
  env: NodeJS.ProcessEnv = process.env,
): ClickHouseTarget {
  const raw = opts.chUrl ?? env.EVX_CLICKHOUSE_URL;
  if (!raw)
    throw new UsageError(
      "the ClickHouse engine needs a server: pass --ch-url https://user@host:8443/database or set EVX_CLICKHOUSE_URL",
    );
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new UsageError(
      `bad ClickHouse URL ${JSON.stringify(redactUserInfo(raw))}: expected http(s)://[user@]host[:port][/database]`,
    );
  }
  if (u.protocol !== "http:" && u.protocol !== "https:")
    throw new UsageError(
      `bad ClickHouse URL ${JSON.stringify(redactUserInfo(raw))}: use http:// or https:// (ClickHouse's HTTP interface, ports 8123/8443)`,
    );
  if (u.search || u.hash)
    throw new UsageError(
      `bad ClickHouse URL ${JSON.stringify(redactUserInfo(raw))}: no ?query or #fragment; the path names the database`,
    );
  const segments = u.pathname.split("/").filter(Boolean);
  if (segments.length > 1)
    throw new UsageError(
      `bad ClickHouse URL ${JSON.stringify(redactUserInfo(raw))}: the path is one database name (…/analytics)`,
    );
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  const database = checkName(segments.length ? decode(segments[0]) : "default", "database");
  const port = u.port || (u.protocol === "https:" ? "8443" : "8123");
  const origin = `${u.protocol}//${u.hostname}:${port}`;
  const username = u.username ? decode(u.username) : "default";
  const password = env.EVX_CLICKHOUSE_PASSWORD ?? (u.password ? decode(u.password) : "");
  const table = checkName(opts.chTable ?? "events", "--ch-table");
  return { origin, label: `${u.hostname}:${port}/${database}`, username, password, database, table };
}

export interface ChClientOptions {
  /** Per-request timeout (no answer, or a stalled socket); default `$EVX_CLICKHOUSE_TIMEOUT_MS` or 120 s. */
  timeoutMs?: number;
  /** Attempts per request on connection errors, including the first; default 3. */
  maxAttempts?: number;
  /** More values to scrub from every message (S3 keys given to the server). */
  secrets?: string[];
  /** Settings for every request besides `CH_SETTINGS`. */
  settings?: ClickHouseSettings;
}

export interface RequestOptions {
  signal?: AbortSignal;
  queryId?: string;
  settings?: ClickHouseSettings;
  /**
   * True (the default) for a request that may run twice: it is retried on any connection error. A
   * write is retried only when the connection was refused.
   */
  idempotent?: boolean;
}

const RETRY_ANY = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "EAI_AGAIN", "ETIMEDOUT", "ECONNABORTED"]);
const RETRY_WRITE = new Set(["ECONNREFUSED", "EAI_AGAIN"]);
const MID_QUERY = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED"]);
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ETIMEDOUT",
  "EPROTO",
  "ERR_SSL_WRONG_VERSION_NUMBER",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
]);

/** The connection-level error code of `e` (`ECONNRESET` for "socket hang up"), if any. */
export function netCode(e: unknown, depth = 0): string | undefined {
  const x = e as { code?: unknown; message?: unknown; cause?: unknown; errors?: unknown[] };
  if (!x || depth > 4) return undefined;
  if (typeof x.code === "string" && /^[A-Z_]+$/.test(x.code) && !/^\d+$/.test(x.code)) return x.code;
  if (typeof x.message === "string" && /socket hang up/i.test(x.message)) return "ECONNRESET";
  for (const sub of Array.isArray(x.errors) ? x.errors : []) {
    const c = netCode(sub, depth + 1);
    if (c) return c;
  }
  return x.cause ? netCode(x.cause, depth + 1) : undefined;
}

/** ClickHouse exception names by the failure they mean to a user. */
const AUTH_TYPES = new Set([
  "AUTHENTICATION_FAILED",
  "UNKNOWN_USER",
  "WRONG_PASSWORD",
  "REQUIRED_PASSWORD",
  "IP_ADDRESS_NOT_ALLOWED",
  "ACCESS_DENIED",
  "NOT_ENOUGH_PRIVILEGES",
  "READONLY",
]);
const SCHEMA_TYPES = new Set([
  "UNKNOWN_TABLE",
  "UNKNOWN_DATABASE",
  "UNKNOWN_IDENTIFIER",
  "NO_SUCH_COLUMN_IN_TABLE",
  "THERE_IS_NO_COLUMN",
  "NOT_FOUND_COLUMN_IN_BLOCK",
  "ILLEGAL_TYPE_OF_ARGUMENT",
  "TYPE_MISMATCH",
  "CANNOT_CONVERT_TYPE",
]);
const LIMIT_TYPES = new Set([
  "TIMEOUT_EXCEEDED",
  "MEMORY_LIMIT_EXCEEDED",
  "TOO_MANY_ROWS",
  "TOO_MANY_BYTES",
  "TOO_MANY_ROWS_OR_BYTES",
  "TOO_MANY_COLUMNS",
  "TOO_MANY_SIMULTANEOUS_QUERIES",
  "TOO_SLOW",
  "QUOTA_EXCEEDED",
  "QUOTA_EXPIRED",
  "SET_SIZE_LIMIT_EXCEEDED",
  "TOO_MANY_PARTS",
  "TOO_BIG_AST",
  "TOO_DEEP_AST",
  "TOO_DEEP_RECURSION",
  "QUERY_WAS_CANCELLED",
  "QUERY_WAS_CANCELLED_BY_CLIENT",
  "TOO_MANY_QUERIES",
  "TOO_LARGE_STRING_SIZE",
  "TOO_LARGE_ARRAY_SIZE",
  "CANNOT_ALLOCATE_MEMORY",
]);

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(new AbortError());
    const onAbort = () => {
      clearTimeout(t);
      reject(new AbortError());
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });

/** `evx-` + a UUID: how evx's queries are named on the server (`system.processes`, the query log). */
export const newQueryId = (): string => `evx-${randomUUID()}`;

export class ChClient {
  readonly client: ClickHouseClient;
  readonly timeoutMs: number;
  private readonly maxAttempts: number;
  private readonly secrets: string[];
  private readonly kills = new Set<Promise<void>>();
  private closed = false;

  constructor(
    readonly target: ClickHouseTarget,
    opts: ChClientOptions = {},
    env: NodeJS.ProcessEnv = process.env,
  ) {
    this.timeoutMs = opts.timeoutMs ?? envInt(env, "EVX_CLICKHOUSE_TIMEOUT_MS") ?? DEFAULT_TIMEOUT_MS;
    this.maxAttempts = Math.max(
      1,
      opts.maxAttempts ?? envInt(env, "EVX_CLICKHOUSE_MAX_ATTEMPTS") ?? DEFAULT_MAX_ATTEMPTS,
    );
    this.secrets = [target.password, ...(opts.secrets ?? [])].filter((s) => s && s.length >= 3);
    this.client = createClient({
      url: target.origin,
      username: target.username,
      password: target.password,
      database: target.database,
      application: "evx",
      request_timeout: this.timeoutMs,
      compression: { response: true, request: false },
      clickhouse_settings: { ...CH_SETTINGS, ...opts.settings } as ClickHouseSettings,
      log: { level: ClickHouseLogLevel.OFF },
      use_multipart_params_auto: true,
    });
  }

  /** The rows of a SELECT (JSONEachRow objects). */
  async rows<T = Row>(
    sql: string,
    params: Record<string, unknown> = {},
    opts: RequestOptions = {},
  ): Promise<T[]> {
    return this.request(opts, async (query_id, abort_signal) => {
      const rs = await this.client.query({
        query: sql,
        query_params: params,
        format: "JSONEachRow",
        query_id,
        abort_signal,
        clickhouse_settings: opts.settings,
      });
      return (await rs.json()) as T[];
    });
  }

  /** A statement without a result (DDL, INSERT … SELECT, ALTER); resolves with the server's summary. */
  async command(
    sql: string,
    params: Record<string, unknown> = {},
    opts: RequestOptions = {},
  ): Promise<{ written_rows: number; read_rows: number }> {
    return this.request({ idempotent: false, ...opts }, async (query_id, abort_signal) => {
      const r = await this.client.command({
        query: sql,
        query_params: params,
        query_id,
        abort_signal,
        clickhouse_settings: opts.settings,
      });
      return {
        written_rows: Number(r.summary?.written_rows ?? 0),
        read_rows: Number(r.summary?.read_rows ?? 0),
      };
    });
  }

  /**
   * A statement whose parameters must stay out of URLs (S3 credentials): sent as a query with its
   * parameters as multipart/form-data parts of the POST body. Never retried after it reached the server.
   */
  async statement(sql: string, params: Record<string, unknown>, opts: RequestOptions = {}): Promise<void> {
    return this.request({ idempotent: false, ...opts }, async (query_id, abort_signal) => {
      const rs = await this.client.query({
        query: sql,
        query_params: params,
        format: "JSONEachRow",
        query_id,
        abort_signal,
        clickhouse_settings: opts.settings,
        use_multipart_params: true,
      });
      await rs.text();
    });
  }

  /** Inserts rows (JSONEachRow) into `table`. */
  async insert(table: string, values: Record<string, unknown>[], opts: RequestOptions = {}): Promise<void> {
    return this.request({ idempotent: false, ...opts }, async (query_id, abort_signal) => {
      await this.client.insert({
        table: `\`${table.replace(/\\/g, "\\\\").replace(/`/g, "\\`")}\``,
        values,
        format: "JSONEachRow",
        query_id,
        abort_signal,
      });
    });
  }

  /**
   * Runs `fn` with a query id and a per-attempt abort signal: retries connection errors (see
   * `RequestOptions.idempotent`), kills the query on the server when the caller aborts or the request
   * times out, and turns every failure into an `AbortError` or a one-line `EngineError`.
   */
  private async request<T>(
    opts: RequestOptions,
    fn: (queryId: string, signal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    const { signal } = opts;
    const retryable = opts.idempotent === false ? RETRY_WRITE : RETRY_ANY;
    let lostMidQuery: string | undefined;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new AbortError();
      // A retry gets a new id: the old one may still be known to the server.
      const queryId = attempt === 1 && opts.queryId ? opts.queryId : newQueryId();
      const ac = new AbortController();
      const onAbort = () => {
        ac.abort();
        this.kill(queryId);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      // The client's abort signal covers the request; the race covers reading a response already under way.
      const aborted = new Promise<never>((_, reject) =>
        ac.signal.addEventListener("abort", () => reject(new AbortError()), { once: true }),
      );
      aborted.catch(() => {});
      try {
        return await Promise.race([fn(queryId, ac.signal), aborted]);
      } catch (e) {
        if (signal?.aborted || e instanceof AbortError) throw new AbortError();
        const code = netCode(e);
        if (code && MID_QUERY.has(code)) lostMidQuery ??= code;
        if (code && retryable.has(code) && attempt < this.maxAttempts) {
          await sleep(Math.round(Math.random() * 200 * 2 ** (attempt - 1)) + 50, signal);
          continue;
        }
        if (isTimeout(e)) this.kill(queryId);
        throw this.toEngineError(e, lostMidQuery);
      } finally {
        signal?.removeEventListener("abort", onAbort);
      }
    }
  }

  /** Fires `KILL QUERY` for `queryId` on a separate request; `close()` waits for it. Never rejects. */
  kill(queryId: string): Promise<void> {
    if (this.closed) return Promise.resolve();
    const p = this.client
      .command({
        query: "KILL QUERY WHERE query_id = {id:String} ASYNC",
        query_params: { id: queryId },
        query_id: newQueryId(),
      })
      .then(
        () => {},
        () => {},
      );
    this.kills.add(p);
    p.finally(() => this.kills.delete(p));
    return p;
  }

  /** `text` with the password and any S3 secret replaced by `***`. */
  redact(text: string): string {
    let out = text;
    for (const s of this.secrets) out = out.split(s).join("***");
    return redactUserInfo(out);
  }

  /** One secret-free line for any failure of a request. */
  toEngineError(e: unknown, lostMidQuery?: string): EngineError {
    const where = `ClickHouse at ${this.target.label}`;
    const chType = (e as { type?: unknown }).type;
    const chCode = Number((e as { code?: unknown }).code);
    const rawMsg = e instanceof Error ? e.message : String(e);
    const detail = this.redact(oneLine(rawMsg))
      .slice(0, 240)
      .replace(/[.\s]+$/, "");
    if (typeof chType === "string" && Number.isFinite(chCode)) {
      const tag = `${chType}, code ${chCode}`;
      if (AUTH_TYPES.has(chType)) {
        const access =
          chType === "ACCESS_DENIED" || chType === "NOT_ENOUGH_PRIVILEGES" || chType === "READONLY";
        return new EngineError(
          access
            ? `${where} refused user ${JSON.stringify(this.target.username)} a privilege evx needs (${tag}): ${detail}`
            : `${where} refused user ${JSON.stringify(this.target.username)}: authentication failed (${tag}); check the user in --ch-url and EVX_CLICKHOUSE_PASSWORD`,
          "auth",
          chCode,
        );
      }
      if (SCHEMA_TYPES.has(chType)) {
        const what =
          chType === "UNKNOWN_DATABASE"
            ? `has no database ${JSON.stringify(this.target.database)}`
            : chType === "UNKNOWN_TABLE"
              ? `has no table ${JSON.stringify(`${this.target.database}.${this.target.table}`)}`
              : `table ${JSON.stringify(`${this.target.database}.${this.target.table}`)} lacks a column evx needs, or has it with another type`;
        const fix =
          chType === "UNKNOWN_DATABASE"
            ? `create it (CREATE DATABASE), then the table as \`evx clickhouse schema --ch-table ${this.target.table}\` prints`
            : `see \`evx clickhouse schema --ch-table ${this.target.table}\``;
        return new EngineError(`${where} ${what} (${tag}); ${fix}`, "schema", chCode);
      }
      if (LIMIT_TYPES.has(chType))
        return new EngineError(
          `${where} stopped the query at a server limit (${tag}): ${detail}; narrow the range or ask for a higher limit`,
          "limit",
          chCode,
        );
      return new EngineError(`${where} rejected the query (${tag}): ${detail}`, "query", chCode);
    }
    if (isTimeout(e))
      return new EngineError(
        `${where} did not answer within ${Math.round(this.timeoutMs / 1000)} s (the query was killed); set EVX_CLICKHOUSE_TIMEOUT_MS for longer queries`,
        "timeout",
      );
    const code = netCode(e);
    if (lostMidQuery)
      return new EngineError(
        `${where} went away mid-query: the connection broke (${lostMidQuery})${code && code !== lostMidQuery ? ` and the server is unreachable now (${code})` : ""}`,
        "lost",
      );
    if (code && UNREACHABLE.has(code))
      return new EngineError(`cannot reach ${where} (${code}); check --ch-url`, "unreachable");
    if (code) return new EngineError(`${where}: request failed (${code})`, "unreachable");
    // An HTTP answer that is not a ClickHouse exception, or a body that is not JSONEachRow: the URL
    // points at something else (a proxy, another service, the native-protocol port).
    return new EngineError(
      `${this.target.origin} does not answer like a ClickHouse HTTP server (${detail.slice(0, 120) || "empty answer"}); check --ch-url`,
      "unreachable",
    );
  }

  /** Closes the client once pending KILL requests are sent. */
  async close(): Promise<void> {
    if (this.closed) return;
    await Promise.all(this.kills);
    this.closed = true;
    await this.client.close().catch(() => {});
  }
}

function isTimeout(e: unknown): boolean {
  return e instanceof Error && /^Timeout error\.?$/i.test(e.message);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim();
}
