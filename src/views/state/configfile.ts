/**
 * evx's small per-user JSON files (saved views, annotations) in the XDG config folder. One place for
 * the path rule, the "absent file is empty" read and the private atomic write, so every such file is
 * 0600 in a 0700 folder and a crash never leaves half a file.
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";

/** `$XDG_CONFIG_HOME/evx/NAME`, default `~/.config/evx/NAME`. */
export function configFilePath(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(base, "evx", name);
}

/**
 * Reads and checks a JSON file: `empty()` when it does not exist; a file that does not parse, or that
 * `check` rejects by throwing, is one error naming the file and what it should hold.
 */
export function readConfigJson<T>(path: string, what: string, empty: () => T, check: (v: unknown) => T): T {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return empty();
    throw e;
  }
  try {
    return check(JSON.parse(text));
  } catch (e) {
    throw new Error(`cannot read the ${what} in ${path}: ${(e as Error).message}`);
  }
}

/** Writes the whole file: private to the user (0600, folder 0700), through a temporary file and a rename. */
export function writeConfigJson(path: string, value: unknown): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  // The mode of a new file is masked by the umask only downwards; an old tmp file keeps its own.
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}
