/**
 * `evx demo [--events N] [--cache PATH] [--no-ui]`: a realistic synthetic lake (default 2M events
 * over 28 days) generated into `$XDG_CACHE_HOME/evx/demo-lake`, synced through the normal sync path
 * (with its progress bar), then the TUI. A second run reuses the lake, and the sync is incremental.
 */

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import cliProgress from "cli-progress";
import prettyBytes from "pretty-bytes";
import { demoCacheFile, demoLakeDir } from "../cache/paths.js";
import { isPresetName, type PresetName, unknownPresetMessage } from "../cache/presets.js";
import { fmtInt } from "../render/table.js";
import { ensureLake } from "../source/synthetic.js";
import { generateVendorLake } from "../source/vendors.js";
import { UsageError } from "./errors.js";
import { runSync } from "./sync.js";
import { runUi } from "./ui.js";

export const DEMO_EVENTS = 2_000_000;
export const DEMO_DAYS = 28;

export interface DemoOptions {
  events?: number;
  cache?: string;
  /** Stop after the sync and print what to run next (also when stdin/stdout is not a terminal). */
  noUi?: boolean;
  /** A vendor-shaped lake (src/source/vendors.ts) synced with this preset. */
  preset?: string;
}

/** Events of a vendor-shaped demo lake by default (each line is rewritten in Node, so it is slower). */
export const DEMO_PRESET_EVENTS = 500_000;

export { demoLakeDir };

export function demoCachePath(cache?: string, env = process.env, preset?: string): string {
  return cache ? resolve(cache) : demoCacheFile(env, preset);
}

/** Progress of the lake generation on stderr; starts with the first event written (not on reuse). */
function generationProgress(total: number) {
  const err = process.stderr;
  let started = false;
  if (!err.isTTY) {
    return {
      update() {
        if (started) return;
        started = true;
        err.write(`evx: generating ${fmtInt(total)} synthetic events…\n`);
      },
      stop() {},
    };
  }
  const bar = new cliProgress.SingleBar(
    {
      format: "generating |{bar}| {percentage}% {value}/{total} events ETA {eta_formatted}",
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stream: err,
      formatValue: (v, _o, type) => (type === "value" || type === "total" ? fmtInt(v) : String(v)),
    },
    cliProgress.Presets.shades_classic,
  );
  return {
    update(n: number) {
      if (!started) {
        started = true;
        bar.start(total, 0);
      }
      bar.update(n);
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export async function runDemo(opts: DemoOptions = {}): Promise<void> {
  if (opts.preset !== undefined && !isPresetName(opts.preset))
    throw new UsageError(unknownPresetMessage(opts.preset));
  const events = opts.events ?? (opts.preset ? DEMO_PRESET_EVENTS : DEMO_EVENTS);
  if (!Number.isInteger(events) || events < 1 || events > 200_000_000)
    throw new UsageError("--events must be a whole number from 1 to 200,000,000");
  const dir = demoLakeDir(process.env, opts.preset);
  const cache = demoCachePath(opts.cache, process.env, opts.preset);
  if (opts.preset) {
    await vendorLake(dir, opts.preset as PresetName, events);
    await runSync({ source: dir, cache, preset: opts.preset });
    return next(opts, cache);
  }

  const t0 = performance.now();
  const progress = generationProgress(events);
  let lake: Awaited<ReturnType<typeof ensureLake>>;
  try {
    lake = await ensureLake({ dir, events, days: DEMO_DAYS, onProgress: progress.update });
  } finally {
    progress.stop();
  }
  const secs = ((performance.now() - t0) / 1000).toFixed(1);
  process.stderr.write(
    lake.reused
      ? `evx: reusing the demo lake at ${dir} (${fmtInt(lake.events)} events, ${fmtInt(lake.files)} files)\n`
      : `evx: generated ${fmtInt(lake.events)} events from ${fmtInt(lake.users)} users in ${fmtInt(lake.files)} files (${prettyBytes(lake.bytes)}) at ${dir} in ${secs}s\n`,
  );

  await runSync({ source: dir, cache });
  return next(opts, cache);
}

/**
 * The vendor-shaped demo lake: generated once per preset and size (a manifest beside it says which),
 * reused after.
 */
async function vendorLake(dir: string, preset: PresetName, events: number): Promise<void> {
  const manifest = join(dir, ".evx-demo.json");
  const want = JSON.stringify({ version: 1, preset, events, days: DEMO_DAYS });
  if (existsSync(manifest) && readFileSync(manifest, "utf8") === want) {
    process.stderr.write(`evx: reusing the ${preset} demo lake at ${dir}\n`);
    return;
  }
  process.stderr.write(`evx: writing a ${preset} export of ${fmtInt(events)} synthetic events to ${dir}…\n`);
  const t0 = performance.now();
  const r = await generateVendorLake({ dir, preset, events, days: DEMO_DAYS, parquetShare: 0.3 });
  writeFileSync(manifest, want);
  process.stderr.write(
    `evx: ${fmtInt(r.lines)} lines in ${fmtInt(r.files)} files (with the vendor's duplicates and non-event messages) in ${((performance.now() - t0) / 1000).toFixed(1)}s\n`,
  );
}

async function next(opts: DemoOptions, cache: string): Promise<void> {
  const interactive = process.stdin.isTTY && process.stdout.isTTY;
  if (opts.noUi || !interactive) {
    const c = opts.cache || opts.preset ? ` --cache ${cache}` : "";
    process.stderr.write(
      [
        "",
        "Next:",
        `  evx ui${c}                                   explore in the terminal UI`,
        `  evx events${c}                               the event catalog`,
        `  evx trend button_clicked --breakdown button_name${c}`,
        `  evx funnel application_opened file_opened file_saved --within 1h${c}`,
        `  evx retention signed_up --period week --periods 4${c}`,
        "",
      ].join("\n"),
    );
    return;
  }
  await runUi({ cache });
}
