import { folderSource } from "./folder.js";
import { s3Source } from "./s3.js";
import type { Source } from "./types.js";
import { sourceKind } from "./url.js";

export interface SourceOptions {
  endpoint?: string;
  region?: string;
  profile?: string;
  noSignRequest?: boolean;
}

export { sourceKind };

/** `s3://bucket/prefix` or a local folder; a mistyped S3 URL is a usage error (url.ts). */
export function openSource(url: string, opts: SourceOptions = {}): Source {
  if (sourceKind(url) === "s3") return s3Source(url.trim(), opts);
  return folderSource(url);
}
