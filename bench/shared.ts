/**
 * Issue #23's measurements before designing "one cache, many processes": what a reader pays to open
 * the cache read-only for each query, against a warm instance, and what a Unix-socket round trip costs.
 *
 *   node --import tsx bench/shared.ts CACHE.duckdb [runs]
 *
 * Prints medians (ms) as JSON. The machine is shared, so every figure is the median of `runs` (default 9).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createConnection, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { DuckDBInstance } from "@duckdb/node-api";
import { Cache } from "../src/cache/db.js";
import { Executor } from "../src/queries/executor.js";
import type { TrendSpec } from "../src/queries/spec.js";

const cachePath = resolve(process.argv[2] ?? "");
const runs = Number(process.argv[3] ?? 9);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return Math.round(s[Math.floor(s.length / 2)] * 10) / 10;
};
const time = async (fn: () => Promise<unknown> | unknown): Promise<number> => {
  const t = performance.now();
  await fn();
  return performance.now() - t;
};

const probe = await Cache.open(cachePath, { readOnly: true });
const ex0 = new Executor(probe);
const range = await ex0.resolveRange({});
ex0.close();
probe.close();
const trend: TrendSpec = {
  kind: "trend",
  events: [{ event: "button_clicked", filters: [] }],
  measure: { kind: "users" },
  interval: "day",
  range,
  filters: [],
  limit: 10,
};

const out: Record<string, number> = {};

// (a) a whole headless process: `evx trend … --json`, which opens the cache read-only.
const bin = resolve(import.meta.dirname, "../bin/evx");
const cli: number[] = [];
const cliArgs = ["trend", "button_clicked", "--measure", "users", "--cache", cachePath, "--json"];
for (let i = 0; i < runs; i++)
  cli.push(
    await time(() => {
      const r = spawnSync(process.execPath, [bin, ...cliArgs], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(r.stderr);
    }),
  );
out.cliTrendJson = median(cli);

// The same process' floor without a cache: `evx --version`.
const ver: number[] = [];
for (let i = 0; i < runs; i++) ver.push(await time(() => spawnSync(process.execPath, [bin, "--version"])));
out.cliVersion = median(ver);

// (a) in-process: open read-only + query, each time (cold instance), against one warm instance.
const cold: number[] = [];
for (let i = 0; i < runs; i++)
  cold.push(
    await time(async () => {
      const c = await Cache.open(cachePath, { readOnly: true });
      const ex = new Executor(c);
      await ex.run(trend);
      ex.close();
      c.close();
    }),
  );
out.openReadOnlyPlusTrend = median(cold);
const warmCache = await Cache.open(cachePath, { readOnly: true });
const warmEx = new Executor(warmCache);
await warmEx.run(trend);
const warm: number[] = [];
for (let i = 0; i < runs; i++) warm.push(await time(() => warmEx.run(trend)));
out.warmTrend = median(warm);

// (b) DuckDBInstance read-only open + close, nothing else.
const oc: number[] = [];
for (let i = 0; i < runs; i++)
  oc.push(
    await time(async () => {
      const inst = await DuckDBInstance.create(cachePath, { access_mode: "READ_ONLY" });
      const conn = await inst.connect();
      conn.closeSync();
      inst.closeSync();
    }),
  );
out.instanceOpenClose = median(oc);

// (c) a Unix-socket round trip: a spec out, the trend's JSON back (the warm instance answers).
const dir = mkdtempSync(join(tmpdir(), "evx-sock-"));
const sock = join(dir, "s");
const payload = JSON.stringify(await warmEx.run(trend), (_k, v) => (typeof v === "bigint" ? Number(v) : v));
const server = createServer((s) => {
  let buf = "";
  s.setEncoding("utf8").on("data", (d: string) => {
    buf += d;
    if (buf.endsWith("\n")) {
      s.write(`${payload}\n`);
      buf = "";
    }
  });
});
await new Promise<void>((r) => server.listen(sock, r));
const rt: number[] = [];
const request = JSON.stringify({ spec: trend, token: "x".repeat(64) });
for (let i = 0; i < runs * 3; i++)
  rt.push(
    await time(
      () =>
        new Promise<void>((res, rej) => {
          const c = createConnection(sock);
          let got = "";
          c.setEncoding("utf8");
          c.on("connect", () => c.write(`${request}\n`));
          c.on("data", (d: string) => {
            got += d;
            if (got.endsWith("\n")) {
              c.end();
              res();
            }
          });
          c.on("error", rej);
        }),
    ),
  );
out.socketRoundTrip = median(rt);
out.socketPayloadBytes = payload.length;
server.close();
rmSync(dir, { recursive: true, force: true });
warmEx.close();
warmCache.close();
// The same command in shared mode, its host up (the first run of a block starts it): the statements
// run in the host's warm instance. Blocks alternate with blocks of the plain command (a live host holds
// the file, so the plain command runs once it has exited, at its idle time), so both see the same load.
const sharedEnv = { ...process.env, EVX_SHARED: "1", EVX_HOST_IDLE_MS: "1000" };
const run = (env: NodeJS.ProcessEnv) => {
  const r = spawnSync(process.execPath, [bin, ...cliArgs], { encoding: "utf8", env });
  if (r.status !== 0) throw new Error(r.stderr);
};
const shared: number[] = [];
const plainCli: number[] = [];
for (let block = 0; block < 3; block++) {
  for (let i = 0; i < Math.ceil(runs / 3); i++) plainCli.push(await time(() => run(process.env)));
  run(sharedEnv);
  for (let i = 0; i < Math.ceil(runs / 3); i++) shared.push(await time(() => run(sharedEnv)));
  await new Promise((r) => setTimeout(r, 2500)); // the host's idle exit
}
out.cliTrendJsonInterleaved = median(plainCli);
out.cliTrendJsonShared = median(shared);
// In-process through a host (shared mode): the executor's statements over the socket.
{
  process.env.EVX_SHARED = "1";
  const rc = await Cache.open(cachePath, { readOnly: true });
  const rex = new Executor(rc);
  await rex.run(trend);
  const remote: number[] = [];
  for (let i = 0; i < runs; i++) remote.push(await time(() => rex.run(trend)));
  out.warmTrendViaHost = median(remote);
  rex.close();
  rc.close();
  delete process.env.EVX_SHARED;
}
out.runs = runs;
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
