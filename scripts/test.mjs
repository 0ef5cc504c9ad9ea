// Runs every test file with node's test runner, each file in its own node process, from one queue.
// The files are bundled first, all at once, by esbuild (as tsx would transpile each: same esbuild, same
// tsconfig; `import.meta.url` kept as the source file's), into .test-build/: a process then loads one
// plain ES module and its shared chunks rather than transpiling and resolving every module through tsx's
// loader, and runs it directly (`node file.mjs`, no `--test` parent process): 0.5 CPU s less for a
// small file, 4-6 s for the golden and TUI suites. EVX_TEST_TSX=1 runs them as before, `node --import tsx --test file.ts`.
// From the queue:
// - the analysis suites run twice, on DuckDB and again on ClickHouse (EVX_TEST_ENGINE=clickhouse, chdb);
// - timing-sensitive files (a real terminal, SIGKILL points) run one at a time in a lane of their own,
//   beside the others (they hold under load: `npm run test:load`), or after them with EVX_TEST_SERIAL_LAST=1;
// - the rest run EVX_TEST_JOBS at a time (default 2), the longest first (by scripts/test-times.json,
//   the seconds each took in a recorded run), so that no long file starts last and runs alone.
// A file's output is printed whole when it ends, with its time; a summary lists failures and the
// slowest files. EVX_TEST_RECORD=1 writes the times of a passing run back to scripts/test-times.json.
//
// EVX_TEST_LOAD=N runs them under load: N busy-looping processes per core beside the tests, as on a
// shared CI machine, so that races which only show when the tests get little CPU show here too
// (`npm run test:load`). The hogs end with this script, or when it dies, or after EVX_TEST_LOAD_MAX_S
// seconds (default 3600), whichever comes first.
import { spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const SERIAL = /(e2e[^/]*|kill[^/]*)\.test\.tsx?$/;
// The analysis suites again on ClickHouse (chdb, in process): the same golden cases, cross-checks,
// property test, drill-downs and time zones must hold on both engines.
const ENGINE_SUITES = /(golden|crosscheck|drilldown|timezones|property)\.test\.ts$/;
const TIMES = join(dirname(fileURLToPath(import.meta.url)), "test-times.json");

const roots = process.argv.slice(2).length ? process.argv.slice(2) : ["test"];
const files = [];
const walk = (dir) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p);
    else if (/\.test\.tsx?$/.test(e.name)) files.push(p);
  }
};
for (const r of roots) {
  if (/\.test\.tsx?$/.test(r)) files.push(r);
  else walk(r);
}
files.sort();

/** @type {Record<string, number>} seconds per job key, from a recorded run */
let times = {};
try {
  times = JSON.parse(readFileSync(TIMES, "utf8"));
} catch {}

const CH = "clickhouse";
const jobs = [
  ...files.map((file) => ({ file, engine: "duckdb", serial: SERIAL.test(file) })),
  ...(process.env.EVX_SKIP_CLICKHOUSE ? [] : files.filter((f) => ENGINE_SUITES.test(f))).map((file) => ({
    file,
    engine: CH,
    serial: false,
  })),
].map((j) => ({ ...j, key: `${relative(".", j.file)}${j.engine === CH ? " (clickhouse)" : ""}` }));
const guess = (j) => times[j.key] ?? 10;
jobs.sort((a, b) => guess(b) - guess(a));

const TSX = process.env.EVX_TEST_TSX === "1";
const BUILD = resolve(".test-build", `run-${process.pid}`);
if (!TSX) await bundle(files);

const hogs = startHogs(Number(process.env.EVX_TEST_LOAD || 0));
// Every spawned evx shares its cache through a cache host (README, "One cache, many processes"),
// which stays EVX_HOST_IDLE_MS after its last client: short in the tests, so a file's hosts do not
// pile up while later files run.
process.env.EVX_HOST_IDLE_MS ??= "3000";

