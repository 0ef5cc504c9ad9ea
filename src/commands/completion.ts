/**
 * Shell completion: `evx completion bash|zsh|fish` prints a script; the script calls
 * `evx __complete SHELL WORD…` (the words up to the cursor) on every Tab.
 *
 * Answering must be quick, so it never loads yargs, React or DuckDB:
 * - Commands, flags, choices and positionals come from a spec of the yargs definitions in
 *   src/cli.tsx, made at build time (scripts/build.mjs embeds it); unbundled, from yargs itself.
 * - Event names and property keys come from a small index of the cache, kept in
 *   `$XDG_CACHE_HOME/evx/completion/` (0600) and stamped with the cache file's size and mtime. When
 *   the index is missing or stale, the answer uses what the index had (or flags only) and starts
 *   `evx __complete-index CACHE` in the background: it opens the cache read-only with a deadline,
 *   gives up quietly when a sync holds the cache, and writes a fresh index for the next Tab.
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { cacheHome, lastUsedFile } from "../cache/paths.js";

/**
 * A CommonJS package imported dynamically: Node gives its exports by name and as `default`; the
 * bundle (esbuild) only as `default`.
 */
function cjs<T>(m: T): T {
  return (m as { default?: T }).default ?? m;
}

// ---------------------------------------------------------------------------------------------
// the spec: what yargs defines, as data

export interface FlagSpec {
  name: string;
  aliases: string[];
  desc: string;
  /** Takes a value (string, number, array), as opposed to a boolean switch. */
  value: boolean;
  /** Repeatable (yargs `array`). */
  array?: boolean;
  /** A boolean that defaults to true, so `--no-NAME` is the useful form. */
  negatable?: boolean;
  choices?: string[];
}

export interface PositionalSpec {
  name: string;
  variadic: boolean;
  choices?: string[];
}

export interface CommandSpec {
  name: string;
  aliases: string[];
  desc: string;
  flags: FlagSpec[];
  positionals: PositionalSpec[];
  commands: CommandSpec[];
}

declare const __EVX_COMPLETION_SPEC__: string;

/** Positionals and flags that name event types. */
const EVENT_POSITIONALS = new Set(["event", "events", "steps", "start", "return"]);
const EVENT_FLAGS = new Set(["event"]);
/** Flags that take a property key first (`--where 'KEY OP VALUE'`). */
const KEY_FLAGS = new Set(["breakdown", "where", "hold"]);

interface YargsOptions {
  key: Record<string, unknown>;
  boolean: string[];
  array: string[];
  choices: Record<string, string[]>;
  alias: Record<string, string[]>;
  default: Record<string, unknown>;
  hiddenOptions: string[];
}
interface YargsHandler {
  original: string;
  description: string | false;
  builder: unknown;
  demanded: { cmd: string[]; variadic: boolean }[];
  optional: { cmd: string[]; variadic: boolean }[];
}
interface YargsLike {
  getOptions(): YargsOptions;
  getInternalMethods(): {
    getCommandInstance(): {
      getCommandHandlers(): Record<string, YargsHandler>;
      aliasMap: Record<string, string>;
    };
    getUsageInstance(): { getDescriptions(): Record<string, string | undefined> };
  };
}

/**
 * The spec of a yargs instance and its commands (recursively), read from yargs' own state. This
 * uses yargs internals, which is why it runs at build time, where a change of yargs fails the build.
 */
