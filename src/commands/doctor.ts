/**
 * `evx doctor [SOURCE]`: checks the setup, one line per check with its fix, exit 1 when one fails.
 *
 * Node; the DuckDB binding; the cache's folder and files (writable, 0700 / 0600); the source (the
 * one given, else the cache's), with the AWS credential chain and a list call for S3; the terminal;
 * and the EVX_* variables in effect. Secrets are never printed: credentials are resolved but not
 * shown, and variables that hold secrets show as `set`. Nothing is written but a probe file that is
 * removed at once; the cache is opened read-only.
 */
import { closeSync, existsSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { cacheHome, resolveCachePath } from "../cache/paths.js";
import { useColor as colorEnabled } from "../render/charts.js";
import { cleanText } from "../render/sanitize.js";
import { redactUrl } from "../source/s3.js";
import { SourceError } from "../source/types.js";
import { sourceKind } from "../source/url.js";
import { versionLine } from "../version.js";
import { cachePathFor } from "./cachepath.js";
import { ExitError, UsageError } from "./errors.js";
import { printJson } from "./output.js";

/**
 * A CommonJS package imported dynamically: Node gives its exports by name and as `default`; the
 * bundle (esbuild) only as `default`.
 */
function cjs<T>(m: T): T {
  return (m as { default?: T }).default ?? m;
}

export type Status = "ok" | "warn" | "fail" | "skip";

export interface Check {
  name: string;
  status: Status;
  detail: string;
  fix?: string;
}

export interface DoctorArgs {
  source?: string;
  cache?: string;
  json?: boolean;
  endpoint?: string;
  region?: string;
  profile?: string;
  signRequest?: boolean;
  /** Per-request timeout of the credential and S3 checks (default 5 s; EVX_S3_TIMEOUT_MS). */
  timeoutMs?: number;
}

/** Every EVX_* variable evx reads; the README describes each. */
export const KNOWN_ENV = [
  "EVX_CACHE",
  "EVX_THREADS",
  "EVX_MEMORY_LIMIT",
  "EVX_BATCH_BYTES",
  "EVX_S3_TIMEOUT_MS",
  "EVX_S3_MAX_ATTEMPTS",
  "EVX_EXPORT_DIR",
  "EVX_ASCII",
  "EVX_DEBUG",
  "EVX_TRACE",
  "EVX_WATCH_MIN_EVERY_MS",
  "EVX_SHARED",
  "EVX_HOST_IDLE_MS",
  "EVX_HOST_WAIT_MS",
  "EVX_CLICKHOUSE_URL",
  "EVX_CLICKHOUSE_PASSWORD",
  "EVX_CLICKHOUSE_TIMEOUT_MS",
  "EVX_CLICKHOUSE_MAX_ATTEMPTS",
  "EVX_CLICKHOUSE_LOAD_TIMEOUT_MS",
];
const SECRET = /PASSWORD|SECRET|TOKEN|CREDENTIAL|_KEY$/;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what} did not answer within ${ms / 1000}s`)), ms);
    }),
  ]).finally(() => clearTimeout(t));
}

const msg = (e: unknown) =>
  cleanText((e instanceof Error ? e.message : String(e)).split("\n")[0]).slice(0, 200);

// ---------------------------------------------------------------------------------------------
// the checks

export function checkNode(version = process.versions.node): Check {
  const major = Number(version.split(".")[0]);
  return major >= 20
    ? {
        name: "node",
        status: "ok",
        detail: `Node ${version} (${process.platform}-${process.arch}), ${versionLine()}`,
      }
    : {
        name: "node",
        status: "fail",
        detail: `Node ${version}; evx needs Node 20 or newer`,
        fix: "install Node 20 or newer (https://nodejs.org, or nvm install 20)",
      };
}

export async function checkDuckDB(): Promise<Check> {
  try {
    const { DuckDBInstance } = cjs(await import("@duckdb/node-api"));
    const db = await DuckDBInstance.create(":memory:", { threads: "1" });
    const conn = await db.connect();
    const v = (await conn.runAndReadAll("SELECT version()")).getRowsJS()[0]?.[0];
    conn.closeSync();
    db.closeSync();
    return { name: "duckdb", status: "ok", detail: `the DuckDB binding loads (DuckDB ${v})` };
  } catch (e) {
    return {
      name: "duckdb",
      status: "fail",
      detail: `the DuckDB binding does not load: ${msg(e)}`,
      fix: `reinstall evx so npm installs @duckdb/node-api's binary for ${process.platform}-${process.arch} (npm i -g evx-analytics; optional dependencies must not be omitted)`,
    };
  }
}

