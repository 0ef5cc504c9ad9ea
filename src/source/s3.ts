/**
 * S3 source: lists and downloads objects under `s3://bucket/prefix` with the AWS SDK v3.
 *
 * - Credentials: the SDK default chain (env, shared config/profiles, SSO, container/instance roles);
 *   `profile` → `fromNodeProviderChain({ profile })`; `noSignRequest` → unsigned (anonymous) requests.
 * - Requests are retried by the SDK's standard retry strategy (exponential backoff + jitter);
 *   a response *body* that breaks off, stalls or comes up short is retried here.
 * - Every failure surfaces as a one-line, secret-free `SourceError`.
 */
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  GetObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  S3Client,
  type S3ClientConfig,
  S3ServiceException,
} from "@aws-sdk/client-s3";
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { type ListedObject, type Source, SourceError } from "./types.js";

export interface S3SourceOptions {
  /** Custom S3-compatible endpoint (MinIO, R2, s3rver…); switches to path-style addressing. */
  endpoint?: string;
  region?: string;
  /** Shared-config profile for credentials and region. */
  profile?: string;
  /** Anonymous requests (public buckets): no credentials are looked up and nothing is signed. */
  noSignRequest?: boolean;
  /** Connect / time-to-first-byte / socket-idle timeout per request; default 30 s. */
  requestTimeoutMs?: number;
  /** Attempts per request, and per object body, including the first; default 4. */
  maxAttempts?: number;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const DEFAULT_MAX_ATTEMPTS = 4;
const DEFAULT_REGION = "us-east-1";

/** Replaces the `user:pass@` part of any URL in `u` with `***@`. */
export function redactUrl(u: string): string {
  return u.replace(/\/\/[^/?#\s]*@/g, "//***@");
}

/** Parses `s3://bucket[/prefix]`; the prefix, when non-empty, is normalised to end with `/`. */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([^/?#]+)\/?(.*)$/i.exec(url.trim());
  if (!m || m[1].includes("@")) {
    throw new SourceError(
      `not an s3:// url: ${redactUrl(url)} (expected s3://bucket/prefix)`,
      true,
      "InvalidUrl",
    );
  }
  let prefix = m[2];
  if (prefix && !prefix.endsWith("/")) prefix += "/";
  return { bucket: m[1], prefix };
}

/** A positive whole number from the environment (EVX_S3_TIMEOUT_MS, EVX_S3_MAX_ATTEMPTS), else undefined. */
function envInt(name: string): number | undefined {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function s3Source(url: string, given: S3SourceOptions = {}): Source {
  const { bucket, prefix } = parseS3Url(url);
  // Env overrides for the CLI (and fault tests): the sync path has no flags for these.
  const opts: S3SourceOptions = {
    ...given,
    requestTimeoutMs: given.requestTimeoutMs ?? envInt("EVX_S3_TIMEOUT_MS"),
    maxAttempts: given.maxAttempts ?? envInt("EVX_S3_MAX_ATTEMPTS"),
  };
  const shownUrl = `s3://${bucket}${prefix ? `/${prefix}` : ""}`;
  const maxAttempts = Math.max(1, opts.maxAttempts ?? DEFAULT_MAX_ATTEMPTS);
  const endpointLabel = opts.endpoint ? redactUrl(opts.endpoint) : "S3";
  let client: S3Client | undefined;
  const getClient = () => {
    client ??= new S3Client(clientConfig(opts, maxAttempts));
    return client;
  };

  const fail = (err: unknown, where: "list" | "object", key?: string): SourceError =>
    toSourceError(err, {
      what: where === "list" ? shownUrl : `s3://${bucket}/${prefix}${key ?? ""}`,
      bucketLabel: `s3://${bucket}`,
      onList: where === "list",
      endpointLabel,
      timeoutMs: opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS,
      noSignRequest: !!opts.noSignRequest,
    });

  return {
    kind: "s3",
    url: shownUrl,

    async *list(signal?: AbortSignal): AsyncIterable<ListedObject> {
      let token: string | undefined;
      do {
        signal?.throwIfAborted();
        let page: ListObjectsV2CommandOutput;
        try {
          page = await getClient().send(
            new ListObjectsV2Command({
              Bucket: bucket,
              Prefix: prefix || undefined,
              ContinuationToken: token,
            }),
            { abortSignal: signal },
          );
        } catch (err) {
          if (isAbort(err, signal)) throw abortError(signal);
          throw fail(err, "list");
        }
        for (const o of page.Contents ?? []) {
          const key = o.Key;
          if (!key || key.endsWith("/") || !key.startsWith(prefix)) continue;
          yield { key: key.slice(prefix.length), size: o.Size ?? 0, version: stripQuotes(o.ETag ?? "") };
        }
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
    },

    async download(key: string, dest: string, signal?: AbortSignal): Promise<void> {
      const fullKey = prefix + key;
      for (let attempt = 1; ; attempt++) {
        signal?.throwIfAborted();
        let body: Readable;
        let expected: number | undefined;
        try {
          const res = await getClient().send(new GetObjectCommand({ Bucket: bucket, Key: fullKey }), {
            abortSignal: signal,
          });
          if (!res.Body) throw new Error("GetObject returned no body");
          body = res.Body as Readable;
          expected = res.ContentLength;
        } catch (err) {
          await rm(dest, { force: true });
          if (isAbort(err, signal)) throw abortError(signal);
          // The SDK has already retried the request itself.
          throw fail(err, "object", key);
        }
        try {
          await writeBody(body, dest, expected, signal);
          return;
        } catch (err) {
          body.destroy();
          await rm(dest, { force: true });
          if (isAbort(err, signal)) throw abortError(signal);
          if (!isRetryableBodyError(err)) throw fail(err, "object", key);
          if (attempt < maxAttempts) {
            await sleep(backoffMs(attempt), signal);
            continue;
          }
          const code = err instanceof ShortBodyError ? err.code : bodyErrorCode(err);
          throw new SourceError(
            `s3://${bucket}/${fullKey}: download broke off ${attempt === 1 ? "" : `on all ${attempt} attempts `}(${code})`,
            false,
            code,
          );
        }
      }
    },
  };
}

// ---------------------------------------------------------------------------------------------
// client configuration

function clientConfig(opts: S3SourceOptions, maxAttempts: number): S3ClientConfig {
  const timeout = opts.requestTimeoutMs ?? DEFAULT_TIMEOUT_MS;
  const config: S3ClientConfig = {
    region: opts.region ?? regionProvider(opts.profile),
    maxAttempts,
    retryMode: "standard",
    requestHandler: new NodeHttpHandler({
      connectionTimeout: timeout,
      // Time to the response headers; an error (and so a retry) rather than a logged warning.
      requestTimeout: timeout,
      throwOnRequestTimeout: true,
      // Idle socket, which also covers a body that stalls mid-stream.
      socketTimeout: timeout,
    }),
  };
  if (opts.profile) config.profile = opts.profile;
  if (opts.endpoint) {
    config.endpoint = opts.endpoint;
    config.forcePathStyle = true;
    config.requestChecksumCalculation = "WHEN_REQUIRED";
    config.responseChecksumValidation = "WHEN_REQUIRED";
  } else {
    // A bucket in another region than the configured one: follow S3's redirect instead of failing.
    config.followRegionRedirects = true;
  }
  if (opts.noSignRequest) {
    // The SDK's own unauthenticated scheme (used by e.g. STS AssumeRoleWithWebIdentity): no identity
    // is resolved (so the credential chain never runs) and the request goes out unsigned.
    config.httpAuthSchemes = [
      {
        schemeId: "smithy.api#noAuth",
        identityProvider: () => async () => ({}),
        signer: { sign: async (request) => request },
      },
    ];
    config.httpAuthSchemeProvider = () => [{ schemeId: "smithy.api#noAuth" }];
  } else if (opts.profile) {
    config.credentials = fromNodeProviderChain({ profile: opts.profile });
  }
  return config;
}

/** opts.region is absent: AWS_REGION / the profile's `region`, else us-east-1 (never "Region is missing"). */
function regionProvider(profile: string | undefined): () => Promise<string> {
  let region: Promise<string> | undefined;
  return () => {
    region ??= (async () => {
      const probe = new S3Client(profile ? { profile } : {});
      try {
        return (await probe.config.region()) || DEFAULT_REGION;
      } catch {
        return DEFAULT_REGION;
      } finally {
        probe.destroy();
      }
    })();
    return region;
  };
}

// ---------------------------------------------------------------------------------------------
// download body

class ShortBodyError extends Error {
  readonly code = "ShortBody";
  constructor(got: number, expected: number) {
    super(`body ended after ${got} of ${expected} bytes`);
    this.name = "ShortBodyError";
  }
}

async function writeBody(
  body: Readable,
  dest: string,
  expected: number | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  const out = createWriteStream(dest, { mode: 0o600 });
  await pipeline(body, out, { signal });
  if (expected !== undefined && out.bytesWritten !== expected) {
    throw new ShortBodyError(out.bytesWritten, expected);
  }
}

const LOCAL_FS_CODES = new Set([
  "ENOSPC",
  "EDQUOT",
  "EACCES",
  "EPERM",
  "EROFS",
  "EISDIR",
  "ENOTDIR",
  "ENOENT",
  "EMFILE",
  "ENFILE",
  "EEXIST",
]);

/** A failure while streaming the body is transient unless it is about the local file. */
function isRetryableBodyError(err: unknown): boolean {
  const e = err as { code?: string; syscall?: string; name?: string };
  if (e?.name === "AbortError") return false;
  if (e?.syscall && ["open", "write", "close", "fsync", "mkdir", "rename"].includes(e.syscall)) return false;
  if (e?.code && LOCAL_FS_CODES.has(e.code)) return false;
  return true;
}

function bodyErrorCode(err: unknown): string {
  const e = err as { name?: string; code?: string };
  if (e?.name === "TimeoutError") return "TimeoutError";
  return networkCode(err) ?? e?.name ?? "Error";
}

function backoffMs(attempt: number): number {
  // Full jitter on 250 ms · 2^(n-1), capped at 10 s.
  return Math.round(Math.random() * Math.min(10_000, 250 * 2 ** (attempt - 1)));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(abortError(signal));
    const onAbort = () => {
      clearTimeout(t);
      reject(abortError(signal));
    };
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function isAbort(err: unknown, signal: AbortSignal | undefined): boolean {
  return !!signal?.aborted || (err as { name?: string })?.name === "AbortError";
}

function abortError(signal: AbortSignal | undefined): Error {
  const reason = signal?.reason;
  if (reason instanceof Error) return reason;
  const e = new Error("the operation was aborted");
  e.name = "AbortError";
  return e;
}

function stripQuotes(etag: string): string {
  return etag.replace(/^W\//, "").replace(/^"+|"+$/g, "");
}

// ---------------------------------------------------------------------------------------------
// errors

const CREDENTIAL_HINT = " — check --profile / credentials";

interface ErrorContext {
  /** What failed: the source url (list) or the object url. */
  what: string;
  bucketLabel: string;
  onList: boolean;
  endpointLabel: string;
  timeoutMs: number;
  noSignRequest: boolean;
}

const UNREACHABLE_CODES = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "CERT_HAS_EXPIRED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID",
  "EPROTO",
]);

function networkCode(err: unknown, depth = 0): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[]; cause?: unknown };
  if (!e || depth > 5) return undefined;
  if (typeof e.code === "string" && e.code) return e.code;
  for (const sub of Array.isArray(e.errors) ? e.errors : []) {
    const c = networkCode(sub, depth + 1);
    if (c) return c;
  }
  return e.cause ? networkCode(e.cause, depth + 1) : undefined;
}

/** One line, no signatures/credentials/URLs with user info, bounded length. */
function scrub(message: string): string {
  return redactUrl(message)
    .replace(/\s+/g, " ")
    .replace(
      /(Signature|Credential|X-Amz-Security-Token|X-Amz-Credential|X-Amz-Signature|AWSAccessKeyId)=[^\s,&;]*/gi,
      "$1=***",
    )
    .replace(/\b(AKIA|ASIA)[A-Z0-9]{12,}\b/g, "***")
    .trim()
    .slice(0, 200);
}

function toSourceError(err: unknown, ctx: ErrorContext): SourceError {
  const e = err as {
    name?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
    $fault?: string;
  };
  const name = e?.name ?? "Error";
  const status = e?.$metadata?.httpStatusCode;
  const netCode = err instanceof S3ServiceException ? undefined : networkCode(err);
  const mk = (msg: string, fatal: boolean, code: string) => new SourceError(msg, fatal, code);

  if (name === "CredentialsProviderError" || /Could not load credentials/i.test(e?.message ?? "")) {
    return mk(
      `${ctx.bucketLabel}: no usable AWS credentials (${scrub(e?.message ?? name).slice(0, 120)})${CREDENTIAL_HINT}, or --no-sign-request for a public bucket`,
      true,
      "CredentialsProviderError",
    );
  }
  if (netCode && UNREACHABLE_CODES.has(netCode)) {
    return mk(`${ctx.bucketLabel}: cannot reach ${ctx.endpointLabel} (${netCode})`, true, netCode);
  }
  if (name === "TimeoutError" || netCode === "ETIMEDOUT") {
    return mk(
      `${ctx.what}: timed out after ${ctx.timeoutMs} ms waiting for ${ctx.endpointLabel} (TimeoutError)`,
      ctx.onList,
      "TimeoutError",
    );
  }
  switch (name) {
    case "NoSuchBucket":
      return mk(`${ctx.bucketLabel}: bucket does not exist (NoSuchBucket)`, true, name);
    case "InvalidAccessKeyId":
      return mk(
        `${ctx.bucketLabel}: access key not recognised (InvalidAccessKeyId)${CREDENTIAL_HINT}`,
        true,
        name,
      );
    case "SignatureDoesNotMatch":
      return mk(
        `${ctx.bucketLabel}: request signature rejected (SignatureDoesNotMatch)${CREDENTIAL_HINT}`,
        true,
        name,
      );
    case "ExpiredToken":
    case "TokenRefreshRequired":
    case "InvalidToken":
      return mk(
        `${ctx.bucketLabel}: session credentials expired or invalid (${name})${CREDENTIAL_HINT}`,
        true,
        name,
      );
    case "AllAccessDisabled":
    case "AccountProblem":
      return mk(`${ctx.bucketLabel}: access to the bucket is disabled (${name})`, true, name);
    case "PermanentRedirect":
    case "AuthorizationHeaderMalformed":
    case "IllegalLocationConstraintException":
      return mk(`${ctx.bucketLabel}: bucket is in another region (${name}) — set --region`, true, name);
    case "AccessDenied":
    case "Forbidden":
      return ctx.onList
        ? mk(
            `${ctx.bucketLabel}: access denied (AccessDenied)${ctx.noSignRequest ? " — the bucket does not allow anonymous listing; drop --no-sign-request" : CREDENTIAL_HINT}`,
            true,
            "AccessDenied",
          )
        : mk(`${ctx.what}: access denied (AccessDenied)`, false, "AccessDenied");
    case "NoSuchKey":
    case "NotFound":
      return mk(`${ctx.what}: object not found (NoSuchKey)`, false, "NoSuchKey");
  }
  if (status === 403 && ctx.onList) {
    return mk(`${ctx.bucketLabel}: access denied (HTTP 403)${CREDENTIAL_HINT}`, true, name);
  }
  if (status === 404 && ctx.onList) {
    return mk(`${ctx.bucketLabel}: not found (HTTP 404) — check the bucket name and --endpoint`, true, name);
  }
  const code = netCode ?? name;
  const detail = scrub(e?.message ?? "");
  const statusPart = status ? `HTTP ${status}, ` : "";
  const text = detail && detail !== code ? `: ${detail}` : "";
  // A listing that fails after retries leaves the whole source unusable; one object does not.
  return mk(
    `${ctx.what}: ${ctx.onList ? "listing" : "download"} failed (${statusPart}${code})${text}`,
    ctx.onList,
    code,
  );
}