export function specFromYargs(
  y: YargsLike,
  fresh: () => YargsLike,
  name = "evx",
  desc = "",
  positionals: PositionalSpec[] = [],
): CommandSpec {
  const o = y.getOptions();
  const descs = y.getInternalMethods().getUsageInstance().getDescriptions();
  const positionalNames = new Set(positionals.map((p) => p.name));
  const aliasOf = new Set(Object.values(o.alias).flat());
  const flags: FlagSpec[] = [];
  for (const key of Object.keys(o.key)) {
    if (positionalNames.has(key) || aliasOf.has(key) || o.hiddenOptions.includes(key)) continue;
    const text = (descs[key] ?? "").replace(/^__yargsString__:/, "");
    const boolean = o.boolean.includes(key);
    flags.push({
      name: key,
      aliases: (o.alias[key] ?? []).filter((a) => a !== key),
      desc: text,
      value: !boolean,
      ...(o.array.includes(key) ? { array: true } : {}),
      ...(boolean && o.default[key] === true ? { negatable: true } : {}),
      ...(o.choices[key] ? { choices: o.choices[key].map(String) } : {}),
    });
  }
  for (const p of positionals) if (o.choices[p.name]) p.choices = o.choices[p.name].map(String);
  const ci = y.getInternalMethods().getCommandInstance();
  const commands: CommandSpec[] = [];
  for (const [cmd, h] of Object.entries(ci.getCommandHandlers())) {
    if (cmd === "$0" || cmd === "*") continue;
    const sub = fresh();
    if (typeof h.builder === "function") h.builder(sub);
    else if (h.builder && typeof h.builder === "object")
      (sub as unknown as { options(o: unknown): void }).options(h.builder);
    const pos = [...h.demanded, ...h.optional].map((d) => ({ name: d.cmd[0], variadic: d.variadic }));
    const spec = specFromYargs(sub, fresh, cmd, h.description || "", pos);
    spec.aliases = Object.entries(ci.aliasMap)
      .filter(([alias, target]) => target === cmd && alias !== "$0" && alias !== "*")
      .map(([alias]) => alias);
    commands.push(spec);
  }
  return { name, aliases: [], desc, flags, positionals, commands };
}

/** The command spec (embedded in the bundle; unbundled, read from yargs). */
export async function loadSpec(): Promise<CommandSpec> {
  if (typeof __EVX_COMPLETION_SPEC__ === "string") return JSON.parse(__EVX_COMPLETION_SPEC__) as CommandSpec;
  return liveSpec();
}

/** The spec from the yargs definitions themselves (unbundled runs, and the build). */
export async function liveSpec(): Promise<CommandSpec> {
  const [{ buildCli }, { default: yargs }] = await Promise.all([import("../cli.js"), import("yargs")]);
  return specFromYargs(buildCli([]) as unknown as YargsLike, () => yargs([]) as unknown as YargsLike);
}

// ---------------------------------------------------------------------------------------------
// completing a command line

export interface Candidate {
  value: string;
  desc?: string;
  /** The shell should not add a space after it (`event[`, `--where=`, a folder). */
  open?: boolean;
}

/** What the cache offers: event names, and property keys per event (`*`: of any event). */
export interface CacheWords {
  events: string[];
  keys: Record<string, string[]>;
}

export interface Parsed {
  /** The command path, e.g. [] for `evx`, [clickhouse, load]. */
  path: CommandSpec[];
  /** Flag values given so far (last one wins; arrays collect). */
  values: Map<string, string[]>;
  positionals: string[];
  /** The flag whose value the current word is, if any. */
  valueOf?: FlagSpec;
  cur: string;
}

const findFlag = (cmd: CommandSpec, name: string): FlagSpec | undefined =>
  cmd.flags.find(
    (f) => f.name === name || f.aliases.includes(name) || (f.negatable && name === `no-${f.name}`),
  );

/** Reads the words before the cursor the way yargs would: the command path, flags, positionals. */
export function parseWords(spec: CommandSpec, words: string[]): Parsed {
  const path: CommandSpec[] = [];
  let cmd = spec;
  const values = new Map<string, string[]>();
  const positionals: string[] = [];
  let expecting: FlagSpec | undefined;
  let flagsDone = false;
  const before = words.slice(0, -1);
  for (const w of before) {
    if (expecting) {
      values.set(expecting.name, [...(values.get(expecting.name) ?? []), w]);
      expecting = undefined;
      continue;
    }
    if (!flagsDone && w === "--") {
      flagsDone = true;
      continue;
    }
    if (!flagsDone && w.startsWith("-") && w.length > 1) {
      const body = w.replace(/^--?/, "");
      const eq = body.indexOf("=");
      const name = eq >= 0 ? body.slice(0, eq) : body;
      const flag = findFlag(cmd, name) ?? findFlag(spec, name);
      if (!flag) continue;
      if (eq >= 0) values.set(flag.name, [...(values.get(flag.name) ?? []), body.slice(eq + 1)]);
      else if (flag.value) expecting = flag;
      else values.set(flag.name, ["true"]);
      continue;
    }
    const sub =
      positionals.length === 0 ? cmd.commands.find((c) => c.name === w || c.aliases.includes(w)) : undefined;
    if (sub) {
      path.push(sub);
      cmd = sub;
      continue;
    }
    positionals.push(w);
  }
  return { path, values, positionals, valueOf: expecting, cur: words[words.length - 1] ?? "" };
}

