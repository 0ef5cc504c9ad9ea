/**
 * A fault-injecting HTTP proxy on loopback in front of an S3 test server (s3rver).
 *
 * `fault(req)` decides what happens to each request; `req.kind` is "list" (ListObjectsV2), "get"
 * (GetObject), or "other"; `req.key` is the decoded object key of a GetObject; `req.n` counts the
 * requests of that kind (1-based) and `req.nKey` the GetObjects of that key.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

export type Fault =
  | "pass"
  /** Half the body, then the socket is destroyed (connection reset mid-body). */
  | "cut"
  /** Half the body, then nothing: the client's socket timeout must fire. */
  | "stall"
  /** No response at all. */
  | "hang"
  /** 503 SlowDown */
  | "503"
  /** 500 InternalError */
  | "500"
  /** 403 AccessDenied */
  | "403"
  /** 404 NoSuchKey */
  | "nokey"
  /** 404 NoSuchBucket */
  | "nobucket"
  /** A complete, well-formed response whose body is cut to half (Content-Length matches): a truncated file. */
  | "truncate";

export interface ProxiedRequest {
  kind: "list" | "get" | "other";
  key?: string;
  n: number;
  nKey: number;
}

export interface FaultProxy {
  endpoint: string;
  /** Requests seen so far, by kind. */
  count(kind: "list" | "get"): number;
  /** GetObject requests seen for `key`. */
  countKey(key: string): number;
  close(): Promise<void>;
}

const ERRORS: Record<string, [number, string, string]> = {
  "503": [503, "SlowDown", "Reduce your request rate."],
  "500": [500, "InternalError", "We encountered an internal error. Please try again."],
  "403": [403, "AccessDenied", "Access Denied"],
  nokey: [404, "NoSuchKey", "The specified key does not exist."],
  nobucket: [404, "NoSuchBucket", "The specified bucket does not exist"],
};

export async function startFaultProxy(
  target: string,
  /** May return a promise: the request waits for it (e.g. to change the server's state first). */
  fault: (req: ProxiedRequest) => Fault | Promise<Fault>,
): Promise<FaultProxy> {
  const counts = { list: 0, get: 0, other: 0 };
  const perKey = new Map<string, number>();
  const srv = http.createServer((req, res) => {
    const url = req.url ?? "";
    const isList = req.method === "GET" && /[?&]list-type=2/.test(url);
    const m = /^\/[^/?]+\/([^?]+)/.exec(url);
    const isGet = req.method === "GET" && !isList && !!m;
    const kind = isList ? "list" : isGet ? "get" : "other";
    const key = isGet ? decodeURIComponent(m![1]) : undefined;
    counts[kind]++;
    if (key !== undefined) perKey.set(key, (perKey.get(key) ?? 0) + 1);
    const decided = fault({ kind, key, n: counts[kind], nKey: key ? perKey.get(key)! : 0 });
    const handle = (mode: Fault) => respond(req, res, url, mode);
    if (typeof decided === "string") handle(decided);
    else decided.then(handle, () => res.destroy());
  });
  const respond = (req: http.IncomingMessage, res: http.ServerResponse, url: string, mode: Fault) => {
    if (mode === "hang") return;
    const err = ERRORS[mode];
    if (err) {
      const [status, code, message] = err;
      res.writeHead(status, { "content-type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>FAULT</RequestId></Error>`,
      );
      return;
    }
    const up = http.request(`${target}${url}`, { method: req.method, headers: req.headers }, (ur) => {
      if (mode === "pass") {
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        ur.pipe(res);
        return;
      }
      const chunks: Buffer[] = [];
      ur.on("data", (c: Buffer) => chunks.push(c));
      ur.on("end", () => {
        const all = Buffer.concat(chunks);
        const half = all.subarray(0, Math.floor(all.length / 2));
        if (mode === "truncate") {
          const headers = { ...ur.headers, "content-length": String(half.length) };
          delete headers.etag;
          res.writeHead(ur.statusCode ?? 502, headers);
          res.end(half);
          return;
        }
        res.writeHead(ur.statusCode ?? 502, ur.headers);
        res.write(half);
        if (mode === "cut") setTimeout(() => res.socket?.destroy(), 20);
        // "stall": keep the connection open without sending the rest.
      });
    });
    up.on("error", () => res.destroy());
    req.pipe(up);
  };
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    count: (k) => counts[k],
    countKey: (k) => perKey.get(k) ?? 0,
    close: () =>
      new Promise<void>((r) => {
        srv.closeAllConnections();
        srv.close(() => r());
      }),
  };
}
