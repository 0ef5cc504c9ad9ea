import { writeFileSync } from "node:fs";
import cliProgress from "cli-progress";
import prettyBytes from "pretty-bytes";
import { Cache } from "../cache/db.js";
import { parseMap } from "../cache/mapping.js";
import { cacheHome, ensurePrivateDir, lastUsedFile, resolveCachePath } from "../cache/paths.js";
import { setMeta } from "../cache/schema.js";
import { type SyncProgress, type SyncSummary, sync } from "../cache/sync.js";
import { fmtInt } from "../render/table.js";
import { openSource } from "../source/index.js";
import { isIsoDate, parseLayout } from "../source/layout.js";
import { EXIT, ExitError, UsageError } from "./errors.js";
import { printJson } from "./output.js";

export interface SyncArgs {
  source: string;
  from?: string;
  to?: string;
  cache?: string;
  json?: boolean;
  endpoint?: string;
  region?: string;
  profile?: string;
  signRequest?: boolean;
  concurrency?: number;
  layout?: string;
  map?: string;
}

export function checkDates(from?: string, to?: string): void {
  for (const [flag, v] of [
    ["--from", from],
    ["--to", to],
  ] as const)
    if (v !== undefined && !isIsoDate(v))
      throw new UsageError(`${flag} must be a date like 2023-06-01, got '${v}'`);
  if (from && to && from > to) throw new UsageError(`--from ${from} is after --to ${to}`);
}

export function rememberCache(path: string): void {
  try {
    ensurePrivateDir(cacheHome());
    writeFileSync(lastUsedFile(), `${path}\n`, { mode: 0o600 });
  } catch {
    // Remembering is a convenience; a read-only home must not fail the sync.
  }
}

export async function runSync(a: SyncArgs): Promise<SyncSummary> {
  checkDates(a.from, a.to);
  if (
    a.concurrency !== undefined &&
    !(Number.isInteger(a.concurrency) && a.concurrency >= 1 && a.concurrency <= 256)
  )
    throw new UsageError("--concurrency must be a whole number from 1 to 256");
  const layout = a.layout ? parseLayout(a.layout) : undefined;
  let map: ReturnType<typeof parseMap> | undefined;
  try {
    map = a.map ? parseMap(a.map) : undefined;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const source = openSource(a.source, {
    endpoint: a.endpoint,
    region: a.region,
    profile: a.profile,
    noSignRequest: a.signRequest === false,
  });
  const cachePath = resolveCachePath({ cache: a.cache, source: source.url })!;
  const cache = await Cache.open(cachePath, { create: true });
  rememberCache(cachePath);
  // Non-secret connection settings, so the TUI can sync again; credentials in an endpoint URL are dropped.
  await setMeta(
    cache,
    "source_options",
    JSON.stringify({
      endpoint: a.endpoint ? stripCredentials(a.endpoint) : undefined,
      region: a.region,
      profile: a.profile,
      noSignRequest: a.signRequest === false || undefined,
    }),
  );

  const ac = new AbortController();
  let interrupts = 0;
  const onSig = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write("\nevx: stopping after the current batch (Ctrl+C again to quit now)\n");
    ac.abort();
  };
  process.on("SIGINT", onSig);
  process.on("SIGTERM", onSig);

  const bar = !a.json && process.stderr.isTTY ? progressBar() : null;
  try {
    const summary = await sync(cache, source, {
      from: a.from,
      to: a.to,
      layout,
      map,
      concurrency: a.concurrency,
      signal: ac.signal,
      onProgress: bar?.update,
    });
    bar?.stop();
    if (a.json) {
      printJson({
        objects: summary.objects,
        bytes: summary.bytes,
        events: summary.events,
        rejected: summary.rejected,
        seconds: summary.seconds,
        ignored: summary.ignored,
        failures: summary.failures,
        cache: cachePath,
      });
    } else printSummary(summary, cachePath);
    if (summary.objects.failed > 0) throw new ExitError(EXIT.partial);
    return summary;
  } catch (e) {
    bar?.stop();
    if (ac.signal.aborted && !(e instanceof ExitError)) {
      process.stderr.write("evx: sync interrupted; the cache is consistent and the next sync resumes\n");
      throw new ExitError(EXIT.interrupted);
    }
    throw e;
  } finally {
    process.off("SIGINT", onSig);
    process.off("SIGTERM", onSig);
    cache.close();
  }
}

function printSummary(s: SyncSummary, cachePath: string): void {
  const o = s.objects;
  const lines = [
    `synced ${fmtInt(o.downloaded)} of ${fmtInt(o.listed)} objects (${prettyBytes(s.bytes)}) in ${s.seconds}s: ${fmtInt(s.events)} events, ${fmtInt(s.rejected)} rejected lines`,
    `  unchanged ${fmtInt(o.unchanged)}, removed ${fmtInt(o.removed)}, failed ${fmtInt(o.failed)}; layout ${s.layout}${s.ignored ? `; ignored ${fmtInt(s.ignored)} non-data files` : ""}${s.undated ? `; ${fmtInt(s.undated)} files outside the layout` : ""}`,
    `  cache ${cachePath}`,
  ];
  if (s.rejected) lines.push("  see rejected lines with `evx rejects`");
  for (const f of s.failures.slice(0, 10)) lines.push(`  failed: ${f.error}`);
  if (s.failures.length > 10) lines.push(`  … and ${s.failures.length - 10} more failures (evx status)`);
  process.stderr.write(`${lines.join("\n")}\n`);
}

function progressBar() {
  const bar = new cliProgress.SingleBar(
    {
      format: "{phase} |{bar}| {percentage}% {objects} objects {bytes} {rate} ev/s ETA {eta_formatted}",
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stream: process.stderr,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const t0 = performance.now();
  let started = false;
  return {
    update(p: SyncProgress) {
      const payload = {
        phase: p.phase.padEnd(8),
        objects: `${fmtInt(p.ingested + p.failed)}/${fmtInt(p.toFetch)}`,
        bytes: `${prettyBytes(p.bytesIngested)}/${prettyBytes(p.bytesTotal)}`,
        rate: fmtInt(p.events / Math.max(0.001, (performance.now() - t0) / 1000)),
      };
      if (!started) {
        bar.start(Math.max(1, p.bytesTotal), 0, payload);
        started = true;
      }
      bar.setTotal(Math.max(1, p.bytesTotal));
      bar.update(p.bytesIngested, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** `https://user:pass@host/` → `https://host/`. */
export function stripCredentials(url: string): string {
  try {
    const u = new URL(url);
    u.username = "";
    u.password = "";
    return u.toString();
  } catch {
    return url.replace(/\/\/[^/@]*@/, "//");
  }
}
