/**
 * Partition layouts: how a date is spelled in an object key.
 * Detection looks at the folder parts of the keys, never at file names; the vendor layouts (a day
 * folder in epoch milliseconds, a date in the file name) are chosen by a preset or `--layout`.
 */
export type LayoutName = "hive" | "hive-ymd" | "ymd" | "date" | "epoch-ms" | "amplitude" | "file-date";

export interface Layout {
  name: LayoutName;
  /** For `hive`: the key name (`date`, `dt`, `event_date`…). */
  hiveKey?: string;
}

const DATE = "(\\d{4})-(\\d{2})-(\\d{2})";
/**
 * JSON lines, whole-file compressed by gzip, zstd or brotli; Parquet, whose name may carry its page
 * codec: PostHog's S3 batch export names a file `<interval start>-<interval end>.<parquet|jsonl>` plus
 * `.<gz|sz|br|zst|lz4>` when compressed (`get_s3_key`, `COMPRESSION_EXTENSIONS` in
 * products/batch_exports/backend/temporal/destinations/s3_batch_export.py), and lets pyarrow's
 * ParquetWriter compress a Parquet file's pages (temporary_file.py, `ParquetBatchExportWriter`), so a
 * `.parquet.zst` file is a Parquet file with zstd pages; JSON lines are compressed whole (gzip or brotli).
 */
const DATA_FILE = /\.(jsonl|ndjson|json)(\.gz|\.zst|\.br)?$|\.parquet(\.(gz|sz|snappy|br|zst|lz4))?$/i;
const PARQUET_FILE = /\.parquet(\.(gz|sz|snappy|br|zst|lz4))?$/i;
/** PostHog's `<interval start>-<interval end>_manifest.json`: the list of an export's files, not data. */
const POSTHOG_MANIFEST = /^\d{4}-\d{2}-\d{2}.*_manifest\.json$/i;

/**
 * True for the files evx reads: JSON lines (plain, .gz, .zst, .br) and Parquet; `_SUCCESS`, `.crc`,
 * hidden files, PostHog's manifests and the like are ignored. Under Segment's layout (`epoch-ms`) any
 * `.gz` file is data: Segment names its files `<epoch-ms>.<uuid>.gz`.
 */
export function isDataFile(key: string, layout?: Layout): boolean {
  // Names starting with `.` or `_` are hidden by the Hadoop/Spark convention (`_SUCCESS`, `.part.crc`).
  const base = key.slice(key.lastIndexOf("/") + 1);
  if (/^[._]/.test(base) || POSTHOG_MANIFEST.test(base)) return false;
  return DATA_FILE.test(base) || (layout?.name === "epoch-ms" && /\.gz$/i.test(base));
}

/** A Parquet object (`x.parquet`, or with its page codec named after it: `x.parquet.zst`). */
export function isParquetKey(key: string): boolean {
  return PARQUET_FILE.test(key);
}

/** The whole-file compression of a JSON-lines object (a Parquet object's suffix names its page codec). */
export function compressionOf(key: string): "gzip" | "zstd" | "brotli" | "none" {
  if (isParquetKey(key)) return "none";
  if (/\.gz$/i.test(key)) return "gzip";
  if (/\.zst$/i.test(key)) return "zstd";
  if (/\.br$/i.test(key)) return "brotli";
  return "none";
}

function validDate(y: string, m: string, d: string): string | null {
  const iso = `${y}-${m}-${d}`;
  const t = Date.parse(`${iso}T00:00:00Z`);
  if (Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== iso) return null;
  return iso;
}

/** The partition date of a key under a layout, or null when the key does not follow it. */
export function dateOf(key: string, layout: Layout): string | null {
  const dirs = `/${key.split("/").slice(0, -1).join("/")}/`;
  let m: RegExpExecArray | null = null;
  switch (layout.name) {
    case "hive": {
      const k = (layout.hiveKey ?? "date").replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      m = new RegExp(`/${k}=${DATE}/`).exec(dirs);
      return m ? validDate(m[1], m[2], m[3]) : null;
    }
    case "hive-ymd":
      m = /\/year=(\d{4})\/month=(\d{1,2})\/day=(\d{1,2})\//.exec(dirs);
      return m ? validDate(m[1], m[2].padStart(2, "0"), m[3].padStart(2, "0")) : null;
    case "ymd":
      m = /\/(\d{4})\/(\d{2})\/(\d{2})\//.exec(dirs);
      return m ? validDate(m[1], m[2], m[3]) : null;
    case "date":
      m = new RegExp(`/${DATE}/`).exec(dirs);
      return m ? validDate(m[1], m[2], m[3]) : null;
    case "epoch-ms": {
      const ms = epochDayFolder(dirs);
      return ms === null ? null : new Date(ms).toISOString().slice(0, 10);
    }
    case "amplitude":
      m = AMPLITUDE_FILE.exec(base(key));
      return m ? validDate(m[1], m[2], m[3]) : null;
    case "file-date":
      m = new RegExp(`^${DATE}`).exec(base(key));
      return m ? validDate(m[1], m[2], m[3]) : null;
  }
}

const base = (key: string) => key.slice(key.lastIndexOf("/") + 1);

