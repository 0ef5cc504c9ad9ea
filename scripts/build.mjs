// `npm run build` (and npm's prepare, so `npm ci` builds too): bundles the CLI with esbuild into dist/.
//
// - One ESM entry, dist/cli.js (src/main.ts), for Node 20, plus chunks for what loads lazily: the TUI
//   (Ink, React) only for `evx ui`, the AWS SDK only for S3, the ClickHouse client only for
//   --engine clickhouse, yargs not for `--version` or shell completion.
// - Everything is bundled except the DuckDB binding's native part: @duckdb/node-api, pinned, is the
//   one runtime dependency (see duckdbBindings).
// - Source maps (dist/*.js.map, mappings only; the sources are the repository at the commit that
//   `evx --version` names): `EVX_DEBUG=1 evx …` prints stack traces in src/ terms, and
//   `node scripts/stack.mjs` maps a trace pasted from a report.
// - The version and git commit are embedded (`evx --version` → `evx 0.1.0 (1f8d952)`).
// - The completion spec: commands, flags and positionals as yargs defines them (src/cli.tsx), read
//   from a first pass's bundle and embedded in the second, so completion answers without yargs.
import { execFileSync, spawnSync } from "node:child_process";
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const dist = join(root, "dist");
const pkg = JSON.parse(readFileSync(`${root}package.json`, "utf8"));

function git(...args) {
  try {
    return execFileSync("git", args, {
      cwd: root,
      encoding: "utf8",
      stdio: ["ignore", "pipe", "ignore"],
    }).trim();
  } catch {
    return null;
  }
}

/** The commit, with `-dirty` when tracked files differ from it; null outside a git clone. */
function commit() {
  // A clone of evx itself, not some repository that happens to contain an unpacked package.
  const top = git("rev-parse", "--show-toplevel");
  if (!top || `${top}/` !== root) return null;
  const sha = git("rev-parse", "--short=7", "HEAD");
  if (!sha) return null;
  const dirty = git("status", "--porcelain", "--untracked-files=no");
  return dirty ? `${sha}-dirty` : sha;
}

/**
 * The DuckDB binding. @duckdb/node-api's JS (60 small CommonJS files, ~60 ms to load one by one) is
 * bundled; its native part, @duckdb/node-bindings (the .node addon and libduckdb for the platform),
 * stays outside and is required from where npm installed @duckdb/node-api, as node-api itself
 * would. package.json pins @duckdb/node-api to the version bundled here, which pins its bindings.
 */
const duckdbBindings = {
  name: "duckdb-bindings",
  setup(build) {
    build.onResolve({ filter: /^@duckdb\/node-bindings$/ }, (args) => ({
      path: args.path,
      namespace: "duckdb-bindings",
    }));
    build.onLoad({ filter: /.*/, namespace: "duckdb-bindings" }, () => ({
      contents:
        'module.exports = require("node:module").createRequire(require.resolve("@duckdb/node-api"))("@duckdb/node-bindings");',
      loader: "js",
    }));
  },
};

/**
 * Module-level `const x = new Intl.Segmenter(…)` (string-width, slice-ansi, ansi-tokenize, src/render)
 * becomes an object that creates the segmenter on first use: the first one loads ICU's break
 * rules (15 ms), which `evx events --json` and shell completion never need. Only applied where the
 * file uses it as `x.segment(…)` and nothing else.
 */