/** The folder holding `path`'s nearest existing ancestor. */
function nearestExisting(dir: string): string {
  let d = dir;
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** Can we create a file in `dir`? Tried for real (root passes every permission check). */
function canWrite(dir: string): string | null {
  const probe = join(dir, `.evx-doctor-${process.pid}`);
  try {
    closeSync(openSync(probe, "wx", 0o600));
    rmSync(probe, { force: true });
    return null;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? msg(e);
  }
}

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, "0");

/** Where the cache is and whether evx can keep it there, privately. */
export function checkCache(
  cache?: string,
  env: NodeJS.ProcessEnv = process.env,
): { check: Check; path?: string } {
  let path: string | undefined;
  try {
    path = cachePathFor(cache);
  } catch {
    path = resolveCachePath({ cache }, env);
  }
  const dir = path ? dirname(path) : cacheHome(env);
  const label = path ?? `${dir}/ (no cache yet)`;
  if (!existsSync(dir)) {
    const base = nearestExisting(dir);
    const err = statSync(base).isDirectory() ? canWrite(base) : "ENOTDIR";
    return err
      ? {
          check: {
            name: "cache",
            status: "fail",
            detail: `${label}: cannot create ${dir} (${err} in ${base})`,
            fix: `make ${base} writable, or choose a cache elsewhere with --cache PATH or EVX_CACHE`,
          },
          path,
        }
      : {
          check: {
            name: "cache",
            status: "ok",
            detail: `${label}: the folder will be created 0700 by the first sync`,
          },
          path,
        };
  }
  const st = statSync(dir);
  if (!st.isDirectory())
    return {
      check: {
        name: "cache",
        status: "fail",
        detail: `${label}: ${dir} is not a folder`,
        fix: "choose a cache in a folder with --cache PATH or EVX_CACHE",
      },
      path,
    };
  const err = canWrite(dir);
  if (err)
    return {
      check: {
        name: "cache",
        status: "fail",
        detail: `${label}: the folder ${dir} is not writable (${err})`,
        fix: `chmod u+w '${dir}' (or chown it to you), or choose a cache elsewhere with --cache PATH or EVX_CACHE`,
      },
      path,
    };
  // The files that hold data: the cache, its WAL, exports of the completion index.
  const files = path ? [path, `${path}.wal`].filter((f) => existsSync(f)) : [];
  const open = files.filter((f) => (statSync(f).mode & 0o077) !== 0);
  if (open.length)
    return {
      check: {
        name: "cache",
        status: "fail",
        detail: `${label}: ${open.map((f) => `${f} is ${octal(statSync(f).mode)}`).join(", ")}: other users can read it`,
        fix: `chmod 600 ${open.map((f) => `'${f}'`).join(" ")}`,
      },
      path,
    };
  // A folder shared on purpose (/tmp: sticky, not ours) keeps its mode; the files' 0600 protects them.
  const shared =
    (st.mode & 0o1000) !== 0 || (typeof process.getuid === "function" && st.uid !== process.getuid());
  if ((st.mode & 0o077) !== 0 && !shared)
    return {
      check: {
        name: "cache",
        status: "warn",
        detail: `${label}: the folder is ${octal(st.mode)}, so other users can list it (the files are private)`,
        fix: `chmod 700 '${dir}'`,
      },
      path,
    };
  const what = files.length
    ? `writable, folder ${octal(st.mode)}, files 0600`
    : `no cache file yet; folder writable (${octal(st.mode)})`;
  return { check: { name: "cache", status: "ok", detail: `${label}: ${what}` }, path };
}

interface SourceInfo {
  url: string;
  endpoint?: string;
  region?: string;
  profile?: string;
  noSignRequest?: boolean;
  /** Where it came from: `given` or the cache. */
  from: string;
}

