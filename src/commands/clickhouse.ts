/**
 * `evx clickhouse schema` and `evx clickhouse load`: set up and fill the ClickHouse table that
 * `--engine clickhouse` reads. The load has the server read S3 itself (src/queries/clickhouse/load.ts).
 */
import cliProgress from "cli-progress";
import prettyBytes from "pretty-bytes";
import { type LakeFormat, resolveFormat } from "../cache/mapping.js";
import { isPresetName, type PresetName, unknownPresetMessage } from "../cache/presets.js";
import { bookkeepingDdl } from "../queries/clickhouse/coverage.js";
import { ClickHouseExecutor, chLiteral } from "../queries/clickhouse/executor.js";
import {
  type LoadSummary,
  loadPartitions,
  type PartitionOutcome,
  planLoad,
  resolveRegion,
  resolveS3Access,
  shownParams,
} from "../queries/clickhouse/load.js";
import { formatPlanLines } from "../queries/clickhouse/loadformat.js";
import { eventsDdl } from "../queries/clickhouse/schema.js";
import { AbortError } from "../queries/executor.js";
import { cleanText } from "../render/clean.js";
import { fmtInt } from "../render/table.js";
import { openSource, sourceKind } from "../source/index.js";
import { type Layout, parseLayout } from "../source/layout.js";
import { checkDates } from "./dates.js";
import { EXIT, ExitError, UsageError } from "./errors.js";
import { printJson } from "./output.js";

export interface SchemaArgs {
  chTable?: string;
  chUrl?: string;
  cluster?: string;
  /** Create the database and tables on the server instead of printing the DDL. */
  apply?: boolean;
}

/**
 * `evx clickhouse schema`: the DDL of the events table (and of the load's bookkeeping), to run once;
 * with `--apply`, run on the server of `--ch-url` (idempotent).
 */
export async function runClickHouseSchema(a: SchemaArgs): Promise<void> {
  const table = a.chTable ?? "events";
  if (!table || /[\u0000-\u001f]/.test(table))
    throw new UsageError(`bad --ch-table ${JSON.stringify(table)}`);
  if (a.apply) {
    const { applySchema } = await import("../queries/clickhouse/apply.js");
    const { resolveTarget } = await import("../queries/clickhouse/client.js");
    const target = resolveTarget({ chUrl: a.chUrl, chTable: a.chTable });
    const r = await applySchema(target, { cluster: a.cluster });
    process.stdout.write(
      `${cleanText(`${target.label}.${target.table}`)}: database, events table and load bookkeeping in place${a.cluster ? ` on cluster ${cleanText(a.cluster)}` : ""} (${r.statements.length} statements, each IF NOT EXISTS)\n`,
    );
    if (r.indexAdded)
      process.stdout.write(
        "added the event_time index (evx_time) to the existing table; its parts are indexed in the background\n",
      );
    return;
  }
  const out = [
    `-- The events table of evx's ClickHouse engine${a.cluster ? ` on cluster ${a.cluster}: Replicated tables per shard, a Distributed table over them` : ""}.`,
    "-- `evx clickhouse schema --apply --ch-url …` runs it for you; or run it with clickhouse-client (--multiquery)",
    "-- in the database of --ch-url, then `evx clickhouse load`.",
    eventsDdl({ table, cluster: a.cluster }),
    "",
    "-- Bookkeeping of `evx clickhouse load` (the load creates these when missing): the source listing and",
    "-- each partition's loads, which coverage and the table's summary read.",
    ...bookkeepingDdl(table, a.cluster).map((s) => `${s};`),
    "",
  ];
  process.stdout.write(out.join("\n"));
}

export interface LoadArgs {
  source: string;
  from?: string;
  to?: string;
  chUrl?: string;
  chTable?: string;
  cluster?: string;
  endpoint?: string;
  /** The S3 endpoint as the server reaches it, when it differs from `endpoint`. */
  serverEndpoint?: string;
  /** Partitions loaded at once. */
  concurrency?: number;
  region?: string;
  profile?: string;
  signRequest?: boolean;
  /** A named collection on the server with the S3 credentials. */
  s3Collection?: string;
  /** `evx` (default: evx's AWS credentials, given to the server as query parameters) or `server`. */
  s3Credentials?: string;
  layout?: string;
  map?: string;
  /** A collector's export, read as `evx sync --preset` reads it. */
  preset?: string;
  /** The event id field(s); `none` turns off a preset's dedupe. */
  dedupe?: string;
  force?: boolean;
  json?: boolean;
  sql?: boolean;
}

/** The load's own request timeout: an INSERT … SELECT of a day answers only when it is done. */
function loadTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.EVX_CLICKHOUSE_LOAD_TIMEOUT_MS);
  return Number.isInteger(n) && n > 0 ? n : 3_600_000;
}

