import { folderSource } from "./folder.js";
import { s3Source } from "./s3.js";
import type { Source } from "./types.js";

export interface SourceOptions {
  endpoint?: string;
  region?: string;
  profile?: string;
  noSignRequest?: boolean;
}

/** `s3://bucket/prefix` or a local folder. */
export function openSource(url: string, opts: SourceOptions = {}): Source {
  if (/^s3:\/\//i.test(url)) return s3Source(url, opts);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url))
    throw new Error(`unsupported source '${url}': use s3://bucket/prefix or a folder`);
  return folderSource(url);
}