const lazySegmenters = {
  name: "lazy-segmenters",
  setup(build) {
    build.onLoad({ filter: /\.(m?js|ts|tsx)$/, namespace: "file" }, async (args) => {
      let text = readFileSync(args.path, "utf8");
      const before = text;
      text = lazyEmojiRegex(text);
      const loader = args.path.endsWith(".tsx") ? "tsx" : args.path.endsWith(".ts") ? "ts" : "js";
      const changed = () =>
        text === before ? undefined : { contents: text, loader, resolveDir: dirname(args.path) };
      if (!text.includes("new Intl.Segmenter(")) return changed();
      const decl = /^const (\w+) = new Intl\.Segmenter\(([^;\n]*)\);$/m;
      const m = decl.exec(text);
      if (!m) return changed();
      // Its uses outside comments (roughly: enough to count them).
      const code = text.replace(/\/\*[\s\S]*?\*\//g, "").replace(/(^|[^:])\/\/.*$/gm, "$1");
      const uses = code.match(new RegExp(`\\b${m[1]}\\b(\\.\\w+)?`, "g")) ?? [];
      if (
        uses.some((u) => u !== m[1] && u !== `${m[1]}.segment`) ||
        uses.filter((u) => u === m[1]).length !== 1
      )
        return changed();
      const lazy = `const ${m[1]} = (() => { let s; return { segment: (t) => (s ??= new Intl.Segmenter(${m[2]})).segment(t) }; })();`;
      return { contents: text.replace(decl, lazy), loader, resolveDir: dirname(args.path) };
    });
  },
};

/**
 * string-width's module-level `const r = /^\p{RGI_Emoji}$/v;`: a regex literal is parsed when its
 * module is, and this property of strings takes ICU ~21 ms to expand, on every run that loads yargs
 * (cliui → wrap-ansi → string-width). It becomes an object that builds the RegExp on its first
 * `.test`; left alone unless `.test(` is its only use.
 */
function lazyEmojiRegex(text) {
  if (!text.includes("RGI_Emoji}")) return text;
  const decl = /^const (\w+) = \/(\^?\\p\{RGI_Emoji\}\$?)\/v;$/m;
  const m = decl.exec(text);
  if (!m) return text;
  const uses = text.match(new RegExp(`\\b${m[1]}\\b(\\.\\w+\\()?`, "g")) ?? [];
  if (uses.some((u) => u !== m[1] && u !== `${m[1]}.test(`) || uses.filter((u) => u === m[1]).length !== 1)
    return text;
  const lazy = `const ${m[1]} = (() => { let r; return { test: (s) => (r ??= new RegExp(${JSON.stringify(m[2])}, "v")).test(s) }; })();`;
  return text.replace(decl, lazy);
}

/** Ink's React devtools bridge (only with DEV=true, which needs react-devtools-core and ws): left out. */
const noInkDevtools = {
  name: "no-ink-devtools",
  setup(build) {
    build.onResolve({ filter: /^\.\/devtools\.js$/ }, (args) =>
      /[\\/]ink[\\/]/.test(args.importer) ? { path: args.path, namespace: "ink-devtools" } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "ink-devtools" }, () => ({
      contents: "export {};",
      loader: "js",
    }));
  },
};

const started = performance.now();
const sha = commit();
const duckdbVersion = JSON.parse(
  readFileSync(join(root, "node_modules/@duckdb/node-api/package.json"), "utf8"),
).version;
if (pkg.dependencies["@duckdb/node-api"] !== duckdbVersion) {
  process.stderr.write(
    `build: package.json must pin @duckdb/node-api to the installed ${duckdbVersion} (its JS is bundled): "${pkg.dependencies["@duckdb/node-api"]}"\n`,
  );
  process.exit(1);
}
// `npm run package` (scripts/pack.mjs) builds with --clean, then packs dist/. (`npm pack` and
// `npm publish` in the checkout stop at prepack, before their prepare would run this.)
const clean = process.argv.includes("--clean");

/** One esbuild pass; `spec` is the completion spec to embed (none in the first pass). */
function bundle(outdir, spec) {
  return esbuild.build({
    absWorkingDir: root,
    entryPoints: { cli: "src/main.ts" },
    outdir,
    write: false,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    chunkNames: "chunks/[name]-[hash]",
    sourcemap: spec ? "linked" : false,
    sourcesContent: false,
    // Whitespace and syntax only: names stay, so a raw stack trace is half readable without the map.
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: "none",
    metafile: true,
    logLevel: "warning",
    define: {
      __EVX_VERSION__: JSON.stringify(pkg.version),
      __EVX_COMMIT__: JSON.stringify(sha),
      // A string, inlined where it is used (an object would land in the chunk every path loads).
      ...(spec ? { __EVX_COMPLETION_SPEC__: JSON.stringify(spec) } : {}),
      // React and the libraries that check it: the production builds only (bin/evx also sets it).
      "process.env.NODE_ENV": '"production"',
    },
    // Bundled CommonJS modules call require() for Node's built-ins and for the DuckDB binding.
    banner: {
      js: 'import{createRequire as __evxRequire}from"node:module";const require=__evxRequire(import.meta.url);',
    },
    plugins: [duckdbBindings, lazySegmenters, noInkDevtools],
  });
}