/** `evx clickhouse load SOURCE`: the server loads the selected partitions from S3 (see load.ts). */
export async function runClickHouseLoad(a: LoadArgs): Promise<LoadSummary | undefined> {
  checkDates(a.from, a.to);
  if (
    a.concurrency !== undefined &&
    !(Number.isInteger(a.concurrency) && a.concurrency >= 1 && a.concurrency <= 64)
  )
    throw new UsageError("--concurrency is a whole number of partitions from 1 to 64");
  if (a.serverEndpoint !== undefined && !/^https?:\/\/[^/\s]+/.test(a.serverEndpoint))
    throw new UsageError(
      "--server-endpoint is the S3 endpoint URL as the server reaches it: http(s)://host[:port]",
    );
  const s3Credentials = a.s3Credentials ?? "evx";
  if (s3Credentials !== "evx" && s3Credentials !== "server")
    throw new UsageError(
      "--s3-credentials is evx (give the server evx's AWS credentials) or server (its own)",
    );
  let layout: Layout | undefined;
  let format: LakeFormat;
  if (a.preset !== undefined && !isPresetName(a.preset)) throw new UsageError(unknownPresetMessage(a.preset));
  try {
    layout = a.layout ? parseLayout(a.layout) : undefined;
    // The same rules as `evx sync`: a preset, refined by --map, deduped on its id unless --dedupe says.
    const noDedupe = a.dedupe === "none";
    format = resolveFormat(
      { preset: a.preset as PresetName | undefined, map: a.map, dedupe: noDedupe ? undefined : a.dedupe },
      undefined,
    );
    if (noDedupe) delete format.dedupe;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (sourceKind(a.source) !== "s3")
    throw new UsageError(
      `the server reads the lake from S3: SOURCE must be s3://bucket/prefix (load a folder with \`evx sync\`), got ${JSON.stringify(a.source.replace(/\/\/[^/?#\s]*@/g, "//***@"))}`,
    );
  const source = openSource(a.source, {
    endpoint: a.endpoint,
    region: a.region,
    profile: a.profile,
    noSignRequest: a.signRequest === false,
  });
  const s3 = await resolveS3Access({
    noSignRequest: a.signRequest === false,
    collection: a.s3Collection,
    serverCredentials: s3Credentials === "server",
    profile: a.profile,
  });
  const region = a.endpoint ? a.region : await resolveRegion(a.region, a.profile);
  const secrets = s3.kind === "keys" ? [s3.accessKeyId, s3.secretAccessKey, s3.sessionToken ?? ""] : [];
  const ch = ClickHouseExecutor.open(
    { chUrl: a.chUrl, chTable: a.chTable },
    { secrets, timeoutMs: loadTimeoutMs() },
  );
  const options = {
    from: a.from,
    to: a.to,
    layout,
    map: format.map,
    format,
    cluster: a.cluster,
    s3,
    endpoint: a.endpoint,
    serverEndpoint: a.serverEndpoint,
    concurrency: a.concurrency,
    region,
    force: a.force,
  };

  if (a.sql) {
    try {
      const plans = await planLoad(ch, source, options);
      const lines: string[] = [
        `-- evx clickhouse load on ${ch.host}.${ch.target.table}: per partition, in order (S3 secrets shown as ***)`,
      ];
      for (const p of plans) {
        if ("format" in p) {
          lines.push(
            "",
            `-- partition ${p.date} (read by the lake format: rows, then the events${format.dedupe ? ` deduped on ${format.dedupe}` : ""})`,
            ...formatPlanLines(p, shownParams, (v) => cleanText(chLiteral(v))),
          );
          continue;
        }
        lines.push("", `-- partition ${p.date}`, ...p.create.map((s) => `${s};`), `${p.insert.sql};`);
        lines.push("-- parameters:");
        for (const [k, v] of Object.entries(shownParams(p.insert.params)))
          lines.push(`--   {${k}} = ${cleanText(chLiteral(v))}`);
        lines.push(
          `${p.counts};`,
          `${p.replace};  -- or, when no line was good: ${p.drop}`,
          ...p.cleanup.map((s) => `${s};`),
        );
      }
      process.stdout.write(`${ch.client.redact(lines.join("\n"))}\n`);
      return undefined;
    } finally {
      await ch.close();
    }
  }

  const ac = new AbortController();
  let interrupts = 0;
  const onSig = () => {
    interrupts++;
    if (interrupts > 1) process.exit(EXIT.interrupted);
    process.stderr.write(
      "\nevx: stopping the load (the partition being loaded keeps its previous data); Ctrl+C again to quit now\n",
    );
    ac.abort();
  };
  process.on("SIGINT", onSig);
  process.on("SIGTERM", onSig);
  const progress = loadProgress();
  try {
    const summary = await loadPartitions(ch, source, {
      ...options,
      signal: ac.signal,
      onProgress: a.json ? undefined : progress.update,
    });
    progress.stop();
    if (a.json) printJson(summaryJson(summary, ch));
    else printSummary(summary, ch);
    if (summary.partitions.failed > 0) throw new ExitError(EXIT.partial);
    return summary;
  } catch (e) {
    if (ac.signal.aborted && !(e instanceof ExitError)) {
      process.stderr.write("evx: load interrupted; loaded partitions stay, the next load goes on\n");
      throw new ExitError(EXIT.interrupted);
    }
    if (e instanceof AbortError) throw new ExitError(EXIT.interrupted);
    throw e;
  } finally {
    progress.stop();
    process.off("SIGINT", onSig);
    process.off("SIGTERM", onSig);
    await ch.close();
  }
}

/**
 * The load's progress on stderr: a bar of partitions on a terminal (failures still print their line),
 * one line per partition otherwise (logs, CI).
 */
function loadProgress(stream: NodeJS.WriteStream = process.stderr) {
  if (!stream.isTTY)
    return {
      update: (p: PartitionOutcome, i: number, n: number) => stream.write(`${progressLine(p, i, n)}\n`),
      stop: () => {},
    };
  const bar = new cliProgress.SingleBar(
    {
      format: "loading |{bar}| {value}/{total} partitions {events} events {last}",
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stream,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let events = 0;
  let stopped = false;
  return {
    update(p: PartitionOutcome, i: number, n: number) {
      if (stopped) return;
      events += p.status === "loaded" || p.status === "unchanged" ? p.events : 0;
      const fields = { events: fmtInt(events), last: cleanText(`${p.date} ${p.status}`) };
      if (!started) {
        bar.start(n, 0, fields);
        started = true;
      }
      if (p.status === "failed") {
        bar.stop();
        stream.write(`${cleanText(progressLine(p, i, n))}\n`);
        bar.start(n, i, fields);
      }
      bar.update(i, fields);
    },
    stop() {
      if (started && !stopped) bar.stop();
      stopped = true;
    },
  };
}

function progressLine(p: PartitionOutcome, i: number, n: number): string {
  const head = `[${i}/${n}] ${p.date}  ${p.status.padEnd(9)}`;
  if (p.status === "failed") return `${head} ${p.error ?? ""}`;
  if (p.status === "removed") return `${head} (gone from the source)`;
  const what = `${fmtInt(p.events)} events, ${fmtInt(p.rejected)} rejected${p.skipped ? `, ${fmtInt(p.skipped)} skipped` : ""}${p.duplicates ? `, ${fmtInt(p.duplicates)} duplicates` : ""}, ${fmtInt(p.objects)} objects (${prettyBytes(p.bytes)})`;
  return p.status === "unchanged"
    ? `${head} ${what}, same objects as the last load`
    : `${head} ${what}, ${p.seconds.toFixed(1)} s`;
}

function summaryJson(s: LoadSummary, ch: ClickHouseExecutor) {
  return {
    partitions: s.partitions,
    objects: s.objects,
    bytes: s.bytes,
    events: s.events,
    rejected: s.rejected,
    skipped: s.skipped,
    duplicates: s.duplicates,
    seconds: Math.round(s.seconds * 1000) / 1000,
    listing_seconds: Math.round(s.listingSeconds * 1000) / 1000,
    ignored: s.ignored,
    failures: s.failures,
    table: `${ch.host}.${ch.target.table}`,
  };
}

function printSummary(s: LoadSummary, ch: ClickHouseExecutor): void {
  const p = s.partitions;
  const extra = [
    p.unchanged ? `${fmtInt(p.unchanged)} unchanged` : "",
    p.removed ? `${fmtInt(p.removed)} removed` : "",
    p.failed ? `${fmtInt(p.failed)} failed` : "",
  ].filter(Boolean);
  process.stdout.write(
    `loaded ${fmtInt(p.loaded)} of ${fmtInt(p.selected)} partitions into ${ch.host}.${ch.target.table}${extra.length ? ` (${extra.join(", ")})` : ""}: ${fmtInt(s.events)} events, ${fmtInt(s.rejected)} rejected lines${s.skipped ? `, ${fmtInt(s.skipped)} skipped messages` : ""}${s.duplicates ? `, ${fmtInt(s.duplicates)} duplicates` : ""}, ${fmtInt(s.objects.loaded)} objects (${prettyBytes(s.bytes)}) in ${s.seconds.toFixed(1)} s\n`,
  );
  if (s.undated)
    process.stdout.write(
      `${fmtInt(s.undated)} data files had no date in the layout (${s.layout}) and were skipped\n`,
    );
  for (const f of s.failures) process.stdout.write(`  failed ${f.date}: ${f.error}\n`);
  if (s.failures.length)
    process.stdout.write("the failed partitions keep their previous data; the next load retries them\n");
}
