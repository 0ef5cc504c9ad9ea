/** One object as listed by a source, before layout/date resolution. */
export interface ListedObject {
  /** Key relative to the source root, always with `/` separators (e.g. `date=2023-06-01/part-1615.jsonl.gz`). */
  key: string;
  size: number;
  /**
   * Change detector: the S3 ETag (quotes stripped), or `${size}:${mtimeMs}` for folders.
   * A re-sync downloads an object again when this differs from the manifest.
   */
  version: string;
}

/** Where events come from: an S3 prefix or a local folder laid out the same way. */
export interface Source {
  readonly kind: "s3" | "folder";
  /** The source as the user named it, with any credentials in it redacted; safe to print and store. */
  readonly url: string;
  /** Every object under the root, recursively. Throws a SourceError when the source itself is unreachable. */
  list(signal?: AbortSignal): AsyncIterable<ListedObject>;
  /**
   * Writes the object's raw bytes (still compressed) to `dest`. The caller owns `dest`
   * (a temp path inside the staging folder) and renames it into place afterwards.
   * Throws a SourceError; `transient` errors are already retried by the implementation.
   */
  download(key: string, dest: string, signal?: AbortSignal): Promise<void>;
}

/** A failure with a one-line message that is safe to show (no secrets). */
export class SourceError extends Error {
  constructor(
    message: string,
    /** True when the whole source is unusable (bucket missing, access denied on list), not one object. */
    readonly fatal = false,
    readonly code?: string,
  ) {
    super(message);
    this.name = "SourceError";
  }
}