const CPU = process.env.EVX_TEST_CPU === "1";
let cpuFiles = 0;
const t0 = performance.now();
/** Running test processes: stopped with this script (a CI timeout, Ctrl+C). */
const running = new Set();
process.on("exit", () => {
  for (const c of running) c.kill("SIGKILL");
  if (!TSX) rmSync(BUILD, { recursive: true, force: true });
});
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => process.exit(130));
/** @type {{key: string, s: number, code: number | null, tests: number, fail: number}[]} */
const done = [];

function runJob(job) {
  return new Promise((resolve) => {
    const start = performance.now();
    // On ClickHouse the property test runs half as many random specs (chdb answers a spec in about 4×
    // DuckDB's time); `npm run test:load` and EVX_PROP_RUNS run the full count.
    const ch = { EVX_TEST_ENGINE: CH, EVX_PROP_RUNS: process.env.EVX_PROP_RUNS ?? "75" };
    const env = { ...process.env, ...(job.engine === CH ? ch : {}) };
    const args = TSX
      ? ["--import", "tsx", "--test", "--test-reporter=spec", job.file]
      : ["--enable-source-maps", "--test-reporter=spec", bundled(job.file)];
    // EVX_TEST_CPU=1: the CPU seconds of each file's processes too (GNU time), to find what loads CI.
    const cpuFile = CPU ? join(tmpdir(), `evx-test-cpu-${process.pid}-${++cpuFiles}`) : "";
    const child = CPU
      ? spawn("/usr/bin/time", ["-f", "%U %S", "-o", cpuFile, process.execPath, ...args], {
          env,
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "pipe"] });
    running.add(child);
    const out = [];
    child.stdout.on("data", (d) => out.push(d));
    child.stderr.on("data", (d) => out.push(d));
    child.on("close", (code) => {
      running.delete(child);
      const s = (performance.now() - start) / 1000;
      const text = Buffer.concat(out).toString("utf8");
      const n = (label) => Number(new RegExp(`^ℹ ${label} (\\d+)`, "m").exec(text)?.[1] ?? 0);
      let cpu = Number.NaN;
      if (CPU) {
        try {
          cpu = readFileSync(cpuFile, "utf8")
            .trim()
            .split("\n")
            .at(-1)
            .split(" ")
            .map(Number)
            .reduce((a, b) => a + b, 0);
          rmSync(cpuFile, { force: true });
        } catch {}
      }
      const r = { key: job.key, s, cpu, code, tests: n("tests"), fail: n("fail") + n("cancelled") };
      done.push(r);
      const at = ((performance.now() - t0) / 1000).toFixed(0);
      process.stdout.write(
        `\n# ${job.key}: ${r.tests} tests, ${r.fail} failed, exit ${code}, ${s.toFixed(1)} s${CPU ? `, CPU ${cpu.toFixed(1)} s` : ""} (at ${at} s)\n${text}`,
      );
      resolve(r);
    });
  });
}

/** Runs `list` `n` at a time, in order. */
async function pool(list, n) {
  const queue = [...list];
  const lane = async () => {
    for (let j = queue.shift(); j; j = queue.shift()) await runJob(j);
  };
  await Promise.all(Array.from({ length: Math.max(1, n) }, lane));
}

const parallel = jobs.filter((j) => !j.serial);
const serial = jobs.filter((j) => j.serial);
const n = Number(process.env.EVX_TEST_JOBS || 2);
if (process.env.EVX_TEST_SERIAL_LAST === "1") {
  await pool(parallel, n);
  await pool(serial, 1);
} else await Promise.all([pool(parallel, n), pool(serial, 1)]);