/** Amplitude's export names: `<project>_<YYYY-MM-DD>_<hour>#<n>.json.gz`. */
const AMPLITUDE_FILE = /_(\d{4})-(\d{2})-(\d{2})_\d{1,2}#\d+\.(json(\.gz)?|parquet)$/;

/** The last folder named by 13 digits that is a UTC midnight in epoch ms (Segment's received day). */
function epochDayFolder(dirs: string): number | null {
  const all = [...dirs.matchAll(/\/(\d{13})(?=\/)/g)];
  const last = all[all.length - 1];
  if (!last) return null;
  const ms = Number(last[1]);
  return ms % 86_400_000 === 0 && ms < Date.UTC(2100, 0, 1) ? ms : null;
}

/** Why `key` has no date under `layout` (for the listing of ignored keys); null when it has one. */
export function undatedReason(key: string, layout: Layout): string | null {
  if (dateOf(key, layout) !== null) return null;
  if (layout.name === "epoch-ms") {
    const folder = /\/(\d{13})\/[^/]*$/.exec(`/${key}`)?.[1];
    if (folder) return `day folder ${folder} is not a UTC midnight in epoch milliseconds`;
  }
  return `no date in the form ${describeLayout(layout)}`;
}

/** Parses `--layout`: `hive`, `hive:dt`, `dt=` / `dt=*`, `year=/month=/day=`, `hive-ymd`, `ymd`, `yyyy/mm/dd`, `date`, `yyyy-mm-dd`. */
export function parseLayout(s: string): Layout {
  const v = s.trim();
  const lower = v.toLowerCase();
  if (lower === "hive-ymd" || lower.startsWith("year=")) return { name: "hive-ymd" };
  if (lower === "ymd" || lower === "yyyy/mm/dd") return { name: "ymd" };
  if (lower === "date" || lower === "yyyy-mm-dd") return { name: "date" };
  if (lower === "hive") return { name: "hive", hiveKey: "date" };
  if (lower === "epoch-ms" || lower === "segment") return { name: "epoch-ms" };
  if (lower === "amplitude") return { name: "amplitude" };
  if (lower === "file-date") return { name: "file-date" };
  const hiveKey = /^hive:([A-Za-z_][\w-]*)$/.exec(v)?.[1] ?? /^([A-Za-z_][\w-]*)=\*?$/.exec(v)?.[1];
  if (hiveKey) return { name: "hive", hiveKey };
  throw new Error(
    `unknown --layout '${s}': use hive[:KEY] (e.g. dt=), hive-ymd (year=/month=/day=), ymd (2023/06/01), date (2023-06-01), epoch-ms (Segment's day folders), amplitude (…_2023-06-01_16#0.json.gz) or file-date (2023-06-01… file names)`,
  );
}

export function describeLayout(l: Layout): string {
  switch (l.name) {
    case "hive":
      return `${l.hiveKey ?? "date"}=YYYY-MM-DD/`;
    case "hive-ymd":
      return "year=YYYY/month=MM/day=DD/";
    case "ymd":
      return "YYYY/MM/DD/";
    case "date":
      return "YYYY-MM-DD/";
    case "epoch-ms":
      return "<epoch-ms of the UTC day>/";
    case "amplitude":
      return "<project>_YYYY-MM-DD_<hour>#<n>.json.gz";
    case "file-date":
      return "YYYY-MM-DD… file names";
  }
}

export class LayoutError extends Error {
  override name = "LayoutError";
}

/**
 * Picks the layout that dates the most data files. Hive keys are found from the keys themselves
 * (any `name=YYYY-MM-DD` folder). Throws a LayoutError listing sample keys when nothing fits.
 */
export function detectLayout(keys: string[], extra: Layout[] = []): Layout {
  const data = keys.filter((k) => isDataFile(k));
  const candidates: Layout[] = [{ name: "hive-ymd" }, { name: "ymd" }, { name: "date" }, ...extra];
  const hiveKeys = new Set<string>();
  const hiveRe = new RegExp(`(?:^|/)([A-Za-z_][\\w-]*)=${DATE}/`);
  for (const k of data.slice(0, 5000)) {
    const m = hiveRe.exec(k);
    if (m) hiveKeys.add(m[1]);
  }
  for (const hiveKey of hiveKeys) candidates.unshift({ name: "hive", hiveKey });
  let best: Layout | null = null;
  let bestCount = 0;
  for (const c of candidates) {
    let n = 0;
    for (const k of data) if (dateOf(k, c) !== null) n++;
    if (n > bestCount) {
      best = c;
      bestCount = n;
    }
  }
  if (!best) {
    const sample = (data.length ? data : keys).slice(0, 5).join(", ") || "(no objects)";
    throw new LayoutError(
      `could not detect the partition layout from ${keys.length} keys (${data.length} data files); seen: ${sample}; pass --layout`,
    );
  }
  return best;
}

/** Inclusive YYYY-MM-DD bounds; either may be absent. */
export function inDateRange(date: string, from?: string, to?: string): boolean {
  return (!from || date >= from) && (!to || date <= to);
}

export function isIsoDate(s: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(s);
  return !!m && validDate(m[1], m[2], m[3]) !== null;
}
