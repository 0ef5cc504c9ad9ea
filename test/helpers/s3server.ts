/**
 * A real S3-compatible server (s3rver) on loopback for tests.
 *
 * s3rver runs in a child process started with `node --openssl-legacy-provider`: its ListObjectsV2
 * continuation tokens are DES-encrypted, which Node 20's default OpenSSL 3 refuses (the server
 * answers InternalError as soon as a listing needs a second page, i.e. past 1000 keys).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join, relative, sep } from "node:path";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  S3Client,
  type S3ClientConfig,
} from "@aws-sdk/client-s3";
import pLimit from "p-limit";

export interface S3TestServer {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  port: number;
  /** s3rver's data directory. */
  dir: string;
  /** Kills the server and removes its temp directory (idempotent). */
  stop(): Promise<void>;
  putObject(bucket: string, key: string, body: string | Buffer): Promise<void>;
  deleteObject(bucket: string, key: string): Promise<void>;
  createBucket(bucket: string): Promise<void>;
  /** The client used by the helpers above (credentials S3RVER/S3RVER). */
  client: S3Client;
}

/** Client options for talking to s3rver: its built-in account, path-style, no optional checksums. */
export function s3rverClientConfig(endpoint: string): S3ClientConfig {
  return {
    endpoint,
    region: "us-east-1",
    credentials: { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" },
    forcePathStyle: true,
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
  };
}

// Child script (CommonJS, plain JS). argv: s3rver module path, data dir, temp dir to remove when orphaned
// (it holds this script, and the data unless the caller chose `dir`).
const CHILD_SCRIPT = `"use strict";
const S3rver = require(process.argv[2]);
const fs = require("node:fs");
const dataDir = process.argv[3];
const ownedDir = process.argv[4];
const server = new S3rver({ address: "127.0.0.1", port: 0, silent: true, directory: dataDir });
let exiting = false;
const shutdown = () => {
  if (exiting) return;
  exiting = true;
  // Orphaned (parent died or disconnected): clean up after ourselves, then exit.
  try { server.httpServer && server.httpServer.closeAllConnections && server.httpServer.closeAllConnections(); } catch {}
  if (ownedDir) { try { fs.rmSync(ownedDir, { recursive: true, force: true }); } catch {} }
  process.exit(0);
};
process.on("disconnect", shutdown);
process.on("SIGTERM", shutdown);
server.run().then(
  (addr) => process.send({ type: "ready", port: addr.port }),
  (err) => { process.send({ type: "error", message: String(err && err.message || err) }); process.exit(1); },
);
`;

// The SDK's Node 20 end-of-support notice would otherwise be printed by every test process using this helper.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const children = new Set<ChildProcess>();
const ownedDirs = new Set<string>();
let exitHookInstalled = false;
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Synchronous last resort for a test process that ends without calling stop().
  process.on("exit", () => {
    for (const c of children) {
      try {
        c.kill("SIGKILL");
      } catch {}
    }
    for (const d of ownedDirs) {
      try {
        rmSync(d, { recursive: true, force: true });
      } catch {}
    }
  });
}

export async function startS3Server(opts: { dir?: string } = {}): Promise<S3TestServer> {
  installExitHook();
  const tmp = mkdtempSync(join(tmpdir(), "evx-s3rver-"));
  ownedDirs.add(tmp);
  const dataDir = opts.dir ?? join(tmp, "data");
  const script = join(tmp, "s3rver-child.cjs");
  writeFileSync(script, CHILD_SCRIPT);
  const s3rverPath = createRequire(import.meta.url).resolve("s3rver");

  const child = spawn(process.execPath, ["--openssl-legacy-provider", script, s3rverPath, dataDir, tmp], {
    stdio: ["ignore", "ignore", "pipe", "ipc"],
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  children.add(child);
  let stderr = "";
  child.stderr?.setEncoding("utf8");
  child.stderr?.on("data", (d: string) => {
    if (stderr.length < 4000) stderr += d;
  });

  const port = await new Promise<number>((resolve, reject) => {
    let settled = false;
    const timer = setTimeout(() => fail(new Error("s3rver did not start within 15 s")), 15_000);
    function fail(err: Error) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      child.kill("SIGKILL");
      children.delete(child);
      rmSync(tmp, { recursive: true, force: true });
      ownedDirs.delete(tmp);
      reject(
        new Error(`${err.message}${stderr ? `: ${stderr.trim().split("\n").slice(-5).join(" | ")}` : ""}`),
      );
    }
    child.on("message", (m: { type?: string; port?: number; message?: string }) => {
      if (settled) return;
      if (m?.type === "ready" && typeof m.port === "number") {
        settled = true;
        clearTimeout(timer);
        resolve(m.port);
      } else if (m?.type === "error") fail(new Error(`s3rver failed to start (${m.message})`));
    });
    child.once("exit", (code, signal) => fail(new Error(`s3rver exited early (${signal ?? code})`)));
    child.once("error", (err) => fail(err));
  });

  // Don't let a forgotten stop() keep the test process alive; the exit hook kills the child.
  child.unref();
  child.channel?.unref();
  (child.stderr as unknown as { unref?: () => void } | null)?.unref?.();

  const endpoint = `http://127.0.0.1:${port}`;
  const client = new S3Client(s3rverClientConfig(endpoint));
  let stopped: Promise<void> | undefined;

  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      client.destroy();
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once("exit", () => r()));
        child.ref(); // keep this process alive until the exit event arrives
        child.kill("SIGKILL");
        await exited;
      }
      children.delete(child);
      rmSync(tmp, { recursive: true, force: true });
      ownedDirs.delete(tmp);
    })();
    return stopped;
  };

  return {
    endpoint,
    port,
    dir: dataDir,
    client,
    stop,
    async putObject(bucket, key, body) {
      const ContentLength = typeof body === "string" ? Buffer.byteLength(body) : body.length;
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentLength }));
    },
    async deleteObject(bucket, key) {
      await client.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    },
    async createBucket(bucket) {
      await client.send(new CreateBucketCommand({ Bucket: bucket }));
    },
  };
}

/** Uploads every file under `dir` to `bucket` (keys: `prefix` + relative path with `/`). Returns the keys. */
export async function uploadDir(
  server: Pick<S3TestServer, "putObject">,
  bucket: string,
  dir: string,
  prefix = "",
): Promise<string[]> {
  const files = (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
  const limit = pLimit(16);
  const keys = files.map((f) => prefix + relative(dir, f).split(sep).join("/"));
  await Promise.all(
    files.map((f, i) => limit(async () => server.putObject(bucket, keys[i], await readFile(f)))),
  );
  return keys.sort();
}
