/**
 * The sync progress bar on a terminal (stderr): `syncing |███░░| 12% 310/2,686 objects 6.6 MB/55 MB
 * 48,210 ev/s ETA 1m 30s`. Rate and ETA show only once they can be measured (before the first batch
 * lands there is nothing to measure: no `0 ev/s`, no infinite ETA, never NaN).
 */
import cliProgress from "cli-progress";
import prettyBytes from "pretty-bytes";
import type { SyncProgress } from "../cache/sync.js";
import { formatDuration } from "../render/format.js";
import { fmtInt } from "../render/table.js";

/** Below this much syncing time a rate is noise. */
const MIN_MEASURED_MS = 500;

/**
 * The bar's text fields for a progress report, `syncingMs` after the syncing phase began (null
 * before it). Pure: the bar and the tests share it.
 */
export function progressFields(p: SyncProgress, syncingMs: number | null) {
  const measured = syncingMs !== null && syncingMs >= MIN_MEASURED_MS && p.bytesIngested > 0 && p.events > 0;
  let speed = "";
  if (measured) {
    const seconds = syncingMs / 1000;
    const rate = p.events / seconds;
    const left = Math.max(0, p.bytesTotal - p.bytesIngested);
    const eta = (seconds * left) / p.bytesIngested;
    if (Number.isFinite(rate)) speed = `${fmtInt(Math.round(rate))} ev/s`;
    if (Number.isFinite(eta) && left > 0) speed += ` ETA ${formatDuration(Math.round(eta))}`;
  }
  return {
    phase: p.phase.padEnd(8),
    objects: `${fmtInt(p.ingested + p.failed)}/${fmtInt(p.toFetch)}`,
    bytes: `${prettyBytes(p.bytesIngested)}/${prettyBytes(p.bytesTotal)}`,
    speed: speed.trim(),
  };
}

export interface ProgressBar {
  update(p: SyncProgress): void;
  /** Ends the bar and clears its line (the summary follows). Later updates draw nothing. */
  stop(): void;
  /**
   * Ends the bar leaving its last state as text on its own line, cursor at the start of the next (Ctrl+C:
   * the message that follows must not be drawn over). Later updates draw nothing. True if a bar was
   * on screen.
   */
  freeze(): boolean;
}

export function progressBar(stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const bar = new cliProgress.SingleBar(
    {
      format: "{phase} |{bar}| {percentage}% {objects} objects {bytes} {speed}",
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      stream,
    },
    cliProgress.Presets.shades_classic,
  );
  let syncingSince: number | null = null;
  let state: "idle" | "drawing" | "done" = "idle";
  let last = "";
  const end = () => {
    const drawing = state === "drawing";
    // Clears the bar's line (cursor at its start): nothing else is drawn after it.
    if (drawing) bar.stop();
    state = "done";
    return drawing;
  };
  return {
    update(p) {
      if (state === "done") return;
      if (p.phase !== "listing" && syncingSince === null) syncingSince = performance.now();
      const fields = progressFields(p, syncingSince === null ? null : performance.now() - syncingSince);
      const total = Math.max(1, p.bytesTotal);
      const value = Math.min(p.bytesIngested, total);
      last = stoppedLine(fields, Math.floor((value / total) * 100));
      if (state === "idle") {
        bar.start(total, 0, fields);
        state = "drawing";
      }
      bar.setTotal(total);
      bar.update(value, fields);
    },
    stop: () => {
      end();
    },
    freeze: () => {
      const drawing = end();
      if (drawing) stream.write(`${last}\n`);
      return drawing;
    },
  };
}

/** The bar's last state as plain text, left on screen when Ctrl+C stops it (no ETA: it stopped). */
export function stoppedLine(f: ReturnType<typeof progressFields>, percent: number): string {
  const speed = f.speed.replace(/ ETA .*$/, "");
  return [`${f.phase.trim()} stopped at ${percent}%:`, `${f.objects} objects`, f.bytes, speed]
    .filter(Boolean)
    .join(" ");
}