/** The cache's meta `source` and `source_options`, read-only; a cache held by a sync says so. */
export async function cacheSource(path: string): Promise<{ source?: SourceInfo; note?: string }> {
  if (!existsSync(path)) return {};
  try {
    const { DuckDBInstance } = cjs(await import("@duckdb/node-api"));
    const db = await DuckDBInstance.create(path, { access_mode: "READ_ONLY", threads: "1" });
    const conn = await db.connect();
    try {
      const rows = (
        await conn.runAndReadAll("SELECT key, value FROM meta WHERE key IN ('source', 'source_options')")
      ).getRowsJS();
      const meta = Object.fromEntries(rows.map((r) => [String(r[0]), String(r[1])]));
      if (!meta.source) return {};
      const opts = meta.source_options ? (JSON.parse(meta.source_options) as Partial<SourceInfo>) : {};
      return { source: { ...opts, url: meta.source, from: "the cache's source" } };
    } finally {
      conn.closeSync();
      db.closeSync();
    }
  } catch (e) {
    const m = msg(e);
    if (/lock/i.test(m)) {
      // Held by the cache's host (another evx process is on the cache): read through it.
      try {
        const { Cache } = await import("../cache/db.js");
        const cache = await Cache.open(path, { readOnly: true });
        try {
          const rows = await cache.all<{ key: string; value: string }>(
            "SELECT key, value FROM meta WHERE key IN ('source', 'source_options')",
          );
          const meta = Object.fromEntries(rows.map((r) => [String(r.key), String(r.value)]));
          if (!meta.source) return {};
          const opts = meta.source_options ? (JSON.parse(meta.source_options) as Partial<SourceInfo>) : {};
          return { source: { ...opts, url: meta.source, from: "the cache's source" } };
        } finally {
          cache.close();
        }
      } catch {}
      const pid = /PID (\d+)/.exec(m)?.[1];
      return {
        note: `the cache is in use by another evx process${pid ? ` (PID ${pid})` : ""}; its source was not read`,
      };
    }
    return { note: `the cache could not be read (${m})` };
  }
}

const CREDENTIAL_SOURCES: [RegExp, string][] = [
  [/STS_WEB_ID_TOKEN/, "web identity token"],
  [/SSO/, "SSO"],
  [/PROCESS/, "credential_process"],
  [/PROFILE/, "shared config profile"],
  [/ENV_VARS/, "environment variables"],
  [/HTTP|FULL_URI|RELATIVE_URI/, "container role"],
  [/IMDS/, "instance role"],
];

export async function checkCredentials(
  s: { profile?: string; noSignRequest?: boolean },
  needed: boolean,
  timeoutMs: number,
): Promise<Check> {
  if (s.noSignRequest)
    return {
      name: "aws",
      status: "skip",
      detail: "anonymous requests (--no-sign-request): no credentials needed",
    };
  const profile = s.profile ?? process.env.AWS_PROFILE;
  const which = profile ? `profile ${profile}` : "the default chain";
  try {
    const { fromNodeProviderChain } = cjs(await import("@aws-sdk/credential-providers"));
    const creds = await withTimeout(
      fromNodeProviderChain(s.profile ? { profile: s.profile } : {})(),
      timeoutMs,
      "the AWS credential chain",
    );
    const features = Object.keys((creds as { $source?: Record<string, string> }).$source ?? {}).join(" ");
    const from = CREDENTIAL_SOURCES.find(([re]) => re.test(features))?.[1];
    const exp = creds.expiration
      ? `, expire ${creds.expiration.toISOString().slice(0, 16).replace("T", " ")} UTC`
      : "";
    return {
      name: "aws",
      status: "ok",
      detail: `credentials resolve from ${which}${from ? ` (${from})` : ""}${exp}`,
    };
  } catch (e) {
    const fix = profile
      ? `check profile ${profile} in ~/.aws/config (for SSO: aws sso login --profile ${profile})`
      : "set AWS_PROFILE or pass --profile, or run aws configure / aws sso login; --no-sign-request for a public bucket";
    return needed
      ? {
          name: "aws",
          status: "fail",
          detail: `no usable credentials from ${which}: ${msg(e).replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, "***")}`,
          fix,
        }
      : {
          name: "aws",
          status: "skip",
          detail: `no credentials from ${which} (needed only for s3:// sources)`,
        };
  }
}

