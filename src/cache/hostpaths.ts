// Where a cache's host listens (README, "How the cache is held"). No DuckDB import: clients use it.
import { createHash } from "node:crypto";
import { lstatSync, mkdirSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

/** Shared mode is opt-in while it matures: `EVX_SHARED=1`. */
export function sharedMode(env = process.env): boolean {
  return env.EVX_SHARED === "1";
}

export interface HostPaths {
  dir: string;
  socket: string;
  token: string;
}

/**
 * The user's private runtime folder: `$XDG_RUNTIME_DIR/evx`, else `$TMPDIR/evx-UID`. It must be a real
 * folder (no link), owned by this user, with mode 0700: other users cannot even reach the socket in it.
 * A folder that fails the check (e.g. planted in /tmp by another user) is refused, never used.
 */
export function runtimeDir(env = process.env): string {
  const uid = process.getuid?.() ?? 0;
  const base = env.XDG_RUNTIME_DIR?.startsWith("/")
    ? join(env.XDG_RUNTIME_DIR, "evx")
    : join(tmpdir(), `evx-${uid}`);
  mkdirSync(base, { recursive: true, mode: 0o700 });
  const st = lstatSync(base);
  if (!st.isDirectory() || st.isSymbolicLink() || st.uid !== uid || (st.mode & 0o077) !== 0)
    throw new Error(
      `${base} is not a private folder of this user (mode 0700, owned by uid ${uid}); remove it`,
    );
  return base;
}

/**
 * One name for every spelling of a cache file (a symlinked folder, `/tmp` vs `/private/tmp`): its
 * folder's real path. Two spellings must find the same host, or the second would find the file
 * locked by the first's host and be refused.
 */
function realCachePath(cachePath: string): string {
  const abs = resolve(cachePath);
  try {
    return join(realpathSync(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

/**
 * The socket and token files of one cache, named by a hash of its absolute path: socket paths are
 * limited to ~107 bytes, so they cannot be the cache path itself.
 */
export function hostPaths(cachePath: string, env = process.env): HostPaths {
  const dir = runtimeDir(env);
  const name = createHash("sha256").update(realCachePath(cachePath)).digest("hex").slice(0, 24);
  return { dir, socket: join(dir, `${name}.sock`), token: join(dir, `${name}.token`) };
}
