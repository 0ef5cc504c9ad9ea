// Where a cache's host listens (README, "How the cache is held"). No DuckDB import: clients use it.
import { createHash } from "node:crypto";
import { existsSync, lstatSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, dirname, join, resolve } from "node:path";

let byDefault = false;

/** The CLI (main.ts): this process shares its caches unless `EVX_SHARED=0`. */
export function shareByDefault(): void {
  byDefault = true;
}

/**
 * Whether this process reaches the cache through its host. Every evx command does by default (main.ts
 * calls `shareByDefault`); `EVX_SHARED=0` opts out (the process opens the file itself and starts no
 * host). A library caller (the tests) opens the file itself unless `EVX_SHARED=1`. Either way, a file
 * that a host already holds is reached through it (db.ts).
 */
export function sharedMode(env = process.env): boolean {
  if (env.EVX_SHARED === "1") return true;
  if (env.EVX_SHARED === "0") return false;
  return byDefault;
}

export interface HostPaths {
  dir: string;
  socket: string;
  token: string;
  /** The serving host's PID, written once it holds the file and removed only after it let go of it. */
  pid: string;
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
  return {
    dir,
    socket: join(dir, `${name}.sock`),
    token: join(dir, `${name}.token`),
    pid: join(dir, `${name}.pid`),
  };
}

/** Whether `pid` is a running process: it exists and is not a zombie (which holds no files). */
export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ESRCH") return false;
  }
  try {
    // /proc/PID/stat: "PID (comm) STATE …"; comm may hold spaces and parentheses.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch (e) {
    // Gone since kill(0); or no /proc (macOS), where kill(0) said it exists.
    return (e as NodeJS.ErrnoException).code !== "ENOENT" || !existsSync("/proc/self/stat");
  }
}