function sourceFix(code: string | undefined): string {
  switch (code) {
    case "NoSuchBucket":
      return "check the bucket name (and --region)";
    case "AccessDenied":
    case "Forbidden":
    case "403":
      return "the credentials need s3:ListBucket on the bucket (and s3:GetObject on the prefix)";
    case "CredentialsProviderError":
      return "set AWS_PROFILE or pass --profile, or --no-sign-request for a public bucket";
    case "ECONNREFUSED":
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
    case "TimeoutError":
    case "ETIMEDOUT":
      return "check --endpoint, the network and any proxy";
    default:
      return "see the message; evx sync reports the same error";
  }
}

export async function checkSource(s: SourceInfo, timeoutMs: number): Promise<Check> {
  if (!/^s3:\/\//i.test(s.url)) {
    const dir = resolve(s.url);
    try {
      if (!statSync(dir).isDirectory()) throw Object.assign(new Error("not a folder"), { code: "ENOTDIR" });
      readdirSync(dir);
      return { name: "source", status: "ok", detail: `${dir} (${s.from}): a readable folder` };
    } catch (e) {
      return {
        name: "source",
        status: "fail",
        detail: `${dir} (${s.from}): ${(e as NodeJS.ErrnoException).code ?? msg(e)}`,
        fix: "check the path, or sync from where the lake is",
      };
    }
  }
  const at = s.endpoint ? ` at ${redactUrl(s.endpoint)}` : "";
  try {
    const { s3Source } = await import("../source/s3.js");
    const src = s3Source(s.url, {
      endpoint: s.endpoint,
      region: s.region,
      profile: s.profile,
      noSignRequest: s.noSignRequest,
      requestTimeoutMs: timeoutMs,
      maxAttempts: 1,
    });
    const ac = new AbortController();
    let found = false;
    await withTimeout(
      (async () => {
        for await (const _ of src.list(ac.signal)) {
          found = true;
          break;
        }
      })(),
      timeoutMs * 2,
      `S3${at}`,
    ).finally(() => ac.abort());
    return found
      ? { name: "source", status: "ok", detail: `${src.url}${at} (${s.from}): the list call answers` }
      : {
          name: "source",
          status: "warn",
          detail: `${src.url}${at} (${s.from}): the list call answers, but there are no objects under the prefix`,
          fix: "check the prefix",
        };
  } catch (e) {
    const code = e instanceof SourceError ? e.code : undefined;
    return {
      name: "source",
      status: "fail",
      detail: `${redactUrl(s.url)}${at} (${s.from}): ${msg(e)}`,
      fix: sourceFix(code),
    };
  }
}

export function checkTerminal(
  out: NodeJS.WriteStream = process.stdout,
  input: NodeJS.ReadStream = process.stdin,
  env: NodeJS.ProcessEnv = process.env,
): Check {
  const utf8 = isUtf8(env);
  const depth = typeof out.getColorDepth === "function" ? out.getColorDepth(env) : 4;
  const colour = colorEnabled(env, out)
    ? depth >= 24
      ? "24-bit colour"
      : `${2 ** depth} colours`
    : env.NO_COLOR
      ? "no colour (NO_COLOR)"
      : "no colour";
  const text = `${colour}, ${utf8 ? "UTF-8" : "not UTF-8 (ASCII shading)"}`;
  if (!out.isTTY || !input.isTTY)
    return {
      name: "terminal",
      status: "skip",
      detail: `not a terminal (${!input.isTTY ? "stdin" : "stdout"} is a pipe or file): headless commands only; ${text}`,
    };
  const { columns = 0, rows = 0 } = out;
  if (columns < 80 || rows < 24)
    return {
      name: "terminal",
      status: "warn",
      detail: `${columns}×${rows}, ${text}: the TUI is laid out for 80×24 or more`,
      fix: "make the window larger",
    };
  return {
    name: "terminal",
    status: "ok",
    detail: `${columns}×${rows}, ${text}, TERM=${env.TERM ?? "(unset)"}`,
  };
}

export function isUtf8(env: NodeJS.ProcessEnv = process.env): boolean {
  const locale = env.LC_ALL || env.LC_CTYPE || env.LANG || "";
  return /utf-?8/i.test(locale);
}