for (const h of hogs) h.kill("SIGKILL");
const failed = done.filter((r) => r.code !== 0 || r.fail > 0);
const total = done.reduce((s, r) => s + r.tests, 0);
const slowest = [...done].sort((a, b) => b.s - a.s).slice(0, 12);
process.stdout.write(
  `\n# ${done.length} files, ${total} tests, ${failed.length} files failed, ${((performance.now() - t0) / 1000).toFixed(0)} s\n` +
    `# slowest: ${slowest.map((r) => `${r.key} ${r.s.toFixed(0)} s`).join(", ")}\n` +
    (CPU
      ? `# CPU ${done.reduce((a, r) => a + r.cpu, 0).toFixed(0)} s; most: ${[...done]
          .sort((a, b) => b.cpu - a.cpu)
          .slice(0, 12)
          .map((r) => `${r.key} ${r.cpu.toFixed(0)} s`)
          .join(", ")}\n`
      : "") +
    failed.map((r) => `# FAILED: ${r.key} (exit ${r.code}, ${r.fail} failed)\n`).join(""),
);
if (process.env.EVX_TEST_RECORD === "1" && failed.length === 0 && roots[0] === "test") {
  const rec = Object.fromEntries(
    [...done].sort((a, b) => a.key.localeCompare(b.key)).map((r) => [r.key, Math.round(r.s * 10) / 10]),
  );
  writeFileSync(TIMES, `${JSON.stringify(rec, null, 2)}\n`);
}
process.exit(failed.length ? 1 : 0);

/** The bundle of a test file (`bundle`). */
function bundled(file) {
  return join(BUILD, relative(".", file).replace(/\.tsx?$/, ".mjs"));
}

/**
 * Bundles the test files into BUILD: one ES module per file, the modules they share in chunks, packages
 * left to node_modules (BUILD is inside the checkout, so they resolve as from the sources). Each
 * source's `import.meta.url` stays its own file's URL, so paths made from it (bin/evx, dist/, fixtures)
 * are the same as under tsx.
 */
async function bundle(list) {
  const { build } = await import("esbuild");
  const sourceUrl = {
    name: "source-import-meta-url",
    setup(b) {
      b.onLoad({ filter: /\.(ts|tsx|mts|js|mjs)$/ }, (a) => {
        if (a.path.includes(`${join("node_modules", "")}`)) return undefined;
        const text = readFileSync(a.path, "utf8").replaceAll(
          "import.meta.url",
          JSON.stringify(pathToFileURL(a.path).href),
        );
        return {
          contents: text,
          loader: /\.tsx$/.test(a.path) ? "tsx" : /\.m?ts$/.test(a.path) ? "ts" : "js",
        };
      });
    },
  };
  // Left by runs that were killed (SIGKILL skips the exit hook): their process is gone.
  const root = dirname(BUILD);
  for (const d of existsSync(root) ? readdirSync(root) : []) {
    const pid = Number(/^run-(\d+)$/.exec(d)?.[1]);
    if (pid && pid !== process.pid && !alive(pid)) rmSync(join(root, d), { recursive: true, force: true });
  }
  await build({
    entryPoints: list.map((f) => resolve(f)),
    outbase: resolve("."),
    outdir: BUILD,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    sourcemap: "linked",
    plugins: [sourceUrl],
    logLevel: "warning",
  });
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === "EPERM";
  }
}

/** `perCore` CPU hogs per core; each also ends on its own when this process is gone or time is up. */
function startHogs(perCore) {
  if (!(perCore > 0)) return [];
  const n = Math.round(perCore * availableParallelism());
  const maxS = Number(process.env.EVX_TEST_LOAD_MAX_S || 3600);
  const body = `const end = Date.now() + ${maxS * 1000}, parent = process.ppid;
for (;;) { for (let i = 0; i < 1e7; i++); if (Date.now() > end || process.ppid !== parent) process.exit(0); }`;
  const list = Array.from({ length: n }, () => spawn(process.execPath, ["-e", body], { stdio: "ignore" }));
  const stop = () => {
    for (const h of list) h.kill("SIGKILL");
  };
  process.on("exit", stop);
  process.stderr.write(
    `test: under load: ${n} CPU hogs (${perCore} per core) beside the tests, for at most ${maxS} s\n`,
  );
  return list;
}
