import { realpathSync } from "node:fs";
import { copyFile, readdir, stat } from "node:fs/promises";
import { join, relative, resolve, sep } from "node:path";
import { type ListedObject, type Source, SourceError } from "./types.js";

/** A local folder laid out like the lake: mounted lakes, offline copies, the demo. */
export function folderSource(dir: string): Source & { localPath(key: string): string } {
  const root = realPath(resolve(dir));
  return {
    kind: "folder",
    url: root,
    async *list(signal?: AbortSignal): AsyncIterable<ListedObject> {
      try {
        const s = await stat(root);
        if (!s.isDirectory()) throw new SourceError(`${root}: not a folder`, true, "ENOTDIR");
      } catch (e) {
        if (e instanceof SourceError) throw e;
        throw new SourceError(`${root}: no such folder`, true, "ENOENT");
      }
      const entries = await readdir(root, { recursive: true, withFileTypes: true });
      const files = entries
        .filter((e) => e.isFile())
        .map((e) => join(e.parentPath, e.name))
        .sort();
      for (const full of files) {
        signal?.throwIfAborted();
        const st = await stat(full).catch(() => null);
        if (!st) continue;
        yield {
          key: relative(root, full).split(sep).join("/"),
          size: st.size,
          version: `${st.size}:${Math.trunc(st.mtimeMs)}`,
        };
      }
    },
    async download(key: string, dest: string): Promise<void> {
      await copyFile(this.localPath(key), dest);
    },
    localPath(key: string): string {
      const p = resolve(root, key);
      if (p !== root && !p.startsWith(root + sep))
        throw new SourceError(`refusing key outside the source: ${key}`);
      return p;
    },
  };
}

/**
 * The folder's real path (symlinks resolved), so every spelling of one folder is one source (one
 * cache name, one `source` of the cache); a folder that does not exist keeps its resolved path.
 */
function realPath(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}