/** The EVX_* variables in effect; secrets as `set`, URLs without their user info. */
export function checkEnv(env: NodeJS.ProcessEnv = process.env): Check {
  const names = Object.keys(env)
    .filter((k) => k.startsWith("EVX_"))
    .sort();
  if (!names.length) return { name: "env", status: "ok", detail: "no EVX_* variables set" };
  const shown = names.map((k) => {
    const v = env[k] ?? "";
    if (SECRET.test(k)) return `${k}=set`;
    if (/URL/.test(k)) return `${k}=${cleanText(redactUrl(v))}`;
    return `${k}=${cleanText(v).slice(0, 120)}`;
  });
  const unknown = names.filter((k) => !KNOWN_ENV.includes(k));
  return unknown.length
    ? {
        name: "env",
        status: "warn",
        detail: `${shown.join(" ")}; unknown to evx: ${unknown.join(", ")}`,
        fix: `a typo? evx reads ${KNOWN_ENV.join(", ")}`,
      }
    : { name: "env", status: "ok", detail: shown.join(" ") };
}

// ---------------------------------------------------------------------------------------------

export async function runDoctor(a: DoctorArgs): Promise<Check[]> {
  const envTimeout = Number(process.env.EVX_S3_TIMEOUT_MS);
  const timeoutMs = a.timeoutMs ?? (envTimeout > 0 ? Math.min(envTimeout, 5000) : 5000);
  if (a.source !== undefined && !a.source.trim())
    throw new UsageError("evx doctor SOURCE: the source is empty");
  if (a.source !== undefined) sourceKind(a.source);
  const checks: Check[] = [checkNode()];
  const duck = checkDuckDB();
  const { check: cache, path } = checkCache(a.cache);
  checks.push(await duck, cache);

  let source: SourceInfo | undefined;
  let note: string | undefined;
  if (a.source)
    source = {
      url: a.source,
      endpoint: a.endpoint,
      region: a.region,
      profile: a.profile,
      noSignRequest: a.signRequest === false,
      from: "given",
    };
  else if (path && checks[1].status === "ok") {
    ({ source, note } = await cacheSource(path));
    if (source) {
      // Flags override what the cache remembers, as for evx sync.
      if (a.endpoint) source.endpoint = a.endpoint;
      if (a.region) source.region = a.region;
      if (a.profile) source.profile = a.profile;
      if (a.signRequest === false) source.noSignRequest = true;
    }
  }
  const s3 = !!source && /^s3:\/\//i.test(source.url);
  checks.push(
    await checkCredentials(
      {
        profile: source?.profile ?? a.profile,
        noSignRequest: source?.noSignRequest ?? a.signRequest === false,
      },
      s3,
      timeoutMs,
    ),
  );
  if (source) checks.push(await checkSource(source, timeoutMs));
  else
    checks.push({
      name: "source",
      status: "skip",
      detail: note ?? "no source known: pass one (evx doctor s3://bucket/prefix), or sync first",
    });
  checks.push(checkTerminal(), checkEnv());
  return checks;
}

const MARKS: Record<Status, [string, string, string]> = {
  // [UTF-8, ASCII, colour]
  ok: ["✓", "ok", "\x1b[32m"],
  warn: ["!", "!!", "\x1b[33m"],
  fail: ["✗", "XX", "\x1b[31m"],
  skip: ["-", "--", "\x1b[2m"],
};

export function formatChecks(checks: Check[], opts: { utf8: boolean; color: boolean }): string {
  const width = Math.max(...checks.map((c) => c.name.length));
  return checks
    .map((c) => {
      const [u, a, col] = MARKS[c.status];
      const mark = opts.utf8 ? u : a.padEnd(2);
      const shown = opts.color ? `${col}${mark}\x1b[0m` : mark;
      const fix = c.fix ? ` ${opts.utf8 ? "→" : "->"} fix: ${c.fix}` : "";
      return `${shown} ${c.name.padEnd(width)}  ${c.detail}${fix}\n`;
    })
    .join("");
}

export async function doctorCommand(a: DoctorArgs): Promise<void> {
  const checks = await runDoctor(a);
  const failed = checks.filter((c) => c.status === "fail").length;
  if (a.json) printJson({ ok: failed === 0, checks });
  else {
    process.stdout.write(
      formatChecks(checks, { utf8: isUtf8(), color: colorEnabled(process.env, process.stdout) }),
    );
    if (failed) process.stderr.write(`evx doctor: ${failed} check${failed === 1 ? "" : "s"} failed\n`);
  }
  if (failed) throw new ExitError(1);
}