/**
 * Writes a build into `dir`, each file to a temporary name first and renamed into place, and lists
 * it in `dir/build.json`. Chunk names change with their content, and a CLI that is running loads
 * its chunks lazily, so the files of the previous build stay until the next one: tests (this
 * checkout's, or another engineer's) that run dist/cli.js while a build runs never find a chunk
 * gone. `--clean` (`npm run package`) keeps only the new build's files.
 */
function install(result, dir, clean) {
  const manifest = join(dir, "build.json");
  let previous = [];
  try {
    previous = JSON.parse(readFileSync(manifest, "utf8")).files;
  } catch {}
  const files = [];
  // Chunks first, the entry (cli.js) last: a CLI started meanwhile runs either the old entry, whose
  // chunks are kept, or the new one, whose chunks are already in place.
  const isEntry = (f) => !/[\\/]chunks[\\/]/.test(f.path);
  const entryLast = [...result.outputFiles].sort((a, b) => Number(isEntry(a)) - Number(isEntry(b)));
  for (const f of entryLast) {
    mkdirSync(dirname(f.path), { recursive: true });
    const tmp = `${f.path}.${process.pid}.tmp`;
    writeFileSync(tmp, f.contents);
    renameSync(tmp, f.path);
    files.push(relative(dir, f.path));
  }
  const keep = new Set([...files, ...(clean ? [] : previous), "build.json"]);
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name);
    if (e.isFile() && !keep.has(relative(dir, p)) && !/\.\d+\.tmp$/.test(p)) rmSync(p, { force: true });
  }
  // Folders of an older build (tsc wrote dist/cache/, dist/views/, …) that are now empty.
  for (const e of readdirSync(dir, { withFileTypes: true }))
    if (
      e.isDirectory() &&
      readdirSync(join(dir, e.name), { recursive: true }).every((f) => !/\.js(\.map)?$/.test(f))
    )
      rmSync(join(dir, e.name), { recursive: true, force: true });
  const tmp = `${manifest}.${process.pid}.tmp`;
  writeFileSync(
    tmp,
    `${JSON.stringify({ version: pkg.version, commit: sha, files: files.sort() }, null, 1)}\n`,
  );
  renameSync(tmp, manifest);
}

// Pass 1, into a temporary folder: the CLI whose yargs definitions give the completion spec.
const first = mkdtempSync(join(tmpdir(), "evx-build-"));
try {
  await build();
} catch (e) {
  // esbuild has printed its errors (file, line, what it could not resolve); no stack trace on top.
  if (!Array.isArray(e?.errors)) throw e;
  process.exitCode = 1;
} finally {
  rmSync(first, { recursive: true, force: true });
}

async function build() {
  install(await bundle(first, null), first, true);
  const spec = spawnSync(process.execPath, [join(first, "cli.js"), "__completion-spec"], {
    encoding: "utf8",
  });
  if (spec.status !== 0 || !spec.stdout.startsWith("{")) {
    process.stderr.write(`build: the completion spec failed:\n${spec.stderr}`);
    process.exitCode = 1;
    return;
  }
  // Pass 2: dist/, with the spec embedded.
  const result = await bundle(dist, spec.stdout);
  install(result, dist, clean);
  if (process.env.EVX_BUILD_META) writeFileSync(process.env.EVX_BUILD_META, JSON.stringify(result.metafile));
  const out = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith(".js"));
  const kb = out.reduce((n, [, o]) => n + o.bytes, 0) / 1024;
  process.stderr.write(
    `build: dist/cli.js + ${out.length - 1} chunks, ${kb.toFixed(0)} KB, evx ${pkg.version}${sha ? ` (${sha})` : ""}, ${Math.round(performance.now() - started)} ms\n`,
  );
}