/** The cache a completion reads: `--cache`, `$EVX_CACHE`, else the one the last sync or demo used. */
export function cacheOf(p: Parsed, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const given = p.values.get("cache")?.at(-1);
  if (given) return resolve(given.replace(/^~(?=\/)/, env.HOME ?? "~"));
  if (env.EVX_CACHE) return resolve(env.EVX_CACHE);
  try {
    return readFileSync(lastUsedFile(env), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Event names given on the line: positionals and `--event` values, without their `[filters]`. */
function eventsOnLine(p: Parsed, cmd: CommandSpec): string[] {
  const out: string[] = [];
  cmd.positionals.forEach((pos, i) => {
    if (!EVENT_POSITIONALS.has(pos.name)) return;
    const given = pos.variadic ? p.positionals.slice(i) : p.positionals.slice(i, i + 1);
    out.push(...given);
  });
  for (const f of EVENT_FLAGS) out.push(...(p.values.get(f) ?? []));
  return out.map((e) => e.replace(/\[.*$/s, "")).filter((e) => e && e !== "*");
}

function keysFor(words: CacheWords, events: string[]): string[] {
  const lists = events.length ? events.map((e) => words.keys[e] ?? []) : [words.keys["*"] ?? []];
  const out = new Set<string>();
  for (const l of lists) for (const k of l) out.add(k);
  if (events.length && out.size === 0) for (const k of words.keys["*"] ?? []) out.add(k);
  return [...out].sort();
}

function fileCandidates(cur: string): Candidate[] {
  const dir = cur.endsWith("/") ? cur : dirname(cur);
  const base = cur.endsWith("/") ? "" : basename(cur);
  const shown = cur.endsWith("/") ? cur : dir === "." && !cur.startsWith("./") ? "" : `${dir}/`;
  try {
    return (
      readdirSync(dir === "" ? "." : dir, { withFileTypes: true })
        .filter((e) => e.name.startsWith(base) && (base.startsWith(".") || !e.name.startsWith(".")))
        // Caches and folders, not a cache's own spill and staging folders.
        .filter(
          (e) => (e.isDirectory() && !/\.duckdb\.(tmp|staging)$/.test(e.name)) || /\.duckdb$/.test(e.name),
        )
        .map((e) =>
          e.isDirectory() ? { value: `${shown}${e.name}/`, open: true } : { value: `${shown}${e.name}` },
        )
    );
  } catch {
    return [];
  }
}

/**
 * The candidates for the last word. `words` starts after the program name; `data` is asked for the
 * cache's words only when the position takes event names or property keys.
 */
export function complete(
  spec: CommandSpec,
  words: string[],
  data: (p: Parsed) => CacheWords | undefined,
): Candidate[] {
  const p = parseWords(spec, words.length ? words : [""]);
  const cmd = p.path.at(-1) ?? spec;
  let cur = p.cur;
  let flag = p.valueOf;
  let prefix = "";
  // `--flag=partial`: complete the value, keeping the `--flag=` part.
  const eq = /^(--?[^=]+)=(.*)$/s.exec(cur);
  if (!flag && eq) {
    const f = findFlag(cmd, eq[1].replace(/^--?/, "")) ?? findFlag(spec, eq[1].replace(/^--?/, ""));
    if (f?.value) {
      flag = f;
      prefix = `${eq[1]}=`;
      cur = eq[2];
    }
  }
  const words_ = () => data(p) ?? { events: [], keys: {} };
  const match = (cs: Candidate[]) =>
    cs.filter((c) => c.value.startsWith(cur)).map((c) => ({ ...c, value: prefix + c.value }));
  if (flag) {
    if (flag.choices) return match(flag.choices.map((v) => ({ value: v })));
    if (EVENT_FLAGS.has(flag.name)) return match(words_().events.map((v) => ({ value: v })));
    if (KEY_FLAGS.has(flag.name))
      return match(keysFor(words_(), eventsOnLine(p, cmd)).map((k) => ({ value: k, desc: "property key" })));
    if (flag.name === "cache") return match(fileCandidates(cur));
    return [];
  }
  if (cur.startsWith("-")) {
    const out: Candidate[] = [];
    for (const f of [
      ...cmd.flags,
      ...(cmd === spec ? [] : spec.flags.filter((g) => !findFlag(cmd, g.name))),
    ]) {
      if (!f.array && p.values.has(f.name)) continue;
      out.push({ value: `--${f.negatable ? `no-${f.name}` : f.name}`, desc: f.desc });
    }
    return match(out);
  }
  const out: Candidate[] = [];
  if (p.positionals.length === 0)
    for (const c of cmd.commands) if (!c.name.startsWith("__")) out.push({ value: c.name, desc: c.desc });
  const pos =
    cmd.positionals[p.positionals.length] ??
    (cmd.positionals.at(-1)?.variadic ? cmd.positionals.at(-1) : undefined);
  if (pos?.choices) out.push(...pos.choices.map((v) => ({ value: v })));
  else if (pos && EVENT_POSITIONALS.has(pos.name)) {
    const w = words_();
    // `event[KEY`: a property key inside a step's filter.
    const inFilter = /^([^[\]]+)\[([^\]=!<>~ ]*)$/s.exec(cur);
    if (inFilter)
      return keysFor(w, [inFilter[1]])
        .filter((k) => k.startsWith(inFilter[2]))
        .map((k) => ({ value: `${inFilter[1]}[${k}`, desc: "property key", open: true }));
    out.push(...w.events.map((v) => ({ value: v, desc: "event" })));
  }
  return match(out);
}

// ---------------------------------------------------------------------------------------------
// the cache's words: an index beside the cache home, refreshed in the background

interface Index extends CacheWords {
  cache: string;
  stamp: string;
}

export function indexPathFor(cachePath: string, env: NodeJS.ProcessEnv = process.env): string {
  const h = createHash("sha256").update(cachePath).digest("hex").slice(0, 16);
  return join(cacheHome(env), "completion", `${h}.json`);
}

/** Changes whenever DuckDB writes the cache (its file or its WAL). */
export function cacheStamp(cachePath: string): string | undefined {
  try {
    const s = statSync(cachePath);
    let wal = "-";
    try {
      const w = statSync(`${cachePath}.wal`);
      wal = `${w.size}:${w.mtimeMs}`;
    } catch {}
    return `${s.size}:${s.mtimeMs}/${wal}`;
  } catch {
    return undefined;
  }
}

function readIndex(file: string, cachePath: string): Index | undefined {
  try {
    const ix = JSON.parse(readFileSync(file, "utf8")) as Index;
    return ix.cache === cachePath ? ix : undefined;
  } catch {
    return undefined;
  }
}

/** The words of a cache for this Tab: from the index, refreshing it in the background when stale. */
function cacheWords(
  cachePath: string,
  refresh: (cachePath: string, index: string) => void,
): CacheWords | undefined {
  const stamp = cacheStamp(cachePath);
  if (!stamp) return undefined;
  const file = indexPathFor(cachePath);
  const ix = readIndex(file, cachePath);
  if (ix?.stamp !== stamp) refresh(cachePath, file);
  return ix;
}

/** Starts `evx __complete-index CACHE` detached, unless one started in the last 30 s. */
function refreshInBackground(cachePath: string, file: string): void {
  const lock = `${file}.lock`;
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    try {
      if (Date.now() - statSync(lock).mtimeMs < 30_000) return;
      rmSync(lock, { force: true });
    } catch {}
    closeSync(openSync(lock, "wx", 0o600));
  } catch {
    return;
  }
  const child = spawn(
    process.execPath,
    [...process.execArgv, process.argv[1], "__complete-index", cachePath],
    {
      detached: true,
      stdio: "ignore",
    },
  );
  child.on("error", () => rmSync(lock, { force: true }));
  child.unref();
}

/** Per event type, the property keys of at most this many of its rows (the newest batches first). */
const KEY_SAMPLE_ROWS = 2000;
const MAX_EVENT_TYPES = 500;

/**
 * `evx __complete-index CACHE`: reads event names and property keys from the cache, read-only, and
 * writes the index. Quiet in every case; a cache held by a sync (or anything slower than the
 * deadline) leaves the old index.
 */
export async function writeIndex(cachePath: string, deadlineMs = 10_000): Promise<boolean> {
  const file = indexPathFor(cachePath);
  const timer = setTimeout(() => {
    rmSync(`${file}.lock`, { force: true });
    process.exit(0);
  }, deadlineMs);
  try {
    const stamp = cacheStamp(cachePath);
    if (!stamp) return false;
    const { DuckDBInstance } = cjs(await import("@duckdb/node-api"));
    process.umask(0o077);
    let rows: (sql: string, params?: string[]) => Promise<unknown[][]>;
    let close: () => void;
    try {
      const db = await DuckDBInstance.create(cachePath, {
        access_mode: "READ_ONLY",
        threads: "1",
        memory_limit: "256MB",
      });
      const conn = await db.connect();
      rows = async (sql, params) => (await conn.runAndReadAll(sql, params)).getRowsJS() as unknown[][];
      close = () => {
        conn.closeSync();
        db.closeSync();
      };
    } catch (e) {
      // Held by the cache's host (another evx process is on the cache): read through it.
      if (!/lock/i.test((e as Error).message)) throw e;
      const { Cache } = await import("../cache/db.js");
      const cache = await Cache.open(cachePath, { readOnly: true });
      rows = async (sql, params) => (await cache.all(sql, params)).map((r) => Object.values(r));
      close = () => cache.close();
    }
    try {
      let events: string[];
      try {
        events = (
          await rows(`SELECT DISTINCT event_type FROM object_types ORDER BY 1 LIMIT ${MAX_EVENT_TYPES}`)
        ).map((r) => String(r[0]));
      } catch {
        events = (
          await rows(`SELECT DISTINCT event_type FROM events ORDER BY 1 LIMIT ${MAX_EVENT_TYPES}`)
        ).map((r) => String(r[0]));
      }
      const keys: Record<string, string[]> = {};
      const all = new Set<string>();
      for (const e of events) {
        const ks = (
          await rows(
            `SELECT DISTINCT unnest(json_keys(properties)) FROM (SELECT properties FROM events WHERE event_type = $1 AND properties IS NOT NULL LIMIT ${KEY_SAMPLE_ROWS})`,
            [e],
          )
        ).map((r) => String(r[0]));
        keys[e] = ks.sort();
        for (const k of ks) all.add(k);
      }
      try {
        const hot = (await rows("SELECT value FROM meta WHERE key = 'hot_keys'"))[0]?.[0];
        for (const k of hot ? (JSON.parse(String(hot)) as string[]) : []) all.add(k);
      } catch {}
      keys["*"] = [...all].sort();
      const ix: Index = { cache: cachePath, stamp, events, keys };
      mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
      const tmp = `${file}.${process.pid}.tmp`;
      writeFileSync(tmp, JSON.stringify(ix), { mode: 0o600 });
      renameSync(tmp, file);
      return true;
    } finally {
      close();
    }
  } catch (e) {
    if (process.env.EVX_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
    return false;
  } finally {
    clearTimeout(timer);
    rmSync(`${file}.lock`, { force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// the shells

export const SHELLS = ["bash", "zsh", "fish"] as const;
export type Shell = (typeof SHELLS)[number];

/** Characters bash would take as syntax in an unquoted word. */
const BASH_SPECIAL = /[^A-Za-z0-9_\-.,/:@%+=^[\]]/g;

/** Removes the shell quoting of a word as typed (`'a b'`, `a\ b`, `"a`). */
export function unquote(word: string): string {
  let out = "";
  let q: string | null = null;
  for (let i = 0; i < word.length; i++) {
    const ch = word[i];
    if (q) {
      if (ch === q) q = null;
      else if (ch === "\\" && q === '"' && i + 1 < word.length) out += word[++i];
      else out += ch;
    } else if (ch === "'" || ch === '"') q = ch;
    else if (ch === "\\" && i + 1 < word.length) out += word[++i];
    else out += ch;
  }
  return out;
}

/**
 * Bash splits words at `=` and `:` (COMP_WORDBREAKS): `--where=x` arrives as `--where`, `=`, `x`.
 * Glues them back, and returns how much of the glued last word bash does not count as the word
 * being completed (the candidates are cut by that much).
 */
export function joinBashWords(words: string[]): { words: string[]; cut: number } {
  const out: string[] = [];
  let glue = false;
  let cut = 0;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const isBreak = w === "=" || w === ":";
    if ((isBreak || glue) && out.length) {
      out[out.length - 1] += w;
      glue = isBreak;
    } else {
      out.push(w);
      glue = isBreak;
    }
    if (i === words.length - 1) cut = out[out.length - 1].length - w.length + (isBreak ? w.length : 0);
  }
  return { words: out, cut };
}

function format(shell: Shell, cs: Candidate[], cut: number, quoted: string): string {
  const lines = cs.map((c) => {
    if (shell === "bash") {
      const v = c.value.slice(cut);
      return quoted ? `${quoted}${v}` : v.replace(BASH_SPECIAL, (ch) => `\\${ch}`);
    }
    const desc = (c.desc ?? "").replace(/\s+/g, " ").slice(0, 100);
    if (shell === "zsh")
      return `${c.value.replace(/\\/g, "\\\\").replace(/:/g, "\\:")}${desc ? `:${desc}` : ""}`;
    return `${c.value}${desc ? `\t${desc}` : ""}`;
  });
  return lines.length ? `${lines.join("\n")}\n` : "";
}

/**
 * `evx __complete SHELL WORD…` (the program name first, the word under the cursor last), and
 * `evx __complete-index CACHE`. Prints candidates one a line; nothing on any error.
 */
export async function completionMain(argv: string[]): Promise<void> {
  if (argv[0] === "__complete-index") {
    if (argv[1]) await writeIndex(argv[1]);
    process.exit(0);
  }
  const shell = argv[1] as Shell;
  if (!SHELLS.includes(shell)) return;
  let words = argv.slice(3);
  let cut = 0;
  if (shell === "bash") ({ words, cut } = joinBashWords(words));
  // The word under the cursor keeps its opening quote in bash and zsh; fish passes it as typed.
  const raw = words.at(-1) ?? "";
  const quoted = shell === "bash" && /^['"]/.test(raw) && !/^(['"]).*\1$/s.test(raw) ? raw[0] : "";
  words = words.map(unquote);
  try {
    const spec = await loadSpec();
    const cs = complete(spec, words, (p) => {
      if (p.values.get("engine")?.includes("clickhouse")) return undefined;
      const cache = cacheOf(p);
      return cache && existsSync(cache) ? cacheWords(cache, refreshInBackground) : undefined;
    });
    const seen = new Set<string>();
    const unique = cs.filter((c) => !seen.has(c.value) && seen.add(c.value));
    process.stdout.write(format(shell, unique, quoted ? 0 : cut, quoted));
  } catch (e) {
    if (process.env.EVX_DEBUG) process.stderr.write(`${(e as Error).stack}\n`);
  }
}

const BASH = `# evx completion for bash: evx completion bash > ~/.local/share/bash-completion/completions/evx
# (or add  source <(evx completion bash)  to ~/.bashrc)
_evx_complete() {
  local IFS=$'\\n'
  COMPREPLY=($(evx __complete bash "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null))
  # After an event's "[" or a folder's "/", keep typing in the same word.
  if [[ \${#COMPREPLY[@]} -eq 1 && \${COMPREPLY[0]} == *[[/=] ]]; then compopt -o nospace 2>/dev/null; fi
  return 0
}
complete -o default -F _evx_complete evx
`;

const ZSH = `#compdef evx
# evx completion for zsh: evx completion zsh > "\${fpath[1]}/_evx"  (then restart zsh)
# (or add  source <(evx completion zsh)  to ~/.zshrc, after compinit)
_evx() {
  local -a candidates
  local IFS=$'\\n'
  candidates=($(evx __complete zsh "\${(@)words[1,CURRENT]}" 2>/dev/null))
  if (( \${#candidates} )); then
    _describe -t evx 'evx' candidates
  else
    _files
  fi
}
if [[ "\${zsh_eval_context[-1]}" == loadautofunc ]]; then
  _evx "$@"
else
  compdef _evx evx
fi
`;

const FISH = `# evx completion for fish: evx completion fish > ~/.config/fish/completions/evx.fish
function __evx_complete
    # The word under the cursor, quoted: an empty one is still a word.
    set -l cur (commandline -ct)
    evx __complete fish (commandline -opc) "$cur" 2>/dev/null
end
complete -c evx -f -a '(__evx_complete)'
`;

export function completionScript(shell: string): string {
  switch (shell) {
    case "bash":
      return BASH;
    case "zsh":
      return ZSH;
    case "fish":
      return FISH;
    default:
      throw new Error(`no completion for ${shell}`);
  }
}
